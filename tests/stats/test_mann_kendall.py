"""Vectorised Sen/Mann-Kendall equals pymannkendall and SciPy's theilslopes row by row (ties, gaps)."""

from __future__ import annotations

import numpy as np
import pymannkendall
import pytest
from scipy import stats

from pcstats.stats.mann_kendall import sen_mann_kendall


@pytest.fixture(scope="module")
def series():
    rng = np.random.default_rng(3)
    years = np.arange(1980, 2020)
    Y = rng.normal(size=(300, years.size)) + 0.03 * (years - 2000)
    Y[rng.random(Y.shape) < 0.15] = np.nan  # gaps
    Y[:60] = np.round(Y[:60])  # many ties
    Y[60, :] = 1.0  # constant: S = 0, no trend
    Y[61, :-2] = np.nan  # two values: too few
    return Y, years


def test_matches_pymannkendall_and_scipy_row_by_row(series):
    Y, years = series
    got = sen_mann_kendall(Y, years, conf_level=0.95)
    for k in range(Y.shape[0]):
        keep = ~np.isnan(Y[k])
        y, x = Y[k][keep], years[keep]
        if keep.sum() < 3:
            assert np.isnan(got.slope[k]) and np.isnan(got.p_value[k]) and got.nobs[k] == keep.sum()
            continue
        mk = pymannkendall.original_test(y)
        sen = stats.theilslopes(y, x, alpha=0.95)
        expected = {"s": mk.s, "var_s": mk.var_s, "z": mk.z, "p_value": 2 * stats.norm.sf(abs(mk.z)), "slope": sen.slope,
                    "conf_low": sen.low_slope, "conf_high": sen.high_slope,
                    "intercept": np.median(y) - sen.slope * np.median(x)}
        for name, value in expected.items():
            assert getattr(got, name)[k] == pytest.approx(value, rel=1e-12, abs=1e-12), (k, name)


def test_conf_level_widens_the_interval(series):
    Y, years = series
    narrow, wide = sen_mann_kendall(Y[100:110], years, 0.8), sen_mann_kendall(Y[100:110], years, 0.99)
    assert np.all(wide.conf_high - wide.conf_low >= narrow.conf_high - narrow.conf_low)


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="one column per year"):
        sen_mann_kendall(np.zeros((2, 3)), np.arange(4))
    with pytest.raises(ValueError, match="strictly increasing"):
        sen_mann_kendall(np.zeros((2, 3)), np.array([2000, 2002, 2001]))
