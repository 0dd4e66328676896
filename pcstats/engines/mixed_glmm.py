"""The profiled engine's GLMMs (``family`` other than gaussian): :func:`pcstats.stats.glmm.fit_glmm`
on one group's design, checked and reported as ``glmer`` reports it (Wald z tests; logLik, AIC,
BIC, deviance, df.residual; the Pearson overdispersion ratio for Poisson)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..errors import EngineError, FormulaError
from ..specs.mixed import MixedSpec
from ..stats.glm_families import family as glm_family
from ..stats.glmm import fit_glmm
from ..stats.lmm import Block
from .mixed_design import Design
from .mixed_output import fixed_rows, ran_par_rows, ran_val_rows

__all__ = ["fit_one_glmm", "binomial_response", "PROPORTION", "TRIALS"]

PROPORTION, TRIALS = "cbind_proportion", "cbind_trials"  # the columns a cbind(successes, failures) response becomes


def binomial_response(formula: str, data: pd.DataFrame) -> tuple[str, pd.DataFrame] | None:
    """``cbind(successes, failures) ~ rhs`` as a proportion with the trials as weights (as ``glm`` reads it):
    the formula with response :data:`PROPORTION` and the data with that column and :data:`TRIALS`; None
    when the response is not ``cbind(...)``."""
    match = re.match(r"\s*cbind\s*\(", formula)
    if match is None:
        return None
    depth, start, parts, i = 1, match.end(), [], match.end()
    while i < len(formula) and depth:
        char = formula[i]
        depth += (char == "(") - (char == ")")
        if char == "," and depth == 1:
            parts.append(formula[start:i])
            start = i + 1
        i += 1
    if depth:
        raise FormulaError(f"formula {formula!r}: cbind( is not closed; write cbind(successes, failures) ~ ...")
    parts.append(formula[start:i - 1])
    if len(parts) != 2:
        raise FormulaError(f"formula {formula!r}: cbind() takes two columns, successes and failures, as glmer's "
                           "binomial response; e.g. cbind(incidence, size - incidence) ~ period.")
    values = []
    for expr in parts:
        try:
            values.append(pd.to_numeric(data.eval(expr.strip()), errors="raise").to_numpy(dtype=float))
        except Exception as exc:  # pandas raises many kinds of error on a bad expression
            raise FormulaError(f"formula {formula!r}: cannot evaluate {expr.strip()!r} in cbind() on the data's "
                               f"columns ({type(exc).__name__}: {exc}).") from None
    successes, failures = values
    trials = successes + failures
    with np.errstate(invalid="ignore", divide="ignore"):
        proportion = np.where(trials > 0, successes / np.where(trials > 0, trials, 1), np.nan)
    bad = np.flatnonzero((successes < 0) | (failures < 0))
    if len(bad):
        raise FormulaError(f"formula {formula!r}: row {bad[0]} has {successes[bad[0]]:g} successes and "
                           f"{failures[bad[0]]:g} failures; counts must not be negative.")
    rest = formula[i:]
    return f"{PROPORTION} {rest.strip()}", data.assign(**{PROPORTION: proportion, TRIALS: trials})


def _check_response(spec: MixedSpec, y: np.ndarray, weights: np.ndarray | None, where: str) -> None:
    if spec.family == "binomial":
        bad = np.flatnonzero((y < 0) | (y > 1))
        if len(bad):
            raise EngineError(f"{where}: a binomial response is a proportion or 0/1; row {bad[0]} has {y[bad[0]]:g}. "
                              "Give counts as cbind(successes, failures) ~ ..., or proportions with weights= trials.")
        if weights is not None:
            counts = y * weights
            off = np.flatnonzero(np.abs(counts - np.round(counts)) > 1e-3)
            if len(off):
                raise EngineError(f"{where}: proportion x weights is not a whole number of successes on row {off[0]} "
                                  f"({counts[off[0]]:g}); binomial weights are numbers of trials.")
    if spec.family == "poisson":
        bad = np.flatnonzero(y < 0)
        if len(bad):
            raise EngineError(f"{where}: a Poisson response is a count; row {bad[0]} has {y[bad[0]]:g} (negative).")
        off = np.flatnonzero(np.abs(y - np.round(y)) > 1e-8)
        if len(off):
            raise EngineError(f"{where}: a Poisson response is a whole count; row {off[0]} has {y[off[0]]:g}.")
    if spec.family in ("gamma", "inverse_gaussian") and np.any(y <= 0):
        raise EngineError(f"{where}: a {spec.family} response must be positive; row {np.flatnonzero(y <= 0)[0]} is not.")


def fit_one_glmm(spec: MixedSpec, design: Design, where: str) -> dict:
    sw = design.sqrt_weights
    unscale = (lambda a: a / (sw[:, None] if a.ndim == 2 else sw)) if sw is not None else (lambda a: a)
    y, X = unscale(design.y), unscale(design.X)
    weights = None if sw is None else sw**2
    offset = design.offset
    if offset is not None:  # the design subtracts offsets from y (for a linear model); a GLMM adds them to eta
        y = y + offset
    family = glm_family(spec.family, spec.link)
    _check_response(spec, y, weights, where)
    blocks = [Block(unscale(b.Z), b.codes, b.n_levels) for b in design.blocks]
    fit = fit_glmm(y, X, blocks, family, weights=weights, offset=offset, n_agq=spec.n_agq)
    se = np.sqrt(np.clip(np.diag(fit.cov_beta), 0, None))
    n_theta = len(fit.theta)
    npar = len(fit.beta) + n_theta + int(family.has_scale)  # lme4 counts sigma for Gamma and inverse Gaussian
    n = fit.n_obs
    levels = dict.fromkeys((b.term.group, b.n_levels) for b in design.blocks)
    glance = {
        "nobs": n, "n_groups": max(m for _, m in levels), "groups": "; ".join(f"{g}: {m}" for g, m in levels),
        "sigma": fit.sigma, "log_lik": fit.loglik, "aic": -2 * fit.loglik + 2 * npar,
        "bic": -2 * fit.loglik + np.log(n) * npar, "deviance": fit.deviance, "reml_crit": np.nan, "df": npar,
        "reml": False, "converged": fit.converged, "singular": fit.singular, "optimizer": fit.message,
        "icc": np.nan, "r2_marginal": np.nan, "r2_conditional": np.nan,
        "family": family.name, "link": family.link, "n_agq": spec.n_agq, "df_residual": fit.df_residual,
        "overdispersion": fit.pearson_chi2 / fit.df_residual if family.name == "poisson" else np.nan,
    }
    messages = []
    if not fit.converged:
        messages.append(f"{where}: the GLMM optimizer did not converge ({fit.message}).")
    if not fit.hessian_ok:
        messages.append(f"{where}: the Hessian of the deviance is not positive definite; the fixed effects' standard "
                        "errors come from the penalised least squares approximation instead (as lme4 falls back).")
    if family.name == "poisson" and glance["overdispersion"] > 1.5:
        messages.append(f"{where}: overdispersion: Pearson chi-square / df.residual = {glance['overdispersion']:.2f}; "
                        "the Poisson standard errors are too small. Add an observation-level random effect "
                        "((1 | obs)) or use a negative binomial model.")
    tidy = pd.concat([
        fixed_rows(design, fit.beta, se, None, spec.conf_level),
        ran_par_rows(design, fit.cov_re, fit.sigma).query("group != 'Residual'" if not family.has_scale else "index == index"),
        ran_val_rows(design, fit.blups, fit.blup_se),
    ], ignore_index=True)
    eta = X @ fit.beta + sum((b.Z * m[b.codes]).sum(axis=1) for b, m in zip(blocks, fit.blups))
    eta = eta + (0.0 if offset is None else offset)
    return {"tidy": tidy, "glance": glance, "messages": messages, "native": fit, "beta": fit.beta, "modes": fit.blups,
            "fitted": family.linkinv(eta), "response": y}
