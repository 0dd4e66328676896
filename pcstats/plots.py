"""Figures drawn from Results (and the table they were fitted to). Matplotlib, imported on use."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .data.units import trend_unit
from .errors import PcstatsError
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


SEASON_TITLES = {"ANN": "Annual", "EGS": "Early growing season (May-Aug)", "LGS": "Late growing season (Sep-Oct)",
                 "WIN": "Winter (Nov-Apr)"}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def trend_figure(table: pd.DataFrame, res: Results, *, source: str = "ensemble", regions: Sequence[str] = ("P", "NoP"),
                 seasons: Sequence[str] = ("ANN", "EGS", "LGS", "WIN"), path: str | Path | None = None):
    """Seasonal series of one source per region with the fitted trend lines (slope +/- SE, p).

    ``res`` must be a trend fit by (source, region, season) to ``table``; the ensemble SD
    (``ensemble_sd``) is shaded where the table has it.
    """
    plt = _pyplot()
    for key in ("source", "region", "season"):
        if key not in res.by:
            raise PcstatsError(f"trend_figure() needs a fit by source, region and season; {key!r} is not among {res.by}.")
    tidy = res.tidy()
    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5), sharex=True, constrained_layout=True)
    colors = dict(zip(regions, ("#1b6ca8", "#d1495b", "#66a182", "#edae49")))
    for ax, season in zip(axes.ravel(), seasons):
        for region in regions:
            rows = table[(table["source"] == source) & (table["region"] == region) & (table["season"] == season)
                         & (table["variable"] == "NEE")].sort_values("year")
            coef = tidy[(tidy["source"] == source) & (tidy["region"] == region) & (tidy["season"] == season)].set_index("term")
            if rows.empty or coef.empty:
                continue
            ax.plot(rows["year"], rows["value"], "o-", ms=3, lw=1, color=colors[region], alpha=0.8)
            if "ensemble_sd" in rows.columns and rows["ensemble_sd"].notna().any():
                ax.fill_between(rows["year"], rows["value"] - rows["ensemble_sd"], rows["value"] + rows["ensemble_sd"],
                                color=colors[region], alpha=0.15, lw=0)
            slope = coef.loc["year"]
            yrs = np.array([rows["year"].min(), rows["year"].max()])
            ax.plot(yrs, coef.loc["(Intercept)", "estimate"] + slope["estimate"] * yrs, "--", color=colors[region], lw=2,
                    label=f"{region}: {slope['estimate']:.2f} ± {slope['std_error']:.2f} (p = {slope['p_value']:.3g})")
        ax.set_title(SEASON_TITLES.get(season, season), fontsize=10)
        ax.set_ylabel(f"NEE ({unit_label(_response_unit(res))}, uptake +)", fontsize=8)
        ax.legend(fontsize=8, frameon=False)
        ax.grid(alpha=0.3)
    fig.suptitle(f"{source}: {res.model} (lines ± 1 SE in the legend; shading: SD across inversions)", fontsize=11)
    return _save(fig, path)


def gradient_figure(panels: Sequence[tuple[Results, Results, pd.Series, str]], *, season: str = "ANN",
                    path: str | Path | None = None):
    """Trend against a gradient, one panel per gradient (the paper's Fig. 1d-f).

    ``panels``: (trend fit by region bin and season, its :func:`pcstats.trend_gradient` fit,
    the gradient's value per bin, x-axis label) for each gradient.
    """
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.8), constrained_layout=True, squeeze=False)
    for ax, (trends, fit, gradient, xlabel) in zip(axes.ravel(), panels):
        tidy = trends.tidy()
        rows = tidy[(tidy["term"] == "year") & (tidy["season"] == season)].copy()
        rows["x"] = rows["region"].map(gradient)
        ax.errorbar(rows["x"], rows["estimate"], yerr=rows["std_error"], fmt="o", ms=4, color="#333333", capsize=2)
        line = fit.tidy()
        line = line[line["season"] == season].set_index("term")
        glance = fit.glance().set_index("season").loc[season]
        xs = np.linspace(rows["x"].min(), rows["x"].max(), 50)
        slope_term = [t for t in line.index if t != "(Intercept)"][0]
        ax.plot(xs, line.loc["(Intercept)", "estimate"] + line.loc[slope_term, "estimate"] * xs, color="#d1495b")
        ax.set_title(f"R² = {glance['r_squared']:.2f}, p = {line.loc[slope_term, 'p_value']:.2g}", fontsize=10)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(f"Trend ({unit_label(trend_unit(_response_unit(trends)))})")
        ax.axhline(0, color="grey", lw=0.8)
        ax.grid(alpha=0.3)
    fig.suptitle(f"{SEASON_TITLES.get(season, season)} NEE trend along gradients (bins, ± 1 SE)", fontsize=11)
    return _save(fig, path)


def bin_trends_figure(series: dict[str, tuple[Results, Results]], gradient: pd.Series, *,
                      seasons: Sequence[str] = ("EGS", "LGS", "WIN", "ANN"), source: str = "ensemble",
                      xlabel: str = "Tree cover (%)", path: str | Path | None = None):
    """Seasonal trends along gradient bins for one or more data sets (the paper's Fig. 3d and Fig. 4).

    ``series``: label -> (trend fit by bin ``region`` and ``season``, its :func:`pcstats.trend_gradient`
    fit); ``gradient``: the gradient's value per bin. One panel per season, one colour per data set,
    the trend ± 1 SE per bin and the fitted gradient line with its slope, R² and p in the legend.
    """
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(seasons), figsize=(3.6 * len(seasons), 3.6), constrained_layout=True, squeeze=False)
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
            ax.errorbar(x, rows["estimate"], yerr=rows["std_error"], fmt="o", ms=3.5, capsize=2, color=colours[i % 4],
                        alpha=0.85)
            line = fit.tidy()
            line = line[line["season"] == season].set_index("term")
            if line.empty:
                continue
            slope = [t for t in line.index if t != "(Intercept)"][0]
            r2 = fit.glance().set_index("season").loc[season, "r_squared"]
            xs = np.linspace(x.min(), x.max(), 50)
            ax.plot(xs, line.loc["(Intercept)", "estimate"] + line.loc[slope, "estimate"] * xs, color=colours[i % 4],
                    label=f"{label}: {line.loc[slope, 'estimate']:.3f} {trend} per {per}, R² = {r2:.2f}, "
                          f"p = {line.loc[slope, 'p_value']:.2g}")
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_title(SEASON_TITLES.get(season, season), fontsize=9)
        ax.set_xlabel(xlabel, fontsize=8)
        ax.set_ylabel(f"Trend ({trend})", fontsize=8)  # every panel: the seasons' scales differ
        ax.legend(fontsize=6, frameon=False, loc="best")
        ax.grid(alpha=0.3)
    fig.suptitle("Seasonal trends along " + xlabel.split(" (")[0].lower() + " bins (± 1 SE): " + ", ".join(series), fontsize=10)
    return _save(fig, path)


def mixed_trend_figure(res: Results, *, slope: str = "year_c", group: str = "source", contrast: str = "year_c:regionP",
                       levels: Sequence[str] = ("NoP", "P"), path: str | Path | None = None):
    """Trend per level of a grouping factor (fixed + conditional mode), with the population trend.

    One panel per ``by`` group (season). For each level of ``group`` (each inversion) the trend
    is the fixed ``slope`` plus that level's mode of ``slope``; for the second of ``levels`` the
    fixed ``contrast`` (the P − NoP difference) is added. Bars: ± 1 conditional SD of the mode;
    shaded: the fixed trend ± 1 SE. ``res`` must be a mixed fit with ``(… + slope | group)``.
    """
    plt = _pyplot()
    tidy = res.tidy()
    modes = tidy[(tidy["component"] == "ran_vals") & (tidy["group"] == group) & (tidy["term"] == slope)]
    if modes.empty:
        raise PcstatsError(f"mixed_trend_figure(): {res.model!r} has no random {slope!r} varying by {group!r}; "
                           f"fit a term such as (1 + {slope} | {group}).")
    keys = list(res.by)
    panels = tidy[keys].drop_duplicates().itertuples(index=False) if keys else [()]
    panels = list(panels)
    fig, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels), 3.8), sharey=True, constrained_layout=True, squeeze=False)
    colors = dict(zip(levels, ("#1b6ca8", "#d1495b")))
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
            ax.errorbar(base + m["estimate"], y + 0.15 * (j - 0.5), xerr=m["std_error"], fmt="o", ms=4,
                        color=colors[level], capsize=2, label=level)
        ax.set_yticks(y, m["level"])
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_title(", ".join(SEASON_TITLES.get(str(v), str(v)) for v in key) or res.model, fontsize=9)
        ax.set_xlabel(f"Trend ({unit_label(trend_unit(_response_unit(res)))})", fontsize=8)
        ax.grid(alpha=0.3)
    axes.ravel()[0].legend(fontsize=8, frameon=False)
    fig.suptitle(f"{res.model}: trend per {group} (fixed + mode ± 1 cond. SD; band: fixed ± 1 SE)", fontsize=10)
    return _save(fig, path)


def sem_path_figure(res: Results, *, alpha: float = 0.05, path: str | Path | None = None):
    """Path diagrams of a fitted SEM, one panel per ``by`` group, in the style of the paper's Fig. 5.

    Only regression paths with ``p < alpha`` are drawn; line width grows with ``|std_all|``;
    green for positive, yellow for negative paths; endogenous nodes show their R². Exogenous
    variables stand on the left, each endogenous variable one column right of its latest cause.
    Saved as PNG and SVG when ``path`` is given (the suffix of ``path`` is replaced).
    """
    plt = _pyplot()
    from matplotlib.patches import FancyArrowPatch

    tidy = res.tidy()
    keys = list(res.by) + (["group"] if "group" in tidy.columns and tidy["group"].notna().any() else [])  # multi-group
    groups = tidy[keys].drop_duplicates().itertuples(index=False) if keys else [()]
    groups = list(groups)
    fig, axes = plt.subplots(1, len(groups), figsize=(4.6 * len(groups), 3.8), constrained_layout=True, squeeze=False)
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
                y = (i + 0.5) / len(members)
                if len(members) == 1 and 0 < c < width:  # lone middle nodes alternate, so arrows past them stay visible
                    y = 0.78 if c % 2 else 0.22
                place[v] = (c, y)
        for lhs, rhs, std, p in zip(paths["lhs"], paths["rhs"], paths["std_all"], paths["p_value"]):
            if not p < alpha:
                continue
            (x0, y0), (x1, y1) = place[rhs], place[lhs]
            ax.add_patch(FancyArrowPatch((x0 / width, y0), (x1 / width, y1), arrowstyle="-|>", mutation_scale=10,
                                         lw=0.5 + 6 * min(abs(std), 1.0), color="#2a9d3f" if std > 0 else "#e9b400",
                                         shrinkA=18, shrinkB=18, alpha=0.85, connectionstyle="arc3,rad=0.08"))
            ax.text((x0 + x1) / (2 * width), (y0 + y1) / 2, f"{std:.2f}", fontsize=6, ha="center", va="center",
                    bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.7})
        for v, (x, y) in place.items():
            label = v + (f"\nR² = {r2[v]:.2f}" if v in r2.index else "")
            ax.text(x / width, y, label, ha="center", va="center", fontsize=8,
                    bbox={"boxstyle": "round,pad=0.3", "fc": "#f4f4f4", "ec": "#555555"})
        ax.set_xlim(-0.15, 1.15)
        ax.set_ylim(-0.05, 1.05)
        ax.axis("off")
        ax.set_title(", ".join(f"{v}" for v in key) or res.model, fontsize=9)
    fig.suptitle(f"{res.model}: paths with p < {alpha} (width: |standardised coefficient|; green +, yellow −)", fontsize=9)
    return _save(fig, path)


def forest_figure(res: Results, *, path: str | Path | None = None):
    """Group-level trends of a Bayesian fit (``tidy()`` rows of component ``trend``): posterior
    mean and HDI per level, one panel per ``by`` group, coloured by the level's last part (region)."""
    plt = _pyplot()
    tidy = res.tidy()
    rows = tidy[tidy["component"] == "trend"]
    if rows.empty:
        raise PcstatsError(f"forest_figure(): {res.model!r} has no group-level trends; give the formula a random "
                           "slope on year_c, e.g. (1 + year_c | source:region).")
    keys = list(res.by)
    panels = list(rows[keys].drop_duplicates().itertuples(index=False)) if keys else [()]
    fig, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels), 0.35 * rows["level"].nunique() + 1.6),
                             sharey=True, constrained_layout=True, squeeze=False)
    palette = ("#1b6ca8", "#d1495b", "#66a182", "#edae49")
    for ax, key in zip(axes.ravel(), panels):
        part = rows
        for k, v in zip(keys, key):
            part = part[part[k] == v]
        part = part.sort_values("level")
        suffix = part["level"].astype(str).str.split(":").str[-1]
        colours = {s: palette[i % len(palette)] for i, s in enumerate(sorted(suffix.unique()))}
        y = np.arange(len(part))
        for (_, r), s_, yi in zip(part.iterrows(), suffix, y):
            ax.errorbar(r["estimate"], yi, xerr=[[r["estimate"] - r["conf_low"]], [r["conf_high"] - r["estimate"]]],
                        fmt="o", ms=4, capsize=2, color=colours[s_])
        ax.set_yticks(y, part["level"])
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_title(", ".join(SEASON_TITLES.get(str(v), str(v)) for v in key) or res.model, fontsize=9)
        ax.set_xlabel(f"Trend ({unit_label(trend_unit(_response_unit(res)))})", fontsize=8)
        ax.grid(alpha=0.3)
    fig.suptitle(f"{res.model}: group-level trends, posterior mean and {res.spec.conf_level:.0%} HDI", fontsize=10)
    return _save(fig, path)


