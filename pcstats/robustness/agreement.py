"""Sign agreement across sources: the share of cells where at least ``k`` of ``n`` sources agree on a trend's sign.

The paper's spatial agreement: a cell agrees when at least 5 of the 6 inversions have a trend of
the same sign. :func:`sign_agreement` counts, per cell, the sources with a finite slope, a positive
and a negative one, and reports per region (and per season or other key) the share of cells that
agree on a positive sign, a negative sign, and on either, both as a share of the cells and as a share of
their area (the table's ``weight`` column, the cell area, or cos(latitude) where there is no weight). It
reads trend fits (a :class:`Results`
fitted by source and cell) or gridded trends (:func:`pcstats.grid.pixel_trends` with the sources
stacked along a dimension), and returns a :class:`Results`, so ``compare()`` and the exporters take it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

import numpy as np
import pandas as pd

from .._version import __version__
from ..errors import PcstatsError
from ..results import Provenance, Results, build_results, package_versions

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["SignAgreementSpec", "sign_agreement", "AGREEMENT_TERMS", "REGION_KEY"]

#: the tidy() terms, in order
AGREEMENT_TERMS = ("share_agree", "share_positive", "share_negative")

#: the by key of the region classes in the output ("all" without ``regions``)
REGION_KEY = "region_class"

_COUNTS = ("n_finite", "n_positive", "n_negative")

#: how each cell's area was found (glance()'s ``area_basis``)
AREA_WEIGHT, AREA_COSLAT, AREA_NONE = "weight", "cos(lat)", "none"


@dataclass(frozen=True)
class SignAgreementSpec:
    """Describes a sign-agreement count: which slopes, over which sources, how many must agree."""

    slope: str
    over: str
    threshold: int
    n_sources: int
    cells: tuple[str, ...]
    regions: str = "all cells"
    alpha: float | None = None

    kind: ClassVar[str] = "agreement"

    @property
    def label(self) -> str:
        signed = f", p < {self.alpha:g}" if self.alpha is not None else ""
        return f"sign agreement of {self.slope}: >= {self.threshold} of {self.n_sources} {self.over}{signed}"


class _Counts(NamedTuple):
    """What each input kind hands the shared summary: per-cell counts and how they were made."""

    frame: pd.DataFrame  # one row per cell: group keys, cell keys, n_finite, n_positive, n_negative, area
    cells: list[str]
    group: list[str]
    sources: list[Any]
    slope: str
    regions: str
    digest: str
    removed: pd.DataFrame
    area_basis: str  # AREA_WEIGHT, AREA_COSLAT or AREA_NONE


def sign_agreement(
    trends: Results | xr.Dataset | xr.DataArray,
    over: str = "source",
    threshold: int = 5,
    regions: pd.Series | Mapping[Any, Any] | xr.DataArray | None = None,
    term: str = "year",
    *,
    alpha: float | None = None,
    cells: Sequence[str] | None = None,
    areas: pd.DataFrame | xr.DataArray | None = None,
) -> Results:
    """Share of cells where at least ``threshold`` of the sources agree on the sign of the trend, by region.

    Parameters
    ----------
    trends
        Either trend fits (a :class:`Results`) with ``over`` and the ``cells`` key among their ``by``
        keys, e.g. fitted by ``("source", "region", "season")`` with ``region`` a grid-cell id; the
        slope is the tidy row whose term is ``term``. Or gridded trends: the Dataset of
        :func:`pcstats.grid.pixel_trends` (its ``estimate`` and ``p_value``) or a DataArray of
        slopes, with the sources stacked along the dimension ``over``. For Sen's slope pass
        ``ds[["sen_slope", "mk_p"]].rename(sen_slope="estimate", mk_p="p_value")``.
    over
        The by key or dimension that holds the sources (inversions, models).
    threshold
        How many sources must agree; a majority of the sources (more than half, at most all), so a
        cell cannot agree on both signs.
    regions
        How cells group into regions. For fits: a Series (or mapping) from the cell key's values to
        a region class (e.g. 'P'/'NoP'); for grids: a label DataArray on the same grid (e.g.
        ``region_classes(tc, p)["permafrost"]``). Cells without a class are left out (see
        ``Results.removed``). ``None``: one region ``"all"`` of all cells. The output names the
        class ``region_class``.
    term
        The coefficient that is the trend (fits only; grids use the ``estimate`` variable).
    alpha
        If given, only slopes with ``p_value < alpha`` count as signed; a cell whose finite slopes
        are not significant counts as not agreeing (it is not dropped).
    cells
        The keys that make a cell: for fits the by key(s) of the cell id (default ``("region",)``),
        for grids the spatial dimensions (default ``lat`` and ``lon``, or ``cell``). Every other
        key (season, ...) is reported separately.
    areas
        Where each cell's area comes from, for the area shares. For fits: a table with the cell key(s)
        and a ``weight`` column (the cell area, e.g. km², as in the long table the trends were fitted
        from, which can be passed as is) or, without ``weight``, a ``lat`` column (area taken as
        cos(latitude)); ``None``: no areas, the area shares are NaN. For grids: a DataArray of cell
        areas on the grid (e.g. :func:`pcstats.grid.cell_area`); ``None``: the Dataset's ``weight``
        variable if it has one, else cos(latitude) from the ``lat`` coordinate. glance()'s
        ``area_basis`` says which: ``"weight"``, ``"cos(lat)"`` or ``"none"``.

    Returns
    -------
    Results
        ``by`` is ``("region_class", *other keys)``. ``tidy()``: per region and other key, component ``agreement`` and terms ``share_agree``,
        ``share_positive``, ``share_negative`` (estimate = the share of the judged cells; std_error
        and the rest NaN), with ``count`` (the judged cells in that category: the share's numerator)
        and ``area_share`` (the category's share of the judged cells' area). ``glance()``: nobs
        (cells judged: the share's denominator), area (their area: the area share's denominator, in
        the weight's units or in summed cos(lat)), area_basis, n_cells (all
        cells of the region), n_sources, threshold, n_cells_too_few_sources (cells with fewer
        finite slopes than ``threshold``, which cannot agree and are left out of the share),
        n_dropped (the same) and dropped_why. ``augment()``: one row per cell with n_finite,
        n_positive, n_negative, agree_sign (1 positive, -1 negative, 0 no agreement, NaN too few
        sources), to map, and area.

    Examples
    --------
    >>> import pcstats as pc
    >>> from pcstats.robustness import sign_agreement
    >>> t = pc.read_table("tests/reference/trend_input.csv")
    >>> t = t[t["source"] != "ensemble"]  # the six inversions
    >>> res = pc.fit(pc.TrendSpec("NEE ~ year", by=("source", "region", "season")), t)
    >>> agree = sign_agreement(res, over="source", threshold=5)
    >>> agree.tidy().query("term == 'share_agree'")[["region_class", "season", "estimate"]].values.tolist()
    [['all', 'ANN', 1.0], ['all', 'EGS', 1.0], ['all', 'LGS', 1.0], ['all', 'WIN', 0.5]]
    >>> agree.glance()[["nobs", "n_sources", "threshold", "n_dropped"]].iloc[0].tolist()
    [2, 6, 5, 0]
    >>> by_area = sign_agreement(res, over="source", threshold=5, areas=t)   # t's weight: each region's area
    >>> by_area.tidy().query("season == 'EGS' and term == 'share_agree'")[["count", "estimate", "area_share"]].to_dict("records")
    [{'count': 2, 'estimate': 1.0, 'area_share': 1.0}]
    >>> g = by_area.glance().iloc[0]   # area: the judged cells' summed weight
    >>> g["area_basis"], round(float(g["area"] / t.groupby("region")["weight"].mean().sum()), 9)
    ('weight', 1.0)
    """
    if alpha is not None and not (isinstance(alpha, (int, float)) and 0 < alpha < 1):
        raise PcstatsError(f"sign_agreement(alpha={alpha!r}): give a significance level in (0, 1), or None to count every "
                           "finite slope.")
    made = (_from_results(trends, over, term, alpha, cells, regions, areas) if isinstance(trends, Results)
            else _from_grid(trends, over, alpha, cells, regions, areas))
    _check_threshold(threshold, made.sources, over)
    counts = made.frame.assign(agree_sign=_agree_sign(made.frame, threshold))
    coefficients, statistics = _summarise(counts, made.group, threshold, len(made.sources), over, made.area_basis)
    spec = SignAgreementSpec(slope=made.slope, over=over, threshold=int(threshold), n_sources=len(made.sources),
                             cells=tuple(made.cells), regions=made.regions, alpha=alpha)
    per_cell = counts[[*made.group, *made.cells, *_COUNTS, "agree_sign", "area"]].reset_index(drop=True)
    return build_results(spec, "count", __version__, made.group, coefficients, statistics,
                   provenance=Provenance(made.digest, None, package_versions()), removed=made.removed,
                   augmenter=per_cell.copy)


def _check_threshold(threshold: Any, sources: Sequence[Any], over: str) -> None:
    n = len(sources)
    if isinstance(threshold, bool) or not isinstance(threshold, (int, np.integer)):
        raise PcstatsError(f"sign_agreement(threshold={threshold!r}): give the number of {over} values that must agree, "
                           "a whole number (the paper: 5 of 6 inversions).")
    shown = ", ".join(map(str, list(sources)[:8])) + (", ..." if n > 8 else "")
    if threshold > n:
        raise PcstatsError(f"sign_agreement(threshold={threshold}): the trends have only {n} {over} value(s) ({shown}); "
                           f"lower threshold to at most {n} or add the missing {over} fits.")
    if 2 * threshold <= n:
        raise PcstatsError(f"sign_agreement(threshold={threshold}): with {n} {over} values a cell could agree on both "
                           f"signs; use a majority, threshold > {n / 2:g}.")


def _agree_sign(counts: pd.DataFrame, threshold: int) -> np.ndarray:
    sign = np.where(counts["n_positive"] >= threshold, 1.0, np.where(counts["n_negative"] >= threshold, -1.0, 0.0))
    return np.where(counts["n_finite"] >= threshold, sign, np.nan)


def _summarise(counts: pd.DataFrame, group: list[str], threshold: int, n_sources: int,
               over: str, area_basis: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """tidy and glance frames: one row per group of cells."""
    too_few = counts["n_finite"] < threshold
    positive, negative = counts["agree_sign"] == 1, counts["agree_sign"] == -1
    area = counts["area"].to_numpy(float)
    flags = pd.DataFrame({
        "n_cells": 1,
        "too_few": too_few,
        "none": counts["n_finite"] == 0,
        "positive": positive,
        "negative": negative,
        "area_judged": np.where(too_few, 0.0, area),
        "area_positive": np.where(positive, area, 0.0),
        "area_negative": np.where(negative, area, 0.0),
    })
    flags[group] = counts[group].to_numpy()
    sums = flags.groupby(group, sort=True, dropna=False).sum().reset_index()
    if area_basis == AREA_NONE:
        sums[["area_judged", "area_positive", "area_negative"]] = np.nan
    judged = sums["n_cells"] - sums["too_few"]
    denominator = judged.where(judged > 0).astype(float)
    area_judged = sums["area_judged"].astype(float)
    area_denominator = area_judged.where(area_judged > 0)
    counted = {"share_agree": sums["positive"] + sums["negative"], "share_positive": sums["positive"],
               "share_negative": sums["negative"]}
    area_counted = {"share_agree": sums["area_positive"] + sums["area_negative"], "share_positive": sums["area_positive"],
                    "share_negative": sums["area_negative"]}
    rows = []
    for term in AGREEMENT_TERMS:
        block = sums[group].copy()
        block["component"] = "agreement"
        block["term"] = term
        block["estimate"] = (counted[term] / denominator).to_numpy()
        for key in ("std_error", "statistic", "p_value", "conf_low", "conf_high"):
            block[key] = np.nan
        block["count"] = counted[term].astype(int).to_numpy()
        block["area_share"] = (area_counted[term].astype(float) / area_denominator).to_numpy()
        rows.append(block)
    coefficients = pd.concat(rows).sort_index(kind="stable").reset_index(drop=True)
    statistics = sums[group].copy()
    statistics["nobs"] = judged.astype(int).to_numpy()
    statistics["area"] = area_judged.to_numpy()
    statistics["area_basis"] = area_basis
    statistics["n_cells"] = sums["n_cells"].astype(int).to_numpy()
    statistics["n_sources"] = n_sources
    statistics["threshold"] = int(threshold)
    statistics["n_cells_too_few_sources"] = sums["too_few"].astype(int).to_numpy()
    statistics["n_dropped"] = statistics["n_cells_too_few_sources"]
    statistics["dropped_why"] = [
        "" if k == 0 else f"{k} cell(s) with fewer than {threshold} finite {over} slopes" + (f" ({z} with none)" if z else "")
        for k, z in zip(sums["too_few"].astype(int), sums["none"].astype(int))
    ]
    return coefficients, statistics


def _removed(reason: str, n_removed: int, n_before: int) -> pd.DataFrame:
    rows = [("regions", reason, n_removed, n_before)] if n_removed else []
    return pd.DataFrame(rows, columns=["stage", "reason", "n_removed", "n_before"])


# --- trend fits -------------------------------------------------------------------------------------------------


def _from_results(res: Results, over: str, term: str, alpha: float | None, cells: Sequence[str] | None,
                  regions: Any, areas: Any) -> _Counts:
    if over not in res.by:
        raise PcstatsError(f"sign_agreement(over={over!r}): {over!r} is not a by key of the fit {res.by}; fit by the "
                           f"sources, e.g. TrendSpec(..., by=('source', 'region', 'season')).")
    cell_keys = list(cells) if cells is not None else ["region"]
    for k in cell_keys:
        if k not in res.by or k == over:
            raise PcstatsError(f"sign_agreement(cells={tuple(cell_keys)}): {k!r} is not a by key of the fit {res.by} "
                               f"other than over={over!r}; name the key(s) of the cell id.")
    if REGION_KEY in res.by:
        raise PcstatsError(f"sign_agreement(): the fit has a by key {REGION_KEY!r}, the name of the output's region "
                           "classes; rename that column before fitting.")
    others = [k for k in res.by if k != over and k not in cell_keys]
    tidy = res.tidy()
    rows = tidy[tidy["term"] == term]
    if rows.empty:
        raise PcstatsError(f"sign_agreement(term={term!r}): model {res.model!r} has no term {term!r}; its terms: "
                           f"{sorted(tidy['term'].unique())}.")
    if rows.duplicated(list(res.by)).any():
        raise PcstatsError(f"sign_agreement(): model {res.model!r} has several {term!r} rows per group; pass a fit with "
                           "one slope per group (a trend fit).")
    if alpha is not None and rows["p_value"].isna().all():
        raise PcstatsError(f"sign_agreement(alpha={alpha}): model {res.model!r} has no p-values for {term!r}; fit with "
                           "one (OLS, or Sen's slope with Mann-Kendall) or leave alpha=None.")
    glance = res.glance()
    sources = list(pd.unique(glance[over]))
    cell_frame = glance[others + cell_keys].drop_duplicates().reset_index(drop=True)
    full = cell_frame.merge(pd.DataFrame({over: sources}), how="cross")
    full = full.merge(rows[list(res.by) + ["estimate", "p_value"]], on=list(res.by), how="left")
    full = full.assign(**_signs(full["estimate"].to_numpy(float), full["p_value"].to_numpy(float), alpha))
    counts = full.groupby(others + cell_keys, sort=False, dropna=False)[list(_COUNTS)].sum().reset_index()
    area, basis = _table_areas(areas, counts, cell_keys)
    counts, group, regions_text, removed = _region_of_cells(counts.assign(area=area), others, cell_keys, regions)
    return _Counts(counts, cell_keys, group, sources, f"{term} ({res.model})", regions_text, res.provenance.data_hash,
                   removed, basis)


def _table_areas(areas: Any, counts: pd.DataFrame, cell_keys: list[str]) -> tuple[np.ndarray, str]:
    """Each counted cell's area from a table's ``weight`` (or cos of its ``lat``), and which of the two it is."""
    if areas is None:
        return np.full(len(counts), np.nan), AREA_NONE
    if not isinstance(areas, pd.DataFrame):
        raise PcstatsError(f"sign_agreement(areas=...): for trend fits give a table with the cell key(s) {cell_keys} and a "
                           f"'weight' (cell area) or 'lat' column, e.g. the long table the trends were fitted from; got "
                           f"{type(areas).__name__}.")
    missing_keys = [k for k in cell_keys if k not in areas.columns]
    if missing_keys:
        raise PcstatsError(f"sign_agreement(areas=...): the table has no column {missing_keys[0]!r}, a cell key; its "
                           f"columns: {list(areas.columns)}.")
    if "weight" in areas.columns:
        column, basis = "weight", AREA_WEIGHT
        values = pd.to_numeric(areas["weight"], errors="coerce")
    elif "lat" in areas.columns:
        column, basis = "lat", AREA_COSLAT
        values = np.cos(np.deg2rad(pd.to_numeric(areas["lat"], errors="coerce")))
    else:
        raise PcstatsError(f"sign_agreement(areas=...): the table has neither a 'weight' (cell area) nor a 'lat' column; "
                           f"its columns: {list(areas.columns)}. Add one, or leave areas=None (area shares NaN).")
    per_row = areas[cell_keys].assign(_area=values.to_numpy(float))
    spread = per_row.groupby(cell_keys, sort=False, dropna=False)["_area"].agg(["min", "max"])
    uneven = spread.index[~np.isclose(spread["min"], spread["max"], rtol=1e-9, atol=0)]
    if len(uneven):
        raise PcstatsError(f"sign_agreement(areas=...): the {column!r} column differs between the rows of cell(s) "
                           f"{list(uneven[:5])}; give each cell one {column}.")
    per_cell = spread["min"].rename("area").reset_index()
    area = counts[cell_keys].merge(per_cell, on=cell_keys, how="left")["area"].to_numpy(float)
    bad = ~(np.isfinite(area) & (area > 0))
    if bad.any():
        shown = counts.loc[bad, cell_keys].drop_duplicates().head(5).to_dict("records")
        raise PcstatsError(f"sign_agreement(areas=...): no positive finite {column!r} for cell(s) {shown}; give every "
                           f"cell of the fit a {column} (or leave areas=None: area shares NaN).")
    return area, basis


def _signs(estimate: np.ndarray, p_value: np.ndarray, alpha: float | None) -> dict[str, np.ndarray]:
    finite = np.isfinite(estimate)
    signed = finite & (p_value < alpha) if alpha is not None else finite
    return {"n_finite": finite.astype(int), "n_positive": (signed & (estimate > 0)).astype(int),
            "n_negative": (signed & (estimate < 0)).astype(int)}


def _region_of_cells(counts: pd.DataFrame, others: list[str], cell_keys: list[str],
                     regions: Any) -> tuple[pd.DataFrame, list[str], str, pd.DataFrame]:
    if regions is None:
        return counts.assign(**{REGION_KEY: "all"}), [REGION_KEY, *others], "all cells", _removed("", 0, 0)
    if isinstance(regions, Mapping) and not isinstance(regions, pd.Series):
        regions = pd.Series(regions)
    if not isinstance(regions, pd.Series):
        raise PcstatsError(f"sign_agreement(regions=...): for trend fits give a pandas Series from the {cell_keys[0]!r} "
                           f"values to a region class (e.g. 'P'/'NoP'), got {type(regions).__name__}.")
    if len(cell_keys) != 1:
        raise PcstatsError(f"sign_agreement(regions=...): a Series maps one cell key; the cells have keys {cell_keys}. "
                           "Pass cells=('<cell id key>',).")
    if regions.index.has_duplicates:
        dup = regions.index[regions.index.duplicated()].unique()[:5].tolist()
        raise PcstatsError(f"sign_agreement(regions=...): the Series lists cells {dup} more than once; give each "
                           f"{cell_keys[0]!r} value one region class.")
    label = counts[cell_keys[0]].map(regions)
    missing = label.isna()
    cells_missing = counts.loc[missing, cell_keys[0]].drop_duplicates()
    shown = ", ".join(map(str, cells_missing.iloc[:5])) + (", ..." if len(cells_missing) > 5 else "")
    removed = _removed(f"{cell_keys[0]} values without a region class ({shown})", len(cells_missing),
                       counts[cell_keys[0]].nunique(dropna=False))
    if missing.all():
        raise PcstatsError(f"sign_agreement(regions=...): no {cell_keys[0]!r} value of the fit is in the Series index "
                           f"(fit: {counts[cell_keys[0]].unique()[:5].tolist()}, Series: {regions.index[:5].tolist()}).")
    counts = counts.assign(**{REGION_KEY: label.to_numpy()})[~missing.to_numpy()]
    return counts, [REGION_KEY, *others], str(regions.name or "region classes"), removed


# --- grids ------------------------------------------------------------------------------------------------------


def _from_grid(trends: Any, over: str, alpha: float | None, cells: Sequence[str] | None, regions: Any,
               areas: Any) -> _Counts:
    import xarray as xr

    if isinstance(trends, xr.Dataset):
        if "estimate" not in trends:
            raise PcstatsError(f"sign_agreement(trends=...): the Dataset has no 'estimate' variable (it has "
                               f"{list(trends.data_vars)}); pass pixel_trends(...) output or rename the slope to 'estimate'.")
        slope = trends["estimate"]
        if alpha is not None and "p_value" not in trends:
            raise PcstatsError(f"sign_agreement(alpha={alpha}): the Dataset has no 'p_value' variable; add it or leave "
                               "alpha=None.")
        p = trends["p_value"] if alpha is not None else None
        name = trends.attrs.get("variable") or "estimate"
    elif isinstance(trends, xr.DataArray):
        if alpha is not None:
            raise PcstatsError(f"sign_agreement(alpha={alpha}): a DataArray of slopes has no p-values; pass the Dataset of "
                               "pixel_trends(...) or leave alpha=None.")
        slope, p, name = trends, None, trends.name or "slope"
    else:
        raise PcstatsError(f"sign_agreement(trends=...): give trend fits (Results) or gridded trends (xarray Dataset or "
                           f"DataArray), got {type(trends).__name__}.")
    if over not in slope.dims:
        raise PcstatsError(f"sign_agreement(over={over!r}): the trends have no dimension {over!r} (dims {slope.dims}); "
                           f"stack the sources first: xr.concat([...], dim=pd.Index(names, name={over!r})).")
    if cells is None:
        cell_dims = [d for d in ("lat", "lon") if d in slope.dims] or [d for d in ("cell",) if d in slope.dims]
        if not cell_dims:
            raise PcstatsError(f"sign_agreement(cells=None): the trends have no lat/lon or cell dimension (dims "
                               f"{slope.dims}); name the spatial dimensions with cells=(...).")
    else:
        cell_dims = list(cells)
        for d in cell_dims:
            if d not in slope.dims or d == over:
                raise PcstatsError(f"sign_agreement(cells={tuple(cell_dims)}): {d!r} is not a dimension of the trends "
                                   f"{slope.dims} other than over={over!r}.")
    others = [d for d in slope.dims if d != over and d not in cell_dims]
    if REGION_KEY in others:
        raise PcstatsError(f"sign_agreement(): the trends have a dimension {REGION_KEY!r}, the name of the output's "
                           "region classes; rename it first (.rename(...)).")
    sources = list(slope[over].values) if over in slope.coords else list(range(slope.sizes[over]))
    estimate = slope.astype(float)
    finite = estimate.notnull()
    signed = finite & (p < alpha) if p is not None else finite
    counts = xr.Dataset({"n_finite": finite.sum(over), "n_positive": (signed & (estimate > 0)).sum(over),
                         "n_negative": (signed & (estimate < 0)).sum(over)}).reset_coords(drop=True)
    if areas is None and isinstance(trends, xr.Dataset) and "weight" in trends:
        areas = trends["weight"]
    area, basis = _grid_areas(areas, slope, cell_dims)
    no_area = xr.full_like(counts["n_finite"], np.nan, dtype=float)
    counts["area"] = no_area if area is None else area.broadcast_like(counts["n_finite"])
    digest = hashlib.sha256(np.ascontiguousarray(estimate.values).tobytes())
    if p is not None:
        digest.update(np.ascontiguousarray(p.astype(float).values).tobytes())
    if regions is None:
        frame = counts.to_dataframe().reset_index()
        frame[REGION_KEY] = "all"
        return _Counts(frame, cell_dims, [REGION_KEY, *others], sources, f"pixel trend of {name}", "all cells",
                       digest.hexdigest(), _removed("", 0, 0), basis)
    labels = _aligned_labels(regions, counts, cell_dims)
    counts[REGION_KEY] = labels.astype(object)
    frame = counts.to_dataframe().reset_index()
    missing = frame[REGION_KEY].isna().to_numpy()
    n_cells = int(np.prod([counts.sizes[d] for d in cell_dims]))
    removed = _removed("cells without a region label", int(missing.sum()) * n_cells // max(len(frame), 1), n_cells)
    frame = frame[~missing].reset_index(drop=True)
    if frame.empty:
        raise PcstatsError("sign_agreement(regions=...): no cell of the grid has a region label.")
    return _Counts(frame, cell_dims, [REGION_KEY, *others], sources, f"pixel trend of {name}",
                   str(regions.name or "region labels"), digest.hexdigest(), removed, basis)


def _grid_areas(areas: Any, slope: xr.DataArray, cell_dims: list[str]) -> tuple[xr.DataArray | None, str]:
    """Cell areas on the grid (given, or cos of the ``lat`` coordinate) and which of the two; None without either."""
    import xarray as xr

    if areas is None:
        if "lat" not in slope.coords or not set(slope["lat"].dims) <= set(cell_dims):
            return None, AREA_NONE
        return np.cos(np.deg2rad(slope["lat"].astype(float))).reset_coords(drop=True), AREA_COSLAT
    if not isinstance(areas, xr.DataArray):
        raise PcstatsError(f"sign_agreement(areas=...): for gridded trends give a DataArray of cell areas on the grid "
                           f"(dims {tuple(cell_dims)}), e.g. pcstats.grid.cell_area(trends); got {type(areas).__name__}.")
    extra = [d for d in areas.dims if d not in cell_dims]
    if extra:
        raise PcstatsError(f"sign_agreement(areas=...): the areas have dimension {extra[0]!r}, which is not a cell "
                           f"dimension of the trends {tuple(cell_dims)}; give one area per cell.")
    try:
        area, _ = xr.align(areas.astype(float).reset_coords(drop=True), slope.isel({d: 0 for d in slope.dims
                                                                                     if d not in cell_dims}, drop=True),
                           join="exact")
    except ValueError as err:
        raise PcstatsError(f"sign_agreement(areas=...): the areas' grid differs from the trends' ({err}); put both on one "
                           "grid first (pcstats.grid.regrid(areas, like=trends)).") from None
    values = area.values
    if not (np.isfinite(values) & (values > 0)).all():
        raise PcstatsError("sign_agreement(areas=...): some cell areas are missing, zero or negative; give every cell of "
                           "the grid a positive area.")
    return area, AREA_WEIGHT


def _aligned_labels(regions: Any, counts: xr.Dataset, cell_dims: list[str]) -> xr.DataArray:
    """The label map on the trends' grid; raises naming the coordinate that differs."""
    import xarray as xr

    if isinstance(regions, xr.Dataset):
        raise PcstatsError(f"sign_agreement(regions=...): give one label map (a DataArray), e.g. "
                           f"region_classes(tc, p)[{next(iter(regions.data_vars), 'permafrost')!r}], not a Dataset.")
    if not isinstance(regions, xr.DataArray):
        raise PcstatsError(f"sign_agreement(regions=...): for gridded trends give a label DataArray on the grid "
                           f"(dims {tuple(cell_dims)}), got {type(regions).__name__}.")
    for d in regions.dims:
        if d not in cell_dims:
            raise PcstatsError(f"sign_agreement(regions=...): the labels have dimension {d!r}, which is not a cell "
                               f"dimension of the trends {tuple(cell_dims)}; give a map on the grid.")
        a = counts[d].values if d in counts.coords else np.arange(counts.sizes[d])
        b = regions[d].values if d in regions.coords else np.arange(regions.sizes[d])
        numeric = np.issubdtype(a.dtype, np.number) and np.issubdtype(b.dtype, np.number)
        same = a.shape == b.shape and (np.allclose(a, b, rtol=0, atol=1e-6) if numeric else np.array_equal(a, b))
        if not same:
            raise PcstatsError(f"sign_agreement(regions=...): the labels' {d!r} coordinate ({b.size} values, "
                               f"{b[:1].tolist()}..{b[-1:].tolist()}) differs from the trends' ({a.size} values, "
                               f"{a[:1].tolist()}..{a[-1:].tolist()}); put both on one grid first "
                               "(pcstats.grid.regrid(labels, like=trends)).")
    labels = regions.reset_coords(drop=True).assign_coords({d: counts[d] for d in regions.dims if d in counts.coords})
    xr.align(counts, labels, join="exact")
    return labels
