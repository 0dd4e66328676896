"""SEMSpec: structural equation models in lavaan syntax, one fit per group of rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import pandas as pd

from ..errors import SpecError, did_you_mean
from .checks import choice, engine_name, normalise_by, replace_fields, spec_name, typed
from .formula import check_where

__all__ = ["SEMSpec"]


@dataclass(frozen=True)
class SEMSpec:
    """A structural equation model: lavaan model syntax fitted to the table's variables.

    Parameters
    ----------
    model
        lavaan syntax: ``=~``, ``~``, ``~~``, ``~ 1``, labels (``y ~ a*x``), fixed values
        (``0*x``), ``:=`` defined parameters. On a data frame, observed variables are its
        columns (as ``lavaan::sem(model, data)``); on a long table they are its variables,
        matched without regard to case (``gpp`` is the variable ``GPP``).
    by
        Key columns; one model per combination of their values (e.g. ``("kind", "season")``).
    where
        Row filter applied before fitting.
    group
        A column (a key column of a long table, e.g. ``"kind"``; ``"school"`` of
        HolzingerSwineford1939) for a multi-group model: one set of parameters per value,
        one χ² test for all (lavaan's ``sem(..., group = )``). A label used in several groups
        (``a*x``) makes the parameter equal across them; ``c(a1, a2)*x`` gives one per group.
    group_equal
        lavaan's ``group.equal``: classes of parameters held equal across groups, from
        ``"loadings"``, ``"intercepts"``, ``"means"``, ``"residuals"``, ``"residual.covariances"``,
        ``"lv.variances"``, ``"lv.covariances"``, ``"regressions"``.
    group_partial
        Parameters exempt from ``group_equal`` (lavaan's ``group.partial``), e.g. ``("visual =~ x2", "x3 ~ 1")``.
    meanstructure
        ``True`` adds intercepts (``~1`` rows in ``tidy()``) to a one-group model; ``None`` (lavaan's
        default) has them with ``group=``, ``missing="fiml"`` or ``~ 1`` statements.
    std_lv
        lavaan's ``std.lv``: latent variables scaled by unit (residual) variances instead of their
        first loadings, which are then free.
    missing
        ``"listwise"`` (rows with a missing value are dropped and counted) or ``"fiml"`` (full
        information ML on every row with at least one value, lavaan's ``missing = "ml"``).
    estimator
        ``"ML"`` (normal-theory maximum likelihood, lavaan's default), ``"MLR"`` (ML with Huber-White
        standard errors and the Yuan-Bentler scaled χ²) or ``"MLM"`` (Satorra-Bentler; complete data).
    se
        ``"standard"`` (as lavaan: expected information; observed with FIML) or ``"bootstrap"``.
    bootstrap
        Number of bootstrap draws when ``se="bootstrap"``.
    seed
        Seed of the bootstrap; recorded in the Results.
    conf_level
        Level of ``conf_low``/``conf_high``.
    engine
        ``"pcstats"`` (maximum likelihood on lavaan's parameter table, :mod:`pcstats.engines.sem_native`)
        or ``"semopy"`` (semopy finds the estimates of one-group ML models without means or constraints;
        pcstats computes the rest).
    name
        Label of the model in ``tidy()`` and ``compare()``.

    Examples
    --------
    >>> import pcstats as pc
    >>> spec = pc.SEMSpec("gpp ~ airt + par\\nnee ~ gpp", by=("kind", "season"))
    >>> spec.replace(se="bootstrap", seed=1).se
    'bootstrap'
    """

    model: str
    by: tuple[str, ...] = ()
    where: str | None = None
    group: str | None = None
    group_equal: tuple[str, ...] = ()
    group_partial: tuple[str, ...] = ()
    meanstructure: bool | None = None
    std_lv: bool = False
    missing: Literal["listwise", "fiml"] = "listwise"
    estimator: Literal["ML", "MLR", "MLM"] = "ML"
    se: Literal["standard", "bootstrap"] = "standard"
    bootstrap: int = 1000
    seed: int | None = None
    conf_level: float = 0.95
    engine: str = "pcstats"
    name: str | None = None

    kind: ClassVar[str] = "sem"

    def __post_init__(self) -> None:
        from .lavaan_syntax import parse_model

        object.__setattr__(self, "by", normalise_by(self.by))
        typed("model", self.model, str, "lavaan model syntax, e.g. 'nee ~ gpp + ter'")
        table = parse_model(self.model)
        if not ((table["op"] == "=~").any() or (table["op"] == "~").any()):
            raise SpecError(
                f"model={self.model!r} has no regression ('y ~ x') and no latent variable ('f =~ x1 + x2 + x3'); "
                "with only intercepts ('~ 1') or (co)variances ('~~') there is no structure to fit. Add the paths, "
                "e.g. 'nee ~ gpp + ter'.")
        ustart = pd.to_numeric(table["ustart"], errors="coerce")
        negative = table[(table["op"] == "~~") & (table["lhs"] == table["rhs"]) & (ustart < 0)]
        if len(negative):
            row = negative.iloc[0]
            raise SpecError(
                f"model: '{row['lhs']} ~~ {ustart[row.name]:g}*{row['rhs']}' fixes the variance of {row['lhs']!r} at a "
                f"negative value, which no covariance matrix has; fix it at a positive value (e.g. '1*{row['rhs']}') "
                "or leave it free.")
        if self.where is not None:
            check_where(self.where)
        if self.group is not None:
            typed("group", self.group, str, "a key column such as 'kind', or None")
            if self.group in self.by:
                raise SpecError(f"group={self.group!r} is also a by key; a by key has one value per fit.")
        self._check_groups()
        if self.meanstructure is not None:
            typed("meanstructure", self.meanstructure, bool, "True, False or None (lavaan's default)")
        typed("std_lv", self.std_lv, bool, "True or False")
        choice("missing", self.missing, ("listwise", "fiml"))
        choice("estimator", self.estimator, ("ML", "MLR", "MLM"))
        if self.estimator == "MLM" and self.missing == "fiml":
            raise SpecError("estimator='MLM' (Satorra-Bentler) needs complete data and cannot go with missing='fiml'; "
                            "use estimator='MLR', which lavaan also uses with FIML.")
        choice("se", self.se, ("standard", "bootstrap"))
        typed("bootstrap", self.bootstrap, int, "a whole number of draws such as 1000")
        if self.bootstrap < 10:
            raise SpecError(f"bootstrap={self.bootstrap!r}: use at least 10 draws (1000 for intervals).")
        if self.seed is not None:
            typed("seed", self.seed, int, "a whole number, or None")
        typed("conf_level", self.conf_level, (int, float), "a number such as 0.95")
        if not 0 < self.conf_level < 1:
            raise SpecError(f"conf_level={self.conf_level!r} must lie strictly between 0 and 1, e.g. 0.95.")
        engine_name(self)
        spec_name(self)

    def _check_groups(self) -> None:
        from .lavaan_syntax import GROUP_EQUAL, _partial_key

        for name in ("group_equal", "group_partial"):
            value = getattr(self, name)
            if isinstance(value, str):
                value = (value,)
                object.__setattr__(self, name, value)
            if not isinstance(value, (tuple, list)) or not all(isinstance(v, str) for v in value):
                raise SpecError(f"{name}={value!r} must be a tuple of strings, e.g. "
                                + ("('loadings', 'intercepts')." if name == "group_equal" else "('visual =~ x2',)."))
            object.__setattr__(self, name, tuple(value))
        for v in self.group_equal:
            if v not in GROUP_EQUAL:
                raise SpecError(f"group_equal: {v!r} is not one of lavaan's classes ({', '.join(GROUP_EQUAL)})."
                                + did_you_mean(v, GROUP_EQUAL))
        for v in self.group_partial:
            _partial_key(v)
        if (self.group_equal or self.group_partial) and self.group is None:
            raise SpecError("group_equal and group_partial constrain parameters across groups; give group= (a column "
                            "such as 'school') or drop them.")

    @property
    def label(self) -> str:
        """``name`` if given, else the model's statements on one line."""
        if self.name:
            return self.name
        lines = [ln.split("#")[0].strip() for ln in self.model.splitlines()]
        return "; ".join(ln for ln in lines if ln) + (" [bootstrap]" if self.se == "bootstrap" else "")

    def replace(self, **changes: Any) -> SEMSpec:
        """A copy with some fields changed (the spec itself is frozen)."""
        return replace_fields(self, changes)
