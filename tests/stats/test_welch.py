from __future__ import annotations

import numpy as np
from scipy import stats

from pcstats.stats.welch import welch_difference


def test_textbook_welch():
    r = welch_difference(0.58, 0.09, 36, 0.13, 0.06, 36)
    se = np.sqrt(0.09**2 + 0.06**2)
    df = se**4 / (0.09**4 / 36 + 0.06**4 / 36)
    assert np.isclose(r["std_error"], se) and np.isclose(r["df"], df)
    assert np.isclose(r["p_value"], 2 * stats.t.sf(0.45 / se, df))
    assert np.isclose(r["conf_high"] - r["estimate"], stats.t.ppf(0.975, df) * se)


def test_matches_scipy_ttest_from_stats():
    ref = stats.ttest_ind_from_stats(3.0, 2.0, 10, 1.0, 1.5, 14, equal_var=False)
    r = welch_difference(3.0, 2.0 / np.sqrt(10), 9, 1.0, 1.5 / np.sqrt(14), 13)
    assert np.isclose(r["statistic"], ref.statistic) and np.isclose(r["p_value"], ref.pvalue)
