"""Linear mixed models fitted the way lme4's ``lmer`` fits them, in numpy/scipy.

The model is ``y = X beta + Z b + e`` with ``b ~ N(0, sigma^2 Lambda Lambda')`` and
``e ~ N(0, sigma^2 I)`` (Bates, Maechler, Bolker and Walker 2015, "Fitting Linear Mixed-Effects
Models Using lme4", J. Stat. Softw. 67(1), section 3):

* ``Lambda`` is block diagonal: one lower-triangular ``p x p`` template ``T`` per random-effect term,
  repeated for each level of its grouping factor. ``theta`` lists each template column by column
  (lme4's ``getME(m, "theta")``); diagonal elements are bounded below by 0.
* For a given ``theta`` the penalised least squares problem is solved through the Cholesky factor
  ``L`` of ``A = Lambda' Z' Z Lambda + I``; ``beta`` and ``sigma`` are profiled out, giving

  - ML:   ``d(theta) = log|A| + n (1 + log(2 pi r2 / n))``
  - REML: ``d(theta) = log|A| + log|RX'RX| + (n - p) (1 + log(2 pi r2 / (n - p)))``

  with ``r2`` the penalised residual sum of squares and ``RX'RX = X'X - RZX'RZX``.
* ``Z'Z``, ``Z'X``, ``Z'y``, ``X'X``, ``X'y`` and ``y'y`` are formed once, so each evaluation costs
  ``O(q^3)`` (``q`` random effects) whatever ``n`` on the dense path; from :data:`SPARSE_MIN_Q`
  random effects (:data:`SPARSE_MIN_Q_ONE_TERM` for one term) the sparse path keeps ``A`` sparse
  and refactorises it with CHOLMOD, its symbolic factorisation reused for every ``theta``
  (:mod:`pcstats.stats.lmm_sparse`), as lme4 does; there the gradient is analytic for one term
  and differenced by L-BFGS-B for several. ``y`` is first replaced by its OLS residual on
  ``X`` (which changes ``beta`` by the OLS fit and nothing else) so ``r2 = y'y - |cu|^2 - |cbeta|^2``
  does not lose digits to the mean of ``y``.
* The deviance comes with its analytic gradient and is minimised over ``theta`` by, in order,
  L-BFGS-B, then bounded Nelder-Mead, then bounded Powell; the first that reports convergence wins
  (``LMMFit.optimizer``; L-BFGS-B also counts as converged when it stops on a failed line search
  with a projected gradient below 1e-5). Every attempt starts at lme4's start (diagonal 1,
  off-diagonal 0). If none converges, the best point found is returned with ``converged=False``.

Outputs follow lme4 1.1-31: ``vcov = sigma^2 (RX'RX)^-1``; conditional modes ``b = Lambda u``;
conditional variances ``sigma^2 Lambda A^-1 Lambda'`` (``condVar``); ``isSingular(tol = 1e-4)``.
Satterthwaite degrees of freedom follow lmerTest 3.1-3 (``as_lmerModLT``, ``contest1D``), with the
derivatives it differences computed exactly where the fit has the pieces (dense path, or one term),
else numDeriv's Richardson differences reproduced step for step (:mod:`pcstats.stats.lmm_df`).

Random-effect terms keep the caller's order (lme4 sorts terms by decreasing number of levels, which
changes the order of ``theta`` but not the fit).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
from scipy import linalg, optimize, sparse
from scipy.linalg import lapack

from . import lmm_df
from .lmm_sparse import SparseCore, available as sparse_available, lambda_matrix

__all__ = ["Block", "LMMFit", "fit_lmm", "profiled_deviance", "satterthwaite_df"]

SINGULAR_TOL = 1e-4  # lme4::isSingular default
ZERO_VARIANCE_TOL = 1e-10  # a diagonal element of T this small (scaled units) is probed as a zero variance
# random effects from which the sparse (CHOLMOD) core is used, when scikit-sparse imports: one term (A block
# diagonal, analytic gradient) pays off sooner than several (crossed or nested: the gradient is differenced)
SPARSE_MIN_Q = 400
SPARSE_MIN_Q_ONE_TERM = 100
_OPTIMIZERS = ("L-BFGS-B", "Nelder-Mead", "Powell")


@dataclass(frozen=True)
class Block:
    """One random-effect term such as ``(1 + x | g)``.

    Attributes
    ----------
    Z : ndarray, shape (n, p)
        Raw columns of the term (for ``(1 + x | g)``: a column of ones and ``x``).
    codes : ndarray, shape (n,)
        Integer level code ``0 .. n_levels - 1`` of the grouping factor on each row.
    n_levels : int
        Number of levels; every level must occur on at least one row.
    """

    Z: np.ndarray
    codes: np.ndarray
    n_levels: int


@dataclass(frozen=True)
class LMMFit:
    """A fitted linear mixed model; per-block fields follow the caller's block order.

    ``cov_re[k] = sigma^2 T_k T_k'``; ``blups[k]`` and ``blup_se[k]`` are ``n_levels x p`` (lme4's
    ``ranef`` and the square roots of its ``condVar`` diagonals); ``singular`` is lme4's
    ``isSingular(tol = 1e-4)``: a diagonal element of some ``T_k`` below 1e-4.
    """

    beta: np.ndarray
    cov_beta: np.ndarray
    sigma: float
    theta: np.ndarray
    cov_re: tuple[np.ndarray, ...]
    loglik: float
    reml: bool
    converged: bool
    optimizer: str
    n_evaluations: int
    message: str
    singular: bool
    blups: tuple[np.ndarray, ...]
    blup_se: tuple[np.ndarray, ...]
    deviance: float  # the criterion minimised: -2 loglik (REML criterion if reml)
    n_obs: int
    theta_lower: np.ndarray  # lme4's getME(m, "lower"): 0 on template diagonals, -inf elsewhere
    blup_cov: tuple[np.ndarray, ...] | None = None  # per term: n_levels x p x p conditional covariances of the modes
    df: np.ndarray | None = None  # Satterthwaite df of beta (fit_lmm(..., satterthwaite=True))


@dataclass(frozen=True)
class _Design:
    """Cross-products and the layout of Lambda, computed once per data set."""

    n: int
    p: int
    beta_ols: np.ndarray
    ZtZ: np.ndarray
    ZtXy: np.ndarray  # [Z'X | Z'r], r = y - X beta_ols (the OLS residual)
    XtX: np.ndarray
    Xty: np.ndarray  # X' r (zero up to rounding)
    yty: float  # r' r
    dims: tuple[tuple[int, int, int], ...]  # per block: (offset, n_levels, p)
    template_index: tuple[tuple[np.ndarray, np.ndarray], ...]  # per block: rows, columns of theta in T
    lam_rows: np.ndarray  # nonzeros of Lambda: row, column, index into theta
    lam_cols: np.ndarray
    lam_theta: np.ndarray
    lower: np.ndarray  # lower bounds of theta (0 on template diagonals, -inf elsewhere)
    core: SparseCore | None = None  # the sparse path (ZtZ is then None): see pcstats.stats.lmm_sparse

    @property
    def q(self) -> int:
        return int(self.ZtXy.shape[0])

    @property
    def ZtZ_diagonal(self) -> np.ndarray:
        return self.core.ZtZ.diagonal() if self.core is not None else np.diag(self.ZtZ)

    @property
    def ZtX(self) -> np.ndarray:
        return self.ZtXy[:, :-1]

    @property
    def Zty(self) -> np.ndarray:
        return self.ZtXy[:, -1]


@dataclass(frozen=True)
class _Solution:
    """Penalised least squares at one theta."""

    templates: tuple[np.ndarray, ...]
    MLam: np.ndarray | None  # Z'Z Lambda (dense path only)
    L: Any  # Cholesky factor of A = Lambda'Z'Z Lambda + I: lower-triangular array, or CHOLMOD's factor
    LX: np.ndarray  # Cholesky factor of P = X'X - RZX'RZX (lower)
    RZX: np.ndarray
    cu: np.ndarray
    beta: np.ndarray  # for the residualised y
    pwrss: float
    ld_A: float
    ld_X: float


# --------------------------------------------------------------------------------------------- design


@cache
def _blas_controller():
    try:
        from threadpoolctl import ThreadpoolController  # installed with pymc
    except ImportError:
        return None
    return ThreadpoolController()


def _one_blas_thread() -> contextlib.AbstractContextManager:
    """One BLAS thread while fitting: the matrices are small, and on a busy machine OpenBLAS threads
    waiting for a core cost more than they save (measured 3 ms vs 3-100 ms on sleepstudy)."""
    controller = _blas_controller()
    return contextlib.nullcontext() if controller is None else controller.limit(limits=1, user_api="blas")


def _template_index(p: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of a p x p lower triangle, column by column (lme4's theta order)."""
    cols, rows = np.triu_indices(p)
    return rows, cols


