"""SEM fit indices with lavaan's definitions (lavaan 0.6-14, estimator ML, likelihood "normal", fixed.x = TRUE).

Each index is a small pure function of the sample covariance ``S`` (divide-by-N, as lavaan's
``lavInspect(fit, "sampstat")$cov``), the model-implied covariance ``Sigma``, the number of rows ``n`` and
counts; :func:`glance` puts them together for one fitted model. The lavaan function each one follows is
named in its docstring (lavaan's R sources ``lav_fit_*.R``, ``lav_model_test.R``, ``lav_mvnorm.R``,
``lav_partable_utils.R``, ``lav_residuals.R``); ``tests/reference/lavaan.R`` stores what lavaan reports and
``tests/stats/test_sem_fit.py`` compares.

Observed exogenous variables (``exogenous``: their positions in ``S``) follow lavaan's ``fixed.x = TRUE``:
their variances and covariances are fixed at the sample values, so they are neither data (``df_model``) nor
free parameters (``npar``), the baseline model keeps them, and the log-likelihood is that of the endogenous
variables given the exogenous ones.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

__all__ = [
    "Baseline", "aic", "baseline_model", "bic", "cfi", "chisq", "chisq_pvalue", "df_model", "glance",
    "log_likelihood", "ml_discrepancy", "rmsea", "rmsea_ci", "rmsea_notclose_pvalue", "rmsea_pvalue", "srmr", "tli",
]

_LOG_2PI = math.log(2 * math.pi)


class Baseline(NamedTuple):
    """The independence (baseline) model's test statistic and degrees of freedom."""

    chisq: float
    df: int


def _logdet(A: np.ndarray) -> float:
    sign, value = np.linalg.slogdet(A)
    if sign <= 0:
        raise ValueError("the covariance matrix is not positive definite; check for a constant or collinear variable.")
    return float(value)


def _square(A: ArrayLike, name: str) -> np.ndarray:
    A = np.asarray(A, dtype=np.float64)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"{name} must be a square covariance matrix; got shape {A.shape}.")
    return A


def _index(exogenous: Sequence[int], p: int) -> np.ndarray:
    x = np.asarray(exogenous, dtype=int).reshape(-1)
    if x.size and (x.min() < 0 or x.max() >= p or len(set(x.tolist())) != x.size):
        raise ValueError(f"exogenous must be distinct positions 0..{p - 1} in S; got {x.tolist()}.")
    return x


def ml_discrepancy(S: ArrayLike, Sigma: ArrayLike) -> float:
    """The ML discrepancy ``F_ML = log|Sigma| + tr(S Sigma^-1) - log|S| - p``.

    ``S`` is the divide-by-N sample covariance. lavaan's ``fmin`` is half of this
    (``fitMeasures(fit)["fmin"] = F_ML / 2``), and lavaan sets a negative value (rounding) to 0.

    Follows lavaan's ``estimator.ML`` (lav_model_estimate.R / lav_objective.R).

    Examples
    --------
    >>> S = [[1.0, 0.5], [0.5, 1.0]]
    >>> round(ml_discrepancy(S, [[1.0, 0.0], [0.0, 1.0]]), 6)   # -log(1 - 0.5^2)
    0.287682
    >>> ml_discrepancy(S, S)
    0.0
    """
    S, Sigma = _square(S, "S"), _square(Sigma, "Sigma")
    p = S.shape[0]
    f = _logdet(Sigma) + float(np.sum(S * np.linalg.inv(Sigma))) - _logdet(S) - p
    return max(f, 0.0)


def chisq(f_ml: float, n: int) -> float:
    """lavaan's ML test statistic ``chisq = N * F_ML``, with N (not N - 1).

    With the default ``likelihood = "normal"`` lavaan multiplies its ``fmin`` (= ``F_ML / 2``) by ``2 N``;
    only ``likelihood = "wishart"`` uses ``N - 1``. A negative value is set to 0.

    Follows lavaan's ``lav_model_test`` (lav_model_test.R: ``chisq.group <- fx.group * 2 * nobs``).

    Examples
    --------
    >>> round(chisq(0.28339, 301), 5)
    85.30039
    """
    return max(float(n) * float(f_ml), 0.0)


