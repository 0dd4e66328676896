"""The Bayesian engine: same terms as REML, diagnostics, seeds, agreement with REML on a
well-identified case. Few draws keep the default suite fast; the full-size run is marked slow."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import pcstats as pc
from pcstats.errors import PcstatsError, SpecError

from ..conftest import REFERENCE

FAST = {"draws": 300, "tune": 300, "chains": 2, "seed": 11}


def quiet(spec, table):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pc.fit(spec, table)


@pytest.fixture(scope="module")
def cells():
    table = pc.read_table(REFERENCE / "mixed_cells.csv")
    keep = sorted(table["region"].unique())[:40]  # 40 cells x 41 years: well identified, quick
    return table[table["region"].isin(keep)].reset_index(drop=True)


@pytest.fixture(scope="module")
def bayes_cells(cells):
    spec = pc.BayesSpec("NEE ~ year_c + (1 + year_c | region)", priors={"fixed": "normal(0, 100)", "sd": "halfnormal(100)",
                        "sigma": "halfnormal(100)"}, **FAST)
    return quiet(spec, cells)


def test_agrees_with_reml_on_a_well_identified_case(bayes_cells, cells):
    reml = pc.fit(pc.MixedSpec("NEE ~ year_c + (1 + year_c | region)"), cells).tidy().query("component == 'fixed'").set_index("term")
    post = bayes_cells.tidy().query("component == 'fixed'").set_index("term")
    for term in ("(Intercept)", "year_c"):
        gap = abs(post.loc[term, "estimate"] - reml.loc[term, "estimate"])
        assert gap < max(3 * post.loc[term, "mcse_mean"], 0.05 * abs(reml.loc[term, "estimate"])), term
        assert post.loc[term, "std_error"] == pytest.approx(reml.loc[term, "std_error"], rel=0.25)


def test_terms_line_up_with_the_reml_fit(bayes_cells, cells):
    reml = pc.fit(pc.MixedSpec("NEE ~ year_c + (1 + year_c | region)"), cells)
    wide = pc.compare([reml, bayes_cells], stats=("estimate",), part="tidy")
    fixed = wide.xs("fixed", level="component")
    assert fixed.notna().all().all() and len(fixed) == 2
    pars = bayes_cells.tidy().query("component == 'ran_pars'")
    assert set(pars["term"]) == {"sd__(Intercept)", "sd__year_c", "cor__(Intercept).year_c", "sd__Observation"}


def test_glance_has_diagnostics_and_loo(bayes_cells):
    g = bayes_cells.glance().iloc[0]
    for column in ("divergences", "max_rhat", "min_ess_bulk", "elpd_loo", "p_loo", "waic", "sampling_seconds"):
        assert np.isfinite(g[column]), column
    assert g["sampler"] == "nutpie" and g["draws"] == 300 and g["divergences"] == 0
    assert "fixed=normal(0, 100)" in g["priors"]
    idata = bayes_cells.idata
    assert "log_likelihood" in idata.groups() and "posterior_predictive" in idata.groups()


def test_rerun_gives_identical_draws(cells):
    spec = pc.BayesSpec("NEE ~ year_c + (1 | region)", draws=100, tune=100, chains=2, seed=5)
    small = cells[cells["region"].isin(sorted(cells["region"].unique())[:10])]
    a, b = quiet(spec, small), quiet(spec, small)
    np.testing.assert_array_equal(a.idata.posterior["beta"].values, b.idata.posterior["beta"].values)


def test_posterior_prob(bayes_cells):
    p = pc.posterior_prob(bayes_cells, "year_c > 0")
    draws = bayes_cells.idata.posterior["beta"].values[..., 1].ravel()
    assert p == pytest.approx(np.mean(draws > 0))
    assert pc.posterior_prob(bayes_cells, "(Intercept) < year_c") == pytest.approx(
        np.mean(bayes_cells.idata.posterior["beta"].values[..., 0].ravel() < draws))
    with pytest.raises(PcstatsError, match="'yeer_c' is not a fixed effect. Did you mean 'year_c'"):
        pc.posterior_prob(bayes_cells, "yeer_c > 0")
    with pytest.raises(PcstatsError, match="must compare a term"):
        pc.posterior_prob(bayes_cells, "year_c")


def test_student_t_residual_sd_by_group_and_group_trends():
    table = pc.read_table(REFERENCE / "trend_input.csv")
    spec = pc.BayesSpec("NEE ~ year_c * region + (1 + year_c | source)", where="season == 'ANN' and source != 'ensemble'",
                        likelihood="student_t", sigma_by="source", **FAST)
    res = quiet(spec, table)
    tidy = res.tidy()
    sigmas = tidy.query("term == 'sd__Observation'")
    assert len(sigmas) == 6 and set(sigmas["level"]) == set(table.query("source != 'ensemble'")["source"])
    assert (tidy["term"] == "nu").sum() == 1
    trends = tidy.query("component == 'trend'")
    assert len(trends) == 6  # one trend per inversion: averaged over its rows, half P and half NoP
    fixed = tidy.query("component == 'fixed'").set_index("term")["estimate"]
    modes = tidy.query("component == 'ran_vals' and term == 'year_c'").set_index("level")["estimate"]
    share = (trends.set_index("level")["estimate"].loc[modes.index] - fixed["year_c"] - modes) / fixed["year_c:regionP"]
    assert share.between(0.45, 0.55).all()


def test_prior_predictive(cells):
    spec = pc.BayesSpec("NEE ~ year_c + (1 | region)", priors={"sigma": "halfnormal(1)"}, seed=3)
    out = pc.prior_predictive(spec, cells[cells["region"].isin(sorted(cells["region"].unique())[:5])], draws=50)
    idata = out[()]
    assert "prior_predictive" in idata.groups() and idata.prior["sigma"].shape == (1, 50)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"priors": {"fixd": "normal(0, 1)"}}, "unknown prior 'fixd'. Did you mean 'fixed'"),
        ({"priors": {"sd": "halfnormal(-1)"}}, "must be positive"),
        ({"priors": {"fixed": "cauchy(0, 1)"}}, "unknown distribution 'cauchy'"),
        ({"priors": {"fixed": "normal(0)"}}, "normal takes 2 parameter"),
        ({"priors": {"cor": "normal(0, 1)"}}, "must be an LKJ prior"),
        ({"sampler": "stan"}, "sampler='stan' is not one of"),
        ({"draws": 5}, "draws must be >= 10"),
        ({"formula": "NEE ~ year_c"}, "no random-effect term"),
    ],
)
def test_bad_specs_are_named(kwargs, message):
    from pcstats.errors import FormulaError

    with pytest.raises((SpecError, FormulaError), match=message):
        pc.BayesSpec(**{"formula": "NEE ~ year_c + (1 | source)", **kwargs})


def test_spec_file_round_trip(tmp_path):
    spec = pc.load_spec("models/bayes_trend.toml")
    assert pc.load_spec(pc.save_spec(spec, tmp_path / "b.toml")) == spec


def test_group_trends_use_the_interaction_column_without_a_main_effect():
    """year_c:region without region: a P level's trend is year_c + year_c:regionP + its random slope."""
    table = pc.read_table(REFERENCE / "trend_input.csv")
    spec = pc.BayesSpec("NEE ~ year_c + year_c:region + (1 + year_c | source:region)",
                        where="season == 'ANN' and source != 'ensemble'", draws=100, tune=100, chains=2, seed=4)
    res = quiet(spec, table)
    tidy = res.tidy()
    fixed = tidy.query("component == 'fixed'").set_index("term")["estimate"]
    modes = tidy.query("component == 'ran_vals' and term == 'year_c'").set_index("level")["estimate"]
    trends = tidy.query("component == 'trend'").set_index("level")["estimate"]
    interaction = [t for t in fixed.index if t.startswith("year_c:region") and t.endswith("P")][0]
    np.testing.assert_allclose(trends["CAMS:P"], fixed["year_c"] + fixed[interaction] + modes["CAMS:P"], rtol=1e-6)
    nop = [t for t in fixed.index if t.startswith("year_c:region") and t.endswith("[NoP]")]
    expected = fixed["year_c"] + (fixed[nop[0]] if nop else 0.0) + modes["CAMS:NoP"]
    np.testing.assert_allclose(trends["CAMS:NoP"], expected, rtol=1e-6)


