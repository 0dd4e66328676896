"""Panel engine "linearmodels": fixed-effects (within) regressions per group by ``linearmodels.PanelOLS``.

Each group of the prepared rows is a panel indexed by (``spec.entity``, ``spec.time``), e.g.
site-years. With ``entity_effects`` the slopes are the within-entity estimator (entity means
removed), with ``time_effects`` as well the two-way estimator; the estimated effects are *not*
reported as ``tidy()`` rows (only the slopes are; with effects there is no intercept). Without
effects the fit is pooled OLS with the formula's intercept as ``(Intercept)``.

What the numbers equal in R (``fit <- plm(NEE ~ AirT, data = pdata.frame(d, index = c("site",
"year")), model = "within", effect = "individual")``, or ``effect = "twoways"`` with
``time_effects=True``; checked in tests/engines/test_panel_linearmodels.py against
tests/reference/plm.R):

``cov_type="clustered"``
    ``coeftest(fit, vcov = vcovHC(fit, method = "arellano", cluster = "group", type = "sss"))``:
    clustered by entity with Stata's small-sample factor ``G/(G-1) (n-1)/(n-k)`` (G entities, n
    observations, k slopes; the effects are not counted, as in plm, for one- and two-way fits).
    In linearmodels: ``fit(cov_type="clustered", cluster_entity=True, debiased=True,
    group_debias=True, auto_df=False, count_effects=False)``. (plm's ``type = "HC0"``, no factor,
    is ``debiased=False, group_debias=False`` with the same ``auto_df``/``count_effects``.)
``cov_type="unadjusted"``
    ``coeftest(fit)`` (``vcov(fit)``: ``sigma^2 = RSS / df.residual(fit)``); linearmodels'
    ``cov_type="unadjusted", debiased=True``.
``cov_type="robust"``
    White's estimator with the factor ``n / df.residual`` (effects counted), which is the slope
    element of ``sandwich::vcovHC(lm(NEE ~ AirT + factor(site)), type = "HC1")`` (the dummy
    regression; ``+ factor(year)`` for two-way fits); linearmodels' ``cov_type="robust",
    debiased=True``. Note plm's ``vcovHC(fit, method = "white1", type = "HC1")`` uses
    ``n / (n - k)`` instead and is smaller. White's estimator is not consistent under entity effects
    with few periods per entity (Stock and Watson 2008); prefer ``"clustered"``.

In every case ``statistic`` is the t statistic and ``p_value``/``conf_low``/``conf_high`` use the t
distribution with ``df_residual = n - k - (number of effects)`` degrees of freedom, which is
``df.residual(fit)`` and so what ``coeftest`` uses (``lmtest::coefci`` for the intervals).
Measured agreement with plm 2.6-2 (lmtest 0.9-40, sandwich 3.0-2) on the fixture towers: estimates,
within R^2 and the pooled F to ~3e-15 relative; standard errors and t to ~1e-15 ("clustered",
"unadjusted") and ~6e-14 ("robust", against the dummy regression); p-values to ~2e-12.

``glance()``: ``nobs``, ``n_entities``, ``n_time``, ``n_singletons`` (entities with one
observation: under entity effects they contribute nothing to the slopes, but count in ``nobs``,
the effects and the clusters, as in plm), ``df_residual``, ``r_squared`` (within: ``r.squared(fit)``
in plm), ``r_squared_between``, ``r_squared_overall`` (linearmodels' definitions), ``sigma``,
``f_pooled``, ``f_pooled_df1``, ``f_pooled_df2``, ``f_pooled_p`` (F test that the effects are zero,
plm's ``pFtest(fit, plm(..., model = "pooling"))``; NaN without effects), ``effects`` and
``cov_type``. Groups with fewer than ``min_entities`` entities, or no residual degrees of freedom,
are not fitted and say why in ``dropped_why``. Warnings of linearmodels are kept in
``Results.warnings``.
"""

from __future__ import annotations

