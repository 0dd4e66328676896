"""Build the input that tests/reference/lm.R fits: the seasonal P/NoP table of the fixtures.

Run from the repository root:  python tests/reference/make_inputs.py
Writes tests/reference/trend_input.csv (the seasonal P/NoP table, for lm.R and lme4.R) and
tests/reference/mixed_cells.csv (a planted random intercept and trend on the 100 fixture cells, for lme4.R: many groups,
a well-identified random intercept and slope), both at full precision, and
tests/reference/q10_input.csv (the fixture towers' monthly TER and AirT, for nls.R) and
tests/reference/panel_input.csv (their seasonal NEE and AirT per site-year, for plm.R). tests/test_r_parity.py checks that this
file still equals what the pipeline makes from the fixtures, so it cannot go stale silently.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import pcstats as pc
from pcstats.pipeline import FIXTURES, regional_tables

HERE = Path(__file__).resolve().parent
OUT = HERE / "trend_input.csv"
CELLS = HERE / "mixed_cells.csv"
Q10 = HERE / "q10_input.csv"
PANEL = HERE / "panel_input.csv"


def build():
    nee = pc.read_table(FIXTURES / "inversions" / "inversions_monthly.parquet")
    annual = pc.read_table(FIXTURES / "covariates" / "covariates_annual.parquet")
    monthly = pc.read_table(FIXTURES / "covariates" / "covariates_monthly.parquet")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the two incomplete JAMSTEC seasons are expected
        tables, _, _ = regional_tables(nee, annual, covariates_monthly=monthly)  # the paper's design
    return tables["permafrost"]


def build_cells():
    """A well-identified random intercept and trend on the 100 fixture cells (CAMS's years), planted and seeded.

    The fixture's own NEE no longer gives one since it plants the paper's tree-cover pattern (every source and
    season leaves lme4 warning about its gradient, and Jena s76's EGS has an ML boundary optimum where the
    profiled engine stops): NEE = CAMS ANN's mean + u0[cell] + (0.5 + u1[cell]) year_c + e with
    sd(u0) = 34, sd(u1) = 0.86, cor = -0.47, sd(e) = 51, the variance components of the earlier fixture.
    """
    nee = pc.read_table(FIXTURES / "inversions" / "inversions_monthly.parquet")
    cams = pc.seasonalize(pc.convert_units(nee[nee["source"] == "CAMS"]))
    cells = cams[cams["season"] == "ANN"].reset_index(drop=True)
    rng = np.random.default_rng([20220718, 42])
    regions = np.sort(cells["region"].unique())
    sd0, sd1, cor = 34.0, 0.86, -0.47
    cov = [[sd0**2, cor * sd0 * sd1], [cor * sd0 * sd1, sd1**2]]
    u = pd.DataFrame(rng.multivariate_normal([0, 0], cov, len(regions)), index=regions, columns=["u0", "u1"])
    year_c = cells["year"] - cells["year"].drop_duplicates().mean()
    cells["value"] = (cells["value"].mean() + cells["region"].map(u["u0"]) + (0.5 + cells["region"].map(u["u1"])) * year_c
                      + rng.normal(0, 51.0, len(cells)))
    return cells


def build_q10():
    """Monthly TER and AirT of the evaluation fixture's towers, one row per site-month, NaN-free."""
    monthly = pc.read_table(FIXTURES / "evaluation" / "sites_monthly.parquet")
    towers = monthly[(monthly["source"] == "FLUXNET") & monthly["variable"].isin(["TER", "AirT"])]
    wide = towers.pivot_table(index=["region", "site", "year", "month"], columns="variable", values="value").reset_index()
    wide.columns.name = None
    return wide[["region", "site", "year", "month", "TER", "AirT"]].dropna().reset_index(drop=True)


def build_panel():
    """Seasonal NEE and AirT of the evaluation fixture's towers, one row per site-year in EGS and LGS, NaN-free.

    For tests/reference/plm.R; written to tests/reference/panel_input.csv at full precision
    (``build_panel().to_csv(path, index=False, float_format="%.17g")``).
    """
    monthly = pc.read_table(FIXTURES / "evaluation" / "sites_monthly.parquet")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # seasons with a missing month are NaN, dropped below
        seasonal = pc.seasonalize(monthly[monthly["source"] == "FLUXNET"])
    towers = seasonal[seasonal["season"].isin(["EGS", "LGS"]) & seasonal["variable"].isin(["NEE", "AirT"])]
    wide = towers.pivot_table(index=["region", "site", "year", "season"], columns="variable", values="value").reset_index()
    wide = wide[["region", "site", "year", "season", "NEE", "AirT"]].dropna()
    return wide.sort_values(["season", "site", "year"]).reset_index(drop=True).rename_axis(columns=None)


if __name__ == "__main__":
    build().to_csv(OUT, index=False)
    build_cells().to_csv(CELLS, index=False)
    build_q10().to_csv(Q10, index=False, float_format="%.17g")
    build_panel().to_csv(PANEL, index=False, float_format="%.17g")
    print(f"wrote {OUT}, {CELLS}, {Q10} and {PANEL}")
