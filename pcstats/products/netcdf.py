"""Read gridded products (NetCDF) in their real layouts into one canonical xarray Dataset.

The canonical form, whatever the product:

* dimensions ``time`` (month starts, datetime64; absent for static maps), ``lat`` (ascending,
  degrees north) and ``lon`` (ascending, in [-180, 180));
* one variable per pcstats variable (``NEE``, ``NBP``, ``GPP``, ``TER``, ``RA``, ``RH``, ``AirT``,
  ``TC``, ``P``, ``NDVI``, ``SM``): fluxes in gC m-2 yr-1 with net uptake positive (``positive = "down"``),
  NDVI unitless, SM in m3 m-3;
  each carries ``units``, ``positive``, ``native_variables``, ``native_units``,
  ``native_positive`` and ``pcstats_conversion``, the sentence that says what was done, and
  ``source`` and ``files`` (the files it was read from, so a variable taken out of the Dataset
  still says where it came from) and, when it has a time axis, ``native_calendar`` (the files' calendar);
* ``cell_area`` (m2) and ``land_fraction`` (0-1) where the product ships them;
* for sub-monthly products (GIMMS NDVI3g's 15-day composites, ESA CCI SM's daily files),
  ``<variable>_count``: how many valid steps made each month's value (the product's ``to_month``
  rule: the mean of the valid steps, or their maximum; steps whose quality flag is not in
  ``keep_flags`` are left out first);
* Dataset attributes ``product``, ``source``, ``kind``, ``files``, ``calendar``,
  ``time_steps``, ``missing_values`` (how many values were missing in the files, and why) and
  ``undeclared_fill`` (how many values beyond 1e30 were read as missing: fill values that no
  ``_FillValue`` or ``missing_value`` attribute declares; absent on lazy reads, which mask them uncounted).

Bad input is never read silently. A :class:`~pcstats.errors.ProductError` names the file and
variable and says how to fix it when a file cannot be opened or its data cannot be read
(truncated, corrupt), when a lat/lon dimension has no coordinate variable, non-finite values or
values outside [-90, 90] / [-180, 360] degrees, when a dimension has size 0, when a time axis
cannot be decoded, and when converted values lie outside what the variable can physically take
(fluxes beyond 1e5 gC m-2 yr-1 or all below 1e-2, temperatures beyond +-100 degC, covers
outside 0-100 %): a wrong ``units`` attribute or a missing-value code the file does not declare.
A variable whose values are all missing (NaN-only, all fill) is not made: it is listed in
``not_made`` with the reason and warned about; when no variable is left, that is a ProductError.
Longitudes in 0..360 are read as -180..180. Lazy reads (``chunks``) skip the checks that need the
values (counts, ranges, damaged data blocks).

Files are opened lazily: pass ``chunks`` (e.g. ``{"lat": 180}``) to get dask-backed variables.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import ProductError, did_you_mean
from .convert import conversion, days_in_month
from .layouts import PRODUCTS, Product, product_for_file
from .steps import to_months
from .._optional import optional_import

__all__ = ["read_product", "detect_product", "decode_months", "CALENDARS"]

#: CF calendars that cftime decodes (its names); "gregorian" is CF's deprecated name of "standard". CF's
#: "none" (a time axis without a calendar) is left out: it gives no dates, cftime refuses it, and pcstats needs months
CALENDARS = ("standard", "gregorian", "proleptic_gregorian", "noleap", "365_day", "all_leap", "366_day", "360_day",
             "julian")


def read_product(
    paths: str | Path | Sequence[str | Path],
    product: str | Product | None = None,
    *,
    units: Mapping[str, str] | None = None,
    chunks: Mapping[str, int] | None = None,
) -> xr.Dataset:
    """Read one source's files (one file, the monthly files of a product, or a model's variable files).

    Parameters
    ----------
    paths
        A NetCDF file or a list of files of the same source (e.g. the 12 ``cams73_..._mm_YYYYMM.nc``
        of a year, or ``CLM5.0_S3_nbp.nc`` with ``CLM5.0_S3_gpp.nc``).
    product
        A key of :data:`pcstats.products.layouts.PRODUCTS` (``"CTE-nofire"`` reads CarbonTracker
        Europe's NEE without fire), or a :class:`Product` made with ``dataclasses.replace`` (e.g.
        ``replace(PRODUCTS["GIMMS-NDVI3g"], to_month="mean", keep_flags=(0,))``); by default
        recognised from the file name, else from the variables.
    units
        ``{native variable: units}`` for files whose variables lack a ``units`` attribute (or carry a
        wrong one). Recorded in ``pcstats_conversion``.
    chunks
        Dask chunks in space, e.g. ``{"lat": 180, "lon": 360}``: dask-backed variables, read when
        computed; the time axis stays one chunk unless ``"time"`` is given.

    Raises
    ------
    ProductError
        Naming the file and variable: unknown variables, a missing or unknown ``units`` attribute,
        a time axis or calendar that cannot be decoded, duplicated months.

    Examples
    --------
    >>> from pcstats.products import read_product
    >>> ds = read_product("fixtures/products/CT2019B.flux1x1-monthly.nc")
    >>> ds["NEE"].attrs["units"], ds["NEE"].attrs["positive"], ds["NEE"].attrs["native_variables"]
    ('gC m-2 yr-1', 'down', 'bio_flux_opt + fire_flux_imp')
    """
    files = [Path(p) for p in ([paths] if isinstance(paths, (str, Path)) else paths)]
    if not files:
        raise ProductError("read_product(): no files given.")
    for f in files:
        if not f.exists():
            raise FileNotFoundError(f"read_product: no file at {str(f)!r} (working directory: {Path.cwd()}).")
    layout = _layout(files, product)
    sources = {layout.source_of(f.name) for f in files}
    if len(sources) > 1:
        raise ProductError(f"read_product(): the files belong to several sources {sorted(sources)}; read each source separately.")
    opened = [_open(f, layout, chunks) for f in files]
    ds, missing, undeclared = _combine(opened, layout, files)
    counts = {}
    if layout.steps != "monthly":
        ds, counts, screened = to_months(ds, layout, _where(files, layout))
        missing += screened
    out = _outputs(ds, layout, files, dict(units or {}), missing, counts)
    if chunks is None:  # a lazy read masks them without counting (see missing_values)
        out.attrs["undeclared_fill"] = undeclared
    out.attrs.update({
        "product": layout.name, "source": sources.pop(), "kind": layout.kind,
        "files": ", ".join(f.name for f in files), "layout_documented": layout.documented,
        "layout_assumed": layout.assumed,
    })
    for name in out.data_vars:  # each variable keeps where it came from, for messages and for seasonalize_grid
        var = out[name]
        native = set(str(var.attrs.get("native_variables", var.attrs.get("native_variable", ""))).split(" + "))
        var.attrs.update(source=out.attrs["source"],
                         files=", ".join(f.name for f, ds in zip(files, opened) if native & set(ds.data_vars)))
        if "time" in var.dims:
            var.attrs["native_calendar"] = out.attrs.get("calendar", "standard")
    return out


def detect_product(path: str | Path) -> Product:
    """The product of a file: by file name, else by its variables.

    >>> detect_product("fixtures/products/cru_ts4.04.1901.2019.tmp.dat.nc").name
    'CRU'
    """
    return _layout([Path(path)], None)


def _layout(files: list[Path], product: str | Product | None) -> Product:
    if isinstance(product, Product):
        return product
    if product is not None:
        if product not in PRODUCTS:
            raise ProductError(f"product={product!r} is not in the catalogue.{did_you_mean(product, PRODUCTS)} "
                               f"Known: {', '.join(PRODUCTS)}.")
        return PRODUCTS[product]
    by_name = {f.name: product_for_file(f.name) for f in files}
    found = {p.name for p in by_name.values() if p is not None}
    if len(found) == 1 and all(by_name.values()):
        return PRODUCTS[found.pop()]
    if len(found) > 1:
        raise ProductError(f"read_product(): the files are of different products {sorted(found)}; read them separately.")
    try:
        with xr.open_dataset(files[0], decode_times=False) as ds:
            names = set(ds.data_vars)
    except (OSError, ValueError, RuntimeError) as exc:
        raise ProductError(f"{files[0]}: cannot be opened as NetCDF ({exc}). The file is damaged (truncated or corrupt "
                           "download) or not NetCDF; download it again.") from exc
    candidates = [p for p in PRODUCTS.values() if p.detect and p.native_names & names]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        known = "; ".join(f"{p.name}: {', '.join(sorted(p.native_names))}" for p in PRODUCTS.values() if p.detect)
        raise ProductError(
            f"{files[0]}: no variable of a known product. The file has {', '.join(sorted(names)) or 'no variables'}; "
            f"pcstats reads {known}. Rename the variable (e.g. with `ncrename -v old,new FILE`) or pass product= "
            "and units= if the layout is one of these under another file name."
        )
    raise ProductError(
        f"{files[0]}: the variables fit several products ({', '.join(p.name for p in candidates)}) and the file name "
        "does not say which; pass product=..."
    )


def _open(path: Path, layout: Product, chunks: Mapping[str, int] | None) -> xr.Dataset:
    try:
        ds = xr.open_dataset(path, decode_times=False, mask_and_scale=True)
    except (OSError, ValueError, RuntimeError) as exc:
        raise ProductError(f"{path}: cannot be opened as NetCDF ({exc}). The file is damaged (truncated or corrupt "
                           "download) or not NetCDF; download it again.") from exc
    rename = {}
    for target, names in (("lat", layout.lat), ("lon", layout.lon)):
        present = [n for n in names if n in ds.dims]
        if not present:
            raise ProductError(f"{path}: no {target} dimension; {layout.name} files have one of {names}, this file has "
                               f"dimensions {list(ds.dims)}. Rename it, e.g. `ncrename -d old,{names[0]} -v old,{names[0]} "
                               "FILE`.")
        _check_axis(ds, present[0], target, path)
        rename[present[0]] = target
    ds = ds.rename(rename)
    if chunks is not None:  # dask chunks in space as asked; the time axis in one chunk (not the file's storage chunks)
        time_dim = next((n for n in layout.time if n in ds.dims), None)
        spec = {d: -1 for d in ds.dims} | {d: chunks[d] for d in ("lat", "lon") if d in chunks}
        if time_dim and "time" in chunks:
            spec[time_dim] = chunks["time"]
        ds = ds.chunk(spec)
    principal = {n for fields in layout.outputs.values() for n in fields[0].names}  # fire_flux_imp alone makes nothing
    if not principal & set(ds.data_vars):
        raise ProductError(
            f"{path}: none of {layout.name}'s variables ({', '.join(sorted(principal))}) is in the file, which "
            f"has {', '.join(sorted(map(str, ds.data_vars))) or 'no variables'}. Rename the variable (e.g. `ncrename -v "
            "old,new FILE`) or pass the product whose layout the file has."
        )
    keep = (layout.native_names | layout.flag_variables | {layout.area, layout.land_fraction}) & set(ds.data_vars)
    ds = ds[sorted(keep)]
    for field in (f for fields in layout.outputs.values() for f in fields if f.scale != 1.0):
        for name in (n for n in field.names if n in ds and "scale_factor" not in ds[n].encoding):
            ds[name].attrs["pcstats_undeclared_scale"] = field.scale  # applied after missing codes are masked
    empty = [(n, d) for n in sorted(layout.native_names & keep) for d in ds[n].dims if ds.sizes[d] == 0]
    if empty:
        name, dim = empty[0]
        raise ProductError(f"{path}, variable {name!r}: dimension {dim!r} has size 0, so the variable holds no values "
                           f"(dimensions {dict(ds.sizes)}). The file is incomplete; download or write it again, or leave "
                           "it out.")
    if chunks is None:  # read now, so that a damaged data block is an error naming this file
        try:
            ds = ds.load()
        except (OSError, RuntimeError, ValueError) as exc:
            raise ProductError(f"{path}: the data of {', '.join(sorted(keep))} cannot be read ({exc}). The file is "
                               "damaged (truncated or corrupt download); download it again.") from exc
    if layout.time_from_file_name:
        ds = _time_from_file_name(ds, layout, path)
    elif layout.time:
        present = [n for n in layout.time if n in ds.dims]
        if not present:
            raise ProductError(f"{path}: no time dimension; {layout.name} files have one of {layout.time}, this file "
                               f"has dimensions {list(ds.dims)}.")
        ds = _decode_time(ds, present[0], path) if layout.steps == "monthly" else _decode_days(ds, present[0], path)
    ds["lon"] = ((ds["lon"] + 180.0) % 360.0) - 180.0
    ds = ds.sortby(["lat", "lon"])
    if ds.indexes["lon"].has_duplicates or ds.indexes["lat"].has_duplicates:
        raise ProductError(f"{path}: duplicated latitudes or longitudes (after putting longitudes in [-180, 180)).")
    return ds


def _time_from_file_name(ds: xr.Dataset, layout: Product, path: Path) -> xr.Dataset:
    """Dates from the file name: one month (``yyyymm``) or a half-year of 15-day composites (``yyyy``, ``months``)."""
    match = re.search(layout.file_name, path.name)
    groups = match.groupdict() if match else {}
    if "yyyymm" not in groups and not {"yyyy", "months"} <= set(groups):
        what = "month" if "yyyymm" in layout.file_name else "dates"
        raise ProductError(f"{path}: {layout.name} files give their {what} in the file name "
                           f"(pattern {layout.file_name!r}); this name does not match. Rename the file as shipped.")
    extra = [d for d in ds.dims if d not in ("lat", "lon")]
    if "yyyymm" in groups:
        ym = int(groups["yyyymm"])
        if any(ds.sizes[d] != 1 for d in extra):
            raise ProductError(f"{path}: a {layout.name} monthly file holds one month; this one has dimensions "
                               f"{dict(ds.sizes)}.")
        ds = ds.isel({d: 0 for d in extra}, drop=True)
        stamps = pd.DatetimeIndex([pd.Timestamp(ym // 100, ym % 100, 1)])
        ds = ds.expand_dims(time=stamps).assign_attrs(calendar="standard", time_steps="monthly (month from the file name)")
        for name in (layout.area, layout.land_fraction):
            if name in ds:
                ds[name] = ds[name].isel(time=0, drop=True)
        return ds
    year, first = int(groups["yyyy"]), int(groups["months"][:2])
    if len(extra) != 1 or ds.sizes[extra[0]] != 12:
        raise ProductError(f"{path}: a {layout.name} file holds the 12 half-monthly composites of six months (one time "
                           f"dimension of size 12); this one has dimensions {dict(ds.sizes)}. The file is incomplete; "
                           "download it again.")
    stamps = pd.DatetimeIndex([pd.Timestamp(year, first + k // 2, 1 if k % 2 == 0 else 16) for k in range(12)])
    dim = extra[0]
    ds = ds.drop_vars([dim], errors="ignore").rename({dim: "time"}).assign_coords(time=stamps)
    return ds.assign_attrs(calendar="standard", time_steps="half-monthly composites (1-15 and 16-end of each month, "
                                                            "dates from the file name)")


def _decode_days(ds: xr.Dataset, dim: str, path: Path) -> xr.Dataset:
    """A daily (sub-monthly) time axis as dates, kept step by step (months are made after the files are combined)."""
    cftime = optional_import("cftime", "CF calendars")

    var = ds[dim] if dim in ds.variables else None
    if var is None:
        raise ProductError(f"{path}: dimension {dim!r} has no coordinate variable, so its dates are unknown. Add a "
                           f"{dim!r} variable with CF units (e.g. 'days since 1970-01-01 00:00:00').")
    where = f"{path}, variable {dim!r}"
    _, _, calendar = decode_months(var.values, var.attrs, where)  # checks units, calendar and values
    dates = np.atleast_1d(cftime.num2date(np.asarray(var.values, dtype=np.float64), var.attrs["units"], calendar=calendar))
    stamps = pd.DatetimeIndex([pd.Timestamp(d.year, d.month, d.day) for d in dates])
    ds = ds.drop_vars(dim).rename({dim: "time"}).assign_coords(time=stamps).sortby("time")
    return ds.assign_attrs(calendar=calendar, time_steps="daily")


def _check_axis(ds: xr.Dataset, dim: str, target: str, path: Path) -> None:
    """A lat or lon dimension needs a coordinate variable of finite degrees in range."""
    word = {"lat": "latitude", "lon": "longitude"}[target]
    if dim not in ds.variables:
        raise ProductError(f"{path}: dimension {dim!r} has no coordinate variable, so the cells' {word}s are "
                           f"unknown. Add a {dim!r} variable in degrees (e.g. with `ncap2`), or regrid the file to a "
                           "latitude-longitude grid that has one.")
    values = np.asarray(ds[dim].values, dtype=np.float64) if ds.sizes[dim] else np.zeros(0)
    lo, hi, unit = (-90.0, 90.0, "degrees north") if target == "lat" else (-180.0, 360.0, "degrees east")
    if not np.isfinite(values).all():
        raise ProductError(f"{path}, variable {dim!r}: {int((~np.isfinite(values)).sum())} missing or non-finite "
                           f"{word}(s); every cell needs its position. Fix the coordinate variable.")
    if values.size and (values.min() < lo or values.max() > hi):
        raise ProductError(f"{path}, variable {dim!r}: {word}s run from {values.min():g} to {values.max():g}; "
                           f"they must lie in [{lo:g}, {hi:g}] {unit}. A projected grid (metres) or radians must be "
                           "reprojected to latitude-longitude in degrees first.")


def decode_months(values: np.ndarray, attrs: Mapping[str, str], where: str) -> tuple[np.ndarray, np.ndarray, str]:
    """Years and months of CF time values, and the calendar; ``where`` names the file and variable in errors.

    Understands every CF calendar (through cftime) and ``months since`` units, which CF does not
    define for real calendars but some models write.

    >>> decode_months(np.array([0.5, 13.5]), {"units": "months since 1700-01-01"}, "x")[:2]
    (array([1700, 1701]), array([1, 2]))
    """
    cftime = optional_import("cftime", "CF calendars")

    units = attrs.get("units")
    if not units:
        raise ProductError(f"{where}: the time variable has no 'units' attribute, so its dates are unknown. Set it, "
                           "e.g. `ncatted -a units,time,o,c,'days since 2000-01-01 00:00:00' FILE`.")
    calendar = str(attrs.get("calendar", "standard")).strip().lower()
    if calendar not in CALENDARS:
        raise ProductError(f"{where}: calendar {attrs.get('calendar')!r} is not understood.{did_you_mean(calendar, CALENDARS)} "
                           f"CF calendars: {', '.join(CALENDARS)}. Fix the attribute, e.g. "
                           "`ncatted -a calendar,time,o,c,standard FILE`.")
    values = np.asarray(values, dtype=np.float64)
    if not np.isfinite(values).all():
        raise ProductError(f"{where}: the time variable has missing or non-finite values.")
    months_since = re.fullmatch(r"\s*months\s+since\s+(\d{1,4})-(\d{1,2})(-\d{1,2})?.*", units)
    if months_since:
        start = int(months_since[1]) * 12 + int(months_since[2]) - 1
        index = start + np.floor(values + 1e-9).astype(np.int64)
        return index // 12, index % 12 + 1, calendar
    if re.match(r"\s*(years?|common_years?)\s+since", units):
        raise ProductError(f"{where}: time units {units!r} are annual; pcstats reads monthly (or finer) products.")
    try:
        dates = cftime.num2date(values, units, calendar=calendar)
    except (ValueError, TypeError) as exc:
        raise ProductError(f"{where}: time units {units!r} cannot be decoded ({exc}). CF time units look like "
                           "'days since 2000-01-01 00:00:00'.") from exc
    dates = np.atleast_1d(dates)
    return np.array([d.year for d in dates]), np.array([d.month for d in dates]), calendar


def _decode_time(ds: xr.Dataset, dim: str, path: Path) -> xr.Dataset:
    var = ds[dim] if dim in ds.variables else None
    if var is None:
        raise ProductError(f"{path}: dimension {dim!r} has no coordinate variable, so its dates are unknown. Add a "
                           f"{dim!r} variable with CF units (e.g. 'days since 2000-01-01 00:00:00').")
    years, months, calendar = decode_months(var.values, var.attrs, f"{path}, variable {dim!r}")
    ym = years * 12 + months - 1
    ds = ds.drop_vars(dim).rename({dim: "time"}).assign_coords(_ym=("time", ym))
    steps = "monthly"
    if len(np.unique(ym)) < len(ym):
        steps = f"monthly means of {len(ym)} steps (sub-monthly file)"
        ds = ds.groupby("_ym").mean(skipna=False).rename({"_ym": "time"})
        ym = ds["time"].values
        ds = ds.drop_vars("time")
    else:
        ds = ds.drop_vars("_ym")
    stamps = pd.DatetimeIndex([pd.Timestamp(int(v) // 12, int(v) % 12 + 1, 1) for v in ym])
    return ds.assign_coords(time=stamps).sortby("time").assign_attrs(calendar=calendar, time_steps=steps)


def _combine(opened: list[xr.Dataset], layout: Product, files: list[Path]) -> tuple[xr.Dataset, list[str], int]:
    """One Dataset from the source's files (months along time, variables side by side), missing-value notes and
    the number of undeclared fill values read as missing."""
    missing, undeclared = [], 0
    for ds, f in zip(opened, files):
        for name in [n for n in ds.data_vars if n in layout.native_names]:
            if not layout.missing:
                continue
            hit = ds[name].isin(list(layout.missing))
            if ds[name].chunks is not None:  # counting would read the data now
                missing.append(f"{f.name} {name}: values {', '.join(f'{c:g}' for c in layout.missing)} read as missing "
                               "(not counted: lazy read)")
            elif bool(hit.any()):
                counts = ", ".join(f"{int((ds[name] == c).sum())} of the code {c:g}" for c in layout.missing)
                missing.append(f"{f.name} {name}: {counts} read as missing")
            ds[name] = ds[name].where(~hit)
        for name in [n for n in ds.data_vars if n in layout.native_names]:
            n, note = _undeclared_fill(ds, name, f)
            undeclared += n
            if note:
                missing.append(note)
    for name in sorted(layout.native_names):  # one units attribute per variable: files are converted together
        shipped = {f.name: str(ds[name].attrs.get("units")) for ds, f in zip(opened, files) if name in ds.data_vars}
        if len(set(shipped.values())) > 1:
            listed = ", ".join(f"{f} {u!r}" for f, u in shipped.items())
            raise ProductError(f"The files disagree on the units of {name!r} ({listed}); a source's files are converted "
                               "together. Fix the attribute (`ncatted -a units,VAR,o,c,UNITS FILE`) or read the files "
                               "separately.")
    groups: dict[tuple[str, ...], list[tuple[xr.Dataset, Path]]] = {}
    for ds, f in zip(opened, files):
        groups.setdefault(tuple(sorted(ds.data_vars)), []).append((ds, f))
    parts = []
    for members in groups.values():
        if "time" in members[0][0].dims:
            members.sort(key=lambda m: m[0]["time"].values[0])
            times = np.concatenate([m[0]["time"].values for m in members])
            if len(np.unique(times)) < len(times):
                dup = pd.Series(times).duplicated(keep=False)
                names = sorted({m[1].name for m in members for t in m[0]["time"].values if t in set(times[dup.to_numpy()])})
                raise ProductError(f"Months appear in more than one file: {', '.join(names)}; read each file once.")
            part = xr.concat([m[0] for m in members], dim="time", data_vars="minimal", coords="minimal",
                             compat="override", join="override") if len(members) > 1 else members[0][0]
        else:
            part = members[0][0]
        parts.append(part)
    attrs = {k: opened[0].attrs[k] for k in ("calendar", "time_steps") if k in opened[0].attrs}
    ds = xr.merge(parts, join="outer", compat="override", combine_attrs="override") if len(parts) > 1 else parts[0]
    return ds.assign_attrs(attrs), missing, undeclared


#: values beyond this magnitude in a flux or climate field are fill values the file did not declare
UNDECLARED_FILL = 1e30


def _undeclared_fill(ds: xr.Dataset, name: str, f: Path) -> tuple[int, str]:
    """Set values with ``|x| > 1e30`` to missing (fill values without a _FillValue attribute), say how many."""
    if not np.issubdtype(ds[name].dtype, np.floating):
        return 0, ""
    huge = np.abs(ds[name]) > UNDECLARED_FILL
    if ds[name].chunks is not None:  # masked when computed; counting would read the data now
        ds[name] = ds[name].where(~huge)
        return 0, f"{f.name} {name}: values beyond 1e30 read as missing (not counted: lazy read)"
    n = int(huge.sum())
    if not n:
        return 0, ""
    ds[name] = ds[name].where(~huge)
    warnings.warn(f"{f.name}, variable {name!r}: {n} value(s) beyond 1e30 read as missing (fill values the file does "
                  "not declare in _FillValue or missing_value)", stacklevel=4)
    return n, f"{f.name} {name}: {n} undeclared fill value(s) (|x| > 1e30) read as missing"


def _where(files: list[Path], layout: Product) -> object:
    return files[0] if len(files) == 1 else f"{files[0].parent} ({len(files)} {layout.name} files)"


def _outputs(ds: xr.Dataset, layout: Product, files: list[Path], units: dict[str, str], missing: list[str],
             counts: Mapping[str, xr.DataArray]) -> xr.Dataset:
    where = _where(files, layout)
    out = xr.Dataset(coords={c: ds[c] for c in ("time", "lat", "lon") if c in ds.coords})
    not_made = []
    for variable, fields in layout.outputs.items():
        names = [next((n for n in f.names if n in ds.data_vars), None) for f in fields]
        if None in names:
            absent = [f.name for f, n in zip(fields, names) if n is None]
            variants = [v.name for v in PRODUCTS.values() if not v.detect and v.file_name == layout.file_name
                        and variable in v.outputs and all(set(f.names) & set(ds.data_vars) for f in v.outputs[variable])]
            hint = f"; product={variants[0]!r} makes it without them" if variants else ""
            not_made.append(f"{variable} (needs {' + '.join(f.name for f in fields)}; {', '.join(absent)} not in the "
                            f"files{hint})")
            continue
        converted, texts, native_units = [], [], []
        for field, name in zip(fields, names):
            value, text, unit = _convert(ds, name, field, variable, layout, where, units)
            converted.append(value)
            texts.append(text)
            native_units.append(unit)
        total = converted[0]
        for extra in converted[1:]:
            total = total + extra
        attrs = {"units": conversion(native_units[0], variable).unit, "native_variables": " + ".join(names),
                 "native_units": ", ".join(dict.fromkeys(native_units))}
        sign = fields[0].positive
        if sign is not None:
            attrs.update(positive="down", native_positive=sign)
            if sign == "up":
                total = -total
            texts.append("sign flipped: release-positive to uptake-positive" if sign == "up" else "uptake positive as shipped")
        formula = " + ".join(names) if sign != "up" else (f"-({' + '.join(names)})" if len(names) > 1 else f"-{names[0]}")
        attrs["pcstats_conversion"] = f"{variable} = {formula}: " + "; ".join(texts)
        if total.chunks is None:  # a lazy read is not checked here (it would read the data now)
            if not bool(total.notnull().any()):
                empty = [n for n, c in zip(names, converted) if not bool(c.notnull().any())] or names
                not_made.append(f"{variable} (all {total.size} values of {' + '.join(empty)} are missing: NaN, fill "
                                f"value or missing code; check the file with `ncdump -v {empty[0]} FILE`)")
                continue
            if len(names) > 1:  # the principal field alone (bio_flux_opt) must be a real flux; fire may be ~0
                _check_range(converted[0], variable, names[:1], native_units[:1], where, attrs["units"])
            try:
                _check_range(total, variable, names, native_units, where, attrs["units"])
            except ProductError:  # name the native variable at fault when one alone is out of range
                for value, name, unit in zip(converted, names, native_units) if len(names) > 1 else ():
                    _check_range(value, variable, [name], [unit], where, attrs["units"])
                raise
        out[variable] = total.assign_attrs(attrs)
        if names[0] in counts:
            step = "days" if layout.steps == "daily" else f"{layout.steps} steps"
            out[f"{variable}_count"] = counts[names[0]].assign_attrs(
                units="1", long_name=f"valid {step} of {names[0]} used for the month's {variable}")
    made = [v for v in out.data_vars if not str(v).endswith("_count")]
    if not made:
        raise ProductError(f"{where}: none of {layout.name}'s variables could be made: {'; '.join(not_made)}. "
                           f"The files have {', '.join(sorted(ds.data_vars)) or 'no variables'}. Download the files "
                           "again or leave them out.")
    if not_made:
        warnings.warn(f"{where}: not made: {'; '.join(not_made)}", stacklevel=3)
    for name, target, unit in ((layout.area, "cell_area", "m2"), (layout.land_fraction, "land_fraction", "1")):
        if name and name in ds:
            out[target] = ds[name].assign_attrs(units=unit, native_variable=name)
    missing_counts = [f"{v}: {int(out[v].isnull().sum())} of {out[v].size} values missing" for v in made
                      if out[v].chunks is None]  # a lazy read is not counted here: count with ds[v].isnull().sum()
    out.attrs.update(ds.attrs)
    out.attrs["missing_values"] = "; ".join(missing + missing_counts)
    if not_made:
        out.attrs["not_made"] = "; ".join(not_made)
    return out


#: the ranges of values a variable can physically take, in pcstats units (fluxes: FLUX_MIN, FLUX_MAX)
_FLUXES = ("NEE", "NBP", "GPP", "TER", "RA", "RH")
_RANGES = {"AirT": (-100.0, 100.0), "TC": (0.0, 100.0), "P": (0.0, 100.0), "NDVI": (-1.0, 1.0), "SM": (0.0, 1.0)}
FLUX_MAX = 1e5  # gC m-2 yr-1: 25 times the largest annual GPP of any ecosystem
FLUX_MIN = 1e-2  # a flux field whose largest |value| is below this is in the wrong unit


def _check_range(total: xr.DataArray, variable: str, names: list[str], native_units: list[str], where: object,
                 unit: str) -> None:
    """A ProductError when converted values are physically impossible: a wrong units attribute or an undeclared code."""
    values = np.asarray(total.values, dtype=np.float64)
    fix = (f"The units attribute is probably wrong (pass units={{{names[0]!r}: '...'}} with the real units), or the "
           f"file writes a missing-value code it does not declare (declare it: `ncatted -a _FillValue,{names[0]},o,f,"
           "CODE FILE`).")
    what = f"{where}, variable {' + '.join(names)!r} [{', '.join(dict.fromkeys(native_units))}]"
    if variable in _FLUXES:
        size = np.abs(values)
        bad = size > FLUX_MAX
        if bad.any():
            raise ProductError(f"{what}: {int(bad.sum())} of {values.size} values of {variable} exceed {FLUX_MAX:g} "
                               f"{unit} after conversion (largest {np.nanmax(size):.3g}); no land flux is that large. {fix}")
        top = float(np.nanmax(size))
        if 0 < top < FLUX_MIN:
            raise ProductError(f"{what}: the largest |{variable}| is {top:.3g} {unit} after conversion; a real flux "
                               f"field reaches more than {FLUX_MIN:g}. {fix}")
    elif variable in _RANGES:
        lo, hi = _RANGES[variable]
        bad = (values < lo - 1e-6) | (values > hi + 1e-6)
        if bad.any():
            raise ProductError(f"{what}: {int(bad.sum())} of {values.size} values of {variable} lie outside [{lo:g}, "
                               f"{hi:g}] {unit} after conversion (from {np.nanmin(values):.4g} to {np.nanmax(values):.4g}). "
                               f"{fix}")


def _convert(ds, name, field, variable, layout, where, overrides):
    attrs = ds[name].attrs
    ds = ds.assign({name: ds[name].astype(np.float64)})  # computations in double precision
    unit = overrides.get(name, attrs.get("units"))
    assumed_unit = unit is None and field.units_if_absent is not None
    if assumed_unit:
        unit = field.units_if_absent
    scale = attrs.get("pcstats_undeclared_scale")
    if scale is not None:
        ds = ds.assign({name: ds[name] * float(scale)})
    if unit is None:
        raise ProductError(f"{where}, variable {name!r}: no 'units' attribute. {layout.name} ships {name!r} in "
                           f"{field.units[0]!r}; if this file does too, pass units={{{name!r}: {field.units[0]!r}}}.")
    conv = conversion(str(unit), variable)
    if conv is None:
        raise ProductError(f"{where}, variable {name!r}: units {unit!r} are not a unit pcstats converts for {variable} "
                           f"({layout.name} ships {field.units[0]!r}). Pass units={{{name!r}: '...'}} if the attribute is "
                           "wrong.")
    text = f"{name} [{unit}] {conv.text}" + (" (units given by the caller)" if name in overrides else "")
    if assumed_unit:
        text = f"{name} (no units attribute; {layout.name} documents it as {unit!r}) {conv.text}"
    if scale is not None:
        text = f"{name} x {float(scale):g} (the documented scale factor, not declared in the file); " + text
    if conv.needs == "days_in_month":
        calendar = ds.attrs.get("calendar", "standard")
        days = days_in_month(ds["time"].dt.year.values, ds["time"].dt.month.values, calendar)
        return conv.apply(ds[name], days=xr.DataArray(days.astype(float), dims="time", coords={"time": ds["time"]})), text, str(unit)
    if conv.needs == "cell_area":
        if not layout.area or layout.area not in ds:
            raise ProductError(f"{where}, variable {name!r}: {unit!r} is a flux per grid cell; the cell-area variable "
                               f"{layout.area!r} is missing from the file.")
        return conv.apply(ds[name], area=ds[layout.area]), text, str(unit)
    return conv.apply(ds[name]), text, str(unit)
