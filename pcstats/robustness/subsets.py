"""Refits on subsets of the sources: each alone, leave one out, the longest against the shortest.

The paper's checks that no single inversion drives the result. ``over`` names the key column whose
values are the members (usually ``source``); members are the values of ``over`` among the rows of
the spec's response variable. Rows of other sources (a covariate such as CRU AirT) are kept in every
subset. Ensemble rows in the table (rows with ``ensemble_n``, made by :func:`pcstats.ensemble`) are
recomputed from each subset's members, so a spec fitted to the ensemble refits the subset's
ensemble. Each function returns one Results with the subset as its first key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ..data.ensemble import ensemble
from ..engines import fit
from ..errors import PcstatsError
from ..results import Results, stack
from ..specs.formula import parse_formula

__all__ = ["SubsetSpec", "by_source", "leave_one_out", "longest_vs_shortest", "members"]


@dataclass(frozen=True)
class SubsetSpec:
    """What a subset run did: the base spec, the kind of run, the key and its subsets."""

    base: Any
    run: str
    over: str
    subsets: tuple[tuple[str, tuple[str, ...]], ...]

    kind: ClassVar[str] = "robustness"

    @property
    def label(self) -> str:
        return f"{self.base.label} [{self.run}]"

    @property
    def conf_level(self) -> float:
        return getattr(self.base, "conf_level", 0.95)


def _response(spec: Any) -> str:
    return parse_formula(getattr(spec, "fixed", None) or spec.formula).response


def members(spec: Any, table: pd.DataFrame, over: str = "source") -> list[str]:
    """The members a subset run takes apart: values of ``over`` with rows of the response, ensembles excepted."""
    if over not in table.columns:
        raise PcstatsError(f"over={over!r} is not a column of the table ({', '.join(map(str, table.columns))}).")
    rows = table[(table["variable"] == _response(spec)) & ~_is_ensemble(table)]
    found = sorted(map(str, rows[over].dropna().unique()))
    if not found:
        raise PcstatsError(f"no rows of {_response(spec)!r} to take apart by {over!r}.")
    return found


def _is_ensemble(table: pd.DataFrame) -> pd.Series:
    return table["ensemble_n"].notna() if "ensemble_n" in table.columns else pd.Series(False, index=table.index)


def _subset_table(table: pd.DataFrame, keep: list[str], everyone: list[str], over: str) -> pd.DataFrame:
    """Rows of the members kept (and of non-members), with the ensemble recomputed from the kept members."""
    is_ens = _is_ensemble(table)
    base = table[~is_ens & (~table[over].isin(everyone) | table[over].isin(keep))]
    if not is_ens.any():
        return base.reset_index(drop=True)
    name = str(table.loc[is_ens, over].iloc[0])
    kinds = table.loc[is_ens, "kind"].unique()
    part = base[base[over].isin(keep) & base["kind"].isin(kinds)]
    return pd.concat([base, ensemble(part.drop(columns=["ensemble_sd", "ensemble_n"], errors="ignore"), over=over, name=name)],
                     ignore_index=True)


def _run(spec: Any, table: pd.DataFrame, subsets: dict[str, list[str]], everyone: list[str], over: str, key: str,
         run: str) -> Results:
    fits = {}
    for label, keep in tqdm(subsets.items(), total=len(subsets), desc=run, delay=1.0, leave=False, disable=None):
        fits[label] = fit(spec, _subset_table(table, keep, everyone, over))
    return stack(fits, key, SubsetSpec(spec, run, over, tuple((k, tuple(v)) for k, v in subsets.items())))


def by_source(spec: Any, table: pd.DataFrame, over: str = "source") -> Results:
    """The spec fitted to each member alone (its ensemble is then the member itself).

    A spec whose ``by`` already has ``over`` is refused (it is fitted per member already), and so
    is a mixed model whose random effects group by ``over`` (use :func:`leave_one_out`).

    Examples
    --------
    >>> import pcstats as pc
    >>> t = pc.read_table("tests/reference/trend_input.csv")
    >>> spec = pc.TrendSpec("NEE ~ year", by=("region", "season"), where="source == 'ensemble'")
    >>> res = pc.robustness.by_source(spec, t)
    >>> res.by, sorted(res.tidy()["source"].unique())[:2]
    (('source', 'region', 'season'), ['CAMS', 'CT2019B'])
    """
    random = getattr(getattr(spec, "parsed", None), "random", ())
    if any(over in term.factors for term in random):
        raise PcstatsError(f"by_source(): {spec.label!r} has random effects grouped by {over!r}, which one {over} alone "
                           "cannot estimate; use leave_one_out() or drop that term.")
    if over in spec.by:
        raise PcstatsError(f"by_source(): {spec.label!r} already fits each {over} separately (by={tuple(spec.by)!r}); "
                           f"its per-{over} trends are pc.fit(spec, table). by_source() refits a spec that pools or "
                           f"ensembles the {over} values (e.g. where=\"{over} == 'ensemble'\") on each one alone.")
    everyone = members(spec, table, over)
    return _run(spec, table, {m: [m] for m in everyone}, everyone, over, over, f"each {over} alone")


def leave_one_out(spec: Any, table: pd.DataFrame, over: str = "source") -> Results:
    """The spec refitted with each member left out in turn (key ``left_out``).

    Examples
    --------
    >>> import pcstats as pc
    >>> t = pc.read_table("tests/reference/trend_input.csv")
    >>> spec = pc.TrendSpec("NEE ~ year", by=("region", "season"), where="source == 'ensemble'")
    >>> pc.robustness.leave_one_out(spec, t).glance()["left_out"].nunique()
    6
    """
    everyone = members(spec, table, over)
    if len(everyone) < 2:
        raise PcstatsError(f"leave_one_out(): only one {over} ({everyone[0]}); nothing to leave out.")
    return _run(spec, table, {m: [x for x in everyone if x != m] for m in everyone}, everyone, over, "left_out",
                f"leave one {over} out")


def longest_vs_shortest(spec: Any, table: pd.DataFrame, longest: int = 2, shortest: int = 3, over: str = "source") -> Results:
    """The spec fitted to the ``longest`` members with the longest records and to the ``shortest`` shortest.

    Record length is the number of distinct years with a finite value of the response; ties are
    broken by name. The key ``subset`` holds e.g. ``"longest 2 (CAMS, Jena_s76)"``.
    """
    everyone = members(spec, table, over)
    for name, value in (("longest", longest), ("shortest", shortest)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise PcstatsError(f"longest_vs_shortest({name}={value!r}): give a whole number >= 1.")
    if longest + shortest > len(everyone):
        raise PcstatsError(f"longest_vs_shortest(longest={longest}, shortest={shortest}): only {len(everyone)} "
                           f"{over} values ({', '.join(everyone)}); the two subsets must not overlap.")
    rows = table[(table["variable"] == _response(spec)) & ~_is_ensemble(table) & table["value"].notna()]
    years = rows.groupby(over)["year"].nunique().reindex(everyone)
    ranked = sorted(everyone, key=lambda m: (-years[m], m))
    top, bottom = ranked[:longest], sorted(ranked[-shortest:], key=lambda m: (years[m], m))
    subsets = {f"longest {longest} ({', '.join(top)})": top, f"shortest {shortest} ({', '.join(bottom)})": bottom}
    return _run(spec, table, subsets, everyone, over, "subset", f"longest {longest} vs shortest {shortest}")