def _check_inputs(y: np.ndarray, X: np.ndarray, blocks: Sequence[Block]) -> None:
    n = y.shape[0]
    if y.ndim != 1 or not np.all(np.isfinite(y)):
        raise ValueError("y must be a one-dimensional array of finite numbers")
    if X.ndim != 2 or X.shape[0] != n or not np.all(np.isfinite(X)):
        raise ValueError(f"X must be a finite 2-D array with {n} rows (one per element of y)")
    p = X.shape[1]
    if n <= p:
        raise ValueError(f"{n} observations are too few for {p} fixed-effect columns")
    rank = np.linalg.matrix_rank(X)
    if rank < p:
        pivots = linalg.qr(X, mode="r", pivoting=True)[1]
        raise ValueError(f"X is rank deficient: rank {rank} < {p} columns; column(s) "
                         f"{sorted(int(j) for j in pivots[rank:])} are linear combinations of the others")
    if len(blocks) == 0:
        raise ValueError("blocks is empty: a mixed model needs at least one random-effect term")
    for k, b in enumerate(blocks):
        Z, codes = np.asarray(b.Z), np.asarray(b.codes)
        if Z.ndim != 2 or Z.shape[0] != n or Z.shape[1] < 1 or not np.all(np.isfinite(Z)):
            raise ValueError(f"blocks[{k}].Z must be a finite 2-D array with {n} rows and at least one column")
        if codes.shape != (n,) or not np.issubdtype(codes.dtype, np.integer):
            raise ValueError(f"blocks[{k}].codes must be {n} integer level codes")
        if b.n_levels < 1 or codes.min() < 0 or codes.max() >= b.n_levels:
            raise ValueError(f"blocks[{k}].codes must lie in 0 .. n_levels - 1 = {b.n_levels - 1}")
        unused = np.setdiff1d(np.arange(b.n_levels), codes)
        if unused.size:
            raise ValueError(f"blocks[{k}]: level(s) {unused[:5].tolist()} have no rows; drop unused levels")
        if b.n_levels >= n:
            raise ValueError(f"blocks[{k}]: {b.n_levels} levels for {n} observations; "
                             "lme4 needs fewer levels than observations")
        if b.n_levels * Z.shape[1] >= n:
            raise ValueError(f"blocks[{k}]: {b.n_levels * Z.shape[1]} random effects for {n} observations; "
                             "the variance components would be unidentifiable")


