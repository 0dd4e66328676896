"""The land-model evaluation part of ``pcstats reproduce``: skill, Q10 and permafrost SOC tables.

On the bundled fixtures (or the same layout elsewhere):

* ``evaluation/sites_monthly.parquet`` -> seasonal (the paper's conventions) + the ensemble mean of
  the TRENDY-like models -> skill of each model and of the ensemble against the towers, by season,
  for NBP vs NEE, GPP and TER (spec files ``models/skill_*.toml``); a Taylor diagram per flux;
* the same monthly table -> Q10 of respiration for the towers per region and for each model
  (``models/q10_*.toml``), with the Welch test of the towers' P - NoP difference;
* ``published/permafrost_soc_tables.csv`` -> zone storage recomputed from the published stocks and
  areas, and the consistency check of the published tables (:mod:`pcstats.soc`).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd

from ..data import ensemble, read_table, seasonalize
from ..export import to_markdown, write_frame, write_results
from ..second_stage import difference_test
from .context import Section, fit_file

__all__ = ["SKILL_RUNS", "Q10_RUNS", "evaluation"]

#: output stem -> spec file, fitted to the seasonal evaluation table (towers, models, model ensemble)
SKILL_RUNS: dict[str, str] = {"skill_nbp": "skill_nbp.toml", "skill_gpp": "skill_gpp.toml", "skill_ter": "skill_ter.toml"}
#: output stem -> spec file, fitted to the monthly evaluation table
Q10_RUNS: dict[str, str] = {"q10_towers": "q10_towers.toml", "q10_models": "q10_models.toml"}


def evaluation(out: str | Path, fixtures: str | Path, models: str | Path) -> Section:
    """Fit the evaluation specs, write their tables and figures into ``out``; see the module docstring."""
    from ..plots import taylor_figure

    out, fixtures, models = Path(out), Path(fixtures), Path(models)
    section = Section()
    monthly = read_table(fixtures / "evaluation" / "sites_monthly.parquet")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        seasonal = seasonalize(monthly)
    section.messages += [f"evaluation: {w.message}" for w in caught]
    seasonal = pd.concat([seasonal, ensemble(seasonal[seasonal["kind"] == "dgvm"])], ignore_index=True)
    (out / "data").mkdir(parents=True, exist_ok=True)
    seasonal.to_csv(out / "data" / "seasonal_evaluation.csv", index=False)

    skill = {}
    for stem, spec_file in SKILL_RUNS.items():
        skill[stem] = fit_file(section, out, models, stem, spec_file, seasonal, "data/seasonal_evaluation.csv")
        path = out / "figures" / f"taylor_{stem.split('_')[1]}.png"
        taylor_figure(skill[stem], panel="season", path=path)
        section.figures += [path, path.with_suffix(".svg")]
    q10 = {stem: fit_file(section, out, models, stem, f, monthly, "fixtures/evaluation/sites_monthly.parquet")
           for stem, f in Q10_RUNS.items()}
    towers = q10["q10_towers"]
    diff = difference_test(towers.subset(region="P"), towers.subset(region="NoP"), term="Q10")
    section.written += write_results(diff, out / "tables", "q10_difference_P_minus_NoP", source="second stage (Welch t)")
    section.summary = _skill_summary(skill) + _q10_summary(towers, q10["q10_models"], diff) + _soc(section, out, fixtures)
    return section


def _soc(section: Section, out: Path, fixtures: Path) -> str:
    """Zone storage recomputed from the published stocks and areas, beside the published storage; the check."""
    from .. import soc

    source = fixtures / "published" / "permafrost_soc_tables.csv"
    tables = soc.read_published(source)
    storage = soc.zone_storage(tables.stock, tables.area).merge(
        tables.storage[["zone", "depth", "storage_pg"]].rename(columns={"storage_pg": "published_pg"}), on=["zone", "depth"],
        how="left")
    storage["difference_pg"] = storage["published_pg"] - storage["storage_pg"]
    report = soc.check_consistency(tables.stock, tables.storage, tables.area)
    for stem, frame in (("soc_storage", storage), ("soc_consistency", report)):
        section.written += write_frame(frame, out / "tables", stem,
                                       f"# {stem}\n\nSource: `{source.relative_to(fixtures.parent)}`")
    shown = storage.assign(cell=[f"{c:.2f} ({p:.2f})" for c, p in zip(storage["storage_pg"], storage["published_pg"])])
    wide = shown.pivot(index="zone", columns="depth", values="cell").reindex(index=storage["zone"].unique(),
                                                                            columns=storage["depth"].unique())
    failed = report[~report["consistent"]]
    lines = [f"- {r.check}: {r.table} {r.zone} {'' if pd.isna(r.depth) else r.depth} — published {r.published:g}, "
             f"expected {r.expected:.3f}, {r.off_by:.3f} {'Pg' if r.table == 'storage' else 'kg m⁻²'} beyond rounding{'; ' + r.note if isinstance(r.note, str) else ''}"
             for r in failed.itertuples()]
    return (
        "\n## Permafrost SOC storage (pcstats.soc; fixtures/published/permafrost_soc_tables.csv)\n\n"
        "Storage (Pg C) = area (10⁶ km²) × average stock (kg C m⁻²), recomputed from the lecture's Table 1; the "
        "published Table 2 value in parentheses. tables/soc_storage.csv, tables/soc_consistency.csv.\n\n"
        + wide.reset_index().to_markdown(index=False) + "\n\n"
        f"Consistency of the published tables with their own rounding: {len(failed)} of {len(report)} checks fail.\n\n"
        + "\n".join(lines) + "\n"
    )


def _skill_summary(skill: dict) -> str:
    rows = []
    for stem, res in skill.items():
        tidy = res.tidy()
        wide = tidy.pivot_table(index=["source", "season"], columns="term", values="estimate")
        for season in ("ANN", "EGS", "LGS", "WIN"):
            if ("ensemble", season) not in wide.index:
                continue
            e = wide.loc[("ensemble", season)]
            members = wide.xs(season, level="season").drop(index="ensemble", errors="ignore")
            rows.append({
                "flux": res.model, "season": season, "r² (Pearson)": e["r2_pearson"], "NSE": e["nse"], "KGE": e["kge"],
                "RMSE": e["rmse"], "MBE (sim − obs)": e["mbe"], "σ ratio": e["sd_ratio"],
                "best model (KGE)": members["kge"].idxmax(), "models' KGE range": f"{members['kge'].min():.2f} to {members['kge'].max():.2f}",
            })
    return (
        "\n## Land-model skill against the flux towers (models/skill_nbp.toml, models/skill_gpp.toml, models/skill_ter.toml)\n\n"
        "The ensemble mean of the ten TRENDY-like models against the 48 towers of fixtures/evaluation, site-years "
        "matched by season (RMSE and MBE in gC m⁻² yr⁻¹, mean of monthly daily rates × 365; NBP and NEE net uptake positive). "
        "r² is the squared Pearson correlation, NSE the Nash–Sutcliffe efficiency (the 1:1-line R²), KGE Gupta et "
        "al. (2009); definitions in pcstats.stats.skill. Per-model rows: tables/skill_*_tidy.csv. Taylor diagrams: "
        "figures/taylor_nbp.png, taylor_gpp.png, taylor_ter.png.\n\n" + to_markdown(pd.DataFrame(rows), digits=3) + "\n"
    )


def _q10_summary(towers, models, diff) -> str:
    t = towers.tidy().set_index(["region", "term"])
    m = models.tidy().query("term == 'Q10'").groupby("region")["estimate"]
    d = diff.tidy().iloc[0]
    rows = [{
        "region": region, "towers: R_ref (gC m⁻² d⁻¹)": f"{t.loc[(region, 'R_ref'), 'estimate']:.2f} ± {t.loc[(region, 'R_ref'), 'std_error']:.2f}",
        "towers: Q10": f"{t.loc[(region, 'Q10'), 'estimate']:.2f} ± {t.loc[(region, 'Q10'), 'std_error']:.2f}",
        "models: Q10 median [range]": f"{m.median()[region]:.2f} [{m.min()[region]:.2f}, {m.max()[region]:.2f}]",
    } for region in ("P", "NoP")]
    return (
        "\n## Respiration's temperature sensitivity (models/q10_towers.toml, models/q10_models.toml; engine scipy)\n\n"
        "Monthly TER = R_ref · Q10^((AirT − 10)/10) by nonlinear least squares (as R's nls; SEs from the Jacobian), "
        f"permafrost (P) vs non-permafrost (NoP) sites. Towers' P − NoP Q10: {d['estimate']:.2f} ± {d['std_error']:.2f} "
        f"(Welch t = {d['statistic']:.1f}, p = {d['p_value']:.2g}).\n\n" + pd.DataFrame(rows).to_markdown(index=False) + "\n"
    )
