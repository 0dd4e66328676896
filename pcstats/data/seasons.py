"""Monthly -> seasonal aggregation with explicit, selectable conventions.

Seasons (the paper's definitions): EGS May-Aug, LGS Sep-Oct, WIN Nov-Apr, ANN Jan-Dec.

``how`` -- what a seasonal flux value is:

``"mean_x365"`` (default, the paper's code)
    mean of the monthly daily rates in the season times 365, in gC m-2 yr-1: an annualised rate.
``"mean"``
    mean of the monthly daily rates, in gC m-2 d-1.
``"total"``
    the season's total, sum of daily rate x days in the month (leap years counted), in gC m-2 season-1.

Non-flux variables (AirT, PAR, SM, TC, P, ...) are always averaged and keep their unit.
``weight`` is averaged; ``ensemble_sd``/``ensemble_n`` are dropped (run :func:`pcstats.ensemble`
after seasonalizing, as SDs of monthly values say nothing about seasonal ones).

``winter`` -- which months make the winter of year *y*:

``"calendar"`` (default, the paper's code)
    Jan-Apr and Nov-Dec of the same calendar year *y*.
``"spanning"``
    Nov-Dec of *y* and Jan-Apr of *y + 1*: a winter labelled by the year it starts.

A seasonal value is NaN unless every month of the season is present and finite; how many
values came out incomplete is reported in a warning, and the rows stay in the table so the
fits downstream count and report them.
"""

from __future__ import annotations

import calendar
import warnings
from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from ..errors import ContractError
from .contract import time_column, validate
from .units import DAYS_PER_YEAR, RATE_UNITS, is_flux, rate_factor

__all__ = ["SEASONS", "SEASON_UNITS", "seasonalize", "season_months", "check_conventions"]

SEASONS: dict[str, tuple[int, ...]] = {
    "EGS": (5, 6, 7, 8),
    "LGS": (9, 10),
    "WIN": (11, 12, 1, 2, 3, 4),
    "ANN": tuple(range(1, 13)),
}

How = Literal["mean_x365", "mean", "total"]
Winter = Literal["calendar", "spanning"]
#: unit of a seasonal flux under each ``how``
SEASON_UNITS = {"mean_x365": "gC m-2 yr-1", "mean": "gC m-2 d-1", "total": "gC m-2 season-1"}


def check_conventions(how: str, winter: str) -> None:
    """Raise unless ``how`` and ``winter`` name conventions of this module."""
    if how not in SEASON_UNITS:
        raise ContractError(f"how={how!r} is not a convention; use one of {list(SEASON_UNITS)}.")
    if winter not in ("calendar", "spanning"):
        raise ContractError(f"winter={winter!r} is not a convention; use 'calendar' or 'spanning'.")


def season_months(months: Sequence[int], winter: Winter) -> list[tuple[int, int]]:
    """(month, year offset) pairs of one season: offset 1 means "from the following year".

    A season wraps when its listed months decrease (Nov, Dec, Jan, ...). Under ``"spanning"``
    the months after the wrap come from the next year; under ``"calendar"`` all from the same year.

    >>> season_months((11, 12, 1, 2), "spanning")
    [(11, 0), (12, 0), (1, 1), (2, 1)]
    """
    pairs, offset = [], 0
    for i, m in enumerate(months):
        if not 1 <= m <= 12:
            raise ContractError(f"Season months must be 1-12, got {m} in {tuple(months)}.")
        if i and m < months[i - 1] and winter == "spanning":
            offset = 1
        pairs.append((m, offset))
    return pairs


