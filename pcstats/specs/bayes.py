"""BayesSpec: the mixed-model formula, fitted as a Bayesian hierarchical model in PyMC.

The formula is read by the same random-effect parser as :class:`pcstats.MixedSpec`, so a
Bayesian fit and a REML fit of one formula have the same terms and line up in ``compare()``.
Priors are named, written as strings, parsed here (no code is run) and recorded in the Results.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from ..errors import SpecError, did_you_mean
from .checks import choice, engine_name, normalise_by, replace_fields, spec_name, typed
from .formula import check_where
from .random_effects import MixedFormula, parse_mixed_formula

__all__ = ["BayesSpec", "DEFAULT_PRIORS", "PRIOR_FAMILIES", "parse_prior"]

#: prior name -> default, absolute numbers in the response's units (not centred or scaled): sensible
#: for seasonal fluxes in gC m-2 yr-1; set ``priors`` for other units (fit() warns when they are narrow)
DEFAULT_PRIORS: dict[str, str] = {
    "intercept": "normal(0, 100)",  # the (Intercept) column, on the response's scale
    "fixed": "normal(0, 10)",  # every other fixed effect
    "sd": "halfnormal(5)",  # random-effect SDs
    "cor": "lkj(2)",  # correlations of a term's random effects (LKJ eta)
    "sigma": "halfnormal(20)",  # residual SD
    "nu": "gamma(2, 0.1)",  # Student-t degrees of freedom (likelihood="student_t")
}

#: distribution -> its parameters, in order
PRIOR_FAMILIES: dict[str, tuple[str, ...]] = {
    "normal": ("mu", "sigma"),
    "student_t": ("nu", "mu", "sigma"),
    "halfnormal": ("sigma",),
    "halfcauchy": ("beta",),
    "halfstudent_t": ("nu", "sigma"),
    "exponential": ("lam",),
    "gamma": ("alpha", "beta"),
    "lkj": ("eta",),
}

_PRIOR = re.compile(r"^\s*([a-z_]+)\s*\(\s*([^()]*)\s*\)\s*$")


def parse_prior(name: str, text: str) -> tuple[str, tuple[float, ...]]:
    """``"normal(0, 10)"`` -> ``("normal", (0.0, 10.0))``, with errors naming the prior.

    >>> parse_prior("fixed", "student_t(3, 0, 2.5)")
    ('student_t', (3.0, 0.0, 2.5))
    """
    match = _PRIOR.match(text) if isinstance(text, str) else None
    if not match:
        raise SpecError(f"priors[{name!r}]={text!r} is not a prior; write e.g. 'normal(0, 10)' or 'halfnormal(5)'.")
    family, args = match.group(1), [a.strip() for a in match.group(2).split(",") if a.strip()]
    if family not in PRIOR_FAMILIES:
        raise SpecError(f"priors[{name!r}]: unknown distribution {family!r}.{did_you_mean(family, PRIOR_FAMILIES)} "
                        f"Known: {', '.join(PRIOR_FAMILIES)}.")
    expected = PRIOR_FAMILIES[family]
    form = f"{family}({', '.join(expected)})"
    if len(args) != len(expected):
        raise SpecError(f"priors[{name!r}]={text!r}: {family} takes {len(expected)} parameter(s); write {form}.")
    values = []
    for arg, parameter in zip(args, expected):
        try:
            value = float(arg)
        except ValueError:
            raise SpecError(f"priors[{name!r}]={text!r}: {parameter}={arg!r} is not a number; parameters must be "
                            f"numbers, as in {form}.") from None
        if not math.isfinite(value):
            raise SpecError(f"priors[{name!r}]={text!r}: {parameter}={arg} is not finite; parameters must be finite "
                            "numbers (no inf or nan).")
        if parameter != "mu" and not value > 0:
            raise SpecError(f"priors[{name!r}]={text!r}: {parameter}={arg} must be positive (scale and shape "
                            "parameters are > 0).")
        values.append(value)
    return family, tuple(values)


@dataclass(frozen=True)
class BayesSpec:
    """A Bayesian hierarchical model: a mixed-model formula with priors, sampled with NUTS.

    Parameters
    ----------
    formula
        As :class:`pcstats.MixedSpec`: ``NEE ~ year_c * region + (1 + year_c | source)``, or on a
        data frame ``Reaction ~ Days + (Days | Subject)`` (brms's syntax). Random
        effects are non-centred; a term with several columns gets correlated effects with an LKJ
        prior on the correlations.
    by, where
        As for the other specs.
    priors
        Name -> prior string, overriding :data:`DEFAULT_PRIORS` (``intercept``, ``fixed``, ``sd``,
        ``cor``, ``sigma``, ``nu``). The priors used are recorded in ``glance()``. The defaults are
        absolute numbers for fluxes in gC m-2 yr-1 on a long table; on any other data frame the
        priors left unset are scaled to the data as brms's defaults
        (:func:`pcstats.engines.bayes_pymc.data_scaled_priors`).
    likelihood
        ``"normal"`` or ``"student_t"`` (robust to outlying years; ``nu`` gets a prior).
    sigma_by
        A key column: one residual SD per value (e.g. a period column, or ``"source"``), for
        time- or source-dependent spread. None: one residual SD.
    draws, tune, chains
        Posterior draws and tuning steps per chain, and the number of chains.
    seed
        Seed of the sampler: a rerun gives identical draws.
    sampler
        ``"nutpie"`` (default; PyMC's NUTS is used, with a warning, when nutpie is not installed)
        or ``"pymc"``.
    target_accept
        NUTS target acceptance rate.
    conf_level
        Probability of the highest-density intervals ``conf_low``/``conf_high``.

    Examples
    --------
    >>> import pcstats as pc
    >>> spec = pc.BayesSpec("NEE ~ year_c * region + (1 + year_c | source)", priors={"fixed": "normal(0, 5)"})
    >>> spec.prior("fixed"), spec.prior("sd")
    ('normal(0, 5)', 'halfnormal(5)')
    """

    formula: str
    by: tuple[str, ...] = ()
    where: str | None = None
    priors: Mapping[str, str] = field(default_factory=dict)
    likelihood: Literal["normal", "student_t"] = "normal"
    sigma_by: str | None = None
    draws: int = 1000
    tune: int = 1000
    chains: int = 4
    seed: int = 1
    sampler: Literal["nutpie", "pymc"] = "nutpie"
    target_accept: float = 0.9
    conf_level: float = 0.95
    engine: str = "pymc"
    name: str | None = None

    kind: ClassVar[str] = "bayes"

    def __post_init__(self) -> None:
        object.__setattr__(self, "by", normalise_by(self.by))
        parse_mixed_formula(self.formula)
        if self.where is not None:
            check_where(self.where)
        if not isinstance(self.priors, Mapping):
            raise SpecError(f"priors={self.priors!r} must be a mapping such as {{'fixed': 'normal(0, 10)'}}.")
        object.__setattr__(self, "priors", dict(self.priors))
        for name, text in self.priors.items():
            if name not in DEFAULT_PRIORS:
                raise SpecError(f"priors: unknown prior {name!r}.{did_you_mean(name, DEFAULT_PRIORS)} "
                                f"Names: {', '.join(DEFAULT_PRIORS)}.")
            parse_prior(name, text)
        if parse_prior("cor", self.prior("cor"))[0] != "lkj":
            raise SpecError("priors['cor'] must be an LKJ prior, e.g. 'lkj(2)'.")
        choice("likelihood", self.likelihood, ("normal", "student_t"))
        if self.sigma_by is not None:
            typed("sigma_by", self.sigma_by, str, "a key column, or None")
        for arg in ("draws", "tune", "chains", "seed"):
            typed(arg, getattr(self, arg), int, "a whole number")
        if self.draws < 10 or self.tune < 0 or self.chains < 1:
            raise SpecError("draws must be >= 10, tune >= 0 and chains >= 1.")
        choice("sampler", self.sampler, ("nutpie", "pymc"))
        for arg in ("target_accept", "conf_level"):
            typed(arg, getattr(self, arg), (int, float), "a number between 0 and 1")
            if not 0 < getattr(self, arg) < 1:
                raise SpecError(f"{arg}={getattr(self, arg)!r} must lie strictly between 0 and 1.")
        engine_name(self)
        spec_name(self)

    def prior(self, name: str) -> str:
        """The prior string in use for ``name`` (given, or the default)."""
        return self.priors.get(name, DEFAULT_PRIORS[name])

    @property
    def parsed(self) -> MixedFormula:
        return parse_mixed_formula(self.formula)

    @property
    def fixed(self) -> str:
        return self.parsed.fixed

    @property
    def label(self) -> str:
        """``name`` if given, else the formula marked ``[Bayes]``."""
        return self.name or f"{self.formula} [Bayes]"

    def replace(self, **changes: Any) -> BayesSpec:
        """A copy with some fields changed (the spec itself is frozen)."""
        return replace_fields(self, changes)
