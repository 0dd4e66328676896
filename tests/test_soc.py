from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pcstats as pc
from pcstats import soc

PUBLISHED = "fixtures/published/permafrost_soc_tables.csv"


# --- layer_stock ---------------------------------------------------------------------------------

def test_layer_stock_textbook_numbers():
    assert soc.layer_stock(1.0, 1.0, 100) == pytest.approx(10.0)            # 1 % C, 1 g cm-3, 1 m
    assert soc.layer_stock(10.0, 1.0, 100, c_unit="g/kg") == pytest.approx(10.0)
    assert soc.layer_stock(1.0, 1.0, 100, 0.25) == pytest.approx(7.5)
    assert soc.layer_stock(2.0, 1.3, 30, 0.1) == pytest.approx(0.02 * 1.3 * 30 * 0.9 * 10)
    out = soc.layer_stock(pd.Series([1.0, np.nan, 3.0], index=["a", "b", "c"]), 1.0, 10)
    assert out.index.tolist() == ["a", "b", "c"] and np.isnan(out["b"]) and out["c"] == pytest.approx(3.0)
    np.testing.assert_allclose(soc.layer_stock(np.array([1.0, 2.0]), np.array([1.0, 0.5]), 10), [1.0, 1.0])


@pytest.mark.parametrize(("args", "kwargs", "match"), [
    ((1.0, -0.1, 10), {}, r"bulk_density is -0.1: bulk density cannot be negative"),
    ((101.0, 1.0, 10), {}, r"c is 101: C content cannot exceed 100 %"),
    ((1200.0, 1.0, 10), {"c_unit": "g/kg"}, r"cannot exceed 1000 g/kg"),
    ((-1.0, 1.0, 10), {}, r"C content cannot be negative"),
    ((1.0, 1.0, 10, 1.0), {}, r"coarse_fraction is 1: coarse fraction must be in \[0, 1\)"),
    ((1.0, 1.0, 0), {}, r"thickness_cm is 0"),
    ((1.0, 1.0, 10), {"c_unit": "g kg-1"}, r"Did you mean 'g/kg'"),
])
def test_layer_stock_rejects_bad_inputs(args, kwargs, match):
    with pytest.raises(pc.PcstatsError, match=match):
        soc.layer_stock(*args, **kwargs)


def test_layer_stock_errors_name_the_first_bad_position():
    with pytest.raises(pc.PcstatsError, match=r"bulk_density at index 'y' is -2.*\(2 values in all\)"):
        soc.layer_stock(1.0, pd.Series([1.0, -2.0, -3.0], index=["x", "y", "z"]), 10)
    with pytest.raises(pc.PcstatsError, match=r"c at position 2 is 150"):
        soc.layer_stock(np.array([1.0, 2.0, 150.0]), 1.0, 10)


# --- pedon_stock ---------------------------------------------------------------------------------

def horizons(**changes) -> pd.DataFrame:
    h = pd.DataFrame({"pedon": ["P1", "P1", "P1"], "top_cm": [0.0, 20.0, 60.0], "bottom_cm": [20.0, 60.0, 120.0],
                      "c": [2.0, 1.0, 0.5], "bulk_density": [1.0, 1.25, 1.5], "cf": [0.0, 0.0, 0.2]})
    return h.assign(**changes)


def test_pedon_stock_cuts_horizons_at_interval_boundaries():
    # per cm: 0-20 cm 0.2, 20-60 cm 0.125, 60-120 cm 0.06 kg m-2
    with pytest.warns(UserWarning, match="1 of 3 pedon-intervals are incomplete"):
        out = soc.pedon_stock(horizons(), depth=(0, 30, 100, 200), coarse_fraction="cf")
    assert out["depth"].tolist() == ["0-30", "0-100", "0-200"]
    np.testing.assert_allclose(out["stock_kg_m2"].iloc[:2], [4.0 + 10 * 0.125, 4.0 + 40 * 0.125 + 40 * 0.06])
    last = out.iloc[2]
    assert np.isnan(last["stock_kg_m2"]) and last["coverage_cm"] == 120 and last["dropped_why"] == "horizons reach only 120 cm"
    assert out["dropped_why"].iloc[:2].isna().all()


