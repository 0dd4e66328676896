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

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

__all__ = ["SimpleTrend", "simple_trend", "t_quantile", "t_test", "in_threads", "aliased_columns", "essentially_perfect",
           "ESSENTIALLY_PERFECT"]

ESSENTIALLY_PERFECT = ("essentially perfect fit (residual variance at rounding level): standard errors, t statistics "
                       "and p-values are unreliable (R's summary.lm warns the same)")

_CHUNK = 4096  # rows per block: keeps the temporaries in cache


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


def essentially_perfect(residual_variance, mean, variance) -> np.ndarray:
    """R's ``summary.lm`` test for an essentially perfect fit, ``resvar < (mean(f)^2 + var(f)) * 1e-30``,
    with the response's mean and variance (the fitted values' at a perfect fit) and 1e-20: R's
    residuals come from its QR, statsmodels' from a pseudo-inverse, which leaves ~1e-25 on an exact
    line over years near 2000 (a noisy fit is many orders above either bound).

    >>> essentially_perfect(np.array([1e-40, 0.5]), np.array([2.0, 2.0]), np.array([1.0, 1.0])).tolist()
    [True, False]
    """
    residual_variance = np.asarray(residual_variance, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.isfinite(residual_variance) & (residual_variance < (np.asarray(mean) ** 2 + np.asarray(variance)) * 1e-20)


def simple_trend(Y: np.ndarray, years: np.ndarray, *, threads: int | None = None) -> SimpleTrend:
    """Fit ``y = a + b * year`` to every row of ``Y`` (NaN = missing).

    Rows with fewer than 3 finite values get NaN statistics (the caller reports them). Blocks of
    rows that fit in cache are processed on a small thread pool (NumPy releases the GIL) of up to
    ``threads`` threads (default: up to 4; 1 inside a dask task, whose scheduler has the cores).

    Precision: years are shifted by an integer, so their sums are exact; y is centred per row
    before its cross-products. ``RSS = Syy - b Sxy`` keeps ~1e-13 relative accuracy unless the fit
    is almost exact (relative error ~ 1e-16 / (1 - R^2)).

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
    years = np.asarray(years, dtype=np.float64)
    shift = float(np.round(years.mean()))
    t = years - shift  # whole years stay whole: exact sums of t and t^2
    out = {k: np.empty(Y.shape[0]) for k in ("nobs", "tbar", "ybar", "slope", "sxx", "rss", "tss")}
    blocks = [slice(i, i + _CHUNK) for i in range(0, Y.shape[0], _CHUNK)]
    in_threads(lambda b: _fit_block(Y[b], t, {k: v[b] for k, v in out.items()}), blocks, threads)
    n, slope, sxx, rss = out["nobs"], out["slope"], out["sxx"], out["rss"]
    with np.errstate(invalid="ignore", divide="ignore"):
        few = n < 3
        sigma2 = rss / (n - 2.0)
        se_slope = np.sqrt(sigma2 / sxx)
        tbar0 = out["tbar"] + shift  # the row's mean year
        # lm reports the intercept at year 0: a = ybar - b * tbar0, var(a) = sigma^2 (1/n + tbar0^2 / Sxx)
        intercept = out["ybar"] - slope * tbar0
        se_intercept = np.sqrt(sigma2 / n + se_slope**2 * tbar0**2)
    nan = lambda v: np.where(few, np.nan, v)  # noqa: E731
    return SimpleTrend(nobs=n, intercept=nan(intercept), slope=nan(slope), se_intercept=nan(se_intercept),
                       se_slope=nan(se_slope), rss=nan(rss), tss=nan(out["tss"]))


def _fit_block(Y: np.ndarray, t: np.ndarray, out: dict[str, np.ndarray]) -> None:
    finite = ~np.isnan(Y)
    F = finite.astype(np.float64)
    Yz = np.where(finite, Y, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        n = F.sum(axis=1)
        st = F @ t
        tbar = st / n
        sxx = F @ (t * t) - st * tbar
        ybar = Yz.sum(axis=1) / n
        dy = Yz - ybar[:, None]
        dy *= F
        sxy = dy @ t  # = sum (t - tbar)(y - ybar), as the centred y sum to zero
        syy = np.einsum("ij,ij->i", dy, dy)
        slope = sxy / sxx
        out["nobs"][:] = n
        out["tbar"][:] = tbar
        out["ybar"][:] = ybar
        out["slope"][:] = slope
        out["sxx"][:] = sxx
        out["rss"][:] = np.maximum(syy - slope * sxy, 0.0)
        out["tss"][:] = syy


def in_threads(work, blocks: list, threads: int | None = None) -> list:
    """Run ``work(block)`` for every block, on up to ``threads`` (default 4) threads when there is more than one block."""
    workers = min(len(blocks), os.cpu_count() or 1, 4 if threads is None else threads)
    if workers <= 1:
        return [work(b) for b in blocks]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(work, blocks))


def t_quantile(df: np.ndarray, conf_level: float) -> np.ndarray:
    """Two-sided t critical values for each df, computed once per distinct df.

    Whole-number df (the usual case, ``n - k``) go through a lookup table instead of a sort.
    """
    df = np.asarray(df, dtype=np.float64)
    finite = df[np.isfinite(df)]
    level = 0.5 + conf_level / 2.0
    if finite.size and np.array_equal(finite, np.floor(finite)) and finite.max() - finite.min() < 100_000:
        lo = int(finite.min())
        table = np.arange(lo, int(finite.max()) + 1, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            table = np.where(table > 0, special.stdtrit(np.where(table > 0, table, 1.0), level), np.nan)
        index = np.where(np.isfinite(df), df - lo, 0).astype(np.int64)
        return np.where(np.isfinite(df), table[index], np.nan)
    values, inverse = np.unique(df, return_inverse=True)
    with np.errstate(invalid="ignore"):
        q = np.where(values > 0, special.stdtrit(np.where(values > 0, values, 1.0), level), np.nan)
    return q[inverse].reshape(df.shape)


def t_test(estimate: np.ndarray, se: np.ndarray, df: np.ndarray, conf_level: float):
    """t statistic, two-sided p and confidence bounds, vectorised (p on a thread pool for long inputs)."""
    estimate, se, df = (np.asarray(v, dtype=np.float64) for v in (estimate, se, df))
    with np.errstate(invalid="ignore", divide="ignore"):
        stat = estimate / se
        p = np.empty_like(stat)
        blocks = [slice(i, i + 8 * _CHUNK) for i in range(0, stat.size, 8 * _CHUNK)] or [slice(0, 0)]

        def p_block(b: slice) -> None:
            p.flat[b] = 2.0 * special.stdtr(df.flat[b], -np.abs(stat.flat[b]))

        in_threads(p_block, blocks)
        q = t_quantile(df, conf_level)
        return stat, p, estimate - q * se, estimate + q * se


def aliased_columns(X: pd.DataFrame) -> list[str]:
    """Columns that are linear combinations of earlier columns (R's ``alias``).

    >>> aliased_columns(pd.DataFrame({"a": [1.0, 2, 3], "b": [2.0, 4, 6], "c": [1.0, 0, 1]}))
    ['b']
    """
    values = X.to_numpy()
    if np.linalg.matrix_rank(values) == values.shape[1]:
        return []
    aliased, rank = [], 0
    for j, name in enumerate(X.columns):
        keep = [i for i in range(j + 1) if X.columns[i] not in aliased]
        r = np.linalg.matrix_rank(values[:, keep])
        if r == rank:
            aliased.append(name)
        rank = r
    return aliased
