"""Parity with R: lm, sandwich::NeweyWest + lmtest::coeftest, cor.test(kendall). Stored outputs of
tests/reference/lm.R are the reference; the last test re-runs the script where R is installed."""

from __future__ import annotations

import shutil
import subprocess
import warnings

import numpy as np
import pandas as pd
import pytest

import pcstats as pc

from .conftest import REFERENCE

RTOL = 1e-8
NUMBERS = ["estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high"]
KEYS = ["source", "region", "season", "term"]


def r_table(name: str) -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "lm" / name)


def fit_quiet(spec, table):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pc.fit(spec, table)


def assert_close(ours: pd.DataFrame, ref: pd.DataFrame, keys: list[str], columns: list[str], rtol: float = RTOL,
                 atol: float = 0.0):
    merged = ours.merge(ref, on=keys, suffixes=("", "_r"), validate="one_to_one")
    assert len(merged) == len(ref), f"matched {len(merged)} of {len(ref)} reference rows"
    for col in columns:
        np.testing.assert_allclose(merged[col], merged[f"{col}_r"], rtol=rtol, atol=atol, err_msg=col)


@pytest.mark.parametrize("engine", ["statsmodels", "closed_form"])
def test_trend_tidy_matches_lm(trend_input, engine):
    res = fit_quiet(pc.TrendSpec("NEE ~ year", by=("source", "region", "season"), engine=engine), trend_input)
    assert res.engine == engine
    assert_close(res.tidy(), r_table("trend_tidy.csv"), KEYS, NUMBERS)


@pytest.mark.parametrize("engine", ["statsmodels", "closed_form"])
def test_trend_glance_matches_lm(trend_input, engine):
    res = fit_quiet(pc.TrendSpec("NEE ~ year", by=("source", "region", "season"), engine=engine), trend_input)
    cols = ["nobs", "df_residual", "r_squared", "adj_r_squared", "sigma", "log_lik", "aic", "bic"]
    assert_close(res.glance(), r_table("trend_glance.csv"), KEYS[:3], cols)


def test_missing_years_are_dropped_like_na_omit(trend_input):
    """JAMSTEC P lacks two seasons (NaN); lm's na.omit and pcstats drop the same rows."""
    res = fit_quiet(pc.TrendSpec("NEE ~ year", by=("source", "region", "season")), trend_input)
    g = res.glance().set_index(["source", "region", "season"])
    ref = r_table("trend_glance.csv").set_index(["source", "region", "season"])
    assert g.loc[("JAMSTEC", "P", "ANN"), "nobs"] == ref.loc[("JAMSTEC", "P", "ANN"), "nobs"] == 21
    assert g.loc[("JAMSTEC", "P", "ANN"), "n_dropped"] == 1
    assert g.loc[("JAMSTEC", "P", "ANN"), "dropped_why"] == "1 NaN in NEE"


# With prewhitening R's NeweyWest loses digits in some fixture groups (up to 5.5e-8 relative in a p-value):
# its VAR(1) of the estimating functions (e, year * e) is ill-conditioned. pcstats works in an orthonormal
# basis; test_hac_prewhite_is_invariant_to_reparameterisation shows it keeps 1e-10.
@pytest.mark.parametrize(("prewhite", "rtol"), [(False, RTOL), (True, 2e-7)])
def test_hac_matches_sandwich_neweywest(trend_input, prewhite, rtol):
    spec = pc.TrendSpec("NEE ~ year", by=("source", "region", "season"), cov_type="HAC", hac_lags=3, hac_prewhite=prewhite)
    res = fit_quiet(spec, trend_input)
    assert res.engine == "statsmodels"
    ref = r_table("trend_hac.csv")
    ref = ref[(ref["prewhite"] == prewhite) & (ref["rule"] == "fixed")]
    assert_close(res.tidy(), ref, KEYS, NUMBERS, rtol=rtol)
    assert set(res.glance()["hac_lags"]) == {3} and set(res.glance()["hac_prewhite"]) == {prewhite}


def test_default_hac_lag_rule_is_the_stated_r_call(trend_input):
    """pcstats' default HAC = NeweyWest(fit, lag = floor(4 (n/100)^(2/9)), prewhite = FALSE)."""
    res = fit_quiet(pc.TrendSpec("NEE ~ year", by=("source", "region", "season"), cov_type="HAC"), trend_input)
    ref = r_table("trend_hac.csv").query("rule == 'default'")
    assert_close(res.tidy(), ref, KEYS, NUMBERS)
    lags = res.glance().merge(ref.drop_duplicates(KEYS[:3])[KEYS[:3] + ["lag"]], on=KEYS[:3])
    assert (lags["hac_lags"] == lags["lag"]).all() and set(lags["lag"]) == {2, 3}


