"""Linear mixed models with one residual SD per level of a factor, as ``nlme::lme(..., weights =
varIdent(form = ~ 1 | f))``.

The residual variance of row ``i`` is ``σ² δ²_k(i)`` with ``δ = 1`` for the first level (nlme's
parameterisation). For given ``δ`` the model is a weighted linear mixed model with weights
``w_i = 1 / δ²_k(i)``: rows scaled by ``√w`` and fitted by :func:`pcstats.stats.lmm.fit_lmm`, whose
(RE)ML log-likelihood of the scaled rows plus the Jacobian ``Σ log √w_i`` is the log-likelihood of the
original rows (the same for ML and REML: the scaling is a fixed linear map of ``y``). ``log δ`` of the
other levels are found together with θ by minimising lme4's profiled deviance of the rescaled rows
plus that Jacobian (L-BFGS-B; analytic gradient in θ, forward differences in log δ); β and σ are
profiled out, and the final fit at the estimated ratios gives everything else. Standard errors and Satterthwaite df of ``β`` are those of
the final weighted fit, conditional on ``δ`` (nlme's ``summary`` reports the same conditional
covariance).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy import optimize

from .lmm import Block, LMMFit, _criterion, _design, _gradient, _solve, fit_lmm

__all__ = ["DispersionFit", "fit_lmm_dispersion"]


@dataclass(frozen=True)
class DispersionFit:
    """The weighted fit at the estimated ratios, the ratios (first level 1) and the log-likelihood of the rows."""

    fit: LMMFit  # of the scaled rows; its loglik is replaced by the original rows' (Jacobian added)
    ratios: np.ndarray  # δ per level
    loglik: float
    converged: bool


def _scaled(y, X, blocks: Sequence[Block], sw: np.ndarray):
    return (y * sw, X * sw[:, None], [Block(np.asarray(b.Z) * sw[:, None], b.codes, b.n_levels) for b in blocks])


def fit_lmm_dispersion(y, X, blocks: Sequence[Block], codes: np.ndarray, n_levels: int, *, reml: bool = True,
                       satterthwaite: bool = False) -> DispersionFit:
    """Fit with one residual SD per level of ``codes`` (0 .. n_levels - 1; level 0 the reference).

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> g = np.repeat(np.arange(12), 10)
    >>> late = np.tile(np.r_[np.zeros(5, int), np.ones(5, int)], 12)
    >>> y = 2 + rng.normal(0, 1, 12)[g] + rng.normal(0, 1, 120) * np.where(late == 1, 3.0, 1.0)
    >>> out = fit_lmm_dispersion(y, np.ones((120, 1)), [Block(np.ones((120, 1)), g, 12)], late, 2)
    >>> bool(2 < out.ratios[1] < 4.5)
    True
    """
    y, X = np.asarray(y, dtype=float), np.asarray(X, dtype=float)
    codes = np.asarray(codes)

    # start: θ of an unweighted fit, and each level's residual SD ratio from its residuals
    first = fit_lmm(y, X, blocks, reml=reml)
    fitted = X @ first.beta + sum((np.asarray(b.Z) * m[b.codes]).sum(axis=1) for b, m in zip(blocks, first.blups))
    resid = y - fitted
    sd = np.array([np.sqrt(np.mean(resid[codes == k] ** 2)) for k in range(n_levels)])
    k = len(first.theta)
    start = np.r_[first.theta, np.log(np.maximum(sd[1:], 1e-8) / max(sd[0], 1e-8))]

    def criterion(par: np.ndarray) -> tuple[float, np.ndarray | None]:
        """The profiled (RE)ML deviance of the original rows at (θ, log δ), and its gradient in θ."""
        sw = 1.0 / np.r_[1.0, np.exp(par[k:])][codes]
        d = _design(*_scaled(y, X, blocks, sw), sparse_core=False)
        try:
            solution = _solve(d, par[:k])
        except np.linalg.LinAlgError:
            return 1e300, None
        return _criterion(d, solution, reml) - 2 * float(np.sum(np.log(sw))), _gradient(d, solution, reml)

    def objective(par: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad_theta = criterion(par)
        if grad_theta is None:
            return value, np.zeros_like(par)
        grad = np.empty_like(par)
        grad[:k] = grad_theta
        for j in range(k, len(par)):  # the ratios by forward differences
            step = par.copy()
            step[j] += 1e-7
            grad[j] = (criterion(step)[0] - value) / 1e-7
        return value, grad

    bounds = [(0.0, None) if lo == 0 else (None, None) for lo in first.theta_lower] + [(None, None)] * (n_levels - 1)
    # θ and the ratios together (lme4's profiled deviance with the rows rescaled: a few ms per evaluation)
    best = optimize.minimize(objective, start, jac=True, method="L-BFGS-B", bounds=bounds,
                             options={"ftol": 1e-13, "gtol": 1e-7, "maxiter": 1000})
    x = best.x[k:]
    delta = np.r_[1.0, np.exp(x)]
    sw = 1.0 / delta[codes]
    fit = fit_lmm(*_scaled(y, X, blocks, sw), reml=reml, satterthwaite=satterthwaite)
    loglik = fit.loglik + float(np.sum(np.log(sw)))
    # the modes and their SDs are on the scale of b, which the row scaling leaves unchanged
    fit = replace(fit, loglik=loglik, deviance=-2 * loglik)
    return DispersionFit(fit, delta, loglik, bool(fit.converged and best.success))
