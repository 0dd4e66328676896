"""``Results.to_broom()``: ``tidy()``, ``glance()`` and ``augment()`` with broom's own column names.

pcstats writes broom's names with ``_`` for ``.`` (``std_error``, ``p_value``, ``log_lik``) so
they are Python identifiers; ``to_broom`` gives the names R users and R code expect, in broom's
column order, as ``broom`` (lm, lavaan) and ``broom.mixed`` (lmer, glmer) print them:

``to_broom("tidy")``
    ``term, estimate, std.error, statistic, p.value, conf.low, conf.high``; mixed models as
    broom.mixed: ``effect`` (``fixed``, ``ran_pars``; ``ran_vals`` with ``effects=``), ``group``,
    ``level`` (conditional modes only), ``df`` (lmerTest's); SEMs as broom's ``tidy.lavaan``:
    ``term, op, ..., std.lv, std.all, std.nox`` (R² rows are left out, as lavaan's
    ``parameterEstimates``; read them with ``res.r_squared``).
``to_broom("glance")``
    ``r.squared, adj.r.squared, sigma, statistic, p.value, df, logLik, AIC, BIC, deviance,
    df.residual, nobs`` for OLS (the classical F test of all slopes, its model df and the
    residual sum of squares are added, as ``glance.lm``); ``nobs, sigma, logLik, AIC, BIC,
    REMLcrit`` (REML) or ``deviance`` (ML, GLMM), ``df.residual`` for mixed models; lavaan's
    ``AIC, BIC, cfi, chisq, npar, rmsea, rmsea.conf.high, srmr, tli, converged, estimator,
    ngroups, missing_method, nobs`` for SEMs.
``to_broom("augment")``
    the data columns with ``.fitted`` and ``.resid`` (and ``.fixed``, the population-level
    prediction, for mixed models).

The model label and the ``by`` keys lead, as after ``dplyr::group_by() |> do(tidy(.))``.
pcstats' own columns that broom does not have (``component`` outside mixed models, ``n_dropped``,
``dropped_why``, ``icc``, ...) follow broom's, with their pcstats names.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from scipy import stats

from .errors import PcstatsError

if TYPE_CHECKING:
    from .results import Results

__all__ = ["to_broom", "BROOM_NAMES"]

#: pcstats name -> broom name (every table)
BROOM_NAMES: dict[str, str] = {
    "std_error": "std.error", "p_value": "p.value", "conf_low": "conf.low", "conf_high": "conf.high",
    "std_lv": "std.lv", "std_all": "std.all", "std_nox": "std.nox",
    "r_squared": "r.squared", "adj_r_squared": "adj.r.squared", "log_lik": "logLik", "aic": "AIC", "bic": "BIC",
    "df_residual": "df.residual", "reml_crit": "REMLcrit", "rmsea_ci_low": "rmsea.conf.low",
    "rmsea_ci_high": "rmsea.conf.high", "missing": "missing_method",
    "fitted": ".fitted", "resid": ".resid",
}

_TIDY = ("term", "estimate", "std.error", "statistic", "p.value", "conf.low", "conf.high")
_TIDY_MIXED = ("effect", "group", "level", "term", "estimate", "std.error", "statistic", "df", "p.value", "conf.low",
               "conf.high")
_TIDY_SEM = ("term", "op", "estimate", "std.error", "statistic", "p.value", "conf.low", "conf.high", "std.lv", "std.all",
             "std.nox")
_GLANCE = {
    "trend": ("r.squared", "adj.r.squared", "sigma", "statistic", "p.value", "df", "logLik", "AIC", "BIC", "deviance",
              "df.residual", "nobs"),
    "mixed": ("nobs", "sigma", "logLik", "AIC", "BIC", "REMLcrit", "deviance", "df.residual"),
    "sem": ("AIC", "BIC", "cfi", "chisq", "npar", "rmsea", "rmsea.conf.low", "rmsea.conf.high", "srmr", "tli", "converged",
            "estimator", "ngroups", "missing_method", "nobs"),
}


def to_broom(res: Results, part: Literal["tidy", "glance", "augment"] = "tidy",
             effects: Sequence[str] | None = None) -> pd.DataFrame:
    """``part`` of ``res`` with broom's column names (see the module docstring).

    ``effects`` chooses the mixed-model rows as broom.mixed's ``effects=`` (default
    ``("fixed", "ran_pars")``; add ``"ran_vals"`` for the conditional modes).

    Examples
    --------
    >>> import pcstats as pc
    >>> t = pc.read_table("tests/reference/trend_input.csv")
    >>> res = pc.fit(pc.TrendSpec("NEE ~ year", where="source == 'ensemble' and region == 'P' and season == 'ANN'"), t)
    >>> list(res.to_broom("tidy").columns)
    ['model', 'term', 'estimate', 'std.error', 'statistic', 'p.value', 'conf.low', 'conf.high', 'component']
    >>> list(res.to_broom("glance").columns[:5])
    ['model', 'r.squared', 'adj.r.squared', 'sigma', 'statistic']
    """
    kind = str(getattr(type(res.spec), "kind", ""))
    lead = ["model", *res.by]
    if part == "tidy":
        frame = res.tidy()
        if kind in ("mixed", "bayes") and "component" in frame.columns:
            chosen = tuple(effects) if effects is not None else ("fixed", "ran_pars")
            unknown = [e for e in chosen if e not in ("fixed", "ran_pars", "ran_vals")]
            if unknown:
                raise PcstatsError(f"to_broom(effects={tuple(chosen)!r}): {unknown[0]!r} is not one of 'fixed', "
                                   "'ran_pars', 'ran_vals' (broom.mixed's effects).")
            frame = frame[frame["component"].isin(chosen)].rename(columns={"component": "effect"})
            if "ran_vals" not in chosen:
                frame = frame.drop(columns="level", errors="ignore")
            order = _TIDY_MIXED
        elif effects is not None:
            raise PcstatsError(f"to_broom(effects=...): effects chooses rows of mixed models; {res.model!r} is a {kind} fit.")
        elif kind == "sem":
            frame = frame[frame["component"] != "r2"] if "component" in frame.columns else frame
            order = _TIDY_SEM
        else:
            order = _TIDY
        return _arrange(frame.rename(columns=BROOM_NAMES), lead, order)
    if part == "glance":
        frame = res.glance()
        if kind == "trend" and getattr(res.spec, "method", "ols") == "ols":
            frame = _lm_glance(res, frame)
        elif kind == "mixed":
            frame = _mixed_glance(res, frame)
        elif kind == "sem":
            frame = frame.rename(columns={"n_groups": "ngroups"})
        return _arrange(frame.rename(columns=BROOM_NAMES), lead, _GLANCE.get(kind, ()))
    if part == "augment":
        frame = res.augment()
        if kind == "mixed" and res.model_data is not None:
            from .predict import predict

            frame[".fixed"] = predict(res, re_form=pd.NA, type="link")["fitted"].to_numpy()
        return frame.rename(columns=BROOM_NAMES)
    raise PcstatsError(f"to_broom(part={part!r}): choose 'tidy', 'glance' or 'augment'.")


def _arrange(frame: pd.DataFrame, lead: Sequence[str], order: Sequence[str]) -> pd.DataFrame:
    first = [c for c in lead if c in frame.columns]
    middle = [c for c in order if c in frame.columns and c not in first]
    rest = [c for c in frame.columns if c not in first and c not in middle]
    return frame[first + middle + rest].reset_index(drop=True)


def _lm_glance(res: Results, glance: pd.DataFrame) -> pd.DataFrame:
    """glance.lm's F test of all slopes (classical, as summary.lm, whatever the SEs), its df and the deviance (RSS)."""
    tidy = res.tidy()
    out = glance.copy()
    keys = list(res.by)
    counted = tidy[tidy["estimate"].notna()]
    per_group = (counted.groupby(keys, sort=False, dropna=False) if keys else [((), counted)])
    info = {}
    for key, rows in per_group:
        key = key if isinstance(key, tuple) else (key,)
        info[tuple(str(k) for k in key)] = (len(rows), bool((rows["term"] == "(Intercept)").any()))
    k = np.array([info.get(tuple(str(r[c]) for c in keys), (np.nan, True))[0] for _, r in out.iterrows()], dtype=float)
    intercept = np.array([info.get(tuple(str(r[c]) for c in keys), (np.nan, True))[1] for _, r in out.iterrows()])
    df_model = k - intercept.astype(float)
    df_res = out["df_residual"].to_numpy(dtype=float)
    r2 = out["r_squared"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = (r2 / df_model) / ((1 - r2) / df_res)
    f = np.where(df_model > 0, f, np.nan)
    columns = list(out.columns)
    at = columns.index("sigma") + 1 if "sigma" in columns else len(columns)
    out.insert(at, "statistic", f)
    out.insert(at + 1, "p.value", stats.f.sf(f, df_model, df_res))
    out.insert(at + 2, "df", df_model)
    out["deviance"] = out["sigma"].to_numpy(dtype=float) ** 2 * df_res
    return out


def _mixed_glance(res: Results, glance: pd.DataFrame) -> pd.DataFrame:
    """broom.mixed's glance: REMLcrit for REML fits, deviance for ML and GLMMs; df.residual = nobs - npar."""
    out = glance.copy()
    reml = bool(getattr(res.spec, "reml", True)) and getattr(res.spec, "family", "gaussian") == "gaussian"
    out = out.drop(columns=["deviance"] if reml else ["reml_crit"], errors="ignore")
    if "df_residual" not in out.columns and "df" in out.columns:
        out["df_residual"] = out["nobs"].to_numpy(dtype=float) - out["df"].to_numpy(dtype=float)
    return out
