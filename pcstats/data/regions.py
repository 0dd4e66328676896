"""Region classes, gradient bins and area-weighted aggregation of cells into regions.

Classes (the paper's thresholds, in %):

* permafrost extent P: ``ConP`` (P > 90), ``DisconP`` (10 <= P <= 90), ``NoP`` (P < 10);
  the permafrost region ``P`` is ConP + DisconP (P >= 10).
* tree cover TC: ``TC<30``, ``TC30-50`` (30 <= TC <= 50), ``TC>50``.
* gradients: 5 % bins of TC and P (``TC[30,35)``; the last bin is closed, ``[95,100]``),
  1 degC bins of mean annual temperature (``MAT[-5,-4)``).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import ContractError
from .contract import time_column

__all__ = [
    "permafrost_class",
    "permafrost_region",
    "tree_cover_class",
    "bin_labels",
    "cell_attributes",
    "classify",
    "aggregate",
]


def permafrost_class(p: Sequence[float] | np.ndarray) -> np.ndarray:
    """ConP (> 90 %), DisconP (10-90 %), NoP (< 10 %); NaN stays missing.

    >>> permafrost_class([95, 90, 10, 9.9]).tolist()
    ['ConP', 'DisconP', 'DisconP', 'NoP']
    """
    p = np.asarray(p, dtype=float)
    out = np.select([p > 90, p >= 10, p < 10], ["ConP", "DisconP", "NoP"], default=None).astype(object)
    return out


def permafrost_region(p: Sequence[float] | np.ndarray) -> np.ndarray:
    """``P`` where permafrost extent is at least 10 % (ConP + DisconP), else ``NoP``.

    >>> permafrost_region([50, 3]).tolist()
    ['P', 'NoP']
    """
    p = np.asarray(p, dtype=float)
    return np.select([p >= 10, p < 10], ["P", "NoP"], default=None).astype(object)


def tree_cover_class(tc: Sequence[float] | np.ndarray) -> np.ndarray:
    """TC<30, TC30-50 (30-50 % inclusive), TC>50.

    >>> tree_cover_class([10, 30, 50, 51]).tolist()
    ['TC<30', 'TC30-50', 'TC30-50', 'TC>50']
    """
    tc = np.asarray(tc, dtype=float)
    return np.select([tc < 30, tc <= 50, tc > 50], ["TC<30", "TC30-50", "TC>50"], default=None).astype(object)


def bin_labels(x: Sequence[float] | np.ndarray, name: str, width: float, lower: float | None = None,
               upper: float | None = None) -> np.ndarray:
    """Label values by left-closed bins of ``width``: ``name[lo,hi)``.

    ``lower``/``upper`` bound the range (values outside are an error); the last bin is closed,
    ``[upper - width, upper]``.

    >>> bin_labels([0, 4.9, 5, 97, 100], "TC", 5, 0, 100).tolist()
    ['TC[0,5)', 'TC[0,5)', 'TC[5,10)', 'TC[95,100]', 'TC[95,100]']
    >>> bin_labels([-4.5], "MAT", 1).tolist()
    ['MAT[-5,-4)']
    """
    x = np.asarray(x, dtype=float)
    finite = np.isfinite(x)
    if lower is not None and upper is not None and ((x[finite] < lower) | (x[finite] > upper)).any():
        raise ContractError(f"{name} values must lie in [{lower}, {upper}] to be binned; some do not.")
    lo = np.floor(x / width) * width
    closed = np.zeros_like(finite)
    if upper is not None:  # the last bin is closed: [upper - width, upper]
        lo = np.where(finite & (x == upper), upper - width, lo)
        closed = finite & (lo == upper - width)
    labels = np.empty(x.shape, dtype=object)
    for i in np.flatnonzero(finite):
        a, b = _fmt(lo[i]), _fmt(lo[i] + width)
        labels[i] = f"{name}[{a},{b}]" if closed[i] else f"{name}[{a},{b})"
    return labels


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def cell_attributes(table: pd.DataFrame, variables: Sequence[str] = ("TC", "P", "MAT")) -> pd.DataFrame:
    """Per-region mean over all years of static covariates, one row per region (cell).

    Returns a frame indexed by ``region`` with one column per variable.
    """
    present = set(table["variable"].unique())
    missing = [v for v in variables if v not in present]
    if missing:
        raise ContractError(
            f"cell_attributes(): no rows of variable(s) {missing}; the covariate table has "
            f"{sorted(present)}."
        )
    rows = table[table["variable"].isin(list(variables))]
    return rows.pivot_table(index="region", columns="variable", values="value", aggfunc="mean")[list(variables)]


def classify(attributes: pd.DataFrame) -> pd.DataFrame:
    """Add every region scheme to per-cell attributes with columns TC, P and (optionally) MAT.

    Columns added: ``permafrost`` (P/NoP), ``p_class``, ``tc_class``, ``p_tc_class``
    (``ConP/TC<30``), ``tc_bin``, ``p_bin`` and, with MAT, ``mat_bin``.
    """
    for col in ("TC", "P"):
        if col not in attributes.columns:
            raise ContractError(f"classify(): column {col!r} is missing; it needs TC and P in percent.")
    if attributes["TC"].max() <= 1 and attributes["P"].max() <= 1:
        warnings.warn("classify(): TC and P are all <= 1; they must be percent (0-100), not fractions.", stacklevel=2)
    out = attributes.copy()
    out["permafrost"] = permafrost_region(out["P"])
    out["p_class"] = permafrost_class(out["P"])
    out["tc_class"] = tree_cover_class(out["TC"])
    out["p_tc_class"] = out["p_class"] + "/" + out["tc_class"]
    out["tc_bin"] = bin_labels(out["TC"], "TC", 5, 0, 100)
    out["p_bin"] = bin_labels(out["P"], "P", 5, 0, 100)
    if "MAT" in out.columns:
        out["mat_bin"] = bin_labels(out["MAT"], "MAT", 1)
    return out


def aggregate(
    table: pd.DataFrame,
    groups: Mapping[str, str] | pd.Series,
    *,
    weight: str | None = "weight",
) -> pd.DataFrame:
    """Weighted mean of cells (``region``) into the regions ``groups`` maps them to.

    Parameters
    ----------
    table
        Valid long table whose ``region`` values are cells.
    groups
        ``{cell: region label}``; cells mapped to nothing (absent or NaN) are left out.
    weight
        ``"weight"`` to weight by the table's ``weight`` column (cell area), ``"coslat"`` to
        weight by cos(latitude), ``None`` for an unweighted mean.

    A region's value is NaN if any of its cells (those the table has for that source and
    variable) is NaN or absent for that row's keys: cells are never silently left out of one
    year and kept in another. Weights must be positive and finite. The output's ``weight`` is the
    summed area (the table's ``weight`` column) of the cells present, whatever weights the mean
    used, so regional totals (mean x area) stay at hand; without that column, the summed weights.
    """
    groups = pd.Series(groups, dtype=object)
    label = table["region"].map(groups)
    if label.isna().all():
        raise ContractError("aggregate(): no region of the table is in `groups`; check the cell identifiers.")
    work = table.loc[label.notna()].copy()
    work["region"] = label[label.notna()]
    work["_cell"] = table.loc[label.notna(), "region"]
    if weight == "coslat":
        if "lat" not in work.columns:
            raise ContractError("aggregate(weight='coslat') needs a 'lat' column.")
        w = np.cos(np.deg2rad(work["lat"].to_numpy()))
    elif weight is None:
        w = np.ones(len(work))
    else:
        if weight not in work.columns:
            raise ContractError(
                f"aggregate(weight={weight!r}): the table has no {weight!r} column. Use weight='coslat' or weight=None."
            )
        w = work[weight].to_numpy(dtype=float)
    bad = ~(np.isfinite(w) & (w > 0))
    if bad.any():
        cells = sorted(work.loc[bad, "_cell"].unique())
        raise ContractError(f"aggregate(): weights must be positive and finite; cells {cells[:5]} have {w[bad][0]!r}.")
    work["_w"] = w
    work["_area"] = work["weight"].to_numpy(dtype=float) if "weight" in work.columns else w
    work["_wv"] = w * work["value"].to_numpy()
    work["_nan"] = work["value"].isna()
    keys = ["source", "kind", "region"] + (["site"] if "site" in work.columns else [])
    keys += ["year", time_column(work), "variable", "unit"] + (["positive"] if "positive" in work.columns else [])
    agg = work.groupby(keys, sort=True, dropna=False).agg(
        _wv=("_wv", "sum"), _w=("_w", "sum"), _area=("_area", "sum"), _nan=("_nan", "any"), _cells=("_cell", "size"))
    # every cell a region has for this source and variable must be present in every row
    members = work.groupby(["source", "region", "variable"])["_cell"].nunique().rename("_members")
    agg = agg.reset_index().merge(members.reset_index(), on=["source", "region", "variable"])
    incomplete = agg["_nan"] | (agg["_cells"] < agg["_members"])
    agg["value"] = np.where(incomplete, np.nan, agg["_wv"] / agg["_w"])
    agg["weight"] = agg["_area"]
    columns = [c for c in table.columns if c not in ("lat", "lon", "ensemble_sd", "ensemble_n")]
    if "weight" not in columns:
        columns.append("weight")
    return agg[columns]
