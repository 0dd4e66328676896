"""Section ``trends``: the OLS, HAC and Sen trends by region scheme, the second-stage tests, Figs. 1, 3d and 4."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..export import to_markdown, write_results
from ..results import compare
from ..second_stage import difference_test, trend_gradient
from ..data.design import DESIGNS, PAPER_CODE, THRESHOLD, WHY_NOT_CODE, StudyDesign
from .context import Context, Section, fit_file, fixture_truth
from .inputs import GRADIENTS, long_tables, seasonal_tables

__all__ = ["Run", "TREND_RUNS", "trends"]


@dataclass(frozen=True)
class Run:
    """One fit of the reproduction: a spec file applied to one of the seasonal tables."""

    stem: str
    spec_file: str
    table: str


TREND_RUNS: tuple[Run, ...] = (
    Run("trend_seasonal", "trend_seasonal.toml", "permafrost"),
    Run("trend_annual", "trend_annual.toml", "permafrost"),
    Run("trend_seasonal_hac", "trend_seasonal_hac.toml", "permafrost"),
    Run("trend_seasonal_sen", "trend_seasonal_sen.toml", "permafrost"),
    Run("trend_interaction", "trend_interaction.toml", "permafrost"),
    Run("trend_classes", "trend_bins.toml", "classes"),
    Run("trend_tc_bins", "trend_bins.toml", "tc_bins"),
    Run("trend_p_bins", "trend_bins.toml", "p_bins"),
    Run("trend_mat_bins", "trend_bins.toml", "mat_bins"),
    Run("trendy_tc_bins", "trend_bins_trendy.toml", "trendy_tc_bins"),
)


def fit_runs(ctx: Context, section: Section, runs: tuple[Run, ...]) -> dict:
    """Fit each run's spec file to its seasonal table; write the tables and record the runs."""
    tables = long_tables(ctx.fixtures, ctx.design)
    for run in runs:
        section.results[run.stem] = fit_file(section, ctx.out, ctx.models, run.stem, run.spec_file, tables[run.table], run.table,
                                             ctx.design)
    return section.results


def trends(ctx: Context) -> Section:
    """The seasonal tables (written to data/), every trend run, P − NoP and gradient tests, the trend figures."""
    from ..plots import bin_trends_figure, gradient_figure, trend_figure

    out = ctx.out
    tables, gradients, messages = seasonal_tables(ctx.fixtures, ctx.design)
    section = Section(messages=list(messages))
    (out / "data").mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        table.to_csv(out / "data" / f"seasonal_{name}.csv", index=False)
    results = fit_runs(ctx, section, TREND_RUNS)

    seasonal = results["trend_seasonal"]
    diff = difference_test(seasonal.subset(region="P"), seasonal.subset(region="NoP"), term="year")
    results["difference_P_minus_NoP"] = diff
    section.written += write_results(diff, out / "tables", "difference_P_minus_NoP", source="second stage (Welch t)")
    gradient_fits = {}
    for name, (variable, _) in GRADIENTS.items():
        gradient_fits[name] = trend_gradient(results[f"trend_{name}"], gradients[name], name=f"trend ~ {variable} ({name})")
        section.written += write_results(gradient_fits[name], out / "tables", f"gradient_{variable}", source="second stage (OLS)")

    ens = [r.subset(source="ensemble") for r in (seasonal, results["trend_seasonal_hac"], results["trend_seasonal_sen"])]
    comparison = compare(ens, stats=("estimate", "std_error", "p_value", "conf_low", "conf_high"))
    comparison.to_csv(out / "tables" / "comparison_ols_hac_sen.csv")
    flat = comparison.copy()
    flat.columns = [f"{m} | {s}" for m, s in flat.columns]
    (out / "tables" / "comparison_ols_hac_sen.md").write_text(to_markdown(flat.reset_index()) + "\n", encoding="utf-8")

    figures = out / "figures"
    trend_figure(tables["permafrost"], seasonal, path=figures / "trends.png")
    section.figures.append(figures / "trends.png")
    panels = [(results[f"trend_{n}"], gradient_fits[n], gradients[n], label) for n, (_, label) in GRADIENTS.items()]
    for season in ("ANN", "LGS"):
        gradient_figure(panels, season=season, path=figures / f"gradients_{season}.png")
        section.figures.append(figures / f"gradients_{season}.png")
    trendy_gradient = trend_gradient(results["trendy_tc_bins"], gradients["tc_bins"], name="trend ~ TC (TRENDY-like, tc_bins)")
    section.written += write_results(trendy_gradient, out / "tables", "gradient_TC_trendy", source="second stage (OLS)")
    inversions = {"inversions": (results["trend_tc_bins"], gradient_fits["tc_bins"])}
    bin_trends_figure(inversions, gradients["tc_bins"], path=figures / "fig3d_tc_bins.png")
    bin_trends_figure({**inversions, "TRENDY-like models": (results["trendy_tc_bins"], trendy_gradient)}, gradients["tc_bins"],
                      path=figures / "fig4_trendy_vs_inversions.png")
    section.figures += [figures / "fig3d_tc_bins.png", figures / "fig4_trendy_vs_inversions.png"]
    keep = ("trend_seasonal", "trend_interaction", "difference_P_minus_NoP")  # what the report reads
    section.results = {k: results[k] for k in keep}
    section.summary = design_summary(ctx.design) + recovered_summary(seasonal, diff, fixture_truth(ctx.fixtures))
    return section


