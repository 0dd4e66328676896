"""Build the input that tests/reference/lm.R fits: the seasonal P/NoP table of the fixtures.

Run from the repository root:  python tests/reference/make_inputs.py
Writes tests/reference/trend_input.csv (the seasonal P/NoP table, for lm.R and lme4.R) and
tests/reference/mixed_cells.csv (CAMS annual NEE of the 100 fixture cells, for lme4.R: many groups,
a well-identified random intercept and slope), both at full precision. tests/test_r_parity.py checks that this
file still equals what the pipeline makes from the fixtures, so it cannot go stale silently.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pcstats as pc
from pcstats.reproduce import FIXTURES, regional_tables

HERE = Path(__file__).resolve().parent
OUT = HERE / "trend_input.csv"
CELLS = HERE / "mixed_cells.csv"


def build():
    nee = pc.read_table(FIXTURES / "inversions" / "inversions_monthly.parquet")
    annual = pc.read_table(FIXTURES / "covariates" / "covariates_annual.parquet")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the two incomplete JAMSTEC seasons are expected
        tables, _, _ = regional_tables(nee, annual)
    return tables["permafrost"]


def build_cells():
    nee = pc.read_table(FIXTURES / "inversions" / "inversions_monthly.parquet")
    cams = pc.seasonalize(pc.convert_units(nee[nee["source"] == "CAMS"]))
    return cams[cams["season"] == "ANN"].reset_index(drop=True)


if __name__ == "__main__":
    build().to_csv(OUT, index=False)
    build_cells().to_csv(CELLS, index=False)
    print(f"wrote {OUT} and {CELLS}")
