"""MODIS MCD12Q1 land cover (HDF4-EOS sinusoidal tiles): IGBP classes per target cell and the natural-vegetation mask.

Layout, confirmed (LP DAAC MCD12Q1 v061 product page and user guide; public HDF-EOS readers):
file name ``MCD12Q1.AYYYY001.hHHvVV.061.YYYYDDDHHMMSS.hdf``; one HDF4-EOS grid per 10 x 10 degree
sinusoidal tile (36 x 18 tiles, 2400 x 2400 pixels of 463.3127 m; sphere of radius 6371007.181 m);
SDS ``LC_Type1`` (IGBP, 8-bit unsigned, classes 1-17, fill 255 "unclassified"); the tile's corners
are the ``UpperLeftPointMtrs`` and ``LowerRightMtrs`` of the ``StructMetadata.0`` attribute, its
size ``XDim`` and ``YDim``. Read with pyhdf (``pyhdf.SD``). Assumed: nothing else in the file is
needed (the QC and other-scheme SDSs are not read).

:func:`read_mcd12q1` returns the classes with each pixel's centre; :func:`landcover_on_grid`
bins pixels into the cells of a target grid by their centres (a regular latitude-longitude grid,
or the EASE-Grid 2.0 cells of an L4C Dataset, which carries ``row``/``col``), giving the
fraction of every class and the majority class per cell. :func:`natural_vegetation` is the
paper's mask: croplands (12), urban (13) and cropland/natural mosaics (14) are managed and left
out; permanent snow and ice (15), barren (16) and water (17) are left out as well (the paper's
permafrost region excludes snow/ice and barren land; water is not vegetation); classes 1-11
(forests, shrublands, savannas, grasslands, permanent wetlands) are natural. An optional NDVI
rule drops cells whose mean NDVI is below 0.1 (the paper's code: ``mask[NDVIAnnual < 0.1] = NA``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..data.design import NOT_NATURAL_IGBP
from ..errors import ProductError
from .._optional import optional_import

__all__ = ["IGBP", "MANAGED", "NOT_VEGETATED", "NATURAL", "MCD12Q1_FILE_NAME", "SINUSOIDAL_RADIUS", "read_mcd12q1",
           "landcover_on_grid", "natural_vegetation", "ndvi_rule"]

IGBP = {1: "Evergreen Needleleaf Forests", 2: "Evergreen Broadleaf Forests", 3: "Deciduous Needleleaf Forests",
        4: "Deciduous Broadleaf Forests", 5: "Mixed Forests", 6: "Closed Shrublands", 7: "Open Shrublands",
        8: "Woody Savannas", 9: "Savannas", 10: "Grasslands", 11: "Permanent Wetlands", 12: "Croplands",
        13: "Urban and Built-up Lands", 14: "Cropland/Natural Vegetation Mosaics", 15: "Permanent Snow and Ice",
        16: "Barren", 17: "Water Bodies"}
MANAGED = NOT_NATURAL_IGBP  # croplands, urban, cropland/natural mosaics: what StudyDesign's mask leaves out
NOT_VEGETATED = (15, 16, 17)
NATURAL = tuple(range(1, 12))
MCD12Q1_FILE_NAME = r"MCD12Q1\.A(?P<year>\d{4})(?P<doy>\d{3})\.h(?P<h>\d{2})v(?P<v>\d{2})\.(?P<collection>\d{3})\.\d{13}\.hdf$"
SINUSOIDAL_RADIUS = 6371007.181
_FILL = 255


def read_mcd12q1(path: str | Path, layer: str = "LC_Type1") -> xr.DataArray:
    """The IGBP classes of one MCD12Q1 tile (``y`` x ``x``; float, NaN where 255 or outside 1-17).

    Coordinates ``x``, ``y`` (sinusoidal metres of the pixel centres) and ``lat``, ``lon``
    (degrees, 2-D). Attributes ``year``, ``tile``, ``layer``, ``file`` and ``n_fill``.

    Raises
    ------
    ProductError
        Naming the file and SDS: pyhdf missing, not HDF4, no such SDS, no grid metadata, classes
        outside 1-17 other than the fill.

    Examples
    --------
    >>> lc = read_mcd12q1("fixtures/products_rasters/MCD12Q1.A2010001.h22v02.061.2022146061358.hdf")
    >>> lc.attrs["tile"], lc.attrs["layer"], np.unique(lc.values[np.isfinite(lc.values)]).astype(int).tolist()[:3]
    ('h22v02', 'LC_Type1', [1, 3, 5])
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"read_mcd12q1: no file at {str(path)!r} (working directory: {Path.cwd()}).")
    match = re.search(MCD12Q1_FILE_NAME, path.name)
    if match is None:
        raise ProductError(f"{path}: not an MCD12Q1 file name (MCD12Q1.AYYYY001.hHHvVV.061.<production>.hdf); the year "
                           "and tile are read from the name. Keep the names as shipped.")
    pyhdf_sd = optional_import("pyhdf.SD", f"reading the HDF4 file {path}")
    SD, SDC = pyhdf_sd.SD, pyhdf_sd.SDC
    HDF4Error = optional_import("pyhdf.error", f"reading the HDF4 file {path}").HDF4Error
    try:
        sd = SD(str(path), SDC.READ)
    except HDF4Error as exc:
        raise ProductError(f"{path}: cannot be opened as HDF4 ({exc}). The file is damaged (truncated or corrupt download) "
                           "or not an MCD12Q1 granule; download it again.") from exc
    try:
        if layer not in sd.datasets():
            raise ProductError(f"{path}: no SDS {layer!r}; the file has {sorted(sd.datasets())}.")
        meta = sd.attributes().get("StructMetadata.0")
        if meta is None:
            raise ProductError(f"{path}: no StructMetadata.0 attribute, so the tile's position is unknown (HDF-EOS grid "
                               "metadata). Download the file again.")
        sds = sd.select(layer)
        try:
            data = np.asarray(sds.get())
            fill = sds.attributes().get("_FillValue", _FILL)
        finally:
            sds.endaccess()
    except HDF4Error as exc:
        raise ProductError(f"{path}, SDS {layer!r}: cannot be read ({exc}); download the file again.") from exc
    finally:
        sd.end()
    ul, lr, nx, ny = _grid(meta, path)
    if data.shape != (ny, nx):
        raise ProductError(f"{path}, SDS {layer!r}: shape {data.shape}, but the grid metadata says {ny} x {nx}.")
    values = data.astype(np.float64)
    is_fill = (data == fill) | (data == _FILL)
    bad = ~is_fill & ((data < 1) | (data > 17))
    if bad.any():
        raise ProductError(f"{path}, SDS {layer!r}: {int(bad.sum())} values outside 1-17 (e.g. {int(data[bad][0])}) that "
                           "are not the fill 255; LC_Type1 holds IGBP classes 1-17.")
    values[is_fill] = np.nan
    dx, dy = (lr[0] - ul[0]) / nx, (ul[1] - lr[1]) / ny
    x = ul[0] + (np.arange(nx) + 0.5) * dx
    y = ul[1] - (np.arange(ny) + 0.5) * dy
    lat = np.degrees(y / SINUSOIDAL_RADIUS)
    lon = np.degrees(x[None, :] / (SINUSOIDAL_RADIUS * np.cos(np.radians(lat))[:, None]))
    return xr.DataArray(values, dims=("y", "x"), name=layer,
                        coords={"x": x, "y": y, "lat": ("y", lat), "lon": (("y", "x"), lon)},
                        attrs={"year": int(match["year"]), "tile": f"h{match['h']}v{match['v']}", "layer": layer,
                               "file": path.name, "n_fill": int(is_fill.sum()), "classes": "IGBP 1-17"})


