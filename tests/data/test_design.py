"""The study design: how cells become P and NoP, the window, the mask and the zonal means (pcstats.StudyDesign)."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import pcstats as pc
from pcstats.data.design import DESIGNS, PAPER, PAPER_CODE, THRESHOLD, StudyDesign
from pcstats.pipeline.inputs import regional_tables, study_cells

from ..conftest import ROOT

CELLS = pd.DataFrame(
    {"TC": [20.0, 70.0, 70.0, 20.0, 20.0, 70.0, 20.0], "P": [60.0, 2.0, 60.0, 2.0, 10.0, 0.0, 95.0],
     "IPA": [3, 4, 2, 0, 3, 0, 1], "LC": [7, 1, 1, 10, 7, 12, 16], "NDVI": [0.3, 0.5, 0.5, 0.3, 0.3, 0.5, 0.05]},
    index=["a", "b", "c", "d", "e", "f", "g"])


def test_paper_regions_follow_tree_cover_permafrost_and_the_mask():
    # a: short permafrost; b: tree-covered, no permafrost; c, d: neither contrast; e: P = 10 is not > 10;
    # f: cropland (IGBP 12); g: NDVI below 0.1
    assert PAPER.regions(CELLS).tolist() == ["P", "NoP", None, None, None, None, None]
    assert PAPER.but(mask="none").regions(CELLS).tolist() == ["P", "NoP", None, None, None, "NoP", "P"]


def test_threshold_regions_ignore_tree_cover_and_keep_every_cell():
    assert THRESHOLD.regions(CELLS).tolist() == ["P", "NoP", "P", "NoP", "P", "NoP", "P"]


def test_ipa_zones_count_isolated_as_no_permafrost():
    # b is isolated (4): NoP under the paper's code, although %P would not decide it differently here
    assert PAPER_CODE.but(mask="none").regions(CELLS).tolist() == ["P", "NoP", None, None, "P", "NoP", "P"]
    assert PAPER_CODE.but(mask="none", contrast="permafrost").regions(CELLS).tolist() == ["P", "NoP", "P", "NoP", "P", "NoP", "P"]


def test_missing_attributes_and_bad_choices_are_named():
    with pytest.raises(pc.ContractError, match=r"IPA"):
        PAPER_CODE.regions(CELLS.drop(columns="IPA"))
    with pytest.raises(pc.ContractError, match=r"TC"):
        PAPER.regions(CELLS.drop(columns="TC"))
    with pytest.raises(pc.ContractError, match=r"zonal='areal'.*Did you mean 'area'"):
        StudyDesign(zonal="areal")
    with pytest.raises(pc.ContractError, match=r"years"):
        StudyDesign(years=(2017, 1980))


def test_designs_describe_and_compare_themselves():
    assert set(DESIGNS) == {"paper", "paper_code", "threshold"}
    assert PAPER.differences(PAPER_CODE) == ["permafrost: percent (paper_code: ipa)"]
    assert PAPER.describe()["years"] == [1980, 2017] and PAPER.weight is None and THRESHOLD.weight == "weight"
    assert "1980-2017" in PAPER.text() and "unweighted" in PAPER.text()


def test_unweighted_zonal_means_keep_the_summed_area():
    t = pd.DataFrame({"source": "s", "kind": "inversion", "region": ["a", "b"], "year": 2000, "month": 1,
                      "variable": "NEE", "value": [1.0, 3.0], "unit": "gC m-2 d-1", "weight": [1.0, 3.0]})
    unweighted = pc.aggregate(t, {"a": "R", "b": "R"}, weight=None)
    area = pc.aggregate(t, {"a": "R", "b": "R"})
    assert unweighted["value"].iloc[0] == pytest.approx(2.0) and area["value"].iloc[0] == pytest.approx(2.5)
    assert unweighted["weight"].iloc[0] == pytest.approx(4.0) and area["weight"].iloc[0] == pytest.approx(4.0)


@pytest.fixture(scope="module")
def fixture_inputs():
    read = lambda rel: pc.read_table(ROOT / "fixtures" / rel)  # noqa: E731
    return (read("inversions/inversions_monthly.parquet"), read("covariates/covariates_annual.parquet"),
            read("covariates/covariates_monthly.parquet"))


def test_the_fixture_cells_of_each_design_are_the_planted_ones(fixture_inputs):
    _, annual, monthly = fixture_inputs
    truth = json.loads((ROOT / "fixtures" / "truth.json").read_text())
    regions = PAPER.regions(study_cells(annual, monthly))
    for region in ("P", "NoP"):
        assert sorted(regions.index[regions == region]) == truth["cells"][region]
        assert sorted(THRESHOLD.regions(study_cells(annual)).pipe(lambda r: r.index[r == region])) == truth["by_design"]["threshold"]["cells"][region]
    masked = ~PAPER.natural(study_cells(annual, monthly))
    assert sorted(masked.index[masked]) == truth["cell_classes"]["masked"]


def test_the_window_and_the_design_reach_the_seasonal_tables(fixture_inputs):
    nee, annual, monthly = fixture_inputs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        paper, _, _ = regional_tables(nee, annual, PAPER, monthly)
        threshold, _, _ = regional_tables(nee, annual, THRESHOLD, monthly)
    assert (paper["permafrost"]["year"].min(), paper["permafrost"]["year"].max()) == (1980, 2017)
    assert (threshold["permafrost"]["year"].min(), threshold["permafrost"]["year"].max()) == (1976, 2019)
    cells = study_cells(annual, monthly)
    area = cells.join(annual.groupby("region")["weight"].first())
    p_cells = PAPER.regions(cells) == "P"
    row = paper["permafrost"].query("source == 'CAMS' and region == 'P' and season == 'ANN' and year == 2000").iloc[0]
    assert row["weight"] == pytest.approx(area.loc[p_cells, "weight"].sum(), rel=1e-6)
    assert len(paper["tc_bins"]) < len(threshold["tc_bins"])  # fewer years and masked cells


def test_the_threshold_design_recovers_its_own_planted_targets(fixture_inputs):
    """Under P >= 10 % vs the rest, area-weighted, 1976-2019 the ensemble estimates by_design.threshold's targets."""
    nee, annual, monthly = fixture_inputs
    truth = json.loads((ROOT / "fixtures" / "truth.json").read_text())["by_design"]["threshold"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tables, _, _ = regional_tables(nee, annual, THRESHOLD, monthly)
        res = pc.fit(pc.TrendSpec("NEE ~ year", by=("region", "season"), where="source == 'ensemble'",
                                  conf_level=1 - 0.05 / 8), tables["permafrost"])
    tidy = res.tidy().query("term == 'year'")
    target = tidy.apply(lambda r: truth["ensemble_target_by_region"][r["region"]][r["season"]], axis=1)
    assert ((tidy["conf_low"] <= target) & (target <= tidy["conf_high"])).all()


def test_fits_of_the_pipeline_record_their_design(tmp_path):
    from pcstats.pipeline.context import Section, fit_file

    table = pc.read_table(ROOT / "tests" / "reference" / "trend_input.csv")
    res = fit_file(Section(), tmp_path, ROOT / "models", "t", "trend_seasonal.toml", table, "trend_input", PAPER)
    assert res.provenance.design == PAPER.describe()
    assert json.loads((tmp_path / "tables" / "t.json").read_text())["provenance"]["design"]["name"] == "paper"
