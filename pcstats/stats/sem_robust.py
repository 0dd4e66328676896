"""Robust ML statistics of a fitted SEM with lavaan's definitions (lavaan 0.6-14, estimators MLM and MLR).

Small pure functions of what an ML engine has at its estimate, per group ``g`` (``N = sum n_g``,
``f_g = n_g / N``):

* ``X_g``: the data rows (``n_g x p``; NaN for a missing value under FIML; rows with no value at all are
  dropped before, as lavaan does);
* ``mu_g``, ``Sigma_g``: the model-implied mean and covariance at the estimate;
* ``Delta_g``: the Jacobian of the model moments with respect to the free, *unique* parameters (equality
  constraints applied: a parameter shared by labels or ``group.equal`` is one column). Its rows are the
  means (only with a mean structure) followed by ``vech(Sigma_g)``, lavaan's ``lav_matrix_vech``: the lower
  triangle stacked column by column. ``p (p + 1) / 2`` rows mean no mean structure, ``p + p (p + 1) / 2``
  rows a mean structure; every function reads the layout from ``Delta``;
* ``information``: the unit information matrix of all groups together, ``sum_g f_g I_g`` (lavaan's
  ``lavInspect(fit, "information")``), expected or observed as below;
* the ML chi-square, its df, and the baseline model's chi-square and df.

Which lavaan options each function reproduces
---------------------------------------------
lavaan 0.6-14 sets these defaults (``lav_options.R``); the functions reproduce exactly these settings.

``estimator = "MLM"`` (complete data only): ``se = "robust.sem"``, ``test = "satorra.bentler"``,
``information = "expected"`` for both the SEs and the test, ``h1.information = "structured"``, no mean
structure unless there are groups or ``meanstructure = TRUE``.

* :func:`robust_sem_vcov`: ``E^-1 (sum_g f_g Delta_g' W_g Gamma_g W_g Delta_g) E^-1 / N`` with ``E`` the
  *expected* information ``sum_g f_g Delta_g' W_g Delta_g`` (:func:`unit_information`), ``W_g`` the
  normal-theory weight at the *implied* moments, ``normal_information(Sigma_g)`` (``h1.information =
  "structured"``) and ``Gamma_g`` the ADF matrix :func:`gamma_adf` (divide by ``n_g``: lavaan's
  ``gamma.n.minus.one = FALSE``, ``gamma.unbiased = FALSE``). lavaan's ``lav_model_nvcov_robust_sem``.
* :func:`satorra_bentler`: the scaling factor ``c = tr(U Gamma) / df`` from the same ``E``, ``W_g`` and
  ``Gamma_g`` (``method = "original"``, the default since 0.6-13). lavaan's ``lav_test_satorra_bentler``.

``estimator = "MLR"``: ``se = "robust.huber.white"``, ``test = "yuan.bentler.mplus"``,
``information = "observed"`` for both the SEs and the test, ``observed.information = "hessian"`` for both
(the test's ``"default"`` becomes ``"hessian"`` when ``yuan.bentler.mplus`` is the only robust test;
with several tests lavaan switches the test to ``"h1"``, not reproduced here),
``h1.information = "structured"``, ``information.meat = "first.order"``, ``h1.information.meat =
"structured"``. This holds with complete data (no mean structure unless groups) and with
``missing = "ml"`` (FIML; always a mean structure). So the ``information`` both functions need is the
Hessian of lavaan's objective (``sum_g f_g F_g`` with ``F_g`` the unit negative log-likelihood, or half the
ML discrepancy), not the expected information. lavaan differentiates its analytic gradient numerically
(``lav_model_hessian``, Richardson steps of 1e-6); an engine may use the analytic Hessian.

* :func:`huber_white_vcov`: ``A^-1 B A^-1 / N`` with ``A`` that Hessian and ``B = sum_i s_i s_i' / N``
  from the casewise scores :func:`casewise_scores` at the *implied* moments (``h1.information.meat =
  "structured"``; without a mean structure lavaan centres at the sample mean). lavaan's
  ``lav_model_nvcov_robust_sandwich``.
* :func:`yuan_bentler_mplus`: ``c = (sum_g tr(B1_g A1_g^-1) - tr(B0 A^-1)) / df``. The h1 part always uses
  ``h1.information = "unstructured"``: ``A1_g`` the *observed* h1 information at the saturated moments
  (sample mean and covariance; the EM estimates under FIML) and ``B1_g`` the first-order h1 information
  there. ``B0`` is the same first-order information as in the SEs (structured) and ``A`` the same Hessian.
  lavaan's ``lav_test_yuan_bentler`` and ``lav_test_yuan_bentler_mplus_trace``.

Fit indices (``fitMeasures``): :func:`scaled_fit_indices` gives ``cfi.scaled``, ``tli.scaled``,
``rmsea.scaled`` and its CI and p-values; :func:`robust_fit_indices` gives ``cfi.robust``, ``tli.robust``,
``rmsea.robust`` and its CI and p-values (``lav_fit_cfi_lavobject``, ``lav_fit_rmsea_lavobject``). Both
need the baseline model's own scaled test: :func:`baseline_scaled_test` fits lavaan's independence model
(free variances, and free means with a mean structure; ``lav_object_independence``) in closed form and
scales it like the model. Under FIML, lavaan's *robust* indices are the FIML-corrected ones of Zhang and
Savalei (2022, Psychological Methods; ``lav_fit_fiml_corrected``, version ``"V3"``): :func:`fiml_corrected` gives their ingredients for
the model and the baseline. :func:`sb2001_difference` is ``lavTestLRT``'s default scaled difference test
for MLM and MLR (``method = "satorra.bentler.2001"``).

Not reproduced: observed exogenous covariates under ``fixed.x = TRUE`` (lavaan zeroes their rows in
``Gamma``, the scores and the h1 information), ``conditional.x``, sampling weights, clusters, multilevel
models, ``mimic = "Mplus"`` or ``"EQS"``, ``test = "yuan.bentler"``, ``"mean.var.adjusted"`` or
``"scaled.shifted"``, and inequality or nonlinear constraints.

``tests/reference/lavaan_robust.R`` stores lavaan's inputs and outputs; ``tests/stats/test_sem_robust.py``
compares.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from . import sem_fit

__all__ = [
    "CorrectedTest", "DifferenceTest", "Independence", "ScaledTest", "baseline_scaled_test",
    "casewise_scores", "fiml_corrected", "first_order_information", "gamma_adf", "h1_scores",
    "huber_white_vcov", "independence_model", "normal_information", "observed_information",
    "robust_fit_indices", "robust_sem_vcov", "satorra_bentler", "sb2001_difference", "scaled_fit_indices",
    "unit_information", "vech", "yuan_bentler_mplus",
]


class ScaledTest(NamedTuple):
    """A scaled test statistic as lavaan stores it in ``lavTech(fit, "test")``.

    ``chisq`` is the scaled statistic (the unscaled one divided by ``scaling_factor``), ``trace_ugamma``
    lavaan's ``trace.UGamma`` (``scaling_factor * df``). ``scaling_factor_h1`` and ``_h0`` are the two parts
    of the Yuan-Bentler trace (NaN for Satorra-Bentler).
    """

    chisq: float
    df: int
    pvalue: float
    scaling_factor: float
    trace_ugamma: float
    scaling_factor_h1: float = float("nan")
    scaling_factor_h0: float = float("nan")


class CorrectedTest(NamedTuple):
    """lavaan's FIML-corrected statistic ``XX3``, its df and scaling factor ``c.hat3`` (version V3)."""

    chisq: float
    df: int
    scaling_factor: float


