"""SMAP Level-4 Carbon (SPL4CMDL) daily HDF5 files: NEE, GPP and RH on the EASE-Grid 2.0 global 9 km grid.

Layout (what was confirmed and where; what is assumed):

* **File names** ``SMAP_L4_C_mdl_YYYYMMDDThhmmss_Vv<version>_<nnn>.h5``, one file per day (NSIDC
  SPL4CMDL user guide and file naming; e.g. ``SMAP_L4_C_mdl_20150331T000000_Vv4040_001.h5``).
* **Datasets** ``NEE/nee_mean``, ``GPP/gpp_mean``, ``RH/rh_mean`` (daily means over the plant
  functional types of a 9 km cell), float32, shape 1624 x 3856 in the global files (confirmed by
  public readers: the ``NEE/nee_mean`` ``(1624, 3856)`` float32 check of a granule-reader test, the
  ``SPL4CMDL`` path table ``GPP/gpp_mean``, ``NEE/nee_mean``, ``RH/rh_mean``, ``GEO/latitude``,
  ``GEO/longitude`` of the TCF/L4C code). Cell centres are ``GEO/latitude`` and
  ``GEO/longitude`` (L4C v4 onwards); ``cell_lat`` and ``cell_lon`` (the L4SM layout, named in
  the brief for L4C) are accepted too.
* **Units and fill**: ``g C m-2 d-1`` (the ``units`` attribute, read when present; several
  spellings accepted), ``_FillValue`` -9999 (read from the attribute; -9999 is used when absent).
  NEE is positive for a release to the atmosphere (NEE = RH - NPP). *Assumed*: the exact
  spelling of the ``units`` attribute in every version (unknown spellings are an error).
* **Grid**: EASE-Grid 2.0 global (EPSG:6933, cylindrical equal area, true scale at 30 degrees),
  9 km cells of 9008.055210146 m, upper-left corner x = -17367530.45 m, y = 7314540.83 m
  (NSIDC EASE-Grid 2.0 definitions; the geotransform ``(-17367530.45, 9000, 0, 7314540.83, 0,
  -9000)`` of a public reader rounds the cell size). Each row has one latitude and each column one
  longitude, so a file (or a spatial subset of one) is a ``lat`` x ``lon`` grid whose latitudes are
  not evenly spaced in degrees; every cell has the same area (81.145 km2). The global row of each
  file row and column of each file column are recovered from the cell centres (pyproj, EPSG:6933)
  and kept as coordinates; the reader checks on the first and last row and column that latitude is
  constant along rows and longitude along columns (assumed: the coordinate maps carry no fill).

:func:`read_smap_l4c` reads daily files into a Dataset (``time``, ``lat``, ``lon``) in pcstats
units (gC m-2 yr-1 = daily rate x 365; NEE with net uptake positive, ``positive = "down"``);
:func:`monthly_means` averages the days present in each month; :func:`smap_long` writes the
long table (one row per cell and day or month).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..data.contract import validate
from ..data.units import DAYS_PER_YEAR
from ..errors import ProductError
from .._optional import optional_import

__all__ = ["SMAP_FILE_NAME", "SMAP_DATASETS", "EASE2_9KM", "read_smap_l4c", "monthly_means", "smap_long",
           "ease2_row_col", "ease2_centres"]

#: file-name pattern of the daily SPL4CMDL granules
SMAP_FILE_NAME = r"SMAP_L4_C_mdl_(?P<date>\d{8})T(?P<time>\d{6})_(?P<version>V[A-Za-z0-9]+)_(?P<number>\d{3})\.h5$"
#: pcstats variable -> dataset path in the file
SMAP_DATASETS = {"NEE": "NEE/nee_mean", "GPP": "GPP/gpp_mean", "RH": "RH/rh_mean"}
_LATLON = (("GEO/latitude", "GEO/longitude"), ("cell_lat", "cell_lon"))
_UNITS = {"g C m-2 d-1", "g C m-2 day-1", "gC m-2 d-1", "gC m-2 day-1", "g C m^-2 d^-1", "g C m-2 day^-1",
          "g m-2 d-1", "g m-2 day-1"}
_FILL = -9999.0
#: EASE-Grid 2.0 global 9 km: EPSG code, cell size (m), upper-left corner (m), rows, columns
EASE2_9KM = {"epsg": 6933, "cell": 9008.055210146, "x0": -17367530.45, "y0": 7314540.83, "rows": 1624, "cols": 3856}
CELL_AREA_KM2 = (EASE2_9KM["cell"] / 1000.0) ** 2


def ease2_row_col(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Global row and column of the EASE-Grid 2.0 9 km cells that contain points (degrees).

    >>> ease2_row_col(np.array([64.0]), np.array([100.0]))
    (array([80]), array([2999]))
    """
    Transformer = optional_import("pyproj", "the EASE-Grid 2.0 projection").Transformer

    t = Transformer.from_crs(4326, EASE2_9KM["epsg"], always_xy=True)
    x, y = t.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    col = np.floor((np.asarray(x) - EASE2_9KM["x0"]) / EASE2_9KM["cell"]).astype(np.int64)
    row = np.floor((EASE2_9KM["y0"] - np.asarray(y)) / EASE2_9KM["cell"]).astype(np.int64)
    return row, col


