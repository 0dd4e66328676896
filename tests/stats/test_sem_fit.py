"""pcstats.stats.sem_fit: textbook numbers, and lavaan's fitMeasures from tests/reference/lavaan.R.

Each function is fed lavaan's own inputs (its S, implied Sigma, N, chisq, df, ...) and must give lavaan's
number to 1e-6 relative. The stored outputs come from lavaan 0.6-14 (tests/reference/lavaan/versions.csv).
"""

from __future__ import annotations

import importlib.util
import math
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from pcstats.stats import sem_fit as sf

from ..conftest import REFERENCE

LAVAAN = REFERENCE / "lavaan"
MODELS = ["political_democracy", "holzinger_swineford", "path_lgs"]
RTOL = 1e-6


def close(ours: float, lavaan: float, rtol: float = RTOL) -> bool:
    """Relative agreement; exact zeros (RMSEA and its CI bounds at the boundary) must be zero."""
    if lavaan == 0:
        return ours == 0
    return abs(ours - lavaan) <= rtol * abs(lavaan)


class Lavaan:
    """What lavaan.R stored for one model."""

    def __init__(self, model: str):
        row = pd.read_csv(LAVAAN / "models.csv").set_index("model").loc[model]
        self.n = int(row["nobs"])
        self.npar = int(row["npar"])
        S = pd.read_csv(LAVAAN / f"{model}_sample_cov.csv", index_col="name")
        implied = pd.read_csv(LAVAAN / f"{model}_implied_cov.csv", index_col="name")
        self.names = list(S.index)
        self.S = S.to_numpy()
        self.Sigma = implied.loc[self.names, self.names].to_numpy()
        ov_x = row["ov_x"].split() if isinstance(row["ov_x"], str) else []
        self.exogenous = [self.names.index(v) for v in ov_x]
        self.fit = pd.read_csv(LAVAAN / f"{model}_fit.csv").set_index("name")["value"].astype(float)

    def __getitem__(self, measure: str) -> float:
        return float(self.fit[measure])

    @property
    def df(self) -> int:
        return int(self["df"])


@pytest.fixture(scope="module", params=MODELS)
def lav(request) -> Lavaan:
    return Lavaan(request.param)


# -- textbook numbers ---------------------------------------------------------------------------------------


def test_lavaan_tutorial_holzinger_swineford_numbers():
    """The three-factor CFA as printed in the lavaan tutorial (chisq 85.306 on 24 df, N = 301)."""
    X2, df, n, X2_null, df_null = 85.306, 24, 301, 918.852, 36
    assert sf.cfi(X2, df, X2_null, df_null) == pytest.approx(0.931, abs=5e-4)
    assert sf.tli(X2, df, X2_null, df_null) == pytest.approx(0.896, abs=5e-4)
    assert sf.rmsea(X2, df, n) == pytest.approx(0.092, abs=5e-4)
    assert sf.rmsea_ci(X2, df, n) == pytest.approx([0.071, 0.114], abs=5e-4)
    assert sf.rmsea_pvalue(X2, df, n) == pytest.approx(0.001, abs=5e-4)
    assert sf.aic(-3737.745, 21) == pytest.approx(7517.490, abs=5e-4)
    assert sf.bic(-3737.745, 21, n) == pytest.approx(7595.339, abs=5e-4)
    assert sf.df_model(9, 21) == df


def test_ml_discrepancy_is_zero_at_the_sample_covariance_and_positive_elsewhere():
    S = np.array([[2.0, 0.6, 0.3], [0.6, 1.0, 0.2], [0.3, 0.2, 1.5]])
    assert sf.ml_discrepancy(S, S) == 0.0
    sd = np.sqrt(np.diag(S))
    R = S / np.outer(sd, sd)
    assert sf.ml_discrepancy(S, np.diag(np.diag(S))) == pytest.approx(-np.log(np.linalg.det(R)), rel=1e-12)


def test_chisq_uses_n_and_is_never_negative():
    assert sf.chisq(0.5, 100) == 50.0
    assert sf.chisq(-1e-15, 100) == 0.0


