"""Section ``productivity``: the paper's hypothesis H1 (Fig. 2a-d) -- does greening explain the net sink?

Per cell, 1982-2015 (the years GIMMS NDVI3g, LUE GPP and the inversions share): the EGS trends of
NDVI and LUE GPP and their medians in 5 % tree-cover bins (Fig. 2a-b), the correlation across
years of productivity and the inversion ensemble's net uptake (Fig. 2c), and whether the trends of
productivity and of net uptake go together across bins and cells (Fig. 2d). TER = LUE GPP - NEE
per cell feeds the paper's SEM spec files (``models/sem_egs.toml``, ``models/sem_lgs.toml``).

Choices (``figure2.r`` unless said): monthly NDVI below 0.1 is missing (the paper's mask, which
removes barren cells); trends are Sen's slopes; NEE is the mean of the inversions covering each
year, net uptake positive, seasons "mean x 365" (gC m-2 yr-1) for trends and correlations and mean
daily rates (gC m-2 d-1) in the SEM table as in ``fixtures/sem``; the cells are those the study
design's mask keeps (``Context.design``; the paper's: natural vegetation, 94 of the fixture's 100
cells), not weighted except in the area-weighted shares.
"""

from __future__ import annotations

import functools
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ..data import convert_units, ensemble, read_table, seasonalize
from ..export import write_frame, write_results
from ..engines import fit
from ..productivity import (association, balance_paths, bin_medians, cell_correlations, cell_trends, correlation_shares, pearson,
                            sem_table, trend_frame)
from ..specs import load_spec
from .context import Context, Section, fixture_truth, quietly
from .inputs import study_cells

__all__ = ["YEARS", "NDVI_MIN", "SEM_RUNS", "productivity", "productivity_tables"]

#: the years GIMMS NDVI3g, LUE GPP and the inversions share (figure2.r: 1982-2015)
YEARS = (1982, 2015)
#: monthly NDVI below this is missing (figure2.r: ``NDVI[NDVI < 0.1] = NA``)
NDVI_MIN = 0.1
#: the paper's SEMs fitted to the cells' seasonal table (TER = LUE GPP - inversion-ensemble NEE)
SEM_RUNS = {"productivity_sem_egs": "sem_egs.toml", "productivity_sem_lgs": "sem_lgs.toml"}
#: (productivity variable, season) whose trends are set against net uptake's (Fig. 2a-b, 2d); planted truths are EGS
PAIRS = (("NDVI", "EGS"), ("GPP", "EGS"), ("GPP", "ANN"))
#: per-cell correlations (Fig. 2c): (variable, its season, NEE's season); the last pairs annual NEE with May-Sep
#: NDVI as figure2.r does (its GPP map pairs annual with annual)
CORRELATIONS = (("NDVI", "EGS", "EGS"), ("GPP", "EGS", "EGS"), ("GPP", "ANN", "ANN"), ("NDVI", "MJJAS", "ANN"))
#: figure2.r's growing season of NDVI for its correlation map (``GrowingNDVI``: May-Sep)
NDVI_GROWING = {"MJJAS": (5, 6, 7, 8, 9)}


def _seasonal(monthly: pd.DataFrame, how: str) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # incomplete seasons stay NaN and are counted by the fits
        return seasonalize(monthly, how=how)


