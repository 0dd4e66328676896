from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pcstats as pc
from pcstats.stats.welch import welch_difference


@pytest.fixture(scope="module")
def seasonal(trend_input):
    return pc.fit(pc.TrendSpec("NEE ~ year", by=("source", "region", "season"), name="Seasonal NEE trend (OLS)"), trend_input)


def test_difference_test_is_welch_on_matched_rows(seasonal):
    d = pc.difference_test(seasonal.subset(region="P"), seasonal.subset(region="NoP"))
    assert d.by == ("source", "season") and len(d.tidy()) == 28
    row = d.tidy().set_index(["source", "season"]).loc[("ensemble", "LGS")]
    t = seasonal.tidy().query("term == 'year' and source == 'ensemble' and season == 'LGS'").set_index("region")
    g = seasonal.glance().query("source == 'ensemble' and season == 'LGS'").set_index("region")
    ref = welch_difference(t.loc["P", "estimate"], t.loc["P", "std_error"], g.loc["P", "df_residual"],
                           t.loc["NoP", "estimate"], t.loc["NoP", "std_error"], g.loc["NoP", "df_residual"])
    for key in ("estimate", "std_error", "statistic", "df", "p_value"):
        assert row[key] == pytest.approx(float(ref[key]))
    assert d.model == "year: (Seasonal NEE trend (OLS) [region=P]) - (Seasonal NEE trend (OLS) [region=NoP])"


def test_difference_test_errors(seasonal, trend_input):
    with pytest.raises(pc.PcstatsError, match="has no term 'AirT'"):
        pc.difference_test(seasonal, seasonal, term="AirT")
    sen = pc.fit(seasonal.spec.replace(method="sen"), trend_input)
    with pytest.raises(pc.PcstatsError, match="needs standard errors"):
        pc.difference_test(sen.subset(region="P"), sen.subset(region="NoP"))
    with pytest.raises(pc.PcstatsError, match=r"several 'year' rows for the same \['season'\]; add \['source'\]"):
        pc.difference_test(seasonal.subset(region="P"), seasonal.subset(region="NoP"), on=["season"])


def test_interaction_term_agrees_with_the_difference_of_slopes(trend_input, seasonal):
    inter = pc.fit(pc.load_spec("models/trend_interaction.toml"), trend_input).tidy()
    est = inter[inter["term"] == "year:C(region)P"].set_index(["source", "season"])["estimate"]
    diff = pc.difference_test(seasonal.subset(region="P"), seasonal.subset(region="NoP")).tidy().set_index(["source", "season"])["estimate"]
    pd.testing.assert_series_equal(est.sort_index(), diff.sort_index(), check_names=False, rtol=1e-8)


def test_trend_gradient_regresses_trends_on_the_gradient():
    rows = []
    rng = np.random.default_rng(0)
    for b, tc in enumerate(np.arange(2.5, 80, 5)):
        slope = 0.5 - 0.02 * tc
        for season in ("ANN", "LGS"):
            years = np.arange(1980, 2020)
            rows.append(pd.DataFrame({"source": "ens", "kind": "inversion", "region": f"TC{b}", "year": years, "season": season,
                                      "variable": "NEE", "value": slope * (years - 2000) + rng.normal(0, 0.5, 40), "unit": "u"}))
    table = pd.concat(rows, ignore_index=True)
    res = pc.fit(pc.TrendSpec("NEE ~ year", by=("region", "season")), table)
    gradient = pd.Series(np.arange(2.5, 80, 5), index=[f"TC{b}" for b in range(16)], name="TC")
    g = pc.trend_gradient(res, gradient.iloc[:-1])
    tidy = g.tidy().set_index(["season", "term"])
    assert tidy.loc[("ANN", "TC"), "conf_low"] < -0.02 < tidy.loc[("ANN", "TC"), "conf_high"]
    assert g.glance()["nobs"].tolist() == [15, 15] and (g.glance()["r_squared"] > 0.9).all()
    assert g.removed.iloc[0]["n_removed"] == 2  # the bin without a gradient value, in two seasons
    with pytest.raises(pc.PcstatsError, match="'site' is not a by key"):
        pc.trend_gradient(res, gradient, on="site")
    with pytest.raises(pc.PcstatsError, match="gradient must be a pandas Series"):
        pc.trend_gradient(res, gradient.to_frame())
