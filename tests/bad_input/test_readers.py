"""Bad product files: named errors or counted, reported drops, never silent numbers (issue 18, part 3)."""

from __future__ import annotations

import json
import shutil
import warnings

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


def cte_with(tmp_path, edit) -> "Path":  # noqa: F821
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
