"""A linear mixed model's quantities given its variance components, as lme4 computes them.

- :func:`fixed_covariance`: ``Cov(β̂) = σ² (Xᵀ V⁻¹ X)⁻¹`` with ``V = I + ZΛΛᵀZᵀ`` (lme4's ``vcov``);
- :func:`conditional_modes`: BLUPs and their conditional SDs (``ranef(condVar = TRUE)``).

Engines that estimate the variances their own way (MixedLM) report these, so every engine's SEs
mean the same thing. With ``Λ`` the relative covariance factor (``cov_k = σ² T_k T_kᵀ`` for each term, repeated over
its levels), ``u = (ΛᵀZᵀZΛ + I)⁻¹ ΛᵀZᵀ(y − Xβ)``, ``b = Λu`` and
``Var(b | y) = σ² Λ (ΛᵀZᵀZΛ + I)⁻¹ Λᵀ``. This form needs no inverse of the covariance, so it
also holds for singular fits (a zero variance gives zero modes with zero SD).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import linalg

__all__ = ["semidefinite_cholesky", "conditional_modes", "fixed_covariance"]


def semidefinite_cholesky(a: np.ndarray) -> np.ndarray:
    """Lower-triangular ``L`` with ``L Lᵀ = a`` for a positive semi-definite ``a`` (zero columns where rank is lost).

    >>> semidefinite_cholesky(np.array([[4.0, 2.0], [2.0, 1.0]]))
    array([[2., 0.],
           [1., 0.]])
    """
    a = np.asarray(a, dtype=float)
    p = a.shape[0]
    out = np.zeros_like(a)
    for j in range(p):
        d = a[j, j] - out[j, :j] @ out[j, :j]
        if d <= 1e-14 * max(1.0, abs(a[j, j])):
            continue
        out[j, j] = np.sqrt(d)
        out[j + 1:, j] = (a[j + 1:, j] - out[j + 1:, :j] @ out[j, :j]) / out[j, j]
    return out


def conditional_modes(
    resid: np.ndarray,
    Z: Sequence[np.ndarray],
    codes: Sequence[np.ndarray],
    n_levels: Sequence[int],
    cov_re: Sequence[np.ndarray],
    sigma: float,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Modes and conditional SDs per term, each ``n_levels × p``.

    ``resid`` is ``y − Xβ``; ``Z[k]`` the term's raw columns (n × p), ``codes[k]`` the level of
    each row.
    """
    ZL, Lam = _relative_design(len(resid), Z, codes, n_levels, cov_re, sigma)
    chol = linalg.cho_factor(ZL.T @ ZL + np.eye(ZL.shape[1]), lower=True)
    u = linalg.cho_solve(chol, ZL.T @ resid)
    b = Lam @ u
    var = sigma**2 * np.einsum("ij,ji->i", Lam, linalg.cho_solve(chol, Lam.T))
    modes, sds, start = [], [], 0
    for Zk, mk in zip(Z, n_levels):
        size = mk * Zk.shape[1]
        modes.append(b[start:start + size].reshape(mk, Zk.shape[1]))
        sds.append(np.sqrt(np.clip(var[start:start + size], 0, None)).reshape(mk, Zk.shape[1]))
        start += size
    return modes, sds


def fixed_covariance(
    X: np.ndarray,
    Z: Sequence[np.ndarray],
    codes: Sequence[np.ndarray],
    n_levels: Sequence[int],
    cov_re: Sequence[np.ndarray],
    sigma: float,
) -> np.ndarray:
    """``σ² (Xᵀ V⁻¹ X)⁻¹`` with ``σ² V`` the marginal covariance of y (Woodbury through ``Λ``).

    >>> X = np.ones((4, 1)); Z = [np.ones((4, 1))]; codes = [np.array([0, 0, 1, 1])]
    >>> round(float(fixed_covariance(X, Z, codes, [2], [np.array([[1.0]])], 1.0)[0, 0]), 12)   # (1 + 1/2) / 2
    0.75
    """
    ZL, _ = _relative_design(X.shape[0], Z, codes, n_levels, cov_re, sigma)
    ZLX = ZL.T @ X
    chol = linalg.cho_factor(ZL.T @ ZL + np.eye(ZL.shape[1]), lower=True)
    precision = X.T @ X - ZLX.T @ linalg.cho_solve(chol, ZLX)
    return sigma**2 * linalg.inv(precision)


def _relative_design(n, Z, codes, n_levels, cov_re, sigma) -> tuple[np.ndarray, np.ndarray]:
    """``ZΛ`` and ``Λ``, with Z expanded to one column per level and term column (lme4's order)."""
    cols, lams = [], []
    for Zk, ck, mk, cov in zip(Z, codes, n_levels, cov_re):
        p = Zk.shape[1]
        full = np.zeros((n, mk * p))
        for j in range(p):
            full[np.arange(n), ck * p + j] = Zk[:, j]
        cols.append(full)
        lams.append(np.kron(np.eye(mk), semidefinite_cholesky(np.asarray(cov, float) / sigma**2)))
    Lam = linalg.block_diag(*lams)
    return np.hstack(cols) @ Lam, Lam
