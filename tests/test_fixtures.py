"""The committed fixtures are what the committed, seeded generator makes (floats to 1e-12, see tests/numbers.py)."""

from __future__ import annotations

import importlib.util
import json

import pandas as pd

from .conftest import ROOT
from .numbers import assert_frames_close, assert_tree_close


def load_generator(name: str = "generate"):
    spec = importlib.util.spec_from_file_location(name, ROOT / "fixtures" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generator_reproduces_committed_files(tmp_path):
    truth = load_generator().generate(tmp_path)
    assert_tree_close(truth, json.loads((ROOT / "fixtures" / "truth.json").read_text()))
    for rel in ("inversions/inversions_monthly.parquet", "covariates/covariates_monthly.parquet",
                "covariates/covariates_annual.parquet", "sem/sem_seasonal.parquet"):
        assert_frames_close(pd.read_parquet(tmp_path / rel), pd.read_parquet(ROOT / "fixtures" / rel), name=rel)


def test_native_units_and_signs_are_as_documented():
    nee = pd.read_parquet(ROOT / "fixtures" / "inversions" / "inversions_monthly.parquet")
    units = nee.groupby("source")["unit"].first().to_dict()
    assert units["CT2019B"] == "mol m-2 s-1" and units["CAMS"] == "kgC m-2 s-1" and units["Jena_s76"] == "gC m-2 d-1"
    assert set(nee["positive"]) == {"up"}
    july = nee[(nee["month"] == 7)].groupby("source")["value"].mean()
    assert (july < 0).all()  # summer net uptake is negative in the release-positive convention


def test_evaluation_generator_reproduces_committed_files(tmp_path):
    truth = load_generator("generate_evaluation").generate(tmp_path)
    assert_tree_close(truth, json.loads((ROOT / "fixtures" / "evaluation" / "truth.json").read_text()))
    rel = "evaluation/sites_monthly.parquet"
    assert_frames_close(pd.read_parquet(tmp_path / rel), pd.read_parquet(ROOT / "fixtures" / rel), name=rel)


def test_evaluation_fixture_has_the_documented_layout():
    table = pd.read_parquet(ROOT / "fixtures" / "evaluation" / "sites_monthly.parquet")
    truth = json.loads((ROOT / "fixtures" / "evaluation" / "truth.json").read_text())
    towers = table[table["kind"] == "eddy_covariance"]
    models = table[table["kind"] == "dgvm"]
    assert set(towers["variable"]) == {"NEE", "GPP", "TER", "AirT"} and set(models["variable"]) == {"NBP", "GPP", "TER", "AirT"}
    assert towers["site"].nunique() == 48 and models["source"].nunique() == 10
    assert models["year"].min() < towers["year"].min()  # the models' record is longer: alignment is needed
    assert set(table.loc[table["variable"].isin(["NEE", "NBP"]), "positive"]) == {"down"}
    assert towers["value"].isna().sum() == truth["tower_nee_nan"]
    regions = towers.groupby("site")["region"].first()
    assert all(regions[s] == v["region"] for s, v in truth["sites"].items())


def test_trendy_generator_reproduces_committed_files(tmp_path):
    truth = load_generator("generate_trendy").generate(tmp_path)
    assert_tree_close(truth, json.loads((ROOT / "fixtures" / "trendy" / "truth.json").read_text()))
    rel = "trendy/trendy_monthly.parquet"
    assert_frames_close(pd.read_parquet(tmp_path / rel), pd.read_parquet(ROOT / "fixtures" / rel), name=rel)


def test_trendy_fixture_recovers_its_planted_region_trends():
    """The model ensemble's regional trends are the planted BASE (4 SE, family of 6), and they miss the LGS loss."""
    import warnings

    import pcstats as pc

    truth = json.loads((ROOT / "fixtures" / "trendy" / "truth.json").read_text())
    trendy = pc.read_table(ROOT / "fixtures" / "trendy" / "trendy_monthly.parquet")
    cells = pc.classify(pc.cell_attributes(pc.read_table(ROOT / "fixtures" / "covariates" / "covariates_annual.parquet")))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seasonal = pc.seasonalize(pc.aggregate(trendy, cells["permafrost"]))
        res = pc.fit(pc.TrendSpec("NBP ~ year", by=("region", "season")), pc.ensemble(seasonal))
    slopes = res.tidy().query("term == 'year'").set_index(["region", "season"])
    for region, planted in truth["trend_by_region"].items():
        for season in ("EGS", "LGS", "WIN"):
            row = slopes.loc[(region, season)]
            assert abs(row["estimate"] - planted[season]) < 4 * row["std_error"], (region, season)
    inversion_lgs = json.loads((ROOT / "fixtures" / "truth.json").read_text())["trend_by_region"]["P"]["LGS"]
    assert truth["trend_by_region"]["P"]["LGS"] > inversion_lgs + 0.5  # the models lack the late-season loss
