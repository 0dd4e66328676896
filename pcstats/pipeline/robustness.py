"""The robustness part of ``pcstats reproduce`` (and ``pcstats robustness``).

:func:`robustness_set` runs the paper's robustness checks of one trend spec on one table: random
windows (the trends over ``windows`` random periods of at least ``min_length`` years), each source
alone, leave one out, the two longest against the three shortest. :func:`robustness` adds, on the
bundled fixtures, the GLMM with each inversion left out, the sign agreement of the inversions'
per-cell trends (>= 5 of 6), and the temperature sensitivities γ (legacy and direct) of the
inversions, the towers (pooled OLS, random site intercepts, site fixed effects) and the TRENDY-like
models (each model and their ensemble, the mean of the models as :func:`pcstats.data.ensemble` makes it
for the inversions), with Welch tests between regions, seasons and datasets.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..atomic import atomic_output
from ..data import aggregate, cell_attributes, classify, convert_units, ensemble, read_table, seasonalize
from ..engines import fit
from ..errors import PcstatsError
from ..export import write_results
from .context import Section, quietly
from ..results import Results
from ..second_stage import difference_test, pairwise_differences
from ..sensitivity import sensitivity
from ..specs import load_spec

__all__ = ["GAMMA_SPECS", "models_with_ensemble", "robustness", "robustness_set"]

#: the towers' γ three ways: output stem -> spec file (fitted to the towers' seasonal means, gC m-2 d-1)
GAMMA_SPECS: dict[str, str] = {"gamma_towers_pooled": "gamma_pooled.toml", "gamma_towers_mixed": "gamma_mixed.toml",
                               "gamma_towers_panel": "panel_gamma.toml"}


def _write(section: Section, res: Results, out: Path, stem: str, source: str) -> None:
    section.written += write_results(res, out / "tables", stem, source=source)
    section.messages += [f"{stem}: {w}" for w in res.warnings]


def robustness_set(spec, table: pd.DataFrame, out: str | Path, *, windows: int = 10_000, seed: int = 0,
                   min_length: int = 10, stem: str = "robustness", source: str = "") -> Section:
    """Random windows, each source alone, leave one out, longest vs shortest, written into ``out``.

    Works for any ``y ~ year`` trend spec: figures colour by ``region`` and panel by ``season`` when
    those are by keys; a run or figure that cannot apply to the spec (each source alone of a spec
    that already fits each source) is skipped, and the summary says why. All the tables and figures
    reach ``out`` together or not at all (:func:`pcstats.atomic.atomic_output`).
    """
    out = Path(out)
    with atomic_output(out) as tmp:
        section = _robustness_set(spec, table, tmp, windows=windows, seed=seed, min_length=min_length, stem=stem,
                                  source=source)
    section.written = [out / p.relative_to(tmp) for p in section.written]
    section.figures = [out / p.relative_to(tmp) for p in section.figures]
    return section


def _robustness_set(spec, table: pd.DataFrame, out: Path, *, windows: int, seed: int, min_length: int, stem: str,
                    source: str) -> Section:
    """The checks of :func:`robustness_set`, written into the temporary folder ``out``."""
    from ..plots import source_trends_figure, window_trends_figure
    from ..robustness import by_source, leave_one_out, longest_vs_shortest, random_windows

    section = Section()
    skipped: list[str] = []

    def attempt(what: str, function, *args, **kwargs):
        try:
            return quietly(function, *args, **kwargs)
        except PcstatsError as exc:
            skipped.append(f"{what}: {exc}")
            return None

    rw = quietly(random_windows, spec, table, n=windows, min_length=min_length, seed=seed)
    summary = rw.distribution()
    _write(section, summary, out, f"{stem}_windows_summary", source)
    (out / "tables").mkdir(parents=True, exist_ok=True)
    rw.tidy().to_csv(out / "tables" / f"{stem}_windows_tidy.csv.gz", index=False)
    section.written.append(out / "tables" / f"{stem}_windows_tidy.csv.gz")
    figure = out / "figures" / f"{stem}_windows.png"
    if attempt(f"figures/{figure.name}", window_trends_figure, rw, path=figure) is not None:
        section.figures += [figure, figure.with_suffix(".svg")]

    runs = {"by_source": attempt("each source alone", by_source, spec, table),
            "leave_one_out": attempt("leave one out", leave_one_out, spec, table),
            "longest_vs_shortest": attempt("longest vs shortest", longest_vs_shortest, spec, table)}
    runs = {name: res for name, res in runs.items() if res is not None}
    for name, res in runs.items():
        _write(section, res, out, f"{stem}_{name}", source)
        figure = out / "figures" / f"{stem}_{name}.png"
        if attempt(f"figures/{figure.name}", source_trends_figure, res, path=figure) is not None:
            section.figures += [figure, figure.with_suffix(".svg")]
    diff = None
    if "longest_vs_shortest" in runs:
        subsets = runs["longest_vs_shortest"]
        labels = sorted(subsets.tidy()["subset"].unique())
        diff = attempt("longest minus shortest", difference_test, subsets.subset(subset=labels[0]),
                       subsets.subset(subset=labels[1]), term="year")
    if diff is not None:
        _write(section, diff, out, f"{stem}_longest_minus_shortest", "second stage (Welch t)")
    section.messages += [f"{stem}: skipped {s}" for s in skipped]
    drawn = [f"figures/{f.name}" for f in section.figures if f.suffix == ".png"]
    section.summary = _set_summary(rw, summary, runs, diff, source, stem, drawn, skipped)
    return section


def _groups(frame: pd.DataFrame, keys: list[str]) -> pd.Series:
    """Each row's key values as one label with a trailing space, e.g. ``"P ANN "`` (``""`` without keys)."""
    return frame[keys].astype(str).agg(" ".join, axis=1) + " " if keys else pd.Series("", index=frame.index)


