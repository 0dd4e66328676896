"""Monthly -> seasonal on grids, with the conventions of the table version (:func:`pcstats.seasonalize`).

Same seasons (:data:`pcstats.SEASONS`), same ``how`` (``"mean_x365"``, ``"mean"``, ``"total"``)
and ``winter`` (``"calendar"``, ``"spanning"``) conventions, and the same rule: a seasonal value
is NaN unless every month of the season is present and finite. ``"total"`` counts the days of
each month in the product's calendar (the ``native_calendar`` attribute that
:func:`pcstats.products.read_product` sets; Gregorian when absent). Fluxes are
recognised by the DataArray's name (a pcstats variable) and converted from their ``units``.
"""

from __future__ import annotations

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
    if values.chunks is not None:
        values = values.chunk({"time": -1})  # a cell's whole series in one chunk; space stays chunked
    factors = []  # applied in this order, as ``values * factor``
    if flux:
        factors.append(rate_factor(unit))  # gC m-2 d-1
        if how == "total":
            calendar = monthly.attrs.get("native_calendar", "standard")
            factors.append(days_in_month(full.year, full.month, calendar).astype(float).reshape(years.size, 12))
    members = [season_months(tuple(months), winter) for months in seasons.values()]
    divide = not (flux and how == "total")
    out = xr.apply_ufunc(
        _season_block, values, input_core_dims=[["time"]], output_core_dims=[["season", "year"]],
        kwargs={"factors": factors, "members": members, "divide": divide,
                "scale": DAYS_PER_YEAR if flux and how == "mean_x365" else None},
        dask="parallelized", output_dtypes=[_season_dtype(values.dtype, factors, divide)],
        dask_gufunc_kwargs={"output_sizes": {"season": len(seasons), "year": years.size}},
    ).assign_coords(season=list(seasons), year=years)
    out = out.transpose("season", "year", *[d for d in monthly.dims if d != "time"])
    attrs = dict(monthly.attrs)
    if flux:
        attrs["units"] = SEASON_UNITS[how]
    attrs["seasonal"] = f"how={how!r}, winter={winter!r}; NaN unless every month of the season is present"
    return out.rename(name).assign_attrs(attrs)


def _season_block(values: np.ndarray, factors: list, members: list, divide: bool, scale: float | None) -> np.ndarray:
    """Seasons of a block ``(..., time)`` of whole years of months: ``(..., season, year)``.

    One pass over the block in NumPy: the unit factors, then each season's months added in order
    (NaN if any is), divided by their number, then scaled.
    """
    if not np.issubdtype(values.dtype, np.floating):
        values = values.astype(np.float64)
    grid = values.reshape(*values.shape[:-1], -1, 12)
    for factor in factors:
        grid = grid * factor
    n_years = grid.shape[-2]
    parts = []
    for pairs in members:
        total = None
        for month, offset in pairs:
            term = grid[..., month - 1]
            if offset:  # from the following year; the last year has none
                term = np.concatenate([term[..., offset:], np.full((*term.shape[:-1], min(offset, n_years)), np.nan,
                                                                   dtype=term.dtype)], axis=-1)[..., :n_years]
            total = term if total is None else total + term
        parts.append(total / len(pairs) if divide else total)
    out = np.stack(parts, axis=-2)
    return out * scale if scale is not None else out


def _season_dtype(dtype: np.dtype, factors: list, divide: bool) -> np.dtype:
    """The dtype :func:`_season_block` returns, from a one-element trial."""
    return _season_block(np.zeros(12, dtype=dtype), factors=[f if np.ndim(f) == 0 else f[:1] for f in factors],
                         members=[[(1, 0)]], divide=divide, scale=None).dtype
