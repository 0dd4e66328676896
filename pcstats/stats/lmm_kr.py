"""Kenward-Roger adjusted covariance and denominator df of the fixed effects, as pbkrtest 0.5.2 computes them.

A REML fit's marginal covariance is ``Σ = Σ_r γ_r G_r``: ``γ`` the variances and covariances of each
random-effect term (its lower triangle column by column), then the residual variance; ``G_r = Z D_r Z'``
with ``D_r = I_m ⊗ E_r`` on that term's columns of ``Z`` (``E_r`` the symmetric indicator of the entry)
and ``G = I`` for the residual (pbkrtest's ``.get_SigmaG``). Then, as pbkrtest's ``vcovAdj_internal``
(called by ``vcovAdj.lmerMod``): ``Φ = (X'Σ⁻¹X)⁻¹``, ``P_r = −X'Σ⁻¹G_rΣ⁻¹X``,
``Q_rs = X'Σ⁻¹G_rΣ⁻¹G_sΣ⁻¹X``, ``K_rs = tr(Σ⁻¹G_rΣ⁻¹G_s)``, the expected information
``IE2_rs = K_rs − 2 tr(Φ Q_rs) + tr(Φ P_r Φ P_s)``, ``W = 2 IE2⁻¹`` (a pseudo-inverse when an eigenvalue
is below 1e-10) and ``Φ_A = Φ + 2 Φ U Φ`` with ``U = Σ_rs W_rs (Q_rs − P_r Φ P_s)``. The df of a
contrast ``L`` are pbkrtest's ``Lb_ddf`` (Kenward and Roger 1997, their ``A1``, ``A2``, ``ρ``) and the
F scaling is ``KRmodcomp``'s (``.KR_adjust``). lmerTest's ``summary(m, ddf = "Kenward-Roger")``
(``contest1D`` → ``get_KR1D``) reports ``sqrt(diag(Φ_A))`` and ``Lb_ddf`` of each unit row, unscaled.

pbkrtest forms the ``n x n`` matrices ``Σ⁻¹`` and ``G_r Σ⁻¹``. Here every product goes through the
``q`` random effects instead, with ``S = Σ⁻¹Z = Z (σ²I + D Z'Z)⁻¹`` (``D = Σ_r γ_r D_r``, solved through
the symmetric ``σ²I + F'Z'ZF`` with ``FF' = D``) and ``Σ⁻¹v = σ⁻²(v − S D Z'v)``: ``A = Z'Σ⁻¹Z``,
``B = Z'Σ⁻¹X``, ``A₂ = Z'Σ⁻²Z = S'S``, ``B₂ = Z'Σ⁻²X``, so that for terms ``r, s`` ``P_r = −B'D_rB``,
``Q_rs = B'D_r A D_s B``, ``K_rs = tr(D_r A D_s A)``, and with the residual ``e``
``P_e = −X'Σ⁻²X``, ``Q_re = B'D_r B₂``, ``Q_ee = X'Σ⁻³X``, ``K_re = tr(D_r A₂)``, ``K_ee = tr(Σ⁻²)``.
Memory and time grow as ``n q`` and ``n q²``: :data:`MAX_EFFECTS` random effects and
:data:`MAX_CELLS` entries of ``S`` at most (ample for designs of tens of thousands of rows and a few
hundred levels).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import linalg

from .lmm import Block, _random_design

__all__ = ["MAX_CELLS", "MAX_EFFECTS", "kenward_roger", "kenward_roger_contrast"]

MAX_EFFECTS = 3000  # q: the q x q matrices D_r A (one per variance parameter) are dense
MAX_CELLS = 20_000_000  # n q: S = Σ⁻¹Z is a dense n x q matrix (160 MB)


def kenward_roger(X: np.ndarray, blocks: Sequence[Block], cov_re: Sequence[np.ndarray],
                  sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Kenward-Roger adjusted covariance of the fixed effects and the KR df of each coefficient.

    pbkrtest's ``vcovAdj`` and, for each unit row ``L``, ``Lb_ddf(L, vcov(m), vcovAdj(m))``: what
    ``lmerTest::summary(m, ddf = "Kenward-Roger")`` reports (SEs ``sqrt(diag(adjusted))``, t tests on
    these df).

    Parameters
    ----------
    X
        Fixed-effect design, ``n x p``, full column rank.
    blocks
        The random-effect terms (:class:`pcstats.stats.lmm.Block`).
    cov_re
        Each term's ``p_k x p_k`` covariance matrix of the REML fit (``LMMFit.cov_re``; lme4's ``VarCorr``).
    sigma
        Residual SD of the REML fit.

    Returns
    -------
    adjusted : ndarray, shape (p, p)
        ``Φ_A``, pbkrtest's ``vcovAdj``.
    df : ndarray, shape (p,)
        Denominator df of each coefficient's t test.

    Raises
    ------
    ValueError
        The design has more than :data:`MAX_EFFECTS` random effects or ``n q`` above :data:`MAX_CELLS`.

    Examples
    --------
    >>> import numpy as np
    >>> from pcstats.stats.lmm import Block
    >>> codes = np.repeat(np.arange(6), 4)
    >>> X = np.column_stack([np.ones(24), np.tile(np.arange(4.0) - 1.5, 6)])
    >>> adjusted, df = kenward_roger(X, [Block(np.ones((24, 1)), codes, 6)], [np.array([[2.0]])], 1.0)
    >>> np.round(df, 6)  # balanced random intercepts: the between- and within-group df
    array([ 5., 17.])
    """
    phi, adjusted, P, W = _vcov_adj(X, blocks, cov_re, sigma)
    eye = np.eye(phi.shape[0])
    return adjusted, np.array([_lb_ddf(eye[[j]], phi, P, W)[0] for j in range(len(eye))])


