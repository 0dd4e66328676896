"""Results.predict against R's predict.lm and lme4's predict.merMod (tests/reference/predict.R)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import pcstats as pc

from .conftest import REFERENCE

REF = REFERENCE / "predict"


@pytest.fixture(scope="module")
def cars():
    return pd.read_csv(REF / "mtcars.csv")


@pytest.fixture(scope="module")
def lm(cars):
    return pc.fit(pc.TrendSpec("mpg ~ wt + factor(cyl) + poly(hp, 2) + log(disp)"), cars)


@pytest.fixture(scope="module")
def lmer():
    return pc.fit(pc.MixedSpec("Reaction ~ Days + (Days | Subject)"), pd.read_csv(REF / "sleepstudy.csv"))


def test_lm_newdata_matches_r_with_levels_and_poly_learnt_from_the_fit(lm):
    ref = pd.read_csv(REF / "lm_newdata.csv")
    assert "8" not in set(ref["cyl"].astype(str))  # the new rows hold only some levels of the factor
    out = lm.predict(ref.drop(columns="fitted"))
    np.testing.assert_allclose(out["fitted"], ref["fitted"], rtol=1e-9)
    assert list(out.columns) == [*ref.columns.drop("fitted"), "fitted"] and out.index.equals(ref.index)


def test_lm_without_newdata_predicts_the_fitted_rows(lm):
    ref = pd.read_csv(REF / "lm_fitted.csv")
    np.testing.assert_allclose(lm.predict()["fitted"], ref["fitted"], rtol=1e-9)
    np.testing.assert_allclose(lm.predict()["fitted"], lm.augment()["fitted"], rtol=1e-12)


def test_grouped_fit_predicts_each_row_with_its_groups_fit(cars):
    res = pc.fit(pc.TrendSpec("mpg ~ wt + hp", by="am"), cars)
    ref = pd.read_csv(REF / "lm_by_am.csv")
    shuffled = ref.iloc[[3, 0, 2, 1]]
    out = res.predict(shuffled.drop(columns="fitted"))
    np.testing.assert_allclose(out["fitted"], shuffled["fitted"], rtol=1e-9)
    with pytest.raises(pc.PcstatsError, match="no column 'am', a by key"):
        res.predict(ref.drop(columns=["am", "fitted"]))
    with pytest.raises(pc.PcstatsError, match=r"'am': '2'.*not a group of the fit"):
        res.predict(ref.assign(am=2))


def test_lmer_population_and_conditional_as_re_form(lmer):
    ref = pd.read_csv(REF / "lmer_fitted.csv")
    np.testing.assert_allclose(lmer.predict()["fitted"], ref["conditional"], rtol=1e-5)
    for na in (pd.NA, np.nan, "NA", "~0"):
        np.testing.assert_allclose(lmer.predict(re_form=na)["fitted"], ref["population"], rtol=1e-7)
    np.testing.assert_allclose(lmer.predict(re_form="~ (Days | Subject)")["fitted"], ref["conditional"], rtol=1e-5)
    with pytest.raises(pc.PcstatsError, match=r"\(1\|site\) is not a random-effect term"):
        lmer.predict(re_form="~(1 | site)")


def test_lmer_new_levels_are_refused_or_population_level(lmer):
    ref = pd.read_csv(REF / "lmer_newdata.csv")
    new = ref[["Days", "Subject"]]
    np.testing.assert_allclose(lmer.predict(new, re_form=pd.NA)["fitted"], ref["population"], rtol=1e-7)
    with pytest.raises(pc.PcstatsError, match=r"Subject='999'.*allow_new_levels=True"):
        lmer.predict(new)
    with pytest.warns(UserWarning, match=r"2 row\(s\) have levels the fit has not seen.*Subject='999'"):
        out = lmer.predict(new, allow_new_levels=True)
    np.testing.assert_allclose(out["fitted"], ref["new_levels"], rtol=1e-5)
    assert out["fitted"].iloc[-1] == pytest.approx(ref["population"].iloc[-1], rel=1e-7)


def test_errors_name_the_missing_column_and_the_family(lmer, trend_input):
    with pytest.raises(pc.PcstatsError, match="no column 'Days', read by the formula"):
        lmer.predict(pd.DataFrame({"Subject": ["308"]}))
    with pytest.raises(pc.PcstatsError, match="no column 'Subject'"):
        lmer.predict(pd.DataFrame({"Days": [1.0]}))
    lmer.predict(pd.DataFrame({"Days": [1.0]}), re_form=pd.NA)  # population level needs no grouping factor
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sen = pc.fit(pc.TrendSpec("NEE ~ year", method="sen", by=("source", "region", "season")), trend_input)
    with pytest.raises(pc.PcstatsError, match="Sen slope"):
        sen.predict()


def test_year_c_is_made_from_year_with_each_groups_centre(trend_input):
    regional = trend_input[trend_input["source"] != "ensemble"].reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = pc.fit(pc.MixedSpec("NEE ~ year_c * region + (1 | source)", by="season"), regional)
    aug = res.augment()
    rows = aug.iloc[[0, 5, 400]]
    new = rows[["season", "region", "source", "year"]]
    np.testing.assert_allclose(res.predict(new)["fitted"], rows["fitted"], rtol=1e-9)


def test_a_factor_level_the_fit_has_not_seen_is_an_error(cars):
    res = pc.fit(pc.TrendSpec("mpg ~ wt + factor(cyl)"), cars)
    with pytest.raises(pc.PcstatsError, match=r"factor\(cyl\).*not seen"):
        res.predict(pd.DataFrame({"wt": [3.0], "cyl": [5]}))


def test_glmm_response_scale_is_the_inverse_link_of_the_linear_predictor():
    rng = np.random.default_rng(7)
    g = np.repeat(np.arange(8), 25)
    x = rng.normal(size=g.size)
    y = rng.poisson(np.exp(0.3 + 0.5 * x + rng.normal(0, 0.4, 8)[g]))
    data = pd.DataFrame({"y": y, "x": x, "g": g.astype(str)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = pc.fit(pc.MixedSpec("y ~ x + (1 | g)", family="poisson"), data)
    link = res.predict(data, type="link")["fitted"]
    np.testing.assert_allclose(res.predict(data)["fitted"], np.exp(link), rtol=1e-12)
    fixed = res.tidy().query("component == 'fixed'").set_index("term")["estimate"]
    np.testing.assert_allclose(res.predict(data, re_form=pd.NA, type="link")["fitted"],
                               fixed["(Intercept)"] + fixed["x"] * x, rtol=1e-10)
    np.testing.assert_allclose(res.predict(type="response")["fitted"], res.augment()["fitted"], rtol=1e-6)
