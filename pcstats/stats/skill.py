"""Skill of simulated against observed values, for many groups at once.

Definitions (s simulated, o observed, n pairs, bars are means, standard deviations with ddof=0):

========== ===================================================== ====================================
term       definition                                            HydroErr 2.0 function
========== ===================================================== ====================================
r          Pearson correlation of s and o                        ``pearson_r``
r2_pearson r², the squared Pearson correlation                   ``r_squared``
nse        1 - Σ(s - o)² / Σ(o - ō)²  (Nash-Sutcliffe)           ``nse``
nnse       1 / (2 - nse), in (0, 1]  (normalised NSE)            (Nossent & Bauwens 2012)
rmse       sqrt(mean((s - o)²))                                  ``rmse``
crmse      sqrt(mean(((s - s̄) - (o - ō))²)), the centred RMSE   (Taylor 2001)
mae        mean(|s - o|)                                         ``mae``
mbe        mean(s - o): positive when the simulation is too high ``me``
sd_ratio   σ_s / σ_o  (KGE's alpha)
mean_ratio s̄ / ō      (KGE's beta)
kge        1 - sqrt((r - 1)² + (alpha - 1)² + (beta - 1)²)       ``kge_2009`` (Gupta et al. 2009)
========== ===================================================== ====================================

"R²" means different things across fields: ``r2_pearson`` is the squared correlation (what most
land-model evaluations call R², and what HydroErr's ``r_squared`` is); ``nse`` is the coefficient of
determination of the 1:1 line, the "R²" of hydrology and of sklearn's ``r2_score``. Both are given.

Undefined values are NaN, never an error: NSE, NNSE, r, KGE when the observed series is constant
(σ_o = 0), r and KGE when the simulated one is, the mean ratio and KGE when ō = 0, all with n < 2.
"""

from __future__ import annotations

import numpy as np

__all__ = ["TERMS", "skill_metrics"]

#: the metrics in output order
TERMS = ("r2_pearson", "nse", "nnse", "kge", "r", "rmse", "crmse", "mae", "mbe", "sd_ratio", "mean_ratio")


def _group_sum(values: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    return np.bincount(codes, weights=values, minlength=n_groups)


def _constant(values: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """True for the groups whose values are all equal (exactly, not to rounding)."""
    low, high = np.full(n_groups, np.inf), np.full(n_groups, -np.inf)
    np.minimum.at(low, codes, values)
    np.maximum.at(high, codes, values)
    return low == high


def skill_metrics(simulated: np.ndarray, observed: np.ndarray, codes: np.ndarray | None = None,
                  n_groups: int | None = None) -> dict[str, np.ndarray]:
    """Every metric of :data:`TERMS` (and n, means, SDs) per group; see the module docstring.

    ``codes`` gives each pair's group (0 .. n_groups - 1); pairs must be finite.

    >>> m = skill_metrics(np.array([1.0, 2.0, 4.0]), np.array([1.0, 3.0, 5.0]))
    >>> [round(float(m[k][0]), 4) for k in ("mbe", "rmse", "nse", "r2_pearson")]
    [-0.6667, 0.8165, 0.75, 0.9643]
    """
    s, o = np.asarray(simulated, dtype=float), np.asarray(observed, dtype=float)
    codes = np.zeros(len(s), dtype=np.intp) if codes is None else np.asarray(codes, dtype=np.intp)
    k = int(codes.max() + 1 if len(codes) else 0) if n_groups is None else int(n_groups)
    n = np.bincount(codes, minlength=k).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_s, mean_o = _group_sum(s, codes, k) / n, _group_sum(o, codes, k) / n
        ds, do = s - mean_s[codes], o - mean_o[codes]  # two passes: centred sums keep full precision
        sss, soo, sso = _group_sum(ds * ds, codes, k), _group_sum(do * do, codes, k), _group_sum(ds * do, codes, k)
        # a constant series leaves rounding residue (about 1e-17 for a mean of 0.1s) in its centred sums
        flat_s, flat_o = _constant(s, codes, k), _constant(o, codes, k)
        sss, soo = np.where(flat_s, 0.0, sss), np.where(flat_o, 0.0, soo)
        sso = np.where(flat_s | flat_o, 0.0, sso)
        err = s - o
        sse = _group_sum(err * err, codes, k)
        sd_s, sd_o = np.sqrt(sss / n), np.sqrt(soo / n)
        r = np.where((sss > 0) & (soo > 0), sso / np.sqrt(sss * soo), np.nan)
        nse = np.where(soo > 0, 1.0 - sse / soo, np.nan)
        sd_ratio = np.where(soo > 0, sd_s / sd_o, np.nan)
        mean_ratio = np.where(mean_o != 0, mean_s / mean_o, np.nan)
        crmse = np.sqrt(np.maximum(sss + soo - 2.0 * sso, 0.0) / n)
        out = {
            "n": n, "mean_simulated": mean_s, "mean_observed": mean_o, "sd_simulated": sd_s, "sd_observed": sd_o,
            "r2_pearson": r * r, "nse": nse, "nnse": 1.0 / (2.0 - nse),
            "kge": 1.0 - np.sqrt((r - 1.0) ** 2 + (sd_ratio - 1.0) ** 2 + (mean_ratio - 1.0) ** 2),
            "r": r, "rmse": np.sqrt(sse / n), "crmse": crmse, "mae": _group_sum(np.abs(err), codes, k) / n,
            "mbe": _group_sum(err, codes, k) / n, "sd_ratio": sd_ratio, "mean_ratio": mean_ratio,
        }
    few = n < 2
    for key in TERMS:
        out[key] = np.where(few, np.nan, out[key])
    return out
