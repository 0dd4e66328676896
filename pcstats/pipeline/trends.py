"""Section ``trends``: the OLS, HAC and Sen trends by region scheme, the second-stage tests, Figs. 1, 3d and 4."""

from __future__ import annotations

from dataclasses import dataclass

from ..export import to_markdown, write_results
from ..results import compare
from ..second_stage import difference_test, trend_gradient
from .context import Context, Section, fit_file
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
    return section
