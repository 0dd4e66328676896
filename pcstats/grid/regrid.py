"""Area-conservative regridding of regular latitude-longitude grids (to 1 degree by default).

A target cell's value is the area-weighted mean of the source cells it overlaps, each weighted by
the exact spherical area of the overlap: ``R^2 * overlap in longitude * (sin(top) - sin(bottom))``
of the overlapping latitude band. Source cells without data add nothing; a target cell keeps a
value where at least ``min_coverage`` of its area is covered by source cells with data, and is NaN
elsewhere (the coast, the edge of a regional product).

Two paths give the same numbers: when the source cells nest in the target's (0.5 or 1/12 degree to
1 degree, aligned), it is the area-weighted block average (``coarsen``); otherwise (coarser or
offset sources such as CAMS and Jena CarboScope) the separable overlap weights are applied with
``xarray.dot``. Both stay lazy on dask-backed data.

xarray-regrid's ``conservative`` was tried first: it weights a partial overlap by its width times
the whole source cell's area, which for 1.875 degree cells puts about 4 % less weight on the
minority cell than the spherical area does, so it is not used.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import ProductError
from .geometry import cell_area, check_same_grid, lat_weights, spacing
from .._optional import optional_import

__all__ = ["regrid", "target_grid", "overlap_weights"]


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


def overlap_weights(source: np.ndarray, target: np.ndarray, latitude: bool) -> np.ndarray:
    """Overlap of each target cell (rows) with each source cell (columns), for regular centres.

    Latitude: ``sin(top) - sin(bottom)`` of the common band; longitude: degrees in common, with
    wrap-around at 360. Multiplied together (and by ``R^2 pi / 180``) they give overlap areas.

    >>> overlap_weights(np.array([0.5, 1.5, 2.5, 3.5]), np.array([1.0, 3.0]), latitude=False).tolist()
    [[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]]
    """
    def edges(c):
        step = float(np.median(np.diff(c))) if c.size > 1 else 1.0
        return c - step / 2, c + step / 2

    s_lo, s_hi = edges(np.asarray(source, dtype=float))
    t_lo, t_hi = edges(np.asarray(target, dtype=float))
    if latitude:
        lo = np.maximum(t_lo[:, None], s_lo[None, :])
        hi = np.minimum(t_hi[:, None], s_hi[None, :])
        lo, hi = np.clip(lo, -90, 90), np.clip(hi, -90, 90)
        return np.where(hi > lo, np.sin(np.deg2rad(hi)) - np.sin(np.deg2rad(lo)), 0.0)
    total = np.zeros((t_lo.size, s_lo.size))
    for shift in (-360.0, 0.0, 360.0):
        lo = np.maximum(t_lo[:, None], s_lo[None, :] + shift)
        hi = np.minimum(t_hi[:, None], s_hi[None, :] + shift)
        total += np.clip(hi - lo, 0.0, None)
    return total


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
        Fraction of a target cell's area that must be covered by source data for it to get a value.

    Examples
    --------
    >>> from pcstats.products import read_product
    >>> from pcstats.grid import regrid
    >>> tc = regrid(read_product("fixtures/products/MOD44B.A2010.061.Percent_Tree_Cover.0p5deg.nc"))
    >>> dict(tc.sizes), tc.attrs["regrid"][:56]
    ({'lat': 10, 'lon': 20}, 'area-weighted block mean, 0.5 x 0.5 degrees to 1 x 1 deg')
    """
    if not 0 < min_coverage <= 1:
        raise ProductError(f"regrid(min_coverage={min_coverage!r}): must be in (0, 1].")
    target = target_grid(obj, resolution) if like is None else xr.Dataset(coords={"lat": like["lat"], "lon": like["lon"]})
    dlat, dlon = spacing(obj, "lat"), spacing(obj, "lon")
    tlat, tlon = spacing(target, "lat"), spacing(target, "lon")
    if (obj["lat"].size == target["lat"].size and obj["lon"].size == target["lon"].size
            and np.allclose(obj["lat"].values, target["lat"].values, atol=1e-6)
            and np.allclose(obj["lon"].values, target["lon"].values, atol=1e-6)):
        return obj.assign_attrs(regrid=f"none: already on the {abs(tlat):g} x {abs(tlon):g} degree grid")
    is_array = isinstance(obj, xr.DataArray)
    ds = obj.to_dataset(name=obj.name or "value") if is_array else obj
    spatial = [v for v in ds.data_vars if {"lat", "lon"} <= set(ds[v].dims) and v != "cell_area"]
    if not spatial:
        raise ProductError("regrid(): no variable has both lat and lon dimensions.")
    nested = _nesting(ds, target)
    area = lat_weights(ds.isel(lat=nested[2]), "area") if nested else None  # once for every variable
    how = "area-weighted block mean" if nested else "conservative (exact spherical overlaps)"
    note = (f"{how}, {abs(dlat):g} x {abs(dlon):g} degrees to {abs(tlat):g} x {abs(tlon):g} degrees; a cell is kept where "
            f"at least {min_coverage:.0%} of its area has data, as the area-weighted mean over that part")
    out = xr.Dataset(coords={k: v for k, v in ds.coords.items() if "lat" not in v.dims and "lon" not in v.dims})
    for v in spatial:
        field = ds[v]
        value = _block(field, target, nested, min_coverage, area) if nested else _overlap(field.astype(np.float64), target,
                                                                                            min_coverage)
        out[v] = value.transpose(*ds[v].dims).assign_attrs(ds[v].attrs)
    if "cell_area" in ds:
        out["cell_area"] = (cell_area(out) * 1e6).assign_attrs(units="m2", long_name="spherical cell area (R = 6371 km)")
    out = out.assign_attrs(ds.attrs).assign_attrs(regrid=note)
    if like is not None:
        check_same_grid(out, like, "target")
    if is_array:
        return out[spatial[0]].assign_attrs(regrid=note).rename(obj.name)
    return out


