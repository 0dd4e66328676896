"""MixedSpec(dispersion="~ f"): one residual SD per level, against nlme::lme(..., weights = varIdent(form = ~ 1 | f))
(tests/reference/varident.R) on sleepstudy with an early/late factor, REML and ML, random intercept or slope."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pcstats as pc
from pcstats.errors import FormulaError

from ..conftest import REFERENCE

VARIDENT = REFERENCE / "varident"
DATA = pd.read_csv(VARIDENT / "data.csv")
FORMULAS = {"intercept": "Reaction ~ Days + (1 | Subject)", "slope": "Reaction ~ Days + (Days | Subject)"}


def close(ours, ref, what, rtol=1e-4):
    np.testing.assert_allclose(np.asarray(ours, float), np.asarray(ref, float), rtol=rtol, atol=1e-8, err_msg=what)


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
    # pcstats reports lme4's SEs; nlme's summary of an ML fit scales them by sqrt(N / (N - p))
    n, p = len(DATA), len(fixed)
    factor = np.sqrt(n / (n - p)) if name.startswith("ml") else 1.0
    close(fixed["std_error"] * factor, ref["std_error"], f"{name}: SEs")


def test_residual_sds_and_variance_components_match_nlme(case):
    name, res = case
    pars = res.tidy().query("component == 'ran_pars'").set_index("term")["estimate"]
    ref = pd.read_csv(VARIDENT / f"{name}_varident.csv")
    close(pars[[f"sd__Observation.{lv}" for lv in ref["level"]]], ref["sd"], f"{name}: residual SD per level")
    glance = pd.read_csv(VARIDENT / f"{name}_glance.csv").iloc[0]
    close(pars["sd__Observation"], glance["sigma"], f"{name}: sigma (reference level)")
    close(pars["sd__(Intercept)"], glance["sd_intercept"], f"{name}: SD of the intercepts", 1e-3)
    if name.endswith("slope"):
        close(pars["sd__Days"], glance["sd_slope"], f"{name}: SD of the slopes", 1e-3)
        close(pars["cor__(Intercept).Days"], glance["cor"], f"{name}: correlation", 1e-2)


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


def test_a_level_with_one_row_is_named():
    data = DATA.copy()
    data.loc[0, "late"] = "lonely"
    with pytest.raises(FormulaError, match="level 'lonely' has 1 row"):
        pc.fit(pc.MixedSpec(FORMULAS["intercept"], dispersion="~ late"), data)


def test_an_unknown_dispersion_column_is_named():
    with pytest.raises(FormulaError, match="'period'"):
        pc.fit(pc.MixedSpec(FORMULAS["intercept"], dispersion="~ period"), DATA)
