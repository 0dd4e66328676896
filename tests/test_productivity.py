"""pcstats.productivity (the paper's H1, Fig. 2a-d) and its reproduce section."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from pcstats.errors import ContractError, PcstatsError
from pcstats.productivity import (association, balance_paths, bin_medians, cell_correlations, cell_trends,
                                  correlation_shares, pearson, sem_table, trend_frame)

ROOT = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------------------------- bins


def test_bin_medians_by_hand():
    f = pd.DataFrame({"TC": [0.0, 4.9, 5.0, 7.0, 9.0, 19.99, 20.0], "x": [1.0, 3.0, 10.0, np.nan, 20.0, 7.0, 99.0]})
    out = bin_medians(f, ["x"], upper=20)
    assert out["bin"].tolist() == ["TC[0,5)", "TC[5,10)", "TC[10,15)", "TC[15,20)"]
    assert out["center"].tolist() == [2.5, 7.5, 12.5, 17.5]
    assert out["n_cells"].tolist() == [2, 3, 0, 1]  # 20 == upper is in no bin, as figure2.r's tc < hi
    np.testing.assert_allclose(out["x"].to_numpy(), [2.0, 15.0, np.nan, 7.0])  # NaN skipped, empty bin NaN


def test_bin_medians_by_group_and_errors():
    f = pd.DataFrame({"TC": [1.0, 2.0, 1.0], "season": ["A", "A", "B"], "x": [1.0, 2.0, 5.0]})
    out = bin_medians(f, ["x"], by=("season",), width=50)
    assert out.groupby("season")["n_cells"].sum().to_dict() == {"A": 2, "B": 1}
    np.testing.assert_allclose(out.loc[out["season"] == "A", "x"], [1.5, np.nan])
    with pytest.raises(ContractError, match="'y'"):
        bin_medians(f, ["y"])
    with pytest.raises(ContractError, match="'TC'"):
        bin_medians(f.drop(columns="TC"), ["x"])


# -------------------------------------------------------------------------------------- correlations


def test_pearson_matches_scipy():
    rng = np.random.default_rng(3)
    a = rng.normal(size=25)
    b = 0.5 * a + rng.normal(size=25)
    b[[3, 7]] = np.nan
    res = pearson(pd.DataFrame({"a": a, "b": b}), "a", "b")
    row = res.tidy().iloc[0]
    ok = ~np.isnan(b)
    ref = stats.pearsonr(a[ok], b[ok])
    ci = ref.confidence_interval(0.95)
    assert row["estimate"] == pytest.approx(ref.statistic, rel=1e-10)
    assert row["p_value"] == pytest.approx(ref.pvalue, rel=1e-8)
    assert (row["conf_low"], row["conf_high"]) == pytest.approx((ci.low, ci.high), rel=1e-8)
    assert row["df"] == 21
    glance = res.glance().iloc[0]
    assert (glance["nobs"], glance["n_dropped"]) == (23, 2)


def test_pearson_groups_too_short_or_constant_are_not_fitted():
    f = pd.DataFrame({"g": ["a"] * 12 + ["b"] * 5 + ["c"] * 12,
                      "x": np.r_[np.arange(12.0), np.arange(5.0), np.arange(12.0)],
                      "y": np.r_[np.arange(12.0) ** 2, np.arange(5.0), np.ones(12)]})
    res = pearson(f, "x", "y", by=("g",), min_pairs=10)
    assert res.tidy()["g"].tolist() == ["a"]
    why = res.glance().set_index("g")["dropped_why"]
    assert "fewer than 10" in why["b"] and "constant" in why["c"]
    with pytest.raises(ContractError, match="'z'"):
        pearson(f, "x", "z")
    with pytest.raises(PcstatsError, match="min_pairs"):
        pearson(f, "x", "y", min_pairs=2)


def _long(variable, source, values, region="c1", season="EGS", years=None):
    years = range(2000, 2000 + len(values)) if years is None else years
    return pd.DataFrame({"source": source, "kind": "satellite", "region": region, "year": list(years), "season": season,
                         "variable": variable, "value": values, "unit": "1"})


def test_cell_correlations_pairs_on_cell_season_and_year():
    x = pd.concat([_long("GPP", "LUE", np.arange(12.0)), _long("GPP", "LUE", np.arange(12.0), region="c2")])
    y = pd.concat([_long("NEE", "ens", np.arange(12.0)[::-1]),  # c1: r = -1
                   _long("NEE", "ens", np.arange(12.0) + np.sin(np.arange(12)), region="c2",)])
    y = y[~((y["region"] == "c2") & (y["year"] < 2003))]  # c2: 9 paired years < 10
    res = cell_correlations(x, y)
    tidy = res.tidy()
    assert tidy["region"].tolist() == ["c1"] and tidy["estimate"].iloc[0] == pytest.approx(-1.0)
    assert res.glance().set_index("region").loc["c2", "nobs"] == 9
    with pytest.raises(ContractError, match="'source'"):
        cell_correlations(pd.concat([x, _long("GPP", "other", np.arange(12.0))]), y)
    with pytest.raises(ContractError, match="'season'"):
        cell_correlations(x.drop(columns="season"), y)


def test_correlation_shares_by_hand():
    f = pd.DataFrame({"region": np.repeat(["c1", "c2", "c3", "c4"], 12), "x": np.tile(np.arange(12.0), 4)})
    noise = np.tile(np.sin(np.arange(12) * 2.3), 4)
    f["y"] = np.r_[np.arange(12.0), -np.arange(12.0), noise[:12] * 5, np.arange(12.0) + noise[:12] * 5]
    res = pearson(f, "x", "y", by=("region",))
    r = res.tidy().set_index("region")
    w = pd.Series({"c1": 1.0, "c2": 2.0, "c3": 3.0, "c4": 4.0})
    out = correlation_shares(res, w).iloc[0]
    pos, sig = r["estimate"] > 0, r["p_value"] < 0.05
    assert out["n_cells"] == 4
    assert out["share_positive"] == pytest.approx(pos.mean())
    assert out["share_sig_positive"] == pytest.approx((pos & sig).mean())
    assert out["share_sig_negative"] == pytest.approx((~pos & sig).mean())
    assert out["area_share_positive"] == pytest.approx(w[pos[pos].index].sum() / w.sum())
    with pytest.raises(ContractError, match="c4"):
        correlation_shares(res, w.drop("c4"))


# ------------------------------------------------------------------------------------------- trends


def test_cell_trends_recover_a_known_slope_and_trend_frame_joins_cells():
    years = np.arange(1982, 2016)
    t = pd.concat([_long("NDVI", "GIMMS", 0.3 + 0.002 * (years - 1982) + 0.001 * np.cos(years), years=years),
                   _long("NDVI", "GIMMS", 0.3 - 0.001 * (years - 1982) + 1e-4 * np.sin(years), region="c2", years=years)])
    for method in ("sen", "ols"):
        res = cell_trends(t, "NDVI", method=method)
        slopes = res.tidy().query("term == 'year'").set_index("region")["estimate"]
        assert slopes["c1"] == pytest.approx(0.002, abs=2e-4) and slopes["c2"] == pytest.approx(-0.001, abs=2e-5)
    frame = trend_frame({"NDVI": res}, pd.DataFrame({"TC": [10.0, 60.0]}, index=["c1", "c2"]))
    assert frame[["region", "TC"]].values.tolist() == [["c1", 10.0], ["c2", 60.0]]
    short = t[~((t["region"] == "c2") & (t["year"] < 1993))]  # 23 years left < 24 (figure2.r: > 10 missing)
    with pytest.warns(UserWarning, match="min_years=24"):
        assert cell_trends(short, "NDVI").tidy()["region"].unique().tolist() == ["c1"]
    with pytest.raises(ContractError, match="'variable' has no 'GPP'"):
        cell_trends(t, "GPP")


def test_association_is_ols():
    f = pd.DataFrame({"gpp": [1.0, 2, 3, 4, 5], "nee": [0.4, 1.1, 1.4, 2.1, 2.4]})
    res = association(f, "nee", "gpp")
    ref = stats.linregress(f["gpp"], f["nee"])
    row = res.tidy().set_index("term").loc["gpp"]
    assert row["estimate"] == pytest.approx(ref.slope, rel=1e-10) and row["p_value"] == pytest.approx(ref.pvalue, rel=1e-8)
    assert res.glance()["r_squared"].iloc[0] == pytest.approx(ref.rvalue ** 2, rel=1e-10)


# ---------------------------------------------------------------------------------------------- SEM


def _seasonal(variable, values, season, source="s", kind="inversion", unit="gC m-2 d-1"):
    return pd.DataFrame({"source": source, "kind": kind, "region": "c1", "year": [2000, 2001, 2002], "season": season,
                         "variable": variable, "value": values, "unit": unit})


def test_sem_table_builds_ter_and_pregpp():
    nee = pd.concat([_seasonal("NEE", [1.0, 2.0, 1.5], s, "ensemble") for s in ("EGS", "LGS")]).assign(positive="down")
    gpp = pd.concat([_seasonal("GPP", [5.0, 6.0, 7.0], "EGS", "LUE", "satellite"),
                     _seasonal("GPP", [2.0, 2.5, 3.0], "LGS", "LUE", "satellite")])
    drivers = pd.concat([_seasonal(v, [1.0, 2.0, 3.0], s, "CRU", "covariate", "x") for v in ("AirT", "PAR", "SM")
                         for s in ("EGS", "LGS")])
    cells = pd.DataFrame({"TC": [40.0], "P": [70.0]}, index=pd.Index(["c1"], name="region"))
    out = sem_table(nee, gpp, drivers, cells)
    wide = out.pivot_table(index=["season", "year"], columns="variable", values="value")
    np.testing.assert_allclose(wide.loc["EGS", "TER"], [4.0, 4.0, 5.5])
    np.testing.assert_allclose(wide.loc["LGS", "PreGPP"], [5.0, 6.0, 7.0])
    assert wide.loc["EGS", "PreGPP"].isna().all() and (wide["TC"] == 40.0).all()
    assert set(out["source"]) == {"ensemble"} and set(out["kind"]) == {"inversion"}
    paths = balance_paths(out).set_index(["season", "rhs"])
    assert paths.loc[("EGS", "gpp"), "estimate"] == 1.0
    assert paths.loc[("EGS", "ter"), "std_all"] == pytest.approx(-np.std([4.0, 4.0, 5.5]) / np.std([1.0, 2.0, 1.5]))
    broken = out.copy()
    broken.loc[broken["variable"] == "NEE", "value"] += 0.5
    with pytest.raises(PcstatsError, match="GPP - TER"):
        balance_paths(broken)
    with pytest.raises(ContractError, match=r"\['SM'\]"):
        sem_table(nee, gpp, drivers[drivers["variable"] != "SM"], cells)


# ---------------------------------------------------------------------------------------------- section


@pytest.fixture(scope="module")
def section(tmp_path_factory):
    from pcstats.pipeline.context import Context
    from pcstats.pipeline.inputs import FIXTURES, MODELS
    from pcstats.pipeline.productivity import productivity

    out = tmp_path_factory.mktemp("productivity")
    return productivity(Context(out, FIXTURES, MODELS))


@pytest.fixture(scope="module")
def planted():
    return json.loads((ROOT / "fixtures" / "truth.json").read_text(encoding="utf-8"))["productivity"]


@pytest.mark.parametrize("name,key", [("NDVI", "ndvi_trend"), ("GPP", "gpp_trend")])
def test_section_recovers_the_planted_productivity_gradient(section, planted, name, key):
    tidy = section.results[f"productivity_gradient_{name}"].tidy().query("season == 'EGS'").set_index("term")
    for term, truth in (("TC", planted[key]["per_pct_tc"]), ("(Intercept)", planted[key]["intercept"])):
        assert tidy.loc[term, "conf_low"] <= truth <= tidy.loc[term, "conf_high"], (name, term, tidy.loc[term])
    assert tidy.loc["TC", "conf_high"] < 0  # productivity trends fall with tree cover


def test_section_finds_positive_gpp_nee_correlations(section):
    res = section.results["productivity_cor_GPP_EGS_NEE_EGS"]
    tidy = res.tidy()
    assert len(tidy) >= 90 and tidy["df"].min() >= 8  # at least 10 paired years
    assert (tidy["conf_low"] > 0).mean() > 0.9  # planted coupling: positive in (almost) every cell
    shares = pd.read_csv(next(p for p in section.written if p.name == "productivity_cor_shares.csv"))
    row = shares.query("productivity == 'GPP' and productivity_season == 'EGS' and nee_season == 'EGS'").iloc[0]
    assert row["share_sig_positive"] > 0.9 and row["area_share_sig_negative"] < 0.05


def test_section_writes_figure_tables_and_summary(section, planted):
    names = {p.name for p in section.written}
    assert {"productivity_tc_bin_medians.csv", "productivity_cell_trends.csv", "productivity_sem_nee_paths.csv",
            "productivity_sem_egs_tidy.csv", "productivity_sem_lgs_tidy.csv"} <= names
    assert all(p.exists() for p in section.written + section.figures)
    assert {p.name for p in section.figures} == {"fig2_productivity.png", "fig2_productivity.svg"}
    medians = pd.read_csv(next(p for p in section.written if p.name == "productivity_tc_bin_medians.csv"))
    egs = medians.query("season == 'EGS' and n_cells > 0")
    assert stats.spearmanr(egs["center"], egs["NDVI"]).statistic < -0.8  # Fig. 2a: bin medians fall with TC
    sem = section.results["productivity_sem_lgs"].tidy()
    assert {"pregpp", "gpp"} <= set(sem.loc[sem["lhs"] == "ter", "rhs"])
    assert f"{planted['ndvi_trend']['per_pct_tc']:.3g}" in section.summary and "| published | planted | recovered" in section.summary