@functools.lru_cache(maxsize=2)
def productivity_tables(fixtures: Path) -> dict[str, pd.DataFrame]:
    """Seasonal NDVI (GIMMS), GPP (LUE), the inversion ensemble's NEE and the SEM drivers per cell, 1982-2015.

    Keys: ``productivity`` (NDVI, GPP; "mean x 365"), ``nee`` (ensemble, "mean x 365"),
    ``gpp_daily``/``nee_daily``/``drivers`` (mean daily rates, for the SEM), ``cells`` (TC, P, MAT,
    weight, lat, lon per cell). Cached per process: do not modify.
    """
    first, last = YEARS
    monthly = read_table(fixtures / "covariates" / "covariates_monthly.parquet")
    monthly = monthly[monthly["year"].between(first, last)]
    ndvi = monthly[(monthly["variable"] == "NDVI") & (monthly["source"] == "GIMMS")].copy()
    ndvi.loc[ndvi["value"] < NDVI_MIN, "value"] = np.nan
    gpp = monthly[(monthly["variable"] == "GPP") & (monthly["source"] == "LUE")]
    drivers = monthly[monthly["variable"].isin(["AirT", "PAR", "SM"])]
    nee = read_table(fixtures / "inversions" / "inversions_monthly.parquet")
    nee = convert_units(nee[nee["year"].between(first, last)])  # gC m-2 d-1, net uptake positive

    def nee_ensemble(how: str) -> pd.DataFrame:
        return ensemble(_seasonal(nee, how)).drop(columns=["ensemble_sd", "ensemble_n"])

    annual = read_table(fixtures / "covariates" / "covariates_annual.parquet")
    attributes = study_cells(annual, monthly)  # NDVI: its mean over 1982-2015, the years GIMMS covers
    cells = attributes[[c for c in ("TC", "P", "MAT", "IPA", "LC", "NDVI") if c in attributes.columns]]
    geo = monthly.groupby("region")[["weight", "lat", "lon"]].first()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ndvi_growing = seasonalize(ndvi, NDVI_GROWING)
    return {
        "productivity": pd.concat([_seasonal(pd.concat([ndvi, gpp], ignore_index=True), "mean_x365"), ndvi_growing],
                                  ignore_index=True),
        "nee": nee_ensemble("mean_x365"),
        "gpp_daily": _seasonal(gpp, "mean"),
        "nee_daily": nee_ensemble("mean"),
        "drivers": _seasonal(drivers, "mean"),
        "cells": cells.join(geo),
    }


