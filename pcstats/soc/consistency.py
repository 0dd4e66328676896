"""Is a published table of SOC stocks, areas and storages consistent with its own rounding?

Each printed number stands for an interval: a value printed to ``d`` decimals is within
``0.5 x 10^-d`` of the true one. :func:`check_consistency` runs three checks on a stock table
(kg C m-2), a storage table (Pg C) and the zone areas (10^6 km2):

* ``row``: a zone has one true area A. Each storage S with its stock s implies A in
  ``[S_lo / s_hi, S_hi / s_lo]`` and the printed area gives ``[A_lo, A_hi]``. The area covered by
  the most of these intervals (ties: the region whose midpoint is nearest the printed area) is
  the zone's area A*, the midpoint of that region; a cell whose interval misses A* is inconsistent.
  ``off_by`` is how far the published storage lies outside what rounding allows at A*. The row
  is reported against the storage cell (``table="storage"``), but the check flags the stock and
  storage *pair*: either printed number may be the wrong one, and the ``sum`` and
  ``weighted_mean`` checks of the same depth help decide which.
* ``sum``: the total storage per depth (and the total area) vs the sum over the zones, within the
  sum of the half-units.
* ``weighted_mean``: the total stock vs the mean of the zone stocks weighted by their areas A*.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import PcstatsError, did_you_mean

__all__ = ["best_area", "check_consistency"]

COLUMNS = ["check", "table", "zone", "depth", "published", "expected", "difference", "tolerance", "off_by",
           "consistent", "implied_area", "row_area", "note"]


def _half(decimals: pd.Series | np.ndarray | float) -> np.ndarray:
    return 0.5 * 10.0 ** -np.asarray(decimals, dtype=np.float64)


def best_area(lo: np.ndarray, hi: np.ndarray, printed: float) -> tuple[float, float, np.ndarray, list[float]]:
    """The point covered by the most closed intervals ``[lo_i, hi_i]``.

    Returns the midpoint of the best region, the region's half-width, which intervals contain it,
    and the midpoints of other regions covered by as many intervals (ties, decided by closeness
    of the midpoint to ``printed``).

    Examples
    --------
    >>> import numpy as np
    >>> area, half, members, ties = best_area(np.array([1.0, 2.0, 2.5]), np.array([3.0, 4.0, 2.6]), 2.0)
    >>> round(area, 2), members.tolist(), ties
    (2.55, [True, True, True], [])
    """
    regions: dict[tuple[bool, ...], tuple[float, float]] = {}
    for left in lo:
        members = (lo <= left) & (hi >= left)
        regions.setdefault(tuple(members), (float(left), float(hi[members].min())))
    most = max(sum(m) for m in regions)
    tied = sorted(((abs((a + b) / 2 - printed), (a + b) / 2, (b - a) / 2, m) for m, (a, b) in regions.items() if sum(m) == most),
                  key=lambda r: r[0])
    _, mid, half, members = tied[0]
    return mid, half, np.array(members), [r[1] for r in tied[1:]]


def _frame(table: pd.DataFrame, argument: str, value: str, keys: list[str]) -> pd.DataFrame:
    if not isinstance(table, pd.DataFrame):
        raise PcstatsError(f"check_consistency(): {argument} must be a pandas DataFrame, got {type(table).__name__}.")
    for column in [*keys, value, "decimals"]:
        if column not in table.columns:
            fix = (" Add the number of decimals each value was printed with, e.g. table.assign(decimals=2)."
                   if column == "decimals" else did_you_mean(column, table.columns))
            raise PcstatsError(f"check_consistency(): {argument} has no column {column!r}.{fix} Its columns: {list(table.columns)}.")
    frame = table[[*keys, value, "decimals"]].rename(columns={value: "value"})
    bad = frame["value"].isna() | frame["decimals"].isna() | frame.duplicated(keys)
    if bad.any():
        where = ", ".join(f"{k}={frame.loc[bad, k].iloc[0]!r}" for k in keys)
        raise PcstatsError(f"check_consistency(): {argument} has a missing value or decimals, or a repeated row, at {where}; "
                           "give one printed value and its decimals per cell.")
    return frame.assign(value=frame["value"].astype(float), half=_half(frame["decimals"]))


def _row_checks(zone: str, cells: pd.DataFrame, area: float, area_half: float) -> tuple[list[dict], float, float]:
    """Row-check records for one zone, with the zone's area A* and the half-width of its region."""
    s, s_h, big, big_h = (cells[k].to_numpy() for k in ("value_stock", "half_stock", "value_storage", "half_storage"))
    eps = 1e-12 * np.maximum(1.0, np.abs(big))
    with np.errstate(divide="ignore", invalid="ignore"):
        lo = np.maximum(big - big_h - eps, 0.0) / (s + s_h)
        hi = np.where(s - s_h > 0, (big + big_h + eps) / (s - s_h), np.inf)
    lo = np.r_[lo, area - area_half - 1e-12]
    hi = np.r_[hi, area + area_half + 1e-12]
    best, half, members, ties = best_area(lo, hi, area)
    note = f"tie: area {ties[0]:.5g} fits as many cells" if ties else None
    records = []
    for i, depth in enumerate([*cells["depth"], None]):
        # a cell whose verdict would change under a tied area gets the note
        swing = note if any((lo[i] <= t <= hi[i]) != members[i] for t in ties) else None
        if depth is None:
            records.append(_record("row", "area", zone, None, area, best, area_half, bool(members[i]), area, best, swing))
        else:
            records.append(_record("row", "storage", zone, depth, big[i], best * s[i], big_h[i] + best * s_h[i],
                                   bool(members[i]), big[i] / s[i] if s[i] else np.nan, best, swing))
    return records, best, half


