"""Q10 engine: parity with R's nls (tests/reference/nls.R), planted truths, bad input."""

from __future__ import annotations

import json
import shutil
import subprocess
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import pcstats as pc

from ..conftest import REFERENCE, ROOT

EVALUATION = ROOT / "fixtures" / "evaluation"


@pytest.fixture(scope="module")
def monthly() -> pd.DataFrame:
    return pc.read_table(EVALUATION / "sites_monthly.parquet")


@pytest.fixture(scope="module")
def q10_input() -> pd.DataFrame:
    """The rows nls.R fitted, as a long table."""
    wide = pd.read_csv(REFERENCE / "q10_input.csv")
    long = wide.melt(id_vars=["region", "site", "year", "month"], value_vars=["TER", "AirT"], var_name="variable")
    return long.assign(source="FLUXNET", kind="eddy_covariance",
                       unit=np.where(long["variable"] == "TER", "gC m-2 d-1", "degC"))


@pytest.mark.parametrize("form", ["q10", "lloyd_taylor", "arrhenius"])
def test_matches_nls(q10_input, form):
    res = pc.fit(pc.Q10Spec(by="region", form=form), q10_input)
    ref = pd.read_csv(REFERENCE / "nls" / "q10_tidy.csv").query("form == @form")
    merged = res.tidy().merge(ref, on=["region", "term"], suffixes=("", "_r"), validate="one_to_one")
    assert len(merged) == 4
    for column in ("estimate", "std_error", "statistic"):  # nls stops at its own tolerance: ~1e-7 relative
        np.testing.assert_allclose(merged[column], merged[f"{column}_r"], rtol=2e-6, err_msg=column)
    q = stats.t.ppf(0.975, res.glance().set_index("region").loc[merged["region"], "df_residual"])
    np.testing.assert_allclose(merged["conf_low"], merged["estimate_r"] - q * merged["std_error_r"], rtol=2e-6)
    glance = pd.read_csv(REFERENCE / "nls" / "q10_glance.csv").query("form == @form")
    merged = res.glance().merge(glance, on="region", suffixes=("", "_r"))
    for column in ("nobs", "df_residual", "sigma", "log_lik", "aic", "bic"):
        np.testing.assert_allclose(merged[column], merged[f"{column}_r"], rtol=1e-7, err_msg=column)


def test_planted_q10_of_towers_and_models_are_recovered(monthly):
    """Bonferroni over the 22 Q10s tested: each within z(1 - 0.05/44) standard errors of its planted value."""
    truth = json.loads((EVALUATION / "truth.json").read_text())
    res = pc.fit(pc.Q10Spec(by=("source", "region")), monthly)
    q10 = res.tidy().query("term == 'Q10'").set_index(["source", "region"])
    planted = {("FLUXNET", r): v["Q10"] for r, v in truth["towers_respiration"].items()}
    planted |= {(m, r): v["Q10"] for m, v in truth["models"].items() for r in ("P", "NoP")}
    assert set(planted) == set(q10.index)
    z = np.array([(q10.loc[k, "estimate"] - v) / q10.loc[k, "std_error"] for k, v in planted.items()])
    assert np.abs(z).max() < stats.norm.ppf(1 - 0.05 / (2 * len(z))), z.round(2)
    r_ref = res.tidy().query("term == 'R_ref' and source == 'FLUXNET'").set_index("region")["estimate"]
    assert r_ref["P"] == pytest.approx(2.0, abs=0.05) and r_ref["NoP"] == pytest.approx(2.8, abs=0.05)