def test_sd_prior_is_the_stated_prior_on_the_original_scale(cells):
    """Random effects are sampled on unit-RMS columns with the prior scaled along: the year_c SD's
    prior draws must still follow halfnormal(5) (median 5 * 0.674)."""
    spec = pc.BayesSpec("NEE ~ year_c + (1 + year_c | region)", priors={"sd": "halfnormal(5)"}, seed=2)
    idata = pc.prior_predictive(spec, cells[cells["region"].isin(sorted(cells["region"].unique())[:5])], draws=4000)[()]
    stds = idata.prior["chol_0_stds"].values.reshape(-1, 2)
    np.testing.assert_allclose(np.median(stds, axis=0), [5 * 0.6745, 5 * 0.6745], rtol=0.06)


def test_diagnostics_reach_warnings_and_glance(cells):
    spec = pc.BayesSpec("NEE ~ year_c + (1 + year_c | region)", draws=20, tune=20, chains=2, seed=1)
    with pytest.warns(UserWarning):
        res = pc.fit(spec, cells[cells["region"].isin(sorted(cells["region"].unique())[:8])])
    assert any("effective sample size" in w or "R-hat" in w for w in res.warnings)
    assert res.glance()["min_ess_bulk"].iloc[0] < 200


def test_narrow_default_prior_is_warned():
    table = pc.read_table(REFERENCE / "trend_input.csv")
    table = table.assign(value=table["value"] * 100)
    spec = pc.BayesSpec("NEE ~ year_c * region + (1 | source)", where="season == 'ANN' and source != 'ensemble'",
                        draws=50, tune=50, chains=1)
    res = quiet(spec, table)
    assert any("prior SDs out" in w and "regionP" in w for w in res.warnings)


def test_all_groups_skipped_is_an_error_and_sigma_by_is_named():
    from pcstats.errors import EngineError

    table = pc.read_table(REFERENCE / "trend_input.csv")
    with pytest.raises(EngineError, match="No group could be fitted.*one level"):
        pc.fit(pc.BayesSpec("NEE ~ year_c + (1 | source)", where="season == 'ANN' and source == 'CAMS'"), table)
    with pytest.raises(SpecError, match="sigma_by='sorce' is not a key column. Did you mean 'source'"):
        pc.fit(pc.BayesSpec("NEE ~ year_c + (1 | source)", sigma_by="sorce"), table)


def test_posterior_prob_needs_a_term_and_allows_spaces(bayes_cells):
    with pytest.raises(PcstatsError, match="names no fixed effect"):
        pc.posterior_prob(bayes_cells, "1 > 0")
    with pytest.raises(PcstatsError, match="reports no R²; for a Bayesian R² use arviz.r2_score"):
        bayes_cells.r_squared


@pytest.mark.slow
def test_paper_model_full_run_has_clean_diagnostics():
    table = pc.read_table(REFERENCE / "trend_input.csv")
    res = quiet(pc.load_spec("models/bayes_trend.toml"), table)
    g = res.glance()
    assert (g["divergences"] == 0).all() and (g["max_rhat"] <= 1.01).all()
