"""The SMAP L4C section of the reproduction (Fig. S14) recovers the sensitivity planted in the fixtures."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from pcstats.pipeline.context import Context
from pcstats.pipeline.smap import cell_sensitivity, smap

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("smap")
    return out, smap(Context(out, FIXTURES, ROOT / "models"))


def test_section_recovers_the_planted_nee_sensitivity(run):
    out, section = run
    truth = json.loads((FIXTURES / "products_rasters" / "truth_rasters.json").read_text())["smap"]["beta"]
    table = pd.read_csv(out / "tables" / "smap_sensitivity.csv")
    nee = table[table["variable"] == "NEE"]
    assert len(nee) == 4 and set(nee["region_class"]) == {"P", "NoP"} and set(nee["season"]) == {"EGS", "LGS"}
    for row in nee.itertuples():
        planted = truth[row.season][row.region_class]
        assert row.planted == pytest.approx(planted)
        assert row.conf_low <= planted <= row.conf_high, row
        assert row.std_error < 0.5  # hundreds of cells: a tight interval, not a vacuous one
    # the mask matters: managed cells (planted +25) pull the unmasked NoP means up
    lgs_nop = nee[(nee["season"] == "LGS") & (nee["region_class"] == "NoP")].iloc[0]
    assert lgs_nop.estimate_unmasked > lgs_nop.conf_high and lgs_nop.n_cells_unmasked > lgs_nop.n_cells


def test_section_writes_its_files_and_summary(run):
    out, section = run
    for path in section.written + section.figures:
        assert Path(path).is_file(), path
    assert {Path(p).name for p in section.figures} == {"smap_sensitivity.png", "smap_sensitivity.svg"}
    assert "planted" in section.summary and "recovered (95% CI)" in section.summary and "| LGS" in section.summary
    cells = pd.read_csv(out / "tables" / "smap_cell_sensitivity.csv")
    assert set(cells["region_class"].dropna()) == {"P", "NoP"} and not cells.loc[cells["igbp"] == 12, "natural"].any()
    assert section.messages == []


def test_section_without_inputs_is_skipped(tmp_path):
    (tmp_path / "fixtures" / "products_rasters").mkdir(parents=True)
    shutil.copy(FIXTURES / "products_rasters" / "permaice.shp", tmp_path / "fixtures" / "products_rasters")
    section = smap(Context(tmp_path / "out", tmp_path / "fixtures", ROOT / "models"))
    assert "Skipped: no SMAP L4C files" in section.summary and section.written == []
    assert section.messages and section.messages[0].startswith("smap: skipped")


def test_cell_sensitivity_matches_numpy_polyfit():
    rng = np.random.default_rng(3)
    x = xr.DataArray(rng.normal(size=(5, 7)), dims=("cell", "year"))
    y = 2.0 - 1.5 * x + xr.DataArray(rng.normal(0, 0.3, (5, 7)), dims=("cell", "year"))
    y[0, 2] = np.nan
    fit = cell_sensitivity(y, x)
    for k in range(5):
        ok = np.isfinite(y.values[k])
        slope = np.polyfit(x.values[k][ok], y.values[k][ok], 1)[0]
        assert float(fit["estimate"][k]) == pytest.approx(slope, rel=1e-10)
    assert fit["nobs"].values.tolist() == [6.0, 7.0, 7.0, 7.0, 7.0]
    short = cell_sensitivity(y.isel(year=slice(0, 2)), x.isel(year=slice(0, 2)))
    assert bool(short["estimate"].isnull().all())
