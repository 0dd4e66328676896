"""Satterthwaite degrees of freedom of a linear mixed model, as lmerTest computes them.

lmerTest 3.1-3 (``as_lmerModLT``, ``contest1D``) takes ``varpar = (theta, sigma)``, the Hessian
``H`` of the (RE)ML deviance in ``varpar`` (lme4's deviance with ``beta`` profiled and ``sigma``
free, ``devfun_vp``) and the derivatives of ``vcov(beta) = sigma^2 (X'V^-1 X)^-1`` in ``varpar``;
``vcov(varpar) = 2 H^+`` (eigenvalues below 1e-8 dropped) and, for a coefficient ``j``,
``df = 2 V_jj^2 / (g' vcov(varpar) g)`` with ``g_i = dV_jj / dvarpar_i``. lmerTest differences
numerically (numDeriv's Richardson extrapolation); here the derivatives are exact where the
pieces are at hand (:func:`exact_hessian`, :func:`variance_gradients`) and numDeriv's differences, reproduced step for
step (:func:`hessian`), where they are not.

The exact derivatives, with ``W = I + Z G Z'`` (``V = sigma^2 W``), ``G = Lambda Lambda'``,
``G_i = dG/dtheta_i = E_i Lambda' + Lambda E_i'`` (``E_i`` the indicator of ``theta_i`` in
``Lambda``), ``G_ij = E_i E_j' + E_j E_i'``, ``nu = n - p`` (REML) or ``n`` (ML), and the deviance
``D = nu log sigma^2 + f(theta) + R(theta) / sigma^2`` (``f = log|W|`` plus ``log|X'W^-1X|`` for
REML, ``R`` the penalised residual sum of squares ``y'P y``, ``P = W^-1 - W^-1 X C X' W^-1``,
``C = (X'W^-1X)^-1``), all in ``q`` dimensions through ``S_W = Z'W^-1 Z``, ``B = Z'W^-1 X`` and
``a = Z'P y``:

* ``f_i = tr(S G_i)``, ``f_ij = tr(S G_ij) - tr(S G_i S G_j)`` with ``S = Z'PZ = S_W - B C B'``
  (REML) or ``S_W`` (ML);
* ``R_i = -a'G_i a``, ``R_ij = -a'G_ij a + 2 (G_i a)' Z'PZ (G_j a)``;
* ``D_ij = f_ij + R_ij / sigma^2``, ``D_i,sigma = -2 R_i / sigma^3``,
  ``D_sigma,sigma = -2 nu / sigma^2 + 6 R / sigma^4``;
* ``dV/dtheta_i = sigma^2 C B'G_i B C``, ``dV/dsigma = 2 sigma C``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import sparse

__all__ = ["Pieces", "exact_hessian", "hessian", "satterthwaite", "variance_gradients"]

_RICHARDSON = 4  # numDeriv's r
_ZERO_TOL = float(np.sqrt(np.finfo(float).eps / 7e-7))  # numDeriv's zero.tol


@dataclass(frozen=True)
class Pieces:
    """What the exact derivatives need, at the fitted ``(theta, sigma)``.

    ``S_W`` is dense (``q x q``) or, with one random-effect term, ``None``: ``S_W`` is then block
    diagonal and given by its ``p x p`` blocks, one per level (``SW_blocks[0]``, ``m x p x p``).
    """

    sigma: float
    nu: int
    pwrss: float
    reml: bool
    a: np.ndarray  # Z'P y (q)
    B: np.ndarray  # Z'W^-1 X (q x p)
    C: np.ndarray  # (X'W^-1 X)^-1 (p x p)
    lam: sparse.csr_matrix  # Lambda (q x q)
    lam_rows: np.ndarray  # positions of theta in Lambda: row, column, index of theta
    lam_cols: np.ndarray
    lam_theta: np.ndarray
    templates: tuple[np.ndarray, ...]  # T per term
    template_index: tuple[tuple[np.ndarray, np.ndarray], ...]  # per term: rows, columns of theta in T
    SW: np.ndarray | None
    SW_blocks: tuple[np.ndarray, ...]  # per term: the m x p x p diagonal blocks of S_W


# ------------------------------------------------------------------------------------------ exact


class _Derivative:
    """``E_i' M`` and ``G_i M`` for each theta element ``i``."""

    def __init__(self, pc: Pieces):
        self.lam = pc.lam
        self.k = int(pc.lam_theta.max()) + 1
        where = [np.flatnonzero(pc.lam_theta == i) for i in range(self.k)]
        self.rows = [pc.lam_rows[w] for w in where]
        self.cols = [pc.lam_cols[w] for w in where]

    def Et(self, i: int, M: np.ndarray) -> np.ndarray:
        out = np.zeros_like(M)
        out[self.cols[i]] = M[self.rows[i]]
        return out

    def __call__(self, i: int, M: np.ndarray) -> np.ndarray:  # G_i M = E_i (Lambda' M) + Lambda (E_i' M)
        out = np.asarray(self.lam @ self.Et(i, M))
        out[self.rows[i]] += np.asarray(self.lam.T @ M)[self.cols[i]]
        return out


