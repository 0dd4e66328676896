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
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..data.coded import Codes, combine, dense, dense_range, distinct, factorize, table_hash
from ..data.contract import VARIABLES, LongTable, key_columns, validate_coded
from ..data.seasons import SEASONS
from ..errors import ContractError, FormulaError, SpecError, did_you_mean, rows_text
from ..specs.formula import evaluate_where, where_names
from ..specs.r_formula import model_formula

__all__ = ["Prepared", "long_table", "prepare", "prepare_frame", "group_frame", "data_hash", "is_long", "ordered_columns"]


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


def is_long(data: pd.DataFrame | LongTable) -> bool:
    """A data frame is a long table when it has the contract's ``variable`` and ``value`` columns."""
    return isinstance(data, LongTable) or ("variable" in data.columns and "value" in data.columns)


def data_hash(table: pd.DataFrame) -> str:
    """A 256-bit hash of the table's contents (row order included), for provenance."""
    return table_hash(table)


#: columns computed per group after filtering, from the key columns they need
DERIVED: dict[str, str] = {"year_c": "year", "period": "year"}


def prepare(
    table: pd.DataFrame | LongTable,
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

    The table is validated once and its text columns factorized once; rows are then selected,
    matched and grouped by integer codes, and the text columns are rebuilt for the kept rows only.
    """
    validated = long_table(table)
    table = validated.table
    digest = validated.digest
    keys = [k for k in key_columns(table) if k != "variable"]
    variable = validated.codes["variable"]
    present = [str(v) for v in variable.uniques]
    model = model_formula(formula, keys + present, ordered_columns(table))  # read once; carried in Prepared.model
    for b in by:
        if b not in keys:
            hint = (" The table is monthly: make its seasons first (pcstats.seasonalize(table), or "
                    "`pcstats seasonalize TABLE --out SEASONAL`)." if b == "season" and "month" in keys else "")
            raise SpecError(f"by={tuple(by)!r}: {b!r} is not a key column.{did_you_mean(b, keys)} Key columns: {', '.join(keys)}.{hint}")
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
    rows = {v: _rows_of(variable, v) for v in needed}
    if where and filter_names <= set(keys):
        # a filter on key columns picks the response's rows; other variables are matched to them
        keep = evaluate_where(where, table)[rows[response]]
        removed.append(("where", f"{response} rows not matching where={where!r}", int((~keep).sum()), len(keep)))
        rows[response] = rows[response][keep]
    units = _units(validated, rows)
    if "positive" in table.columns:
        _refuse_mixed_signs(table.take(np.concatenate(list(rows.values()))), needed, by)
    wide = _pivot(validated, keys, rows, response)
    if where and not filter_names <= set(keys):
        keep = evaluate_where(where, _as_text(wide, filter_names))
        removed.append(("where", f"observations not matching where={where!r}", int((~keep).sum()), len(wide)))
        wide = wide[keep]
    if wide.empty:
        raise ContractError(_empty_message(table, where, filter_names, keys))

    if missing_ok:
        wide, needed, names = _mark_empty(wide, needed), [*[n for n in needed if n in required], EMPTY_ROW], names + [EMPTY_ROW]
    prepared = group_frame(wide, names, needed, by, min_years, removed, units, digest, response, sort_years)
    shown = [*by, *[c for c in prepared.columns if c in keys]]  # key columns a model reads or groups by
    frame, groups = _as_text(prepared.frame, shown), _as_text(prepared.groups)
    if missing_ok:
        frame = frame.drop(columns=EMPTY_ROW)
    return dataclasses.replace(prepared, frame=frame, groups=groups, model=model)


def long_table(table: pd.DataFrame | LongTable) -> LongTable:
    """Validate a long table once, for fitting many specs to it (``pc.fit(spec, long_table(t))``).

    Season and variable names outside pcstats' vocabulary are accepted as the user's own
    (``JJA``, ``SOC``) unless they look like a typo of a name also in the table.

    Examples
    --------
    >>> import pcstats as pc
    >>> t = pc.long_table(pc.read_table("tests/reference/trend_input.csv"))
    >>> len(t)
    1640
    >>> [round(float(pc.fit(pc.TrendSpec("NEE ~ year", by=("source", "region"), where=f"season == '{s}'"), t)
    ...              .tidy()["estimate"].iloc[1]), 3) for s in ("ANN", "LGS")]
    [-0.169, -2.624]
    """
    if isinstance(table, LongTable):
        return table
    if table.empty:
        raise ContractError("the table has no rows to fit.")
    seasons = _custom_names(table, "season", SEASONS) if "season" in table.columns else None
    variables = _custom_names(table, "variable", VARIABLES) if "variable" in table.columns else None
    return validate_coded(table, seasons=seasons, variables=variables)


def _rows_of(variable: Codes, name: str) -> np.ndarray:
    """Positions of the rows of one variable."""
    code = variable.uniques.get_loc(name)
    return np.flatnonzero(variable.codes == code) if variable.size > 1 else np.arange(len(variable.codes))


def _as_text(frame: pd.DataFrame, columns=None) -> pd.DataFrame:
    """Categorical columns (the key columns of a pivoted long table) back to text."""
    cats = [c for c in (frame.columns if columns is None else columns)
            if c in frame.columns and isinstance(frame[c].dtype, pd.CategoricalDtype)]
    if not cats:
        return frame
    out = {}
    for c in cats:
        codes = frame[c].cat.codes.to_numpy()
        categories = frame[c].cat.categories
        if not len(categories):
            out[c] = pd.Series(np.nan, index=frame.index, dtype="str")
            continue
        text = pd.Series(categories.take(np.maximum(codes, 0)), index=frame.index)
        out[c] = text.where(codes >= 0) if (codes < 0).any() else text
    return frame.assign(**out)


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

    Groups are numbered in the order of their ``by`` values (as ``groupby(sort=True)``; missing
    last). A row missing several columns is counted once, under the first of ``check_nan`` it
    lacks, so the counts in ``dropped_why`` add up to ``n_dropped``. Without a ``year`` column,
    ``min_years`` counts observations.
    """
    columns = tuple(dict.fromkeys(columns))
    n = len(wide)
    if by:
        code, n_groups = dense(*combine([_group_codes(wide[b]) for b in by], n))
    else:
        code, n_groups = np.zeros(n, dtype=np.int64), int(n > 0)
    has_year = "year" in wide.columns
    year = wide["year"].to_numpy(dtype=np.int64) if has_year else None
    low = int(year.min()) if has_year and n else 0
    span = int(year.max()) - low + 1 if has_year and n else 1
    index = pd.Index(np.arange(n_groups, dtype=np.int64), name="_group")
    first = _first_rows(code, n_groups)
    groups = pd.DataFrame({"n_rows": np.bincount(code, minlength=n_groups),
                           **{b: wide[b].iloc[first].set_axis(index) for b in by}}, index=index)
    nan_any = np.zeros(n, dtype=bool)
    names, per_column = [], []
    for col in check_nan:  # each row counted once, under the first model column (in formula order) it lacks
        if col in columns:
            isnan = wide[col].isna().to_numpy() & ~nan_any
            if isnan.any():
                nan_any |= isnan
                per_column.append(np.bincount(code[isnan], minlength=n_groups))
            else:
                per_column.append(np.zeros(n_groups, dtype=np.int64))
            names.append(col)
    # kept rows in their final order: by group, then by year (or the table's order within a group)
    kept = np.flatnonzero(~nan_any) if nan_any.any() else np.arange(n)
    sort_key = code[kept] * span + (year[kept] - low) if has_year and sort_years else code[kept]
    if len(sort_key) > 1 and not bool((sort_key[1:] >= sort_key[:-1]).all()):
        order_rows = np.argsort(sort_key, kind="stable")
        kept, sort_key = kept[order_rows], sort_key[order_rows]
    kept_code = code[kept]
    groups["nobs"] = np.bincount(kept_code, minlength=n_groups)
    if has_year and sort_years:  # (group, year) pairs kept: where the sorted key changes
        pairs = sort_key[np.r_[True, sort_key[1:] != sort_key[:-1]]] if len(sort_key) else sort_key
    elif has_year:
        pairs = distinct(kept_code * span + (year[kept] - low), n_groups * span)
    years = np.bincount(pairs // span, minlength=n_groups) if has_year else groups["nobs"].to_numpy()
    constant, constant_value = _constant_groups(wide, kept, kept_code, n_groups, response)
    fit = (years >= min_years) & ~constant
    groups["fit"] = fit
    counts = np.column_stack(per_column) if per_column else np.zeros((n_groups, 0), dtype=np.int64)
    groups["dropped_why"] = _dropped_why(counts, names, fit, constant, constant_value,
                                         years, min_years, response, "years" if has_year else "observations")
    groups["n_dropped"] = np.where(fit, groups["n_rows"] - groups["nobs"], groups["n_rows"])
    order = list(by) + ["nobs", "n_dropped", "dropped_why", "fit"]

    fitted = fit[kept_code]
    rows = kept if fitted.all() else kept[fitted]
    frame = wide.take(rows).reset_index(drop=True)
    derived = {"_group": code[rows]}
    if "period" in columns and has_year and "period" not in frame.columns:  # the decade: "2000s", "2010s"
        derived["period"] = pd.Series(year[rows] // 10 * 10).astype(str) + "s"
    if "year_c" in columns and has_year:
        fitted_pairs = pairs[fit[pairs // span]]
        centre = (np.bincount(fitted_pairs // span, weights=fitted_pairs % span + low, minlength=n_groups)
                  / np.maximum(years, 1))
        derived["year_c"] = year[rows] - centre[code[rows]]
        groups["year_centre"] = np.where(fit, centre, np.nan)
        order.append("year_centre")
    return Prepared(
        frame=frame.assign(**derived),
        groups=groups[order],
        by=tuple(by),
        response=response or columns[0],
        columns=columns,
        units=units or {},
        removed=pd.DataFrame(list(removed), columns=["stage", "reason", "n_removed", "n_before"]),
        data_hash=digest,
    )


def _group_codes(column: pd.Series) -> Codes:
    """Codes of a grouping column in sorted order (a categorical's own order), missing last."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return Codes(column.cat.codes.to_numpy().astype(np.int64), pd.Index(column.cat.categories))
    return factorize(column, sort=True)


def _first_rows(code: np.ndarray, n_groups: int) -> np.ndarray:
    """Position of each group's first row (codes are 0 .. n_groups - 1)."""
    first = np.full(n_groups, len(code), dtype=np.int64)
    first[code[::-1]] = np.arange(len(code) - 1, -1, -1, dtype=np.int64)  # repeated indices: the last assignment wins
    return first


def _dropped_why(counts, names, fit, constant, constant_value, years, min_years, response, unit) -> np.ndarray:
    """Per group, why rows or the whole group were left out ("" when nothing was)."""
    why = np.full(len(fit), "", dtype=object)
    for j, name in enumerate(names):
        some = counts[:, j] > 0
        if some.any():
            part = np.char.add(counts[some, j].astype(str), f" NaN in {name}").astype(object)
            why[some] = np.where(why[some] != "", why[some] + "; " + part, part)
    for i in np.flatnonzero(~fit).tolist():
        if constant[i]:
            part = (f"not fitted: the response {response!r} is constant in this group (every value "
                    f"{constant_value[i]:g}): there is nothing to fit")
        else:
            part = f"not fitted: {years[i]} {unit} < min_years={min_years}"
        why[i] = f"{why[i]}; {part}" if why[i] else part
    return why


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


def _constant_groups(wide: pd.DataFrame, kept: np.ndarray, code: np.ndarray, n_groups: int,
                     response: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Groups whose numeric response takes one value on every kept row (no variance to explain), and that value.

    ``kept`` are the kept rows ordered by group (``code`` their groups).
    """
    if response is None or response not in wide.columns or not pd.api.types.is_numeric_dtype(wide[response]):
        return np.zeros(n_groups, dtype=bool), np.full(n_groups, np.nan)
    values = wide[response].to_numpy(dtype=float)[kept]
    known = ~np.isnan(values)  # NaN (kept by FIML) ignored
    if not known.all():
        values, code = values[known], code[known]
    same_group = code[1:] == code[:-1]
    differs = np.zeros(n_groups, dtype=bool)
    differs[code[1:][same_group & (values[1:] != values[:-1])]] = True
    first = np.full(n_groups, np.nan)
    starts = np.r_[True, ~same_group] if len(code) else np.zeros(0, dtype=bool)
    first[code[starts]] = values[starts]
    constant = ~differs & ~np.isnan(first) & (np.bincount(code, minlength=n_groups) > 1)
    return constant, first


def _units(validated: LongTable, rows: dict[str, np.ndarray]) -> dict[str, str]:
    """The unit of each variable, refusing a variable whose sources use different units."""
    unit = validated.codes["unit"]
    if unit.size == 1:
        return {var: str(unit.uniques[0]) for var, at in rows.items() if len(at)}
    out = {}
    for var, at in rows.items():
        found = np.flatnonzero(np.bincount(unit.codes[at], minlength=unit.size)) if len(at) else []
        if len(found) > 1:
            table = validated.table.take(at)
            by_unit = {str(unit.uniques[u]): sorted(table.loc[table["unit"] == unit.uniques[u], "source"].unique())[:3] for u in found}
            raise ContractError(
                f"Variable {var!r} mixes units {sorted(by_unit)} (sources: {by_unit}). A model needs one unit per "
                "variable: convert with pcstats.convert_units() or seasonalize all sources the same way."
            )
        if len(found):
            out[var] = str(unit.uniques[found[0]])
    return out


def _pivot(validated: LongTable, keys: list[str], rows: dict[str, np.ndarray], response: str) -> pd.DataFrame:
    """One row per key of the response, one column per variable; text key columns as categoricals.

    A variable from the response's own sources is matched on all keys. A variable whose sources
    are all different (AirT from CRU beside NEE from each inversion) is matched on the keys other
    than source and kind, so it pairs with every source of the response.
    """
    table, at = validated.table, rows[response]
    wide = {k: _key_values(validated, k, at) for k in keys}
    values = table["value"].to_numpy()
    wide[response] = values[at]
    source = validated.codes["source"]
    own = set(distinct(source.codes[at], source.size).tolist())
    for var, part in rows.items():
        if var == response:
            continue
        sources = set(distinct(source.codes[part], source.size).tolist())
        on = keys if sources & own or not len(part) else [k for k in keys if k not in ("source", "kind")]
        if on is not keys and len(sources) > 1:
            raise ContractError(
                f"Variable {var!r} comes from {sorted(str(source.uniques[c]) for c in sources)}, none of them a source "
                f"of {response!r} ({', '.join(sorted(str(source.uniques[c]) for c in own)[:5])}), so pcstats cannot tell "
                f"which to pair with each row. Keep one source of {var!r} in the table."
            )
        key, size = validated.key(on, np.concatenate([at, part]))
        match = _match(key[len(at):], key[:len(at)], size)
        if match is None:
            raise ContractError(f"Variable {var!r} has several rows for one ({', '.join(on)}) of {response!r}; "
                                f"keep one source of {var!r}, or add the key that separates them to the table.")
        wide[var] = np.where(match >= 0, values[part][np.maximum(match, 0)] if len(part) else np.nan, np.nan)
    return pd.DataFrame(wide, copy=False)


def _key_values(validated: LongTable, column: str, rows: np.ndarray):
    """A key column at ``rows``: text as a categorical of the validated codes (sorted categories), else values."""
    coded = validated.codes.get(column)
    if coded is None:
        return validated.table[column].to_numpy()[rows]
    return pd.Categorical.from_codes(coded.codes[rows], categories=coded.uniques, validate=False)


def _match(right: np.ndarray, left: np.ndarray, size: int) -> np.ndarray | None:
    """For each left key, the position of the same key in ``right`` (-1 if absent); None if ``right`` repeats a key."""
    if dense_range(size, len(right) + len(left)):
        counts = np.bincount(right, minlength=size)
        if (counts > 1).any():
            return None
        lookup = np.full(size, -1, dtype=np.int64)
        lookup[right] = np.arange(len(right))
        return lookup[left]
    index = pd.Index(right)
    if not index.is_unique:
        return None
    return index.get_indexer(left)


def _empty_message(table: pd.DataFrame, where: str | None, names: set[str], keys: list[str]) -> str:
    if not where:
        return "No rows to fit: the table has no rows for the formula's variables."
    present = []
    for name in sorted(names):
        if name in table.columns and name in keys:
            values = sorted(map(str, table[name].unique()))
            present.append(f"{name}: {', '.join(values[:12])}{' ...' if len(values) > 12 else ''}")
    return f"where={where!r} leaves no rows to fit. Values present -- " + "; ".join(present) + "."
