"""pcstats.stats.lmm and pcstats.stats.mixed_summary against lme4 / lmerTest / broom.mixed / performance.

Reference values: tests/reference/lmm_sleepstudy.R (stored outputs in tests/reference/lmm_sleepstudy/).
lme4's optimizer stops within about 1e-5 of the optimum in theta; fit_lmm goes further (its criterion
is never above lme4's), so comparisons are at rtol 1e-4 and theta at atol 1e-4.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import fields, replace
from functools import cache

import numpy as np
import pandas as pd
import pytest

from pcstats.stats import lmm
from pcstats.stats.lmm import Block, fit_lmm, profiled_deviance, satterthwaite_df
from pcstats.stats.mixed_summary import (
    PERFORMANCE_SINGULAR_TOL,
    fixed_variance,
    icc,
    nakagawa_r2,
    random_variance,
)

from ..conftest import REFERENCE

RTOL = 1e-4
REF = REFERENCE / "lmm_sleepstudy"
MODELS = ["slope_reml", "slope_ml", "uncorrelated", "intercept", "crossed", "singular"]


def ref_table(name: str) -> pd.DataFrame:
    return pd.read_csv(REF / name)


@cache
def data() -> pd.DataFrame:
    return ref_table("sleepstudy.csv")


def design(name: str) -> tuple[np.ndarray, np.ndarray, list[Block], list[tuple[str, list[str]]], bool]:
    """y, X, blocks in lme4's term order, (group label, column names) per block, REML flag."""
    d = data()
    n = len(d)
    y = d["Reaction"].to_numpy()
    X = np.column_stack([np.ones(n), d["Days"].to_numpy(dtype=float)])
    one, days = X[:, :1], X[:, 1:]
    subject = pd.factorize(d["Subject"], sort=True)[0]
    grp5, grp7 = d["grp5"].to_numpy() - 1, d["grp7"].to_numpy() - 1
    specs = {
        "slope_reml": ([(X, subject, 18, "Subject", ["(Intercept)", "Days"])], True),
        "slope_ml": ([(X, subject, 18, "Subject", ["(Intercept)", "Days"])], False),
        "uncorrelated": ([(one, subject, 18, "Subject", ["(Intercept)"]),
                          (days, subject, 18, "Subject.1", ["Days"])], True),
        "intercept": ([(one, subject, 18, "Subject", ["(Intercept)"])], True),
        "crossed": ([(one, subject, 18, "Subject", ["(Intercept)"]), (one, grp7, 7, "grp7", ["(Intercept)"])], True),
        "singular": ([(one, grp5, 5, "grp5", ["(Intercept)"])], True),
    }
    terms, reml = specs[name]
    blocks = [Block(Z, codes, m) for Z, codes, m, _, _ in terms]
    return y, X, blocks, [(g, cols) for *_, g, cols in terms], reml


@cache
def fitted(name: str) -> lmm.LMMFit:
    y, X, blocks, _, reml = design(name)
    return fit_lmm(y, X, blocks, reml=reml)


def ours_sdcor(fit: lmm.LMMFit, labels) -> pd.DataFrame:
    rows = []
    for cov, (group, cols) in zip(fit.cov_re, labels):
        sd = np.sqrt(np.diag(cov))
        for i, ci in enumerate(cols):
            rows.append((group, f"sd__{ci}", sd[i]))
            for j in range(i + 1, len(cols)):
                rows.append((group, f"cor__{ci}.{cols[j]}", cov[i, j] / (sd[i] * sd[j])))
    rows.append(("Residual", "sd__Observation", fit.sigma))
    return pd.DataFrame(rows, columns=["group", "term", "ours"])


def ours_ran_vals(fit: lmm.LMMFit, labels) -> pd.DataFrame:
    levels = {"Subject": sorted(data()["Subject"].astype(str).unique()), "grp5": [str(i) for i in range(1, 6)],
              "grp7": [str(i) for i in range(1, 8)]}
    frames = []
    for blups, se, (group, cols) in zip(fit.blups, fit.blup_se, labels):
        group = group.split(".")[0]  # ranef puts (1 | g) and (0 + x | g) under one g
        for j, col in enumerate(cols):
            frames.append(pd.DataFrame({"group": group, "level": levels[group], "term": col,
                                        "ours": blups[:, j], "ours_se": se[:, j]}))
    return pd.concat(frames, ignore_index=True)


