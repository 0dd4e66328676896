"""Gridded product readers: each fixture read back to its planted values, and each bad input named."""

from __future__ import annotations

import json
import shutil
import warnings

import netCDF4
import numpy as np
import pandas as pd
import pytest

from pcstats.errors import ProductError
from pcstats.products import detect_product, read_product

from ..conftest import ROOT

PRODUCTS = ROOT / "fixtures" / "products"
FILES = {
    "CT2019B": ["CT2019B.flux1x1-monthly.nc"],
    "CTE2020": ["CTE2020_monthly.nc"],
    "CAMS": sorted(p.relative_to(PRODUCTS).as_posix() for p in (PRODUCTS / "cams").glob("*.nc")),
    "Jena_s85": ["s85oc_v2022_monthly.nc"],
    "CLM5.0": [f"trendy/CLM5.0_S3_{v}.nc" for v in ("nbp", "gpp", "ra", "rh")],
    "ORCHIDEE": [f"trendy/ORCHIDEE_S3_{v}.nc" for v in ("nbp", "gpp", "ra", "rh")],
    "CRU": ["cru_ts4.04.1901.2019.tmp.dat.nc"],
    "MODIS-VCF": ["MOD44B.A2010.061.Percent_Tree_Cover.0p5deg.nc"],
    "Obu2019": ["ESACCI-PERMAFROST-L4-PFR-MODISLST_CRYOGRID-AREA4_PP-2010-fv03.0_latlon0p5.nc"],
}


@pytest.fixture(scope="module")
def truth() -> dict:
    return json.loads((PRODUCTS / "truth.json").read_text())


