"""From a long table and a spec to the rows each group fits, counting everything removed.

Steps, each reported:

1. the formula's names are resolved: key columns (``year``, ``region``, ...) or ``variable``
   values, which become columns beside the response, matched on the key columns (a variable
   from other sources than the response's, such as CRU AirT beside inversion NEE, is matched on
   region, year and month/season and pairs with every source);
2. ``where`` filters rows (counted in ``Prepared.removed``): a filter on key columns selects the
   response's rows, which the other variables are then matched to;
3. rows with NaN in a formula column are dropped (counted per group and variable in ``glance()``);
4. groups with fewer than ``min_years`` distinct years are kept in ``glance()`` but not fitted.

``year_c`` is derived, not read: ``year`` minus the mean of the distinct years kept in the group
(the centre is in ``Prepared.groups["year_centre"]``); so is ``period``, the decade of ``year``
(``"2000s"``), when the table has no column of that name.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..data.contract import VARIABLES, key_columns, validate
from ..data.seasons import SEASONS
from ..errors import ContractError, FormulaError, SpecError, did_you_mean, rows_text
from ..specs.formula import evaluate_where, where_names
from ..specs.r_formula import model_formula

__all__ = ["Prepared", "prepare", "prepare_frame", "group_frame", "data_hash", "is_long", "ordered_columns"]


@dataclass(frozen=True)
class Prepared:
    """Rows ready to fit, grouped.

    ``frame`` holds the kept rows sorted by group then year, with an integer ``_group`` column;
    ``groups`` has one row per group (by-key values, ``nobs``, ``n_dropped``, ``dropped_why``,
    ``fit``), indexed by the same integer; ``removed`` counts rows removed before grouping.
    """

    frame: pd.DataFrame
    groups: pd.DataFrame
    by: tuple[str, ...]
    response: str
    columns: tuple[str, ...]
    units: dict[str, str]
    removed: pd.DataFrame
    data_hash: str
    model: Any = None  # the formula read once with the data's columns (ModelFormula, MixedModel, ...)
    long: bool = True  # rows came from a long table (else from a model frame)


def ordered_columns(frame: pd.DataFrame) -> list[str]:
    """Columns that are ordered factors (pandas ordered Categoricals): R gives them polynomial contrasts."""
    return [c for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype) and frame[c].cat.ordered]


def is_long(data: pd.DataFrame) -> bool:
    """A data frame is a long table when it has the contract's ``variable`` and ``value`` columns."""
    return "variable" in data.columns and "value" in data.columns


def data_hash(table: pd.DataFrame) -> str:
    """SHA-256 of the table's contents (row order included), for provenance."""
    digest = hashlib.sha256(pd.util.hash_pandas_object(table, index=False).to_numpy().tobytes())
    digest.update(",".join(map(str, table.columns)).encode())
    return digest.hexdigest()


#: columns computed per group after filtering, from the key columns they need
DERIVED: dict[str, str] = {"year_c": "year", "period": "year"}


