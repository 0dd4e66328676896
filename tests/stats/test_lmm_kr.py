"""ddf="kenward-roger" against lmerTest's summary(m, ddf = "Kenward-Roger") and pbkrtest::vcovAdj
(tests/reference/kenward_roger.R): sleepstudy with a correlated and an uncorrelated slope, Penicillin (crossed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pcstats as pc
from pcstats.errors import SpecError

from ..conftest import REFERENCE

KR = REFERENCE / "kenward_roger"
CASES = {
    "sleep_slope": ("sleepstudy.csv", "Reaction ~ Days + (Days | Subject)"),
    "sleep_uncorrelated": ("sleepstudy.csv", "Reaction ~ Days + (1 | Subject) + (0 + Days | Subject)"),
    "penicillin": ("penicillin.csv", "diameter ~ 1 + (1 | plate) + (1 | sample)"),
    "sleep_unbalanced": ("sleep_unbalanced.csv", "Reaction ~ Days + (Days | Subject)"),
}


def close(ours, ref, what, rtol=1e-4):
    np.testing.assert_allclose(np.asarray(ours, float), np.asarray(ref, float), rtol=rtol, atol=1e-10, err_msg=what)


@pytest.mark.parametrize("name", list(CASES))
def test_kenward_roger_matches_lmertest_and_pbkrtest(name):
    file, formula = CASES[name]
    res = pc.fit(pc.MixedSpec(formula, ddf="kenward-roger"), pd.read_csv(KR / file))
    fixed = res.tidy().query("component == 'fixed'")
    ref = pd.read_csv(KR / f"{name}_coef.csv")
    close(fixed["estimate"], ref["estimate"], f"{name}: estimates")
    close(fixed["std_error"], ref["std_error"], f"{name}: adjusted SEs")
    close(fixed["df"], ref["df"], f"{name}: KR df")
    close(fixed["p_value"], ref["p"], f"{name}: p", 1e-3)


def test_adjusted_covariance_is_pbkrtests():
    from pcstats.engines import prepare
    from pcstats.stats.lmm import Block, fit_lmm
    from pcstats.stats.lmm_kr import kenward_roger

    data = pd.read_csv(KR / "sleep_unbalanced.csv")
    X = np.column_stack([np.ones(len(data)), data["Days"]])
    codes = pd.factorize(data["Subject"], sort=True)[0]
    blocks = [Block(X.copy(), codes, int(codes.max()) + 1)]
    fit = fit_lmm(data["Reaction"].to_numpy(float), X, blocks)
    adjusted, _, _ = kenward_roger(X, blocks, fit.cov_re, fit.sigma, fit.cov_beta)
    ref = pd.read_csv(KR / "sleep_unbalanced_vcovadj.csv").drop(columns="term").to_numpy(float)
    # entries relative to the largest: the off-diagonal is 30x smaller than the intercept's variance, and lme4's
    # optimum in theta is 1e-6 from pcstats's
    np.testing.assert_allclose(adjusted, ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max(), err_msg="vcovAdj")
    assert not np.allclose(adjusted, fit.cov_beta, rtol=1e-3)  # the adjustment matters here


def test_none_gives_z_tests():
    res = pc.fit(pc.MixedSpec(CASES["sleep_slope"][1], ddf="none"), pd.read_csv(KR / "sleepstudy.csv"))
    assert res.tidy().query("component == 'fixed'")["df"].isna().all()


def test_kenward_roger_needs_reml():
    with pytest.raises(SpecError, match="REML"):
        pc.MixedSpec(CASES["sleep_slope"][1], ddf="kenward-roger", reml=False)
