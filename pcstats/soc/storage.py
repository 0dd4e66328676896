"""SOC storage of zones: stock (kg C m-2) x area, in Pg C, with an area-weighted total.

10^6 km2 = 10^12 m2, so 1 kg C m-2 over 10^6 km2 is 10^12 kg = 1 Pg C exactly.
"""

from __future__ import annotations

import pandas as pd

from ..errors import PcstatsError, did_you_mean

__all__ = ["AREA_UNITS", "zone_storage"]

AREA_UNITS: dict[str, float] = {"1e6 km2": 1.0, "km2": 1e-6, "m2": 1e-12}
"""Factor that turns one unit of each accepted area unit into 10^6 km2."""


def _need(table: pd.DataFrame, argument: str, columns: list[str]) -> None:
    if not isinstance(table, pd.DataFrame):
        raise PcstatsError(f"zone_storage(): {argument} must be a pandas DataFrame, got {type(table).__name__}.")
    for column in columns:
        if column not in table.columns:
            raise PcstatsError(f"zone_storage(): {argument} has no column {column!r}.{did_you_mean(column, table.columns)} "
                               f"Its columns: {list(table.columns)}.")


def zone_storage(
    stock_table: pd.DataFrame,
    area_table: pd.DataFrame,
    *,
    stock: str = "stock_kg_m2",
    area: str = "area_1e6_km2",
    area_unit: str = "1e6 km2",
    total: str | None = "Total",
) -> pd.DataFrame:
    """SOC storage (Pg C) per zone and depth from mean stocks and zone areas, with a Total row.

    Parameters
    ----------
    stock_table
        Columns ``zone``, ``depth`` and ``stock`` (mean SOC stock, kg C m-2), one row per zone and depth.
    area_table
        Columns ``zone`` and ``area``, one row per zone.
    stock, area
        Column names of the stock and the area.
    area_unit
        Unit of the area column: ``"1e6 km2"`` (default), ``"km2"`` or ``"m2"``.
    total
        Name of the total row that is added. Rows of this name in the inputs (a published total)
        are not zones: they are not summed, and the returned Total row is computed. None: no total.

    Returns
    -------
    pandas.DataFrame
        ``zone, depth, area_1e6_km2, stock_kg_m2, storage_pg``; for each depth, the Total row has
        the summed area and storage, and stock = total storage / total area (the area-weighted mean
        stock). A NaN stock gives NaN storage and a NaN total for that depth.

    Examples
    --------
    >>> import pandas as pd
    >>> import pcstats as pc
    >>> stocks = pd.DataFrame({"zone": ["A", "B"], "depth": "0-100", "stock_kg_m2": [20.0, 30.0]})
    >>> areas = pd.DataFrame({"zone": ["A", "B"], "area_km2": [3e6, 1e6]})
    >>> out = pc.soc.zone_storage(stocks, areas, area="area_km2", area_unit="km2")
    >>> out[["zone", "storage_pg", "stock_kg_m2"]].values.tolist()
    [['A', 60.0, 20.0], ['B', 30.0, 30.0], ['Total', 90.0, 22.5]]
    """
    if area_unit not in AREA_UNITS:
        raise PcstatsError(f"zone_storage(area_unit={area_unit!r}) is not known.{did_you_mean(area_unit, AREA_UNITS)} "
                           f"Use one of {', '.join(map(repr, AREA_UNITS))}.")
    _need(stock_table, "stock_table", ["zone", "depth", stock])
    _need(area_table, "area_table", ["zone", area])
    stocks = stock_table[stock_table["zone"] != total] if total else stock_table
    areas = area_table[area_table["zone"] != total] if total else area_table
    if areas["zone"].duplicated().any():
        raise PcstatsError(f"zone_storage(): area_table has several rows for zone {areas['zone'][areas['zone'].duplicated()].iloc[0]!r}; "
                           "give one area per zone.")
    if stocks.duplicated(["zone", "depth"]).any():
        zone, depth = stocks.loc[stocks.duplicated(["zone", "depth"]), ["zone", "depth"]].iloc[0]
        raise PcstatsError(f"zone_storage(): stock_table has several rows for zone {zone!r}, depth {depth!r}; give one.")
    lacking = sorted(set(stocks["zone"]) - set(areas["zone"]), key=str)
    extra = sorted(set(areas["zone"]) - set(stocks["zone"]), key=str)
    if lacking or extra:
        raise PcstatsError(f"zone_storage(): zones in stock_table without an area: {lacking}; zones in area_table "
                           f"without stocks: {extra}. Give both tables the same zones.")
    km = areas.set_index("zone")[area].astype(float) * AREA_UNITS[area_unit]
    if km.isna().any() or (km < 0).any():
        raise PcstatsError(f"zone_storage(): area_table column {area!r} has a missing or negative area for zone "
                           f"{km.index[km.isna() | (km < 0)][0]!r}; give every zone its area.")
    out = pd.DataFrame({"zone": stocks["zone"].to_numpy(), "depth": stocks["depth"].to_numpy(),
                        "area_1e6_km2": stocks["zone"].map(km).to_numpy(), "stock_kg_m2": stocks[stock].astype(float).to_numpy()})
    out["storage_pg"] = out["stock_kg_m2"] * out["area_1e6_km2"]
    if not total:
        return out
    sums = out.groupby("depth", sort=False)[["area_1e6_km2", "storage_pg"]].sum(min_count=1)
    sums.loc[out.groupby("depth", sort=False)["storage_pg"].apply(lambda s: s.isna().any()), "storage_pg"] = float("nan")
    totals = sums.reset_index().assign(zone=total)
    totals["stock_kg_m2"] = totals["storage_pg"] / totals["area_1e6_km2"]
    return pd.concat([out, totals[out.columns]], ignore_index=True)