def prepare(
    table: pd.DataFrame,
    formula: str,
    by: Sequence[str],
    where: str | None,
    min_years: int,
    extra: Sequence[str] = (),
    sort_years: bool = True,
    missing_ok: bool = False,
    required: Sequence[str] = (),
) -> Prepared:
    """Resolve names, pivot, filter, drop NaN and group; see the module docstring.

    With ``missing_ok`` (FIML) only rows missing every model variable, or one of ``required``, are dropped.

    ``extra`` names further columns the model needs besides the formula's (random slopes,
    grouping factors). Rows are sorted by group, then by year unless ``sort_years`` is False
    (mixed models keep the table's row order within a group, as R would see the data: lme4's
    optimizer path, and so its last digits, depend on row order).
    """
    if table.empty:
        raise ContractError("the table has no rows to fit.")
    seasons = _custom_names(table, "season", SEASONS) if "season" in table.columns else None
    variables = _custom_names(table, "variable", VARIABLES) if "variable" in table.columns else None
    table = validate(table, seasons=seasons, variables=variables)
    digest = data_hash(table)
    keys = [k for k in key_columns(table) if k != "variable"]
    present = table["variable"].unique().tolist()
    model = model_formula(formula, keys + present, ordered_columns(table))  # read once; carried in Prepared.model
    for b in by:
        if b not in keys:
            raise SpecError(f"by={tuple(by)!r}: {b!r} is not a key column.{did_you_mean(b, keys)} Key columns: {', '.join(keys)}.")
    filter_names = where_names(where) if where else set()
    names = list(dict.fromkeys(list(model.names) + list(extra)))
    _refuse_months_as_years(table, formula, names, by, filter_names)
    for name in names + sorted(filter_names - set(names)):
        if name in names and DERIVED.get(name) in keys:
            continue
        if name not in keys and name not in present:
            raise FormulaError(
                f"{'formula' if name in names else 'where'} names {name!r}, which is neither a key column nor a "
                f"variable in the table.{did_you_mean(name, keys + present)} Variables present: {', '.join(present)}; "
                f"key columns: {', '.join(keys)}."
            )
    if len(model.response.names) != 1 or model.response.names[0] not in present:
        raise FormulaError(f"formula {formula!r}: the response {model.response.label!r} must be a variable of the table ({', '.join(present)}).")
    response = model.response.names[0]
    needed = [n for n in dict.fromkeys(names + sorted(filter_names)) if n in present and n not in keys]

    removed = []
    long = table[table["variable"].isin(needed)]
    if where and filter_names <= set(keys):
        # a filter on key columns picks the response's rows; other variables are matched to them
        response_rows = (long["variable"] == response).to_numpy()
        keep = np.ones(len(long), dtype=bool)
        keep[response_rows] = evaluate_where(where, long[response_rows])
        removed.append(("where", f"{response} rows not matching where={where!r}",
                        int((~keep).sum()), int(response_rows.sum())))
        long = long[keep]
    units = _units(long, needed)
    _refuse_mixed_signs(long, needed, by)
    wide = _pivot(long, keys, needed, response)
    if where and not filter_names <= set(keys):
        keep = evaluate_where(where, wide)
        removed.append(("where", f"observations not matching where={where!r}", int((~keep).sum()), len(wide)))
        wide = wide[keep]
    if wide.empty:
        raise ContractError(_empty_message(table, where, filter_names, keys))

    if missing_ok:
        wide, needed, names = _mark_empty(wide, needed), [*[n for n in needed if n in required], EMPTY_ROW], names + [EMPTY_ROW]
    prepared = group_frame(wide, names, needed, by, min_years, removed, units, digest, response, sort_years)
    if missing_ok:
        prepared = dataclasses.replace(prepared, frame=prepared.frame.drop(columns=EMPTY_ROW))
    return dataclasses.replace(prepared, model=model)


EMPTY_ROW = "every model variable"  # a row missing all of them is dropped and counted under this name


