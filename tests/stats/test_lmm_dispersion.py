"""MixedSpec(dispersion="~ f"): one residual SD per level, against nlme::lme(..., weights = varIdent(form = ~ 1 | f))
(tests/reference/varident.R): (a) sleepstudy with an early/late factor, REML and ML, random intercept or slope;
(b) the paper's GLMM with a residual SD per decade (models/glmm_trend_dispersion.toml), REML and ML, per season.

Conventions that stay lme4's and are converted here: nlme's summary of an ML fit scales the SEs by sqrt(N / (N - p)),
and nlme's BIC of a REML fit uses log(N - p)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import pcstats as pc
from pcstats.errors import EngineError, FormulaError
from pcstats.likelihood_ratio import lrt

from ..conftest import REFERENCE, ROOT

VARIDENT = REFERENCE / "varident"
DATA = pd.read_csv(VARIDENT / "data.csv")
FORMULAS = {"intercept": "Reaction ~ Days + (1 | Subject)", "slope": "Reaction ~ Days + (Days | Subject)"}
SEASONS = ("ANN", "EGS", "LGS", "WIN")


def close(ours, ref, what, rtol=1e-4, atol=1e-8):
    np.testing.assert_allclose(np.asarray(ours, float), np.asarray(ref, float), rtol=rtol, atol=atol, err_msg=what)


def ml_se_factor(method: str, n: int, p: int) -> float:
    """nlme's SEs of an ML fit are lme4's times sqrt(N / (N - p))."""
    return np.sqrt(n / (n - p)) if method == "ml" else 1.0


# ------------------------------------------------------------------------------------------ (a) sleepstudy


@pytest.fixture(scope="module", params=[(m, r) for m in ("reml", "ml") for r in ("intercept", "slope")])
def case(request):
    method, random = request.param
    res = pc.fit(pc.MixedSpec(FORMULAS[random], reml=method == "reml", dispersion="~ late"), DATA)
    return f"{method}_{random}", res


def test_fixed_effects_and_standard_errors_match_nlme(case):
    name, res = case
    ref = pd.read_csv(VARIDENT / f"{name}_fixed.csv")
    fixed = res.tidy().query("component == 'fixed'")
    close(fixed["estimate"], ref["estimate"], f"{name}: estimates")
    close(fixed["std_error"] * ml_se_factor(name[:name.index("_")], len(DATA), len(fixed)), ref["std_error"],
          f"{name}: SEs")


def test_residual_sds_and_variance_components_match_nlme(case):
    name, res = case
    pars = res.tidy().query("component == 'ran_pars'").set_index("term")["estimate"]
    ref = pd.read_csv(VARIDENT / f"{name}_varident.csv")
    close(pars[[f"sd__Observation.{lv}" for lv in ref["level"]]], ref["sd"], f"{name}: residual SD per level")
    glance = pd.read_csv(VARIDENT / f"{name}_glance.csv").iloc[0]
    close(pars["sd__Observation"], glance["sigma"], f"{name}: sigma (reference level)")
    close(pars["sd__(Intercept)"], glance["sd_intercept"], f"{name}: SD of the intercepts")
    if name.endswith("slope"):
        close(pars["sd__Days"], glance["sd_slope"], f"{name}: SD of the slopes")
        # near zero (-0.01, -0.02): compared absolutely
        close(pars["cor__(Intercept).Days"], glance["cor"], f"{name}: correlation", 0, 1e-4)


def test_likelihood_and_information_criteria_match_nlme(case):
    name, res = case
    g = res.glance().iloc[0]
    ref = pd.read_csv(VARIDENT / f"{name}_glance.csv").iloc[0]
    close([g["log_lik"], g["aic"]], [ref["logLik"], ref["AIC"]], f"{name}: logLik, AIC", 1e-7)
    # BIC: lme4's log(N) penalty; nlme's REML BIC uses log(N - p)
    n, p = len(DATA), 2
    close(g["bic"] + (g["df"] * (np.log(n - p) - np.log(n)) if name.startswith("reml") else 0.0), ref["BIC"],
          f"{name}: BIC", 1e-7)
    assert g["df"] == ref["df"]


# ------------------------------------------------------------------------- (b) the paper's GLMM, SD per decade


@pytest.fixture(scope="module")
def paper():
    table = pc.read_table(REFERENCE / "trend_input.csv")
    spec = pc.load_spec(ROOT / "models" / "glmm_trend_dispersion.toml")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # singular fits, as the spec file says
        return {"reml": pc.fit(spec, table), "ml": pc.fit(spec.replace(reml=False), table),
                "glmm": pc.fit(pc.load_spec(ROOT / "models" / "glmm_trend.toml"), table)}


@pytest.mark.parametrize("method", ["reml", "ml"])
def test_paper_likelihood_matches_nlme_and_is_not_below_it(paper, method):
    g = paper[method].glance().set_index("season")
    ref = pd.read_csv(VARIDENT / f"paper_{method}_glance.csv").set_index("season")
    for season in SEASONS:
        close(g.loc[season, ["log_lik", "aic"]], ref.loc[season, ["logLik", "AIC"]], f"{method} {season}", 1e-7)
        assert g.loc[season, "df"] == ref.loc[season, "df"] == 13  # the GLMM's 10 parameters and 3 SD ratios (four decades in 1980-2017)
        # the joint optimum: never below nlme's best of three optimizer settings
        assert g.loc[season, "log_lik"] >= ref.loc[season, "logLik"] - 1e-6, (method, season)
        assert g.loc[season, "converged"]


@pytest.mark.parametrize("method", ["reml", "ml"])
def test_paper_fixed_effects_and_residual_sds_match_nlme(paper, method):
    tidy = paper[method].tidy()
    fixed_ref = pd.read_csv(VARIDENT / f"paper_{method}_fixed.csv")
    sd_ref = pd.read_csv(VARIDENT / f"paper_{method}_varident.csv")
    nobs = pd.read_csv(VARIDENT / f"paper_{method}_glance.csv").set_index("season")["nobs"]
    for season in SEASONS:
        rows = tidy[tidy["season"] == season]
        fixed = rows[rows["component"] == "fixed"].set_index("term")
        ref = fixed_ref[fixed_ref["season"] == season].set_index("term")
        close(fixed.loc[ref.index, "estimate"], ref["estimate"], f"{method} {season}: estimates")
        # ML EGS: nlme stops 8e-5 log-likelihood units below the optimum, a correlation at -0.994 instead of -1
        rtol = 1e-3 if (method, season) == ("ml", "EGS") else 1e-4
        close(fixed.loc[ref.index, "std_error"] * ml_se_factor(method, nobs[season], len(ref)), ref["std_error"],
              f"{method} {season}: SEs", rtol)
        pars = rows[rows["group"] == "Residual"].set_index("term")["estimate"]
        sds = sd_ref[sd_ref["season"] == season]
        close(pars[[f"sd__Observation.{lv}" for lv in sds["level"]]], sds["sd"], f"{method} {season}: residual SDs")


@pytest.mark.parametrize("method", ["reml", "ml"])
def test_paper_variance_components_match_nlme_on_the_residual_scale(paper, method):
    """Variances at zero are 0 here and small positive in nlme (its log-scale parameters cannot reach zero), and
    correlations at +/-1 approach it: compared within 1e-3 of the residual SD (measured: 1e-4, ML EGS 8e-4)."""
    tidy = paper[method].tidy()
    ref = pd.read_csv(VARIDENT / f"paper_{method}_glance.csv").set_index("season")
    for season in SEASONS:
        rows = tidy[(tidy["season"] == season) & (tidy["component"] == "ran_pars")].set_index(["group", "term"])
        est = rows["estimate"]
        r = ref.loc[season]
        ours = [est[("source", "sd__(Intercept)")], est[("source", "sd__year_c")], est[("source:region", "sd__(Intercept)")],
                est[("source:year", "sd__(Intercept)")]]
        theirs = r[["sd_intercept", "sd_slope", "sd_region", "sd_year"]]
        close(ours, theirs, f"{method} {season}: SDs of the random effects", 0, 1e-3 * r["sigma"])
        # the correlation through the covariance: where an SD is near zero (EGS: 0.05 of a residual SD of 15.6) the
        # correlation is barely identified (-1 here, -0.973 in nlme at the same likelihood) but the covariance is
        cov = est[("source", "sd__(Intercept)")] * est[("source", "sd__year_c")] * est[("source", "cor__(Intercept).year_c")]
        close([cov], [r["sd_intercept"] * r["sd_slope"] * r["cor"]], f"{method} {season}: covariance of intercept and trend",
              0, 1e-3 * r["sigma"] * r["sd_slope"])


def test_paper_lrt_against_the_glmm_on_the_reml_scale(paper):
    """pc.lrt(refit=False) of the GLMM against the same GLMM with SDs by decade: 2 (nlme's REML logLik - the GLMM's),
    within 0.02, with the GLMM's never below lme4's (lme4 stops up to 0.4 log-likelihood units short of it on the
    fixture's flat LGS likelihood, with a convergence warning; see tests/engines/test_mixed_parity.py)."""
    test = lrt(paper["glmm"], paper["reml"], refit=False).dropna(subset=["p_value"]).set_index("season")
    lme4 = pd.read_csv(REFERENCE / "lme4" / "glance.csv").set_index("case")["log_lik"]
    nlme = pd.read_csv(VARIDENT / "paper_reml_glance.csv").set_index("season")["logLik"]
    glmm = paper["glmm"].glance().set_index("season")["log_lik"]
    for season in SEASONS:
        assert glmm[season] >= lme4[f"paper_{season}"] - 1e-6, season
        close(test.loc[season, "statistic"], 2 * (nlme[season] - glmm[season]), f"LRT {season}", 0, 0.02)
        assert test.loc[season, "df"] == 3  # one residual SD ratio per decade after the first: 1990s, 2000s, 2010s


# ------------------------------------------------------------------------------------------------ bad input


def test_a_level_with_one_row_is_named():
    data = DATA.copy()
    data.loc[0, "late"] = "lonely"
    with pytest.raises(EngineError, match="level 'lonely' has 1 row"):
        pc.fit(pc.MixedSpec(FORMULAS["intercept"], dispersion="~ late"), data)


def test_an_unknown_dispersion_column_is_named():
    with pytest.raises(FormulaError, match=r"dispersion='~ lat' names 'lat'.*did you mean 'late'"):
        pc.fit(pc.MixedSpec(FORMULAS["intercept"], dispersion="~ lat"), DATA)


def test_an_unknown_dispersion_column_of_a_long_table_is_named():
    table = pc.read_table(REFERENCE / "trend_input.csv")
    with pytest.raises(FormulaError, match=r"dispersion='~ perod' names 'perod'.*did you mean 'period'"):
        pc.fit(pc.MixedSpec("NEE ~ year_c + (1 | source)", where="season == 'ANN'", dispersion="~ perod"), table)
