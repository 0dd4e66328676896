"""Productivity and net uptake per cell: the paper's hypothesis H1 (Fig. 2a-d, ``figure2.r``).

The paper asks whether greening explains the net CO2 sink: per pixel it takes the trend of NDVI
(GIMMS NDVI3g) and of light-use-efficiency GPP, their medians in 5 % tree-cover bins (Fig. 2a-b),
the correlation across years of productivity and net uptake in each pixel (Fig. 2c), and whether
the bins (and pixels) whose productivity rose most are those whose net uptake rose most (Fig. 2d).

* :func:`cell_trends` -- one trend per cell and season (Sen's slope with the Mann-Kendall test, as
  ``raster.kendall`` in ``figure2.r``; or OLS);
* :func:`trend_frame` -- the cells' trends of several variables side by side with TC, P, weight;
* :func:`bin_medians` -- medians of columns in left-closed bins of a gradient (``figure2.r``'s
  ``tc >= lo & tc < hi``, bin centre ``lo + width / 2``);
* :func:`pearson` / :func:`cell_correlations` -- Pearson's r per group with R's ``cor.test``
  t test and Fisher-z interval, groups with fewer than ``min_pairs`` paired values not fitted;
* :func:`correlation_shares` -- counts and (area-weighted) shares of positive, negative and
  significant correlations;
* :func:`association` -- OLS of one trend on another (Fig. 2d's ``stat_poly_eq``: R^2 and p);
* :func:`balance_paths` -- the paths into NEE when NEE = GPP - TER holds exactly (TER as a residual);
* :func:`sem_table` -- GPP, TER = GPP - NEE, NEE and the SEM drivers per cell and season in the
  layout the SEM spec files read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np
import pandas as pd
from scipy import special, stats

from ._version import __version__
from .errors import ContractError, PcstatsError
from .results import Provenance, Results, build_results, package_versions

__all__ = [
    "CorrelationSpec",
    "association",
    "balance_paths",
    "bin_medians",
    "cell_correlations",
    "cell_trends",
    "correlation_shares",
    "pearson",
    "sem_table",
    "trend_frame",
]


def _require(frame: pd.DataFrame, columns: Sequence[str], where: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ContractError(f"{where}: column {missing[0]!r} is missing; the table has {list(frame.columns)}.")


def _digest(frame: pd.DataFrame) -> str:
    values = pd.util.hash_pandas_object(frame.reset_index(drop=True), index=False).to_numpy()
    return hashlib.blake2b(values.tobytes() + repr(list(frame.columns)).encode(), digest_size=16).hexdigest()


# ---------------------------------------------------------------------------------------------- trends


def cell_trends(table: pd.DataFrame, variable: str, *, method: Literal["sen", "ols"] = "sen", min_years: int = 24,
                by: Sequence[str] = ("source", "region", "season"), conf_level: float = 0.95) -> Results:
    """The trend of ``variable`` per cell (``region``) and season: ``variable ~ year`` per group.

    Parameters
    ----------
    table
        Seasonal long table (or a data frame with ``year``, the ``by`` columns and a column
        ``variable``).
    variable
        The variable whose trend is fitted (``"NDVI"``, ``"GPP"``, ``"NEE"``).
    method
        ``"sen"`` (the paper: Sen's slope, Mann-Kendall p) or ``"ols"``.
    min_years
        Cells with fewer years of data are not fitted (``figure2.r`` drops pixels with more than
        10 of its 34 years missing: 24).

    Returns
    -------
    Results
        ``tidy()`` rows ``term == "year"`` hold the trends (unit of ``variable`` per year).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"source": "GIMMS", "kind": "satellite", "region": "c1", "year": range(2000, 2005),
    ...                   "season": "EGS", "variable": "NDVI", "value": [0.5, 0.52, 0.51, 0.56, 0.58], "unit": "1"})
    >>> res = cell_trends(t, "NDVI", min_years=5)
    >>> round(float(res.tidy().query("term == 'year'")["estimate"].iloc[0]), 6)
    0.02
    """
    from .engines import fit
    from .specs.trend import TrendSpec

    by = tuple(by)
    _require(table, ("year", *by), "cell_trends()")
    if "variable" in table.columns:
        _require(table, ("value",), "cell_trends()")
        if not (table["variable"] == variable).any():
            raise ContractError(f"cell_trends(): column 'variable' has no {variable!r} rows; it has "
                                f"{sorted(table['variable'].unique())}.")
        table = table[table["variable"] == variable]
    elif variable not in table.columns:
        raise ContractError(f"cell_trends(): no column {variable!r} and no 'variable' column to find it in.")
    spec = TrendSpec(f"{variable} ~ year", by=by, method=method, min_years=min_years, conf_level=conf_level,
                     name=f"{variable} trend per cell [{method}]")
    return fit(spec, table)


def trend_frame(trends: Mapping[str, Results], attributes: pd.DataFrame | None = None, *, term: str = "year",
                keys: Sequence[str] = ("region", "season")) -> pd.DataFrame:
    """The cells' trends side by side: one row per ``keys``, one column per name in ``trends``.

    ``attributes`` (indexed by region, e.g. TC, P, weight) are joined on ``region``.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"region": "c1", "season": "EGS", "year": range(2000, 2010), "NDVI": range(10)})
    >>> trend_frame({"NDVI": cell_trends(t, "NDVI", min_years=5, by=("region", "season"))})["NDVI"].tolist()
    [1.0]
    """
    keys = list(keys)
    out = None
    for name, res in trends.items():
        tidy = res.tidy()
        _require(tidy, keys, f"trend_frame(): the tidy() of {name!r}")
        rows = tidy.loc[tidy["term"] == term, keys + ["estimate"]].rename(columns={"estimate": name})
        if rows.duplicated(keys).any():
            raise PcstatsError(f"trend_frame(): {name!r} has several {term!r} rows per {keys}; subset it first "
                               "(e.g. res.subset(source='ensemble')).")
        out = rows if out is None else out.merge(rows, on=keys, how="outer")
    if out is None:
        raise PcstatsError("trend_frame(): pass at least one Results in `trends`.")
    if attributes is not None:
        out = out.merge(attributes, left_on="region", right_index=True, how="left")
    return out.sort_values(keys).reset_index(drop=True)


def bin_medians(frame: pd.DataFrame, columns: Sequence[str], *, gradient: str = "TC", width: float = 5.0,
                lower: float = 0.0, upper: float = 100.0, by: Sequence[str] = ()) -> pd.DataFrame:
    """Median of each column in left-closed bins of ``gradient`` (``figure2.r``'s 5 % tree-cover bins).

    A row is in bin ``[lo, lo + width)``; as in the paper, a value equal to ``upper`` is in no bin.
    Every bin is listed (``n_cells`` 0 and NaN medians when empty). Medians skip NaN.

    Returns
    -------
    DataFrame
        ``by`` columns, ``bin`` (``"TC[0,5)"``), ``center`` (``lo + width / 2``), ``n_cells``
        (rows in the bin, as the paper's ``obs``) and the median of each column.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"TC": [1.0, 4.0, 6.0, 12.0], "x": [1.0, 3.0, 5.0, 7.0]})
    >>> bin_medians(f, ["x"], upper=15)[["center", "n_cells", "x"]].to_dict("list")
    {'center': [2.5, 7.5, 12.5], 'n_cells': [2, 1, 1], 'x': [2.0, 5.0, 7.0]}
    """
    columns, by = list(columns), list(by)
    _require(frame, [gradient, *columns, *by], "bin_medians()")
    if not width > 0 or not upper > lower:
        raise PcstatsError(f"bin_medians(): need width > 0 and upper > lower, got width={width}, [{lower}, {upper}].")
    edges = np.arange(lower, upper, width)
    x = frame[gradient].to_numpy(dtype=float)
    index = np.floor((x - lower) / width)
    inside = np.isfinite(x) & (x >= lower) & (x < upper)
    work = frame[by + columns].copy()
    work["_bin"] = np.where(inside, index, np.nan)
    groups = [g for _, g in work.groupby(by, sort=True)] if by else [work]
    parts = []
    for g in groups:
        grid = pd.DataFrame({"_bin": np.arange(len(edges), dtype=float)})
        for k in by:
            grid[k] = g[k].iloc[0]
        med = g.groupby("_bin")[columns].median()
        count = g.groupby("_bin").size().rename("n_cells")
        part = grid.merge(count, left_on="_bin", right_index=True, how="left").merge(med, left_on="_bin",
                                                                                     right_index=True, how="left")
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    lo = lower + out["_bin"].to_numpy() * width
    out["bin"] = [f"{gradient}[{_fmt(a)},{_fmt(a + width)})" for a in lo]
    out["center"] = lo + width / 2
    out["n_cells"] = out["n_cells"].fillna(0).astype("int64")
    return out[by + ["bin", "center", "n_cells"] + columns]


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


# ------------------------------------------------------------------------------------------ correlation


@dataclass(frozen=True)
class CorrelationSpec:
    """Pearson's correlation of ``x`` and ``y`` per group (R's ``cor.test``)."""

    x: str
    y: str
    by: tuple[str, ...] = ()
    min_pairs: int = 10
    conf_level: float = 0.95
    name: str | None = None

    kind: ClassVar[str] = "correlation"

    @property
    def label(self) -> str:
        return self.name or f"cor({self.x}, {self.y})"


def pearson(frame: pd.DataFrame, x: str, y: str, *, by: Sequence[str] = (), min_pairs: int = 10,
            conf_level: float = 0.95, name: str | None = None) -> Results:
    """Pearson's r of columns ``x`` and ``y`` per ``by`` group, with R's ``cor.test`` statistics.

    Rows where either value is missing are left out (``cor.test``'s complete pairs); groups with
    fewer than ``min_pairs`` pairs are listed in ``glance()`` and not fitted (``figure2.r`` asks for
    10 years).

    Returns
    -------
    Results
        ``tidy()``: term ``"r"``, estimate (r), statistic (t on n - 2 df), p_value (two-sided),
        conf_low/conf_high (Fisher z; NaN below 4 pairs), df. ``glance()``: nobs (pairs),
        n_dropped (incomplete pairs) and why a group was not fitted.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0, 5.0], "b": [2.0, 1.0, 4.0, 3.0, 5.0]})
    >>> float(pearson(f, "a", "b", min_pairs=3).tidy()["estimate"].iloc[0])
    0.8
    """
    by = tuple(by)
    _require(frame, (x, y, *by), "pearson()")
    if min_pairs < 3:
        raise PcstatsError(f"pearson(min_pairs={min_pairs}): a correlation test needs at least 3 pairs.")
    if not 0 < conf_level < 1:
        raise PcstatsError(f"pearson(conf_level={conf_level}): must lie strictly between 0 and 1.")
    work = frame[[*by, x, y]].copy()
    for col in (x, y):
        work[col] = pd.to_numeric(work[col], errors="coerce").astype(float)
    work["_ok"] = work[x].notna() & work[y].notna() & np.isfinite(work[x]) & np.isfinite(work[y])
    keys = list(by) if by else None
    groups = work.groupby(keys, sort=True, dropna=False) if keys else [((), work)]
    tidy_rows, glance_rows = [], []
    z_half = float(special.ndtri(0.5 + conf_level / 2))
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        labels = dict(zip(by, key))
        ok = g["_ok"].to_numpy()
        n, dropped = int(ok.sum()), int((~ok).sum())
        why = f"{dropped} row(s) lack {x} or {y}" if dropped else ""
        a, b = g.loc[ok, x].to_numpy(), g.loc[ok, y].to_numpy()
        if n < min_pairs:
            glance_rows.append({**labels, "nobs": n, "n_dropped": dropped,
                                "dropped_why": f"fewer than {min_pairs} complete pairs ({n})"})
            continue
        da, db = a - a.mean(), b - b.mean()
        denom = np.sqrt((da @ da) * (db @ db))
        if denom == 0:
            glance_rows.append({**labels, "nobs": n, "n_dropped": dropped,
                                "dropped_why": f"{x} or {y} is constant; r is undefined"})
            continue
        r = float(np.clip((da @ db) / denom, -1.0, 1.0))
        df = n - 2
        with np.errstate(divide="ignore"):
            t = r * np.sqrt(df / (1 - r * r)) if abs(r) < 1 else np.copysign(np.inf, r)
        p = float(2 * stats.t.sf(abs(t), df))
        if n > 3:
            z, half = np.arctanh(r) if abs(r) < 1 else np.copysign(np.inf, r), z_half / np.sqrt(n - 3)
            low, high = float(np.tanh(z - half)), float(np.tanh(z + half))
        else:
            low = high = np.nan
        tidy_rows.append({**labels, "component": "pearson", "term": "r", "estimate": r, "std_error": np.nan,
                          "statistic": float(t), "p_value": p, "conf_low": low, "conf_high": high, "df": float(df)})
        glance_rows.append({**labels, "nobs": n, "n_dropped": dropped, "dropped_why": why})
    columns = [*by, "component", "term", "estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high", "df"]
    tidy = pd.DataFrame(tidy_rows, columns=columns)
    glance = pd.DataFrame(glance_rows, columns=[*by, "nobs", "n_dropped", "dropped_why"])
    spec = CorrelationSpec(x=x, y=y, by=by, min_pairs=min_pairs, conf_level=conf_level, name=name)
    n_short = int((glance["nobs"] < min_pairs).sum())
    removed = pd.DataFrame([("pairs", f"fewer than {min_pairs} complete pairs", n_short, len(glance))] if n_short else [],
                           columns=["stage", "reason", "n_removed", "n_before"])
    return build_results(spec, "pearson", __version__, by, tidy, glance,
                         provenance=Provenance(_digest(work), None, package_versions()), removed=removed)


def cell_correlations(x: pd.DataFrame, y: pd.DataFrame, *, by: Sequence[str] = ("region", "season"),
                      min_pairs: int = 10, conf_level: float = 0.95) -> Results:
    """Per cell and season, Pearson's r across years of two seasonal long tables (Fig. 2c).

    ``x`` and ``y`` each hold one variable and one source (e.g. LUE GPP and the inversion
    ensemble's NEE, net uptake positive); they are paired on ``by`` and ``year``. To pair
    different seasons (``figure2.r`` pairs annual NEE with May-Sep NDVI) relabel ``season`` first.

    Examples
    --------
    >>> import pandas as pd
    >>> base = {"kind": "satellite", "region": "c1", "season": "EGS", "year": range(2000, 2005), "unit": "1"}
    >>> a = pd.DataFrame({**base, "source": "GIMMS", "variable": "NDVI", "value": [1.0, 2, 3, 4, 5]})
    >>> b = pd.DataFrame({**base, "source": "ensemble", "variable": "NEE", "value": [2.0, 1, 4, 3, 5]})
    >>> float(cell_correlations(a, b, min_pairs=5).tidy()["estimate"].iloc[0])
    0.8
    """
    by = list(by)
    names = []
    for side, table in (("x", x), ("y", y)):
        _require(table, ["variable", "value", "year", *by], f"cell_correlations(): table `{side}`")
        for col in ("variable", "source"):
            if col in table.columns and table[col].nunique() != 1:
                raise ContractError(f"cell_correlations(): column {col!r} of `{side}` has {table[col].nunique()} "
                                    f"values ({sorted(map(str, table[col].unique()))[:5]}); pass one {col} per table.")
        names.append(str(table["variable"].iloc[0]))
    if names[0] == names[1]:
        names = [f"{names[0]}_x", f"{names[1]}_y"]
    left = x[by + ["year", "value"]].rename(columns={"value": names[0]})
    right = y[by + ["year", "value"]].rename(columns={"value": names[1]})
    for side, part in (("x", left), ("y", right)):
        if part.duplicated(by + ["year"]).any():
            raise ContractError(f"cell_correlations(): `{side}` has several rows per {by + ['year']}; "
                                "add the distinguishing column to by=.")
    paired = left.merge(right, on=by + ["year"], how="inner")
    if paired.empty:
        raise ContractError(f"cell_correlations(): no rows of `x` and `y` share {by + ['year']}.")
    return pearson(paired, names[0], names[1], by=by, min_pairs=min_pairs, conf_level=conf_level,
                   name=f"cor({names[0]}, {names[1]}) per cell")


def correlation_shares(res: Results, weights: pd.Series | None = None, *, alpha: float = 0.05,
                       cell: str = "region") -> pd.DataFrame:
    """How many cells correlate positively or negatively, and significantly so, per other ``by`` key.

    ``weights`` (indexed by cell, e.g. area in km2) gives the area-weighted shares
    (``area_share_*``). Shares are of the cells with an r (fitted groups).

    Returns
    -------
    DataFrame
        n_cells, median_r, share_positive, share_negative, share_sig_positive, share_sig_negative
        (p < alpha) and their ``area_share_*`` versions.
    """
    tidy = res.tidy()
    tidy = tidy[tidy["term"] == "r"]
    _require(tidy, [cell, "estimate", "p_value"], "correlation_shares(): the Results' tidy()")
    rest = [k for k in res.by if k != cell]
    if weights is not None:
        w = tidy[cell].map(weights)
        if w.isna().any():
            raise ContractError(f"correlation_shares(): weights lack cell(s) {sorted(tidy.loc[w.isna(), cell])[:5]}.")
        tidy = tidy.assign(_w=w.to_numpy(dtype=float))
    else:
        tidy = tidy.assign(_w=np.nan)
    rows = []
    for key, g in (tidy.groupby(rest, sort=True) if rest else [((), tidy)]):
        key = key if isinstance(key, tuple) else (key,)
        r, p, w = g["estimate"].to_numpy(), g["p_value"].to_numpy(), g["_w"].to_numpy()
        masks = {"positive": r > 0, "negative": r < 0, "sig_positive": (r > 0) & (p < alpha),
                 "sig_negative": (r < 0) & (p < alpha)}
        row = {**dict(zip(rest, key)), "n_cells": len(r), "median_r": float(np.median(r))}
        row.update({f"share_{k}": float(m.mean()) for k, m in masks.items()})
        row.update({f"area_share_{k}": float(w[m].sum() / w.sum()) if weights is not None else np.nan
                    for k, m in masks.items()})
        rows.append(row)
    return pd.DataFrame(rows)


def association(frame: pd.DataFrame, y: str, x: str, *, by: Sequence[str] = (), name: str | None = None) -> Results:
    """OLS of ``y`` on ``x`` per group (``figure2.r``'s ``stat_poly_eq`` on the bin medians: slope, R^2, p).

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"gpp": [1.0, 2, 3, 4], "nee": [0.5, 1.1, 1.4, 2.1]})
    >>> round(float(association(f, "nee", "gpp").tidy().query("term == 'gpp'")["estimate"].iloc[0]), 2)
    0.51
    """
    from .engines import fit
    from .specs.trend import TrendSpec

    _require(frame, [y, x, *by], "association()")
    spec = TrendSpec(f"{y} ~ {x}", by=tuple(by), engine="statsmodels", name=name or f"{y} ~ {x}")
    return fit(spec, frame[[*by, y, x]].dropna())


# -------------------------------------------------------------------------------------------------- SEM


def sem_table(nee: pd.DataFrame, gpp: pd.DataFrame, drivers: pd.DataFrame, attributes: pd.DataFrame, *,
              seasons: Sequence[str] = ("EGS", "LGS"), pre_season: str = "EGS", late_season: str = "LGS") -> pd.DataFrame:
    """The SEMs' table per cell and season: GPP, TER = GPP - NEE, NEE, AirT, PAR, SM, TC, P (+ PreGPP).

    Parameters
    ----------
    nee
        Seasonal NEE of one source (e.g. the inversion ensemble), net uptake positive.
    gpp
        Seasonal GPP of one source (e.g. LUE), in NEE's unit.
    drivers
        Seasonal AirT, PAR, SM per cell.
    attributes
        Per cell (index ``region``) columns TC and P, or a long table of them (mean over years taken).

    Returns
    -------
    DataFrame
        A seasonal long table in the layout of ``fixtures/sem/sem_seasonal.parquet``: every row
        carries NEE's source and kind, so the SEM spec files (``by = ["kind"]``) fit it as they
        are. In ``late_season`` rows, PreGPP is the same cell's and year's ``pre_season`` GPP.
    """
    from .data import ter_residual

    for side, table in (("nee", nee), ("gpp", gpp), ("drivers", drivers)):
        _require(table, ["source", "kind", "region", "year", "season", "variable", "value", "unit"],
                 f"sem_table(): table `{side}`")
    if nee["source"].nunique() != 1:
        raise ContractError(f"sem_table(): column 'source' of `nee` has {nee['source'].nunique()} values; "
                            "pass one (e.g. the ensemble's rows).")
    missing = sorted({"AirT", "PAR", "SM"} - set(drivers["variable"]))
    if missing:
        raise ContractError(f"sem_table(): column 'variable' of `drivers` has no {missing} rows.")
    if "variable" in attributes.columns:
        from .data import cell_attributes

        attributes = cell_attributes(attributes, ("TC", "P"))
    _require(attributes, ["TC", "P"], "sem_table(): `attributes`")
    nee = nee[nee["season"].isin(seasons) & (nee["variable"] == "NEE")]
    gpp = gpp[gpp["season"].isin(seasons) & (gpp["variable"] == "GPP")]
    ter = ter_residual(nee, gpp)
    source, kind = str(nee["source"].iloc[0]), str(nee["kind"].iloc[0])
    keys = ["region", "year", "season"]
    cells = nee[keys].drop_duplicates()
    cols = keys + ["variable", "value", "unit"]
    parts = [nee[cols], ter[cols], gpp.merge(cells, on=keys)[cols],
             drivers[drivers["variable"].isin(["AirT", "PAR", "SM"])].merge(cells, on=keys)[cols]]
    for variable, unit in (("TC", "%"), ("P", "%")):
        part = cells.assign(variable=variable, value=cells["region"].map(attributes[variable]).to_numpy(), unit=unit)
        parts.append(part[cols])
    early = gpp[gpp["season"] == pre_season]
    if late_season in seasons and not early.empty:
        pre = early[["region", "year", "value", "unit"]].assign(season=late_season, variable="PreGPP")
        parts.append(pre.merge(cells, on=keys)[cols])
    out = pd.concat(parts, ignore_index=True)
    out.insert(0, "kind", kind)
    out.insert(0, "source", source)
    out["positive"] = np.where(out["variable"] == "NEE", "down", None)
    return out.sort_values(["season", "region", "year", "variable"]).reset_index(drop=True)


def balance_paths(table: pd.DataFrame, *, by: Sequence[str] = ("kind", "season"), tol: float = 1e-6) -> pd.DataFrame:
    """The paths of ``nee ~ gpp + ter`` when TER is the residual GPP - NEE, so NEE = GPP - TER exactly.

    The regression is then an identity: raw paths 1 and -1, no residual, and a covariance matrix
    that maximum likelihood cannot fit (not positive definite). The standardised paths (lavaan's
    ``std.all``) are ``sd(GPP) / sd(NEE)`` and ``-sd(TER) / sd(NEE)``: which flux varies more.

    Parameters
    ----------
    table
        Seasonal long table with GPP, TER and NEE (net uptake positive), as :func:`sem_table` makes.
    tol
        Largest ``|NEE - (GPP - TER)|`` accepted as the identity; larger gaps raise.

    Returns
    -------
    DataFrame
        ``by`` columns, lhs, op, rhs, estimate, std_all, nobs.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = [{"kind": "inversion", "region": "c1", "year": y, "season": "EGS", "variable": v, "value": x}
    ...         for y, (g, t) in enumerate([(3.0, 2.0), (4.0, 2.5), (5.0, 4.0)]) for v, x in (("GPP", g), ("TER", t), ("NEE", g - t))]
    >>> balance_paths(pd.DataFrame(rows))[["rhs", "estimate", "std_all"]].round(3).to_dict("list")
    {'rhs': ['gpp', 'ter'], 'estimate': [1.0, -1.0], 'std_all': [3.464, -3.606]}
    """
    by = list(by)
    _require(table, [*by, "region", "year", "variable", "value"], "balance_paths()")
    keys = [*by, "region", "year"] + (["source"] if "source" in table.columns and "source" not in by else [])
    rows = table[table["variable"].isin(["GPP", "TER", "NEE"])]
    wide = rows.pivot_table(index=keys, columns="variable", values="value", aggfunc="first").reset_index()
    missing = [v for v in ("GPP", "TER", "NEE") if v not in wide.columns]
    if missing:
        raise ContractError(f"balance_paths(): column 'variable' has no {missing} rows.")
    wide = wide.dropna(subset=["GPP", "TER", "NEE"])
    gap = float(np.max(np.abs(wide["NEE"] - (wide["GPP"] - wide["TER"])))) if len(wide) else 0.0
    if gap > tol:
        raise PcstatsError(f"balance_paths(): NEE differs from GPP - TER by up to {gap:.3g} (> tol={tol}); "
                           "the identity does not hold, so fit the SEM instead.")
    out = []
    for key, g in wide.groupby(by, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        sd = g[["GPP", "TER", "NEE"]].std(ddof=0)
        for rhs, sign in (("gpp", 1.0), ("ter", -1.0)):
            out.append({**dict(zip(by, key)), "lhs": "nee", "op": "~", "rhs": rhs, "estimate": sign,
                        "std_all": sign * float(sd[rhs.upper()] / sd["NEE"]), "nobs": len(g)})
    return pd.DataFrame(out)
