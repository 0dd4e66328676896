"""Published SOC tables (zone stocks, areas, storages) from a tidy long CSV.

The CSV has one row per printed number: ``table`` (where it was printed, e.g. "Table 1"),
``quantity`` (``stock`` in kg m-2 or ``storage`` in Pg), ``zone``, ``area_1e6_km2`` and
``area_decimals`` (the zone's printed area and its decimals), ``depth`` (e.g. "0-30"),
``value``, ``unit`` and ``decimals`` (as printed: "40.60" has 2).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import PcstatsError

__all__ = ["PublishedTables", "read_published"]

_COLUMNS = ["table", "quantity", "zone", "area_1e6_km2", "area_decimals", "depth", "value", "unit", "decimals"]
_UNITS = {"stock": ("kg m-2", "kg C m-2"), "storage": ("Pg", "Pg C")}


@dataclass(frozen=True)
class PublishedTables:
    """A published table as the three tables :func:`check_consistency` and :func:`zone_storage` take.

    ``stock``: zone, depth, stock_kg_m2, decimals; ``storage``: zone, depth, storage_pg, decimals;
    ``area``: zone, area_1e6_km2, decimals.
    """

    stock: pd.DataFrame
    storage: pd.DataFrame
    area: pd.DataFrame


def read_published(path: str | Path) -> PublishedTables:
    """Read a published stock/storage table from its tidy long CSV.

    Examples
    --------
    >>> import pcstats as pc
    >>> pub = pc.soc.read_published("fixtures/published/permafrost_soc_tables.csv")
    >>> pub.area.values.tolist()[0], pub.stock.shape, pub.storage.shape
    (['Continuous', 10.7, 1], (20, 4), (20, 4))
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"read_published: no file at {str(path)!r} (working directory: {Path.cwd()}).")
    text = {c: str for c in ("table", "quantity", "zone", "depth", "unit")}
    raw = pd.read_csv(path, dtype=text, keep_default_na=False, na_values={c: [""] for c in _COLUMNS if c not in text})
    missing = [c for c in _COLUMNS if c not in raw.columns]
    if missing:
        raise PcstatsError(f"read_published({str(path)!r}): no column(s) {missing}; the CSV needs {_COLUMNS}.")
    for quantity, units in _UNITS.items():
        rows = raw[raw["quantity"] == quantity]
        wrong = rows[~rows["unit"].isin(units)]
        if rows.empty or not wrong.empty:
            where = f"line {wrong.index[0] + 2} has unit {wrong['unit'].iloc[0]!r}" if not wrong.empty else "there are none"
            raise PcstatsError(f"read_published({str(path)!r}): {quantity} rows must be in {units[0]}; {where}. "
                               "Convert the values or fix the unit column.")
    other = raw[~raw["quantity"].isin(list(_UNITS))]
    if not other.empty:
        raise PcstatsError(f"read_published({str(path)!r}): line {other.index[0] + 2} has quantity {other['quantity'].iloc[0]!r}; "
                           "use 'stock' or 'storage'.")
    area = raw[["zone", "area_1e6_km2", "area_decimals"]].drop_duplicates()
    if area["zone"].duplicated().any() or area.isna().any().any():
        zone = area.loc[area["zone"].duplicated(keep=False) | area.isna().any(axis=1), "zone"].iloc[0]
        raise PcstatsError(f"read_published({str(path)!r}): zone {zone!r} has a missing area or different areas on different "
                           "lines; give each zone one printed area and its decimals.")
    area = area.rename(columns={"area_decimals": "decimals"}).astype({"decimals": int}).reset_index(drop=True)

    def part(quantity: str, name: str) -> pd.DataFrame:
        rows = raw.loc[raw["quantity"] == quantity, ["zone", "depth", "value", "decimals"]]
        return rows.rename(columns={"value": name}).astype({"decimals": int}).reset_index(drop=True)

    return PublishedTables(part("stock", "stock_kg_m2"), part("storage", "storage_pg"), area)
