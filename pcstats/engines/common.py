"""What every engine does after fitting: put the groups' numbers into one Results."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ..results import TIDY_COLUMNS, Provenance, Results, build_results, finish_warnings, package_versions
from .prepare import Prepared

__all__ = ["assemble", "group_slices", "progress", "group_label"]


def group_slices(prepared: Prepared) -> dict[int, slice]:
    """Row slice of each fitted group in ``prepared.frame`` (the frame is sorted by group)."""
    codes = prepared.frame["_group"].to_numpy()
    if len(codes) == 0:
        return {}
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    ends = np.r_[starts[1:], len(codes)]
    return {int(codes[s]): slice(int(s), int(e)) for s, e in zip(starts, ends)}


def group_label(prepared: Prepared, group: int) -> str:
    """``region='P', season='ANN'`` for messages."""
    if not prepared.by:
        return "the whole table"
    row = prepared.groups.loc[group]
    return ", ".join(f"{b}={(row[b].item() if hasattr(row[b], 'item') else row[b])!r}" for b in prepared.by)


def progress(items: Iterable[Any], total: int, desc: str):
    """A progress bar on long loops (shown on terminals only, and only past 200 groups)."""
    return tqdm(items, total=total, desc=desc, disable=None if total > 200 else True, leave=False)


def assemble(
    spec: Any,
    prepared: Prepared,
    *,
    engine: str,
    engine_version: str,
    coefficients: pd.DataFrame,
    statistics: pd.DataFrame,
    warnings: Iterable[str] = (),
    augmenter: Callable[[], pd.DataFrame] | None = None,
    native: Mapping[Any, Any] | None = None,
    seed: int | None = None,
    packages: tuple[str, ...] = (),
    skipped: Mapping[int, str] | None = None,
) -> Results:
    """Join engine output (indexed by group code in column ``_group``) with the group table.

    ``statistics`` gets one row per group, fitted or not, with ``n_dropped`` and ``dropped_why``;
    ``skipped`` names groups the engine found it could not fit, with the reason.
    """
    by = list(prepared.by)
    groups = prepared.groups.copy()
    for group, reason in (skipped or {}).items():
        why = groups.at[group, "dropped_why"]
        groups.at[group, "dropped_why"] = f"{why}; {reason}" if why else reason
        groups.at[group, "fit"] = False
        groups.at[group, "n_dropped"] = groups.at[group, "nobs"] + groups.at[group, "n_dropped"]
    keys = groups[by] if by else pd.DataFrame(index=groups.index)
    coef = coefficients.merge(keys, left_on="_group", right_index=True, how="left")
    coef = coef[by + list(TIDY_COLUMNS) + [c for c in coefficients.columns if c not in TIDY_COLUMNS and c != "_group"]]
    stats = groups[by + ["nobs"]].copy()
    extra = statistics.set_index("_group").drop(columns=["nobs"], errors="ignore")
    stats = stats.join(extra, how="left")
    stats["n_dropped"] = groups["n_dropped"].astype("int64")
    stats["dropped_why"] = groups["dropped_why"]
    stats["nobs"] = np.where(groups["fit"], stats["nobs"], 0).astype("int64")
    messages = list(warnings)
    skipped = groups[~groups["fit"]]
    if len(skipped):
        first = skipped.index[0]
        messages.append(
            f"{len(skipped)} of {len(groups)} group(s) not fitted (see glance().dropped_why), e.g. "
            f"{group_label(prepared, first)}: {skipped.at[first, 'dropped_why']}"
        )
    return build_results(
        spec, engine, engine_version, prepared.by, coef, stats,
        provenance=Provenance(prepared.data_hash, seed, package_versions(*packages)),
        removed=prepared.removed,
        warnings=finish_warnings(messages, type(spec).kind),
        units=dict(prepared.units),
        augmenter=augmenter,
        native=native,
        model_data=prepared,
    )
