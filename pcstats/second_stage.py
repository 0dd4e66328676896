"""Second-stage tests on fitted trends (the paper's Fig. 1d-f and region differences).

* :func:`trend_gradient` regresses fitted trends on a gradient (%TC, MAT, %P) across regions
  or bins, with R^2 and p per remaining group.
* :func:`difference_test` tests whether two fits' coefficients differ, from their estimates and
  SEs (Welch t with Welch-Satterthwaite df). The other route, an interaction term in one pooled
  model, is a formula: ``TrendSpec("NEE ~ year * C(region)", ...)``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from ._version import __version__
from .errors import PcstatsError
from .results import Provenance, Results, build_results, package_versions
from .specs.trend import TrendSpec
from .stats.welch import welch_difference

__all__ = ["DifferenceSpec", "PairwiseSpec", "difference_test", "pairwise_differences", "trend_gradient"]


@dataclass(frozen=True)
class DifferenceSpec:
    """Describes a difference test: which term, which two models, matched on which keys."""

    term: str
    a: str
    b: str
    on: tuple[str, ...]
    conf_level: float = 0.95

    kind: ClassVar[str] = "difference"

    @property
    def label(self) -> str:
        return f"{self.term}: ({self.a}) - ({self.b})"


def _term_rows(res: Results, term: str) -> pd.DataFrame:
    tidy = res.tidy()
    rows = tidy[tidy["term"] == term]
    if rows.empty:
        raise PcstatsError(f"Model {res.model!r} has no term {term!r}; its terms: {sorted(tidy['term'].unique())}.")
    if rows["std_error"].isna().all() or "df_residual" not in res.glance().columns:
        raise PcstatsError(
            f"difference_test() needs standard errors and residual df for {term!r}; model {res.model!r} "
            "has none (e.g. Sen's slope), so it cannot be compared this way."
        )
    glance = res.glance()[list(res.by) + ["df_residual"]] if res.by else res.glance()[["df_residual"]]
    return rows.merge(glance, on=list(res.by), how="left") if res.by else rows.assign(df_residual=glance["df_residual"].iloc[0])


def difference_test(
    res_a: Results,
    res_b: Results,
    term: str = "year",
    *,
    on: Sequence[str] | None = None,
    conf_level: float = 0.95,
) -> Results:
    """Welch t test of ``a - b`` for one coefficient of two independent fits.

    Parameters
    ----------
    res_a, res_b
        The two fits (e.g. ``res.subset(region="P")`` and ``res.subset(region="NoP")``).
    term
        The coefficient to compare.
    on
        Keys to match rows on; default: the ``by`` keys the fits share whose values overlap
        (so ``region`` with P in one and NoP in the other is not matched on).

    Returns
    -------
    Results
        ``tidy()``: estimate (a - b), std_error, statistic (t), p_value, conf_low, conf_high, df;
        ``glance()``: the two estimates, SEs and residual df that went in.

    Examples
    --------
    >>> import pcstats as pc
    >>> t = pc.read_table("tests/reference/trend_input.csv")
    >>> res = pc.fit(pc.TrendSpec("NEE ~ year", by=("region", "season")), t)
    >>> d = pc.difference_test(res.subset(region="P"), res.subset(region="NoP"))
    >>> d.tidy()[["season", "term"]].iloc[0].tolist()
    ['ANN', 'year']
    """
    a, b = _term_rows(res_a, term), _term_rows(res_b, term)
    if res_a is res_b or _same_rows(res_a, a, res_b, b):
        raise PcstatsError(
            f"difference_test(): res_a and res_b are the same fit ({res_a.model!r}, the same {term!r} rows); a fit "
            "compared with itself always gives p = 1. Pass the two groups to compare, e.g. "
            "res.subset(region='P') and res.subset(region='NoP').")
    if on is None:
        on = [k for k in res_a.by if k in res_b.by and set(a[k]) & set(b[k])]
    on = list(on)
    for k in on:
        if k not in a.columns or k not in b.columns:
            raise PcstatsError(f"difference_test(on=...): {k!r} is not a by key of both fits ({res_a.by} vs {res_b.by}).")
    for side, rows in (("res_a", a), ("res_b", b)):
        if on and rows.duplicated(on).any():
            extra = [k for k in rows.columns if k in (res_a.by + res_b.by) and k not in on and rows[k].nunique() > 1]
            raise PcstatsError(
                f"difference_test(): {side} has several {term!r} rows for the same {on}; add {extra or 'more keys'} "
                "to on=[...] or subset the fits first (res.subset(...))."
            )
    cols = on + ["estimate", "std_error", "df_residual"]
    merged = a[cols].merge(b[cols], on=on, suffixes=("_a", "_b"), how="inner", validate="one_to_one") if on else \
        _single(a, b, cols)
    if merged.empty:
        raise PcstatsError(f"difference_test(): no rows of the two fits match on {on}.")
    r = welch_difference(merged["estimate_a"], merged["std_error_a"], merged["df_residual_a"],
                         merged["estimate_b"], merged["std_error_b"], merged["df_residual_b"], conf_level)
    coefficients = merged[on].copy()
    coefficients["component"] = "difference"
    coefficients["term"] = term
    for key in ("estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high", "df"):
        coefficients[key] = r[key]
    statistics = merged[on].copy()
    statistics["nobs"] = np.nan
    for side in ("a", "b"):
        for key in ("estimate", "std_error", "df_residual"):
            statistics[f"{key}_{side}"] = merged[f"{key}_{side}"]
    spec = DifferenceSpec(term=term, a=_describe(res_a, a, on), b=_describe(res_b, b, on), on=tuple(on), conf_level=conf_level)
    hashes = f"{res_a.provenance.data_hash}+{res_b.provenance.data_hash}"
    return build_results(spec, "welch", __version__, on, coefficients, statistics,
                         provenance=Provenance(hashes, None, package_versions()), units=res_a.units if res_a.units == res_b.units else {})


def _same_rows(res_a: Results, a: pd.DataFrame, res_b: Results, b: pd.DataFrame) -> bool:
    """The same data, spec and term rows (keys and estimates) on both sides."""
    if res_a.provenance.data_hash != res_b.provenance.data_hash or res_a.spec != res_b.spec or res_a.by != res_b.by:
        return False
    cols = list(res_a.by) + ["estimate", "std_error"]
    return len(a) == len(b) and a[cols].reset_index(drop=True).equals(b[cols].reset_index(drop=True))


def _describe(res: Results, rows: pd.DataFrame, on: list[str]) -> str:
    """The model's label plus the key values that single out its side, e.g. ``M [region=P]``."""
    fixed = [f"{k}={rows[k].iloc[0]}" for k in res.by if k not in on and rows[k].nunique() == 1]
    return f"{res.model} [{', '.join(fixed)}]" if fixed else res.model


