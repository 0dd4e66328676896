"""Readers of the paper's sixth inversion (JAMSTEC), CTE with and without fire, LUE GPP, GIMMS NDVI3g and ESA CCI SM.

Every expected number comes from the seeded generator's planted truth (fixtures/products/truth.json).
"""

from __future__ import annotations

import json
import shutil
import warnings
from dataclasses import replace

import netCDF4
import numpy as np
import pytest

from pcstats.errors import ProductError
from pcstats.products import PRODUCTS, detect_product, read_product

from .conftest import ROOT

FIXTURES = ROOT / "fixtures" / "products"
JAMSTEC = sorted((FIXTURES / "jamstec").glob("co2.MACTM-r84.JAMSTEC.*.nc"))
LUE = FIXTURES / "gross_primary_productivity_monthly_2000-2003.nc4"
GIMMS = sorted((FIXTURES / "gimms").glob("ndvi3g_geo_v1_*.nc4"))
CCI = sorted((FIXTURES / "esacci_sm").glob("ESACCI-SOILMOISTURE-L3S-SSMV-COMBINED-*.nc"))
CTE = FIXTURES / "CTE2020_monthly.nc"


@pytest.fixture(scope="module")
def truth() -> dict:
    return json.loads((FIXTURES / "truth.json").read_text())


