"""Trend engine "statsmodels": any formula, OLS per group, nonrobust or Newey-West SEs.

Groups with no residual degrees of freedom (or too few rows for HAC prewhitening) are reported
in ``glance()`` as not fitted, rather than given infinite or zero standard errors. R^2 is centred
when the formula has an intercept and uncentred when it has none, as R's ``summary.lm``.

Rank-deficient designs are handled as R's ``lm`` does: aliased columns (those linearly
dependent on earlier ones) get NaN estimates and a warning, and the rest is fitted without them.
AIC/BIC count sigma as a parameter, as R does (statsmodels' own ``aic`` does not).
"""

from __future__ import annotations

from importlib import metadata

import numpy as np
import pandas as pd
import statsmodels.api as sm

from ..errors import EngineError
from ..specs.trend import TrendSpec
from ..stats.hac import default_lags, newey_west
from ..stats.ols import ESSENTIALLY_PERFECT, aliased_columns, essentially_perfect, t_test
from .common import assemble, group_label, group_slices, progress
from .design import design_matrices
from .prepare import Prepared

__all__ = ["fit"]


def fit(spec: TrendSpec, prepared: Prepared):
    """Fit ``spec.formula`` by OLS in every group of ``prepared``."""
    if spec.method != "ols":
        raise EngineError(f"engine='statsmodels' fits method='ols'; method={spec.method!r} needs engine='mannkendall' or 'auto'.")
    intercept = prepared.model.intercept
    slices = group_slices(prepared)
    skipped: dict[int, str] = {}
    frame = prepared.frame
    fitted = np.full(len(frame), np.nan)
    response = np.full(len(frame), np.nan)
    coef_parts, stat_rows, messages, native = [], [], [], {}
    for group, rows in progress(slices.items(), len(slices), "OLS fits"):
        data = frame.iloc[rows]
        where = group_label(prepared, group)
        matrices = design_matrices(prepared.model, data, where)
        y, X, offset = matrices.y, matrices.X, matrices.offset
        aliased = aliased_columns(X)
        if aliased:
            messages.append(f"{where}: design is rank-deficient; aliased term(s) {list(aliased)} get NaN estimates (as R's lm).")
        kept = [c for c in X.columns if c not in aliased]
        n, k = X[kept].shape
        if n <= k:
            skipped[group] = f"not fitted: {n} observations for {k} coefficients leave no residual degrees of freedom"
            continue
        if spec.cov_type == "HAC" and spec.hac_prewhite and n - 1 <= 2 * k:
            skipped[group] = (f"not fitted: HAC prewhitening fits a VAR(1) to {k} estimating functions and needs "
                              f"more than {2 * k + 1} observations, not {n}")
            continue
        w = _weights(spec, data, where)
        res = (sm.OLS(y, X[kept].to_numpy()) if w is None else sm.WLS(y, X[kept].to_numpy(), weights=w)).fit()
        cov, extra = res.cov_params(), {}
        if spec.cov_type == "HAC":
            cov, extra = _hac(spec, X[kept].to_numpy(), res.resid, data, where, messages)
        se = np.sqrt(np.diag(cov))
        stat, p, low, high = t_test(res.params, se, np.full(k, res.df_resid), spec.conf_level)
        coef = pd.DataFrame({"term": kept, "estimate": res.params, "std_error": se,
                             "statistic": stat, "p_value": p, "conf_low": low, "conf_high": high})
        if aliased:
            coef = pd.concat([coef, pd.DataFrame({"term": list(aliased)})], ignore_index=True)
            coef = coef.set_index("term").loc[list(X.columns)].reset_index()
        coef["_group"] = group
        coef_parts.append(coef)
        llf = res.llf
        if offset is None:
            r2, adj = _r_squared(y, res.ssr, n, res.df_resid, intercept, w)
        else:  # R's summary.lm takes the fitted values with the offset in them
            r2, adj = _r_squared_fitted(res.fittedvalues + offset, res.ssr, n, res.df_resid, intercept, w)
        if essentially_perfect(res.scale, float(np.mean(y)), float(np.var(y))):
            messages.append(f"{where}: {ESSENTIALLY_PERFECT}")
        stat_rows.append({"_group": group, "df_residual": res.df_resid, "r_squared": r2,
                          "adj_r_squared": adj, "sigma": np.sqrt(res.scale), "log_lik": llf,
                          "aic": -2 * llf + 2 * (k + 1), "bic": -2 * llf + np.log(n) * (k + 1), **extra})
        fitted[rows] = res.fittedvalues + (0.0 if offset is None else offset)
        response[rows] = y + (0.0 if offset is None else offset)
        native[tuple(prepared.groups.loc[group, list(prepared.by)])] = _native(res, kept, prepared.response, cov, extra)
    coefficients = pd.concat(coef_parts, ignore_index=True) if coef_parts else _empty_coefficients()
    coefficients.insert(0, "component", "fixed")
    statistics = pd.DataFrame(stat_rows, columns=["_group", "df_residual", "r_squared", "adj_r_squared", "sigma", "log_lik", "aic", "bic"] + (["cov_type", "hac_lags", "hac_prewhite"] if spec.cov_type == "HAC" else []))
    return assemble(
        spec, prepared, engine="statsmodels", engine_version=metadata.version("statsmodels"),
        coefficients=coefficients, statistics=statistics, warnings=messages,
        augmenter=_augmenter(prepared, fitted, response), native=native, packages=("statsmodels", "formulaic"),
        skipped=skipped,
    )


