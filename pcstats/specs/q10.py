"""Q10Spec: respiration's temperature sensitivity, fitted by nonlinear least squares per group."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from ..errors import SpecError
from .checks import choice as _choice
from .checks import engine_name, normalise_by, replace_fields, spec_name
from .checks import typed as _typed
from .formula import check_where

__all__ = ["Q10Spec", "FORMS"]

#: the respiration models: name -> (formula as text, the temperature parameter)
FORMS: dict[str, tuple[str, str]] = {
    "q10": ("R = R_ref * Q10^((T - T_ref) / 10)", "Q10"),
    "lloyd_taylor": ("R = R_ref * exp(E0 * (1 / (T_ref - T0) - 1 / (T - T0)))", "E0"),
    "arrhenius": ("R = R_ref * exp(Ea / R_gas * (1 / T_ref - 1 / T)), T in K", "Ea"),
}


@dataclass(frozen=True)
class Q10Spec:
    """A respiration-temperature model fitted to each group of a long table.

    Parameters
    ----------
    response
        The respiration variable (e.g. ``"TER"``), a ``variable`` of the table.
    temperature
        The temperature variable in degC (e.g. ``"AirT"``), matched to the response like a trend
        formula's covariates are (see :mod:`pcstats.engines.prepare`).
    by
        Key columns; one fit per combination of their values (e.g. ``"region"``). Sources are
        never pooled: rows of several sources get ``source`` added to the groups.
    where
        Row filter, e.g. ``"kind == 'eddy_covariance'"``.
    form
        ``"q10"`` (``R_ref * Q10^((T - T_ref)/10)``), ``"lloyd_taylor"`` (Lloyd & Taylor 1994,
        ``R_ref * exp(E0 (1/(T_ref - T0) - 1/(T - T0)))``, E0 in K) or ``"arrhenius"``
        (``R_ref * exp(Ea/R_gas (1/T_ref - 1/T))``, Ea in kJ mol-1, temperatures in K).
    t_ref
        Reference temperature (degC) at which ``R_ref`` is the respiration rate.
    t0
        Lloyd-Taylor's T0 in degC (-46.02 degC = 227.13 K, their value).
    conf_level
        Confidence level of the Wald intervals.
    min_n
        Groups with fewer observations are reported in ``glance()`` and not fitted.
    engine
        ``"scipy"`` (``scipy.optimize.least_squares``; the only one).
    name
        Label of the model in outputs.

    Examples
    --------
    >>> import pcstats as pc
    >>> pc.Q10Spec(response="TER", temperature="AirT", by="region").label
    'TER ~ AirT [q10, T_ref 10 degC]'
    """

    response: str = "TER"
    temperature: str = "AirT"
    by: tuple[str, ...] = ()
    where: str | None = None
    form: Literal["q10", "lloyd_taylor", "arrhenius"] = "q10"
    t_ref: float = 10.0
    t0: float = -46.02
    conf_level: float = 0.95
    min_n: int = 5
    engine: str = "scipy"
    name: str | None = None

    kind: ClassVar[str] = "q10"

    def __post_init__(self) -> None:
        engine_name(self)
        spec_name(self)
        object.__setattr__(self, "by", normalise_by(self.by))
        for argument in ("response", "temperature"):
            value = getattr(self, argument)
            if not isinstance(value, str) or not value.isidentifier():
                raise SpecError(f"{argument}={value!r} must be the name of a variable of the table, e.g. 'TER' or 'AirT'.")
        if self.where is not None:
            check_where(self.where)
        _choice("form", self.form, tuple(FORMS))
        for argument in ("t_ref", "t0", "conf_level"):
            _typed(argument, getattr(self, argument), (int, float), "a number")
        _typed("min_n", self.min_n, int, "a whole number >= 3")
        if self.min_n < 3:
            raise SpecError(f"min_n={self.min_n!r}: two parameters need at least 3 observations (one residual df).")
        if not 0 < self.conf_level < 1:
            raise SpecError(f"conf_level={self.conf_level!r} must lie strictly between 0 and 1, e.g. 0.95.")
        if self.form == "lloyd_taylor" and self.t_ref <= self.t0:
            raise SpecError(f"t_ref={self.t_ref!r} must be above t0={self.t0!r} (degC) for the Lloyd-Taylor form.")
        if self.form == "arrhenius" and self.t_ref <= -273.15:
            raise SpecError(f"t_ref={self.t_ref!r} degC is below absolute zero.")

    @property
    def label(self) -> str:
        """``name`` if given, else ``'TER ~ AirT [form, T_ref ...]'``."""
        return self.name or f"{self.response} ~ {self.temperature} [{self.form}, T_ref {self.t_ref:g} degC]"

    @property
    def parameter(self) -> str:
        """The temperature parameter of the form: ``Q10``, ``E0`` or ``Ea``."""
        return FORMS[self.form][1]

    def replace(self, **changes: Any) -> Q10Spec:
        """A copy with some fields changed (the spec itself is frozen)."""
        return replace_fields(self, changes)
