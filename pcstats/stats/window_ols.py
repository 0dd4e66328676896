"""``y ~ year`` least squares over many windows of years for many series at once, from prefix sums.

For series ``Y`` (groups x years, NaN = missing) and windows ``[start, start + length - 1]`` the
window sums of 1, t, t², y, t·y and y² are differences of prefix sums, so every (group, window) fit
costs a few array operations. ``t`` is the year minus the record's rounded mean year and ``y`` is
centred per group first, which keeps the sums small: slopes and SEs agree with R's ``lm`` (and
statsmodels) on the window's rows to ~1e-12 relative. Statistics as :mod:`pcstats.stats.ols`:
``sigma² = RSS / (n - 2)``, ``se = sigma / sqrt(Sxx)``, t with ``n - 2`` df; fits with n < 3 are NaN.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["WindowTrends", "window_trends"]


@dataclass(frozen=True)
class WindowTrends:
    """Per (group, window): n, slope, SE of the slope, residual SD and R² (arrays groups x windows)."""

    nobs: np.ndarray
    slope: np.ndarray
    se_slope: np.ndarray
    sigma: np.ndarray
    r_squared: np.ndarray


def window_trends(Y: np.ndarray, years: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> WindowTrends:
    """Fit ``y = a + b year`` to every row of ``Y`` within every window.

    >>> Y = np.array([[1.0, 2.0, 4.0, 4.0, 6.0]])
    >>> w = window_trends(Y, np.arange(2000, 2005), np.array([2000, 2001]), np.array([5, 3]))
    >>> w.slope.round(6).tolist(), w.nobs.tolist()
    ([[1.2, 1.0]], [[5.0, 3.0]])
    """
    Y = np.asarray(Y, dtype=np.float64)
    years = np.asarray(years, dtype=np.float64)
    t = years - np.round(years.mean())
    finite = ~np.isnan(Y)
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = np.where(finite, Y, 0.0).sum(axis=1, keepdims=True) / finite.sum(axis=1, keepdims=True)
    y = np.where(finite, Y - np.nan_to_num(centre), 0.0)
    f = finite.astype(np.float64)

    def prefix(values: np.ndarray) -> np.ndarray:
        return np.concatenate([np.zeros((values.shape[0], 1)), np.cumsum(values, axis=1)], axis=1)

    sums = {name: prefix(v) for name, v in (("n", f), ("t", f * t), ("tt", f * t * t), ("y", y), ("ty", y * t), ("yy", y * y))}
    lo = np.searchsorted(years, np.asarray(starts, dtype=np.float64), side="left")
    hi = np.searchsorted(years, np.asarray(starts, dtype=np.float64) + np.asarray(lengths, dtype=np.float64), side="left")
    w = {name: c[:, hi] - c[:, lo] for name, c in sums.items()}
    n = w["n"]
    with np.errstate(invalid="ignore", divide="ignore"):
        sxx = w["tt"] - w["t"] ** 2 / n
        sxy = w["ty"] - w["t"] * w["y"] / n
        syy = w["yy"] - w["y"] ** 2 / n
        slope = sxy / sxx
        rss = np.maximum(syy - slope * sxy, 0.0)
        sigma = np.sqrt(rss / (n - 2.0))
        se = sigma / np.sqrt(sxx)
        r2 = 1.0 - rss / syy
    few = n < 3
    nan = lambda v: np.where(few, np.nan, v)  # noqa: E731
    return WindowTrends(nobs=n, slope=nan(slope), se_slope=nan(se), sigma=nan(sigma), r_squared=nan(r2))
