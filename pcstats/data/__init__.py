"""Long tables: the column contract, I/O, units, seasons, ensembles, regions."""

from .contract import KINDS, OPTIONAL_COLUMNS, REQUIRED_COLUMNS, VARIABLES, key_columns, time_column, validate
from .ensemble import ensemble
from .fluxes import ter_residual
from .io import read_table, write_table
from .regions import (
    aggregate,
    bin_labels,
    cell_attributes,
    classify,
    permafrost_class,
    permafrost_region,
    tree_cover_class,
)
from .seasons import SEASONS, seasonalize
from .units import RATE_UNITS, convert_units, rate_factor

__all__ = [
    "KINDS",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "VARIABLES",
    "RATE_UNITS",
    "SEASONS",
    "aggregate",
    "bin_labels",
    "cell_attributes",
    "classify",
    "convert_units",
    "ensemble",
    "key_columns",
    "permafrost_class",
    "permafrost_region",
    "rate_factor",
    "read_table",
    "seasonalize",
    "ter_residual",
    "time_column",
    "tree_cover_class",
    "validate",
    "write_table",
]
