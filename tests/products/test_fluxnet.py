"""FLUXNET2015 FULLSET daily reader: planted monthly values, QC filtering, partitions, and bad files."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from pcstats.errors import ProductError
from pcstats.products import read_fluxnet

from ..conftest import ROOT

TOWERS = ROOT / "fixtures" / "products" / "fluxnet"


@pytest.fixture(scope="module")
def truth() -> dict:
    return json.loads((ROOT / "fixtures" / "products" / "truth.json").read_text())["fluxnet"]


def read(name: str, **kw) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read_fluxnet(TOWERS / name, **kw)


@pytest.mark.parametrize("site", ["FI-Hyy", "RU-Cok", "US-Prr"])
def test_monthly_values_match_the_planted_reference(site, truth):
    info = truth[site]
    table = read(info["file"])
    assert set(table["site"]) == {site} and set(table["region"]) == {site} and set(table["kind"]) == {"eddy_covariance"}
    # PAR = 0.5 x SW_IN_F and SM = SWC_F_MDS_1 / 100 are planted too (SM where the site has SWC)
    assert set(info["monthly"]) == {"NEE", "GPP", "TER", "AirT", "PAR"} | ({"SM"} if info["has_swc"] else set())
    assert set(table["variable"]) == set(info["monthly"])
    for variable, months in info["monthly"].items():
        got = table[table["variable"] == variable].set_index(["year", "month"])["value"]
        assert len(got) == len(months)
        for key, value in months.items():
            v = got[(int(key[:4]), int(key[5:]))]
            if value is None:
                assert np.isnan(v), (variable, key)
            else:
                assert v == pytest.approx(value, rel=1e-9, abs=1e-9), (variable, key)


def test_units_signs_and_stated_conversions():
    table = read("FLX_FI-Hyy_FLUXNET2015_FULLSET_DD_2004-2007_1-4.csv")
    units = table.groupby("variable")["unit"].first().to_dict()
    assert units == {"AirT": "degC", "GPP": "gC m-2 yr-1", "NEE": "gC m-2 yr-1", "PAR": "W m-2", "SM": "m3 m-3",
                     "TER": "gC m-2 yr-1"}
    assert set(table.loc[table["variable"] == "NEE", "positive"]) == {"down"}
    july = table[(table["month"] == 7)].groupby("variable")["value"].mean()
    assert july["NEE"] > 0 and july["GPP"] > july["TER"]  # summer uptake
    report = table.attrs["pcstats"]
    assert report["qc_min"] == 0.8 and "0.5 x SW_IN_F" in report["par"]
    assert "GPP_NT_VUT_REF + GPP_DT_VUT_REF" in report["conversions"]["GPP"]


def test_qc_threshold_removes_and_reports_days():
    strict, loose = read("FLX_RU-Cok_FLUXNET2015_FULLSET_DD_2004-2006_1-4.csv"), read(
        "FLX_RU-Cok_FLUXNET2015_FULLSET_DD_2004-2006_1-4.csv", qc_min=0.0)
    removed = {(r["variable"], r["reason"]): r for r in strict.attrs["pcstats"]["removed"]}
    assert removed[("NEE", "NEE_VUT_REF_QC < 0.8")]["n_days"] > 50
    assert {(r["variable"], r["reason"]): r for r in loose.attrs["pcstats"]["removed"]}[("NEE", "NEE_VUT_REF_QC < 0.0")]["n_days"] == 0
    s = strict[strict["variable"] == "NEE"]["value"].to_numpy()
    lo = loose[loose["variable"] == "NEE"]["value"].to_numpy()
    assert not np.allclose(s, lo)


def test_whole_month_gap_is_missing_and_counted():
    table = read("FLX_FI-Hyy_FLUXNET2015_FULLSET_DD_2004-2007_1-4.csv")
    feb = table[(table["year"] == 2005) & (table["month"] == 2)].set_index("variable")["value"]
    assert np.isnan(feb["NEE"]) and np.isnan(feb["GPP"]) and np.isfinite(feb["AirT"])
    months = {r["variable"]: r["n_months"] for r in table.attrs["pcstats"]["removed"] if "n_months" in r}
    assert months["NEE"] >= 1


def test_site_without_soil_moisture_reports_it():
    with pytest.warns(UserWarning, match="removal"):
        table = read_fluxnet(TOWERS / "FLX_US-Prr_FLUXNET2015_FULLSET_DD_2005-2007_1-4.csv")
    assert "SM" not in set(table["variable"])
    assert any(r["variable"] == "SM" and "not in the file" in r["reason"] for r in table.attrs["pcstats"]["removed"])


def test_missing_required_column(tmp_path):
    src = TOWERS / "FLX_RU-Cok_FLUXNET2015_FULLSET_DD_2004-2006_1-4.csv"
    frame = pd.read_csv(src, dtype={"TIMESTAMP": str}).drop(columns=["GPP_DT_VUT_REF"])
    bad = tmp_path / src.name
    frame.to_csv(bad, index=False)
    with pytest.raises(ProductError, match=r"FLX_RU-Cok.*required column\(s\) GPP_DT_VUT_REF missing"):
        read_fluxnet(bad)


def test_bad_file_name_timestamps_and_arguments(tmp_path):
    src = TOWERS / "FLX_RU-Cok_FLUXNET2015_FULLSET_DD_2004-2006_1-4.csv"
    other = tmp_path / "towers.csv"
    other.write_text(src.read_text())
    with pytest.raises(ProductError, match="not a FLUXNET2015 FULLSET daily file name.*site="):
        read_fluxnet(other)
    with pytest.warns(UserWarning, match=r"read_fluxnet\(towers.csv\): \d+ removal"):
        assert set(read_fluxnet(other, site="RU-Cok")["site"]) == {"RU-Cok"}
    frame = pd.read_csv(src, dtype={"TIMESTAMP": str})
    frame.loc[3, "TIMESTAMP"] = "2004-01-04"
    frame.to_csv(tmp_path / src.name, index=False)
    with pytest.raises(ProductError, match=r"TIMESTAMP '2004-01-04' on line 5 is not a date YYYYMMDD"):
        read_fluxnet(tmp_path / src.name)
    with pytest.raises(ProductError, match=r"qc_min=1.5"):
        read_fluxnet(src, qc_min=1.5)
