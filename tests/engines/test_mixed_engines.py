"""Mixed engines: structures each can fit, bad input, and the common output shape."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import pcstats as pc
from pcstats.errors import ContractError, EngineError, FormulaError, PcstatsError

from ..conftest import REFERENCE

ENGINES = ["statsmodels", "profiled", pytest.param("lme4", marks=pytest.mark.needs_r)]


@pytest.fixture(scope="module")
def regional():
    table = pc.read_table(REFERENCE / "trend_input.csv")
    return table[table["source"] != "ensemble"].reset_index(drop=True)


@pytest.fixture(scope="module")
def cells():
    return pc.read_table(REFERENCE / "mixed_cells.csv")


def quiet_fit(spec, table):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pc.fit(spec, table)


def test_paper_spec_fits_per_season_with_broom_mixed_names(regional):
    spec = pc.load_spec("models/glmm_trend.toml")
    res = quiet_fit(spec, regional)
    tidy = res.tidy()
    assert set(tidy["component"]) == {"fixed", "ran_pars", "ran_vals"}
    assert list(res.glance()["season"]) == ["ANN", "EGS", "LGS", "WIN"]
    pars = tidy[(tidy["component"] == "ran_pars") & (tidy["season"] == "ANN")]
    assert list(zip(pars["group"], pars["term"])) == [
        ("source", "sd__(Intercept)"), ("source", "sd__year_c"), ("source", "cor__(Intercept).year_c"),
        ("source:region", "sd__(Intercept)"), ("source:year", "sd__(Intercept)"), ("Residual", "sd__Observation"),
    ]
    fixed = tidy[tidy["component"] == "fixed"]
    assert set(fixed["term"]) == {"(Intercept)", "year_c", "regionP", "year_c:regionP"}
    vals = tidy[(tidy["component"] == "ran_vals") & (tidy["group"] == "source:year") & (tidy["season"] == "ANN")]
    assert "CAMS:1980" in set(vals["level"])  # the paper's window starts in 1980
    assert (res.glance()["year_centre"] == 1998.5).all()  # the mean of 1980-2017


def test_nothing_dropped_silently(regional):
    res = quiet_fit(pc.MixedSpec("NEE ~ year_c * region + (1 | source)", by="season"), regional)
    g = res.glance().set_index("season")
    # the fixture's JAMSTEC Sep 2005 NaN leaves one missing LGS and ANN value
    assert g.loc["LGS", "n_dropped"] == 1 and "NaN in NEE" in g.loc["LGS", "dropped_why"]
    assert g.loc["EGS", "n_dropped"] == 0


def test_augment_and_compare_line_up(cells):
    a = quiet_fit(pc.MixedSpec("NEE ~ year_c + (1 | region)"), cells)
    b = quiet_fit(pc.MixedSpec("NEE ~ year_c + (1 + year_c | region)"), cells)
    aug = b.augment()
    assert len(aug) == 4100 and np.isfinite(aug["fitted"]).all()
    np.testing.assert_allclose(aug["resid"], aug["NEE"] - aug["fitted"])
    wide = pc.compare([a, b])
    assert wide.index.names == ["component", "group", "level", "term"]
    assert len(wide) == len(b.tidy())  # every row of the bigger model, ran_vals of each level included
    fixed = wide.xs("fixed", level="component")
    assert fixed.notna().all().all()


def test_statsmodels_refuses_two_correlated_terms(regional):
    spec = pc.MixedSpec("NEE ~ year_c + (1 + year_c | source) + (1 + year_c | year)", where="season == 'ANN'", engine="statsmodels")
    with pytest.raises(EngineError, match=r"one correlated random-effect term; \(1 \+ year_c \| year\) is a second"):
        pc.fit(spec, regional)


def test_statsmodels_refuses_correlated_term_beside_a_crossed_factor(regional):
    spec = pc.MixedSpec("NEE ~ year_c + (1 + year_c | source) + (1 | year)", where="season == 'ANN'", engine="statsmodels")
    with pytest.raises(EngineError, match=r"cannot fit \(1 \| year\) beside the correlated term.*not nested in.*'lme4'"):
        pc.fit(spec, regional)


@pytest.mark.parametrize("engine", ENGINES)
def test_grouping_factor_with_one_level(engine, regional):
    spec = pc.MixedSpec("NEE ~ year_c + (1 | source)", where="source == 'CAMS' and season == 'ANN'", engine=engine)
    with pytest.raises(EngineError, match=r"grouping factor 'source' of \(1 \| source\) has one level \(CAMS\)"):
        pc.fit(spec, regional)


def test_one_level_in_some_groups_is_flagged_not_fatal(regional):
    table = regional[~((regional["season"] == "WIN") & (regional["source"] != "CAMS"))]
    res = quiet_fit(pc.MixedSpec("NEE ~ year_c + (1 | source)", by="season"), table)
    g = res.glance().set_index("season")
    assert g.loc["WIN", "nobs"] == 0 and "has one level" in g.loc["WIN", "dropped_why"]
    assert (g.drop("WIN")["nobs"] > 0).all()


def test_level_with_a_single_row_is_warned(cells):
    table = cells[(cells["region"] != "c000") | (cells["year"] == 1990)]
    with pytest.warns(UserWarning, match="single row"):
        res = pc.fit(pc.MixedSpec("NEE ~ year_c + (1 + year_c | region)"), table)
    assert any("c000" in w for w in res.warnings)


def test_random_slope_not_in_data(regional):
    with pytest.raises(FormulaError, match="'AirT', which is neither a key column nor a variable"):
        pc.fit(pc.MixedSpec("NEE ~ year_c + (0 + AirT | source)"), regional)


def test_grouping_factor_must_be_a_key_column(regional):
    with pytest.raises(FormulaError, match="grouping factor 'sorce' is not a key column. Did you mean 'source'"):
        pc.fit(pc.MixedSpec("NEE ~ year_c + (1 | sorce)"), regional)


@pytest.mark.parametrize("engine", ENGINES)
def test_collinear_fixed_effects(engine, regional):
    spec = pc.MixedSpec("NEE ~ year_c + year + (1 | source)", where="season == 'ANN'", engine=engine)
    with pytest.raises(EngineError, match=r"perfectly collinear \(year is a linear combination"):
        pc.fit(spec, regional)


def test_non_numeric_response(regional):
    bad = regional.astype({"value": object})
    bad.loc[3, "value"] = "n/a"
    with pytest.raises(ContractError, match="'value' must be numeric"):
        pc.fit(pc.MixedSpec("NEE ~ year_c + (1 | source)"), bad)
    with pytest.raises(FormulaError, match="the response 'region' must be a variable"):
        pc.fit(pc.MixedSpec("region ~ year_c + (1 | source)"), regional)


def test_lrt_refuses_reml_comparison_of_different_fixed_effects(cells):
    a = quiet_fit(pc.MixedSpec("NEE ~ 1 + (1 | region)"), cells)
    b = quiet_fit(pc.MixedSpec("NEE ~ year_c + (1 | region)"), cells)
    with pytest.raises(PcstatsError, match="REML likelihoods of models with different fixed effects"):
        pc.lrt(a, b, refit=False)
    with pytest.raises(PcstatsError, match="pass the smaller model first"):
        pc.lrt(b, a)


def test_lrt_without_refit_on_same_fixed_effects(cells):
    a = quiet_fit(pc.MixedSpec("NEE ~ year_c + (1 | region)"), cells)
    b = quiet_fit(pc.MixedSpec("NEE ~ year_c + (1 + year_c | region)"), cells)
    out = pc.lrt(a, b, refit=False)
    assert not out["refitted"].any()
    np.testing.assert_allclose(out["statistic"].iloc[1], 2 * (b.glance()["log_lik"] - a.glance()["log_lik"]).iloc[0])


def test_profiled_fits_what_statsmodels_refuses(regional):
    spec = pc.MixedSpec("NEE ~ year_c + (1 + year_c | source) + (1 | year)", where="season == 'ANN'")
    assert spec.engine == "profiled"
    res = quiet_fit(spec, regional)
    groups = set(res.tidy().query("component == 'ran_pars'")["group"])
    assert groups == {"source", "year", "Residual"}


def test_profiled_does_not_depend_on_centring(cells):
    """(1 + year | g) with years near 2000 is (1 + year_c | g) written another way (lme4 fails on it)."""
    raw = quiet_fit(pc.MixedSpec("NEE ~ year + (1 + year | region)"), cells)
    centred = quiet_fit(pc.MixedSpec("NEE ~ year_c + (1 + year_c | region)"), cells)
    np.testing.assert_allclose(raw.glance()["log_lik"], centred.glance()["log_lik"], rtol=1e-10)
    a = raw.tidy().set_index("term").loc["year"]
    b = centred.tidy().set_index("term").loc["year_c"]
    np.testing.assert_allclose([a["estimate"], a["std_error"], a["df"]], [b["estimate"], b["std_error"], b["df"]], rtol=1e-4)


def test_lrt_refuses_models_fitted_to_different_rows(cells):
    a = quiet_fit(pc.MixedSpec("NEE ~ year_c + (1 | region)", where="region != 'c000'"), cells)
    b = quiet_fit(pc.MixedSpec("NEE ~ year_c + (1 + year_c | region)", where="region != 'c001'"), cells)
    with pytest.raises(PcstatsError, match="fitted to different rows"):
        pc.lrt(a, b)


def test_lrt_refuses_reml_against_ml_without_refit(cells):
    a = quiet_fit(pc.MixedSpec("NEE ~ year_c + (1 | region)", reml=False), cells)
    b = quiet_fit(pc.MixedSpec("NEE ~ year_c + (1 + year_c | region)"), cells)
    with pytest.raises(PcstatsError, match="one model is fitted by REML and the other by ML"):
        pc.lrt(a, b, refit=False)


def test_glance_names_every_grouping_factor(regional):
    res = quiet_fit(pc.load_spec("models/glmm_trend.toml"), regional)
    g = res.glance().set_index("season").loc["ANN"]
    assert g["groups"] == "source: 6; source:region: 12; source:year: 167" and g["n_groups"] == 167
    assert np.isnan(g["deviance"]) and g["reml_crit"] == pytest.approx(-2 * g["log_lik"])


def test_statsmodels_flags_a_boundary_it_stops_short_of(regional):
    spec = pc.MixedSpec("NEE ~ year_c * region + (1 + region | source)", where="season == 'EGS'", engine="statsmodels")
    res = quiet_fit(spec, regional)
    assert bool(res.glance()["singular"].iloc[0])
    assert any("counted as a singular fit" in w or "singular fit" in w for w in res.warnings)


def test_statsmodels_says_when_no_second_optimizer_confirms(regional):
    spec = pc.load_spec("models/glmm_trend.toml").replace(engine="statsmodels", where="source != 'ensemble' and season == 'EGS'")
    res = quiet_fit(spec.replace(by=()), regional)
    assert any("no second optimizer confirmed" in w for w in res.warnings)
