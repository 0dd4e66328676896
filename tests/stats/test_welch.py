from __future__ import annotations

import numpy as np
from scipy import stats

from pcstats.stats.welch import welch_difference


def test_textbook_welch():
    # by hand: se^2 = 0.0081 + 0.0036 = 0.0117; df = 0.0117^2 / ((0.0081^2 + 0.0036^2) / 36) = 62.7216...
    r = welch_difference(0.58, 0.09, 36, 0.13, 0.06, 36)
    assert np.isclose(r["std_error"], 0.108166538) and np.isclose(r["df"], 62.72164948, rtol=1e-8)
    assert np.isclose(r["statistic"], 4.16025147, rtol=1e-8)
    assert np.isclose(r["p_value"], 2 * stats.t.sf(4.16025147, 62.72164948), rtol=1e-7)


def test_matches_scipy_ttest_from_stats():
    ref = stats.ttest_ind_from_stats(3.0, 2.0, 10, 1.0, 1.5, 14, equal_var=False)
    r = welch_difference(3.0, 2.0 / np.sqrt(10), 9, 1.0, 1.5 / np.sqrt(14), 13)
    assert np.isclose(r["statistic"], ref.statistic) and np.isclose(r["p_value"], ref.pvalue)
