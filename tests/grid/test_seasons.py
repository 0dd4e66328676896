"""seasonalize_grid gives seasonalize()'s numbers under every convention."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import pcstats as pc
from pcstats.errors import ContractError, ProductError
from pcstats.grid import seasonalize_grid, to_long


@pytest.mark.parametrize("how", ["mean_x365", "mean", "total"])
@pytest.mark.parametrize("winter", ["calendar", "spanning"])
def test_same_numbers_as_the_table_version(ct, how, winter):
    grid = seasonalize_grid(ct["NEE"], how=how, winter=winter)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = pc.seasonalize(to_long(ct), how=how, winter=winter)
    table = table.dropna(subset=["value"]).set_index(["season", "year", "lat", "lon"])["value"]
    got = grid.to_series().reindex(table.index)
    np.testing.assert_allclose(got.values, table.values, rtol=1e-13)
    assert grid.attrs["units"] == {"mean_x365": "gC m-2 yr-1", "mean": "gC m-2 d-1", "total": "gC m-2 season-1"}[how]
    finite = int(grid.notnull().sum())
    assert finite == len(table)  # every seasonal value the table has, and no more


def test_incomplete_seasons_are_missing_and_non_fluxes_are_averaged(covariates):
    airt = covariates["AirT"]
    gap = airt.where(~((airt["time"].dt.year == 2003) & (airt["time"].dt.month == 9)))
    out = seasonalize_grid(gap)
    assert out.attrs["units"] == "degC"
    lgs = out.sel(season="LGS")
    assert bool(lgs.sel(year=2003).isnull().all()) and bool(lgs.sel(year=2004).notnull().any())
    expected = airt.sel(time=["2004-09-01", "2004-10-01"]).mean("time")
    np.testing.assert_allclose(lgs.sel(year=2004).values, expected.values, rtol=1e-13, equal_nan=True)


def test_total_counts_the_days_of_the_product_calendar(ct):
    nee = ct["NEE"].assign_attrs(native_calendar="noleap")
    leap = seasonalize_grid(ct["NEE"], how="total").sel(season="WIN", year=2004)
    noleap = seasonalize_grid(nee, how="total").sel(season="WIN", year=2004)
    feb = ct["NEE"].sel(time="2004-02-01") / 365.0
    np.testing.assert_allclose((leap - noleap).values, feb.values, rtol=1e-10)


def test_bad_input(ct):
    with pytest.raises(ContractError, match="how='sum'"):
        seasonalize_grid(ct["NEE"], how="sum")
    with pytest.raises(ProductError, match="no time dimension"):
        seasonalize_grid(ct["NEE"].isel(time=0))
    with pytest.raises(ContractError, match="units 'mol m-2'"):
        seasonalize_grid(ct["NEE"].assign_attrs(units="mol m-2"))
    shifted = ct["NEE"].assign_coords(time=pd.DatetimeIndex(ct["time"].values) + pd.Timedelta(days=14))
    with pytest.raises(ProductError, match="month starts"):
        seasonalize_grid(shifted)


def test_total_on_a_noleap_model_counts_365_day_years():
    from .conftest import product

    clm = product(*[f"trendy/CLM5.0_S3_{v}.nc" for v in ("nbp", "gpp", "ra", "rh")])
    gpp = clm["GPP"]
    assert gpp.attrs["native_calendar"] == "noleap" and clm.attrs["calendar"] == "noleap"
    got = seasonalize_grid(gpp, how="total").sel(season="ANN", year=2004)  # 2004 is a leap year in Gregorian
    days = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=float)  # noleap: no 29 February
    monthly = gpp.sel(time=gpp["time"].dt.year == 2004).transpose("time", "lat", "lon").values  # gC m-2 yr-1
    by_hand = (monthly / 365.0 * days[:, None, None]).sum(axis=0)
    np.testing.assert_allclose(got.values, by_hand, rtol=1e-12, equal_nan=True)
    gregorian = seasonalize_grid(gpp.assign_attrs(native_calendar="standard"), how="total").sel(season="ANN", year=2004)
    np.testing.assert_allclose((gregorian - got).values, monthly[1] / 365.0, rtol=1e-10, atol=1e-12, equal_nan=True)
