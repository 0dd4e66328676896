"""Respiration models as R = a exp(b g(T)): transforms, least squares and the delta method."""

from __future__ import annotations

import numpy as np
import pytest

from pcstats.stats.respiration import R_GAS, fit_exponential, natural_parameters, temperature_transform


def test_transforms_are_the_stated_forms():
    t = np.array([-20.0, 0.0, 10.0, 25.0])
    r_q10 = 2.0 * np.exp(np.log(2.5) * temperature_transform("q10", t, 10.0))
    np.testing.assert_allclose(r_q10, 2.0 * 2.5 ** ((t - 10) / 10))
    e0 = 308.56
    r_lt = 2.0 * np.exp(e0 * temperature_transform("lloyd_taylor", t, 10.0, -46.02))
    np.testing.assert_allclose(r_lt, 2.0 * np.exp(e0 * (1 / 56.02 - 1 / (t + 46.02))))
    ea = 60.0  # kJ mol-1
    r_ar = 2.0 * np.exp(ea * 1000 / R_GAS * temperature_transform("arrhenius", t, 10.0))
    np.testing.assert_allclose(r_ar, 2.0 * np.exp(ea * 1000 / R_GAS * (1 / 283.15 - 1 / (t + 273.15))))


def test_delta_method_equals_fitting_in_the_natural_parameters():
    """Gauss-Newton covariance in (R_ref, Q10) directly equals the delta-method transform from (a, b)."""
    rng = np.random.default_rng(3)
    t = rng.uniform(-15, 20, 300)
    y = 1.8 * 2.2 ** ((t - 10) / 10) + rng.normal(0, 0.2, 300)
    fit = fit_exponential(y, temperature_transform("q10", t, 10.0))
    est, cov = natural_parameters("q10", fit)
    r_ref, q10 = est
    J = np.column_stack([q10 ** ((t - 10) / 10), r_ref * (t - 10) / 10 * q10 ** ((t - 10) / 10 - 1)])
    direct = np.linalg.inv(J.T @ J) * fit.rss / (len(y) - 2)
    np.testing.assert_allclose(cov, direct, rtol=1e-8)


def test_noise_free_data_are_recovered_and_flat_data_do_not_crash():
    g = np.linspace(-2.5, 1.0, 40)
    fit = fit_exponential(3.0 * np.exp(0.7 * g), g)
    assert fit.converged and fit.a == pytest.approx(3.0, rel=1e-9) and fit.b == pytest.approx(0.7, rel=1e-9)
    flat = fit_exponential(np.full(10, 2.0) + np.linspace(-1e-3, 1e-3, 10), np.zeros(10))  # no temperature range
    assert not flat.converged