def test_pedon_stock_weights_cryoturbated_parts_by_area_fraction():
    h = pd.DataFrame({"pedon": "P", "top_cm": [0, 10, 10], "bottom_cm": [10, 30, 30], "c": [10.0, 1.0, 8.0],
                      "bulk_density": [0.3, 1.2, 0.6], "share": [1.0, 0.8, 0.2]})
    out = soc.pedon_stock(h, depth=(0, 30), area_fraction="share")
    expected = 0.1 * 0.3 * 10 * 10 + 20 * 10 * (0.8 * 0.01 * 1.2 + 0.2 * 0.08 * 0.6)
    assert out["stock_kg_m2"].iloc[0] == pytest.approx(expected)
    with pytest.raises(pc.PcstatsError, match=r"pedon 'P': area fractions of the horizons at 10-30 cm sum to 0.9"):
        soc.pedon_stock(h.assign(share=[1.0, 0.7, 0.2]), depth=(0, 30), area_fraction="share")
    with pytest.raises(pc.PcstatsError, match=r"pedon 'P' has overlapping horizons at 10-30 cm \(rows 1, 2\)"):
        soc.pedon_stock(h, depth=(0, 30))


def test_pedon_stock_reports_gaps_and_short_pedons():
    h = pd.concat([horizons(), horizons(pedon="P2", top_cm=[0.0, 25.0, 60.0])], ignore_index=True)
    with pytest.warns(UserWarning, match="3 of 4 pedon-intervals are incomplete"):
        out = soc.pedon_stock(h, depth=(0, 30, 150)).set_index(["pedon", "depth"])
    assert out.loc[("P1", "0-30"), "stock_kg_m2"] == pytest.approx(5.25)
    assert out.loc[("P2", "0-30"), "dropped_why"] == "no horizon at 20-25 cm"
    assert out.loc[("P2", "0-30"), "coverage_cm"] == 25
    assert out.loc[("P2", "0-150"), "dropped_why"] == "no horizon at 20-25 cm; horizons reach only 120 cm"
    assert out["stock_kg_m2"].isna().sum() == 3


def test_pedon_stock_errors_name_row_and_pedon():
    with pytest.raises(pc.PcstatsError, match=r"column 'top_cm' has no depth in row 1 \(pedon 'P1'\)"):
        soc.pedon_stock(horizons(top_cm=[0.0, np.nan, 60.0]))
    with pytest.raises(pc.PcstatsError, match=r"row 2 \(pedon 'P1'\) has bottom_cm=50 <= top_cm=60"):
        soc.pedon_stock(horizons(bottom_cm=[20.0, 60.0, 50.0]))
    with pytest.raises(pc.PcstatsError, match=r"column 'bulk_density' in row 0 \(pedon 'P1'\) is -1"):
        soc.pedon_stock(horizons(bulk_density=[-1.0, 1.0, 1.0]))
    with pytest.raises(pc.PcstatsError, match=r"no column 'C' \(argument c=\)"):
        soc.pedon_stock(horizons(), c="C")


# --- zone_storage --------------------------------------------------------------------------------

def test_zone_storage_units_and_total():
    stocks = pd.DataFrame({"zone": ["A", "B", "Total"], "depth": "0-100", "stock_kg_m2": [1.0, 3.0, 99.0]})
    out = soc.zone_storage(stocks, pd.DataFrame({"zone": ["A", "B"], "area_1e6_km2": [1.0, 3.0]}))
    assert out["storage_pg"].tolist() == [1.0, 9.0, 10.0]                   # 10^6 km2 x 1 kg m-2 = 1 Pg
    assert out.iloc[-1].to_dict() == {"zone": "Total", "depth": "0-100", "area_1e6_km2": 4.0, "stock_kg_m2": 2.5,
                                      "storage_pg": 10.0}
    km2 = soc.zone_storage(stocks, pd.DataFrame({"zone": ["A", "B"], "a": [1e6, 3e6]}), area="a", area_unit="km2")
    pd.testing.assert_frame_equal(km2, out)
    with pytest.raises(pc.PcstatsError, match=r"zones in stock_table without an area: \['B'\]"):
        soc.zone_storage(stocks, pd.DataFrame({"zone": ["A"], "area_1e6_km2": [1.0]}))


