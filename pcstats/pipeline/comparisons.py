"""The comparisons part of ``pcstats reproduce``: the inversions against independent data (Figs. S7, S2, S12).

On the bundled fixtures (or the same layout elsewhere):

* ``towers/towers_monthly.parquet`` (flux towers, NEE) and the inversion ensemble per cell of
  ``inversions/inversions_monthly.parquet`` -> each tower's seasonal trend beside the ensemble's at its cell over
  the tower's years, and the paired t (and Wilcoxon) test of their difference by P/NoP and season (Fig. S7);
* ``gcb/global_carbon_budget_2020_land_sink.csv`` (the "Global Carbon Budget" sheet of GCB 2020, or the xlsx
  itself) -> Pearson's r between the ensemble's annual net uptake summed over the cells and GCB's land sink,
  1980-2017, and the trend of each (Fig. S2);
* the seasonal P/NoP table of the study design and the cells' annual MAT -> the regions' total annual net uptake
  (TgC yr-1) on their MAT, both detrended (Fig. S12).

Truths planted in the fixtures (``comparisons_truth.json``, ``truth.json`` key ``mat_sensitivity``) are shown
beside what is recovered when the files are there.
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ..comparisons import land_sink_correlation, mat_sensitivity, read_land_sink, regional_total, tower_trends_vs_ensemble
from ..data import aggregate, convert_units, ensemble, read_table, seasonalize
from ..data.design import StudyDesign
from ..export import write_frame, write_results
from .context import Context, Section
from .inputs import seasonal_tables, study_cells

__all__ = ["GCB_FILE", "TOWERS_FILE", "comparisons"]

TOWERS_FILE = Path("towers") / "towers_monthly.parquet"
GCB_FILE = Path("gcb") / "global_carbon_budget_2020_land_sink.csv"
#: published values (Liu et al. 2022, Supplementary Figs. S2 and S12)
PUBLISHED = {"gcb_r": 0.78, "mat": {"P": (101.0, 32.0), "NoP": (-14.0, 18.0)}}
SEASONS = ("ANN", "EGS", "LGS", "WIN")
#: output stem -> the function that made it
FUNCTIONS = {"towers_vs_inversions": "pcstats.comparisons.tower_trends_vs_ensemble",
             "land_sink_gcb2020": "pcstats.comparisons.land_sink_correlation",
             "mat_sensitivity": "pcstats.comparisons.mat_sensitivity"}


def comparisons(ctx: Context) -> Section:
    """Run the three comparisons on ``ctx.fixtures``; tables into ``ctx.out/tables``, figures into ``ctx.out/figures``."""
    section = Section()
    tables, figures = ctx.out / "tables", ctx.out / "figures"
    grid = _cell_ensemble(ctx.fixtures, section)
    truth = _truths(ctx.fixtures)

    towers = _seasonal(read_table(ctx.fixtures / TOWERS_FILE), section, "towers")
    towers_res = tower_trends_vs_ensemble(towers, grid, source="ensemble")
    section.written += write_results(towers_res, tables, "towers_vs_inversions", source=FUNCTIONS["towers_vs_inversions"])
    section.written += write_frame(towers_res.augment(), tables, "towers_vs_inversions_per_tower",
                                   "# Each tower's trend and the ensemble's at its cell over the same years (gC m-2 yr-2)")
    path = figures / "figS7_towers_vs_inversions.png"
    _towers_figure(towers_res, path)
    section.figures += [path, path.with_suffix(".svg")]

    sink = _land_sink(grid)
    gcb = read_land_sink(ctx.fixtures / GCB_FILE)
    gcb_res = land_sink_correlation(sink, gcb, years=(1980, 2017))
    section.written += write_results(gcb_res, tables, "land_sink_gcb2020", source=FUNCTIONS["land_sink_gcb2020"])
    path = figures / "figS2_land_sink_gcb2020.png"
    _land_sink_figure(gcb_res, path)
    section.figures += [path, path.with_suffix(".svg")]

    flux, mat = _mat_inputs(ctx.fixtures, ctx.design)
    mat_res = mat_sensitivity(flux, mat)
    mat_res = dataclasses.replace(mat_res, provenance=dataclasses.replace(mat_res.provenance, design=ctx.design.describe()))
    section.written += write_results(mat_res, tables, "mat_sensitivity", source=FUNCTIONS["mat_sensitivity"])
    path = figures / "figS12_mat_sensitivity.png"
    _mat_figure(mat_res, path)
    section.figures += [path, path.with_suffix(".svg")]

    for stem, res in (("towers_vs_inversions", towers_res), ("land_sink_gcb2020", gcb_res), ("mat_sensitivity", mat_res)):
        section.results[stem] = res
        section.runs.append({"stem": stem, "spec_file": None, "function": FUNCTIONS[stem], "table": _inputs(stem),
                             "engine": res.engine} | ({"design": ctx.design.name} if stem == "mat_sensitivity" else {}))
    section.summary = _summary(towers_res, gcb_res, mat_res, truth)
    return section


def _inputs(stem: str) -> str:
    return {"towers_vs_inversions": f"fixtures/{TOWERS_FILE.as_posix()} + inversion ensemble per cell",
            "land_sink_gcb2020": f"inversion ensemble per cell + fixtures/{GCB_FILE.as_posix()}",
            "mat_sensitivity": "data/seasonal_permafrost.csv (ensemble, ANN) + covariates_annual MAT"}[stem]


def _seasonal(table: pd.DataFrame, section: Section, label: str) -> pd.DataFrame:
    """Seasonal values ("mean x 365", gC m-2 yr-1, net uptake positive); incomplete seasons reported, not printed."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = seasonalize(convert_units(table))
    section.messages += [f"comparisons ({label}): {w.message}" for w in caught]
    return out


