"""pcstats.stats.sem_robust: algebraic identities, and lavaan's robust statistics from tests/reference/lavaan_robust.R.

Each function is fed lavaan's own inputs (its data rows, implied and EM moments, Delta, information matrix,
chi-squares) and must give lavaan's number to 1e-6 relative. The stored outputs come from lavaan 0.6-14
(tests/reference/lavaan_robust/versions.csv). Models with equality constraints (group.equal = "loadings")
are reduced to their unique parameters with lavaan's K (Delta K, K' I K), as the engine will hand them
over, and the covariance is mapped back (K V K') to compare with lavaan's.

Matrices are compared entry by entry against their largest entry (``max|ours - lavaan| <= rtol max|lavaan|``):
entries that are zero up to rounding (covariances of unrelated parameters) have no relative accuracy.
lavaan's MLR information is its numerical Hessian; the functions take it as input, so they agree to
rounding, and no comparison needs a looser tolerance than 1e-6. The one place where pcstats computes
what lavaan approximates is the baseline model: its estimates in closed form (lavaan: nlminb) and, under
MLR, its Hessian analytically (lavaan: numerical differences of the gradient). The baseline scaling factor
still agrees to 4e-8 (FIML) and 6e-11 (complete data). P-values are compared with 1e-15 absolute slack
as well, because lavaan's ``1 - pchisq`` loses relative accuracy (0 below about 1e-16).
"""

from __future__ import annotations

import math
import shutil
import subprocess
from functools import cache

import numpy as np
import pandas as pd
import pytest

from pcstats.stats import sem_robust as sr

from ..conftest import REFERENCE

LAVAAN = REFERENCE / "lavaan_robust"
RTOL = 1e-6
MODELS = pd.read_csv(LAVAAN / "models.csv").set_index("model")
MLM = [m for m in MODELS.index if MODELS.loc[m, "estimator"] == "MLM"]
MLR = [m for m in MODELS.index if MODELS.loc[m, "estimator"] == "MLR"]
COMPLETE = [m for m in MODELS.index if MODELS.loc[m, "missing"] != "ml"]
FIML = [m for m in MODELS.index if MODELS.loc[m, "missing"] == "ml"]


def close(ours: float, lavaan: float, rtol: float = RTOL, atol: float = 0.0) -> bool:
    """Relative agreement; exact zeros must be zero (or within ``atol``)."""
    return abs(ours - lavaan) <= rtol * abs(lavaan) + atol


def close_pvalue(ours: float, lavaan: float) -> bool:
    """lavaan computes ``1 - pchisq(x, df)``, exact to about 1e-16 absolute only (0 for p below that)."""
    return close(ours, lavaan, atol=1e-15)


def close_matrix(ours: np.ndarray, lavaan: np.ndarray, rtol: float = RTOL) -> bool:
    return float(np.max(np.abs(ours - lavaan))) <= rtol * float(np.max(np.abs(lavaan)))


class Group:
    """One group of one fit: data rows and lavaan's moments and Jacobian."""

    def __init__(self, fit: str, g: int, data: pd.DataFrame, K: np.ndarray | None):
        implied = pd.read_csv(LAVAAN / f"{fit}_g{g}_implied.csv", index_col="name")
        h1 = pd.read_csv(LAVAAN / f"{fit}_g{g}_h1.csv", index_col="name")
        delta = pd.read_csv(LAVAAN / f"{fit}_g{g}_delta.csv", index_col="name")
        self.names = list(implied.index)
        self.rows = data.index.to_numpy()  # positions in the data set (lavaan's case.idx)
        self.X = data[self.names].to_numpy(float)
        self.mu = implied["mean"].to_numpy()
        self.sigma = implied.drop(columns="mean").to_numpy()
        self.h1_mean = h1["mean"].to_numpy()
        self.h1_cov = h1.drop(columns="mean").to_numpy()
        self.delta_rows = list(delta.index)
        self.delta = delta.to_numpy() if K is None else delta.to_numpy() @ K
        gamma = LAVAAN / f"{fit}_g{g}_gamma.csv"
        self.gamma = pd.read_csv(gamma, index_col="name").to_numpy() if gamma.exists() else None