def _grid(meta: str, path: Path):
    def pair(name):
        m = re.search(name + r"\s*=\s*\(\s*([-\d.eE+]+)\s*,\s*([-\d.eE+]+)\s*\)", meta)
        if m is None:
            raise ProductError(f"{path}: StructMetadata.0 has no {name}; the tile's corners are unknown.")
        return float(m[1]), float(m[2])

    def size(name):
        m = re.search(name + r"\s*=\s*(\d+)", meta)
        if m is None:
            raise ProductError(f"{path}: StructMetadata.0 has no {name}; the tile's size is unknown.")
        return int(m[1])

    if "GCTP_SNSOID" not in meta:
        raise ProductError(f"{path}: the grid is not sinusoidal (no GCTP_SNSOID in StructMetadata.0); MCD12Q1 tiles are.")
    return pair("UpperLeftPointMtrs"), pair("LowerRightMtrs"), size("XDim"), size("YDim")


def landcover_on_grid(tiles: xr.DataArray | Sequence[xr.DataArray], like: xr.Dataset | xr.DataArray) -> xr.Dataset:
    """Fraction of each IGBP class and the majority class in every cell of ``like``'s grid.

    Pixels go to the cell containing their centre. ``like`` is a regular latitude-longitude grid
    (``lat``, ``lon``; cell edges halfway between centres), or an SMAP L4C Dataset/DataArray
    (:func:`pcstats.products.smap.read_smap_l4c`, with ``row`` and ``col``): then its EASE-Grid 2.0
    cells. Fill pixels are left out; ``n_pixels`` counts the classified pixels per cell, and a cell
    without any has NaN fractions and majority. Ties of the majority go to the lowest class.

    Returns
    -------
    Dataset
        ``fraction`` (``igbp``, ``lat``, ``lon``), ``majority`` and ``n_pixels`` (``lat``, ``lon``).

    Examples
    --------
    >>> import xarray as xr
    >>> lc = read_mcd12q1("fixtures/products_rasters/MCD12Q1.A2010001.h22v02.061.2022146061358.hdf")
    >>> grid = xr.Dataset(coords={"lat": [63.25, 63.75], "lon": [100.25, 100.75]})
    >>> landcover_on_grid(lc, grid)["majority"].dims
    ('lat', 'lon')
    """
    tiles = [tiles] if isinstance(tiles, xr.DataArray) else list(tiles)
    lat_c, lon_c = np.asarray(like["lat"].values, float), np.asarray(like["lon"].values, float)
    n_lat, n_lon = lat_c.size, lon_c.size
    counts = np.zeros((17, n_lat * n_lon))
    for tile in tiles:
        classes = np.asarray(tile.values).ravel()
        lat = np.broadcast_to(tile["lat"].values[:, None] if tile["lat"].ndim == 1 else tile["lat"].values, tile.shape).ravel()
        lon = np.asarray(tile["lon"].values).ravel()
        ok = np.isfinite(classes)
        i, j = _locate(like, lat[ok], lon[ok], lat_c, lon_c)
        inside = (i >= 0) & (j >= 0)
        flat = i[inside] * n_lon + j[inside]
        np.add.at(counts, (classes[ok][inside].astype(int) - 1, flat), 1.0)
    n = counts.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction = np.where(n > 0, counts / n, np.nan)
    majority = np.where(n > 0, counts.argmax(axis=0) + 1.0, np.nan)
    coords = {"lat": like["lat"], "lon": like["lon"]}
    for extra in ("row", "col"):
        if extra in like.coords:
            coords[extra] = like[extra]
    files = ", ".join(t.attrs.get("file", "") for t in tiles)
    return xr.Dataset({
        "fraction": (("igbp", "lat", "lon"), fraction.reshape(17, n_lat, n_lon)),
        "majority": (("lat", "lon"), majority.reshape(n_lat, n_lon), {"classes": "IGBP 1-17", "files": files}),
        "n_pixels": (("lat", "lon"), n.reshape(n_lat, n_lon).astype(np.int64)),
    }, coords=coords | {"igbp": np.arange(1, 18)}).assign_attrs(files=files, rule="pixel centre in cell")


