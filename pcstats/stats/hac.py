"""Newey-West (HAC) covariance, defined exactly as R's ``sandwich::NeweyWest``.

``vcov = (X'X)^-1 (sum of weighted lagged cross-products of u_t = x_t e_t) (X'X)^-1`` with
Bartlett weights ``1 - j / (lag + 1)``. Options as in sandwich:

* ``prewhite``: fit a VAR(1) without intercept to ``u_t`` by least squares, use its residuals,
  then recolour with ``D = (I - A)^-1``;
* ``adjust``: multiply by ``n / (n - k)``.

Rows are taken in the order given (sorted by year); as in sandwich, a missing year makes its
neighbours adjacent. The computation runs in an orthonormal basis of X (exactly equivalent), which
keeps full precision where R's sandwich loses a few digits with prewhitening (up to ~1.5e-8 relative
on the fixtures; see tests/test_r_parity.py).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["default_lags", "newey_west"]


def default_lags(n: int) -> int:
    """``floor(4 (n/100)^(2/9))``, the Newey-West (1994) rule of thumb statsmodels also uses.

    >>> default_lags(38)
    3
    """
    return int(math.floor(4.0 * (n / 100.0) ** (2.0 / 9.0)))


def newey_west(X: np.ndarray, resid: np.ndarray, lags: int, *, prewhite: bool = False, adjust: bool = False) -> np.ndarray:
    """HAC covariance of OLS coefficients.

    Parameters
    ----------
    X
        Design matrix (n x k) in time order.
    resid
        OLS residuals (n).
    lags
        Truncation lag (weights are zero beyond it).
    prewhite, adjust
        As in ``sandwich::NeweyWest(prewhite=, adjust=)``.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.column_stack([np.ones(5), np.arange(5.0)])
    >>> e = np.array([0.5, -0.2, -0.6, 0.1, 0.2])
    >>> newey_west(X, e, 0).round(4).tolist()   # lag 0 is White's HC0
    [[0.1124, -0.0332], [-0.0332, 0.0121]]
    """
    X = np.asarray(X, dtype=np.float64)
    # Work in the orthonormal basis Q of X = Q R: the covariance is invariant to reparameterising
    # X -> X T (here T = R^-1), also with prewhitening, and Q is well conditioned where X is not
    # (an intercept next to years near 2000). Map back with R^-1 at the end.
    Q, R = np.linalg.qr(X)
    u = Q * np.asarray(resid, dtype=np.float64)[:, None]
    n_orig, k = u.shape
    D = None
    if prewhite:
        # VAR(1) on SD-scaled series, as R's ar.ols does
        sc = u.std(axis=0, ddof=1)
        sc[sc == 0] = 1.0
        scaled = u / sc
        lagged, current = scaled[:-1], scaled[1:]
        coef, *_ = np.linalg.lstsq(lagged, current, rcond=None)  # current = lagged @ coef
        u = (current - lagged @ coef) * sc
        A = (coef.T * sc[:, None]) / sc[None, :]  # u_t = A u_{t-1} + v_t in the original scale
        D = np.linalg.inv(np.eye(k) - A)
    n = u.shape[0]
    meat = u.T @ u
    for j in range(1, min(lags, n - 1) + 1):
        w = 1.0 - j / (lags + 1.0)
        cross = u[:-j].T @ u[j:]
        meat += w * (cross + cross.T)
    if adjust:
        meat *= n_orig / (n_orig - k)
    if D is not None:
        meat = D @ meat @ D.T
    R_inv = np.linalg.inv(R)  # (Q'Q)^-1 = I, so the sandwich in the Q basis is the meat itself
    return R_inv @ meat @ R_inv.T