class Fit:
    """What lavaan_robust.R stored for one fit."""

    def __init__(self, name: str):
        row = MODELS.loc[name]
        self.name = name
        self.meanstructure = bool(row["meanstructure"])
        self.df = int(row["df"])
        self.nobs = [int(v) for v in str(row["nobs"]).split(";")]
        self.n = sum(self.nobs)
        data = pd.read_csv(LAVAAN / f"{row['data']}_data.csv")
        K = LAVAAN / f"{name}_K.csv"
        self.K = pd.read_csv(K).to_numpy(float) if K.exists() else None
        if isinstance(row["group"], str):
            parts = [data[data[row["group"]] == label] for label in row["group_labels"].split(";")]
        else:
            parts = [data]
        self.groups = [Group(name, g, part, self.K) for g, part in enumerate(parts, 1)]
        assert [len(g.X) for g in self.groups] == self.nobs
        info = pd.read_csv(LAVAAN / f"{name}_information.csv", index_col="name").to_numpy()
        self.npar_lavaan = info.shape[0]  # lavaan's nx.free: equality-constrained parameters counted apart
        self.information = info if self.K is None else self.K.T @ info @ self.K
        self.vcov = pd.read_csv(LAVAAN / f"{name}_vcov.csv", index_col="name").to_numpy()
        self.test = pd.read_csv(LAVAAN / f"{name}_test.csv").set_index("test")
        self.fit = pd.read_csv(LAVAAN / f"{name}_fit.csv").set_index("name")["value"].astype(float)
        scores = LAVAAN / f"{name}_scores.csv"
        self.lavscores = pd.read_csv(scores).to_numpy() if scores.exists() else None

    def __getitem__(self, measure: str) -> float:
        return float(self.fit[measure])

    def lift(self, V: np.ndarray) -> np.ndarray:
        """Covariance of the unique parameters -> lavaan's covariance of all free parameters."""
        return V if self.K is None else self.K @ V @ self.K.T

    @property
    def X(self) -> list[np.ndarray]:
        return [g.X for g in self.groups]

    @property
    def deltas(self) -> list[np.ndarray]:
        return [g.delta for g in self.groups]

    @property
    def chisq(self) -> float:
        return float(self.test.loc["standard", "stat"])

    def scores(self) -> np.ndarray:
        """Casewise scores at the implied moments, groups stacked (sample mean without a mean structure)."""
        return np.vstack([sr.casewise_scores(g.X, g.mu if self.meanstructure else None, g.sigma, g.delta)
                          for g in self.groups])

    def h1_parts(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Unstructured h1 information A1 and first-order B1 per group (sample or EM moments)."""
        A1, B1 = [], []
        for g in self.groups:
            mean = g.h1_mean if self.meanstructure else g.X.mean(axis=0)
            A1.append(sr.observed_information(g.X, mean, g.h1_cov, self.meanstructure))
            B1.append(sr.first_order_information(sr.h1_scores(g.X, mean, g.h1_cov, self.meanstructure)))
        return A1, B1


@cache
def load(name: str) -> Fit:
    return Fit(name)


# -- algebra and textbook numbers ---------------------------------------------------------------------------


def _loglik(X: np.ndarray, mu: np.ndarray, sigma: np.ndarray) -> float:
    """Normal log-likelihood of the observed part of each row (FIML)."""
    total = 0.0
    for y in X:
        o = ~np.isnan(y)
        S = sigma[np.ix_(o, o)]
        d = y[o] - mu[o]
        total -= 0.5 * (o.sum() * math.log(2 * math.pi) + np.linalg.slogdet(S)[1] + d @ np.linalg.solve(S, d))
    return total


def _theta(mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    return np.concatenate([mu, sr.vech(sigma)])


def _moments(theta: np.ndarray, p: int) -> tuple[np.ndarray, np.ndarray]:
    sigma = np.zeros((p, p))
    rows, cols = np.triu_indices(p)[1], np.triu_indices(p)[0]
    sigma[rows, cols] = theta[p:]
    sigma[cols, rows] = theta[p:]
    return theta[:p], sigma


@pytest.fixture
def incomplete() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    X = rng.standard_normal((40, 3)) @ np.array([[1.0, 0.4, 0.2], [0.0, 1.0, 0.5], [0.0, 0.0, 1.0]])
    X[rng.random(X.shape) < 0.2] = np.nan
    X = X[~np.isnan(X).all(axis=1)]
    mu = np.array([0.1, -0.2, 0.3])
    sigma = np.array([[1.2, 0.3, 0.1], [0.3, 1.5, 0.4], [0.1, 0.4, 1.1]])
    return X, mu, sigma


def test_vech_is_lavaans_column_wise_lower_triangle():
    g = load("hs_school_mlr").groups[0]
    rows, cols = sr._vech_index(len(g.names))
    names = [f"{g.names[c]}~~{g.names[r]}" for r, c in zip(rows, cols)]
    assert g.delta_rows == [f"{v}~1" for v in g.names] + names


def test_h1_scores_are_the_gradient_of_the_fiml_loglikelihood(incomplete):
    X, mu, sigma = incomplete
    theta, p, h = _theta(mu, sigma), 3, 1e-6
    numeric = np.empty(theta.size)
    for k in range(theta.size):
        up, down = theta.copy(), theta.copy()
        up[k] += h
        down[k] -= h
        numeric[k] = (_loglik(X, *_moments(up, p)) - _loglik(X, *_moments(down, p))) / (2 * h)
    np.testing.assert_allclose(sr.h1_scores(X, mu, sigma).sum(axis=0), numeric, rtol=1e-6, atol=1e-7)


def test_observed_information_is_minus_the_hessian_over_n(incomplete):
    X, mu, sigma = incomplete
    theta, p, h = _theta(mu, sigma), 3, 1e-5

    def grad(t: np.ndarray) -> np.ndarray:
        return sr.h1_scores(X, *_moments(t, p)).sum(axis=0)

    hessian = np.empty((theta.size, theta.size))
    for k in range(theta.size):
        up, down = theta.copy(), theta.copy()
        up[k] += h
        down[k] -= h
        hessian[:, k] = (grad(up) - grad(down)) / (2 * h)
    assert close_matrix(sr.observed_information(X, mu, sigma), -hessian / len(X), rtol=1e-7)


def test_satorra_bentler_scaling_is_one_when_gamma_is_normal_theory():
    """With Gamma_g = W_g^-1 (normal kurtosis) tr(U Gamma) = sum of moments - parameters = df, so c = 1."""
    rng = np.random.default_rng(5)
    p = 3
    sigmas = [np.cov(rng.standard_normal((50, p)), rowvar=False) for _ in range(2)]
    deltas = [rng.standard_normal((p + 6, 4)) for _ in range(2)]
    weights = [sr.normal_information(s, meanstructure=True) for s in sigmas]
    nobs = [30, 70]
    info = sr.unit_information(deltas, weights, nobs)
    df = 2 * (p + 6) - 4
    t = sr.satorra_bentler(20.0, df, info, deltas, weights, [np.linalg.inv(w) for w in weights], nobs)
    assert t.scaling_factor == pytest.approx(1.0, rel=1e-12)
    assert t.chisq == pytest.approx(20.0, rel=1e-12)


def test_huber_white_is_the_ml_covariance_when_first_order_equals_the_information():
    rng = np.random.default_rng(7)
    scores = rng.standard_normal((200, 3))
    B = sr.first_order_information(scores)
    np.testing.assert_allclose(sr.huber_white_vcov(B, scores), np.linalg.inv(B) / 200, rtol=1e-12)


def test_yuan_bentler_trace_counts_moments_minus_parameters_under_normality():
    rng = np.random.default_rng(9)
    A1 = np.cov(rng.standard_normal((60, 5)), rowvar=False)
    scores = rng.standard_normal((60, 2))
    t = sr.yuan_bentler_mplus(12.0, 3, sr.first_order_information(scores), scores, [A1], [A1])
    assert (t.trace_ugamma, t.scaling_factor, t.scaling_factor_h1, t.scaling_factor_h0) == pytest.approx((3, 1, 1, 1))


def test_df_zero_returns_the_unscaled_statistic_as_lavaan_does():
    t = sr.satorra_bentler(0.0, 0, np.eye(1), [np.zeros((1, 1))], [np.eye(1)], [np.eye(1)], [10])
    assert t.chisq == 0.0 and t.df == 0 and math.isnan(t.scaling_factor) and math.isnan(t.pvalue)
    t = sr.yuan_bentler_mplus(1.0, 0, np.eye(1), np.ones((2, 1)), [np.eye(1)], [np.eye(1)])
    assert t.chisq == 1.0 and math.isnan(t.scaling_factor)


def test_sb2001_difference_edge_cases():
    d = sr.sb2001_difference(85.3, 24, 1.10, 153.5, 27, 1.08)
    assert d == sr.sb2001_difference(153.5, 27, 1.08, 85.3, 24, 1.10)  # order does not matter
    assert d.scaling_factor == pytest.approx((27 * 1.08 - 24 * 1.10) / 3, rel=1e-12)
    # a saturated model's scaling factor (NaN in lavaan) counts as 1, and with df 0 it drops out
    assert sr.sb2001_difference(0.0, 0, float("nan"), 10.0, 2, 1.5).scaling_factor == 1.5
    same = sr.sb2001_difference(10.0, 5, 1.2, 14.0, 5, 1.3)
    assert (same.chisq, same.df) == (4.0, 0) and math.isnan(same.scaling_factor)
    assert math.isnan(sr.sb2001_difference(10.0, 5, 3.0, 14.0, 6, 1.0).chisq)  # negative c_d


def test_independence_model_is_the_per_variable_fiml_solution(incomplete):
    X, _, _ = incomplete
    b = sr.independence_model([X], meanstructure=True)
    np.testing.assert_allclose(b.means[0], np.nanmean(X, axis=0))
    # the log-likelihood's gradient is zero there
    score = sr.casewise_scores(X, b.means[0], b.covs[0], b.deltas[0]).sum(axis=0)
    assert np.max(np.abs(score)) < 1e-10


def test_bad_input_names_the_problem():
    with pytest.raises(ValueError, match="Delta has 4 rows"):
        sr.casewise_scores(np.ones((3, 2)), None, np.eye(2), np.ones((4, 1)))
    with pytest.raises(ValueError, match=r"rows \[1\] have no observed value"):
        sr.h1_scores(np.array([[1.0, 2.0], [np.nan, np.nan]]), np.zeros(2), np.eye(2))
    with pytest.raises(ValueError, match="complete data"):
        sr.gamma_adf(np.array([[1.0, np.nan], [2.0, 3.0]]))
    with pytest.raises(ValueError, match="test must be"):
        sr.baseline_scaled_test([np.eye(3)], 1.0, 1, "scaled.shifted")


# -- lavaan parity: MLM -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", MLM)
def test_gamma_adf_matches_lavaans_nacov(name):
    fit = load(name)
    for g in fit.groups:
        assert close_matrix(sr.gamma_adf(g.X, fit.meanstructure), g.gamma)


@pytest.mark.parametrize("name", MLM)
def test_expected_information_matches_lavaan(name):
    fit = load(name)
    weights = [sr.normal_information(g.sigma, fit.meanstructure) for g in fit.groups]
    assert close_matrix(sr.unit_information(fit.deltas, weights, fit.nobs), fit.information)


@pytest.mark.parametrize("name", MLM)
def test_robust_sem_vcov_matches_lavaan(name):
    fit = load(name)
    weights = [sr.normal_information(g.sigma, fit.meanstructure) for g in fit.groups]
    gammas = [sr.gamma_adf(g.X, fit.meanstructure) for g in fit.groups]
    V = sr.robust_sem_vcov(fit.information, fit.deltas, weights, gammas, fit.nobs)
    assert close_matrix(fit.lift(V), fit.vcov)


@pytest.mark.parametrize("name", MLM)
def test_satorra_bentler_matches_lavaan(name):
    fit = load(name)
    weights = [sr.normal_information(g.sigma, fit.meanstructure) for g in fit.groups]
    gammas = [sr.gamma_adf(g.X, fit.meanstructure) for g in fit.groups]
    t = sr.satorra_bentler(fit.chisq, fit.df, fit.information, fit.deltas, weights, gammas, fit.nobs)
    lav = fit.test.loc["satorra.bentler"]
    assert close(t.chisq, lav["stat"]) and close(t.chisq, fit["chisq.scaled"])
    assert close(t.scaling_factor, lav["scaling_factor"]) and close(t.scaling_factor, fit["chisq.scaling.factor"])
    assert close(t.trace_ugamma, lav["trace_UGamma"])
    assert t.df == lav["df"] == fit["df.scaled"]
    assert close_pvalue(t.pvalue, lav["pvalue"])


# -- lavaan parity: MLR (complete data and FIML) -------------------------------------------------------------


@pytest.mark.parametrize("name", [m for m in MLR if load(m).lavscores is not None])
def test_casewise_scores_match_lavscores(name):
    fit = load(name)
    order = np.concatenate([g.rows for g in fit.groups])  # lavScores rows are in data order
    assert close_matrix(fit.scores(), fit.lavscores[order])


@pytest.mark.parametrize("name", MLR)
def test_scores_sum_to_zero_at_lavaans_estimate(name):
    """The gradient of the (multi-group, FIML) log-likelihood vanishes at the ML estimate, up to nlminb's tolerance."""
    fit = load(name)
    scores = fit.scores()
    assert np.max(np.abs(scores.sum(axis=0))) < 1e-3 * np.sqrt(fit.n) * np.max(np.abs(scores))


@pytest.mark.parametrize("name", MLR)
def test_huber_white_vcov_matches_lavaan(name):
    fit = load(name)
    assert close_matrix(fit.lift(sr.huber_white_vcov(fit.information, fit.scores())), fit.vcov)


@pytest.mark.parametrize("name", MLR)
def test_yuan_bentler_mplus_matches_lavaan(name):
    fit = load(name)
    A1, B1 = fit.h1_parts()
    t = sr.yuan_bentler_mplus(fit.chisq, fit.df, fit.information, fit.scores(), A1, B1, npar=fit.npar_lavaan)
    lav = fit.test.loc["yuan.bentler.mplus"]
    assert close(t.chisq, lav["stat"]) and close(t.chisq, fit["chisq.scaled"])
    assert close(t.scaling_factor, lav["scaling_factor"]) and close(t.scaling_factor, fit["chisq.scaling.factor"])
    assert close(t.trace_ugamma, lav["trace_UGamma"])
    assert close(t.scaling_factor_h1, fit["scaling.factor.h1"]) and close(t.scaling_factor_h0, fit["scaling.factor.h0"])
    assert t.df == lav["df"]
    assert close_pvalue(t.pvalue, lav["pvalue"])


# -- lavaan parity: baseline, fit indices, difference test ---------------------------------------------------


@pytest.mark.parametrize("name", list(MODELS.index))
def test_baseline_scaled_test_matches_lavaan(name):
    fit = load(name)
    test = "satorra.bentler" if name in MLM else "yuan.bentler.mplus"
    h1 = {"h1_means": [g.h1_mean for g in fit.groups], "h1_covs": [g.h1_cov for g in fit.groups]}
    b = sr.baseline_scaled_test(fit.X, fit["baseline.chisq"], int(fit["baseline.df"]), test, fit.meanstructure,
                                **(h1 if name in FIML else {}))
    assert close(b.scaling_factor, fit["baseline.chisq.scaling.factor"])
    assert close(b.chisq, fit["baseline.chisq.scaled"])
    assert close_pvalue(b.pvalue, fit["baseline.pvalue.scaled"])


def _check_indices(ours: dict[str, float], fit: Fit) -> None:
    assert ours  # not vacuous
    for key, value in ours.items():
        lavaan = fit[key.replace("_", ".")]
        if "pvalue" in key:
            assert close_pvalue(value, lavaan), key
        else:
            assert close(value, lavaan), key


@pytest.mark.parametrize("name", list(MODELS.index))
def test_scaled_fit_indices_match_lavaan(name):
    fit = load(name)
    args = (fit["chisq"], fit.df, fit["chisq.scaling.factor"], fit["baseline.chisq"], int(fit["baseline.df"]),
            fit["baseline.chisq.scaling.factor"], fit.n, len(fit.groups))
    _check_indices(sr.scaled_fit_indices(*args), fit)


@pytest.mark.parametrize("name", COMPLETE)
def test_robust_fit_indices_match_lavaan(name):
    fit = load(name)
    args = (fit["chisq"], fit.df, fit["chisq.scaling.factor"], fit["baseline.chisq"], int(fit["baseline.df"]),
            fit["baseline.chisq.scaling.factor"], fit.n, len(fit.groups))
    _check_indices(sr.robust_fit_indices(*args), fit)


@pytest.mark.parametrize("name", FIML)
def test_fiml_corrected_robust_fit_indices_match_lavaan(name):
    """Under FIML the robust indices come from the statistics of the implied moments against the EM ones."""
    fit = load(name)
    h1_means, h1_covs = [g.h1_mean for g in fit.groups], [g.h1_cov for g in fit.groups]
    model = sr.fiml_corrected(fit.X, [g.mu for g in fit.groups], [g.sigma for g in fit.groups], fit.deltas,
                              h1_means, h1_covs, fit.df)
    base = sr.independence_model(fit.X, meanstructure=True)
    null = sr.fiml_corrected(fit.X, base.means, base.covs, base.deltas, h1_means, h1_covs, int(fit["baseline.df"]))
    ours = sr.robust_fit_indices(model.chisq, model.df, model.scaling_factor, null.chisq, null.df,
                                 null.scaling_factor, fit.n, len(fit.groups))
    _check_indices(ours, fit)
    # the uncorrected inputs would not do: the FIML correction matters
    naive = sr.robust_fit_indices(fit["chisq"], fit.df, fit["chisq.scaling.factor"], fit["baseline.chisq"],
                                  int(fit["baseline.df"]), fit["baseline.chisq.scaling.factor"], fit.n)
    assert not close(naive["rmsea_robust"], fit["rmsea.robust"], rtol=1e-3)


@pytest.mark.parametrize("name", list(MODELS.index))
def test_fit_indices_with_pcstats_baseline_scaling_match_lavaan(name):
    """End to end: the baseline's scaling factor from baseline_scaled_test, everything else lavaan's."""
    fit = load(name)
    test = "satorra.bentler" if name in MLM else "yuan.bentler.mplus"
    h1 = {"h1_means": [g.h1_mean for g in fit.groups], "h1_covs": [g.h1_cov for g in fit.groups]}
    b = sr.baseline_scaled_test(fit.X, fit["baseline.chisq"], int(fit["baseline.df"]), test, fit.meanstructure,
                                **(h1 if name in FIML else {}))
    ours = sr.scaled_fit_indices(fit["chisq"], fit.df, fit["chisq.scaling.factor"], fit["baseline.chisq"],
                                 int(fit["baseline.df"]), b.scaling_factor, fit.n, len(fit.groups))
    _check_indices({k: v for k, v in ours.items() if k in ("cfi_scaled", "tli_scaled")}, fit)


def test_sb2001_difference_matches_lavtestlrt():
    lrt = pd.read_csv(LAVAAN / "lrt.csv")
    assert len(lrt) == 3
    for row in lrt.itertuples():
        tests = [load(m).test for m in (row.model1, row.model0)]
        scaled = [t.index[1] for t in tests]
        args = [(t.loc["standard", "stat"], int(t.loc["standard", "df"]), t.loc[s, "scaling_factor"])
                for t, s in zip(tests, scaled)]
        d = sr.sb2001_difference(*args[0], *args[1])
        assert close(d.chisq, row.chisq_diff) and d.df == row.df_diff
        assert close(d.pvalue, row.pvalue)


@pytest.mark.needs_r
@pytest.mark.skipif(shutil.which("Rscript") is None, reason="Rscript not installed (the README test command installs it)")
def test_stored_outputs_are_reproduced_by_lavaan_robust_R(tmp_path):
    subprocess.run(["Rscript", "tests/reference/lavaan_robust.R", str(tmp_path)], check=True, capture_output=True)
    versions = pd.read_csv(tmp_path / "versions.csv").set_index("package")["version"]
    if versions["lavaan"] != pd.read_csv(LAVAAN / "versions.csv").set_index("package")["version"]["lavaan"]:
        pytest.skip(f"stored outputs are from another lavaan version than {versions['lavaan']}")
    names = ["models.csv", "lrt.csv", "hs_missing_data.csv"] + [
        f"{m}_{what}.csv" for m in MODELS.index for what in ("test", "fit", "vcov", "information", "g1_delta")]
    for name in names:
        pd.testing.assert_frame_equal(pd.read_csv(tmp_path / name), pd.read_csv(LAVAAN / name), rtol=1e-8,
                                      obj=name)