def test_zone_storage_reproduces_table_2_from_table_1():
    pub = soc.read_published(PUBLISHED)
    report = soc.check_consistency(pub.stock, pub.storage, pub.area)
    rows = report[(report["check"] == "row") & (report["table"] == "storage")].set_index(["zone", "depth"])
    published = pub.storage.set_index(["zone", "depth"])["storage_pg"]
    # with the printed areas: within what the rounding of stock, area and storage allows
    out = soc.zone_storage(pub.stock, pub.area).set_index(["zone", "depth"])
    zones = out.drop("Total", level="zone")
    ok = rows.loc[zones.index, "consistent"]
    allowed = 0.005 + zones["area_1e6_km2"] * 0.005 + zones["stock_kg_m2"] * 0.05 + 0.005 * 0.05
    assert ((zones["storage_pg"] - published[zones.index]).abs() <= allowed)[ok].all()
    # with each zone's implied area A*: within the storage and stock rounding alone
    implied = rows.groupby(level="zone")["row_area"].first().rename("area_1e6_km2").reset_index()
    tight = soc.zone_storage(pub.stock, implied, total=None).set_index(["zone", "depth"])
    diff = (tight["storage_pg"] - published[tight.index]).abs()
    assert (diff <= rows.loc[tight.index, "tolerance"] + 1e-9)[rows.loc[tight.index, "consistent"]].all()
    assert not (diff <= rows.loc[tight.index, "tolerance"])[~rows.loc[tight.index, "consistent"]].any()
    # the Total row computed from Table 1 (zone stocks x implied areas): the printed 217.79 Pg at 0-30 cm
    # within the rounding of the four stocks (0.005 kg m-2 x area) and of the printed total (0.005 Pg);
    # 0-100, 0-200 and 0-300 cm miss by more, the inconsistencies check_consistency reports
    total = soc.zone_storage(pub.stock, implied).set_index(["zone", "depth"]).loc["Total", "storage_pg"]
    rounding = 0.005 * implied.query("zone != 'Total'")["area_1e6_km2"].sum() + 0.005
    assert abs(total["0-30"] - 217.79) <= rounding
    for depth in ("0-100", "0-200", "0-300"):
        assert abs(total[depth] - published[("Total", depth)]) > rounding, depth


# --- check_consistency ---------------------------------------------------------------------------

INCONSISTENT = {  # (check, table, zone, depth): off_by
    ("row", "storage", "Continuous", "0-200"): 1.958,
    ("row", "storage", "Discontinuous", "0-100"): 0.048,
    ("row", "storage", "Discontinuous", "0-200"): 1.896,
    ("row", "storage", "Sporadic", "0-200"): 2.044,
    ("row", "storage", "Sporadic", "0-300"): 0.128,
    ("row", "storage", "Isolated", "0-200"): 2.950,
    ("row", "storage", "Isolated", "0-300"): 0.060,
    ("sum", "storage", "Total", "0-100"): 2.145,
    ("sum", "storage", "Total", "0-300"): 3.975,
    ("weighted_mean", "stock", "Total", "0-100"): 0.093,
    ("weighted_mean", "stock", "Total", "0-200"): 0.429,
    ("weighted_mean", "stock", "Total", "0-300"): 0.202,
}


def flagged(report: pd.DataFrame) -> dict:
    bad = report[~report["consistent"]]
    depth = [d if isinstance(d, str) else None for d in bad["depth"]]  # NaN for area checks
    return dict(zip(zip(bad["check"], bad["table"], bad["zone"], depth), bad["off_by"]))


def test_published_table_check_names_exactly_the_inconsistent_cells():
    pub = soc.read_published(PUBLISHED)
    report = soc.check_consistency(pub.stock, pub.storage, pub.area)
    assert len(report) == 5 * 5 + 5 + 4                     # row checks (4 depths + area per zone), sums, means
    found = flagged(report)
    assert set(found) == set(INCONSISTENT)
    for cell, off_by in INCONSISTENT.items():
        assert found[cell] == pytest.approx(off_by, abs=0.002), cell
    assert (report.loc[report["consistent"], "off_by"] == 0).all()
    total = report[(report["check"] == "row") & (report["zone"] == "Total")]
    assert total["consistent"].all() and total["row_area"].iloc[0] == pytest.approx(20.80, abs=1e-3)
    sums = report[report["check"] == "sum"].set_index("depth")
    assert sums.loc["0-100", "expected"] == pytest.approx(564.79) and sums.loc["0-300", "difference"] == pytest.approx(-4.0)
    # Sporadic and Isolated: 0-100 and 0-300 imply areas that cannot both hold; the tie is noted
    noted = report[report["note"].notna()]
    assert set(zip(noted["zone"], noted["depth"])) == {(z, d) for z in ("Sporadic", "Isolated") for d in ("0-100", "0-300")}
    assert report[["published", "expected", "difference", "tolerance", "off_by"]].dtypes.eq(float).all()


