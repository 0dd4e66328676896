"""MixedSpec: linear mixed models with lme4-style random effects, one fit per group."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ..errors import SpecError
from .checks import engine_name, normalise_by, replace_fields, spec_name, typed
from .formula import check_where
from .random_effects import MixedFormula, parse_mixed_formula

__all__ = ["MixedSpec"]


@dataclass(frozen=True)
class MixedSpec:
    """A linear mixed model: fixed effects plus lme4-style random-effect terms.

    Parameters
    ----------
    formula
        ``response ~ fixed terms + (terms | group) + ...``. Fixed terms are as in
        :class:`pcstats.TrendSpec`; random-effect terms are parsed by
        :func:`pcstats.specs.random_effects.parse_mixed_formula` (``(1 | g)``, ``(1 + x | g)``,
        ``(0 + x | g)``, ``(x || g)``, ``(1 | a:b)``, ``(1 | a/b)``). Slopes may be expressions
        (``(0 + factor(x) | g)``). On a data frame, names and grouping factors are any of its
        columns (text or numeric), as in ``lmer``; on a long table grouping factors are key
        columns (``source``, ``region``, ``year``, ...). ``year_c`` is ``year`` minus the mean of
        the distinct years fitted in the group (recorded as ``year_centre`` in ``glance()``).
    by
        Key columns; one model per combination of their values.
    where
        Row filter applied before fitting, e.g. ``"season == 'ANN'"``.
    reml
        REML (default, as lme4) or maximum likelihood.
    conf_level
        Level of the Wald intervals of the fixed effects (t with the engine's df where it has
        them, normal otherwise).
    weights
        A column of positive weights, as ``lmer(..., weights = w)``: the residual variance of a row
        is sigma^2 / w. Every engine fits the rows scaled by sqrt(w); the log-likelihood, AIC, BIC
        and deviance are on the original scale, as lme4 reports them.
    engine
        ``"profiled"`` (default: lme4's profiled-deviance algorithm in numpy, with lmerTest's
        Satterthwaite df; no R needed), ``"statsmodels"`` (MixedLM; Wald z tests, no df; fits one
        correlated term plus nested or crossed variance components) or ``"lme4"`` (R's
        lme4/lmerTest through pymer4). An engine that cannot fit a term refuses and names it.
    name
        Label of the model in ``tidy()`` and ``compare()``; defaults to :attr:`label`.

    Examples
    --------
    >>> import pandas as pd, pcstats as pc
    >>> sleep = pd.read_csv("tests/reference/model_frames/data/sleepstudy.csv")
    >>> res = pc.fit(pc.MixedSpec("Reaction ~ Days + (Days | Subject)"), sleep)
    >>> res.tidy().query("component == 'fixed'")["estimate"].round(3).tolist()
    [251.405, 10.467]
    >>> spec = pc.MixedSpec("NEE ~ year_c * region + (1 + year_c | source)", where="season == 'ANN'")
    >>> [t.group for t in spec.random]
    ['source']
    >>> spec.replace(reml=False).label
    'NEE ~ year_c * region + (1 + year_c | source) [ML]'
    """

    formula: str
    by: tuple[str, ...] = ()
    where: str | None = None
    reml: bool = True
    conf_level: float = 0.95
    weights: str | None = None
    engine: str = "profiled"
    name: str | None = None

    kind: ClassVar[str] = "mixed"

    def __post_init__(self) -> None:
        object.__setattr__(self, "by", normalise_by(self.by))
        parsed = parse_mixed_formula(self.formula)
        if self.where is not None:
            check_where(self.where)
        typed("reml", self.reml, bool, "True (REML) or False (maximum likelihood)")
        typed("conf_level", self.conf_level, (int, float), "a number such as 0.95")
        if not 0 < self.conf_level < 1:
            raise SpecError(f"conf_level={self.conf_level!r} must lie strictly between 0 and 1, e.g. 0.95.")
        engine_name(self)
        spec_name(self)
        if self.weights is not None:
            typed("weights", self.weights, str, "a column name, or None")
        clash = [f for f in parsed.grouping_factors if f in self.by]
        if clash:
            raise SpecError(
                f"{clash[0]!r} is both a by key and a grouping factor of a random effect; within one by group it "
                "has a single level. Drop it from by=, or from the random-effect term."
            )

    @property
    def parsed(self) -> MixedFormula:
        """The formula split into fixed part and random-effect terms."""
        return parse_mixed_formula(self.formula)

    @property
    def fixed(self) -> str:
        """The fixed-effects formula (``NEE ~ year_c * region``)."""
        return self.parsed.fixed

    @property
    def random(self):
        """The random-effect terms (:class:`pcstats.specs.random_effects.RandomTerm`)."""
        return self.parsed.random

    @property
    def label(self) -> str:
        """``name`` if given, else the formula, marked ``[ML]`` for maximum likelihood."""
        if self.name:
            return self.name
        return self.formula + ("" if self.reml else " [ML]")

    def replace(self, **changes: Any) -> MixedSpec:
        """A copy with some fields changed (the spec itself is frozen)."""
        return replace_fields(self, changes)
