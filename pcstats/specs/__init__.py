"""Frozen model specs and the spec files that store them. Never imports an engine."""

from .bayes import BayesSpec
from .files import load_spec, save_spec
from .formula import SAFE_TRANSFORMS
from .mixed import MixedSpec
from .panel import PanelSpec
from .q10 import Q10Spec
from .sem import SEMSpec
from .skill import SkillSpec
from .trend import TrendSpec

__all__ = ["BayesSpec", "SAFE_TRANSFORMS", "MixedSpec", "PanelSpec", "Q10Spec", "SEMSpec", "SkillSpec", "TrendSpec", "load_spec",
           "save_spec"]
