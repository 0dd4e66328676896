"""The IPA Circum-Arctic Map of Permafrost and Ground-Ice Conditions (Brown et al., NSIDC GGD318) per grid cell.

Two forms of the map are read, both down to one permafrost **zone** per cell:

* the **polygons** (``permaice.shp`` with ``.shx``, ``.dbf`` and ``.prj``; read with pyshp):
  a cell takes the attributes of the polygon that contains its centre (:func:`ipa_zones`);
* the **raster** (``nhipa.byte``: EASE-Grid Northern Hemisphere bytes, or a GeoTIFF of the same
  codes): a cell takes the code of the pixel its centre falls in.

Layout, confirmed: attributes ``NUM_CODE``, ``COMBO``, ``RELICT``, ``EXTENT``, ``CONTENT``,
``LANDFORM`` (public readers of permaice.shp: ILAMB-Data's Brown2002 converter uses ``NUM_CODE`` and
``EXTENT`` and codes 21 = glaciers; a GIS recipe filters ``EXTENT = 'C'``); ``EXTENT`` is ``C``
continuous (90-100 %), ``D`` discontinuous (50-90 %), ``S`` sporadic (10-50 %), ``I`` isolated
patches (< 10 %) (NSIDC GGD318 summary); ``NUM_CODE`` 1-4 are chf, dhf, shf, ihf, 5-8 cmf..imf,
9-11 clf, dlf, slf (the code table of the data set's mirror at NCDC); the gridded files hold
``NUM_CODE`` at 12.5 km, 25 km (EASE-Grid) and 0.5 degree (NSIDC). Assumed: codes 12-20 continue
the pattern (ilf, then thin overburden ``r``: chr, dhr, shr, ihr, clr, dlr, slr, ilr), 22 relict
permafrost, 23 inland lakes, 24 ocean, 25 land without permafrost; ``nhipa.byte`` is a headerless
square of unsigned bytes (1441 x 1441 at 12.5 km or 721 x 721 at 25 km) on the original EASE-Grid
north (EPSG:3408, pole at the centre, first row at the top); the shapefile's ``.prj`` gives its
projection (read by pyproj; a shapefile without one is refused).

The zone is a category (``continuous``, ``discontinuous``, ``sporadic``, ``isolated``, ``none``,
``glacier``; missing over lakes, sea and cells without information) with a numeric code
(:data:`ZONE_CODES`, the codes of the long tables and of :class:`pcstats.StudyDesign`: 1, 2, 3, 4, 0, -1). :data:`PAPER_RULE` is Liu et al.'s: continuous,
discontinuous and sporadic are ``P``; isolated and none are ``NoP`` (their code: "1: no
permafrost, 2: isolated" both to no permafrost); glaciers are left out.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..data.design import IPA_NO_PERMAFROST, IPA_PERMAFROST, IPA_ZONE_CODES
from ..errors import ProductError
from .._optional import optional_import

__all__ = ["NUM_CODES", "EXTENTS", "ZONE_CODES", "PAPER_RULE", "IpaPolygons", "read_ipa_polygons", "read_ipa_raster",
           "zone_of_code", "ipa_zones", "EASE_NORTH"]

_COMBOS = ["chf", "dhf", "shf", "ihf", "cmf", "dmf", "smf", "imf", "clf", "dlf", "slf", "ilf",
           "chr", "dhr", "shr", "ihr", "clr", "dlr", "slr", "ilr"]
#: NUM_CODE -> COMBO (1-20: extent, ground-ice content, overburden), then the special codes
NUM_CODES: dict[int, str] = {i + 1: c for i, c in enumerate(_COMBOS)} | {21: "g", 22: "r", 23: "l", 24: "o", 25: "ld"}
EXTENTS = {"C": "continuous", "D": "discontinuous", "S": "sporadic", "I": "isolated"}
ZONE_CODES = IPA_ZONE_CODES
#: zone -> the paper's permafrost class (glaciers are left out: missing), as StudyDesign(permafrost="ipa") decides it
PAPER_RULE = {zone: "P" if code in IPA_PERMAFROST else "NoP" for zone, code in ZONE_CODES.items() if code in
              IPA_PERMAFROST + IPA_NO_PERMAFROST}
#: the original EASE-Grid north (EPSG:3408): cell size (m) by raster side
EASE_NORTH = {"epsg": 3408, 1441: 12533.7625, 721: 25067.525}


def zone_of_code(num_code) -> np.ndarray:
    """Zone names of NUM_CODE values (object array; None for lakes, sea, 0 and unknown codes).

    >>> zone_of_code([1, 6, 11, 12, 21, 22, 23, 25]).tolist()
    ['continuous', 'discontinuous', 'sporadic', 'isolated', 'glacier', 'none', None, 'none']
    """
    codes = np.asarray(num_code, dtype=float).ravel()
    out = np.full(codes.size, None, dtype=object)
    for i, code in enumerate(codes):
        if not np.isfinite(code):
            continue
        combo = NUM_CODES.get(int(code))
        if combo is None or combo in ("l", "o"):
            continue
        out[i] = "glacier" if combo == "g" else "none" if combo in ("r", "ld") else EXTENTS[combo[0].upper()]
    return out.reshape(np.shape(num_code))


@dataclass(frozen=True)
class IpaPolygons:
    """The polygons of permaice.shp: one row of attributes per polygon, its geometry and the file's CRS (WKT)."""

    attributes: pd.DataFrame
    geometries: tuple
    crs: str
    file: str