def read(source: str, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read_product([PRODUCTS / f for f in FILES[source]], **kw)


@pytest.mark.parametrize("source", list(FILES))
def test_reader_returns_the_planted_values_in_pcstats_units(source, truth):
    ds = read(source)
    assert ds.attrs["source"] == source
    probes = [p for p in truth["probes"] if p["source"] == source]
    assert probes
    for p in probes:
        value = ds[p["variable"]].sel(lat=p["lat"], lon=p["lon"])
        if "year" in p:
            value = value.sel(time=f"{p['year']}-{p['month']:02d}-01")
        if p["value"] is None:
            assert np.isnan(float(value)), p
        else:  # the files are float32
            assert float(value) == pytest.approx(p["value"], rel=2e-7, abs=1e-5), p


@pytest.mark.parametrize("source", list(FILES))
def test_canonical_layout_and_recorded_conversion(source):
    ds = read(source)
    assert list(ds["lat"].values) == sorted(ds["lat"].values) and list(ds["lon"].values) == sorted(ds["lon"].values)
    assert ds["lon"].min() >= -180 and ds["lon"].max() < 180
    for name in [v for v in ds.data_vars if v not in ("cell_area", "land_fraction")]:
        attrs = ds[name].attrs
        assert attrs["pcstats_conversion"].startswith(f"{name} = ")
        assert attrs["native_units"] and attrs["native_variables"]
        assert ds[name].dtype == np.float64
        if name in ("NEE", "NBP", "GPP", "TER", "RA", "RH"):
            assert attrs["units"] == "gC m-2 yr-1"
        if name in ("NEE", "NBP"):
            assert attrs["positive"] == "down"
    for name in ds.data_vars:  # a variable taken out of the Dataset still says where it came from
        attrs = ds[name].attrs
        assert attrs["source"] == source and attrs["files"] and set(attrs["files"].split(", ")) <= set(ds.attrs["files"].split(", "))
        assert attrs.get("native_calendar") == (ds.attrs["calendar"] if "time" in ds[name].dims else None)
    assert "missing_values" in ds.attrs and "layout_documented" in ds.attrs


def test_signs_and_units_of_each_product():
    conv = {s: read(s) for s in ("CT2019B", "CAMS", "Jena_s85", "CLM5.0")}
    assert conv["CT2019B"]["NEE"].attrs["native_variables"] == "bio_flux_opt + fire_flux_imp"
    assert "-(bio_flux_opt + fire_flux_imp)" in conv["CT2019B"]["NEE"].attrs["pcstats_conversion"]
    assert "days in the month" in conv["CAMS"]["NEE"].attrs["pcstats_conversion"]
    assert "cell area" in conv["Jena_s85"]["NEE"].attrs["pcstats_conversion"]
    assert conv["CLM5.0"]["NBP"].attrs["native_positive"] == "down"  # nbp is already uptake positive
    assert conv["CLM5.0"]["TER"].attrs["native_variables"] == "ra + rh"
    clm = conv["CLM5.0"]
    np.testing.assert_allclose(clm["TER"], clm["RA"] + clm["RH"])
    july = conv["CT2019B"]["NEE"].sel(time="2003-07-01").mean()
    assert float(july) > 0  # summer uptake is positive once the sign is flipped


def test_time_axes_calendars_and_file_name_months():
    clm, orchidee, cams = read("CLM5.0"), read("ORCHIDEE"), read("CAMS")
    assert clm.attrs["calendar"] == "noleap"  # days since 1700-01-01 on a 365-day calendar
    assert orchidee.attrs["calendar"] == "standard"  # time_counter in 'months since'
    for ds, first, n in ((clm, "2000-01-01", 72), (orchidee, "2000-01-01", 72), (cams, "2000-01-01", 24)):
        time = pd.DatetimeIndex(ds["time"].values)
        assert str(time[0].date()) == first and len(time) == n and (time.day == 1).all()
    assert cams.attrs["time_steps"].startswith("monthly (month from the file name)")
    assert "land_fraction" in cams and "cell_area" in cams
    assert clm["TER"].attrs["files"] == "CLM5.0_S3_ra.nc, CLM5.0_S3_rh.nc" and clm["GPP"].attrs["native_calendar"] == "noleap"


def test_missing_values_are_masked_and_counted():
    orchidee, clm, vcf = read("ORCHIDEE"), read("CLM5.0"), read("MODIS-VCF")
    assert "code -99999 read as missing" in orchidee.attrs["missing_values"]  # undeclared code in the layout
    assert int(orchidee["GPP"].isnull().sum()) == 6 * 12 * 8  # 8 sea cells, every month
    assert int(clm["GPP"].isnull().sum()) == 72 * 32  # _FillValue 1e20
    assert "code 200 read as missing" in vcf.attrs["missing_values"]  # MOD44B's water
    assert float(read("CRU")["AirT"].max()) < 100  # 9.96921e36 fill is masked


def test_chunks_give_lazy_arrays_with_the_same_values():
    lazy = read("CT2019B", chunks={"lat": 3})
    assert lazy["NEE"].chunks is not None
    np.testing.assert_array_equal(lazy["NEE"].values, read("CT2019B")["NEE"].values)


def test_detection_by_file_name_and_by_variables(tmp_path):
    assert detect_product(PRODUCTS / "s85oc_v2022_monthly.nc").name == "JenaCarboScope"
    copy = tmp_path / "renamed.nc"
    shutil.copy(PRODUCTS / "s85oc_v2022_monthly.nc", copy)
    assert detect_product(copy).name == "JenaCarboScope"  # co2flux_land is Jena's alone
    ct = tmp_path / "fluxes.nc"
    shutil.copy(PRODUCTS / "CT2019B.flux1x1-monthly.nc", ct)
    with pytest.raises(ProductError, match="several products .*CT2019B.*CTE.*pass product="):
        read_product(ct)
    assert read_product(ct, product="CT2019B").attrs["source"] == "CT2019B"


# --- bad input: each error names the file and the variable ---------------------------------------------------------

def edited(tmp_path, name: str, edit) -> str:
    path = tmp_path / name
    shutil.copy(PRODUCTS / name, path)
    with netCDF4.Dataset(path, "a") as nc:
        edit(nc)
    return path


def test_unknown_variable_names(tmp_path):
    path = edited(tmp_path, "s85oc_v2022_monthly.nc", lambda nc: nc.renameVariable("co2flux_land", "landflux"))
    with pytest.raises(ProductError, match=r"s85oc_v2022_monthly\.nc: none of JenaCarboScope's variables \(co2flux_land\) "
                                           r"is in the file, which has .*landflux"):
        read_product(path)
    other = tmp_path / "mystery.nc"
    shutil.copy(path, other)
    with netCDF4.Dataset(other, "a") as nc:
        nc.renameVariable("co2flux_ocean", "oceanflux")
        nc.renameVariable("co2flux_subt", "subt")
    with pytest.raises(ProductError, match=r"mystery\.nc: no variable of a known product.*landflux.*ncrename"):
        read_product(other)


def test_missing_units_attribute(tmp_path):
    path = edited(tmp_path, "CT2019B.flux1x1-monthly.nc", lambda nc: nc["fire_flux_imp"].delncattr("units"))
    with pytest.raises(ProductError, match=r"CT2019B\.flux1x1-monthly\.nc, variable 'fire_flux_imp': no 'units' attribute.*"
                                           r"units=\{'fire_flux_imp': 'mol m-2 s-1'\}"):
        read_product(path)
    ds = read_product(path, units={"fire_flux_imp": "mol m-2 s-1"})
    assert "units given by the caller" in ds["NEE"].attrs["pcstats_conversion"]


def test_unknown_units_string(tmp_path):
    path = edited(tmp_path, "CT2019B.flux1x1-monthly.nc", lambda nc: nc["bio_flux_opt"].setncattr("units", "furlongs"))
    with pytest.raises(ProductError, match=r"variable 'bio_flux_opt': units 'furlongs' are not a unit pcstats converts"):
        read_product(path)


def test_calendar_not_understood(tmp_path):
    path = edited(tmp_path, "CTE2020_monthly.nc", lambda nc: nc["date"].setncattr("calendar", "martian"))
    with pytest.raises(ProductError, match=r"CTE2020_monthly\.nc, variable 'date': calendar 'martian' is not understood"):
        read_product(path)
    undated = edited(tmp_path, "CTE2020_monthly.nc", lambda nc: nc["date"].setncattr("calendar", "none"))
    with pytest.raises(ProductError, match=r"calendar 'none' is not understood"):  # CF's calendar without dates
        read_product(undated)
    broken = edited(tmp_path, "CT2019B.flux1x1-monthly.nc", lambda nc: nc["time"].setncattr("units", "fortnights after lunch"))
    with pytest.raises(ProductError, match=r"variable 'time': time units 'fortnights after lunch' cannot be decoded"):
        read_product(broken)


def test_months_in_two_files_and_bad_cams_file_names(tmp_path):
    a = PRODUCTS / FILES["CAMS"][0]
    shutil.copy(a, tmp_path / a.name)
    with pytest.raises(ProductError, match="Months appear in more than one file"):
        read_product([a, tmp_path / a.name])
    renamed = tmp_path / "cams_january.nc"
    shutil.copy(a, renamed)
    with pytest.raises(ProductError, match=r"cams_january\.nc: CAMS files give their month in the file name"):
        read_product(renamed, product="CAMS")


def test_a_product_variable_missing_from_a_sum_is_named(tmp_path):
    path = edited(tmp_path, "CT2019B.flux1x1-monthly.nc", lambda nc: nc.renameVariable("fire_flux_imp", "fire"))
    with pytest.raises(ProductError, match=r"none of CT2019B's variables could be made: NEE \(needs bio_flux_opt \+ "
                                           r"fire_flux_imp; fire_flux_imp not in the files\)"):
        read_product(path)