def chisq_pvalue(chisq: float, df: int) -> float:
    """Upper-tail p-value of the test statistic, ``P(chi2_df > chisq)``; NaN when ``df < 1``.

    lavaan computes ``1 - pchisq(chisq, df)``; the survival function used here is the same number without
    the cancellation in ``1 - p`` (lavaan reports 0 where this gives, e.g., 1e-170).

    Examples
    --------
    >>> round(chisq_pvalue(3.84145882, 1), 6)
    0.05
    """
    if df < 1:
        return float("nan")
    return float(stats.chi2.sf(chisq, df))


def df_model(p: int, npar: int, meanstructure: bool = False, n_exogenous: int = 0) -> int:
    """Degrees of freedom ``ndat - npar`` as lavaan counts them.

    ``ndat = p (p + 1) / 2`` (plus ``p`` means with a mean structure), less the ``q (q + 1) / 2`` (plus ``q``)
    moments of the ``q = n_exogenous`` observed exogenous variables under ``fixed.x = TRUE``. ``npar`` is
    lavaan's count of free parameters, which leaves out those fixed.x variances, covariances (and means).

    Follows lavaan's ``lav_partable_df`` and ``lav_partable_ndat`` (lav_partable_utils.R).

    Examples
    --------
    Holzinger-Swineford three-factor CFA: 9 indicators, 21 free parameters.

    >>> df_model(9, 21)
    24

    A path model with 9 observed variables of which 6 are exogenous and 14 free parameters (lavaan's npar):

    >>> df_model(9, 14, n_exogenous=6)
    10
    """
    ndat = p * (p + 1) // 2 + (p if meanstructure else 0)
    ndat -= n_exogenous * (n_exogenous + 1) // 2 + (n_exogenous if meanstructure else 0)
    return int(ndat - npar)


def baseline_model(S: ArrayLike, n: int, exogenous: Sequence[int] = ()) -> Baseline:
    """The independence model's chi-square and df, as lavaan fits it for CFI and TLI.

    Endogenous variables get free variances and no covariances; with ``fixed.x = TRUE`` the observed
    exogenous variables (positions ``exogenous`` in ``S``) keep their sample variances *and covariances*.
    Its ML solution is closed-form, ``Sigma_0 = diag(S_yy) (+) S_xx``, so
    ``chisq = N (sum log s_yy - log|S| + log|S_xx|)`` and ``df = p(p+1)/2 - q(q+1)/2 - (p - q)``.
    (lavaan reaches the same solution with nlminb.)

    Follows lavaan's ``lav_object_independence`` and ``lav_partable_indep_or_unrestricted``
    (lav_object_methods.R, lav_partable_independence.R).

    Examples
    --------
    >>> S = [[1.0, 0.5], [0.5, 1.0]]
    >>> b = baseline_model(S, n=100)
    >>> round(b.chisq, 4), b.df                    # -100 log(1 - 0.5^2)
    (28.7682, 1)
    >>> baseline_model(S, n=100, exogenous=[1])    # y on one fixed x: the x variance is not free
    Baseline(chisq=28.76820724517808, df=1)
    """
    S = _square(S, "S")
    p = S.shape[0]
    x = _index(exogenous, p)
    y = np.setdiff1d(np.arange(p), x)
    Sigma0 = np.zeros_like(S)
    Sigma0[y, y] = np.diag(S)[y]
    Sigma0[np.ix_(x, x)] = S[np.ix_(x, x)]
    q = x.size
    df = p * (p + 1) // 2 - q * (q + 1) // 2 - (p - q)
    return Baseline(chisq(ml_discrepancy(S, Sigma0), n), int(df))


