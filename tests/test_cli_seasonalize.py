"""pcstats seasonalize: between `pcstats ingest` and `pcstats fit`."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd

import pcstats as pc
from pcstats.cli import main

from .conftest import ROOT


def _ingested(tmp_path):
    """`pcstats ingest` of one inversion of the product fixtures (CarbonTracker, 1 degree)."""
    folder = tmp_path / "products"
    folder.mkdir()
    shutil.copy(ROOT / "fixtures" / "products" / "CT2019B.flux1x1-monthly.nc", folder)
    assert main(["ingest", str(folder), "--out", str(tmp_path / "tables"), "--quiet"]) == 0
    return tmp_path / "tables"


def test_quiet_ingest_and_seasonalize_print_only_their_final_line(tmp_path, capsys):
    tables = _ingested(tmp_path)
    assert capsys.readouterr() == (f"wrote monthly.parquet and ingest_report.json to {tables}\n", "")
    assert main(["seasonalize", str(tables), "--out", str(tmp_path / "s"), "--quiet"]) == 0
    assert capsys.readouterr() == (f"wrote seasonal.parquet to {tmp_path / 's'}\n", "")


def test_ingest_then_seasonalize_then_fit(tmp_path, capsys):
    tables = _ingested(tmp_path)
    capsys.readouterr()
    assert main(["seasonalize", str(tables), "--out", str(tmp_path / "seasonal")]) == 0  # the folder ingest wrote
    printed = capsys.readouterr().out
    assert "monthly rows ->" in printed and printed.rstrip().endswith(f"wrote seasonal.parquet to {tmp_path / 'seasonal'}")
    monthly = pc.read_table(tables / "monthly.parquet")
    seasonal = pc.read_table(tmp_path / "seasonal" / "seasonal.parquet")
    assert set(seasonal["season"]) == {"EGS", "LGS", "WIN", "ANN"} and "month" not in seasonal.columns
    # one cell and year by hand: the ANN value is the mean daily rate of its 12 months x 365 (gC m-2 yr-1 in, kept)
    cell = monthly[monthly["variable"] == "NEE"].iloc[0]

    def rows(table):
        return table[(table["region"] == cell["region"]) & (table["year"] == cell["year"]) & (table["variable"] == "NEE")]

    months = rows(monthly)
    assert len(months) == 12 and set(months["unit"]) == {"gC m-2 yr-1"}
    ann = rows(seasonal).query("season == 'ANN'")
    np.testing.assert_allclose(ann["value"].to_numpy(), [months["value"].mean()], rtol=1e-9)
    assert main(["fit", "models/trend_seasonal.toml", "--data", str(tmp_path / "seasonal" / "seasonal.parquet"),
                 "--out", str(tmp_path / "fits")]) == 0
    tidy = pd.read_csv(tmp_path / "fits" / "trend_seasonal_tidy.csv")
    assert set(tidy["season"]) == {"EGS", "LGS", "WIN", "ANN"} and tidy["estimate"].notna().any()


def test_fit_of_a_monthly_table_says_to_seasonalize(tmp_path, capsys):
    tables = _ingested(tmp_path)
    capsys.readouterr()
    data = str(tables / "monthly.parquet")
    assert main(["fit", "models/trend_seasonal.toml", "--data", data, "--out", str(tmp_path / "fits")]) == 2
    err = capsys.readouterr().err
    assert "'season' is not a key column" in err and f"pcstats seasonalize {data} --out SEASONAL" in err
    assert not (tmp_path / "fits").exists() or not any((tmp_path / "fits").iterdir())


def test_seasonalize_options_match_the_function(tmp_path, capsys):
    monthly = pc.read_table(ROOT / "fixtures" / "inversions" / "inversions_monthly.parquet")
    small = monthly[monthly["year"].between(2000, 2003)].reset_index(drop=True)
    path = tmp_path / "monthly.csv"
    small.to_csv(path, index=False)
    assert main(["seasonalize", str(path), "--out", str(tmp_path / "s"), "--how", "total", "--winter", "spanning",
                 "--season", "GS=5,6,7,8,9,10", "--season", "WIN=11,12,1,2,3,4"]) == 0
    written = pc.read_table(tmp_path / "s" / "seasonal.csv", seasons=["GS"])  # a CSV in, a CSV out
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = pc.seasonalize(pc.read_table(path), {"GS": (5, 6, 7, 8, 9, 10), "WIN": (11, 12, 1, 2, 3, 4)},
                                  how="total", winter="spanning")
    assert set(written["season"]) == {"GS", "WIN"} and len(written) == len(expected)
    np.testing.assert_allclose(written["value"].to_numpy(), expected["value"].to_numpy(), rtol=1e-9)
    assert "gC m-2 season-1" in set(written["unit"])
    captured = capsys.readouterr()  # the spanning winter of the last year lacks its next January: said once
    assert captured.err.count("lack one or more months") == 1 and "fit them with --seasons GS" in captured.out
    spec = tmp_path / "gs.toml"
    spec.write_text('family = "trend"\nformula = "NEE ~ year"\nby = ["source", "region", "season"]\n')
    fit = ["fit", str(spec), "--data", str(tmp_path / "s" / "seasonal.csv"), "--out", str(tmp_path / "f")]
    assert main(fit) == 2 and "Unknown season 'GS'" in (err := capsys.readouterr().err) and "--seasons NAME" in err
    assert main([*fit, "--seasons", "GS"]) == 0


def test_seasonalize_refuses_a_seasonal_table_and_a_bad_season(tmp_path, capsys):
    assert main(["seasonalize", "tests/reference/trend_input.csv", "--out", str(tmp_path / "s")]) == 2
    assert "already" in capsys.readouterr().err
    assert main(["seasonalize", "x.csv", "--out", str(tmp_path / "s"), "--season", "GS=5,13"]) == 2
    assert "months 1-12" in capsys.readouterr().err
    assert main(["seasonalize", str(tmp_path), "--out", str(tmp_path / "s")]) == 2
    assert "without monthly.parquet" in capsys.readouterr().err
