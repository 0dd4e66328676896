"""Bad product files: named errors or counted, reported drops, never silent numbers (issue 18, part 3)."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from pcstats.errors import ProductError
from pcstats.ingest import ingest
from pcstats.products import read_fluxnet, read_product

from ..conftest import ROOT

PRODUCTS = ROOT / "fixtures" / "products"
FLUXNET = PRODUCTS / "fluxnet" / "FLX_FI-Hyy_FLUXNET2015_FULLSET_DD_2004-2007_1-4.csv"
CTE = PRODUCTS / "CTE2020_monthly.nc"


def cte_with(tmp_path, edit) -> Path:
    ds = xr.open_dataset(CTE, decode_times=False).load()
    edit(ds)
    for v in ds.variables:
        ds[v].encoding.pop("_FillValue", None)
        ds[v].attrs.pop("_FillValue", None)
    path = tmp_path / CTE.name
    ds.to_netcdf(path, encoding={v: {"_FillValue": None} for v in ds.variables})
    return path


def plant_fill(ds, n=7, value=1e36):
    values = ds["bio_flux_opt"].values.copy()
    values.flat[:n] = value
    ds["bio_flux_opt"].values = values


def test_undeclared_fill_values_are_missing_counted_and_warned(tmp_path):
    path = cte_with(tmp_path, plant_fill)
    with pytest.warns(UserWarning, match=r"'bio_flux_opt': 7 value\(s\) beyond 1e30 read as missing"):
        out = read_product(path)
    assert "bio_flux_opt: 7 undeclared fill value(s)" in out.attrs["missing_values"]
    assert out.attrs["undeclared_fill"] == 7
    assert "NEE: 7 of" in out.attrs["missing_values"]
    assert float(np.nanmax(np.abs(out["NEE"]))) < 1e6  # no -3.8e44 after conversion


def test_negative_undeclared_fill_values_too(tmp_path):
    path = cte_with(tmp_path, lambda ds: plant_fill(ds, 3, -9.96921e36))
    with pytest.warns(UserWarning, match="3 value"):
        out = read_product(path)
    assert int(out["NEE"].isnull().sum()) == 3


def test_a_file_without_fill_values_reads_as_before(tmp_path):
    path = cte_with(tmp_path, lambda ds: None)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        out = read_product(path)
    ref = read_product(CTE)
    np.testing.assert_allclose(out["NEE"].values, ref["NEE"].values, rtol=1e-12, equal_nan=True)


def test_undeclared_fill_values_reach_the_ingest_report(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(cte_with(tmp_path, plant_fill), folder / CTE.name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = ingest(folder, tmp_path / "out")
    assert "7 undeclared fill value(s)" in json.dumps(report["sources"])
    assert report["sources"]["CTE2020"]["undeclared_fill"] == 7
    assert "7 values beyond 1e30" in report["sources"]["CTE2020"]["undeclared_fill_note"]
    assert "treated as missing" in report["sources"]["CTE2020"]["undeclared_fill_note"]
    assert json.loads((tmp_path / "out" / "ingest_report.json").read_text())["sources"] == report["sources"]


def test_header_only_fluxnet_file(tmp_path):
    path = tmp_path / FLUXNET.name
    path.write_text(FLUXNET.read_text().splitlines()[0] + "\n")
    with pytest.raises(ProductError, match=rf"{path.name}: the file has its header but no rows"):
        read_fluxnet(path)


def test_empty_fluxnet_file(tmp_path):
    path = tmp_path / FLUXNET.name
    path.write_bytes(b"")
    with pytest.raises(ProductError, match=r"the file is empty \(0 bytes\)"):
        read_fluxnet(path)


def test_fluxnet_file_that_is_not_text(tmp_path):
    path = tmp_path / FLUXNET.name
    path.write_bytes(b"TIMESTAMP,NEE\xff\xfe\n\x00\x01")
    with pytest.raises(ProductError, match="not a readable CSV"):
        read_fluxnet(path)


def test_header_only_file_is_a_counted_drop_in_ingest(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(FLUXNET.parent / "FLX_US-Prr_FLUXNET2015_FULLSET_DD_2005-2007_1-4.csv", folder)
    (folder / FLUXNET.name).write_text(FLUXNET.read_text().splitlines()[0] + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = ingest(folder, tmp_path / "out")
    skipped = {item["file"]: item["reason"] for item in report["skipped"]}
    assert "header but no rows" in skipped[FLUXNET.name]
    assert report["n_skipped"] == len(report["skipped"]) == 1
    assert report["written"]  # the other site was written


def test_fluxnet_without_its_timestamp_column(tmp_path):
    lines = FLUXNET.read_text().splitlines()
    path = tmp_path / FLUXNET.name
    path.write_text("\n".join([lines[0].replace("TIMESTAMP", "TIME_STAMP"), *lines[1:5]]) + "\n")
    with pytest.raises(ProductError, match=r"required column\(s\) TIMESTAMP missing"):
        read_fluxnet(path)


def test_truncated_netcdf_file(tmp_path):
    path = tmp_path / CTE.name
    path.write_bytes(CTE.read_bytes()[:2000])
    with pytest.raises(ProductError, match=rf"{path.name}.*cannot be opened as NetCDF"):
        read_product(path)


# --- fill values: declared differently, NaN-only, all fill ---------------------------------------------------------


def test_declared_fill_value_that_differs_from_the_stored_one(tmp_path):
    ds = xr.open_dataset(CTE, decode_times=False).load()
    plant_fill(ds, 5, 1e36)  # stored 1e36, declared -999
    path = tmp_path / CTE.name
    ds.to_netcdf(path, encoding={"bio_flux_opt": {"_FillValue": -999.0}})
    with pytest.warns(UserWarning, match=r"CTE2020_monthly.nc, variable 'bio_flux_opt': 5 value"):
        out = read_product(path)
    assert out.attrs["undeclared_fill"] == 5
    assert int(out["NEE"].isnull().sum()) == 5


def test_declared_fill_value_and_missing_value_both_mask(tmp_path):
    ds = xr.open_dataset(CTE, decode_times=False).load()
    plant_fill(ds, 4, -999.0)
    ds["bio_flux_opt"].attrs["missing_value"] = -999.0
    path = tmp_path / CTE.name
    ds.to_netcdf(path, encoding={"bio_flux_opt": {"_FillValue": 1e36}})
    with pytest.warns(xr.SerializationWarning, match="multiple fill values"):
        out = read_product(path)
    assert out.attrs["undeclared_fill"] == 0
    assert "NEE: 4 of 16800 values missing" in out.attrs["missing_values"]


def test_nan_only_variable_is_an_error_naming_file_and_variable(tmp_path):
    path = cte_with(tmp_path, lambda ds: ds["bio_flux_opt"].values.fill(np.nan))
    with pytest.raises(ProductError, match=r"CTE2020_monthly.nc: none of CTE's variables could be made: NEE \(all 16800 "
                                           r"values of bio_flux_opt are missing.*ncdump -v bio_flux_opt"):
        read_product(path)


def test_all_fill_variable_is_counted_then_an_error(tmp_path):
    path = cte_with(tmp_path, lambda ds: plant_fill(ds, ds["bio_flux_opt"].size, 1e36))
    with pytest.warns(UserWarning, match="16800 value"), pytest.raises(ProductError, match=r"all 16800 values of "
                                                                          r"bio_flux_opt are missing"):
        read_product(path)


def test_one_all_missing_variable_of_a_model_is_a_counted_drop(tmp_path):
    for v in ("gpp", "ra", "rh"):
        shutil.copy(PRODUCTS / "trendy" / f"CLM5.0_S3_{v}.nc", tmp_path)
    ds = xr.open_dataset(PRODUCTS / "trendy" / "CLM5.0_S3_nbp.nc", decode_times=False).load()
    ds["nbp"].values.fill(np.nan)
    ds.to_netcdf(tmp_path / "CLM5.0_S3_nbp.nc")
    files = sorted(tmp_path.glob("CLM5.0_S3_*.nc"))
    with pytest.warns(UserWarning, match=r"not made: NBP \(all 57600 values of nbp are missing"):
        out = read_product(files)
    assert "NBP" not in out and {"GPP", "RA", "RH", "TER"} <= set(out.data_vars)
    assert "NBP (all 57600 values of nbp are missing" in out.attrs["not_made"]


# --- coordinates --------------------------------------------------------------------------------------------------


def test_time_dimension_without_coordinate_variable(tmp_path):
    path = cte_with(tmp_path, lambda ds: None)
    ds = xr.open_dataset(path, decode_times=False).load().drop_vars("date")
    other = tmp_path / "b" / CTE.name
    other.parent.mkdir()
    ds.to_netcdf(other)
    with pytest.raises(ProductError, match=r"CTE2020_monthly.nc: dimension 'date' has no coordinate variable, so its "
                                           r"dates are unknown. Add a 'date' variable with CF units"):
        read_product(other)


def test_longitude_dimension_without_coordinate_variable(tmp_path):
    ds = xr.open_dataset(CTE, decode_times=False).load().drop_vars("longitude")
    path = tmp_path / CTE.name
    ds.to_netcdf(path)
    with pytest.raises(ProductError, match=r"CTE2020_monthly.nc: dimension 'longitude' has no coordinate variable, so "
                                           r"the cells' longitudes are unknown. Add a 'longitude' variable"):
        read_product(path)


def test_no_latitude_dimension(tmp_path):
    ds = xr.open_dataset(CTE, decode_times=False).load().rename(latitude="y")
    path = tmp_path / CTE.name
    ds.to_netcdf(path)
    with pytest.raises(ProductError, match=r"CTE2020_monthly.nc: no lat dimension.*ncrename -d old,lat"):
        read_product(path)


def test_time_units_that_cannot_be_parsed(tmp_path):
    ds = xr.open_dataset(CTE, decode_times=False).load()
    ds["date"].attrs["units"] = "days since the start"
    path = tmp_path / CTE.name
    ds.to_netcdf(path)
    with pytest.raises(ProductError, match=r"CTE2020_monthly.nc, variable 'date': time units 'days since the start' "
                                           r"cannot be decoded.*'days since 2000-01-01 00:00:00'"):
        read_product(path)


def test_time_steps_out_of_order_are_sorted(tmp_path):
    ds = xr.open_dataset(CTE, decode_times=False).load().isel(date=[5, 0, 3, 1, 4, 2])
    path = tmp_path / CTE.name
    ds.to_netcdf(path)
    out = read_product(path)
    ref = read_product(CTE).isel(time=slice(0, 6))
    assert (np.diff(out["time"].values) > np.timedelta64(0)).all()
    np.testing.assert_allclose(out["NEE"].values, ref["NEE"].values, rtol=1e-12)


def test_longitudes_0_to_360_read_as_minus_180_to_180(tmp_path):
    ds = xr.open_dataset(CTE, decode_times=False).load()
    ds = ds.assign_coords(longitude=(ds["longitude"] % 360.0).values)
    assert float(ds["longitude"].max()) > 180
    path = tmp_path / CTE.name
    ds.to_netcdf(path)
    out, ref = read_product(path), read_product(CTE)
    assert float(out["lon"].min()) >= -180 and float(out["lon"].max()) < 180
    np.testing.assert_allclose(out["lon"].values, ref["lon"].values, atol=1e-9)
    np.testing.assert_allclose(out["NEE"].values, ref["NEE"].values, rtol=1e-12)


@pytest.mark.parametrize(("coord", "shift", "words"), [
    ("longitude", 720.0, r"longitudes run from 7\d\d.* must lie in \[-180, 360\] degrees east"),
    ("latitude", 100.0, r"latitudes run from 1\d\d.* must lie in \[-90, 90\] degrees north"),
])
def test_coordinates_out_of_range(tmp_path, coord, shift, words):
    ds = xr.open_dataset(CTE, decode_times=False).load()
    ds = ds.assign_coords({coord: (ds[coord] + shift).values})
    path = tmp_path / CTE.name
    ds.to_netcdf(path)
    with pytest.raises(ProductError, match=rf"CTE2020_monthly.nc, variable '{coord}': {words}.*reprojected"):
        read_product(path)


def test_missing_latitude_value(tmp_path):
    ds = xr.open_dataset(CTE, decode_times=False).load()
    lat = ds["latitude"].values.copy()
    lat[3] = np.nan
    ds = ds.assign_coords(latitude=lat)
    path = tmp_path / CTE.name
    ds.to_netcdf(path)
    with pytest.raises(ProductError, match=r"variable 'latitude': 1 missing or non-finite latitude"):
        read_product(path)


@pytest.mark.parametrize("dim", ["date", "latitude"])
def test_zero_size_dimension(tmp_path, dim):
    ds = xr.open_dataset(CTE, decode_times=False).load().isel({dim: slice(0, 0)})
    path = tmp_path / CTE.name
    ds.to_netcdf(path, encoding={v: {"_FillValue": None} for v in ds.variables})  # netCDF4 refuses a fill on 0 values
    renamed = {"date": "date", "latitude": "lat"}[dim]
    with pytest.raises(ProductError, match=rf"CTE2020_monthly.nc, variable 'bio_flux_opt': dimension '{renamed}' has "
                                           r"size 0.*download or write it again"):
        read_product(path)


# --- units and physically impossible values ---------------------------------------------------------------------


def test_wrong_units_attribute_is_an_error_and_units_fixes_it(tmp_path):
    ds = xr.open_dataset(CTE, decode_times=False).load()
    ds["bio_flux_opt"].attrs["units"] = "gC m-2 d-1"  # a unit pcstats knows, but not the data's
    path = tmp_path / CTE.name
    ds.to_netcdf(path)
    with pytest.raises(ProductError, match=r"CTE2020_monthly.nc, variable 'bio_flux_opt' \[gC m-2 d-1\]: the largest "
                                           r"\|NEE\| is .* units=\{'bio_flux_opt'"):
        read_product(path)
    out = read_product(path, units={"bio_flux_opt": "mol m-2 s-1"})
    np.testing.assert_allclose(out["NEE"].values, read_product(CTE)["NEE"].values, rtol=1e-12)


def test_kelvin_labelled_as_celsius(tmp_path):
    cru = PRODUCTS / "cru_ts4.04.1901.2019.tmp.dat.nc"
    ds = xr.open_dataset(cru, decode_times=False).load()
    ds["tmp"] = ds["tmp"] + 273.15
    path = tmp_path / cru.name
    ds.to_netcdf(path)
    with pytest.raises(ProductError, match=r"cru_ts4.04.1901.2019.tmp.dat.nc, variable 'tmp' \[degrees Celsius\]: "
                                           r"73728 of 76800 values of AirT lie outside \[-100, 100\] degC"):
        read_product(path)


def test_undeclared_missing_code_below_1e30_is_an_error(tmp_path):
    path = cte_with(tmp_path, lambda ds: plant_fill(ds, 3, -99999.0))
    with pytest.raises(ProductError, match=r"'bio_flux_opt' \[mol m-2 s-1\]: 3 of 16800 values of NEE exceed 100000 "
                                           r"gC m-2 yr-1.*ncatted -a _FillValue,bio_flux_opt"):
        read_product(path)


# --- damaged files ------------------------------------------------------------------------------------------------


def test_corrupt_data_block(tmp_path):
    h5py = pytest.importorskip("h5py")
    with h5py.File(CTE, "r") as f:
        info = f["bio_flux_opt"].id.get_chunk_info(0)
    raw = bytearray(CTE.read_bytes())
    raw[info.byte_offset:info.byte_offset + info.size] = bytes(range(256)) * (info.size // 256) + bytes(info.size % 256)
    path = tmp_path / CTE.name
    path.write_bytes(bytes(raw))
    with pytest.raises(ProductError, match=r"CTE2020_monthly.nc: the data of .*bio_flux_opt.* cannot be read .*download "
                                           r"it again"):
        read_product(path)


def test_damaged_file_under_an_unknown_name(tmp_path):
    path = tmp_path / "fluxes.nc"
    path.write_bytes(CTE.read_bytes()[:3000])
    with pytest.raises(ProductError, match=r"fluxes.nc: cannot be opened as NetCDF.*download it again"):
        read_product(path)


# --- FLUXNET ------------------------------------------------------------------------------------------------------


def fluxnet_rows(tmp_path, cell) -> Path:
    """The fixture's header and first 60 days with every value but TIMESTAMP replaced by ``cell``."""
    lines = FLUXNET.read_text().splitlines()
    n = len(lines[0].split(","))
    rows = [",".join([line.split(",")[0], *[cell] * (n - 1)]) for line in lines[1:61]]
    path = tmp_path / FLUXNET.name
    path.write_text("\n".join([lines[0], *rows]) + "\n")
    return path