import warnings
from importlib import metadata

import numpy as np
import pandas as pd

from ..data.contract import key_columns
from ..errors import ContractError, FormulaError, SpecError, did_you_mean
from ..specs.panel import PanelSpec
from ..stats.ols import t_test
from .common import assemble, group_label, group_slices, progress
from .design import design_matrices
from .prepare import Prepared, prepare

__all__ = ["fit", "prepare_panel"]

_STATISTICS = ["_group", "n_entities", "n_time", "n_singletons", "df_residual", "r_squared", "r_squared_between",
               "r_squared_overall", "sigma", "f_pooled", "f_pooled_df1", "f_pooled_df2", "f_pooled_p", "effects", "cov_type"]
_COEFFICIENTS = ["_group", "component", "term", "estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high"]


def prepare_panel(spec: PanelSpec, table: pd.DataFrame) -> Prepared:
    """The formula's variables per group, with the entity and time key columns (NaN rows dropped and counted)."""
    keys = [k for k in key_columns(table) if k != "variable"]
    for argument in ("entity", "time"):
        name = getattr(spec, argument)
        if name not in keys:
            raise SpecError(f"{argument}={name!r} is not a key column of the table.{did_you_mean(name, keys)} "
                            f"Key columns: {', '.join(keys)}.")
    return prepare(table, spec.formula, spec.by, spec.where, 1, extra=(spec.entity, spec.time))


def fit(spec: PanelSpec, prepared: Prepared):
    """Fit ``spec.formula`` by ``PanelOLS`` in every group of ``prepared``."""
    from linearmodels import PanelOLS
    from linearmodels.panel.utility import AbsorbingEffectError

    frame, skipped, messages, native = prepared.frame, {}, [], {}
    coefficients, statistics = [], []
    fitted = np.full(len(frame), np.nan)
    has_effects = spec.entity_effects or spec.time_effects
    effects = "+".join(n for n, on in (("entity", spec.entity_effects), ("time", spec.time_effects)) if on) or "none"
    slices = group_slices(prepared)
    for group, rows in progress(slices.items(), len(slices), "panel fits"):
        data = frame.iloc[rows]
        where = group_label(prepared, group)
        entity = data[spec.entity].to_numpy()
        n_entities, n_time = len(pd.unique(entity)), data[spec.time].nunique()
        if n_entities < spec.min_entities:
            skipped[group] = f"not fitted: {n_entities} {spec.entity} value(s) < min_entities={spec.min_entities}"
            continue
        _check_unique(spec, data, where)
        matrices = design_matrices(prepared.model, data, where)
        X = matrices.X.drop(columns=["(Intercept)"]) if has_effects and "(Intercept)" in matrices.X.columns else matrices.X
        if X.shape[1] == 0:
            raise FormulaError(f"formula {spec.formula!r} has no regressors besides the intercept, which the effects absorb; "
                               "add a regressor, e.g. 'NEE ~ AirT'.")
        index = pd.MultiIndex.from_arrays([pd.factorize(entity, sort=True)[0], pd.factorize(data[spec.time], sort=True)[0]])
        y = pd.Series(matrices.y, index=index, name=prepared.response)
        x = pd.DataFrame(X.to_numpy(dtype=float), index=index, columns=list(X.columns))
        n_effects = (n_entities if spec.entity_effects else 0) + (n_time - (1 if spec.entity_effects else 0) if spec.time_effects else 0)
        if len(y) - x.shape[1] - n_effects <= 0:
            skipped[group] = (f"not fitted: {len(y)} observations for {x.shape[1]} slope(s) and {n_effects} effects "
                              "leave no residual degrees of freedom")
            continue
        model = PanelOLS(y, x, entity_effects=spec.entity_effects, time_effects=spec.time_effects)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                res = model.fit(**_fit_options(spec.cov_type))
            except AbsorbingEffectError as exc:
                raise FormulaError(f"{where}: the effects absorb a regressor of formula {spec.formula!r} (a term constant "
                                   f"within each {spec.entity} or {spec.time}); drop it. linearmodels: "
                                   f"{str(exc).strip().splitlines()[0]}") from None
        messages += [f"{where}: {w.message}" for w in caught]
        se = res.std_errors.to_numpy()
        stat, p, low, high = t_test(res.params.to_numpy(), se, np.full(len(se), res.df_resid), spec.conf_level)
        coefficients.append(pd.DataFrame({
            "_group": group, "component": "fixed", "term": list(x.columns), "estimate": res.params.to_numpy(),
            "std_error": se, "statistic": stat, "p_value": p, "conf_low": low, "conf_high": high,
        }))
        statistics.append({
            "_group": group, "n_entities": n_entities, "n_time": n_time,
            "n_singletons": int((pd.Series(entity).value_counts() == 1).sum()),
            "df_residual": int(res.df_resid), "r_squared": float(res.rsquared),
            "r_squared_between": float(res.rsquared_between), "r_squared_overall": float(res.rsquared_overall),
            "sigma": float(np.sqrt(res.resid_ss / res.df_resid)),
            **_pooled_f(res, has_effects), "effects": effects, "cov_type": spec.cov_type,
        })
        fitted[rows] = y.to_numpy() - res.idiosyncratic.to_numpy().ravel()
        native[tuple(prepared.groups.loc[group, list(prepared.by)])] = res

    coef = pd.concat(coefficients, ignore_index=True) if coefficients else pd.DataFrame(columns=_COEFFICIENTS)
    stats = pd.DataFrame(statistics, columns=_STATISTICS)

    def augment() -> pd.DataFrame:
        columns = list(dict.fromkeys([*prepared.by, spec.entity, spec.time, *prepared.columns]))
        out = frame[[c for c in columns if c in frame.columns]].copy()
        out["fitted"] = fitted  # slopes plus the estimated effects
        out["resid"] = out[prepared.response] - fitted
        return out.reset_index(drop=True)

    return assemble(spec, prepared, engine="linearmodels", engine_version=metadata.version("linearmodels"),
                    coefficients=coef, statistics=stats, warnings=messages, augmenter=augment, native=native,
                    packages=("linearmodels", "formulaic"), skipped=skipped)


