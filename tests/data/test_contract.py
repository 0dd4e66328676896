"""The long-table contract and every bad input it must name."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pcstats as pc
from pcstats.data.contract import key_columns

from ..conftest import long_table


def test_valid_table_gets_normalised_dtypes():
    t = pc.validate(long_table(year=[2000.0, 2001.0], value=["1.5", "2"]))
    assert t["year"].dtype == np.int64 and t["value"].dtype == np.float64
    assert key_columns(t) == ["source", "kind", "region", "year", "month", "variable"]


def test_missing_column_is_named():
    with pytest.raises(pc.ContractError, match="required column 'unit' is missing"):
        pc.validate(long_table().drop(columns="unit"))


def test_mistyped_column_gets_a_suggestion():
    with pytest.raises(pc.ContractError, match=r"required column 'region' is missing\. Did you mean 'regoin'\?"):
        pc.validate(long_table().rename(columns={"region": "regoin"}))


def test_unknown_extra_column_is_named():
    with pytest.raises(pc.ContractError, match="column 'flag' is not part of the contract"):
        pc.validate(long_table(flag="x"))


def test_month_and_season_together_are_refused():
    with pytest.raises(pc.ContractError, match="exactly one of the columns 'month'"):
        pc.validate(long_table(season="ANN"))


def test_duplicate_keys_name_rows_and_key():
    t = long_table(year=[2000, 2000, 2001])
    with pytest.raises(pc.ContractError, match=r"Duplicate keys: 2 rows .* rows 0, 1; first key: .*'year': 2000"):
        pc.validate(t)


def test_unknown_season_is_named_with_hint():
    t = long_table(season=["ANN", "SUMMER"], year=[2000, 2001]).drop(columns="month")
    with pytest.raises(pc.ContractError, match=r"Unknown season 'SUMMER' at row 1\. .*Pass seasons=\[\.\.\.\]"):
        pc.validate(t)
    assert len(pc.validate(t, seasons=["SUMMER"])) == 2


def test_unknown_variable_is_named_with_suggestion():
    with pytest.raises(pc.ContractError, match=r"Unknown variable 'nee' at row 0\. Did you mean 'NEE'\?"):
        pc.validate(long_table(variable="nee"))


def test_unknown_kind_is_named():
    with pytest.raises(pc.ContractError, match="Unknown kind 'model'"):
        pc.validate(long_table(kind="model"))


def test_non_numeric_value_names_rows():
    with pytest.raises(pc.ContractError, match=r"Column 'value' must be numeric; row 1 .*'-'.*missing values as empty"):
        pc.validate(long_table(value=["1.0", "-"], year=[2000, 2001]))


def test_nan_values_are_allowed_and_kept():
    t = pc.validate(long_table(value=[1.0, np.nan], year=[2000, 2001]))
    assert t["value"].isna().sum() == 1


def test_month_out_of_range_names_rows():
    with pytest.raises(pc.ContractError, match=r"'month' must be 1-12; row 1"):
        pc.validate(long_table(month=[1, 13]))


def test_fractional_year_is_refused():
    with pytest.raises(pc.ContractError, match=r"'year' must hold whole numbers \(at most 4 digits\); row 0 .*2000.5"):
        pc.validate(long_table(year=2000.5))


def test_mixed_units_within_one_variable_are_refused():
    t = long_table(unit=["gC m-2 d-1", "mol m-2 s-1"], month=[1, 2])
    with pytest.raises(pc.ContractError, match=r"Variable 'NEE' of source 'CAMS' mixes units .*convert_units"):
        pc.validate(t)


def test_empty_key_cell_names_rows():
    with pytest.raises(pc.ContractError, match=r"Column 'region' is empty at row 1"):
        pc.validate(long_table(region=["P", None], year=[2000, 2001]))


def test_positive_must_be_up_or_down():
    with pytest.raises(pc.ContractError, match="Unknown positive 'upward'"):
        pc.validate(long_table(positive="upward"))


def test_bad_latitude_is_named():
    with pytest.raises(pc.ContractError, match=r"'lat' must lie in \[-90, 90\]"):
        pc.validate(long_table(lat=95.0))


def test_validate_does_not_modify_input():
    t = long_table(year=[2000.0])
    before = t.copy()
    pc.validate(t)
    pd.testing.assert_frame_equal(t, before)


def test_infinite_values_are_refused():
    with pytest.raises(pc.ContractError, match=r"'value' holds infinite values at row 1"):
        pc.validate(long_table(value=[1.0, np.inf], year=[2000, 2001]))


@pytest.mark.parametrize("year", [np.inf, 1e30])
def test_implausible_years_are_refused(year):
    with pytest.raises(pc.ContractError, match="'year' must hold whole numbers"):
        pc.validate(long_table(year=year))
