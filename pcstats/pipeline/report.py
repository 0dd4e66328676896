"""The report of a reproduction: the summary, the paper's coefficient tables, index.html and the manifest.

Composed from every section's :class:`~pcstats.pipeline.context.Section` (its fits, files, runs,
messages and summary text) after the sections have run, in whatever processes they ran.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandas as pd

from ..report import write_report
from .context import Section
from .sem import SEM_KINDS

__all__ = ["write_outputs"]


def write_outputs(out: Path, sections: dict[str, Section], previous: Path | None = None) -> dict:
    """summary.md, the paper tables, index.html and manifest.json from the sections (paths relative to ``out``;
    the figures of sections not rerun are read from ``previous``, the folder of the earlier run)."""
    results = {k: v for s in sections.values() for k, v in s.results.items()}
    seasonal = results["trend_seasonal"]
    paper, paper_text = _paper_tables(out, results)
    summary = (_summary(seasonal, results["difference_P_minus_NoP"], results["trend_interaction"])
               + sections["trends"].summary
               + _glmm_summary(results["glmm_trend"], results["glmm_trend_by_region"], results["glmm_trend_dispersion"])
               + sections["mixed"].summary
               + _bayes_summary(results["bayes_trend"], results["glmm_trend_by_region"])
               + _sem_summary({k: results[k] for k in ("sem_egs", "sem_lgs")}) + sections["sem"].summary + _sem_kinds_summary(results["sem_lgs_kinds"])
               + paper_text + sections["robustness"].summary + sections["evaluation"].summary + sections["grid"].summary
               + sections["productivity"].summary + sections["comparisons"].summary + sections["smap"].summary)
    (out / "summary.md").write_text(summary, encoding="utf-8")
    figures = [p for s in sections.values() for p in s.figures]
    report = write_report(out, summary, figures, also_in=[previous] if previous else [])
    manifest = {
        "report": str(report.relative_to(out)),
        "runs": [run for s in sections.values() for run in s.runs],
        "tables": sorted(str(p) for p in [*(q for s in sections.values() for q in s.written), *(p.relative_to(out) for p in paper)]),
        "figures": sorted({str(p.with_suffix(ext)) for p in figures for ext in (".png", ".svg")}),
        "warnings": [m for s in sections.values() for m in s.messages],
        "provenance": seasonal.provenance.as_dict(),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def _paper_tables(out: Path, results: dict) -> tuple[list[Path], str]:
    """The paper's coefficient tables side by side (pcstats.table), as LaTeX, Markdown, HTML, Word and CSV."""
    from ..plots import KIND_LABELS, VARIABLE_LABELS
    from ..tables import table

    def _sem_term(term: str) -> str:  # "gpp ~ airt" -> "GPP ← Tair", "gpp r2" -> "GPP"
        names = {k: v.replace("$_{EGS}$", " (EGS)") for k, v in VARIABLE_LABELS.items()}
        if " ~ " in term:
            lhs, rhs = term.split(" ~ ", 1)
            return f"{names.get(lhs, lhs)} ← {names.get(rhs, rhs)}"
        return names.get(term.removesuffix(" r2"), term) if term.endswith(" r2") else term

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
                       table({"EGS": results["sem_egs"], "LGS": results["sem_lgs"]}, coef_rename=_sem_term,
                             group_rename=KIND_LABELS, gof=("nobs", "cfi", "rmsea", "rmsea_pvalue", "srmr"),
                             title="Structural equation models (unstandardised paths)")),
        "table3_gamma": ("The towers' temperature sensitivity γ three ways",
                         ["models/gamma_pooled.toml", "models/gamma_mixed.toml", "models/panel_gamma.toml"],
                         table({"pooled OLS": results["gamma_towers_pooled"], "random site intercepts": results["gamma_towers_mixed"],
                                "site fixed effects": results["gamma_towers_panel"]}, coef_rename={"AirT": "γ (gC m⁻² d⁻¹ K⁻¹)"},
                               coef_omit=r"Intercept", gof=("nobs", "r_squared"), span="group",
                               title="Towers' direct γ per season")),
    }
    folder = out / "tables" / "paper"
    folder.mkdir(parents=True, exist_ok=True)
    written, text = [], ["\n## Coefficient tables for the paper (pcstats.table)\n\nEach table is in tables/paper/ as "
                         ".tex (booktabs, numbers aligned by siunitx; a table wider than 16.5 cm is split into blocks of seasons "
                         "that fit), .md, .html, .docx and .csv; stars: + p < 0.1, * p < 0.05, ** p < 0.01, "
                         "*** p < 0.001 (modelsummary's convention); standard errors (posterior SDs for the Bayesian model) in parentheses.\n"]
    for stem, (caption, specs, tab) in tables.items():
        for ext, write in ((".tex", tab.to_latex), (".md", tab.to_markdown), (".html", tab.to_html), (".csv", tab.to_csv),
                           (".docx", tab.to_docx)):
            write(folder / f"{stem}{ext}")
            written.append(folder / f"{stem}{ext}")
        text.append(f"\n**{caption}** ({', '.join(specs)}):\n\n" + tab.to_markdown() + "\n")
    return written, "".join(text)


def _bayes_summary(bayes, reml, term: str = "year_c:regionP") -> str:
    """P(trend_P > trend_NoP) per season, the diagnostics, and the REML estimate beside it."""
    from ..posterior import posterior_prob

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
                "CFI": f"{g['cfi']:.3f}", "RMSEA": f"{g['rmsea']:.3f}", "RMSEA p (close fit)": f"{g['rmsea_pvalue']:.3f}", "n": int(g["nobs"]),
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
    from ..likelihood_ratio import lrt

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