def quiet(*args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read_product(*args, **kw)


def at(ds, name, probe):
    return float(ds[name].sel(lat=probe["lat"], lon=probe["lon"], time=f"{probe['year']}-{probe['month']:02d}-01"))


def check(value, expected):
    if expected is None:
        assert np.isnan(value)
    else:  # float32 files
        assert value == pytest.approx(expected, rel=2e-7, abs=1e-6)


def copy_edited(tmp_path, sources, edit, which=0):
    """Copies of ``sources`` in tmp_path, the ``which``-th edited in place with netCDF4."""
    paths = []
    for src in sources:
        dst = tmp_path / src.name
        shutil.copy(src, dst)
        paths.append(dst)
    with netCDF4.Dataset(paths[which], "a") as nc:
        edit(nc)
    return paths


# --- JAMSTEC (MIROC4-ACTM) -------------------------------------------------------------------------------------------


def test_jamstec_yearly_files_read_to_planted_nee(truth):
    assert [detect_product(p).name for p in JAMSTEC] == ["JAMSTEC"] * 8
    ds = read_product(JAMSTEC)
    assert ds.attrs["source"] == "JAMSTEC" and ds.attrs["kind"] == "inversion" and ds.sizes["time"] == 96
    nee = ds["NEE"]
    assert nee.attrs["units"] == "gC m-2 yr-1" and nee.attrs["positive"] == "down" and nee.attrs["native_positive"] == "up"
    assert nee.attrs["native_units"] == "kg-CO2/m2/month"
    assert "12.011/44.0095" in nee.attrs["pcstats_conversion"] and "days in the month" in nee.attrs["pcstats_conversion"]
    probes = [p for p in truth["probes"] if p["source"] == "JAMSTEC"]
    assert len(probes) == 3
    for p in probes:
        check(at(ds, "NEE", p), p["value"])


def test_jamstec_wrong_units_and_missing_variable_are_named(tmp_path):
    paths = copy_edited(tmp_path, JAMSTEC, lambda nc: nc["flux_apos_land"].setncattr("units", "kg C m-2 s-1"))
    with pytest.raises(ProductError, match=r"flux_apos_land.*exceed"):
        read_product(paths[0])
    other = tmp_path / "b"
    other.mkdir()
    renamed = copy_edited(other, JAMSTEC[:1], lambda nc: nc.renameVariable("flux_apos_land", "land_flux"))
    with pytest.raises(ProductError, match=r"co2\.MACTM-r84\.JAMSTEC\.2000\.nc: none of JAMSTEC's variables "
                                           r"\(flux_apos_land\) is in the file.*land_flux"):
        read_product(renamed)


# --- CTE: NEE with and without fire ----------------------------------------------------------------------------------


def test_cte_nee_is_bio_plus_fire_by_default_and_without_fire_by_name(truth):
    with_fire, without = read_product(CTE), read_product(CTE, product="CTE-nofire")
    assert with_fire["NEE"].attrs["native_variables"] == "bio_flux_opt + fire_flux_imp"
    assert "-(bio_flux_opt + fire_flux_imp)" in with_fire["NEE"].attrs["pcstats_conversion"]
    assert without["NEE"].attrs["native_variables"] == "bio_flux_opt"
    assert without.attrs["product"] == "CTE-nofire" and with_fire.attrs["product"] == "CTE"
    assert without.attrs["source"] == with_fire.attrs["source"] == "CTE2020"
    probes = [p for p in truth["probes"] if p["source"] == "CTE2020"]
    for p, q in zip(probes, truth["cte"]["nofire_probes"]):
        check(at(with_fire, "NEE", p), p["value"])
        check(at(without, "NEE", q), q["value"])
    burning = [(p, q) for p, q in zip(probes, truth["cte"]["nofire_probes"]) if p["month"] in (7, 8) and p["lon"] > 0]
    assert len(burning) == 2
    for p, q in burning:  # fire is a release: NEE without it is the larger uptake, by the planted fire
        assert q["value"] - p["value"] == pytest.approx(truth["cte"]["fire_gc_m2_yr"], abs=1e-3)


def test_cte_file_without_fire_points_to_the_variant(tmp_path):
    path = copy_edited(tmp_path, [CTE], lambda nc: nc.renameVariable("fire_flux_imp", "fire_emissions"))[0]
    with pytest.raises(ProductError, match=r"CTE2020_monthly\.nc: none of CTE's variables could be made: NEE \(needs "
                                           r"bio_flux_opt \+ fire_flux_imp; fire_flux_imp not in the files; "
                                           r"product='CTE-nofire' makes it without them\)"):
        read_product(path)
    assert read_product(path, product="CTE-nofire")["NEE"].attrs["native_variables"] == "bio_flux_opt"


def test_cte_nofire_is_never_detected_and_the_long_table_records_the_definition():
    from pcstats.grid import to_long

    assert detect_product(CTE).name == "CTE"
    for name in ("CTE", "CTE-nofire"):
        table = to_long(read_product(CTE, product=name))
        conversion = table.attrs["pcstats"]["conversions"]["NEE"]
        assert ("fire_flux_imp" in conversion) == (name == "CTE")


# --- LUE GPP ---------------------------------------------------------------------------------------------------------


def test_lue_gpp_reads_planted_gpp_with_fill_decoded(truth):
    assert detect_product(LUE).name == "LUE-GPP"
    ds = read_product(LUE)
    gpp = ds["GPP"]
    assert gpp.attrs["units"] == "gC m-2 yr-1" and gpp.attrs["native_units"] == "g C m-2 d-1"
    assert "x 365 d yr-1" in gpp.attrs["pcstats_conversion"]
    assert list(ds["lat"].values) == sorted(ds["lat"].values)  # the file runs north to south
    assert float(gpp.min()) >= 0.0 and int(gpp.isnull().sum()) == 48 * 32  # 32 sea cells, 48 months: -9999 decoded
    probes = [p for p in truth["probes"] if p["source"] == "LUE"]
    assert len(probes) == 4 and any(p["value"] is None for p in probes)
    for p in probes:
        check(at(ds, "GPP", p), p["value"])


# --- GIMMS NDVI3g v1 -------------------------------------------------------------------------------------------------


def test_gimms_monthly_maximum_value_composite(truth):
    assert [detect_product(p).name for p in GIMMS] == ["GIMMS-NDVI3g"] * 2
    ds = read_product(GIMMS)
    assert ds.sizes["time"] == 12 and str(ds["time"].values[0])[:10] == "2001-01-01"
    ndvi = ds["NDVI"]
    assert ndvi.attrs["units"] == "1" and "x 0.0001" in ndvi.attrs["pcstats_conversion"]
    assert "maximum-value composite" in ds.attrs["time_steps"]
    assert float(ndvi.max()) <= 1.0 and float(ndvi.min()) >= -1.0
    assert "of the code -3000 read as missing" in ds.attrs["missing_values"]
    probes = truth["gimms"]["probes"]
    assert {p["count"] for p in probes} == {0, 1, 2}
    for p in probes:
        check(at(ds, "NDVI", p), p["max"])
        assert at(ds, "NDVI_count", p) == p["count"]


def test_gimms_variants_mean_and_good_flags_only(truth):
    mean = read_product(GIMMS, product=replace(PRODUCTS["GIMMS-NDVI3g"], to_month="mean"))
    good = read_product(GIMMS, product=replace(PRODUCTS["GIMMS-NDVI3g"], keep_flags=(0,)))
    assert "monthly mean" in mean.attrs["time_steps"] and "flagged other than [0]" in good.attrs["time_steps"]
    assert "left out by their quality flag" in good.attrs["missing_values"]
    for p in truth["gimms"]["probes"]:
        check(at(mean, "NDVI", p), p["mean"])
        check(at(good, "NDVI", p), p["max_flag0"])


def test_gimms_declared_scale_factor_is_not_applied_twice(tmp_path, truth):
    def declare(nc):
        nc["ndvi"].setncattr("scale_factor", np.float32(1e-4))

    paths = copy_edited(tmp_path, GIMMS, declare, which=0)
    with netCDF4.Dataset(paths[1], "a") as nc:
        declare(nc)
    ds = read_product(paths)
    assert "documented scale factor" not in ds["NDVI"].attrs["pcstats_conversion"]
    for p in truth["gimms"]["probes"]:
        if p["max"] is not None:
            assert at(ds, "NDVI", p) == pytest.approx(p["max"], abs=1e-6)


def test_gimms_incomplete_half_year_is_named(tmp_path):
    import xarray as xr

    short = tmp_path / GIMMS[0].name
    with xr.open_dataset(GIMMS[0], mask_and_scale=False, decode_times=False) as ds:
        ds.isel(time=slice(0, 11)).load().to_netcdf(short)
    with pytest.raises(ProductError, match=r"ndvi3g_geo_v1_2001_0106\.nc4: a GIMMS-NDVI3g file holds the 12 half-monthly"):
        read_product(short)


# --- ESA CCI SM ------------------------------------------------------------------------------------------------------


def test_cci_sm_monthly_mean_of_valid_days_with_counts(truth):
    assert {detect_product(p).name for p in CCI} == {"ESACCI-SM"}
    ds = read_product(CCI)
    assert ds.sizes["time"] == 2 and ds["SM"].attrs["units"] == "m3 m-3"
    assert ds["SM_count"].attrs["units"] == "1" and "days" in ds["SM_count"].attrs["long_name"]
    assert float(ds["SM"].min()) > 0.0 and float(ds["SM"].max()) < 1.0  # -9999 decoded as missing
    assert int(ds["SM_count"].sel(time="2010-07-01").max()) <= 4 and int(ds["SM_count"].sel(time="2010-08-01").max()) <= 3
    probes = truth["esacci_sm"]["probes"]
    assert any(p["count"] == 0 for p in probes) and any(p["count_all_flags"] > p["count"] for p in probes)
    for p in probes:
        check(at(ds, "SM", p), p["mean"])
        assert at(ds, "SM_count", p) == p["count"]
    every = read_product(CCI, product=replace(PRODUCTS["ESACCI-SM"], keep_flags=None))
    for p in probes:
        check(at(every, "SM", p), p["mean_all_flags"])
        assert at(every, "SM_count", p) == p["count_all_flags"]


def test_cci_sm_percent_units_are_converted(tmp_path, truth):
    def percent(nc):
        var = nc["sm"]
        var.set_auto_maskandscale(False)
        values = var[...]
        var[...] = np.where(values == -9999.0, values, values * 100.0)
        var.setncattr("units", "%")

    paths = copy_edited(tmp_path, CCI, percent, which=0)  # the first day in percent, the others in m3 m-3
    with pytest.raises(ProductError, match=r"disagree on the units of 'sm' \(ESACCI-SOILMOISTURE-L3S-SSMV-COMBINED-"
                                           r"20100701000000-fv04\.7\.nc '%', .*'m3 m-3'"):
        read_product(paths)
    for k in range(1, len(paths)):
        with netCDF4.Dataset(paths[k], "a") as nc:
            percent(nc)
    ds = read_product(paths)
    assert "/ 100" in ds["SM"].attrs["pcstats_conversion"]
    for p in truth["esacci_sm"]["probes"]:
        if p["mean"] is not None:
            assert at(ds, "SM", p) == pytest.approx(p["mean"], rel=1e-6)


# --- bad input: named file and variable ------------------------------------------------------------------------------


def test_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no file at .*ndvi3g_geo_v1_1999_0106\.nc4"):
        read_product([GIMMS[0], tmp_path / "ndvi3g_geo_v1_1999_0106.nc4"])


def test_wrong_variable_name_is_named(tmp_path):
    paths = copy_edited(tmp_path, CCI[:1], lambda nc: nc.renameVariable("sm", "soil_moisture"))
    with pytest.raises(ProductError, match=r"ESACCI-SOILMOISTURE-L3S-SSMV-COMBINED-20100701000000-fv04\.7\.nc: none of "
                                           r"ESACCI-SM's variables \(sm\) is in the file.*soil_moisture"):
        read_product(paths)
    gimms = copy_edited(tmp_path, GIMMS[:1], lambda nc: nc.renameVariable("ndvi", "NDVI3g"))
    with pytest.raises(ProductError, match=r"ndvi3g_geo_v1_2001_0106\.nc4: none of GIMMS-NDVI3g's variables \(ndvi\)"):
        read_product(gimms)


def test_all_fill_is_an_error_naming_file_and_variable(tmp_path):
    def all_fill(nc):
        nc["sm"].set_auto_maskandscale(False)
        nc["sm"][...] = np.full(nc["sm"].shape, -9999.0, dtype=np.float32)

    paths = copy_edited(tmp_path, CCI[:1], all_fill)
    with pytest.raises(ProductError, match=r"ESACCI-SOILMOISTURE-L3S-SSMV-COMBINED-20100701000000-fv04\.7\.nc: none of "
                                           r"ESACCI-SM's variables could be made: SM \(all 3200 values of sm are missing"):
        read_product(paths)

    def all_nodata(nc):
        nc["ndvi"].set_auto_maskandscale(False)
        nc["ndvi"][...] = np.full(nc["ndvi"].shape, -3000, dtype=np.int16)

    gimms = copy_edited(tmp_path, GIMMS[:1], all_nodata)
    with pytest.raises(ProductError, match=r"ndvi3g_geo_v1_2001_0106\.nc4: none of GIMMS-NDVI3g's variables could be "
                                           r"made: NDVI \(all .* values of ndvi are missing"):
        read_product(gimms)


def test_missing_quality_flag_is_named(tmp_path):
    import xarray as xr

    dst = tmp_path / CCI[0].name
    with xr.open_dataset(CCI[0], mask_and_scale=False, decode_times=False) as ds:
        ds.drop_vars("flag").load().to_netcdf(dst)
    with pytest.raises(ProductError, match=r"20100701000000-fv04\.7\.nc: the quality-flag variable 'flag' is not in the "
                                           r"files.*keep_flags=None"):
        read_product(dst)
    assert quiet(dst, product=replace(PRODUCTS["ESACCI-SM"], keep_flags=None))["SM"].notnull().any()


@pytest.mark.parametrize("files", [GIMMS, CCI], ids=["GIMMS", "CCI-SM"])
def test_lazy_read_gives_the_same_months(files):
    eager, lazy = read_product(files), read_product(files, chunks={"lat": 10})
    for name in eager.data_vars:
        assert lazy[name].chunks is not None
        np.testing.assert_allclose(lazy[name].values, eager[name].values, rtol=1e-12, equal_nan=True)