def _random_design(blocks: Sequence[Block], n: int) -> sparse.csr_matrix:
    """Sparse Z, level-major within each block (level j's p columns are adjacent)."""
    parts = []
    for b in blocks:
        Z = np.asarray(b.Z, dtype=np.float64)
        p = Z.shape[1]
        cols = np.asarray(b.codes)[:, None] * p + np.arange(p)[None, :]
        parts.append(sparse.csr_matrix((Z.ravel(), (np.repeat(np.arange(n), p), cols.ravel())),
                                       shape=(n, b.n_levels * p)))
    return sparse.hstack(parts, format="csr")


def _lambda_layout(blocks: Sequence[Block]) -> tuple:
    dims, rows, cols, tidx, lower = [], [], [], [], []
    offset = t0 = 0
    for b in blocks:
        p, m = np.asarray(b.Z).shape[1], b.n_levels
        r, c = _template_index(p)
        base = offset + np.arange(m)[:, None] * p
        rows.append((base + r[None, :]).ravel())
        cols.append((base + c[None, :]).ravel())
        tidx.append(np.tile(t0 + np.arange(r.size), m))
        lower.append(np.where(r == c, 0.0, -np.inf))
        dims.append((offset, m, p))
        offset += m * p
        t0 += r.size
    cat = np.concatenate
    return tuple(dims), cat(rows), cat(cols), cat(tidx), cat(lower)


def _design(y, X, blocks: Sequence[Block], sparse_core: bool | None = None) -> _Design:
    """Cross-products, once (inputs checked by the caller: :func:`_check_inputs`); ``Z'Z`` sparse and factorised by CHOLMOD when ``sparse_core`` (by default:
    from :data:`SPARSE_MIN_Q` random effects on, :data:`SPARSE_MIN_Q_ONE_TERM` with one term, when
    scikit-sparse is installed)."""
    y = np.asarray(y, dtype=np.float64)
    X = np.asarray(X, dtype=np.float64)
    beta_ols = np.linalg.lstsq(X, y, rcond=None)[0]
    r = y - X @ beta_ols
    Z = _random_design(blocks, y.shape[0])
    Zt = Z.T.tocsr()
    dims, rows, cols, tidx, lower = _lambda_layout(blocks)
    if sparse_core is None:
        threshold = SPARSE_MIN_Q_ONE_TERM if len(blocks) == 1 else SPARSE_MIN_Q
        sparse_core = Z.shape[1] >= threshold and sparse_available()
    ZtZ = Zt @ Z
    return _Design(n=y.shape[0], p=X.shape[1], beta_ols=beta_ols, ZtZ=None if sparse_core else ZtZ.toarray(),
                   ZtXy=np.asarray(Zt @ np.column_stack([X, r])), XtX=X.T @ X, Xty=X.T @ r,
                   yty=float(r @ r), dims=dims,
                   template_index=tuple(_template_index(p) for _, _, p in dims),
                   lam_rows=rows, lam_cols=cols, lam_theta=tidx, lower=lower,
                   core=SparseCore(ZtZ) if sparse_core else None)


# -------------------------------------------------------------------------------- penalised least squares


