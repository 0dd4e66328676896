"""Soil organic carbon stocks of layers and of pedons over cumulative depth intervals.

* :func:`layer_stock`: SOC (kg C m-2) = C (mass fraction) x bulk density (g cm-3) x thickness (cm)
  x (1 - coarse fraction) x 10; one layer or many, vectorised.
* :func:`pedon_stock`: horizons cut at interval boundaries (0-30, 0-100, 0-200, 0-300 cm), with
  area fractions for cryoturbated or discontinuous horizons; incomplete pedons are reported.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from ..errors import PcstatsError, did_you_mean

__all__ = ["C_UNITS", "layer_stock", "pedon_stock"]

C_UNITS: dict[str, float] = {"%": 100.0, "g/kg": 1000.0}
"""What one unit of mass fraction is in each accepted C-content unit."""

ArrayLike = float | np.ndarray | pd.Series
Locate = Callable[[object, int], str]


def _position(values: object, flat: int) -> str:
    """Where the ``flat``-th element of an argument is: its index label, array position, or nothing."""
    if isinstance(values, pd.Series):
        return f" at index {values.index[flat]!r}"
    shape = np.shape(values)
    if not shape:
        return ""
    return f" at position {flat if len(shape) == 1 else np.unravel_index(flat, shape)}"


def _check(values: object, name: str, bad: Callable[[np.ndarray], np.ndarray], problem: str, fix: str,
           locate: Locate) -> None:
    array = np.asarray(values, dtype=np.float64)
    where = np.flatnonzero(bad(array))
    if where.size:
        value = array.ravel()[where[0]]
        more = f" ({where.size} values in all)" if where.size > 1 else ""
        raise PcstatsError(f"{name}{locate(values, int(where[0]))} is {value:g}: {problem}{more}. {fix}")


def _validate(c: object, bulk_density: object, thickness_cm: object, coarse_fraction: object, c_unit: str,
              names: Sequence[str], locate: Locate = _position) -> float:
    """Check the four layer inputs (NaN passes) and return the divisor that makes ``c`` a mass fraction."""
    if c_unit not in C_UNITS:
        raise PcstatsError(f"c_unit={c_unit!r} is not known.{did_you_mean(c_unit, C_UNITS)} Use one of "
                           f"{', '.join(map(repr, C_UNITS))} (for a mass fraction, multiply by 100 and use '%').")
    top = C_UNITS[c_unit]
    c_name, bd_name, t_name, cf_name = names
    _check(c, c_name, lambda a: a < 0, "C content cannot be negative", "Fix or remove the value.", locate)
    _check(c, c_name, lambda a: a > top, f"C content cannot exceed {top:g} {c_unit}",
           "Check the unit (c_unit='%' or 'g/kg') or the value.", locate)
    _check(bulk_density, bd_name, lambda a: a < 0, "bulk density cannot be negative",
           "Give bulk density in g cm-3 (fine earth, >= 0).", locate)
    _check(thickness_cm, t_name, lambda a: a <= 0, "a layer must be thicker than 0 cm",
           "Give thickness in cm (bottom - top > 0).", locate)
    _check(coarse_fraction, cf_name, lambda a: (a < 0) | (a >= 1), "coarse fraction must be in [0, 1)",
           "Give the volume fraction of coarse fragments (> 2 mm) as 0-0.99, not percent.", locate)
    return top


def layer_stock(
    c: ArrayLike,
    bulk_density: ArrayLike,
    thickness_cm: ArrayLike,
    coarse_fraction: ArrayLike = 0.0,
    *,
    c_unit: str = "%",
) -> ArrayLike:
    """SOC stock of soil layers in kg C m-2.

    ``stock = C / 100 (or / 1000) x bulk_density x thickness_cm x (1 - coarse_fraction) x 10``:
    g C cm-3 of soil x cm = g C cm-2 = 10 kg C m-2.

    Parameters
    ----------
    c
        Organic C content, in ``c_unit``.
    bulk_density
        Bulk density of the fine earth, g cm-3.
    thickness_cm
        Layer thickness, cm (> 0).
    coarse_fraction
        Volume fraction of coarse fragments (> 2 mm), in [0, 1).
    c_unit
        ``"%"`` (mass percent, 0-100) or ``"g/kg"`` (0-1000).

    Returns
    -------
    float, numpy array or pandas Series
        Broadcast like numpy; a pandas Series input keeps its index. NaN in any input gives NaN for
        that layer (nothing is dropped).

    Raises
    ------
    PcstatsError
        Negative C or bulk density, C above 100 % (1000 g/kg), coarse fraction outside [0, 1),
        thickness <= 0, unknown ``c_unit``; the message names the argument and the first bad value.

    Examples
    --------
    >>> import pcstats as pc
    >>> float(pc.soc.layer_stock(1.0, 1.0, 100))                  # 1 % C, 1 g cm-3, 1 m
    10.0
    >>> float(pc.soc.layer_stock(25, 1.2, 30, 0.1, c_unit="g/kg"))
    8.1
    >>> import pandas as pd
    >>> pc.soc.layer_stock(pd.Series([2.0, float("nan")], index=["A", "B"]), 0.8, 10).round(2).to_dict()
    {'A': 1.6, 'B': nan}
    """
    divisor = _validate(c, bulk_density, thickness_cm, coarse_fraction, c_unit,
                        [f"layer_stock(): {n}" for n in ("c", "bulk_density", "thickness_cm", "coarse_fraction")])
    parts = [c, bulk_density, thickness_cm, coarse_fraction]
    series = next((p for p in parts if isinstance(p, pd.Series)), None)
    if series is not None:
        parts = [p if isinstance(p, pd.Series) else (p if np.ndim(p) == 0 else pd.Series(p, index=series.index))
                 for p in parts]
    else:
        parts = [np.asarray(p, dtype=np.float64) for p in parts]
    c_, bd, t, cf = parts
    stock = c_ / divisor * bd * t * (1.0 - cf) * 10.0
    return float(stock) if np.ndim(stock) == 0 else stock


def _label(top: float, bottom: float) -> str:
    return f"{top:g}-{bottom:g}"


def _intervals(depth: Sequence[float]) -> list[tuple[float, float]]:
    bounds = [float(d) for d in depth]
    if len(bounds) < 2 or np.any(np.diff(bounds) <= 0) or not np.all(np.isfinite(bounds)):
        raise PcstatsError(f"pedon_stock(depth={tuple(depth)!r}): give at least two increasing depths in cm, "
                           "e.g. (0, 30, 100); intervals run from the first to each of the others.")
    return [(bounds[0], b) for b in bounds[1:]]


def _columns(horizons: pd.DataFrame, wanted: dict[str, str | None]) -> None:
    if not isinstance(horizons, pd.DataFrame):
        raise PcstatsError(f"pedon_stock(): horizons must be a pandas DataFrame, got {type(horizons).__name__}.")
    for argument, column in wanted.items():
        if column is not None and column not in horizons.columns:
            raise PcstatsError(f"pedon_stock(): no column {column!r} (argument {argument}=).{did_you_mean(column, horizons.columns)} "
                               f"Columns: {list(horizons.columns)}; name the right one with {argument}='...'.")


def _segments(rows: pd.DataFrame, pid: object, fraction: str | None) -> list[tuple[float, float, float, float]]:
    """(top, bottom, covered area fraction, stock per cm) for each piece between horizon boundaries."""
    cuts = np.unique(np.r_[rows["_top"].to_numpy(), rows["_bottom"].to_numpy()])
    pieces = []
    for a, b in zip(cuts[:-1], cuts[1:]):
        on = rows[(rows["_top"] <= a) & (rows["_bottom"] >= b)]
        share = float(on["_fraction"].sum())
        if on.empty:
            pieces.append((a, b, 0.0, 0.0))
            continue
        if abs(share - 1.0) > 1e-6:
            if fraction is None:
                raise PcstatsError(
                    f"pedon_stock(): pedon {pid!r} has overlapping horizons at {_label(a, b)} cm (rows "
                    f"{', '.join(map(repr, on.index))}). Fix their depths, or give the share of the area each "
                    "covers (cryoturbated pockets) in a column named by area_fraction=.")
            raise PcstatsError(
                f"pedon_stock(): pedon {pid!r}: area fractions of the horizons at {_label(a, b)} cm sum to {share:g} "
                f"(rows {', '.join(map(repr, on.index))}), not 1. Make the fractions of horizons that overlap a depth add up to 1.")
        pieces.append((a, b, share, float((on["_fraction"] * on["_per_cm"]).sum(skipna=False))))
    return pieces


def _interval_stock(pieces: list[tuple[float, float, float, float]], top: float, bottom: float) -> tuple[float, float, str | None]:
    """Stock, covered cm and why the stock is missing (None when complete) for one interval."""
    stock = covered = 0.0
    why = []
    first, last = pieces[0][0], pieces[-1][1]
    if first > top:
        why.append(f"horizons start at {first:g} cm")
    for a, b, share, per_cm in pieces:
        overlap = min(b, bottom) - max(a, top)
        if overlap <= 0:
            continue
        if share == 0:
            why.append(f"no horizon at {_label(a, b)} cm")
            continue
        covered += overlap
        stock += overlap * per_cm
        if np.isnan(per_cm):
            why.append(f"C, bulk density or coarse fraction missing at {_label(a, b)} cm")
    if last < bottom:
        why.append(f"horizons reach only {last:g} cm")
    return (np.nan if why else stock), covered, ("; ".join(why) if why else None)


def pedon_stock(
    horizons: pd.DataFrame,
    depth: Sequence[float] = (0, 30, 100, 200, 300),
    *,
    pedon: str = "pedon",
    top: str = "top_cm",
    bottom: str = "bottom_cm",
    c: str = "c",
    bulk_density: str = "bulk_density",
    coarse_fraction: str | None = None,
    area_fraction: str | None = None,
    c_unit: str = "%",
) -> pd.DataFrame:
    """SOC stock of each pedon over cumulative depth intervals (0-30, 0-100, 0-200, 0-300 cm).

    Each horizon's stock (:func:`layer_stock`) is taken as uniform over its thickness, so a horizon
    that crosses an interval boundary contributes in proportion to the part inside. Horizons that
    cover only part of the pedon's area (cryoturbated pockets, discontinuous horizons) contribute
    in proportion to their area fraction; the fractions of the horizons at any depth must sum to 1.

    Parameters
    ----------
    horizons
        One row per horizon (or horizon part).
    depth
        Interval boundaries in cm; the intervals are cumulative from the first boundary.
    pedon, top, bottom, c, bulk_density
        Column names: pedon id, horizon top and bottom (cm), C content (``c_unit``), bulk density (g cm-3).
    coarse_fraction, area_fraction
        Optional columns: volume fraction of coarse fragments; share of the pedon's area a row covers.
    c_unit
        ``"%"`` or ``"g/kg"``.

    Returns
    -------
    pandas.DataFrame
        One row per pedon and interval: ``pedon, depth`` (label like ``"0-30"``), ``top_cm, bottom_cm,
        stock_kg_m2, coverage_cm`` (cm of the interval covered by horizons) and ``dropped_why``: None
        when the stock is complete, otherwise why ``stock_kg_m2`` is NaN (the horizons stop short of
        the interval bottom, a gap between horizons, missing C or bulk density). A warning says how
        many pedon-intervals are incomplete.

    Raises
    ------
    PcstatsError
        Missing columns, pedon ids or horizon depths, bottom <= top, overlapping horizons without area
        fractions, fractions not summing to 1, bad values (as :func:`layer_stock`), naming the row.

    Examples
    --------
    >>> import pandas as pd
    >>> import pcstats as pc
    >>> h = pd.DataFrame({"pedon": "P1", "top_cm": [0, 20], "bottom_cm": [20, 50],
    ...                   "c": [5.0, 1.0], "bulk_density": [0.5, 1.2]})
    >>> out = pc.soc.pedon_stock(h, depth=(0, 30, 50))
    >>> out[["depth", "stock_kg_m2", "coverage_cm"]].round(2).values.tolist()
    [['0-30', 6.2, 30.0], ['0-50', 8.6, 50.0]]
    """
    intervals = _intervals(depth)
    _columns(horizons, {"pedon": pedon, "top": top, "bottom": bottom, "c": c, "bulk_density": bulk_density,
                        "coarse_fraction": coarse_fraction, "area_fraction": area_fraction})
    rows = _prepared(horizons, pedon, top, bottom, c, bulk_density, coarse_fraction, area_fraction, c_unit)
    out = []
    for pid, group in rows.groupby("_pedon", sort=False):
        pieces = _segments(group.sort_values("_top"), pid, area_fraction)
        for a, b in intervals:
            stock, covered, why = _interval_stock(pieces, a, b)
            out.append({"pedon": pid, "depth": _label(a, b), "top_cm": a, "bottom_cm": b, "stock_kg_m2": stock,
                        "coverage_cm": covered, "dropped_why": why})
    table = pd.DataFrame(out, columns=["pedon", "depth", "top_cm", "bottom_cm", "stock_kg_m2", "coverage_cm", "dropped_why"])
    incomplete = int(table["dropped_why"].notna().sum())
    if incomplete:
        warnings.warn(f"pedon_stock(): {incomplete} of {len(table)} pedon-intervals are incomplete (stock_kg_m2 is "
                      "NaN); the dropped_why column says why.", stacklevel=2)
    return table


def _prepared(horizons: pd.DataFrame, pedon: str, top: str, bottom: str, c: str, bulk_density: str,
              coarse_fraction: str | None, area_fraction: str | None, c_unit: str) -> pd.DataFrame:
    """Checked horizons with working columns ``_pedon, _top, _bottom, _fraction, _per_cm`` (stock per cm)."""
    ids = horizons[pedon]

    def locate(values: object, flat: int) -> str:
        label = horizons.index[flat]
        return f" in row {label!r} (pedon {ids.loc[label]!r})"

    if ids.isna().any():
        raise PcstatsError(f"pedon_stock(): column {pedon!r} has no pedon id in row {ids.index[ids.isna()][0]!r}; "
                           "give every horizon its pedon's id.")
    t = pd.to_numeric(horizons[top], errors="coerce")
    b = pd.to_numeric(horizons[bottom], errors="coerce")
    for name, values in ((top, t), (bottom, b)):
        if values.isna().any():
            label = values.index[values.isna()][0]
            raise PcstatsError(f"pedon_stock(): column {name!r} has no depth in row {label!r} (pedon {ids.loc[label]!r}); "
                               "give every horizon a numeric top and bottom in cm.")
    bad = b <= t
    if bad.any():
        label = b.index[bad][0]
        raise PcstatsError(f"pedon_stock(): row {label!r} (pedon {ids.loc[label]!r}) has {bottom}={b[label]:g} <= "
                           f"{top}={t[label]:g}; the bottom of a horizon must be deeper than its top (depths in cm, "
                           "positive downwards).")
    cf = horizons[coarse_fraction] if coarse_fraction else pd.Series(0.0, index=horizons.index)
    fraction = horizons[area_fraction] if area_fraction else pd.Series(1.0, index=horizons.index)
    if area_fraction:
        _check(fraction, f"pedon_stock(): column {area_fraction!r}", lambda a: ~((a > 0) & (a <= 1)),
               "an area fraction must be in (0, 1]", "Give each row's share of the pedon's area.", locate)
    names = [f"pedon_stock(): column {n!r}" for n in (c, bulk_density, top, coarse_fraction or "coarse_fraction")]
    divisor = _validate(horizons[c], horizons[bulk_density], b - t, cf, c_unit, names, locate)
    per_cm = horizons[c].astype(float) / divisor * horizons[bulk_density].astype(float) * (1.0 - cf.astype(float)) * 10.0
    return pd.DataFrame({"_pedon": ids, "_top": t.astype(float), "_bottom": b.astype(float),
                         "_fraction": fraction.astype(float), "_per_cm": per_cm})
