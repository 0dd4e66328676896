"""pc.fit on plain data frames (R's example data sets) gives R's numbers, with R's term names.

References: ``tests/reference/model_frames.R`` (lm, lme4/lmerTest, lavaan on the data sets it
exports to ``tests/reference/model_frames/data``). Tolerances as the issue asks: lm 1e-8; lme4
1e-4 on fixed effects, SEs, Satterthwaite df, variance components and logLik; lavaan 1e-3.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import pcstats as pc

from ..conftest import REFERENCE

FRAMES = REFERENCE / "model_frames"
DATA = FRAMES / "data"


def data(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / f"{name}.csv")


def quiet(spec, frame):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pc.fit(spec, frame)


def close(ours, theirs, rtol: float, what: str) -> None:
    np.testing.assert_allclose(np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float), rtol=rtol, atol=0,
                               err_msg=what)


# ------------------------------------------------------------------------------------------------ lm
LM = pd.read_csv(FRAMES / "lm_tidy.csv") if (FRAMES / "lm_tidy.csv").exists() else pd.DataFrame(columns=["model"])
LM_GLANCE = pd.read_csv(FRAMES / "lm_glance.csv") if (FRAMES / "lm_glance.csv").exists() else pd.DataFrame()

LM_MODELS = {
    "mtcars_interaction": ("mtcars", pc.TrendSpec("mpg ~ wt * hp + factor(cyl)")),
    "mtcars_poly": ("mtcars", pc.TrendSpec("mpg ~ poly(hp, 2) + factor(am)")),
    "mtcars_power": ("mtcars", pc.TrendSpec("mpg ~ (wt + hp + qsec)^2")),
    "mtcars_I": ("mtcars", pc.TrendSpec("mpg ~ wt + I(wt^2) + log(hp)")),
    "mtcars_sum": ("mtcars", pc.TrendSpec("mpg ~ C(factor(cyl), sum) + wt")),
    "mtcars_helmert": ("mtcars", pc.TrendSpec("mpg ~ C(factor(gear), helmert) + wt")),
    "mtcars_nointercept": ("mtcars", pc.TrendSpec("mpg ~ 0 + factor(cyl) + wt")),
    "mtcars_scale": ("mtcars", pc.TrendSpec("mpg ~ scale(wt) + sqrt(disp)")),
    "mtcars_offset": ("mtcars", pc.TrendSpec("mpg ~ wt + offset(0.5 * hp)")),
    "mtcars_weights": ("mtcars", pc.TrendSpec("mpg ~ wt + hp", weights="cyl")),
    "airquality_na": ("airquality", pc.TrendSpec("Ozone ~ Solar.R + Temp")),
    "airquality_month": ("airquality", pc.TrendSpec("log(Ozone) ~ Temp + Wind + factor(Month)")),
    "warpbreaks_ordered": ("warpbreaks", pc.TrendSpec("breaks ~ wool + ordered(tension)")),
    "mtcars_dot": ("mtcars_dot", pc.TrendSpec("mpg ~ .")),
}


def frame_for(name: str) -> pd.DataFrame:
    if name == "mtcars_dot":
        return data("mtcars")[["mpg", "wt", "hp", "qsec"]]
    if name == "warpbreaks":
        frame = data("warpbreaks")
        return frame.assign(tension=pd.Categorical(frame["tension"], categories=["L", "M", "H"]))
    return data(name)


@pytest.mark.parametrize("model", sorted(LM_MODELS))
def test_lm_on_r_data_sets(model):
    frame_name, spec = LM_MODELS[model]
    res = pc.fit(spec, frame_for(frame_name))
    ref = LM[LM["model"] == model]
    assert len(ref), f"no R reference for {model}"
    tidy = res.tidy()
    assert tidy["term"].tolist() == ref["term"].tolist()  # R's names, in R's order
    for col in ("estimate", "std_error", "statistic", "p_value"):
        close(tidy[col], ref[col], 1e-8, f"{model} {col}")
    glance = res.glance().iloc[0]
    g = LM_GLANCE[LM_GLANCE["model"] == model].iloc[0]
    assert int(glance["nobs"]) == int(g["nobs"]) and int(glance["n_dropped"]) == int(g["n_dropped"])
    for ours, theirs in (("r_squared", "r_squared"), ("adj_r_squared", "adj_r_squared"), ("sigma", "sigma"),
                         ("log_lik", "log_lik"), ("aic", "aic"), ("bic", "bic"), ("df_residual", "df_residual")):
        close([glance[ours]], [g[theirs]], 1e-8, f"{model} {ours}")


def test_na_rows_are_counted_once_as_r_drops_them():
    res = pc.fit(pc.TrendSpec("Ozone ~ Solar.R + Temp"), data("airquality"))
    glance = res.glance().iloc[0]
    assert (glance["nobs"], glance["n_dropped"]) == (111, 42)
    assert glance["dropped_why"] == "37 NaN in Ozone; 5 NaN in Solar.R"  # 7 Solar.R NaN, 2 of them also lack Ozone
    assert res.augment()["fitted"].notna().sum() == 111


# ------------------------------------------------------------------------------------------------ lme4
LMER = {
    "sleep_slopes": ("sleepstudy", pc.MixedSpec("Reaction ~ Days + (Days | Subject)")),
    "sleep_uncorrelated": ("sleepstudy", pc.MixedSpec("Reaction ~ Days + (Days || Subject)")),
    "sleep_ml": ("sleepstudy", pc.MixedSpec("Reaction ~ Days + (Days | Subject)", reml=False)),
    "pastes_nested": ("Pastes", pc.MixedSpec("strength ~ 1 + (1 | batch/cask)")),
    "penicillin_crossed": ("Penicillin", pc.MixedSpec("diameter ~ 1 + (1 | plate) + (1 | sample)")),
    "cake_factor": ("cake", pc.MixedSpec("angle ~ recipe + factor(temperature) + (1 | recipe:replicate)")),
    "orthodont_interaction": ("Orthodont", pc.MixedSpec("distance ~ age * Sex + (1 | Subject)")),
    # 450 and 500 random effects: the sparse (CHOLMOD) core when scikit-sparse is installed
    "crossed_sparse": ("crossed", pc.MixedSpec("y ~ x + (1 | a) + (1 | b)")),
    "slopes_sparse": ("slopes", pc.MixedSpec("y ~ t + (t | g)")),
}


def lmer_reference(name: str, model: str) -> pd.DataFrame:
    table = pd.read_csv(FRAMES / f"lmer_{name}.csv")
    return table[table["model"] == model].reset_index(drop=True)


@pytest.mark.parametrize("model", sorted(LMER))
def test_lmer_on_r_data_sets(model):
    frame_name, spec = LMER[model]
    if not (DATA / f"{frame_name}.csv").exists():
        pytest.skip(f"{frame_name} was not exported (its R package is not installed where the reference was made)")
    res = quiet(spec, data(frame_name))
    fixed = res.tidy().query("component == 'fixed'").reset_index(drop=True)
    ref = lmer_reference("fixed", model)
    assert fixed["term"].tolist() == ref["term"].tolist()
    for ours, theirs in (("estimate", "estimate"), ("std_error", "std_error"), ("df", "df"), ("statistic", "statistic")):
        close(fixed[ours], ref[theirs], 1e-4, f"{model} {ours}")
    ranef = lmer_reference("ranef", model)
    pars = res.tidy().query("component == 'ran_pars'")
    for row in ranef.itertuples():
        group = "Residual" if row.group == "Residual" else row.group
        if row.kind == "sd":
            term = "sd__Observation" if row.group == "Residual" else f"sd__{row.term1}"
        else:
            term = f"cor__{row.term1}.{row.term2}"
        hit = pars[(pars["term"] == term) & (pars["group"] == group)]
        assert len(hit) == 1, (model, group, term, pars[["group", "term"]].values.tolist())
        np.testing.assert_allclose(hit["estimate"].iloc[0], row.value, rtol=1e-4, atol=1e-4 * abs(row.value) + 1e-6,
                                   err_msg=f"{model} {group} {term}")
    glance = res.glance().iloc[0]
    g = lmer_reference("glance", model).iloc[0]
    assert int(glance["nobs"]) == int(g["nobs"])
    close([glance["log_lik"]], [g["log_lik"]], 1e-4, f"{model} logLik")
    assert glance["log_lik"] >= g["log_lik"] - 1e-6, (model, glance["log_lik"] - g["log_lik"])  # never a worse optimum
    assert bool(glance["singular"]) == bool(g["singular"])


def test_factor_random_slopes_any_grouping_column():
    """(0 + factor(x) | g) with a numeric grouping column: one SD per level, named as lme4 names them."""
    sleep = data("sleepstudy").assign(phase=lambda d: np.where(d["Days"] < 5, "early", "late"))
    res = quiet(pc.MixedSpec("Reaction ~ Days + (0 + factor(phase) | Subject)"), sleep)
    terms = res.tidy().query("component == 'ran_pars'")["term"].tolist()
    assert terms[:3] == ["sd__factor(phase)early", "sd__factor(phase)late", "cor__factor(phase)early.factor(phase)late"]


def test_bayes_on_sleepstudy_agrees_with_lmer():
    """brms's call on a data frame: data-scaled default priors, posterior means near lme4's REML fit."""
    spec = pc.BayesSpec("Reaction ~ Days + (Days | Subject)", draws=300, tune=300, chains=2, seed=11)
    res = quiet(spec, data("sleepstudy"))
    tidy = res.tidy().set_index(["component", "term"])
    ref = lmer_reference("fixed", "sleep_slopes").set_index("term")
    for term in ("(Intercept)", "Days"):
        row = tidy.loc[("fixed", term)]
        assert abs(row["estimate"] - ref.loc[term, "estimate"]) < 1.5 * row["std_error"], term
    assert 20 < tidy.loc[("ran_pars", "sd__Observation"), "estimate"] < 32  # lme4: 25.6
    assert res.glance()["priors"].iloc[0].startswith("intercept=student_t(3, 288.651, 59.3)")  # median and mad of Reaction


# ------------------------------------------------------------------------------------------------ lavaan
LAVAAN_MODELS = pd.read_csv(FRAMES / "lavaan_models.csv") if (FRAMES / "lavaan_models.csv").exists() else pd.DataFrame()
LAVAAN_DATA = {"hs_cfa": "HolzingerSwineford1939", "polidem_sem": "PoliticalDemocracy", "hs_multigroup": "HolzingerSwineford1939"}


@pytest.mark.parametrize("model", sorted(LAVAAN_DATA))
def test_lavaan_on_r_data_sets(model):
    syntax = LAVAAN_MODELS.set_index("model").loc[model, "syntax"]
    spec = pc.SEMSpec(syntax, group="school" if model == "hs_multigroup" else None)
    res = quiet(spec, data(LAVAAN_DATA[model]))
    est = pd.read_csv(FRAMES / "lavaan_est.csv").query("model == @model")
    fit = pd.read_csv(FRAMES / "lavaan_fit.csv").query("model == @model").iloc[0]
    tidy = res.tidy()
    ours = tidy[tidy["op"].isin(["=~", "~", "~~"])]
    key = ["lhs", "op", "rhs"] + (["group"] if model == "hs_multigroup" else [])
    theirs = est[est["op"].isin(["=~", "~", "~~"])].copy()
    merged = ours.merge(theirs, on=key, how="inner", suffixes=("", "_r"))
    assert len(merged) == len(theirs), (model, len(merged), len(theirs))
    close(merged["estimate"], merged["est"], 1e-3, f"{model} est")
    free = merged["se"] > 0
    close(merged.loc[free, "std_error"], merged.loc[free, "se"], 1e-3, f"{model} se")
    glance = res.glance().iloc[0]
    for ours_name, theirs_name in (("chisq", "chisq"), ("cfi", "cfi"), ("tli", "tli"), ("rmsea", "rmsea"),
                                   ("srmr", "srmr"), ("aic", "aic"), ("bic", "bic")):
        close([glance[ours_name]], [fit[theirs_name]], 1e-3, f"{model} {ours_name}")
    assert int(glance["df"]) == int(fit["df"]) and int(glance["nobs"]) == int(fit["ntotal"])


# ------------------------------------------------------------------------------------------------ first contact
def test_errors_speak_of_the_data_frames_columns():
    sleep = data("sleepstudy")
    with pytest.raises(pc.FormulaError, match=r"formula names 'Dys', which is not a column of this data frame "
                                              r"\(columns: Reaction, Days, Subject; did you mean 'Days'\?\)"):
        pc.fit(pc.MixedSpec("Reaction ~ Dys + (1 | Subject)"), sleep)
    with pytest.raises(pc.FormulaError, match=r"formula names 'Subjct'.*did you mean 'Subject'\?"):
        pc.fit(pc.MixedSpec("Reaction ~ Days + (1 | Subjct)"), sleep)
    with pytest.raises(pc.SpecError, match=r"by=\('subject',\): 'subject' is not a column of this data frame.*'Subject'"):
        pc.fit(pc.TrendSpec("Reaction ~ Days", by=("subject",)), sleep)
    with pytest.raises(pc.FormulaError, match=r"where names 'day', which is not a column"):
        pc.fit(pc.TrendSpec("Reaction ~ Days", where="day > 2"), sleep)
    with pytest.raises(pc.FormulaError, match=r"model names 'x10', which is neither a latent variable .* nor a column "
                                              r"of this data frame \(columns: .*x9; did you mean 'x1'\?\)"):
        pc.fit(pc.SEMSpec("visual =~ x1 + x2 + x10"), data("HolzingerSwineford1939"))
    for call in (lambda: pc.fit(pc.MixedSpec("Reaction ~ Dys + (1 | Subject)"), sleep),
                 lambda: pc.fit(pc.TrendSpec("mpg ~ wt + factor(cly)"), data("mtcars"))):
        with pytest.raises(pc.PcstatsError) as info:
            call()
        assert not any(word in str(info.value) for word in ("season", "seasonalize", "long table", "variable of the table"))


def test_long_table_only_families_say_so():
    with pytest.raises(pc.ContractError, match="SkillSpec fits long tables only.*columns variable and value"):
        pc.fit(pc.SkillSpec(simulated="TRENDY:mpg", observed="EC:qsec"), data("mtcars"))


def test_polars_frames_are_converted():
    polars = pytest.importorskip("polars")
    frame = polars.from_pandas(data("mtcars"))
    res = pc.fit(pc.TrendSpec("mpg ~ wt"), frame)
    close(res.tidy()["estimate"], pc.fit(pc.TrendSpec("mpg ~ wt"), data("mtcars")).tidy()["estimate"], 1e-12, "polars")


def test_the_input_frame_is_not_modified_and_provenance_hashes_it():
    cars = data("mtcars")
    before = cars.copy()
    a = pc.fit(pc.TrendSpec("mpg ~ wt + factor(cyl)", by=("am",)), cars)
    pd.testing.assert_frame_equal(cars, before)
    assert a.provenance.data_hash == pc.fit(pc.TrendSpec("mpg ~ wt"), cars).provenance.data_hash
    assert set(a.tidy()["am"]) == {0, 1} and a.glance()["nobs"].sum() == 32


def test_where_filters_rows_and_counts_them():
    res = pc.fit(pc.TrendSpec("mpg ~ wt", where="cyl > 4"), data("mtcars"))
    assert res.glance()["nobs"].iloc[0] == 21
    assert res.removed[["n_removed", "n_before"]].values.tolist() == [[11, 32]]


def test_prepare_then_run_is_fit():
    spec = pc.MixedSpec("Reaction ~ Days + (Days | Subject)")
    prepared = pc.prepare(spec, data("sleepstudy"))
    assert prepared.model.fixed.term_labels == ("Days",) and not prepared.long
    close(pc.run(spec, prepared).tidy()["estimate"], quiet(spec, data("sleepstudy")).tidy()["estimate"], 1e-12, "run")