def _set_summary(rw, summary, runs, diff, source: str, stem: str, drawn: list[str], skipped: list[str]) -> str:
    keys = list(summary.by)
    tidy, glance = summary.tidy(), summary.glance()
    rows = tidy[keys + ["component", "estimate", "conf_low", "conf_high"]].merge(glance[keys + ["share_significant",
                                                                                                 "share_positive"]], on=keys)
    trends = rows[rows["component"] == "fixed"]
    table = trends[keys].assign(**{"share p < 0.05": trends["share_significant"].map("{:.2f}".format),
                                   "trend median [2.5 %, 97.5 %]": [f"{r.estimate:.2f} [{r.conf_low:.2f}, {r.conf_high:.2f}]"
                                                                    for r in trends.itertuples()]})
    text = (f"\n## Robustness ({source}; pcstats.robustness)\n\n**Random windows**: {rw.spec.n:,} windows of "
            f"{rw.spec.min_length}-{rw.spec.max_length} years, seed {rw.spec.seed}, the same windows for every series "
            f"({'; '.join([f for f in drawn if f.endswith('_windows.png')] + [f'tables/{stem}_windows_summary_*'])}).\n\n" + table.to_markdown(index=False) + "\n")
    d = rows[rows["component"] == "difference"]
    if len(d):
        text += (f"\n{' − '.join(summary.spec.contrast[1:])} per window: " + "; ".join(
            f"{label}median {r.estimate:.2f} [{r.conf_low:.2f}, {r.conf_high:.2f}], positive in {r.share_positive:.0%}, "
            f"Welch p < 0.05 in {r.share_significant:.0%}"
            for label, r in zip(_groups(d, [k for k in keys if k != summary.spec.contrast[0]]), d.itertuples())) + ".\n")
    figures = [f"figures/{stem}_{name}.png" for name in runs if f"figures/{stem}_{name}.png" in drawn]
    if figures:
        text += "\nTrends ± CI of each inversion alone, of the ensemble with each left out, and of the two subsets: " \
                + ", ".join(figures) + ".\n"
    if "leave_one_out" in runs:
        loo = runs["leave_one_out"]
        base = [k for k in loo.by if k != "left_out"]
        t = loo.tidy().query("term == 'year'")
        span = t.groupby(_groups(t, base))["estimate"].agg(["min", "max"])
        text += ("\n**Each inversion left out** (range of the trend over the refits): " + "; ".join(
            f"{label}{r['min']:.2f} to {r['max']:.2f}" for label, r in span.iterrows()) + ".\n")
    if diff is not None:
        t = diff.tidy()
        text += ("\n**Longest two vs shortest three** (" + " vs ".join(sorted(runs["longest_vs_shortest"].tidy()["subset"].unique()))
                 + "), difference of trends: " + "; ".join(
                     f"{label}{r.estimate:.2f} ± {r.std_error:.2f} (p = {r.p_value:.2g})"
                     for label, r in zip(_groups(t, list(diff.by)), t.itertuples())) + ".\n")
    if skipped:
        text += "\nSkipped, as they do not apply to this spec:\n\n" + "".join(f"- {s}\n" for s in skipped)
    return text


