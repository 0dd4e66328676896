"""Shared fixtures. Tests run from the repository root so paths in docstrings resolve."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandas as pd
import pytest

import pcstats as pc

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "tests" / "reference"


@pytest.fixture(autouse=True)
def _at_repo_root(monkeypatch):
    monkeypatch.chdir(ROOT)


@pytest.fixture(scope="session")
def truth() -> dict:
    return json.loads((ROOT / "fixtures" / "truth.json").read_text())


@pytest.fixture(scope="session")
def trend_input() -> pd.DataFrame:
    """The seasonal P/NoP table R's lm was run on."""
    return pc.read_table(REFERENCE / "trend_input.csv")


@pytest.fixture(scope="session")
def tables():
    """Seasonal tables of every region scheme, gradient values per bin, data warnings."""
    from pcstats.pipeline import FIXTURES, regional_tables

    nee = pc.read_table(FIXTURES / "inversions" / "inversions_monthly.parquet")
    annual = pc.read_table(FIXTURES / "covariates" / "covariates_annual.parquet")
    monthly = pc.read_table(FIXTURES / "covariates" / "covariates_monthly.parquet")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return regional_tables(nee, annual, covariates_monthly=monthly)  # the paper's design (pcstats.PAPER)


def long_table(**columns) -> pd.DataFrame:
    """A small monthly long table for bad-input tests; override any column."""
    base = {"source": "CAMS", "kind": "inversion", "region": "P", "year": 2000, "month": 7,
            "variable": "NEE", "value": 1.0, "unit": "gC m-2 d-1"}
    base.update(columns)
    n = max(len(v) if isinstance(v, list) else 1 for v in base.values())
    return pd.DataFrame({k: v if isinstance(v, list) else [v] * n for k, v in base.items()})


def series(years, values, **keys) -> pd.DataFrame:
    """A seasonal long table of one NEE series."""
    rows = {"source": "CAMS", "kind": "inversion", "region": "P", "season": "ANN", "variable": "NEE",
            "unit": "gC m-2 yr-1"}
    rows.update(keys)
    return pd.DataFrame({**{k: [v] * len(years) for k, v in rows.items()}, "year": list(years), "value": list(values)})
