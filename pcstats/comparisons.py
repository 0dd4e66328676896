"""Comparisons of the inversions with independent data (the paper's Fig. S7, S2 and S12).

* :func:`tower_trends_vs_ensemble`: each flux tower's seasonal trend beside the inversion ensemble's trend at
  the tower's grid cell over the same years, and a paired test of their difference per region and season
  (paired t, with the Wilcoxon signed-rank test beside it).
* :func:`land_sink_correlation`: Pearson's r (t test, Fisher-z interval) between the ensemble's annual land
  sink and a reference series (the Global Carbon Budget's), the trend of each, and the reference regressed on
  the ensemble. :func:`read_land_sink` reads GCB's "Global Carbon Budget" sheet (xlsx) or a CSV export of it.
* :func:`mat_sensitivity`: a region's total annual net uptake (TgC yr-1) on its mean annual temperature, both
  detrended, per region (TgC yr-1 K-1 and gC m-2 yr-1 K-1).
* :func:`regional_total`: a mean flux (gC m-2 yr-1) times its area (km2) as TgC yr-1 or PgC yr-1.

Each returns a :class:`pcstats.Results` with broom's columns in ``tidy()`` and one row per group in ``glance()``.
"""

from __future__ import annotations

import csv
import functools
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
from scipy import stats

from ._version import __version__
from .data.coded import table_hash
from .errors import ContractError, PcstatsError, did_you_mean
from .results import Provenance, Results, build_results, package_versions

__all__ = ["ComparisonSpec", "land_sink_correlation", "mat_sensitivity", "read_land_sink", "regional_total",
           "tower_cells", "tower_trends_vs_ensemble"]

#: grams per teragram and per petagram
_GRAMS = {"TgC yr-1": 1e12, "PgC yr-1": 1e15}


@dataclass(frozen=True)
class ComparisonSpec:
    """What a comparison computed (the ``spec`` of its Results)."""

    name: str
    method: str
    conf_level: float = 0.95

    kind: ClassVar[str] = "comparison"

    @property
    def label(self) -> str:
        return self.name


# --- small pure statistics ------------------------------------------------------------------------------------------

def _ols(y: np.ndarray, x: np.ndarray, conf_level: float, *, controls: np.ndarray | None = None) -> dict:
    """OLS slope of y on x (with an intercept and optional control columns): estimate, SE, t, p, CI, df."""
    design = np.column_stack([np.ones_like(x), x] + ([] if controls is None else [controls]))
    n, k = design.shape
    df = n - k
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ coef
    if df <= 0:
        return {"estimate": coef[1], "std_error": np.nan, "statistic": np.nan, "p_value": np.nan, "conf_low": np.nan,
                "conf_high": np.nan, "df": float(df), "intercept": coef[0], "sigma": np.nan, "resid": resid}
    sigma2 = resid @ resid / df
    cov = sigma2 * np.linalg.inv(design.T @ design)
    se = np.sqrt(cov[1, 1])
    t = coef[1] / se if se > 0 else np.nan
    q = stats.t.ppf(0.5 + conf_level / 2, df)
    return {"estimate": coef[1], "std_error": se, "statistic": t, "p_value": 2 * stats.t.sf(abs(t), df),
            "conf_low": coef[1] - q * se, "conf_high": coef[1] + q * se, "df": float(df), "intercept": coef[0],
            "intercept_se": np.sqrt(cov[0, 0]), "sigma": np.sqrt(sigma2), "resid": resid}


def _mean_test(d: np.ndarray, conf_level: float) -> dict:
    """One-sample t test of mean(d) = 0 (the paired t test when d are differences)."""
    n = len(d)
    if n < 2:
        return {"estimate": float(np.mean(d)) if n else np.nan, "std_error": np.nan, "statistic": np.nan,
                "p_value": np.nan, "conf_low": np.nan, "conf_high": np.nan, "df": float(n - 1)}
    se = np.std(d, ddof=1) / np.sqrt(n)
    t = np.mean(d) / se if se > 0 else np.nan
    q = stats.t.ppf(0.5 + conf_level / 2, n - 1)
    return {"estimate": float(np.mean(d)), "std_error": se, "statistic": t, "p_value": 2 * stats.t.sf(abs(t), n - 1),
            "conf_low": np.mean(d) - q * se, "conf_high": np.mean(d) + q * se, "df": float(n - 1)}


