"""Grids into the long table: one row per cell, time step and variable, each cell a ``region``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from ..data.contract import VARIABLES, validate
from ..errors import ProductError
from .geometry import cell_area

__all__ = ["to_long", "cell_id"]


def cell_id(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Region label of a cell from its centre: ``"60.50N_9.50W"``.

    >>> cell_id(np.array([60.5, -1.25]), np.array([-9.5, 120.0])).tolist()
    ['60.50N_9.50W', '1.25S_120.00E']
    """
    lat, lon = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
    ns = np.where(lat >= 0, "N", "S")
    ew = np.where(lon >= 0, "E", "W")
    return np.array([f"{abs(a):.2f}{h}_{abs(o):.2f}{e}" for a, h, o, e in zip(lat, ns, lon, ew)], dtype=object)


def to_long(ds: xr.Dataset, *, years: Sequence[int] | None = None) -> pd.DataFrame:
    """The pcstats variables of a canonical product Dataset as a validated long table.

    Monthly grids (``time``) give ``month`` rows; static maps (no time: TC, P) give ``season``
    ``"ANN"`` rows for each of ``years``. Columns ``lat``, ``lon`` and ``weight`` (cell area, km2)
    are filled in. Cells with no finite value of a variable are left out for that variable; how
    many is in ``table.attrs["pcstats"]["cells_without_data"]``.

    Examples
    --------
    >>> from pcstats.products import read_product
    >>> from pcstats.grid import to_long
    >>> t = to_long(read_product("fixtures/products/CT2019B.flux1x1-monthly.nc"))
    >>> t[["source", "kind", "region", "year", "month", "variable", "unit", "positive"]].iloc[0].to_dict()
    {'source': 'CT2019B', 'kind': 'inversion', 'region': '60.50N_9.50W', 'year': 2000, 'month': 1, 'variable': 'NEE', 'unit': 'gC m-2 yr-1', 'positive': 'down'}
    """
    variables = [v for v in ds.data_vars if v in VARIABLES]
    if not variables:
        raise ProductError(f"to_long(): the Dataset has no pcstats variable (has {list(ds.data_vars)}); read it with "
                           "pcstats.products.read_product.")
    static = "time" not in ds.dims
    if static and not years:
        raise ProductError("to_long(): a static map (no time) needs years=[...] to be written as annual rows.")
    area = cell_area(ds).values.ravel()
    lat2, lon2 = np.meshgrid(ds["lat"].values.astype(float), ds["lon"].values.astype(float), indexing="ij")
    ids = cell_id(lat2.ravel(), lon2.ravel())
    parts, without = [], {}
    for name in variables:
        da = ds[name].transpose(*([] if static else ["time"]), "lat", "lon")
        values = np.asarray(da.values, dtype=np.float64).reshape(-1 if not static else 1, ids.size)
        has_data = np.isfinite(values).any(axis=0)
        without[name] = int((~has_data).sum())
        cells = np.flatnonzero(has_data)
        if static:
            n_years = len(years)
            frame = pd.DataFrame({"region": np.tile(ids[cells], n_years), "year": np.repeat(np.asarray(years, int), cells.size),
                                  "season": "ANN", "value": np.tile(values[0, cells], n_years),
                                  "lat": np.tile(lat2.ravel()[cells], n_years), "lon": np.tile(lon2.ravel()[cells], n_years),
                                  "weight": np.tile(area[cells], n_years)})
        else:
            time = pd.DatetimeIndex(ds["time"].values)
            n_t = time.size
            frame = pd.DataFrame({"region": np.tile(ids[cells], n_t), "year": np.repeat(time.year, cells.size),
                                  "month": np.repeat(time.month, cells.size), "value": values[:, cells].ravel(),
                                  "lat": np.tile(lat2.ravel()[cells], n_t), "lon": np.tile(lon2.ravel()[cells], n_t),
                                  "weight": np.tile(area[cells], n_t)})
        frame["variable"] = name
        frame["unit"] = da.attrs.get("units", "1")
        frame["positive"] = da.attrs.get("positive")
        parts.append(frame)
    table = pd.concat(parts, ignore_index=True)
    table.insert(0, "source", ds.attrs.get("source", "unknown"))
    table.insert(1, "kind", ds.attrs.get("kind", "covariate"))
    time_col = "season" if static else "month"
    order = ["source", "kind", "region", "year", time_col, "variable", "value", "unit", "positive", "lat", "lon", "weight"]
    table = validate(table[order], variables=variables)
    table.attrs["pcstats"] = {"cells_without_data": without, "source": ds.attrs.get("source"),
                              "conversions": {v: ds[v].attrs.get("pcstats_conversion") for v in variables}}
    return table
