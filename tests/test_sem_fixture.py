"""The SEM fixture holds the structure planted in it (fixtures/README.md, truth.json key "sem")."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pcstats as pc

from .conftest import ROOT

PATH = ROOT / "fixtures" / "sem" / "sem_seasonal.parquet"
CELLS = [("eddy_covariance", "EGS"), ("eddy_covariance", "LGS"), ("inversion", "EGS"), ("inversion", "LGS"),
         ("dgvm", "EGS"), ("dgvm", "LGS")]


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return pd.read_parquet(PATH)


@pytest.fixture(scope="module")
def wide(table) -> pd.DataFrame:
    """One row per source, site or cell, year and season; lower-case variable columns as in the SEM syntax."""
    out = table.pivot(index=["kind", "source", "region", "year", "season"], columns="variable", values="value")
    out.columns = [c.lower() for c in out.columns]
    return out.reset_index().astype({c: "float64" for c in out.columns})


def test_table_validates_and_has_the_documented_layout(table):
    pc.validate(table)
    assert PATH.stat().st_size < 500_000
    assert set(table["season"]) == {"EGS", "LGS"}
    assert table.groupby("kind")["source"].nunique().to_dict() == {"eddy_covariance": 1, "inversion": 6, "dgvm": 10}
    towers = table[table["kind"] == "eddy_covariance"]
    assert set(towers["source"]) == {"FLUXNET"} and towers["site"].nunique() == 48
    assert (towers["site"] == towers["region"]).all() and table.loc[table["kind"] != "eddy_covariance", "site"].isna().all()
    assert table["year"].between(2000, 2017).all()
    variables = table.groupby("season")["variable"].unique().map(set).to_dict()
    assert variables["EGS"] == {"GPP", "TER", "NEE", "AirT", "PAR", "SM", "TC", "P"}
    assert variables["LGS"] == variables["EGS"] | {"PreGPP"}
    units = table.groupby("variable")["unit"].unique().map(list).to_dict()
    assert units == {"GPP": ["gC m-2 d-1"], "TER": ["gC m-2 d-1"], "NEE": ["gC m-2 d-1"], "PreGPP": ["gC m-2 d-1"],
                     "AirT": ["degC"], "PAR": ["W m-2"], "SM": ["m3 m-3"], "TC": ["%"], "P": ["%"]}
    nee = table["variable"] == "NEE"
    assert (table.loc[nee, "positive"] == "down").all() and table.loc[~nee, "positive"].isna().all()
    assert not table["value"].isna().any()


def test_pregpp_is_the_same_years_egs_gpp(table):
    keys = ["kind", "source", "region", "year"]
    pre = table[table["variable"] == "PreGPP"].set_index(keys)["value"]
    egs = table[(table["variable"] == "GPP") & (table["season"] == "EGS")].set_index(keys)["value"]
    assert (pre.index.sort_values() == egs.index.sort_values()).all()
    np.testing.assert_array_equal(pre.to_numpy(), egs.reindex(pre.index).to_numpy())


def test_nee_is_gpp_minus_ter_up_to_small_noise(wide):
    residual = wide["nee"] - (wide["gpp"] - wide["ter"])
    assert 0.04 < residual.std() < 0.06 and abs(residual.mean()) < 0.01


def standardised_paths(frame: pd.DataFrame, y: str, xs: list[str]) -> np.ndarray:
    z = (frame[[y, *xs]] - frame[[y, *xs]].mean()) / frame[[y, *xs]].std(ddof=0)
    return np.linalg.lstsq(z[xs].to_numpy(), z[y].to_numpy(), rcond=None)[0]


@pytest.mark.parametrize(("kind", "season"), CELLS)
def test_ols_recovers_which_flux_controls_nee(wide, truth, kind, season):
    planted = truth["sem"]["by_kind"][kind][season]
    rows = wide[(wide["kind"] == kind) & (wide["season"] == season)]
    assert len(rows) == planted["n_obs"]
    b_gpp, b_ter = standardised_paths(rows, "nee", ["gpp", "ter"])
    expected = "GPP" if season == "EGS" or kind == "dgvm" else "TER"
    assert planted["controls_nee"] == expected
    assert ("TER" if abs(b_ter) > abs(b_gpp) else "GPP") == expected
    assert b_gpp > 0 > b_ter
    ratio = abs(b_ter / b_gpp) if expected == "TER" else abs(b_gpp / b_ter)
    assert ratio > 1.3  # a clear difference, not a tie
    np.testing.assert_allclose([b_gpp, b_ter], [planted["std_all"]["nee"]["gpp"], planted["std_all"]["nee"]["ter"]],
                               atol=0.08)


@pytest.mark.parametrize(("kind", "season"), CELLS)
def test_ols_recovers_the_planted_raw_paths(wide, truth, kind, season):
    """Each equation of the paper's model, fitted by OLS, is within 4 SE of the planted paths and intercept."""
    planted = truth["sem"]["by_kind"][kind][season]
    rows = wide[(wide["kind"] == kind) & (wide["season"] == season)]
    for y, paths in planted["raw"].items():
        xs = list(paths)
        design = np.column_stack([np.ones(len(rows)), rows[xs].to_numpy()])
        coef, *_ = np.linalg.lstsq(design, rows[y].to_numpy(), rcond=None)
        resid = rows[y].to_numpy() - design @ coef
        sigma2 = resid @ resid / (len(rows) - design.shape[1])
        se = np.sqrt(np.diag(sigma2 * np.linalg.inv(design.T @ design)))
        target = np.array([planted["intercept"][y], *paths.values()])
        z = (coef - target) / se
        assert np.abs(z).max() < 4, (y, dict(zip(["intercept", *xs], z.round(2))))
        assert np.sqrt(sigma2) == pytest.approx(planted["residual_sd"][y], rel=0.1)
        std = standardised_paths(rows, y, xs)
        np.testing.assert_allclose(std, list(planted["std_all"][y].values()), atol=0.15)