def _cholesky(A: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor (LAPACK dpotrf directly: small matrices, little overhead)."""
    L, info = lapack.dpotrf(A, lower=1, clean=1)
    if info != 0:
        raise np.linalg.LinAlgError("matrix is not positive definite")
    return L


def _tri(L: np.ndarray, B: np.ndarray, transpose: bool = False) -> np.ndarray:
    """Solve ``L x = B`` (or ``L' x = B``) for lower-triangular L."""
    return lapack.dtrtrs(L, B, lower=1, trans=int(transpose))[0]


def _cho_solve(L: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Solve ``L L' x = B``."""
    return lapack.dpotrs(L, B, lower=1)[0]


def _cho_inverse(L: np.ndarray, lower_only: bool = False) -> np.ndarray:
    """``(L L')^-1`` from the factor (LAPACK dpotri: a third of the flops of solving for the identity);
    ``lower_only``: its lower triangle, zeros above (``L`` as :func:`_cholesky` makes it, zeros above)."""
    inv, info = lapack.dpotri(L, lower=1)
    if info != 0:
        raise np.linalg.LinAlgError("matrix is singular")
    return inv if lower_only else inv + np.tril(inv, -1).T


def _templates(d: _Design, theta: np.ndarray) -> tuple[np.ndarray, ...]:
    out, t0 = [], 0
    for (_, _, p), (r, c) in zip(d.dims, d.template_index):
        T = np.zeros((p, p))
        T[r, c] = theta[t0:t0 + r.size]
        out.append(T)
        t0 += r.size
    return tuple(out)


def _times_lambda(A: np.ndarray, d: _Design, templates: Sequence[np.ndarray]) -> np.ndarray:
    """``A @ Lambda`` for A with q columns, using Lambda's block structure (``O(rows q p)``)."""
    A = np.atleast_2d(A)
    out = np.empty_like(A)
    for (offset, m, p), T in zip(d.dims, templates):
        sl = slice(offset, offset + m * p)
        if p == 1:
            out[:, sl] = A[:, sl] * T[0, 0]
        else:
            out[:, sl] = (A[:, sl].reshape(A.shape[0], m, p) @ T).reshape(A.shape[0], m * p)
    return out


def _lambda_t(B: np.ndarray, d: _Design, templates) -> np.ndarray:
    """``Lambda' @ B`` for B with q rows (vector or matrix)."""
    if B.ndim == 1:
        return _times_lambda(B[None, :], d, templates)[0]
    return _times_lambda(B.T, d, templates).T


def _lambda(v: np.ndarray, d: _Design, templates) -> np.ndarray:
    """``Lambda @ v`` for a vector v of length q."""
    return _times_lambda(v[None, :], d, tuple(T.T for T in templates))[0]


def _solve(d: _Design, theta: np.ndarray) -> _Solution:
    """Penalised least squares at theta (lme4 section 3.5): dense, or sparse through CHOLMOD."""
    if d.core is not None:
        return _solve_sparse(d, theta)
    Ts = _templates(d, theta)
    MLam = _times_lambda(d.ZtZ, d, Ts)
    A = _lambda_t(MLam, d, Ts)
    A[np.diag_indices_from(A)] += 1.0
    L = _cholesky(A)
    return _fixed_part(d, Ts, MLam, L, _tri(L, _lambda_t(d.ZtXy, d, Ts)), 2.0 * float(np.sum(np.log(np.diag(L)))))


def _solve_sparse(d: _Design, theta: np.ndarray) -> _Solution:
    """:func:`_solve` with ``A`` sparse: CHOLMOD's numerical factorisation, its symbolic one reused."""
    Ts = _templates(d, theta)
    values = np.asarray(theta, dtype=np.float64)[d.lam_theta]
    lam = lambda_matrix(d.q, d.lam_rows, d.lam_cols, values)
    scalar = values if all(p == 1 for _, _, p in d.dims) else None  # Λ diagonal, in level order
    try:
        F = d.core.factor(lam, scalar)
    except Exception as exc:  # CHOLMOD's "not positive definite"
        raise np.linalg.LinAlgError(str(exc)) from None
    return _fixed_part(d, Ts, None, F, d.core.solve_L(F, np.asarray(lam.T @ d.ZtXy)), float(F.logdet()))


def _fixed_part(d: _Design, Ts, MLam, L, R: np.ndarray, ld_A: float) -> _Solution:
    """The rest of the penalised least squares, either path: ``R = L^-1 [Lambda'Z'X | Lambda'Z'r]`` in hand."""
    RZX, cu = R[:, :-1], R[:, -1]
    LX = _cholesky(d.XtX - RZX.T @ RZX)
    cbeta = _tri(LX, d.Xty - RZX.T @ cu)
    beta = _tri(LX, cbeta, transpose=True)
    pwrss = max(d.yty - cu @ cu - cbeta @ cbeta, np.finfo(float).tiny)
    return _Solution(templates=Ts, MLam=MLam, L=L, LX=LX, RZX=RZX, cu=cu, beta=beta, pwrss=float(pwrss),
                     ld_A=ld_A, ld_X=2.0 * float(np.sum(np.log(np.diag(LX)))))


def _modes(s: _Solution) -> np.ndarray:
    """Spherical random effects ``u`` (conditional modes b = Lambda u)."""
    if s.MLam is None:
        return SparseCore.solve_Lt(s.L, s.cu - s.RZX @ s.beta)
    return _tri(s.L, s.cu - s.RZX @ s.beta, transpose=True)


def _criterion(d: _Design, s: _Solution, reml: bool) -> float:
    """Profiled deviance (ML) or REML criterion at a solution."""
    nu = d.n - d.p if reml else d.n
    dev = s.ld_A + nu * (1.0 + np.log(2.0 * np.pi * s.pwrss / nu))
    return float(dev + s.ld_X) if reml else float(dev)


def _gradient(d: _Design, s: _Solution, reml: bool) -> np.ndarray:
    """Analytic gradient of the profiled criterion with respect to theta.

    With ``dLambda`` the indicator of one theta's positions ``(r, c)`` in Lambda:
    ``dlog|A| = 2 sum (A^-1 Lambda' Z'Z)[c, r]``; ``d r2 = -2 sum s[r] u[c]`` with
    ``s = Z'(y - X beta - Z Lambda u)`` (envelope theorem); and, for REML,
    ``dlog|RX'RX| = -2 sum (H P^-1 W')[r, c]`` with ``W = A^-1 Lambda' Z'X``,
    ``H = Z'X - Z'Z Lambda W`` and ``P = RX'RX``.
    """
    if d.core is not None:
        return _gradient_one_term(d, s, reml)
    rows, cols = d.lam_rows, d.lam_cols
    k = d.lower.size
    # (A^-1 Lambda'Z'Z)[c, r] = A^-1[c, :] . (Z'Z Lambda)[r, :], A^-1 from its lower triangle V:
    # row c of A^-1 is row c of V plus column c of V below the diagonal
    V = _cho_inverse(s.L, lower_only=True)
    M = s.MLam[rows]
    weights = np.einsum("ij,ij->i", V[cols], M) + np.einsum("ij,ij->i", V.T[cols], M) - V[cols, cols] * M[np.arange(cols.size), cols]
    g = 2.0 * np.bincount(d.lam_theta, weights=weights, minlength=k)
    u = _modes(s)
    resid = d.Zty - d.ZtX @ s.beta - s.MLam @ u
    nu = d.n - d.p if reml else d.n
    g -= 2.0 * nu / s.pwrss * np.bincount(d.lam_theta, weights=resid[rows] * u[cols], minlength=k)
    if reml:
        W = _tri(s.L, s.RZX, transpose=True)
        H = d.ZtX - s.MLam @ W
        V = _cho_solve(s.LX, W.T).T  # W P^-1
        g -= 2.0 * np.bincount(d.lam_theta, weights=np.einsum("ij,ij->i", H[rows], V[cols]), minlength=k)
    return g


def _gradient_one_term(d: _Design, s: _Solution, reml: bool) -> np.ndarray:
    """:func:`_gradient` on the sparse path with one random-effect term (one grouping factor).

    ``A`` is then block diagonal, one ``p x p`` block ``T'M_jT + I`` per level (``M_j`` the level's
    block of ``Z'Z``), so every entry of ``A^-1 Lambda'Z'Z`` the gradient reads lies in a level's
    block, and the blocks are inverted together. The other terms are sparse products and solves.
    """
    (offset, m, p), = d.dims
    T = s.templates[0]
    M = d.core.level_blocks(offset, m, p)  # m x p x p
    Ainv = np.linalg.inv(np.einsum("ji,ljk,kh->lih", T, M, T) + np.eye(p))
    C = Ainv @ np.einsum("ji,ljk->lik", T, M)  # per level: A_j^-1 T' M_j
    rows, cols = d.lam_rows, d.lam_cols
    lr, lc = (rows - offset) % p, (cols - offset) % p
    level = (cols - offset) // p
    k = d.lower.size
    g = 2.0 * np.bincount(d.lam_theta, weights=C[level, lc, lr], minlength=k)
    u = _modes(s)
    lam_u = _lambda(u, d, s.templates)
    resid = d.Zty - d.ZtX @ s.beta - d.core.ZtZ @ lam_u
    nu = d.n - d.p if reml else d.n
    g -= 2.0 * nu / s.pwrss * np.bincount(d.lam_theta, weights=resid[rows] * u[cols], minlength=k)
    if reml:
        LtZX = _lambda_t(d.ZtX, d, s.templates)  # Lambda' Z'X, q x p
        W = (Ainv @ LtZX.reshape(m, p, -1)).reshape(m * p, -1)  # A^-1 Lambda' Z'X
        H = d.ZtX - d.core.ZtZ @ np.asarray(_times_lambda(W.T, d, tuple(t.T for t in s.templates)).T)
        V = _cho_solve(s.LX, W.T).T
        g -= 2.0 * np.bincount(d.lam_theta, weights=np.einsum("ij,ij->i", H[rows], V[cols]), minlength=k)
    return g


def profiled_deviance(y, X, blocks: Sequence[Block], theta, *, reml: bool = True) -> tuple[float, np.ndarray]:
    """lme4's profiled deviance (or REML criterion) at ``theta`` and its gradient.

    This is the function :func:`fit_lmm` minimises; it is exposed for checks and profiling.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> g = np.repeat(np.arange(6), 5)
    >>> y = rng.normal(size=6)[g] + rng.normal(size=30)
    >>> dev, grad = profiled_deviance(y, np.ones((30, 1)), [Block(np.ones((30, 1)), g, 6)], [1.0])
    >>> grad.shape
    (1,)
    """
    y, X = np.asarray(y, dtype=np.float64), np.asarray(X, dtype=np.float64)
    _check_inputs(y, X, blocks)
    d = _design(y, X, blocks, sparse_core=False)
    theta = np.asarray(theta, dtype=np.float64)
    if theta.shape != d.lower.shape:
        raise ValueError(f"theta has {theta.size} elements; these blocks need {d.lower.size}")
    s = _solve(d, theta)
    return _criterion(d, s, reml), _gradient(d, s, reml)


# ------------------------------------------------------------------------------------------- fitting


def _minimise(d: _Design, reml: bool) -> tuple[np.ndarray, bool, str, str, int]:
    """Minimise the criterion over theta: L-BFGS-B, else Nelder-Mead, else Powell.

    The dense path gives L-BFGS-B the analytic gradient; the sparse path lets it difference the
    criterion (the analytic gradient needs entries of ``A^-1`` that a sparse factor does not give
    cheaply, and large designs have few theta).
    """
    calls = [0]
    analytic = d.core is None or len(d.dims) == 1

    def value_and_gradient(theta: np.ndarray) -> tuple[float, np.ndarray]:
        calls[0] += 1
        try:
            s = _solve(d, theta)
        except np.linalg.LinAlgError:
            return np.inf, np.zeros_like(theta)
        return _criterion(d, s, reml), (_gradient(d, s, reml) if analytic else np.zeros_like(theta))

    # optimise over phi = theta / scale: each template row divided by its Z column's RMS, so that
    # (1 | g) and (0 + year | g) start and move on comparable scales (theta is otherwise up to
    # 1e4 times smaller for a slope on years, and L-BFGS-B stops at its zero bound)
    scale = _theta_scale(d)
    theta_of = scale.__mul__

    def scaled(phi: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad = value_and_gradient(theta_of(phi))
        return value, grad * scale

    start = np.where(d.lower == 0.0, 1.0, 0.0)
    bounds = optimize.Bounds(d.lower, np.full_like(d.lower, np.inf))
    options = {
        "L-BFGS-B": {"ftol": 1e-15, "gtol": 1e-9, "maxiter": 2000},
        "Nelder-Mead": {"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20000, "maxfev": 20000},
        "Powell": {"xtol": 1e-10, "ftol": 1e-14, "maxiter": 20000},
    }
    best = None
    for method in _OPTIMIZERS:
        jac = method == "L-BFGS-B" and analytic
        fun = scaled if jac else (lambda t: scaled(t)[0])

        def run(x0: np.ndarray, method=method, fun=fun, jac=jac) -> tuple[optimize.OptimizeResult, bool]:
            res = optimize.minimize(fun, x0, jac=jac or None, method=method, bounds=bounds, options=options[method])
            ok = bool(res.success) or (method == "L-BFGS-B" and _stationary(res, d.lower))
            return res, ok and bool(np.isfinite(res.fun))

        res, ok = run(start)
        for _ in range(2 * len(d.lower)):  # leave false optima on the boundary
            x = np.maximum(res.x, d.lower)
            # a column of T turned around (_mirror_zero_columns), or a zero variance made positive
            # again (_probe_zero_variances): the deviance is even in each diagonal element, so its
            # gradient there is zero and L-BFGS-B cannot tell a saddle from a minimum
            mirrored = _mirror_zero_columns(d, x)  # scaling keeps signs and zeros
            starts = ([mirrored] if mirrored is not None else []) + _zero_variance_restarts(x, d.lower)
            tries = [run(start) for start in starts]
            tries = [(r2, ok2) for r2, ok2 in tries if ok2 and r2.fun < res.fun - 1e-10 * max(1.0, abs(res.fun))]
            if not tries:
                break
            res, ok = min(tries, key=lambda t: t[0].fun)
        if best is None or res.fun < best[0].fun:
            best = (res, method)
        if ok:
            return theta_of(np.maximum(res.x, d.lower)), True, method, str(res.message), calls[0]
    res, method = best
    return theta_of(np.maximum(res.x, d.lower)), False, method, str(res.message), calls[0]


def _zero_variance_restarts(x: np.ndarray, lower: np.ndarray) -> list[np.ndarray]:
    """Starting points with one zero diagonal element of T set to 0.2 (scaled units).

    The deviance is even in each diagonal element, so its gradient at zero is zero and L-BFGS-B
    cannot tell a saddle from a minimum there; lme4's derivative-free BOBYQA does not stop at
    such points. Each restart is a full L-BFGS-B run, kept if it beats the current optimum. On the
    fixture's inversion GLMM, L-BFGS-B alone stopped 0.07-0.5 log-likelihood units short of lme4
    with a variance at zero, and probing one coordinate at a time was not enough (LGS).
    """
    starts = []
    # "zero" up to rounding: L-BFGS-B can stop at 1e-16 rather than on the bound (a weighted inversion GLMM)
    for j in np.flatnonzero((lower == 0.0) & (x <= ZERO_VARIANCE_TOL)):
        trial = x.copy()
        trial[j] = 0.2
        starts.append(trial)
    return starts


def _theta_scale(d: _Design) -> np.ndarray:
    """Per theta element, 1 / RMS of the Z column of its template row (from the diagonal of Z'Z)."""
    diag = d.ZtZ_diagonal
    out = []
    for (offset, m, p), (rows, _) in zip(d.dims, d.template_index):
        sums = diag[offset:offset + m * p].reshape(m, p).sum(axis=0)
        rms = np.sqrt(sums / d.n)
        out.append(1.0 / np.where(rms > 0, rms, 1.0)[rows])
    return np.concatenate(out)


def _mirror_zero_columns(d: _Design, theta: np.ndarray) -> np.ndarray | None:
    """Negate the columns of T whose diagonal is 0 but not the rest: the same covariance, other side.

    ``Sigma = T T'`` does not change when a column of T changes sign, but the bound ``T_jj >= 0``
    makes ``T_jj = 0`` with ``T_ij`` (i > j) of one sign a corner the optimizer cannot leave towards
    the better points near ``T_ij`` of the other sign. Returns None when no column qualifies.
    """
    out, t0, changed = theta.copy(), 0, False
    for (_, _, p), (r, c) in zip(d.dims, d.template_index):
        idx = t0 + np.arange(r.size)
        for j in range(p - 1):
            column = idx[(c == j) & (r > j)]
            if theta[idx[(c == j) & (r == j)][0]] == 0.0 and np.any(theta[column] != 0.0):
                out[column] = -theta[column]
                changed = True
        t0 += r.size
    return out if changed else None


def _stationary(res: optimize.OptimizeResult, lower: np.ndarray, tol: float = 1e-5) -> bool:
    """L-BFGS-B can stop on a failed line search at machine precision: accept a small projected gradient."""
    if not np.isfinite(res.fun) or getattr(res, "jac", None) is None:
        return False
    g = np.where((res.x <= lower) & (res.jac > 0), 0.0, res.jac)
    return bool(np.max(np.abs(g)) < tol)


def fit_lmm(y, X, blocks: Sequence[Block], *, reml: bool = True, satterthwaite: bool = False) -> LMMFit:
    """Fit ``y ~ X beta + random effects`` by REML (default) or ML, as ``lme4::lmer``.

    Parameters
    ----------
    y : array_like, shape (n,)
        Response.
    X : array_like, shape (n, p)
        Fixed-effects design of full column rank.
    blocks : sequence of Block
        Random-effect terms; a term ``(x || g)`` is two blocks ``(1 | g)`` and ``(0 + x | g)``.
    reml : bool
        REML (lme4's default) or maximum likelihood.
    satterthwaite : bool
        Also the Satterthwaite df of ``beta`` (``LMMFit.df``), from the final solution: the same
        numbers as :func:`satterthwaite_df` without building the design again.

    Returns
    -------
    LMMFit

    Raises
    ------
    ValueError
        Non-finite or misshapen inputs, rank-deficient ``X``, unused levels, or more random effects
        in a term than observations.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> g = np.repeat(np.arange(10), 8)
    >>> x = np.tile(np.arange(8.0), 10)
    >>> y = 1 + 0.5 * x + rng.normal(0, 1, 10)[g] + rng.normal(0, 0.5, 80)
    >>> X = np.column_stack([np.ones(80), x])
    >>> fit = fit_lmm(y, X, [Block(np.ones((80, 1)), g, 10)])
    >>> fit.converged, fit.optimizer, fit.blups[0].shape
    (True, 'L-BFGS-B', (10, 1))
    """
    with _one_blas_thread():
        y, X = np.asarray(y, dtype=np.float64), np.asarray(X, dtype=np.float64)
        _check_inputs(y, X, blocks)
        bases = [_orthonormal_basis(np.asarray(b.Z, dtype=np.float64)) for b in blocks]
        white = [Block(np.asarray(b.Z, dtype=np.float64) @ a, b.codes, b.n_levels) for b, a in zip(blocks, bases)]
        return _in_original_columns(_fit(_design(y, X, white), reml, satterthwaite), bases)


def _orthonormal_basis(Z: np.ndarray) -> np.ndarray:
    """``A`` with ``Z A`` orthonormal columns (times sqrt(n)): the inverse R of Z's QR.

    The model is fitted with ``Z A`` in place of ``Z`` -- the same model, since any covariance
    ``Σ`` of ``b`` is ``A Σ' Aᵀ`` for the covariance ``Σ'`` of ``A⁻¹ b`` -- and mapped back. On raw
    columns (``(1 + year | g)`` with years near 2000) the intercept and slope are nearly collinear
    and the optimizer stops far from the optimum (lme4 itself fails there).
    """
    R = np.linalg.qr(Z / np.sqrt(Z.shape[0]), mode="r")
    if np.any(np.abs(np.diag(R)) < 1e-10 * max(1.0, float(np.abs(R).max()))):
        return np.eye(Z.shape[1])  # dependent columns: fit as given
    return linalg.solve_triangular(R, np.eye(Z.shape[1]))


def _in_original_columns(fit: LMMFit, bases: Sequence[np.ndarray]) -> LMMFit:
    """A fit made with ``Z A`` expressed in the original columns: covariances, theta, modes, singularity."""
    from .gls import semidefinite_cholesky

    cov_re = tuple(a @ c @ a.T for a, c in zip(bases, fit.cov_re))
    templates = [semidefinite_cholesky(c / fit.sigma**2) for c in cov_re]
    theta = np.concatenate([T[_template_index(T.shape[0])] for T in templates])
    # b = A b_white, Var(b) = A Var(b_white) A'
    modes = [m @ a.T for m, a in zip(fit.blups, bases)]
    covs = tuple(np.einsum("ij,ljk,mk->lim", a, c, a) for a, c in zip(bases, fit.blup_cov))
    sds = [np.sqrt(np.maximum(np.einsum("lii->li", c), 0.0)) for c in covs]
    singular = bool(np.any(np.concatenate([np.diag(T) for T in templates]) < SINGULAR_TOL))
    return dataclasses.replace(fit, theta=theta, cov_re=cov_re, blups=tuple(modes), blup_se=tuple(sds), blup_cov=covs,
                               singular=singular)


def _fit(d: _Design, reml: bool, satterthwaite: bool = False) -> LMMFit:
    theta, converged, method, message, n_eval = _minimise(d, reml)
    s = _solve(d, theta)
    nu = d.n - d.p if reml else d.n
    sigma2 = s.pwrss / nu
    PXinv = _cho_solve(s.LX, np.eye(d.p))
    b = _lambda(_modes(s), d, s.templates)
    # conditional covariances from the final factor: per level, sigma^2 T (A^-1)_JJ T'
    if d.core is None:
        Ainv = _cho_inverse(s.L)
        inverse_blocks = [Ainv[o:o + m * p, o:o + m * p].reshape(m, p, m, p)[np.arange(m), :, np.arange(m), :]
                          for o, m, p in d.dims]
    else:
        inverse_blocks = d.core.inverse_blocks(s.L, d.dims)
    blup_cov = tuple(sigma2 * np.einsum("ij,ljk,mk->lim", T, block, T) for T, block in zip(s.templates, inverse_blocks))
    blups = tuple(b[o:o + m * p].reshape(m, p) for o, m, p in d.dims)
    deviance = _criterion(d, s, reml)
    cov_beta = sigma2 * PXinv
    df = _satterthwaite(d, s, theta, float(np.sqrt(sigma2)), reml, np.diag(cov_beta)) if satterthwaite else None
    return LMMFit(
        beta=d.beta_ols + s.beta, cov_beta=cov_beta, sigma=float(np.sqrt(sigma2)), theta=theta,
        cov_re=tuple(sigma2 * T @ T.T for T in s.templates), loglik=-0.5 * deviance, reml=reml,
        converged=converged, optimizer=method, n_evaluations=n_eval, message=message,
        singular=bool(np.any(theta[d.lower == 0.0] < SINGULAR_TOL)), blups=blups,
        blup_se=tuple(np.sqrt(np.maximum(np.einsum("lii->li", c), 0.0)) for c in blup_cov), deviance=deviance, n_obs=d.n, theta_lower=d.lower, blup_cov=blup_cov, df=df)


# ------------------------------------------------------------------------------- Satterthwaite (lmerTest)


def _deviance_vp(d: _Design, varpar: np.ndarray, reml: bool, solve: Callable = _solve) -> float:
    """lmerTest's ``devfun_vp``: -2 log-likelihood (REML) at (theta, sigma), sigma not profiled."""
    sigma2 = varpar[-1] ** 2
    s = solve(d, varpar[:-1])
    dev = s.ld_A + s.pwrss / sigma2 + d.n * np.log(2.0 * np.pi * sigma2)
    if reml:
        dev += s.ld_X - d.p * np.log(2.0 * np.pi * sigma2)
    return float(dev)


def _pieces(d: _Design, s: _Solution, theta: np.ndarray, sigma: float, reml: bool) -> lmm_df.Pieces:
    """``S_W = Z'W^-1 Z`` (dense, or its level blocks with one term; none on the sparse path with
    several terms), ``B = Z'W^-1 X`` and ``a = Z'P y`` at a solution (see :mod:`pcstats.stats.lmm_df`)."""
    u = _modes(s)
    lam = lambda_matrix(d.q, d.lam_rows, d.lam_cols, np.asarray(theta, dtype=np.float64)[d.lam_theta]).tocsr()
    SW, SW_blocks = None, ()
    if d.core is None:
        W = _tri(s.L, s.RZX, transpose=True)  # A^-1 Lambda'Z'X
        B = d.ZtX - s.MLam @ W
        a = d.Zty - d.ZtX @ s.beta - s.MLam @ u
        R = _tri(s.L, s.MLam.T)  # L^-1 Lambda'Z'Z
        SW = d.ZtZ - R.T @ R
        SW_blocks = tuple(np.stack([SW[o + j * p:o + (j + 1) * p, o + j * p:o + (j + 1) * p] for j in range(m)])
                          for o, m, p in d.dims)
    else:
        B = d.ZtX - d.core.ZtZ @ (lam @ SparseCore.solve_Lt(s.L, s.RZX))
        a = d.Zty - d.ZtX @ s.beta - d.core.ZtZ @ (lam @ u)
        if len(d.dims) == 1:  # A and S_W block diagonal: per level, M - M T (T'M T + I)^-1 T'M
            (offset, m, p), = d.dims
            T = s.templates[0]
            M = d.core.level_blocks(offset, m, p)
            MT = M @ T
            SW_blocks = (M - MT @ np.linalg.solve(np.einsum("ji,ljk->lik", T, MT) + np.eye(p), np.swapaxes(MT, 1, 2)),)
    return lmm_df.Pieces(sigma=sigma, nu=d.n - d.p if reml else d.n, pwrss=s.pwrss, reml=reml, a=a, B=B,
                  C=_cho_solve(s.LX, np.eye(d.p)), lam=lam, lam_rows=d.lam_rows, lam_cols=d.lam_cols,
                  lam_theta=d.lam_theta, templates=s.templates, template_index=d.template_index,
                  SW=SW, SW_blocks=SW_blocks)


def _satterthwaite(d: _Design, s: _Solution, theta: np.ndarray, sigma: float, reml: bool,
                   var_beta: np.ndarray) -> np.ndarray:
    """Satterthwaite df at ``(theta, sigma)`` with ``s = _solve(d, theta)``: the Hessian exact where
    ``S_W`` is at hand (dense path, or one term), else numDeriv's, step for step, as lmerTest."""
    if not sigma > 0:  # an exact fit: the deviance has no finite Hessian in sigma, and the df are undefined
        return np.full(d.p, np.nan)
    pieces = _pieces(d, s, theta, sigma, reml)
    if pieces.SW is not None or pieces.SW_blocks:
        H = lmm_df.exact_hessian(pieces)
    else:
        solved: dict[bytes, _Solution] = {theta.tobytes(): s}  # steps in sigma alone reuse their theta's solution

        def solve(design: _Design, at: np.ndarray) -> _Solution:
            key = np.asarray(at, dtype=np.float64).tobytes()
            if key not in solved:
                solved[key] = _solve(design, at)
            return solved[key]

        H = lmm_df.hessian(lambda v: _deviance_vp(d, v, reml, solve), np.append(theta, sigma))
    return lmm_df.satterthwaite(H, lmm_df.variance_gradients(pieces), var_beta)


def satterthwaite_df(y, X, blocks: Sequence[Block], fit: LMMFit) -> np.ndarray:
    """Satterthwaite degrees of freedom of each fixed coefficient, as lmerTest 3.1-3's ``summary``.

    ``varpar = (theta, sigma)``; ``vcov(varpar) = 2 H^+`` with ``H`` the Hessian of the deviance in
    ``varpar`` (``devfun_vp``; eigenvalues below 1e-8 dropped as lmerTest does); for coefficient
    ``j``, ``df = 2 V_jj^2 / (g' vcov(varpar) g)`` with ``g_i`` the derivative of ``V_jj`` in
    ``varpar_i`` (:mod:`pcstats.stats.lmm_df`). ``fit_lmm(..., satterthwaite=True)`` gives the same
    df from the fit's own final solution.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> g = np.repeat(np.arange(10), 8)
    >>> y = 1 + rng.normal(0, 1, 10)[g] + rng.normal(0, 0.5, 80)
    >>> X, blocks = np.ones((80, 1)), [Block(np.ones((80, 1)), g, 10)]
    >>> df = satterthwaite_df(y, X, blocks, fit_lmm(y, X, blocks))
    >>> bool(8.0 < df[0] < 10.0)
    True
    """
    with _one_blas_thread():
        y, X = np.asarray(y, dtype=np.float64), np.asarray(X, dtype=np.float64)
        _check_inputs(y, X, blocks)
        widths = [np.asarray(b.Z).shape[1] for b in blocks]
        if fit.theta.shape != (sum(w * (w + 1) // 2 for w in widths),) or fit.beta.shape != (X.shape[1],):
            raise ValueError("fit does not belong to these y, X and blocks")
        # the df do not depend on how the variances are parametrised; differentiate where the
        # columns are orthonormal (as fit_lmm optimises), not on raw ones such as years near 2000
        from .gls import semidefinite_cholesky

        bases = [_orthonormal_basis(np.asarray(b.Z, dtype=np.float64)) for b in blocks]
        d = _design(y, X, [Block(np.asarray(b.Z, dtype=np.float64) @ a, b.codes, b.n_levels) for b, a in zip(blocks, bases)])
        given = _templates(d, fit.theta)  # the fit's templates in the given columns (d has the same layout)
        templates = [semidefinite_cholesky(ai @ T @ T.T @ ai.T) for ai, T in zip(map(np.linalg.inv, bases), given)]
        theta = np.concatenate([T[_template_index(T.shape[0])] for T in templates])
        return _satterthwaite(d, _solve(d, theta), theta, fit.sigma, fit.reml, np.diag(fit.cov_beta))

