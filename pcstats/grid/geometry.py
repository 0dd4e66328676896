"""Regular latitude-longitude grids: spacing, cell areas, and the check that two fields share a grid."""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import ProductError

__all__ = ["EARTH_RADIUS_KM", "spacing", "cell_area", "coslat", "lat_weights", "check_same_grid", "describe"]

EARTH_RADIUS_KM = 6371.0


def spacing(obj: xr.DataArray | xr.Dataset, coord: str) -> float:
    """The (median) spacing of a coordinate, in degrees; raises if it is not regular to 1e-6 degrees."""
    values = np.asarray(obj[coord].values, dtype=float)
    if values.size < 2:
        raise ProductError(f"The grid has a single {coord}; pcstats needs at least two to know the cell size.")
    steps = np.diff(values)
    step = float(np.median(steps))
    if not np.allclose(steps, step, rtol=0, atol=1e-6 + 1e-6 * abs(step)):
        raise ProductError(f"{describe(obj)}: {coord} is not regularly spaced (steps {np.unique(np.round(steps, 6))[:5]}); "
                           "pcstats grids are regular latitude-longitude grids.")
    return step


def cell_area(obj: xr.DataArray | xr.Dataset) -> xr.DataArray:
    """Spherical area of each cell (km2, lat x lon): ``R^2 dlon (sin(lat + dlat/2) - sin(lat - dlat/2))``.

    >>> import numpy as np, xarray as xr
    >>> g = xr.Dataset(coords={"lat": [60.5, 61.5], "lon": [0.5, 1.5]})
    >>> round(float(cell_area(g)[0, 0]), 1)
    6088.4
    """
    area = lat_weights(obj, "area")
    full = area.values[:, None] * np.ones(obj["lon"].size)[None, :]
    return xr.DataArray(full, dims=("lat", "lon"), coords={"lat": obj["lat"], "lon": obj["lon"]}, name="cell_area",
                        attrs=area.attrs)


def coslat(obj: xr.DataArray | xr.Dataset) -> xr.DataArray:
    """cos(latitude) weights, lat x lon."""
    w = lat_weights(obj, "coslat").values[:, None] * np.ones(obj["lon"].size)[None, :]
    return xr.DataArray(w, dims=("lat", "lon"), coords={"lat": obj["lat"], "lon": obj["lon"]}, name="coslat")


def lat_weights(obj: xr.DataArray | xr.Dataset, kind: str = "area") -> xr.DataArray:
    """A cell's weight on a regular grid, which depends on latitude only: a vector along ``lat``.

    ``kind="area"``: the spherical cell area (km2) of :func:`cell_area`; ``"coslat"``: cos(latitude).
    Multiplying a field by it broadcasts over ``lon`` (and every other dimension), so a dask-backed
    field carries one number per latitude in its task graph instead of a map per cell.

    >>> import xarray as xr
    >>> g = xr.Dataset(coords={"lat": [60.5, 61.5], "lon": [0.5, 1.5]})
    >>> lat_weights(g).round(1).values.tolist(), lat_weights(g, "coslat").dims
    ([6088.4, 5899.7], ('lat',))
    """
    lat = np.deg2rad(obj["lat"].values.astype(float))
    if kind == "coslat":
        return xr.DataArray(np.cos(lat), dims="lat", coords={"lat": obj["lat"]}, name="coslat")
    if kind != "area":
        raise ProductError(f"lat_weights(kind={kind!r}): use 'area' or 'coslat'.")
    dlat, dlon = spacing(obj, "lat"), spacing(obj, "lon")
    half = np.deg2rad(abs(dlat)) / 2
    band = np.abs(np.sin(np.clip(lat + half, -np.pi / 2, np.pi / 2)) - np.sin(np.clip(lat - half, -np.pi / 2, np.pi / 2)))
    return xr.DataArray(EARTH_RADIUS_KM**2 * np.deg2rad(abs(dlon)) * band, dims="lat", coords={"lat": obj["lat"]},
                        name="cell_area", attrs={"units": "km2", "long_name": "spherical cell area (R = 6371 km)"})


def describe(obj: xr.DataArray | xr.Dataset) -> str:
    """The variable(s), source, file(s) and grid of ``obj``, for messages.

    >>> from pcstats.products import read_product
    >>> ct = read_product("fixtures/products/CT2019B.flux1x1-monthly.nc")
    >>> describe(ct["NEE"])
    'NEE (CT2019B, file CT2019B.flux1x1-monthly.nc): 10 x 20 cells, lat 60.5..69.5, lon -9.5..9.5'
    """
    names = [str(obj.name)] if isinstance(obj, xr.DataArray) and obj.name is not None else \
        [str(v) for v in getattr(obj, "data_vars", ())]
    files = [f for f in str(obj.attrs.get("files", "")).split(", ") if f]
    where = [str(obj.attrs["source"])] if obj.attrs.get("source") else []
    if files:
        shown = ", ".join(files) if len(files) <= 3 else f"{files[0]} ... {files[-1]} ({len(files)} files)"
        where.append(f"file{'s' if len(files) > 1 else ''} {shown}")
    text = ", ".join(names) or "grid"
    text += f" ({', '.join(where)})" if where else ""
    if "lat" in obj.coords and "lon" in obj.coords and obj["lat"].size and obj["lon"].size:
        lat, lon = obj["lat"].values, obj["lon"].values
        text += f": {lat.size} x {lon.size} cells, lat {lat.min():g}..{lat.max():g}, lon {lon.min():g}..{lon.max():g}"
    return text


def check_same_grid(a: xr.DataArray | xr.Dataset, b: xr.DataArray | xr.Dataset, what: str = "covariate") -> None:
    """Raise, naming both grids, unless ``a`` and ``b`` have the same lat and lon (to 1e-6 degrees).

    >>> import xarray as xr
    >>> g = xr.Dataset(coords={"lat": [60.5, 61.5], "lon": [0.5, 1.5]})
    >>> check_same_grid(g, g)
    """
    for coord in ("lat", "lon"):
        for obj in (a, b):
            if coord not in obj.coords:
                raise ProductError(f"{describe(obj)} has no {coord!r} coordinate; read products with "
                                   "pcstats.products.read_product, which names them lat and lon.")
        x, y = a[coord].values, b[coord].values
        if x.shape != y.shape or not np.allclose(x, y, rtol=0, atol=1e-6):
            raise ProductError(
                f"The grid of {describe(a)} does not match the {what} grid of {describe(b)} ({coord} differs). Put both "
                "on one grid first: pcstats.grid.regrid(field, like=covariates)."
            )
