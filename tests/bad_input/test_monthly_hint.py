"""A monthly table fitted by season says to make its seasons first."""

from __future__ import annotations

import pytest

import pcstats as pc

from ..conftest import long_table


def test_a_monthly_table_fitted_by_season_says_to_seasonalize():
    monthly = long_table(month=[1, 2, 3], year=[2000, 2000, 2000], value=[1.0, 2.0, 3.0])
    with pytest.raises(pc.SpecError, match=r"'season' is not a key column.*The table is monthly: make its seasons first"):
        pc.fit(pc.TrendSpec("NEE ~ year", by=("season",)), monthly)


def test_no_hint_when_the_table_is_seasonal():
    seasonal = long_table(season=["EGS"] * 3, year=[2000, 2001, 2002], value=[1.0, 2.0, 3.0]).drop(columns="month")
    with pytest.raises(pc.SpecError) as caught:
        pc.fit(pc.TrendSpec("NEE ~ year", by=("site",)), seasonal)
    assert "seasonalize" not in str(caught.value)
