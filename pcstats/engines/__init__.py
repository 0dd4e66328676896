"""The engine registry and ``fit``.

An engine is a plain function ``(spec, prepared) -> Results`` registered below under
(family, engine name). Each family has one preparation step and one rule for ``engine="auto"``.
Heavy backends are imported inside their engine module, which is imported on first use.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

import pandas as pd

from ..data.contract import key_columns
from ..errors import EngineError, FormulaError, SpecError, did_you_mean
from ..results import Results
from .prepare import Prepared, prepare

__all__ = ["ENGINES", "fit", "resolve_engine"]

#: (family, engine) -> "module:function" of the engine, imported when first used
ENGINES: dict[tuple[str, str], str] = {
    ("trend", "statsmodels"): "pcstats.engines.trend_statsmodels:fit",
    ("trend", "closed_form"): "pcstats.engines.trend_closed_form:fit",
    ("trend", "mannkendall"): "pcstats.engines.trend_mannkendall:fit",
    ("mixed", "statsmodels"): "pcstats.engines.mixed_statsmodels:fit",
    ("mixed", "lme4"): "pcstats.engines.mixed_lme4:fit",
    ("mixed", "profiled"): "pcstats.engines.mixed_profiled:fit",
    ("sem", "semopy"): "pcstats.engines.sem_semopy:fit",
    ("bayes", "pymc"): "pcstats.engines.bayes_pymc:fit",
    ("skill", "numpy"): "pcstats.engines.skill_metrics:fit",
    ("q10", "scipy"): "pcstats.engines.q10_scipy:fit",
    ("panel", "linearmodels"): "pcstats.engines.panel_linearmodels:fit",
}


def _load(target: str) -> Callable:
    module, name = target.split(":")
    return getattr(importlib.import_module(module), name)


def _prepare_trend(spec, table: pd.DataFrame) -> Prepared:
    return prepare(table, spec.formula, spec.by, spec.where, spec.min_years)


def _auto_trend(spec, prepared: Prepared) -> str:
    from .trend_closed_form import supports

    if spec.method == "sen":
        return "mannkendall"
    return "closed_form" if supports(spec, prepared) is None else "statsmodels"


def _prepare_mixed(spec, table: pd.DataFrame) -> Prepared:
    parsed = spec.parsed
    keys = [k for k in key_columns(table) if k != "variable"]
    sigma_by = getattr(spec, "sigma_by", None)
    if sigma_by and sigma_by not in keys:
        raise SpecError(f"sigma_by={sigma_by!r} is not a key column.{did_you_mean(sigma_by, keys)} Key columns: {', '.join(keys)}.")
    for term in parsed.random:
        for factor in term.factors:
            if factor not in keys:
                raise FormulaError(
                    f"{term.text}: grouping factor {factor!r} is not a key column.{did_you_mean(factor, keys)} "
                    f"Group random effects by key columns: {', '.join(keys)}."
                )
    extra = [n for t in parsed.random for n in t.slopes + t.factors] + ([spec.sigma_by] if getattr(spec, "sigma_by", None) else [])
    return prepare(table, parsed.fixed, spec.by, spec.where, 1, extra=extra, sort_years=False)


def _prepare_sem(spec, table: pd.DataFrame) -> Prepared:
    """Rows for an SEM: one row per key, one column per model variable, named as in the model."""
    import dataclasses

    from ..specs.lavaan_syntax import parse_model

    statements = parse_model(spec.model)
    statements = statements[statements["op"].isin(["=~", "~", "~~"])]
    latent = set(statements.loc[statements["op"] == "=~", "lhs"])
    used = [v for v in pd.unique(statements[["lhs", "rhs"]].to_numpy().ravel()) if v not in latent]
    present = table["variable"].unique().tolist() if "variable" in table.columns else []
    lower: dict[str, list[str]] = {}
    for v in present:
        lower.setdefault(v.lower(), []).append(v)
    to_table = {}
    for name in used:
        if name in present:
            to_table[name] = name
        elif len(lower.get(name.lower(), [])) == 1:
            to_table[name] = lower[name.lower()][0]
        else:
            raise FormulaError(
                f"model names {name!r}, which is not a variable of the table.{did_you_mean(name, present)} "
                f"Variables present: {', '.join(present)} (matched without regard to case)."
            )
    endogenous = [v for v in statements.loc[statements["op"] == "~", "lhs"] if v in to_table] or used
    response = to_table[endogenous[0]]
    others = [to_table[v] for v in used if to_table[v] != response]
    by = tuple(spec.by) + ((spec.group,) if spec.group else ())
    prepared = prepare(table, f"{response} ~ {' + '.join(others) or '1'}", by, spec.where, 1, sort_years=False)
    back = {t: m for m, t in to_table.items()}
    return dataclasses.replace(prepared, frame=prepared.frame.rename(columns=back),
                               columns=tuple(back.get(c, c) for c in prepared.columns),
                               units={back.get(k, k): u for k, u in prepared.units.items()}, response=endogenous[0])


def _prepare_skill(spec, table: pd.DataFrame) -> Prepared:
    return _load("pcstats.engines.skill_metrics:prepare_skill")(spec, table)


def _prepare_q10(spec, table: pd.DataFrame) -> Prepared:
    return _load("pcstats.engines.q10_scipy:prepare_q10")(spec, table)


def _prepare_panel(spec, table: pd.DataFrame) -> Prepared:
    return _load("pcstats.engines.panel_linearmodels:prepare_panel")(spec, table)


_FAMILIES: dict[str, tuple[Callable, Callable]] = {
    "trend": (_prepare_trend, _auto_trend),
    "mixed": (_prepare_mixed, lambda spec, prepared: spec.engine),
    "sem": (_prepare_sem, lambda spec, prepared: spec.engine),
    "bayes": (_prepare_mixed, lambda spec, prepared: spec.engine),
    "skill": (_prepare_skill, lambda spec, prepared: spec.engine),
    "q10": (_prepare_q10, lambda spec, prepared: spec.engine),
    "panel": (_prepare_panel, lambda spec, prepared: spec.engine),
}


def resolve_engine(spec, prepared: Prepared) -> str:
    """The engine name ``fit`` will use for this spec and these rows."""
    family = type(spec).family
    if spec.engine != "auto":
        return spec.engine
    return _FAMILIES[family][1](spec, prepared)


def fit(spec, table: pd.DataFrame) -> Results:
    """Fit a spec to a long table with the engine the spec names.

    Parameters
    ----------
    spec
        A frozen spec (e.g. :class:`pcstats.TrendSpec`).
    table
        A long table (see :mod:`pcstats.data.contract`). It is not modified.

    Examples
    --------
    >>> import pcstats as pc
    >>> t = pc.read_table("tests/reference/trend_input.csv")
    >>> res = pc.fit(pc.TrendSpec("NEE ~ year", by=("source", "region", "season")), t)
    >>> res.engine   # one row per year in each group: the vectorised closed form
    'closed_form'
    """
    family = getattr(type(spec), "family", None)
    if family not in _FAMILIES:
        raise EngineError(f"fit(): {type(spec).__name__} is not a spec pcstats knows (families: {sorted(_FAMILIES)}).")
    if not isinstance(table, pd.DataFrame):
        raise EngineError(
            f"fit(): table must be a long table (pandas DataFrame), got {type(table).__name__}. "
            "Read files with pcstats.read_table()."
        )
    prepared = _FAMILIES[family][0](spec, table)
    engine = resolve_engine(spec, prepared)
    target = ENGINES.get((family, engine))
    if target is None:
        names = [e for f, e in ENGINES if f == family]
        raise EngineError(
            f"No engine {engine!r} for {family!r} specs.{did_you_mean(engine, names)} Engines: {', '.join(names + ['auto'])}."
        )
    return _load(target)(spec, prepared)
