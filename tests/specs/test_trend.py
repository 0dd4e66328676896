from __future__ import annotations

import dataclasses

import pytest

import pcstats as pc


def test_spec_is_frozen_and_replace_makes_a_copy():
    spec = pc.TrendSpec("NEE ~ year", by=["region", "season"])
    assert spec.by == ("region", "season")
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.formula = "GPP ~ year"
    hac = spec.replace(cov_type="HAC", hac_lags=2)
    assert spec.cov_type == "nonrobust" and hac.cov_type == "HAC" and hac.by == spec.by
    assert hac.label == "NEE ~ year [HAC(2)]" and spec.replace(name="x").label == "x"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"formula": "NEE"}, "formula='NEE' is not a formula"),
        ({"formula": "NEE ~ year +"}, "cannot be parsed"),
        ({"formula": "NEE + GPP ~ year"}, "left-hand side must be one variable or expression"),
        ({"cov_type": "HC3"}, "cov_type='HC3' is not one of"),
        ({"method": "theil"}, "method='theil' is not one of"),
        ({"hac_lags": 2}, "hac_lags/hac_prewhite are set but cov_type is 'nonrobust'"),
        ({"conf_level": 95}, "conf_level=95 must lie strictly between 0 and 1"),
        ({"min_years": 2}, "min_years=2: a trend needs at least 3 years"),
        ({"by": ("region", "region")}, "must be distinct column names"),
        ({"where": "season = 'ANN'"}, "is not a valid filter"),
        ({"method": "sen", "formula": "NEE ~ year + AirT"}, "method='sen' fits one slope against year"),
        ({"conf_level": "0.9"}, "conf_level='0.9' must be a number"),
        ({"min_years": 3.0}, "min_years=3.0 must be a whole number"),
        ({"cov_type": "HAC", "hac_prewhite": "yes"}, "hac_prewhite='yes' must be True or False"),
        ({"cov_type": "HAC", "hac_lags": True}, "hac_lags=True must be a whole number"),
        ({"where": "region"}, "'region' is not a condition"),
        ({"where": "season == 'ANN' and region"}, "'region' is not a condition"),
    ],
)
def test_invalid_arguments_are_named(kwargs, message):
    args = {"formula": "NEE ~ year", **kwargs}
    with pytest.raises(pc.SpecError, match=message.replace("(", r"\(").replace(")", r"\)").replace("+", r"\+")):
        pc.TrendSpec(**args)


def test_replace_unknown_field_suggests():
    with pytest.raises(pc.SpecError, match="TrendSpec has no field 'covtype'. Did you mean 'cov_type'"):
        pc.TrendSpec("NEE ~ year").replace(covtype="HAC")
