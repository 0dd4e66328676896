"""γ of the TRENDY-like models' ensemble (pcstats.pipeline.robustness).

With one temperature forcing shared by the models, the ensemble's flux is the mean of the models' fluxes on
the same temperatures, and an OLS slope is linear in the response: the ensemble's γ must equal the mean of
the models' γ, season by season and region by region. The pipeline run on the bundled fixtures must write
the ensemble beside each model in tables/gamma_models_* and show it in the summary and figure.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pcstats as pc
from pcstats.errors import PcstatsError
from pcstats.pipeline import robustness as pipeline
from pcstats.pipeline.context import Section
from pcstats.pipeline.robustness import models_with_ensemble

MODELS = {"M1": 0.02, "M2": 0.05, "M3": 0.11}  # each model's planted γ (gC m-2 d-1 K-1)


def _models(seed: int = 3) -> pd.DataFrame:
    """Three models at two sites per region, 12 years of months; one AirT forcing shared by the models."""
    rng = np.random.default_rng(seed)
    years, months = np.arange(2000, 2012), np.arange(1, 13)
    rows = []
    for region, sites in (("P", ("p1", "p2")), ("NoP", ("n1", "n2"))):
        for site in sites:
            airt = {(y, m): -10 + 15 * np.sin((m - 4) / 12 * 2 * np.pi) + rng.normal(0, 2) for y in years for m in months}
            for source, gamma in MODELS.items():
                for (y, m), t in airt.items():
                    nbp = 0.3 + gamma * t + rng.normal(0, 0.05)
                    common = dict(source=source, kind="dgvm", region=region, site=site, year=int(y), month=int(m))
                    rows.append({**common, "variable": "NBP", "value": nbp, "unit": "gC m-2 d-1", "positive": "down"})
                    rows.append({**common, "variable": "AirT", "value": t, "unit": "degC", "positive": None})
    return pd.DataFrame(rows)


def _gamma(res: pc.Results) -> pd.DataFrame:
    tidy = res.tidy()
    return tidy[tidy["term"] == "AirT"].set_index(["source", "region", "season"])["estimate"]


@pytest.mark.parametrize("driver_season", [None, "MJ"])
def test_ensemble_gamma_is_the_mean_of_the_models_gamma(driver_season):
    table = models_with_ensemble(_models())
    assert (table["source"] == "ensemble").sum() == len(table) / 4  # one row per site, month and variable
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = pc.sensitivity(table, "NBP", driver_season=driver_season, by=("source", "region"))
    gamma = _gamma(res).unstack("source")
    assert len(gamma) == 2 * 3  # P and NoP by EGS, LGS, ANN
    np.testing.assert_allclose(gamma["ensemble"], gamma[list(MODELS)].mean(axis=1), rtol=1e-9, atol=1e-12)
    if driver_season is None:  # the direct γ recovers the planted slopes, so the ensemble's is their mean
        np.testing.assert_allclose(gamma["ensemble"], np.mean(list(MODELS.values())), atol=0.01)


def test_a_table_with_an_ensemble_already_is_refused():
    table = models_with_ensemble(_models())
    with pytest.raises(PcstatsError, match="already has a source 'ensemble'"):
        models_with_ensemble(table)


@pytest.fixture(scope="module")
def pipeline_run(tmp_path_factory):
    root = Path(__file__).resolve().parents[1]
    fixtures, models = root / "fixtures", root / "models"
    nee = pipeline.convert_units(pipeline.read_table(fixtures / "inversions" / "inversions_monthly.parquet"))
    covariates = pipeline.read_table(fixtures / "covariates" / "covariates_monthly.parquet")
    cells = pipeline.classify(pipeline.cell_attributes(pipeline.read_table(fixtures / "covariates" / "covariates_annual.parquet")))
    out, section = tmp_path_factory.mktemp("gamma"), Section()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        summary = pipeline._sensitivities(section, out, models, nee, covariates, cells, fixtures)
    return out, section, summary


def test_pipeline_writes_the_models_ensemble_gamma(pipeline_run):
    out, section, summary = pipeline_run
    for effect in ("legacy", "direct"):
        tidy = pd.read_csv(out / "tables" / f"gamma_models_{effect}_tidy.csv")
        gamma = tidy[tidy["term"] == "AirT"].pivot_table(index=["region", "season"], columns="source", values="estimate")
        members = gamma.drop(columns="ensemble")
        assert members.shape[1] == 10 and gamma["ensemble"].notna().all() and len(gamma) == 6
        # the models' AirT differ a little, so the ensemble's γ is near their mean, within their range
        assert ((gamma["ensemble"] >= members.min(axis=1)) & (gamma["ensemble"] <= members.max(axis=1))).all()
        np.testing.assert_allclose(gamma["ensemble"], members.mean(axis=1), atol=0.01)
        assert f"| models' ensemble, {effect} | P" in summary and f"| models' ensemble, {effect} | NoP" in summary
    assert out / "figures" / "gamma.png" in section.figures


def test_figure_has_a_panel_for_the_models_ensemble(pipeline_run, monkeypatch):
    from pcstats import plots

    seen = {}

    def spy(fits, **kwargs):
        seen.update(fits)
        return None

    monkeypatch.setattr(plots, "sensitivity_figure", spy)
    out, _, _ = pipeline_run
    root = Path(__file__).resolve().parents[1]
    nee = pipeline.convert_units(pipeline.read_table(root / "fixtures" / "inversions" / "inversions_monthly.parquet"))
    covariates = pipeline.read_table(root / "fixtures" / "covariates" / "covariates_monthly.parquet")
    cells = pipeline.classify(pipeline.cell_attributes(pipeline.read_table(root / "fixtures" / "covariates" / "covariates_annual.parquet")))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipeline._sensitivities(Section(), out / "again", root / "models", nee, covariates, cells, root / "fixtures")
    panels = {k: set(v.tidy()["source"]) if "source" in v.by else None for k, v in seen.items()}
    assert panels["models' ensemble, legacy"] == {"ensemble"} and panels["models' ensemble, direct"] == {"ensemble"}
