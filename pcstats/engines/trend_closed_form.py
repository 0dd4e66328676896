"""Trend engine "closed_form": ``y ~ year`` OLS for any number of groups at once.

Groups become rows of a (groups x years) array with NaN for missing years; the maths is
:func:`pcstats.stats.ols.simple_trend`. Same numbers as the statsmodels engine (to ~1e-12),
for nonrobust standard errors and one row per year in each group.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .._version import __version__
from ..errors import EngineError
from ..specs.trend import TrendSpec
from ..stats.ols import ESSENTIALLY_PERFECT, essentially_perfect, simple_trend, t_test
from .common import assemble, group_label
from .prepare import Prepared

__all__ = ["fit", "supports"]


def supports(spec: TrendSpec, prepared: Prepared) -> str | None:
    """None if this engine can fit the spec on these rows, else the reason it cannot."""
    return _unsupported_model(spec, prepared) or _repeated_years(*_cells(prepared.frame))


def _unsupported_model(spec: TrendSpec, prepared: Prepared) -> str | None:
    model = prepared.model
    if (model.term_labels != ("year",) or not model.intercept or model.offsets
            or model.response.label != prepared.response):
        return f"it fits only 'y ~ year', not {spec.formula!r}"
    if spec.weights is not None:
        return "it fits unweighted OLS only"
    if spec.method != "ols" or spec.cov_type != "nonrobust":
        return f"it gives nonrobust OLS only (method={spec.method!r}, cov_type={spec.cov_type!r} asked)"
    return None


def _repeated_years(row, col, groups, years) -> str | None:
    """The reason the closed form cannot fit when some group has several rows for one year."""
    if len(row) and (np.bincount(row * len(years) + col) > 1).any():
        return "some group has several rows for one year; add the key that separates them (e.g. 'source') to by="
    return None


def _cells(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each row's (group, year) cell of the groups x years array, and the groups and years present."""
    group, year = frame["_group"].to_numpy(), frame["year"].to_numpy(dtype=np.int64)
    if not len(group):
        return group, year, group, year
    present = np.bincount(group) > 0
    low = int(year.min())
    years_present = np.bincount(year - low) > 0
    row = (np.cumsum(present) - 1)[group]
    col = (np.cumsum(years_present) - 1)[year - low]
    return row, col, np.flatnonzero(present), np.flatnonzero(years_present) + low


def fit(spec: TrendSpec, prepared: Prepared):
    frame = prepared.frame
    row, col, groups, years = _cells(frame)
    reason = _unsupported_model(spec, prepared) or _repeated_years(row, col, groups, years)
    if reason:
        raise EngineError(f"engine='closed_form' cannot fit this spec: {reason}. Use engine='statsmodels'.")
    Y = np.full((len(groups), len(years)), np.nan)
    Y[row, col] = frame[prepared.response].to_numpy(dtype=float)
    with np.errstate(all="ignore"), warnings.catch_warnings():  # no group left to fit: empty statistics, no noise
        warnings.simplefilter("ignore", RuntimeWarning)
        res = simple_trend(Y, years)
    messages = [f"{group_label(prepared, g)}: {ESSENTIALLY_PERFECT}" for g in groups[
        essentially_perfect(res.sigma**2, np.nanmean(Y, axis=1), np.nanvar(Y, axis=1))]] if len(groups) else []

    df = res.df_residual
    est = np.column_stack([res.intercept, res.slope]).ravel()
    se = np.column_stack([res.se_intercept, res.se_slope]).ravel()
    stat, p, low, high = t_test(est, se, np.repeat(df, 2), spec.conf_level)
    coefficients = pd.DataFrame({
        "_group": np.repeat(groups, 2), "component": "fixed", "term": np.tile(["(Intercept)", "year"], len(groups)),
        "estimate": est, "std_error": se, "statistic": stat, "p_value": p, "conf_low": low, "conf_high": high,
    })
    statistics = pd.DataFrame({
        "_group": groups, "df_residual": df, "r_squared": res.r_squared, "adj_r_squared": res.adj_r_squared,
        "sigma": res.sigma, "log_lik": res.log_lik, "aic": res.aic, "bic": res.bic,
    })

    def augment() -> pd.DataFrame:
        out = frame[list(prepared.by) + ["year", prepared.response]].copy()
        out["fitted"] = res.intercept[row] + res.slope[row] * frame["year"].to_numpy(dtype=float)
        out["resid"] = out[prepared.response] - out["fitted"]
        return out.reset_index(drop=True)

    return assemble(spec, prepared, engine="closed_form", engine_version=__version__,
                    coefficients=coefficients, statistics=statistics, augmenter=augment, warnings=messages)
