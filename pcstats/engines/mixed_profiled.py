"""Mixed engine "profiled": lme4's own algorithm in numpy (:mod:`pcstats.stats.lmm`), no R needed.

The profiled REML/ML deviance of Bates et al. (2015), minimised over the relative covariance
factor (L-BFGS-B, then bounded Nelder-Mead, then Powell), and Satterthwaite df as lmerTest
computes them. Fits every structure the random-effect parser produces (correlated, uncorrelated,
nested, crossed); dense algebra for small designs, CHOLMOD's sparse Cholesky for large ones.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._version import __version__
from ..specs.mixed import MixedSpec
from ..stats.lmm import Block, fit_lmm
from .mixed_design import Design
from .mixed_output import fixed_rows, glance_row, ran_par_rows, ran_val_rows
from .mixed_run import run_mixed
from .prepare import Prepared

__all__ = ["fit"]


def fit(spec: MixedSpec, prepared: Prepared):
    """Fit ``spec`` by profiled (RE)ML in every group of ``prepared``."""
    return run_mixed(spec, prepared, _fit_one, engine="profiled", engine_version=__version__, packages=("scipy",))


def _fit_one(spec: MixedSpec, design: Design, where: str) -> dict:
    if spec.family != "gaussian":
        from .mixed_glmm import fit_one_glmm

        return fit_one_glmm(spec, design, where)
    if spec.ddf == "kenward-roger" and spec.dispersion is not None:
        from ..errors import EngineError

        raise EngineError(f"{where}: ddf='kenward-roger' with dispersion= is not available (pbkrtest has no residual "
                          "variance structures); use ddf='satterthwaite'.")
    blocks = [Block(b.Z, b.codes, b.n_levels) for b in design.blocks]
    ratios = None
    if spec.dispersion is not None:
        from ..stats.lmm_dispersion import fit_lmm_dispersion

        out = fit_lmm_dispersion(design.y, design.X, blocks, design.dispersion_codes, len(design.dispersion_levels),
                                 reml=spec.reml, satterthwaite=True)
        result, ratios = out.fit, out.ratios
    else:
        result = fit_lmm(design.y, design.X, blocks, reml=spec.reml, satterthwaite=True)
    df = result.df
    cov_beta = result.cov_beta
    if spec.degrees_of_freedom == "kenward-roger":
        cov_beta, df = _kenward_roger(design, blocks, result, where)
    elif spec.degrees_of_freedom == "none":
        df = None  # Wald z tests
    se = pd.Series(np.diag(cov_beta)).clip(lower=0).pow(0.5).to_numpy()
    glance = glance_row(design, beta=result.beta, cov_re=result.cov_re, sigma=result.sigma, log_lik=result.loglik,
                        reml=spec.reml, converged=result.converged, optimizer=result.optimizer)
    glance["singular"] = result.singular
    extra_rows = pd.DataFrame()
    if ratios is not None:  # nlme's varIdent: the extra SD ratios are parameters too
        extra = len(ratios) - 1
        n = len(design.y)
        glance["df"] += extra
        glance["aic"] = -2 * result.loglik + 2 * glance["df"]
        glance["bic"] = -2 * result.loglik + np.log(n) * glance["df"]
        glance["dispersion_ratios"] = "; ".join(f"{lv}: {r:.6g}" for lv, r in zip(design.dispersion_levels, ratios))
        extra_rows = pd.DataFrame({"component": "ran_pars", "group": "Residual",
                                   "term": [f"sd__Observation.{lv}" for lv in design.dispersion_levels],
                                   "estimate": result.sigma * ratios})
    messages = [] if result.converged else [f"{where}: the optimizer did not converge ({result.message})."]
    tidy = pd.concat([
        fixed_rows(design, result.beta, se, df, spec.conf_level),
        ran_par_rows(design, result.cov_re, result.sigma),
        extra_rows,
        ran_val_rows(design, result.blups, result.blup_se),
    ], ignore_index=True)
    return {"tidy": tidy, "glance": glance, "messages": messages, "native": result, "beta": result.beta,
            "modes": result.blups}


def _kenward_roger(design: Design, blocks, result, where: str):
    """pbkrtest's adjusted covariance of β and the KR df of each coefficient (lmerTest's ddf="Kenward-Roger")."""
    from ..errors import EngineError
    from ..stats.lmm_kr import kenward_roger

    try:
        return kenward_roger(design.X, blocks, result.cov_re, result.sigma)
    except ValueError as exc:
        raise EngineError(f"{where}: {exc}") from None
