"""Ensemble statistics over sources (or any other key column)."""

from __future__ import annotations

import pandas as pd

from ..errors import ContractError
from .contract import key_columns

__all__ = ["ensemble"]


def ensemble(table: pd.DataFrame, over: str = "source", *, name: str = "ensemble") -> pd.DataFrame:
    """Mean and SD over whichever members of ``over`` cover each row's keys.

    Members are averaged where their value is finite, so the ensemble of a year uses the
    inversions that cover that year; ``ensemble_n`` says how many did, ``ensemble_sd`` is their
    SD (ddof=1; NaN when only one member). Rows of different ``kind`` are kept apart.

    Parameters
    ----------
    table
        Valid long table.
    over
        Key column to average over, usually ``"source"``.
    name
        Label written into ``over`` for the ensemble rows.

    Examples
    --------
    >>> import pandas as pd, pcstats as pc
    >>> t = pd.DataFrame({"source": ["A", "B", "A"], "kind": "inversion", "region": "P",
    ...                   "year": [2000, 2000, 2001], "season": "ANN", "variable": "NEE",
    ...                   "value": [1.0, 3.0, 5.0], "unit": "gC m-2 yr-1"})
    >>> pc.ensemble(t)[["year", "value", "ensemble_sd", "ensemble_n"]].to_dict("list")
    {'year': [2000, 2001], 'value': [2.0, 5.0], 'ensemble_sd': [1.4142135623730951, nan], 'ensemble_n': [2.0, 1.0]}
    """
    keys = key_columns(table)
    if over not in keys:
        raise ContractError(f"ensemble(over={over!r}): {over!r} is not a key column; use one of {keys}.")
    keys = [k for k in keys if k != over]
    grouped = table.groupby(keys, sort=True, dropna=False)
    for col in [c for c in ("unit", "positive") if c in table.columns]:
        counts = grouped[col].nunique(dropna=False)
        if (counts > 1).any():
            bad = counts[counts > 1].index[0]
            raise ContractError(
                f"ensemble(): members disagree on {col!r} at {dict(zip(keys, bad))}; "
                "run pcstats.convert_units() first so every source has one unit and sign convention."
            )
    carried = [c for c in ("unit", "positive", "weight") if c in table.columns]
    out = grouped.agg(
        value=("value", "mean"),
        ensemble_sd=("value", "std"),
        ensemble_n=("value", "count"),
        **{c: (c, "first") for c in carried},
    ).reset_index()
    out[over] = name
    out["ensemble_n"] = out["ensemble_n"].astype("float64")
    columns = [c for c in table.columns if c not in ("lat", "lon", "ensemble_sd", "ensemble_n")]
    return out[columns + ["ensemble_sd", "ensemble_n"]]
