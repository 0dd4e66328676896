"""Region classes, the land mask and zonal means on grids agree with the table pipeline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import pcstats as pc
from pcstats.errors import ProductError
from pcstats.grid import cell_id, natural_mask, region_classes, regrid, to_long, zonal_mean

from .conftest import product


@pytest.fixture(scope="module")
def classes(covariates):
    tc, p = regrid(covariates["TC"]), regrid(covariates["P"])
    mat = regrid(covariates["AirT"]).mean("time")
    return region_classes(tc, p, mat), tc, p, mat


def test_classes_are_those_of_classify(classes):
    labels, tc, p, mat = classes
    frame = pd.DataFrame({"TC": tc.values.ravel(), "P": p.values.ravel(), "MAT": mat.values.ravel()}).dropna()
    expected = pc.classify(frame)
    for column in ("permafrost", "p_class", "tc_class", "p_tc_class", "tc_bin", "p_bin", "mat_bin"):
        got = pd.Series(labels[column].values.ravel()).iloc[frame.index]
        assert got.tolist() == expected[column].tolist(), column
    assert labels["permafrost"].isnull().sum() == 8  # the sea cells
    assert {"P", "NoP"} == set(labels["permafrost"].to_series().dropna())


def test_zonal_mean_equals_aggregate_on_the_long_table(ct, classes):
    labels = classes[0]
    for scheme in ("permafrost", "tc_bin"):
        grid_mean = zonal_mean(ct["NEE"], labels[scheme])
        cells = pd.Series(labels[scheme].values.ravel(), index=cell_id(*[a.ravel() for a in np.meshgrid(
            labels["lat"].values, labels["lon"].values, indexing="ij")])).dropna()
        table = pc.aggregate(to_long(ct), cells).set_index(["region", "year", "month"])["value"].sort_index()
        got = grid_mean.to_series()
        got.index = pd.MultiIndex.from_arrays([got.index.get_level_values(0), got.index.get_level_values(1).year,
                                               got.index.get_level_values(1).month], names=["region", "year", "month"])
        np.testing.assert_allclose(got.sort_index().values, table.values, rtol=1e-12)
        assert int(grid_mean["n_cells"].sum()) == len(cells)


def test_zonal_mean_membership_and_missing_cells():
    g = {"time": pd.date_range("2000-01-01", periods=2, freq="MS"), "lat": [60.5, 61.5], "lon": [0.5, 1.5]}
    field = xr.DataArray([[[1.0, 3.0], [np.nan, np.nan]], [[np.nan, 3.0], [np.nan, np.nan]]], dims=("time", "lat", "lon"),
                         coords=g, name="NEE", attrs={"units": "gC m-2 yr-1"})
    labels = xr.DataArray([["a", "a"], ["b", None]], dims=("lat", "lon"), coords={"lat": g["lat"], "lon": g["lon"]})
    with pytest.raises(ProductError, match="no cell has a label"):
        zonal_mean(field, labels, mask=labels.isnull())
    out = zonal_mean(field, labels)
    # region a: both cells are members; the second month misses one, so it is NaN; region b has no data: not a member
    assert out.sel(region="a").values[1] != out.sel(region="a").values[1]
    assert out["n_cells"].values.tolist() == [2, 0] and np.isnan(out.sel(region="b")).all()
    weighted = zonal_mean(field, labels, weights="coslat").sel(region="a").values[0]
    w = np.cos(np.deg2rad(60.5))
    assert weighted == pytest.approx((1.0 * w + 3.0 * w) / (2 * w))
    with pytest.raises(ProductError, match="weights='none'"):
        zonal_mean(field, labels, weights="none")


def test_zonal_mean_with_a_dask_label_map_gives_the_numpy_numbers(ct, classes):
    labels = classes[0]["tc_bin"]
    eager = zonal_mean(ct["NEE"], labels)
    chunks = {"lat": 4, "lon": 7}
    lazy = zonal_mean(ct["NEE"].chunk(chunks), labels.chunk(chunks))  # the names are found in the map (one pass)
    assert lazy.chunks is not None
    np.testing.assert_allclose(lazy.values, eager.values, rtol=1e-13, atol=1e-11, equal_nan=True)
    np.testing.assert_array_equal(lazy["n_cells"].values, eager["n_cells"].values)
    np.testing.assert_allclose(lazy["area"].values, eager["area"].values, rtol=1e-13)
    # regions= names them without looking at the map: in that order, and labels not listed are left out
    names = list(eager["region"].values[::-1][:3])
    listed = zonal_mean(ct["NEE"].chunk(chunks), labels.chunk({"lat": 3, "lon": 5}), regions=names)
    assert listed["region"].values.tolist() == names
    np.testing.assert_allclose(listed.values, eager.sel(region=names).values, rtol=1e-13, atol=1e-11, equal_nan=True)
    with pytest.raises(ProductError, match="each region once"):
        zonal_mean(ct["NEE"], labels, regions=["P", "P"])


def test_natural_mask_and_mask_in_zonal_means(ct, classes):
    cams = regrid(product("cams/cams73_v20r1_co2_flux_surface_mm_200001.nc"), like=ct)
    land = natural_mask(cams["land_fraction"])
    assert land.attrs == {"rule": "land fraction >= 0.5"}
    assert int((~land).sum()) == 4  # CAMS's one sea cell (1.875 x 3.75 degrees) leaves four 1-degree cells below 0.5
    managed = xr.zeros_like(cams["land_fraction"]) + np.where(ct["lat"].values[:, None] > 68, 0.5, 0.0)
    natural = natural_mask(cams["land_fraction"], managed)
    assert "managed" in natural.attrs["rule"] and int(natural.sum()) < int(land.sum())
    out = zonal_mean(ct["NEE"], classes[0]["permafrost"], mask=natural)
    assert int(out["n_cells"].sum()) == int((natural & classes[0]["permafrost"].notnull()).sum())
    with pytest.raises(ProductError, match="min_land=2"):
        natural_mask(cams["land_fraction"], min_land=2)


def test_label_grid_must_match(ct, covariates):
    labels = region_classes(covariates["TC"], covariates["P"])  # 0.5 degrees
    with pytest.raises(ProductError, match="does not match the label grid"):
        zonal_mean(ct["NEE"], labels["permafrost"])
    with pytest.raises(ProductError, match="must be a map"):
        region_classes(covariates["AirT"], covariates["AirT"])
