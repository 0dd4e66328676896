"""The gridded part of ``pcstats reproduce``: the product fixtures through the package's readers and grid steps.

On ``products/`` of the fixtures (or a folder of product files in the same layouts): every NetCDF
file is matched to its product (:func:`pcstats.products.detect_product`) and each source read with
:func:`pcstats.products.read_product`; tree cover and permafrost extent are regridded to 1 degree
(:func:`pcstats.grid.regrid`) and classed (:func:`pcstats.grid.region_classes`); each inversion's
NEE is regridded onto that grid, seasonalized on the grid (:func:`pcstats.grid.seasonalize_grid`,
LGS and ANN) and averaged into the ensemble over the inversions available each year
(:func:`pcstats.grid.ensemble_grid`). Pixel trends (OLS, Sen's slope and Mann-Kendall;
:func:`pcstats.grid.pixel_trends`) of each inversion and the ensemble go to
``data/grid_trends.nc``; their north-polar map with stippling where p < 0.05 to
``figures/grid_trend_map.png``; the trends of the area-weighted P/NoP means
(:func:`pcstats.grid.zonal_mean`) to ``tables/grid_zonal_trends.csv``, beside the trend planted in
the fixtures (``products/truth.json``) when that file is there; and the sign agreement of the
inversions' cell trends (:func:`pcstats.robustness.sign_agreement`) to ``tables/grid_sign_agreement_*``.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ..export import write_frame, write_results
from .context import Section

__all__ = ["SEASONS", "RESOLUTION", "gridded"]

#: the seasons whose pixel trends are computed, mapped and tabled
SEASONS: tuple[str, ...] = ("LGS", "ANN")
#: the common grid, degrees
RESOLUTION = 1.0
_NETCDF = (".nc", ".nc4", ".cdf")


def gridded(out: str | Path, fixtures: str | Path) -> Section:
    """Run the gridded pipeline on ``fixtures/products`` and write its outputs into ``out``; see the module docstring.

    A folder without product files, without inversions or without a tree-cover and a permafrost
    map gives a section whose summary says so (and one message), not an error.
    """
    out, folder = Path(out), Path(fixtures) / "products"
    section = Section()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        read = _read(folder) if folder.is_dir() else None
        if read is not None and read["inversions"] and read["TC"] is not None and read["P"] is not None:
            _pipeline(section, out, folder, read)
        else:
            why = ("no folder" if read is None else "no inversion" if not read["inversions"] else
                   "no tree-cover (MOD44B) or permafrost (PFR) map")
            section.summary = f"\n## Gridded products (pcstats.products, pcstats.grid)\n\nSkipped: {why} in {folder}.\n"
            section.messages.append(f"gridded: skipped, {why} in {folder}")
    section.messages += [f"gridded: {w.message}" for w in caught]
    return section


def _read(folder: Path) -> dict:
    """Each source's files grouped as ``pcstats ingest`` groups them; the inversions, TC and P read."""
    from ..errors import PcstatsError
    from ..grid import regrid
    from ..products import detect_product, read_product

    files = sorted(p for p in folder.rglob("*") if p.is_file())
    groups: dict[tuple[str, str, str], list[Path]] = {}  # (product, kind, source) -> files
    outputs: dict[tuple[str, str, str], set[str]] = {}
    for path in files:
        if path.suffix.lower() not in _NETCDF:
            continue
        try:
            product = detect_product(path)
        except (PcstatsError, OSError, ValueError):
            continue
        key = (product.name, product.kind, product.source_of(path.name))
        groups.setdefault(key, []).append(path)
        outputs[key] = set(product.outputs)
    read = {"files": files, "groups": groups, "used": [], "inversions": {}, "TC": None, "P": None}
    for key, paths in groups.items():
        if key[1] == "inversion" and "NEE" in outputs[key]:
            read["inversions"][key[2]] = read_product(paths)
            read["used"].append(key)
        for variable in ("TC", "P"):
            if key[1] == "covariate" and variable in outputs[key] and read[variable] is None:
                read[variable] = regrid(read_product(paths), RESOLUTION)[variable]
                read["used"].append(key)
    return read


