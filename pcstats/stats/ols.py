"""Closed-form least squares of ``y ~ year`` for many series at once.

Each row of ``Y`` is one series over the common ``years``; NaN marks a missing year, handled per
row. Sums are centred per row (two passes) so that slopes over years near 2000 keep full
precision. Statistics follow R's ``lm``/``summary.lm``/``logLik.lm`` definitions:

* ``sigma = sqrt(RSS / (n - 2))``, ``se(slope) = sigma / sqrt(Sxx)``,
  ``se(intercept) = sigma * sqrt(1/n + tbar^2 / Sxx)``;
* t statistics with ``n - 2`` degrees of freedom; two-sided p; t-based confidence intervals;
* ``log_lik = -n/2 (log(2 pi) + log(RSS/n) + 1)``, ``aic = -2 log_lik + 2 * 3``,
  ``bic = -2 log_lik + log(n) * 3`` (slope, intercept and sigma).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

__all__ = ["SimpleTrend", "simple_trend", "t_quantile"]

_CHUNK = 16384  # rows per block: keeps the temporaries in cache


@dataclass(frozen=True)
class SimpleTrend:
    """Per-series results of ``y ~ year``; every field has one entry per row of ``Y``."""

    nobs: np.ndarray
    intercept: np.ndarray
    slope: np.ndarray
    se_intercept: np.ndarray
    se_slope: np.ndarray
    rss: np.ndarray
    tss: np.ndarray

    @property
    def df_residual(self) -> np.ndarray:
        return self.nobs - 2.0

    @property
    def sigma(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.sqrt(self.rss / self.df_residual)

    @property
    def r_squared(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return 1.0 - self.rss / self.tss

    @property
    def adj_r_squared(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return 1.0 - (1.0 - self.r_squared) * (self.nobs - 1.0) / self.df_residual

    @property
    def log_lik(self) -> np.ndarray:
        n = self.nobs
        with np.errstate(invalid="ignore", divide="ignore"):
            return -0.5 * n * (np.log(2 * np.pi) + np.log(self.rss / n) + 1.0)

    @property
    def aic(self) -> np.ndarray:
        return -2.0 * self.log_lik + 6.0

    @property
    def bic(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return -2.0 * self.log_lik + 3.0 * np.log(self.nobs)


def simple_trend(Y: np.ndarray, years: np.ndarray) -> SimpleTrend:
    """Fit ``y = a + b * year`` to every row of ``Y`` (NaN = missing).

    Rows with fewer than 3 finite values get NaN statistics (the caller reports them).

    Examples
    --------
    >>> import numpy as np
    >>> fit = simple_trend(np.array([[1.0, 3.0, 5.0, np.nan], [2.0, 2.5, 2.0, 2.5]]), np.array([2000, 2001, 2002, 2003]))
    >>> fit.slope.round(6).tolist(), fit.nobs.tolist()
    ([2.0, 0.1], [3.0, 4.0])
    """
    Y = np.asarray(Y, dtype=np.float64)
    if Y.ndim != 2:
        raise ValueError("simple_trend: Y must be 2-D (series x years).")
    shift = np.asarray(years, dtype=np.float64).mean()
    t = np.asarray(years, dtype=np.float64) - shift  # global shift first; exact per-row centring below
    out = {k: np.empty(Y.shape[0]) for k in ("nobs", "tbar", "ybar", "slope", "se_slope", "rss", "tss")}
    for start in range(0, Y.shape[0], _CHUNK):
        _fit_block(Y[start : start + _CHUNK], t, {k: v[start : start + _CHUNK] for k, v in out.items()})
    n, slope, tbar0 = out["nobs"], out["slope"], out["tbar"] + shift  # tbar0: the row's mean year
    with np.errstate(invalid="ignore", divide="ignore"):
        sigma2 = out["rss"] / (n - 2.0)
        # lm reports the intercept at year 0: a = ybar - b * tbar0, var(a) = sigma^2 (1/n + tbar0^2 / Sxx)
        intercept = out["ybar"] - slope * tbar0
        se_intercept = np.sqrt(sigma2 / n + out["se_slope"] ** 2 * tbar0**2)
    return SimpleTrend(nobs=n, intercept=intercept, slope=slope, se_intercept=se_intercept,
                       se_slope=out["se_slope"], rss=out["rss"], tss=out["tss"])


def _fit_block(Y: np.ndarray, t: np.ndarray, out: dict[str, np.ndarray]) -> None:
    finite = np.isfinite(Y)
    n = finite.sum(axis=1).astype(np.float64)
    Yz = np.where(finite, Y, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        tbar = (finite @ t) / n
        ybar = Yz.sum(axis=1) / n
        dt = np.where(finite, t - tbar[:, None], 0.0)
        dy = np.where(finite, Yz - ybar[:, None], 0.0)
        sxx = np.einsum("ij,ij->i", dt, dt)
        sxy = np.einsum("ij,ij->i", dt, dy)
        syy = np.einsum("ij,ij->i", dy, dy)
        slope = sxy / sxx
        resid = dy - slope[:, None] * dt
        rss = np.einsum("ij,ij->i", resid, resid)
        sigma2 = rss / (n - 2.0)
        few = n < 3
        out["nobs"][:] = n
        out["tbar"][:] = tbar
        out["ybar"][:] = ybar
        out["slope"][:] = np.where(few, np.nan, slope)
        out["se_slope"][:] = np.where(few, np.nan, np.sqrt(sigma2 / sxx))
        out["rss"][:] = np.where(few, np.nan, rss)
        out["tss"][:] = np.where(few, np.nan, syy)


def t_quantile(df: np.ndarray, conf_level: float) -> np.ndarray:
    """Two-sided t critical values for each df (computed once per distinct df)."""
    df = np.asarray(df, dtype=np.float64)
    values, inverse = np.unique(df, return_inverse=True)
    with np.errstate(invalid="ignore"):
        q = np.where(values > 0, special.stdtrit(np.where(values > 0, values, 1.0), 0.5 + conf_level / 2.0), np.nan)
    return q[inverse].reshape(df.shape)


def t_test(estimate: np.ndarray, se: np.ndarray, df: np.ndarray, conf_level: float):
    """t statistic, two-sided p and confidence bounds, vectorised."""
    with np.errstate(invalid="ignore", divide="ignore"):
        stat = estimate / se
        p = 2.0 * special.stdtr(df, -np.abs(stat))
        q = t_quantile(df, conf_level)
        return stat, p, estimate - q * se, estimate + q * se
