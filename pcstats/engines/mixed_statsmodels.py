"""Mixed engine "statsmodels": statsmodels' MixedLM, no R needed.

What MixedLM can fit, and how pcstats maps lme4 terms onto it:

- one correlated term ``(1 + x | g)`` (any number of columns) becomes MixedLM's ``exog_re``
  with ``groups = g``;
- single-column terms whose grouping factor is nested in ``g`` (``(1 | g:h)``, ``(0 + x | g)``
  from ``(x || g)``) become variance components within ``g``;
- only single-column terms, none nesting the others (crossed factors such as
  ``(1 | source) + (1 | year)``): one group holding all rows, each term a variance component.

Anything else (two correlated terms, a correlated term beside a factor crossed with its
grouping factor) is refused with an error naming the term; ``engine="lme4"`` fits it.

Optimizers are tried in this order: BFGS, L-BFGS, CG (statsmodels' own order), then Powell,
until two of them converge to the same log-likelihood (to 1e-6 relative); the converged fit with
the highest log-likelihood is kept. MixedLM's optimizers often stop at different points on the
flat likelihoods of few-group variance components (on the fixture's nested inversion model one
"converged" 2 log-likelihood units short of lme4), hence the confirmation. Nelder-Mead is left
out (it fails on sleepstudy); a "converged" result with an infinite log-likelihood, which MixedLM
returns for some ML fits with L-BFGS, counts as a failure. The one that converged is ``glance().optimizer``; if none
did, ``converged`` is False and the last fit is reported with a warning. MixedLM gives no
denominator df, so fixed-effect tests and intervals are Wald z (``df`` is NaN). Fixed-effect SEs
are lme4's, ``σ² (Xᵀ V⁻¹ X)⁻¹`` at the estimates (:mod:`pcstats.stats.gls`); MixedLM's own ML SEs
come from the joint Hessian and differ from lme4's by about 0.2 % on the fixture cells.

``singular`` is lme4's rule at a ten times looser tolerance (a relative Cholesky diagonal below
1e-3, not 1e-4) or MixedLM's own boundary warning: MixedLM stops short of boundaries that lme4
reaches (a correlation of -0.999997 where lme4 has -1). A fit that only one optimizer reached
is reported in the warnings.
"""

from __future__ import annotations

import warnings
from importlib import metadata

import numpy as np
import pandas as pd

from ..errors import EngineError
from ..specs.mixed import MixedSpec
from ..stats.gls import conditional_modes, fixed_covariance
from .mixed_design import Design, DesignBlock
from .mixed_output import fixed_rows, glance_row, is_singular, ran_par_rows, ran_val_rows
from .mixed_run import run_mixed
from .prepare import Prepared

__all__ = ["fit", "OPTIMIZERS"]

OPTIMIZERS: tuple[str, ...] = ("bfgs", "lbfgs", "cg", "powell")


def fit(spec: MixedSpec, prepared: Prepared):
    """Fit ``spec`` with MixedLM in every group of ``prepared``."""
    unsupported = [f"{k}={getattr(spec, k)!r}" for k, default in
                   (("family", "gaussian"), ("dispersion", None), ("ddf", None)) if getattr(spec, k) != default]
    if unsupported:
        raise EngineError(f"engine='statsmodels' fits Gaussian mixed models with Wald z tests only; {unsupported[0]} "
                          "needs engine='profiled' (the default).")
    return run_mixed(spec, prepared, _fit_one, engine="statsmodels",
                     engine_version=metadata.version("statsmodels"), packages=("statsmodels", "formulaic"))


