"""Respiration-temperature models as ``R = a * exp(b * g(T))``, fitted by nonlinear least squares.

All three forms are one model with a form-specific transform ``g`` of temperature (degC):

=============  ==========================================  ===========================
form           g(T)                                        temperature parameter
=============  ==========================================  ===========================
q10            (T - T_ref) / 10                            Q10 = exp(b)
lloyd_taylor   1 / (T_ref - T0) - 1 / (T - T0)             E0 = b (K)
arrhenius      1 / (T_ref + 273.15) - 1 / (T + 273.15)     Ea = b * R_gas / 1000 (kJ mol-1)
=============  ==========================================  ===========================

and ``a = R_ref``, the rate at ``T_ref``. The fit is ordinary nonlinear least squares with additive
errors, as R's ``nls``: the covariance is ``sigma^2 (J'J)^-1`` at the solution with
``sigma^2 = RSS / (n - 2)``, J the Jacobian in (a, b). The covariance of the reported parameters
follows by the delta method, which is exact for this linearised covariance (a reparameterisation
maps J by the derivative of the transform), so it equals what ``nls`` gives when fitted in
(R_ref, Q10) directly. Start values come from least squares on ``log R`` (positive R only).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize

__all__ = ["R_GAS", "NonlinearFit", "temperature_transform", "fit_exponential", "natural_parameters"]

R_GAS = 8.314462618  # J mol-1 K-1 (CODATA 2018)
KELVIN = 273.15


def temperature_transform(form: str, temperature: np.ndarray, t_ref: float, t0: float = -46.02) -> np.ndarray:
    """``g(T)`` of the module docstring (temperatures in degC).

    >>> temperature_transform("q10", np.array([0.0, 10.0, 20.0]), 10.0).tolist()
    [-1.0, 0.0, 1.0]
    """
    t = np.asarray(temperature, dtype=float)
    if form == "q10":
        return (t - t_ref) / 10.0
    if form == "lloyd_taylor":
        return 1.0 / (t_ref - t0) - 1.0 / (t - t0)
    if form == "arrhenius":
        return 1.0 / (t_ref + KELVIN) - 1.0 / (t + KELVIN)
    raise ValueError(f"unknown form {form!r}")


@dataclass(frozen=True)
class NonlinearFit:
    """``R = a exp(b g)``: estimates, their covariance, and the fit's statistics."""

    a: float
    b: float
    cov: np.ndarray  # 2 x 2, of (a, b)
    rss: float
    tss: float
    nobs: int
    n_evaluations: int
    converged: bool
    message: str

    @property
    def df_residual(self) -> int:
        return self.nobs - 2

    @property
    def sigma(self) -> float:
        return float(np.sqrt(self.rss / self.df_residual))

    @property
    def log_lik(self) -> float:
        """R's ``logLik.nls``: ``-n/2 (log(2 pi) + log(RSS/n) + 1)``."""
        n = self.nobs
        return float(-0.5 * n * (np.log(2 * np.pi) + np.log(self.rss / n) + 1.0))


def fit_exponential(response: np.ndarray, g: np.ndarray) -> NonlinearFit:
    """Least squares of ``response = a exp(b g)``.

    >>> g = np.linspace(-3, 1, 30)
    >>> fit = fit_exponential(2.0 * np.exp(0.9 * g), g)
    >>> round(fit.a, 6), round(fit.b, 6), fit.converged
    (2.0, 0.9, True)
    """
    y, g = np.asarray(response, dtype=float), np.asarray(g, dtype=float)
    positive = y > 0
    if positive.sum() >= 2 and np.ptp(g[positive]) > 0:
        b0, log_a0 = np.polyfit(g[positive], np.log(y[positive]), 1)
        start = np.array([np.exp(log_a0), b0])
    else:
        start = np.array([max(float(np.mean(y)), 1e-6), 0.0])

    def residuals(theta):
        return theta[0] * np.exp(theta[1] * g) - y

    def jacobian(theta):
        e = np.exp(theta[1] * g)
        return np.column_stack([e, theta[0] * g * e])

    sol = optimize.least_squares(residuals, start, jac=jacobian, method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15,
                                 max_nfev=2000)
    J = jacobian(sol.x)
    rss = float(np.sum(sol.fun ** 2))
    n = len(y)
    try:
        cov = np.linalg.inv(J.T @ J) * rss / (n - 2)
    except np.linalg.LinAlgError:
        cov = np.full((2, 2), np.nan)
    return NonlinearFit(a=float(sol.x[0]), b=float(sol.x[1]), cov=cov, rss=rss, tss=float(np.sum((y - y.mean()) ** 2)),
                        nobs=n, n_evaluations=int(sol.nfev), converged=bool(sol.status > 0 and np.isfinite(cov).all()),
                        message=str(sol.message))


def natural_parameters(form: str, fit: NonlinearFit) -> tuple[np.ndarray, np.ndarray]:
    """(R_ref, temperature parameter) and their covariance (delta method; see the module docstring).

    >>> fit = NonlinearFit(2.0, np.log(2.5), np.diag([0.01, 0.0004]), 1.0, 10.0, 50, 5, True, "")
    >>> est, cov = natural_parameters("q10", fit)
    >>> est.round(3).tolist(), np.sqrt(cov[1, 1]).round(4)
    ([2.0, 2.5], np.float64(0.05))
    """
    if form == "q10":
        q10 = float(np.exp(fit.b))
        est, d = np.array([fit.a, q10]), np.diag([1.0, q10])
    elif form == "lloyd_taylor":
        est, d = np.array([fit.a, fit.b]), np.eye(2)
    elif form == "arrhenius":
        scale = R_GAS / 1000.0
        est, d = np.array([fit.a, fit.b * scale]), np.diag([1.0, scale])
    else:
        raise ValueError(f"unknown form {form!r}")
    return est, d @ fit.cov @ d.T