def test_df_model_leaves_out_fixed_x_moments_and_counts_means():
    # y ~ x1 + x2; z ~ y + x1 (DEPENDENCY_NOTES): 4 slopes + 2 residual variances, x moments fixed: df 1 (semopy: 4)
    assert sf.df_model(4, 6, n_exogenous=2) == 1
    assert sf.df_model(3, 9, meanstructure=True) == 0


def test_cfi_is_bounded_and_tli_is_not():
    assert sf.cfi(5.0, 10, 500.0, 21) == 1.0  # chisq < df
    assert sf.cfi(50.0, 10, 20.0, 21) == 0.0  # worse than the baseline
    assert sf.cfi(0.0, 0, 0.0, 0) == 1.0
    assert sf.tli(5.0, 10, 500.0, 21) > 1.0  # lavaan does not clip the TLI
    assert sf.tli(50.0, 10, 40.0, 21) < 0.0
    assert sf.tli(0.0, 0, 100.0, 3) == 1.0


def test_rmsea_is_zero_below_df_and_ci_collapses():
    assert sf.rmsea(8.0, 10, 200) == 0.0
    assert sf.rmsea(3.0, 0, 200) == 0.0
    low, high = sf.rmsea_ci(2.0, 10, 200)  # chisq far below df: both bounds 0, as in lavaan
    assert (low, high) == (0.0, 0.0)
    assert sf.rmsea_ci(3.0, 0, 200) == (0.0, 0.0)


def test_saturated_model_as_lavaan_reports_it():
    """lavaan on a saturated path model (y ~ x1 + x2; z ~ y + x1 + x2): chisq 0, df 0, pvalue NA, CFI = TLI = 1,
    RMSEA and its CI 0, rmsea.pvalue NA, SRMR 0."""
    rng = np.random.default_rng(2)
    S = np.cov(rng.standard_normal((50, 4)), rowvar=False, ddof=0)
    g = sf.glance(S, S, n=50, npar=7, exogenous=[2, 3])
    assert (g["chisq"], g["df"], g["cfi"], g["tli"], g["rmsea"], g["srmr"]) == (0.0, 0, 1.0, 1.0, 0.0, 0.0)
    assert (g["rmsea_ci_low"], g["rmsea_ci_high"]) == (0.0, 0.0)
    assert math.isnan(g["p_value"]) and math.isnan(sf.rmsea_pvalue(0.0, 0, 50))


def test_baseline_keeps_exogenous_covariances():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((50, 4)) @ rng.standard_normal((4, 4))
    S = np.cov(X, rowvar=False, ddof=0)
    b = sf.baseline_model(S, 50, exogenous=[2, 3])
    Sigma0 = np.diag(np.diag(S))
    Sigma0[2:, 2:] = S[2:, 2:]
    assert b.chisq == pytest.approx(50 * sf.ml_discrepancy(S, Sigma0), rel=1e-12)
    assert b.df == 10 - 3 - 2
    # without fixed.x semantics the covariance of the two x's would add to the misfit
    assert sf.baseline_model(S, 50).chisq > b.chisq


def test_srmr_is_bentlers_not_mplus():
    """Bentler: residual over observed SDs; Mplus: difference of correlations. They differ when variances misfit."""
    S = np.array([[1.0, 0.5], [0.5, 4.0]])
    Sigma = np.array([[1.2, 0.4], [0.4, 3.0]])
    bentler = np.sqrt(((1.0 - 1.2) ** 2 + (0.1 / 2.0) ** 2 + (1.0 / 4.0) ** 2) / 3)
    assert sf.srmr(S, Sigma) == pytest.approx(bentler, rel=1e-12)


def test_log_likelihood_conditions_on_fixed_x():
    S = np.array([[1.0, 0.5], [0.5, 1.0]])
    full = -100 / 2 * (2 * math.log(2 * math.pi) + math.log(0.75) + 2)
    x_only = -100 / 2 * (math.log(2 * math.pi) + 0 + 1)
    assert sf.log_likelihood(S, S, 100) == pytest.approx(full, rel=1e-12)
    assert sf.log_likelihood(S, S, 100, exogenous=[1]) == pytest.approx(full - x_only, rel=1e-12)


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="Sigma must be a square"):
        sf.ml_discrepancy(np.eye(2), np.ones(3))
    with pytest.raises(ValueError, match="not positive definite"):
        sf.ml_discrepancy(np.eye(2), np.ones((2, 2)))
    with pytest.raises(ValueError, match="exogenous"):
        sf.baseline_model(np.eye(2), 10, exogenous=[2])