def variance_gradients(pc: Pieces) -> np.ndarray:
    """``dV_jj / dvarpar`` (p x k+1): ``sigma^2 diag(K'G_i K)`` with ``K = B C``, and ``2 sigma diag(C)``."""
    G = _Derivative(pc)
    K = pc.B @ pc.C
    return np.column_stack([pc.sigma**2 * np.einsum("ij,ij->j", K, G(i, K)) for i in range(G.k)]
                           + [2.0 * pc.sigma * np.diag(pc.C)])


def exact_hessian(pc: Pieces) -> np.ndarray:
    """``H`` (k+1 x k+1, varpar = theta then sigma), exact; needs ``S_W`` (dense or one term)."""
    G = _Derivative(pc)
    k, Et = G.k, G.Et
    term, pos = _theta_terms(pc)

    def SW_dot(M: np.ndarray) -> np.ndarray:
        if pc.SW is not None:
            return pc.SW @ M
        D = pc.SW_blocks[0]
        m, p, _ = D.shape
        return (D @ M.reshape(m, p, -1)).reshape(M.shape)

    B, C, a, sigma = pc.B, pc.C, pc.a, pc.sigma
    GB = [G(i, B) for i in range(k)]
    SGB = [SW_dot(x) for x in GB]
    Ga = [G(i, a) for i in range(k)]
    BtGa = [B.T @ x for x in Ga]
    EtB = [Et(i, B) for i in range(k)]
    Eta = [Et(i, a) for i in range(k)]
    BGB = [B.T @ x for x in GB]  # B'G_i B
    trace_SW_GG = _trace_SW_G_SW_G(pc, G, pos, k)
    SGa = [SW_dot(x) for x in Ga]

    R1 = np.array([-a @ Ga[i] for i in range(k)])
    H = np.empty((k + 1, k + 1))
    for i in range(k):
        for j in range(i + 1):
            same_column = term[i] == term[j] and pos[i][1] == pos[j][1]
            tr_SW_Gij = 2.0 * np.sum(pc.SW_blocks[term[i]][:, pos[i][0], pos[j][0]]) if same_column else 0.0
            tr_S_GSG = trace_SW_GG[i, j]
            tr_S_Gij = tr_SW_Gij
            if pc.reml:
                BGijB = EtB[i].T @ EtB[j] + EtB[j].T @ EtB[i]
                tr_S_Gij -= np.sum(C * BGijB)
                tr_S_GSG -= np.sum(C * (GB[i].T @ SGB[j])) + np.sum(C * (GB[j].T @ SGB[i]))
                tr_S_GSG += np.sum((C @ BGB[i]) * (C @ BGB[j]).T)
            f2 = tr_S_Gij - tr_S_GSG
            R2 = -2.0 * (Eta[i] @ Eta[j]) + 2.0 * (Ga[i] @ SGa[j] - BtGa[i] @ C @ BtGa[j])
            H[i, j] = H[j, i] = f2 + R2 / sigma**2
        H[i, k] = H[k, i] = -2.0 * R1[i] / sigma**3
    H[k, k] = -2.0 * pc.nu / sigma**2 + 6.0 * pc.pwrss / sigma**4
    return H


