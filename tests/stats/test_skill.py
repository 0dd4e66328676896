"""The skill metrics against HydroErr 2.0 (the maintained library whose definitions pcstats states)."""

from __future__ import annotations

import HydroErr as he
import numpy as np
import pytest

from pcstats.stats.skill import TERMS, skill_metrics

HYDROERR = {"r": he.pearson_r, "r2_pearson": he.r_squared, "nse": he.nse, "rmse": he.rmse, "mae": he.mae, "mbe": he.me,
            "kge": he.kge_2009}


@pytest.mark.parametrize("seed", range(5))
def test_every_group_matches_hydroerr(seed):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(5, 60, 7)
    codes = np.repeat(np.arange(7), sizes)
    obs = rng.gamma(3.0, 1.0, len(codes)) + 300.0 * (seed == 4)  # seed 4: a large mean (precision of centred sums)
    sim = 0.8 * obs + rng.normal(0.3, 0.7, len(codes))
    m = skill_metrics(sim, obs, codes)
    for g in range(7):
        s, o = sim[codes == g], obs[codes == g]
        for term, reference in HYDROERR.items():
            np.testing.assert_allclose(m[term][g], reference(s, o), rtol=1e-10, err_msg=term)
        nse = he.nse(s, o)
        np.testing.assert_allclose(m["nnse"][g], 1 / (2 - nse), rtol=1e-12)
        np.testing.assert_allclose(m["sd_ratio"][g], np.std(s) / np.std(o), rtol=1e-12)
        np.testing.assert_allclose(m["mean_ratio"][g], s.mean() / o.mean(), rtol=1e-12)
        np.testing.assert_allclose(m["crmse"][g], np.sqrt(np.mean(((s - s.mean()) - (o - o.mean())) ** 2)), rtol=1e-10)
        assert m["n"][g] == len(s)


def test_textbook_values():
    m = skill_metrics(np.array([1.0, 2.0, 4.0]), np.array([1.0, 3.0, 5.0]))
    assert m["mbe"][0] == pytest.approx(-2 / 3)  # simulated - observed: the simulation is too low
    assert m["rmse"][0] == pytest.approx(np.sqrt(2 / 3))
    assert m["nse"][0] == pytest.approx(1 - 2 / 8)
    assert m["nnse"][0] == pytest.approx(1 / (2 - 0.75))
    perfect = skill_metrics(np.arange(5.0), np.arange(5.0))
    assert perfect["nse"][0] == 1 and perfect["kge"][0] == pytest.approx(1) and perfect["rmse"][0] == 0


@pytest.mark.parametrize("level", [2.0, 0.1, 2.7, 123.456])
def test_undefined_values_are_nan_not_errors(level):
    varying = np.array([1.0, 2.0, 3.0, 0.3, 0.7, 1.1, 0.2])
    constant = skill_metrics(varying, np.full(7, level))
    for term in ("nse", "nnse", "r", "r2_pearson", "kge", "sd_ratio"):
        assert np.isnan(constant[term][0]), term
    assert constant["sd_observed"][0] == 0
    flat_simulation = skill_metrics(np.full(7, level), varying)
    assert np.isnan(flat_simulation["r"][0]) and flat_simulation["sd_simulated"][0] == 0
    constant = skill_metrics(np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 2.0]))
    assert constant["rmse"][0] == pytest.approx(np.sqrt(2 / 3)) and constant["mbe"][0] == 0
    zero_mean = skill_metrics(np.array([1.0, -1.0, 2.0]), np.array([1.0, -1.0, 0.0]))
    assert np.isnan(zero_mean["mean_ratio"][0]) and np.isnan(zero_mean["kge"][0]) and np.isfinite(zero_mean["nse"][0])
    single = skill_metrics(np.array([1.0]), np.array([2.0]))
    assert all(np.isnan(single[t][0]) for t in TERMS)
