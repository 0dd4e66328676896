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

import functools
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import ContractError, did_you_mean, rows_text
from .coded import Codes, combine, distinct, duplicated, factorize, table_hash

__all__ = [
    "REQUIRED_COLUMNS",
    "TIME_COLUMNS",
    "OPTIONAL_COLUMNS",
    "KINDS",
    "VARIABLES",
    "Variable",
    "validate",
    "validate_coded",
    "LongTable",
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
    "NDVI": Variable("normalised difference vegetation index (1)"),
    "IPA": Variable("IPA permafrost zone code: 1 continuous, 2 discontinuous, 3 sporadic, 4 isolated, 0 none"),
    "LC": Variable("land cover class (MCD12Q1 LC_Type1, IGBP 1-17)"),
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
    return validate_coded(table, seasons=seasons, variables=variables, origin=origin).table


@dataclass(frozen=True, eq=False)
class LongTable:
    """A validated long table with its text columns factorized: validate once, fit many specs.

    Made by :func:`pcstats.long_table`; :func:`pcstats.fit` and :func:`pcstats.prepare` accept
    it wherever they accept a long table and skip validating and hashing it again. ``table`` is
    the validated copy (the caller's data frame may change afterwards without affecting it);
    treat it as read-only.
    """

    table: pd.DataFrame
    codes: dict[str, Codes]

    def __len__(self) -> int:
        return len(self.table)

    def __repr__(self) -> str:
        return f"<LongTable: {len(self.table):,} rows, {', '.join(map(str, self.table.columns))}>"

    @functools.cached_property
    def digest(self) -> str:
        """Hash of the contents (:func:`pcstats.data.coded.table_hash`), computed once."""
        return table_hash(self.table, self.codes)

    def key(self, columns: Sequence[str], rows: np.ndarray | None = None) -> tuple[np.ndarray, int]:
        """One int64 key per row (at ``rows``) over ``columns``, ordered as sorting by them would be."""
        parts = [p for p in (self.coded(c) for c in columns) if p.size > 1 or (p.codes < 0).any()]  # one value: no key digit
        if rows is not None:
            parts = [Codes(p.codes[rows], p.uniques) for p in parts]
        return combine(parts, len(self.table) if rows is None else len(rows))

    def coded(self, column: str) -> Codes:
        """Codes of any column (integer columns by offset from their minimum, so in order)."""
        if column not in self.codes:
            values = self.table[column]
            if pd.api.types.is_integer_dtype(values.dtype) and len(values):
                low, high = int(values.min()), int(values.max())
                self.codes[column] = Codes(values.to_numpy(dtype=np.int64) - low, pd.RangeIndex(low, high + 1))
            else:
                self.codes[column] = factorize(values, sort=True)
        return self.codes[column]


def validate_coded(
    table: pd.DataFrame,
    *,
    seasons: Collection[str] | None = None,
    variables: Collection[str] | None = None,
    origin: str | None = None,
) -> LongTable:
    """:func:`validate`, keeping the codes of the text columns it factorized to check them."""
    from .seasons import SEASONS  # seasons imports this module

    where = f" in {origin}" if origin else ""
    _check_columns(table, where)
    time = time_column(table)
    out = table.reset_index(drop=True)  # copy-on-write: columns replaced below leave the caller's table alone
    line_offset = 2 if origin and str(origin).lower().endswith(".csv") else None

    def rows(mask: np.ndarray) -> str:
        idx = np.flatnonzero(mask)
        text = rows_text(idx.tolist())
        if line_offset is not None:
            text += f" (file lines {', '.join(str(i + line_offset) for i in idx[:5])})"
        return text

    codes: dict[str, Codes] = {}
    for col in [c for c in _TEXT if c in out.columns]:
        if str(out[col].dtype) != "str":
            out[col] = out[col].astype("str")  # missing values stay missing
        coded = factorize(out[col], sort=True)
        if "" in coded.uniques:  # an empty CSV cell is missing
            out[col] = out[col].where(out[col] != "", None)
            coded = factorize(out[col], sort=True)
        missing = coded.codes < 0
        if col not in ("site", "positive") and missing.any():
            raise ContractError(f"Column {col!r}{where} is empty at {rows(missing)}; every row needs a {col}.")
        codes[col] = coded
    out["year"] = _as_int(out, "year", rows, where)
    if time == "month":
        out["month"] = _as_int(out, "month", rows, where)
        bad = ~out["month"].between(1, 12).to_numpy()
        if bad.any():
            raise ContractError(f"Column 'month'{where} must be 1-12; {rows(bad)} are not (e.g. {out['month'][bad].iloc[0]}).")
    for col in [c for c in _FLOAT if c in out.columns]:
        out[col] = _as_float(out, col, rows, where)

    _check_vocabulary(codes["kind"], "kind", KINDS, rows, where, "")
    _check_vocabulary(
        codes["variable"], "variable", list(VARIABLES) + list(variables or ()), rows, where,
        " Pass variables=[...] to accept other variable names.",
    )
    if time == "season":
        _check_vocabulary(
            codes["season"], "season", list(SEASONS) + list(seasons or ()), rows, where,
            " Pass seasons=[...] to accept other season names.",
        )
    if "positive" in out.columns:
        _check_vocabulary(codes["positive"], "positive", ("up", "down"), rows, where,
                          " Use 'up' (release positive) or 'down' (uptake positive).")
    for col, lo, hi in (("lat", -90, 90), ("lon", -180, 360)):
        if col in out.columns:
            bad = (out[col].notna() & ~out[col].between(lo, hi)).to_numpy()
            if bad.any():
                raise ContractError(f"Column {col!r}{where} must lie in [{lo}, {hi}]; {rows(bad)} do not.")

    validated = LongTable(out, codes)
    _check_units(validated, where)
    _check_duplicates(validated, rows, where)
    return validated


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
    column = out[col]
    if column.dtype == np.int64 and (not len(column) or max(-int(column.min()), int(column.max())) <= 9999):
        return column  # already whole numbers of at most 4 digits
    numeric = pd.to_numeric(column, errors="coerce")
    bad = (numeric.isna() | (numeric != np.round(numeric)) | (numeric.abs() > 9999)).to_numpy()
    if bad.any():
        example = out[col][bad].iloc[0]
        raise ContractError(f"Column {col!r}{where} must hold whole numbers (at most 4 digits); {rows(bad)} do not (e.g. {example!r}).")
    return numeric.astype("int64")


def _as_float(out: pd.DataFrame, col: str, rows, where: str) -> pd.Series:
    column = out[col]
    if column.dtype == np.float64 and not np.isinf(column.to_numpy()).any():
        return column
    numeric = pd.to_numeric(column, errors="coerce")
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


def _check_vocabulary(coded: Codes, col, allowed, rows, where, hint) -> None:
    """Values outside ``allowed`` (missing values pass: required columns were checked for them)."""
    unknown = ~pd.Index(coded.uniques).isin(list(allowed))
    if unknown.any():
        bad = sorted(map(str, coded.uniques[unknown]))
        first = bad[0]
        mask = np.isin(coded.codes, np.flatnonzero(unknown))
        raise ContractError(
            f"Unknown {col} {', '.join(repr(b) for b in bad[:5])}{where} at {rows(mask)}."
            f"{did_you_mean(first, allowed)} Known: {', '.join(allowed)}.{hint}"
        )


def _check_units(validated: LongTable, where: str) -> None:
    """One unit per (source, variable)."""
    if validated.codes["unit"].size == 1:
        return
    if len(distinct(*validated.key(["source", "variable", "unit"]))) == len(distinct(*validated.key(["source", "variable"]))):
        return
    out = validated.table
    units = out.groupby(["source", "variable"], sort=True)["unit"].unique()
    mixed = units[units.map(len) > 1]
    (source, variable), values = mixed.index[0], mixed.iloc[0]
    raise ContractError(
        f"Variable {variable!r} of source {source!r}{where} mixes units {sorted(values)}. "
        "One source reports one variable in one unit: convert the rows first "
        "(pcstats.convert_units) or split the source."
    )


def _check_duplicates(validated: LongTable, rows, where: str) -> None:
    out = validated.table
    keys = key_columns(out)
    dup = duplicated(*validated.key(keys))
    if dup.any():
        first = out.loc[dup, keys].iloc[0].to_dict()
        raise ContractError(
            f"Duplicate keys{where}: {int(dup.sum())} rows share their ({', '.join(keys)}) with another row, "
            f"at {rows(dup)}; first key: {first}. Aggregate them first, or add the column that tells them apart "
            "(e.g. 'site')."
        )