def _fit_options(cov_type: str) -> dict:
    """``PanelOLS.fit`` options that reproduce the R calls in the module docstring."""
    if cov_type == "clustered":
        return {"cov_type": "clustered", "cluster_entity": True, "debiased": True, "group_debias": True,
                "auto_df": False, "count_effects": False}
    return {"cov_type": cov_type, "debiased": True}


def _pooled_f(res, has_effects: bool) -> dict[str, float]:
    """linearmodels' F test that the effects are zero (NaN without effects, or where it does not apply)."""
    from linearmodels.shared.hypotheses import WaldTestStatistic

    test = res.f_pooled if has_effects else None
    if not isinstance(test, WaldTestStatistic) or not np.isfinite(test.stat):  # Invalid/Inapplicable: stat NaN
        return dict.fromkeys(("f_pooled", "f_pooled_df1", "f_pooled_df2", "f_pooled_p"), np.nan)
    return {"f_pooled": float(test.stat), "f_pooled_df1": float(test.df), "f_pooled_df2": float(test.df_denom),
            "f_pooled_p": float(test.pval)}


def _check_unique(spec: PanelSpec, data: pd.DataFrame, where: str) -> None:
    repeated = data.duplicated([spec.entity, spec.time], keep=False).to_numpy()
    if repeated.any():
        first = data[repeated].iloc[0]
        raise ContractError(
            f"{where}: {spec.entity}={first[spec.entity]!r} has {int(repeated.sum())} rows sharing a {spec.time} "
            f"(e.g. {spec.time}={first[spec.time]!r}); a panel has one row per {spec.entity} and {spec.time}. "
            "Add the key column that separates them (e.g. 'source') to by=, or filter with where=."
        )