def _single(a: pd.DataFrame, b: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    if len(a) != 1 or len(b) != 1:
        raise PcstatsError("difference_test(): the fits have several groups; say which keys to match with on=[...].")
    left = a[cols].reset_index(drop=True).add_suffix("_a")
    right = b[cols].reset_index(drop=True).add_suffix("_b")
    return pd.concat([left, right], axis=1)


def trend_gradient(
    res: Results,
    gradient: pd.Series,
    *,
    term: str = "year",
    on: str = "region",
    name: str | None = None,
    conf_level: float = 0.95,
) -> Results:
    """Regress fitted trends on a gradient across regions: ``trend ~ gradient`` per remaining group.

    Parameters
    ----------
    res
        Trend fits with ``on`` among their ``by`` keys (e.g. by region bin and season).
    gradient
        The gradient's value per ``on`` value, a Series named after the gradient (e.g. the
        area-weighted mean %TC of each 5 % bin).
    term
        Which coefficient is "the trend".
    on
        The key that runs along the gradient.

    Returns
    -------
    Results
        From the statsmodels engine: the slope of trend on gradient with SE, p, CI, and R^2 in
        ``glance()``, per group of the other ``by`` keys.
    """
    from .engines.prepare import group_frame
    from .engines.trend_statsmodels import fit as fit_ols
    from .engines.preparers import read_formula

    if on not in res.by:
        raise PcstatsError(f"trend_gradient(on={on!r}): {on!r} is not a by key of the fit {res.by}.")
    if not isinstance(gradient, pd.Series):
        raise PcstatsError(
            f"trend_gradient(): gradient must be a pandas Series indexed by {on} and named after the gradient "
            f"(e.g. 'TC'), got {type(gradient).__name__}."
        )
    gname = str(gradient.name or "gradient")
    if not gname.isidentifier():
        raise PcstatsError(f"trend_gradient(): name the gradient Series with a plain identifier, got {gname!r}.")
    tidy = res.tidy()
    rows = tidy[tidy["term"] == term]
    if rows.empty:
        raise PcstatsError(f"trend_gradient(): model {res.model!r} has no term {term!r}.")
    frame = rows[list(res.by) + ["estimate"]].rename(columns={"estimate": "trend"})
    frame[gname] = frame[on].map(gradient)
    missing = sorted(frame.loc[frame[gname].isna(), on].unique())
    rest = [k for k in res.by if k != on]
    spec = TrendSpec(f"trend ~ {gname}", by=tuple(rest), conf_level=conf_level, engine="statsmodels",
                     name=name or f"trend({term}) ~ {gname}")
    removed = [("gradient", f"{on} values without a {gname} value ({', '.join(map(str, missing[:5]))})",
                int(frame[gname].isna().sum()), len(frame))] if missing else []
    frame = frame[frame[gname].notna()]
    prepared = group_frame(frame, ("trend", gname), ("trend",), rest, 3, removed, digest=res.provenance.data_hash, response="trend")
    prepared = dataclasses.replace(prepared, model=read_formula(spec.formula, prepared.frame))
    return fit_ols(spec, prepared)


@dataclass(frozen=True)
class PairwiseSpec:
    """All pairwise Welch tests of one coefficient between the values of one key of a fit."""

    model: str
    term: str
    between: str
    conf_level: float = 0.95

    kind: ClassVar[str] = "difference"

    @property
    def label(self) -> str:
        return f"{self.model}: {self.term} differences between {self.between} values"


def pairwise_differences(res: Results, between: str, term: str, *, conf_level: float = 0.95) -> Results:
    """Welch t tests of ``term`` for every pair of values of the by key ``between`` (key ``contrast``: ``"a - b"``).

    Rows are matched on the other by keys, as :func:`difference_test` does: ``between="region"``
    compares the regions season by season; ``between="season"`` the seasons region by region.

    Examples
    --------
    >>> import pcstats as pc
    >>> t = pc.read_table("tests/reference/trend_input.csv")
    >>> res = pc.fit(pc.TrendSpec("NEE ~ year", by=("region", "season"), where="source == 'ensemble'"), t)
    >>> pc.pairwise_differences(res, "season", "year").tidy()["contrast"].nunique()
    6
    """
    from itertools import combinations

    from .results import stack

    if between not in res.by:
        raise PcstatsError(f"pairwise_differences(between={between!r}): not a by key of {res.model!r} {res.by}.")
    rows = res.tidy()
    values = sorted(rows.loc[rows["term"] == term, between].dropna().unique(), key=str)
    if len(values) < 2:
        raise PcstatsError(f"pairwise_differences(): {res.model!r} has fewer than two {between} values with term {term!r}.")
    fits = {f"{a} - {b}": difference_test(res.subset(**{between: a}), res.subset(**{between: b}), term=term,
                                          conf_level=conf_level) for a, b in combinations(values, 2)}
    return stack(fits, "contrast", PairwiseSpec(res.model, term, between, conf_level))
