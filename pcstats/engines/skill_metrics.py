"""Skill engine "numpy": simulated against observed values, aligned, scored per group.

Alignment: the simulated rows (``SkillSpec.simulated``) and observed rows (``observed``) are matched
on the key columns other than source, kind and variable (region, [site], year, month or season).
Rows of either side without a partner are not compared; how many, per side, is in
``Results.removed`` (stage ``align``). NaN values are dropped per group and counted in ``glance()``.
The maths is :mod:`pcstats.stats.skill`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._version import __version__
from ..data.contract import key_columns, validate
from ..errors import ContractError, SpecError, did_you_mean
from ..specs.formula import evaluate_where, where_names
from ..specs.skill import SkillSpec, parse_selector
from ..stats.skill import TERMS, skill_metrics
from .common import assemble, group_label
from .prepare import Prepared, data_hash, group_frame

__all__ = ["KIND_ALIASES", "fit", "prepare_skill", "select"]

#: names users give to kinds: TRENDY models are kind "dgvm", flux towers "eddy_covariance"
KIND_ALIASES = {"TRENDY": "dgvm", "DGVM": "dgvm", "EC": "eddy_covariance"}


def select(table: pd.DataFrame, argument: str, selector: str) -> pd.DataFrame:
    """The rows a ``'WHO:VARIABLE'`` selector names (WHO: a source, a kind, or an alias of a kind)."""
    who, variable = parse_selector(argument, selector)
    sources, kinds = table["source"].unique().tolist(), table["kind"].unique().tolist()
    if who in sources:
        rows = table["source"] == who
    elif KIND_ALIASES.get(who, who) in kinds:
        rows = table["kind"] == KIND_ALIASES.get(who, who)
    elif who in KIND_ALIASES:
        raise SpecError(f"{argument}={selector!r}: the table has no rows of kind {KIND_ALIASES[who]!r} ({who}); "
                        f"kinds present: {', '.join(kinds)}.")
    else:
        raise SpecError(
            f"{argument}={selector!r}: {who!r} is neither a source nor a kind of the table."
            f"{did_you_mean(who, sources + kinds + list(KIND_ALIASES))} Sources: {', '.join(map(str, sources[:12]))}; "
            f"kinds: {', '.join(kinds)} (aliases: {', '.join(f'{a} = {k}' for a, k in KIND_ALIASES.items())})."
        )
    present = table.loc[rows, "variable"].unique().tolist()
    if variable not in present:
        raise SpecError(f"{argument}={selector!r}: {who} has no variable {variable!r}.{did_you_mean(variable, present)} "
                        f"Its variables: {', '.join(present)}.")
    return table[rows & (table["variable"] == variable)]


def _one(rows: pd.DataFrame, column: str, argument: str, selector: str) -> str | None:
    if column not in rows.columns:
        return None
    values = rows[column].dropna().unique().tolist()
    if len(values) > 1:
        raise ContractError(f"{argument}={selector!r} mixes {column} values {values}; convert with "
                            "pcstats.convert_units() (or seasonalize every source the same way) first.")
    return values[0] if values else None


def prepare_skill(spec: SkillSpec, table: pd.DataFrame) -> Prepared:
    """Align the two sides and group them; see the module docstring."""
    seasons = table["season"].unique().tolist() if "season" in table.columns else None
    table = validate(table, seasons=seasons, variables=table["variable"].unique().tolist())
    keys = key_columns(table)
    on = [k for k in keys if k not in ("source", "kind", "variable")]
    by = tuple(dict.fromkeys(("source",) + spec.by))
    for b in by:
        if b not in keys or b in ("kind", "variable"):
            raise SpecError(f"by={spec.by!r}: {b!r} is not a key column to score within.{did_you_mean(b, on)} "
                            f"Use some of: {', '.join(on)} (the simulated source is always a key)."
                            + (" The table is monthly: run pcstats.seasonalize() on it first to score by season."
                               if b == "season" and "month" in on else ""))
    removed = []
    if spec.where:
        names = where_names(spec.where)
        if not names <= set(keys):
            raise SpecError(f"where={spec.where!r} may only name key columns ({', '.join(keys)}).")
        keep = evaluate_where(spec.where, table)
        removed.append(("where", f"rows not matching where={spec.where!r}", int((~keep).sum()), len(table)))
        table = table[keep]
    sim, obs = select(table, "simulated", spec.simulated), select(table, "observed", spec.observed)
    if set(sim.index) & set(obs.index):
        raise SpecError(f"simulated={spec.simulated!r} and observed={spec.observed!r} select the same rows.")
    units = {side: _one(rows, "unit", side, getattr(spec, side)) for side, rows in (("simulated", sim), ("observed", obs))}
    if units["simulated"] != units["observed"]:
        raise ContractError(f"simulated values are in {units['simulated']!r} but observed ones in {units['observed']!r}; "
                            "put both in one unit (pcstats.convert_units(), then seasonalize both the same way).")
    signs = {side: _one(rows, "positive", side, getattr(spec, side)) for side, rows in (("simulated", sim), ("observed", obs))}
    if None not in signs.values() and signs["simulated"] != signs["observed"]:
        raise ContractError(f"simulated values are positive {signs['simulated']!r} but observed ones positive "
                            f"{signs['observed']!r}; pcstats.convert_units() puts net fluxes net-uptake-positive.")
    duplicated = obs.duplicated(on)
    if duplicated.any():
        first = obs[duplicated].iloc[0]
        raise ContractError(
            f"observed={spec.observed!r} has several values for {dict(first[on])} (sources "
            f"{sorted(obs.loc[(obs[on] == first[on]).all(axis=1), 'source'].unique())}); pick one source as observed."
        )
    left = sim[["source"] + on + ["value"]].rename(columns={"value": "simulated"})
    right = obs[on + ["value"]].rename(columns={"value": "observed"})
    wide = left.merge(right, on=on, how="left", validate="many_to_one")
    no_obs = ~wide.set_index(on).index.isin(right.set_index(on).index)
    sources = left["source"].unique()
    obs_keys = right.set_index(on).index
    unmatched_obs = sum(int((~obs_keys.isin(left.loc[left["source"] == s].set_index(on).index)).sum()) for s in sources)
    removed.append(("align", f"simulated rows without an observed value at the same {', '.join(on)}",
                    int(no_obs.sum()), len(wide)))
    removed.append(("align", f"observed rows without a simulated value (summed over the {len(sources)} simulated "
                    "source(s))", unmatched_obs, len(right) * len(sources)))
    wide = wide[~no_obs].reset_index(drop=True)
    if wide.empty:
        raise ContractError(f"simulated={spec.simulated!r} and observed={spec.observed!r} share no {', '.join(on)}; "
                            "nothing to compare (check the years, sites and seasons of both).")
    return group_frame(wide, ("simulated", "observed"), ("simulated", "observed"), by, 1, removed, units=
                       {"simulated": units["simulated"] or "", "observed": units["observed"] or ""},
                       digest=data_hash(table), response="simulated")


def fit(spec: SkillSpec, prepared: Prepared):
    frame, groups = prepared.frame, prepared.groups
    fitted = groups.index[groups["fit"]].to_numpy()
    position = {g: i for i, g in enumerate(fitted)}
    codes = frame["_group"].map(position).to_numpy()
    m = skill_metrics(frame["simulated"].to_numpy(float), frame["observed"].to_numpy(float), codes, len(fitted))
    few = m["n"] < spec.min_n
    skipped = {int(g): f"not scored: {int(n)} pairs < min_n={spec.min_n}" for g, n, f in zip(fitted, m["n"], few) if f}
    keep = ~few
    coefficients = pd.DataFrame({
        "_group": np.repeat(fitted[keep], len(TERMS)), "component": "skill",
        "term": np.tile(TERMS, int(keep.sum())),
        "estimate": np.column_stack([m[t][keep] for t in TERMS]).ravel() if keep.any() else np.array([]),
    })
    for column in ("std_error", "statistic", "p_value", "conf_low", "conf_high"):
        coefficients[column] = np.nan
    statistics = pd.DataFrame({"_group": fitted[keep], **{k: m[k][keep] for k in
                                                          ("mean_simulated", "mean_observed", "sd_simulated", "sd_observed")}})
    messages = []
    for name, bad, why in (("NSE, NNSE, r and KGE", m["sd_observed"] == 0, "the observed series is constant"),
                           ("r and KGE", (m["sd_simulated"] == 0) & (m["sd_observed"] > 0), "the simulated series is constant"),
                           ("the mean ratio and KGE", m["mean_observed"] == 0, "the observed mean is 0")):
        bad = bad & keep
        if bad.any():
            first = int(fitted[np.flatnonzero(bad)[0]])
            messages.append(f"{name} undefined (NaN) in {int(bad.sum())} group(s) where {why}, e.g. "
                            f"{group_label(prepared, first)}")

    def augment() -> pd.DataFrame:
        out = frame.drop(columns="_group")
        return out.assign(resid=out["simulated"] - out["observed"]).reset_index(drop=True)

    return assemble(spec, prepared, engine="numpy", engine_version=__version__, coefficients=coefficients,
                    statistics=statistics, warnings=messages, skipped=skipped, augmenter=augment)
