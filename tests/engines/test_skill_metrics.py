"""Skill engine: alignment of simulated and observed rows, groups, warnings, bad input."""

from __future__ import annotations

import json
import warnings

import HydroErr as he
import numpy as np
import pandas as pd
import pytest

import pcstats as pc

from ..conftest import ROOT

EVALUATION = ROOT / "fixtures" / "evaluation"


@pytest.fixture(scope="module")
def monthly() -> pd.DataFrame:
    return pc.read_table(EVALUATION / "sites_monthly.parquet")


def quiet(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


def test_one_group_by_hand(monthly):
    res = pc.skill(monthly, simulated="CLM5.0:GPP", observed="EC:GPP", by="site")
    row = res.tidy().query("site == 'FI-Hyy'").set_index("term")["estimate"]
    sim = monthly.query("source == 'CLM5.0' and variable == 'GPP' and site == 'FI-Hyy'")
    obs = monthly.query("source == 'FLUXNET' and variable == 'GPP' and site == 'FI-Hyy'")
    pairs = sim.merge(obs, on=["region", "site", "year", "month"], suffixes=("_s", "_o"))
    s, o = pairs["value_s"].to_numpy(float), pairs["value_o"].to_numpy(float)
    assert row["nse"] == pytest.approx(he.nse(s, o), rel=1e-10)
    assert row["mbe"] == pytest.approx(np.mean(s - o), rel=1e-10)
    assert row["kge"] == pytest.approx(he.kge_2009(s, o), rel=1e-10)
    assert res.glance().query("site == 'FI-Hyy'")["nobs"].iloc[0] == len(pairs)


def test_time_axes_are_aligned_and_the_unmatched_rows_counted(monthly):
    truth = json.loads((EVALUATION / "truth.json").read_text())
    res = pc.skill(monthly, simulated="TRENDY:GPP", observed="EC:GPP")
    removed = res.removed.set_index("reason")
    sim_only = removed.loc[removed.index.str.startswith("simulated rows without"), "n_removed"].iloc[0]
    n_model_rows = len(monthly.query("kind == 'dgvm' and variable == 'GPP'"))
    n_towers = len(monthly.query("kind == 'eddy_covariance' and variable == 'GPP'"))
    assert sim_only == n_model_rows - 10 * n_towers  # every tower month is in every model's record
    assert removed.loc[removed.index.str.startswith("observed rows without"), "n_removed"].iloc[0] == 0
    assert res.glance()["nobs"].tolist() == [n_towers] * 10
    assert truth["tower_rows_missing"] > 0


def test_observed_rows_outside_the_model_record_are_counted(monthly):
    """Models from 2007 only: tower months before then have no simulated value in any of the ten."""
    late = monthly[(monthly["kind"] != "dgvm") | (monthly["year"] >= 2007)]
    res = quiet(pc.skill, late, simulated="TRENDY:GPP", observed="EC:GPP")
    removed = res.removed.set_index("reason")
    obs_only = removed.loc[removed.index.str.startswith("observed rows without"), "n_removed"].iloc[0]
    early_towers = len(late.query("kind == 'eddy_covariance' and variable == 'GPP' and year < 2007"))
    assert early_towers > 0 and obs_only == 10 * early_towers  # summed over the ten simulated sources
    assert res.glance()["nobs"].tolist() == [len(late.query("kind == 'eddy_covariance' and variable == 'GPP'"))
                                             - early_towers] * 10


def test_planted_gpp_gains_are_recovered_as_mean_ratios(monthly):
    truth = json.loads((EVALUATION / "truth.json").read_text())["models"]
    res = pc.skill(monthly, simulated="TRENDY:GPP", observed="EC:GPP")
    ratio = res.tidy().query("term == 'mean_ratio'").set_index("source")["estimate"]
    for model, planted in truth.items():
        assert ratio[model] == pytest.approx(planted["expected_gpp_mean_ratio"], rel=0.03), model


def test_nan_pairs_are_dropped_and_counted(monthly):
    truth = json.loads((EVALUATION / "truth.json").read_text())
    res = pc.skill(monthly, simulated="TRENDY:NBP", observed="EC:NEE")
    glance = res.glance()
    assert (glance["n_dropped"] == truth["tower_nee_nan"]).all()
    assert glance["dropped_why"].str.contains(f"{truth['tower_nee_nan']} NaN in observed").all()


def test_seasonal_skill_by_site_and_season(monthly):
    seasonal = quiet(pc.seasonalize, monthly)
    res = quiet(pc.skill, seasonal, simulated="TRENDY:NBP", observed="EC:NEE", by=("site", "season"))
    assert res.by == ("source", "site", "season")
    assert set(res.tidy()["season"]) == {"ANN", "EGS", "LGS", "WIN"}
    wide = pc.compare([res], stats=("estimate",))
    assert wide.shape[0] == len(res.tidy())


@pytest.mark.parametrize("level", [1.5, 0.1, 2.7, 123.456])  # 0.1 and 2.7: means with rounding residue
def test_constant_observed_series_gives_nan_and_a_warning(monthly, level):
    table = monthly.copy()
    flat = (table["source"] == "FLUXNET") & (table["variable"] == "GPP") & (table["site"] == "US-Prr")
    table.loc[flat, "value"] = level
    with pytest.warns(UserWarning, match="NSE, NNSE, r and KGE undefined"):
        res = pc.skill(table, simulated="CLM5.0:GPP", observed="EC:GPP", by="site")
    row = res.tidy().query("site == 'US-Prr'").set_index("term")["estimate"]
    assert np.isnan(row["nse"]) and np.isfinite(row["rmse"])
    assert any("US-Prr" in w for w in res.warnings)


def test_groups_with_too_few_pairs_are_reported(monthly):
    short = monthly[(monthly["year"] == 2008) & (monthly["month"] <= 2)]
    res = quiet(pc.skill, short, simulated="CLM5.0:TER", observed="EC:TER", by="site", min_n=3)
    assert (res.glance()["dropped_why"].str.contains("min_n=3")).all() and res.tidy().empty


def test_bad_input_names_the_fault(monthly):
    with pytest.raises(pc.SpecError, match="'WHO:VARIABLE'"):
        pc.skill(monthly, simulated="NBP", observed="EC:NEE")
    with pytest.raises(pc.SpecError, match="Did you mean 'TRENDY'"):
        pc.skill(monthly, simulated="TRENDI:NBP", observed="EC:NEE")
    with pytest.raises(pc.SpecError, match="no variable 'NPP'"):
        pc.skill(monthly, simulated="TRENDY:NPP", observed="EC:NEE")
    with pytest.raises(pc.SpecError, match="'season' is not a key.*seasonalize"):
        pc.skill(monthly, simulated="TRENDY:NBP", observed="EC:NEE", by="season")
    yearly = monthly.assign(unit=np.where(monthly["kind"] == "dgvm", "gC m-2 yr-1", monthly["unit"]))
    with pytest.raises(pc.ContractError, match="one unit"):
        pc.skill(yearly, simulated="TRENDY:NBP", observed="EC:NEE")
    upward = monthly.assign(positive=np.where(monthly["variable"] == "NEE", "up", monthly["positive"]))
    with pytest.raises(pc.ContractError, match="positive"):
        pc.skill(upward, simulated="TRENDY:NBP", observed="EC:NEE")
    with pytest.raises(pc.SpecError, match="no rows of kind 'eddy_covariance'"):
        pc.skill(monthly[monthly["kind"] == "dgvm"], simulated="TRENDY:NBP", observed="EC:NEE")
    later = monthly.assign(year=np.where(monthly["kind"] == "dgvm", monthly["year"] + 20, monthly["year"]))
    with pytest.raises(pc.ContractError, match="share no"):
        pc.skill(later, simulated="TRENDY:NBP", observed="EC:NEE")


def test_skill_results_go_into_a_paper_table(monthly):
    res = quiet(pc.skill, quiet(pc.seasonalize, monthly), simulated="CLM5.0:NBP", observed="EC:NEE", by="season")
    markdown = pc.table([res], fmt=3).to_markdown()
    nse_lgs = res.tidy().query("season == 'LGS' and term == 'nse'")["estimate"].iloc[0]
    assert "LGS" in markdown and f"{nse_lgs:.3f}" in markdown.split("| nse")[1].split("\n")[0]
