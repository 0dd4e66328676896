"""The SMAP L4C part of ``pcstats reproduce`` (the paper's Fig. S14): how seasonal fluxes follow spring temperature.

On ``products_rasters/`` of the fixtures (or a folder of the real files in the same layouts):
the daily SPL4CMDL files (``smap/SMAP_L4_C_mdl_*.h5``, :func:`pcstats.products.smap.read_smap_l4c`)
are averaged into months and seasonalized on their 9 km EASE-Grid 2.0 cells
(:func:`pcstats.grid.seasonalize_grid`; EGS May-Aug and LGS Sep-Oct, mean daily rate x 365, net
uptake positive); spring air temperature (the May-June mean, the "Spring [5,6]" of the paper's
R code) comes from a CRU TS file (``cru_ts*.tmp.dat.nc``, :func:`pcstats.products.read_product`),
taken at the 0.5-degree cell that contains each 9 km cell centre. Each cell's seasonal NEE, GPP
and RH are regressed on its spring temperature over the years (OLS; :func:`cell_sensitivity`).
Cells are classed P (continuous, discontinuous, sporadic) or NoP (isolated, none) from the IPA
polygons (``permaice.shp``, cell centre in polygon; :func:`pcstats.products.ipa.ipa_zones`) and
kept where MCD12Q1's majority IGBP class is natural vegetation
(:func:`pcstats.products.landcover.natural_vegetation`, from the ``MCD12Q1*.hdf`` tiles). The
mean per-cell sensitivity of each class (with its standard error over cells and a t interval)
goes to ``tables/smap_sensitivity.csv``, beside the value planted in the fixtures
(``truth_rasters.json``) when present; every cell's fit to ``tables/smap_cell_sensitivity.csv``;
the map and the distributions to ``figures/smap_sensitivity.png``.

Assumed (the paper's Fig. S14 code is not in the public repository): the seasons, the spring
months and OLS per cell over the SMAP years; the class means are unweighted because every
EASE-Grid 2.0 cell has the same area.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from .context import Context, Section

__all__ = ["smap", "cell_sensitivity", "SEASONS", "SPRING", "VARIABLES"]

SEASONS = {"EGS": (5, 6, 7, 8), "LGS": (9, 10)}
SPRING = (5, 6)
VARIABLES = ("NEE", "GPP", "RH")
FOLDER = "products_rasters"


def cell_sensitivity(response, driver, dim: str = "year", conf_level: float = 0.95):
    """OLS of ``response`` on ``driver`` along ``dim`` at every other coordinate (each cell its own x).

    Both are DataArrays that share ``dim`` (and broadcast over the rest). Pairs with a missing
    value are dropped; fewer than 3 pairs give NaN. Returns a Dataset with ``estimate``,
    ``std_error``, ``p_value``, ``conf_low``, ``conf_high`` and ``nobs``.

    >>> import numpy as np, xarray as xr
    >>> x = xr.DataArray([[1.0, 2.0, 3.0, 4.0]], dims=("cell", "year"))
    >>> y = 2 * x + xr.DataArray([[0.1, -0.1, 0.1, -0.1]], dims=("cell", "year"))
    >>> cell_sensitivity(y, x)["estimate"].round(3).values.tolist()
    [1.96]
    """
    import xarray as xr

    from ..stats.ols import t_test

    y, x = xr.broadcast(response, driver)
    ok = y.notnull() & x.notnull()
    y, x = y.where(ok), x.where(ok)
    n = ok.sum(dim)
    xm, ym = x.mean(dim), y.mean(dim)
    sxx = ((x - xm) ** 2).sum(dim)
    sxy = ((x - xm) * (y - ym)).sum(dim)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = sxy / sxx
        rss = ((y - ym - slope * (x - xm)) ** 2).sum(dim)
        se = np.sqrt(rss / (n - 2) / sxx)
    few = (n < 3) | (sxx <= 0)
    slope, se = slope.where(~few), se.where(~few)
    _, p, low, high = t_test(slope.values, se.values, (n - 2).values.astype(float), conf_level)
    out = xr.Dataset({"estimate": slope, "std_error": se, "nobs": n.astype(float)})
    for name, values in (("p_value", p), ("conf_low", low), ("conf_high", high)):
        out[name] = slope.copy(data=np.asarray(values))
    return out


def smap(ctx: Context) -> Section:
    """Run the SMAP L4C section on ``ctx.fixtures/products_rasters`` and write into ``ctx.out``; see the module docstring.

    A folder without L4C files, a CRU temperature file, the IPA polygons or an MCD12Q1 tile gives a
    section whose summary says so (and one message), not an error.
    """
    folder = Path(ctx.fixtures) / FOLDER
    section = Section()
    inputs = _inputs(folder)
    missing = [k for k, v in inputs.items() if not v]
    if missing:
        why = f"no {', '.join(missing)} in {folder}"
        section.summary = f"\n## SMAP L4C sensitivity to spring temperature (Fig. S14)\n\nSkipped: {why}.\n"
        section.messages.append(f"smap: skipped, {why}")
        return section
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _run(section, Path(ctx.out), folder, inputs)
    section.messages += [f"smap: {w.message}" for w in caught]
    return section


def _inputs(folder: Path) -> dict[str, list[Path]]:
    if not folder.is_dir():
        return {"folder": []}
    return {"SMAP L4C files (smap/SMAP_L4_C_mdl_*.h5)": sorted(folder.glob("smap/SMAP_L4_C_mdl_*.h5")),
            "CRU temperature (cru_ts*.tmp.dat.nc)": sorted(folder.glob("cru_ts*.tmp.dat.nc")),
            "IPA polygons (permaice.shp)": sorted(folder.glob("permaice.shp")),
            "MCD12Q1 tile (MCD12Q1*.hdf)": sorted(folder.glob("MCD12Q1*.hdf"))}


def _run(section: Section, out: Path, folder: Path, inputs: dict) -> None:
    import xarray as xr

    from ..export import write_frame
    from ..grid import seasonalize_grid
    from ..products import read_product
    from ..products.ipa import ipa_zones, read_ipa_polygons
    from ..products.landcover import landcover_on_grid, natural_vegetation, read_mcd12q1
    from ..products.smap import monthly_means, read_smap_l4c

    smap_files, cru_files, shp, tiles = inputs.values()
    daily = read_smap_l4c(smap_files)
    monthly = monthly_means(daily).drop_vars("n_days")
    seasonal = xr.concat([seasonalize_grid(monthly[v], SEASONS) for v in VARIABLES], dim=pd.Index(VARIABLES, name="variable"))

    airt = read_product(cru_files[0], product="CRU")["AirT"]
    spring = seasonalize_grid(airt, {"spring": SPRING}).isel(season=0, drop=True)
    spring = _at_cells(spring, daily)

    zones = ipa_zones(*[a.ravel() for a in np.meshgrid(daily["lat"].values, daily["lon"].values, indexing="ij")],
                      read_ipa_polygons(shp[0]))
    shape = (daily.sizes["lat"], daily.sizes["lon"])
    permafrost = xr.DataArray(zones["permafrost"].to_numpy(dtype=object).reshape(shape), dims=("lat", "lon"),
                              coords={"lat": daily["lat"], "lon": daily["lon"]})
    cover = landcover_on_grid([read_mcd12q1(t) for t in tiles], daily)
    natural = natural_vegetation(cover["majority"])

    fits = cell_sensitivity(seasonal, spring)
    cells = _cell_table(fits, permafrost, natural, cover["majority"], daily)
    truth = _truth(folder)
    table = _class_table(cells, truth)
    tables = out / "tables"
    tables.mkdir(parents=True, exist_ok=True)
    cells.to_csv(tables / "smap_cell_sensitivity.csv", index=False)
    section.written.append(tables / "smap_cell_sensitivity.csv")
    section.written += write_frame(table, tables, "smap_sensitivity",
                                   "# Sensitivity of SMAP L4C seasonal fluxes to spring (May-June) air temperature "
                                   "(gC m-2 yr-1 per degC; mean of the per-cell OLS slopes of natural-vegetation cells)\n\n"
                                   "pcstats.pipeline.smap: read_smap_l4c, seasonalize_grid, cell_sensitivity")
    figure = out / "figures" / "smap_sensitivity.png"
    _figure(fits, permafrost.where(natural), cells, truth, figure)
    section.figures += [figure, figure.with_suffix(".svg")]
    section.runs.append({"stem": "smap_sensitivity", "spec_file": None, "table": f"{folder.name}/ ({len(smap_files)} L4C files)",
                         "engine": "pcstats.pipeline.smap.cell_sensitivity"})
    section.results["smap_sensitivity"] = table
    section.summary = _summary(folder, daily, cells, table, truth, natural, cover)


def _at_cells(field, like):
    """``field`` (on a regular lat-lon grid) at the 9 km cells: the value of the grid cell containing each centre."""
    import xarray as xr

    from ..grid.geometry import spacing

    lat = xr.DataArray(like["lat"].values, dims="lat", coords={"lat": like["lat"]})
    lon = xr.DataArray(like["lon"].values, dims="lon", coords={"lon": like["lon"]})
    out = field.sel(lat=lat, lon=lon, method="nearest", tolerance=0.5 * max(abs(spacing(field, "lat")),
                                                                           abs(spacing(field, "lon"))) + 1e-9)
    return out.assign_coords(lat=like["lat"], lon=like["lon"])


def _cell_table(fits, permafrost, natural, majority, daily) -> pd.DataFrame:
    frame = fits.drop_vars(["row", "col"], errors="ignore").to_dataframe().reset_index()
    frame = frame.merge(pd.DataFrame({
        "lat": np.repeat(daily["lat"].values, daily.sizes["lon"]), "lon": np.tile(daily["lon"].values, daily.sizes["lat"]),
        "row": np.repeat(daily["row"].values, daily.sizes["lon"]), "col": np.tile(daily["col"].values, daily.sizes["lat"]),
        "region_class": permafrost.values.ravel(), "igbp": majority.values.ravel(), "natural": natural.values.ravel()}),
        on=["lat", "lon"])
    columns = ["variable", "season", "row", "col", "lat", "lon", "region_class", "igbp", "natural", "nobs", "estimate",
               "std_error", "p_value", "conf_low", "conf_high"]
    return frame[columns].sort_values(["variable", "season", "row", "col"], ignore_index=True)


def _class_table(cells: pd.DataFrame, truth: dict | None) -> pd.DataFrame:
    from scipy import stats

    rows = []
    kept = cells[cells["natural"] & cells["region_class"].isin(["P", "NoP"]) & cells["estimate"].notna()]
    for (variable, season, region), group in kept.groupby(["variable", "season", "region_class"], sort=False):
        est = group["estimate"].to_numpy()
        n = est.size
        mean, se = float(est.mean()), float(est.std(ddof=1) / np.sqrt(n)) if n > 1 else np.nan
        q = stats.t.ppf(0.975, n - 1) if n > 1 else np.nan
        everything = cells[(cells["variable"] == variable) & (cells["season"] == season) & cells["estimate"].notna()
                           & cells["region_class"].isin(["P", "NoP"]) & (cells["region_class"] == region)]
        rows.append({"variable": variable, "season": season, "region_class": region, "n_cells": n, "estimate": mean,
                     "std_error": se, "conf_low": mean - q * se, "conf_high": mean + q * se,
                     "median": float(np.median(est)), "share_p05": float((group["p_value"] < 0.05).mean()),
                     "estimate_unmasked": float(everything["estimate"].mean()), "n_cells_unmasked": len(everything)})
    table = pd.DataFrame(rows)
    if truth is not None:
        beta = truth["smap"]["beta"]
        table["planted"] = [beta[s][r] if v == "NEE" else np.nan for v, s, r in
                            zip(table["variable"], table["season"], table["region_class"])]
    order = {v: i for i, v in enumerate(VARIABLES)}
    return table.sort_values(["variable", "season", "region_class"], key=lambda c: c.map(order) if c.name == "variable"
                             else c, ignore_index=True)


def _truth(folder: Path) -> dict | None:
    path = folder / "truth_rasters.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _figure(fits, classes, cells: pd.DataFrame, truth: dict | None, path: Path) -> None:
    from ..plots import _save
    from ..plots_style import journal_figure, journal_style, legend_below, panel_letters

    with journal_style():
        fig, axes = journal_figure(1, 2, width="double", height=78, gridspec_kw={"width_ratios": [1.25, 1]})
        axes = axes[0]
        lgs = fits["estimate"].sel(variable="NEE", season="LGS").where(classes.notnull())
        mesh = axes[0].pcolormesh(lgs["lon"], lgs["lat"], lgs.values, cmap="RdBu", shading="nearest",
                                  vmin=-np.nanmax(np.abs(lgs.values)), vmax=np.nanmax(np.abs(lgs.values)))
        fig.colorbar(mesh, ax=axes[0], label="NEE sensitivity (gC m⁻² yr⁻¹ K⁻¹)")
        axes[0].set(title="Late-season NEE sensitivity to spring temperature", xlabel="Longitude (°E)",
                    ylabel="Latitude (°N)")
        nee = cells[(cells["variable"] == "NEE") & cells["natural"] & cells["region_class"].isin(["P", "NoP"])]
        groups = [(s, r) for s in SEASONS for r in ("P", "NoP")]
        data = [nee[(nee["season"] == s) & (nee["region_class"] == r)]["estimate"].dropna().to_numpy() for s, r in groups]
        axes[1].boxplot(data, tick_labels=[f"{s}\n{r}" for s, r in groups], showfliers=False,
                        medianprops={"color": "k", "lw": 0.8}, boxprops={"lw": 0.6}, whiskerprops={"lw": 0.6},
                        capprops={"lw": 0.6})
        if truth is not None:
            beta = truth["smap"]["beta"]
            axes[1].scatter(range(1, len(groups) + 1), [beta[s][r] for s, r in groups], marker="D", s=8, color="crimson",
                            zorder=3, label="planted")
            legend_below(axes[1])
        axes[1].axhline(0, color="grey", lw=0.6)
        axes[1].set(title="NEE sensitivity per 9 km natural cell", xlabel="Season and region",
                    ylabel="NEE sensitivity (gC m⁻² yr⁻¹ K⁻¹, uptake +)")
        panel_letters(axes)
        _save(fig, path)


def _summary(folder: Path, daily, cells: pd.DataFrame, table: pd.DataFrame, truth: dict | None, natural, cover) -> str:
    years = pd.DatetimeIndex(daily["time"].values).year
    n_cells = daily.sizes["lat"] * daily.sizes["lon"]
    text = (
        "\n## SMAP L4C sensitivity to spring temperature (Fig. S14; pcstats.products.smap, pcstats.pipeline.smap)\n\n"
        f"Read {daily.sizes['time']} daily SPL4CMDL files ({years.min()}–{years.max()}) from {folder.name}/smap/ on "
        f"{daily.sizes['lat']} x {daily.sizes['lon']} EASE-Grid 2.0 9 km cells (global rows {int(daily['row'].min())}–"
        f"{int(daily['row'].max())}, columns {int(daily['col'].min())}–{int(daily['col'].max())}); monthly means of the "
        "days present, seasonalized on the cells (EGS May–Aug, LGS Sep–Oct; mean daily rate × 365, net uptake positive) "
        "and regressed per cell on the May–June mean air temperature of the CRU cell holding the cell centre (OLS over "
        f"the years). Cells classed by the IPA polygons (P: continuous, discontinuous, sporadic; NoP: isolated, none) and "
        f"kept where MCD12Q1's majority class is natural vegetation: {int(natural.sum())} of {n_cells} cells "
        f"(left out: {int(np.isin(cover['majority'].values, (12, 13, 14)).sum())} managed, "
        f"{int(np.isin(cover['majority'].values, (15, 16, 17)).sum())} snow/ice, barren or water). Outputs: "
        "tables/smap_sensitivity.csv, tables/smap_cell_sensitivity.csv, figures/smap_sensitivity.png.\n\n"
    )
    if truth is not None:
        text += (f"**Synthetic fixtures with a planted sensitivity** ({folder.name}/truth_rasters.json): NEE = a(cell) + "
                 "beta[season, class] × spring temperature + noise (SD "
                 f"{truth['smap']['noise_sd']:g} gC m⁻² yr⁻¹ per month); managed cells carry beta = "
                 f"{truth['smap']['beta']['LGS']['managed']:g}, so the unmasked means show what the mask removes.\n\n")
    shown = table[table["variable"] == "NEE"].copy()
    shown["recovered (95% CI)"] = [f"{r.estimate:.2f} ({r.conf_low:.2f} to {r.conf_high:.2f})" for r in shown.itertuples()]
    columns = ["season", "region_class", "n_cells", "recovered (95% CI)", "median", "share_p05", "estimate_unmasked"]
    if "planted" in shown:
        shown["planted"] = shown["planted"].map("{:g}".format)
        columns.insert(2, "planted")
    text += ("Mean per-cell sensitivity of NEE to spring temperature (gC m⁻² yr⁻¹ per °C; share_p05: share of cells "
             "with p < 0.05; estimate_unmasked: mean over all P/NoP cells, managed ones included):\n\n"
             + shown[columns].rename(columns={"region_class": "class"}).round(3).to_markdown(index=False) + "\n")
    return text
