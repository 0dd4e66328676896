"""Monthly -> seasonal on grids, with the conventions of the table version (:func:`pcstats.seasonalize`).

Same seasons (:data:`pcstats.SEASONS`), same ``how`` (``"mean_x365"``, ``"mean"``, ``"total"``)
and ``winter`` (``"calendar"``, ``"spanning"``) conventions, and the same rule: a seasonal value
is NaN unless every month of the season is present and finite. ``"total"`` counts the days of
each month in the product's calendar (the ``native_calendar`` attribute that
:func:`pcstats.products.read_product` sets; Gregorian when absent). Fluxes are
recognised by the DataArray's name (a pcstats variable) and converted from their ``units``.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from ..data.contract import VARIABLES
from ..data.seasons import SEASON_UNITS, SEASONS, check_conventions, season_months
from ..data.units import DAYS_PER_YEAR, RATE_UNITS, rate_factor
from ..errors import ContractError, ProductError
from ..products.convert import days_in_month

__all__ = ["seasonalize_grid"]


def seasonalize_grid(
    monthly: xr.DataArray,
    seasons: Mapping[str, Sequence[int]] | None = None,
    *,
    how: str = "mean_x365",
    winter: str = "calendar",
) -> xr.DataArray:
    """Seasonal values of a monthly grid: dims ``season``, ``year`` and the other dims of ``monthly``.

    Parameters
    ----------
    monthly
        A variable with a monthly ``time`` axis (month starts), named as a pcstats variable
        (``NEE``, ``AirT``, ...), with a ``units`` attribute.
    seasons, how, winter
        As :func:`pcstats.seasonalize`.

    Examples
    --------
    >>> from pcstats.products import read_product
    >>> from pcstats.grid import seasonalize_grid
    >>> nee = read_product("fixtures/products/CT2019B.flux1x1-monthly.nc")["NEE"]
    >>> s = seasonalize_grid(nee)
    >>> s.dims, s["season"].values.tolist(), s.attrs["units"]
    (('season', 'year', 'lat', 'lon'), ['EGS', 'LGS', 'WIN', 'ANN'], 'gC m-2 yr-1')
    """
    if "time" not in monthly.dims:
        raise ProductError(f"seasonalize_grid(): {monthly.name!r} has no time dimension (dims {monthly.dims}).")
    check_conventions(how, winter)
    name = monthly.name
    flux = name in VARIABLES and VARIABLES[name].flux
    unit = monthly.attrs.get("units")
    if flux and unit not in RATE_UNITS:
        raise ContractError(f"seasonalize_grid(): {name} has units {unit!r}; fluxes must be rates in one of "
                            f"{', '.join(RATE_UNITS)}.")
    seasons = dict(SEASONS if seasons is None else seasons)
    time = pd.DatetimeIndex(monthly["time"].values)
    if time.has_duplicates or not (time.day == 1).all():
        raise ProductError(f"seasonalize_grid(): {name}'s time axis must hold distinct month starts, as read_product makes.")
    years = np.arange(time.year.min(), time.year.max() + 1)
    full = pd.date_range(f"{years[0]}-01-01", f"{years[-1]}-12-01", freq="MS")
    values = monthly.reindex(time=full)
    if flux:
        values = values * rate_factor(unit)  # gC m-2 d-1
        if how == "total":
            calendar = monthly.attrs.get("native_calendar", "standard")
            n_days = days_in_month(full.year, full.month, calendar).astype(float)
            values = values * xr.DataArray(n_days, dims="time", coords={"time": full})
    grid = values.coarsen(time=12).construct(time=("year", "month")).assign_coords(year=years, month=np.arange(1, 13))
    parts = []
    for season, months in seasons.items():
        pairs = season_months(tuple(months), winter)
        members = [grid.sel(month=m, drop=True).shift(year=-offset) if offset else grid.sel(month=m, drop=True)
                   for m, offset in pairs]
        # element-wise sums (NaN if any month is): the same arithmetic on NumPy and dask arrays
        reduced = functools.reduce(operator.add, members)
        parts.append(reduced if (flux and how == "total") else reduced / len(members))
    out = xr.concat(parts, dim=pd.Index(list(seasons), name="season"))
    if flux and how == "mean_x365":
        out = out * DAYS_PER_YEAR
    out = out.transpose("season", "year", *[d for d in monthly.dims if d != "time"])
    attrs = dict(monthly.attrs)
    if flux:
        attrs["units"] = SEASON_UNITS[how]
    attrs["seasonal"] = f"how={how!r}, winter={winter!r}; NaN unless every month of the season is present"
    return out.rename(name).assign_attrs(attrs)