# ---------------------------------------------------------------------------------------- parity with R


@pytest.mark.parametrize("name", MODELS)
def test_fixed_effects_ses_and_satterthwaite_df_match_lmerTest(name):
    y, X, blocks, _, _ = design(name)
    fit = fitted(name)
    ref = ref_table("fixed.csv").query("model == @name")
    np.testing.assert_allclose(fit.beta, ref["estimate"], rtol=RTOL)
    np.testing.assert_allclose(np.sqrt(np.diag(fit.cov_beta)), ref["std_error"], rtol=RTOL)
    np.testing.assert_allclose(satterthwaite_df(y, X, blocks, fit), ref["df"], rtol=RTOL)


@pytest.mark.parametrize("name", MODELS)
def test_variance_components_match_broom_mixed(name):
    *_, labels, _ = design(name)
    ref = ref_table("ran_pars.csv").query("model == @name")
    merged = ours_sdcor(fitted(name), labels).merge(ref, on=["group", "term"], validate="one_to_one")
    assert len(merged) == len(ref)
    np.testing.assert_allclose(merged["ours"], merged["estimate"], rtol=RTOL, atol=1e-12)


@pytest.mark.parametrize("name", MODELS)
def test_loglik_sigma_theta_and_singular_flag_match_lme4(name):
    fit = fitted(name)
    glance = ref_table("glance.csv").query("model == @name").iloc[0]
    theta = ref_table("theta.csv").query("model == @name")
    assert fit.converged and fit.optimizer == "L-BFGS-B"
    assert fit.reml == bool(glance["reml"]) and fit.n_obs == glance["nobs"]
    np.testing.assert_allclose(fit.loglik, glance["log_lik"], rtol=RTOL)
    np.testing.assert_allclose(fit.sigma, glance["sigma"], rtol=RTOL)
    np.testing.assert_allclose(fit.theta, theta["theta"], atol=1e-4)
    np.testing.assert_array_equal(fit.theta_lower, theta["lower"])
    assert fit.singular == bool(glance["singular"])


@pytest.mark.parametrize("name", MODELS)
def test_optimum_is_at_least_as_good_as_lme4s(name):
    y, X, blocks, _, reml = design(name)
    theta = ref_table("theta.csv").query("model == @name")["theta"].to_numpy()
    lme4_dev = profiled_deviance(y, X, blocks, theta, reml=reml)[0]
    assert fitted(name).deviance <= lme4_dev + 1e-9
    np.testing.assert_allclose(-0.5 * lme4_dev, ref_table("glance.csv").query("model == @name")["log_lik"],
                               rtol=1e-12)


@pytest.mark.parametrize("name", MODELS)
def test_at_lme4s_theta_ses_and_df_agree_to_rounding(name):
    """The remaining differences come from where lme4's optimizer stopped, not from the formulas."""
    y, X, blocks, _, reml = design(name)
    theta = ref_table("theta.csv").query("model == @name")["theta"].to_numpy()
    d = lmm._design(y, X, blocks)
    s = lmm._solve(d, theta)
    sigma2 = s.pwrss / (d.n - d.p if reml else d.n)
    cov_beta = sigma2 * lmm._cho_solve(s.LX, np.eye(d.p))
    at_lme4 = replace(fitted(name), theta=theta, sigma=float(np.sqrt(sigma2)), cov_beta=cov_beta)
    ref = ref_table("fixed.csv").query("model == @name")
    np.testing.assert_allclose(np.sqrt(np.diag(cov_beta)), ref["std_error"], rtol=1e-10)
    # pcstats differentiates in orthonormalised random-effect columns (robust to raw years near
    # 2000), lmerTest in lme4's theta: the same df up to the Richardson error, 3e-6 here
    np.testing.assert_allclose(satterthwaite_df(y, X, blocks, at_lme4), ref["df"], rtol=1e-5)


