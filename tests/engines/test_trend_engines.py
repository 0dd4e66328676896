from __future__ import annotations

import numpy as np
import pandas as pd
import pymannkendall
import pytest
from scipy import stats

import pcstats as pc

from ..conftest import series

NUMBERS = ["estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high"]


def test_closed_form_equals_statsmodels_on_many_groups_with_missing_years():
    rng = np.random.default_rng(7)
    frames = []
    for g in range(300):
        years = np.arange(1976, 2020)
        keep = rng.random(len(years)) > 0.1
        frames.append(series(years[keep], rng.normal(0.5 * (years[keep] - 2000), 10), region=f"r{g}"))
    t = pd.concat(frames, ignore_index=True)
    spec = pc.TrendSpec("NEE ~ year", by=("region",))
    fast, slow = pc.fit(spec.replace(engine="closed_form"), t), pc.fit(spec.replace(engine="statsmodels"), t)
    np.testing.assert_allclose(fast.tidy()[NUMBERS], slow.tidy()[NUMBERS], rtol=1e-10)
    cols = ["nobs", "df_residual", "r_squared", "adj_r_squared", "sigma", "log_lik", "aic", "bic"]
    np.testing.assert_allclose(fast.glance()[cols].astype(float), slow.glance()[cols].astype(float), rtol=1e-10)
    pd.testing.assert_frame_equal(fast.augment(), slow.augment(), rtol=1e-9)


def test_auto_engine_choice_is_recorded():
    t = pd.concat([series(range(2000, 2010), np.arange(10.0), source=s) for s in ("A", "B")], ignore_index=True)
    assert pc.fit(pc.TrendSpec("NEE ~ year", by=("source",)), t).engine == "closed_form"
    assert pc.fit(pc.TrendSpec("NEE ~ year"), t).engine == "statsmodels"  # two rows per year: pooled OLS
    assert pc.fit(pc.TrendSpec("NEE ~ year", by=("source",), cov_type="HAC"), t).engine == "statsmodels"
    assert pc.fit(pc.TrendSpec("NEE ~ year", by=("source",), method="sen"), t).engine == "mannkendall"


def test_engines_refuse_what_they_cannot_fit():
    t = pd.concat([series(range(2000, 2010), np.arange(10.0), source=s) for s in ("A", "B")], ignore_index=True)
    with pytest.raises(pc.EngineError, match="several rows for one year.*engine='statsmodels'"):
        pc.fit(pc.TrendSpec("NEE ~ year", engine="closed_form"), t)
    with pytest.raises(pc.EngineError, match="cov_type='HAC' needs one row per year.*Add the column"):
        pc.fit(pc.TrendSpec("NEE ~ year", cov_type="HAC"), t)
    with pytest.raises(pc.SpecError, match="engine='lm' is not an engine of TrendSpec.*Engines: closed_form"):
        pc.TrendSpec("NEE ~ year", engine="lm")
    with pytest.raises(pc.EngineError, match="fits only 'y ~ year'"):
        pc.fit(pc.TrendSpec("NEE ~ year + C(source)", engine="closed_form"), t)


def test_rank_deficient_design_gives_nan_like_lm_and_warns():
    years = np.arange(2000, 2012)
    nee = series(years, np.random.default_rng(0).normal(0, 1, 12) + 0.3 * (years - 2000))
    gpp = series(years, 2.0 * years + 1.0, variable="GPP")  # exactly collinear with intercept and year
    with pytest.warns(UserWarning, match="rank-deficient"):
        res = pc.fit(pc.TrendSpec("NEE ~ year + GPP"), pd.concat([nee, gpp], ignore_index=True))
    tidy = res.tidy().set_index("term")
    assert list(tidy.index) == ["(Intercept)", "year", "GPP"]  # R's order, aliased term kept
    assert tidy.loc["GPP", ["estimate", "std_error", "p_value"]].isna().all()
    plain = pc.fit(pc.TrendSpec("NEE ~ year", engine="statsmodels"), nee).tidy().set_index("term")
    np.testing.assert_allclose(tidy.loc[["(Intercept)", "year"], "estimate"], plain["estimate"], rtol=1e-9)
    assert res.glance()["df_residual"].iloc[0] == 10
    assert any("aliased term(s) ['GPP']" in w for w in res.warnings)


def test_sen_engine_matches_pymannkendall_and_scipy():
    rng = np.random.default_rng(4)
    years = np.array([y for y in range(1980, 2020) if y != 1995])
    values = 0.4 * (years - 2000) + rng.normal(0, 5, len(years))
    res = pc.fit(pc.TrendSpec("NEE ~ year", method="sen"), series(years, values))
    row = res.tidy().set_index("term").loc["year"]
    mk = pymannkendall.original_test(values)
    sen = stats.theilslopes(values, years)
    assert np.isclose(row["estimate"], sen.slope) and np.isclose(row["statistic"], mk.z) and np.isclose(row["p_value"], mk.p)
    assert (row["conf_low"], row["conf_high"]) == pytest.approx((sen.low_slope, sen.high_slope))
    assert np.isnan(row["std_error"]) and res.glance()["kendall_tau"].iloc[0] == pytest.approx(mk.Tau)


def test_hac_lag_defaults_per_group_and_is_recorded():
    t = series(range(1976, 2020), np.random.default_rng(1).normal(size=44))
    res = pc.fit(pc.TrendSpec("NEE ~ year", cov_type="HAC"), t)
    g = res.glance().iloc[0]
    assert (g["cov_type"], g["hac_lags"], g["hac_prewhite"]) == ("HAC", 3, False)


def test_hac_gap_is_warned():
    years = [y for y in range(1990, 2010) if y != 2000]
    with pytest.warns(UserWarning, match="treats the 1 missing year"):
        pc.fit(pc.TrendSpec("NEE ~ year", cov_type="HAC", hac_lags=2), series(years, np.arange(19.0) ** 1.1))


def test_statsmodels_engine_refuses_sen():
    with pytest.raises(pc.EngineError, match="engine='statsmodels' fits method='ols'"):
        pc.fit(pc.TrendSpec("NEE ~ year", method="sen", engine="statsmodels"), series(range(2000, 2010), np.arange(10.0)))


def test_no_residual_df_is_reported_not_fitted():
    years = [2000, 2001, 2002]
    t = pd.concat([series(years, [1.0, 2.5, 2.0]), series(years, [0.1, 0.7, 0.2], variable="AirT", unit="degC")], ignore_index=True)
    with pytest.warns(UserWarning, match="not fitted"):
        res = pc.fit(pc.TrendSpec("NEE ~ year + AirT"), t)
    g = res.glance().iloc[0]
    assert g["nobs"] == 0 and "3 observations for 3 coefficients leave no residual degrees of freedom" in g["dropped_why"]
    assert res.tidy().empty


def test_prewhitening_on_too_few_years_is_reported_not_fitted():
    with pytest.warns(UserWarning, match="not fitted"):
        res = pc.fit(pc.TrendSpec("NEE ~ year", cov_type="HAC", hac_prewhite=True), series([2000, 2001, 2002, 2003], [1.0, 2.5, 2.0, 3.0]))
    assert "HAC prewhitening" in res.glance()["dropped_why"].iloc[0] and res.tidy().empty
    ok = pc.fit(pc.TrendSpec("NEE ~ year", cov_type="HAC", hac_prewhite=True), series(range(2000, 2006), [1.0, 2.5, 2.0, 3.0, 3.5, 3.2]))
    assert ok.tidy()["std_error"].gt(1e-6).all()