def _mark_empty(wide: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """``wide`` with a column that is NaN exactly where every one of ``columns`` is."""
    empty = wide[list(columns)].isna().all(axis=1).to_numpy()
    return wide.assign(**{EMPTY_ROW: np.where(empty, np.nan, 0.0)})


def prepare_frame(
    data: pd.DataFrame,
    names: Sequence[str],
    by: Sequence[str],
    where: str | None,
    min_years: int,
    response: str,
    argument: str = "formula",
    missing_ok: bool = False,
    required: Sequence[str] = (),
) -> Prepared:
    """Rows of a model frame (any data frame, formula names are its columns) ready to fit.

    ``names`` are the columns the model reads (formula, random effects, weights); ``by`` and
    ``where`` may name any column. Rows with a NaN in a model column are dropped and counted once;
    with ``missing_ok`` (FIML) only rows missing every model column, or one of ``required``.
    """
    columns = [str(c) for c in data.columns]
    if len(set(columns)) != len(columns):
        dup = sorted({c for c in columns if columns.count(c) > 1})
        raise ContractError(f"the data frame has duplicated column names ({', '.join(dup)}); rename them before fitting.")
    data = data.set_axis(columns, axis=1)
    filter_names = where_names(where) if where else set()
    for label, wanted in ((argument, names), ("by", by), ("where", sorted(filter_names))):
        for name in wanted:
            if name not in columns and not (name in DERIVED and DERIVED[name] in columns):
                what = f"by={tuple(by)!r}: {name!r} is not" if label == "by" else f"{label} names {name!r}, which is not"
                raise FormulaError(f"{what} a column of this data frame ({columns_text(name, columns)}).")
    digest = data_hash(data)
    keep_cols = list(dict.fromkeys([*by, *[n for n in names if n in columns], *sorted(filter_names)]))
    wide = data[keep_cols]
    removed = []
    if where:
        keep = evaluate_where(where, wide)
        removed.append(("where", f"rows not matching where={where!r}", int((~keep).sum()), len(wide)))
        wide = wide[keep]
        if wide.empty:
            raise ContractError(f"where={where!r} leaves no rows of the data frame to fit.")
    if wide.empty:
        raise ContractError("the data frame has no rows to fit.")
    model_cols = [n for n in names if n in columns]
    _check_model_columns(wide, model_cols, response)
    check = [*model_cols, *by]
    if missing_ok:
        check = [*[c for c in model_cols if c in required], EMPTY_ROW, *by]
        wide, names = _mark_empty(wide, model_cols), [*names, EMPTY_ROW]
    prepared = group_frame(wide.reset_index(drop=True), [*names, *by], check, by, min_years, removed,
                           {}, digest, response, sort_years=False)
    if missing_ok:
        prepared = dataclasses.replace(prepared, frame=prepared.frame.drop(columns=EMPTY_ROW))
    return dataclasses.replace(prepared, long=False)


def _check_model_columns(wide: pd.DataFrame, model_cols: Sequence[str], response: str) -> None:
    """A numeric response, and no infinite values (NaN is missing and dropped; inf is an error upstream)."""
    if response in wide.columns:
        dtype = wide[response].dtype
        if not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)):
            example = wide[response].dropna().iloc[0] if wide[response].notna().any() else None
            raise ContractError(
                f"the response {response!r} is not numeric (dtype {dtype}, e.g. {example!r}); a model needs numbers. "
                f"Convert it (pd.to_numeric(df[{response!r}])), or code a two-level outcome as 0/1.")
    for col in model_cols:
        if pd.api.types.is_numeric_dtype(wide[col].dtype) and not pd.api.types.is_bool_dtype(wide[col].dtype):
            values = wide[col].to_numpy(dtype=float, na_value=np.nan)
            infinite = np.isinf(values)
            if infinite.any():
                raise ContractError(
                    f"column {col!r} holds infinite values at {rows_text(wide.index[infinite].tolist())}; write "
                    "missing values as NaN (those rows are then dropped and counted) and check the step that made them.")


def columns_text(name: str, columns: Sequence[str]) -> str:
    """``columns: a, b, c; did you mean 'b'?`` for messages about a model frame."""
    shown = ", ".join(map(str, columns[:30])) + (" ..." if len(columns) > 30 else "")
    hint = did_you_mean(name, columns).strip()
    return f"columns: {shown}" + (f"; {hint[0].lower()}{hint[1:]}" if hint else "")


