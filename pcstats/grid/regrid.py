"""Area-conservative regridding to a regular grid (1 degree by default), through xarray-regrid.

On a finer source grid whose cells nest in the target's (0.5 degree, 1/12 degree), this is the
area-weighted block average; coarser or offset sources (CAMS, Jena CarboScope) are split by the
overlap of their cells with the target's. A target cell is kept where at least ``min_coverage`` of
its area has data (``NaN`` elsewhere); its value is then the area-weighted mean over that part.
Works on dask-backed data without loading it.
"""

from __future__ import annotations

from importlib import metadata

import numpy as np
import xarray as xr

from ..errors import ProductError
from .geometry import cell_area, check_same_grid, spacing

__all__ = ["regrid", "target_grid"]


def target_grid(obj: xr.Dataset | xr.DataArray, resolution: float = 1.0) -> xr.Dataset:
    """The grid of ``resolution`` degrees, with edges at multiples of it, that covers ``obj``'s cells.

    >>> import xarray as xr
    >>> g = xr.Dataset(coords={"lat": [60.25, 60.75, 61.25, 61.75], "lon": [0.25, 0.75]})
    >>> target_grid(g)["lat"].values.tolist(), target_grid(g)["lon"].values.tolist()
    ([60.5, 61.5], [0.5])
    """
    if not resolution > 0:
        raise ProductError(f"regrid(resolution={resolution!r}): must be a positive number of degrees.")
    coords = {}
    for name, limit in (("lat", 90.0), ("lon", 180.0)):
        step = abs(spacing(obj, name))
        values = obj[name].values.astype(float)
        lo = max(np.floor((values.min() - step / 2) / resolution + 1e-9) * resolution, -limit)
        hi = min(np.ceil((values.max() + step / 2) / resolution - 1e-9) * resolution, limit)
        coords[name] = np.round(np.arange(lo, hi - 1e-9, resolution) + resolution / 2, 10)
    return xr.Dataset(coords=coords)


def regrid(
    obj: xr.Dataset | xr.DataArray,
    resolution: float = 1.0,
    *,
    like: xr.Dataset | xr.DataArray | None = None,
    min_coverage: float = 0.5,
) -> xr.Dataset | xr.DataArray:
    """Conservatively regrid every variable with lat and lon to ``resolution`` degrees (or to ``like``'s grid).

    Parameters
    ----------
    obj
        Canonical product Dataset (or DataArray) with ascending ``lat`` and ``lon``.
    resolution
        Target spacing in degrees; ignored when ``like`` is given.
    like
        A Dataset or DataArray whose grid to regrid to (e.g. the covariates).
    min_coverage
        Fraction of a target cell's area that must have data for the cell to get a value.

    Examples
    --------
    >>> from pcstats.products import read_product
    >>> from pcstats.grid import regrid
    >>> tc = regrid(read_product("fixtures/products/MOD44B.A2010.061.Percent_Tree_Cover.0p5deg.nc"))
    >>> dict(tc.sizes), tc.attrs["regrid"][:36]
    ({'lat': 10, 'lon': 20}, 'conservative, 0.5 x 0.5 degrees to 1 ')
    """
    if not 0 < min_coverage <= 1:
        raise ProductError(f"regrid(min_coverage={min_coverage!r}): must be in (0, 1].")
    target = target_grid(obj, resolution) if like is None else xr.Dataset(coords={"lat": like["lat"], "lon": like["lon"]})
    dlat, dlon = spacing(obj, "lat"), spacing(obj, "lon")
    tlat, tlon = spacing(target, "lat"), spacing(target, "lon")
    note = (f"conservative, {abs(dlat):g} x {abs(dlon):g} degrees to {abs(tlat):g} x {abs(tlon):g} degrees "
            f"(xarray-regrid {metadata.version('xarray-regrid')}); a cell is kept where at least {min_coverage:.0%} of its "
            "area has data, as the area-weighted mean over that part")
    same = (obj["lat"].size == target["lat"].size and obj["lon"].size == target["lon"].size
            and np.allclose(obj["lat"].values, target["lat"].values, atol=1e-6)
            and np.allclose(obj["lon"].values, target["lon"].values, atol=1e-6))
    if same:
        return obj.assign_attrs(regrid=f"none: already on the {abs(tlat):g} x {abs(tlon):g} degree grid")
    import xarray_regrid  # noqa: F401  (registers the .regrid accessor)

    is_array = isinstance(obj, xr.DataArray)
    ds = obj.to_dataset(name=obj.name or "value") if is_array else obj
    spatial = [v for v in ds.data_vars if {"lat", "lon"} <= set(ds[v].dims) and v != "cell_area"]
    if not spatial:
        raise ProductError("regrid(): no variable has both lat and lon dimensions.")
    source = _pad(ds[spatial].astype(np.float64), dlat, dlon)  # float64 weights and sums
    out = source.regrid.conservative(target, latitude_coord="lat", skipna=True, nan_threshold=1.0 - min_coverage)
    for v in spatial:
        out[v].attrs = dict(ds[v].attrs)
    if "cell_area" in ds:
        out["cell_area"] = (cell_area(out) * 1e6).assign_attrs(units="m2", long_name="spherical cell area (R = 6371 km)")
    out = out.assign_attrs(ds.attrs).assign_attrs(regrid=note)
    if like is not None:
        check_same_grid(out, like, "target")
    if is_array:
        return out[spatial[0]].assign_attrs(regrid=note).rename(obj.name)
    return out


def _pad(ds: xr.Dataset, dlat: float, dlon: float) -> xr.Dataset:
    """One missing cell beyond each edge, so that target cells in the outer half of the edge cells are covered.

    xarray-regrid keeps only target cells whose centres lie between the outermost source centres;
    a NaN border adds no data but moves that limit to the real edge.
    """
    lat = ds["lat"].values.astype(float)
    lon = ds["lon"].values.astype(float)
    padded = ds.pad(lat=(1, 1), lon=(1, 1), mode="constant", constant_values=np.nan)
    return padded.assign_coords(lat=np.r_[lat[0] - dlat, lat, lat[-1] + dlat], lon=np.r_[lon[0] - dlon, lon, lon[-1] + dlon])