def ppc_figure(res: Results, *, path: str | Path | None = None):
    """Posterior predictive check of a Bayesian fit (ArviZ ``plot_ppc``), one panel per group."""
    import arviz as az

    plt = _pyplot()
    native = res.native or {}
    fig, axes = plt.subplots(1, len(native), figsize=(3.6 * len(native), 3.0), constrained_layout=True, squeeze=False)
    for ax, (key, idata) in zip(axes.ravel(), native.items()):
        az.plot_ppc(idata, ax=ax, num_pp_samples=100, legend=False)
        ax.set_title(", ".join(map(str, key)) or res.model, fontsize=9)
        ax.set_xlabel(f"{res.spec.fixed.split('~')[0].strip()} ({unit_label(_response_unit(res))})", fontsize=8)
    fig.suptitle(f"{res.model}: observed (black) vs posterior predictive", fontsize=10)
    return _save(fig, path)


def rank_figure(res: Results, *, key: tuple = (), path: str | Path | None = None):  # key: the by values
    """Rank plots of the fixed effects of one group's chains (ArviZ ``plot_rank``): flat when mixed."""
    import arviz as az

    native = res.native or {}
    if key not in native:
        raise PcstatsError(f"rank_figure(): no group {key!r}; groups: {', '.join(map(str, native))}.")
    idata = native[key]
    axes = az.plot_rank(idata, var_names=["beta"], kind="bars")
    fig = np.ravel(axes)[0].figure
    fig.suptitle(f"{res.model} {', '.join(map(str, key))}: rank plots of the fixed effects", fontsize=10)
    return _save(fig, path)


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
    plt = _pyplot()
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
    fig, axes = plt.subplots(1, len(keys), figsize=(3.6 * len(keys), 3.9), subplot_kw={"projection": projection},
                             constrained_layout=True, squeeze=False)
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
            grid.xlabel_style = grid.ylabel_style = {"fontsize": 6}
        else:
            mesh = ax.pcolormesh(np.deg2rad(lon_edges), 90.0 - lat_edges, values, **style)
            ax.scatter(np.deg2rad(lon[cols]), 90.0 - lat[rows], s=2, c="k", marker=".", linewidths=0)
            ax.set_theta_zero_location("S")
            ax.set_rlim(0, 90.0 - south)
            ax.set_rlabel_position(135)
            ax.set_yticks(ax.get_yticks(), [f"{90 - r:g}°N" for r in ax.get_yticks()], fontsize=6)
            ax.set_xticks(np.deg2rad(np.arange(0, 360, 45)),
                          ["0°", "45°E", "90°E", "135°E", "180°", "135°W", "90°W", "45°W"], fontsize=6)
        ax.set_title(SEASON_TITLES.get(str(key), str(key)) if key is not None else trends.attrs.get("variable", ""), fontsize=8)
    unit = field.attrs.get("units", "")
    bar = fig.colorbar(mesh, ax=axes.ravel().tolist(), orientation="horizontal", shrink=0.6, pad=0.04)
    bar.set_label(f"{trends.attrs.get('variable', '')} trend ({unit_label(unit)}); dots: p < {alpha}", fontsize=8)
    return _save(fig, path)


