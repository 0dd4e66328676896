"""Window trends from prefix sums against an exact per-window computation and statsmodels."""

from __future__ import annotations

import numpy as np
import statsmodels.api as sm

from pcstats.stats.window_ols import window_trends


def test_every_window_matches_a_direct_fit():
    rng = np.random.default_rng(5)
    years = np.arange(1976, 2020)
    Y = rng.normal(300, 50, (5, len(years))) + 2.0 * np.arange(len(years))
    Y[0, :6] = np.nan
    Y[3, 20] = np.nan
    starts, lengths = rng.integers(1976, 2006, 300), rng.integers(10, 15, 300)
    w = window_trends(Y, years, starts, lengths)
    worst = 0.0
    for g in range(5):
        for j in range(300):
            keep = (years >= starts[j]) & (years < starts[j] + lengths[j]) & np.isfinite(Y[g])
            x = years[keep] - years[keep].mean()  # centred: statsmodels is then exact to ~1e-14
            fit = sm.OLS(Y[g, keep], sm.add_constant(x)).fit()
            assert w.nobs[g, j] == keep.sum()
            worst = max(worst, abs(w.slope[g, j] / fit.params[1] - 1), abs(w.se_slope[g, j] / fit.bse[1] - 1),
                        abs(w.r_squared[g, j] - fit.rsquared))
    assert worst < 1e-11


def test_windows_with_fewer_than_three_years_are_nan():
    Y = np.array([[1.0, np.nan, np.nan, 4.0, 5.0]])
    w = window_trends(Y, np.arange(2000, 2005), np.array([2000, 2002]), np.array([3, 3]))
    assert np.isnan(w.slope[0, 0]) and w.nobs[0, 0] == 1
    assert w.slope[0, 1] == 1.0 and w.nobs[0, 1] == 2 or np.isnan(w.slope[0, 1])
