from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pcstats as pc
from pcstats.data.regions import bin_labels, permafrost_class, permafrost_region, tree_cover_class

from ..conftest import long_table


def test_class_boundaries():
    assert permafrost_class([100, 90.01, 90, 10, 9.99, 0]).tolist() == ["ConP", "ConP", "DisconP", "DisconP", "NoP", "NoP"]
    assert permafrost_region([10, 9.99]).tolist() == ["P", "NoP"]
    assert tree_cover_class([29.9, 30, 50, 50.1]).tolist() == ["TC<30", "TC30-50", "TC30-50", "TC>50"]
    assert permafrost_class([np.nan]).tolist() == [None]


def test_bins():
    assert bin_labels([0, 4.99, 5, 99.9, 100], "P", 5, 0, 100).tolist() == ["P[0,5)", "P[0,5)", "P[5,10)", "P[95,100]", "P[95,100]"]
    assert bin_labels([-0.5, 0.5, -12.0], "MAT", 1).tolist() == ["MAT[-1,0)", "MAT[0,1)", "MAT[-12,-11)"]
    with pytest.raises(pc.ContractError, match="must lie in"):
        bin_labels([101], "TC", 5, 0, 100)


def test_classify_fixture_cells():
    annual = pc.read_table("fixtures/covariates/covariates_annual.parquet")
    cells = pc.classify(pc.cell_attributes(annual))
    assert len(cells) == 100
    assert set(cells["permafrost"]) == {"P", "NoP"}
    assert (cells["p_class"] == "ConP").sum() == 20 and (cells["p_class"] == "DisconP").sum() == 30
    assert cells["tc_bin"].str.match(r"TC\[\d+,\d+\)").all()


def test_aggregate_is_area_weighted_and_strict_about_nan():
    t = long_table(region=["a", "b", "a", "b"], month=[1, 1, 2, 2], value=[1.0, 3.0, 1.0, np.nan],
                   weight=[1.0, 3.0, 1.0, 3.0], positive="down")
    out = pc.aggregate(t, {"a": "R", "b": "R"}).set_index("month")
    assert out.loc[1, "value"] == pytest.approx((1 * 1 + 3 * 3) / 4)
    assert np.isnan(out.loc[2, "value"])  # one cell missing: no silent change of composition
    assert out.loc[1, "weight"] == 4.0


def test_aggregate_weights_and_errors():
    t = long_table(region=["a", "b"], value=[1.0, 3.0], lat=[0.0, 60.0])
    coslat = pc.aggregate(t, {"a": "R", "b": "R"}, weight="coslat")["value"].iloc[0]
    assert coslat == pytest.approx((1 + 3 * 0.5) / 1.5)
    assert pc.aggregate(t, {"a": "R", "b": "R"}, weight=None)["value"].iloc[0] == 2.0
    with pytest.raises(pc.ContractError, match="has no 'weight' column"):
        pc.aggregate(t, {"a": "R"})
    with pytest.raises(pc.ContractError, match="no region of the table is in `groups`"):
        pc.aggregate(t, {"zz": "R"}, weight=None)


def test_cell_attributes_names_missing_variables():
    with pytest.raises(pc.ContractError, match=r"no rows of variable\(s\) \['TC'\]"):
        pc.cell_attributes(long_table(variable="P"), variables=("TC", "P"))


def test_aggregate_gives_nan_when_a_cell_has_no_row():
    t = long_table(region=["a", "b", "a"], month=[1, 1, 2], value=[1.0, 3.0, 1.0], weight=1.0)
    out = pc.aggregate(t, {"a": "R", "b": "R"}).set_index("month")["value"]
    assert out[1] == 2.0 and np.isnan(out[2])


@pytest.mark.parametrize("bad", [np.nan, 0.0, -1.0])
def test_aggregate_refuses_bad_weights(bad):
    t = long_table(region=["a", "b"], value=[1.0, 3.0], weight=[1.0, bad])
    with pytest.raises(pc.ContractError, match=r"weights must be positive and finite; cells \['b'\]"):
        pc.aggregate(t, {"a": "R", "b": "R"})


def test_classify_warns_about_fractions():
    with pytest.warns(UserWarning, match="must be percent"):
        pc.classify(pd.DataFrame({"TC": [0.2, 0.6], "P": [0.0, 0.95]}))