def read_ipa_polygons(path: str | Path) -> IpaPolygons:
    """Read ``permaice.shp`` (with its ``.dbf``, ``.shx`` and ``.prj``).

    Raises
    ------
    ProductError
        Naming the file: no ``.prj``, no ``EXTENT`` or ``NUM_CODE`` field, an ``EXTENT`` other
        than C/D/S/I or blank, a shapefile that cannot be read.

    Examples
    --------
    >>> p = read_ipa_polygons("fixtures/products_rasters/permaice.shp")
    >>> sorted(set(p.attributes["EXTENT"]) - {""})
    ['C', 'D', 'I', 'S']
    """
    shapefile = optional_import("shapefile", "reading the IPA shapefile")
    shape = optional_import("shapely.geometry", "reading the IPA shapefile").shape

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"read_ipa_polygons: no file at {str(path)!r} (working directory: {Path.cwd()}).")
    prj = path.with_suffix(".prj")
    if not prj.is_file():
        raise ProductError(f"{path}: no {prj.name} beside it, so the polygons' projection is unknown. Keep the .prj that "
                           "ships with permaice.shp in the same folder.")
    try:
        with shapefile.Reader(str(path)) as reader:
            fields = [f[0] for f in reader.fields[1:]]
            records = [list(r) for r in reader.records()]
            geometries = tuple(shape(s.__geo_interface__) if s.points else None for s in reader.shapes())
    except (shapefile.ShapefileException, OSError, ValueError, struct.error) as exc:
        raise ProductError(f"{path}: cannot be read as a shapefile ({exc}); its .shp, .shx and .dbf must be complete. "
                           "Download them again.") from exc
    missing = [f for f in ("NUM_CODE", "EXTENT") if f not in fields]
    if missing:
        raise ProductError(f"{path}: no field {missing} in {path.with_suffix('.dbf').name} (fields {fields}); permaice.shp "
                           "has NUM_CODE, COMBO, RELICT, EXTENT, CONTENT and LANDFORM.")
    attributes = pd.DataFrame(records, columns=fields)
    attributes["EXTENT"] = attributes["EXTENT"].fillna("").astype(str).str.strip().str.upper()
    bad = sorted(set(attributes["EXTENT"]) - set(EXTENTS) - {""})
    if bad:
        raise ProductError(f"{path}, field EXTENT: values {bad}; the map's extents are C, D, S, I (or blank).")
    attributes["NUM_CODE"] = pd.to_numeric(attributes["NUM_CODE"], errors="coerce")
    return IpaPolygons(attributes, geometries, prj.read_text(encoding="utf-8", errors="replace"), path.name)