def ease2_centres(rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Latitudes of the given global rows and longitudes of the given columns (cell centres, degrees).

    >>> [round(float(v), 4) for v in ease2_centres(np.array([0]), np.array([0]))[0]]
    [84.6564]
    """
    Transformer = optional_import("pyproj", "the EASE-Grid 2.0 projection").Transformer

    t = Transformer.from_crs(EASE2_9KM["epsg"], 4326, always_xy=True)
    rows, cols = np.asarray(rows, dtype=float), np.asarray(cols, dtype=float)
    _, lat = t.transform(np.zeros_like(rows), EASE2_9KM["y0"] - (rows + 0.5) * EASE2_9KM["cell"])
    lon, _ = t.transform(EASE2_9KM["x0"] + (cols + 0.5) * EASE2_9KM["cell"], np.zeros_like(cols))
    return np.asarray(lat), np.asarray(lon)


def read_smap_l4c(paths: str | Path | Sequence[str | Path], variables: Sequence[str] = ("NEE", "GPP", "RH"), *,
                  bbox: Sequence[float] | None = None) -> xr.Dataset:
    """Read daily SPL4CMDL files into one Dataset (``time`` x ``lat`` x ``lon``) in pcstats units.

    Parameters
    ----------
    paths
        One file or a list of daily files of the same grid (global, or one spatial subset).
    variables
        Any of ``NEE``, ``GPP``, ``RH``.
    bbox
        ``(lat_min, lat_max, lon_min, lon_max)``: read only the rows and columns whose centres lie
        inside (a global day is 1624 x 3856 cells, 50 MB per variable in float64; the paper's
        domain north of 50 N is a fifth of the rows). Does not wrap across 180 degrees.

    Returns
    -------
    Dataset
        Variables in gC m-2 yr-1 (daily mean rate x 365); NEE with net uptake positive
        (``positive = "down"``). Coordinates ``time`` (the files' days), ``lat`` (ascending),
        ``lon`` and the global EASE-Grid 2.0 ``row`` (along ``lat``) and ``col`` (along ``lon``).
        Fill values (-9999, or the ``_FillValue`` attribute) are NaN; how many is in the
        attribute ``missing_values``.

    Raises
    ------
    ProductError
        Naming the file and dataset: a file that is not HDF5, a missing dataset or coordinate, a
        unit that is not a daily carbon flux, cell centres that are not on the EASE-Grid 2.0 9 km
        grid, files of different grids, a day given twice, a name without the date.

    Examples
    --------
    >>> import glob
    >>> ds = read_smap_l4c(sorted(glob.glob("fixtures/products_rasters/smap/SMAP_L4_C_mdl_2015*.h5"))[:2])
    >>> ds["NEE"].attrs["units"], ds["NEE"].attrs["positive"], ds.sizes["time"]
    ('gC m-2 yr-1', 'down', 2)
    """
    files = [Path(p) for p in ([paths] if isinstance(paths, (str, Path)) else paths)]
    if not files:
        raise ProductError("read_smap_l4c(): no files given.")
    unknown = [v for v in variables if v not in SMAP_DATASETS]
    if unknown:
        raise ProductError(f"read_smap_l4c(variables={list(variables)!r}): {unknown} not in the L4C product; use any of "
                           f"{', '.join(SMAP_DATASETS)}.")
    days, grids, values, missing = [], None, {v: [] for v in variables}, {v: 0 for v in variables}
    for path in files:
        day, grid, fields, n_fill = _read_file(path, variables, bbox)
        if grids is None:
            grids = (path, grid)
        elif not (np.array_equal(grid[0], grids[1][0]) and np.array_equal(grid[1], grids[1][1])):
            raise ProductError(f"{path}: its cells differ from those of {grids[0].name} (rows {grid[0].min()}..{grid[0].max()}, "
                               f"columns {grid[1].min()}..{grid[1].max()}); read files of one grid or subset together.")
        days.append(day)
        for v in variables:
            values[v].append(fields[v])
            missing[v] += n_fill[v]
    time = pd.DatetimeIndex(days)
    if time.has_duplicates:
        dup = time[time.duplicated()][0]
        raise ProductError(f"read_smap_l4c(): two files for {dup:%Y-%m-%d} "
                           f"({', '.join(f.name for f, d in zip(files, days) if d == dup)}); keep one.")
    order = np.argsort(time.values)
    rows, cols = grids[1]
    lat, lon = ease2_centres(rows, cols)
    flip = np.argsort(lat)  # files run north to south; pcstats grids have ascending latitude
    ds = xr.Dataset(coords={"time": time[order], "lat": lat[flip], "lon": lon,
                            "row": ("lat", rows[flip]), "col": ("lon", cols)})
    for v in variables:
        stack = np.stack(values[v])[order][:, flip, :].astype(np.float64) * DAYS_PER_YEAR
        if v == "NEE":
            stack = -stack
        ds[v] = xr.Variable(("time", "lat", "lon"), stack, attrs={
            "units": "gC m-2 yr-1", "positive": "down" if v == "NEE" else None, "native_variable": SMAP_DATASETS[v],
            "native_units": "g C m-2 d-1", "native_positive": "up" if v == "NEE" else None,
            "pcstats_conversion": "daily mean rate x 365" + ("; sign flipped (net uptake positive)" if v == "NEE" else ""),
            "source": "SMAP-L4C", "files": ", ".join(f.name for f in files)})
        ds[v].attrs = {k: a for k, a in ds[v].attrs.items() if a is not None}
    return ds.assign_attrs(product="SPL4CMDL", source="SMAP-L4C", kind="satellite", files=", ".join(f.name for f in files),
                           grid="EASE-Grid 2.0 global 9 km (EPSG:6933); equal-area cells of 81.145 km2",
                           missing_values=str({v: int(n) for v, n in missing.items()}))


def _read_file(path: Path, variables: Sequence[str], bbox):
    h5py = optional_import("h5py", "reading SMAP L4C HDF5 files")

    if not path.is_file():
        raise FileNotFoundError(f"read_smap_l4c: no file at {str(path)!r} (working directory: {Path.cwd()}).")
    match = re.search(SMAP_FILE_NAME, path.name)
    if match is None:
        raise ProductError(f"{path}: not an SPL4CMDL file name (SMAP_L4_C_mdl_YYYYMMDDThhmmss_Vv<version>_<nnn>.h5); "
                           "the day is read from the name. Keep the names as shipped.")
    day = pd.Timestamp(match["date"])
    try:
        h5 = h5py.File(path, "r")
    except OSError as exc:
        raise ProductError(f"{path}: cannot be opened as HDF5 ({exc}). The file is damaged (truncated or corrupt "
                           "download) or not an SPL4CMDL granule; download it again.") from exc
    with h5:
        names = next((pair for pair in _LATLON if all(n in h5 for n in pair)), None)
        if names is None:
            raise ProductError(f"{path}: no cell coordinates; SPL4CMDL files have GEO/latitude and GEO/longitude "
                               f"(or cell_lat and cell_lon). The file has {sorted(h5.keys())}.")
        lat_in, lon_in = h5[names[0]], h5[names[1]]
        if lat_in.ndim != 2 or lat_in.shape != lon_in.shape or 0 in lat_in.shape:
            raise ProductError(f"{path}, datasets {names}: shapes {lat_in.shape} and {lon_in.shape}; L4C coordinates are "
                               "2-D maps of one shape.")
        # the grid is cylindrical: one latitude per row and one longitude per column (checked on the edges)
        lat, lat_last = (np.asarray(lat_in[:, k], dtype=np.float64) for k in (0, -1))
        lon, lon_last = (np.asarray(lon_in[k, :], dtype=np.float64) for k in (0, -1))
        if not all(np.isfinite(a).all() for a in (lat, lat_last, lon, lon_last)):
            raise ProductError(f"{path}, datasets {names}: missing cell coordinates (fill values); pcstats reads files "
                               "whose every cell has its centre.")
        rows, _ = ease2_row_col(lat, np.zeros_like(lat))
        _, cols = ease2_row_col(np.zeros_like(lon), lon)
        if (np.abs(lat - lat_last).max() > 1e-4 or np.abs(lon - lon_last).max() > 1e-4
                or np.any(np.diff(rows) != 1) or np.any(np.diff(cols) != 1)):
            raise ProductError(f"{path}, datasets {names}: the cells are not rows and columns of the EASE-Grid 2.0 9 km "
                               "grid (latitude changes along a row, or rows/columns are not consecutive); pcstats reads "
                               "the global grid or rectangular subsets of it.")
        window = (slice(None), slice(None))
        if bbox is not None:
            lat_min, lat_max, lon_min, lon_max = bbox
            r = np.flatnonzero((lat >= lat_min) & (lat <= lat_max))
            c = np.flatnonzero((lon >= lon_min) & (lon <= lon_max))
            if r.size == 0 or c.size == 0:
                raise ProductError(f"{path}: no cell centre inside bbox={tuple(bbox)} (lat_min, lat_max, lon_min, lon_max); "
                                   f"the file spans lat {lat.min():.2f}..{lat.max():.2f}, lon {lon.min():.2f}..{lon.max():.2f}.")
            window = (slice(r[0], r[-1] + 1), slice(c[0], c[-1] + 1))
            rows, cols = rows[window[0]], cols[window[1]]
        fields, n_fill = {}, {}
        for v in variables:
            name = SMAP_DATASETS[v]
            if name not in h5:
                raise ProductError(f"{path}: no dataset {name!r} ({v}); the file has groups {sorted(h5.keys())}.")
            dset = h5[name]
            if dset.shape != lat_in.shape:
                raise ProductError(f"{path}, dataset {name!r}: shape {dset.shape} differs from the coordinates' "
                                   f"{lat_in.shape}.")
            units = _text(dset.attrs.get("units"))
            if units is not None and units not in _UNITS:
                raise ProductError(f"{path}, dataset {name!r}: units {units!r}; L4C fluxes are daily rates in g C m-2 d-1. "
                                   "A different unit means a different product or a damaged attribute.")
            fill = float(np.ravel(dset.attrs.get("_FillValue", _FILL))[0])
            try:
                data = np.asarray(dset[window], dtype=np.float64)
            except (OSError, RuntimeError) as exc:
                raise ProductError(f"{path}, dataset {name!r}: cannot be read ({exc}); download the file again.") from exc
            bad = (data == fill) | (data == _FILL) | ~np.isfinite(data)
            data[bad] = np.nan
            if np.nanmax(np.abs(data), initial=0.0) > 100:
                raise ProductError(f"{path}, dataset {name!r}: values up to {np.nanmax(np.abs(data)):g} g C m-2 d-1 "
                                   "(beyond 100): an undeclared fill value or a wrong unit.")
            fields[v], n_fill[v] = data, int(bad.sum())
    return day, (rows, cols), fields, n_fill


def _text(value) -> str | None:
    if value is None:
        return None
    value = np.ravel(value)[0] if np.ndim(value) else value
    return value.decode() if isinstance(value, bytes) else str(value)


def monthly_means(ds: xr.Dataset) -> xr.Dataset:
    """Mean of the days present in each month (time stamps at month starts); ``n_days`` counts them.

    >>> import glob
    >>> m = monthly_means(read_smap_l4c(sorted(glob.glob("fixtures/products_rasters/smap/*.h5"))[:2]))
    >>> [str(t)[:10] for t in m["time"].values]
    ['2015-05-01', '2015-06-01']
    """
    month = ds["time"].dt.floor("D").to_index().to_period("M").to_timestamp()
    grouped = ds.assign_coords(month=("time", month)).groupby("month")
    out = grouped.mean("time", skipna=False)
    n_days = xr.DataArray(pd.Series(month).value_counts().sort_index().to_numpy(), dims="month")
    out = out.rename(month="time").assign_coords(n_days=("time", n_days.values))
    for v in out.data_vars:
        out[v].attrs = dict(ds[v].attrs, monthly="mean of the daily files present in the month (n_days)")
    return out.assign_attrs(ds.attrs)


def smap_long(ds: xr.Dataset, *, by: str = "month") -> pd.DataFrame:
    """The L4C Dataset as a validated long table: one row per cell, day or month, and variable.

    ``by="month"`` averages the days of each month first (:func:`monthly_means`) and writes
    ``month`` rows; ``by="day"`` writes one row per day with the column ``date`` beside ``year``
    and ``month``. ``region`` is the cell (``"r0123_c0456"``: global EASE-Grid 2.0 row and column);
    ``weight`` is the cell area (81.145 km2, equal for every cell).

    >>> import glob
    >>> t = smap_long(read_smap_l4c(sorted(glob.glob("fixtures/products_rasters/smap/*.h5"))[:1]))
    >>> t[["source", "variable", "unit", "positive"]].iloc[0].tolist()
    ['SMAP-L4C', 'NEE', 'gC m-2 yr-1', 'down']
    """
    if by not in ("month", "day"):
        raise ProductError(f"smap_long(by={by!r}): use 'month' or 'day'.")
    data = monthly_means(ds) if by == "month" else ds
    variables = [v for v in ("NEE", "GPP", "RH") if v in data]
    frame = data[variables].to_dataframe().reset_index()
    frame["region"] = [f"r{r:04d}_c{c:04d}" for r, c in zip(frame["row"], frame["col"])]
    long = frame.melt(id_vars=["region", "time", "lat", "lon"], value_vars=variables, var_name="variable")
    long = long[np.isfinite(long["value"])]
    time = pd.DatetimeIndex(long["time"])
    out = pd.DataFrame({"source": "SMAP-L4C", "kind": "satellite", "region": long["region"].to_numpy(),
                        "year": time.year, "month": time.month, "variable": long["variable"].to_numpy(),
                        "value": long["value"].to_numpy(), "unit": "gC m-2 yr-1",
                        "positive": np.where(long["variable"] == "NEE", "down", None),
                        "lat": long["lat"].to_numpy(), "lon": long["lon"].to_numpy(), "weight": CELL_AREA_KM2})
    if by == "day":  # several rows per month: the contract's keys would repeat, so days are kept as they are
        out.insert(5, "date", time.normalize())
        out.attrs["pcstats"] = {"by": "day", "source": "SMAP-L4C"}
        return out.sort_values(["variable", "region", "date"], ignore_index=True)
    table = validate(out, variables=variables)
    table.attrs["pcstats"] = {"by": "month", "source": "SMAP-L4C"}
    return table
