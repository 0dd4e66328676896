from __future__ import annotations

import numpy as np
import statsmodels.api as sm
from statsmodels.stats.sandwich_covariance import cov_hac

from pcstats.stats.hac import default_lags, newey_west


def ar_series(seed=0, n=40):
    rng = np.random.default_rng(seed)
    e = np.zeros(n)
    for t in range(1, n):
        e[t] = 0.6 * e[t - 1] + rng.normal()
    years = np.arange(1980, 1980 + n, dtype=float)
    X = np.column_stack([np.ones(n), years])
    y = 1 + 0.1 * (years - 2000) + e
    return X, y - X @ np.linalg.lstsq(X, y, rcond=None)[0], y


def test_equals_statsmodels_without_prewhitening():
    X, resid, y = ar_series()
    res = sm.OLS(y, X).fit()
    for lags in (0, 1, 3, 6):
        np.testing.assert_allclose(newey_west(X, resid, lags), cov_hac(res, nlags=lags, use_correction=False), rtol=1e-10)


def test_lag_zero_is_hc0_and_adjust_scales():
    X, resid, _ = ar_series(1)
    bread = np.linalg.inv(X.T @ X)
    hc0 = bread @ (X.T * resid**2) @ X @ bread
    np.testing.assert_allclose(newey_west(X, resid, 0), hc0, rtol=1e-10)
    n, k = X.shape
    np.testing.assert_allclose(newey_west(X, resid, 2, adjust=True), newey_west(X, resid, 2) * n / (n - k), rtol=1e-12)


def test_prewhitened_is_invariant_to_reparameterisation():
    X, resid, _ = ar_series(2)
    T = np.array([[1.0, -2000.0], [0.0, 1.0]])  # centred years: X @ T
    V = newey_west(X, resid, 3, prewhite=True)
    Vc = newey_west(X @ T, resid, 3, prewhite=True)
    np.testing.assert_allclose(T @ Vc @ T.T, V, rtol=1e-10)


def test_default_lag_rule():
    assert [default_lags(n) for n in (10, 20, 38, 44, 100)] == [2, 2, 3, 3, 4]