def _native(res, names: list[str], response: str, cov: np.ndarray, hac: dict):
    """The statsmodels result as ``Results.native`` keeps it: R's term names, and for a HAC fit the
    same Newey-West covariance as ``tidy()`` (so ``bse``, ``tvalues``, ``pvalues``, ``conf_int()`` and
    ``summary()`` agree with it, t-based on the residual df)."""
    res.model.data.xnames = list(names)
    res.model.data.ynames = response
    if not hac:
        return res
    robust = res.get_robustcov_results(cov_type="HAC", maxlags=int(hac["hac_lags"]), use_t=True)
    robust.cov_params_default = np.asarray(cov)
    robust.cov_kwds["description"] = (f"Standard errors are Newey-West HAC as sandwich::NeweyWest ({hac['hac_lags']} lag(s), "
                                      f"prewhite={hac['hac_prewhite']}), computed by pcstats and equal to tidy()'s.")
    return robust


def _r_squared_fitted(fitted: np.ndarray, rss: float, n: int, df_residual: float, intercept: bool,
                      w: np.ndarray | None = None) -> tuple[float, float]:
    """R^2 = mss / (mss + rss) with mss from the fitted values, as R's summary.lm (used with offsets)."""
    w = np.ones_like(fitted) if w is None else w
    mss = float(np.sum(w * (fitted - np.average(fitted, weights=w)) ** 2)) if intercept else float(np.sum(w * fitted**2))
    r2 = mss / (mss + rss)
    return r2, 1.0 - (1.0 - r2) * (n - int(intercept)) / df_residual


def _r_squared(y: np.ndarray, rss: float, n: int, df_residual: float, intercept: bool,
               w: np.ndarray | None = None) -> tuple[float, float]:
    """R^2 as R's summary.lm: centred when the formula has an intercept, uncentred when it has none (weighted with weights)."""
    w = np.ones_like(y) if w is None else w
    tss = float(np.sum(w * (y - np.average(y, weights=w)) ** 2)) if intercept else float(np.sum(w * y**2))
    r2 = 1.0 - rss / tss
    return r2, 1.0 - (1.0 - r2) * (n - int(intercept)) / df_residual


def _weights(spec: TrendSpec, data: pd.DataFrame, where: str) -> np.ndarray | None:
    if spec.weights is None:
        return None
    w = data[spec.weights].to_numpy(dtype=float)
    bad = np.flatnonzero(~(w > 0))
    if len(bad):
        raise EngineError(f"weights={spec.weights!r}: {len(bad)} weight(s) in {where} are not positive (first: {w[bad[0]]!r}); "
                          "weights must be > 0 (drop those rows with where=).")
    return w


def _hac(spec: TrendSpec, X: np.ndarray, resid: np.ndarray, data: pd.DataFrame, where: str, messages: list[str]):
    if "year" in data.columns:
        years = data["year"].to_numpy()
        if len(np.unique(years)) != len(years):
            raise EngineError(
                f"cov_type='HAC' needs one row per year in each group, but {where} has repeated years. "
                "Add the column that separates the series (e.g. 'source') to by=, or use cov_type='nonrobust'."
            )
        gaps = int(years[-1] - years[0] + 1 - len(years))
        if gaps:
            messages.append(f"{where}: HAC treats the {gaps} missing year(s) as adjacent rows (as sandwich::NeweyWest does).")
    lags = spec.hac_lags if spec.hac_lags is not None else default_lags(len(resid))
    cov = newey_west(X, resid, lags, prewhite=spec.hac_prewhite)
    return cov, {"cov_type": "HAC", "hac_lags": lags, "hac_prewhite": spec.hac_prewhite}


def _augmenter(prepared: Prepared, fitted: np.ndarray, response: np.ndarray):
    def augment() -> pd.DataFrame:
        frame = prepared.frame
        names = [c for c in [*prepared.by, *(["year"] if "year" in frame.columns else []), *prepared.columns]
                 if c in frame.columns and c != "_group"]
        out = frame[list(dict.fromkeys(names))].copy()
        out["fitted"] = fitted
        out["resid"] = response - fitted  # on the response's scale as the formula writes it (log(y) for log(y) ~ x)
        return out.reset_index(drop=True)

    return augment


def _empty_coefficients() -> pd.DataFrame:
    return pd.DataFrame(columns=["term", "estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high", "_group"])