def _locate(like, lat, lon, lat_c, lon_c) -> tuple[np.ndarray, np.ndarray]:
    """Row and column (in ``like``) of the cells containing points; -1 outside."""
    if "row" in like.coords and "col" in like.coords:
        from .smap import ease2_row_col

        rows, cols = ease2_row_col(lat, lon)
        row_index = pd.Index(np.asarray(like["row"].values))
        col_index = pd.Index(np.asarray(like["col"].values))
        return row_index.get_indexer(rows), col_index.get_indexer(cols)
    out = []
    for centres, points in ((lat_c, lat), (lon_c, lon)):
        if centres.size < 2:
            raise ProductError("landcover_on_grid(): the target grid needs at least two latitudes and longitudes.")
        step = np.diff(centres)
        if not np.allclose(step, step[0], rtol=0, atol=1e-6):
            raise ProductError("landcover_on_grid(): the target lat/lon are not evenly spaced; pass a regular grid or an "
                               "SMAP L4C Dataset (with row and col).")
        k = np.floor((points - (centres[0] - step[0] / 2)) / step[0]).astype(np.int64)
        k[(k < 0) | (k >= centres.size)] = -1
        out.append(k)
    return out[0], out[1]


def natural_vegetation(majority: xr.DataArray, ndvi: xr.DataArray | None = None, *, min_ndvi: float = 0.1) -> xr.DataArray:
    """The paper's natural-vegetation mask: majority class in 1-11 and, given a mean NDVI map, NDVI >= ``min_ndvi``.

    Managed classes (12 croplands, 13 urban, 14 cropland/natural mosaics) and non-vegetated ones
    (15 snow and ice, 16 barren, 17 water) are outside the mask, as are cells without a class or
    (when ``ndvi`` is given) without an NDVI.

    >>> import xarray as xr
    >>> m = xr.DataArray([[1.0, 12.0], [16.0, 7.0]], dims=("lat", "lon"), coords={"lat": [60.5, 61.5], "lon": [0.5, 1.5]})
    >>> natural_vegetation(m).values.tolist()
    [[True, False], [False, True]]
    >>> natural_vegetation(m, ndvi=m * 0 + [[0.5, 0.5], [0.5, 0.05]]).values.tolist()
    [[True, False], [False, False]]
    """
    values = np.asarray(majority.values, dtype=float)
    mask = np.isin(values, NATURAL)
    rule = "majority IGBP class in 1-11 (not 12-14 managed, not 15 snow/ice, 16 barren, 17 water)"
    if ndvi is not None:
        if ndvi.shape != majority.shape:
            raise ProductError(f"natural_vegetation(): ndvi has shape {ndvi.shape}, the classes {majority.shape}; put both "
                               "on one grid.")
        mask &= np.asarray(ndvi.values, dtype=float) >= min_ndvi  # NaN compares False
        rule += f" and mean NDVI >= {min_ndvi:g}"
    return xr.DataArray(mask, dims=majority.dims, coords=majority.coords, name="natural", attrs={"rule": rule})


def ndvi_rule(table: pd.DataFrame, *, min_ndvi: float = 0.1, by: str = "region") -> pd.Series:
    """Which regions (cells) keep their place under the NDVI rule, from a table of NDVI values.

    ``table`` has columns ``by`` (default ``region``) and ``value`` (NDVI; e.g. the long table's
    NDVI rows over the years); the mean per region is compared with ``min_ndvi``. Returns a
    boolean Series indexed by region (True: mean NDVI >= ``min_ndvi``).

    >>> t = pd.DataFrame({"region": ["a", "a", "b"], "value": [0.05, 0.25, 0.02]})
    >>> ndvi_rule(t).to_dict()
    {'a': True, 'b': False}
    """
    for column in (by, "value"):
        if column not in table.columns:
            raise ProductError(f"ndvi_rule(): the table has no column {column!r} (columns {list(table.columns)}).")
    return table.groupby(by, sort=True)["value"].mean().ge(min_ndvi).rename("ndvi_ok")