def _pipeline(section: Section, out: Path, folder: Path, read: dict) -> None:
    import xarray as xr

    from ..grid import ensemble_grid, pixel_trends, region_classes, regrid, seasonalize_grid, zonal_mean
    from ..plots import trend_map_figure
    from ..robustness import sign_agreement

    tc, p = read["TC"], read["P"]
    classes = region_classes(tc, p)["permafrost"]
    seasonal = {source: seasonalize_grid(regrid(ds["NEE"], like=tc)).sel(season=list(SEASONS))
                for source, ds in read["inversions"].items()}
    ensemble = ensemble_grid(seasonal)
    sources = list(seasonal) + ["ensemble"]
    stack = xr.concat([*seasonal.values(), ensemble["NEE"]], dim=pd.Index(sources, name="source"), join="outer")
    # one source's attributes (files, conversion) would otherwise label every source's trends
    stack.attrs = {k: ensemble["NEE"].attrs[k] for k in ("units", "positive", "seasonal") if k in ensemble["NEE"].attrs}
    trends = pixel_trends(stack)
    trends.attrs.update(grid=f"{RESOLUTION:g} degree, the regridded tree-cover map's grid", seasonal="how='mean_x365'",
                        ensemble="mean over the inversions available at each year and cell (pcstats.grid.ensemble_grid)")
    (out / "data").mkdir(parents=True, exist_ok=True)
    netcdf = out / "data" / "grid_trends.nc"
    saved = trends.assign_coords(source=[str(s) for s in sources], season=[str(s) for s in SEASONS])
    saved["permafrost"] = classes.astype(str).where(classes.notnull(), "").assign_attrs(
        long_name="permafrost region class of pcstats.grid.region_classes ('' where unclassed)")
    saved.to_netcdf(netcdf)
    section.written.append(netcdf)

    figure = out / "figures" / "grid_trend_map.png"
    trend_map_figure(trends.sel(source="ensemble").where(classes.notnull()), path=figure)  # classed (land) cells
    section.figures += [figure, figure.with_suffix(".svg")]

    zonal = zonal_mean(stack, classes)
    series = zonal.to_dataframe().reset_index()[["source", "region", "season", "year", "NEE", "n_cells", "area"]] \
        .rename(columns={"region": "region_class", "area": "area_km2"})
    series.to_csv(out / "data" / "grid_zonal_seasonal.csv", index=False)
    section.written.append(out / "data" / "grid_zonal_seasonal.csv")
    truth = _truth(folder)
    table = _zonal_trends(pixel_trends(zonal), classes, truth)
    section.written += write_frame(table, out / "tables", "grid_zonal_trends",
                                   "# Trends of the area-weighted P/NoP means of the gridded NEE (gC m-2 yr-2)\n\n"
                                   "pcstats.pipeline.grid: pcstats.grid.zonal_mean then pcstats.grid.pixel_trends")

    # sign agreement over the inversions that have cell trends (>= 3 years); the paper's rule 5 of 6, scaled
    with_trends = [s for s in seasonal if bool(trends["estimate"].sel(source=s).notnull().any())]
    threshold = max(1, math.ceil(5 * len(with_trends) / 6))
    from ..grid import cell_area

    agreement = sign_agreement(trends.sel(source=with_trends), over="source", threshold=threshold, regions=classes,
                               areas=cell_area(trends))
    section.written += write_results(agreement, out / "tables", "grid_sign_agreement",
                                     source="pcstats.grid.pixel_trends of the regridded product fixtures")
    section.messages += [f"grid_sign_agreement: {w}" for w in agreement.warnings]
    n_files = sum(len(read["groups"][key]) for key in read["used"])
    section.runs.append({"stem": "grid_trends", "spec_file": None, "table": f"{folder.name}/ ({n_files} files)",
                         "engine": "pcstats.grid.pixel_trends"})
    section.summary = _summary(read, folder, seasonal, ensemble, classes, table, agreement, with_trends, threshold, truth)


