"""Temperature sensitivity γ: planted direct and legacy slopes are recovered, in gC m-2 d-1 K-1."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pcstats as pc
from pcstats.errors import PcstatsError

GAMMA = {"P": {"direct": -0.08, "legacy": -0.05}, "NoP": {"direct": 0.03, "legacy": 0.0}}


def planted(seed: int = 0) -> pd.DataFrame:
    """Monthly NEE (gC m-2 d-1) whose Sep-Oct mean responds to Sep-Oct AirT (direct) and May-Jun AirT (legacy)."""
    rng = np.random.default_rng(seed)
    rows = []
    for region, g in GAMMA.items():
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
    with pytest.warns(UserWarning):
        res = pc.sensitivity(table[~gone], driver_season="MJ", seasons=("EGS", "LGS"), by="region")
    glance = res.glance()
    assert (glance["n_dropped"] == 1).all() and glance["dropped_why"].str.contains("1 NaN in AirT").all()


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
