"""MixedSpec: linear mixed models with lme4-style random effects, one fit per group."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import re

from ..errors import SpecError, did_you_mean
from .checks import choice, engine_name, normalise_by, replace_fields, spec_name, typed
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
    family, link
        The response distribution, as ``glmer(family = binomial(link = "logit"))``: ``"gaussian"``
        (default: a linear mixed model, ``lmer``), ``"binomial"`` (0/1, proportions with ``weights=``
        the numbers of trials, or ``cbind(successes, failures) ~ ...``), ``"poisson"``, ``"gamma"``
        (R's ``Gamma``) or ``"inverse_gaussian"``; ``link`` defaults to the canonical one (logit, log,
        inverse, 1/mu^2). Non-Gaussian models are fitted by the Laplace approximation, as ``glmer``.
    n_agq
        Adaptive Gauss-Hermite quadrature points (lme4's ``nAGQ``): 1 is the Laplace approximation;
        more need a non-Gaussian family and a single scalar random effect (``(1 | g)``).
    dispersion
        A one-sided formula of one factor, ``"~ period"``: one residual SD per level, as
        ``nlme::lme(weights = varIdent(form = ~ 1 | period))`` (glmmTMB's ``dispformula``); REML or
        ML, profiled engine, Gaussian family. The factor is a column of the data (on a long table
        ``period``, the decade of ``year``, is derived when absent); each level needs two rows. The
        first level (sorted, or a categorical's order) is the reference: ``tidy()`` keeps its SD as
        ``sd__Observation`` and adds one row per level, group ``"Residual"``, term
        ``sd__Observation.<level>`` (σ times nlme's varIdent ratio); ``glance()`` has the ratios in
        ``dispersion_ratios`` and counts them in ``df``, AIC and BIC, as nlme does.
    ddf
        Denominator df of the fixed-effect tests: ``"satterthwaite"`` (lmerTest's; the default for
        linear mixed models), ``"kenward-roger"`` (pbkrtest's, with the adjusted covariance of the
        fixed effects; REML only) or ``"none"`` (Wald z tests; what ``glmer`` reports, and the
        default for other families).
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
    family: str = "gaussian"
    link: str | None = None
    n_agq: int = 1
    dispersion: str | None = None
    ddf: str | None = None
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
        self._check_glmm(parsed)
        clash = [f for f in parsed.grouping_factors if f in self.by]
        if clash:
            raise SpecError(
                f"{clash[0]!r} is both a by key and a grouping factor of a random effect; within one by group it "
                "has a single level. Drop it from by=, or from the random-effect term."
            )

    def _check_glmm(self, parsed: MixedFormula) -> None:
        from ..stats.glm_families import FAMILIES as DISTRIBUTIONS, canonical_family

        typed("family", self.family, str, "a distribution such as 'binomial' or 'poisson'")
        object.__setattr__(self, "family", canonical_family(self.family))
        links = DISTRIBUTIONS[self.family]
        if self.link is not None:
            typed("link", self.link, str, f"a link of the {self.family} family ({', '.join(links)})")
            if self.link not in links:
                raise SpecError(f"link={self.link!r} is not a link of the {self.family} family; use one of "
                                f"{', '.join(links)}." + did_you_mean(self.link, links))
        if re.match(r"\s*cbind\s*\(", self.formula) and self.family != "binomial":
            raise SpecError(f"formula {self.formula!r}: cbind(successes, failures) is a binomial response; add "
                            "family='binomial'.")
        typed("n_agq", self.n_agq, int, "a whole number of quadrature points such as 1 (Laplace) or 5")
        if not 1 <= self.n_agq <= 25:
            raise SpecError(f"n_agq={self.n_agq!r}: use 1 (the Laplace approximation) to 25 quadrature points, as lme4.")
        if self.n_agq > 1:
            if self.family == "gaussian":
                raise SpecError("n_agq > 1 is for non-Gaussian families (a linear mixed model's likelihood is exact); "
                                "drop n_agq or set family=.")
            terms = parsed.random
            if len(terms) != 1 or terms[0].columns != ("(Intercept)",):
                raise SpecError(f"n_agq={self.n_agq} needs a single scalar random effect such as (1 | herd), as "
                                f"lme4's nAGQ > 1; this model has {', '.join(t.text for t in terms)}. Use n_agq=1 "
                                "(Laplace).")
        if self.ddf is not None:
            choice("ddf", self.ddf, ("satterthwaite", "kenward-roger", "none"))
            if self.ddf == "kenward-roger" and not self.reml:
                raise SpecError("ddf='kenward-roger' is defined for REML fits (pbkrtest refits ML models by REML); "
                                "use reml=True, or ddf='satterthwaite'.")
            if self.ddf != "none" and self.family != "gaussian":
                raise SpecError(f"ddf={self.ddf!r} is for linear mixed models; a {self.family} GLMM has Wald z tests "
                                "(ddf='none'), as glmer.")
        if self.dispersion is not None:
            typed("dispersion", self.dispersion, str, "a one-sided formula of one factor such as '~ period'")
            if self.family != "gaussian":
                raise SpecError("dispersion= (a residual SD per level) is for family='gaussian' models.")
            if not re.fullmatch(r"\s*~\s*[A-Za-z_.][\w.]*\s*", self.dispersion):
                raise SpecError(f"dispersion={self.dispersion!r} must be a one-sided formula of one column, e.g. "
                                "'~ period' (nlme's varIdent(form = ~ 1 | period)).")

    @property
    def degrees_of_freedom(self) -> str:
        """The df method in effect: ``ddf``, else Satterthwaite for Gaussian models and none otherwise."""
        return self.ddf or ("satterthwaite" if self.family == "gaussian" else "none")

    @property
    def dispersion_factor(self) -> str | None:
        """The column of ``dispersion="~ period"`` (``"period"``), or None."""
        return None if self.dispersion is None else self.dispersion.replace("~", "").strip()

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
        extras = [self.family if self.family != "gaussian" else "", f"nAGQ={self.n_agq}" if self.n_agq > 1 else "",
                  f"dispersion{self.dispersion}" if self.dispersion else "", "KR" if self.ddf == "kenward-roger" else ""]
        extras = [e for e in extras if e]
        return (self.formula + ("" if self.reml or self.family != "gaussian" else " [ML]")
                + (f" [{', '.join(extras)}]" if extras else ""))

    def replace(self, **changes: Any) -> MixedSpec:
        """A copy with some fields changed (the spec itself is frozen)."""
        return replace_fields(self, changes)