@pytest.mark.parametrize("cell", ["-9999", "NaN", ""])
def test_fluxnet_with_only_missing_values(tmp_path, cell):
    path = fluxnet_rows(tmp_path, cell)
    with pytest.raises(ProductError, match=rf"{path.name}: every value of .*NEE_VUT_REF.* in its 60 rows is -9999 or "
                                           r"empty \(missing\); the file holds no data"):
        read_fluxnet(path)


def test_fluxnet_text_in_a_number_column(tmp_path):
    lines = FLUXNET.read_text().splitlines()
    column = lines[0].split(",").index("TA_F")
    row = lines[8].split(",")
    row[column] = "12.5.1"  # pandas reads NA spellings (n/a, NULL) as missing; this is text
    path = tmp_path / FLUXNET.name
    path.write_text("\n".join([*lines[:8], ",".join(row), *lines[9:]]) + "\n")
    with pytest.raises(ProductError, match=rf"{path.name}: column TA_F holds '12.5.1' on line 9, which is not a number"):
        read_fluxnet(path)


def test_fluxnet_where_no_month_survives_the_quality_rules(tmp_path):
    lines = FLUXNET.read_text().splitlines()
    header = lines[0].split(",")
    qc = [i for i, c in enumerate(header) if c.endswith("_QC")]
    rows = []
    for line in lines[1:]:
        cells = line.split(",")
        for i in qc:
            cells[i] = "0.1"
        rows.append(",".join(cells))
    path = tmp_path / FLUXNET.name
    path.write_text("\n".join([lines[0], *rows]) + "\n")
    with pytest.raises(ProductError, match=r"no monthly value is left after the quality rules \(qc_min=0.8.*NEE: \d+ "
                                           r"days \(NEE_VUT_REF_QC < 0.8\).*Lower qc_min"):
        read_fluxnet(path)


