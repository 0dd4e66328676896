"""Panel engine: parity with R's plm (tests/reference/plm.R), fixed effects vs pooled OLS, bad input."""

from __future__ import annotations

import shutil
import subprocess
import warnings

import numpy as np
import pandas as pd
import pytest

import pcstats as pc

from ..conftest import REFERENCE

#: pcstats cov_type -> the vcov column of tests/reference/plm/panel_tidy.csv it equals
VCOV = {"clustered": "sss", "unadjusted": "unadjusted", "robust": "lsdv_HC1"}
EFFECT = {False: "individual", True: "twoways"}


@pytest.fixture(scope="module")
def panel_input() -> pd.DataFrame:
    """The rows plm.R fitted, as a long seasonal table."""
    wide = pd.read_csv(REFERENCE / "panel_input.csv")
    long = wide.melt(id_vars=["region", "site", "year", "season"], value_vars=["NEE", "AirT"], var_name="variable")
    return long.assign(source="FLUXNET", kind="eddy_covariance",
                       unit=np.where(long["variable"] == "NEE", "gC m-2 yr-1", "degC"))


def synthetic(n_sites: int = 30, n_years: int = 8, slope: float = 3.0, seed: int = 1) -> pd.DataFrame:
    """Sites whose NEE level rises with their mean temperature (-20 per degC), a shared within-site slope."""
    rng = np.random.default_rng(seed)
    site_mean = rng.uniform(-5.0, 15.0, n_sites)
    level = 100.0 - 20.0 * site_mean + rng.normal(0.0, 5.0, n_sites)
    rows = []
    for i in range(n_sites):
        for year in range(2000, 2000 + n_years):
            t = site_mean[i] + rng.normal(0.0, 2.0)
            nee = level[i] + slope * t + rng.normal(0.0, 2.0)
            rows += [(f"S{i:02d}", year, "NEE", nee, "gC m-2 yr-1"), (f"S{i:02d}", year, "AirT", t, "degC")]
    table = pd.DataFrame(rows, columns=["site", "year", "variable", "value", "unit"])
    return table.assign(source="FLUXNET", kind="eddy_covariance", region="P", season="EGS")


@pytest.mark.parametrize("time_effects", [False, True])
@pytest.mark.parametrize("cov_type", ["clustered", "unadjusted", "robust"])
def test_matches_plm(panel_input, cov_type, time_effects):
    spec = pc.PanelSpec("NEE ~ AirT", by="season", time_effects=time_effects, cov_type=cov_type)
    res = pc.fit(spec, panel_input)
    ref = pd.read_csv(REFERENCE / "plm" / "panel_tidy.csv").query("effect == @EFFECT[@time_effects] and vcov == @VCOV[@cov_type]")
    merged = res.tidy().merge(ref, on=["season", "term"], suffixes=("", "_r"), validate="one_to_one")
    assert len(merged) == 2
    np.testing.assert_allclose(merged["estimate"], merged["estimate_r"], rtol=1e-10)
    for column in ("std_error", "statistic", "p_value"):
        np.testing.assert_allclose(merged[column], merged[f"{column}_r"], rtol=1e-8, err_msg=column)
    glance = pd.read_csv(REFERENCE / "plm" / "panel_glance.csv").query("effect == @EFFECT[@time_effects]")
    merged = res.glance().merge(glance, on="season", suffixes=("", "_r"), validate="one_to_one")
    for column in ("nobs", "n_entities", "n_time", "df_residual", "r_squared", "f_pooled", "f_pooled_df1", "f_pooled_df2"):
        np.testing.assert_allclose(merged[column], merged[f"{column}_r"], rtol=1e-10, err_msg=column)
    np.testing.assert_allclose(merged["f_pooled_p"], merged["f_pooled_p_r"], rtol=1e-10)
    assert (res.glance()["cov_type"] == cov_type).all() and not res.warnings


def test_plm_hc0_is_linearmodels_without_small_sample_factors(panel_input):
    """The mapping the engine docstring states for plm's type = "HC0"."""
    from linearmodels import PanelOLS

    ref = pd.read_csv(REFERENCE / "plm" / "panel_tidy.csv").query("vcov == 'HC0'").set_index(["season", "effect"])
    wide = pd.read_csv(REFERENCE / "panel_input.csv")
    for (season, effect), row in ref.iterrows():
        data = wide[wide["season"] == season].set_index(["site", "year"])
        model = PanelOLS(data["NEE"], data[["AirT"]], entity_effects=True, time_effects=effect == "twoways")
        fitted = model.fit(cov_type="clustered", cluster_entity=True, debiased=False, group_debias=False,
                           auto_df=False, count_effects=False)
        assert fitted.std_errors["AirT"] == pytest.approx(row["std_error"], rel=1e-8)


def test_entity_effects_recover_the_within_slope_that_pooled_ols_misses():
    table = synthetic(slope=3.0)
    fe = pc.fit(pc.PanelSpec("NEE ~ AirT"), table).tidy().set_index("term").loc["AirT"]
    pooled = pc.fit(pc.PanelSpec("NEE ~ AirT", entity_effects=False), table).tidy().set_index("term")
    assert fe["conf_low"] < 3.0 < fe["conf_high"] and fe["std_error"] < 0.2
    assert pooled.loc["AirT", "estimate"] < -10  # the between-site gradient (-20 + 3) dominates
    assert list(pooled.index) == ["(Intercept)", "AirT"]
    two_way = pc.fit(pc.PanelSpec("NEE ~ AirT", time_effects=True), table)
    assert two_way.tidy()["term"].tolist() == ["AirT"]  # the effects are not tidy rows
    assert two_way.glance()["effects"].iloc[0] == "entity+time"
    assert two_way.glance()["df_residual"].iloc[0] == 240 - 30 - 7 - 1


