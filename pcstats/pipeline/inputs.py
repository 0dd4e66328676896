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
from ..data.design import PAPER, StudyDesign
from ..datasets import FIXTURES, MODELS  # the bundled data, packaged or in a source checkout

__all__ = ["FIXTURES", "MODELS", "SCHEMES", "GRADIENTS", "long_tables", "regional_tables", "seasonal_tables", "study_cells"]

#: region schemes: column of :func:`pcstats.classify` -> name of the seasonal table
SCHEMES = {"permafrost": "permafrost", "p_tc_class": "classes", "tc_bin": "tc_bins", "p_bin": "p_bins", "mat_bin": "mat_bins"}
GRADIENTS = {"tc_bins": ("TC", "Tree cover (%)"), "p_bins": ("P", "Permafrost extent (%)"), "mat_bins": ("MAT", "MAT (°C)")}



def study_cells(covariates_annual: pd.DataFrame, covariates_monthly: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per-cell TC, P, MAT (and IPA zone, IGBP class LC, mean NDVI where the covariates have them) with every scheme.

    Mean NDVI is the mean over all months of GIMMS NDVI (the paper's code masks NDVI < 0.1).
    """
    present = set(covariates_annual["variable"].unique())
    cells = classify(cell_attributes(covariates_annual, ("TC", "P", "MAT") + tuple(v for v in ("IPA", "LC") if v in present)))
    if covariates_monthly is not None and (covariates_monthly["variable"] == "NDVI").any():
        ndvi = covariates_monthly[covariates_monthly["variable"] == "NDVI"]
        cells["NDVI"] = ndvi.groupby("region")["value"].mean().reindex(cells.index)
    return cells


def regional_tables(nee_monthly: pd.DataFrame, covariates_annual: pd.DataFrame, design: StudyDesign = PAPER,
                    covariates_monthly: pd.DataFrame | None = None) -> tuple[dict[str, pd.DataFrame], dict[str, pd.Series], list[str]]:
    """Seasonal NEE (+ ensemble) per region scheme under ``design``, gradient values per bin, and data warnings.

    The ``permafrost`` table compares the design's P and NoP; the class and bin schemes keep every cell the
    design's mask keeps. All are restricted to the design's years and averaged as it says (``zonal``).
    """
    return _regional_tables(nee_monthly, covariates_annual, study_cells(covariates_annual, covariates_monthly), design)


def _regional_tables(nee_monthly: pd.DataFrame, covariates_annual: pd.DataFrame, cells: pd.DataFrame,
                     design: StudyDesign) -> tuple[dict[str, pd.DataFrame], dict[str, pd.Series], list[str]]:
    messages: list[str] = []
    nee = design.within(convert_units(nee_monthly))  # inversions carry positive='up'; out: gC m-2 d-1, uptake positive
    natural = design.natural(cells)
    groups = {column: cells[column].where(natural) for column in SCHEMES} | {"permafrost": design.regions(cells)}
    tables = {}
    for column, name in SCHEMES.items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            seasonal = seasonalize(aggregate(nee, groups[column], weight=design.weight))
        messages += [f"{name}: {w.message}" for w in caught]
        tables[name] = pd.concat([seasonal, ensemble(seasonal)], ignore_index=True)
    gradients = {}
    for name, (variable, _) in GRADIENTS.items():
        column = next(c for c, n in SCHEMES.items() if n == name)
        rows = design.within(covariates_annual[covariates_annual["variable"] == variable])
        gradients[name] = aggregate(rows, groups[column], weight=design.weight).groupby("region")["value"].mean().rename(variable)
    return tables, gradients, messages


def _trendy_bins(trendy: pd.DataFrame, cells: pd.DataFrame, design: StudyDesign) -> pd.DataFrame:
    """The TRENDY-like models' seasonal NBP per 5 % tree-cover bin, with their ensemble (Fig. 4)."""
    bins = cells["tc_bin"].where(design.natural(cells))
    seasonal = seasonalize(aggregate(design.within(trendy), bins, weight=design.weight))
    return pd.concat([seasonal, ensemble(seasonal)], ignore_index=True)


@functools.lru_cache(maxsize=4)
def seasonal_tables(fixtures: Path, design: StudyDesign = PAPER) -> tuple[dict[str, pd.DataFrame], dict[str, pd.Series], tuple[str, ...]]:
    """The seasonal tables of :func:`regional_tables` plus ``trendy_tc_bins``, the gradient values, data warnings.

    Cached per process: callers must not modify the tables.
    """
    nee = read_table(fixtures / "inversions" / "inversions_monthly.parquet")
    annual = read_table(fixtures / "covariates" / "covariates_annual.parquet")
    cells = study_cells(annual, read_table(fixtures / "covariates" / "covariates_monthly.parquet"))
    tables, gradients, messages = _regional_tables(nee, annual, cells, design)
    tables["trendy_tc_bins"] = _trendy_bins(read_table(fixtures / "trendy" / "trendy_monthly.parquet"), cells, design)
    return tables, gradients, tuple(messages)


@functools.lru_cache(maxsize=4)
def long_tables(fixtures: Path, design: StudyDesign = PAPER) -> dict:
    """The seasonal tables validated once (:func:`pcstats.long_table`) for the many specs fitted to each."""
    from ..engines.prepare import long_table

    return {name: long_table(table) for name, table in seasonal_tables(fixtures, design)[0].items()}
