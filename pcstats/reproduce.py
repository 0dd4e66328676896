"""``pcstats reproduce``: the paper's trend analysis on the bundled fixtures (or the same layout elsewhere).

Steps: read the monthly inversion NEE and the annual covariates; put NEE in gC m-2 d-1 with net
uptake positive; classify cells by %P, %TC and MAT; average cells (by area) into regions and
bins; seasonalize (the paper's conventions); add the ensemble over inversions; fit every spec in
:data:`RUNS`; run the second-stage tests; fit the SEMs; evaluate the land models against the towers
and check the permafrost SOC tables (:mod:`pcstats.reproduce_evaluation`); run the robustness set
and the temperature sensitivities (:mod:`pcstats.reproduce_robustness`); run the gridded pipeline on
the product fixtures (:mod:`pcstats.reproduce_grid`); write tables, figures and a manifest.

Output folder::

    tables/   STEM_tidy.csv/.md, STEM_glance.csv/.md, STEM.json per fit; comparison and summary tables
    figures/  trends.png (seasonal series and trends, P vs NoP), gradients_ANN.png, gradients_LGS.png,
              fig3d_tc_bins.png, fig4_trendy_vs_inversions.png, glmm/bayes/SEM figures, robustness and
              sensitivity figures, taylor_nbp/gpp/ter.png (land-model skill), grid_trend_map.png (pixel
              trends of the gridded products); each as PNG and SVG
    data/     the seasonal long tables the fits used; grid_trends.nc (pixel trends), grid_zonal_seasonal.csv
    summary.md, index.html (the summary with every figure inline: one self-contained page), manifest.json
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from .atomic import atomic_output
from .data import aggregate, cell_attributes, classify, convert_units, ensemble, read_table, seasonalize
from .engines import fit
from .export import to_markdown, write_results
from .report import write_report
from .reproduce_evaluation import evaluation
from .reproduce_grid import gridded
from .reproduce_robustness import robustness
from .results import compare
from .second_stage import difference_test, trend_gradient
from .sem_compare import partial_invariance
from .specs import load_spec

__all__ = ["RUNS", "Run", "reproduce", "regional_tables"]

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
MODELS = ROOT / "models"

#: region schemes: column of :func:`pcstats.classify` -> name of the seasonal table
SCHEMES = {"permafrost": "permafrost", "p_tc_class": "classes", "tc_bin": "tc_bins", "p_bin": "p_bins", "mat_bin": "mat_bins"}
GRADIENTS = {"tc_bins": ("TC", "Tree cover (%)"), "p_bins": ("P", "Permafrost extent (%)"), "mat_bins": ("MAT", "MAT (°C)")}


@dataclass(frozen=True)
class Run:
    """One fit of the reproduction: a spec file applied to one of the seasonal tables."""

    stem: str
    spec_file: str
    table: str


RUNS: tuple[Run, ...] = (
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
    Run("glmm_trend", "glmm_trend.toml", "permafrost"),
    Run("glmm_trend_by_region", "glmm_trend_by_region.toml", "permafrost"),
    Run("glmm_trend_dispersion", "glmm_trend_dispersion.toml", "permafrost"),
    Run("bayes_trend", "bayes_trend.toml", "permafrost"),
)


def regional_tables(nee_monthly: pd.DataFrame, covariates_annual: pd.DataFrame) -> tuple[dict[str, pd.DataFrame], dict[str, pd.Series], list[str]]:
    """Seasonal NEE (+ ensemble) per region scheme, gradient values per bin, and data warnings."""
    messages: list[str] = []
    nee = convert_units(nee_monthly)  # inversions carry positive='up'; out: gC m-2 d-1, uptake positive
    cells = classify(cell_attributes(covariates_annual))
    tables = {}
    for column, name in SCHEMES.items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            seasonal = seasonalize(aggregate(nee, cells[column]))
        messages += [f"{name}: {w.message}" for w in caught]
        tables[name] = pd.concat([seasonal, ensemble(seasonal)], ignore_index=True)
    gradients = {}
    for name, (variable, _) in GRADIENTS.items():
        column = next(c for c, n in SCHEMES.items() if n == name)
        rows = covariates_annual[covariates_annual["variable"] == variable]
        gradients[name] = aggregate(rows, cells[column]).groupby("region")["value"].mean().rename(variable)
    return tables, gradients, messages


def _trendy_bins(trendy: pd.DataFrame, covariates_annual: pd.DataFrame) -> pd.DataFrame:
    """The TRENDY-like models' seasonal NBP per 5 % tree-cover bin, with their ensemble (Fig. 4)."""
    cells = classify(cell_attributes(covariates_annual))
    seasonal = seasonalize(aggregate(trendy, cells["tc_bin"]))
    return pd.concat([seasonal, ensemble(seasonal)], ignore_index=True)


