"""Generalized linear mixed models fitted as lme4's ``glmer``, in numpy/scipy.

The model is ``g(μ) = η = offset + X β + Z Λ u`` with spherical random effects ``u ~ N(0, I)``
and ``Λ`` lme4's relative covariance factor (templates per term, ``theta`` column by column: the
layout of :mod:`pcstats.stats.lmm`). For given ``(θ, β)``:

* penalised iteratively reweighted least squares (PIRLS, lme4's ``pwrssUpdate`` with ``uOnly``)
  finds the conditional mode ``ũ`` minimising ``Σ dev_i(μ) + |u|²``, with step halving;
* the Laplace approximation of ``-2 log L`` is ``Σ -2 log f(y_i | μ_i) + |ũ|² + log|L|²``, with
  ``L L' = Λ'Z'WZΛ + I`` at the mode (lme4's ``laplace()``: the family's ``aic`` term, the penalty
  and ``ldL2``);
* with ``n_agq > 1`` and one scalar term, adaptive Gauss-Hermite quadrature around each level's
  mode replaces the Laplace approximation level by level (lme4's ``nAGQ``).

``(θ, β)`` minimise that deviance (L-BFGS-B on finite differences, from ``θ = 1`` and the GLM's
``β``; the modes are warm-started between evaluations). As lme4 1.1-31 (``use.hessian = TRUE``),
``vcov(β)`` is the ``β`` block of ``2 H⁻¹`` with ``H`` the Hessian of the deviance in ``(θ, β)``
by central differences; conditional modes are ``Λ ũ`` and their conditional variances
``Λ (L L')⁻¹ Λ'`` (``condVar``).

Families with a dispersion parameter (Gamma, inverse Gaussian) are fitted the same way, with R's
``family()$aic`` (dispersion = deviance / n, plus 2) in the deviance and, as lme4 1.1-31 reports them,
``sigma² = pwrss / n`` (Pearson residuals and the penalty), variance components ``(θ σ)²`` and
conditional SDs scaled by σ. lme4's treatment of their dispersion is debated upstream (lme4 issues
#557, #643, #852; tests/reference/glmm/README.md): these match lme4, not a better estimator.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import linalg, optimize, sparse, special

from .glm_families import Family
from .lmm import Block, _cholesky, _lambda_layout, _random_design, _template_index

__all__ = ["GLMMFit", "fit_glmm", "laplace_deviance"]


@dataclass(frozen=True)
class GLMMFit:
    """A fitted GLMM; per-term fields follow the caller's block order."""

    beta: np.ndarray
    cov_beta: np.ndarray
    theta: np.ndarray
    cov_re: tuple[np.ndarray, ...]  # T_k T_k' (times the dispersion for Gamma / inverse Gaussian)
    loglik: float
    deviance: float  # -2 loglik (the Laplace or AGQ approximation)
    converged: bool
    message: str
    n_evaluations: int
    singular: bool
    blups: tuple[np.ndarray, ...]
    blup_se: tuple[np.ndarray, ...]
    n_obs: int
    sigma: float  # 1 for binomial and Poisson
    pearson_chi2: float
    df_residual: int
    hessian_ok: bool  # False: vcov fell back to the PIRLS approximation


@dataclass
class _Model:
    y: np.ndarray
    X: np.ndarray
    Z: sparse.csr_matrix
    weights: np.ndarray
    offset: np.ndarray
    family: Family
    dims: tuple
    lam_rows: np.ndarray
    lam_cols: np.ndarray
    lam_theta: np.ndarray
    lower: np.ndarray
    n_agq: int
    lp0: np.ndarray | None = None  # the linear predictor every PIRLS starts from (lme4's lp0)
    scalar: np.ndarray | None = None  # one scalar term: its column (then A is diagonal)
    codes: np.ndarray | None = None  # and its level codes (also those of quadrature, which needs one scalar term)
    crossed: _Crossed | None = None  # several scalar terms: the sparse path

    @property
    def q(self) -> int:
        return self.Z.shape[1]

    def lam(self, theta: np.ndarray) -> sparse.csr_matrix:
        return sparse.csr_matrix((theta[self.lam_theta], (self.lam_rows, self.lam_cols)), shape=(self.q, self.q))