def synthetic(seed: int, plant: dict | None = None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Stock, storage and area tables computed exactly and then rounded as a journal would print them."""
    rng = np.random.default_rng(seed)
    n_zones, n_depths = int(rng.integers(2, 7)), int(rng.integers(3, 6))
    dec_stock, dec_storage, dec_area = (int(d) for d in rng.integers(1, 4, 3))
    zones, depths = [f"Z{i}" for i in range(n_zones)], [f"0-{30 * (j + 1)}" for j in range(n_depths)]
    area = rng.uniform(2.0, 12.0, n_zones)
    stock = np.cumsum(rng.uniform(3.0, 20.0, (n_zones, n_depths)), axis=1)
    storage = area[:, None] * stock
    total_stock = storage.sum(axis=0) / area.sum()
    rows_stock, rows_storage = [], []
    for i, zone in enumerate([*zones, "Total"]):
        for j, depth in enumerate(depths):
            s = stock[i, j] if i < n_zones else total_stock[j]
            big = storage[i, j] if i < n_zones else storage[:, j].sum()
            rows_stock.append((zone, depth, round(s, dec_stock), dec_stock))
            rows_storage.append((zone, depth, round(big * (plant or {}).get(("storage", zone, depth), 1.0), dec_storage), dec_storage))
    areas = [*area, area.sum()]
    area_rows = [(z, round(a + (plant or {}).get(("area", z), 0.0), dec_area), dec_area) for z, a in zip([*zones, "Total"], areas)]
    return (pd.DataFrame(rows_stock, columns=["zone", "depth", "stock_kg_m2", "decimals"]),
            pd.DataFrame(rows_storage, columns=["zone", "depth", "storage_pg", "decimals"]),
            pd.DataFrame(area_rows, columns=["zone", "area_1e6_km2", "decimals"]))


@pytest.mark.parametrize("seed", range(25))
def test_consistent_synthetic_table_has_no_flags(seed):
    report = soc.check_consistency(*synthetic(seed))
    assert report["consistent"].all(), report[~report["consistent"]]
    assert set(report["check"]) == {"row", "sum", "weighted_mean"}


@pytest.mark.parametrize("seed", range(10))
def test_planted_errors_are_found_and_only_they(seed):
    report = soc.check_consistency(*synthetic(seed, plant={("storage", "Z1", "0-60"): 1.05}))
    assert set(flagged(report)) == {("row", "storage", "Z1", "0-60"), ("sum", "storage", "Total", "0-60")}
    report = soc.check_consistency(*synthetic(seed, plant={("area", "Z0"): 1.0}))
    assert set(flagged(report)) == {("row", "area", "Z0", None), ("sum", "area", "Total", None)}


def test_check_consistency_input_errors():
    stock, storage, area = synthetic(0)
    with pytest.raises(pc.PcstatsError, match=r"storage_table has no column 'decimals'.*assign\(decimals=2\)"):
        soc.check_consistency(stock, storage.drop(columns="decimals"), area)
    with pytest.raises(pc.PcstatsError, match=r"zone 'Z0', depth '0-30' is only in stock_table"):
        soc.check_consistency(stock, storage.iloc[1:], area)
    with pytest.raises(pc.PcstatsError, match=r"zone 'Z1' has no row in area_table"):
        soc.check_consistency(stock, storage, area[area["zone"] != "Z1"])


def test_fixture_holds_the_tables_as_printed():
    pub = soc.read_published(PUBLISHED)
    assert pub.area.set_index("zone")["area_1e6_km2"].to_dict() == {
        "Continuous": 10.7, "Discontinuous": 3.1, "Sporadic": 3.5, "Isolated": 3.5, "Total": 20.8}
    storage = pub.storage.set_index(["zone", "depth"])
    assert storage.loc[("Total", "0-300"), "storage_pg"] == 1044.78 and (storage["decimals"] == 2).all()
    assert pub.stock.set_index(["zone", "depth"]).loc[("Continuous", "0-200"), "stock_kg_m2"] == 40.60
