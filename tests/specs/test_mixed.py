"""MixedSpec: frozen, checked, round-trips through spec files."""

from __future__ import annotations

import dataclasses

import pytest

import pcstats as pc
from pcstats.errors import FormulaError, SpecError

FORMULA = "NEE ~ year_c * region + (1 + year_c | source)"


def test_frozen_and_replace():
    spec = pc.MixedSpec(FORMULA, by="season")
    assert spec.by == ("season",)
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.reml = False
    ml = spec.replace(reml=False)
    assert ml.label == FORMULA + " [ML]" and spec.reml
    with pytest.raises(SpecError, match="no field 'rml'.*reml"):
        spec.replace(rml=False)


def test_parsed_parts():
    spec = pc.MixedSpec(FORMULA)
    assert spec.fixed == "NEE ~ year_c * region"
    assert [t.group for t in spec.random] == ["source"]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"reml": "yes"}, SpecError, "reml='yes' must be True"),
        ({"conf_level": 95}, SpecError, "between 0 and 1"),
        ({"engine": "lme5"}, SpecError, "Did you mean 'lme4'"),
        ({"by": ("source",)}, SpecError, "'source' is both a by key and a grouping factor"),
        ({"where": "season"}, FormulaError, "is not a condition"),
        ({"formula": "NEE ~ year_c"}, FormulaError, "no random-effect term"),
    ],
)
def test_bad_arguments_are_named(kwargs, error, message):
    args = {"formula": FORMULA, **kwargs}
    with pytest.raises(error, match=message):
        pc.MixedSpec(**args)


def test_spec_file_round_trip(tmp_path):
    spec = pc.MixedSpec(FORMULA, by=("season",), where="region in ['P', 'NoP']", reml=False, name="GLMM")
    path = pc.save_spec(spec, tmp_path / "m.toml")
    assert pc.load_spec(path) == spec


def test_spec_file_checks_the_fixed_part(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text('family = "mixed"\nformula = "NEE ~ os.system(1) + (1 | source)"\n')
    with pytest.raises(SpecError, match="outside the safe vocabulary"):
        pc.load_spec(path)
