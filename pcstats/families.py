"""One declarative record per model family: spec type, preparer, engines, auto rule.

``pc.fit(spec, data)`` is ``run(spec, prepare(spec, data))``: the family of the spec's type says
how its rows are prepared (:mod:`pcstats.engines.preparers`) and which engines fit them. Engines
are named as ``"module:function"`` and imported on first use, so heavy backends (PyMC, semopy,
R through rpy2) load only when a spec asks for them. This module imports nothing of pcstats: specs
read it (their engine names), engines read it (what to run), and neither is imported by it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import EngineError

__all__ = ["Family", "FAMILIES", "family_of", "load"]


@dataclass(frozen=True)
class Family:
    """A model family.

    ``spec`` is ``"module:Class"`` of the spec type (whose ``family`` class attribute is ``name``);
    ``prepare`` is ``"module:function"`` of ``(spec, data) -> Prepared``; ``engines`` maps each
    engine name to ``"module:function"`` of ``(spec, prepared) -> Results``; ``auto`` (a
    ``"module:function"`` of ``(spec, prepared) -> engine name``) resolves ``engine="auto"``.
    ``model_frames`` says whether the family fits any data frame or only long tables.
    """

    name: str
    spec: str
    prepare: str
    engines: Mapping[str, str]
    auto: str | None = None
    model_frames: bool = True
    doc: str = field(default="", compare=False)


_E = "pcstats.engines"
_P = "pcstats.engines.preparers"

FAMILIES: dict[str, Family] = {f.name: f for f in (
    Family("trend", "pcstats.specs.trend:TrendSpec", f"{_P}:prepare_trend", {
        "closed_form": f"{_E}.trend_closed_form:fit", "statsmodels": f"{_E}.trend_statsmodels:fit",
        "mannkendall": f"{_E}.trend_mannkendall:fit"}, auto=f"{_P}:auto_trend",
        doc="OLS (lm) and Sen/Mann-Kendall trends"),
    Family("mixed", "pcstats.specs.mixed:MixedSpec", f"{_P}:prepare_mixed", {
        "profiled": f"{_E}.mixed_profiled:fit", "statsmodels": f"{_E}.mixed_statsmodels:fit",
        "lme4": f"{_E}.mixed_lme4:fit"}, doc="linear mixed models (lmer)"),
    Family("sem", "pcstats.specs.sem:SEMSpec", f"{_P}:prepare_sem", {"pcstats": f"{_E}.sem_native:fit",
           "semopy": f"{_E}.sem_semopy:fit"}, doc="lavaan-style SEMs"),
    Family("bayes", "pcstats.specs.bayes:BayesSpec", f"{_P}:prepare_mixed", {"pymc": f"{_E}.bayes_pymc:fit"},
           doc="Bayesian hierarchical models (brms-like)"),
    Family("skill", "pcstats.specs.skill:SkillSpec", f"{_E}.skill_metrics:prepare_skill", {"numpy": f"{_E}.skill_metrics:fit"},
           model_frames=False, doc="model skill against observations"),
    Family("q10", "pcstats.specs.q10:Q10Spec", f"{_E}.q10_scipy:prepare_q10", {"scipy": f"{_E}.q10_scipy:fit"}, model_frames=False,
           doc="Q10 / Lloyd-Taylor respiration fits"),
    Family("panel", "pcstats.specs.panel:PanelSpec", f"{_E}.panel_linearmodels:prepare_panel", {"linearmodels": f"{_E}.panel_linearmodels:fit"},
           model_frames=False, doc="fixed-effects panels (plm)"),
)}


def family_of(spec: Any) -> Family:
    """The family record of a spec, or an error naming the spec types pcstats knows."""
    family = FAMILIES.get(getattr(type(spec), "kind", None))
    if family is not None and family.spec.endswith(":" + type(spec).__name__):
        return family
    known = ", ".join(f.spec.split(":")[1] for f in FAMILIES.values())
    raise EngineError(f"fit(): {type(spec).__name__} is not a spec pcstats knows (specs: {known}).")


def load(target: str) -> Callable:
    """Import ``"module:function"``."""
    import importlib

    module, name = target.split(":")
    return getattr(importlib.import_module(module), name)
