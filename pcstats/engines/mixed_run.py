"""The loop every mixed-model engine shares: one design per group, checks, fit, one Results."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from ..errors import EngineError
from ..specs.mixed import MixedSpec
from .common import assemble, group_label, group_slices, progress
from .mixed_design import Design, build_design, unfit_reason
from .mixed_glmm import TRIALS
from .mixed_output import MIXED_GLANCE
from .prepare import Prepared

__all__ = ["run_mixed"]

#: an engine's per-group fit: (spec, design, where) -> {"tidy", "glance", "messages", "native", "beta", "modes"}
FitOne = Callable[[MixedSpec, Design, str], dict]


def run_mixed(spec: MixedSpec, prepared: Prepared, fit_one: FitOne, *, engine: str, engine_version: str,
              packages: tuple[str, ...]):
    """Fit every group of ``prepared`` with ``fit_one`` and assemble the Results."""
    model = prepared.model
    frame = prepared.frame
    fitted = np.full(len(frame), np.nan)
    response = np.full(len(frame), np.nan)
    tidy_parts, glance_rows, messages, native, skipped = [], [], [], {}, {}
    slices = group_slices(prepared)
    for group, rows in progress(slices.items(), len(slices), f"mixed fits ({engine})"):
        where = group_label(prepared, group)
        design = build_design(model, frame.iloc[rows], where, getattr(spec, "weights", None)
                              or (TRIALS if TRIALS in frame.columns else None), getattr(spec, "dispersion_factor", None))
        reason = unfit_reason(design)
        if reason:
            skipped[group] = reason
            continue
        _warn_single_rows(design, where, messages)
        out = fit_one(spec, design, where)
        if design.sqrt_weights is not None and getattr(spec, "family", "gaussian") == "gaussian":
            _unweight_likelihood(out["glance"], design.sqrt_weights)  # GLMM weights are prior weights (trials)
        out["tidy"]["_group"] = group
        tidy_parts.append(out["tidy"])
        glance_rows.append({"_group": group, **out["glance"]})
        messages += out["messages"]
        if out["glance"]["singular"]:
            messages.append(f"{where}: singular fit (a variance is estimated as zero or a correlation as +/-1); "
                            "simplify the random effects or read the variance components with care.")
        if not out["glance"]["converged"]:
            messages.append(f"{where}: the optimizer did not converge.")
        # conditional fitted values: X beta + Z b, as lme4's fitted()
        if "fitted" in out:  # a GLMM: fitted means and the response on its own scale
            response[rows], fitted[rows] = out["response"], out["fitted"]
        else:
            sw = 1.0 if design.sqrt_weights is None else design.sqrt_weights
            offset = 0.0 if design.offset is None else design.offset
            response[rows] = design.y / sw + offset
            fitted[rows] = (design.X @ out["beta"] + sum((b.Z * m[b.codes]).sum(axis=1) for b, m in zip(design.blocks, out["modes"]))) / sw + offset
        native[tuple(prepared.groups.loc[group, list(prepared.by)])] = out["native"]
    if not tidy_parts and skipped:
        first = next(iter(skipped))
        raise EngineError(f"No group could be fitted; {group_label(prepared, first)}: {skipped[first]}.")
    extra = [k for row in glance_rows for k in row if k not in MIXED_GLANCE and k != "_group"]
    statistics = pd.DataFrame(glance_rows, columns=["_group", *MIXED_GLANCE, *dict.fromkeys(extra)])
    if "year_centre" in prepared.groups.columns:
        statistics["year_centre"] = statistics["_group"].map(prepared.groups["year_centre"])
    coefficients = pd.concat(tidy_parts, ignore_index=True)
    return assemble(spec, prepared, engine=engine, engine_version=engine_version, coefficients=coefficients,
                    statistics=statistics, warnings=messages, augmenter=_augmenter(prepared, model, fitted, response),
                    native=native, packages=packages, skipped=skipped)


def _unweight_likelihood(glance: dict, sqrt_weights: np.ndarray) -> None:
    """The scaled rows' likelihood back on the original scale: + sum(log w) / 2 (lme4's ldW)."""
    half_log_w = float(np.sum(np.log(sqrt_weights)))
    glance["log_lik"] = glance["log_lik"] + half_log_w
    for key in ("aic", "bic", "deviance", "reml_crit"):
        if key in glance and glance[key] is not None:
            glance[key] = glance[key] - 2 * half_log_w


def _warn_single_rows(design: Design, where: str, messages: list[str]) -> None:
    for block in design.blocks:
        if block.Z.shape[1] > 1:
            counts = np.bincount(block.codes, minlength=block.n_levels)
            single = [block.levels[i] for i in np.flatnonzero(counts == 1)]
            if single:
                messages.append(f"{where}: level(s) {', '.join(single[:5])} of {block.term.group!r} have a single row, "
                                f"which cannot separate the effects of {block.term.text}; their modes are shrunk to the mean.")


def _augmenter(prepared: Prepared, model, fitted: np.ndarray, response: np.ndarray):
    def augment() -> pd.DataFrame:
        frame = prepared.frame
        cols = list(dict.fromkeys(list(prepared.by) + (["year"] if "year" in frame.columns else [])
                                  + [c for c in model.names if c in frame.columns]))
        out = frame[cols].copy()
        out["fitted"] = fitted
        out["resid"] = response - fitted
        return out.reset_index(drop=True)

    return augment
