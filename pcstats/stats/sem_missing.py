"""Saturated and independence moments of data with missing values, as lavaan's ``missing = "ml"`` uses them.

* :func:`em_moments`: the unrestricted (h1) mean vector and covariance matrix by the EM algorithm
  (lavaan's ``lav_mvnorm_missing_h1_estimate_moments``), from the rows' patterns of observed variables;
* :func:`independence_moments`: the baseline model's, in which each variable's mean and variance are
  its available-case mean and (divide-by-n) variance, because the likelihood of a diagonal covariance
  matrix factorises over variables; observed exogenous variables (``fixed.x``) keep their joint
  moments.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["em_moments", "independence_moments"]


def em_moments(X: np.ndarray, patterns: Sequence, *, tolerance: float = 1e-12,
               max_iterations: int = 10_000) -> tuple[np.ndarray, np.ndarray]:
    """ML mean and covariance of the rows of ``X`` (NaN where missing) under missingness at random.

    ``patterns`` are :class:`pcstats.stats.sem_ml.Pattern` (observed positions, count, mean and
    divide-by-n covariance of each pattern's rows). Starts at the available-case means and variances.

    Examples
    --------
    >>> import numpy as np
    >>> from pcstats.stats.sem_ml import group_data
    >>> X = np.array([[1.0, 2.0], [2.0, np.nan], [3.0, 5.0], [4.0, 4.0]])
    >>> d = group_data(X)
    >>> np.round(d.mean, 4)
    array([2.5   , 3.7143])
    """
    n, p = X.shape
    mean = np.nanmean(X, axis=0)
    cov = np.diag(np.nanvar(X, axis=0))
    for _ in range(max_iterations):
        t1 = np.zeros(p)
        t2 = np.zeros((p, p))
        for pat in patterns:
            o = pat.observed
            m = np.setdiff1d(np.arange(p), o)
            J = np.zeros((p, len(o)))  # x̂ = c + J x_o
            c = np.zeros(p)
            J[o, np.arange(len(o))] = 1.0
            extra = np.zeros((p, p))
            if len(m):
                beta = np.linalg.solve(cov[np.ix_(o, o)], cov[np.ix_(o, m)]).T  # m x o
                J[m] = beta
                c[m] = mean[m] - beta @ mean[o]
                extra[np.ix_(m, m)] = cov[np.ix_(m, m)] - beta @ cov[np.ix_(o, m)]
            centre = c + J @ pat.mean
            t1 += pat.n * centre
            t2 += pat.n * (J @ pat.cov @ J.T + np.outer(centre, centre) + extra)
        new_mean = t1 / n
        new_cov = t2 / n - np.outer(new_mean, new_mean)
        change = max(np.max(np.abs(new_mean - mean)), np.max(np.abs(new_cov - cov)))
        mean, cov = new_mean, new_cov
        if change < tolerance * max(1.0, np.max(np.abs(cov))):
            break
    return mean, (cov + cov.T) / 2


def independence_moments(X: np.ndarray, exogenous: Sequence[int] = ()) -> tuple[np.ndarray, np.ndarray]:
    """The baseline (independence) model's ML mean and covariance: available-case means and variances,
    with the exogenous block (complete rows) at its sample covariance."""
    mean = np.nanmean(X, axis=0)
    cov = np.diag(np.nanvar(X, axis=0))
    x = np.asarray(exogenous, dtype=int)
    if x.size:
        rows = X[:, x][~np.isnan(X[:, x]).any(axis=1)]
        centred = rows - rows.mean(axis=0)
        cov[np.ix_(x, x)] = centred.T @ centred / len(rows)
    return mean, cov