def _record(check: str, table: str, zone: str, depth: str | None, published: float, expected: float, tolerance: float,
            consistent: bool | None = None, implied: float = np.nan, row_area: float = np.nan, note: str | None = None) -> dict:
    difference = published - expected
    off_by = max(0.0, abs(difference) - tolerance)
    if consistent is None:
        consistent = off_by <= 1e-9 * max(1.0, abs(published))
    return {"check": check, "table": table, "zone": zone, "depth": depth, "published": float(published),
            "expected": float(expected), "difference": float(difference), "tolerance": float(tolerance),
            "off_by": 0.0 if consistent else float(off_by), "consistent": bool(consistent),
            "implied_area": float(implied), "row_area": float(row_area), "note": note}


def _total_checks(cells: pd.DataFrame, areas: pd.DataFrame, implied: dict[str, tuple[float, float]], total: str,
                  depths: list[str]) -> list[dict]:
    zones = [z for z in implied if z != total]
    records = []
    parts = cells[cells["zone"] != total]
    totals = cells[cells["zone"] == total].set_index("depth")
    for depth in depths:
        rows, published = parts[parts["depth"] == depth], totals.loc[depth]
        records.append(_record("sum", "storage", total, depth, published["value_storage"], rows["value_storage"].sum(),
                               rows["half_storage"].sum() + published["half_storage"]))
    records.append(_record("sum", "area", total, None, areas.loc[total, "value"], areas.loc[zones, "value"].sum(),
                           areas.loc[zones, "half"].sum() + areas.loc[total, "half"]))
    for depth in depths:
        rows = parts[parts["depth"] == depth]
        weight = rows["zone"].map(lambda z: implied[z][0]).to_numpy()
        width = rows["zone"].map(lambda z: implied[z][1]).to_numpy()
        stocks = rows["value_stock"].to_numpy()
        mean = float(np.sum(weight * stocks) / weight.sum())
        # rounding of the zone stocks and the total, plus (first order) the uncertainty of the areas A*
        tolerance = totals.loc[depth, "half_stock"] + np.sum(weight * rows["half_stock"].to_numpy()) / weight.sum() \
            + np.sum(np.abs(stocks - mean) * width) / weight.sum()
        records.append(_record("weighted_mean", "stock", total, depth, totals.loc[depth, "value_stock"], mean, tolerance))
    return records


