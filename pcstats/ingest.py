"""``pcstats ingest``: a folder of product files into the long table (Parquet).

Every NetCDF file is matched to a product of the catalogue (by name, else by its variables) and
grouped with the other files of its source (CAMS's monthly files, a TRENDY model's variable
files); each source is read with :func:`pcstats.products.read_product`, put on the regular grid of
``resolution`` degrees (:func:`pcstats.grid.regrid`) and written cell by cell. FLUXNET2015 FULLSET
daily files are read with :func:`pcstats.products.read_fluxnet`. Output in ``out``:

``monthly.parquet``
    every monthly variable (inversion NEE, TRENDY NBP/GPP/TER/RA/RH, CRU AirT, tower fluxes)
``annual.parquet``
    static maps (TC, P) for each year of the monthly table and MAT (annual mean of monthly AirT),
    season ``ANN``, as ``pcstats.cell_attributes`` expects
``ingest_report.json``
    per source: product, files, conversions, missing values, regridding, cells without data;
    and every file that was skipped, with the reason

The files are written to a temporary folder and moved into ``out`` only when all of them are
written (:func:`pcstats.atomic.atomic_output`): a failure leaves no partial output, and an output of
an earlier run that this run does not write (e.g. ``annual.parquet`` when no static map was found)
is deleted.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import pandas as pd
import xarray as xr
from tqdm.auto import tqdm

from .atomic import atomic_output
from .errors import PcstatsError
from .products.fluxnet import FILE_NAME as FLUXNET_FILE_NAME

__all__ = ["ingest"]

_NETCDF = (".nc", ".nc4", ".cdf")
#: what ingest writes in ``out``; one of these that a run does not write is deleted
OUTPUTS = ("monthly.parquet", "annual.parquet", "ingest_report.json")


def ingest(folder: str | Path, out: str | Path, *, resolution: float = 1.0) -> dict:
    """Convert the product files under ``folder`` into ``out/monthly.parquet`` and ``out/annual.parquet``.

    Returns the report that is also written to ``out/ingest_report.json``.

    Examples
    --------
    >>> import tempfile
    >>> from pcstats.ingest import ingest
    >>> report = ingest("fixtures/products", tempfile.mkdtemp())
    >>> sorted(report["sources"])[:3], report["skipped"][0]["file"]
    (['CAMS', 'CLM5.0', 'CRU'], 'truth.json')
    """
    from .grid import regrid, seasonalize_grid, to_long
    from .products import detect_product, read_fluxnet, read_product

    folder, out = Path(folder), Path(out)
    if not folder.is_dir():
        raise FileNotFoundError(f"pcstats ingest: no folder at {str(folder)!r}.")
    skipped: list[dict] = []
    groups: dict[tuple[str, str], list[Path]] = {}
    towers: list[Path] = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.name
        if path.suffix.lower() == ".csv":
            if re.match(FLUXNET_FILE_NAME, name):
                towers.append(path)
            else:
                skipped.append({"file": _rel(path, folder), "reason": "CSV that is not a FLUXNET2015 FULLSET daily file"})
        elif path.suffix.lower() in _NETCDF:
            try:
                product = detect_product(path)
            except (PcstatsError, OSError, ValueError) as exc:
                skipped.append({"file": _rel(path, folder), "reason": str(exc)})
                continue
            groups.setdefault((product.name, product.source_of(name)), []).append(path)
        else:
            skipped.append({"file": _rel(path, folder), "reason": f"not a product file ({path.suffix or 'no suffix'})"})

    monthly, static, sources = [], {}, {}
    airt = []
    for (product, source), files in tqdm(groups.items(), desc="ingest", unit="source", disable=None):
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                ds = regrid(read_product(files, product=product), resolution)
        except (PcstatsError, OSError, ValueError) as exc:
            skipped += [{"file": _rel(f, folder), "reason": str(exc)} for f in files]
            continue
        if "time" in ds.dims:
            table = to_long(ds)
            monthly.append(table)
            if "AirT" in ds:
                airt.append(ds)
        else:
            static[source] = ds
            table = None
        sources[source] = {
            "product": product, "kind": ds.attrs.get("kind"), "files": [_rel(f, folder) for f in files],
            "variables": {v: ds[v].attrs.get("pcstats_conversion") for v in ds.data_vars if "pcstats_conversion" in ds[v].attrs},
            "missing_values": ds.attrs.get("missing_values"), "regrid": ds.attrs.get("regrid"),
            "undeclared_fill": int(ds.attrs.get("undeclared_fill", 0)),
            **({"undeclared_fill_note": f"{int(ds.attrs['undeclared_fill'])} values beyond 1e30 (fill values no "
                                        "_FillValue or missing_value attribute declares) were treated as missing"}
               if ds.attrs.get("undeclared_fill") else {}),
            **({"not_made": ds.attrs["not_made"]} if "not_made" in ds.attrs else {}),
            "cells_without_data": table.attrs["pcstats"]["cells_without_data"] if table is not None else None,
            "warnings": [str(w.message) for w in caught],
        }
    for path in tqdm(towers, desc="FLUXNET", unit="file", disable=None):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the removals are in the report
                table = read_fluxnet(path)
        except (PcstatsError, OSError, ValueError) as exc:
            skipped.append({"file": _rel(path, folder), "reason": str(exc)})
            continue
        monthly.append(table)
        sources.setdefault("FLUXNET2015", {"product": "FLUXNET2015", "kind": "eddy_covariance", "sites": {}})
        sources["FLUXNET2015"]["sites"][table.attrs["pcstats"]["site"]] = table.attrs["pcstats"]

    written = []
    with atomic_output(out, owns=OUTPUTS) as tmp:  # all outputs or none; no stale output of an earlier run
        if monthly:
            table = pd.concat(monthly, ignore_index=True)
            table.attrs = {}
            table.to_parquet(tmp / "monthly.parquet", index=False)
            written.append("monthly.parquet")
            years = sorted(table["year"].unique().tolist())
            annual = [to_long(ds, years=years) for ds in static.values()]
            for ds in airt:  # MAT: the annual mean of monthly AirT, one static map per year
                mat = seasonalize_grid(ds["AirT"]).sel(season="ANN", drop=True).rename("MAT")
                annual += [to_long(xr.Dataset({"MAT": mat.sel(year=y, drop=True)}, attrs=ds.attrs), years=[int(y)])
                           for y in mat["year"].values if bool(mat.sel(year=y).notnull().any())]
            if annual:
                frame = pd.concat(annual, ignore_index=True)
                frame.attrs = {}
                frame.to_parquet(tmp / "annual.parquet", index=False)
                written.append("annual.parquet")
        elif static:
            skipped += [{"file": f, "reason": "static map with no monthly product to take its years from"}
                        for s in static for f in sources[s]["files"]]
        report = {"folder": str(folder), "resolution_degrees": resolution, "written": written, "sources": sources,
                  "n_skipped": len(skipped), "skipped": skipped}
        (tmp / "ingest_report.json").write_text(json.dumps(report, indent=1, default=str) + "\n")
    return report


def _rel(path: Path, folder: Path) -> str:
    return path.relative_to(folder).as_posix()