def _truth(folder: Path) -> dict | None:
    path = folder / "truth.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _planted(classes, truth: dict):
    """The planted NEE trend (gC m-2 yr-2) at each cell centre of the class map."""
    import xarray as xr

    t = truth["nee_trend"]
    lat, lon = xr.broadcast(classes["lat"].astype(float), classes["lon"].astype(float))
    return (t["t0"] + t["t_lat"] * (lat - t["lat0"]) + t["t_lon"] * lon).rename("planted").transpose("lat", "lon")


def _zonal_trends(trends, classes, truth: dict | None) -> pd.DataFrame:
    from ..grid import zonal_mean

    columns = ["nobs", "estimate", "std_error", "p_value", "conf_low", "conf_high", "sen_slope", "mk_p"]
    frame = trends[columns].to_dataframe().reset_index().rename(columns={"region": "region_class", "area": "area_km2"})
    frame = frame[["region_class", "season", "source", "n_cells", "area_km2", *columns]]
    for key in ("region_class", "season", "source"):
        frame[key] = frame[key].astype(str)
    if truth is not None:
        planted = zonal_mean(_planted(classes, truth), classes).to_series()
        frame["planted"] = frame["region_class"].map(planted)
    order = {s: i for i, s in enumerate(dict.fromkeys(frame["source"]))}
    return frame.sort_values(["region_class", "season", "source"], key=lambda c: c.map(order) if c.name == "source" else c,
                             ignore_index=True)


def _years(da) -> str:
    finite = da.notnull().any([d for d in da.dims if d != "year"])
    years = da["year"].values[finite.values]
    return f"{years.min()}–{years.max()}" if years.size else "no complete season"


