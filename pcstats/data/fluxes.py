"""Derived fluxes."""

from __future__ import annotations

import pandas as pd

from ..errors import ContractError
from .contract import time_column

__all__ = ["ter_residual"]


def ter_residual(nee: pd.DataFrame, gpp: pd.DataFrame) -> pd.DataFrame:
    """Total ecosystem respiration as the residual TER = GPP - NEE (net uptake positive).

    Parameters
    ----------
    nee
        Long table of NEE with ``positive == "down"`` (run :func:`pcstats.convert_units`).
    gpp
        Long table of GPP in the same unit. If it has one source, that GPP is paired with every
        NEE source (e.g. satellite GPP with each inversion); otherwise sources are paired by name.

    Returns
    -------
    DataFrame
        TER rows with the NEE rows' source, kind and keys.

    Examples
    --------
    >>> import pandas as pd, pcstats as pc
    >>> base = {"kind": "inversion", "region": "P", "year": 2000, "season": "ANN", "unit": "gC m-2 yr-1"}
    >>> nee = pd.DataFrame([{**base, "source": "CAMS", "variable": "NEE", "value": 20.0, "positive": "down"}])
    >>> gpp = pd.DataFrame([{**base, "source": "FLUXSAT", "kind": "satellite", "variable": "GPP", "value": 500.0}])
    >>> pc.ter_residual(nee, gpp)[["source", "variable", "value"]].to_dict("records")
    [{'source': 'CAMS', 'variable': 'TER', 'value': 480.0}]
    """
    nee = nee[nee["variable"] == "NEE"]
    gpp = gpp[gpp["variable"] == "GPP"]
    if nee.empty or gpp.empty:
        raise ContractError("ter_residual() needs NEE rows in `nee` and GPP rows in `gpp`; one of them has none.")
    if "positive" not in nee.columns or set(nee["positive"].unique()) != {"down"}:
        raise ContractError(
            "ter_residual() needs NEE with net uptake positive (positive == 'down'); "
            "run pcstats.convert_units(table, positive={...}) first."
        )
    time = time_column(nee)
    if time_column(gpp) != time:
        raise ContractError(f"ter_residual(): NEE is by {time} but GPP is not; seasonalize both or neither.")
    units = set(nee["unit"].unique()) | set(gpp["unit"].unique())
    if len(units) != 1:
        raise ContractError(f"ter_residual(): NEE and GPP must share one unit, got {sorted(units)}; convert first.")
    keys = ["region", "year", time] + (["site"] if "site" in nee.columns and "site" in gpp.columns else [])
    if gpp["source"].nunique() > 1:
        keys.append("source")
    right = gpp[keys + ["value"]].rename(columns={"value": "_gpp"})
    out = nee.merge(right, on=keys, how="left", validate="many_to_one")
    lacking = int(out["_gpp"].isna().sum())
    if lacking == len(out):
        raise ContractError("ter_residual(): no NEE row has a matching GPP row (keys: " + ", ".join(keys) + ").")
    out["value"] = out["_gpp"] - out["value"]
    out["variable"] = "TER"
    out = out.drop(columns=["_gpp", "positive"])
    return out.reset_index(drop=True)
