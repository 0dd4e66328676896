"""Pixel trends equal the closed-form and Sen/MK engines cell by cell, recover the planted trends, round-trip NetCDF."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import pcstats as pc
from pcstats.errors import ProductError
from pcstats.grid import TREND_VARIABLES, cell_id, pixel_trends, seasonalize_grid, to_long


@pytest.fixture(scope="module")
def seasonal(ct):
    nee = seasonalize_grid(ct["NEE"])
    holes = nee.copy()
    holes[:, 3, 2, 5] = np.nan  # a missing year in one cell
    holes[:, :6, 4, 7] = np.nan  # a cell with too few years
    return holes


@pytest.fixture(scope="module")
def trends(seasonal):
    return pixel_trends(seasonal)


def engine_rows(seasonal: xr.DataArray, spec: pc.TrendSpec) -> pd.DataFrame:
    long = seasonal.to_dataframe().reset_index()
    long = pd.DataFrame({"source": "CT2019B", "kind": "inversion", "region": cell_id(long["lat"], long["lon"]),
                         "year": long["year"], "season": long["season"], "variable": "NEE", "value": long["NEE"],
                         "unit": "gC m-2 yr-1"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = pc.fit(spec, long)
    tidy = res.tidy()
    return tidy[tidy["term"] == "year"].set_index(["season", "region"]), res.glance().set_index(["season", "region"])


def cells(trends: xr.Dataset, name: str) -> pd.Series:
    s = trends[name].stack(cell=("lat", "lon")).to_series()
    s.index = pd.MultiIndex.from_arrays([s.index.get_level_values("season"),
                                         cell_id(s.index.get_level_values("lat"), s.index.get_level_values("lon"))])
    return s


def test_ols_equals_the_closed_form_engine(seasonal, trends):
    tidy, glance = engine_rows(seasonal, pc.TrendSpec("NEE ~ year", by=("season", "region"), min_years=3))
    for name in ("estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high"):
        got = cells(trends, name).reindex(tidy.index)
        np.testing.assert_allclose(got.values, tidy[name].values, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(cells(trends, "r_squared").reindex(glance.index).values, glance["r_squared"], rtol=1e-10)
    np.testing.assert_array_equal(cells(trends, "nobs").reindex(glance.index).values[glance["nobs"] > 0],
                                  glance.loc[glance["nobs"] > 0, "nobs"].values)


def test_sen_and_mann_kendall_equal_the_mannkendall_engine_on_a_sample(seasonal, trends):
    sample = seasonal.isel(lat=slice(0, 4), lon=slice(0, 8))
    tidy, _ = engine_rows(sample, pc.TrendSpec("NEE ~ year", by=("season", "region"), method="sen", min_years=3))
    for name, column in (("sen_slope", "estimate"), ("mk_z", "statistic"), ("mk_p", "p_value"),
                         ("sen_conf_low", "conf_low"), ("sen_conf_high", "conf_high")):
        got = cells(trends, name).reindex(tidy.index)
        np.testing.assert_allclose(got.values, tidy[column].values, rtol=1e-10, atol=1e-12)


def test_nan_aware_per_cell(trends):
    cell = trends.isel(lat=2, lon=5)
    assert (cell["nobs"] == 7).all() and cell["estimate"].notnull().all()
    few = trends.isel(lat=4, lon=7)
    assert (few["nobs"] == 2).all() and few["estimate"].isnull().all() and few["sen_slope"].isnull().all()


def test_recovers_the_planted_trend(ct, products_truth):
    planted = products_truth["nee_trend"]
    trends = pixel_trends(seasonalize_grid(ct["NEE"]).sel(season="ANN"))
    lat, lon = np.meshgrid(trends["lat"].values, trends["lon"].values, indexing="ij")
    truth = planted["t0"] + planted["t_lat"] * (lat - planted["lat0"]) + planted["t_lon"] * lon
    land = ~((lat < 62) & (lon < -6))
    z = (trends["estimate"].values[land] - truth[land]) / trends["std_error"].values[land]
    covered = (trends["conf_low"].values <= truth) & (truth <= trends["conf_high"].values)
    assert abs(z.mean()) < 0.3 and 1.0 < z.std() < 1.45  # t with 6 df: SD sqrt(6 / 4) = 1.22
    assert 0.9 <= covered[land].mean() <= 0.99
    assert (trends["estimate"].values[~land] == 0).all()  # sea: no flux


def test_units_attributes_and_netcdf_round_trip(trends, tmp_path):
    assert list(trends.data_vars) == list(TREND_VARIABLES)
    assert trends["estimate"].attrs["units"] == "gC m-2 yr-2" and trends["intercept"].attrs["units"] == "gC m-2 yr-1"
    assert trends["p_value"].attrs["units"] == "1" and trends.attrs["variable"] == "NEE"
    path = tmp_path / "trends.nc"
    trends.to_netcdf(path)
    back = xr.load_dataset(path)
    xr.testing.assert_identical(back, trends)


def test_bad_input(seasonal):
    with pytest.raises(ProductError, match="no dimension 'time'"):
        pixel_trends(seasonal, dim="time")
    with pytest.raises(ProductError, match="strictly increasing"):
        pixel_trends(seasonal.isel(year=[2, 1, 0]))
    with pytest.raises(ProductError, match="conf_level=2"):
        pixel_trends(seasonal, conf_level=2)


def test_static_maps_and_cells_without_data_in_the_long_table(covariates, ct):
    tc = to_long(xr.Dataset({"TC": covariates["TC"]}).assign_attrs(source="MODIS-VCF", kind="covariate"), years=[2000, 2001])
    assert set(tc["season"]) == {"ANN"} and sorted(tc["year"].unique()) == [2000, 2001]
    assert tc.attrs["pcstats"]["cells_without_data"] == {"TC": 32}
    assert len(tc) == 2 * (800 - 32)
    with pytest.raises(ProductError, match="needs years"):
        to_long(xr.Dataset({"TC": covariates["TC"]}))
    with pytest.raises(ProductError, match="no pcstats variable"):
        to_long(ct[["cell_area"]])
    monthly = to_long(ct)
    assert monthly["weight"].iloc[0] == pytest.approx(float(pc.grid.cell_area(ct)[0, 0]))