def kenward_roger_contrast(L: np.ndarray, X: np.ndarray, blocks: Sequence[Block], cov_re: Sequence[np.ndarray],
                           sigma: float) -> tuple[float, float]:
    """Denominator df and F scaling of the KR F test of ``L β = 0`` (pbkrtest's ``KRmodcomp``).

    ``L`` is ``q x p`` of full row rank; the test statistic is ``F.scaling · (Lβ)'(L Φ_A L')⁻¹(Lβ) / q``
    on ``q`` and ``ddf`` df (``.KR_adjust``; the scaling is 1 when ``|ddf − 2| < 0.01``). The other
    arguments are those of :func:`kenward_roger`.

    Examples
    --------
    >>> import numpy as np
    >>> from pcstats.stats.lmm import Block
    >>> codes = np.repeat(np.arange(6), 4)
    >>> X = np.column_stack([np.ones(24), np.tile(np.arange(4.0) - 1.5, 6)])
    >>> ddf, scale = kenward_roger_contrast(np.eye(2), X, [Block(np.ones((24, 1)), codes, 6)], [np.array([[2.0]])], 1.0)
    >>> round(ddf, 4), round(scale, 4)
    (9.6106, 0.936)
    """
    phi, _, P, W = _vcov_adj(X, blocks, cov_re, sigma)
    L = np.atleast_2d(np.asarray(L, dtype=float))
    ddf, A2 = _lb_ddf(L, phi, P, W)
    q = L.shape[0]
    return ddf, (1.0 if abs(ddf - 2) < 0.01 else ddf * (1 - A2 / q) / (ddf - 2))


class _Entry:
    """One variance parameter of a term: ``D_r = I_m ⊗ E_ij`` on the rows ``rows_i``/``rows_j`` of ``Z'``."""

    def __init__(self, rows_i: np.ndarray, rows_j: np.ndarray):
        self.i, self.j, self.diagonal = rows_i, rows_j, bool(np.array_equal(rows_i, rows_j))

    def times(self, M: np.ndarray) -> np.ndarray:
        """``D_r M``."""
        out = np.zeros_like(M)
        out[self.i] = M[self.j]
        if not self.diagonal:
            out[self.j] = M[self.i]
        return out

    def trace(self, M: np.ndarray) -> float:
        """``tr(D_r M)``."""
        t = np.sum(M[self.j, self.i])
        return float(t if self.diagonal else t + np.sum(M[self.i, self.j]))


def _entries(blocks: Sequence[Block], cov_re: Sequence[np.ndarray]) -> tuple[list[_Entry], np.ndarray, np.ndarray]:
    """The ``D_r`` in pbkrtest's order (``.get_SigmaG``), ``D = Σ γ_r D_r`` and a factor ``F`` with ``FF' = D``."""
    entries, D_parts, F_parts, offset = [], [], [], 0
    for block, cov in zip(blocks, cov_re):
        cov = np.asarray(cov, dtype=float)
        p, m = cov.shape[0], block.n_levels
        rows = offset + np.arange(m)[:, None] * p + np.arange(p)[None, :]  # level-major, as _random_design
        for j in range(p):  # lower triangle column by column (= pbkrtest's .index2UpperTriEntry)
            for i in range(j, p):
                entries.append(_Entry(rows[:, i], rows[:, j]))
        values, vectors = np.linalg.eigh(cov)  # a factor that exists for singular fits too
        root = vectors * np.sqrt(np.clip(values, 0, None))
        D_parts.append(np.kron(np.eye(m), cov))
        F_parts.append(np.kron(np.eye(m), root))
        offset += m * p
    return entries, linalg.block_diag(*D_parts), linalg.block_diag(*F_parts)