def _loglik_terms(family: Family, y: np.ndarray, mu: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``-2 log f(y_i | μ_i)`` per row, as R's ``family()$aic`` sums them (binomial: trials = weights)."""
    if family.name == "binomial":
        m = weights
        k = np.round(m * y)
        logpmf = (special.gammaln(m + 1) - special.gammaln(k + 1) - special.gammaln(m - k + 1)
                  + special.xlogy(k, mu) + special.xlog1py(m - k, -mu))
        return -2 * logpmf
    if family.name == "poisson":
        return -2 * weights * (special.xlogy(y, mu) - mu - special.gammaln(y + 1))
    dev = float(np.sum(family.dev_resids(y, mu, weights)))
    n = float(np.sum(weights))
    disp = dev / n  # R's Gamma()$aic and inverse.gaussian()$aic take the dispersion as deviance / n
    if family.name == "gamma":
        shape = 1 / disp
        logpdf = (-special.gammaln(shape) - shape * np.log(mu * disp) + (shape - 1) * np.log(y) - y / (mu * disp))
        return -2 * weights * logpdf + 2 / len(y)  # aic adds 2 once
    if family.name == "inverse_gaussian":
        return weights * (np.log(disp * 2 * np.pi) + 1) + 3 * np.log(y) * weights + 2 / len(y)
    raise NotImplementedError(family.name)


def _lme4_pirls(model: _Model, theta: np.ndarray, beta: np.ndarray | None, eta: np.ndarray, tol: float = 1e-7,
                max_iter: int = 100):
    """PIRLS as lme4's ``pwrssUpdate``: from the linear predictor ``eta``, IRLS steps for u (and β when
    ``beta`` is None: lme4's first, nAGQ = 0 stage), with step halving, stopped when the penalised
    deviance changes by less than ``tol`` relatively; the factor L returned is the last one computed,
    at the weights the last step started from (what lme4's Laplace deviance uses).

    Returns ``(u, beta, mu, eta, L)``.
    """
    if model.scalar is not None:
        return _lme4_pirls_scalar(model, theta, beta, eta, tol, max_iter)
    if model.crossed is not None:
        return _lme4_pirls_crossed(model, theta, beta, eta, tol, max_iter)
    fam, y, w = model.family, model.y, model.weights
    ZL = (model.Z @ model.lam(theta)).tocsr()
    dense = model.q <= 50  # small designs: dense products cost less than sparse bookkeeping
    if dense:
        ZL = ZL.toarray()
    ZLt = ZL.T if dense else ZL.T.tocsr()
    joint = beta is None
    offset = model.offset + (0.0 if joint else model.X @ beta)
    mu = fam.linkinv(eta)
    old_pdev = np.inf
    u_old = np.zeros(model.q)
    b_old = np.zeros(model.X.shape[1]) if joint else beta
    L = None
    for _ in range(max_iter):
        mu_eta = fam.mu_eta(eta)
        W = w * mu_eta**2 / fam.variance(mu)
        z = eta - offset + (y - mu) / mu_eta
        ZLtW = ZLt * W[None, :] if dense else ZLt.multiply(W[None, :]).tocsr()
        A = ZLtW @ ZL if dense else (ZLtW @ ZL).toarray()
        A[np.diag_indices_from(A)] += 1.0
        L = _cholesky(A)
        rhs_u = ZLt @ (W * z)
        if joint:
            C = ZLtW @ model.X
            RZX = linalg.solve_triangular(L, C, lower=True)
            cu = linalg.solve_triangular(L, rhs_u, lower=True)
            XtWX = (model.X.T * W) @ model.X - RZX.T @ RZX
            b_new = np.linalg.solve(XtWX, model.X.T @ (W * z) - RZX.T @ cu)
            u_new = linalg.solve_triangular(L.T, cu - RZX @ b_new, lower=False)
        else:
            u_new = linalg.cho_solve((L, True), rhs_u)
            b_new = beta
        for _ in range(21):
            eta_new = offset + ZL @ u_new + (model.X @ b_new if joint else 0.0)
            mu_new = fam.linkinv(eta_new)
            pdev = float(np.sum(fam.dev_resids(y, mu_new, w)) + u_new @ u_new)
            if np.isfinite(pdev) and pdev <= old_pdev:
                break
            u_new = (u_old + u_new) / 2
            b_new = (b_old + b_new) / 2 if joint else b_new
        eta, mu, u_old, b_old = eta_new, mu_new, u_new, b_new
        if abs((old_pdev - pdev) / pdev) < tol:
            break
        old_pdev = pdev
    return u_old, b_old, mu, eta, L


def _lme4_pirls_scalar(model: _Model, theta: np.ndarray, beta: np.ndarray | None, eta: np.ndarray, tol: float,
                       max_iter: int):
    """:func:`_lme4_pirls` for one scalar term (``(1 | g)`` or ``(0 + x | g)``): ``A`` is diagonal, so every
    product is a sum over each level's rows (``np.bincount``) and L is the square root of the diagonal."""
    fam, y, w, X = model.family, model.y, model.weights, model.X
    codes, q = model.codes, model.q
    zl = model.scalar * theta[0]  # Z Λ's one nonzero per row
    joint = beta is None
    offset = model.offset + (0.0 if joint else X @ beta)
    mu = fam.linkinv(eta)
    old_pdev = np.inf
    u_old = np.zeros(q)
    b_old = np.zeros(X.shape[1]) if joint else beta
    d = None
    for _ in range(max_iter):
        mu_eta = fam.mu_eta(eta)
        W = w * mu_eta**2 / fam.variance(mu)
        z = eta - offset + (y - mu) / mu_eta
        d = 1.0 + np.bincount(codes, weights=W * zl * zl, minlength=q)  # diag(A) = L²
        rhs_u = np.bincount(codes, weights=W * zl * z, minlength=q)
        if joint:
            Wzl = W * zl
            C = np.column_stack([np.bincount(codes, weights=Wzl * X[:, j], minlength=q) for j in range(X.shape[1])])
            Ld = np.sqrt(d)
            RZX = C / Ld[:, None]
            cu = rhs_u / Ld
            XtWX = (X.T * W) @ X - RZX.T @ RZX
            b_new = np.linalg.solve(XtWX, X.T @ (W * z) - RZX.T @ cu)
            u_new = (cu - RZX @ b_new) / Ld
        else:
            u_new = rhs_u / d
            b_new = beta
        for _ in range(21):
            eta_new = offset + zl * u_new[codes] + (X @ b_new if joint else 0.0)
            mu_new = fam.linkinv(eta_new)
            pdev = float(np.sum(fam.dev_resids(y, mu_new, w)) + u_new @ u_new)
            if np.isfinite(pdev) and pdev <= old_pdev:
                break
            u_new = (u_old + u_new) / 2
            b_new = (b_old + b_new) / 2 if joint else b_new
        eta, mu, u_old, b_old = eta_new, mu_new, u_new, b_new
        if abs((old_pdev - pdev) / pdev) < tol:
            break
        old_pdev = pdev
    return u_old, b_old, mu, eta, np.diag(np.sqrt(d))


@dataclass
class _Crossed:
    """Several scalar terms (crossed or nested ``(1 | a) + (1 | b)``): A on the fixed pattern of Z'Z + I,
    filled entry by entry, and CHOLMOD's symbolic factorisation reused (as lme4)."""

    Z: sparse.csc_matrix
    Zt: sparse.csr_matrix
    pattern: sparse.csc_matrix
    entries: np.ndarray  # per (row, term pair): the entry of the pattern it adds to
    rows: np.ndarray  # and the data row
    coef: np.ndarray  # z_s z_t
    diagonal: np.ndarray  # pattern entries on the diagonal
    entry_row: np.ndarray  # pattern row / column of each entry
    entry_col: np.ndarray
    term_of_column: np.ndarray
    factor: object

    @classmethod
    def of(cls, blocks: Sequence[Block], n: int) -> _Crossed | None:
        from .lmm_sparse import available

        if len(blocks) < 2 or any(np.asarray(b.Z).shape[1] != 1 for b in blocks) or not available():
            return None
        from sksparse.cholmod import analyze

        Z = _random_design(blocks, n).tocsc()
        q = Z.shape[1]
        pattern = (Z.T @ Z + sparse.identity(q, format="csc")).tocsc()
        pattern.sort_indices()
        cols = np.repeat(np.arange(q), np.diff(pattern.indptr))
        keys = cols.astype(np.int64) * q + pattern.indices
        offsets = np.cumsum([0] + [b.n_levels for b in blocks])
        column = [offsets[t] + np.asarray(b.codes) for t, b in enumerate(blocks)]
        zs = [np.asarray(b.Z, dtype=float)[:, 0] for b in blocks]
        entries, rows, coef = [], [], []
        for s_, (cs, zs_) in enumerate(zip(column, zs)):
            for t_, (ct, zt) in enumerate(zip(column, zs)):
                entries.append(np.searchsorted(keys, ct.astype(np.int64) * q + cs))
                rows.append(np.arange(n))
                coef.append(zs_ * zt)
        term_of_column = np.repeat(np.arange(len(blocks)), [b.n_levels for b in blocks])
        return cls(Z, Z.T.tocsr(), pattern, np.concatenate(entries), np.concatenate(rows), np.concatenate(coef),
                   pattern.indices == cols, pattern.indices, cols, term_of_column,
                   analyze(pattern, mode="simplicial", ordering_method="metis"))

    def factorise(self, W: np.ndarray, lam: np.ndarray):
        """CHOLMOD's factor of ``Λ'Z'WZΛ + I`` (Λ the diagonal ``lam``), the matrix kept on it."""
        data = np.bincount(self.entries, weights=W[self.rows] * self.coef, minlength=self.pattern.nnz)
        A = self.pattern.copy()
        A.data = data * lam[self.entry_row] * lam[self.entry_col] + self.diagonal
        self.factor.cholesky_inplace(A)
        return _SparseFactor(self.factor, A)


@dataclass(frozen=True)
class _SparseFactor:
    """CHOLMOD's factor with the matrix it factorises: solves ``A x = b`` and gives ``log|A|``."""

    factor: object
    _crossed_A: sparse.csc_matrix

    def __call__(self, b: np.ndarray) -> np.ndarray:
        return self.factor(b)

    def logdet(self) -> float:
        return self.factor.logdet()


def _lme4_pirls_crossed(model: _Model, theta: np.ndarray, beta: np.ndarray | None, eta: np.ndarray, tol: float,
                        max_iter: int):
    """:func:`_lme4_pirls` for several scalar terms, on the sparse factor of :class:`_Crossed`."""
    fam, y, w, X = model.family, model.y, model.weights, model.X
    cr = model.crossed
    lam = theta[cr.term_of_column]
    joint = beta is None
    offset = model.offset + (0.0 if joint else X @ beta)
    mu = fam.linkinv(eta)
    old_pdev = np.inf
    u_old = np.zeros(model.q)
    b_old = np.zeros(X.shape[1]) if joint else beta
    F = None
    for _ in range(max_iter):
        mu_eta = fam.mu_eta(eta)
        W = w * mu_eta**2 / fam.variance(mu)
        z = eta - offset + (y - mu) / mu_eta
        F = cr.factorise(W, lam)
        rhs_u = lam * (cr.Zt @ (W * z))
        if joint:
            C = lam[:, None] * (cr.Zt @ (W[:, None] * X))
            AinvC = F(C)
            Ainv_rhs = F(rhs_u)
            XtWX = (X.T * W) @ X - C.T @ AinvC
            b_new = np.linalg.solve(XtWX, X.T @ (W * z) - C.T @ Ainv_rhs)
            u_new = Ainv_rhs - AinvC @ b_new
        else:
            u_new = F(rhs_u)
            b_new = beta
        for _ in range(21):
            eta_new = offset + cr.Z @ (lam * u_new) + (X @ b_new if joint else 0.0)
            mu_new = fam.linkinv(eta_new)
            pdev = float(np.sum(fam.dev_resids(y, mu_new, w)) + u_new @ u_new)
            if np.isfinite(pdev) and pdev <= old_pdev:
                break
            u_new = (u_old + u_new) / 2
            b_new = (b_old + b_new) / 2 if joint else b_new
        eta, mu, u_old, b_old = eta_new, mu_new, u_new, b_new
        if abs((old_pdev - pdev) / pdev) < tol:
            break
        old_pdev = pdev
    return u_old, b_old, mu, eta, F


def _deviance(model: _Model, par: np.ndarray) -> float:
    """The Laplace (or AGQ) ``-2 log L`` at ``par = (θ, β)``, as lme4's stage-2 deviance function."""
    k = len(model.lower)
    theta, beta = par[:k], par[k:]
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            u, _, mu, eta, L = _lme4_pirls(model, theta, beta, model.lp0)
    except (linalg.LinAlgError, np.linalg.LinAlgError, FloatingPointError, ValueError):
        return np.inf
    if model.n_agq == 1:
        return _laplace(model, u, mu, L)
    return _agq(model, theta, beta, u, L)


def _agq(model: _Model, theta: np.ndarray, beta: np.ndarray, u: np.ndarray, L: np.ndarray) -> float:
    """Adaptive Gauss-Hermite quadrature for one scalar term, as lme4's ``glmerAGQ``: per level, nodes
    ``u_j + z s_j`` around the mode with ``s_j = 1 / L_jj``, on the deviance-residual scale
    (``Σ_j devc0_j + log|L|² − 2 Σ_j log mult_j``)."""
    z_nodes, weights = np.polynomial.hermite_e.hermegauss(model.n_agq)
    weights = weights / weights.sum()
    z_nodes = (z_nodes - z_nodes[::-1]) / 2  # symmetric, as lme4's GHrule
    weights = (weights + weights[::-1]) / 2
    codes, m = model.codes, model.q
    s = 1.0 / np.diag(L)
    zl = np.asarray(model.Z.sum(axis=1)).ravel() * theta[0]  # Z Λ: one nonzero per row
    fixed = model.offset + model.X @ beta

    def devc(uu: np.ndarray) -> np.ndarray:
        mu = model.family.linkinv(fixed + zl * uu[codes])
        return uu**2 + np.bincount(codes, weights=model.family.dev_resids(model.y, mu, model.weights), minlength=m)

    devc0 = devc(u)
    mult = np.zeros(m)
    for z, wk in zip(z_nodes, weights):
        if z == 0:
            mult += wk
        else:
            mult += np.exp(-0.5 * (devc(u + z * s) - devc0) + 0.5 * z**2) * wk
    return float(devc0.sum() + 2 * np.sum(np.log(np.diag(L))) - 2 * np.sum(np.log(mult)))


def laplace_deviance(y, X, blocks: Sequence[Block], family: Family, theta, beta, *, weights=None, offset=None,
                     n_agq: int = 1) -> float:
    """``-2 log L`` by the Laplace approximation (or AGQ) at given ``(θ, β)``: lme4's
    ``glmer(..., devFunOnly = TRUE)`` evaluated at ``c(theta, beta)``."""
    model = _model(y, X, blocks, family, weights, offset, n_agq)
    _stage1(model)
    return _deviance(model, np.r_[np.asarray(theta, float), np.asarray(beta, float)])


def _model(y, X, blocks, family, weights, offset, n_agq) -> _Model:
    y = np.asarray(y, dtype=float)
    n = len(y)
    dims, rows, cols, tidx, lower = _lambda_layout(blocks)
    Z = _random_design(blocks, n)
    single = len(blocks) == 1 and np.asarray(blocks[0].Z).shape[1] == 1
    return _Model(y, np.asarray(X, dtype=float), Z, np.ones(n) if weights is None else np.asarray(weights, float),
                  np.zeros(n) if offset is None else np.asarray(offset, float), family, dims, rows, cols, tidx, lower,
                  n_agq, scalar=np.asarray(blocks[0].Z, dtype=float)[:, 0].copy() if single else None,
                  codes=np.asarray(blocks[0].codes) if single else None,
                  crossed=None if single else _Crossed.of(blocks, n))


def _mustart(model: _Model) -> np.ndarray:
    """R's ``family$initialize`` starting means."""
    fam, y, w = model.family, model.y, model.weights
    if fam.name == "binomial":
        return (w * y + 0.5) / (w + 1)
    if fam.name == "poisson":
        return y + 0.1
    return np.maximum(y, 1e-3)


def _logdet(L) -> float:
    """``log|L|² = log|A|`` from a dense factor or a CHOLMOD one."""
    return float(L.logdet()) if hasattr(L, "logdet") else float(2 * np.sum(np.log(np.diag(L))))


def _dense_factor(L) -> np.ndarray:
    """A dense lower Cholesky factor of A (for the conditional variances), from either kind of factor."""
    if not hasattr(L, "logdet"):
        return L
    return _cholesky(np.asarray(L._crossed_A.toarray()))


def _laplace(model: _Model, u: np.ndarray, mu: np.ndarray, L) -> float:
    return float(np.sum(_loglik_terms(model.family, model.y, mu, model.weights)) + u @ u + _logdet(L))


def _stage1(model: _Model) -> tuple[np.ndarray, np.ndarray, int]:
    """lme4's first stage (nAGQ = 0): PIRLS over u and β together from R's starting means, θ optimised
    on its Laplace deviance; sets ``model.lp0`` (every later PIRLS starts there). Returns (θ, β, evaluations)."""
    theta0 = np.where(model.lower == 0, 1.0, 0.0)  # lme4's start: 1 on template diagonals, 0 elsewhere
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        eta_init = model.family.linkfun(_mustart(model))
        _, _, _, eta0, _ = _lme4_pirls(model, theta0, None, eta_init)
    count = [0]

    def objective(theta):
        count[0] += 1
        try:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                u, _, mu, _, L = _lme4_pirls(model, theta, None, eta0)
            value = _laplace(model, u, mu, L)
        except (np.linalg.LinAlgError, linalg.LinAlgError, ValueError):
            return 1e300
        return value if np.isfinite(value) else 1e300

    bounds = [(0.0, None) if lo == 0 else (None, None) for lo in model.lower]
    # derivative-free, as lme4's bobyqa: the deviance of a loosely converged PIRLS has small steps
    best = optimize.minimize(objective, theta0, method="Nelder-Mead", bounds=bounds,
                             options={"xatol": 1e-7, "fatol": 1e-9, "maxiter": 2000})
    theta = best.x
    theta = np.where(model.lower == 0, np.maximum(theta, 0.0), theta)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        _, beta, _, eta, _ = _lme4_pirls(model, theta, None, eta0)
    model.lp0 = eta
    return theta, beta, count[0]


def _derivs(f, x: np.ndarray, h: float = 1e-4) -> tuple[float, np.ndarray, np.ndarray]:
    """``(f(x), gradient, Hessian)`` by central differences with step ``h`` (lme4's ``deriv12``, delta 1e-4)."""
    k = len(x)
    f0 = f(x)
    g = np.empty(k)
    H = np.empty((k, k))
    for i in range(k):
        ei = np.zeros(k)
        ei[i] = h
        up, down = f(x + ei), f(x - ei)
        g[i] = (up - down) / (2 * h)
        H[i, i] = (up - 2 * f0 + down) / h**2
        for j in range(i):
            ej = np.zeros(k)
            ej[j] = h
            H[i, j] = H[j, i] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (4 * h**2)
    return f0, g, H


def _hessian(f, x: np.ndarray, h: float = 1e-4) -> np.ndarray:
    """Central-difference Hessian with step ``h`` (lme4's ``deriv12``, delta = 1e-4)."""
    return _derivs(f, x, h)[2]


def _newton(f, x: np.ndarray, lower: np.ndarray, max_iter: int = 8) -> tuple[np.ndarray, np.ndarray | None, bool]:
    """Newton steps on lme4's deviance with its finite-difference derivatives (steps of 1e-4 are far above the
    deviance's small steps); ``(x, the Hessian at x or None, converged)``. Gives up (for Nelder-Mead) at a
    bound, on a Hessian that is not positive definite or a step that does not lower f."""
    f0, g, H = _derivs(f, x)
    for _ in range(max_iter):
        try:
            np.linalg.cholesky(H)
            step = -np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            return x, None, False
        new = x + step
        if np.any(new < lower) or not f(new) <= f0 + 1e-9:
            return x, None, False
        x = new
        f0, g, H = _derivs(f, x)
        if np.max(np.abs(step)) < 1e-6 * max(1.0, np.max(np.abs(x))):
            return x, H, True
    return x, H, False


def fit_glmm(y, X, blocks: Sequence[Block], family: Family, *, weights=None, offset=None, n_agq: int = 1) -> GLMMFit:
    """Fit a GLMM by the Laplace approximation (``n_agq = 1``) or adaptive quadrature.

    ``y`` is the response on the family's scale (binomial: proportions with ``weights`` the numbers of
    trials, or 0/1), ``X`` the fixed design, ``blocks`` the random-effect terms (:class:`lmm.Block`).
    """
    model = _model(y, X, blocks, family, weights, offset, n_agq)
    k = len(model.lower)
    theta1, beta1, evaluations0 = _stage1(model)
    bounds = [(0.0, None) if lo == 0 else (None, None) for lo in model.lower] + [(None, None)] * len(beta1)
    evaluations = [evaluations0]

    def objective(par):
        evaluations[0] += 1
        value = _deviance(model, par)
        return value if np.isfinite(value) else 1e300

    # lme4's own deviance (its PIRLS stops at a relative change of 1e-7 and takes log|L| at the weights of the
    # last step: a deviance up to ~1e-3 from the exact Laplace one, with small steps where the number of PIRLS
    # iterations changes): Newton steps on central differences of step 1e-4, Nelder-Mead where they cannot go on
    start = np.r_[theta1, beta1]
    lower = np.r_[np.where(model.lower == 0, 0.0, -np.inf), np.full(len(beta1), -np.inf)]
    par, H, newton_ok = _newton(objective, start, lower)
    converged = newton_ok
    if not newton_ok:  # lme4's own way: derivative-free from the first stage
        simplex = np.vstack([start] + [start + np.eye(len(start))[i] * 0.02 * max(0.1, abs(start[i]))
                                       for i in range(len(start))])
        polish = optimize.minimize(objective, start, method="Nelder-Mead", bounds=bounds,
                                   options={"xatol": 1e-7, "fatol": 1e-8, "maxiter": 3000, "initial_simplex": simplex})
        par = polish.x if polish.fun <= objective(start) else start
        H, converged = None, bool(polish.success)
    theta, beta = par[:k], par[k:]
    deviance = _deviance(model, par)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        u, _, mu, eta, L = _lme4_pirls(model, theta, beta, model.lp0)
    L = _dense_factor(L)
    pirls_ok = True
    if H is None:
        H = _hessian(lambda p: _deviance(model, p), par)
    hessian_ok = bool(np.all(np.isfinite(H)))
    cov_beta = None
    if hessian_ok:
        try:
            inv = np.linalg.inv(H)
            cov_beta = 2 * inv[k:, k:]
            hessian_ok = bool(np.all(np.diag(cov_beta) > 0))
        except np.linalg.LinAlgError:
            hessian_ok = False
    if not hessian_ok:  # lme4's fallback: the RX-based covariance from the final PIRLS weights
        mu_eta = family.mu_eta(eta)
        w = model.weights * mu_eta**2 / family.variance(mu)
        ZL = (model.Z @ model.lam(theta)).toarray()
        RZX = linalg.solve_triangular(L, (ZL.T * w) @ model.X, lower=True)
        cov_beta = np.linalg.inv((model.X.T * w) @ model.X - RZX.T @ RZX)
    lam = model.lam(theta).toarray()
    b = lam @ u
    Linv = linalg.solve_triangular(L, np.eye(model.q), lower=True)
    cond_cov = lam @ (Linv.T @ Linv) @ lam.T
    blups, blup_se, cov_re = [], [], []
    t0 = 0
    for (offset_q, m, p), block in zip(model.dims, blocks):
        T = np.zeros((p, p))
        r, c = _template_index(p)
        T[r, c] = theta[t0:t0 + r.size]
        t0 += r.size
        cov_re.append(T @ T.T)
        sl = slice(offset_q, offset_q + m * p)
        blups.append(b[sl].reshape(m, p))
        blup_se.append(np.sqrt(np.clip(np.diag(cond_cov)[sl], 0, None)).reshape(m, p))
    resid = (model.y - mu) * np.sqrt(model.weights / family.variance(mu))
    sigma = 1.0
    if family.has_scale:  # lme4: sigma² = pwrss / n (Pearson residuals and the penalty), VarCorr (θ σ)²
        sigma = float(np.sqrt((resid @ resid + u @ u) / len(model.y)))
        cov_re = [c * sigma**2 for c in cov_re]
        blup_se = [se * sigma for se in blup_se]  # condVar is sigma² Λ (L L')⁻¹ Λ' (the modes stay Λ u)
    df_residual = len(model.y) - (k + len(beta) + int(family.has_scale))
    singular = bool(np.any(theta[model.lower == 0] < 1e-4))  # lme4's isSingular(tol = 1e-4)
    converged = converged and pirls_ok
    return GLMMFit(beta=beta, cov_beta=cov_beta, theta=theta, cov_re=tuple(cov_re), loglik=-deviance / 2,
                   deviance=deviance, converged=converged, message="Newton steps on lme4's deviance" if newton_ok else "Nelder-Mead", n_evaluations=evaluations[0],
                   singular=bool(singular), blups=tuple(blups), blup_se=tuple(blup_se), n_obs=len(model.y), sigma=sigma,
                   pearson_chi2=float(resid @ resid), df_residual=int(df_residual), hessian_ok=hessian_ok)