def _theta_terms(pc: Pieces) -> tuple[list[int], list[tuple[int, int]]]:
    """Per theta element: its term, and its (row, column) in that term's template."""
    term, pos = [], []
    for t, (r, c) in enumerate(pc.template_index):
        term += [t] * r.size
        pos += list(zip(r.tolist(), c.tolist()))
    return term, pos


def _trace_SW_G_SW_G(pc: Pieces, G: Callable, pos: list[tuple[int, int]], k: int) -> np.ndarray:
    """``tr(S_W G_i S_W G_j)`` for every pair: dense ``S_W``, or per level when it is block diagonal."""
    out = np.empty((k, k))
    if pc.SW is not None:
        V = [G(i, pc.SW) for i in range(k)]  # G_i S_W
        for i in range(k):
            for j in range(i + 1):
                out[i, j] = out[j, i] = np.sum(V[i] * V[j].T)
        return out
    D, T = pc.SW_blocks[0], pc.templates[0]
    g = []
    for r, c in pos:
        e = np.zeros_like(T)
        e[r, c] = 1.0
        g.append(e @ T.T + T @ e.T)
    gD = [gi @ D for gi in g]  # m x p x p
    for i in range(k):
        for j in range(i + 1):
            out[i, j] = out[j, i] = float(np.einsum("lab,lba->", gD[i], gD[j]))
    return out


# ----------------------------------------------------------------------------- numDeriv differences


def _richardson(a: np.ndarray) -> np.ndarray:
    """numDeriv's Richardson extrapolation over the first axis (r halvings, v = 2)."""
    a = np.array(a, dtype=np.float64)
    r = a.shape[0]
    for m in range(1, r):
        a = (a[1:r + 1 - m] * 4.0**m - a[:r - m]) / (4.0**m - 1.0)
    return a[0]


def _steps(x: np.ndarray, d: float, eps: float = 1e-4) -> np.ndarray:
    return np.abs(d * x) + eps * (np.abs(x) < _ZERO_TOL)


def hessian(f: Callable[[np.ndarray], float], x: np.ndarray, r: int = _RICHARDSON) -> np.ndarray:
    """``numDeriv::hessian`` (method "Richardson", d = 0.1, eps = 1e-4, r = 4), step for step."""
    k = x.size
    h0 = _steps(x, 0.1)
    f0 = f(x)
    hdiag = np.empty(k)
    H = np.empty((k, k))
    for i in range(k):
        e = np.zeros(k)
        e[i] = 1.0
        approx = []
        for j in range(r):
            h = h0 / 2.0**j
            approx.append((f(x + e * h) - 2.0 * f0 + f(x - e * h)) / h[i] ** 2)
        hdiag[i] = H[i, i] = _richardson(approx)
    for i in range(k):
        for j in range(i):
            e = np.zeros(k)
            e[i] = e[j] = 1.0
            approx = []
            for m in range(r):
                h = h0 / 2.0**m
                num = f(x + e * h) - 2.0 * f0 + f(x - e * h) - hdiag[i] * h[i] ** 2 - hdiag[j] * h[j] ** 2
                approx.append(num / (2.0 * h[i] * h[j]))
            H[i, j] = H[j, i] = _richardson(approx)
    return H


# ---------------------------------------------------------------------------------------- the df


def satterthwaite(H: np.ndarray, dV: np.ndarray, var_beta: np.ndarray) -> np.ndarray:
    """``df_j = 2 V_jj^2 / (g_j' vcov(varpar) g_j)``, ``vcov(varpar) = 2 H^+`` (eigenvalues > 1e-8)."""
    values, vectors = np.linalg.eigh(H)
    pos = values > 1e-8
    vcov_varpar = 2.0 * (vectors[:, pos] / values[pos]) @ vectors[:, pos].T
    denom = np.einsum("ji,ik,jk->j", dV, vcov_varpar, dV)
    return 2.0 * np.asarray(var_beta) ** 2 / denom

