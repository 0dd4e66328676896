"""Q10 engine "scipy": ``R = R_ref f(T)`` per group by ``scipy.optimize.least_squares``.

The maths is :mod:`pcstats.stats.respiration`; this adapter takes the prepared rows (the response
and temperature matched as in a trend formula), fits each group, and assembles the Results:
``tidy()`` has ``R_ref`` (the response's unit) and the form's parameter (``Q10``, ``E0`` in K or
``Ea`` in kJ mol-1) with Jacobian standard errors, t statistics against 0 with n - 2 df (as R's
``summary.nls``) and Wald t intervals (R's ``confint.default`` with t quantiles; ``confint`` on an
``nls`` fit profiles instead); ``glance()`` has sigma, logLik/AIC/BIC as R's (3 parameters with
sigma), ``r_squared = 1 - RSS/TSS``, convergence and the number of function evaluations.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy

from ..errors import ContractError
from ..specs.q10 import Q10Spec
from ..stats.ols import t_test
from ..stats.respiration import fit_exponential, natural_parameters, temperature_transform
from .common import assemble, group_label, group_slices, progress
from .prepare import Prepared, prepare

__all__ = ["fit", "prepare_q10"]


def prepare_q10(spec: Q10Spec, table: pd.DataFrame) -> Prepared:
    """The response and temperature per group (NaN rows dropped and counted, as for a trend).

    Sources are never pooled: when the rows span several sources (towers and models, say) and
    ``by`` does not name ``source``, each source is fitted on its own, as ``skill()`` scores them.
    """
    formula = f"{spec.response} ~ {spec.temperature}"
    prepared = prepare(table, formula, spec.by, spec.where, 1)
    if "source" not in spec.by and prepared.frame["source"].nunique() > 1:
        prepared = prepare(table, formula, ("source", *spec.by), spec.where, 1)
    _check_scales(spec, prepared)
    return prepared


def _check_scales(spec: Q10Spec, prepared: Prepared) -> None:
    """Temperatures in degC and respiration as a positive rate, before any exponential is fitted.

    A temperature in kelvin (unit 'K', or a median above 150) or a respiration with the net-flux
    sign (a median at or below zero) gives a fit that converges to meaningless numbers.
    """
    frame = prepared.frame
    unit = prepared.units.get(spec.temperature, "")
    temperature = frame[spec.temperature].to_numpy(dtype=float)
    if unit.strip().lower() in ("k", "kelvin") or (len(temperature) and np.nanmedian(temperature) > 150.0):
        raise ContractError(
            f"Q10Spec(temperature={spec.temperature!r}): the temperatures look like kelvin (unit {unit!r}, median "
            f"{np.nanmedian(temperature):.1f}); the Q10 forms take degC. Convert them first (value - 273.15, unit "
            "'degC'), or check the variable.")
    response = frame[spec.response].to_numpy(dtype=float)
    if len(response) and np.nanmedian(response) <= 0:
        raise ContractError(
            f"Q10Spec(response={spec.response!r}): the respiration values are mostly at or below zero (median "
            f"{np.nanmedian(response):.3g} {prepared.units.get(spec.response, '')}); a respiration rate is positive. "
            "The sign looks flipped (a net-flux convention such as NEE's): negate the values, or check the variable.")


def fit(spec: Q10Spec, prepared: Prepared):
    frame, skipped, coefficients, statistics, messages = prepared.frame, {}, [], [], []
    slices = group_slices(prepared)
    for group, rows in progress(slices.items(), len(slices), "Q10 fits"):
        y = frame[spec.response].to_numpy(dtype=float)[rows]
        t = frame[spec.temperature].to_numpy(dtype=float)[rows]
        if len(y) < spec.min_n:
            skipped[group] = f"not fitted: {len(y)} observations < min_n={spec.min_n}"
            continue
        if spec.form == "lloyd_taylor" and (t <= spec.t0).any():
            raise ContractError(
                f"Q10Spec(form='lloyd_taylor'): {int((t <= spec.t0).sum())} {spec.temperature} value(s) at or below "
                f"t0={spec.t0} degC in {group_label(prepared, group)} (the model is undefined there); filter them "
                "with where=... or use form='q10'."
            )
        nl = fit_exponential(y, temperature_transform(spec.form, t, spec.t_ref, spec.t0))
        if not nl.converged:
            messages.append(f"{group_label(prepared, group)}: least squares did not converge ({nl.message})")
        est, cov = natural_parameters(spec.form, nl)
        se = np.sqrt(np.diag(cov))
        stat, p, low, high = t_test(est, se, np.full(2, nl.df_residual), spec.conf_level)
        coefficients.append(pd.DataFrame({
            "_group": group, "component": "fixed", "term": ["R_ref", spec.parameter], "estimate": est,
            "std_error": se, "statistic": stat, "p_value": p, "conf_low": low, "conf_high": high,
        }))
        statistics.append({
            "_group": group, "df_residual": nl.df_residual, "r_squared": 1.0 - nl.rss / nl.tss, "sigma": nl.sigma,
            "log_lik": nl.log_lik, "aic": -2 * nl.log_lik + 6.0, "bic": -2 * nl.log_lik + 3.0 * np.log(nl.nobs),
            "converged": nl.converged, "n_evaluations": nl.n_evaluations, "form": spec.form, "t_ref": spec.t_ref,
            "_a": nl.a, "_b": nl.b,
        })
    columns = ["_group", "component", "term", "estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high"]
    coef = pd.concat(coefficients, ignore_index=True) if coefficients else pd.DataFrame(columns=columns)
    stats = pd.DataFrame(statistics, columns=["_group", "df_residual", "r_squared", "sigma", "log_lik", "aic", "bic",
                                              "converged", "n_evaluations", "form", "t_ref", "_a", "_b"])
    params = stats.set_index("_group")[["_a", "_b"]]

    def augment() -> pd.DataFrame:
        out = frame[list(prepared.by) + ["year", spec.temperature, spec.response]].copy()
        fitted = params.reindex(frame["_group"])
        g = temperature_transform(spec.form, frame[spec.temperature].to_numpy(dtype=float), spec.t_ref, spec.t0)
        out["fitted"] = fitted["_a"].to_numpy() * np.exp(fitted["_b"].to_numpy() * g)
        out["resid"] = out[spec.response] - out["fitted"]
        return out.reset_index(drop=True)

    return assemble(spec, prepared, engine="scipy", engine_version=scipy.__version__, coefficients=coef,
                    statistics=stats.drop(columns=["_a", "_b"]), warnings=messages, augmenter=augment,
                    packages=("scipy",), skipped=skipped)
