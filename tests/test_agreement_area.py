"""sign_agreement's area shares on hand-checkable cells.

Three cells judged by three sources with threshold 3: c1 all positive, c2 all negative, c3 split (no
agreement); c4 has only two finite slopes (too few: out of both denominators). Areas 1, 2, 3 (and 4 for
c4), so the area shares are 1/6 positive, 2/6 negative, 3/6 agree, against 1/3, 1/3, 2/3 of the cells.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import pcstats as pc
from pcstats.errors import PcstatsError
from pcstats.robustness import sign_agreement

SOURCES = ["A", "B", "C"]
SIGNS = {"c1": [1, 1, 1], "c2": [-1, -1, -1], "c3": [1, 1, -1], "c4": [1, 1, 0]}
AREA = {"c1": 1.0, "c2": 2.0, "c3": 3.0, "c4": 4.0}
LAT = {"c1": 0.0, "c2": 60.0, "c3": 60.0, "c4": 60.0}  # cos: 1, 0.5, 0.5
YEARS = np.arange(2000, 2008)


def _table(weight: bool = True, lat: bool = False) -> pd.DataFrame:
    rows = []
    wiggle = 0.01 * (-1.0) ** np.arange(YEARS.size)
    for cell, signs in SIGNS.items():
        for source, sign in zip(SOURCES, signs):
            years = YEARS[:2] if sign == 0 else YEARS  # two years: no slope
            for y, w in zip(years, wiggle):
                row = dict(source=source, kind="inversion", region=cell, year=int(y), season="ANN", variable="NEE",
                           value=float(sign * (y - 2000) + w), unit="gC m-2 yr-1")
                if weight:
                    row["weight"] = AREA[cell]
                if lat:
                    row["lat"] = LAT[cell]
                rows.append(row)
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def fits() -> pc.Results:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # c4's source C cannot be fitted
        return pc.fit(pc.TrendSpec("NEE ~ year", by=("source", "region", "season")), _table())


def _by_term(res: pc.Results, **keys) -> pd.DataFrame:
    tidy = res.tidy()
    for k, v in keys.items():
        tidy = tidy[tidy[k] == v]
    return tidy.set_index("term")[["count", "estimate", "area_share"]]


def test_weight_gives_area_shares_beside_counts(fits):
    res = sign_agreement(fits, over="source", threshold=3, areas=_table())
    t = _by_term(res)
    assert t["count"].to_dict() == {"share_agree": 2, "share_positive": 1, "share_negative": 1}
    assert t["estimate"].to_dict() == pytest.approx({"share_agree": 2 / 3, "share_positive": 1 / 3, "share_negative": 1 / 3})
    assert t["area_share"].to_dict() == pytest.approx({"share_agree": 3 / 6, "share_positive": 1 / 6,
                                                       "share_negative": 2 / 6})
    g = res.glance().iloc[0]
    assert g["area_basis"] == "weight" and g["area"] == pytest.approx(6.0) and g["nobs"] == 3
    cells = res.augment().set_index("region")["area"]
    assert cells.to_dict() == pytest.approx(AREA)


def test_without_weight_cos_lat_is_the_area(fits):
    res = sign_agreement(fits, over="source", threshold=3, areas=_table(weight=False, lat=True))
    # cos(lat) of c1, c2, c3 = 1, 0.5, 0.5: positive 1 / 2, negative 0.5 / 2, agree 1.5 / 2
    assert _by_term(res)["area_share"].to_dict() == pytest.approx({"share_agree": 0.75, "share_positive": 0.5,
                                                                   "share_negative": 0.25})
    g = res.glance().iloc[0]
    assert g["area_basis"] == "cos(lat)" and g["area"] == pytest.approx(2.0)


def test_weight_wins_over_lat_and_regions_split_the_area(fits):
    res = sign_agreement(fits, over="source", threshold=3, areas=_table(weight=True, lat=True),
                         regions=pd.Series({"c1": "P", "c2": "NoP", "c3": "NoP", "c4": "P"}, name="permafrost"))
    assert res.glance().set_index("region_class")["area"].to_dict() == pytest.approx({"P": 1.0, "NoP": 5.0})
    nop = _by_term(res, region_class="NoP")["area_share"].to_dict()
    assert nop == pytest.approx({"share_agree": 2 / 5, "share_positive": 0.0, "share_negative": 2 / 5})
    assert _by_term(res, region_class="P")["area_share"]["share_positive"] == pytest.approx(1.0)
    assert set(res.glance()["area_basis"]) == {"weight"}


def test_no_areas_leaves_the_area_shares_missing(fits):
    res = sign_agreement(fits, over="source", threshold=3)
    assert _by_term(res)["area_share"].isna().all()
    g = res.glance().iloc[0]
    assert g["area_basis"] == "none" and np.isnan(g["area"])


def test_bad_areas_are_named(fits):
    with pytest.raises(PcstatsError, match="neither a 'weight'"):
        sign_agreement(fits, over="source", threshold=3, areas=_table(weight=False))
    uneven = _table()
    uneven.loc[uneven.index[0], "weight"] = 9.0
    with pytest.raises(PcstatsError, match="differs between the rows of cell"):
        sign_agreement(fits, over="source", threshold=3, areas=uneven)
    with pytest.raises(PcstatsError, match="c3"):
        sign_agreement(fits, over="source", threshold=3, areas=_table().query("region != 'c3'"))
    with pytest.raises(PcstatsError, match="no column 'region'"):
        sign_agreement(fits, over="source", threshold=3, areas=_table().drop(columns="region"))


# --- grids: the same cells on a 4 x 1 grid -------------------------------------------------------------------


def _grid(lats=(0.0, 60.0, 75.0, 80.0)) -> xr.Dataset:
    est = np.array([[s if s else np.nan for s in SIGNS[c]] for c in SIGNS], dtype=float).T.reshape(3, 4, 1)
    return xr.Dataset({"estimate": (("source", "lat", "lon"), est)},
                      coords={"source": SOURCES, "lat": list(lats), "lon": [0.5]}, attrs={"variable": "NEE"})


def test_grid_defaults_to_cos_lat():
    res = sign_agreement(_grid(), over="source", threshold=3)
    c = np.cos(np.deg2rad([0.0, 60.0, 75.0]))
    assert _by_term(res)["area_share"].to_dict() == pytest.approx(
        {"share_agree": (c[0] + c[1]) / c.sum(), "share_positive": c[0] / c.sum(), "share_negative": c[1] / c.sum()})
    g = res.glance().iloc[0]
    assert g["area_basis"] == "cos(lat)" and g["area"] == pytest.approx(c.sum())


def test_grid_takes_given_areas_or_the_weight_variable():
    ds = _grid()
    areas = xr.DataArray([[1.0], [2.0], [3.0], [4.0]], dims=("lat", "lon"), coords={"lat": ds["lat"], "lon": ds["lon"]})
    for res in (sign_agreement(ds, over="source", threshold=3, areas=areas),
                sign_agreement(ds.assign(weight=areas), over="source", threshold=3)):
        assert _by_term(res)["area_share"].to_dict() == pytest.approx({"share_agree": 3 / 6, "share_positive": 1 / 6,
                                                                       "share_negative": 2 / 6})
        assert res.glance().iloc[0]["area_basis"] == "weight"
        assert res.augment().set_index("lat")["area"].tolist() == pytest.approx([1.0, 2.0, 3.0, 4.0])


def test_grid_bad_areas_are_named():
    ds = _grid()
    shifted = xr.DataArray([[1.0], [2.0], [3.0], [4.0]], dims=("lat", "lon"), coords={"lat": [1.0, 2.0, 3.0, 4.0], "lon": [0.5]})
    with pytest.raises(PcstatsError, match="grid differs"):
        sign_agreement(ds, over="source", threshold=3, areas=shifted)
    with pytest.raises(PcstatsError, match="positive area"):
        sign_agreement(ds, over="source", threshold=3, areas=xr.zeros_like(ds["estimate"].isel(source=0, drop=True)))
    with pytest.raises(PcstatsError, match="dimension 'source'"):
        sign_agreement(ds, over="source", threshold=3, areas=ds["estimate"])
