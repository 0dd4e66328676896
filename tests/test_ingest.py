"""pcstats ingest: a folder of product files becomes long tables, with a report of what was skipped and why."""

from __future__ import annotations

import json
import shutil

import netCDF4
import pandas as pd
import pytest

import pcstats as pc
from pcstats.cli import main
from pcstats.ingest import ingest

from .conftest import ROOT

PRODUCTS = ROOT / "fixtures" / "products"


def test_ingest_folder_into_long_tables(tmp_path, capsys):
    src = tmp_path / "in"
    shutil.copytree(PRODUCTS, src)
    (src / "notes.txt").write_text("not data")
    (src / "stations.csv").write_text("a,b\n1,2\n")
    bad = src / "CTE2021_monthly.nc"  # a CTE file whose flux variable was renamed
    shutil.copy(PRODUCTS / "CTE2020_monthly.nc", bad)
    with netCDF4.Dataset(bad, "a") as nc:
        nc.renameVariable("bio_flux_opt", "nep")
    assert main(["ingest", str(src), "--out", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr()
    assert "wrote monthly.parquet, annual.parquet" in printed.out
    assert "CTE2021_monthly.nc: " in printed.err and "notes.txt: not a product file" in printed.err

    report = json.loads((tmp_path / "out" / "ingest_report.json").read_text())
    skipped = {s["file"]: s["reason"] for s in report["skipped"]}
    assert "none of CTE's variables (bio_flux_opt, biosphere_flux_optimized)" in skipped["CTE2021_monthly.nc"]
    assert skipped["stations.csv"] == "CSV that is not a FLUXNET2015 FULLSET daily file"
    assert set(skipped) == {"CTE2021_monthly.nc", "notes.txt", "stations.csv", "truth.json"}
    assert report["sources"]["CAMS"]["product"] == "CAMS" and len(report["sources"]["CAMS"]["files"]) == 24
    assert "days in the month" in report["sources"]["CAMS"]["variables"]["NEE"]
    assert report["sources"]["CLM5.0"]["cells_without_data"]["GPP"] == 8  # the sea, at 1 degree
    assert "block mean" in report["sources"]["CLM5.0"]["regrid"]
    assert set(report["sources"]["FLUXNET2015"]["sites"]) == {"FI-Hyy", "RU-Cok", "US-Prr"}

    monthly = pc.read_table(tmp_path / "out" / "monthly.parquet")
    annual = pc.read_table(tmp_path / "out" / "annual.parquet")
    assert set(monthly["source"]) == {"CT2019B", "CTE2020", "CAMS", "Jena_s85", "JAMSTEC", "LUE", "GIMMS-NDVI3g", "ESACCI-SM",
                                      "CLM5.0", "ORCHIDEE", "CRU", "FLUXNET2015"}
    assert set(annual["variable"]) == {"TC", "P", "MAT"}
    nee = monthly[(monthly["variable"] == "NEE") & (monthly["kind"] == "inversion")]
    assert set(nee["unit"]) == {"gC m-2 yr-1"} and set(nee["positive"]) == {"down"}
    # the ingested tables feed the table pipeline: classes from the annual table, regions from the monthly one
    cells = pc.classify(pc.cell_attributes(annual))
    regional = pc.aggregate(nee[nee["source"] == "CT2019B"], cells["permafrost"])
    assert set(regional["region"]) == {"P", "NoP"} and regional["value"].notna().all()
    assert isinstance(pd.read_parquet(tmp_path / "out" / "monthly.parquet"), pd.DataFrame)


def test_ingest_missing_folder(tmp_path, capsys):
    assert main(["ingest", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")]) == 2
    assert "no folder at" in capsys.readouterr().err


def _small_folder(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    for name in ("CT2019B.flux1x1-monthly.nc", "MOD44B.A2010.061.Percent_Tree_Cover.0p5deg.nc",
                 "ESACCI-PERMAFROST-L4-PFR-MODISLST_CRYOGRID-AREA4_PP-2010-fv03.0_latlon0p5.nc"):
        shutil.copy(PRODUCTS / name, src / name)
    return src


def test_a_failure_while_writing_leaves_no_output_of_the_run(tmp_path, monkeypatch):
    src, out = _small_folder(tmp_path), tmp_path / "out"
    out.mkdir()
    (out / "monthly.parquet").write_text("an earlier run")
    calls = []

    def to_parquet(self, path, **kw):  # monthly.parquet is written, then annual.parquet fails
        calls.append(path)
        if len(calls) == 2:
            raise OSError("disk full")
        return real(self, path, **kw)

    real = pd.DataFrame.to_parquet
    monkeypatch.setattr(pd.DataFrame, "to_parquet", to_parquet)
    with pytest.raises(OSError, match="disk full"):
        ingest(src, out)
    assert [p.name for p in calls] == ["monthly.parquet", "annual.parquet"]
    assert [p.name for p in out.iterdir()] == ["monthly.parquet"]  # nothing new, no temporary folder
    assert (out / "monthly.parquet").read_text() == "an earlier run"


def test_outputs_of_an_earlier_run_that_this_run_does_not_write_are_deleted(tmp_path):
    src, out = _small_folder(tmp_path), tmp_path / "out"
    report = ingest(src, out)
    assert sorted(p.name for p in out.iterdir()) == ["annual.parquet", "ingest_report.json", "monthly.parquet"]
    assert report["written"] == ["monthly.parquet", "annual.parquet"]
    for name in ("MOD44B.A2010.061.Percent_Tree_Cover.0p5deg.nc",
                 "ESACCI-PERMAFROST-L4-PFR-MODISLST_CRYOGRID-AREA4_PP-2010-fv03.0_latlon0p5.nc"):
        (src / name).unlink()
    (out / "notes.txt").write_text("not ours")
    report = ingest(src, out)
    assert report["written"] == ["monthly.parquet"]
    assert sorted(p.name for p in out.iterdir()) == ["ingest_report.json", "monthly.parquet", "notes.txt"]
