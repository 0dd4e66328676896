"""Temperature sensitivity γ: planted direct and legacy slopes are recovered, in gC m-2 d-1 K-1."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import pcstats as pc
from pcstats.errors import ContractError, PcstatsError

GAMMA = {"P": {"direct": -0.08, "legacy": -0.05}, "NoP": {"direct": 0.03, "legacy": 0.0}}


def planted(seed: int = 0, gamma: dict = GAMMA) -> pd.DataFrame:
    """Monthly NEE (gC m-2 d-1) whose Sep-Oct mean responds to Sep-Oct AirT (direct) and May-Jun AirT (legacy)."""
    rng = np.random.default_rng(seed)
    rows = []
    for region, g in gamma.items():
        for year in range(1980, 2020):
            airt = 5 + 12 * np.sin(np.pi * (np.arange(1, 13) - 4) / 8) + rng.normal(0, 1.5, 12)
            spring, autumn = airt[4:6].mean(), airt[8:10].mean()
            nee = 1.0 + rng.normal(0, 0.02, 12)
            nee[8:10] += g["direct"] * (autumn - 5) + g["legacy"] * (spring - 12) + rng.normal(0, 0.02)
            for m in range(12):
                rows += [("INV", "inversion", region, year, m + 1, "NEE", nee[m], "gC m-2 d-1", "down"),
                         ("CRU", "covariate", region, year, m + 1, "AirT", airt[m], "degC", None)]
    return pd.DataFrame(rows, columns=["source", "kind", "region", "year", "month", "variable", "value", "unit", "positive"])


def test_direct_and_legacy_gammas_are_recovered():
    table = planted()
    both = pc.sensitivity(table, driver_season="MJ", seasons=("LGS",), by="region")
    assert both.units["NEE"] == "gC m-2 d-1"  # the conversion: mean daily rate, not the x 365 annualised value
    assert both.units["gamma"] == "gC m-2 d-1 K-1"  # the slope's unit, for the exporters
    # the LGS mean of monthly NEE depends on both temperatures; fit each with the other as a covariate would be
    # exact, a one-driver fit is unbiased here because spring and autumn AirT are drawn independently
    legacy = both.tidy().query("term == 'AirT'").set_index("region")
    direct = pc.sensitivity(table, seasons=("LGS",), by="region").tidy().query("term == 'AirT'").set_index("region")
    for region, g in GAMMA.items():
        assert abs(legacy.loc[region, "estimate"] - g["legacy"]) < 4 * legacy.loc[region, "std_error"]
        assert abs(direct.loc[region, "estimate"] - g["direct"]) < 4 * direct.loc[region, "std_error"]
    diff = pc.difference_test(pc.sensitivity(table, seasons=("LGS",), by="region").subset(region="P"),
                              pc.sensitivity(table, seasons=("LGS",), by="region").subset(region="NoP"), term="AirT")
    assert diff.tidy()["p_value"].iloc[0] < 1e-6


def test_missing_driver_years_are_counted():
    table = planted()
    gone = (table["variable"] == "AirT") & (table["year"] == 1990) & (table["month"] == 5)
    with pytest.warns(UserWarning, match="2 of 80 seasonal values lack one or more months"):  # 1990's MJ in P and NoP
        res = pc.sensitivity(table[~gone], driver_season="MJ", seasons=("EGS", "LGS"), by="region")
    glance = res.glance()
    assert (glance["n_dropped"] == 1).all() and glance["dropped_why"].str.contains("1 NaN in AirT").all()


def test_release_positive_fluxes_are_refused_until_converted():
    table = planted()
    up = table.assign(value=np.where(table["variable"] == "NEE", -table["value"], table["value"]),
                      positive=np.where(table["variable"] == "NEE", "up", None))
    with pytest.raises(ContractError, match=r"column 'positive' is \['up'\].*convert_units"):
        pc.sensitivity(up, seasons=("LGS",), by="region")
    converted = pc.sensitivity(pc.convert_units(up), seasons=("LGS",), by="region").tidy()
    original = pc.sensitivity(table, seasons=("LGS",), by="region").tidy()
    np.testing.assert_allclose(converted["estimate"], original["estimate"], rtol=1e-12)
    annual = table.assign(value=np.where(table["variable"] == "NEE", 365 * table["value"], table["value"]),
                          unit=np.where(table["variable"] == "NEE", "gC m-2 yr-1", table["unit"]))
    with pytest.raises(ContractError, match="column 'unit' is \\['gC m-2 yr-1'\\]"):
        pc.sensitivity(annual, seasons=("LGS",), by="region")


def test_the_raw_inversions_fixture_is_refused_for_its_sign():
    inversions = pc.read_table("fixtures/inversions/inversions_monthly.parquet")
    airt = pc.read_table("fixtures/covariates/covariates_monthly.parquet").query("variable == 'AirT'")
    with pytest.raises(ContractError, match="'positive'.*up.*convert_units"):
        pc.sensitivity(pd.concat([inversions, airt], ignore_index=True), by=("source", "region"))


def test_a_permafrost_by_key_points_to_the_region_column():
    sites = pc.read_table("fixtures/evaluation/sites_monthly.parquet")
    with pytest.raises(PcstatsError, match="permafrost classes \\(P, NoP\\) are in the 'region' column: use by='region'"):
        pc.sensitivity(sites, response="NEE", driver="AirT", driver_season="MJ", seasons=("EGS", "LGS", "ANN"), by="permafrost")


def test_welch_test_between_two_datasets():
    other = {"P": {"direct": 0.02, "legacy": -0.05}, "NoP": {"direct": 0.03, "legacy": 0.0}}
    a = pc.sensitivity(planted(0), seasons=("LGS",), by="region")
    b = pc.sensitivity(planted(1, other), seasons=("LGS",), by="region")
    d = pc.difference_test(a, b, term="AirT").tidy().set_index("region")
    assert a.units["gamma"] == b.units["gamma"] and d.index.tolist() == ["NoP", "P"]
    ga, gb = (r.tidy().query("term == 'AirT'").set_index("region") for r in (a, b))
    dfa, dfb = (r.glance().set_index("region")["df_residual"] for r in (a, b))
    for region in ("P", "NoP"):
        va, vb = ga.loc[region, "std_error"] ** 2, gb.loc[region, "std_error"] ** 2
        df = (va + vb) ** 2 / (va ** 2 / dfa[region] + vb ** 2 / dfb[region])
        t = (ga.loc[region, "estimate"] - gb.loc[region, "estimate"]) / np.sqrt(va + vb)
        assert d.loc[region, "statistic"] == pytest.approx(t, rel=1e-12)
        assert d.loc[region, "p_value"] == pytest.approx(2 * stats.t.sf(abs(t), df), rel=1e-10)
    assert d.loc["P", "p_value"] < 1e-6 < d.loc["NoP", "p_value"]  # P's direct gamma differs by 0.1, NoP's not at all


def test_pairwise_tests_between_regions_and_seasons():
    res = pc.sensitivity(planted(), seasons=("EGS", "LGS", "ANN"), by="region")
    seasons = pc.pairwise_differences(res, "season", "AirT")
    assert sorted(seasons.tidy()["contrast"].unique()) == ["ANN - EGS", "ANN - LGS", "EGS - LGS"]
    regions = pc.pairwise_differences(res, "region", "AirT").tidy().set_index("season")
    assert regions.loc["LGS", "contrast"] == "NoP - P" and regions.loc["LGS", "p_value"] < 1e-6


def test_bad_input():
    table = planted()
    with pytest.raises(PcstatsError, match="'MAM'"):
        pc.sensitivity(table, driver_season="MAM")
    with pytest.raises(PcstatsError, match="driver='Tair'"):
        pc.sensitivity(table, driver="Tair")
    with pytest.raises(PcstatsError, match="monthly table"):
        pc.sensitivity(pc.seasonalize(table))