def test_singletons_are_counted_and_change_nothing():
    table = synthetic()
    single = table[(table["site"] != "S00") | (table["year"] == 2000)]
    without = table[table["site"] != "S00"]
    res = pc.fit(pc.PanelSpec("NEE ~ AirT", cov_type="unadjusted"), single)
    assert res.glance()["n_singletons"].iloc[0] == 1 and res.glance()["n_entities"].iloc[0] == 30
    ref = pc.fit(pc.PanelSpec("NEE ~ AirT", cov_type="unadjusted"), without)
    pd.testing.assert_frame_equal(res.tidy(), ref.tidy(), rtol=1e-10)  # one obs and one effect more: same df


def test_nan_rows_are_dropped_and_counted(panel_input):
    table = panel_input.copy()
    airt = np.flatnonzero((table["variable"] == "AirT") & (table["season"] == "EGS"))[:5]
    table.loc[airt, "value"] = np.nan
    res = pc.fit(pc.PanelSpec("NEE ~ AirT", by="season"), table)
    glance = res.glance().set_index("season")
    assert glance.loc["EGS", "n_dropped"] == 5 and glance.loc["EGS", "dropped_why"] == "5 NaN in AirT"
    assert glance.loc["EGS", "nobs"] == 295 - 5 and glance.loc["LGS", "n_dropped"] == 0
    aug = res.augment()
    assert len(aug) == glance["nobs"].sum() and {"site", "year", "fitted", "resid"} <= set(aug.columns)
    np.testing.assert_allclose(aug["fitted"] + aug["resid"], aug["NEE"])


def test_too_few_entities_are_reported_not_fitted():
    table = synthetic(n_sites=3)
    with pytest.warns(UserWarning, match="not fitted"):
        res = pc.fit(pc.PanelSpec("NEE ~ AirT", min_entities=5), table)
    assert res.tidy().empty and "3 site value(s) < min_entities=5" in res.glance()["dropped_why"].iloc[0]
    assert any("min_entities" in w for w in res.warnings) and res.glance()["nobs"].iloc[0] == 0


def test_bad_input_names_the_fault(panel_input):
    with pytest.raises(pc.SpecError, match="entity='plot' is not a key column"):
        pc.fit(pc.PanelSpec("NEE ~ AirT", entity="plot", by="season"), panel_input)
    with pytest.raises(pc.SpecError, match="entity='AirT' is not a key column"):
        pc.fit(pc.PanelSpec("NEE ~ GPP", entity="AirT", by="season"), panel_input)
    with pytest.raises(pc.FormulaError, match="'AirTemp'"):
        pc.fit(pc.PanelSpec("NEE ~ AirTemp", by="season"), panel_input)
    with pytest.raises(pc.ContractError, match="one row per site and year"):
        pc.fit(pc.PanelSpec("NEE ~ AirT"), panel_input)  # EGS and LGS in one panel: add by="season"
    with pytest.raises(pc.FormulaError, match="absorb"):
        pc.fit(pc.PanelSpec("NEE ~ AirT + C(region)", by="season"), panel_input)
    with pytest.raises(pc.SpecError, match="cov_type="):
        pc.PanelSpec("NEE ~ AirT", cov_type="HAC")
    with pytest.raises(pc.SpecError, match="min_entities="):
        pc.PanelSpec("NEE ~ AirT", min_entities=1)
    with pytest.raises(pc.SpecError, match="also in by="):
        pc.PanelSpec("NEE ~ AirT", by="site")
    with pytest.raises(pc.SpecError, match="entity_effects="):
        pc.PanelSpec("NEE ~ AirT", entity_effects="yes")
    with pytest.raises(pc.SpecError, match="no field 'effects'"):
        pc.PanelSpec("NEE ~ AirT").replace(effects="twoways")


def test_spec_round_trips_through_a_spec_file(tmp_path, panel_input):
    spec = pc.PanelSpec("NEE ~ AirT", by=("season",), time_effects=True, cov_type="robust", where="kind == 'eddy_covariance'")
    assert pc.load_spec(pc.save_spec(spec, tmp_path / "panel.toml")) == spec
    gamma = pc.load_spec("models/panel_gamma.toml")
    assert gamma == pc.PanelSpec("NEE ~ AirT", by="season", where="kind == 'eddy_covariance'", name="Tower NEE gamma")
    tidy = pc.fit(gamma, panel_input).tidy()
    ref = pd.read_csv(REFERENCE / "plm" / "panel_tidy.csv").query("effect == 'individual' and vcov == 'sss'")
    np.testing.assert_allclose(tidy["std_error"], ref["std_error"], rtol=1e-8)


@pytest.mark.needs_r
@pytest.mark.skipif(shutil.which("Rscript") is None, reason="Rscript not installed (the README test command installs it)")
def test_stored_r_outputs_are_reproduced_by_plm_R(tmp_path):
    subprocess.run(["Rscript", "tests/reference/plm.R", str(tmp_path)], check=True, capture_output=True)
    for name in ("panel_tidy.csv", "panel_glance.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(tmp_path / name), pd.read_csv(REFERENCE / "plm" / name), rtol=1e-12)


def test_reference_input_is_current():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_inputs", REFERENCE / "make_inputs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        built = module.build_panel()
    pd.testing.assert_frame_equal(built, pd.read_csv(REFERENCE / "panel_input.csv"), check_dtype=False, rtol=1e-12)