def _summary(read, folder, seasonal, ensemble, classes, table, agreement, with_trends, threshold, truth) -> str:
    groups = read["groups"]
    inversions = [f"{source} ({name}, {len(paths)} file{'s' * (len(paths) > 1)}, {_years(seasonal[source])})"
                  for (name, kind, source), paths in groups.items() if kind == "inversion"]
    maps = [f"{v} from {read[v].attrs.get('source')} ({read[v].attrs.get('files')})" for v in ("TC", "P")]
    used = sum(len(groups[key]) for key in read["used"])
    unused = [f"{source} ({name}, {len(paths)} file{'s' * (len(paths) > 1)})" for (name, kind, source), paths in groups.items()
              if (name, kind, source) not in read["used"]]
    grouped = {f for paths in groups.values() for f in paths}
    others = [f for f in read["files"] if f not in grouped]
    kinds = pd.Series([Path(f).suffix or "no suffix" for f in others]).value_counts()
    others_text = (f"{len(others)} other file{'s' * (len(others) > 1)}, no gridded product ("
                   + ", ".join(f"{n} {k}" for k, n in kinds.items()) + ")") if others else "no other file"
    n_cells = {str(r): int((classes == r).sum()) for r in ("P", "NoP")}
    n = ensemble["ensemble_n"].max("season")
    text = (
        f"\n## Gridded products (pcstats.products, pcstats.grid; {folder.name}/)\n\n"
        f"Read {used} of the {len(read['files'])} files in {folder.name}/ with pcstats.products.read_product: the "
        f"inversions {', '.join(inversions)}; {' and '.join(maps)}. Not used here: {', '.join(unused) or 'no other product'}; "
        f"{others_text}. Each inversion's NEE (gC m⁻² yr⁻¹, net uptake "
        f"positive) regridded conservatively to the {RESOLUTION:g}° grid of the tree-cover map "
        f"({classes.sizes['lat']} x {classes.sizes['lon']} cells), seasonalized on the grid ({', '.join(SEASONS)}; mean "
        f"daily rate × 365), and averaged into the ensemble over the inversions available each year "
        f"({int(n.min())} to {int(n.max())} per cell-year); pixel trends (OLS with its t test, Sen's slope with the "
        f"Mann-Kendall test) per cell, and the same trends of the area-weighted means over the P ({n_cells['P']} cells) "
        f"and NoP ({n_cells['NoP']} cells) classes (P: permafrost extent >= 10 %). Outputs: data/grid_trends.nc "
        "(every inversion and the ensemble), data/grid_zonal_seasonal.csv, tables/grid_zonal_trends.csv, "
        "tables/grid_sign_agreement_*; the ensemble's map over the classed cells, stippled where p < 0.05: "
        "figures/grid_trend_map.png.\n\n"
    )
    if truth is not None:
        t = truth["nee_trend"]
        def term(value: float) -> str:
            return f"{'−' if value < 0 else '+'} {abs(value):g}"

        text += (f"**These are synthetic fixtures with a planted trend** ({folder.name}/truth.json): NEE trend "
                 f"{t['t0']:g} {term(t['t_lat'])} (lat − {t['lat0']:g}) {term(t['t_lon'])} lon gC m⁻² yr⁻² over land, on "
                 f"monthly noise of SD {truth['nee_noise_sd']:g} and a constant offset per inversion; 'planted' is its "
                 "area-weighted mean over each class's cells.\n\n")
    wide = table.assign(cell=[f"{r.estimate:.2f} ± {r.std_error:.2f}" if np.isfinite(r.estimate) else "–"
                              for r in table.itertuples()])
    shown = wide.pivot(index=["region_class", "season"], columns="source", values="cell")[list(dict.fromkeys(table["source"]))]
    ens = table[table["source"] == "ensemble"].set_index(["region_class", "season"])
    shown["ensemble Sen (MK p)"] = [f"{r.sen_slope:.2f} ({r.mk_p:.2g})" for r in ens.loc[shown.index].itertuples()]
    if "planted" in table:
        shown.insert(0, "planted", ens.loc[shown.index, "planted"].map("{:.2f}".format))
    text += ("OLS trend ± SE of the class means (gC m⁻² yr⁻²; – where a source has fewer than 3 complete years):\n\n"
             + shown.reset_index().rename(columns={"region_class": "class"}).to_markdown(index=False) + "\n")
    drift = _offset_drift(seasonal, truth)
    if drift is not None:
        text += (f"\nThe ensemble averages the inversions available each year, and their planted offsets differ, so "
                 f"the changing membership alone moves the ensemble by {drift:+.2f} gC m⁻² yr⁻² (OLS slope of the mean "
                 "offset of each year's members): its trend is about its members' mean plus that.\n")
    tidy = agreement.tidy()
    t = tidy.pivot_table(index=list(agreement.by), columns="term", values="estimate")
    t = t.join(tidy.pivot_table(index=list(agreement.by), columns="term", values="area_share").add_prefix("area_")).reset_index()
    text += (f"\n**Sign agreement** of the cell trends (>= {threshold} of the {len(with_trends)} inversions with trends, "
             f"{', '.join(with_trends)}, agree on the sign; area from the cells' spherical areas): " + "; ".join(
                 f"{r.region_class} {r.season}: {r.share_agree:.0%} of cells and {r.area_share_agree:.0%} of the area "
                 f"({r.share_positive:.0%} positive, {r.share_negative:.0%} negative)" for r in t.itertuples()) + ".\n")
    return text


def _offset_drift(seasonal: dict, truth: dict | None) -> float | None:
    """OLS slope over the years of the mean planted offset of the inversions with data in each year."""
    offsets = (truth or {}).get("source_offsets", {})
    if not offsets or not set(seasonal) <= set(offsets):
        return None
    present = pd.DataFrame({s: da.notnull().any([d for d in da.dims if d != "year"]).to_series()
                            for s, da in seasonal.items()}).astype(float)
    level = present.mul(pd.Series(offsets)[present.columns]).sum(axis=1) / present.sum(axis=1)
    level = level[present.sum(axis=1) > 0]
    years = level.index.to_numpy(dtype=float)
    return float(np.polyfit(years, level.to_numpy(), 1)[0]) if years.size >= 2 else None