def _signed_rank(d: np.ndarray) -> dict:
    """Wilcoxon signed-rank test of d (exact p for small n without ties); estimate = Hodges-Lehmann pseudomedian."""
    if len(d) < 2 or np.all(d == 0):
        return {"estimate": np.nan, "statistic": np.nan, "p_value": np.nan}
    walsh = (d[:, None] + d[None, :])[np.triu_indices(len(d))] / 2
    res = stats.wilcoxon(d)
    return {"estimate": float(np.median(walsh)), "statistic": float(res.statistic), "p_value": float(res.pvalue)}


def _correlation(x: pd.Series, y: pd.Series) -> float:
    """Pearson's r, NaN for fewer than 3 pairs or a constant series."""
    if len(x) < 3 or np.std(x) == 0 or np.std(y) == 0:
        return np.nan
    return float(np.corrcoef(x, y)[0, 1])


def _provenance(*frames: pd.DataFrame) -> Provenance:
    return Provenance("+".join(table_hash(f.reset_index(drop=True)) for f in frames), None, package_versions())


def _need(frame: pd.DataFrame, columns: Sequence[str], what: str, function: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise PcstatsError(f"{function}(): {what} must be a pandas DataFrame, got {type(frame).__name__}.")
    for column in columns:
        if column not in frame.columns:
            raise ContractError(f"{function}(): {what} has no column {column!r}.{did_you_mean(column, frame.columns)} "
                                f"Its columns: {', '.join(map(str, frame.columns))}.")


def _one_unit(frame: pd.DataFrame, what: str, function: str) -> str:
    units = frame["unit"].dropna().unique()
    if len(units) != 1:
        raise ContractError(f"{function}(): {what} must have one unit in column 'unit', it has {sorted(units)}; "
                            "run pcstats.convert_units() and pcstats.seasonalize() with one convention first.")
    return str(units[0])


def _frame(rows: list[dict], columns: Sequence[str]) -> pd.DataFrame:
    out = pd.DataFrame(rows)
    return out[[c for c in columns if c in out.columns] + [c for c in out.columns if c not in columns]]


# --- towers vs the inversion ensemble (Fig. S7) ---------------------------------------------------------------------

TOWER_COLUMNS = ("site", "region", "lat", "lon", "year", "season", "variable", "value", "unit")
GRID_COLUMNS = ("region", "lat", "lon", "year", "season", "variable", "value", "unit")


def tower_cells(towers: pd.DataFrame, grid: pd.DataFrame, resolution: float = 1.0) -> pd.Series:
    """The grid cell (``region`` of ``grid``) whose box of side ``resolution`` degrees holds each tower (by site).

    A tower outside every cell maps to NaN; a tower on the border of two cells takes the nearer centre.
    """
    _need(towers, ("site", "lat", "lon"), "towers", "tower_cells")
    _need(grid, ("region", "lat", "lon"), "grid", "tower_cells")
    sites = towers.groupby("site", sort=True)[["lat", "lon"]].first()
    centres = grid.groupby("region", sort=True)[["lat", "lon"]].first()
    out = {}
    for site, (lat, lon) in sites.iterrows():
        dlat = np.abs(centres["lat"].to_numpy() - lat)
        dlon = np.abs((centres["lon"].to_numpy() - lon + 180.0) % 360.0 - 180.0)
        inside = (dlat <= resolution / 2) & (dlon <= resolution / 2)
        out[site] = centres.index[inside][np.argmin((dlat ** 2 + dlon ** 2)[inside])] if inside.any() else np.nan
    return pd.Series(out, name="cell", dtype=object).rename_axis("site")


def tower_trends_vs_ensemble(towers: pd.DataFrame, grid: pd.DataFrame, *, variable: str = "NEE",
                             source: str | None = "ensemble", resolution: float = 1.0, min_years: int = 5,
                             conf_level: float = 0.95) -> Results:
    """Each tower's trend beside the gridded ensemble's trend at its cell over the same years, and their difference.

    Parameters
    ----------
    towers
        Seasonal long table of the towers (columns site, region, lat, lon, year, season, variable, value, unit):
        ``region`` is the class each tower is compared in (P, NoP), ``site`` the tower.
    grid
        Seasonal long table of the gridded product per cell (``region`` = the cell, with its centre's lat, lon),
        in the towers' unit and sign convention (e.g. :func:`pcstats.seasonalize` of :func:`pcstats.convert_units`,
        then :func:`pcstats.ensemble`).
    source
        The ``source`` of ``grid`` to use (``None``: the grid has one source).
    resolution
        The cells' side in degrees: a tower belongs to the cell whose box holds it.
    min_years
        Fewest years with both a tower and a grid value for a trend; a tower-season with fewer is left out
        (counted in ``Results.removed``).

    Returns
    -------
    Results
        ``tidy()`` per region and season: component ``mean`` (terms ``tower`` and ``ensemble``: the mean trend
        over the towers and at their cells, one-sample t), component ``paired t`` (term ``tower - ensemble``: the
        mean difference, paired t test over towers, df = n - 1) and component ``wilcoxon`` (the same difference:
        Hodges-Lehmann pseudomedian, signed-rank statistic V and p). ``glance()``: nobs (towers), mean record
        length. ``augment()``: one row per tower and season (cell, first and last year, n_years, both trends and
        SEs, difference).

    The paired t test is the primary test: both trends of a pair come from the same place and years, so their
    shared weather and local signal cancel in the difference, which is what the test needs to be independent
    across towers; with 10-20 towers per region its mean is close to normal. Wilcoxon's test is beside it for
    differences with heavy tails or outliers (a tower whose site is unlike its cell).

    Examples
    --------
    >>> import pandas as pd
    >>> years = list(range(2000, 2010))
    >>> grid = pd.DataFrame({"region": "c1", "lat": 60.5, "lon": 10.5, "year": years, "season": "ANN",
    ...                      "variable": "NEE", "value": [1.0 * y for y in years], "unit": "gC m-2 yr-1"})
    >>> towers = pd.concat([grid.assign(site=s, region="P", lat=60.6, lon=10.4, value=(1.0 + d) * grid["value"])
    ...                     for s, d in (("A", 0.5), ("B", 1.5))])
    >>> res = tower_trends_vs_ensemble(towers, grid, source=None)
    >>> res.tidy().query("component == 'paired t'")["estimate"].round(6).tolist()
    [1.0]
    """
    name = "tower_trends_vs_ensemble"
    _need(towers, TOWER_COLUMNS, "towers", name)
    _need(grid, GRID_COLUMNS, "grid", name)
    if source is not None:
        _need(grid, ("source",), "grid", name)
        if not (grid["source"] == source).any():
            raise ContractError(f"{name}(): grid has no rows of source {source!r}.{did_you_mean(source, grid['source'].unique())} "
                                f"Sources: {sorted(map(str, grid['source'].unique()))}; pass source=None for a one-source grid.")
        grid = grid[grid["source"] == source]
    elif "source" in grid.columns and grid["source"].nunique() > 1:
        raise ContractError(f"{name}(): grid has several sources {sorted(map(str, grid['source'].unique()))}; "
                            "name one with source=...")
    towers, grid = towers[towers["variable"] == variable], grid[grid["variable"] == variable]
    for what, frame in (("towers", towers), ("grid", grid)):
        if frame.empty:
            raise ContractError(f"{name}(): {what} has no rows of variable {variable!r} (column 'variable').")
    unit_t, unit_g = _one_unit(towers, "towers", name), _one_unit(grid, "grid", name)
    if unit_t != unit_g:
        raise ContractError(f"{name}(): the towers are in {unit_t!r} and the grid in {unit_g!r} (column 'unit'); "
                            "seasonalize both with the same how= so their trends compare.")
    for what, frame in (("towers", towers), ("grid", grid)):
        if "positive" in frame.columns and frame["positive"].nunique() > 1:
            raise ContractError(f"{name}(): {what} mixes sign conventions in column 'positive'; run pcstats.convert_units().")
    if "positive" in towers.columns and "positive" in grid.columns and set(towers["positive"]) != set(grid["positive"]):
        raise ContractError(f"{name}(): towers are positive={towers['positive'].iloc[0]!r} and the grid "
                            f"positive={grid['positive'].iloc[0]!r} (column 'positive'); put both on one convention "
                            "with pcstats.convert_units().")
    cells = tower_cells(towers, grid, resolution)
    removed = []
    outside = sorted(cells.index[cells.isna()])
    if outside:
        removed.append(("cell", f"towers outside every grid cell ({', '.join(outside[:5])})",
                        int(towers["site"].isin(outside).sum()), len(towers)))
    if cells.isna().all():
        raise ContractError(f"{name}(): no tower lies in a grid cell (columns 'lat', 'lon'; resolution={resolution}); "
                            "check that both use degrees north/east and the cells' centres.")
    regions = towers.groupby("site")["region"].nunique()
    if (regions > 1).any():
        raise ContractError(f"{name}(): site {regions.index[regions > 1][0]!r} has several values in column 'region'; "
                            "give each tower one class (P or NoP).")
    pairs = []
    lookup = grid.set_index(["region", "season", "year"])["value"]
    if lookup.index.duplicated().any():
        key = lookup.index[lookup.index.duplicated()][0]
        raise ContractError(f"{name}(): grid has several rows for cell {key[0]!r}, season {key[1]!r}, year {key[2]}; "
                            "keep one source (source=...).")
    too_short = 0
    for (site, season), rows in towers.groupby(["site", "season"], sort=True):
        cell = cells.get(site)
        if pd.isna(cell):
            continue
        rows = rows[np.isfinite(rows["value"].to_numpy(dtype=float))]
        gridded = lookup.reindex(pd.MultiIndex.from_arrays([[cell] * len(rows), [season] * len(rows), rows["year"]]))
        keep = np.isfinite(gridded.to_numpy(dtype=float))
        years = rows["year"].to_numpy(dtype=float)[keep]
        if len(years) < min_years:
            too_short += 1
            continue
        tower_fit = _ols(rows["value"].to_numpy(dtype=float)[keep], years, conf_level)
        grid_fit = _ols(gridded.to_numpy(dtype=float)[keep], years, conf_level)
        pairs.append({"site": site, "region": rows["region"].iloc[0], "season": season, "cell": cell,
                      "first_year": int(years.min()), "last_year": int(years.max()), "n_years": len(years),
                      "tower_trend": tower_fit["estimate"], "tower_se": tower_fit["std_error"],
                      "ensemble_trend": grid_fit["estimate"], "ensemble_se": grid_fit["std_error"],
                      "difference": tower_fit["estimate"] - grid_fit["estimate"]})
    if too_short:
        removed.append(("years", f"tower-seasons with fewer than {min_years} years of both series", too_short,
                        too_short + len(pairs)))
    if not pairs:
        raise ContractError(f"{name}(): no tower-season has {min_years} years with both a tower and a grid value; "
                            "check the years (column 'year') and seasons (column 'season') of both tables.")
    per_tower = pd.DataFrame(pairs)
    coefficients, statistics = [], []
    for (region, season), rows in per_tower.groupby(["region", "season"], sort=True):
        keys = {"region": region, "season": season}
        for term, column in (("tower", "tower_trend"), ("ensemble", "ensemble_trend")):
            coefficients.append(keys | {"component": "mean", "term": term} | _mean_test(rows[column].to_numpy(), conf_level))
        d = rows["difference"].to_numpy()
        coefficients.append(keys | {"component": "paired t", "term": "tower - ensemble"} | _mean_test(d, conf_level))
        coefficients.append(keys | {"component": "wilcoxon", "term": "tower - ensemble", "std_error": np.nan,
                                    "conf_low": np.nan, "conf_high": np.nan, "df": np.nan} | _signed_rank(d))
        statistics.append(keys | {"nobs": len(rows), "mean_years": float(rows["n_years"].mean()),
                                  "first_year": int(rows["first_year"].min()), "last_year": int(rows["last_year"].max()),
                                  "r_tower_ensemble": _correlation(rows["tower_trend"], rows["ensemble_trend"])})
    columns = ("region", "season", "component", "term", "estimate", "std_error", "statistic", "p_value",
               "conf_low", "conf_high", "df")
    spec = ComparisonSpec("Tower trends vs the ensemble at their cells",
                          "per tower and season: OLS trends of the tower and of the grid at its cell over the same "
                          "years; per region and season: paired t test (and Wilcoxon signed-rank) of the differences",
                          conf_level)
    unit = unit_t.replace(" yr-1", " yr-2") if unit_t.endswith("yr-1") else f"({unit_t}) yr-1"
    return build_results(spec, "pcstats.comparisons", __version__, ("region", "season"), _frame(coefficients, columns),
                         pd.DataFrame(statistics), provenance=_provenance(towers, grid),
                         removed=pd.DataFrame(removed, columns=["stage", "reason", "n_removed", "n_before"]),
                         units={"trend": unit}, augmenter=functools.partial(pd.DataFrame.copy, per_tower))


# --- the land sink against the Global Carbon Budget (Fig. S2) -------------------------------------------------------

def read_land_sink(path: str | Path, column: str = "land sink", *, sheet: str = "Global Carbon Budget") -> pd.DataFrame:
    """The land sink series of a Global Carbon Budget file: columns ``year`` and ``value`` (PgC yr-1 = GtC yr-1).

    Reads the sheet ``sheet`` of GCB's workbook (``Global_Carbon_Budget_2020v1.0.xlsx``; needs openpyxl) or a CSV
    export of it: note lines, then a header row whose first cell is ``Year``, then one row per year. ``column``
    is the land sink's header (GCB 2020: ``land sink``), matched without regard to case and spaces.
    """
    path = Path(path)
    if not path.is_file():
        raise PcstatsError(f"read_land_sink(): no file {str(path)!r}.")
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
        try:
            raw = pd.read_excel(path, sheet_name=sheet, header=None)
        except ImportError as err:
            raise PcstatsError(f"read_land_sink(): reading {path.name} needs openpyxl (pip install openpyxl), or export "
                               f"the sheet {sheet!r} as CSV and read that.") from err
        except ValueError as err:
            raise PcstatsError(f"read_land_sink(): {path.name} has no sheet {sheet!r} ({err}); pass sheet=...") from err
        except (OSError, zipfile.BadZipFile) as err:
            raise PcstatsError(f"read_land_sink(): {path.name} is not a readable workbook ({err}).") from err
        rows = raw.astype(object).where(raw.notna(), "").values.tolist()
    else:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.reader(f))
    header = next((i for i, row in enumerate(rows) if row and str(row[0]).strip().lower() == "year"), None)
    if header is None:
        raise ContractError(f"read_land_sink(): {path.name} has no header row starting with 'Year' (column A); "
                            "export the 'Global Carbon Budget' sheet as it is.")
    names = [str(c).strip() for c in rows[header]]
    wanted = " ".join(column.lower().split())
    matches = [i for i, n in enumerate(names) if " ".join(n.lower().split()) == wanted]
    if not matches:
        raise ContractError(f"read_land_sink(): {path.name} has no column {column!r}.{did_you_mean(column, names)} "
                            f"Its columns: {', '.join(n for n in names if n)}.")
    out = []
    for row in rows[header + 1:]:
        if not row or str(row[0]).strip() == "":
            continue
        try:
            year = int(float(row[0]))
        except ValueError:
            break  # notes below the table
        cell = row[matches[0]] if matches[0] < len(row) else ""
        out.append({"year": year, "value": float(cell) if str(cell).strip() not in ("", "NaN", "nan") else np.nan})
    if not out:
        raise ContractError(f"read_land_sink(): {path.name} has no rows below its 'Year' header.")
    return pd.DataFrame(out)