def cfi(chisq: float, df: int, chisq_null: float, df_null: int) -> float:
    """Comparative fit index ``1 - max(chisq - df, 0) / max(chisq - df, chisq_null - df_null, 0)``, in [0, 1].

    The two ``max(..., 0)`` keep it in [0, 1]; there is no other clipping. When both terms are 0 (to R's
    ``all.equal`` tolerance, 1.5e-8) it is 1.

    Follows lavaan's ``lav_fit_cfi`` (lav_fit_cfi.R).

    Examples
    --------
    >>> round(cfi(85.306, 24, 918.852, 36), 3)     # Holzinger-Swineford CFA
    0.931
    >>> cfi(8.3, 10, 900.0, 21)                    # chisq < df
    1.0
    """
    t1 = max(chisq - df, 0.0)
    t2 = max(chisq - df, chisq_null - df_null, 0.0)
    if abs(t1) <= 1.5e-8 and abs(t2) <= 1.5e-8:
        return 1.0
    return float(1.0 - t1 / t2)


def tli(chisq: float, df: int, chisq_null: float, df_null: int) -> float:
    """Tucker-Lewis index (NNFI) ``1 - (chisq - df) df_null / ((chisq_null - df_null) df)``.

    lavaan does not clip the TLI: it exceeds 1 when ``chisq < df`` and can be negative. It is 1 when
    ``df = 0`` or the denominator is 0, NaN when a term is not finite.

    Follows lavaan's ``lav_fit_tli`` (lav_fit_cfi.R).

    Examples
    --------
    >>> round(tli(85.306, 24, 918.852, 36), 3)     # Holzinger-Swineford CFA
    0.896
    >>> round(tli(8.3, 10, 900.0, 21), 4)          # chisq < df: above 1, as in lavaan
    1.0041
    """
    t1 = (chisq - df) * df_null
    t2 = (chisq_null - df_null) * df
    if df > 0 and abs(t2) > 0:
        return float(1.0 - t1 / t2)
    if not (math.isfinite(t1) and math.isfinite(t2)):
        return float("nan")
    return 1.0


def rmsea(chisq: float, df: int, n: int) -> float:
    """Root mean square error of approximation ``sqrt(max(chisq / (N df) - 1 / N, 0))``, with N (not N - 1).

    It is 0 when ``df = 0``.

    Follows lavaan's ``lav_fit_rmsea`` (lav_fit_rmsea.R).

    Examples
    --------
    >>> round(rmsea(85.306, 24, 301), 4)           # Holzinger-Swineford CFA
    0.0921
    >>> rmsea(8.3, 10, 240)
    0.0
    """
    if df <= 0:
        return 0.0
    return math.sqrt(max(chisq / (n * df) - 1.0 / n, 0.0))


def _pchisq(x: float, df: int, ncp: float) -> float:
    # R's pchisq(x, df, ncp = ncp) when ncp is given, 0 included
    return float(stats.ncx2.cdf(x, df, ncp)) if ncp > 0 else float(stats.chi2.cdf(x, df))


def _uniroot(f: Callable[[float], float], lower: float, upper: float,
             tol: float = np.finfo(float).eps ** 0.25, maxiter: int = 1000) -> float:
    """R's ``uniroot(f, lower = , upper = )$root`` with its defaults: Brent's zeroin as in R's ``R_zeroin2``.

    Reproduced step by step, because R stops at ``tol`` = 1.2e-4 and lavaan's RMSEA CI inherits that error.
    Raises ValueError where R's ``uniroot`` stops (no sign change).
    """
    eps = np.finfo(float).eps
    a, b = lower, upper
    fa, fb = f(a), f(b)
    if fa * fb > 0:
        raise ValueError("f() values at end points not of opposite sign")
    if fa == 0.0:
        return a
    if fb == 0.0:
        return b
    c, fc = a, fa
    for _ in range(maxiter + 1):
        prev_step = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2 * eps * abs(b) + tol / 2
        new_step = (c - b) / 2
        if abs(new_step) <= tol_act or fb == 0.0:
            return b
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            cb = c - b
            if a == c:
                t1 = fb / fa
                p, q = cb * t1, 1.0 - t1
            else:
                q, t1, t2 = fa / fc, fb / fc, fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0:
                q = -q
            else:
                p = -p
            if p < 0.75 * cb * q - abs(tol_act * q) / 2 and p < abs(prev_step * q / 2):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    return b