def design_summary(design: StudyDesign) -> str:
    """The study design in force, and where it differs from the paper's R code and from pcstats' earlier default."""
    lines = [f"\n## Study design\n\n{design.text()}."]
    for other, why in ((PAPER_CODE, WHY_NOT_CODE), (THRESHOLD, {})):
        diffs = design.differences(other)
        if diffs:
            label = "the paper's R code" if other is PAPER_CODE else "the simple threshold design (pcstats before issue 23)"
            lines.append(f"Differs from {label} ({other.name}) in: " + "; ".join(
                d + (f" — {why[d.split(':')[0]]}" if d.split(":")[0] in why else "") for d in diffs) + ".")
    lines.append("Choose another with `pcstats reproduce --design NAME` (" + ", ".join(DESIGNS) + ") or "
                 "`pcstats.reproduce(..., design=pcstats.PAPER.but(zonal='area'))`; each fit's STEM.json records its "
                 "design under provenance.\n")
    return "\n\n".join(lines) + "\n"


def recovered_summary(seasonal, diff, truth: dict) -> str:
    """Published, planted and recovered ensemble trends (and P - NoP) per season, when the fixtures' truth is at hand."""
    if "ensemble_target_by_region" not in truth:
        return ""
    tidy = seasonal.tidy().query("source == 'ensemble' and term == 'year'").set_index(["region", "season"])
    d = diff.tidy().query("source == 'ensemble'").set_index("season")
    published, target = truth["trend_by_region"], truth["ensemble_target_by_region"]
    rows = []
    for season in ("ANN", "EGS", "LGS", "WIN"):
        for region in ("P", "NoP"):
            r = tidy.loc[(region, season)]
            rows.append({"season": season, "region": region, "published": f"{published[region][season]:.2f}",
                         "planted (ensemble OLS target)": f"{target[region][season] + 0:.2f}",
                         "recovered": f"{r['estimate']:.2f} [{r['conf_low']:.2f}, {r['conf_high']:.2f}]"})
        rows.append({"season": season, "region": "P − NoP",
                     "published": f"{round(published['P'][season] - published['NoP'][season], 2) + 0:.2f}",
                     "planted (ensemble OLS target)": f"{target['P'][season] - target['NoP'][season]:.2f}",
                     "recovered": f"{d.loc[season, 'estimate']:.2f} (p = {d.loc[season, 'p_value']:.2g})"})
    return ("### Published, planted and recovered trends (gC m⁻² yr⁻²)\n\n"
            "Published: the paper's regional trends, planted in the fixtures as the mean cell trend of each region of "
            "the design. Planted target: what OLS on the ensemble should estimate (inversions enter and leave with their "
            "own offsets and trends). Recovered: OLS on the ensemble with its 95 % interval.\n\n"
            + pd.DataFrame(rows).to_markdown(index=False, disable_numparse=True) + "\n\n")
