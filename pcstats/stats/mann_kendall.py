"""Mann-Kendall test and Sen's slope for many series at once, NaN-aware.

Each row of ``Y`` is one series over the common, strictly increasing ``years``; NaN marks a
missing year and is left out of that row only. The definitions are those of the per-group engine
``mannkendall`` (pymannkendall's ``original_test`` and SciPy's ``theilslopes``), so a row gives
the numbers those libraries give on the row's finite values:

* ``S = sum_{i<j} sign(y_j - y_i)``; ``Var(S) = [n(n-1)(2n+5) - sum_t t(t-1)(2t+5)] / 18`` over
  groups of tied values; ``z = (S - sign(S)) / sqrt(Var(S))`` (continuity correction);
  two-sided ``p = 2 * norm.sf(|z|)``;
* Sen's slope: the median of the pairwise slopes ``(y_j - y_i) / (t_j - t_i)``; its confidence
  interval from Sen (1968) eq. 2.6 as in ``scipy.stats.theilslopes`` (ranks
  ``round((N -+ z_{a/2} sqrt(Var(S))) / 2)`` among the N sorted slopes, NumPy's rounding);
  intercept ``median(y) - slope * median(t)``.

Rows with fewer than 3 finite values get NaN.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy import special

from .ols import in_threads
from .._optional import optional_import

__all__ = ["SenMannKendall", "sen_mann_kendall"]

_CHUNK = 8192  # rows per block, one block per thread


@dataclass(frozen=True)
class SenMannKendall:
    """Per-series Sen's slope and Mann-Kendall test; one entry per row of ``Y``."""

    nobs: np.ndarray
    slope: np.ndarray
    intercept: np.ndarray
    conf_low: np.ndarray
    conf_high: np.ndarray
    s: np.ndarray
    var_s: np.ndarray
    z: np.ndarray
    p_value: np.ndarray


def sen_mann_kendall(Y: np.ndarray, years: np.ndarray, conf_level: float = 0.95, *,
                     threads: int | None = None) -> SenMannKendall:
    """Sen's slope with its confidence interval and the Mann-Kendall test for every row of ``Y``.

    Blocks of rows run on up to ``threads`` threads (default: up to 4; 1 inside a dask task).

    Examples
    --------
    >>> import numpy as np
    >>> r = sen_mann_kendall(np.array([[1.0, 2.0, 4.0, 3.0, 5.0], [1.0, np.nan, 1.0, 1.0, 1.0]]), np.arange(2000, 2005))
    >>> r.slope.tolist(), r.s.tolist(), r.nobs.tolist()
    ([1.0, 0.0], [8.0, 0.0], [5.0, 4.0])
    """
    Y = np.asarray(Y, dtype=np.float64)
    years = np.asarray(years, dtype=np.float64)
    if Y.ndim != 2 or Y.shape[1] != years.size:
        raise ValueError("sen_mann_kendall: Y must be 2-D (series x years) with one column per year.")
    if years.size > 1 and not np.all(np.diff(years) > 0):
        raise ValueError("sen_mann_kendall: years must be strictly increasing.")
    out = np.full((Y.shape[0], 8), np.nan)
    z_half = float(special.ndtri(0.5 - conf_level / 2.0))  # negative, as scipy's norm.ppf(alpha / 2)
    blocks = [slice(i, i + _CHUNK) for i in range(0, Y.shape[0], _CHUNK)]
    kernel = _kernel()
    in_threads(lambda b: kernel(np.ascontiguousarray(Y[b]), years, z_half, out[b]), blocks, threads)
    nobs, slope, intercept, low, high, s, var_s, z = out.T
    with np.errstate(invalid="ignore"):
        p = 2.0 * special.ndtr(-np.abs(z))
    return SenMannKendall(nobs=nobs, slope=slope, intercept=intercept, conf_low=low, conf_high=high, s=s, var_s=var_s,
                          z=z, p_value=p)