@pytest.mark.parametrize("name", MODELS)
def test_conditional_modes_and_sds_match_ranef_condVar(name):
    *_, labels, _ = design(name)
    ref = ref_table("ran_vals.csv").query("model == @name").astype({"level": str})
    merged = ours_ran_vals(fitted(name), labels).merge(ref, on=["group", "level", "term"], validate="one_to_one")
    assert len(merged) == len(ref)
    scale = np.abs(ref["estimate"]).max()
    np.testing.assert_allclose(merged["ours"], merged["estimate"], rtol=RTOL, atol=RTOL * scale)
    np.testing.assert_allclose(merged["ours_se"], merged["std_error"], rtol=RTOL)


@pytest.mark.parametrize("name", MODELS)
def test_r2_and_icc_match_performance(name):
    _, X, blocks, labels, _ = design(name)
    fit = fitted(name)
    ref = ref_table("glance.csv").query("model == @name").iloc[0]
    singular = np.any(fit.theta[fit.theta_lower == 0] < PERFORMANCE_SINGULAR_TOL)
    groups = [label.split(".")[0] for label, _ in labels]
    vr = np.nan if singular else random_variance(blocks, fit.cov_re, groups)
    vf, ve = fixed_variance(X, fit.beta), fit.sigma**2
    np.testing.assert_allclose([vf, vr, ve], ref[["var_fixed", "var_random", "var_residual"]].astype(float),
                               rtol=RTOL)
    np.testing.assert_allclose(nakagawa_r2(vf, vr, ve), ref[["r2_marginal", "r2_conditional"]].astype(float),
                               rtol=RTOL)
    np.testing.assert_allclose(icc(vr, ve), float(ref["icc_adjusted"]), rtol=RTOL)


