from __future__ import annotations

import numpy as np
import statsmodels.api as sm

from pcstats.stats.ols import simple_trend, t_test


def test_matches_statsmodels_per_row_with_missing_years():
    rng = np.random.default_rng(3)
    years = np.arange(1980, 2018)
    Y = 2.0 + 0.3 * (years - 2000) + rng.normal(0, 5, (40, len(years)))
    Y[rng.random(Y.shape) < 0.1] = np.nan
    Y[0, :36] = np.nan  # two years left: not enough
    fit = simple_trend(Y, years)
    assert np.isnan(fit.slope[0]) and fit.nobs[0] == 2
    for i in range(1, 40):
        ok = np.isfinite(Y[i])
        ref = sm.OLS(Y[i, ok], sm.add_constant(years[ok].astype(float))).fit()
        np.testing.assert_allclose([fit.intercept[i], fit.slope[i]], ref.params, rtol=1e-10)
        np.testing.assert_allclose([fit.se_intercept[i], fit.se_slope[i]], ref.bse, rtol=1e-10)
        np.testing.assert_allclose([fit.r_squared[i], fit.adj_r_squared[i], fit.log_lik[i]],
                                   [ref.rsquared, ref.rsquared_adj, ref.llf], rtol=1e-10)


def test_textbook_numbers():
    # y = 1, 3, 2, 5 at x = 0..3: slope 5.5 / 5 = 1.1, intercept 2.75 - 1.1 * 1.5 = 1.1, RSS 2.7
    fit = simple_trend(np.array([[1.0, 3.0, 2.0, 5.0]]), np.arange(4))
    assert np.allclose([fit.slope[0], fit.intercept[0], fit.rss[0]], [1.1, 1.1, 2.7])
    assert np.isclose(fit.se_slope[0], np.sqrt(2.7 / 2 / 5))
    stat, p, low, high = t_test(np.array([1.1]), fit.se_slope, np.array([2.0]), 0.95)
    assert np.isclose(stat[0], 1.1 / np.sqrt(0.27)) and 0 < p[0] < 1 and low[0] < 1.1 < high[0]
