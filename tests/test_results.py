from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import pcstats as pc
from pcstats.results import GLANCE_COLUMNS, TIDY_COLUMNS


@pytest.fixture(scope="module")
def res(trend_input):
    return pc.fit(pc.TrendSpec("NEE ~ year", by=("source", "region", "season")), trend_input)


def test_columns_follow_broom(res):
    assert list(res.tidy().columns) == ["model", "source", "region", "season", *TIDY_COLUMNS]
    glance = res.glance()
    assert list(glance.columns[:4]) == ["model", "source", "region", "season"]
    assert set(GLANCE_COLUMNS) | {"n_dropped", "dropped_why"} <= set(glance.columns)
    assert list(res.augment().columns) == ["source", "region", "season", "year", "NEE", "fitted", "resid"]
    assert len(glance) == 56 and len(res.tidy()) == 112


def test_results_are_immutable(res):
    before = (res.tidy().loc[0, "estimate"], res.glance().loc[0, "r_squared"], res.augment().loc[0, "fitted"])
    for frame, col in ((res.tidy(), "estimate"), (res.glance(), "r_squared"), (res.augment(), "fitted")):
        frame.loc[0, col] = 1e9
    assert (res.tidy().loc[0, "estimate"], res.glance().loc[0, "r_squared"], res.augment().loc[0, "fitted"]) == before
    assert not hasattr(res, "coefficients")  # the tables are read through tidy()/glance() only
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.engine = "other"
    with pytest.raises(pc.PcstatsError, match="needs a list of Results"):
        pc.compare(["a"])


def test_provenance_and_spec_are_carried(res, trend_input):
    prov = res.provenance.as_dict()
    assert len(prov["data_hash"]) == 64 and prov["seed"] is None
    assert {"numpy", "pandas", "pcstats", "python"} <= set(prov["versions"])
    again = pc.fit(res.spec, trend_input)
    assert again.provenance.data_hash == res.provenance.data_hash
    assert res.spec.formula == "NEE ~ year" and res.engine == "closed_form" and res.engine_version
    assert "56 of 56 groups fitted" in repr(res)
    assert res.units == {"NEE": "gC m-2 yr-1"} and res.subset(region="P").units == res.units


def test_numbers_stay_numbers(res):
    for col in ("estimate", "std_error", "p_value"):
        assert pd.api.types.is_float_dtype(res.tidy()[col])


def test_subset(res):
    p = res.subset(region="P", season="ANN")
    assert set(p.tidy()["region"]) == {"P"} and len(p.glance()) == 7 and set(p.augment()["season"]) == {"ANN"}
    with pytest.raises(pc.PcstatsError, match="'site' is not one of the by keys"):
        res.subset(site="x")


def test_compare_lines_models_up(res, trend_input):
    with pytest.warns(UserWarning, match="HAC treats the 1 missing year"):
        hac = pc.fit(res.spec.replace(cov_type="HAC"), trend_input)
    wide = pc.compare([res, hac])
    assert wide.columns.get_level_values(0).unique().tolist() == ["NEE ~ year", "NEE ~ year [HAC(auto)]"]
    row = wide.loc[("CAMS", "P", "ANN", "fixed", "year")]
    assert row[("NEE ~ year", "estimate")] == pytest.approx(row[("NEE ~ year [HAC(auto)]", "estimate")], rel=1e-12)
    assert row[("NEE ~ year", "std_error")] != row[("NEE ~ year [HAC(auto)]", "std_error")]
    same = pc.compare([res, res])
    assert same.columns.get_level_values(0).unique().tolist() == ["NEE ~ year", "NEE ~ year (2)"]
    g = pc.compare([res, hac], part="glance")
    assert ("NEE ~ year", "r_squared") in g.columns


def test_compare_mixes_different_by_keys(res, trend_input):
    annual = pc.fit(pc.load_spec("models/trend_annual.toml"), trend_input)
    wide = pc.compare([res, annual], stats=("estimate",))
    assert wide.index.names == ["source", "region", "season", "component", "term"]
    assert np.isnan(wide.loc[("CAMS", "P", "ANN", "fixed", "year"), ("Annual NEE trend (OLS)", "estimate")])
    with pytest.raises(pc.PcstatsError, match="no model has column"):
        pc.compare([res], stats=("bogus",))
