"""nutpie's compiled model reused across data sets of one structure: the draws are those of a fresh
compile (also with another number of rows), level names follow the data, and another number of
groups compiles its own model."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import pcstats as pc
from pcstats.engines import bayes_compiled

from ..conftest import REFERENCE

nutpie = pytest.importorskip("nutpie")

SPEC = pc.BayesSpec("NEE ~ year_c + (1 | region)", draws=100, tune=100, chains=2, seed=3)


def quiet(table):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pc.fit(SPEC, table)


def test_cached_model_gives_the_draws_of_a_fresh_compile(monkeypatch):
    compiles = []
    compile_pymc_model = nutpie.compile_pymc_model
    monkeypatch.setattr(nutpie, "compile_pymc_model", lambda model: compiles.append(model) or compile_pymc_model(model))
    table = pc.read_table(REFERENCE / "mixed_cells.csv")
    regions = sorted(table["region"].unique())
    a, b, c = (table[table["region"].isin(keep)].reset_index(drop=True)
               for keep in (regions[:8], regions[8:16], regions[16:22]))
    b = b.iloc[:-7]  # fewer rows: the number of rows is data, not structure
    bayes_compiled.clear()
    quiet(a)  # compiles the 8-group model
    fit_c = quiet(c)  # 6 groups: another structure, compiled on its own
    assert len(compiles) == 2
    cached = quiet(b)  # 8 other groups, fewer rows: the 8-group model with b's data
    assert len(compiles) == 2
    bayes_compiled.clear()
    fresh = quiet(b)
    assert len(compiles) == 3
    for name in fresh.idata.posterior.data_vars:
        np.testing.assert_allclose(cached.idata.posterior[name].values, fresh.idata.posterior[name].values, rtol=1e-12,
                                   atol=0, err_msg=name)
    np.testing.assert_allclose(cached.idata.log_likelihood["y"].values, fresh.idata.log_likelihood["y"].values,
                               rtol=1e-12, atol=0)
    levels = set(cached.tidy().query("component == 'ran_vals'")["level"])
    assert levels == set(b["region"]) == set(cached.idata.posterior["b_0"].coords["level_0"].values)
    assert set(fit_c.tidy().query("component == 'ran_vals'")["level"]) == set(c["region"])


def test_posterior_predictive_draws_only_the_response(caplog, monkeypatch):
    """The posterior predictive keeps every parameter's posterior draws (the LKJ factor of correlated random
    effects and the SDs depend on pm.Data scales, which PyMC would otherwise draw anew from their priors).
    PyMC's own INFO line says what it samples; the engine keeps the backends at WARNING, so let it through."""
    import contextlib
    import logging

    import pcstats.engines.bayes_pymc as engine

    monkeypatch.setattr(engine, "backends_quiet", lambda verbose=False: contextlib.nullcontext())
    table = pc.read_table(REFERENCE / "mixed_cells.csv")
    spec = SPEC.replace(formula="NEE ~ year_c + (1 + year_c | region)")
    with caplog.at_level(logging.INFO, logger="pymc"):
        res = _fit(spec, table)
    sampled = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Sampling: ")]
    assert sampled == ["Sampling: [y]"]
    assert "constant_data" in res.idata.groups() and "posterior_predictive" in res.idata.groups()


def _fit(spec, table):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pc.fit(spec, table)
