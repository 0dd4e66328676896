"""Per-source, leave-one-out and longest-vs-shortest refits: the ensemble is rebuilt from each subset."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import pcstats as pc
from pcstats.errors import PcstatsError

SPEC = pc.TrendSpec("NEE ~ year", by=("region", "season"), where="source == 'ensemble'")


@pytest.fixture(scope="module")
def table():
    return pc.read_table("tests/reference/trend_input.csv")


def slopes(res, key):
    tidy = res.tidy()
    return tidy[tidy["term"] == "year"].set_index([key, "region", "season"])["estimate"]


def test_each_source_alone_equals_that_source_fitted_directly(table):
    alone = slopes(pc.robustness.by_source(SPEC, table), "source")
    direct = slopes(pc.fit(pc.TrendSpec("NEE ~ year", by=("source", "region", "season"), where="source != 'ensemble'"), table),
                    "source")
    pd.testing.assert_series_equal(alone.sort_index(), direct.sort_index(), rtol=1e-10, check_names=False)


def test_leaving_one_out_refits_the_ensemble_of_the_other_five(table):
    loo = slopes(pc.robustness.leave_one_out(SPEC, table), "left_out")
    members = table[(table["source"] != "ensemble")]
    for left_out in ("CAMS", "JAMSTEC"):
        five = members[members["source"] != left_out].drop(columns=["ensemble_sd", "ensemble_n"], errors="ignore")
        expected = pc.fit(pc.TrendSpec("NEE ~ year", by=("region", "season")), pc.ensemble(five))
        exp = expected.tidy().query("term == 'year'").set_index(["region", "season"])["estimate"]
        np.testing.assert_allclose(loo.xs(left_out, level="left_out").sort_index(), exp.sort_index(), rtol=1e-10)


def test_longest_two_against_shortest_three(table):
    res = pc.robustness.longest_vs_shortest(SPEC, table, longest=2, shortest=3)
    subsets = sorted(res.tidy()["subset"].unique())
    assert subsets == ["longest 2 (CAMS, Jena_s76)", "shortest 3 (CT2019B, CTE2020, JAMSTEC)"]
    d = pc.difference_test(res.subset(subset=subsets[0]), res.subset(subset=subsets[1]), term="year")
    assert len(d.tidy()) == 8 and d.tidy()["p_value"].between(0, 1).all()


def test_mixed_models_leave_one_out_and_refuse_one_source_alone(table):
    spec = pc.MixedSpec("NEE ~ year_c * region + (1 | source)", where="season == 'ANN' and source != 'ensemble'")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = pc.robustness.leave_one_out(spec, table)
    assert res.glance()["left_out"].nunique() == 6 and res.glance()["nobs"].iloc[0] < len(
        table.query("season == 'ANN' and source != 'ensemble' and variable == 'NEE'"))
    with pytest.raises(PcstatsError, match="random effects grouped by 'source'"):
        pc.robustness.by_source(spec, table)


def test_longest_vs_shortest_refits_a_mixed_model_on_each_subset(table):
    spec = pc.MixedSpec("NEE ~ year_c * region + (1 | source)", where="season == 'ANN' and source != 'ensemble'")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = pc.robustness.longest_vs_shortest(spec, table, longest=2, shortest=3)
        direct = pc.fit(spec, table[table["source"].isin(["CAMS", "Jena_s76"])])
    assert res.by[0] == "subset" and sorted(res.glance()["subset"]) == ["longest 2 (CAMS, Jena_s76)",
                                                                        "shortest 3 (CT2019B, CTE2020, JAMSTEC)"]
    longest = res.subset(subset="longest 2 (CAMS, Jena_s76)").tidy().query("component == 'fixed'").set_index("term")
    np.testing.assert_allclose(longest["estimate"], direct.tidy().query("component == 'fixed'").set_index("term")["estimate"],
                               rtol=1e-8)


def test_subset_runs_go_through_compare_and_the_tables(table):
    annual = SPEC.replace(where="source == 'ensemble' and season == 'ANN'", by=("region",))
    alone, loo = pc.robustness.by_source(annual, table), pc.robustness.leave_one_out(annual, table)
    wide = pc.compare([alone, loo])
    assert wide.sort_index().loc[("CAMS", "P", np.nan, "fixed", "year"), (alone.model, "estimate")] == pytest.approx(
        alone.tidy().query("source == 'CAMS' and region == 'P' and term == 'year'")["estimate"].iloc[0])
    assert wide.index.names == ["source", "region", "left_out", "component", "term"]
    text = pc.table({"CAMS alone": alone.subset(source="CAMS"), "without CAMS": loo.subset(left_out="CAMS")},
                    statistic="conf_int", coef_omit="Intercept").to_markdown()
    year = next(line for line in text.splitlines() if line.startswith("| year"))
    est = loo.tidy().query("left_out == 'CAMS' and region == 'NoP' and term == 'year'")["estimate"].iloc[0]
    assert f"{est:.3f}" in year


def test_by_source_refuses_a_spec_fitted_per_source_already(table):
    with pytest.raises(PcstatsError, match=r"already fits each source separately \(by=\('source', 'region', 'season'\)\)"):
        pc.robustness.by_source(pc.TrendSpec("NEE ~ year", by=("source", "region", "season")), table)


def test_bad_input(table):
    with pytest.raises(PcstatsError, match="only 6 source values"):
        pc.robustness.longest_vs_shortest(SPEC, table, longest=4, shortest=3)
    with pytest.raises(PcstatsError, match="over='inversion'"):
        pc.robustness.leave_one_out(SPEC, table, over="inversion")