@functools.cache
def _kernel():
    """The per-row loop, compiled by Numba (without the GIL, so blocks run on threads); cached on disk."""
    numba = optional_import("numba", "Sen's slope and Mann-Kendall per grid cell")

    @numba.njit(cache=True, nogil=True)
    def select(a, lo, hi, k):
        """The k-th smallest of a[lo..hi] (inclusive), rearranging that part in place.

        Quickselect with a median-of-three pivot and branchless Lomuto partitions (no
        mispredicted branches on random slopes); when the part below the pivot is small, the
        values equal to the pivot are split off too, so long runs of ties stay linear.
        """
        while hi > lo:
            mid = (lo + hi) // 2
            x, y, z = a[lo], a[mid], a[hi]
            if (x <= y) == (y <= z):
                m = mid
            elif (y <= x) == (x <= z):
                m = lo
            else:
                m = hi
            pivot = a[m]
            a[m] = a[hi]
            a[hi] = pivot
            i = lo
            for j in range(lo, hi):  # a[lo..i) < pivot <= a[i..j)
                v = a[j]
                a[j] = a[i]
                a[i] = v
                i += v < pivot
            a[hi] = a[i]
            a[i] = pivot
            if k == i:
                return pivot
            if k < i:
                hi = i - 1
                continue
            j = i + 1
            if 8 * (i - lo) < hi - lo:  # lopsided: gather the ties of the pivot after it
                for q in range(i + 1, hi + 1):
                    v = a[q]
                    a[q] = a[j]
                    a[j] = v
                    j += v <= pivot
                if k < j:
                    return pivot
            lo = j
        return a[k]

    @numba.njit(cache=True, nogil=True)
    def rows(Y, t, z_half, out):
        n_rows, n = Y.shape
        slopes = np.empty(n * (n - 1) // 2)
        y = np.empty(n)
        x = np.empty(n)
        ys = np.empty(n)
        window = np.empty(n * (n - 1) // 2)
        for r in range(n_rows):
            m = 0
            for k in range(n):
                if not np.isnan(Y[r, k]):
                    y[m] = Y[r, k]
                    x[m] = t[k]
                    m += 1
            out[r, 0] = m
            if m < 3:
                continue
            p = 0
            for a in range(m - 1):
                ya, xa = y[a], x[a]
                for b in range(a + 1, m):  # no loop-carried index: the compiler vectorises it
                    slopes[p + b - a - 1] = (y[b] - ya) / (x[b] - xa)
                p += m - 1 - a
            # the order statistics: the slopes within (|z| + 2) OLS standard errors of the OLS slope nearly always
            # hold the median and the bounds, so they are selected within that window (a third of the slopes);
            # when the window misses a rank (a bad OLS guide: outliers, ties, perfect fits), among all the slopes
            xm, ym = 0.0, 0.0
            for q in range(m):
                xm += x[q]
                ym += y[q]
            xm /= m
            ym /= m
            sxx, sxy, syy = 0.0, 0.0, 0.0
            for q in range(m):
                dx, dy = x[q] - xm, y[q] - ym
                sxx += dx * dx
                sxy += dx * dy
                syy += dy * dy
            guide = sxy / sxx
            half = (abs(z_half) + 2.0) * np.sqrt(max(syy - guide * sxy, 0.0) / (m - 2.0) / sxx)
            up, down, below, inside = 0, 0, 0, 0
            lo_v, hi_v = guide - half, guide + half
            for q in range(p):  # branch-free: S (sign(y_b - y_a) is the slope's sign, t_b > t_a) and the window
                v = slopes[q]
                up += v > 0
                down += v < 0
                window[inside] = v
                below += v < lo_v
                inside += (v >= lo_v) & (v <= hi_v)
            s = float(up - down)
            ys[:m] = y[:m]
            ys[:m].sort()
            ties, run = 0.0, 1
            for k in range(1, m):
                if ys[k] == ys[k - 1]:
                    run += 1
                else:
                    ties += run * (run - 1.0) * (2.0 * run + 5.0)
                    run = 1
            ties += run * (run - 1.0) * (2.0 * run + 5.0)
            var_s = (m * (m - 1.0) * (2.0 * m + 5.0) - ties) / 18.0
            sigma = np.sqrt(max(var_s, 0.0))
            upper = min(int(np.rint((p - z_half * sigma) / 2.0)), p - 1)
            lower = max(int(np.rint((p + z_half * sigma) / 2.0)) - 1, 0)
            k = (p - 1) // 2
            k2 = k + 1 - p % 2  # the upper middle rank
            if below <= min(lower, k) and below + inside > max(upper, k2):
                a, shift, end = window, below, inside - 1
            else:
                a, shift, end = slopes, 0, p - 1
            kk, lw, hw = k - shift, lower - shift, upper - shift
            mid_low = select(a, 0, end, kk)  # the median splits the part; the bounds are selected within a half
            mid_high = mid_low if k2 == k else np.min(a[kk + 1:end + 1])
            slope = 0.5 * (mid_low + mid_high)
            conf_low = select(a, 0, kk, lw) if lw <= kk else select(a, kk + 1, end, lw)
            conf_high = select(a, kk + 1, end, hw) if hw > kk else select(a, 0, kk, hw)
            y_median = 0.5 * (ys[(m - 1) // 2] + ys[m // 2])
            x_median = 0.5 * (x[(m - 1) // 2] + x[m // 2])  # x is increasing
            if s > 0:
                z = (s - 1.0) / np.sqrt(var_s)
            elif s < 0:
                z = (s + 1.0) / np.sqrt(var_s)
            else:
                z = 0.0
            out[r, 1] = slope
            out[r, 2] = y_median - slope * x_median
            out[r, 3] = conf_low
            out[r, 4] = conf_high
            out[r, 5] = s
            out[r, 6] = var_s
            out[r, 7] = z

    return rows
