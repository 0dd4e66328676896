"""Conservative regridding: block averages by hand, coarse sources, coverage, and grid mismatches."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from pcstats.errors import ProductError
from pcstats.grid import cell_area, check_same_grid, regrid, target_grid

from .conftest import product


def block_mean(field: xr.DataArray, k: int, min_coverage: float = 0.5) -> np.ndarray:
    """Area-weighted k x k block means written out by hand, with the same coverage rule."""
    a = cell_area(field).values
    v = field.values.astype(float)
    ok = np.isfinite(v)
    ny, nx = v.shape[0] // k, v.shape[1] // k
    shape = (ny, k, nx, k)
    num = np.where(ok, v * a, 0).reshape(shape).sum((1, 3))
    den = np.where(ok, a, 0).reshape(shape).sum((1, 3))
    return np.where(den / a.reshape(shape).sum((1, 3)) >= min_coverage, num / np.where(den > 0, den, 1), np.nan)


def test_fine_grid_becomes_the_area_weighted_block_mean(covariates):
    tc = covariates["TC"]
    out = regrid(tc)
    assert dict(out.sizes) == {"lat": 10, "lon": 20}
    np.testing.assert_allclose(out.values, block_mean(tc, 2), rtol=1e-12, equal_nan=True)
    strict = regrid(tc, min_coverage=1.0)
    np.testing.assert_allclose(strict.values, block_mean(tc, 2, 1.0), rtol=1e-12, equal_nan=True)
    assert int(strict.isnull().sum()) >= int(out.isnull().sum())
    assert "area has data" in out.attrs["regrid"] and out.attrs["regrid"].startswith("area-weighted block mean")


def test_monthly_fields_regrid_every_month_and_keep_attributes(covariates):
    airt = covariates["AirT"]
    out = regrid(airt)
    assert out.dims == ("time", "lat", "lon") and out.attrs["units"] == "degC"
    np.testing.assert_allclose(out.isel(time=7).values, block_mean(airt.isel(time=7), 2), rtol=1e-12, equal_nan=True)


def test_coarse_grids_spread_over_the_target_cells_they_cover():
    cams = product(*[f"cams/cams73_v20r1_co2_flux_surface_mm_2000{m:02d}.nc" for m in (1, 7)])
    target = regrid(product("MOD44B.A2010.061.Percent_Tree_Cover.0p5deg.nc"))
    out = regrid(cams, like=target)
    check_same_grid(out, target)
    assert int(out["NEE"].isnull().sum()) == 0  # edge cells are covered too (NaN border)
    # a 1 degree cell inside one CAMS cell (1.875 x 3.75 degrees) takes that cell's value
    inside = out["NEE"].sel(lat=66.5, lon=2.5).values
    np.testing.assert_allclose(inside, cams["NEE"].sel(lat=66.5, lon=2.5, method="nearest").values, rtol=1e-12)
    # a 1 degree cell across a CAMS edge (61.875 N) mixes the two cells by their spherical overlap areas
    v1 = cams["NEE"].sel(lat=60.9375, lon=1.875).values
    v2 = cams["NEE"].sel(lat=62.8125, lon=1.875).values
    s = np.sin(np.deg2rad([61.0, 61.875, 62.0]))
    w1, w2 = s[1] - s[0], s[2] - s[1]
    exact = (w1 * v1 + w2 * v2) / (w1 + w2)
    got = out["NEE"].sel(lat=61.5, lon=1.5).values
    np.testing.assert_allclose(got, exact, rtol=1e-12)


def test_already_on_the_grid_is_left_alone(ct):
    out = regrid(ct)
    assert out["NEE"] is not None and out.attrs["regrid"].startswith("none")
    np.testing.assert_array_equal(out["NEE"].values, ct["NEE"].values)


def test_target_grid_snaps_to_multiples_of_the_resolution():
    g = xr.Dataset(coords={"lat": np.arange(60.25, 62, 0.5), "lon": np.arange(-0.75, 1.0, 0.5)})
    t = target_grid(g)
    assert t["lat"].values.tolist() == [60.5, 61.5] and t["lon"].values.tolist() == [-0.5, 0.5]
    with pytest.raises(ProductError, match="positive number of degrees"):
        target_grid(g, 0)


def test_grid_that_does_not_match_the_covariate_grid(ct, covariates):
    with pytest.raises(ProductError, match=r"The grid of NEE, cell_area \(CT2019B, file CT2019B\.flux1x1-monthly\.nc\): "
                                           r"10 x 20 cells.*does not match the covariate grid of TC \(MODIS-VCF, file "
                                           r"MOD44B.*\.nc\): 20 x 40 cells.*regrid\(field, like=covariates\)"):
        check_same_grid(ct, covariates["TC"])
    irregular = xr.DataArray(np.zeros((3, 2)), dims=("lat", "lon"), coords={"lat": [60.5, 61.5, 63.5], "lon": [0.5, 1.5]})
    with pytest.raises(ProductError, match="lat is not regularly spaced"):
        regrid(irregular)


def test_block_and_overlap_paths_give_the_same_numbers(covariates):
    from pcstats.grid.regrid import _overlap

    airt = covariates["AirT"].astype(float)
    block = regrid(airt)
    overlap = _overlap(airt, target_grid(airt), 0.5)
    np.testing.assert_allclose(overlap.transpose(*block.dims).values, block.values, rtol=1e-12, atol=1e-12, equal_nan=True)


def test_grid_mismatch_names_the_variable_and_the_file_of_read_product_output(ct, covariates):
    from pcstats.grid import region_classes, zonal_mean

    tc, p = covariates["TC"], covariates["P"]  # 0.5 degrees; CT2019B is on 1 degree
    ct_file, tc_file = "CT2019B.flux1x1-monthly.nc", "MOD44B.A2010.061.Percent_Tree_Cover.0p5deg.nc"
    p_file = "ESACCI-PERMAFROST-L4-PFR-MODISLST_CRYOGRID-AREA4_PP-2010-fv03.0_latlon0p5.nc"
    with pytest.raises(ProductError) as err:
        check_same_grid(ct["NEE"], tc)
    assert f"The grid of NEE (CT2019B, file {ct_file}): 10 x 20" in str(err.value)
    assert f"covariate grid of TC (MODIS-VCF, file {tc_file}): 20 x 40" in str(err.value)
    with pytest.raises(ProductError) as err:
        zonal_mean(ct["NEE"], region_classes(tc, p)["permafrost"])
    assert f"NEE (CT2019B, file {ct_file})" in str(err.value)
    assert f"permafrost (files {tc_file}, {p_file})" in str(err.value)
    with pytest.raises(ProductError) as err:
        region_classes(regrid(tc), p)
    assert f"P (Obu2019, file {p_file})" in str(err.value) and f"TC (MODIS-VCF, file {tc_file})" in str(err.value)


def test_dask_chunks_that_split_blocks_give_the_numpy_numbers(covariates):
    tc = covariates["TC"]
    eager = regrid(tc)
    for chunks in ({"lat": 5, "lon": 7}, {"lat": 3}):  # 0.5 -> 1 degree: blocks of 2 x 2 cut by the chunks
        lazy = regrid(tc.chunk(chunks))
        assert lazy.chunks is not None and lazy.dims == eager.dims
        np.testing.assert_allclose(lazy.values, eager.values, rtol=1e-14, equal_nan=True)
