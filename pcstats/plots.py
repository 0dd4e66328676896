"""Figures drawn from Results (and the table they were fitted to). Matplotlib, imported on use."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .data.units import trend_unit
from .errors import PcstatsError
from .plots_style import finish, journal, journal_figure, legend_below, panel_letters
from .results import Results

__all__ = ["trend_figure", "gradient_figure", "mixed_trend_figure", "sem_path_figure", "forest_figure", "ppc_figure",
           "rank_figure", "sensitivity_figure", "source_trends_figure", "taylor_figure", "trend_map_figure", "unit_label",
           "window_trends_figure", "bin_trends_figure"]

def unit_label(unit: str) -> str:
    """Write a unit with superscripts: ``gC m-2 yr-1`` -> ``gC m$^{-2}$ yr$^{-1}$``.

    >>> unit_label("gC m-2 yr-1")
    'gC m$^{-2}$ yr$^{-1}$'
    """
    return re.sub(r"([A-Za-z])(-?\d+)\b", r"\1$^{\2}$", unit)


SEASON_TITLES = {"ANN": "Annual", "EGS": "Early season (May–Aug)", "LGS": "Late season (Sep–Oct)",
                 "WIN": "Winter (Nov–Apr)"}
#: Axis and node names of the flux variables a reader knows them by.
VARIABLE_LABELS = {"nee": "NEE", "gpp": "GPP", "ter": "TER", "airt": "Tair", "tc": "TC", "sm": "SM", "par": "PAR",
                   "p": "P (%)", "pregpp": "GPP$_{EGS}$", "ndvi": "NDVI", "lue": "LUE"}
#: Data kinds as a reader names them.
KIND_LABELS = {"inversion": "Inversions", "dgvm": "TRENDY-like models", "eddy_covariance": "Flux towers"}


def p_text(p: float) -> str:
    """A p-value for a figure: ``p = 0.023``, ``p < 0.001``.

    >>> p_text(0.0234), p_text(2e-9)
    ('p = 0.023', 'p < 0.001')
    """
    return "p < 0.001" if p < 0.001 else f"p = {p:.2g}"


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


@journal
def trend_figure(table: pd.DataFrame, res: Results, *, source: str = "ensemble", regions: Sequence[str] = ("P", "NoP"),
                 seasons: Sequence[str] = ("ANN", "EGS", "LGS", "WIN"), path: str | Path | None = None):
    """Seasonal series of one source per region with the fitted trend lines (slope +/- SE, p).

    ``res`` must be a trend fit by (source, region, season) to ``table``; the ensemble SD
    (``ensemble_sd``) is shaded where the table has it.
    """
    for key in ("source", "region", "season"):
        if key not in res.by:
            raise PcstatsError(f"trend_figure() needs a fit by source, region and season; {key!r} is not among {res.by}.")
    tidy = res.tidy()
    fig, axes = journal_figure(2, 2, width="double", height=135, sharex=True)
    colors = dict(zip(regions, ("#1b6ca8", "#d1495b", "#66a182", "#edae49")))
    for ax, season in zip(axes.ravel(), seasons):
        for region in regions:
            rows = table[(table["source"] == source) & (table["region"] == region) & (table["season"] == season)
                         & (table["variable"] == "NEE")].sort_values("year")
            coef = tidy[(tidy["source"] == source) & (tidy["region"] == region) & (tidy["season"] == season)].set_index("term")
            if rows.empty or coef.empty:
                continue
            ax.plot(rows["year"], rows["value"], "o-", ms=2, lw=0.7, color=colors[region], alpha=0.8)
            if "ensemble_sd" in rows.columns and rows["ensemble_sd"].notna().any():
                ax.fill_between(rows["year"], rows["value"] - rows["ensemble_sd"], rows["value"] + rows["ensemble_sd"],
                                color=colors[region], alpha=0.15, lw=0)
            slope = coef.loc["year"]
            yrs = np.array([rows["year"].min(), rows["year"].max()])
            ax.plot(yrs, coef.loc["(Intercept)", "estimate"] + slope["estimate"] * yrs, "--", color=colors[region], lw=1.4,
                    label=f"{region}: {slope['estimate']:.2f} ± {slope['std_error']:.2f} "
                          f"{unit_label(trend_unit(_response_unit(res)))}, {p_text(slope['p_value'])}")
        ax.set_title(SEASON_TITLES.get(season, season))
        ax.set_ylabel(f"NEE ({unit_label(_response_unit(res))})")
        legend_below(ax, ncols=2)
        ax.grid(alpha=0.3)
    for ax in axes[-1]:
        ax.set_xlabel("Year")
    panel_letters(axes)
    fig.suptitle(f"Net ecosystem exchange ({source}; uptake positive) and its OLS trend ± 1 SE; shading: SD across inversions")
    return _save(fig, path)


@journal
def gradient_figure(panels: Sequence[tuple[Results, Results, pd.Series, str]], *, season: str = "ANN",
                    path: str | Path | None = None):
    """Trend against a gradient, one panel per gradient (the paper's Fig. 1d-f).

    ``panels``: (trend fit by region bin and season, its :func:`pcstats.trend_gradient` fit,
    the gradient's value per bin, x-axis label) for each gradient.
    """
    fig, axes = journal_figure(1, len(panels), width="double" if len(panels) > 1 else "single", height=70)
    for ax, (trends, fit, gradient, xlabel) in zip(axes.ravel(), panels):
        tidy = trends.tidy()
        rows = tidy[(tidy["term"] == "year") & (tidy["season"] == season)].copy()
        rows["x"] = rows["region"].map(gradient)
        ax.errorbar(rows["x"], rows["estimate"], yerr=rows["std_error"], fmt="o", ms=3, color="#333333", lw=0.8)
        line = fit.tidy()
        line = line[line["season"] == season].set_index("term")
        glance = fit.glance().set_index("season").loc[season]
        xs = np.linspace(rows["x"].min(), rows["x"].max(), 50)
        slope_term = [t for t in line.index if t != "(Intercept)"][0]
        ax.plot(xs, line.loc["(Intercept)", "estimate"] + line.loc[slope_term, "estimate"] * xs, color="#d1495b")
        ax.set_title(f"R² = {glance['r_squared']:.2f}, p = {line.loc[slope_term, 'p_value']:.2g}")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(f"Trend ({unit_label(trend_unit(_response_unit(trends)))})")
        ax.axhline(0, color="grey", lw=0.8)
        ax.grid(alpha=0.3)
    panel_letters(axes)
    fig.suptitle(f"{SEASON_TITLES.get(season, season)}: NEE trend of each bin (± 1 SE) along the gradients, with the OLS line")
    return _save(fig, path)


@journal
def bin_trends_figure(series: dict[str, tuple[Results, Results]], gradient: pd.Series, *,
                      seasons: Sequence[str] = ("EGS", "LGS", "WIN", "ANN"), source: str = "ensemble",
                      xlabel: str = "Tree cover (%)", path: str | Path | None = None):
    """Seasonal trends along gradient bins for one or more data sets (the paper's Fig. 3d and Fig. 4).

    ``series``: label -> (trend fit by bin ``region`` and ``season``, its :func:`pcstats.trend_gradient`
    fit); ``gradient``: the gradient's value per bin. One panel per season, one colour per data set,
    the trend ± 1 SE per bin and the fitted gradient line with its slope, R² and p in the legend.
    """
    ncols = 2 if len(seasons) > 2 else len(seasons)
    nrows = int(np.ceil(len(seasons) / ncols))
    fig, axes = journal_figure(nrows, ncols, width="double", height=20 + 62 * nrows + 7 * nrows * len(series))
    for ax in axes.ravel()[len(seasons):]:
        ax.set_visible(False)
    colours = ("#333333", "#66a182", "#1b6ca8", "#d1495b")
    trend = unit_label(trend_unit(_response_unit(next(iter(series.values()))[0])))
    per = xlabel.rsplit("(", 1)[1].rstrip(")") if xlabel.endswith(")") else "unit"  # "Tree cover (%)" -> "%"
    for ax, season in zip(axes.ravel(), seasons):
        for i, (label, (trends, fit)) in enumerate(series.items()):
            tidy = trends.tidy()
            rows = tidy[(tidy["term"] == "year") & (tidy["season"] == season)]
            if "source" in rows.columns:
                rows = rows[rows["source"] == source]
            x = rows["region"].map(gradient)
            ax.errorbar(x, rows["estimate"], yerr=rows["std_error"], fmt="o", ms=2.5, lw=0.7, color=colours[i % 4],
                        alpha=0.85)
            line = fit.tidy()
            line = line[line["season"] == season].set_index("term")
            if line.empty:
                continue
            slope = [t for t in line.index if t != "(Intercept)"][0]
            r2 = fit.glance().set_index("season").loc[season, "r_squared"]
            xs = np.linspace(x.min(), x.max(), 50)
            ax.plot(xs, line.loc["(Intercept)", "estimate"] + line.loc[slope, "estimate"] * xs, color=colours[i % 4],
                    label=f"{label}: {line.loc[slope, 'estimate']:.3f} per {per}, R² = {r2:.2f}, "
                          f"p = {line.loc[slope, 'p_value']:.2g}")
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_title(SEASON_TITLES.get(season, season))
        ax.set_xlabel(xlabel)
        ax.set_ylabel(f"Trend ({trend})")  # every panel: the seasons' scales differ
        legend_below(ax)
        ax.grid(alpha=0.3)
    panel_letters(axes.ravel()[:len(seasons)])
    fig.suptitle("Seasonal NEE trends along " + xlabel.split(" (")[0].lower() + " bins (± 1 SE): " + ", ".join(series))
    return _save(fig, path)


@journal
def mixed_trend_figure(res: Results, *, slope: str = "year_c", group: str = "source", contrast: str = "year_c:regionP",
                       levels: Sequence[str] = ("NoP", "P"), path: str | Path | None = None):
    """Trend per level of a grouping factor (fixed + conditional mode), with the population trend.

    One panel per ``by`` group (season). For each level of ``group`` (each inversion) the trend
    is the fixed ``slope`` plus that level's mode of ``slope``; for the second of ``levels`` the
    fixed ``contrast`` (the P − NoP difference) is added. Bars: ± 1 conditional SD of the mode;
    shaded: the fixed trend ± 1 SE. ``res`` must be a mixed fit with ``(… + slope | group)``.
    """
    tidy = res.tidy()
    modes = tidy[(tidy["component"] == "ran_vals") & (tidy["group"] == group) & (tidy["term"] == slope)]
    if modes.empty:
        raise PcstatsError(f"mixed_trend_figure(): {res.model!r} has no random {slope!r} varying by {group!r}; "
                           f"fit a term such as (1 + {slope} | {group}).")
    keys = list(res.by)
    panels = tidy[keys].drop_duplicates().itertuples(index=False) if keys else [()]
    panels = list(panels)
    fig, axes = journal_figure(1, len(panels), width="double", height=20 + 5 * modes["level"].nunique(), sharey=True)
    colors = {level: REGION_COLOURS.get(str(level), ("#66a182", "#edae49")[i % 2]) for i, level in enumerate(levels)}
    for ax, key in zip(axes.ravel(), panels):
        mask = np.ones(len(tidy), dtype=bool)
        for k, v in zip(keys, key):
            mask &= (tidy[k] == v).to_numpy()
        part = tidy[mask]
        fixed = part[part["component"] == "fixed"].set_index("term")
        m = part[(part["component"] == "ran_vals") & (part["group"] == group) & (part["term"] == slope)].sort_values("level")
        y = np.arange(len(m))
        for j, level in enumerate(levels):
            term = slope if j == 0 else contrast
            base = fixed.loc[slope, "estimate"] + (fixed.loc[contrast, "estimate"] if j and contrast in fixed.index else 0.0)
            se = fixed.loc[term, "std_error"] if j == 0 or contrast not in fixed.index else np.hypot(fixed.loc[slope, "std_error"], fixed.loc[contrast, "std_error"])
            ax.axvspan(base - se, base + se, color=colors[level], alpha=0.12, lw=0)
            ax.axvline(base, color=colors[level], lw=1.2)
            ax.errorbar(base + m["estimate"], y + 0.15 * (j - 0.5), xerr=m["std_error"], fmt="o", ms=2.5, lw=0.7,
                        color=colors[level], label=level)
        ax.set_yticks(y, m["level"])
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_title(", ".join(SEASON_TITLES.get(str(v), str(v)) for v in key) or res.model)
        ax.set_xlabel(f"Trend ({unit_label(trend_unit(_response_unit(res)))})")
        ax.grid(alpha=0.3)
    handles, labels = axes.ravel()[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(labels))
    panel_letters(axes)
    fig.suptitle(f"Trend of each {group} (population trend + its random slope ± 1 conditional SD; band: population trend ± 1 SE)")
    return _save(fig, path)


@journal
def sem_path_figure(res: Results, *, alpha: float = 0.05, path: str | Path | None = None):
    """Path diagrams of a fitted SEM, one panel per ``by`` group, in the style of the paper's Fig. 5.

    Only regression paths with ``p < alpha`` are drawn; line width grows with ``|std_all|``;
    green for positive, yellow for negative paths; endogenous nodes show their R². Exogenous
    variables stand on the left, each endogenous variable one column right of its latest cause.
    Each coefficient sits on its arrow where it covers no node and no other coefficient.
    Saved as PNG and SVG when ``path`` is given (the suffix of ``path`` is replaced).
    """
    from matplotlib.patches import FancyArrowPatch

    tidy = res.tidy()
    keys = list(res.by) + (["group"] if "group" in tidy.columns and tidy["group"].notna().any() else [])  # multi-group
    groups = tidy[keys].drop_duplicates().itertuples(index=False) if keys else [()]
    groups = list(groups)
    fig, axes = journal_figure(1, len(groups), width="double" if len(groups) > 1 else "single", height=72)
    placed_axes = []
    for ax, key in zip(axes.ravel(), groups):
        mask = np.ones(len(tidy), dtype=bool)
        for k, v in zip(keys, key):
            mask &= (tidy[k] == v).to_numpy()
        part = tidy[mask]
        paths = part[part["component"] == "regression"]
        r2 = part[part["component"] == "r2"].set_index("lhs")["estimate"]
        column: dict[str, int] = {v: 0 for v in paths["rhs"] if v not in set(paths["lhs"])}
        for _ in range(len(paths) + 1):  # longest path from an exogenous variable
            for lhs, rhs in zip(paths["lhs"], paths["rhs"]):
                column[lhs] = max(column.get(lhs, 0), column.get(rhs, 0) + 1)
        place = {}
        width = max(column.values()) or 1
        for c in sorted(set(column.values())):
            members = [v for v in column if column[v] == c]
            for i, v in enumerate(members):
                y = 1 - (i + 0.5) / len(members)
                if len(members) == 1 and 0 < c < width:  # lone middle nodes alternate, so arrows past them stay visible
                    y = 0.8 if c % 2 else 0.2
                # the causes' column on the left, the effects spread over the right half: room for the many drivers' arrows
                place[v] = (0.0 if c == 0 else 0.45 + 0.55 * (c - 1) / max(width - 1, 1) if width > 1 else 1.0, y)
        nodes = {}
        for v, (x, y) in place.items():
            label = VARIABLE_LABELS.get(v, v) + (f"\nR² = {r2[v]:.2f}" if v in r2.index else "")
            nodes[v] = ax.text(x, y, label, ha="center", va="center", zorder=3,
                               bbox={"boxstyle": "round,pad=0.25", "fc": "#f4f4f4", "ec": "#555555", "lw": 0.6})
        ax.set_xlim(-0.12, 1.12)
        ax.set_ylim(-0.04, 1.04)
        ax.axis("off")
        ax.set_title(", ".join(KIND_LABELS.get(str(v), SEASON_TITLES.get(str(v), str(v))) for v in key) or res.model)
        drawn = [(lhs, rhs, std) for lhs, rhs, std, p in zip(paths["lhs"], paths["rhs"], paths["std_all"], paths["p_value"])
                 if p < alpha]
        for lhs, rhs, std in drawn:
            ax.add_patch(FancyArrowPatch(place[rhs], place[lhs], arrowstyle="-|>", mutation_scale=6, zorder=2,
                                         lw=0.4 + 2.4 * min(abs(std), 1.0), color="#2a9d3f" if std > 0 else "#e9b400",
                                         patchA=nodes[rhs].get_bbox_patch(), patchB=nodes[lhs].get_bbox_patch(),
                                         shrinkA=1, shrinkB=2, alpha=0.85))
        placed_axes.append((ax, place, nodes, drawn))
    fig.suptitle(f"{res.model}: paths with p < {alpha} (width: |standardised coefficient|; green +, yellow −)")
    panel_letters(axes)
    fig.canvas.draw()  # the layout, so the coefficients can be placed clear of the nodes
    renderer = fig.canvas.get_renderer()
    for ax, place, nodes, drawn in placed_axes:
        boxes = {v: t.get_bbox_patch().get_window_extent(renderer) for v, t in nodes.items()}
        taken = list(boxes.values())
        for lhs, rhs, std in drawn:
            start, end = ax.transData.transform(place[rhs]), ax.transData.transform(place[lhs])
            # the visible part of the arrow: from the edge of the cause's box to the edge of the effect's
            first, last = _leaves_box(start, end, boxes[rhs]), 1 - _leaves_box(end, start, boxes[lhs])
            label = ax.text(0, 0, f"{std:.2f}", ha="center", va="center", zorder=4,
                            bbox={"boxstyle": "square,pad=0.05", "fc": "white", "ec": "none", "alpha": 0.85})
            best = None
            for f in (0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8, 0.1, 0.9):
                t = first + f * (last - first)
                label.set_position(ax.transData.inverted().transform(start + t * (end - start)))
                box = label.get_window_extent(renderer).padded(1.5)
                covered = sum(_overlap_area(box, other) for other in taken)
                if best is None or covered < best[0]:
                    best = (covered, label.get_position())
                if covered == 0:
                    break
            label.set_position(best[1])
            taken.append(label.get_window_extent(renderer).padded(1.5))
    return _save(fig, path)


def _overlap_area(a, b) -> float:
    return max(0.0, min(a.x1, b.x1) - max(a.x0, b.x0)) * max(0.0, min(a.y1, b.y1) - max(a.y0, b.y0))


def _leaves_box(start, end, box) -> float:
    """The fraction of the segment start -> end inside ``box`` (centred on start)."""
    dx, dy = abs(end[0] - start[0]), abs(end[1] - start[1])
    return min(box.width / 2 / dx if dx else np.inf, box.height / 2 / dy if dy else np.inf, 0.5)


@journal
def forest_figure(res: Results, *, path: str | Path | None = None):
    """Group-level trends of a Bayesian fit (``tidy()`` rows of component ``trend``): posterior
    mean and HDI per level, one panel per ``by`` group, coloured by the level's last part (region)."""
    tidy = res.tidy()
    rows = tidy[tidy["component"] == "trend"]
    if rows.empty:
        raise PcstatsError(f"forest_figure(): {res.model!r} has no group-level trends; give the formula a random "
                           "slope on year_c, e.g. (1 + year_c | source:region).")
    keys = list(res.by)
    panels = list(rows[keys].drop_duplicates().itertuples(index=False)) if keys else [()]
    fig, axes = journal_figure(1, len(panels), width="double", height=24 + 3.6 * rows["level"].nunique(), sharey=True)
    palette = ("#1b6ca8", "#d1495b", "#66a182", "#edae49")
    for ax, key in zip(axes.ravel(), panels):
        part = rows
        for k, v in zip(keys, key):
            part = part[part[k] == v]
        part = part.sort_values("level")
        suffix = part["level"].astype(str).str.split(":").str[-1]
        colours = {s: REGION_COLOURS.get(s, palette[i % len(palette)]) for i, s in enumerate(sorted(suffix.unique()))}
        y = np.arange(len(part))
        for (_, r), s_, yi in zip(part.iterrows(), suffix, y):
            ax.errorbar(r["estimate"], yi, xerr=[[r["estimate"] - r["conf_low"]], [r["conf_high"] - r["estimate"]]],
                        fmt="o", ms=2.5, lw=0.8, color=colours[s_])
        ax.set_yticks(y, [str(v).replace(":", ", ") for v in part["level"]])
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_title(", ".join(SEASON_TITLES.get(str(v), str(v)) for v in key) or res.model)
        ax.set_xlabel(f"Trend ({unit_label(trend_unit(_response_unit(res)))})")
        ax.grid(alpha=0.3)
    panel_letters(axes)
    fig.suptitle(f"{res.model}: trend of each inversion and region, posterior mean and {res.spec.conf_level:.0%} HDI")
    return _save(fig, path)


@journal
def ppc_figure(res: Results, *, path: str | Path | None = None):
    """Posterior predictive check of a Bayesian fit (ArviZ ``plot_ppc``), one panel per group."""
    import arviz as az

    native = res.native or {}
    ncols = min(len(native), 4)
    nrows = int(np.ceil(len(native) / ncols))
    fig, axes = journal_figure(nrows, ncols, width="double", height=12 + 45 * nrows)
    for ax, (key, idata) in zip(axes.ravel(), native.items()):
        az.plot_ppc(idata, ax=ax, num_pp_samples=100, legend=False)
        ax.set_title(", ".join(SEASON_TITLES.get(str(k), str(k)) for k in key) or res.model)
        ax.set_xlabel(f"{res.spec.fixed.split('~')[0].strip()} ({unit_label(_response_unit(res))})")
        ax.set_ylabel("Density")
        _restyle(ax)
    for ax in axes.ravel()[len(native):]:
        ax.set_visible(False)
    panel_letters(axes.ravel()[:len(native)])
    fig.suptitle(f"{res.model}: observed NEE (black), 100 posterior predictive draws (blue) and their mean (orange)")
    return _save(fig, path)


@journal
def rank_figure(res: Results, *, key: tuple = (), path: str | Path | None = None):  # key: the by values
    """Rank plots of the fixed effects of one group's chains (ArviZ ``plot_rank``): flat when mixed."""
    import arviz as az

    native = res.native or {}
    if key not in native:
        raise PcstatsError(f"rank_figure(): no group {key!r}; groups: {', '.join(map(str, native))}.")
    idata = native[key]
    n = int(np.prod([s for d, s in idata.posterior["beta"].sizes.items() if d not in ("chain", "draw")]))
    ncols = min(n, 4)
    nrows = int(np.ceil(n / ncols))
    fig, axes = journal_figure(nrows, ncols, width="double", height=14 + 42 * nrows)
    az.plot_rank(idata, var_names=["beta"], kind="bars", ax=axes.ravel()[:n])
    for ax in axes.ravel()[:n]:
        term = ax.get_title().split("\n")[-1]  # ArviZ titles "beta\n(Intercept)": the term alone
        ax.set_title(term)
        ax.set_xlabel("Rank (all chains)")
        ax.set_ylabel("Chain")
        _restyle(ax)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    panel_letters(axes.ravel()[:n])
    fig.suptitle(f"{res.model}, {', '.join(SEASON_TITLES.get(str(k), str(k)) for k in key)}: rank plots of the fixed "
                 "effects per chain (flat bars: chains mixed)")
    return _save(fig, path)


def _restyle(ax) -> None:
    """Texts made by another library (ArviZ) at the journal style's sizes."""
    from .plots_style import RC

    ax.title.set_fontsize(RC["axes.titlesize"])
    for label in (ax.xaxis.label, ax.yaxis.label):
        label.set_fontsize(RC["axes.labelsize"])
    ax.tick_params(labelsize=RC["xtick.labelsize"])


@journal
def trend_map_figure(trends, *, variable: str = "estimate", p_value: str = "p_value", alpha: float = 0.05,
                     path: str | Path | None = None):
    """North-polar maps of pixel trends (:func:`pcstats.grid.pixel_trends`), stippled where ``p_value < alpha``.

    One panel per value of the dimensions other than lat and lon (e.g. per season). With cartopy
    installed each panel is a north polar stereographic map with graticules (zoomed to the grid
    when it spans less than 300 degrees of longitude); without it, a plain polar projection (radius = 90 - latitude, longitude as the angle, 0 degrees at the bottom).
    Neither draws coastlines: cartopy downloads its Natural Earth features on first use, and
    pcstats downloads nothing at run time. The colour scale is symmetric about zero. Saved as PNG
    and SVG when ``path`` is given.
    """
    try:
        import cartopy.crs as ccrs
    except ImportError:
        ccrs = None
    field, p = trends[variable], trends[p_value]
    panels = [d for d in field.dims if d not in ("lat", "lon")]
    if len(panels) > 1:
        raise PcstatsError(f"trend_map_figure(): select one value of {panels[1:]} first; it draws one panel per {panels[0]}.")
    keys = list(field[panels[0]].values) if panels else [None]
    lat, lon = field["lat"].values.astype(float), field["lon"].values.astype(float)
    dlat, dlon = np.median(np.diff(lat)), np.median(np.diff(lon))
    lat_edges, lon_edges = np.r_[lat - dlat / 2, lat[-1] + dlat / 2], np.r_[lon - dlon / 2, lon[-1] + dlon / 2]
    south = max(0.0, float(lat_edges.min()) - 2)
    limit = float(np.nanmax(np.abs(field.values))) or 1.0
    projection = ccrs.NorthPolarStereo() if ccrs else "polar"
    ncols = min(len(keys), 4)
    nrows = int(np.ceil(len(keys) / ncols))
    wide = len(keys) > 2
    fig, axes = journal_figure(nrows, ncols, width="double" if wide else "onehalf" if len(keys) == 2 else "single",
                               subplot_kw={"projection": projection}, height=(183 if wide else 120) / ncols * nrows + 24)
    for ax in axes.ravel()[len(keys):]:
        ax.set_visible(False)
    for ax, key in zip(axes.ravel(), keys):
        values = (field.sel({panels[0]: key}) if panels else field).transpose("lat", "lon").values
        sig = (p.sel({panels[0]: key}) if panels else p).transpose("lat", "lon").values < alpha
        rows, cols = np.nonzero(sig)
        style = {"cmap": "RdBu", "vmin": -limit, "vmax": limit, "shading": "flat"}
        if ccrs:  # longitude and latitude in degrees, projected by cartopy
            regional = lon_edges.max() - lon_edges.min() < 300  # a regional grid: zoom to it, not the whole cap
            extent = ([lon_edges.min() - 2, lon_edges.max() + 2, south, min(90.0, lat_edges.max() + 2)] if regional
                      else [-180, 180, south, 90])
            ax.set_extent(extent, ccrs.PlateCarree())
            mesh = ax.pcolormesh(lon_edges, lat_edges, values, transform=ccrs.PlateCarree(), **style)
            ax.scatter(lon[cols], lat[rows], s=2, c="k", marker=".", linewidths=0, transform=ccrs.PlateCarree())
            grid = ax.gridlines(draw_labels=True, linewidth=0.4, color="grey", alpha=0.6)
            grid.xlabel_style = grid.ylabel_style = {"fontsize": 7}
        else:
            mesh = ax.pcolormesh(np.deg2rad(lon_edges), 90.0 - lat_edges, values, **style)
            ax.scatter(np.deg2rad(lon[cols]), 90.0 - lat[rows], s=2, c="k", marker=".", linewidths=0)
            ax.set_theta_zero_location("S")
            ax.set_rlim(0, 90.0 - south)
            ax.set_rlabel_position(135)
            ticks = [r for r in ax.get_yticks() if r < 90.0 - south]
            ax.set_yticks(ticks, [f"{90 - r:g}°N" for r in ticks])
            ax.set_xticks(np.deg2rad(np.arange(0, 360, 90)), ["0°", "90°E", "180°", "90°W"])
            ax.tick_params(pad=1)
        ax.set_title(SEASON_TITLES.get(str(key), str(key)) if key is not None else trends.attrs.get("variable", ""))
    unit = field.attrs.get("units", "")
    shown = [ax for ax in axes.ravel() if ax.get_visible()]
    bar = fig.colorbar(mesh, ax=shown, orientation="horizontal", shrink=0.6, aspect=30)
    bar.set_label(f"{trends.attrs.get('variable', '')} trend ({unit_label(unit)}); dots: p < {alpha}")
    panel_letters(shown)
    return _save(fig, path)


@journal
def taylor_figure(res: Results, *, panel: str | None = None, path: str | Path | None = None):
    """Taylor diagram of a skill fit: correlation as the angle, sigma_sim / sigma_obs as the radius.

    One point per simulated source (and per value of the other ``by`` keys); one panel per value
    of ``panel`` (e.g. ``"season"``). Grey arcs are the normalised centred RMSE around the
    observations' point (1, 1) (Taylor 2001): ``crmse / sigma_obs = sqrt(1 + s^2 - 2 s r)``.
    """
    if type(res.spec).kind != "skill":
        raise PcstatsError(f"taylor_figure() draws skill Results (pcstats.skill); {res.model!r} is a {type(res.spec).kind} fit.")
    if panel is not None and panel not in res.by:
        raise PcstatsError(f"taylor_figure(panel={panel!r}): {panel!r} is not a by key of the fit {res.by}.")
    wide = res.tidy().pivot_table(index=list(res.by), columns="term", values="estimate").reset_index()
    wide = wide[np.isfinite(wide["r"]) & np.isfinite(wide["sd_ratio"])]
    if wide.empty:
        raise PcstatsError(f"taylor_figure(): {res.model!r} has no group with a finite correlation and SD ratio.")
    panels = sorted(wide[panel].unique()) if panel else [None]
    ncols = min(len(panels), 2)
    nrows = int(np.ceil(len(panels) / ncols))
    fig, grid = journal_figure(nrows, ncols, width="double" if ncols > 1 else "onehalf", height=12 + 75 * nrows)
    for ax in grid.ravel():
        ax.remove()
    radius = max(1.6, float(np.ceil(wide["sd_ratio"].max() * 5) / 5))
    negative = bool((wide["r"] < 0).any())
    sources = sorted(wide["source"].unique())
    colours = _pyplot().get_cmap("tab10" if len(sources) <= 10 else "tab20")(np.linspace(0, 1, max(len(sources), 2)))
    others = [k for k in res.by if k not in ("source", panel)]
    for i, value in enumerate(panels):
        ax = fig.add_subplot(nrows, ncols, i + 1, projection="polar")
        ax.set_thetamin(0)
        ax.set_thetamax(180 if negative else 90)
        ticks = np.array([-0.99, -0.9, -0.6, -0.3, 0, 0.3, 0.6, 0.8, 0.9, 0.95, 0.99] if negative else
                         [0, 0.2, 0.4, 0.6, 0.8, 0.9, 0.95, 0.99])
        ax.set_thetagrids(np.degrees(np.arccos(ticks)), [f"{t:g}" for t in ticks])
        ax.set_rlim(0, radius)
        theta, rr = np.meshgrid(np.linspace(0, np.pi if negative else np.pi / 2, 200), np.linspace(0, radius, 200))
        crmse = np.sqrt(1 + rr ** 2 - 2 * rr * np.cos(theta))
        contours = ax.contour(theta, rr, crmse, levels=np.arange(0.25, 2.01, 0.25), colors="grey", linewidths=0.6, alpha=0.7)
        ax.clabel(contours, fontsize=7, fmt="%.2g")
        ax.plot([0], [1], marker="*", ms=8, color="black", ls="none", label="observed", clip_on=False, zorder=5)
        part = wide if value is None else wide[wide[panel] == value]
        for j, source in enumerate(sources):
            rows = part[part["source"] == source]
            style = dict(marker="s", mec="black", color="white", ms=5) if source == "ensemble" else \
                dict(marker="o", color=colours[j], ms=3 if others else 4)
            ax.plot(np.arccos(rows["r"].clip(-1, 1)), rows["sd_ratio"], ls="none", alpha=0.6 if others else 0.9,
                    label=source, **style)
        ax.set_title(SEASON_TITLES.get(str(value), str(value)) if value is not None else res.model)
        ax.text(0.5, -0.09, "σ$_{sim}$ / σ$_{obs}$" if negative else "σ$_{sim}$ / σ$_{obs}$ (normalised SD)",
                transform=ax.transAxes, ha="center", va="top")
        ax.text(np.radians(45), radius * 1.16, "correlation", rotation=-45, ha="center", va="center")
    handles, labels = fig.axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right center")
    panel_letters(fig.axes)
    fig.suptitle(f"{res.model}: Taylor diagram" + (f" (one point per {', '.join(others)})" if others else ""))
    return _save(fig, path)


REGION_COLOURS = {"P": "#1b6ca8", "NoP": "#d1495b"}


def _colour(value, i: int) -> str:
    return REGION_COLOURS.get(str(value), ("#66a182", "#edae49", "#8d6a9f", "#2e4057")[i % 4])


def _season_sorted(values) -> list:
    return sorted(values, key=lambda v: (list(SEASON_TITLES).index(v) if v in SEASON_TITLES else 99, str(v)))


def _layout(res: Results, tidy: pd.DataFrame, keys: list[str], figure: str, colour_by: str | None,
            panel: str | None) -> tuple[str | None, str | None]:
    """Colour and panel keys (default ``region`` and ``season`` when among ``keys``); every other key one value."""
    for name, k in (("colour_by", colour_by), ("panel", panel)):
        if k is not None and k not in keys:
            raise PcstatsError(f"{figure}({name}={k!r}): not a by key of {res.model!r}; choose among {keys}.")
    if colour_by is None:
        colour_by = "region" if "region" in keys else next((k for k in keys if k != panel), None)
    if panel is None and "season" in keys and colour_by != "season":
        panel = "season"
    several = [k for k in keys if k not in (colour_by, panel) and tidy[k].nunique() > 1]
    if several:
        k = several[0]
        raise PcstatsError(f"{figure}(): {res.model!r} has several {k!r} values ({', '.join(map(str, sorted(tidy[k].unique(), key=str)[:4]))}"
                           f"{', ...' if tidy[k].nunique() > 4 else ''}) for each colour ({colour_by}) and panel ({panel}); "
                           f"choose colour_by/panel among {keys}, or plot one {k} (res.subset({k}=...)).")
    return colour_by, panel


@journal
def window_trends_figure(rw: Results, *, colour_by: str | None = None, panel: str | None = None, term: str = "year",
                         path: str | Path | None = None):
    """Distribution of the trends over random windows (:func:`pcstats.robustness.random_windows`).

    One panel per ``panel`` value (default ``season`` when it is a by key, else one panel), one
    histogram per ``colour_by`` value (default ``region``, else the first other key), the median
    dashed. Every other by key must have one value (``rw.subset(source=...)``).

    Examples
    --------
    >>> import pcstats as pc
    >>> t = pc.read_table("tests/reference/trend_input.csv")
    >>> spec = pc.TrendSpec("NEE ~ year", by="region", where="source == 'ensemble' and season == 'ANN'")
    >>> fig = window_trends_figure(pc.robustness.random_windows(spec, t, n=50))
    >>> len(fig.axes), fig.axes[0].get_xlabel()
    (1, 'Trend (gC m$^{-2}$ yr$^{-2}$)')
    """
    keys = [k for k in rw.by if k != "window"]
    tidy = rw.tidy()
    tidy = tidy[(tidy["term"] == term) & tidy["estimate"].notna()]
    colour_by, panel = _layout(rw, tidy, keys, "window_trends_figure", colour_by, panel)
    panels = [None] if panel is None else _season_sorted(tidy[panel].unique())
    fig, axes = journal_figure(1, len(panels), width="double" if len(panels) > 1 else "single", height=58)
    unit = unit_label(trend_unit(rw.units.get(parse_response(rw), "gC m-2 yr-1")))
    for ax, value in zip(axes.ravel(), panels):
        part = tidy if value is None else tidy[tidy[panel] == value]
        bins = np.histogram_bin_edges(part["estimate"], bins=40)
        groups = [(None, part)] if colour_by is None else part.groupby(colour_by, sort=True)
        for i, (group, rows) in enumerate(groups):
            ax.hist(rows["estimate"], bins=bins, alpha=0.55, color=_colour(group, i), label=str(group))
            ax.axvline(rows["estimate"].median(), color=_colour(group, i), ls="--", lw=1)
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_title(SEASON_TITLES.get(str(value), str(value)) if value is not None else "")
        ax.set_xlabel(f"Trend ({unit})")
    axes.ravel()[0].set_ylabel("windows")
    if colour_by is not None:
        legend_below(axes.ravel()[0], ncols=3)
    panel_letters(axes)
    fig.suptitle(f"{rw.model}: trends over random windows (dashed: median)")
    return _save(fig, path)


@journal
def source_trends_figure(res: Results, *, key: str | None = None, colour_by: str | None = None, panel: str | None = None,
                         term: str = "year", path: str | Path | None = None):
    """Trend ± CI per source (or per left-out source, per subset): rows ``key`` (default the first by key).

    Colours and panels as :func:`window_trends_figure` (default ``region`` and ``season`` when they
    are by keys); every other by key must have one value, so a run whose base spec already fits
    each source separately is refused (plot ``res.subset(source=...)``).

    Examples
    --------
    >>> import pcstats as pc
    >>> t = pc.read_table("tests/reference/trend_input.csv")
    >>> spec = pc.TrendSpec("NEE ~ year", by="region", where="source == 'ensemble' and season == 'ANN'")
    >>> fig = source_trends_figure(pc.robustness.by_source(spec, t))
    >>> [tick.get_text() for tick in fig.axes[0].get_yticklabels()][:2]
    ['CAMS', 'CT2019B']
    """
    key = key or res.by[0]
    if key not in res.by:
        raise PcstatsError(f"source_trends_figure(key={key!r}): not a by key of {res.model!r} {res.by}.")
    tidy = res.tidy()
    tidy = tidy[tidy["term"] == term]
    over = getattr(res.spec, "over", None)
    if over is not None and over != key and over in getattr(res.spec.base, "by", ()) and tidy[over].nunique() > 1:
        raise PcstatsError(f"source_trends_figure(): the spec of {res.model!r} already fits each {over} separately "
                           f"(by={tuple(res.spec.base.by)!r}); plot one {over}: source_trends_figure(res.subset({over}=...)).")
    colour_by, panel = _layout(res, tidy, [k for k in res.by if k != key], "source_trends_figure", colour_by, panel)
    panels = [None] if panel is None else _season_sorted(tidy[panel].unique())
    levels = sorted(tidy[key].unique(), key=str)
    fig, axes = journal_figure(1, len(panels), width="double" if len(panels) > 1 else "single",
                               height=30 + 3.5 * len(levels), sharey=True)
    groups = [None] if colour_by is None else sorted(tidy[colour_by].unique(), key=str)
    unit = unit_label(trend_unit(res.units.get(parse_response(res), "gC m-2 yr-1")))
    for ax, value in zip(axes.ravel(), panels):
        part = tidy if value is None else tidy[tidy[panel] == value]
        for i, group in enumerate(groups):
            rows = (part if group is None else part[part[colour_by] == group]).set_index(key).reindex(levels)
            y = np.arange(len(levels)) + (i - (len(groups) - 1) / 2) * 0.25
            ax.errorbar(rows["estimate"], y, xerr=[rows["estimate"] - rows["conf_low"], rows["conf_high"] - rows["estimate"]],
                        fmt="o", ms=2.5, lw=0.8, color=_colour(group, i), label=str(group))
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_yticks(np.arange(len(levels)), [str(v) for v in levels])
        ax.set_title(SEASON_TITLES.get(str(value), str(value)) if value is not None else "")
        ax.set_xlabel(f"Trend ({unit})")
        ax.grid(alpha=0.3)
    if colour_by is not None:
        legend_below(axes.ravel()[0], ncols=3)
    panel_letters(axes)
    fig.suptitle(f"{res.model}: trend and {getattr(res.spec, 'conf_level', 0.95):.0%} CI per {key}")
    return _save(fig, path)


@journal
def sensitivity_figure(fits: dict[str, Results], *, term: str = "AirT", colour_by: str = "region",
                       path: str | Path | None = None):
    """γ ± CI by season, one panel per fit (e.g. per data kind and effect), colours ``colour_by``.

    The CI level is each fit's ``spec.conf_level``, the unit its ``units["gamma"]`` (set by
    :func:`pcstats.sensitivity`). Every by key but ``season`` and ``colour_by`` must have one value
    (plot ``res.subset(source="ensemble")``).

    Examples
    --------
    >>> import pcstats as pc
    >>> sites = pc.read_table("fixtures/evaluation/sites_monthly.parquet")
    >>> g = pc.sensitivity(sites, seasons=("LGS",), by="region", where="source == 'FLUXNET'")
    >>> fig = sensitivity_figure({"towers, direct": g})
    >>> fig.axes[0].get_ylabel(), fig.texts[0].get_text()
    ('γ (gC m$^{-2}$ d$^{-1}$ K$^{-1}$)', 'Temperature sensitivity γ, OLS slope ± 95 % CI')
    """
    fig, axes = journal_figure(1, len(fits), width="double" if len(fits) > 2 else "single", height=60, sharey=True)
    levels = {f"{getattr(res.spec, 'conf_level', 0.95):.0%}".replace("%", " %") for res in fits.values()}
    for ax, (label, res) in zip(axes.ravel(), fits.items()):
        tidy = res.tidy()
        tidy = tidy[tidy["term"] == term]
        keys = [k for k in res.by if k != "season"]
        colour, _ = _layout(res, tidy, keys, "sensitivity_figure", colour_by if colour_by in keys else None, None)
        seasons = _season_sorted(tidy["season"].unique())
        groups = sorted(tidy[colour].unique(), key=str) if colour is not None else [None]
        for i, group in enumerate(groups):
            rows = (tidy if group is None else tidy[tidy[colour] == group]).set_index("season").reindex(seasons)
            x = np.arange(len(seasons)) + (i - (len(groups) - 1) / 2) * 0.2
            ax.errorbar(x, rows["estimate"], yerr=[rows["estimate"] - rows["conf_low"], rows["conf_high"] - rows["estimate"]],
                        fmt="o", ms=3, lw=0.8, color=_colour(group, i), label=str(group))
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_xticks(np.arange(len(seasons)), seasons)
        ax.set_xlabel("Season")
        ax.set_title(label if len(levels) == 1 else f"{label} ({getattr(res.spec, 'conf_level', 0.95):.0%} CI)")
        ax.grid(alpha=0.3)
    unit = res.units.get("gamma", f"{res.units.get(parse_response(res), 'gC m-2 d-1')} K-1")
    axes.ravel()[0].set_ylabel(f"γ ({unit_label(unit)})")
    legend_below(axes.ravel()[0], ncols=3)
    panel_letters(axes)
    fig.suptitle("Temperature sensitivity γ, OLS slope ± " + (f"{levels.pop()} CI" if len(levels) == 1 else "CI"))
    return _save(fig, path)


def parse_response(res: Results) -> str:
    """The response variable of a fit's formula (a robustness run's base spec)."""
    from .specs.formula import parse_formula

    spec = getattr(res.spec, "trend", None) or getattr(res.spec, "base", None) or res.spec
    return parse_formula(getattr(spec, "fixed", None) or spec.formula).response


def _response_unit(res: Results) -> str:
    from .specs.formula import parse_formula

    formula = getattr(res.spec, "fixed", res.spec.formula)  # a mixed spec's fixed part
    return res.units.get(parse_formula(formula).response, "gC m-2 yr-1")


def _save(fig, path):
    """Save as ``path`` with .png (150 dpi) and .svg when a path is given, close it, and return the figure.

    Both files appear together or not at all (:func:`pcstats.export.write_atomically`).
    """
    from .export import write_atomically

    finish(fig)
    if path is not None:
        path = Path(path)
        try:
            with write_atomically(path.parent) as tmp:
                fig.savefig(tmp / path.with_suffix(".svg").name)
                fig.savefig(tmp / path.with_suffix(".png").name, dpi=200)
        finally:
            _pyplot().close(fig)
    return fig
