"""The family registry: one record per family, each naming a spec type, a preparer and engines that exist."""

from __future__ import annotations

import importlib.util

import pytest

import pcstats as pc
from pcstats.errors import EngineError
from pcstats.families import FAMILIES, family_of, load


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_each_record_names_a_spec_of_its_family_and_engines_that_exist(name):
    family = FAMILIES[name]
    spec_type = load(family.spec)
    assert spec_type.kind == name
    for target in [family.prepare, *family.engines.values(), *([family.auto] if family.auto else [])]:
        module, function = target.split(":")
        assert importlib.util.find_spec(module) is not None, target  # found without importing its backend
        assert function.isidentifier()


def test_family_of_and_unknown_specs():
    assert family_of(pc.TrendSpec("y ~ x")).name == "trend"
    assert family_of(pc.MixedSpec("y ~ x + (1 | g)")).engines.keys() >= {"profiled", "lme4"}

    class NotASpec:
        family = "trend"

    with pytest.raises(EngineError, match="NotASpec is not a spec pcstats knows .*TrendSpec"):
        family_of(NotASpec())


def test_specs_refuse_engines_their_family_lacks():
    with pytest.raises(pc.SpecError, match="engine='lme4' is not an engine of TrendSpec.*Engines: closed_form"):
        pc.TrendSpec("y ~ x", engine="lme4")
