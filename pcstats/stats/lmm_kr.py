"""Kenward-Roger adjusted covariance and denominator df of the fixed effects, as pbkrtest 0.5.2.

From a REML fit: the marginal covariance ``Σ = Σ_r γ_r G_r`` with ``γ`` the variances and covariances
of each random-effect term (lower triangle, column by column) and then the residual variance, and
``G_r = Z_t (I ⊗ E_r) Z_tᵀ`` (``E_r`` the indicator of that entry; ``I`` for the residual), as pbkrtest's
``.get_SigmaG``. Then, step by step as ``vcovAdj_internal``: ``P_r = −Xᵀ Σ⁻¹ G_r Σ⁻¹ X``,
``Q_rs = Xᵀ Σ⁻¹ G_r Σ⁻¹ G_s Σ⁻¹ X``, ``K_rs = tr(Σ⁻¹ G_r Σ⁻¹ G_s)``, the expected information
``IE2_rs = K_rs − 2 tr(Φ Q_rs) + tr(Φ P_r Φ P_s)``, ``W = 2 IE2⁻¹`` and
``Φ_A = Φ + 2 Φ U Φ`` with ``U = Σ_rs W_rs (Q_rs − P_r Φ P_s)``; the df of a contrast ``L`` are
``Lb_ddf`` (Kenward and Roger 1997, with pbkrtest's ``A1``, ``A2``, ``ρ``). lmerTest's
``summary(m, ddf = "Kenward-Roger")`` reports ``sqrt(diag(Φ_A))`` and these df.

Dense algebra with ``n x n`` matrices: :data:`MAX_ROWS` rows at most.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .lmm import Block, _random_design

__all__ = ["MAX_ROWS", "kenward_roger", "lb_ddf"]

MAX_ROWS = 3000


def _covariance_pieces(blocks: Sequence[Block], cov_re: Sequence[np.ndarray], sigma: float, n: int):
    """``(γ, G)`` as pbkrtest's ``.get_SigmaG``."""
    gamma, G = [], []
    for block, cov in zip(blocks, cov_re):
        p = np.asarray(block.Z).shape[1]
        Zs = _random_design([block], n).toarray()  # n x (m p), level-major
        m = block.n_levels
        for j in range(p):  # lower triangle, column by column
            for i in range(j, p):
                gamma.append(cov[i, j])
                E = np.zeros((p, p))
                E[i, j] = E[j, i] = 1.0
                G.append(Zs @ np.kron(np.eye(m), E) @ Zs.T)
    gamma.append(sigma**2)
    G.append(np.eye(n))
    return np.array(gamma), G


def kenward_roger(X: np.ndarray, blocks: Sequence[Block], cov_re: Sequence[np.ndarray], sigma: float,
                  phi: np.ndarray) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
    """``(Φ_A, P, W)``: the adjusted covariance of β and the pieces :func:`lb_ddf` needs.

    ``phi`` is the unadjusted covariance of β (lme4's ``vcov``) of the REML fit whose ``cov_re``
    (per term, on the data scale) and ``sigma`` are given.
    """
    X = np.asarray(X, dtype=float)
    n = X.shape[0]
    if n > MAX_ROWS:
        raise ValueError(f"Kenward-Roger df are computed with dense {n} x {n} matrices here; this model has {n} rows "
                         f"(at most {MAX_ROWS}). Use ddf='satterthwaite'.")
    gamma, G = _covariance_pieces(blocks, cov_re, sigma, n)
    Sigma = sum(g * Gr for g, Gr in zip(gamma, G))
    L = np.linalg.cholesky(Sigma)
    Linv = np.linalg.inv(L)
    SigmaInv = Linv.T @ Linv
    TT = SigmaInv @ X
    HH = [Gr @ SigmaInv for Gr in G]
    OO = [H @ X for H in HH]
    k = len(G)
    P = [-(O.T @ TT + (O.T @ TT).T) / 2 for O in OO]  # forceSymmetric(-t(O) %*% TT)
    Q = {}
    for r in range(k):
        left = OO[r].T @ SigmaInv
        for s in range(r, k):
            Q[r, s] = left @ OO[s]
    K = np.empty((k, k))
    for r in range(k):
        for s in range(r, k):
            K[r, s] = K[s, r] = np.sum(HH[r].T * HH[s])
    IE2 = np.empty((k, k))
    for r in range(k):
        phi_p = phi @ P[r]
        for s in range(r, k):
            IE2[r, s] = IE2[s, r] = K[r, s] - 2 * np.sum(phi * Q[r, s]) + np.sum(phi_p * (P[s] @ phi))
    eig = np.linalg.eigvalsh(IE2)
    W = 2 * (np.linalg.inv(IE2) if np.min(np.abs(eig)) > 1e-10 else np.linalg.pinv(IE2))
    W = (W + W.T) / 2
    U = np.zeros_like(phi)
    for r in range(k - 1):
        for s in range(r + 1, k):
            U += W[r, s] * (Q[r, s] - P[r] @ phi @ P[s])
    U = U + U.T
    for r in range(k):
        U += W[r, r] * (Q[r, r] - P[r] @ phi @ P[r])
    return phi + 2 * phi @ U @ phi, P, W


def lb_ddf(L: np.ndarray, phi: np.ndarray, P: Sequence[np.ndarray], W: np.ndarray) -> float:
    """Kenward-Roger denominator df of the contrast(s) ``L`` (pbkrtest's ``Lb_ddf``)."""
    L = np.atleast_2d(np.asarray(L, dtype=float))
    Theta = L.T @ np.linalg.solve(L @ phi @ L.T, L)
    ThetaV0 = Theta @ phi
    A1 = A2 = 0.0
    k = len(P)
    for i in range(k):
        ui = ThetaV0 @ P[i] @ phi
        for j in range(i, k):
            e = 1.0 if i == j else 2.0
            uj = ThetaV0 @ P[j] @ phi
            A1 += e * W[i, j] * np.trace(ui) * np.trace(uj)
            A2 += e * W[i, j] * np.sum(ui * uj.T)
    q = L.shape[0]
    B = (A1 + 6 * A2) / (2 * q)
    g = ((q + 1) * A1 - (q + 4) * A2) / ((q + 2) * A2)
    c1 = g / (3 * q + 2 * (1 - g))
    c2 = (q - g) / (3 * q + 2 * (1 - g))
    c3 = (q + 2 - g) / (3 * q + 2 * (1 - g))
    V0 = 1 + c1 * B
    V1 = 1 - c2 * B
    V2 = 1 - c3 * B
    V0 = 0.0 if abs(V0) < 1e-10 else V0
    ratio = 1.0 if abs(1 - A2 / q) < 1e-14 and abs(V1) < 1e-14 else (1 - A2 / q) / V1
    rho = 1 / q * ratio**2 * V0 / V2
    return float(4 + (q + 2) / (q * rho - 1))
