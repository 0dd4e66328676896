"""Temperature sensitivity γ of seasonal fluxes: direct (same-season) and legacy (spring) effects.

γ is the OLS slope of a season's flux on a temperature, per group (region, data kind, source):

* **direct**: the season's NEE on the same season's AirT;
* **legacy**: the season's NEE on spring (``"MJ"``, May-Jun) AirT of the same year, the paper's
  carry-over effect of spring warmth on the later seasons.

Units, as in the paper: gC m-2 d-1 K-1, recorded as ``units["gamma"]`` of the Results. The flux
must be in gC m-2 d-1 with net uptake positive (what :func:`pcstats.convert_units` makes); it enters
as the season's mean daily rate (``seasonalize(how="mean")``, i.e. the package's default "mean x
365" values divided by 365) and the temperature as its seasonal mean in degC, so a slope per degC
is per K.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import pandas as pd

from .data.contract import time_column
from .data.seasons import SEASONS, seasonalize
from .engines import fit
from .errors import ContractError, PcstatsError, did_you_mean
from .results import Results
from .specs.formula import evaluate_where
from .specs.trend import TrendSpec

__all__ = ["DRIVER_SEASONS", "sensitivity"]

#: seasons a driver can be taken from, besides the flux seasons: name -> months
DRIVER_SEASONS: dict[str, tuple[int, ...]] = {"MJ": (5, 6)}

_FLUX_UNIT = "gC m-2 d-1"
_REGION_CLASS_NAMES = frozenset({"permafrost", "region_class", "class", "pf", "p_nop"})  # the classes are in `region`


def sensitivity(
    table: pd.DataFrame,
    response: str = "NEE",
    driver: str = "AirT",
    driver_season: str | None = None,
    seasons: Sequence[str] = ("EGS", "LGS", "ANN"),
    by: str | Sequence[str] = ("region",),
    *,
    where: str | None = None,
    season_months: Mapping[str, Sequence[int]] | None = None,
    name: str | None = None,
) -> Results:
    """γ = d(flux)/d(temperature) per group and season, in gC m-2 d-1 K-1 (see the module docstring).

    Parameters
    ----------
    table
        A monthly long table with the response (e.g. NEE, net uptake positive) and the driver (e.g.
        AirT in degC). Driver rows from a source of their own (CRU AirT beside the inversions' NEE)
        pair with every source of the response.
    driver_season
        ``None`` for the direct effect (same season), or a season to take the driver from for the
        legacy effect: ``"MJ"`` (May-Jun) or any flux season (``"EGS"``, ...).
    seasons
        The response's seasons (of :data:`pcstats.SEASONS`, or of ``season_months``).
    by
        Keys to fit within, besides ``season`` (e.g. ``("source", "region")``). The permafrost
        classes (P, NoP) are the ``region`` column: ``by="region"``.
    where
        Row filter applied to both variables first (key columns), e.g. ``"source != 'ensemble'"``.
    season_months
        ``{name: months}`` to use instead of :data:`pcstats.SEASONS`.

    Returns
    -------
    Results
        A trend-family fit (statsmodels engine) of ``response ~ driver`` by ``(*by, season)``; the
        slope is the ``tidy()`` row with ``term == driver``, its unit ``units["gamma"]``
        (``"gC m-2 d-1 K-1"`` for a temperature in degC or K). Seasons or years where the driver is
        missing are dropped and counted in ``glance()`` (``n_dropped``, ``dropped_why``).
        ``pcstats.difference_test`` compares two γs (Welch t); :func:`pcstats.pairwise_differences`
        compares all regions, seasons or sources of one fit.

    Examples
    --------
    >>> import pcstats as pc
    >>> monthly = pc.read_table("fixtures/evaluation/sites_monthly.parquet")
    >>> g = pc.sensitivity(monthly, driver_season="MJ", seasons=("LGS",), by="region", where="source == 'FLUXNET'")
    >>> g.units["NEE"], g.tidy().query("term == 'AirT'")[["region", "season"]].values.tolist()
    ('gC m-2 d-1', [['NoP', 'LGS'], ['P', 'LGS']])
    >>> g.units["gamma"]
    'gC m-2 d-1 K-1'
    """
    if time_column(table) != "month":
        raise PcstatsError("sensitivity() needs a monthly table (column 'month'); seasons are made here so the driver "
                           "can come from another season than the flux.")
    months = dict(SEASONS if season_months is None else season_months)
    unknown = [s for s in seasons if s not in months]
    if unknown:
        raise PcstatsError(f"sensitivity(seasons={tuple(seasons)!r}): {unknown[0]!r} is not a season.{did_you_mean(unknown[0], months)} "
                           f"Seasons: {', '.join(months)}.")
    if driver_season is not None and driver_season not in {**DRIVER_SEASONS, **months}:
        raise PcstatsError(f"sensitivity(driver_season={driver_season!r}): not a season.{did_you_mean(driver_season, [*DRIVER_SEASONS, *months])} "
                           f"Use one of {', '.join([*DRIVER_SEASONS, *months])}, or None for the same season.")
    present = table["variable"].unique().tolist()
    for argument, variable in (("response", response), ("driver", driver)):
        if variable not in present:
            raise PcstatsError(f"sensitivity({argument}={variable!r}): no such variable in the table.{did_you_mean(variable, present)} "
                               f"Variables: {', '.join(map(str, present))}.")
    by = (by,) if isinstance(by, str) else tuple(by)
    for key in by:
        if key not in table.columns:
            hint = (" The permafrost classes (P, NoP) are in the 'region' column: use by='region'."
                    if key.lower() in _REGION_CLASS_NAMES and "region" in table.columns else did_you_mean(key, table.columns))
            raise PcstatsError(f"sensitivity(by={by!r}): {key!r} is not a column of the table.{hint}")
    flux_rows = table[table["variable"] == response]
    _check_flux(flux_rows[evaluate_where(where, flux_rows)] if where else flux_rows, response)
    flux = seasonalize(flux_rows, {s: months[s] for s in seasons}, how="mean")
    rows = table[table["variable"] == driver]
    if driver_season is None:
        temperature = seasonalize(rows, {s: months[s] for s in seasons})
        label = f"gamma direct: {response} ~ same-season {driver}"
    else:
        spring = seasonalize(rows, {driver_season: {**months, **DRIVER_SEASONS}[driver_season]})
        temperature = pd.concat([spring.assign(season=s) for s in seasons], ignore_index=True)
        label = f"gamma legacy: {response} ~ {driver_season} {driver}"
    spec = TrendSpec(f"{response} ~ {driver}", by=(*by, "season"), where=where, engine="statsmodels", name=name or label)
    res = fit(spec, pd.concat([flux, temperature], ignore_index=True))
    driver_unit = res.units.get(driver, "")
    per = "K-1" if driver_unit in ("degC", "K") else f"per {driver_unit or driver}"
    return dataclasses.replace(res, units={**res.units, "gamma": f"{res.units.get(response, _FLUX_UNIT)} {per}"})


def _check_flux(rows: pd.DataFrame, response: str) -> None:
    """γ is in gC m-2 d-1 K-1 with net uptake positive: refuse other units and release-positive rows."""
    signs = set(rows["positive"].dropna()) if "positive" in rows.columns else set()
    if signs - {"down"}:
        raise ContractError(f"sensitivity(response={response!r}): column 'positive' is {sorted(signs)!r} for some rows "
                            "(release positive); γ needs net uptake positive. Run pcstats.convert_units(table) first.")
    units = set(rows["unit"].dropna()) if "unit" in rows.columns else set()
    if units - {_FLUX_UNIT}:
        raise ContractError(f"sensitivity(response={response!r}): column 'unit' is {sorted(units)!r}; γ is in "
                            f"{_FLUX_UNIT} K-1. Run pcstats.convert_units(table) first.")
