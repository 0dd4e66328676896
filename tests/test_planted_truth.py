"""The pipeline recovers what fixtures/generate.py planted (truths in fixtures/truth.json).

Per-inversion fits estimate the planted region trend plus that inversion's deviation. Fits to the
ensemble estimate the trend of the mean over the inversions available each year, which differs
from the planted region trend because inversions enter and leave (``ensemble_target_by_region``).
The fixture's noise is autocorrelated and its inversion spread is larger before 2000, so OLS SEs
run about 20 % small (measured over seeds); the tests therefore use family-wise (Bonferroni)
intervals for each family of trends.
"""

from __future__ import annotations

import warnings

import pytest

import pcstats as pc


def fit_quiet(spec, table):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pc.fit(spec, table)


def family_level(k: int, alpha: float = 0.05) -> float:
    return 1 - alpha / k


def test_planted_truths_are_the_papers_numbers(truth):
    t = truth["trend_by_region"]
    assert t["P"]["ANN"] == pytest.approx(0.58) and t["NoP"]["ANN"] == pytest.approx(0.13)
    assert t["P"]["LGS"] == pytest.approx(-1.41) and t["NoP"]["LGS"] == pytest.approx(-2.37)
    assert t["P"]["EGS"] == pytest.approx(t["NoP"]["EGS"])


def test_each_inversion_recovers_its_planted_trend(tables, truth):
    table = tables[0]["permafrost"]
    spec = pc.TrendSpec("NEE ~ year", by=("source", "region", "season"), where="source != 'ensemble'",
                        conf_level=family_level(48))
    tidy = fit_quiet(spec, table).tidy().query("term == 'year'")
    assert len(tidy) == 48
    planted = tidy.apply(lambda r: truth["trend_by_source_and_region"][r["source"]][r["region"]][r["season"]], axis=1)
    inside = (tidy["conf_low"] <= planted) & (planted <= tidy["conf_high"])
    assert inside.all(), tidy.loc[~inside, ["source", "region", "season", "estimate", "std_error"]].assign(planted=planted[~inside])


def test_ensemble_recovers_its_target(tables, truth):
    table = tables[0]["permafrost"]
    spec = pc.TrendSpec("NEE ~ year", by=("region", "season"), where="source == 'ensemble'", conf_level=family_level(8))
    tidy = fit_quiet(spec, table).tidy().query("term == 'year'")
    target = tidy.apply(lambda r: truth["ensemble_target_by_region"][r["region"]][r["season"]], axis=1)
    assert ((tidy["conf_low"] <= target) & (target <= tidy["conf_high"])).all()


def test_permafrost_annual_trend_exceeds_non_permafrost(tables):
    """The paper's headline: the P annual trend is significantly larger (ensemble, Welch and interaction)."""
    table = tables[0]["permafrost"]
    res = fit_quiet(pc.TrendSpec("NEE ~ year", by=("source", "region", "season")), table)
    d = pc.difference_test(res.subset(region="P"), res.subset(region="NoP")).tidy().set_index(["source", "season"])
    assert d.loc[("ensemble", "ANN"), "estimate"] > 0 and d.loc[("ensemble", "ANN"), "p_value"] < 0.01
    assert d.loc[("ensemble", "LGS"), "estimate"] > 0 and d.loc[("ensemble", "LGS"), "p_value"] < 0.01
    assert d.loc[("ensemble", "EGS"), "p_value"] > 0.05  # planted equal


def test_tree_cover_gradient_is_recovered(tables, truth):
    seasonal, gradients, _ = tables
    bins = fit_quiet(pc.load_spec("models/trend_bins.toml"), seasonal["tc_bins"])
    g = pc.trend_gradient(bins, gradients["tc_bins"], conf_level=family_level(4)).tidy().query("term == 'TC'")
    target = g["season"].map(truth["ensemble_gradient_tc_bins"])
    assert ((g["conf_low"] <= target) & (target <= g["conf_high"])).all()
    lgs = g.set_index("season").loc["LGS"]
    assert lgs["estimate"] < 0 and lgs["p_value"] < 0.001  # more trees, faster late-season loss (GAMMA)


def test_two_missing_seasons_are_reported(tables):
    res = fit_quiet(pc.TrendSpec("NEE ~ year", by=("source", "region", "season")), tables[0]["permafrost"])
    dropped = res.glance().query("n_dropped > 0")
    assert sorted(zip(dropped["source"], dropped["region"], dropped["season"])) == [("JAMSTEC", "P", "ANN"), ("JAMSTEC", "P", "LGS")]
    assert (dropped["dropped_why"] == "1 NaN in NEE").all()
    assert any("lack one or more months" in m for m in tables[2])