def _nesting(ds: xr.Dataset, target: xr.Dataset) -> tuple[int, int, slice, slice] | None:
    """(k_lat, k_lon, source slices) when whole source blocks of k x k cells make each target cell."""
    out = []
    for name in ("lat", "lon"):
        s, t = ds[name].values.astype(float), target[name].values.astype(float)
        step = spacing(ds, name)
        ratio = spacing(target, name) / step
        k = int(round(ratio))
        if k < 1 or abs(ratio - k) > 1e-4 * k:  # coordinates written to 6 decimals (1/12 degree) are not exact
            return None
        first_edge = t[0] - spacing(target, name) / 2
        start = np.flatnonzero(np.isclose(s - step / 2, first_edge, atol=1e-3 * abs(step)))
        if start.size != 1 or start[0] + k * t.size > s.size:
            return None
        out.append((k, slice(int(start[0]), int(start[0]) + k * t.size)))
    return out[0][0], out[1][0], out[0][1], out[1][1]


def _block(field: xr.DataArray, target: xr.Dataset, nested, min_coverage: float, area: xr.DataArray) -> xr.DataArray:
    """Area-weighted block means; ``area`` is the cells' area along ``lat`` (it does not vary with longitude).

    One NumPy function per chunk (chunks are first aligned to whole blocks), so a dask-backed
    field adds one task per chunk.
    """
    k_lat, k_lon, rows, cols = nested
    part = field.isel(lat=rows, lon=cols).transpose(..., "lat", "lon")
    weight = area.values[:, None]
    kwargs = {"k_lat": k_lat, "k_lon": k_lon, "min_coverage": min_coverage}
    if part.chunks is None:
        data = _block_mean(part.values, weight, **kwargs)
    else:
        da = optional_import("dask.array", "chunked (dask) fields")

        aligned = {d: _whole_blocks(part.chunksizes[d], k) for d, k in (("lat", k_lat), ("lon", k_lon))}
        part = part.chunk(aligned)
        weights = da.from_array(weight, chunks=(aligned["lat"], 1))
        chunks = (*part.data.chunks[:-2], tuple(c // k_lat for c in aligned["lat"]), tuple(c // k_lon for c in aligned["lon"]))
        data = da.map_blocks(_block_mean, part.data, weights, dtype=np.float64, chunks=chunks, **kwargs)
    dims = part.dims
    coords = {k: v for k, v in part.coords.items() if "lat" not in v.dims and "lon" not in v.dims}
    value = xr.DataArray(data, dims=dims, coords=coords, name=field.name, attrs=field.attrs)
    return value.assign_coords(lat=target["lat"].values, lon=target["lon"].values)


def _whole_blocks(chunks: tuple[int, ...], k: int) -> tuple[int, ...]:
    """Chunk sizes along a dimension, moved to multiples of ``k`` (unchanged when they are)."""
    if all(c % k == 0 for c in chunks):
        return chunks
    total, step = sum(chunks), max(k, (max(chunks) // k) * k)
    return tuple(min(step, total - i) for i in range(0, total, step))


def _block_mean(values: np.ndarray, weight: np.ndarray, k_lat: int, k_lon: int, min_coverage: float) -> np.ndarray:
    """Block means of ``values`` (..., lat, lon) weighted by ``weight`` (lat, 1); NaN where coverage is short."""
    values = values.astype(np.float64)
    valid = ~np.isnan(values)
    *lead, n_lat, n_lon = values.shape
    shape = (*lead, n_lat // k_lat, k_lat, n_lon // k_lon, k_lon)
    num = (np.where(valid, values, 0.0) * weight).reshape(shape).sum(axis=(-3, -1))
    den = (valid * weight).reshape(shape).sum(axis=(-3, -1))
    full = (weight * np.ones((1, k_lon))).reshape(n_lat // k_lat, k_lat, 1, k_lon).sum(axis=(-3, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        # the tolerance covers the order of the sums in ``den`` and ``full``
        return np.where(den >= min_coverage * full * (1 - 1e-12), num / den, np.nan)


def _overlap(field: xr.DataArray, target: xr.Dataset, min_coverage: float) -> xr.DataArray:
    w_lat = xr.DataArray(overlap_weights(field["lat"].values, target["lat"].values, latitude=True),
                         dims=("lat_out", "lat"), coords={"lat_out": target["lat"].values})
    w_lon = xr.DataArray(overlap_weights(field["lon"].values, target["lon"].values, latitude=False),
                         dims=("lon_out", "lon"), coords={"lon_out": target["lon"].values})
    field = field.drop_vars(["lat", "lon"])
    num = xr.dot(field.fillna(0.0), w_lat, w_lon, dim=["lat", "lon"])
    den = xr.dot(field.notnull().astype(np.float64), w_lat, w_lon, dim=["lat", "lon"])
    t_lat, t_lon = spacing(target, "lat"), spacing(target, "lon")
    lat = np.deg2rad(target["lat"].values.astype(float))
    band = np.sin(lat + np.deg2rad(abs(t_lat)) / 2) - np.sin(lat - np.deg2rad(abs(t_lat)) / 2)
    full = xr.DataArray(band[:, None] * abs(t_lon) * np.ones(target["lon"].size)[None, :], dims=("lat_out", "lon_out"))
    value = (num / den).where(den >= min_coverage * full * (1 - 1e-9))
    return value.rename(lat_out="lat", lon_out="lon").assign_coords(lat=target["lat"].values, lon=target["lon"].values)
