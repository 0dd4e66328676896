"""pcstats: seasonal CO2 flux statistics for northern permafrost regions.

data -> specs -> engines -> one Results type -> export / plots / cli.

>>> import pcstats as pc
>>> monthly = pc.read_table("fixtures/inversions/inversions_monthly.parquet")
>>> seasonal = pc.seasonalize(pc.convert_units(monthly))
>>> res = pc.fit(pc.TrendSpec("NEE ~ year", by=("source", "region", "season")), seasonal)
"""

from ._version import __version__

from .data import (  # noqa: E402
    SEASONS,
    aggregate,
    cell_attributes,
    classify,
    convert_units,
    ensemble,
    read_table,
    seasonalize,
    ter_residual,
    validate,
    write_table,
)
from .data.contract import LongTable  # noqa: E402
from .data.design import DESIGNS, PAPER, StudyDesign  # noqa: E402
from .engines import fit, prepare, run  # noqa: E402
from .engines.prepare import long_table  # noqa: E402
from . import datasets, robustness, soc  # noqa: E402
from .errors import ContractError, EngineError, FormulaError, PcstatsError, SpecError  # noqa: E402
from .evaluation import skill  # noqa: E402
from .comparisons import land_sink_correlation, mat_sensitivity, read_land_sink, tower_trends_vs_ensemble  # noqa: E402
from .likelihood_ratio import lrt  # noqa: E402
from .posterior import posterior_prob, prior_predictive  # noqa: E402
from .results import Results, compare  # noqa: E402
from .second_stage import difference_test, pairwise_differences, trend_gradient  # noqa: E402
from .sem_compare import invariance, partial_invariance, sem_lrt  # noqa: E402
from .sensitivity import sensitivity  # noqa: E402
from .tables import table  # noqa: E402
from .specs import BayesSpec, MixedSpec, PanelSpec, Q10Spec, SEMSpec, SkillSpec, TrendSpec, load_spec, save_spec  # noqa: E402

__all__ = [
    "BayesSpec",
    "DESIGNS",
    "PAPER",
    "StudyDesign",
    "SEASONS",
    "ContractError",
    "EngineError",
    "FormulaError",
    "LongTable",
    "MixedSpec",
    "SEMSpec",
    "PanelSpec",
    "PcstatsError",
    "Q10Spec",
    "Results",
    "SkillSpec",
    "SpecError",
    "TrendSpec",
    "aggregate",
    "land_sink_correlation",
    "mat_sensitivity",
    "read_land_sink",
    "tower_trends_vs_ensemble",
    "cell_attributes",
    "classify",
    "compare",
    "convert_units",
    "difference_test",
    "ensemble",
    "fit",
    "invariance",
    "load_spec",
    "long_table",
    "lrt",
    "posterior_prob",
    "prepare",
    "pairwise_differences",
    "partial_invariance",
    "prior_predictive",
    "read_table",
    "robustness",
    "run",
    "save_spec",
    "seasonalize",
    "sem_lrt",
    "sensitivity",
    "skill",
    "soc",
    "table",
    "ter_residual",
    "trend_gradient",
    "validate",
    "write_table",
]
