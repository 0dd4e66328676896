"""Tables every mixed-model engine returns, in broom.mixed's conventions.

``tidy()`` rows have ``component`` ``fixed`` (estimate, std_error, statistic, df, p_value,
conf_low, conf_high), ``ran_pars`` (``sd__(Intercept)``, ``cor__(Intercept).year_c`` per grouping
factor in ``group``; ``sd__Observation`` with group ``Residual``) and ``ran_vals`` (conditional
modes, with ``level`` and their conditional SDs as ``std_error``). Engines hand over plain
numbers; the names, tests and intervals are made here, once.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import special

from ..stats.gls import semidefinite_cholesky
from ..stats.mixed_summary import icc, nakagawa_r2, random_variance
from .mixed_design import Design, ran_par_names

__all__ = ["fixed_rows", "ran_par_rows", "ran_val_rows", "glance_row", "is_singular", "MIXED_GLANCE"]

MIXED_GLANCE = (
    "nobs", "n_groups", "groups", "sigma", "log_lik", "aic", "bic", "deviance", "reml_crit", "df", "reml", "converged",
    "singular", "optimizer", "icc", "r2_marginal", "r2_conditional",
)


def fixed_rows(design: Design, beta: np.ndarray, se: np.ndarray, df: np.ndarray | None, conf_level: float) -> pd.DataFrame:
    """Fixed effects with Wald tests: t on ``df`` where given (Satterthwaite), normal otherwise."""
    beta, se = np.asarray(beta, float), np.asarray(se, float)
    df = np.full(len(beta), np.nan) if df is None else np.asarray(df, float)
    statistic = beta / se
    t = np.isfinite(df)
    # scipy.special's t and normal functions: the same numbers as scipy.stats without its per-call overhead
    df_t = np.where(t, df, 1.0)
    p = np.where(t, 2 * special.stdtr(df_t, -np.abs(statistic)), 2 * special.ndtr(-np.abs(statistic)))
    q = np.where(t, special.stdtrit(df_t, 0.5 + conf_level / 2), special.ndtri(0.5 + conf_level / 2))
    return pd.DataFrame({
        "component": "fixed", "group": None, "level": None, "term": list(design.fixed_names),
        "estimate": beta, "std_error": se, "statistic": statistic, "df": df, "p_value": p,
        "conf_low": beta - q * se, "conf_high": beta + q * se,
    })


def ran_par_rows(design: Design, cov_re: Sequence[np.ndarray], sigma: float) -> pd.DataFrame:
    """SDs and correlations of each term's random effects, then the residual SD."""
    rows = []
    for block, cov in zip(design.blocks, cov_re):
        sd = np.sqrt(np.clip(np.diag(cov), 0, None))
        for name, i, j in ran_par_names(block):
            if i == j:
                value = sd[i]
            else:
                value = cov[i, j] / (sd[i] * sd[j]) if sd[i] > 0 and sd[j] > 0 else np.nan
            rows.append({"group": block.term.group, "term": name, "estimate": float(value)})
    rows.append({"group": "Residual", "term": "sd__Observation", "estimate": float(sigma)})
    out = pd.DataFrame(rows)
    out.insert(0, "component", "ran_pars")
    return out


def ran_val_rows(design: Design, blups: Sequence[np.ndarray], blup_se: Sequence[np.ndarray]) -> pd.DataFrame:
    """Conditional modes (BLUPs) per level and column, with their conditional SDs."""
    parts = []
    for block, b, s in zip(design.blocks, blups, blup_se):
        m, p = b.shape
        parts.append(pd.DataFrame({
            "component": "ran_vals", "group": block.term.group, "level": np.repeat(np.array(block.levels, dtype=object), p),
            "term": np.tile(np.array(block.columns, dtype=object), m), "estimate": b.ravel(), "std_error": s.ravel(),
        }))
    return pd.concat(parts, ignore_index=True)


def is_singular(cov_re: Sequence[np.ndarray], sigma: float, tol: float = 1e-4) -> bool:
    """lme4's ``isSingular``: a diagonal element of a relative Cholesky factor below ``tol``.

    >>> is_singular([np.array([[4.0, 2.0], [2.0, 1.0]])], 1.0)   # correlation of exactly 1
    True
    """
    for cov in cov_re:
        if np.any(np.diag(semidefinite_cholesky(np.asarray(cov, float) / sigma**2)) < tol):
            return True
    return False


def glance_row(
    design: Design,
    *,
    beta: np.ndarray,
    cov_re: Sequence[np.ndarray],
    sigma: float,
    log_lik: float,
    reml: bool,
    converged: bool,
    optimizer: str,
) -> dict:
    """One glance() row: fit statistics as lme4 reports them, ICC and Nakagawa R^2 as performance does.

    ``n_groups`` is the largest number of levels of a grouping factor (lme4's ``ngrps(m)[1]``),
    ``groups`` the levels of each (``"source: 6; source:year: 177"``); ``deviance`` is for ML fits
    and ``reml_crit`` for REML fits, as broom.mixed's ``glance``. Every term's variance counts in
    ICC and R^2 (``performance`` counts only the first term of each factor for ``(x || g)``).
    """
    n = len(design.y)
    n_theta = sum(b.Z.shape[1] * (b.Z.shape[1] + 1) // 2 for b in design.blocks)
    npar = design.X.shape[1] + n_theta + 1
    var_fixed = float(np.var(design.X @ beta, ddof=1))
    var_random = random_variance(design.blocks, cov_re)
    r2m, r2c = nakagawa_r2(var_fixed, var_random, sigma**2)
    levels = dict.fromkeys((b.term.group, b.n_levels) for b in design.blocks)
    return {
        "nobs": n, "n_groups": max(m for _, m in levels), "groups": "; ".join(f"{g}: {m}" for g, m in levels),
        "sigma": sigma, "log_lik": log_lik, "aic": -2 * log_lik + 2 * npar, "bic": -2 * log_lik + np.log(n) * npar,
        "deviance": np.nan if reml else -2 * log_lik, "reml_crit": -2 * log_lik if reml else np.nan,
        "df": npar, "reml": reml, "converged": bool(converged),
        "singular": is_singular(cov_re, sigma), "optimizer": optimizer,
        "icc": icc(var_random, sigma**2), "r2_marginal": r2m, "r2_conditional": r2c,
    }