def test_sources_are_fitted_apart_not_pooled(monthly):
    """The issue's call, on towers and ten models: one fit per source, equal to filtering each."""
    res = pc.fit(pc.Q10Spec(response="TER", temperature="AirT", by="region"), monthly)
    assert res.by == ("source", "region") and res.tidy()["source"].nunique() == 11
    towers = pc.fit(pc.Q10Spec(by="region", where="source == 'FLUXNET'"), monthly)
    assert towers.by == ("region",)
    pooled = res.tidy().query("source == 'FLUXNET'").set_index(["region", "term"])["estimate"]
    alone = towers.tidy().set_index(["region", "term"])["estimate"]
    np.testing.assert_allclose(pooled.loc[alone.index], alone, rtol=1e-12)


def test_permafrost_q10_is_higher_and_the_difference_is_tested(monthly):
    res = pc.fit(pc.Q10Spec(by="region", where="kind == 'eddy_covariance'"), monthly)
    diff = pc.difference_test(res.subset(region="P"), res.subset(region="NoP"), term="Q10").tidy().iloc[0]
    assert diff["estimate"] == pytest.approx(0.8, abs=0.1) and diff["p_value"] < 1e-6


def test_results_carry_units_dropped_rows_and_augment(monthly):
    table = monthly.copy()
    table.loc[table.index[(table["variable"] == "AirT") & (table["source"] == "FLUXNET")][:7], "value"] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = pc.fit(pc.Q10Spec(by="region", where="source == 'FLUXNET'"), table)
    glance = res.glance()
    assert glance["n_dropped"].sum() == 7 and glance["dropped_why"].str.contains("NaN in AirT").any()
    assert res.units == {"TER": "gC m-2 d-1", "AirT": "degC"}
    aug = res.augment()
    assert {"fitted", "resid"} <= set(aug.columns) and len(aug) == glance["nobs"].sum()
    assert glance["converged"].all()


def test_small_groups_are_reported_not_fitted(q10_input):
    few = q10_input[(q10_input["site"] == q10_input["site"].iloc[0]) & (q10_input["month"].isin([1, 7]))]
    few = few[few["year"] == few["year"].min()]
    with pytest.warns(UserWarning, match="not fitted"):
        res = pc.fit(pc.Q10Spec(min_n=5), few)
    assert res.tidy().empty and "min_n=5" in res.glance()["dropped_why"].iloc[0]


def test_bad_input_names_the_fault(q10_input):
    with pytest.raises(pc.SpecError, match="form="):
        pc.Q10Spec(form="exponential")
    with pytest.raises(pc.SpecError, match="t_ref"):
        pc.Q10Spec(form="lloyd_taylor", t_ref=-50)
    with pytest.raises(pc.FormulaError, match="'AirTemp'"):
        pc.fit(pc.Q10Spec(temperature="AirTemp"), q10_input)
    cold = q10_input.copy()
    cold.loc[(cold["variable"] == "AirT").to_numpy().nonzero()[0][:2], "value"] = -60.0
    with pytest.raises(pc.ContractError, match="at or below t0"):
        pc.fit(pc.Q10Spec(form="lloyd_taylor", by="region"), cold)


def test_spec_round_trips_through_a_spec_file(tmp_path):
    spec = pc.Q10Spec(by=("region",), form="lloyd_taylor", where="kind == 'eddy_covariance'")
    assert pc.load_spec(pc.save_spec(spec, tmp_path / "q10.toml")) == spec


@pytest.mark.needs_r
@pytest.mark.skipif(shutil.which("Rscript") is None, reason="Rscript not installed (the README test command installs it)")
def test_stored_r_outputs_are_reproduced_by_nls_R(tmp_path):
    subprocess.run(["Rscript", "tests/reference/nls.R", str(tmp_path)], check=True, capture_output=True)
    for name in ("q10_tidy.csv", "q10_glance.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(tmp_path / name), pd.read_csv(REFERENCE / "nls" / name), rtol=1e-12)


def test_reference_input_is_current(q10_input):
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_inputs", REFERENCE / "make_inputs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    pd.testing.assert_frame_equal(module.build_q10(), pd.read_csv(REFERENCE / "q10_input.csv"), check_dtype=False,
                                  rtol=1e-12)
