"""ensemble_grid gives ensemble()'s numbers: mean, SD and count over the sources available."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import pcstats as pc
from pcstats.errors import ProductError
from pcstats.grid import ensemble_grid, regrid, seasonalize_grid, to_long

from .conftest import product


@pytest.fixture(scope="module")
def members(ct):
    cte = product("CTE2020_monthly.nc")
    jena = regrid(product("s85oc_v2022_monthly.nc"), like=ct)
    return {"CT2019B": ct, "CTE2020": cte, "Jena_s85": jena}


def test_same_numbers_as_the_table_ensemble(members):
    seasonal = {k: seasonalize_grid(v["NEE"]) for k, v in members.items()}
    grid = ensemble_grid(seasonal)
    assert grid["ensemble_n"].sel(year=2000).max() == 2 and grid["ensemble_n"].sel(year=2005).min() == 3  # CTE from 2001
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = pd.concat([pc.seasonalize(to_long(v.assign_attrs(source=k))) for k, v in members.items()])
    table = pc.ensemble(table.dropna(subset=["value"])).set_index(["season", "year", "region"])
    for name, column in (("NEE", "value"), ("ensemble_sd", "ensemble_sd"), ("ensemble_n", "ensemble_n")):
        got = grid[name].stack(cell=("lat", "lon")).to_series()
        got.index = pd.MultiIndex.from_arrays([got.index.get_level_values("season"), got.index.get_level_values("year"),
                                               pc.grid.cell_id(got.index.get_level_values("lat"), got.index.get_level_values("lon"))])
        got = got.reindex(table.index)
        np.testing.assert_allclose(got.values.astype(float), table[column].values, rtol=1e-12, equal_nan=True)
    assert grid.attrs["members"] == "CT2019B, CTE2020, Jena_s85"


def test_members_must_share_grid_and_units(members, ct):
    with pytest.raises(ProductError, match="does not match"):
        ensemble_grid({"CT2019B": ct["NEE"], "Jena": product("s85oc_v2022_monthly.nc")["NEE"]})
    with pytest.raises(ProductError, match="disagree on units"):
        ensemble_grid({"a": ct["NEE"], "b": ct["NEE"].assign_attrs(units="gC m-2 d-1")})
    with pytest.raises(ProductError, match="no members"):
        ensemble_grid({})
