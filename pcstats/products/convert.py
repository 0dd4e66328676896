"""Native product units to pcstats units: fluxes in gC m-2 yr-1, temperatures in degC, covers in %.

Rates use the package's conventions (:mod:`pcstats.data.units`): 12.011 g C per mol CO2 and
365 days per year. Two product units need more than a factor:

* ``kgC m-2 month-1`` (CAMS): the month's total, divided by the days of that month in the
  file's calendar;
* ``PgC/yr`` (Jena CarboScope): a flux per grid cell, divided by the cell's area (m2);
* ``kg-CO2/m2/month`` (JAMSTEC MIROC4-ACTM): the month's total mass of CO2, x 12.011 / 44.0095 g C
  per g CO2, divided by the days of the month.

NDVI is unitless (kept as is); soil moisture is volumetric, m3 m-3 (percent is divided by 100).

Each conversion returns the text that says what was done; readers write it into the output's
``pcstats_conversion`` attribute.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from ..data.units import DAYS_PER_YEAR, MOLAR_MASS_C, rate_factor
from .._optional import optional_import

__all__ = ["FLUX_UNIT", "MOLAR_MASS_CO2", "Conversion", "conversion", "days_in_month"]

FLUX_UNIT = "gC m-2 yr-1"

#: accepted spellings -> the RATE_UNITS key of the same unit
_RATE_SPELLINGS = {
    "mol m-2 s-1": "mol m-2 s-1",
    "kg m-2 s-1": "kg m-2 s-1", "kg C m-2 s-1": "kg m-2 s-1", "kgC m-2 s-1": "kg m-2 s-1",
    "gC m-2 d-1": "gC m-2 d-1", "g C m-2 d-1": "gC m-2 d-1", "g C/m2/d": "gC m-2 d-1", "gC/m2/d": "gC m-2 d-1",
    "g C m-2 day-1": "gC m-2 d-1", "gC m-2 day-1": "gC m-2 d-1", "gC/m2/day": "gC m-2 d-1",
}
MOLAR_MASS_CO2 = 44.0095  # g mol-1
_CO2_MONTH = ("kg-CO2/m2/month", "kg CO2 m-2 month-1", "kgCO2 m-2 month-1")
_RATE_TEXT = {
    "mol m-2 s-1": f"x {MOLAR_MASS_C} gC mol-1 x 86400 s d-1 x {DAYS_PER_YEAR:g} d yr-1",
    "kg m-2 s-1": f"x 1000 g kg-1 x 86400 s d-1 x {DAYS_PER_YEAR:g} d yr-1",
    "gC m-2 d-1": f"x {DAYS_PER_YEAR:g} d yr-1",
}
_CELSIUS = ("degrees Celsius", "degC", "Celsius", "deg C", "degrees_Celsius")
_PERCENT = ("%", "percent")
_FRACTION = ("1", "fraction", "0-1")
_UNITLESS = ("1", "", "-", "none", "unitless", "NDVI")
_VOLUMETRIC = ("m3 m-3", "m3/m3", "m^3 m^-3", "m3.m-3", "cm3 cm-3")


@dataclass(frozen=True)
class Conversion:
    """How one native unit becomes the pcstats unit; ``needs`` names per-file inputs beyond the values."""

    unit: str
    text: str
    factor: float = 1.0
    offset: float = 0.0
    needs: str | None = None  # "days_in_month" or "cell_area"

    def apply(self, values: xr.DataArray, *, days: xr.DataArray | None = None, area: xr.DataArray | None = None) -> xr.DataArray:
        if self.needs == "days_in_month":
            return values * (self.factor / days)
        if self.needs == "cell_area":
            return values * self.factor / area
        return values * self.factor + self.offset if self.offset else values * self.factor


def conversion(units: str, variable: str) -> Conversion | None:
    """The conversion of ``units`` for pcstats variable ``variable``, or None if pcstats does not know the unit.

    Examples
    --------
    >>> c = conversion("mol m-2 s-1", "NEE")
    >>> round(c.factor), c.unit
    (378778896, 'gC m-2 yr-1')
    >>> conversion("PgC/yr", "NEE").needs
    'cell_area'
    >>> conversion("m3 m-3", "SM").unit
    'm3 m-3'
    """
    units = units.strip()
    if variable in ("NEE", "NBP", "GPP", "TER", "RA", "RH"):
        if units in _RATE_SPELLINGS:
            key = _RATE_SPELLINGS[units]
            return Conversion(FLUX_UNIT, _RATE_TEXT[key], rate_factor(key, FLUX_UNIT))
        if units in ("kgC m-2 month-1", "kg C m-2 month-1"):
            return Conversion(FLUX_UNIT, f"x 1000 g kg-1 / days in the month (file calendar) x {DAYS_PER_YEAR:g} d yr-1",
                              1000.0 * DAYS_PER_YEAR, needs="days_in_month")
        if units in ("PgC/yr", "PgC yr-1", "Pg C yr-1"):
            return Conversion(FLUX_UNIT, "x 1e15 g Pg-1 / cell area (m2)", 1e15, needs="cell_area")
        if units in _CO2_MONTH:
            return Conversion(FLUX_UNIT, f"x 1000 g kg-1 x {MOLAR_MASS_C}/{MOLAR_MASS_CO2} gC gCO2-1 / days in the month "
                              f"(file calendar) x {DAYS_PER_YEAR:g} d yr-1",
                              1000.0 * MOLAR_MASS_C / MOLAR_MASS_CO2 * DAYS_PER_YEAR, needs="days_in_month")
        return None
    if variable == "NDVI":
        return Conversion("1", "unchanged (NDVI, unitless)") if units in _UNITLESS else None
    if variable == "SM":
        if units in _VOLUMETRIC:
            return Conversion("m3 m-3", "unchanged (m3 m-3)")
        if units in _PERCENT:
            return Conversion("m3 m-3", "/ 100 (volumetric % to m3 m-3)", 0.01)
        return None
    if variable in ("AirT", "MAT"):
        if units in _CELSIUS:
            return Conversion("degC", "unchanged (degC)")
        if units in ("K", "kelvin", "Kelvin"):
            return Conversion("degC", "- 273.15 (K to degC)", offset=-273.15)
        return None
    if variable in ("TC", "P"):
        if units in _PERCENT:
            return Conversion("%", "unchanged (%)")
        if units in _FRACTION:
            return Conversion("%", "x 100 (fraction to %)", 100.0)
        return None
    return None


def days_in_month(years: np.ndarray, months: np.ndarray, calendar: str) -> np.ndarray:
    """Days of each (year, month) in a CF calendar.

    >>> days_in_month(np.array([2000, 2000]), np.array([2, 3]), "noleap").tolist()
    [28, 31]
    """
    cftime = optional_import("cftime", "CF calendars")

    return np.array([cftime.datetime(int(y), int(m), 1, calendar=calendar).daysinmonth for y, m in zip(years, months)])
