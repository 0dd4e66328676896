"""GeoTIFF rasters (through tifffile) and the AVHRR tree-cover product VCF5KYR that ships as one.

:func:`read_geotiff` reads the bands of a GeoTIFF with its georeferencing (pixel scale and tie
point, the EPSG code of its GeoKeys, GDAL's nodata tag). :func:`read_vcf5kyr` reads the
MEaSUREs Vegetation Continuous Fields yearly 0.05-degree product into the canonical layout of
:func:`pcstats.products.read_product` (variable ``TC`` in percent on ``lat`` x ``lon``), and
:func:`vcf_long` writes it as a long table (source ``AVHRR-VCF``).

VCF5KYR v001 layout (LP DAAC product page and Earthdata catalogue entry):

* confirmed: file name ``VCF5KYR_YYYYDDD_001_YYYYDDDHHMMSS.tif`` (acquisition year and day,
  version 001, production time); one GeoTIFF per year, 1982-2016 without 1994 and 2000; three
  bands: 1 percent tree cover, 2 percent non-tree vegetation, 3 percent bare ground; 8-bit
  unsigned integers in percent (no scale factor, no offset); geographic latitude-longitude on
  WGS84, 7200 x 3600 cells of 0.05 degree; pure water pixels (>= 95 % water) set to 0.
* assumed: the fill (the product page lists none): values above 100 are read as missing, as is
  the value of a GDAL nodata tag when the file carries one; the band order of a file with its
  bands interleaved per pixel is the same as that of one with separate planes.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import ProductError
from .._optional import optional_import

__all__ = ["read_geotiff", "read_vcf5kyr", "vcf_long", "VCF_FILE_NAME", "VCF_BANDS"]

VCF_FILE_NAME = r"VCF5KYR_(?P<year>\d{4})(?P<doy>\d{3})_(?P<version>\d{3})_(?P<produced>\d{13})\.tif$"
VCF_BANDS = ("tree_cover", "non_tree_vegetation", "bare_ground")
_SCALE, _TIEPOINT, _GEOKEYS, _NODATA = 33550, 33922, 34735, 42113


def read_geotiff(path: str | Path) -> xr.DataArray:
    """The bands of a north-up GeoTIFF as a DataArray (``band``, ``y``, ``x``) of its native values.

    Coordinates ``x`` and ``y`` are the pixel centres in the file's CRS (degrees for a geographic
    file, metres for a projected one); attributes ``epsg`` (from the GeoKeys: ProjectedCSType,
    else GeographicType), ``nodata`` (GDAL's tag, if any), ``pixel_size`` and ``file``.

    Raises
    ------
    ProductError
        Naming the file: not a TIFF, no georeferencing tags, a rotated grid.
    """
    tifffile = optional_import("tifffile", "reading GeoTIFFs")

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"read_geotiff: no file at {str(path)!r} (working directory: {Path.cwd()}).")
    try:
        with tifffile.TiffFile(path) as tif:
            page = tif.pages[0]
            tags = {t.code: t.value for t in page.tags}
            series = tif.series[0]
            data = series.asarray()
            axes = series.axes
    except (tifffile.TiffFileError, OSError, ValueError) as exc:
        raise ProductError(f"{path}: cannot be read as a TIFF ({exc}). The file is damaged (truncated or corrupt "
                           "download) or not a GeoTIFF; download it again.") from exc
    if _SCALE not in tags or _TIEPOINT not in tags:
        raise ProductError(f"{path}: no georeferencing (ModelPixelScale and ModelTiepoint tags); pcstats reads north-up "
                           "GeoTIFFs. Write the file with its georeferencing (e.g. `gdal_translate`).")
    if "S" in axes:  # bands interleaved per pixel or as separate planes
        data = np.moveaxis(data, axes.index("S"), 0)
    elif data.ndim == 2:
        data = data[None]
    if data.ndim != 3:
        raise ProductError(f"{path}: a raster of axes {axes!r}; pcstats reads bands x rows x columns.")
    sx, sy = float(tags[_SCALE][0]), float(tags[_SCALE][1])
    tie = [float(v) for v in tags[_TIEPOINT]]
    if sx <= 0 or sy <= 0:
        raise ProductError(f"{path}: pixel scale ({sx}, {sy}); pcstats reads north-up rasters with positive pixel sizes.")
    i0, j0, x0, y0 = tie[0], tie[1], tie[3], tie[4]
    keys = _geokeys(tags.get(_GEOKEYS))
    epsg = keys.get(3072) or keys.get(2048)
    raster = keys.get(1025, 1)  # 1: PixelIsArea (tie point at the corner), 2: PixelIsPoint
    offset = 0.5 if raster == 1 else 0.0
    x = x0 + (np.arange(data.shape[2]) - i0 + offset) * sx
    y = y0 - (np.arange(data.shape[1]) - j0 + offset) * sy
    nodata = tags.get(_NODATA)
    nodata = float(str(nodata).strip("\x00 ")) if nodata not in (None, "") else None
    return xr.DataArray(data, dims=("band", "y", "x"), coords={"band": np.arange(1, data.shape[0] + 1), "y": y, "x": x},
                        attrs={"epsg": int(epsg) if epsg else None, "nodata": nodata, "pixel_size": (sx, sy),
                               "file": path.name})


def _geokeys(directory) -> dict[int, int]:
    """Short-valued GeoKeys of a GeoKeyDirectory tag: {key id: value}."""
    if directory is None:
        return {}
    values = [int(v) for v in directory]
    n = values[3]
    out = {}
    for k in range(n):
        key, location, _count, value = values[4 + 4 * k: 8 + 4 * k]
        if location == 0:
            out[key] = value
    return out


def read_vcf5kyr(path: str | Path) -> xr.Dataset:
    """Percent tree cover of a VCF5KYR yearly GeoTIFF in the canonical layout (``TC`` on ``lat`` x ``lon``).

    Band 1 (tree cover, percent, no scale factor); values above 100 and the GDAL nodata value are
    missing (the product documents no fill). Non-tree vegetation and bare ground are kept as
    ``TC``'s siblings ``non_tree_vegetation`` and ``bare_ground`` (percent). Latitude ascending,
    longitude in [-180, 180). Dataset attributes ``year`` (from the file name), ``source``
    (``AVHRR-VCF``) and ``kind`` (``covariate``).

    Examples
    --------
    >>> ds = read_vcf5kyr("fixtures/products_rasters/VCF5KYR_2010001_001_2018224204211.tif")
    >>> ds["TC"].attrs["units"], ds.attrs["year"], ds.attrs["source"]
    ('%', 2010, 'AVHRR-VCF')
    """
    path = Path(path)
    match = re.search(VCF_FILE_NAME, path.name)
    if match is None:
        raise ProductError(f"{path}: not a VCF5KYR file name (VCF5KYR_YYYYDDD_001_YYYYDDDHHMMSS.tif); the year is read "
                           "from the name. Keep the name as shipped.")
    raster = read_geotiff(path)
    if raster.attrs["epsg"] not in (None, 4326):
        raise ProductError(f"{path}: EPSG:{raster.attrs['epsg']}; VCF5KYR is geographic latitude-longitude (EPSG:4326).")
    if not np.issubdtype(raster.dtype, np.integer):
        raise ProductError(f"{path}: values of type {raster.dtype}; VCF5KYR bands are 8-bit unsigned integers in percent.")
    values = raster.values.astype(np.float64)
    invalid = values > 100
    if raster.attrs["nodata"] is not None:
        invalid |= values == raster.attrs["nodata"]
    values[invalid] = np.nan
    lat, lon = raster["y"].values, ((raster["x"].values + 180.0) % 360.0) - 180.0
    order_lat, order_lon = np.argsort(lat), np.argsort(lon)
    ds = xr.Dataset(coords={"lat": lat[order_lat], "lon": lon[order_lon]})
    names = ("TC",) + VCF_BANDS[1:]
    for k, name in enumerate(names[: values.shape[0]]):
        ds[name] = xr.Variable(("lat", "lon"), values[k][order_lat][:, order_lon], attrs={
            "units": "%", "native_variable": f"band {k + 1} ({VCF_BANDS[k]})", "native_units": "percent (uint8)",
            "pcstats_conversion": "none (percent, no scale factor); values > 100 or nodata are missing",
            "source": "AVHRR-VCF", "files": path.name})
    return ds.assign_attrs(product="VCF5KYR", source="AVHRR-VCF", kind="covariate", year=int(match["year"]), files=path.name,
                           missing_values=str({"TC": int(invalid[0].sum())}))


def vcf_long(path: str | Path) -> pd.DataFrame:
    """Tree cover of one VCF5KYR file as a long table: variable ``TC`` (%), source ``AVHRR-VCF``, season ``ANN``.

    One row per cell with data, for the file's year (the regular 0.05-degree grid; weights are cell
    areas in km2, :func:`pcstats.grid.to_long`).

    >>> t = vcf_long("fixtures/products_rasters/VCF5KYR_2010001_001_2018224204211.tif")
    >>> t[["source", "season", "variable", "unit"]].iloc[0].tolist(), int(t["year"].iloc[0])
    (['AVHRR-VCF', 'ANN', 'TC', '%'], 2010)
    """
    from ..grid import to_long

    ds = read_vcf5kyr(path)
    return to_long(ds[["TC"]].assign_attrs(ds.attrs), years=[ds.attrs["year"]])