def _fit_one(spec: MixedSpec, design: Design, where: str) -> dict:
    from statsmodels.regression.mixed_linear_model import MixedLM

    groups, re_index, vc_index, exog_re, vc = _layout(design, where)
    model = MixedLM(design.y, design.X, groups=groups, exog_re=exog_re, exog_vc=vc)
    messages: list[str] = []
    failures: list[str] = []
    result, used, boundary, best, confirmed = None, None, False, None, False
    for method in OPTIMIZERS:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                attempt = model.fit(reml=spec.reml, method=[method])
            except (np.linalg.LinAlgError, ValueError) as exc:
                failures.append(f"{method}: {exc}")
                continue
        if best is None:
            result = attempt  # the last attempt, reported if none converges
        if not (attempt.converged and np.isfinite(attempt.llf) and np.all(np.isfinite(attempt.fe_params))):
            failures.append(f"{method}: not converged" if np.isfinite(attempt.llf) else f"{method}: log-likelihood {attempt.llf}")
            continue
        if best is not None and abs(attempt.llf - best) < 1e-6 * max(1.0, abs(best)):
            confirmed = True  # a second optimizer confirms the optimum
            break
        if best is None or attempt.llf > best:
            result, used, best = attempt, method, attempt.llf
            boundary = any("boundary" in str(w.message) for w in caught)
    if result is None:
        raise EngineError(f"MixedLM could not fit {where} with any optimizer ({', '.join(OPTIMIZERS)}); try engine='lme4'.")
    if used is None:
        messages.append(f"{where}: MixedLM did not converge with any optimizer ({'; '.join(failures)}); "
                        "estimates are from the last attempt. Compare with engine='lme4'.")
    cov_re = [None] * len(design.blocks)
    if re_index is not None:
        cov_re[re_index] = np.atleast_2d(np.asarray(result.cov_re, dtype=float))
    for j, k in enumerate(vc_index):
        cov_re[k] = np.array([[float(result.vcomp[j])]])
    sigma = float(np.sqrt(result.scale))
    beta = np.asarray(result.fe_params, dtype=float)
    terms = ([b.Z for b in design.blocks], [b.codes for b in design.blocks], [b.n_levels for b in design.blocks], cov_re, sigma)
    modes, sds = conditional_modes(design.y - design.X @ beta, *terms)
    se = np.sqrt(np.diag(fixed_covariance(design.X, *terms)))
    glance = glance_row(design, beta=beta, cov_re=cov_re, sigma=sigma, log_lik=float(result.llf), reml=spec.reml,
                        converged=used is not None, optimizer=used or "none")
    if not glance["singular"] and (boundary or is_singular(cov_re, sigma, tol=1e-3)):
        glance["singular"] = True
        why = ("MixedLM reports the estimate on the boundary of the parameter space (its Hessian is not "
               "positive definite there)") if boundary else "a relative Cholesky diagonal is below 1e-3"
        messages.append(f"{where}: {why}; counted as a singular fit, since MixedLM stops short of boundaries "
                        "that lme4 reaches.")
    if used is not None and not confirmed:
        messages.append(f"{where}: only {used} converged ({'; '.join(failures)}); no second optimizer confirmed "
                        "the optimum. Compare with engine='profiled'.")
    tidy = pd.concat([
        fixed_rows(design, beta, se, None, spec.conf_level),
        ran_par_rows(design, cov_re, sigma),
        ran_val_rows(design, modes, sds),
    ], ignore_index=True)
    return {"tidy": tidy, "glance": glance, "messages": messages, "native": result,
            "beta": beta, "modes": modes}


def _nested(inner: DesignBlock, outer: DesignBlock) -> bool:
    """Every level of ``inner`` occurs within a single level of ``outer``."""
    pairs = pd.DataFrame({"i": inner.codes, "o": outer.codes}).drop_duplicates()
    return not pairs["i"].duplicated().any()


def _layout(design: Design, where: str):
    """MixedLM's groups, exog_re and variance components for the design's terms."""
    from statsmodels.regression.mixed_linear_model import VCSpec

    blocks = design.blocks
    n = len(design.y)
    wide = [k for k, b in enumerate(blocks) if b.Z.shape[1] > 1]
    if len(wide) > 1:
        raise EngineError(
            f"engine='statsmodels' (MixedLM) fits one correlated random-effect term; {blocks[wide[1]].term.text} is a "
            f"second one beside {blocks[wide[0]].term.text}. Use engine='lme4', or split it with '||'."
        )
    outer = None
    for k in wide or range(len(blocks)):
        if all(_nested(b, blocks[k]) for b in blocks):
            outer = k
            break
    if outer is None and wide:
        crossed = next(b for b in blocks if not _nested(b, blocks[wide[0]]))
        raise EngineError(
            f"engine='statsmodels' (MixedLM) cannot fit {crossed.term.text} beside the correlated term "
            f"{blocks[wide[0]].term.text}: the levels of {crossed.term.group!r} are not nested in those of "
            f"{blocks[wide[0]].term.group!r}. Use engine='profiled' or 'lme4'."
        )
    if outer is None:  # crossed single-column terms: one group, all variance components
        groups = np.zeros(n, dtype=np.intp)
        exog_re, re_index = np.zeros((n, 0)), None
    else:
        groups, exog_re, re_index = blocks[outer].codes, blocks[outer].Z, outer
    vc_index = [k for k in range(len(blocks)) if k != re_index]
    group_rows = [np.flatnonzero(groups == g) for g in range(int(groups.max()) + 1)]
    names, colnames, mats = [], [], []
    for k in vc_index:
        block = blocks[k]
        names.append(block.term.text)
        cols, mat = [], []
        for rows in group_rows:
            present = np.unique(block.codes[rows])
            m = np.zeros((len(rows), len(present)))
            m[np.arange(len(rows)), np.searchsorted(present, block.codes[rows])] = block.Z[rows, 0]
            cols.append([block.levels[i] for i in present])
            mat.append(m)
        colnames.append(cols)
        mats.append(mat)
    return groups, re_index, vc_index, exog_re, VCSpec(names, colnames, mats) if names else None
