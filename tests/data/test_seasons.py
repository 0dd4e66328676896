from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pcstats as pc
from pcstats.data.seasons import season_months

from ..conftest import long_table


def months(values, years=(2000,), variable="GPP", unit="gC m-2 d-1"):
    n = len(years) * 12
    return long_table(year=list(np.repeat(years, 12)), month=list(np.tile(range(1, 13), len(years))),
                      value=list(np.resize(values, n)), variable=variable, unit=unit)


def by_season(t):
    return t.set_index(["season", "year"])["value"]


def test_paper_convention_mean_times_365():
    s = by_season(pc.seasonalize(months(np.arange(1.0, 13.0))))
    assert s[("EGS", 2000)] == pytest.approx(np.mean([5, 6, 7, 8]) * 365)
    assert s[("LGS", 2000)] == pytest.approx(9.5 * 365)
    assert s[("WIN", 2000)] == pytest.approx(np.mean([11, 12, 1, 2, 3, 4]) * 365)
    assert s[("ANN", 2000)] == pytest.approx(6.5 * 365)


def test_units_follow_the_convention():
    m = months(np.ones(12))
    assert set(pc.seasonalize(m)["unit"]) == {"gC m-2 yr-1"}
    assert set(pc.seasonalize(m, how="mean")["unit"]) == {"gC m-2 d-1"}
    assert set(pc.seasonalize(m, how="total")["unit"]) == {"gC m-2 season-1"}


def test_total_counts_days_in_month_with_leap_years():
    s = by_season(pc.seasonalize(months(np.ones(24), years=(2000, 2001)), how="total"))
    assert s[("ANN", 2000)] == 366 and s[("ANN", 2001)] == 365
    assert s[("LGS", 2000)] == 30 + 31


def test_flux_rates_are_converted_before_aggregating():
    s = by_season(pc.seasonalize(months(np.full(12, 1e-6), unit="mol m-2 s-1"), how="mean"))
    assert s[("ANN", 2000)] == pytest.approx(1e-6 * 12.011 * 86400)


def test_covariates_are_averaged_not_annualised():
    s = by_season(pc.seasonalize(months(np.arange(12.0), variable="AirT", unit="degC")))
    assert s[("ANN", 2000)] == pytest.approx(5.5)
    assert set(pc.seasonalize(months(np.zeros(12), variable="AirT", unit="degC"))["unit"]) == {"degC"}


def test_calendar_and_spanning_winter():
    values = np.concatenate([np.full(12, 1.0), np.full(12, 2.0)])
    m = months(values, years=(2000, 2001))
    calendar = by_season(pc.seasonalize(m, how="mean"))
    assert calendar[("WIN", 2000)] == 1.0 and calendar[("WIN", 2001)] == 2.0
    with pytest.warns(UserWarning, match="lack one or more months"):
        spanning = by_season(pc.seasonalize(m, how="mean", winter="spanning"))
    # winter 2000 = Nov-Dec 2000 (1.0) + Jan-Apr 2001 (2.0); winter 2001 lacks Jan-Apr 2002; 1999 lacks Nov-Dec
    assert spanning[("WIN", 2000)] == pytest.approx((2 * 1.0 + 4 * 2.0) / 6)
    assert np.isnan(spanning[("WIN", 2001)]) and np.isnan(spanning[("WIN", 1999)])
    assert season_months((11, 12, 1), "calendar") == [(11, 0), (12, 0), (1, 0)]


def test_missing_month_makes_season_nan_and_warns():
    values = np.ones(12)
    values[8] = np.nan  # September
    with pytest.warns(UserWarning, match="2 of 4 seasonal values"):
        s = by_season(pc.seasonalize(months(values)))
    assert np.isnan(s[("LGS", 2000)]) and np.isnan(s[("ANN", 2000)]) and s[("EGS", 2000)] == 365


def test_custom_seasons():
    s = by_season(pc.seasonalize(months(np.arange(1.0, 13.0)), seasons={"MJ": (5, 6)}, how="mean"))
    assert list(s.index) == [("MJ", 2000)] and s.iloc[0] == 5.5


def test_bad_arguments_are_named():
    with pytest.raises(pc.ContractError, match="how='sum' is not a convention"):
        pc.seasonalize(months(np.ones(12)), how="sum")
    with pytest.raises(pc.ContractError, match="winter='djf'"):
        pc.seasonalize(months(np.ones(12)), winter="djf")
    seasonal = pc.seasonalize(months(np.ones(12)))
    with pytest.raises(pc.ContractError, match="needs a monthly table"):
        pc.seasonalize(seasonal)


def test_input_is_not_modified():
    m = months(np.arange(12.0))
    before = m.copy()
    pc.seasonalize(m)
    pd.testing.assert_frame_equal(m, before)


def test_input_is_validated():
    m = months(np.ones(12))
    m.loc[0, "month"] = 13
    with pytest.raises(pc.ContractError, match="'month' must be 1-12"):
        pc.seasonalize(m)
    with pytest.raises(pc.ContractError, match="Duplicate keys"):
        pc.seasonalize(pd.concat([months(np.ones(12)), months(np.ones(12)).iloc[:1]], ignore_index=True))


def test_weight_and_ensemble_columns_do_not_split_seasons():
    m = months(np.arange(12.0)).assign(weight=np.arange(12.0) + 1, ensemble_sd=1.0, ensemble_n=np.arange(12.0))
    out = pc.seasonalize(m)
    assert len(out) == 4 and out["value"].notna().all()
    assert "ensemble_sd" not in out.columns and out.set_index("season").loc["LGS", "weight"] == 9.5