class DifferenceTest(NamedTuple):
    """A scaled chi-square difference test: statistic, df, p-value and the difference scaling factor."""

    chisq: float
    df: int
    pvalue: float
    scaling_factor: float


class Independence(NamedTuple):
    """lavaan's independence (baseline) model fitted to each group: means, covariances, Jacobians."""

    means: list[np.ndarray]
    covs: list[np.ndarray]
    deltas: list[np.ndarray]


# -- moments and layout ------------------------------------------------------------------------------------


def _vech_index(p: int) -> tuple[np.ndarray, np.ndarray]:
    # lavaan's lav_matrix_vech: lower triangle, column by column
    cols, rows = np.triu_indices(p)
    return rows, cols


def vech(A: ArrayLike) -> np.ndarray:
    """The lower triangle of a square matrix stacked column by column: lavaan's ``lav_matrix_vech``.

    Examples
    --------
    >>> vech([[1, 2, 3], [2, 4, 5], [3, 5, 6]])
    array([1, 2, 3, 4, 5, 6])
    """
    A = np.asarray(A)
    rows, cols = _vech_index(A.shape[0])
    return A[rows, cols]


def _duplication(p: int) -> np.ndarray:
    """The duplication matrix ``D`` (``vec(A) = D vech(A)`` for symmetric ``A``; ``vec`` column-major)."""
    rows, cols = _vech_index(p)
    D = np.zeros((p * p, rows.size))
    k = np.arange(rows.size)
    D[cols * p + rows, k] = 1.0
    D[rows * p + cols, k] = 1.0
    return D


def _pstar(p: int) -> int:
    return p * (p + 1) // 2


def _has_means(n_rows: int, p: int) -> bool:
    """Whether a moment vector of ``n_rows`` elements for ``p`` variables includes the means."""
    if n_rows == _pstar(p):
        return False
    if n_rows == p + _pstar(p):
        return True
    raise ValueError(f"Delta has {n_rows} rows; for {p} variables it must have {_pstar(p)} (vech(Sigma)) or "
                     f"{p + _pstar(p)} (means, then vech(Sigma)) rows.")


def _data(X: ArrayLike) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-d array of rows x variables; got shape {X.shape}.")
    empty = np.isnan(X).all(axis=1)
    if empty.any():
        raise ValueError(f"X rows {np.flatnonzero(empty)[:5].tolist()} have no observed value; drop them "
                         "first (lavaan removes empty cases).")
    return X