def taylor_figure(res: Results, *, panel: str | None = None, path: str | Path | None = None):
    """Taylor diagram of a skill fit: correlation as the angle, sigma_sim / sigma_obs as the radius.

    One point per simulated source (and per value of the other ``by`` keys); one panel per value
    of ``panel`` (e.g. ``"season"``). Grey arcs are the normalised centred RMSE around the
    observations' point (1, 1) (Taylor 2001): ``crmse / sigma_obs = sqrt(1 + s^2 - 2 s r)``.
    """
    plt = _pyplot()
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
    fig = plt.figure(figsize=(4.6 * ncols + 1.4, 4.4 * nrows), constrained_layout=True)
    radius = max(1.6, float(np.ceil(wide["sd_ratio"].max() * 5) / 5))
    negative = bool((wide["r"] < 0).any())
    sources = sorted(wide["source"].unique())
    colours = plt.get_cmap("tab10" if len(sources) <= 10 else "tab20")(np.linspace(0, 1, max(len(sources), 2)))
    others = [k for k in res.by if k not in ("source", panel)]
    for i, value in enumerate(panels):
        ax = fig.add_subplot(nrows, ncols, i + 1, projection="polar")
        ax.set_thetamin(0)
        ax.set_thetamax(180 if negative else 90)
        ticks = np.array([-0.99, -0.9, -0.6, -0.3, 0, 0.3, 0.6, 0.8, 0.9, 0.95, 0.99] if negative else
                         [0, 0.2, 0.4, 0.6, 0.8, 0.9, 0.95, 0.99])
        ax.set_thetagrids(np.degrees(np.arccos(ticks)), [f"{t:g}" for t in ticks], fontsize=7)
        ax.set_rlim(0, radius)
        theta, rr = np.meshgrid(np.linspace(0, np.pi if negative else np.pi / 2, 200), np.linspace(0, radius, 200))
        crmse = np.sqrt(1 + rr ** 2 - 2 * rr * np.cos(theta))
        contours = ax.contour(theta, rr, crmse, levels=np.arange(0.25, 2.01, 0.25), colors="grey", linewidths=0.6, alpha=0.7)
        ax.clabel(contours, fontsize=6, fmt="%.2g")
        ax.plot([0], [1], marker="*", ms=12, color="black", ls="none", label="observed")
        part = wide if value is None else wide[wide[panel] == value]
        for j, source in enumerate(sources):
            rows = part[part["source"] == source]
            style = dict(marker="s", mec="black", color="white", ms=8) if source == "ensemble" else \
                dict(marker="o", color=colours[j], ms=5 if others else 7)
            ax.plot(np.arccos(rows["r"].clip(-1, 1)), rows["sd_ratio"], ls="none", alpha=0.6 if others else 0.9,
                    label=source, **style)
        ax.set_title(SEASON_TITLES.get(str(value), str(value)) if value is not None else res.model, fontsize=9)
        ax.text(0.5, -0.1, "σ$_{sim}$ / σ$_{obs}$", transform=ax.transAxes, ha="center", fontsize=8)
        ax.text(np.radians(52), radius * 1.13, "correlation", rotation=-38, ha="center", va="center", fontsize=8)
    handles, labels = fig.axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right center", fontsize=7, frameon=False)
    fig.suptitle(f"{res.model}: Taylor diagram" + (f" (one point per {', '.join(others)})" if others else ""), fontsize=10)
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
    plt = _pyplot()
    keys = [k for k in rw.by if k != "window"]
    tidy = rw.tidy()
    tidy = tidy[(tidy["term"] == term) & tidy["estimate"].notna()]
    colour_by, panel = _layout(rw, tidy, keys, "window_trends_figure", colour_by, panel)
    panels = [None] if panel is None else _season_sorted(tidy[panel].unique())
    fig, axes = plt.subplots(1, len(panels), figsize=(3.3 * len(panels), 3.0), constrained_layout=True, squeeze=False)
    unit = unit_label(trend_unit(rw.units.get(parse_response(rw), "gC m-2 yr-1")))
    for ax, value in zip(axes.ravel(), panels):
        part = tidy if value is None else tidy[tidy[panel] == value]
        bins = np.histogram_bin_edges(part["estimate"], bins=40)
        groups = [(None, part)] if colour_by is None else part.groupby(colour_by, sort=True)
        for i, (group, rows) in enumerate(groups):
            ax.hist(rows["estimate"], bins=bins, alpha=0.55, color=_colour(group, i), label=str(group))
            ax.axvline(rows["estimate"].median(), color=_colour(group, i), ls="--", lw=1)
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_title(SEASON_TITLES.get(str(value), str(value)) if value is not None else "", fontsize=9)
        ax.set_xlabel(f"Trend ({unit})", fontsize=8)
    axes.ravel()[0].set_ylabel("windows", fontsize=8)
    if colour_by is not None:
        axes.ravel()[0].legend(fontsize=7, frameon=False)
    fig.suptitle(f"{rw.model}: trends over random windows (dashed: median)", fontsize=9)
    return _save(fig, path)


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
    plt = _pyplot()
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
    fig, axes = plt.subplots(1, len(panels), figsize=(3.3 * len(panels), 0.32 * len(levels) + 1.6), sharey=True,
                             constrained_layout=True, squeeze=False)
    groups = [None] if colour_by is None else sorted(tidy[colour_by].unique(), key=str)
    unit = unit_label(trend_unit(res.units.get(parse_response(res), "gC m-2 yr-1")))
    for ax, value in zip(axes.ravel(), panels):
        part = tidy if value is None else tidy[tidy[panel] == value]
        for i, group in enumerate(groups):
            rows = (part if group is None else part[part[colour_by] == group]).set_index(key).reindex(levels)
            y = np.arange(len(levels)) + (i - (len(groups) - 1) / 2) * 0.25
            ax.errorbar(rows["estimate"], y, xerr=[rows["estimate"] - rows["conf_low"], rows["conf_high"] - rows["estimate"]],
                        fmt="o", ms=4, capsize=2, color=_colour(group, i), label=str(group))
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_yticks(np.arange(len(levels)), [str(v) for v in levels], fontsize=7)
        ax.set_title(SEASON_TITLES.get(str(value), str(value)) if value is not None else "", fontsize=9)
        ax.set_xlabel(f"Trend ({unit})", fontsize=8)
        ax.grid(alpha=0.3)
    if colour_by is not None:
        axes.ravel()[0].legend(fontsize=7, frameon=False)
    fig.suptitle(f"{res.model}: trend and {getattr(res.spec, 'conf_level', 0.95):.0%} CI per {key}", fontsize=9)
    return _save(fig, path)


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
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(fits), figsize=(3.4 * len(fits), 3.0), sharey=True, constrained_layout=True, squeeze=False)
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
                        fmt="o", ms=5, capsize=3, color=_colour(group, i), label=str(group))
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_xticks(np.arange(len(seasons)), seasons)
        ax.set_title(label if len(levels) == 1 else f"{label} ({getattr(res.spec, 'conf_level', 0.95):.0%} CI)", fontsize=9)
        ax.grid(alpha=0.3)
    unit = res.units.get("gamma", f"{res.units.get(parse_response(res), 'gC m-2 d-1')} K-1")
    axes.ravel()[0].set_ylabel(f"γ ({unit_label(unit)})", fontsize=8)
    axes.ravel()[0].legend(fontsize=7, frameon=False)
    fig.suptitle("Temperature sensitivity γ, OLS slope ± " + (f"{levels.pop()} CI" if len(levels) == 1 else "CI"), fontsize=9)
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

    if path is not None:
        path = Path(path)
        try:
            with write_atomically(path.parent) as tmp:
                fig.savefig(tmp / path.with_suffix(".svg").name)
                fig.savefig(tmp / path.with_suffix(".png").name, dpi=150)
        finally:
            _pyplot().close(fig)
    return fig