def reproduce(out: str | Path, fixtures: str | Path = FIXTURES, models: str | Path = MODELS) -> dict:
    """Run the trend analysis and write everything into ``out``; returns the manifest.

    All the tables, figures and the manifest reach ``out`` together or not at all
    (:func:`pcstats.atomic.atomic_output`).
    """
    with atomic_output(out) as tmp:
        return _reproduce(tmp, Path(fixtures), Path(models))


def _reproduce(out: Path, fixtures: Path, models: Path) -> dict:
    """The analysis, written into the temporary folder ``out``."""
    steps = tqdm(total=len(RUNS) + 7, desc="reproduce", disable=None)
    nee = read_table(fixtures / "inversions" / "inversions_monthly.parquet")
    annual = read_table(fixtures / "covariates" / "covariates_annual.parquet")
    tables, gradients, messages = regional_tables(nee, annual)
    tables["trendy_tc_bins"] = _trendy_bins(read_table(fixtures / "trendy" / "trendy_monthly.parquet"), annual)
    for name, table in tables.items():
        (out / "data").mkdir(parents=True, exist_ok=True)
        table.to_csv(out / "data" / f"seasonal_{name}.csv", index=False)
    steps.update(1)

    results, written = {}, []
    for run in RUNS:
        spec_path = models / run.spec_file
        with warnings.catch_warnings(record=True):  # kept on the Results and in each STEM.json
            warnings.simplefilter("always")
            res = fit(load_spec(spec_path), tables[run.table])
        results[run.stem] = res
        written += write_results(res, out / "tables", run.stem, source=str(spec_path.relative_to(models.parent)))
        messages += [f"{run.stem}: {w}" for w in res.warnings]
        steps.update(1)

    seasonal = results["trend_seasonal"]
    diff = difference_test(seasonal.subset(region="P"), seasonal.subset(region="NoP"), term="year")
    written += write_results(diff, out / "tables", "difference_P_minus_NoP", source="second stage (Welch t)")
    gradient_fits = {}
    for name, (variable, _) in GRADIENTS.items():
        gradient_fits[name] = trend_gradient(results[f"trend_{name}"], gradients[name], name=f"trend ~ {variable} ({name})")
        written += write_results(gradient_fits[name], out / "tables", f"gradient_{variable}", source="second stage (OLS)")
    steps.update(1)

    ens = [r.subset(source="ensemble") for r in (seasonal, results["trend_seasonal_hac"], results["trend_seasonal_sen"])]
    comparison = compare(ens, stats=("estimate", "std_error", "p_value", "conf_low", "conf_high"))
    comparison.to_csv(out / "tables" / "comparison_ols_hac_sen.csv")
    flat = comparison.copy()
    flat.columns = [f"{m} | {s}" for m, s in flat.columns]
    (out / "tables" / "comparison_ols_hac_sen.md").write_text(to_markdown(flat.reset_index()) + "\n", encoding="utf-8")
    steps.update(1)

    from .plots import bin_trends_figure, forest_figure, gradient_figure, mixed_trend_figure, ppc_figure, rank_figure, sem_path_figure, trend_figure

    figures = [out / "figures" / "trends.png"]
    trend_figure(tables["permafrost"], seasonal, path=figures[0])
    panels = [(results[f"trend_{n}"], gradient_fits[n], gradients[n], label) for n, (_, label) in GRADIENTS.items()]
    for season in ("ANN", "LGS"):
        path = out / "figures" / f"gradients_{season}.png"
        gradient_figure(panels, season=season, path=path)
        figures.append(path)
    trendy_gradient = trend_gradient(results["trendy_tc_bins"], gradients["tc_bins"], name="trend ~ TC (TRENDY-like, tc_bins)")
    written += write_results(trendy_gradient, out / "tables", "gradient_TC_trendy", source="second stage (OLS)")
    path = out / "figures" / "fig3d_tc_bins.png"
    bin_trends_figure({"inversions": (results["trend_tc_bins"], gradient_fits["tc_bins"])}, gradients["tc_bins"], path=path)
    figures.append(path)
    path = out / "figures" / "fig4_trendy_vs_inversions.png"
    bin_trends_figure({"inversions": (results["trend_tc_bins"], gradient_fits["tc_bins"]),
                       "TRENDY-like models": (results["trendy_tc_bins"], trendy_gradient)}, gradients["tc_bins"], path=path)
    figures.append(path)
    path = out / "figures" / "glmm_trends.png"
    mixed_trend_figure(results["glmm_trend"], path=path)
    figures.append(path)
    bayes = results["bayes_trend"]
    for name, draw in (("bayes_forest", forest_figure), ("bayes_ppc", ppc_figure), ("bayes_rank_LGS", rank_figure)):
        path = out / "figures" / f"{name}.png"
        draw(bayes, path=path, **({"key": ("LGS",)} if name.endswith("LGS") else {}))
        figures.append(path)
    sem_results = {}
    sem_table = read_table(fixtures / "sem" / "sem_seasonal.parquet")
    for stem, spec_file in SEM_RUNS.items():
        spec_path = models / spec_file
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            res = fit(load_spec(spec_path), sem_table)
        sem_results[stem] = res
        written += write_results(res, out / "tables", stem, source=str(spec_path.relative_to(models.parent)))
        messages += [f"{stem}: {w}" for w in res.warnings]
        path = out / "figures" / f"{stem}_paths.png"
        sem_path_figure(res, path=path)
        figures += [path, path.with_suffix(".svg")]
    kinds_spec = models / SEM_KINDS
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        kinds = partial_invariance(load_spec(kinds_spec), sem_table)
    path = out / "tables" / "sem_lgs_kinds_paths.csv"
    kinds.table.to_csv(path, index=False)
    written.append(path)
    messages += [f"sem_lgs_kinds: {w}" for res in kinds.fits.values() for w in res.warnings]
    steps.update(1)
    land = evaluation(out, fixtures, models)
    robust = robustness(out, fixtures, models, tables)
    grid = gridded(out, fixtures)
    for part in (land, robust, grid):
        written += part.written
        figures += part.figures
        messages += part.messages
        steps.update(1)
    paper, paper_text = _paper_tables(out, results, sem_results, robust.results)
    written += paper
    steps.close()

    summary = _summary(seasonal, diff, results["trend_interaction"]) + _glmm_summary(
        results["glmm_trend"], results["glmm_trend_by_region"], results["glmm_trend_dispersion"]) + _bayes_summary(bayes, results["glmm_trend_by_region"]) + _sem_summary(sem_results) + _sem_kinds_summary(kinds) + paper_text + robust.summary + land.summary + grid.summary
    (out / "summary.md").write_text(summary, encoding="utf-8")
    report = write_report(out, summary, [p.relative_to(out) for p in figures])
    manifest = {
        "report": str(report.relative_to(out)),
        "runs": [{"stem": r.stem, "spec_file": f"models/{r.spec_file}", "table": r.table,
                  "engine": results[r.stem].engine} for r in RUNS]
        + [{"stem": stem, "spec_file": f"models/{f}", "table": "fixtures/sem/sem_seasonal.parquet",
            "engine": sem_results[stem].engine} for stem, f in SEM_RUNS.items()] + robust.runs + land.runs + grid.runs,
        "tables": sorted(str(p.relative_to(out)) for p in written),
        "figures": sorted({str(p.relative_to(out).with_suffix(ext)) for p in figures for ext in (".png", ".svg")}),
        "warnings": messages,
        "provenance": seasonal.provenance.as_dict(),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def _paper_tables(out: Path, results: dict, sem_results: dict, gamma: dict) -> tuple[list[Path], str]:
    """The paper's coefficient tables side by side (pcstats.table), as LaTeX, Markdown, HTML, Word and CSV."""
    from .tables import table

    trend = "Trend (gC m⁻² yr⁻²)"
    tables = {
        "table1_trends": ("Seasonal NEE trends: OLS on the ensemble, the GLMM (P − NoP) and the Bayesian model",
                          ["models/trend_seasonal.toml", "models/glmm_trend.toml", "models/bayes_trend.toml"],
                          table({"OLS": results["trend_seasonal"].subset(source="ensemble"),
                                 "GLMM": results["glmm_trend"], "Bayesian": results["bayes_trend"]},
                                coef_rename={"year": trend, "year_c": "NoP trend", "year_c:regionP": "P − NoP trend"},
                                coef_omit=r"Intercept|^region", gof=("nobs", "r_squared", "aic"), span="group",
                                title="Seasonal NEE trends (gC m⁻² yr⁻²)")),
        "table2_sem": ("The SEMs' paths per data kind", ["models/sem_egs.toml", "models/sem_lgs.toml"],
                       table({"EGS": sem_results["sem_egs"], "LGS": sem_results["sem_lgs"]},
                             gof=("nobs", "cfi", "rmsea", "srmr"), title="Structural equation models")),
        "table3_gamma": ("The towers' temperature sensitivity γ three ways",
                         ["models/gamma_pooled.toml", "models/gamma_mixed.toml", "models/panel_gamma.toml"],
                         table({"pooled OLS": gamma["gamma_towers_pooled"], "random site intercepts": gamma["gamma_towers_mixed"],
                                "site fixed effects": gamma["gamma_towers_panel"]}, coef_rename={"AirT": "γ (gC m⁻² d⁻¹ K⁻¹)"},
                               coef_omit=r"Intercept", gof=("nobs", "r_squared"), span="group",
                               title="Towers' direct γ per season")),
    }
    folder = out / "tables" / "paper"
    folder.mkdir(parents=True, exist_ok=True)
    written, text = [], ["\n## Coefficient tables for the paper (pcstats.table)\n\nEach table is in tables/paper/ as "
                         ".tex (booktabs), .md, .html, .docx and .csv; stars: + p < 0.1, * p < 0.05, ** p < 0.01, "
                         "*** p < 0.001 (modelsummary's convention); standard errors (posterior SDs for the Bayesian model) in parentheses.\n"]
    for stem, (caption, specs, tab) in tables.items():
        for ext, write in ((".tex", tab.to_latex), (".md", tab.to_markdown), (".html", tab.to_html), (".csv", tab.to_csv),
                           (".docx", tab.to_docx)):
            write(folder / f"{stem}{ext}")
            written.append(folder / f"{stem}{ext}")
        text.append(f"\n**{caption}** ({', '.join(specs)}):\n\n" + tab.to_markdown() + "\n")
    return written, "".join(text)


#: the paper's SEMs: output stem -> spec file, fitted to fixtures/sem/sem_seasonal.parquet
SEM_RUNS: dict[str, str] = {"sem_egs": "sem_egs.toml", "sem_lgs": "sem_lgs.toml"}
#: the LGS SEM across data kinds with its paths equal, each freed in turn (pcstats.partial_invariance)
SEM_KINDS = "sem_lgs_kinds.toml"


def _bayes_summary(bayes, reml, term: str = "year_c:regionP") -> str:
    """P(trend_P > trend_NoP) per season, the diagnostics, and the REML estimate beside it."""
    from .posterior import posterior_prob

    prob = posterior_prob(bayes, f"{term} > 0").set_index("season")["probability"]
    tidy = bayes.tidy().query("component == 'fixed' and term == @term").set_index("season")
    glance = bayes.glance().set_index("season")
    ml = reml.tidy().query("component == 'fixed' and term == @term").set_index("season")
    rows = []
    for season in prob.index:
        r, g = tidy.loc[season], glance.loc[season]
        rows.append({
            "season": season, "P(trend_P > trend_NoP)": f"{prob[season]:.3f}",
            "P − NoP (posterior mean, HDI)": f"{r['estimate']:.2f} [{r['conf_low']:.2f}, {r['conf_high']:.2f}]",
            "REML (same random effects)": f"{ml.loc[season, 'estimate']:.2f} ± {ml.loc[season, 'std_error']:.2f}" if season in ml.index else "",
            "divergences": int(g["divergences"]), "max R-hat": f"{g['max_rhat']:.3f}", "min ESS": f"{g['min_ess_bulk']:.0f}",
        })
    return (
        f"\n## Bayesian hierarchical trend (models/bayes_trend.toml; {bayes.glance()['sampler'].iloc[0]})\n\n"
        "Each inversion's trend in each region partially pooled, (1 + year_c | source:region). Figures: "
        "figures/bayes_forest.png (group-level trends), figures/bayes_ppc.png (posterior predictive check), "
        "figures/bayes_rank_LGS.png (rank plots).\n\n" + pd.DataFrame(rows).to_markdown(index=False) + "\n"
    )


def _sem_summary(sem_results: dict) -> str:
    """Standardised paths into NEE per season and data kind, and the fit of each model."""
    rows = []
    for stem, res in sem_results.items():
        tidy = res.tidy()
        paths = tidy[(tidy["component"] == "regression") & (tidy["lhs"] == "nee")]
        glance = res.glance().set_index("kind")
        for kind, part in paths.groupby("kind", sort=True):
            std = part.set_index("rhs")["std_all"]
            g = glance.loc[kind]
            rows.append({
                "season": stem.split("_")[-1].upper(), "kind": kind,
                "NEE <- GPP (std)": f"{std['gpp']:.2f}", "NEE <- TER (std)": f"{std['ter']:.2f}",
                "NEE controlled by": "TER" if abs(std["ter"]) > abs(std["gpp"]) else "GPP",
                "chi2 (df), p": f"{g['chisq']:.1f} ({int(g['df'])}), {g['p_value']:.2g}",
                "CFI": f"{g['cfi']:.3f}", "RMSEA": f"{g['rmsea']:.3f}", "n": int(g["nobs"]),
            })
    return (
        "\n## Structural equation models (models/sem_egs.toml, models/sem_lgs.toml; engine pcstats)\n\n"
        "Standardised paths (std.all) from GPP and TER to NEE per data kind, on fixtures/sem/sem_seasonal.parquet. "
        "Fit indices are pcstats's, with lavaan's definitions. Path diagrams: figures/sem_egs_paths.png, "
        "figures/sem_lgs_paths.png (and .svg).\n\n" + pd.DataFrame(rows).to_markdown(index=False) + "\n"
    )


def _sem_kinds_summary(kinds, alpha: float = 0.05) -> str:
    """The paper's question: do the LGS paths differ between data kinds? The overall test and each path's."""
    table = kinds.table
    overall = table[table["model"] == "equal"].iloc[0]
    paths = table[table["model"].str.endswith(" free")]
    differ = paths[paths["p_holm"] < alpha]["term"].tolist()
    same = paths[~(paths["p_holm"] < alpha)]["term"].tolist()
    rows = paths.assign(**{"chi2 diff (df)": [f"{c:.1f} ({int(d)})" for c, d in zip(paths["chisq_diff"], paths["df_diff"])],
                           "p (Holm)": [f"{p:.2g}" for p in paths["p_holm"]], "differs": paths["p_holm"] < alpha})
    return (
        f"\n## Do the LGS paths differ between data kinds? (models/{SEM_KINDS}; engine pcstats)\n\n"
        f"One multi-group SEM over the data kinds with its regression paths equal across kinds, against the same "
        f"model with them free: chi2 difference {overall['chisq_diff']:.1f} on {int(overall['df_diff'])} df, "
        f"p = {overall['p_value']:.2g}, delta CFI {overall['delta_cfi']:.3f}. Freeing each path in turn "
        f"(pcstats.partial_invariance; Holm-adjusted over {len(paths)} paths, alpha {alpha}): "
        f"{len(differ)} differ between kinds ({', '.join(differ) or 'none'}); "
        f"{len(same)} do not ({', '.join(same) or 'none'}). Table: tables/sem_lgs_kinds_paths.csv.\n\n"
        + rows[["term", "chi2 diff (df)", "p (Holm)", "differs"]].to_markdown(index=False) + "\n"
    )


def _glmm_summary(glmm, by_region, dispersion, term: str = "year_c:regionP", alpha: float = 0.05) -> str:
    """The mixed-model P − NoP trend difference per season under the three GLMMs, and the LRTs against the first."""
    from .likelihood_ratio import lrt

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fits' own warnings are in their Results and JSON files
        test = lrt(glmm, by_region).dropna(subset=["p_value"]).set_index("season")
        # same fixed effects: compared on the REML scale, as nlme's anova of two lme fits
        spread = lrt(glmm, dispersion, refit=False).dropna(subset=["p_value"]).set_index("season")
    rows = []
    for season in ("ANN", "EGS", "LGS", "WIN"):
        row = {"season": season}
        for label, res in (("GLMM", glmm), ("by-region trends", by_region), ("residual SD by decade", dispersion)):
            tidy = res.tidy()
            r = tidy[(tidy["component"] == "fixed") & (tidy["term"] == term) & (tidy["season"] == season)]
            if r.empty:
                continue
            r = r.iloc[0]
            singular = res.glance().set_index("season").loc[season, "singular"]
            row[f"P − NoP, {label}"] = (f"{r['estimate']:.2f} ± {r['std_error']:.2f}, "
                                        f"{'t(%.1f)' % r['df'] if pd.notna(r['df']) else 'z'} p = {r['p_value']:.2g}"
                                        f"{' *' if r['p_value'] < alpha else ''}{' (singular)' if singular else ''}")
        if season in test.index:
            row["LRT p (by-region trends vs GLMM)"] = f"{test.loc[season, 'p_value']:.2g}"
        if season in spread.index:
            aic = dispersion.glance().set_index("season").loc[season, "aic"] - glmm.glance().set_index("season").loc[season, "aic"]
            row["LRT p (SD by decade vs GLMM), ΔAIC"] = f"{spread.loc[season, 'p_value']:.2g}, {aic:+.1f}"
        rows.append(row)
    return (
        f"\n## Mixed models (models/glmm_trend.toml, models/glmm_trend_by_region.toml, models/glmm_trend_dispersion.toml; "
        f"engine {glmm.engine})\n\n"
        "The P − NoP trend difference (year_c:regionP, gC m⁻² yr⁻²) with the inversion spread as random effects "
        "(the paper's three sources of inversion uncertainty; see the spec files' comments). `*`: significant at "
        f"{alpha}. The second model also lets each inversion have its own trend in each region; the likelihood-ratio "
        "test (ML refits, as lme4's anova) says whether the data support that, and the difference is then judged "
        "against its spread across the six inversions. The third adds the paper's time-dependent spread as one residual "
        "SD per decade (nlme's varIdent); its LRT (REML, same fixed effects) and ΔAIC say whether that improves the "
        "fit, and its column whether P − NoP stays significant. Singular: some variance components are estimated as zero. "
        "Per-inversion trends: figures/glmm_trends.png.\n\n"
        + pd.DataFrame(rows).to_markdown(index=False) + "\n"
    )


def _summary(seasonal, diff, interaction) -> str:
    tidy = seasonal.tidy()
    ens = tidy[(tidy["source"] == "ensemble") & (tidy["term"] == "year")]
    wide = ens.pivot(index="season", columns="region", values=["estimate", "std_error", "p_value"])
    d = diff.tidy().query("source == 'ensemble'").set_index("season")
    inter = interaction.tidy()
    inter = inter[(inter["source"] == "ensemble") & (inter["term"] == "year:C(region)P")].set_index("season")
    rows = []
    for season in ("ANN", "EGS", "LGS", "WIN"):
        rows.append({
            "season": season,
            "P trend": f"{wide.loc[season, ('estimate', 'P')]:.2f} ± {wide.loc[season, ('std_error', 'P')]:.2f}",
            "NoP trend": f"{wide.loc[season, ('estimate', 'NoP')]:.2f} ± {wide.loc[season, ('std_error', 'NoP')]:.2f}",
            "P − NoP (Welch)": f"{d.loc[season, 'estimate']:.2f} (p = {d.loc[season, 'p_value']:.2g})",
            "interaction p": f"{inter.loc[season, 'p_value']:.2g}",
        })
    table = pd.DataFrame(rows).to_markdown(index=False)
    return (
        "# pcstats reproduce: NEE trends, inversion ensemble\n\n"
        "Trends in gC m⁻² yr⁻² (OLS ± SE), net uptake positive; seasonal values are the mean of monthly "
        "daily rates × 365 (the paper's convention). Spec files: models/trend_seasonal.toml, "
        "models/trend_interaction.toml.\n\n" + table + "\n\n"
        "Figures: figures/trends.png, figures/gradients_ANN.png, figures/gradients_LGS.png (Fig. 1d-f), "
        "figures/fig3d_tc_bins.png (seasonal trends along 5 % tree-cover bins, Fig. 3d; models/trend_bins.toml) and "
        "figures/fig4_trendy_vs_inversions.png (the same for the TRENDY-like ensemble, models/trend_bins_trendy.toml, "
        "beside the inversions, Fig. 4). "
        "Every table is in tables/ as CSV (full precision) and Markdown.\n"
    )
