"""random_windows: identical to statsmodels refits, seeded, summarised, and it refuses bad input."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.formula.api as smf

import pcstats as pc
from pcstats.errors import PcstatsError

SPEC = pc.TrendSpec("NEE ~ year", by=("region", "season"), where="source == 'ensemble'")


@pytest.fixture(scope="module")
def windows(request):
    table = pc.read_table("tests/reference/trend_input.csv")
    return table, pc.robustness.random_windows(SPEC, table, n=2_000, min_length=10, seed=3)


def test_a_sample_of_windows_equals_statsmodels_refits(windows):
    table, rw = windows
    tidy = rw.tidy()
    ens = table[(table["source"] == "ensemble") & (table["variable"] == "NEE")]
    sample = tidy.sample(60, random_state=1)
    for row in sample.itertuples():
        rows = ens[(ens["region"] == row.region) & (ens["season"] == row.season) & ens["year"].between(row.start, row.end)]
        rows = rows.assign(t=rows["year"] - 2000)  # statsmodels on raw years is itself only ~2e-10 accurate (conditioning)
        fit = smf.ols("value ~ t", data=rows).fit()
        assert row.nobs == fit.nobs and row.length == row.end - row.start + 1
        for ours, theirs in ((row.estimate, fit.params["t"]), (row.std_error, fit.bse["t"]), (row.p_value, fit.pvalues["t"]),
                             (row.conf_low, fit.conf_int().loc["t", 0])):
            assert ours == pytest.approx(theirs, rel=1e-10, abs=1e-300)


def test_windows_are_seeded_and_within_the_record(windows):
    table, rw = windows
    again = pc.robustness.random_windows(SPEC, table, n=2_000, min_length=10, seed=3)
    assert again.tidy()[["start", "length", "estimate"]].equals(rw.tidy()[["start", "length", "estimate"]])
    other = pc.robustness.random_windows(SPEC, table, n=2_000, min_length=10, seed=4)
    assert not other.tidy()["start"].equals(rw.tidy()["start"])
    tidy = rw.tidy()
    assert tidy["length"].min() >= 10 and tidy["end"].max() <= table["year"].max() and tidy["start"].min() >= table["year"].min()
    assert len(tidy) == 2_000 * 8 and rw.by == ("window", "region", "season")
    # every length and every start position occurs: the draws cover the record
    assert tidy["length"].nunique() == table["year"].max() - table["year"].min() + 1 - 10 + 1


def test_summary_shares_and_the_p_minus_nop_difference(windows):
    _, rw = windows
    summary = rw.distribution()
    assert summary.by == ("region", "season") and summary.tidy()["p_value"].isna().all()
    tidy = rw.tidy()
    part = tidy[(tidy["region"] == "P") & (tidy["season"] == "LGS")]["estimate"]
    trends = summary.tidy().query("component == 'fixed'").set_index(["region", "season"])
    assert trends.loc[("P", "LGS"), "term"] == "year"
    assert trends.loc[("P", "LGS"), "estimate"] == pytest.approx(part.median())
    assert trends.loc[("P", "LGS"), "std_error"] == pytest.approx(part.std())
    assert trends.loc[("P", "LGS"), ["conf_low", "conf_high"]].tolist() == pytest.approx(part.quantile([0.025, 0.975]).tolist())
    glance = summary.glance().set_index(["region", "season"])
    p_lgs = tidy[(tidy["region"] == "P") & (tidy["season"] == "LGS")]
    significant = p_lgs["p_value"] < 0.05
    assert glance.loc[("P", "LGS"), "nobs"] == 2_000
    assert glance.loc[("P", "LGS"), "share_significant"] == pytest.approx(significant.mean())
    assert glance.loc[("P", "LGS"), "share_positive_significant"] == pytest.approx((significant & (p_lgs["estimate"] > 0)).mean())
    assert glance.loc[("P", "LGS"), "share_negative_significant"] == pytest.approx((significant & (p_lgs["estimate"] < 0)).mean())
    diff = summary.tidy().query("component == 'difference'").set_index("season")
    assert set(diff["region"]) == {"P - NoP"}
    p = tidy[tidy["region"] == "P"].set_index(["window", "season"])["estimate"]
    nop = tidy[tidy["region"] == "NoP"].set_index(["window", "season"])["estimate"]
    assert diff.loc["ANN", "estimate"] == pytest.approx((p - nop).xs("ANN", level="season").median())
    assert glance.loc[("P - NoP", "ANN"), "share_positive"] == pytest.approx(((p - nop).xs("ANN", level="season") > 0).mean())


def test_the_summary_goes_into_tables_beside_an_ols_fit(windows):
    table, rw = windows
    summary = rw.distribution()
    ols = pc.fit(pc.TrendSpec("NEE ~ year", by="season", where="source == 'ensemble' and region == 'P'"), table)
    text = pc.table([ols.subset(season="ANN"), summary.subset(season="ANN")], statistic="conf_int",
                    gof=("nobs", "share_significant")).to_markdown()
    row = next(line for line in text.splitlines() if line.startswith("| year ") and "***" in line)
    median = summary.tidy().query("region == 'P' and season == 'ANN' and component == 'fixed'")["estimate"].iloc[0]
    assert f"{median:.3f}" in row and "2000" in text and "share_significant" in text
    wide = pc.compare([ols, summary], stats=("estimate", "conf_low"))
    assert wide.loc[("ANN", "P", "fixed", "year"), (summary.model, "estimate")] == pytest.approx(median)
    with pytest.raises(PcstatsError, match="'source' is not a by key"):
        rw.distribution(contrast=("source", "a", "b"))


def test_results_go_through_compare_and_the_exporters(windows, tmp_path):
    _, rw = windows
    wide = pc.compare([rw.subset(window=0)])
    assert wide.shape[0] == 8  # one slope row per group
    from pcstats.export import write_results

    paths = write_results(rw.subset(window=1), tmp_path, "w1")
    assert all(p.stat().st_size > 0 for p in paths)


def test_bad_input_names_the_fault():
    table = pc.read_table("tests/reference/trend_input.csv")
    with pytest.raises(PcstatsError, match="min_length=60"):
        pc.robustness.random_windows(SPEC, table, min_length=60)
    with pytest.raises(PcstatsError, match="n=0"):
        pc.robustness.random_windows(SPEC, table, n=0)
    with pytest.raises(PcstatsError, match="y ~ year"):
        pc.robustness.random_windows(SPEC.replace(cov_type="HAC"), table)
    with pytest.raises(PcstatsError, match="several rows for one year"):
        pc.robustness.random_windows(SPEC.replace(where=None), table)
    with pytest.raises(PcstatsError, match="TrendSpec"):
        pc.robustness.random_windows(pc.load_spec("models/glmm_trend.toml"), table)


def test_groups_missing_years_in_a_window_are_counted():
    table = pc.read_table("tests/reference/trend_input.csv")
    # JAMSTEC covers 1996-2017 of CAMS's 1979-2019: early windows have no JAMSTEC years
    jamstec = pc.TrendSpec("NEE ~ year", by=("source", "region", "season"), where="source in ['CAMS', 'JAMSTEC']")
    with pytest.warns(UserWarning, match="fewer than 3 years"):
        rw = pc.robustness.random_windows(jamstec, table, n=500, min_length=10, seed=0)
    glance = rw.glance()
    assert (glance["nobs"] == 0).sum() == rw.tidy()["estimate"].isna().sum() > 0
    assert np.all(glance.loc[glance["nobs"] == 0, "dropped_why"].str.startswith("not fitted"))
