"""Ensemble mean over the sources available at each time and cell (the grid twin of :func:`pcstats.ensemble`)."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import xarray as xr

from ..errors import ProductError
from .geometry import check_same_grid

__all__ = ["ensemble_grid"]


def ensemble_grid(members: Mapping[str, xr.DataArray]) -> xr.Dataset:
    """Mean, SD (ddof=1) and count over the members finite at each point.

    Members are aligned on their non-spatial coordinates with an outer join, so a year that
    only some sources cover is averaged over those (``ensemble_n`` says how many); they must
    share one grid and one unit.

    Examples
    --------
    >>> import xarray as xr
    >>> g = {"year": [2000, 2001], "lat": [60.5], "lon": [0.5]}
    >>> a = xr.DataArray([[[1.0]], [[5.0]]], dims=("year", "lat", "lon"), coords=g, attrs={"units": "u"})
    >>> b = (a.sel(year=[2000]) + 2).assign_attrs(units="u")
    >>> e = ensemble_grid({"A": a.rename("NEE"), "B": b.rename("NEE")})
    >>> e["NEE"].values.ravel().tolist(), e["ensemble_n"].values.ravel().tolist()
    ([2.0, 5.0], [2, 1])
    """
    if len(members) < 1:
        raise ProductError("ensemble_grid(): no members given.")
    names = list(members)
    first = members[names[0]]
    units = {n: m.attrs.get("units") for n, m in members.items()}
    if len(set(units.values())) > 1:
        raise ProductError(f"ensemble_grid(): members disagree on units {units}; read them with read_product so every "
                           "source is in pcstats units.")
    for n in names[1:]:
        check_same_grid(members[n], first, f"{names[0]} ensemble-member")
    stack = xr.concat([members[n] for n in names], dim=pd.Index(names, name="source"), join="outer",
                      coords="minimal", compat="override")
    name = first.name or "NEE"
    out = xr.Dataset({
        name: stack.mean("source", skipna=True).assign_attrs(first.attrs),
        "ensemble_sd": stack.std("source", ddof=1, skipna=True).assign_attrs(units=units[names[0]]),
        "ensemble_n": stack.count("source"),
    })
    return out.assign_attrs(members=", ".join(names))
