"""Results.to_broom() against the column names broom and broom.mixed emit (tests/reference/broom_names.R)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import pcstats as pc

from .conftest import REFERENCE

REF = REFERENCE / "broom_names"

#: columns broom computes that pcstats does not (influence measures, IRLS internals, lavaan's AGFI and row counts)
NOT_PROVIDED = {
    ("lm", "augment"): {".rownames", ".hat", ".sigma", ".cooksd", ".std.resid"},
    ("lmer", "augment"): {".hat", ".cooksd", ".mu", ".offset", ".sqrtXwt", ".sqrtrwt", ".weights", ".wtres"},
    ("lavaan", "glance"): {"agfi", "norig", "nexcluded"},
}


def quiet(spec, data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pc.fit(spec, data)


@pytest.fixture(scope="module")
def names() -> pd.DataFrame:
    return pd.read_csv(REF / "names.csv")


@pytest.fixture(scope="module")
def fits():
    cars = pd.read_csv(REFERENCE / "predict" / "mtcars.csv")
    sleep = pd.read_csv(REFERENCE / "predict" / "sleepstudy.csv")
    rng = np.random.default_rng(11)
    g = np.repeat(np.arange(10), 20)
    counts = pd.DataFrame({"y": rng.poisson(np.exp(1 + rng.normal(0, 0.5, 10)[g])), "x": rng.normal(size=g.size),
                           "g": g.astype(str)})
    lmer = quiet(pc.MixedSpec("Reaction ~ Days + (Days | Subject)"), sleep)
    return {"lm": quiet(pc.TrendSpec("mpg ~ wt"), cars), "lmer": lmer, "lmertest": lmer,
            "glmer": quiet(pc.MixedSpec("y ~ x + (1 | g)", family="poisson"), counts),
            "lavaan": quiet(pc.SEMSpec("mpg ~ wt + hp"), cars)}


def ours(res, part):
    if part == "tidy_ran_vals":
        return res.to_broom("tidy", effects=("ran_vals",))
    return res.to_broom(part)


@pytest.mark.parametrize("model,part", [("lm", "tidy"), ("lm", "glance"), ("lm", "augment"), ("lmer", "tidy"),
                                        ("lmertest", "tidy"), ("lmer", "glance"), ("lmer", "augment"),
                                        ("lmer", "tidy_ran_vals"), ("glmer", "tidy"), ("glmer", "glance"),
                                        ("lavaan", "tidy"), ("lavaan", "glance")])
def test_broom_columns_are_broom_s_own_in_broom_s_order(names, fits, model, part):
    expected = names.query("model == @model and part == @part").sort_values("position")["column"].tolist()
    assert expected, f"no names for {model} {part} in {REF / 'names.csv'}"
    expected = [c for c in expected if c not in NOT_PROVIDED.get((model, part), set())]
    columns = list(ours(fits[model], part).columns)
    missing = [c for c in expected if c not in columns]
    assert not missing, f"{model} {part}: broom's {missing} not in {columns}"
    positions = [columns.index(c) for c in expected]
    assert positions == sorted(positions), f"{model} {part}: order {columns} is not broom's {expected}"
    if part != "augment":
        assert columns[0] == "model"
        lead = len(fits[model].by) + 1
        assert columns[lead] == expected[0]  # broom's first column right after the model label and by keys


def test_lmertest_tidy_is_exactly_broom_mixed(names, fits):
    expected = names.query("model == 'lmertest' and part == 'tidy'").sort_values("position")["column"].tolist()
    assert list(fits["lmer"].to_broom("tidy").columns) == ["model", *expected]


def test_glance_values_added_for_broom_match_r(fits):
    values = pd.read_csv(REF / "glance_values.csv")
    for model in ("lm", "lmer"):
        ref = values.query("model == @model").set_index("column")["value"].astype(float)
        row = fits[model].to_broom("glance").iloc[0]
        for column, value in ref.items():
            assert float(row[column]) == pytest.approx(value, rel=1e-5, abs=1e-12), (model, column)


def test_augment_fixed_is_the_population_prediction(fits):
    ref = pd.read_csv(REF / "lmer_augment.csv")
    np.testing.assert_allclose(fits["lmer"].to_broom("augment")[".fixed"], ref[".fixed"], rtol=1e-7)


def test_grouped_fits_lead_with_their_by_keys_and_names_are_translated_only(trend_input):
    res = quiet(pc.TrendSpec("NEE ~ year", by=("region", "season"), where="source == 'ensemble'"), trend_input)
    tidy = res.to_broom("tidy")
    assert list(tidy.columns[:4]) == ["model", "region", "season", "term"]
    plain = res.tidy()
    np.testing.assert_array_equal(tidy["std.error"].to_numpy(), plain["std_error"].to_numpy())
    assert len(res.to_broom("glance")) == len(res.glance())
    with pytest.raises(pc.PcstatsError, match="choose 'tidy', 'glance' or 'augment'"):
        res.to_broom("summary")
    with pytest.raises(pc.PcstatsError, match="effects chooses rows of mixed models"):
        res.to_broom("tidy", effects=("fixed",))