def seasonalize(
    monthly: pd.DataFrame,
    seasons: Mapping[str, Sequence[int]] | None = None,
    *,
    how: How = "mean_x365",
    winter: Winter = "calendar",
) -> pd.DataFrame:
    """Aggregate a monthly long table to seasons.

    Parameters
    ----------
    monthly
        Valid long table with a ``month`` column. Flux rows must be rates in one of
        :data:`pcstats.data.units.RATE_UNITS`; they are converted to gC m-2 d-1 first.
    seasons
        ``{name: months}``; default :data:`SEASONS`.
    how, winter
        The conventions described in this module's docstring.

    Returns
    -------
    DataFrame
        The long table with ``season`` in place of ``month``, one row per season and year that
        has at least one month of data.

    Examples
    --------
    >>> import pandas as pd, pcstats as pc
    >>> m = pd.DataFrame({"source": "X", "kind": "inversion", "region": "P", "year": 2000,
    ...                   "month": range(1, 13), "variable": "GPP", "value": [0.0] * 4 + [2.0] * 4 + [1.0] * 4,
    ...                   "unit": "gC m-2 d-1"})
    >>> pc.seasonalize(m).set_index("season")["value"].round(2).to_dict()
    {'ANN': 365.0, 'EGS': 730.0, 'LGS': 365.0, 'WIN': 121.67}
    """
    if time_column(monthly) != "month":
        raise ContractError("seasonalize() needs a monthly table (column 'month'); this one already has 'season'.")
    monthly = validate(monthly, variables=monthly["variable"].unique().tolist())
    check_conventions(how, winter)
    seasons = dict(SEASONS if seasons is None else seasons)

    table = monthly.copy()
    flux = is_flux(table["variable"])
    odd = sorted(set(table.loc[flux, "unit"].unique()) - set(RATE_UNITS))
    if odd:
        raise ContractError(
            f"seasonalize() needs flux rates; unit(s) {odd} are not rates it knows ({', '.join(RATE_UNITS)})."
        )
    for unit in table.loc[flux, "unit"].unique():
        rows = flux & (table["unit"] == unit).to_numpy()
        table.loc[rows, "value"] = table.loc[rows, "value"] * rate_factor(unit)
        table.loc[rows, "unit"] = "gC m-2 d-1"
    if how == "total":
        days = np.array([calendar.monthrange(int(y), int(m))[1] for y, m in zip(table["year"], table["month"])])
        table.loc[flux, "value"] = table.loc[flux, "value"] * days[flux]

    # group on what identifies a series; weight is averaged; ensemble_sd/ensemble_n describe months
    # and are dropped (run pcstats.ensemble() after seasonalize())
    keys = [c for c in table.columns if c not in ("month", "value", "weight", "ensemble_sd", "ensemble_n")]
    extra = {"weight": ("weight", "mean")} if "weight" in table.columns else {}
    parts = []
    for name, months in seasons.items():
        pairs = season_months(tuple(months), winter)
        offset = dict(pairs)
        part = table[table["month"].isin(list(offset))].copy()
        part["year"] = part["year"] - part["month"].map(offset).astype("int64")
        agg = part.groupby(keys, dropna=False, sort=False).agg(
            sum=("value", "sum"), mean=("value", "mean"), count=("value", "count"), size=("value", "size"), **extra
        ).reset_index()
        agg["season"] = name
        agg["complete"] = (agg["count"] == len(pairs)) & (agg["size"] == len(pairs))
        parts.append(agg)
    out = pd.concat(parts, ignore_index=True)

    flux_out = is_flux(out["variable"])
    value = np.where(flux_out & (how == "total"), out["sum"], out["mean"])
    if how == "mean_x365":
        value = np.where(flux_out, value * DAYS_PER_YEAR, value)
    out["value"] = np.where(out["complete"], value, np.nan)
    out.loc[flux_out, "unit"] = SEASON_UNITS[how]
    incomplete = int((~out["complete"]).sum())
    if incomplete:
        warnings.warn(
            f"seasonalize: {incomplete} of {len(out)} seasonal values lack one or more months and are NaN "
            "(they stay in the table; fits report them as dropped).",
            stacklevel=2,
        )
    columns = [c if c != "month" else "season" for c in monthly.columns if c not in ("ensemble_sd", "ensemble_n")]
    out = out[columns].sort_values([c for c in ("source", "region", "variable", "season", "year") if c in columns])
    return out.reset_index(drop=True)