def test_fluxnet_valid_file_reads_as_before(tmp_path):
    path = tmp_path / FLUXNET.name
    path.write_bytes(FLUXNET.read_bytes())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out, ref = read_fluxnet(path), read_fluxnet(FLUXNET)
    assert len(out) == len(ref)
    np.testing.assert_allclose(out["value"].to_numpy(), ref["value"].to_numpy(), rtol=1e-12, equal_nan=True)


# --- ingest: bad files are counted, reported drops ----------------------------------------------------------------


def test_ingest_lists_every_bad_file_as_skipped_with_its_reason(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(FLUXNET.parent / "FLX_US-Prr_FLUXNET2015_FULLSET_DD_2005-2007_1-4.csv", folder)
    shutil.copy(fluxnet_rows(tmp_path, "-9999"), folder / FLUXNET.name)
    (folder / "CT2019B.flux1x1-monthly.nc").write_bytes((PRODUCTS / "CT2019B.flux1x1-monthly.nc").read_bytes()[:4000])
    shutil.copy(cte_with(tmp_path, lambda ds: ds["bio_flux_opt"].values.fill(np.nan)), folder / CTE.name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = ingest(folder, tmp_path / "out")
    skipped = {item["file"]: item["reason"] for item in report["skipped"]}
    assert report["n_skipped"] == 3
    assert "every value of" in skipped[FLUXNET.name] and FLUXNET.name in skipped[FLUXNET.name]
    assert "cannot be opened as NetCDF" in skipped["CT2019B.flux1x1-monthly.nc"]
    assert "all 16800 values of bio_flux_opt are missing" in skipped[CTE.name]
    assert list(report["sources"]) == ["FLUXNET2015"] and list(report["sources"]["FLUXNET2015"]["sites"]) == ["US-Prr"]
    on_disk = json.loads((tmp_path / "out" / "ingest_report.json").read_text())
    assert on_disk["n_skipped"] == 3 and on_disk["skipped"] == report["skipped"]


def test_undeclared_fill_values_are_masked_in_lazy_reads_too(tmp_path):
    path = cte_with(tmp_path, plant_fill)
    out = read_product(path, chunks={"lat": 5})
    assert out["NEE"].chunks is not None
    assert "bio_flux_opt: values beyond 1e30 read as missing (not counted: lazy read)" in out.attrs["missing_values"]
    assert "undeclared_fill" not in out.attrs
    assert int(out["NEE"].isnull().sum()) == 7
    assert float(np.abs(out["NEE"]).max()) < 1e6