def test_no_intercept_r_squared_is_uncentred_as_in_r(trend_input):
    res = fit_quiet(pc.TrendSpec("NEE ~ 0 + C(region) + year", by=("source", "season"), where="region in ['P', 'NoP']"), trend_input)
    ref = r_table("no_intercept.csv")
    ref["term"] = ref["term"].map({"regionNoP": "C(region)NoP", "regionP": "C(region)P", "year": "year"})
    assert_close(res.tidy(), ref, ["source", "season", "term"], ["estimate", "std_error", "p_value"])
    r2 = ref.groupby(["source", "season"])[["r_squared", "adj_r_squared"]].first().reset_index()
    assert_close(res.glance(), r2, ["source", "season"], ["r_squared", "adj_r_squared"])


def test_mann_kendall_with_ties_matches_cor_test():
    from .conftest import series

    ref = r_table("kendall_ties.csv").iloc[0]
    years = [int(v) for v in ref["year"].split()]
    values = [float(v) for v in ref["value"].split()]
    res = fit_quiet(pc.TrendSpec("NEE ~ year", method="sen"), series(years, values))
    row = res.tidy().set_index("term").loc["year"]
    np.testing.assert_allclose([row["estimate"], row["statistic"], row["p_value"], res.glance()["kendall_tau"].iloc[0]],
                               [ref["sen_slope"], ref["mk_z"], ref["mk_p"], ref["kendall_tau"]], rtol=RTOL)


def test_sen_and_mann_kendall_match_r(trend_input):
    res = fit_quiet(pc.TrendSpec("NEE ~ year", by=("source", "region", "season"), method="sen"), trend_input)
    assert res.engine == "mannkendall"
    tidy = res.tidy().query("term == 'year'").rename(columns={"estimate": "sen_slope", "statistic": "mk_z", "p_value": "mk_p"})
    tidy = tidy.merge(res.glance()[KEYS[:3] + ["kendall_tau"]], on=KEYS[:3])
    # atol: a Mann-Kendall S of 0 gives z = 0 here and -8e-18 in R (its continuity correction's rounding)
    assert_close(tidy, r_table("trend_sen.csv"), KEYS[:3], ["sen_slope", "mk_z", "mk_p", "kendall_tau"], atol=1e-12)


def test_interaction_matches_lm(trend_input):
    spec = pc.load_spec("models/trend_interaction.toml")
    res = fit_quiet(spec, trend_input)
    ref = r_table("interaction_tidy.csv")
    names = {"(Intercept)": "(Intercept)", "year": "year", "regionP": "C(region)P", "year:regionP": "year:C(region)P"}
    ref["term"] = ref["term"].map(names)
    assert_close(res.tidy(), ref, ["source", "season", "term"], NUMBERS)
    r2 = ref.groupby(["source", "season"])["r_squared"].first().reset_index()
    assert_close(res.glance(), r2, ["source", "season"], ["r_squared"])


def test_reference_input_is_current(trend_input):
    """trend_input.csv equals what the pipeline makes from the fixtures today."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_inputs", REFERENCE / "make_inputs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fresh = pc.validate(module.build())
    pd.testing.assert_frame_equal(fresh.reset_index(drop=True), trend_input.reset_index(drop=True), check_dtype=False, rtol=1e-12)


@pytest.mark.needs_r
@pytest.mark.skipif(shutil.which("Rscript") is None, reason="Rscript not installed (the README test command installs it)")
def test_stored_r_outputs_are_reproduced_by_lm_R(tmp_path):
    subprocess.run(["Rscript", "tests/reference/lm.R", str(tmp_path)], check=True, capture_output=True)
    for name in ("trend_tidy.csv", "trend_glance.csv", "trend_hac.csv", "trend_sen.csv", "interaction_tidy.csv",
                 "no_intercept.csv", "kendall_ties.csv"):
        fresh, stored = pd.read_csv(tmp_path / name), r_table(name)
        pd.testing.assert_frame_equal(fresh, stored, rtol=1e-12)