def _cell_ensemble(fixtures: Path, section: Section) -> pd.DataFrame:
    """The inversions' seasonal net uptake per cell and their ensemble (source "ensemble"), with each cell's centre."""
    per_cell = _seasonal(read_table(fixtures / "inversions" / "inversions_monthly.parquet"), section, "inversions")
    centres = per_cell.groupby("region")[["lat", "lon"]].first().reset_index()
    return ensemble(per_cell).merge(centres, on="region", how="left")


def _land_sink(grid: pd.DataFrame) -> pd.DataFrame:
    """The ensemble's annual net uptake summed over all cells (PgC yr-1), NaN in a year a cell is missing."""
    annual = regional_total(grid[(grid["season"] == "ANN") & (grid["variable"] == "NEE")], "PgC yr-1")
    n_cells = annual["region"].nunique()
    total = annual.groupby("year")["value"].sum(min_count=n_cells)
    counts = annual.groupby("year")["value"].count()
    return pd.DataFrame({"year": total.index, "value": total.where(counts == n_cells).to_numpy()})


def _mat_inputs(fixtures: Path, design: StudyDesign) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ensemble's annual net uptake per region of ``design`` (with its area) and the regions' mean MAT, by year."""
    seasonal = seasonal_tables(fixtures, design)[0]["permafrost"]
    flux = seasonal[(seasonal["source"] == "ensemble") & (seasonal["season"] == "ANN") & (seasonal["variable"] == "NEE")]
    annual = read_table(fixtures / "covariates" / "covariates_annual.parquet")
    monthly = read_table(fixtures / "covariates" / "covariates_monthly.parquet")
    regions = design.regions(study_cells(annual, monthly))
    mat = aggregate(design.within(annual[annual["variable"] == "MAT"]), regions, weight=design.weight)
    return flux, mat


def _truths(fixtures: Path) -> dict:
    out = {}
    for key, name in (("comparisons", "comparisons_truth.json"), ("fixture", "truth.json")):
        path = fixtures / name
        if path.is_file():
            out[key] = json.loads(path.read_text())
    return out


# --- figures --------------------------------------------------------------------------------------------------------

COLOURS = {"P": "#1b6ca8", "NoP": "#d1495b"}


def _towers_figure(res, path: Path) -> None:
    from ..plots import SEASON_TITLES, _save, p_text, unit_label
    from ..plots_style import journal_figure, journal_style, legend_below, panel_letters

    with journal_style():
        per_tower, tidy = res.augment(), res.tidy()
        fig, axes = journal_figure(2, 2, width="double", height=150)
        unit = unit_label(res.units["trend"])
        for ax, season in zip(axes.ravel(), SEASONS):
            rows = per_tower[per_tower["season"] == season]
            lo, hi = (float(np.nanmin(rows[["tower_trend", "ensemble_trend"]].to_numpy())),
                      float(np.nanmax(rows[["tower_trend", "ensemble_trend"]].to_numpy()))) if len(rows) else (0, 1)
            ax.plot([lo, hi], [lo, hi], color="0.6", lw=0.8, ls="--", label="1:1")
            for region, group in rows.groupby("region"):
                test = tidy[(tidy["region"] == region) & (tidy["season"] == season) & (tidy["component"] == "paired t")]
                d = test.iloc[0] if len(test) else None
                label = region if d is None else f"{region}: Δ = {d.estimate:.2f} ± {d.std_error:.2f}, {p_text(d.p_value)}"
                ax.errorbar(group["ensemble_trend"], group["tower_trend"], xerr=group["ensemble_se"], yerr=group["tower_se"],
                            fmt="o", ms=2.5, color=COLOURS.get(region), alpha=0.8, elinewidth=0.5, label=label)
            ax.set_title(SEASON_TITLES.get(season, season))
            ax.set_xlabel(f"Inversion ensemble trend at the tower's cell ({unit})")
            ax.set_ylabel(f"Tower trend ({unit})")
            legend_below(ax, ncols=3)
        panel_letters(axes)
        fig.suptitle("Flux towers against the inversion ensemble at their cells, same years (Fig. S7); "
                     "Δ: paired mean difference")
        _save(fig, path)


def _land_sink_figure(res, path: Path) -> None:
    from ..plots import _save, p_text
    from ..plots_style import journal_figure, journal_style

    with journal_style():
        rows = res.augment()
        names = [c for c in rows.columns if c not in ("year", "fitted", "resid")]
        r = res.tidy().query("component == 'correlation'").iloc[0]
        fig, axes = journal_figure(1, 1, width="single", height=62)
        ax = axes[0, 0]
        ax.plot(rows["year"], rows[names[0]], "o-", color="#1b6ca8", ms=2.5, label=f"{names[0]} (left axis)")
        ax.set_ylabel(f"{names[0]} net uptake (PgC yr$^{{-1}}$)", color="#1b6ca8")
        right = ax.twinx()
        right.plot(rows["year"], rows[names[1]], "s-", color="#d1495b", ms=2.5, label=f"{names[1]} (right axis)")
        right.set_ylabel(f"{names[1]} land sink (PgC yr$^{{-1}}$)", color="#d1495b")
        ax.set_title(f"r = {r.estimate:.2f} [{r.conf_low:.2f}, {r.conf_high:.2f}], {p_text(r.p_value)}")
        ax.set_xlabel("Year")
        fig.suptitle(f"Land sink: {names[0]} against {names[1]} (Fig. S2)")
        _save(fig, path)


def _mat_figure(res, path: Path) -> None:
    from ..plots import _save, p_text, unit_label
    from ..plots_style import journal_figure, journal_style, panel_letters

    with journal_style():
        rows, tidy = res.augment(), res.tidy().query("component == 'total'")
        regions = list(tidy["region"])
        fig, axes = journal_figure(1, len(regions), width="double" if len(regions) > 1 else "single", height=72)
        for ax, region in zip(axes[0], regions):
            group = rows[rows["region"] == region]
            fit = tidy[tidy["region"] == region].iloc[0]
            ax.scatter(group["MAT_anomaly"], group["total_anomaly"], color=COLOURS.get(region), s=6)
            x = np.linspace(group["MAT_anomaly"].min(), group["MAT_anomaly"].max(), 2)
            ax.plot(x, fit.estimate * x, color="k", lw=0.8)
            ax.axhline(0, color="0.8", lw=0.6)
            ax.set_title(f"{region}: {fit.estimate:.2f} ± {fit.std_error:.2f} {unit_label(res.units['total'])}, "
                         f"{p_text(fit.p_value)}")
            ax.set_xlabel("MAT anomaly (K, detrended)")
            ax.set_ylabel("Net uptake anomaly (TgC yr$^{-1}$, detrended)")
        panel_letters(axes)
        fig.suptitle("Regional net uptake against mean annual temperature (MAT), both detrended (Fig. S12)")
        _save(fig, path)


# --- summary --------------------------------------------------------------------------------------------------------

def _summary(towers_res, gcb_res, mat_res, truth: dict) -> str:
    planted = truth.get("comparisons", {})
    t = towers_res.tidy()
    rows = []
    for r in t[t["component"] == "paired t"].itertuples():
        w = t[(t["component"] == "wilcoxon") & (t["region"] == r.region) & (t["season"] == r.season)].iloc[0]
        n = int(towers_res.glance().query("region == @r.region and season == @r.season")["nobs"].iloc[0])
        truth_value = planted.get("towers", {}).get("mean_difference", {}).get(r.region, {}).get(r.season)
        rows.append({"region": r.region, "season": r.season, "towers": n,
                     "planted tower − ensemble": "" if truth_value is None else f"{truth_value:.2f}",
                     "recovered (paired t)": f"{r.estimate:.2f} ± {r.std_error:.2f} [{r.conf_low:.2f}, {r.conf_high:.2f}]",
                     "p (paired t)": f"{r.p_value:.2g}", "p (Wilcoxon)": f"{w.p_value:.2g}"})
    text = ("\n## Comparisons with independent data (pcstats.comparisons)\n\n"
            "**Flux towers vs the inversions (Fig. S7).** Each tower's seasonal trend (gC m⁻² yr⁻², net uptake positive) "
            "beside the inversion ensemble's trend at the tower's cell over the tower's own years; the difference tested "
            "over towers with the paired t test (a tower and its cell share place, years and weather, so pairing removes "
            "them; the mean of 10 or so differences is close to normal), the Wilcoxon signed-rank test beside it for "
            "heavy tails. The paper shows the scatter (no single published number). Tables: "
            "tables/towers_vs_inversions_*, tables/towers_vs_inversions_per_tower.csv; figure: figures/figS7_towers_vs_inversions.png.\n\n"
            + pd.DataFrame(rows).to_markdown(index=False) + "\n")
    g = gcb_res.tidy()
    r = g[g["component"] == "correlation"].iloc[0]
    trends = g[g["component"] == "trend"]
    b = g[(g["component"] == "regression") & (g["term"] != "(Intercept)")].iloc[0]
    gp = planted.get("gcb", {})
    text += ("\n**Land sink vs the Global Carbon Budget 2020 (Fig. S2)**, 1980-2017, annual net uptake (PgC yr⁻¹) of the "
             f"ensemble summed over the cells vs GCB's land sink: published r = {PUBLISHED['gcb_r']:.2f}; "
             + (f"planted r = {gp['sample_r']:.3f} (land sink = {gp['a']:.3f} + {gp['b']:.2f} × ensemble + noise, "
                f"SD {gp['noise_sd']:.3f}); " if gp else "")
             + f"recovered r = {r.estimate:.3f} [{r.conf_low:.3f}, {r.conf_high:.3f}] (t = {r.statistic:.2f}, "
             f"df = {r.df:.0f}, p = {r.p_value:.2g}); slope of GCB on the ensemble {b.estimate:.2f} ± {b.std_error:.2f}"
             + (f" (planted {gp['b']:.2f})" if gp else "") + ". Trends (PgC yr⁻²): " + "; ".join(
                 f"{x.series} {x.estimate:.4f} ± {x.std_error:.4f} (p = {x.p_value:.2g})" for x in trends.itertuples())
             + ". Tables: tables/land_sink_gcb2020_*; figure: figures/figS2_land_sink_gcb2020.png.\n")
    m = mat_res.tidy()
    mt = truth.get("fixture", {}).get("mat_sensitivity", {})
    rows = []
    for x in m[m["component"] == "total"].itertuples():
        per_area = m[(m["component"] == "per_area") & (m["region"] == x.region)].iloc[0]
        pub = PUBLISHED["mat"].get(x.region)
        rows.append({"region": x.region, "published (TgC yr⁻¹ K⁻¹)": "" if pub is None else f"{pub[0]:.0f} ± {pub[1]:.0f}",
                     "planted (TgC yr⁻¹ K⁻¹)": f"{mt[x.region]['TgC_yr_K']:.3f}" if x.region in mt else "",
                     "recovered (TgC yr⁻¹ K⁻¹)": f"{x.estimate:.3f} ± {x.std_error:.3f} [{x.conf_low:.3f}, {x.conf_high:.3f}]",
                     "p": f"{x.p_value:.2g}",
                     "planted (gC m⁻² yr⁻¹ K⁻¹)": f"{mt[x.region]['gC_m2_yr_K']:.2f}" if x.region in mt else "",
                     "recovered (gC m⁻² yr⁻¹ K⁻¹)": f"{per_area.estimate:.2f} ± {per_area.std_error:.2f}"})
    text += ("\n**Sensitivity of net uptake to mean annual temperature (Fig. S12).** Each region's total annual net "
             "uptake (TgC yr⁻¹ = mean gC m⁻² yr⁻¹ × its area) of the ensemble on its mean annual temperature, both "
             "detrended over 1980-2017 (the slope of flux ~ year + MAT, SE with n − 3 df). The fixture's regions are "
             "a few fixture cells, so its totals are far smaller than the paper's. Tables: tables/mat_sensitivity_*; "
             "figure: figures/figS12_mat_sensitivity.png.\n\n" + pd.DataFrame(rows).to_markdown(index=False) + "\n")
    return text