def _vcov_adj(X, blocks, cov_re, sigma):
    """``(Φ, Φ_A, P, W)`` of pbkrtest's ``vcovAdj_internal``, through the random effects (module docstring)."""
    X = np.asarray(X, dtype=float)
    n = X.shape[0]
    Z = _random_design(blocks, n)
    q = Z.shape[1]
    if q > MAX_EFFECTS or n * q > MAX_CELLS:
        raise ValueError(f"Kenward-Roger df are computed with dense rows x random effects matrices here: this model "
                         f"has {n} rows and {q} random effects ({n * q:,} cells; at most {MAX_CELLS:,}, and at most "
                         f"{MAX_EFFECTS} random effects). Use ddf='satterthwaite'.")
    s2 = float(sigma) ** 2
    entries, D, F = _entries(blocks, cov_re)
    ZtZ = (Z.T @ Z).toarray()
    # S = Σ⁻¹Z = σ⁻² Z (I − F (σ²I + F'Z'ZF)⁻¹ F'Z'Z)
    inner = linalg.cho_factor(s2 * np.eye(q) + F.T @ ZtZ @ F)
    S = np.asarray(Z @ ((np.eye(q) - F @ linalg.cho_solve(inner, F.T @ ZtZ)) / s2))

    def sigma_inv(v: np.ndarray) -> np.ndarray:  # Σ⁻¹v = σ⁻²(v − S D Z'v)
        return (v - S @ (D @ (Z.T @ v))) / s2

    def sym(M: np.ndarray) -> np.ndarray:
        return (M + M.T) / 2

    T = sigma_inv(X)
    A, B, C = sym(np.asarray(Z.T @ S)), np.asarray(Z.T @ T), sym(X.T @ T)
    A2, B2, C2 = sym(S.T @ S), S.T @ T, sym(T.T @ T)
    C3 = sym(T.T @ sigma_inv(T))
    tr_inv = (n - np.sum(D * A)) / s2
    tr_inv2 = (tr_inv - np.sum(D * A2)) / s2
    phi = sym(np.linalg.inv(C))  # lme4's vcov at these estimates

    DB = [e.times(B) for e in entries]
    DA = [e.times(A) for e in entries]
    k = len(entries) + 1  # and the residual variance, last
    P = [-sym(B.T @ db) for db in DB] + [-C2]
    Q, K = {}, np.empty((k, k))
    for r in range(k - 1):
        for s in range(r, k - 1):
            Q[r, s] = DB[r].T @ A @ DB[s]
            K[r, s] = K[s, r] = np.sum(DA[r] * DA[s].T)
        Q[r, k - 1] = DB[r].T @ B2
        K[r, k - 1] = K[k - 1, r] = entries[r].trace(A2)
    Q[k - 1, k - 1] = C3
    K[k - 1, k - 1] = tr_inv2

    IE2 = np.empty((k, k))
    for r in range(k):
        phi_p = phi @ P[r]
        for s in range(r, k):
            IE2[r, s] = IE2[s, r] = K[r, s] - 2 * np.sum(phi * Q[r, s]) + np.sum(phi_p * (P[s] @ phi))
    if np.min(np.abs(np.linalg.eigvalsh(IE2))) > 1e-10:
        W = 2 * np.linalg.inv(IE2)
    else:  # MASS::ginv: singular values below sqrt(eps) times the largest dropped
        W = 2 * np.linalg.pinv(IE2, rcond=np.sqrt(np.finfo(float).eps))
    W = (W + W.T) / 2
    U = np.zeros_like(phi)
    for r in range(k - 1):
        for s in range(r + 1, k):
            U += W[r, s] * (Q[r, s] - P[r] @ phi @ P[s])
    U = U + U.T
    for r in range(k):
        U += W[r, r] * (Q[r, r] - P[r] @ phi @ P[r])
    return phi, phi + 2 * phi @ U @ phi, P, W


def _lb_ddf(L: np.ndarray, phi: np.ndarray, P: Sequence[np.ndarray], W: np.ndarray) -> tuple[float, float]:
    """pbkrtest's ``Lb_ddf``: the denominator df of ``L`` (rows of full rank), and its ``A2``."""
    Theta = L.T @ np.linalg.solve(L @ phi @ L.T, L)
    ThetaV0 = Theta @ phi
    u = [ThetaV0 @ Pi @ phi for Pi in P]
    A1 = A2 = 0.0
    for i in range(len(P)):
        for j in range(i, len(P)):
            e = 1.0 if i == j else 2.0
            A1 += e * W[i, j] * np.trace(u[i]) * np.trace(u[j])
            A2 += e * W[i, j] * np.sum(u[i] * u[j].T)
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
    ratio = 1.0 if abs(1 - A2 / q) < 1e-14 and abs(V1) < 1e-14 else (1 - A2 / q) / V1  # .divZero
    rho = ratio**2 * V0 / V2 / q
    return float(4 + (q + 2) / (q * rho - 1)), float(A2)
