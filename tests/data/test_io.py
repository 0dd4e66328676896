from __future__ import annotations

import pandas as pd
import pytest

import pcstats as pc

from ..conftest import long_table


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_round_trip(tmp_path, suffix):
    t = pc.validate(long_table(year=[2000, 2001], value=[1.25, float("nan")], lat=65.5))
    path = pc.write_table(t, tmp_path / f"t{suffix}")
    back = pc.read_table(path)
    pd.testing.assert_frame_equal(back, t)


def test_csv_errors_name_file_lines(tmp_path):
    path = tmp_path / "bad.csv"
    long_table(year=[2000, 2001, 2002], value=["1", "2", "n/a?"]).to_csv(path, index=False)
    with pytest.raises(pc.ContractError, match=r"in .*bad\.csv must be numeric; row 2 \(file lines 4\)"):
        pc.read_table(path)


def test_extra_missing_value_codes(tmp_path):
    path = tmp_path / "codes.csv"
    long_table(year=[2000, 2001], value=["1", "-9999"]).to_csv(path, index=False)
    assert pc.read_table(path, na_values=["-9999"])["value"].isna().sum() == 1


def test_missing_file_and_wrong_suffix(tmp_path):
    with pytest.raises(FileNotFoundError, match="no file at"):
        pc.read_table(tmp_path / "nope.csv")
    with pytest.raises(pc.ContractError, match="unknown file type '.xlsx'"):
        pc.read_table(tmp_path / "t.xlsx")


def test_fixture_tables_follow_the_contract():
    nee = pc.read_table("fixtures/inversions/inversions_monthly.parquet")
    assert set(nee["source"]) == {"CAMS", "Jena_s76", "Jena_s85", "JAMSTEC", "CT2019B", "CTE2020"}
    coverage = nee.groupby("source")["year"].agg(["min", "max"])
    assert tuple(coverage.loc["CAMS"]) == (1979, 2019) and tuple(coverage.loc["Jena_s76"]) == (1976, 2017)
    assert tuple(coverage.loc["JAMSTEC"]) == (1996, 2017) and tuple(coverage.loc["CTE2020"]) == (2000, 2019)
    assert nee["value"].isna().sum() == 3


def test_csv_text_columns_stay_text(tmp_path):
    path = tmp_path / "names.csv"
    long_table(region=["NA", "001"], year=[2000, 2001], site=["", "US-Prr"]).to_csv(path, index=False)
    t = pc.read_table(path)
    assert t["region"].tolist() == ["NA", "001"]
    assert pd.isna(t["site"].iloc[0]) and t["site"].iloc[1] == "US-Prr"
