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


def em_moments(X: np.ndarray, patterns: Sequence, *, tolerance: float = 1e-10,
               max_iterations: int = 10_000) -> tuple[np.ndarray, np.ndarray]:
    """ML mean and covariance of the rows of ``X`` (NaN where missing) under missingness at random.

    ``patterns`` are :class:`pcstats.stats.sem_ml.Patterns` (the patterns with the same number of
    observed variables, stacked). Starts at the available-case means and variances and stops when no
    moment changes by more than ``tolerance`` times the largest variance.

    Examples
    --------
    >>> import numpy as np
    >>> from pcstats.stats.sem_ml import group_data
    >>> X = np.array([[1.0, 2.0], [2.0, np.nan], [3.0, 5.0], [4.0, 4.0]])
    >>> d = group_data(X)
    >>> np.round(d.mean, 4)
    array([2.5   , 3.5357])
    """
    n, p = X.shape
    mean = np.nanmean(X, axis=0)
    cov = np.diag(np.nanvar(X, axis=0))
    layout = []  # per batch: observed then missing positions (b, p), and the batch
    for batch in patterns:
        b, m = batch.observed.shape
        missing = np.ones((b, p), dtype=bool)
        missing[np.arange(b)[:, None], batch.observed] = False
        order = np.concatenate([batch.observed, np.nonzero(missing)[1].reshape(b, p - m)], axis=1)
        layout.append((order, m, batch))
    for _ in range(max_iterations):
        t1 = np.zeros(p)
        t2 = np.zeros((p, p))
        for order, m, batch in layout:
            o, mis = order[:, :m], order[:, m:]
            c_oo = cov[o[:, :, None], o[:, None, :]]
            c_om = cov[o[:, :, None], mis[:, None, :]]
            beta = np.swapaxes(np.linalg.solve(c_oo, c_om), 1, 2)  # (b, q, m): E[x_m | x_o] slopes
            J = np.concatenate([np.broadcast_to(np.eye(m), (len(o), m, m)), beta], axis=1)  # x̂ = c + J x_o
            centre = np.concatenate([batch.mean, mean[mis] + np.einsum("bqm,bm->bq", beta,
                                                                       batch.mean - mean[o])], axis=1)
            moment = J @ batch.cov @ np.swapaxes(J, 1, 2) + centre[:, :, None] * centre[:, None, :]
            moment[:, m:, m:] += cov[mis[:, :, None], mis[:, None, :]] - beta @ c_om
            np.add.at(t1, order, batch.n[:, None] * centre)
            np.add.at(t2, (order[:, :, None], order[:, None, :]), batch.n[:, None, None] * moment)
        new_mean = t1 / n
        new_cov = t2 / n - np.outer(new_mean, new_mean)
        change = max(np.max(np.abs(new_mean - mean)), np.max(np.abs(new_cov - cov)))
        mean, cov = new_mean, new_cov
        if change < tolerance * max(1.0, np.max(np.diag(cov))):
            break
    return mean, (cov + cov.T) / 2


def independence_moments(X: np.ndarray, exogenous: Sequence[int] = ()) -> tuple[np.ndarray, np.ndarray]:
    """The baseline (independence) model's ML mean and covariance: available-case means and variances,
    with the exogenous block (complete rows) at its sample covariance."""
    if not np.isnan(X).any():
        mean = X.mean(axis=0)
        cov = np.diag(((X - mean) ** 2).mean(axis=0))
    else:
        mean = np.nanmean(X, axis=0)
        cov = np.diag(np.nanvar(X, axis=0))
    x = np.asarray(exogenous, dtype=int)
    if x.size:
        rows = X[:, x]
        rows = rows[~np.isnan(rows).any(axis=1)]
        centred = rows - rows.mean(axis=0)
        cov[np.ix_(x, x)] = centred.T @ centred / len(rows)
    return mean, cov
