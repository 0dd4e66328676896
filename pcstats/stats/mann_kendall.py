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

from dataclasses import dataclass

import numpy as np
from scipy import special

from .ols import in_threads

__all__ = ["SenMannKendall", "sen_mann_kendall"]

_CHUNK = 2048  # rows per block: n(n-1)/2 pairwise slopes per row stay in cache-sized blocks


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


def sen_mann_kendall(Y: np.ndarray, years: np.ndarray, conf_level: float = 0.95) -> SenMannKendall:
    """Sen's slope with its confidence interval and the Mann-Kendall test for every row of ``Y``.

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
    fields = ("nobs", "slope", "intercept", "conf_low", "conf_high", "s", "var_s", "z", "p_value")
    out = {k: np.full(Y.shape[0], np.nan) for k in fields}
    blocks = [slice(i, i + _CHUNK) for i in range(0, Y.shape[0], _CHUNK)]
    z_half = special.ndtri(0.5 - conf_level / 2.0)  # negative, as scipy's norm.ppf(alpha / 2)
    in_threads(lambda b: _block(Y[b], years, z_half, {k: v[b] for k, v in out.items()}), blocks)
    return SenMannKendall(**out)


def _block(Y: np.ndarray, t: np.ndarray, z_half: float, out: dict[str, np.ndarray]) -> None:
    n_years = t.size
    i, j = np.triu_indices(n_years, k=1)  # every pair i < j
    finite = ~np.isnan(Y)
    n = finite.sum(axis=1).astype(np.float64)
    diff = Y[:, j] - Y[:, i]  # NaN where either year is missing
    valid = ~np.isnan(diff)
    s = np.where(valid, np.sign(diff), 0.0).sum(axis=1)
    # ties: sum over groups t(t-1)(2t+5) = sum over values of (t_v - 1)(2 t_v + 5), t_v = size of v's group
    same = (Y[:, :, None] == Y[:, None, :])  # NaN never equals anything
    group = same.sum(axis=2).astype(np.float64)
    ties = np.where(finite, (group - 1.0) * (2.0 * group + 5.0), 0.0).sum(axis=1)
    var_s = (n * (n - 1.0) * (2.0 * n + 5.0) - ties) / 18.0
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(s > 0, (s - 1.0) / np.sqrt(var_s), np.where(s < 0, (s + 1.0) / np.sqrt(var_s), 0.0))
        p = 2.0 * special.ndtr(-np.abs(z))

        slopes = np.sort(np.where(valid, diff / (t[j] - t[i]), np.nan), axis=1)  # NaN sort last
    count = valid.sum(axis=1)
    slope = _sorted_median(slopes, count)
    sigma = np.sqrt(np.maximum(var_s, 0.0))
    upper = np.minimum(np.round((count - z_half * sigma) / 2.0), count - 1).astype(np.int64)
    lower = np.maximum(np.round((count + z_half * sigma) / 2.0) - 1, 0).astype(np.int64)
    low = _take(slopes, lower)
    high = _take(slopes, upper)
    y_median = _sorted_median(np.sort(Y, axis=1), n.astype(np.int64))
    t_median = _sorted_median(np.sort(np.where(finite, t, np.nan), axis=1), n.astype(np.int64))
    intercept = y_median - slope * t_median

    fitted = n >= 3
    for name, value in (("nobs", n), ("slope", slope), ("intercept", intercept), ("conf_low", low), ("conf_high", high),
                        ("s", s), ("var_s", var_s), ("z", z), ("p_value", p)):
        out[name][:] = value if name == "nobs" else np.where(fitted, value, np.nan)


def _sorted_median(sorted_rows: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Median of the first ``count`` entries of each sorted row (NaN where count is 0)."""
    count = np.asarray(count, dtype=np.int64)
    lo = _take(sorted_rows, (count - 1) // 2)
    hi = _take(sorted_rows, count // 2)
    return np.where(count > 0, 0.5 * (lo + hi), np.nan)


def _take(rows: np.ndarray, index: np.ndarray) -> np.ndarray:
    index = np.clip(index, 0, max(rows.shape[1] - 1, 0))
    if rows.shape[1] == 0:
        return np.full(rows.shape[0], np.nan)
    return np.take_along_axis(rows, index[:, None], axis=1)[:, 0]
