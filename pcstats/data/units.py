"""Carbon-flux units and sign conventions.

Pure conversion factors live in :data:`RATE_UNITS`; :func:`convert_units` applies them to a long
table and sets the sign so that net uptake is positive. What was done is visible in the output:
the ``unit`` column holds the new unit and the ``positive`` column the new sign convention
(``"down"``: a flux into the land is positive, as CMIP's ``nbp``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..errors import ContractError, did_you_mean
from .contract import VARIABLES

__all__ = ["MOLAR_MASS_C", "DAYS_PER_YEAR", "RATE_UNITS", "rate_factor", "convert_units", "is_flux", "trend_unit"]

MOLAR_MASS_C = 12.011
"""g of carbon per mol of CO2 (one C atom per molecule; IUPAC conventional atomic weight)."""

DAYS_PER_YEAR = 365.0
"""The paper's convention for annualising daily rates (no leap days)."""

#: factor that turns one unit of each flux-rate unit into gC m-2 d-1
RATE_UNITS: dict[str, float] = {
    "gC m-2 d-1": 1.0,
    "gC m-2 s-1": 86400.0,
    "gC m-2 yr-1": 1.0 / DAYS_PER_YEAR,
    "kgC m-2 s-1": 1000.0 * 86400.0,
    "kg m-2 s-1": 1000.0 * 86400.0,  # CMIP/TRENDY: kilograms of carbon
    "mol m-2 s-1": MOLAR_MASS_C * 86400.0,  # mol CO2
    "umol m-2 s-1": MOLAR_MASS_C * 1e-6 * 86400.0,  # FLUXNET: umol CO2
    "µmol m-2 s-1": MOLAR_MASS_C * 1e-6 * 86400.0,
}


def rate_factor(from_unit: str, to_unit: str = "gC m-2 d-1") -> float:
    """Multiplier that converts a carbon flux rate from ``from_unit`` to ``to_unit``.

    Examples
    --------
    >>> round(rate_factor("mol m-2 s-1"), 3)   # 1 mol CO2 m-2 s-1 in gC m-2 d-1
    1037750.4
    >>> rate_factor("gC m-2 d-1", "gC m-2 yr-1")
    365.0
    """
    for unit in (from_unit, to_unit):
        if unit not in RATE_UNITS:
            raise ContractError(
                f"Unknown flux unit {unit!r}.{did_you_mean(unit, RATE_UNITS)} Known flux-rate units: "
                f"{', '.join(RATE_UNITS)}. Convert the column yourself or use one of these spellings."
            )
    return RATE_UNITS[from_unit] / RATE_UNITS[to_unit]


def trend_unit(unit: str) -> str:
    """The unit of a trend in ``unit`` per year.

    >>> trend_unit("gC m-2 yr-1"), trend_unit("degC")
    ('gC m-2 yr-2', 'degC yr-1')
    """
    return re.sub(r"yr-1\b", "yr-2", unit) if "yr-1" in unit else f"{unit} yr-1"


def is_flux(variables: pd.Series) -> np.ndarray:
    """Boolean mask of rows whose variable is a carbon flux."""
    flux = {name for name, v in VARIABLES.items() if v.flux}
    return variables.isin(flux).to_numpy()


def convert_units(
    table: pd.DataFrame,
    to: str = "gC m-2 d-1",
    *,
    positive: Mapping[str, str] | None = None,
    uptake_positive: bool = True,
) -> pd.DataFrame:
    """Convert carbon-flux rows to ``to`` and put net fluxes on one sign convention.

    Parameters
    ----------
    table
        A valid long table (monthly or seasonal rates).
    to
        Target rate unit, one of :data:`RATE_UNITS`.
    positive
        Native sign convention per source for net fluxes (NEE, NBP): ``{"CAMS": "up"}`` means
        CAMS reports release to the atmosphere as positive. Needed where the table has no
        ``positive`` column; overrides it where given.
    uptake_positive
        If true (the paper's convention) net fluxes come out with uptake positive
        (``positive="down"``); else release positive (``"up"``).

    Returns
    -------
    DataFrame
        A copy; non-flux rows are unchanged.

    Examples
    --------
    >>> import pandas as pd, pcstats as pc
    >>> t = pd.DataFrame({"source": ["CT2019B"], "kind": ["inversion"], "region": ["P"], "year": [2001],
    ...                   "month": [7], "variable": ["NEE"], "value": [-2e-6], "unit": ["mol m-2 s-1"]})
    >>> out = pc.convert_units(t, positive={"CT2019B": "up"})
    >>> round(float(out["value"].iloc[0]), 4), out["unit"].iloc[0], out["positive"].iloc[0]
    (2.0755, 'gC m-2 d-1', 'down')
    """
    out = table.copy()
    flux = is_flux(out["variable"])
    for unit in out.loc[flux, "unit"].unique():
        rows = flux & (out["unit"] == unit).to_numpy()
        out.loc[rows, "value"] = out.loc[rows, "value"] * rate_factor(unit, to)
        out.loc[rows, "unit"] = to

    net = out["variable"].isin([n for n, v in VARIABLES.items() if v.net]).to_numpy()
    native = out["positive"] if "positive" in out.columns else pd.Series(np.nan, index=out.index, dtype="str")
    if positive:
        unknown = [v for v in positive.values() if v not in ("up", "down")]
        if unknown:
            raise ContractError(f"positive= values must be 'up' or 'down', got {unknown}.")
        mapped = out["source"].map(dict(positive))
        native = mapped.where(mapped.notna(), native)
    lacking = net & native.isna().to_numpy()
    if lacking.any():
        sources = sorted(out.loc[lacking, "source"].unique())
        raise ContractError(
            f"Net-flux rows of {sources} have no sign convention. Pass positive={{{sources[0]!r}: 'up'}} "
            "('up' if release to the atmosphere is positive, as in most inversion products) or add a "
            "'positive' column."
        )
    target = "down" if uptake_positive else "up"
    flip = net & (native != target).to_numpy()
    out.loc[flip, "value"] = -out.loc[flip, "value"]
    out["positive"] = np.where(net, target, None)
    out["positive"] = out["positive"].astype("str")
    return out
