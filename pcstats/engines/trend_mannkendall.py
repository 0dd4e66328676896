"""Trend engine "mannkendall": Sen's slope with the Mann-Kendall test, per group.

* Mann-Kendall test: ``pymannkendall.original_test`` (S, Var(S) with the tie correction, z with
  continuity correction), as R's ``trend::mk.test`` and ``cor.test(method="kendall", exact=FALSE,
  continuity=TRUE)``; the two-sided p is ``2 * norm.sf(|z|)``, accurate for small p.
* Sen's slope and its confidence interval: ``scipy.stats.theilslopes`` against the actual years,
  so missing years are handled (pymannkendall's own Sen slope assumes equal spacing). The
  intercept is ``median(y) - slope * median(year)``.

``tidy()``: ``statistic`` is the MK z, ``p_value`` the MK p, ``std_error`` is NaN (Sen's slope has
none). ``glance()``: nobs, mk_s, mk_var_s, kendall_tau (tau-b, as R's ``cor.test``).
"""

from __future__ import annotations

from importlib import metadata

import numpy as np
import pandas as pd
import pymannkendall
from scipy import stats

from ..errors import EngineError
from ..specs.trend import TrendSpec
from .common import assemble, group_label, group_slices, progress
from .prepare import Prepared

__all__ = ["fit"]


def fit(spec: TrendSpec, prepared: Prepared):
    if spec.method != "sen":
        raise EngineError("engine='mannkendall' fits method='sen'; set method='sen' or choose another engine.")
    frame = prepared.frame
    coef_rows, stat_rows = [], []
    for group, rows in progress(group_slices(prepared).items(), prepared.groups["fit"].sum(), "Sen/MK fits"):
        data = frame.iloc[rows]
        years = data["year"].to_numpy(dtype=float)
        if len(np.unique(years)) != len(years):
            raise EngineError(
                f"method='sen' needs one row per year, but {group_label(prepared, group)} repeats years; "
                "add the separating key (e.g. 'source') to by=."
            )
        y = data[prepared.response].to_numpy(dtype=float)
        mk = pymannkendall.original_test(y)
        sen = stats.theilslopes(y, years, alpha=spec.conf_level)
        intercept = float(np.median(y) - sen.slope * np.median(years))
        coef_rows += [
            {"_group": group, "term": "(Intercept)", "estimate": intercept},
            {"_group": group, "term": "year", "estimate": sen.slope, "std_error": np.nan, "statistic": mk.z,
             "p_value": 2.0 * stats.norm.sf(abs(mk.z)), "conf_low": sen.low_slope, "conf_high": sen.high_slope},
        ]  # p from z: pymannkendall's own 2 * (1 - cdf(|z|)) loses digits when p is small
        tau_b = stats.kendalltau(years, y).statistic  # R's cor.test reports tau-b (pymannkendall: tau-a)
        stat_rows.append({"_group": group, "mk_s": mk.s, "mk_var_s": mk.var_s, "kendall_tau": tau_b})
    columns = ["_group", "term", "estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high"]
    coefficients = pd.DataFrame(coef_rows, columns=columns).astype({c: float for c in columns[2:]})
    coefficients.insert(1, "component", "fixed")
    statistics = pd.DataFrame(stat_rows, columns=["_group", "mk_s", "mk_var_s", "kendall_tau"])
    return assemble(spec, prepared, engine="mannkendall", engine_version=metadata.version("pymannkendall"),
                    coefficients=coefficients, statistics=statistics, packages=("pymannkendall",))
