"""Region classes on a grid, the natural-vegetation/land mask, and area-weighted zonal means.

The classes are those of the table pipeline (:func:`pcstats.classify`: P/NoP, ConP/DisconP/NoP,
tree-cover classes, 5 % bins of TC and P, 1 degC bins of MAT), computed cell by cell. A zonal mean
follows :func:`pcstats.aggregate`: the members of a region are its labelled cells that have data
at some time; the mean is weighted by cell area (or cos latitude) and is NaN at any time when a
member is missing, so cells never leave a region in some years and stay in others.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from ..data.regions import classify
from ..errors import ProductError
from .geometry import check_same_grid, lat_weights
from .._optional import optional_import

__all__ = ["region_classes", "natural_mask", "zonal_mean", "MIN_LAND", "MAX_MANAGED"]

MIN_LAND = 0.5
MAX_MANAGED = 0.1


def region_classes(tc: xr.DataArray, p: xr.DataArray, mat: xr.DataArray | None = None) -> xr.Dataset:
    """Every region scheme of :func:`pcstats.classify` as label maps (lat x lon; missing where TC or P is).

    ``tc`` and ``p`` in percent, ``mat`` in degC, all on one grid. Each label map lists the files
    of its layers (``files``), so a grid mismatch later names them.

    Examples
    --------
    >>> from pcstats.products import read_product
    >>> from pcstats.grid import region_classes
    >>> f = "fixtures/products/"
    >>> tc = read_product(f + "MOD44B.A2010.061.Percent_Tree_Cover.0p5deg.nc")["TC"]
    >>> p = read_product(f + "ESACCI-PERMAFROST-L4-PFR-MODISLST_CRYOGRID-AREA4_PP-2010-fv03.0_latlon0p5.nc")["P"]
    >>> sorted(region_classes(tc, p)["permafrost"].to_series().dropna().unique())
    ['NoP', 'P']
    """
    layers = {"TC": tc, "P": p} | ({"MAT": mat} if mat is not None else {})
    for name, layer in layers.items():
        check_same_grid(layer, tc, "tree-cover")
        if set(layer.dims) != {"lat", "lon"}:
            raise ProductError(f"region_classes(): {name} must be a map (lat, lon); it has dimensions {layer.dims}. "
                               "Average over time first (e.g. .mean('time')).")
    values = {k: np.asarray(v.values, dtype=float).ravel() for k, v in layers.items()}
    finite = np.logical_and.reduce([np.isfinite(v) for v in values.values()])
    cells = pd.DataFrame({k: v[finite] for k, v in values.items()})
    classes = classify(cells) if len(cells) else cells
    out = xr.Dataset(coords={"lat": tc["lat"], "lon": tc["lon"]})
    files = ", ".join(dict.fromkeys(f for layer in layers.values() for f in str(layer.attrs.get("files", "")).split(", ") if f))
    for column in [c for c in classes.columns if c not in layers]:
        label = np.full(finite.size, np.nan, dtype=object)
        label[finite] = classes[column].to_numpy()
        out[column] = xr.Variable(("lat", "lon"), label.reshape(tc.shape), attrs={"files": files} if files else {})
    return out


def natural_mask(land_fraction: xr.DataArray, managed_fraction: xr.DataArray | None = None, *,
                 min_land: float = MIN_LAND, max_managed: float = MAX_MANAGED) -> xr.DataArray:
    """Cells that are land (``land_fraction >= min_land``) and, given a managed (crop + urban) fraction, natural.

    Both fractions are 0-1 on one grid; a cell with a missing fraction is outside the mask.

    >>> import xarray as xr
    >>> land = xr.DataArray([[1.0, 0.3], [0.6, 1.0]], dims=("lat", "lon"), coords={"lat": [60.5, 61.5], "lon": [0.5, 1.5]})
    >>> natural_mask(land, land * 0 + [[0.0, 0.0], [0.0, 0.5]]).values.tolist()
    [[True, False], [True, False]]
    """
    for name, value in (("min_land", min_land), ("max_managed", max_managed)):
        if not 0 <= value <= 1:
            raise ProductError(f"natural_mask({name}={value!r}): fractions lie in [0, 1].")
    mask = land_fraction >= min_land
    rule = f"land fraction >= {min_land:g}"
    if managed_fraction is not None:
        check_same_grid(managed_fraction, land_fraction, "land-fraction")
        mask = mask & (managed_fraction <= max_managed)
        rule += f" and managed (crop + urban) fraction <= {max_managed:g}"
    mask = mask.rename("natural")
    mask.attrs = {"rule": rule}
    return mask


def zonal_mean(field: xr.DataArray, labels: xr.DataArray, *, weights: str = "area",
               mask: xr.DataArray | None = None, regions: Sequence[str] | None = None) -> xr.DataArray:
    """Area-weighted mean of ``field`` over the cells of each label; dims ``region`` plus ``field``'s others.

    Parameters
    ----------
    field
        A variable on the grid (``time``, ``year``, ``season`` ... and ``lat``, ``lon``), in memory or
        dask-backed (best chunked in ``lat`` and ``lon`` with the other dimensions whole).
    labels
        A label map (lat, lon), e.g. ``region_classes(...)["tc_bin"]``; cells without a label are left out.
        It may be dask-backed, ideally in the field's spatial chunks: it is then encoded chunk by
        chunk in the task graph instead of travelling in it as a constant.
    weights
        ``"area"`` (spherical cell area) or ``"coslat"``.
    mask
        Boolean map (e.g. :func:`natural_mask`); cells outside it are left out.
    regions
        The regions to report, in this order; labels not listed are left out. By default the sorted
        labels of the map (inside the mask), which for dask-backed labels computes the map once.

    Returns
    -------
    DataArray
        With coordinates ``n_cells`` (members: labelled cells with data at some time) and ``area``
        (their summed weight) along ``region``; the attributes say how it was computed.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> g = {"lat": [60.5, 61.5], "lon": [0.5, 1.5]}
    >>> f = xr.DataArray([[1.0, 3.0], [5.0, np.nan]], dims=("lat", "lon"), coords=g)
    >>> lab = xr.DataArray([["a", "a"], ["b", "b"]], dims=("lat", "lon"), coords=g)
    >>> zonal_mean(f, lab).round(3).values.tolist(), zonal_mean(f, lab)["n_cells"].values.tolist()
    ([2.0, 5.0], [2, 1])
    """
    check_same_grid(field, labels, "label")
    if weights not in ("area", "coslat"):
        raise ProductError(f"zonal_mean(weights={weights!r}): use 'area' or 'coslat'.")
    if mask is not None:
        check_same_grid(mask, labels, "mask")
        labels = labels.where(mask.astype(bool))
    if regions is None:
        found = np.asarray(labels.values, dtype=object)
        names = sorted({str(v) for v in found[pd.notna(found)]})
    else:
        names = [str(r) for r in regions]
        if len(set(names)) != len(names):
            raise ProductError(f"zonal_mean(regions={list(regions)!r}): each region once.")
    if not names:
        raise ProductError("zonal_mean(): no cell has a label (inside the mask).")
    dtype = np.int8 if len(names) < 128 else np.int32
    codes = xr.apply_ufunc(_encode, labels, kwargs={"names": names, "dtype": dtype}, dask="parallelized",
                           output_dtypes=[dtype])
    other = [d for d in field.dims if d not in ("lat", "lon")]
    field = field.transpose(*other, "lat", "lon")
    weight = lat_weights(field, weights).values[:, None]
    n = len(names)
    if field.chunks is None:
        sums = _region_sums(field.values, codes.values, weight, n_regions=n)[..., 0, 0]
    else:
        da = optional_import("dask.array", "chunked (dask) fields")

        field = field.chunk({d: -1 for d in other})  # a cell's whole record in one chunk: membership is per chunk
        lat_chunks, lon_chunks = field.data.chunks[-2:]
        codes = codes.chunk({"lat": lat_chunks, "lon": lon_chunks}).data
        weight = da.from_array(weight, chunks=(lat_chunks, 1))
        partial = da.map_blocks(_region_sums, field.data, codes, weight, n_regions=n, new_axis=[0, 1], dtype=np.float64,
                                chunks=((4,), (n,), *field.data.chunks[:-2], (1,) * len(lat_chunks), (1,) * len(lon_chunks)))
        sums = partial.sum(axis=(-2, -1))
    coords = {k: v for k, v in field.coords.items() if set(v.dims) <= set(other)}
    sums = xr.DataArray(sums, dims=("quantity", "region", *other), coords=coords)
    summed, n_missing = sums[0], sums[1]
    weight, n_cells = (sums[k].isel({d: 0 for d in other}, drop=True) for k in (2, 3))
    n_cells = n_cells.astype(np.int64)
    out = (summed / weight.where(weight > 0)).where(n_missing == 0)
    out = out.assign_coords(n_cells=n_cells, area=weight).assign_coords(region=names)
    return out.rename(field.name).assign_attrs(
        {**field.attrs, "zonal_mean": f"weighted by {'cell area (km2)' if weights == 'area' else 'cos(latitude)'}; members: "
         "labelled cells with data at some time; NaN where any member is missing"})


def _encode(labels: np.ndarray, names: list[str], dtype) -> np.ndarray:
    """Region codes (0, 1, ... in the order of ``names``) of a label block; -1 where unlabelled or not listed."""
    flat = np.asarray(labels, dtype=object).ravel()
    present = pd.notna(flat)
    codes = np.full(flat.size, -1, dtype=dtype)
    if present.any():
        index = pd.Index(names)
        codes[present] = index.get_indexer(pd.Index(flat[present]).astype(str))
    return codes.reshape(np.shape(labels))


def _region_sums(values: np.ndarray, codes: np.ndarray, weight: np.ndarray, n_regions: int) -> np.ndarray:
    """Per region: weighted sum, missing members and (broadcast over the other dims) weight and members of a block.

    ``values`` is ``(..., lat, lon)``, ``codes`` ``(lat, lon)`` (-1: no region), ``weight`` ``(lat, 1)``.
    Members are the coded cells with data at some time; returns ``(4, n_regions, ..., 1, 1)`` (the
    trailing axes stand for the block's position in the grid).
    """
    lead = values.shape[:-2]
    v = values.reshape(-1, values.shape[-2] * values.shape[-1])
    missing = np.isnan(v)
    code = np.asarray(codes).ravel()
    member = np.flatnonzero((code >= 0) & ~missing.all(axis=0))
    w = np.broadcast_to(weight, values.shape[-2:]).ravel()[member]
    indicator = np.zeros((member.size, n_regions))
    indicator[np.arange(member.size), code[member]] = 1.0
    out = np.empty((4, n_regions, v.shape[0]))
    out[0] = (np.where(missing[:, member], 0.0, v[:, member]) @ (indicator * w[:, None])).T
    out[1] = (missing[:, member].astype(np.float64) @ indicator).T
    out[2] = (w @ indicator)[:, None]
    out[3] = indicator.sum(axis=0)[:, None]
    return out.reshape(4, n_regions, *lead, 1, 1)