# -- lavaan parity ------------------------------------------------------------------------------------------


def test_sample_covariance_is_divide_by_n():
    lav = Lavaan("path_lgs")
    data = pd.read_csv(REFERENCE / "sem_path_input.csv")
    S = np.cov(data[lav.names].to_numpy(), rowvar=False, ddof=0)
    np.testing.assert_allclose(S, lav.S, rtol=1e-12)


def test_chisq_fmin_and_pvalue_match_lavaan(lav):
    f = sf.ml_discrepancy(lav.S, lav.Sigma)
    assert close(f / 2, lav["fmin"])
    assert close(sf.chisq(f, lav.n), lav["chisq"])
    assert close(sf.chisq_pvalue(lav["chisq"], lav.df), lav["pvalue"])


def test_df_matches_lavaan_with_lavaans_npar(lav):
    assert sf.df_model(len(lav.names), lav.npar, n_exogenous=len(lav.exogenous)) == lav.df
    assert lav.npar == lav["npar"]


def test_baseline_matches_lavaan(lav):
    b = sf.baseline_model(lav.S, lav.n, lav.exogenous)
    assert close(b.chisq, lav["baseline.chisq"])
    assert b.df == lav["baseline.df"]


def test_cfi_tli_match_lavaan(lav):
    args = (lav["chisq"], lav.df, lav["baseline.chisq"], int(lav["baseline.df"]))
    assert close(sf.cfi(*args), lav["cfi"])
    assert close(sf.tli(*args), lav["tli"])


def test_rmsea_and_its_ci_and_pvalues_match_lavaan(lav):
    X2, df, n = lav["chisq"], lav.df, lav.n
    assert close(sf.rmsea(X2, df, n), lav["rmsea"])
    low, high = sf.rmsea_ci(X2, df, n, level=lav["rmsea.ci.level"])
    assert close(low, lav["rmsea.ci.lower"])
    assert close(high, lav["rmsea.ci.upper"])
    assert close(sf.rmsea_pvalue(X2, df, n, h0=lav["rmsea.close.h0"]), lav["rmsea.pvalue"])
    assert close(sf.rmsea_notclose_pvalue(X2, df, n, h0=lav["rmsea.notclose.h0"]), lav["rmsea.notclose.pvalue"])


def test_rmsea_ci_needs_rs_uniroot_to_match_lavaan():
    """lavaan's lower bound on the path model is R's uniroot answer (tol 1.2e-4 in lambda), 1e-5 from the exact root."""
    from scipy import optimize, stats

    lav = Lavaan("path_lgs")
    X2, df, n = lav["chisq"], lav.df, lav.n
    exact = optimize.brentq(lambda lam: stats.ncx2.cdf(X2, df, lam) - 0.95, 1e-12, X2, xtol=1e-14)
    assert not close(math.sqrt(exact / (n * df)), lav["rmsea.ci.lower"])
    assert close(sf.rmsea_ci(X2, df, n)[0], lav["rmsea.ci.lower"])


def test_srmr_matches_lavaan(lav):
    assert close(sf.srmr(lav.S, lav.Sigma), lav["srmr"])
    assert lav["srmr"] == lav["srmr_bentler"] != lav["srmr_mplus"]


def test_log_likelihood_aic_bic_match_lavaan(lav):
    logl = sf.log_likelihood(lav.S, lav.Sigma, lav.n, lav.exogenous)
    assert close(logl, lav["logl"])
    assert close(sf.log_likelihood(lav.S, lav.S, lav.n, lav.exogenous), lav["unrestricted.logl"])
    assert close(sf.aic(lav["logl"], lav.npar), lav["aic"])
    assert close(sf.bic(lav["logl"], lav.npar, lav.n), lav["bic"])


