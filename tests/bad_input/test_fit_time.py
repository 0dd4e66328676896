"""Bad input at fit time: meaning, not only shape (issue 18, part 1; selections, part 4).

Each case asserts the pcstats error type and the words that matter in its message, or the counted,
reported drop. Positive controls show the checks do not refuse what is legitimate.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import pcstats as pc

from ..conftest import REFERENCE, series

YEARS = list(range(1990, 2010))


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


@pytest.fixture(scope="module")
def seasonal() -> pd.DataFrame:
    return pc.read_table(REFERENCE / "trend_input.csv")


def noisy(values, seed=0):
    return np.asarray(values, dtype=float) + np.random.default_rng(seed).normal(0, 0.3, len(values))


def regions_table(**keys) -> pd.DataFrame:
    return pd.concat([series(YEARS, noisy(np.arange(20.0), 1), region="P", **keys),
                      series(YEARS, noisy(np.arange(20.0) * -1, 2), region="NoP", **keys)], ignore_index=True)


def monthly_table() -> pd.DataFrame:
    rows = []
    rng = np.random.default_rng(5)
    for year in YEARS[:10]:
        for month in range(1, 13):
            rows.append({"source": "CAMS", "kind": "inversion", "region": "P", "year": year, "month": month,
                         "variable": "NEE", "value": rng.normal(), "unit": "gC m-2 d-1"})
    return pd.DataFrame(rows)


TREND = pc.TrendSpec("NEE ~ year", by=("source", "region", "season"))


# ----------------------------------------------------------------------------- long-table vocabulary


def test_season_typo_beside_the_real_season_is_refused(seasonal):
    t = seasonal.copy()
    t.loc[t.index[t["season"] == "LGS"][:3], "season"] = "LSG"
    with pytest.raises(pc.ContractError, match=r"season 'LSG' on 3 row\(s\).*typo.*Did you mean 'LGS'"):
        pc.fit(TREND, t)


def test_variable_in_the_wrong_case_is_refused(seasonal):
    t = seasonal.copy()
    t.loc[t.index[:2], "variable"] = "nee"
    with pytest.raises(pc.ContractError, match=r"variable 'nee' on 2 row\(s\).*Did you mean 'NEE'.*left out"):
        pc.fit(TREND, t)


def test_a_season_of_ones_own_far_from_the_vocabulary_is_fitted():
    t = regions_table(season="JJA")
    res = quiet(pc.fit, pc.TrendSpec("NEE ~ year", by=("region", "season")), t)
    assert set(res.tidy()["season"]) == {"JJA"}


def test_trend_over_years_on_a_monthly_table_is_refused():
    with pytest.raises(pc.ContractError, match=r"table is monthly.*independent observation.*seasonalize"):
        pc.fit(pc.TrendSpec("NEE ~ year", by=("source", "region")), monthly_table())


def test_monthly_table_with_month_as_a_key_is_fitted():
    res = quiet(pc.fit, pc.TrendSpec("NEE ~ year", by=("source", "region", "month")), monthly_table())
    assert len(res.glance()) == 12 and res.glance()["nobs"].tolist() == [10] * 12


def test_monthly_table_filtered_to_one_month_is_fitted():
    res = quiet(pc.fit, pc.TrendSpec("NEE ~ year", by=("region",), where="month == 7"), monthly_table())
    assert int(res.glance()["nobs"].iloc[0]) == 10


def test_opposite_sign_conventions_pooled_in_one_group_are_refused():
    t = pd.concat([regions_table(source="CAMS", positive="up"), regions_table(source="CTE2020", positive="down")],
                  ignore_index=True)
    with pytest.raises(pc.ContractError, match=r"opposite sign conventions in the group \{'region': 'NoP'\}.*"
                                               r"'up'.*\['CAMS'\].*'down'.*\['CTE2020'\].*convert_units"):
        pc.fit(pc.TrendSpec("NEE ~ year", by=("region",)), t)


def test_opposite_sign_conventions_in_separate_groups_are_fitted():
    t = pd.concat([regions_table(source="CAMS", positive="up"), regions_table(source="CTE2020", positive="down")],
                  ignore_index=True)
    res = quiet(pc.fit, pc.TrendSpec("NEE ~ year", by=("source", "region")), t)
    assert len(res.glance()) == 4


def test_duplicated_keys_are_refused_at_fit_time():
    t = regions_table()
    with pytest.raises(pc.ContractError, match=r"Duplicate keys.*Aggregate them first"):
        pc.fit(pc.TrendSpec("NEE ~ year", by=("region",)), pd.concat([t, t.iloc[:1]], ignore_index=True))


def test_infinite_value_in_a_long_table_is_refused():
    t = regions_table()
    t.loc[3, "value"] = np.inf
    with pytest.raises(pc.ContractError, match=r"'value'.*infinite values at row 3"):
        pc.fit(pc.TrendSpec("NEE ~ year", by=("region",)), t)


# ------------------------------------------------------------------------------- responses, any data


def test_constant_response_in_one_group_is_a_counted_drop():
    t = regions_table()
    t.loc[t["region"] == "P", "value"] = 2.5
    with pytest.warns(UserWarning, match="1 of 2 group"):
        res = pc.fit(pc.TrendSpec("NEE ~ year", by=("region",)), t)
    g = res.glance().set_index("region")
    assert g.loc["P", "nobs"] == 0 and g.loc["P", "n_dropped"] == 20
    assert "the response 'NEE' is constant in this group (every value 2.5)" in g.loc["P", "dropped_why"]
    assert set(res.tidy()["region"]) == {"NoP"}
    assert np.isfinite(res.tidy()["statistic"]).all()


@pytest.mark.parametrize("spec", [pc.TrendSpec("y ~ x"), pc.MixedSpec("y ~ x + (1 | g)"), pc.SEMSpec("y ~ x")],
                         ids=["trend", "mixed", "sem"])
def test_constant_response_everywhere_is_an_error_not_inf(spec):
    d = pd.DataFrame({"y": 1.0, "x": np.arange(40.0), "g": np.repeat(list("abcd"), 10)})
    with pytest.raises(pc.EngineError, match=r"No group can be fitted.*'y' is constant.*nothing to fit"):
        pc.fit(spec, d)


@pytest.mark.parametrize("spec", [pc.TrendSpec("NEE ~ year", by=("region",)),
                                  pc.MixedSpec("NEE ~ year_c + (1 | region)")], ids=["trend", "mixed"])
def test_all_nan_response_is_an_error_naming_the_nan(spec):
    t = regions_table()
    t["value"] = np.nan
    with pytest.raises(pc.EngineError, match=r"No group can be fitted; .*NaN in NEE"):
        pc.fit(spec, t)


@pytest.mark.parametrize("engine", ["closed_form", "statsmodels"])
def test_essentially_perfect_fit_is_warned_in_the_results(engine):
    t = series(YEARS, 3.0 + 0.5 * np.arange(20.0))
    with pytest.warns(UserWarning, match="essentially perfect fit"):
        res = pc.fit(pc.TrendSpec("NEE ~ year", engine=engine), t)
    assert any("essentially perfect fit" in w and "unreliable" in w for w in res.warnings)


def test_noisy_fit_is_not_warned_as_perfect():
    res = quiet(pc.fit, pc.TrendSpec("NEE ~ year", by=("region",)), regions_table())
    assert not any("perfect" in w for w in res.warnings)


def test_non_numeric_response_of_a_data_frame_is_refused():
    d = pd.DataFrame({"y": list("abcdefghij") * 3, "x": np.arange(30.0)})
    with pytest.raises(pc.ContractError, match=r"response 'y' is not numeric.*pd.to_numeric"):
        pc.fit(pc.TrendSpec("y ~ x"), d)


def test_infinite_predictor_of_a_data_frame_is_refused_naming_rows():
    d = pd.DataFrame({"y": noisy(np.arange(30.0)), "x": np.arange(30.0)})
    d.loc[[4, 9], "x"] = np.inf
    with pytest.raises(pc.ContractError, match=r"column 'x' holds infinite values at rows 4, 9.*NaN"):
        pc.fit(pc.TrendSpec("y ~ x"), d)


def test_perfectly_collinear_fixed_effects_of_a_mixed_model_are_named():
    d = pd.DataFrame({"y": noisy(np.arange(40.0)), "x": np.arange(40.0), "g": np.repeat(list("abcd"), 10)})
    with pytest.raises(pc.EngineError, match=r"collinear.*I\(2 \* x\)"):
        quiet(pc.fit, pc.MixedSpec("y ~ x + I(2*x) + (1 | g)"), d)


def test_grouping_factor_with_one_level_is_named():
    d = pd.DataFrame({"y": noisy(np.arange(40.0)), "x": np.arange(40.0), "g": "a"})
    with pytest.raises(pc.EngineError, match=r"grouping factor 'g' of \(1 \| g\) has one level"):
        quiet(pc.fit, pc.MixedSpec("y ~ x + (1 | g)"), d)


def test_data_that_is_not_a_data_frame_is_refused():
    with pytest.raises(pc.EngineError, match=r"data must be a pandas \(or polars\) DataFrame, got dict"):
        pc.fit(pc.TrendSpec("y ~ x"), {"y": [1.0, 2.0], "x": [0.0, 1.0]})


def test_empty_data_frame_is_refused():
    with pytest.raises(pc.ContractError, match="no rows to fit"):
        pc.fit(pc.TrendSpec("y ~ x"), pd.DataFrame({"y": [], "x": []}))


# ------------------------------------------------------------------------------------------- Q10


def q10_table(temperature_offset=0.0, sign=1.0, temperature_unit="degC") -> pd.DataFrame:
    rng = np.random.default_rng(3)
    rows = []
    for i, (year, month) in enumerate((y, m) for y in YEARS[:6] for m in range(1, 13)):
        airt = 15 * np.sin((month - 4) / 12 * 2 * np.pi) + rng.normal(0, 1)
        ter = 1.5 * 2.0 ** ((airt - 10) / 10) * np.exp(rng.normal(0, 0.1))
        for variable, value, unit in (("TER", sign * ter, "gC m-2 d-1"), ("AirT", airt + temperature_offset, temperature_unit)):
            rows.append({"source": "US-Xyz", "kind": "eddy_covariance", "region": "P", "year": year, "month": month,
                         "variable": variable, "value": value, "unit": unit})
    return pd.DataFrame(rows)


def test_q10_on_degc_is_fitted():
    res = quiet(pc.fit, pc.Q10Spec(), q10_table())
    q10 = res.tidy().set_index("term").loc["Q10", "estimate"]
    assert 1.5 < q10 < 2.7


@pytest.mark.parametrize("unit", ["K", "degC"])
def test_q10_on_kelvin_is_refused(unit):
    with pytest.raises(pc.ContractError, match=r"look like kelvin.*degC.*273.15"):
        pc.fit(pc.Q10Spec(), q10_table(temperature_offset=273.15, temperature_unit=unit))


def test_q10_on_negated_respiration_is_refused():
    with pytest.raises(pc.ContractError, match=r"respiration values are mostly at or below zero.*sign looks flipped"):
        pc.fit(pc.Q10Spec(), q10_table(sign=-1.0))


# ------------------------------------------------------------------------------------- selections


@pytest.fixture(scope="module")
def by_region() -> pc.Results:
    return quiet(pc.fit, pc.TrendSpec("NEE ~ year", by=("region",)), regions_table())


def test_subset_with_a_value_no_group_has_names_the_values(by_region):
    with pytest.raises(pc.PcstatsError, match=r"no group has region='PP'\. Did you mean 'P'\? Values of 'region': 'NoP', 'P'"):
        by_region.subset(region="PP")


def test_subset_with_a_key_that_is_not_a_by_key(by_region):
    with pytest.raises(pc.PcstatsError, match=r"'regoin' is not one of the by keys.*Did you mean 'region'"):
        by_region.subset(regoin="P")


def test_subset_with_a_value_present_keeps_its_groups(by_region):
    assert set(by_region.subset(region="P").tidy()["region"]) == {"P"}


def test_difference_of_a_fit_with_itself_is_refused(by_region):
    with pytest.raises(pc.PcstatsError, match=r"same fit.*always gives p = 1"):
        pc.difference_test(by_region, by_region)


def test_difference_of_the_same_subset_twice_is_refused(by_region):
    with pytest.raises(pc.PcstatsError, match="same fit"):
        pc.difference_test(by_region.subset(region="P"), by_region.subset(region="P"))


def test_difference_of_two_groups_is_tested(by_region):
    out = pc.difference_test(by_region.subset(region="P"), by_region.subset(region="NoP")).tidy()
    assert out["estimate"].iloc[0] == pytest.approx(2.0, abs=0.2) and out["p_value"].iloc[0] < 1e-6