def check_consistency(
    stock_table: pd.DataFrame,
    storage_table: pd.DataFrame,
    area_table: pd.DataFrame,
    *,
    stock: str = "stock_kg_m2",
    storage: str = "storage_pg",
    area: str = "area_1e6_km2",
    total: str | None = "Total",
) -> pd.DataFrame:
    """Check a published table of zone stocks, areas and storages against its own rounding.

    Parameters
    ----------
    stock_table
        ``zone, depth, stock, decimals``: mean SOC stock (kg C m-2) as printed, with its number of
        decimals; one row per zone and depth, the total among them.
    storage_table
        ``zone, depth, storage, decimals``: SOC storage (Pg C), the same cells.
    area_table
        ``zone, area, decimals``: zone areas in 10^6 km2 (so that stock x area is Pg C).
    stock, storage, area
        Value column names.
    total
        The zone name of the total row; None if the table has none (then only the row checks run).

    Returns
    -------
    pandas.DataFrame
        One row per check: ``check`` (row / sum / weighted_mean), ``table`` (storage / area / stock:
        which published number is tested), ``zone, depth`` (None for areas), ``published``,
        ``expected``, ``difference`` (published - expected), ``tolerance`` (what rounding allows),
        ``off_by`` (how far beyond the tolerance; 0 when consistent), ``consistent``,
        ``implied_area`` (storage / stock of the cell), ``row_area`` (the zone's area A*) and ``note``
        (a tie between areas; None otherwise). Area rows of the row check compare the printed
        area with A*.

    Examples
    --------
    >>> import pcstats as pc
    >>> pub = pc.soc.read_published("fixtures/published/permafrost_soc_tables.csv")
    >>> report = pc.soc.check_consistency(pub.stock, pub.storage, pub.area)
    >>> bad = report[~report["consistent"]]
    >>> bad[["check", "zone", "depth"]].values.tolist()[:3]
    [['row', 'Continuous', '0-200'], ['row', 'Discontinuous', '0-100'], ['row', 'Discontinuous', '0-200']]
    >>> bad.loc[bad["check"] == "sum", ["depth", "difference"]].round(2).values.tolist()
    [['0-100', -2.17], ['0-300', -4.0]]
    """
    stocks = _frame(stock_table, "stock_table", stock, ["zone", "depth"])
    storages = _frame(storage_table, "storage_table", storage, ["zone", "depth"])
    areas = _frame(area_table, "area_table", area, ["zone"]).set_index("zone")
    cells = stocks.merge(storages, on=["zone", "depth"], how="outer", suffixes=("_stock", "_storage"), indicator=True)
    alone = cells[cells["_merge"] != "both"]
    if not alone.empty:
        side = "stock_table" if alone["_merge"].iloc[0] == "left_only" else "storage_table"
        raise PcstatsError(f"check_consistency(): zone {alone['zone'].iloc[0]!r}, depth {alone['depth'].iloc[0]!r} is only in "
                           f"{side}; give each cell both its stock and its storage.")
    depths, zones = list(dict.fromkeys(stocks["depth"])), list(dict.fromkeys(stocks["zone"]))
    extra = [z for z in areas.index if z not in zones]
    if extra:
        raise PcstatsError(f"check_consistency(): area_table has zones without stocks or storages: {extra}; drop them "
                           "or add their rows.")
    grid = cells.pivot(index="zone", columns="depth", values="value_stock")
    for zone in zones:
        if zone not in areas.index:
            raise PcstatsError(f"check_consistency(): zone {zone!r} has no row in area_table.{did_you_mean(str(zone), map(str, areas.index))} "
                               "Give every zone its area.")
        if grid.loc[zone].isna().any():
            raise PcstatsError(f"check_consistency(): zone {zone!r} has no value at depth "
                               f"{grid.columns[grid.loc[zone].isna()][0]!r}; every zone needs every depth.")
    records: list[dict] = []
    implied: dict[str, tuple[float, float]] = {}
    for zone in zones:
        rows = cells[cells["zone"] == zone].set_index("depth").loc[depths].reset_index()
        zone_records, best, half = _row_checks(zone, rows, areas.loc[zone, "value"], areas.loc[zone, "half"])
        records += zone_records
        implied[zone] = (best, half)
    if total is not None and total in implied:
        records += _total_checks(cells.drop(columns="_merge"), areas, implied, total, depths)
    return pd.DataFrame.from_records(records, columns=COLUMNS)