def rmsea_ci(chisq: float, df: int, n: int, level: float = 0.90) -> tuple[float, float]:
    """Confidence interval of the RMSEA from the noncentral chi-square, as lavaan computes it.

    The bounds are ``sqrt(lambda / (N df))`` where ``lambda`` solves ``pchisq(chisq, df, ncp = lambda) =
    (1 + level) / 2`` (lower, searched in [0, chisq]) and ``= (1 - level) / 2`` (upper, searched in
    [0, max(N, 4 chisq)]); a bound is 0 when ``df < 1`` or no root exists in the search range, NaN when R's
    ``uniroot`` would fail. The roots are found with R's ``uniroot`` algorithm and default tolerance
    (``tol = 1.2e-4`` in lambda), as lavaan does, so that the bounds agree with lavaan's to rounding.

    Follows lavaan's ``lav_fit_rmsea_ci`` (lav_fit_rmsea.R).

    Examples
    --------
    >>> lo, hi = rmsea_ci(85.306, 24, 301)         # Holzinger-Swineford CFA
    >>> round(lo, 3), round(hi, 3)
    (0.071, 0.114)
    """
    if not (math.isfinite(chisq) and math.isfinite(df) and math.isfinite(n)):
        return float("nan"), float("nan")
    if not (0 <= level <= 1):
        raise ValueError(f"level must be in [0, 1]; got {level}.")
    upper_perc, lower_perc = 1 - (1 - level) / 2, (1 - level) / 2

    def bound(lam: float) -> float:
        return math.sqrt(lam / (n * df))

    def lower_f(lam: float) -> float:
        return _pchisq(chisq, df, lam) - upper_perc

    def upper_f(lam: float) -> float:
        return _pchisq(chisq, df, lam) - lower_perc

    if df < 1 or lower_f(0.0) < 0:
        low = 0.0
    else:
        try:
            low = bound(_uniroot(lower_f, 0.0, chisq))
        except ValueError:
            low = float("nan")
    n_rmsea = max(n, 4 * chisq)
    if df < 1 or upper_f(n_rmsea) > 0 or upper_f(0.0) < 0:
        high = 0.0
    else:
        try:
            high = bound(_uniroot(upper_f, 0.0, n_rmsea))
        except ValueError:
            high = float("nan")
    return low, high


def _close_fit_ncp(chisq: float, df: int, n: int, h0: float, n_groups: int) -> float | None:
    # lavaan's noncentrality under H0: RMSEA = h0, N df h0^2 / G (Dudgeon 2004, eq. 16); None where it gives NA
    if not (math.isfinite(chisq) and math.isfinite(df) and math.isfinite(n)) or df <= 0:
        return None
    if n_groups < 1:
        raise ValueError(f"n_groups must be at least 1; got {n_groups}.")
    return n * df * h0**2 / n_groups