@pytest.mark.needs_r
@pytest.mark.skipif(shutil.which("Rscript") is None, reason="Rscript not installed")
def test_stored_r_outputs_are_reproduced_by_the_script(tmp_path):
    subprocess.run(["Rscript", "tests/reference/lmm_sleepstudy.R", str(tmp_path)], check=True, capture_output=True)
    for name in ("sleepstudy.csv", "fixed.csv", "ran_pars.csv", "ran_vals.csv", "theta.csv", "glance.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(tmp_path / name), ref_table(name), rtol=1e-10)


# ------------------------------------------------------------------------------------ engine behaviour


def test_fit_is_reproducible_and_leaves_inputs_alone():
    y, X, blocks, _, _ = design("slope_reml")
    copies = [y.copy(), X.copy(), blocks[0].Z.copy(), blocks[0].codes.copy()]
    a, b = fit_lmm(y, X, blocks), fit_lmm(y, X, blocks)
    for f in fields(a):
        va, vb = getattr(a, f.name), getattr(b, f.name)
        if isinstance(va, tuple):
            assert all(np.array_equal(u, v) for u, v in zip(va, vb)), f.name
        else:
            assert np.array_equal(va, vb), f.name
    for before, after in zip(copies, [y, X, blocks[0].Z, blocks[0].codes]):
        np.testing.assert_array_equal(before, after)


@pytest.mark.parametrize("name", ["slope_reml", "slope_ml", "crossed"])
def test_analytic_gradient_matches_central_differences(name):
    y, X, blocks, _, reml = design(name)
    theta = fitted(name).theta + 0.1
    _, grad = profiled_deviance(y, X, blocks, theta, reml=reml)
    h = 1e-6
    numeric = [(profiled_deviance(y, X, blocks, theta + h * e, reml=reml)[0]
                - profiled_deviance(y, X, blocks, theta - h * e, reml=reml)[0]) / (2 * h) for e in np.eye(theta.size)]
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("method", ["Nelder-Mead", "Powell"])
def test_fallback_optimizers_reach_the_same_fit(monkeypatch, method):
    monkeypatch.setattr(lmm, "_OPTIMIZERS", (method,))
    y, X, blocks, _, reml = design("slope_reml")
    fit = fit_lmm(y, X, blocks, reml=reml)
    best = fitted("slope_reml")
    assert fit.converged and fit.optimizer == method
    np.testing.assert_allclose(fit.theta, best.theta, atol=1e-5)
    np.testing.assert_allclose(fit.loglik, best.loglik, rtol=1e-10)


def test_a_false_optimum_in_the_corner_of_the_bounds_is_left(monkeypatch):
    """T = [[0, 0], [b, c]] is a KKT point for either sign of b; lme4 finds the better side here."""
    rng = np.random.default_rng(6)
    m, per = int(rng.integers(4, 15)), int(rng.integers(3, 8))
    g = np.repeat(np.arange(m), per)
    x = rng.normal(size=m * per)
    sd_i, sd_s = rng.choice([0.0, 0.3, 1.5]), rng.choice([0.0, 0.2, 1.0])
    y = 1 + x + rng.normal(0, sd_i, m)[g] + rng.normal(0, sd_s, m)[g] * x + rng.normal(size=m * per)
    X = np.column_stack([np.ones(m * per), x])
    blocks = [Block(X, g, m)]
    # on the raw columns (fit_lmm itself first makes Z's columns orthonormal, which avoids the corner)
    fit = lmm._fit(lmm._design(y, X, blocks), reml=False)
    monkeypatch.setattr(lmm, "_mirror_zero_columns", lambda d, theta: None)
    monkeypatch.setattr(lmm, "_zero_variance_restarts", lambda *args: [])
    corner = lmm._fit(lmm._design(y, X, blocks), reml=False)
    assert corner.theta[0] == 0.0 and corner.converged
    assert fit.theta[0] > 0.05 and fit.deviance < corner.deviance - 1e-3
    mirrored = corner.theta * np.array([1.0, -1.0, 1.0])
    assert np.isclose(profiled_deviance(y, X, blocks, mirrored, reml=False)[0], corner.deviance, rtol=1e-12)


def test_blocks_may_come_in_any_order():
    y, X, blocks, _, reml = design("crossed")
    swapped = fit_lmm(y, X, blocks[::-1], reml=reml)
    fit = fitted("crossed")
    np.testing.assert_allclose(swapped.theta, fit.theta[::-1], atol=1e-6)
    np.testing.assert_allclose(swapped.beta, fit.beta, rtol=1e-8)
    np.testing.assert_allclose(swapped.loglik, fit.loglik, rtol=1e-12)


# ------------------------------------------------------------------------------------------ errors


def test_rank_deficient_X_is_refused_naming_the_column():
    y, X, blocks, _, _ = design("intercept")
    X3 = np.column_stack([X, 2 * X[:, 1]])
    with pytest.raises(ValueError, match=r"rank deficient: rank 2 < 3 columns.*\[(1|2)\]"):
        fit_lmm(y, X3, blocks)


@pytest.mark.parametrize("change, message", [
    (lambda y, X, b: (np.where(np.arange(y.size) == 3, np.nan, y), X, b), "y must be"),
    (lambda y, X, b: (y, X[:-1], b), "X must be"),
    (lambda y, X, b: (y, X, []), "blocks is empty"),
    (lambda y, X, b: (y, X, [Block(b[0].Z[:-1], b[0].codes, 18)]), r"blocks\[0\]\.Z"),
    (lambda y, X, b: (y, X, [Block(b[0].Z, b[0].codes.astype(float), 18)]), "integer level codes"),
    (lambda y, X, b: (y, X, [Block(b[0].Z, b[0].codes, 17)]), r"0 \.\. n_levels - 1 = 16"),
    (lambda y, X, b: (y, X, [Block(b[0].Z, b[0].codes, 19)]), r"level\(s\) \[18\] have no rows"),
    (lambda y, X, b: (y, X, [Block(b[0].Z, np.arange(y.size), y.size)]), "fewer levels than observations"),
    (lambda y, X, b: (y[:2], X[:2], b), "2 observations are too few for 2 fixed-effect columns"),
])
def test_bad_inputs_raise_value_errors_that_name_the_problem(change, message):
    y, X, blocks, _, _ = design("intercept")
    y2, X2, blocks2 = change(y, X, blocks)
    with pytest.raises(ValueError, match=message):
        fit_lmm(y2, X2, blocks2)


def test_too_many_random_effects_for_the_data_are_refused():
    y, X, _, _, _ = design("intercept")
    codes = np.arange(y.size) // 2  # 90 levels, slope term: 180 random effects for 180 rows
    with pytest.raises(ValueError, match="unidentifiable"):
        fit_lmm(y, X, [Block(X, codes, 90)])


def test_satterthwaite_and_deviance_refuse_mismatched_parameters():
    y, X, blocks, _, _ = design("slope_reml")
    with pytest.raises(ValueError, match="does not belong"):
        satterthwaite_df(y, X, blocks, fitted("intercept"))
    with pytest.raises(ValueError, match="theta has 1 elements; these blocks need 3"):
        profiled_deviance(y, X, blocks, [1.0])


# -------------------------------------------------------------------------------- textbook numbers


def test_r2_and_icc_textbook_numbers():
    # Nakagawa and Schielzeth (2013): marginal = vf / total, conditional = (vf + vr) / total
    assert nakagawa_r2(2.0, 3.0, 5.0) == (0.2, 0.5)
    assert icc(3.0, 5.0) == 0.375
    assert icc(0.0, 5.0) == 0.0
    marginal, conditional = nakagawa_r2(2.0, np.nan, 6.0)
    assert marginal == 0.25 and np.isnan(conditional)


def test_random_variance_with_intercepts_only_is_the_sum_of_variances():
    n = 6
    blocks = [Block(np.ones((n, 1)), np.arange(n) % 2, 2), Block(np.ones((n, 1)), np.arange(n) % 3, 3)]
    assert random_variance(blocks, [np.array([[2.0]]), np.array([[0.5]])]) == 2.5


def test_random_variance_counts_one_term_per_grouping_factor_when_groups_are_given():
    n = 6
    x = np.arange(n, dtype=float)[:, None]
    blocks = [Block(np.ones((n, 1)), np.arange(n) % 2, 2), Block(x, np.arange(n) % 2, 2),
              Block(np.ones((n, 1)), np.arange(n) % 3, 3)]
    cov = [np.array([[2.0]]), np.array([[1.0]]), np.array([[0.5]])]
    assert random_variance(blocks, cov, ["g", "g", "h"]) == 2.5  # (x || g): insight drops the x term
    assert random_variance(blocks, cov) == pytest.approx(2.5 + np.mean(np.arange(n) ** 2.0), rel=1e-12)
    with pytest.raises(ValueError, match="3 blocks but 2 group names"):
        random_variance(blocks, cov, ["g", "h"])


def test_random_variance_with_a_slope_is_the_mean_of_the_quadratic_form():
    x = np.array([0.0, 1.0, 2.0, 3.0])
    Z = np.column_stack([np.ones(4), x])
    sigma = np.array([[4.0, -1.0], [-1.0, 0.25]])
    expected = np.mean(4.0 - 2.0 * x + 0.25 * x**2)
    assert np.isclose(random_variance([Block(Z, np.array([0, 0, 1, 1]), 2)], [sigma]), expected)
    with pytest.raises(ValueError, match="1 blocks but 2"):
        random_variance([Block(Z, np.array([0, 0, 1, 1]), 2)], [sigma, sigma])
    with pytest.raises(ValueError, match=r"cov_re\[0\] has shape \(1, 1\)"):
        random_variance([Block(Z, np.array([0, 0, 1, 1]), 2)], [np.eye(1)])


def test_fixed_variance_uses_the_n_minus_1_denominator():
    X = np.column_stack([np.ones(3), [1.0, 2.0, 3.0]])
    assert fixed_variance(X, np.array([5.0, 1.0])) == pytest.approx(1.0, rel=1e-12)