def productivity(ctx: Context) -> Section:
    """Fig. 2a-d per cell: productivity trends by tree-cover bin, productivity-NEE correlations, their trends'
    association, and the SEMs on TER = LUE GPP - NEE."""
    section = Section()
    tables_dir, figures_dir = ctx.out / "tables", ctx.out / "figures"
    tables_dir.mkdir(parents=True, exist_ok=True)
    figures_dir.mkdir(parents=True, exist_ok=True)
    data = productivity_tables(ctx.fixtures)
    natural = ctx.design.natural(data["cells"])  # the design's mask (the paper's: IGBP 12-14 and NDVI < 0.1 out)
    data = {k: (v[natural] if k == "cells" else v[v["region"].isin(natural.index[natural])]) for k, v in data.items()}
    data["cells"] = data["cells"].drop(columns=[c for c in ("IPA", "LC", "NDVI") if c in data["cells"].columns])
    cells, prod, nee = data["cells"], data["productivity"], data["nee"]
    truth = fixture_truth(ctx.fixtures)
    planted = truth.get("productivity", {})

    def write(res, stem: str, source: str) -> None:
        section.written.extend(write_results(res, tables_dir, stem, source=source))
        section.messages.extend(f"{stem}: {w}" for w in res.warnings)
        section.results[stem] = res

    # Fig. 2a-b: trends per cell, medians in 5 % TC bins, and the gradient of the cells' trends in TC
    seasons = sorted({s for _, s in PAIRS})
    fits = {
        "NDVI": quietly(cell_trends, prod[prod["season"] == "EGS"], "NDVI"),
        "GPP": quietly(cell_trends, prod[prod["season"].isin(seasons)], "GPP"),
        "NEE": quietly(cell_trends, nee[nee["season"].isin(seasons)], "NEE"),
    }
    for name, res in fits.items():
        write(res, f"productivity_trend_{name}", "pcstats.productivity.cell_trends (Sen's slope per cell)")
    cell_frame = trend_frame(fits, cells)
    medians = bin_medians(cell_frame, ["NDVI", "GPP", "NEE"], by=("season",))
    section.written += write_frame(cell_frame, tables_dir, "productivity_cell_trends",
                                   "# Trends per cell, 1982-2015 (Sen's slope; NDVI yr-1, GPP and NEE gC m-2 yr-2)")
    section.written += write_frame(medians, tables_dir, "productivity_tc_bin_medians",
                                   "# Median trend per 5 % tree-cover bin (Fig. 2a-b; figure2.r)")
    gradients = {name: quietly(association, cell_frame[cell_frame[name].notna()], name, "TC", by=("season",),
                               name=f"{name} trend ~ TC (cells)") for name in ("NDVI", "GPP", "NEE")}
    for name, res in gradients.items():
        write(res, f"productivity_gradient_{name}", "pcstats.productivity.association (OLS across cells)")

    # Fig. 2c: per-cell correlation of productivity and net uptake, same season
    correlations, shares = {}, []
    for variable, season, nee_season in CORRELATIONS:
        x = prod[(prod["variable"] == variable) & (prod["season"] == season)].assign(season=nee_season)
        y = nee[nee["season"] == nee_season]
        res = cell_correlations(x, y)
        correlations[(variable, season, nee_season)] = res
        write(res, f"productivity_cor_{variable}_{season}_NEE_{nee_season}",
              "pcstats.productivity.cell_correlations (Pearson per cell)")
        shares.append(correlation_shares(res, cells["weight"]).drop(columns="season")
                      .assign(productivity=variable, productivity_season=season, nee_season=nee_season))
    share_table = pd.concat(shares, ignore_index=True)
    first = ["productivity", "productivity_season", "nee_season"]
    share_table = share_table[first + [c for c in share_table.columns if c not in first]]
    section.written += write_frame(share_table, tables_dir, "productivity_cor_shares",
                                   "# Per-cell correlations of productivity and net uptake: shares (Fig. 2c)")

    # Fig. 2d: do the trends go together? bin medians (figure2.r) and cells
    associations = {}
    for variable, season in PAIRS:
        bins = medians[(medians["season"] == season) & medians[variable].notna() & medians["NEE"].notna()]
        frame = cell_frame[cell_frame["season"] == season]
        associations[(variable, season)] = {
            "bins": quietly(association, bins, "NEE", variable, name=f"NEE trend ~ {variable} trend (TC bin medians, {season})"),
            "cells": pearson(frame, variable, "NEE", name=f"cor({variable} trend, NEE trend) across cells, {season}"),
        }
        write(associations[(variable, season)]["bins"], f"productivity_trends_bins_{variable}_{season}",
              "pcstats.productivity.association (OLS of bin medians)")
        write(associations[(variable, season)]["cells"], f"productivity_trends_cells_{variable}_{season}",
              "pcstats.productivity.pearson (across cells)")

    # SEMs on TER = LUE GPP - NEE per cell
    sem_data = sem_table(data["nee_daily"], data["gpp_daily"], data["drivers"], cells)
    sem_data.to_csv(tables_dir / "productivity_sem_table.csv", index=False)
    section.written.append(tables_dir / "productivity_sem_table.csv")
    # NEE = GPP - TER holds exactly, so `nee ~ gpp + ter` is an identity ML cannot fit (singular covariance):
    # the spec files are fitted without it, and its paths come from the identity (balance_paths)
    sems = {}
    for stem, spec_file in SEM_RUNS.items():
        spec = load_spec(ctx.models / spec_file)
        lines = [line for line in spec.model.splitlines() if not line.strip().lower().startswith("nee")]
        reduced = spec.replace(model="\n".join(lines), name=f"{spec.label} (no nee equation: TER = GPP - NEE)")
        res = quietly(fit, reduced, sem_data)
        write(res, stem, f"models/{spec_file} without its nee equation")
        section.runs.append({"stem": stem, "spec_file": f"models/{spec_file}", "table": "productivity SEM table (cells)",
                             "engine": res.engine})
        sems[stem] = res
    nee_paths = balance_paths(sem_data)
    section.written += write_frame(nee_paths, tables_dir, "productivity_sem_nee_paths",
                                   "# Paths into NEE under NEE = GPP - TER (TER = LUE GPP - ensemble NEE)")

    path = figures_dir / "fig2_productivity.png"
    productivity_figure(cell_frame, medians, correlations[("GPP", "EGS", "EGS")], associations[("GPP", "ANN")]["bins"],
                        planted, path=path)
    section.figures += [path, path.with_suffix(".svg")]
    # the per-cell trend fits are in their files; keep the estimates the summary quotes (pickled for reruns)
    section.results = {k: v for k, v in section.results.items() if not k.startswith("productivity_trend_")}
    kept = f"{len(cells)} cells ({ctx.design.name} design's mask: {int((~natural).sum())} left out)"
    section.summary = _summary(gradients, share_table, associations, nee_paths, planted,
                               truth.get("gamma_per_pct_tree_cover", {}), kept)
    return section


# --------------------------------------------------------------------------------------------- summary