def rmsea_pvalue(chisq: float, df: int, n: int, h0: float = 0.05, n_groups: int = 1) -> float:
    """p-value of the test of close fit (H0: RMSEA <= ``h0``): ``1 - pchisq(chisq, df, ncp = N df h0^2 / G)``.

    ``n`` is the total number of rows over the ``n_groups`` groups (G); dividing the noncentrality by G
    matches the ``sqrt(G)``-scaled multi-group RMSEA. NaN when ``df = 0`` or an input is not finite.

    Follows lavaan's ``lav_fit_rmsea_closefit`` (lav_fit_rmsea.R), which ``fitMeasures`` reports as
    ``rmsea.pvalue``.

    Examples
    --------
    >>> round(rmsea_pvalue(85.306, 24, 301), 4)    # Holzinger-Swineford CFA
    0.0007
    >>> round(rmsea_pvalue(115.851, 48, 301, n_groups=2), 4)   # the same CFA in two schools (configural)
    0.0006
    """
    ncp = _close_fit_ncp(chisq, df, n, h0, n_groups)
    if ncp is None:
        return float("nan")
    return float(stats.ncx2.sf(chisq, df, ncp))


def rmsea_notclose_pvalue(chisq: float, df: int, n: int, h0: float = 0.08, n_groups: int = 1) -> float:
    """p-value of the test of not-close fit (H0: RMSEA >= ``h0``): ``pchisq(chisq, df, ncp = N df h0^2 / G)``.

    ``n`` and ``n_groups`` as in :func:`rmsea_pvalue`. NaN when ``df = 0`` or an input is not finite.

    Follows lavaan's ``lav_fit_rmsea_notclosefit`` (lav_fit_rmsea.R).

    Examples
    --------
    >>> round(rmsea_notclose_pvalue(85.306, 24, 301), 3)   # Holzinger-Swineford CFA
    0.84
    """
    ncp = _close_fit_ncp(chisq, df, n, h0, n_groups)
    if ncp is None:
        return float("nan")
    return float(stats.ncx2.cdf(chisq, df, ncp))


def srmr(S: ArrayLike, Sigma: ArrayLike) -> float:
    """Standardised root mean square residual, Bentler's version: lavaan's ``srmr`` without a mean structure.

    Residuals ``(s_ij - sigma_ij) / sqrt(s_ii s_jj)``, both scaled by the *observed* standard deviations,
    averaged in square over the ``p (p + 1) / 2`` elements of the lower triangle including the diagonal
    (fixed.x elements included; their residuals are 0). With ``mimic = "lavaan"`` (the default) lavaan's
    ``srmr`` is this ``srmr_bentler``, not the Mplus variant (which takes the difference of the two
    correlation matrices and divides variance residuals by ``s_ii``).

    Follows lavaan's ``lav_fit_srmr_lavobject`` with ``lav_residuals(type = "cor.bentler")`` and
    ``lav_residuals_summary`` (lav_fit_srmr.R, lav_residuals.R).

    Examples
    --------
    >>> S = [[1.0, 0.5], [0.5, 1.0]]
    >>> round(srmr(S, [[1.0, 0.0], [0.0, 1.0]]), 6)     # sqrt(0.5^2 / 3)
    0.288675
    """
    S, Sigma = _square(S, "S"), _square(Sigma, "Sigma")
    sd = np.sqrt(np.diag(S))
    residual = (S - Sigma) / np.outer(sd, sd)
    lower = residual[np.tril_indices_from(residual)]
    return float(np.sqrt(np.mean(lower**2)))


def _logl(S: np.ndarray, Sigma: np.ndarray, n: int) -> float:
    p = S.shape[0]
    return -n / 2 * (p * _LOG_2PI + _logdet(Sigma) + float(np.sum(S * np.linalg.inv(Sigma))))


