"""Results.summary(), the notebook HTML, __repr__ and a statsmodels native result that agrees with tidy()."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import pcstats as pc
from pcstats.results import Provenance, build_results, package_versions
from pcstats.summary import format_column, format_pvalue

from .conftest import REFERENCE


def quiet(spec, data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pc.fit(spec, data)


@pytest.fixture(scope="module")
def cars():
    return pd.read_csv(REFERENCE / "predict" / "mtcars.csv")


@pytest.fixture(scope="module")
def lmer():
    return quiet(pc.MixedSpec("Reaction ~ Days + (Days | Subject)"), pd.read_csv(REFERENCE / "predict" / "sleepstudy.csv"))


def test_ols_summary_reads_as_summary_lm(cars):
    res = quiet(pc.TrendSpec("mpg ~ wt + hp"), cars)
    text = res.summary().text
    g, t = res.glance().iloc[0], res.tidy().set_index("term")
    assert text.startswith("Linear model fit by OLS (R: lm)")
    assert f"Residual standard error: {g['sigma']:.4g} on {int(g['df_residual'])} degrees of freedom" in text
    assert f"Multiple R-squared: {g['r_squared']:.4g},  Adjusted R-squared: {g['adj_r_squared']:.4g}" in text
    line = next(ln for ln in text.splitlines() if ln.strip().startswith("wt "))
    assert format_column(t["estimate"])[1] in line and format_pvalue(t.loc["wt", "p_value"]) in line and "**" in line
    assert "Standard errors: classical" in text and "Signif. codes:" in text


def test_hac_summary_and_native_carry_the_hac_covariance(trend_input):
    spec = pc.TrendSpec("NEE ~ year", by=("source", "region", "season"), cov_type="HAC", engine="statsmodels")
    res = quiet(spec, trend_input)
    plain = quiet(spec.replace(cov_type="nonrobust"), trend_input)
    key = ("CAMS", "P", "ANN")
    tidy = res.subset(source="CAMS", region="P", season="ANN").tidy()
    native = res.native[key]
    np.testing.assert_allclose(native.bse, tidy["std_error"], rtol=1e-12)
    np.testing.assert_allclose(native.pvalues, tidy["p_value"], rtol=1e-10)
    np.testing.assert_allclose(native.conf_int(), tidy[["conf_low", "conf_high"]], rtol=1e-10)
    assert not np.allclose(plain.native[key].bse, native.bse)  # the classical SEs differ; native is not them
    assert list(native.model.exog_names) == ["(Intercept)", "year"] and "Newey-West" in str(native.summary())
    text = res.subset(source="CAMS", region="P", season="ANN").summary().text
    assert "Newey-West HAC (sandwich::NeweyWest), 3 lag(s), prewhite = False" in text
    assert format_column(tidy["std_error"])[1] in text


def test_sen_summary_reports_the_mann_kendall_test(trend_input):
    res = quiet(pc.TrendSpec("NEE ~ year", method="sen", by=("source", "region", "season")), trend_input)
    one = res.subset(source="CAMS", region="P", season="EGS")
    g = one.glance().iloc[0]
    text = one.summary().text
    assert text.startswith("Theil-Sen slope") and f"Kendall's tau = {g['kendall_tau']:.4g}" in text
    assert f"S = {int(g['mk_s'])}" in text


def test_mixed_summary_reads_as_lme4_with_lmertest_df(lmer):
    text = lmer.summary().text
    tidy, g = lmer.tidy(), lmer.glance().iloc[0]
    pars = tidy[tidy["component"] == "ran_pars"].set_index("term")["estimate"]
    assert "Linear mixed model fit by REML" in text and "Satterthwaite" in text
    assert f"REML criterion at convergence: {g['reml_crit']:.6g}" in text
    lines = text.splitlines()
    start = lines.index("Random effects:")
    assert lines[start + 1].split() == ["Groups", "Name", "Variance", "Std.Dev.", "Corr"]
    subject = lines[start + 2].split()
    assert subject[:2] == ["Subject", "(Intercept)"]
    assert float(subject[2]) == pytest.approx(pars["sd__(Intercept)"] ** 2, rel=1e-3)
    assert float(lines[start + 3].split()[-1]) == pytest.approx(pars["cor__(Intercept).Days"], abs=0.005)
    assert "Number of obs: 180, groups:  Subject, 18" in text
    fixed = lines[lines.index("Fixed effects:") + 1].split()
    assert fixed[:5] == ["Estimate", "Std.", "Error", "df", "t"]


def test_glmm_summary_uses_z_tests():
    rng = np.random.default_rng(5)
    g = np.repeat(np.arange(8), 25)
    data = pd.DataFrame({"y": rng.poisson(np.exp(0.5 + rng.normal(0, 0.4, 8)[g])), "x": rng.normal(size=g.size),
                         "g": g.astype(str)})
    text = quiet(pc.MixedSpec("y ~ x + (1 | g)", family="poisson"), data).summary().text
    assert "Generalized linear mixed model" in text and "Family: poisson" in text
    assert "z value" in text and "Pr(>|z|)" in text and "t value" not in text


def test_sem_summary_reads_as_lavaan_with_fit_indices(cars):
    res = quiet(pc.SEMSpec("mpg ~ wt + hp\ndisp ~ mpg"), cars)
    g = res.glance().iloc[0]
    assert g["df"] > 0 and np.isfinite(g["rmsea_pvalue"])
    text = res.summary().text
    assert "Model Test User Model:" in text and "Regressions:" in text and "Variances:" in text and "R-Square:" in text
    line = next(ln for ln in text.splitlines() if "P-value H_0: RMSEA <= 0.050" in ln)
    assert line.split()[-1] == format_pvalue(g["rmsea_pvalue"])
    assert "Std.all" in text and "z-value" in text


def test_bayes_summary_shows_rhat_and_ess():
    spec = pc.BayesSpec("y ~ x + (1 | g)", draws=100, chains=2)
    tidy = pd.DataFrame({"component": ["fixed", "fixed", "ran_pars"], "group": [None, None, "g"],
                         "level": [None, None, None], "term": ["(Intercept)", "x", "sd__(Intercept)"],
                         "estimate": [1.0, 0.5, 0.3], "std_error": [0.1, 0.05, 0.1], "statistic": np.nan,
                         "p_value": np.nan, "conf_low": [0.8, 0.4, 0.1], "conf_high": [1.2, 0.6, 0.5],
                         "rhat": [1.001, 1.02, 1.0], "ess_bulk": [812.4, 95.0, 400.0], "ess_tail": [700.0, 120.0, 350.0]})
    glance = pd.DataFrame({"nobs": [200], "draws": [100], "chains": [2], "divergences": [0], "max_rhat": [1.02],
                           "min_ess_bulk": [95.0], "min_ess_tail": [120.0], "looic": [512.3], "p_loo": [3.1],
                           "waic": [512.0], "max_pareto_k": [0.4], "sampler": ["nutpie"]})
    res = build_results(spec, "pymc", "5", (), tidy, glance, provenance=Provenance("x", 1, package_versions()))
    text = res.summary().text
    header = next(ln for ln in text.splitlines() if "Rhat" in ln).split()
    assert header == ["Estimate", "Est.Error", "l-95%", "CI", "u-95%", "CI", "Rhat", "Bulk_ESS", "Tail_ESS"]
    x = next(ln for ln in text.splitlines() if ln.strip().startswith("x ")).split()
    assert x[-3:] == ["1.02", "95", "120"] and "max Rhat 1.02" in text


def test_other_families_print_coefficients_and_glance(trend_input):
    seasonal = quiet(pc.TrendSpec("NEE ~ year", by=("region", "season"), where="source == 'ensemble'"), trend_input)
    diff = pc.difference_test(seasonal.subset(region="P"), seasonal.subset(region="NoP"))
    text = diff.summary(layout="blocks").text
    assert text.count("Difference test") == len(diff.glance())
    est = diff.tidy()["estimate"].iloc[0]
    assert format_column(diff.tidy().query("season == 'ANN'")["estimate"])[0] in text and np.isfinite(est)


def test_grouped_fits_print_blocks_or_one_table(trend_input):
    res = quiet(pc.TrendSpec("NEE ~ year", by=("source", "region", "season")), trend_input)
    compact = res.summary().text
    assert "56 of 56 fitted" in compact and compact.count("Residual standard error") == 0
    assert len([ln for ln in compact.splitlines() if " year " in ln]) == 56
    few = res.subset(source="CAMS", region="P")
    assert few.summary().text.count("Residual standard error") == 4
    assert few.summary(layout="table").text.count("Residual standard error") == 0
    assert res.summary(max_blocks=100).text.count("Residual standard error") == 56
    with pytest.raises(pc.PcstatsError, match="layout='wide'"):
        res.summary(layout="wide")


def test_unfitted_groups_and_warnings_are_shown(trend_input):
    short = trend_input[~((trend_input["source"] == "CAMS") & (trend_input["year"] > 1981))]
    res = quiet(pc.TrendSpec("NEE ~ year", by=("source", "region", "season"), min_years=5), short)
    assert res.warnings
    text = res.summary().text
    assert "Not fitted: source='CAMS'" in text and "Warnings:" in text
    block = res.subset(source="CAMS", region="P", season="ANN").summary().text
    assert "Not fitted:" in block


def test_html_and_repr_for_notebooks(trend_input, lmer):
    res = quiet(pc.TrendSpec("NEE ~ year", by=("source", "region", "season"), cov_type="HAC", engine="statsmodels"),
                trend_input)
    page = res._repr_html_()
    assert page.startswith('<div class="pcstats-results">') and "<table>" in page and "statsmodels" in page
    assert "<th>std_error</th>" in page and "<th>p_value</th>" in page and "more rows" in page
    assert page.count("<tr>") == 21 and f"{len(res.warnings)} warning(s)" in page and "HAC treats" in page
    assert "sd__" not in lmer._repr_html_() and "(Intercept)" in lmer._repr_html_()
    text = repr(res)
    assert "56 of 56 groups fitted by source, region, season" in text and "CAMS, NoP, ANN: year = " in text
    summary = res.summary()
    assert summary._repr_html_().startswith("<pre>") and str(summary) == summary.text
