"""Mixed engine "lme4": R's lme4/lmerTest through pymer4 (see :mod:`pcstats.engines.lme4_bridge`).

Fits every structure the random-effect parser produces, with lmerTest's Satterthwaite or Kenward-Roger
(pbkrtest) df, or z tests (``ddf="none"``).

R is handed the same matrices every engine fits (:mod:`pcstats.engines.mixed_design`): columns
``x1..xp`` of the fixed design and ``z<k>_<j>`` of each term, with the grouping factors
``g1..gK``, in the formula ``y ~ 0 + x1 + ... + (0 + z1_1 + z1_2 | g1) + ...``. This is the same
model as the user's formula in R (an intercept column is a column of ones), with the same
contrasts and column names in every engine; R's names are mapped back here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import EngineError
from ..specs.mixed import MixedSpec
from .mixed_design import Design
from .mixed_output import fixed_rows, glance_row, ran_par_rows, ran_val_rows
from .mixed_run import run_mixed
from .prepare import Prepared

__all__ = ["fit", "r_model_frame"]


def fit(spec: MixedSpec, prepared: Prepared):
    """Fit ``spec`` with lme4 (lmerTest) in every group of ``prepared``."""
    if spec.dispersion is not None:
        raise EngineError(f"engine='lme4' fits lmer models without residual variance structures here; "
                          f"dispersion={spec.dispersion!r} needs engine='profiled' (the default).")
    from .lme4_bridge import load_pymer4

    load_pymer4()  # fails early, with install instructions, when R or a package is missing
    return run_mixed(spec, prepared, _fit_one, engine="lme4", engine_version=_lme4_version(),
                     packages=("rpy2", "pymer4"))


def r_model_frame(design: Design, glmm: bool = False) -> tuple[pd.DataFrame, str]:
    """The data frame and lme4 formula R fits for ``design``; for a GLMM (``glmm``) the rows unscaled,
    with the prior weights in column ``w_`` and any offset added back to the linear predictor."""
    sw = design.sqrt_weights
    unscale = ((lambda a: a / (sw[:, None] if a.ndim == 2 else sw)) if (glmm and sw is not None) else (lambda a: a))
    y = unscale(design.y)
    if glmm and design.offset is not None:
        y = y + design.offset
    data = {"y": y}
    if glmm and sw is not None:
        data["w_"] = sw**2
    fixed = [f"x{i + 1}" for i in range(design.X.shape[1])]
    X = unscale(design.X)
    data.update({name: X[:, i] for i, name in enumerate(fixed)})
    terms = []
    for k, block in enumerate(design.blocks, start=1):
        cols = [f"z{k}_{j + 1}" for j in range(block.Z.shape[1])]
        Z = unscale(block.Z)
        data.update({name: Z[:, j] for j, name in enumerate(cols)})
        data[f"g{k}"] = np.asarray(block.levels, dtype=object)[block.codes]
        terms.append(f"(0 + {' + '.join(cols)} | g{k})")
    offset = " + offset(off_)" if glmm and design.offset is not None else ""
    if offset:
        data["off_"] = design.offset
    formula = f"y ~ 0 + {' + '.join(fixed)} + {' + '.join(terms)}{offset}"
    return pd.DataFrame(data), formula


def _fit_one(spec: MixedSpec, design: Design, where: str) -> dict:
    from .lme4_bridge import fit_lmer, glmer_fitter

    glmm = spec.family != "gaussian"
    data, formula = r_model_frame(design, glmm)
    fitter = None
    if glmm:
        from ..stats.glm_families import family as glm_family

        link = glm_family(spec.family, spec.link).link
        fitter = glmer_fitter(spec.family, link, spec.n_agq, "w_" in data.columns)
    try:
        ddf = {"satterthwaite": "Satterthwaite", "kenward-roger": "Kenward-Roger"}.get(spec.degrees_of_freedom, "lme4")
        out = fit_lmer(data, formula, spec.reml, fitter, ddf)
    except EngineError as exc:
        raise EngineError(f"lme4 could not fit {where}: {exc}") from None
    if out["dropped_terms"]:
        names = [design.fixed_names[int(t[1:]) - 1] for t in out["dropped_terms"]]
        raise EngineError(f"lme4 dropped the fixed effect(s) {', '.join(names)} of {where} as linearly dependent "
                          "on the others (nearly collinear columns); drop them from the formula.")
    fixed = out["fixed"].set_index("term").loc[[f"x{i + 1}" for i in range(design.X.shape[1])]]
    cov_re = _covariances(design, out["ran_pars"])
    modes, sds = _modes(design, out["ran_vals"])
    glance = glance_row(design, beta=fixed["estimate"].to_numpy(), cov_re=cov_re, sigma=float(out["sigma"]),
                        log_lik=float(out["log_lik"]), reml=spec.reml and not glmm, converged=bool(out["converged"]),
                        optimizer=str(out["optimizer"]))
    if glmm:  # glmer's parameters: fixed effects and covariance parameters (and sigma for Gamma / inverse Gaussian)
        scale = spec.family in ("gamma", "inverse_gaussian")
        npar = design.X.shape[1] + sum(b.Z.shape[1] * (b.Z.shape[1] + 1) // 2 for b in design.blocks) + int(scale)
        log_lik, n = float(out["log_lik"]), len(design.y)
        glance.update(df=npar, aic=-2 * log_lik + 2 * npar, bic=-2 * log_lik + np.log(n) * npar, deviance=-2 * log_lik,
                      reml_crit=np.nan, icc=np.nan, r2_marginal=np.nan, r2_conditional=np.nan, family=spec.family,
                      n_agq=spec.n_agq, df_residual=n - npar)
    glance["singular"] = bool(out["singular"])  # lme4's own isSingular
    messages = [f"{where}: lme4: {m}" for m in out["messages"] if "isSingular" not in m]
    tidy = pd.concat([
        fixed_rows(design, fixed["estimate"].to_numpy(), fixed["std_error"].to_numpy(), fixed["df"].to_numpy(), spec.conf_level),
        ran_par_rows(design, cov_re, float(out["sigma"])).query(
            "group != 'Residual'" if glmm and spec.family in ("binomial", "poisson") else "index == index"),
        ran_val_rows(design, modes, sds),
    ], ignore_index=True)
    return {"tidy": tidy, "glance": glance, "messages": messages, "native": out["r_model"],
            "beta": fixed["estimate"].to_numpy(), "modes": modes}


def _covariances(design: Design, ran_pars: pd.DataFrame) -> list[np.ndarray]:
    """Each term's covariance matrix from broom.mixed's SDs and correlations (R names)."""
    values = {(g, t): v for g, t, v in ran_pars[["group", "term", "estimate"]].itertuples(index=False)}
    out = []
    for k, block in enumerate(design.blocks, start=1):
        p = block.Z.shape[1]
        names = [f"z{k}_{j + 1}" for j in range(p)]
        sd = np.array([values[(f"g{k}", f"sd__{n}")] for n in names], dtype=float)
        cor = np.eye(p)
        for i in range(p):
            for j in range(i + 1, p):
                r = values.get((f"g{k}", f"cor__{names[i]}.{names[j]}"), np.nan)
                cor[i, j] = cor[j, i] = 0.0 if np.isnan(r) else r  # NaN when an SD is zero
        out.append(cor * np.outer(sd, sd))
    return out


def _modes(design: Design, ran_vals: pd.DataFrame) -> tuple[list[np.ndarray], list[np.ndarray]]:
    modes, sds = [], []
    for k, block in enumerate(design.blocks, start=1):
        part = ran_vals[ran_vals["group"] == f"g{k}"]
        p = block.Z.shape[1]
        est, se = np.full((block.n_levels, p), np.nan), np.full((block.n_levels, p), np.nan)
        level = {name: i for i, name in enumerate(block.levels)}
        for _, row in part.iterrows():
            j = int(str(row["term"]).rsplit("_", 1)[1]) - 1
            est[level[str(row["level"])], j] = row["estimate"]
            se[level[str(row["level"])], j] = row["std_error"]
        modes.append(est)
        sds.append(se)
    return modes, sds


def _lme4_version() -> str:
    import rpy2.robjects as ro  # R is running: load_pymer4() started it

    return str(ro.r('utils::packageDescription("lme4", fields = "Version")')[0])