def log_likelihood(S: ArrayLike, Sigma: ArrayLike, n: int, exogenous: Sequence[int] = ()) -> float:
    """lavaan's log-likelihood ``logl``; with ``Sigma = S`` it is the unrestricted ``unrestricted.logl``.

    ``-N/2 (p log 2 pi + log|Sigma| + tr(S Sigma^-1))`` (the sample means are fitted exactly), minus, under
    ``fixed.x = TRUE``, the same for the exogenous block at its sample covariance: the likelihood of the
    endogenous variables given the exogenous ones.

    Follows lavaan's ``lav_mvnorm_loglik_samplestats`` and ``lav_mvnorm_h1_loglik_samplestats``
    (lav_mvnorm.R, lav_mvnorm_h1.R), called by ``lav_model_loglik`` and ``lav_h1_logl``.

    Examples
    --------
    >>> S = [[1.0, 0.5], [0.5, 1.0]]
    >>> round(log_likelihood(S, S, 100), 4)            # -100/2 (2 log 2pi + log 0.75 + 2)
    -269.4036
    >>> round(log_likelihood(S, S, 100, exogenous=[1]), 4)
    -127.5097
    """
    S, Sigma = _square(S, "S"), _square(Sigma, "Sigma")
    x = _index(exogenous, S.shape[0])
    logl = _logl(S, Sigma, n)
    if x.size:
        Sxx = S[np.ix_(x, x)]
        logl -= _logl(Sxx, Sxx, n)
    return float(logl)


def aic(logl: float, npar: int) -> float:
    """Akaike's information criterion ``-2 logl + 2 npar``.

    ``npar`` is lavaan's count of free parameters: under ``fixed.x = TRUE`` the exogenous variances and
    covariances are not counted (they are not estimated; ``logl`` is conditional on them).

    Follows lavaan's ``lav_fit_aic`` (lav_fit_aic.R).

    Examples
    --------
    >>> aic(-100.0, 5)
    210.0
    """
    return -2.0 * logl + 2.0 * npar


def bic(logl: float, npar: int, n: int) -> float:
    """Bayesian information criterion ``-2 logl + npar log N``, with lavaan's ``npar`` (see :func:`aic`).

    Follows lavaan's ``lav_fit_bic`` (lav_fit_aic.R).

    Examples
    --------
    >>> round(bic(-100.0, 5, 100), 4)
    223.0259
    """
    return -2.0 * logl + npar * math.log(n)


def glance(S: ArrayLike, Sigma: ArrayLike, n: int, npar: int, exogenous: Sequence[int] = ()) -> dict[str, float]:
    """All of the above for one fitted model without a mean structure, named as in ``Results.glance()``.

    ``S`` is the divide-by-N sample covariance, ``Sigma`` the model-implied covariance at the ML estimate,
    ``npar`` lavaan's count of free parameters and ``exogenous`` the positions of the observed exogenous
    variables (``fixed.x = TRUE``).

    Examples
    --------
    >>> S = [[1.0, 0.5], [0.5, 1.0]]
    >>> g = glance(S, S, n=100, npar=2, exogenous=[1])   # y ~ x: saturated
    >>> g["chisq"], g["df"], g["cfi"], g["rmsea"]
    (0.0, 0, 1.0, 0.0)
    """
    S, Sigma = _square(S, "S"), _square(Sigma, "Sigma")
    p = S.shape[0]
    x = _index(exogenous, p)
    stat = chisq(ml_discrepancy(S, Sigma), n)
    df = df_model(p, npar, n_exogenous=x.size)
    base = baseline_model(S, n, x)
    low, high = rmsea_ci(stat, df, n)
    logl = log_likelihood(S, Sigma, n, x)
    return {
        "nobs": n, "npar": npar, "chisq": stat, "df": df, "p_value": chisq_pvalue(stat, df),
        "cfi": cfi(stat, df, base.chisq, base.df), "tli": tli(stat, df, base.chisq, base.df),
        "rmsea": rmsea(stat, df, n), "rmsea_ci_low": low, "rmsea_ci_high": high,
        "rmsea_pvalue": rmsea_pvalue(stat, df, n), "srmr": srmr(S, Sigma),
        "aic": aic(logl, npar), "bic": bic(logl, npar, n), "log_lik": logl,
        "baseline_chisq": base.chisq, "baseline_df": base.df,
    }