def robustness(out: str | Path, fixtures: str | Path, models: str | Path, tables: dict[str, pd.DataFrame]) -> Section:
    """The paper's robustness set on the bundled fixtures; ``tables`` are reproduce's seasonal tables."""
    out, fixtures, models = Path(out), Path(fixtures), Path(models)
    spec_path = models / "trend_ensemble.toml"
    section = robustness_set(load_spec(spec_path), tables["permafrost"], out, source=str(spec_path.relative_to(models.parent)))
    section.runs.append({"stem": "robustness", "spec_file": "models/trend_ensemble.toml", "table": "data/seasonal_permafrost.csv",
                         "engine": "window_ols"})
    glmm_path = models / "glmm_trend.toml"
    from ..robustness import leave_one_out, sign_agreement

    glmm = quietly(leave_one_out, load_spec(glmm_path), tables["permafrost"])
    _write(section, glmm, out, "glmm_leave_one_out", str(glmm_path.relative_to(models.parent)))
    section.runs.append({"stem": "glmm_leave_one_out", "spec_file": "models/glmm_trend.toml",
                         "table": "data/seasonal_permafrost.csv", "engine": glmm.engine})

    nee = convert_units(read_table(fixtures / "inversions" / "inversions_monthly.parquet"))
    covariates = read_table(fixtures / "covariates" / "covariates_monthly.parquet")
    cells = classify(cell_attributes(read_table(fixtures / "covariates" / "covariates_annual.parquet")))
    per_cell = quietly(seasonalize, nee)
    cell_trends = quietly(fit, load_spec(models / "trend_seasonal.toml"), per_cell)
    agreement = quietly(sign_agreement, cell_trends, over="source", threshold=5, regions=cells["permafrost"],
                        areas=per_cell)  # its weight column: each cell's area
    _write(section, agreement, out, "sign_agreement", "models/trend_seasonal.toml on the 100 fixture cells")

    gamma = _sensitivities(section, out, models, nee, covariates, cells, fixtures)  # fills section.results
    section.summary += _glmm_summary(glmm) + _agreement_summary(agreement) + gamma
    return section


def _sensitivities(section: Section, out: Path, models: Path, nee, covariates, cells, fixtures: Path) -> str:
    from ..plots import sensitivity_figure

    regional = aggregate(nee, cells["permafrost"])
    regional = pd.concat([regional, ensemble(regional)], ignore_index=True)
    airt = aggregate(covariates[covariates["variable"] == "AirT"], cells["permafrost"])
    inversions = pd.concat([regional, airt], ignore_index=True)
    sites = read_table(fixtures / "evaluation" / "sites_monthly.parquet")
    towers, dgvm = sites[sites["kind"] == "eddy_covariance"], models_with_ensemble(sites[sites["kind"] == "dgvm"])
    seasons = ("EGS", "LGS", "ANN")
    fits = {}
    for effect, season in (("legacy", "MJ"), ("direct", None)):
        fits[f"inversions, {effect}"] = quietly(sensitivity, inversions, driver_season=season, seasons=seasons, by=("source", "region"))
        fits[f"towers, {effect}"] = quietly(sensitivity, towers, driver_season=season, seasons=seasons, by=("region",))
        fits[f"models, {effect}"] = quietly(sensitivity, dgvm, "NBP", driver_season=season, seasons=seasons,
                                           by=("source", "region"))
    for label, res in fits.items():
        _write(section, res, out, "gamma_" + label.replace(", ", "_"), "pcstats.sensitivity (see pcstats/pipeline/robustness.py)")
    shown = {k.replace("models", "models' ensemble"): (v.subset(source="ensemble") if "source" in v.by
                                                       and "ensemble" in set(v.tidy()["source"]) else v)
             for k, v in fits.items()}
    figure = out / "figures" / "gamma.png"
    sensitivity_figure(shown, path=figure)
    section.figures += [figure, figure.with_suffix(".svg")]

    tests = {
        "regions": pairwise_differences(fits["inversions, legacy"].subset(source="ensemble"), "region", "AirT"),
        "seasons": pairwise_differences(fits["towers, legacy"], "season", "AirT"),
        "datasets": difference_test(fits["inversions, direct"].subset(source="ensemble"), fits["towers, direct"], term="AirT",
                                    on=["region", "season"]),
    }
    for name, res in tests.items():
        _write(section, res, out, f"gamma_tests_{name}", "second stage (Welch t)")

    seasonal_towers = quietly(seasonalize, towers, how="mean")
    three = {}
    for stem, spec_file in GAMMA_SPECS.items():
        spec_path = models / spec_file
        three[stem] = section.results[stem] = quietly(fit, load_spec(spec_path), seasonal_towers)
        _write(section, three[stem], out, stem, str(spec_path.relative_to(models.parent)))
        section.runs.append({"stem": stem, "spec_file": f"models/{spec_file}", "table": "towers of fixtures/evaluation, "
                             "seasonal means (gC m-2 d-1)", "engine": three[stem].engine})
    return _gamma_summary(fits, tests, three)