def regional_total(table: pd.DataFrame, to: str = "TgC yr-1", *, area: str = "weight") -> pd.DataFrame:
    """A mean flux per area (gC m-2 yr-1) times its area (km2, column ``area``) as ``to`` (TgC or PgC yr-1).

    Returns a copy with ``value`` and ``unit`` replaced (the ``area`` column kept).

    >>> t = pd.DataFrame({"region": ["P"], "year": [2000], "value": [10.0], "unit": ["gC m-2 yr-1"], "weight": [1e6]})
    >>> regional_total(t)["value"].tolist()
    [10.0]
    """
    _need(table, ("value", "unit", area), "table", "regional_total")
    if to not in _GRAMS:
        raise PcstatsError(f"regional_total(to={to!r}): use one of {list(_GRAMS)}.")
    bad = sorted(set(table["unit"].dropna()) - {"gC m-2 yr-1"})
    if bad:
        raise ContractError(f"regional_total(): column 'unit' has {bad}; it needs annual fluxes in gC m-2 yr-1 "
                            "(pcstats.seasonalize with how='mean_x365').")
    out = table.copy()
    out["value"] = table["value"].to_numpy(dtype=float) * table[area].to_numpy(dtype=float) * 1e6 / _GRAMS[to]
    out["unit"] = to
    return out


