"""PanelSpec: fixed-effects panel regressions (site-years with site and optional year effects)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from ..errors import SpecError
from .checks import choice as _choice
from .checks import engine_name, normalise_by, replace_fields, spec_name
from .checks import typed as _typed
from .formula import check_where, parse_formula

__all__ = ["PanelSpec", "COV_TYPES"]

#: covariance estimators of the slopes (see :mod:`pcstats.engines.panel_linearmodels` for the R equivalents)
COV_TYPES: tuple[str, ...] = ("clustered", "robust", "unadjusted")


@dataclass(frozen=True)
class PanelSpec:
    """A panel regression per group of a long table: entity (and time) fixed effects, shared slopes.

    Used for a temperature sensitivity from flux towers: sites differ in their level of NEE, which
    the entity effects absorb, and share the within-site slope on temperature.

    Parameters
    ----------
    formula
        R-style formula ``response ~ regressors``; names are ``variable`` values of the table (or key
        columns), matched as in a trend formula. With effects the intercept is absorbed and not
        reported; without effects (pooled OLS) the formula's intercept is fitted as ``(Intercept)``.
    entity
        Key column that identifies the panel's units (default ``"site"``); SEs are clustered by it.
    time
        Key column of the panel's periods (default ``"year"``); each (entity, time) pair may occur
        once per group.
    by
        Key columns; one panel regression per combination of their values (e.g. ``"season"``).
    where
        Row filter, e.g. ``"kind == 'eddy_covariance'"``.
    entity_effects
        Entity fixed effects (the within estimator).
    time_effects
        Time fixed effects as well (two-way fixed effects).
    cov_type
        ``"clustered"`` (by entity, with the Stata small-sample factor), ``"robust"`` (White) or
        ``"unadjusted"`` (homoskedastic).
    conf_level
        Confidence level of ``conf_low``/``conf_high``.
    min_entities
        Groups with fewer distinct entities are reported in ``glance()`` and not fitted.
    engine
        ``"linearmodels"`` (``linearmodels.PanelOLS``; the only one).
    name
        Label of the model in outputs; defaults to :attr:`label`.

    Examples
    --------
    >>> import pcstats as pc
    >>> spec = pc.PanelSpec("NEE ~ AirT", by="season", where="kind == 'eddy_covariance'")
    >>> spec.label
    'NEE ~ AirT [site effects, clustered by site]'
    >>> spec.replace(time_effects=True, cov_type="robust").label
    'NEE ~ AirT [site + year effects, robust]'
    """

    formula: str
    entity: str = "site"
    time: str = "year"
    by: tuple[str, ...] = ()
    where: str | None = None
    entity_effects: bool = True
    time_effects: bool = False
    cov_type: Literal["clustered", "robust", "unadjusted"] = "clustered"
    conf_level: float = 0.95
    min_entities: int = 5
    engine: str = "linearmodels"
    name: str | None = None

    kind: ClassVar[str] = "panel"

    def __post_init__(self) -> None:
        engine_name(self)
        spec_name(self)
        object.__setattr__(self, "by", normalise_by(self.by))
        parsed = parse_formula(self.formula)
        if self.where is not None:
            check_where(self.where)
        for argument in ("entity", "time"):
            value = getattr(self, argument)
            if not isinstance(value, str) or not value.isidentifier():
                raise SpecError(f"{argument}={value!r} must be the name of a key column, e.g. 'site' or 'year'.")
        if self.entity == self.time:
            raise SpecError(f"entity and time are both {self.entity!r}; the panel needs two key columns, e.g. entity='site', time='year'.")
        for argument in ("entity", "time"):
            if getattr(self, argument) in self.by:
                raise SpecError(f"{argument}={getattr(self, argument)!r} is also in by={self.by!r}; a panel spans its "
                                f"{argument} values, so take it out of by.")
            if getattr(self, argument) in parsed.names:
                raise SpecError(f"formula={self.formula!r} names the {argument} column {getattr(self, argument)!r}; "
                                f"use {argument}_effects=True instead of a regressor.")
        for argument in ("entity_effects", "time_effects"):
            _typed(argument, getattr(self, argument), bool, "True or False")
        _choice("cov_type", self.cov_type, COV_TYPES)
        _typed("conf_level", self.conf_level, (int, float), "a number such as 0.95")
        if not 0 < self.conf_level < 1:
            raise SpecError(f"conf_level={self.conf_level!r} must lie strictly between 0 and 1, e.g. 0.95.")
        _typed("min_entities", self.min_entities, int, "a whole number >= 2")
        if self.min_entities < 2:
            raise SpecError(f"min_entities={self.min_entities!r}: a panel needs at least 2 entities (clustered SEs need many more).")

    @property
    def label(self) -> str:
        """``name`` if given, else the formula with the effects and covariance type."""
        if self.name:
            return self.name
        effects = [c for c, on in ((self.entity, self.entity_effects), (self.time, self.time_effects)) if on]
        shown = f"{' + '.join(effects)} effects" if effects else "pooled"
        cov = f"clustered by {self.entity}" if self.cov_type == "clustered" else self.cov_type
        return f"{self.formula} [{shown}, {cov}]"

    def replace(self, **changes: Any) -> PanelSpec:
        """A copy with some fields changed (the spec itself is frozen)."""
        return replace_fields(self, changes)
