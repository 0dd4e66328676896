"""The seasonal tables every section fits: the fixtures' inversions and TRENDY-like models by region scheme.

Read and built once per process (:func:`seasonal_tables`), so sections running in one process share
them and sections in worker processes build their own.
"""

from __future__ import annotations

import functools
import warnings
from pathlib import Path

import pandas as pd

from ..data import aggregate, cell_attributes, classify, convert_units, ensemble, read_table, seasonalize

__all__ = ["FIXTURES", "MODELS", "SCHEMES", "GRADIENTS", "long_tables", "regional_tables", "seasonal_tables"]

ROOT = Path(__file__).resolve().parent.parent.parent
FIXTURES = ROOT / "fixtures"
MODELS = ROOT / "models"

#: region schemes: column of :func:`pcstats.classify` -> name of the seasonal table
SCHEMES = {"permafrost": "permafrost", "p_tc_class": "classes", "tc_bin": "tc_bins", "p_bin": "p_bins", "mat_bin": "mat_bins"}
GRADIENTS = {"tc_bins": ("TC", "Tree cover (%)"), "p_bins": ("P", "Permafrost extent (%)"), "mat_bins": ("MAT", "MAT (°C)")}



def regional_tables(nee_monthly: pd.DataFrame, covariates_annual: pd.DataFrame) -> tuple[dict[str, pd.DataFrame], dict[str, pd.Series], list[str]]:
    """Seasonal NEE (+ ensemble) per region scheme, gradient values per bin, and data warnings."""
    messages: list[str] = []
    nee = convert_units(nee_monthly)  # inversions carry positive='up'; out: gC m-2 d-1, uptake positive
    cells = classify(cell_attributes(covariates_annual))
    tables = {}
    for column, name in SCHEMES.items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            seasonal = seasonalize(aggregate(nee, cells[column]))
        messages += [f"{name}: {w.message}" for w in caught]
        tables[name] = pd.concat([seasonal, ensemble(seasonal)], ignore_index=True)
    gradients = {}
    for name, (variable, _) in GRADIENTS.items():
        column = next(c for c, n in SCHEMES.items() if n == name)
        rows = covariates_annual[covariates_annual["variable"] == variable]
        gradients[name] = aggregate(rows, cells[column]).groupby("region")["value"].mean().rename(variable)
    return tables, gradients, messages


def _trendy_bins(trendy: pd.DataFrame, covariates_annual: pd.DataFrame) -> pd.DataFrame:
    """The TRENDY-like models' seasonal NBP per 5 % tree-cover bin, with their ensemble (Fig. 4)."""
    cells = classify(cell_attributes(covariates_annual))
    seasonal = seasonalize(aggregate(trendy, cells["tc_bin"]))
    return pd.concat([seasonal, ensemble(seasonal)], ignore_index=True)


@functools.lru_cache(maxsize=2)
def seasonal_tables(fixtures: Path) -> tuple[dict[str, pd.DataFrame], dict[str, pd.Series], tuple[str, ...]]:
    """The seasonal tables of :func:`regional_tables` plus ``trendy_tc_bins``, the gradient values, data warnings.

    Cached per process: callers must not modify the tables.
    """
    nee = read_table(fixtures / "inversions" / "inversions_monthly.parquet")
    annual = read_table(fixtures / "covariates" / "covariates_annual.parquet")
    tables, gradients, messages = regional_tables(nee, annual)
    tables["trendy_tc_bins"] = _trendy_bins(read_table(fixtures / "trendy" / "trendy_monthly.parquet"), annual)
    return tables, gradients, tuple(messages)


@functools.lru_cache(maxsize=2)
def long_tables(fixtures: Path) -> dict:
    """The seasonal tables validated once (:func:`pcstats.long_table`) for the many specs fitted to each."""
    from ..engines.prepare import long_table

    return {name: long_table(table) for name, table in seasonal_tables(fixtures)[0].items()}