def land_sink_correlation(sink: pd.DataFrame, reference: pd.DataFrame, *, years: tuple[int, int] | None = (1980, 2017),
                          names: tuple[str, str] = ("ensemble", "GCB2020"), conf_level: float = 0.95) -> Results:
    """Pearson's r between two annual series (columns ``year``, ``value``), their trends and ``reference ~ sink``.

    Returns
    -------
    Results
        ``tidy()`` with a column ``series``: component ``correlation`` (term ``r``: r, t = r sqrt(n-2)/sqrt(1-r^2),
        its p with n - 2 df, Fisher-z interval), component ``trend`` (term ``year``, one row per series: OLS slope
        per year), component ``regression`` (terms ``(Intercept)`` and the sink's name: the reference on the sink).
        ``glance()``: nobs, first and last year, r_squared and sigma of the regression.

    Examples
    --------
    >>> a = pd.DataFrame({"year": range(2000, 2010), "value": [1.0, 2, 3, 5, 4, 6, 7, 9, 8, 10]})
    >>> b = a.assign(value=2 * a["value"] + 1)
    >>> res = land_sink_correlation(a, b, years=None)
    >>> round(float(res.tidy().query("term == 'r'")["estimate"].iloc[0]), 6)
    1.0
    """
    name = "land_sink_correlation"
    for what, frame in (("sink", sink), ("reference", reference)):
        _need(frame, ("year", "value"), what, name)
        if frame["year"].duplicated().any():
            raise ContractError(f"{name}(): {what} has several rows for year {int(frame.loc[frame['year'].duplicated(), 'year'].iloc[0])} "
                                "(column 'year'); give one value per year.")
    both = sink[["year", "value"]].merge(reference[["year", "value"]], on="year", suffixes=("_sink", "_ref"))
    if years is not None:
        both = both[both["year"].between(*years)]
    both = both[np.isfinite(both["value_sink"].to_numpy(dtype=float)) & np.isfinite(both["value_ref"].to_numpy(dtype=float))]
    both = both.sort_values("year").reset_index(drop=True)
    n = len(both)
    if n < 4:
        raise ContractError(f"{name}(): only {n} years have both series (column 'year'{f', within {years}' if years else ''}); "
                            "a correlation needs at least 4.")
    x, y, t = (both[c].to_numpy(dtype=float) for c in ("value_sink", "value_ref", "year"))
    r = float(np.corrcoef(x, y)[0, 1])
    stat = r * np.sqrt((n - 2) / (1 - r ** 2)) if abs(r) < 1 else np.sign(r) * np.inf
    z, q = np.arctanh(np.clip(r, -1 + 1e-15, 1 - 1e-15)), stats.norm.ppf(0.5 + conf_level / 2)
    rows = [{"series": f"{names[0]} vs {names[1]}", "component": "correlation", "term": "r", "estimate": r,
             "std_error": np.nan, "statistic": stat, "p_value": 2 * stats.t.sf(abs(stat), n - 2),
             "conf_low": np.tanh(z - q / np.sqrt(n - 3)) if n > 3 else np.nan,
             "conf_high": np.tanh(z + q / np.sqrt(n - 3)) if n > 3 else np.nan, "df": float(n - 2)}]
    for label, values in ((names[0], x), (names[1], y)):
        fit = _ols(values, t, conf_level)
        rows.append({"series": label, "component": "trend", "term": "year"} | {k: fit[k] for k in
                    ("estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high", "df")})
    fit = _ols(y, x, conf_level)
    qt = stats.t.ppf(0.5 + conf_level / 2, fit["df"])
    ti = fit["intercept"] / fit["intercept_se"]
    rows.append({"series": f"{names[1]} ~ {names[0]}", "component": "regression", "term": "(Intercept)",
                 "estimate": fit["intercept"], "std_error": fit["intercept_se"], "statistic": ti,
                 "p_value": 2 * stats.t.sf(abs(ti), fit["df"]), "conf_low": fit["intercept"] - qt * fit["intercept_se"],
                 "conf_high": fit["intercept"] + qt * fit["intercept_se"], "df": fit["df"]})
    rows.append({"series": f"{names[1]} ~ {names[0]}", "component": "regression", "term": names[0]}
                | {k: fit[k] for k in ("estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high", "df")})
    columns = ("series", "component", "term", "estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high", "df")
    glance = pd.DataFrame([{"nobs": n, "first_year": int(t.min()), "last_year": int(t.max()), "r_squared": r ** 2,
                            "sigma": fit["sigma"], "df_residual": fit["df"]}])
    spec = ComparisonSpec(f"{names[0]} land sink vs {names[1]}", "Pearson r (t test, Fisher-z interval); OLS trends; "
                          f"{names[1]} regressed on {names[0]}", conf_level)
    augment = both.rename(columns={"value_sink": names[0], "value_ref": names[1]}).assign(fitted=y - fit["resid"],
                                                                                          resid=fit["resid"])
    return build_results(spec, "pcstats.comparisons", __version__, (), _frame(rows, columns), glance,
                         provenance=_provenance(sink, reference), augmenter=functools.partial(pd.DataFrame.copy, augment))