def _patterns(X: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """(observed-variable mask, row indices) of each missing-data pattern."""
    observed = ~np.isnan(X)
    keys, inverse = np.unique(observed, axis=0, return_inverse=True)
    return [(keys[k], np.flatnonzero(inverse.ravel() == k)) for k in range(keys.shape[0])]


def _ml_cov(X: np.ndarray) -> np.ndarray:
    Xc = X - X.mean(axis=0)
    return Xc.T @ Xc / X.shape[0]


# -- h1 (saturated model) quantities -----------------------------------------------------------------------


def normal_information(sigma: ArrayLike, meanstructure: bool = False) -> np.ndarray:
    """Unit expected information of the normal model in ``(mu, vech(Sigma))`` at ``sigma``.

    ``0.5 D' (Sigma^-1 (x) Sigma^-1) D``, preceded by the block ``Sigma^-1`` for the means with a mean
    structure. At the implied ``Sigma_g`` it is the ML weight ``W_g`` (lavaan's ``WLS.V``, ``h1.information =
    "structured"``); at the sample covariance it is lavaan's unstructured h1 information of complete data.

    Follows lavaan's ``lav_mvnorm_information_expected`` (lav_mvnorm.R).

    Examples
    --------
    >>> normal_information([[2.0]], meanstructure=True)      # 1 / sigma, 1 / (2 sigma^2)
    array([[0.5  , 0.   ],
           [0.   , 0.125]])
    """
    sigma = np.asarray(sigma, dtype=float)
    p = sigma.shape[0]
    Si = np.linalg.inv(sigma)
    D = _duplication(p)
    I22 = 0.5 * D.T @ np.kron(Si, Si) @ D
    if not meanstructure:
        return I22
    out = np.zeros((p + I22.shape[0],) * 2)
    out[:p, :p] = Si
    out[p:, p:] = I22
    return out


def observed_information(X: ArrayLike, mu: ArrayLike | None, sigma: ArrayLike,
                         meanstructure: bool = True) -> np.ndarray:
    """Unit observed information (minus the Hessian of the log-likelihood over N) in ``(mu, vech(Sigma))``.

    For each missing-data pattern with observed part ``o``, frequency ``n_p``, pattern mean ``m`` and
    covariance ``S_p`` (divide by ``n_p``), and ``P = Sigma_oo^-1`` (zero-padded to ``p x p``):
    ``I_mu,mu = P``, ``I_sigma,mu = D'(P (m - mu_o) (x) P)``,
    ``I_sigma,sigma = 0.5 D'(P (x) P (2 W - Sigma_oo) P) D`` with ``W = S_p + (m - mu_o)(m - mu_o)'``,
    weighted by ``n_p / N``. Complete data are one pattern. ``mu = None`` takes the sample mean (complete
    data without a mean structure, as lavaan does).

    * at the saturated moments (sample or EM) it is the unstructured h1 information ``A1`` of the
      Yuan-Bentler test (:func:`yuan_bentler_mplus`) and ``Wm`` of :func:`fiml_corrected`;
    * at the implied moments of a model whose moments are linear in its parameters (the independence
      model) ``Delta' I Delta`` is the Hessian lavaan's MLR uses.

    Follows lavaan's ``lav_mvnorm_missing_information_observed_samplestats`` and
    ``lav_mvnorm_information_observed_samplestats`` (lav_mvnorm_missing.R, lav_mvnorm.R).

    Examples
    --------
    At the sample moments of complete data it equals the expected information:

    >>> X = np.array([[1.0, 2.0], [2.0, 1.0], [3.0, 5.0], [0.0, 1.0]])
    >>> S = np.cov(X.T, bias=True)
    >>> np.allclose(observed_information(X, X.mean(0), S), normal_information(S, meanstructure=True))
    True
    """
    X = _data(X)
    n, p = X.shape
    sigma = np.asarray(sigma, dtype=float)
    if mu is None:
        if np.isnan(X).any():
            raise ValueError("mu is required with missing values (FIML always has a mean structure).")
        mu = X.mean(axis=0)
    mu = np.asarray(mu, dtype=float)
    if not meanstructure and np.isnan(X).any():
        raise ValueError("with missing values the information has a mean structure; set meanstructure=True.")
    D = _duplication(p)
    I11 = np.zeros((p, p))
    I21 = np.zeros((D.shape[1], p))
    I22 = np.zeros((D.shape[1], D.shape[1]))
    for obs, rows in _patterns(X):
        Y = X[np.ix_(rows, obs)]
        m = Y.mean(axis=0)
        Sp = _ml_cov(Y)
        d = m - mu[obs]
        P = np.linalg.inv(sigma[np.ix_(obs, obs)])
        Pinv = np.zeros((p, p))
        Pinv[np.ix_(obs, obs)] = P
        t21 = np.zeros(p)
        t21[obs] = P @ d
        A = np.zeros((p, p))
        A[np.ix_(obs, obs)] = P @ (2 * (Sp + np.outer(d, d)) - sigma[np.ix_(obs, obs)]) @ P
        I11 += rows.size * Pinv
        I21 += rows.size * D.T @ np.kron(t21[:, None], Pinv)
        I22 += rows.size * 0.5 * D.T @ np.kron(Pinv, A) @ D
    if not meanstructure:
        return I22 / n
    return np.block([[I11, I21.T], [I21, I22]]) / n


def h1_scores(X: ArrayLike, mu: ArrayLike, sigma: ArrayLike, meanstructure: bool = True) -> np.ndarray:
    """Casewise scores of the normal log-likelihood in ``(mu, vech(Sigma))``, one row per case.

    For the observed part ``o`` of a row, ``z = Sigma_oo^-1 (y_o - mu_o)``: the mean scores are ``z`` and the
    covariance scores ``vech(z z' - Sigma_oo^-1)`` with the diagonal halved (the derivative with respect to
    the unique elements); scores of unobserved elements are 0. Without a mean structure only the
    covariance scores are returned (lavaan then centres at the sample mean: pass it as ``mu``).

    Follows lavaan's ``lav_mvnorm_missing_scores_mu_vech_sigma``, ``lav_mvnorm_scores_mu_vech_sigma`` and
    ``lav_mvnorm_scores_vech_sigma`` (lav_mvnorm_missing.R, lav_mvnorm.R).

    Examples
    --------
    >>> h1_scores([[3.0]], mu=[1.0], sigma=[[2.0]])          # z = 1; (1 - 1/2) / 2
    array([[1.  , 0.25]])
    """
    X = _data(X)
    n, p = X.shape
    mu = np.asarray(mu, dtype=float)
    sigma = np.asarray(sigma, dtype=float)
    if not meanstructure and np.isnan(X).any():
        raise ValueError("with missing values the scores have a mean structure; set meanstructure=True.")
    rows_v, cols_v = _vech_index(p)
    dmu = np.zeros((n, p))
    dsigma = np.zeros((n, rows_v.size))
    for obs, rows in _patterns(X):
        P = np.linalg.inv(sigma[np.ix_(obs, obs)])
        Pinv = np.zeros((p, p))
        Pinv[np.ix_(obs, obs)] = P
        z = np.zeros((rows.size, p))
        z[:, obs] = (X[np.ix_(rows, obs)] - mu[obs]) @ P
        dmu[rows] = z
        dsigma[rows] = z[:, rows_v] * z[:, cols_v] - Pinv[rows_v, cols_v]
    dsigma[:, rows_v == cols_v] /= 2
    return np.hstack([dmu, dsigma]) if meanstructure else dsigma


def casewise_scores(X: ArrayLike, mu: ArrayLike | None, sigma: ArrayLike, delta: ArrayLike) -> np.ndarray:
    """Casewise scores of the model parameters, ``h1_scores(X, mu, sigma) @ Delta`` (``n x q``).

    ``mu``/``sigma`` are the implied moments (lavaan's ``h1.information.meat = "structured"``); without a
    mean structure (``Delta`` has ``p (p + 1) / 2`` rows) ``mu = None`` centres at the sample mean, as lavaan
    does. Stack the groups' rows for :func:`huber_white_vcov` and :func:`yuan_bentler_mplus`.

    Follows lavaan's ``lav_model_information_firstorder`` (``B0 = Delta' B1 Delta``) and ``lavScores``.

    Examples
    --------
    One variable, one free variance: the score is ``((y - mu)^2 / sigma - 1) / (2 sigma)``.

    >>> casewise_scores([[3.0], [1.0]], mu=None, sigma=[[2.0]], delta=[[1.0]])    # (1 / 2 - 1) / 4
    array([[-0.125],
           [-0.125]])
    """
    X = _data(X)
    delta = np.asarray(delta, dtype=float)
    meanstructure = _has_means(delta.shape[0], X.shape[1])
    if mu is None:
        if np.isnan(X).any():
            raise ValueError("mu is required with missing values.")
        mu = X.mean(axis=0)
    return h1_scores(X, mu, sigma, meanstructure) @ delta


def first_order_information(scores: ArrayLike) -> np.ndarray:
    """Unit first-order information (outer product of the casewise scores): ``S' S / n``.

    Per group on :func:`h1_scores` it is lavaan's h1 ``B1``; on the stacked :func:`casewise_scores` of all
    groups it is lavaan's total ``B0 = sum_g f_g Delta_g' B1_g Delta_g``.

    Follows lavaan's ``lav_mvnorm_information_firstorder`` and ``lav_model_information_firstorder``.

    Examples
    --------
    >>> first_order_information([[1.0, 0.0], [-1.0, 2.0]])
    array([[ 1., -1.],
           [-1.,  2.]])
    """
    S = np.asarray(scores, dtype=float)
    return S.T @ S / S.shape[0]


def gamma_adf(X: ArrayLike, meanstructure: bool = False) -> np.ndarray:
    """The ADF matrix ``Gamma``: N times the asymptotic covariance of ``(ybar, vech(S))``, complete data.

    Rows ``z_i = (y_i, vech((y_i - ybar)(y_i - ybar)'))`` (means only with a mean structure), centred at
    their average; ``Gamma = sum_i z_i z_i' / N``. lavaan's ``NACOV`` for MLM with its defaults
    (``gamma.n.minus.one = FALSE``, ``gamma.unbiased = FALSE``).

    Follows lavaan's ``lav_samplestats_Gamma`` (lav_samplestats_gamma.R).

    Examples
    --------
    >>> gamma_adf([[0.0], [2.0]])                  # (y - ybar)^2 = 1, 1: no variation
    array([[0.]])
    >>> gamma_adf([[0.0], [2.0]], meanstructure=True)
    array([[1., 0.],
           [0., 0.]])
    """
    X = np.asarray(X, dtype=float)
    if np.isnan(X).any():
        raise ValueError("gamma_adf needs complete data; MLM has no missing = 'ml'.")
    rows, cols = _vech_index(X.shape[1])
    Xc = X - X.mean(axis=0)
    Z = Xc[:, rows] * Xc[:, cols]
    if meanstructure:
        Z = np.hstack([X, Z])
    Zc = Z - Z.mean(axis=0)
    return Zc.T @ Zc / X.shape[0]


def unit_information(deltas: Sequence[ArrayLike], h1_informations: Sequence[ArrayLike],
                     nobs: Sequence[int]) -> np.ndarray:
    """Unit information of the model parameters, ``sum_g f_g Delta_g' A_g Delta_g`` with ``f_g = n_g / N``.

    With ``A_g = normal_information(Sigma_g)`` it is lavaan's expected information (MLM). With
    ``A_g = observed_information(X_g, mu_g, Sigma_g)`` it is the Hessian MLR uses *only* when the moments
    are linear in the parameters (the independence model); otherwise the Hessian has a second-order term.

    Follows lavaan's ``lav_model_information_expected`` and ``lav_model_information_observed``
    (``observed.information = "h1"``).

    Examples
    --------
    >>> unit_information([[[1.0]], [[1.0]]], [[[2.0]], [[4.0]]], nobs=[10, 30])
    array([[3.5]])
    """
    N = float(sum(nobs))
    total = None
    for delta, A, n in zip(deltas, h1_informations, nobs, strict=True):
        delta = np.asarray(delta, dtype=float)
        term = n / N * delta.T @ np.asarray(A, dtype=float) @ delta
        total = term if total is None else total + term
    return total


# -- standard errors ---------------------------------------------------------------------------------------


def huber_white_vcov(information: ArrayLike, scores: ArrayLike) -> np.ndarray:
    """MLR's sandwich covariance of the parameters, ``A^-1 B A^-1 / N`` (lavaan's ``se = "robust.huber.white"``).

    ``information`` is ``A``, the unit observed information (the Hessian of lavaan's objective, see the
    module notes); ``scores`` the :func:`casewise_scores` of all groups stacked (``N x q``), giving
    ``B = S' S / N``.

    Follows lavaan's ``lav_model_nvcov_robust_sandwich`` and ``lav_model_vcov`` (lav_model_vcov.R).

    Examples
    --------
    >>> huber_white_vcov([[2.0]], [[1.0], [-1.0], [3.0], [-3.0]])      # 5 / 4 / 4
    array([[0.3125]])
    """
    A_inv = np.linalg.inv(np.asarray(information, dtype=float))
    S = np.asarray(scores, dtype=float)
    return A_inv @ first_order_information(S) @ A_inv / S.shape[0]


def robust_sem_vcov(information: ArrayLike, deltas: Sequence[ArrayLike], weights: Sequence[ArrayLike],
                    gammas: Sequence[ArrayLike], nobs: Sequence[int]) -> np.ndarray:
    """MLM's robust covariance of the parameters (lavaan's ``se = "robust.sem"``).

    ``E^-1 (sum_g f_g Delta_g' W_g Gamma_g W_g Delta_g) E^-1 / N`` with ``E`` the expected unit information
    (``information``), ``W_g = normal_information(Sigma_g)`` at the implied covariance (and mean structure as
    in ``Delta_g``) and ``Gamma_g = gamma_adf(X_g)``.

    Follows lavaan's ``lav_model_nvcov_robust_sem`` (lav_model_vcov.R).

    Examples
    --------
    One free variance ``v = 2`` (``W = 1 / (2 v^2)``) and normal kurtosis, ``Gamma = 2 v^2``: the robust
    variance is the ML one, ``2 v^2 / N``.

    >>> robust_sem_vcov([[0.125]], [[[1.0]]], [[[0.125]]], [[[8.0]]], nobs=[100])
    array([[0.08]])
    """
    N = float(sum(nobs))
    E_inv = np.linalg.inv(np.asarray(information, dtype=float))
    meat = np.zeros_like(E_inv)
    for delta, W, G, n in zip(deltas, weights, gammas, nobs, strict=True):
        WD = np.asarray(W, dtype=float) @ np.asarray(delta, dtype=float)
        meat += n / N * WD.T @ np.asarray(G, dtype=float) @ WD
    return E_inv @ meat @ E_inv / N


# -- test statistics ---------------------------------------------------------------------------------------


def _pvalue(chisq: float, df: float) -> float:
    # lavaan: 1 - pchisq(stat, df); the survival function avoids the cancellation
    return float(stats.chi2.sf(chisq, df)) if df > 0 and math.isfinite(chisq) else float("nan")


def _scaled(chisq: float, df: int, trace: float, h1: float = float("nan"),
            h0: float = float("nan")) -> ScaledTest:
    c = trace / df
    if c < 0:
        c = float("nan")
    stat = chisq / c
    return ScaledTest(float(stat), int(df), _pvalue(stat, df), float(c), float(trace), float(h1), float(h0))


def _unscaled(chisq: float, df: int) -> ScaledTest:
    # lavaan returns the standard test with scaling.factor NA when df = 0
    nan = float("nan")
    return ScaledTest(float(chisq), int(df), nan, nan, nan)


def satorra_bentler(chisq: float, df: int, information: ArrayLike, deltas: Sequence[ArrayLike],
                    weights: Sequence[ArrayLike], gammas: Sequence[ArrayLike],
                    nobs: Sequence[int]) -> ScaledTest:
    """Satorra-Bentler scaled test (MLM; lavaan's ``test = "satorra.bentler"``, ``method = "original"``).

    ``tr(U Gamma) = sum_g [tr(W_g Gamma_g) - f_g tr(W_g Delta_g E^-1 Delta_g' W_g Gamma_g)]``, the scaling
    factor ``c = tr(U Gamma) / df`` and the statistic ``chisq / c``, with ``E`` the expected information
    (``information``), ``W_g = normal_information(Sigma_g)`` and ``Gamma_g = gamma_adf(X_g)``. With
    ``df = 0`` the unscaled statistic comes back with NaN scaling, as in lavaan.

    Follows lavaan's ``lav_test_satorra_bentler`` and ``lav_test_satorra_bentler_trace_original``
    (lav_test_satorra_bentler.R).

    Examples
    --------
    With ``Delta = 0`` the trace is ``tr(W Gamma)``; one variance ``v = 2`` (``W = 1 / (2 v^2)``) whose
    ``Gamma`` is 3 times the normal-theory ``2 v^2``:

    >>> t = satorra_bentler(10.0, 1, [[1.0]], [[[0.0]]], [[[0.125]]], [[[24.0]]], nobs=[100])
    >>> t.scaling_factor, t.chisq
    (3.0, 3.3333333333333335)
    """
    if df < 1:
        return _unscaled(chisq, df)
    N = float(sum(nobs))
    E_inv = np.linalg.inv(np.asarray(information, dtype=float))
    trace = 0.0
    for delta, W, G, n in zip(deltas, weights, gammas, nobs, strict=True):
        delta, W, G = (np.asarray(a, dtype=float) for a in (delta, W, G))
        WD = W @ delta
        trace += float(np.sum(W * G) - n / N * np.sum((WD @ E_inv @ WD.T) * G))
    return _scaled(chisq, df, trace)


def yuan_bentler_mplus(chisq: float, df: int, information: ArrayLike, scores: ArrayLike,
                       h1_information: Sequence[ArrayLike], h1_first_order: Sequence[ArrayLike],
                       npar: int | None = None) -> ScaledTest:
    """Yuan-Bentler scaled test, Mplus variant (MLR; lavaan's ``test = "yuan.bentler.mplus"``).

    ``trace = sum_g tr(B1_g A1_g^-1) - tr(B0 A^-1)`` and ``c = trace / df``, where

    * ``A1_g = observed_information(X_g, m_g, S_g)`` and ``B1_g = first_order_information(h1_scores(X_g,
      m_g, S_g))`` at the saturated moments ``m_g, S_g`` (sample, or EM under FIML): lavaan's
      ``h1.information = "unstructured"``, which this test always uses;
    * ``A = information`` is the unit observed information (Hessian) of the parameters and ``B0`` the
      first-order information of ``scores``, the stacked :func:`casewise_scores` at the implied moments.

    ``scaling_factor_h1`` is the h1 trace over the number of h1 moments, ``scaling_factor_h0`` the h0 trace
    over ``npar`` (default: the size of ``information``; lavaan divides by its ``nx.free``, which counts each
    equality-constrained parameter, so pass that to reproduce it).

    Follows lavaan's ``lav_test_yuan_bentler`` and ``lav_test_yuan_bentler_mplus_trace``
    (lav_test_yuan_bentler.R).

    Examples
    --------
    >>> t = yuan_bentler_mplus(12.0, 2, [[1.0]], [[1.0], [-1.0]], [np.eye(3)], [3 * np.eye(3)])
    >>> t.trace_ugamma, t.scaling_factor, t.chisq          # (9 - 1) / 2
    (8.0, 4.0, 3.0)
    """
    if df < 1:
        return _unscaled(chisq, df)
    A_inv = np.linalg.inv(np.asarray(information, dtype=float))
    trace_h1, ndat = 0.0, 0
    for A1, B1 in zip(h1_information, h1_first_order, strict=True):
        A1, B1 = np.asarray(A1, dtype=float), np.asarray(B1, dtype=float)
        trace_h1 += float(np.sum(B1 * np.linalg.inv(A1).T))
        ndat += A1.shape[0]
    trace_h0 = float(np.sum(first_order_information(scores) * A_inv.T))
    npar = A_inv.shape[0] if npar is None else npar
    return _scaled(chisq, df, trace_h1 - trace_h0, trace_h1 / ndat, trace_h0 / npar)


# -- baseline model ----------------------------------------------------------------------------------------


def independence_model(X: Sequence[ArrayLike], meanstructure: bool = False) -> Independence:
    """lavaan's baseline (independence) model fitted to each group's rows, in closed form.

    Free variances (and free means with a mean structure), no covariances. Its ML estimates, also under
    FIML, are each variable's mean and divide-by-n variance over its observed values (the likelihood
    factors by variable). The Jacobians cover the parameters of all groups (variances, then means, group
    after group), so they can be passed to the functions above like a model's.

    Follows lavaan's ``lav_object_independence`` (lav_object_generate.R), which reaches the same estimates
    with nlminb.

    Examples
    --------
    >>> b = independence_model([[[1.0, 2.0], [3.0, 6.0]]])
    >>> b.means[0], np.diag(b.covs[0])
    (array([2., 4.]), array([1., 4.]))
    >>> b.deltas[0].shape                          # vech rows x 2 variances
    (3, 2)
    """
    groups = [_data(x) for x in X]
    ps = [x.shape[1] for x in groups]
    k = [p * (2 if meanstructure else 1) for p in ps]
    offsets = np.concatenate([[0], np.cumsum(k)])
    means, covs, deltas = [], [], []
    for g, x in enumerate(groups):
        p = ps[g]
        means.append(np.nanmean(x, axis=0))
        covs.append(np.diag(np.nanvar(x, axis=0)))
        rows, cols = _vech_index(p)
        n_mom = _pstar(p) + (p if meanstructure else 0)
        delta = np.zeros((n_mom, offsets[-1]))
        start = p if meanstructure else 0
        diag = np.flatnonzero(rows == cols)
        delta[start + diag, offsets[g] + np.arange(p)] = 1.0
        if meanstructure:
            delta[np.arange(p), offsets[g] + p + np.arange(p)] = 1.0
        deltas.append(delta)
    return Independence(means, covs, deltas)


def baseline_scaled_test(X: Sequence[ArrayLike], chisq: float, df: int, test: str,
                         meanstructure: bool = False, h1_means: Sequence[ArrayLike] | None = None,
                         h1_covs: Sequence[ArrayLike] | None = None) -> ScaledTest:
    """The baseline model's own scaled test, as lavaan computes it for ``baseline.chisq.scaled``.

    ``X`` holds each group's rows, ``chisq``/``df`` the baseline's ML chi-square and df, ``test`` is
    ``"satorra.bentler"`` (MLM: expected information, ``Gamma_g = gamma_adf(X_g)``) or
    ``"yuan.bentler.mplus"`` (MLR: the observed information, exact here because the baseline's moments are
    linear in its parameters). Under FIML give the EM moments ``h1_means``/``h1_covs``; with complete data
    they default to the sample moments.

    Follows lavaan's ``lav_fit_cfi_lavobject`` with ``lav_object_independence`` (lav_fit_cfi.R).

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> X = [rng.standard_normal((200, 3))]
    >>> t = baseline_scaled_test(X, chisq=5.0, df=3, test="satorra.bentler")
    >>> 0.5 < t.scaling_factor < 1.5
    True
    """
    groups = [_data(x) for x in X]
    nobs = [x.shape[0] for x in groups]
    base = independence_model(groups, meanstructure)
    if test == "satorra.bentler":
        weights = [normal_information(s, meanstructure) for s in base.covs]
        info = unit_information(base.deltas, weights, nobs)
        gammas = [gamma_adf(x, meanstructure) for x in groups]
        return satorra_bentler(chisq, df, info, base.deltas, weights, gammas, nobs)
    if test != "yuan.bentler.mplus":
        raise ValueError(f"test must be 'satorra.bentler' or 'yuan.bentler.mplus'; got {test!r}.")
    if h1_means is None or h1_covs is None:
        if any(np.isnan(x).any() for x in groups):
            raise ValueError("with missing values give the EM moments h1_means and h1_covs.")
        h1_covs = [_ml_cov(x) for x in groups]
    if h1_means is None or not meanstructure:
        h1_means = [x.mean(axis=0) for x in groups]
    mus = [m if meanstructure else None for m in base.means]
    hessians = [observed_information(x, m, s, meanstructure) for x, m, s in zip(groups, mus, base.covs)]
    info = unit_information(base.deltas, hessians, nobs)
    scores = np.vstack([casewise_scores(x, m, s, d) for x, m, s, d in zip(groups, mus, base.covs, base.deltas)])
    A1 = [observed_information(x, m, s, meanstructure) for x, m, s in zip(groups, h1_means, h1_covs)]
    B1 = [first_order_information(h1_scores(x, m, s, meanstructure)) for x, m, s in zip(groups, h1_means, h1_covs)]
    return yuan_bentler_mplus(chisq, df, info, scores, A1, B1)


# -- FIML-corrected robust statistics ----------------------------------------------------------------------


def _ml_discrepancy(mean: np.ndarray, cov: np.ndarray, mu: np.ndarray, sigma: np.ndarray) -> float:
    p = cov.shape[0]
    Si = np.linalg.inv(sigma)
    d = mean - mu
    return float(np.linalg.slogdet(sigma)[1] - np.linalg.slogdet(cov)[1] + np.sum(cov * Si) - p + d @ Si @ d)


def _block_diag(blocks: Sequence[np.ndarray]) -> np.ndarray:
    size = sum(b.shape[0] for b in blocks)
    out = np.zeros((size, size))
    i = 0
    for b in blocks:
        k = b.shape[0]
        out[i:i + k, i:i + k] = b
        i += k
    return out


def fiml_corrected(X: Sequence[ArrayLike], mus: Sequence[ArrayLike], sigmas: Sequence[ArrayLike],
                   deltas: Sequence[ArrayLike], h1_means: Sequence[ArrayLike], h1_covs: Sequence[ArrayLike],
                   df: int) -> CorrectedTest:
    """FIML-corrected statistic and scaling factor behind lavaan's robust CFI/TLI/RMSEA under FIML.

    ``chisq = sum_g n_g F_ML(m_g, S_g; mu_g, Sigma_g)``: the complete-data ML discrepancy (with means) of the
    implied moments from the EM moments ``m_g, S_g``. The scaling factor is ``k / df`` with
    ``k = tr(U Wm^-1 Wc Wm^-1 U Gamma)``, block-diagonal over groups: ``Wm_g`` the observed h1 information of
    the incomplete data at the EM moments (times ``f_g``), ``Wc_g = normal_information(S_g)`` that of complete
    data (times ``f_g``), ``Gamma_g = Wm_g^-1 J_g Wm_g^-1 / f_g`` with ``J_g`` the first-order h1 information,
    ``U = Wm - Wm Delta E^-1 Delta' Wm`` and ``E = sum_g f_g Delta_g' Wm_g Delta_g``. Call it with the model's
    moments and Jacobians, and with :func:`independence_model`'s for the baseline.

    Follows lavaan's ``lav_fit_fiml_corrected`` with ``version = "V3"`` (lav_fit_utils.R), used by
    ``fitMeasures`` when ``missing = "ml"`` and the test is scaled.

    Examples
    --------
    The saturated model (implied = EM moments) has statistic 0:

    >>> X = [np.array([[1.0, 2.0], [2.0, np.nan], [3.0, 5.0], [0.0, 1.0], [1.5, 2.5]])]
    >>> m, S = [np.array([1.5, 2.6])], [np.array([[1.0, 1.2], [1.2, 2.0]])]
    >>> fiml_corrected(X, m, S, [np.eye(5)], m, S, df=1).chisq
    0.0
    """
    groups = [_data(x) for x in X]
    nobs = [x.shape[0] for x in groups]
    N = float(sum(nobs))
    Wm, G, Wmi, WmF, WcF = [], [], [], [], []
    stat = 0.0
    for x, mu, sigma, m, S, n in zip(groups, mus, sigmas, h1_means, h1_covs, nobs, strict=True):
        m, S = np.asarray(m, dtype=float), np.asarray(S, dtype=float)
        f = n / N
        W = observed_information(x, m, S)
        W_inv = np.linalg.inv(W)
        J = first_order_information(h1_scores(x, m, S))
        Wm.append(W)
        WmF.append(f * W)
        WcF.append(f * normal_information(S, meanstructure=True))
        Wmi.append(W_inv / f)
        G.append(W_inv @ J @ W_inv / f)
        stat += max(n * _ml_discrepancy(m, S, np.asarray(mu, dtype=float), np.asarray(sigma, dtype=float)), 0.0)
    deltas = [np.asarray(d, dtype=float) for d in deltas]
    E_inv = np.linalg.inv(unit_information(deltas, Wm, nobs))
    Wm_all, Wc_all, Wmi_all, G_all = (_block_diag(b) for b in (WmF, WcF, Wmi, G))
    D = np.vstack(deltas)
    U = Wm_all - Wm_all @ D @ E_inv @ D.T @ Wm_all
    k = float(np.trace(U @ Wmi_all @ Wc_all @ Wmi_all @ U @ G_all))
    return CorrectedTest(stat, int(df), k / df)


# -- fit indices -------------------------------------------------------------------------------------------


def _cfi(X2: float, df: float, X2_null: float, df_null: float, c: float = 1.0, c_null: float = 1.0) -> float:
    # lav_fit_cfi; the robust form only when both scaling factors differ from 1
    if any(math.isnan(v) for v in (X2, df, X2_null, df_null, c, c_null)):
        return float("nan")
    if df > 0 and c != 1 and c_null != 1:
        t1 = max(X2 - c * df, 0.0)
        t2 = max(X2 - c * df, X2_null - c_null * df_null, 0.0)
    else:
        t1 = max(X2 - df, 0.0)
        t2 = max(X2 - df, X2_null - df_null, 0.0)
    if abs(t1) <= 1.5e-8 and abs(t2) <= 1.5e-8:
        return 1.0
    return 1.0 - t1 / t2


def _tli(X2: float, df: float, X2_null: float, df_null: float, c: float = 1.0, c_null: float = 1.0) -> float:
    # lav_fit_tli
    if any(math.isnan(v) for v in (X2, df, X2_null, df_null, c, c_null)):
        return float("nan")
    if df > 0 and c != 1 and c_null != 1:
        t1 = (X2 - c * df) * df_null
        t2 = (X2_null - c_null * df_null) * df
    else:
        t1 = (X2 - df) * df_null
        t2 = (X2_null - df_null) * df
    if df > 0 and abs(t2) > 0:
        return 1.0 - t1 / t2
    if not (math.isfinite(t1) and math.isfinite(t2)):
        return float("nan")
    return 1.0


def _rmsea(X2: float, df: float, n: int, G: int, c: float = 1.0) -> float:
    # lav_fit_rmsea
    if math.isnan(df):
        return float("nan")
    if df <= 0:
        return 0.0
    return math.sqrt(max(X2 / n / df - c / n, 0.0)) * math.sqrt(G)


def _rmsea_ci(X2: float, df: float, n: int, G: int, c: float = 1.0, level: float = 0.90) -> tuple[float, float]:
    """lav_fit_rmsea_ci with a scaling factor and groups: :func:`sem_fit.rmsea_ci`'s bounds times √(c G)."""
    low, high = sem_fit.rmsea_ci(X2, df, n, level)
    return low * math.sqrt(c * G), high * math.sqrt(c * G)


def _rmsea_pvalues(X2: float, df: float, n: int, G: int, c: float, close_h0: float,
                   notclose_h0: float) -> tuple[float, float]:
    # lav_fit_rmsea_closefit and lav_fit_rmsea_notclosefit
    if not (math.isfinite(X2) and math.isfinite(df)) or df <= 0:
        return float("nan"), float("nan")
    close = float(stats.ncx2.sf(X2, df, n * df / c * close_h0**2 / G))
    notclose = float(stats.ncx2.cdf(X2, df, n * df / c * notclose_h0**2 / G))
    return close, notclose


def scaled_fit_indices(chisq: float, df: int, scaling_factor: float, chisq_null: float, df_null: int,
                       scaling_factor_null: float, n: int, n_groups: int = 1, level: float = 0.90,
                       close_h0: float = 0.05, notclose_h0: float = 0.08) -> dict[str, float]:
    """lavaan's ``.scaled`` fit indices from the *unscaled* chi-squares and the scaling factors.

    * ``cfi_scaled``, ``tli_scaled``: CFI and TLI of the scaled statistics ``chisq / c`` and
      ``chisq_null / c_null`` with the unchanged df;
    * ``rmsea_scaled`` and its CI and close/not-close p-values: the unscaled ``chisq`` on ``c df`` degrees of
      freedom (lavaan's ``trace.UGamma``), ``sqrt(max(chisq / (N c df) - 1 / N, 0)) sqrt(G)``.

    ``n`` is the total N, ``n_groups`` G. Works for Satorra-Bentler (MLM) and Yuan-Bentler (MLR, complete or
    FIML) scaling factors.

    Follows lavaan's ``lav_fit_cfi_lavobject`` and ``lav_fit_rmsea_lavobject`` (lav_fit_cfi.R,
    lav_fit_rmsea.R).

    Examples
    --------
    >>> ix = scaled_fit_indices(85.306, 24, 1.1, 918.852, 36, 1.2, n=301)
    >>> round(ix["cfi_scaled"], 4), round(ix["rmsea_scaled"], 4)   # 1 - (85.306 / 1.1 - 24) / (918.852 / 1.2 - 36)
    (0.9266, 0.0861)
    """
    c, c0 = scaling_factor, scaling_factor_null
    df2 = c * df
    if not math.isfinite(df2) or df2 == 0:
        df2 = float("nan")
    low, high = _rmsea_ci(chisq, df2, n, n_groups, level=level)
    close, notclose = _rmsea_pvalues(chisq, df2, n, n_groups, 1.0, close_h0, notclose_h0)
    return {
        "cfi_scaled": _cfi(chisq / c, df, chisq_null / c0, df_null),
        "tli_scaled": _tli(chisq / c, df, chisq_null / c0, df_null),
        "rmsea_scaled": _rmsea(chisq, df2, n, n_groups),
        "rmsea_ci_lower_scaled": low, "rmsea_ci_upper_scaled": high,
        "rmsea_pvalue_scaled": close, "rmsea_notclose_pvalue_scaled": notclose,
    }


def robust_fit_indices(chisq: float, df: int, scaling_factor: float, chisq_null: float, df_null: int,
                       scaling_factor_null: float, n: int, n_groups: int = 1, level: float = 0.90,
                       close_h0: float = 0.05, notclose_h0: float = 0.08) -> dict[str, float]:
    """lavaan's ``.robust`` fit indices (Brosseau-Liard and Savalei) from unscaled chi-squares and scalings.

    * ``cfi_robust``, ``tli_robust``: ``chisq - c df`` against ``chisq_null - c_null df_null`` (the plain
      formulas when a scaling factor is exactly 1);
    * ``rmsea_robust = sqrt(max(chisq / (N df) - c / N, 0)) sqrt(G)``; its CI and p-values come from the
      scaled statistic ``chisq / c`` with the noncentrality multiplied (CI) or divided (p-values) by ``c``.

    With complete data pass the ML chi-squares and the scaling factors of the model and the baseline
    (the same numbers as :func:`scaled_fit_indices`). Under FIML pass :func:`fiml_corrected`'s statistics
    and scaling factors for the model and the baseline instead (lavaan's ``XX3``, ``c.hat3``,
    ``XX3.null``, ``c.hat3.null``).

    Follows lavaan's ``lav_fit_cfi_lavobject`` and ``lav_fit_rmsea_lavobject`` (lav_fit_cfi.R,
    lav_fit_rmsea.R).

    Examples
    --------
    >>> ix = robust_fit_indices(85.306, 24, 1.1, 918.852, 36, 1.2, n=301)
    >>> round(ix["cfi_robust"], 4), round(ix["rmsea_robust"], 4)   # 1 - (85.306 - 26.4) / (918.852 - 43.2)
    (0.9327, 0.0903)
    """
    c, c0 = scaling_factor, scaling_factor_null
    low, high = _rmsea_ci(chisq / c, df, n, n_groups, c=c, level=level)
    close, notclose = _rmsea_pvalues(chisq / c, df, n, n_groups, c, close_h0, notclose_h0)
    return {
        "cfi_robust": _cfi(chisq, df, chisq_null, df_null, c, c0),
        "tli_robust": _tli(chisq, df, chisq_null, df_null, c, c0),
        "rmsea_robust": _rmsea(chisq, df, n, n_groups, c),
        "rmsea_ci_lower_robust": low, "rmsea_ci_upper_robust": high,
        "rmsea_pvalue_robust": close, "rmsea_notclose_pvalue_robust": notclose,
    }


# -- difference test ---------------------------------------------------------------------------------------


def sb2001_difference(chisq1: float, df1: int, scaling1: float, chisq0: float, df0: int,
                      scaling0: float) -> DifferenceTest:
    """Satorra-Bentler (2001) scaled chi-square difference test of two nested models.

    From the *unscaled* ML chi-squares, df and scaling factors of the two models (their order does not
    matter; the one with more df is the restricted model ``0``): ``m = df0 - df1``,
    ``c_d = (df0 c0 - df1 c1) / m`` (``c1 = 1`` for a saturated model), statistic ``(chisq0 - chisq1) / c_d``
    on ``m`` df. A negative ``c_d`` gives NaN (lavaan warns); equal df give the plain difference.

    Follows lavaan's ``lav_test_diff_SatorraBentler2001`` (lav_test_diff.R), ``lavTestLRT``'s default for
    ``satorra.bentler``, ``yuan.bentler`` and ``yuan.bentler.mplus`` tests.

    Examples
    --------
    >>> d = sb2001_difference(85.3, 24, 1.10, 153.5, 27, 1.08)
    >>> round(d.scaling_factor, 4), round(d.chisq, 3), d.df
    (0.92, 74.13, 3)
    """
    if df1 > df0:
        chisq1, df1, scaling1, chisq0, df0, scaling0 = chisq0, df0, scaling0, chisq1, df1, scaling1
    if df1 == 0:
        scaling1 = 1.0
    m = df0 - df1
    if m == 0:
        return DifferenceTest(chisq0 - chisq1, 0, float("nan"), float("nan"))
    cd = (df0 * scaling0 - df1 * scaling1) / m
    if cd < 0:
        cd = float("nan")
    stat = (chisq0 - chisq1) / cd
    return DifferenceTest(float(stat), int(m), _pvalue(stat, m), float(cd))