def test_glance_matches_lavaan_from_s_and_sigma_alone(lav):
    g = sf.glance(lav.S, lav.Sigma, n=lav.n, npar=lav.npar, exogenous=lav.exogenous)
    names = {"chisq": "chisq", "df": "df", "p_value": "pvalue", "cfi": "cfi", "tli": "tli", "rmsea": "rmsea",
             "rmsea_ci_low": "rmsea.ci.lower", "rmsea_ci_high": "rmsea.ci.upper", "srmr": "srmr", "aic": "aic",
             "bic": "bic", "log_lik": "logl", "baseline_chisq": "baseline.chisq", "baseline_df": "baseline.df",
             "npar": "npar", "nobs": "ntotal"}
    wrong = {ours: (g[ours], lav[theirs]) for ours, theirs in names.items() if not close(g[ours], lav[theirs])}
    assert not wrong


def test_fixed_x_parameters_are_fixed_in_lavaans_partable():
    """The 21 (co)variances of the six exogenous drivers are in parTable, fixed (free = 0): not in npar."""
    table = pd.read_csv(LAVAAN / "path_lgs_partable.csv")
    exo = table[(table["exo"] == 1) & (table["op"] == "~~")]
    assert len(exo) == 6 * 7 // 2 and (exo["free"] == 0).all()
    assert (table["free"] > 0).sum() == Lavaan("path_lgs").npar == 14


# -- semopy is not lavaan on observed-variable path models ---------------------------------------------------


def semopy_stored() -> pd.Series:
    return pd.read_csv(LAVAAN / "path_semopy.csv").set_index("name")["value"]


def test_semopy_df_cfi_rmsea_differ_from_lavaan_where_ours_agree():
    lav, semopy = Lavaan("path_lgs"), semopy_stored().drop("semopy_version").astype(float)
    assert semopy["DoF"] != lav.df  # 31 vs 10: semopy counts the fixed x moments as data
    assert semopy["CFI"] > 1 and not close(semopy["CFI"], lav["cfi"])  # and does not clip
    assert not close(semopy["RMSEA"], lav["rmsea"])
    g = sf.glance(lav.S, lav.Sigma, n=lav.n, npar=lav.npar, exogenous=lav.exogenous)
    assert g["df"] == lav.df and close(g["cfi"], lav["cfi"]) and close(g["rmsea"], lav["rmsea"])


def test_stored_semopy_numbers_are_current():
    pytest.importorskip("semopy")
    module = _load("make_sem_input")
    fresh = module.semopy_stats(pd.read_csv(REFERENCE / "sem_path_input.csv")).set_index("name")["value"]
    stored = semopy_stored()
    if fresh["semopy_version"] != stored["semopy_version"]:
        pytest.skip(f"path_semopy.csv is from semopy {stored['semopy_version']}, not {fresh['semopy_version']}")
    for name in ("DoF", "CFI", "RMSEA"):
        assert float(fresh[name]) == pytest.approx(float(stored[name]), rel=1e-6, abs=1e-12)


# -- the reference files ---------------------------------------------------------------------------------------


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, REFERENCE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_path_input_is_current():
    fresh = _load("make_sem_input").build()
    pd.testing.assert_frame_equal(fresh, pd.read_csv(REFERENCE / "sem_path_input.csv"), rtol=1e-15)


@pytest.mark.needs_r
@pytest.mark.skipif(shutil.which("Rscript") is None, reason="Rscript not installed (the README test command installs it)")
def test_stored_lavaan_outputs_are_reproduced_by_lavaan_R(tmp_path):
    subprocess.run(["Rscript", "tests/reference/lavaan.R", str(tmp_path)], check=True, capture_output=True)
    versions = pd.read_csv(tmp_path / "versions.csv").set_index("package")["version"]
    if versions["lavaan"] != pd.read_csv(LAVAAN / "versions.csv").set_index("package")["version"]["lavaan"]:
        pytest.skip(f"stored outputs are from another lavaan version than {versions['lavaan']}")
    names = ["models.csv"] + [f"{m}_{what}.csv" for m in MODELS
                              for what in ("estimates", "fit", "r2", "sample_cov", "implied_cov", "partable")]
    for name in names:
        pd.testing.assert_frame_equal(pd.read_csv(tmp_path / name), pd.read_csv(LAVAAN / name), rtol=1e-8,
                                      obj=name)