# --- sensitivity of regional net uptake to mean annual temperature (Fig. S12) ---------------------------------------

def mat_sensitivity(flux: pd.DataFrame, temperature: pd.DataFrame, *, area: str = "weight",
                    to: str = "TgC yr-1", conf_level: float = 0.95) -> Results:
    """Regional total annual net uptake on the region's mean annual temperature, both detrended, per region.

    Parameters
    ----------
    flux
        Annual net uptake per region (columns region, year, value in gC m-2 yr-1, unit, and ``area``: the region's
        area in km2), one row per region and year (one source, season ANN).
    temperature
        The region's mean annual temperature (columns region, year, value in degC), one row per region and year.

    Returns
    -------
    Results
        ``tidy()`` per region, term ``MAT``: component ``total`` (``to`` per K, e.g. TgC yr-1 K-1) and component
        ``per_area`` (gC m-2 yr-1 K-1). The slope is that of the flux's anomaly from its linear trend on the
        temperature's anomaly from its own; by Frisch-Waugh-Lovell it equals the MAT coefficient of
        ``flux ~ year + MAT``, whose SE and t (df = n - 3) count the two trends removed. ``glance()``: nobs, years,
        area, r_squared of the anomalies. ``augment()``: per region and year both series and their anomalies.

    Examples
    --------
    >>> import numpy as np
    >>> years = np.arange(1980, 2018)
    >>> mat = pd.DataFrame({"region": "P", "year": years, "value": 0.03 * (years - 1980) + np.sin(years)})
    >>> flux = pd.DataFrame({"region": "P", "year": years, "value": 5 * np.sin(years) + 0.5 * (years - 1980),
    ...                      "unit": "gC m-2 yr-1", "weight": 1e6})
    >>> mat_sensitivity(flux, mat).tidy().query("component == 'per_area'")["estimate"].round(6).tolist()
    [5.0]
    """
    name = "mat_sensitivity"
    _need(flux, ("region", "year", "value", "unit", area), "flux", name)
    _need(temperature, ("region", "year", "value"), "temperature", name)
    for what, frame in (("flux", flux), ("temperature", temperature)):
        dup = frame.duplicated(["region", "year"])
        if dup.any():
            row = frame[dup].iloc[0]
            raise ContractError(f"{name}(): {what} has several rows for region {row['region']!r}, year {int(row['year'])} "
                                "(columns 'region', 'year'); keep one source and season (ANN).")
    total = regional_total(flux, to, area=area)
    both = total[["region", "year", "value", area]].merge(
        flux[["region", "year", "value"]].rename(columns={"value": "per_area"}), on=["region", "year"]).merge(
        temperature[["region", "year", "value"]].rename(columns={"value": "MAT"}), on=["region", "year"])
    both = both.rename(columns={"value": "total"})
    finite = np.isfinite(both[["total", "per_area", "MAT"]].to_numpy(dtype=float)).all(axis=1)
    removed = [("finite", "region-years with a missing flux or temperature", int((~finite).sum()), len(both))] \
        if (~finite).any() else []
    both = both[finite]
    if both.empty:
        raise ContractError(f"{name}(): no region and year (columns 'region', 'year') is in both flux and temperature.")
    coefficients, statistics, augmented = [], [], []
    for region, rows in both.sort_values(["region", "year"]).groupby("region", sort=True):
        years, mat = rows["year"].to_numpy(dtype=float), rows["MAT"].to_numpy(dtype=float)
        if len(rows) < 5:
            raise ContractError(f"{name}(): region {region!r} has {len(rows)} years with both series; it needs at least 5.")
        mat_anomaly = _ols(mat, years, conf_level)["resid"]
        for component in ("total", "per_area"):
            y = rows[component].to_numpy(dtype=float)
            fit = _ols(y, mat, conf_level, controls=years)  # = the slope of the anomalies, df n - 3
            coefficients.append({"region": region, "component": component, "term": "MAT"}
                                | {k: fit[k] for k in ("estimate", "std_error", "statistic", "p_value", "conf_low",
                                                       "conf_high", "df")})
            anomaly = _ols(y, years, conf_level)["resid"]
            if component == "total":
                r2 = 1 - (fit["resid"] @ fit["resid"]) / (anomaly @ anomaly) if anomaly @ anomaly > 0 else np.nan
                augmented.append(rows.assign(total_anomaly=anomaly, MAT_anomaly=mat_anomaly,
                                             fitted=anomaly - fit["resid"], resid=fit["resid"]))
        statistics.append({"region": region, "nobs": len(rows), "first_year": int(years.min()),
                           "last_year": int(years.max()), "area_km2": float(rows[area].mean()), "r_squared": r2,
                           "df_residual": float(len(rows) - 3)})
    columns = ("region", "component", "term", "estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high", "df")
    spec = ComparisonSpec("Net uptake on MAT, detrended", f"per region: total annual net uptake ({to}) on mean annual "
                          "temperature, both detrended (flux ~ year + MAT)", conf_level)
    return build_results(spec, "pcstats.comparisons", __version__, ("region",), _frame(coefficients, columns),
                         pd.DataFrame(statistics), provenance=_provenance(flux, temperature),
                         removed=pd.DataFrame(removed, columns=["stage", "reason", "n_removed", "n_before"]),
                         units={"total": f"{to.replace(' yr-1', '')} yr-1 K-1", "per_area": "gC m-2 yr-1 K-1"},
                         augmenter=functools.partial(pd.DataFrame.copy, pd.concat(augmented, ignore_index=True)))