def _slope(res, term: str, **where) -> tuple[float, float, float, float]:
    tidy = res.tidy()
    rows = tidy[tidy["term"] == term]
    for k, v in where.items():
        rows = rows[rows[k] == v]
    r = rows.iloc[0]
    return float(r["estimate"]), float(r["conf_low"]), float(r["conf_high"]), float(r["p_value"])


def _summary(gradients, shares, associations, nee_paths, planted, nee_gradient, kept: str) -> str:
    """The section's Markdown: published, planted and recovered values."""
    lines = ["## Productivity and net uptake (H1, Fig. 2)", "",
             f"Per cell, {YEARS[0]}-{YEARS[1]}: Sen's trends of GIMMS NDVI and LUE GPP (EGS) and the inversion "
             "ensemble's net uptake, Pearson correlations across years per cell (at least 10 paired years), "
             f"TER = LUE GPP - NEE for the SEMs. {kept}; monthly NDVI < 0.1 missing (the paper's mask).", "",
             "| quantity | published | planted | recovered (95 % CI) |", "|---|---|---|---|"]
    for name, key, unit in (("NDVI", "ndvi_trend", "yr-1 per %TC"), ("GPP", "gpp_trend", "gC m-2 yr-2 per %TC")):
        for term, what, published in (("TC", f"gradient in TC ({unit})", "Fig. 2a-b (figure only)"), ("(Intercept)", "at TC = 0", "-")):
            est, lo, hi, _ = _slope(gradients[name], term, season="EGS")
            truth = planted.get(key, {}).get("per_pct_tc" if term == "TC" else "intercept", float("nan"))
            lines.append(f"| EGS {name} trend {what}, OLS across cells | {published} | {truth:.3g} | {est:.3g} ({lo:.3g}, {hi:.3g}) |")
    for row in shares.itertuples():
        planted_sign = (f"positive: LUE GPP carries {planted.get('coupling', np.nan):.2g} x the inversions' common May-Aug "
                        "variability" if (row.productivity, row.productivity_season) == ("GPP", "EGS") else "- (not planted)")
        lines.append(f"| r({row.productivity} {row.productivity_season}, NEE {row.nee_season}) per cell: median; share with "
                     f"p < 0.05 positive / negative (by area) | Fig. 2c (map) | {planted_sign} | {row.median_r:.2f}; "
                     f"{row.share_sig_positive:.0%} / {row.share_sig_negative:.0%} ({row.area_share_sig_positive:.0%} / "
                     f"{row.area_share_sig_negative:.0%}) of {row.n_cells} cells |")
    for (variable, season), pair in associations.items():
        est, lo, hi, p = _slope(pair["bins"], variable)
        r2 = float(pair["bins"].glance()["r_squared"].iloc[0])
        rc, rlo, rhi, _ = _slope(pair["cells"], "r")
        key = "ndvi_trend" if variable == "NDVI" else "gpp_trend"
        share = 1.0 if season == "EGS" else 4 / 12  # the planted productivity trend is in May-Aug only
        implied = nee_gradient.get(season, np.nan) / (planted.get(key, {}).get("per_pct_tc", np.nan) * share) + 0.0  # no -0
        lines.append(f"| NEE trend ~ {variable} trend ({season}): slope over TC-bin medians (R², p); r over cells | Fig. 2d "
                     f"(R², p on the figure) | {implied:.3g} from the cells' TC gradients alone | {est:.3g} ({lo:.3g}, {hi:.3g}), "
                     f"R² {r2:.2f}, p {p:.2g}; r {rc:.2f} ({rlo:.2f}, {rhi:.2f}) |")
    for season, rows in nee_paths.groupby("season", sort=False):
        text = "; ".join(f"{r.rhs} {r.std_all:.2f}" for r in rows.itertuples())
        lines.append(f"| SEM {season}, standardised paths into NEE (cells, TER = LUE GPP - NEE) | respiration controls "
                     f"LGS NEE in inversions (Fig. 5) | - | {text} |")
    lines += ["", "TER is LUE GPP - NEE exactly, so the SEMs' `nee ~ gpp + ter` is an identity (raw paths 1 and -1, no "
              "residual) that maximum likelihood cannot fit; the spec files are fitted without that equation "
              "(`productivity_sem_*`) and its standardised paths, sd(GPP)/sd(NEE) and -sd(TER)/sd(NEE), are in "
              "`productivity_sem_nee_paths.csv`.",
              "", "The value 'from the cells' TC gradients alone' is the planted TC gradient of the cells' net-uptake "
              "trends (truth.json gamma_per_pct_tree_cover) over that of the productivity trend. It is a reference, not "
              "a target: LUE GPP and net uptake share the planted common variability, whose own 34-year trend in each "
              "cell moves both trends together, and the ensemble's inversions entering and leaving add trend by region."]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- figure


