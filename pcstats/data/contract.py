"""The long-table column contract: the one place that says what a pcstats table is.

Every table in pcstats is *long*: one row per (source, region, year, month or season,
variable) with one numeric ``value`` in one ``unit``.

Required columns
----------------
source    product, model or site that produced the number (``"CAMS"``, ``"CLM5"``, ``"US-Prr"``)
kind      one of :data:`KINDS` (an ensemble keeps its members' kind)
region    region, grid cell, bin or site the value describes
year      integer calendar year (for the spanning winter: the year the winter starts)
month     integer 1-12 (monthly tables) -- or --
season    a season name such as ``EGS``, ``LGS``, ``WIN``, ``ANN`` (seasonal tables); exactly one of the two
variable  one of :data:`VARIABLES` (extend with ``variables=``)
value     float; missing is NaN; infinite values are refused
unit      unit string; one unit per (source, variable)

Optional columns
----------------
lat, lon     degrees north / east of the region's centre
site         flux-tower site code
weight       area or other weight used when aggregating regions (e.g. cell area in km2)
positive     for net fluxes (NEE, NBP): ``"up"`` if release to the atmosphere is positive,
             ``"down"`` if net uptake is positive (the CF/CMIP ``positive`` attribute)
ensemble_sd, ensemble_n
             written by :func:`pcstats.ensemble`: SD over sources and how many sources covered the row
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import ContractError, did_you_mean, rows_text

__all__ = [
    "REQUIRED_COLUMNS",
    "TIME_COLUMNS",
    "OPTIONAL_COLUMNS",
    "KINDS",
    "VARIABLES",
    "Variable",
    "validate",
    "key_columns",
    "time_column",
]

REQUIRED_COLUMNS: tuple[str, ...] = ("source", "kind", "region", "year", "variable", "value", "unit")
TIME_COLUMNS: tuple[str, ...] = ("month", "season")
OPTIONAL_COLUMNS: tuple[str, ...] = ("lat", "lon", "site", "weight", "positive", "ensemble_sd", "ensemble_n")
KINDS: tuple[str, ...] = ("inversion", "dgvm", "eddy_covariance", "satellite", "covariate")

_TEXT = ("source", "kind", "region", "variable", "unit", "site", "season", "positive")
_FLOAT = ("value", "lat", "lon", "weight", "ensemble_sd", "ensemble_n")


@dataclass(frozen=True)
class Variable:
    """A variable pcstats knows: what it is and whether it is a carbon flux."""

    description: str
    flux: bool = False
    net: bool = False  # net fluxes carry a sign convention (column ``positive``)


VARIABLES: dict[str, Variable] = {
    "NEE": Variable("net ecosystem exchange of CO2", flux=True, net=True),
    "NBP": Variable("net biome production", flux=True, net=True),
    "GPP": Variable("gross primary production", flux=True),
    "TER": Variable("total ecosystem respiration", flux=True),
    "RA": Variable("autotrophic respiration", flux=True),
    "RH": Variable("heterotrophic respiration", flux=True),
    "PreGPP": Variable("early-growing-season GPP used as a driver of later respiration", flux=True),
    "AirT": Variable("air temperature"),
    "MAT": Variable("mean annual air temperature"),
    "PAR": Variable("photosynthetically active radiation"),
    "SW": Variable("incoming shortwave radiation"),
    "SM": Variable("soil moisture"),
    "Precip": Variable("precipitation"),
    "TC": Variable("tree cover fraction (%)"),
    "P": Variable("permafrost extent fraction (%)"),
}


def time_column(table: pd.DataFrame) -> str:
    """Return ``"month"`` or ``"season"``, whichever the table has."""
    present = [c for c in TIME_COLUMNS if c in table.columns]
    if len(present) != 1:
        raise ContractError(
            "A long table needs exactly one of the columns 'month' (monthly data) or 'season' "
            f"(seasonal data); this one has {present or 'neither'}. "
            "Keep 'month' for monthly input and let pcstats.seasonalize() make 'season'."
        )
    return present[0]


def key_columns(table: pd.DataFrame) -> list[str]:
    """Columns that identify a row: source, kind, region, [site], year, month|season, variable."""
    keys = ["source", "kind", "region"]
    if "site" in table.columns:
        keys.append("site")
    return keys + ["year", time_column(table), "variable"]


def validate(
    table: pd.DataFrame,
    *,
    seasons: Collection[str] | None = None,
    variables: Collection[str] | None = None,
    origin: str | None = None,
) -> pd.DataFrame:
    """Check a long table against the contract and return a copy with normalised dtypes.

    Parameters
    ----------
    table
        The long table.
    seasons
        Season names to accept besides :data:`pcstats.data.seasons.SEASONS`.
    variables
        Variable names to accept besides :data:`VARIABLES`.
    origin
        Where the table came from (a path); used in error messages. For CSV files rows are
        also named by their line in the file.

    Raises
    ------
    ContractError
        Naming the column, value or rows at fault and how to fix it.

    Examples
    --------
    >>> import pandas as pd, pcstats as pc
    >>> t = pd.DataFrame({"source": ["CAMS"], "kind": ["inversion"], "region": ["P"], "year": [2000],
    ...                   "month": [7], "variable": ["NEE"], "value": [-1.2], "unit": ["gC m-2 d-1"]})
    >>> pc.validate(t).dtypes["year"]
    dtype('int64')
    """
    from .seasons import SEASONS  # seasons imports this module

    where = f" in {origin}" if origin else ""
    _check_columns(table, where)
    time = time_column(table)
    out = table.reset_index(drop=True).copy()
    line_offset = 2 if origin and str(origin).lower().endswith(".csv") else None

    def rows(mask: np.ndarray) -> str:
        idx = np.flatnonzero(mask)
        text = rows_text(idx.tolist())
        if line_offset is not None:
            text += f" (file lines {', '.join(str(i + line_offset) for i in idx[:5])})"
        return text

    for col in [c for c in _TEXT if c in out.columns]:
        out[col] = out[col].where(out[col] != "", None)  # an empty CSV cell is missing
        missing = out[col].isna().to_numpy()
        if col not in ("site", "positive") and missing.any():
            raise ContractError(f"Column {col!r}{where} is empty at {rows(missing)}; every row needs a {col}.")
        out[col] = out[col].astype("str")
    out["year"] = _as_int(out, "year", rows, where)
    if time == "month":
        out["month"] = _as_int(out, "month", rows, where)
        bad = ~out["month"].between(1, 12).to_numpy()
        if bad.any():
            raise ContractError(f"Column 'month'{where} must be 1-12; {rows(bad)} are not (e.g. {out['month'][bad].iloc[0]}).")
    for col in [c for c in _FLOAT if c in out.columns]:
        out[col] = _as_float(out, col, rows, where)

    _check_vocabulary(out, "kind", KINDS, rows, where, "")
    _check_vocabulary(
        out, "variable", list(VARIABLES) + list(variables or ()), rows, where,
        " Pass variables=[...] to accept other variable names.",
    )
    if time == "season":
        _check_vocabulary(
            out, "season", list(SEASONS) + list(seasons or ()), rows, where,
            " Pass seasons=[...] to accept other season names.",
        )
    if "positive" in out.columns:
        _check_vocabulary(out, "positive", ("up", "down"), rows, where, " Use 'up' (release positive) or 'down' (uptake positive).", allow_missing=True)
    for col, lo, hi in (("lat", -90, 90), ("lon", -180, 360)):
        if col in out.columns:
            bad = (out[col].notna() & ~out[col].between(lo, hi)).to_numpy()
            if bad.any():
                raise ContractError(f"Column {col!r}{where} must lie in [{lo}, {hi}]; {rows(bad)} do not.")

    _check_units(out, where)
    _check_duplicates(out, rows, where)
    return out


def _check_columns(table: pd.DataFrame, where: str) -> None:
    cols = [str(c) for c in table.columns]
    known = set(REQUIRED_COLUMNS) | set(TIME_COLUMNS) | set(OPTIONAL_COLUMNS)
    missing = [c for c in REQUIRED_COLUMNS if c not in cols]
    unknown = [c for c in cols if c not in known]
    if not missing and not unknown:
        return
    parts = []
    for c in missing:
        parts.append(f"required column {c!r} is missing.{did_you_mean(c, unknown)}")
    for c in unknown:
        if not any(did_you_mean(m, [c]) for m in missing):
            parts.append(f"column {c!r} is not part of the contract.{did_you_mean(c, known)}")
    raise ContractError(
        f"The table{where} does not follow the long-table contract: " + " ".join(parts)
        + f" Required: {', '.join(REQUIRED_COLUMNS)}, plus 'month' or 'season'; optional: "
        + f"{', '.join(OPTIONAL_COLUMNS)}. Rename or drop columns to match (see pcstats.data.contract)."
    )


def _as_int(out: pd.DataFrame, col: str, rows, where: str) -> pd.Series:
    numeric = pd.to_numeric(out[col], errors="coerce")
    bad = (numeric.isna() | (numeric != np.round(numeric)) | (numeric.abs() > 9999)).to_numpy()
    if bad.any():
        example = out[col][bad].iloc[0]
        raise ContractError(f"Column {col!r}{where} must hold whole numbers (at most 4 digits); {rows(bad)} do not (e.g. {example!r}).")
    return numeric.astype("int64")


def _as_float(out: pd.DataFrame, col: str, rows, where: str) -> pd.Series:
    numeric = pd.to_numeric(out[col], errors="coerce")
    infinite = np.isinf(numeric.to_numpy(dtype=float, na_value=np.nan))
    if infinite.any():
        raise ContractError(
            f"Column {col!r}{where} holds infinite values at {rows(infinite)}; write missing values as NaN "
            "and check the conversion that produced them."
        )
    bad = (numeric.isna() & out[col].notna()).to_numpy()
    if bad.any():
        raise ContractError(
            f"Column {col!r}{where} must be numeric; {rows(bad)} are not (e.g. {out[col][bad].iloc[0]!r}). "
            "Write missing values as empty cells or NaN, not as text codes."
        )
    return numeric.astype("float64")


def _check_vocabulary(out, col, allowed, rows, where, hint, allow_missing=False) -> None:
    values = out[col]
    mask = ~values.isin(list(allowed))
    if allow_missing:
        mask &= values.notna()
    if mask.any():
        bad = sorted(set(values[mask]))
        first = bad[0]
        raise ContractError(
            f"Unknown {col} {', '.join(repr(b) for b in bad[:5])}{where} at {rows(mask.to_numpy())}."
            f"{did_you_mean(first, allowed)} Known: {', '.join(allowed)}.{hint}"
        )


def _check_units(out: pd.DataFrame, where: str) -> None:
    units = out.groupby(["source", "variable"], sort=True)["unit"].unique()
    mixed = units[units.map(len) > 1]
    if len(mixed):
        (source, variable), values = mixed.index[0], mixed.iloc[0]
        raise ContractError(
            f"Variable {variable!r} of source {source!r}{where} mixes units {sorted(values)}. "
            "One source reports one variable in one unit: convert the rows first "
            "(pcstats.convert_units) or split the source."
        )


def _check_duplicates(out: pd.DataFrame, rows, where: str) -> None:
    keys = key_columns(out)
    dup = out.duplicated(keys, keep=False).to_numpy()
    if dup.any():
        first = out.loc[dup, keys].iloc[0].to_dict()
        raise ContractError(
            f"Duplicate keys{where}: {int(dup.sum())} rows share their ({', '.join(keys)}) with another row, "
            f"at {rows(dup)}; first key: {first}. Aggregate them first, or add the column that tells them apart "
            "(e.g. 'site')."
        )