def read_ipa_raster(path: str | Path) -> xr.DataArray:
    """NUM_CODE of every pixel of ``nhipa.byte`` (or a GeoTIFF of the codes) with the pixels' CRS.

    Dims ``y``, ``x`` (metres, pixel centres); attributes ``crs`` (EPSG code) and ``file``.

    Raises
    ------
    ProductError
        A ``.byte`` file whose size is not 1441 x 1441 or 721 x 721 bytes, a GeoTIFF without an
        EPSG code, codes outside 0-25.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"read_ipa_raster: no file at {str(path)!r} (working directory: {Path.cwd()}).")
    if path.suffix.lower() in (".tif", ".tiff"):
        from .geotiff import read_geotiff

        raster = read_geotiff(path)
        if raster.attrs["epsg"] is None:
            raise ProductError(f"{path}: the GeoTIFF has no EPSG code in its GeoKeys; write it with its projection.")
        codes = raster.isel(band=0, drop=True)
        epsg = raster.attrs["epsg"]
    else:
        data = np.fromfile(path, dtype=np.uint8)
        side = int(round(np.sqrt(data.size)))
        if side * side != data.size or side not in EASE_NORTH:
            raise ProductError(f"{path}: {data.size} bytes; nhipa.byte is 1441 x 1441 (12.5 km) or 721 x 721 (25 km) "
                               "bytes on the EASE-Grid north. A truncated download or another file.")
        cell = EASE_NORTH[side]
        centre = (side - 1) / 2
        coords = (np.arange(side) - centre) * cell
        codes = xr.DataArray(data.reshape(side, side), dims=("y", "x"), coords={"y": -coords, "x": coords})
        epsg = EASE_NORTH["epsg"]
    values = np.asarray(codes.values)
    if values.max(initial=0) > 25:
        raise ProductError(f"{path}: codes up to {values.max()}; NUM_CODE runs from 1 to 25 (0: no information).")
    return codes.rename("NUM_CODE").assign_attrs(crs=f"EPSG:{epsg}", file=path.name)


def ipa_zones(lat, lon, source: IpaPolygons | xr.DataArray) -> pd.DataFrame:
    """The IPA zone at points (cell centres, degrees): one row per point.

    Columns ``lat``, ``lon``, ``num_code``, ``extent`` (C/D/S/I or blank), ``zone``,
    ``zone_code`` (:data:`ZONE_CODES`) and ``permafrost`` (:data:`PAPER_RULE`: ``P``/``NoP``;
    missing for glaciers, lakes, sea and points outside the map).

    ``source`` is :func:`read_ipa_polygons` (the polygon containing the point) or
    :func:`read_ipa_raster` (the pixel containing it).

    Examples
    --------
    >>> p = read_ipa_polygons("fixtures/products_rasters/permaice.shp")
    >>> ipa_zones([65.3, 62.6], [102.0, 102.0], p)[["zone", "permafrost"]].values.tolist()
    [['continuous', 'P'], ['none', 'NoP']]
    """
    pyproj = optional_import("pyproj", "the IPA map's projection")
    CRS, Transformer = pyproj.CRS, pyproj.Transformer

    lat = np.asarray(lat, dtype=float).ravel()
    lon = np.asarray(lon, dtype=float).ravel()
    if lat.shape != lon.shape:
        raise ProductError(f"ipa_zones(): {lat.size} latitudes and {lon.size} longitudes; give one of each per point.")
    crs = CRS.from_wkt(source.crs) if isinstance(source, IpaPolygons) else CRS.from_user_input(source.attrs["crs"])
    x, y = Transformer.from_crs(4326, crs, always_xy=True).transform(lon, lat)
    x, y = np.asarray(x), np.asarray(y)
    num_code = np.full(lat.size, np.nan)
    extent = np.full(lat.size, "", dtype=object)
    if isinstance(source, IpaPolygons):
        shapely = optional_import("shapely", "the IPA zones of points")
        STRtree = optional_import("shapely.strtree", "the IPA zones of points").STRtree

        keep = [i for i, g in enumerate(source.geometries) if g is not None]
        tree = STRtree([source.geometries[i] for i in keep])
        points = shapely.points(x, y)
        point_idx, poly_idx = tree.query(points, predicate="within")
        first = pd.Series(poly_idx).groupby(point_idx).first()  # a point on a shared edge takes one polygon
        rows = np.asarray(keep)[first.to_numpy()]
        num_code[first.index] = source.attributes["NUM_CODE"].to_numpy(dtype=float)[rows]
        extent[first.index] = source.attributes["EXTENT"].to_numpy()[rows]
        zone = zone_of_code(num_code)
        has_extent = extent != ""
        zone[has_extent] = [EXTENTS[e] for e in extent[has_extent]]  # EXTENT decides where given
    else:
        xs, ys = source["x"].values, source["y"].values
        dx, dy = abs(xs[1] - xs[0]), abs(ys[1] - ys[0])
        i = np.round((x - xs[0]) / (xs[1] - xs[0])).astype(np.int64)
        j = np.round((y - ys[0]) / (ys[1] - ys[0])).astype(np.int64)
        inside = (i >= 0) & (i < xs.size) & (j >= 0) & (j < ys.size)
        inside &= (np.abs(x - xs[np.clip(i, 0, xs.size - 1)]) <= dx / 2) & (np.abs(y - ys[np.clip(j, 0, ys.size - 1)]) <= dy / 2)
        num_code[inside] = np.asarray(source.values, dtype=float)[j[inside], i[inside]]
        num_code[num_code == 0] = np.nan
        zone = zone_of_code(num_code)
        combos = [NUM_CODES.get(int(c), "") if np.isfinite(c) else "" for c in num_code]
        extent = np.array([c[0].upper() if len(c) == 3 else "" for c in combos], dtype=object)
    return pd.DataFrame({
        "lat": lat, "lon": lon, "num_code": num_code, "extent": extent, "zone": zone,
        "zone_code": [float(ZONE_CODES[z]) if z is not None else np.nan for z in zone],
        "permafrost": [PAPER_RULE.get(z) if z is not None else None for z in zone],
    })