def group_frame(
    wide: pd.DataFrame,
    columns: Sequence[str],
    check_nan: Sequence[str],
    by: Sequence[str],
    min_years: int,
    removed: Sequence[tuple] = (),
    units: dict[str, str] | None = None,
    digest: str = "",
    response: str | None = None,
    sort_years: bool = True,
) -> Prepared:
    """Group a wide frame, drop rows with NaN in ``check_nan`` columns, flag short groups.

    A row missing several columns is counted once, under the first of ``check_nan`` it lacks, so
    the counts in ``dropped_why`` add up to ``n_dropped``. Without a ``year`` column,
    ``min_years`` counts observations.
    """
    columns = tuple(dict.fromkeys(columns))
    code = (wide.groupby(list(by), sort=True, dropna=False).ngroup().to_numpy(dtype=np.int64) if by
            else np.zeros(len(wide), dtype=np.int64))
    wide = wide.assign(_group=code)
    n_groups = int(code.max()) + 1 if len(code) else 0
    first = np.unique(code, return_index=True)[1]  # each group's first row (codes are 0 .. n_groups - 1)
    index = pd.Index(np.arange(n_groups, dtype=np.int64), name="_group")
    groups = pd.DataFrame({"n_rows": np.bincount(code, minlength=n_groups),
                           **{b: wide[b].iloc[first].set_axis(index) for b in by}}, index=index)
    nan_any = np.zeros(len(wide), dtype=bool)
    names, per_column = [], []
    for col in check_nan:  # each row counted once, under the first model column (in formula order) it lacks
        if col in columns:
            isnan = wide[col].isna().to_numpy() & ~nan_any
            nan_any |= isnan
            names.append(col)
            per_column.append(np.bincount(code, weights=isnan, minlength=n_groups).astype(np.int64))
    kept = wide[~nan_any]
    kept_code = code[~nan_any]
    has_year = "year" in kept.columns
    groups["nobs"] = np.bincount(kept_code, minlength=n_groups)
    if has_year:
        years = kept.groupby("_group")["year"].nunique().reindex(index, fill_value=0).to_numpy()
    else:
        years = groups["nobs"].to_numpy()
    groups["fit"] = years >= min_years
    constant = _constant_groups(kept, kept_code, n_groups, response)
    groups["fit"] &= ~constant
    why = np.full(len(groups), "", dtype=object)
    counts = np.column_stack(per_column) if per_column else np.zeros((n_groups, 0), dtype=np.int64)
    fit, n_years = groups["fit"].to_numpy(), years
    unit = "years" if has_year else "observations"
    for i in np.flatnonzero((counts > 0).any(axis=1) | ~fit).tolist():  # only groups with something to report
        parts = [f"{counts[i, j]} NaN in {c}" for j, c in enumerate(names) if counts[i, j] > 0]
        if constant[i]:
            parts.append(f"not fitted: the response {response!r} is constant in this group (every value "
                         f"{float(kept[response].to_numpy()[kept_code == i][0]):g}): there is nothing to fit")
        elif not fit[i]:
            parts.append(f"not fitted: {n_years[i]} {unit} < min_years={min_years}")
        why[i] = "; ".join(parts)
    groups["dropped_why"] = why
    groups["n_dropped"] = np.where(groups["fit"], groups["n_rows"] - groups["nobs"], groups["n_rows"])
    order = list(by) + ["nobs", "n_dropped", "dropped_why", "fit"]
    sort_cols = ["_group"] + (["year"] if has_year and sort_years else [])
    frame = kept[kept["_group"].isin(groups.index[groups["fit"]])].sort_values(sort_cols, kind="stable")
    if "period" in columns and has_year and "period" not in frame.columns:  # the decade: "2000s", "2010s"
        frame = frame.assign(period=(frame["year"] // 10 * 10).astype(int).astype(str) + "s")
    if "year_c" in columns and has_year:
        centre = frame.groupby("_group")["year"].agg(lambda y: float(np.mean(np.unique(y))))
        frame = frame.assign(year_c=frame["year"] - frame["_group"].map(centre))
        groups["year_centre"] = centre.reindex(groups.index)
        order.append("year_centre")
    return Prepared(
        frame=frame.reset_index(drop=True),
        groups=groups[order],
        by=tuple(by),
        response=response or columns[0],
        columns=columns,
        units=units or {},
        removed=pd.DataFrame(list(removed), columns=["stage", "reason", "n_removed", "n_before"]),
        data_hash=digest,
    )


def _custom_names(table: pd.DataFrame, column: str, known) -> list[str]:
    """Names in ``column`` outside the vocabulary that a fit accepts as the user's own (``JJA``, ``SOC``).

    A name that differs from a known name also present in the table only by case or by a close
    spelling (``'LSG'`` beside ``'LGS'``, ``'nee'`` beside ``'NEE'``) is a typo: those rows would
    be fitted as a group of their own, or left out, without a word, so it is refused.
    """
    values = [str(v) for v in pd.unique(table[column].dropna())]
    known_present = [v for v in values if v in known]
    custom = []
    for value in values:
        if value in known:
            continue
        hint = did_you_mean(value, known_present)
        if hint:
            n = int((table[column] == value).sum())
            raise ContractError(
                f"{column} {value!r} on {n} row(s) of the table looks like a typo.{hint} Those rows would be fitted "
                f"as a {column} of their own (or left out). Correct them (table.replace({{{column!r}: {{{value!r}: ...}}}})), "
                f"or give a {column} of your own a name that cannot be mistaken for one of {', '.join(known_present)}.")
        custom.append(value)
    return custom


def _refuse_months_as_years(table: pd.DataFrame, formula: str, names: Sequence[str], by: Sequence[str],
                            filter_names: set[str]) -> None:
    """A trend over years on a monthly table would take each month as an independent observation."""
    if "month" not in table.columns or "month" in set(names) | set(by) | filter_names:
        return
    if {"year", "year_c"} & set(names):
        raise ContractError(
            f"formula {formula!r} is fitted over years, but the table is monthly (column 'month'): each of the 12 "
            "months would count as an independent observation of its year. Seasonalize it first "
            "(pcstats.seasonalize(table)) and pick a season (where=\"season == 'ANN'\"), or model the months "
            "explicitly: add 'month' to by=, to the formula, or to where=.")


def _refuse_mixed_signs(long: pd.DataFrame, needed: Sequence[str], by: Sequence[str]) -> None:
    """Net fluxes (NEE, NBP) on two sign conventions (``positive`` up and down) in one fitted group."""
    if "positive" not in long.columns:
        return
    for var in needed:
        if var not in VARIABLES or not VARIABLES[var].net:
            continue
        rows = long[(long["variable"] == var) & long["positive"].notna()]
        keys = [b for b in by if b in rows.columns]
        signs = rows.groupby(keys, sort=True)["positive"].nunique() if keys else pd.Series([rows["positive"].nunique()])
        mixed = signs[signs > 1]
        if len(mixed):
            first = dict(zip(keys, (v.item() if hasattr(v, "item") else v for v in np.atleast_1d(mixed.index[0]))))
            where = f" in the group {first}" if keys else ""
            group = rows if not keys else rows[(rows[keys] == pd.Series(first)).all(axis=1)]
            by_sign = {s: sorted(group.loc[group["positive"] == s, "source"].unique())[:4] for s in ("up", "down")}
            raise ContractError(
                f"{var} is pooled from sources with opposite sign conventions{where}: positive='up' (release "
                f"positive) for {by_sign['up']}, 'down' (uptake positive) for {by_sign['down']}. Put them on one "
                "convention first: pcstats.convert_units(table) (uptake positive, as the paper).")


def _constant_groups(kept: pd.DataFrame, code: np.ndarray, n_groups: int, response: str | None) -> np.ndarray:
    """Groups whose numeric response takes one value on every kept row (no variance to explain)."""
    if response is None or response not in kept.columns or not pd.api.types.is_numeric_dtype(kept[response]):
        return np.zeros(n_groups, dtype=bool)
    values = kept[response].to_numpy(dtype=float)
    low, high = np.full(n_groups, np.inf), np.full(n_groups, -np.inf)
    np.fmin.at(low, code, values)  # NaN (kept by FIML) ignored
    np.fmax.at(high, code, values)
    return (low == high) & (np.bincount(code, minlength=n_groups) > 1)


def _units(long: pd.DataFrame, needed: list[str]) -> dict[str, str]:
    units = long.groupby("variable")["unit"].unique()
    for var in needed:
        found = sorted(units.get(var, []))
        if len(found) > 1:
            by_unit = {u: sorted(long.loc[(long["variable"] == var) & (long["unit"] == u), "source"].unique())[:3] for u in found}
            raise ContractError(
                f"Variable {var!r} mixes units {found} (sources: {by_unit}). A model needs one unit per "
                "variable: convert with pcstats.convert_units() or seasonalize all sources the same way."
            )
    return {v: str(units[v][0]) for v in needed if v in units.index}


def _pivot(long: pd.DataFrame, keys: list[str], needed: list[str], response: str) -> pd.DataFrame:
    """One row per key of the response, one column per variable.

    A variable from the response's own sources is matched on all keys. A variable whose sources
    are all different (AirT from CRU beside NEE from each inversion) is matched on the keys other
    than source and kind, so it pairs with every source of the response.
    """
    rows = {v: long[long["variable"] == v] for v in needed}
    wide = rows[response][keys + ["value"]].rename(columns={"value": response}).reset_index(drop=True)
    own = set(wide["source"].unique())
    for var in needed:
        if var == response:
            continue
        part = rows[var]
        sources = set(part["source"].unique())
        on = keys if sources & own or part.empty else [k for k in keys if k not in ("source", "kind")]
        if on is not keys and len(sources) > 1:
            raise ContractError(
                f"Variable {var!r} comes from {sorted(sources)}, none of them a source of {response!r} "
                f"({', '.join(sorted(own)[:5])}), so pcstats cannot tell which to pair with each row. "
                f"Keep one source of {var!r} in the table."
            )
        wide = wide.merge(part[on + ["value"]].rename(columns={"value": var}), on=on, how="left", validate="many_to_one")
    return wide


def _empty_message(table: pd.DataFrame, where: str | None, names: set[str], keys: list[str]) -> str:
    if not where:
        return "No rows to fit: the table has no rows for the formula's variables."
    present = []
    for name in sorted(names):
        if name in table.columns and name in keys:
            values = sorted(map(str, table[name].unique()))
            present.append(f"{name}: {', '.join(values[:12])}{' ...' if len(values) > 12 else ''}")
    return f"where={where!r} leaves no rows to fit. Values present -- " + "; ".join(present) + "."