def models_with_ensemble(models: pd.DataFrame) -> pd.DataFrame:
    """The TRENDY-like models' monthly table plus their ensemble, source ``"ensemble"``.

    The ensemble is :func:`pcstats.data.ensemble` over ``source``: at each site, month and variable the
    mean of the models with a value (NBP and their AirT alike), as for the inversions. Its γ is the slope
    of the mean flux on the mean temperature; where the models share one temperature forcing it equals
    the mean of the models' γ.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"source": ["A", "B"], "kind": "dgvm", "region": "P", "site": "s1", "year": 2000,
    ...                   "month": 7, "variable": "NBP", "value": [1.0, 3.0], "unit": "gC m-2 d-1", "positive": "down"})
    >>> models_with_ensemble(t)[["source", "value"]].values.tolist()
    [['A', 1.0], ['B', 3.0], ['ensemble', 2.0]]
    """
    if "ensemble" in set(models["source"]):
        raise PcstatsError("models_with_ensemble(): the models' table already has a source 'ensemble'; drop or rename "
                           "it before adding the mean of the models.")
    return pd.concat([models, ensemble(models)], ignore_index=True)


def _glmm_summary(glmm) -> str:
    rows = glmm.tidy().query("component == 'fixed' and term == 'year_c:regionP'")
    span = rows.groupby("season").agg(low=("estimate", "min"), high=("estimate", "max"), p_max=("p_value", "max")).reset_index()
    return ("\n**GLMM with each inversion left out** (models/glmm_trend.toml; P − NoP trend, year_c:regionP): " + "; ".join(
        f"{r.season} {r.low:.2f} to {r.high:.2f} (largest p {r.p_max:.2g})" for r in span.itertuples()) + ".\n")


def _agreement_summary(agreement) -> str:
    tidy, keys = agreement.tidy(), list(agreement.by)
    shares = tidy.pivot_table(index=keys, columns="term", values="estimate")
    areas = tidy.pivot_table(index=keys, columns="term", values="area_share", dropna=False).add_prefix("area_")
    t = shares.join(areas).reset_index()
    basis = agreement.glance()["area_basis"].iloc[0]
    area_from = {"weight": "the cells' weight (km²)", "cos(lat)": "cos(latitude)"}.get(basis)
    return ("\n**Sign agreement** (>= 5 of the 6 inversions agree on the sign of a cell's trend; 100 fixture cells"
            + (f"; area from {area_from}" if area_from else "") + "): "
            + "; ".join(f"{r.region_class} {r.season}: {r.share_agree:.0%} of cells ({r.share_positive:.0%} positive, "
                        f"{r.share_negative:.0%} negative)"
                        + (f", {r.area_share_agree:.0%} of the area" if area_from else "") for r in t.itertuples()) + ".\n")


def _gamma_summary(fits, tests, three) -> str:
    def gamma(res, **keys):
        tidy = res.tidy()
        rows = tidy[tidy["term"] == "AirT"]
        for k, v in keys.items():
            rows = rows[rows[k] == v]
        return {r.season: f"{r.estimate:.3f} ± {r.std_error:.3f}" for r in rows.itertuples()}

    rows = []
    for label, res in fits.items():
        for region in ("P", "NoP"):
            keys = {"region": region} | ({"source": "ensemble"} if label.startswith(("inversions", "models")) else {})
            rows.append({"data, effect": label.replace("models", "models' ensemble"), "region": region,
                         **gamma(res, **keys)})
    compare_rows = [{"towers' direct γ": name.replace("gamma_towers_", ""), **gamma(res)} for name, res in three.items()]
    regions = tests["regions"].tidy()
    return (
        "\n## Temperature sensitivity γ (pcstats.sensitivity; gC m⁻² d⁻¹ K⁻¹)\n\n"
        "Seasonal NEE (mean daily rate, net uptake positive) regressed on May–Jun AirT (legacy) or on the same "
        "season's AirT (direct), per region: the inversion ensemble with CRU-like AirT, the 48 towers pooled, "
        "and the TRENDY-like models' ensemble (NBP and AirT averaged over the models at each site and month, "
        "source 'ensemble'; each model alone beside it in tables/gamma_models_*). Figure: figures/gamma.png.\n\n"
        + pd.DataFrame(rows).to_markdown(index=False) + "\n\n"
        "Welch tests: P vs NoP of the inversions' legacy γ: " + "; ".join(
            f"{r.season} {r.contrast} {r.estimate:.3f} (p = {r.p_value:.2g})" for r in regions.itertuples())
        + "; between seasons and datasets: tables/gamma_tests_seasons.csv, gamma_tests_datasets.csv.\n\n"
        "The towers' direct γ three ways (models/gamma_pooled.toml, models/gamma_mixed.toml, models/panel_gamma.toml; sites differ in "
        "level, so pooling mixes the between-site slope into γ):\n\n" + pd.DataFrame(compare_rows).to_markdown(index=False) + "\n"
    )