def productivity_figure(cells: pd.DataFrame, medians: pd.DataFrame, correlations, trends_fit, planted: dict, *,
                        path: str | Path | None = None):
    """Fig. 2a-d: EGS NDVI and GPP trends by tree cover (cells and bin medians), per-cell r(GPP, NEE)
    on a lon/lat map (black rings: p < 0.05), and bin-median NEE trend against GPP trend (ANN).

    Saved as PNG and SVG when ``path`` is given.
    """
    from ..plots import _save, p_text, unit_label
    from ..plots_style import journal_style

    with journal_style():
        return _save(_productivity_figure(cells, medians, correlations, trends_fit, planted, p_text, unit_label), path)


def _productivity_figure(cells, medians, correlations, trends_fit, planted, p_text, unit_label):
    from ..plots_style import journal_figure, legend_below, panel_letters

    fig, axes = journal_figure(2, 2, width="double", height=150)
    tc = np.linspace(0, 100, 2)
    for ax, (name, key, unit) in zip(axes[0], (("NDVI", "ndvi_trend", "yr-1"), ("GPP", "gpp_trend", "gC m-2 yr-2"))):
        frame = cells[cells["season"] == "EGS"]
        bins = medians[(medians["season"] == "EGS") & medians[name].notna()]
        ax.scatter(frame["TC"], frame[name], s=4, color="0.7", label="cells", lw=0)
        ax.plot(bins["center"], bins[name], "o-", ms=3, color="tab:green", label="median per 5 % TC bin")
        if key in planted:
            ax.plot(tc, planted[key]["intercept"] + planted[key]["per_pct_tc"] * tc, "--", color="k", lw=0.8, label="planted")
        ax.axhline(0, color="0.5", lw=0.5)
        ax.set(xlabel="Tree cover (%)", ylabel=f"{name} trend ({unit_label(unit)})", title=f"{name} trend, early season")
        legend_below(ax, ncols=3)
    ax = axes[1, 0]
    tidy = correlations.tidy().merge(cells.groupby("region")[["lat", "lon"]].first(), left_on="region", right_index=True)
    lim = max(0.1, float(np.nanmax(np.abs(tidy["estimate"]))))
    sc = ax.scatter(tidy["lon"], tidy["lat"], c=tidy["estimate"], cmap="RdBu_r", vmin=-lim, vmax=lim, s=12)
    sig = tidy[tidy["p_value"] < 0.05]
    ax.scatter(sig["lon"], sig["lat"], s=12, facecolors="none", edgecolors="k", lw=0.5, label="p < 0.05")
    fig.colorbar(sc, ax=ax, label="r (LUE GPP, net uptake)")
    ax.set(xlabel="Longitude (°E)", ylabel="Latitude (°N)", title="Correlation per cell, early season")
    legend_below(ax)
    ax = axes[1, 1]
    bins = medians[(medians["season"] == "ANN") & medians["GPP"].notna() & medians["NEE"].notna()]
    sc = ax.scatter(bins["GPP"], bins["NEE"], c=bins["center"], cmap="viridis", s=16, vmin=0, vmax=100)
    fig.colorbar(sc, ax=ax, label="Tree cover (%)")
    coef = trends_fit.tidy().set_index("term")["estimate"]
    x = np.linspace(bins["GPP"].min(), bins["GPP"].max(), 2)
    glance = trends_fit.glance().iloc[0]
    p = trends_fit.tidy().set_index("term").loc["GPP", "p_value"]
    ax.plot(x, coef["(Intercept)"] + coef["GPP"] * x, color="k", lw=0.8,
            label=f"OLS: R² = {glance['r_squared']:.2f}, {p_text(p)}")
    ax.set(xlabel=f"GPP trend ({unit_label('gC m-2 yr-2')})", ylabel=f"Net uptake trend ({unit_label('gC m-2 yr-2')})",
           title="Tree-cover bins, annual")
    legend_below(ax)
    panel_letters(axes)
    return fig
