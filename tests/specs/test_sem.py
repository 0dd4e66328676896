"""SEMSpec: frozen, checked, round-trips through spec files; syntax errors name the line."""

from __future__ import annotations

import dataclasses

import pytest

import pcstats as pc
from pcstats.errors import FormulaError, SpecError

MODEL = "gpp ~ airt + par\nnee ~ gpp + ter"


def test_frozen_label_and_replace():
    spec = pc.SEMSpec(MODEL, by="kind")
    assert spec.by == ("kind",) and spec.label == "gpp ~ airt + par; nee ~ gpp + ter"
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.se = "bootstrap"
    assert spec.replace(se="bootstrap", seed=3).label.endswith("[bootstrap]")


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"model": "nee ~ gpp +"}, FormulaError, "line 1"),
        ({"model": 3}, SpecError, "model=3 must be lavaan model syntax"),
        ({"estimator": "WLS"}, SpecError, "estimator='WLS' is not one of"),
        ({"se": "robust"}, SpecError, "se='robust' is not one of"),
        ({"bootstrap": 5}, SpecError, "at least 10 draws"),
        ({"seed": 1.5}, SpecError, "seed=1.5 must be a whole number"),
        ({"engine": "lavaan"}, SpecError, "engine='lavaan' is not an engine of SEMSpec. Engines: pcstats, semopy"),
        ({"where": "kind"}, FormulaError, "is not a condition"),
    ],
)
def test_bad_arguments_are_named(kwargs, error, message):
    with pytest.raises(error, match=message):
        pc.SEMSpec(**{"model": MODEL, **kwargs})


def test_spec_files_round_trip(tmp_path):
    for name in ("models/sem_egs.toml", "models/sem_lgs.toml"):
        spec = pc.load_spec(name)
        assert pc.load_spec(pc.save_spec(spec, tmp_path / "s.toml")) == spec
