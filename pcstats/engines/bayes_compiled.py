"""Compiled nutpie models, kept in the process and reused for every model of the same structure.

Compiling a PyMC model with nutpie (PyTensor's graph rewrites, then Numba) takes most of a
Bayesian fit of the paper's model, more than sampling it. :func:`sample` compiles a model the
first time its structure is seen (``key``: everything its graph depends on besides its
``pm.Data`` arrays, see :func:`pcstats.engines.bayes_pymc.structure`) and, for the next model
with that key, samples the compiled log-density with the new model's data (nutpie's
``with_data``), initial points and coordinates. The sampler gets the same function, data,
initial points and seed either way, so the draws do not depend on whether the model came from
the cache. A different structure (another number of groups, priors or likelihood) is another
key, compiled anew.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd

from .._optional import optional_import

__all__ = ["sample", "compiled", "clear"]

#: compiled models kept, least recently used dropped first
SIZE = 8
_CACHE: OrderedDict[Hashable, Any] = OrderedDict()
_LOCK = threading.Lock()


def clear() -> None:
    """Forget every compiled model (the next fit of each structure compiles again)."""
    with _LOCK:
        _CACHE.clear()


def compiled(model, key: Hashable):
    """nutpie's compiled ``model``: from the cache with this model's data if ``key`` was compiled before."""
    nutpie = optional_import("nutpie", "the nutpie sampler")

    with _LOCK:
        cached = _CACHE.get(key)
        if cached is not None:
            _CACHE.move_to_end(key)
    if cached is not None:
        return _with_model(cached, model)
    fresh = nutpie.compile_pymc_model(model)
    with _LOCK:
        _CACHE[key] = fresh
        while len(_CACHE) > SIZE:
            _CACHE.popitem(last=False)
    return fresh


def _with_model(cached, model):
    """``cached`` (compiled from another model of the same structure) with ``model``'s data, initial
    points and coordinates, as ``nutpie.compile_pymc_model(model)`` would have them."""
    make_initial_point_fn = optional_import("pymc.initial_point", "Bayesian fits").make_initial_point_fn

    shared = {v.name: v for v in [*model.data_vars, *model.dim_lengths.values()]}
    missing = sorted(set(cached.shared_data) - set(shared))
    if missing:  # the key missed a difference between the models: a bug in the key, never a wrong fit
        raise RuntimeError(f"cached nutpie model needs data {missing} that this model does not have")
    # the initial points depend on the data (prior scales), so they come from this model, as in nutpie
    point = make_initial_point_fn(model=model, default_strategy="support_point", jitter_rvs=set(model.free_RVs),
                                  return_transformed=True)
    names = [model.rvs_to_values[rv].name for rv in model.free_RVs]
    lock = threading.Lock()  # nutpie calls it from its chains' threads

    def initial_point(seed=None) -> np.ndarray:
        with lock:
            values = point(seed)
        flat = np.concatenate([np.asarray(values[name], dtype="float64").ravel() for name in names])
        if flat.size != cached.n_dim:
            raise RuntimeError(f"cached nutpie model has {cached.n_dim} parameters, this model {flat.size}")
        return flat

    coords = {name: pd.Index(values) for name, values in model.coords.items()}
    coords["unconstrained_parameter"] = cached.coords["unconstrained_parameter"]
    return dataclasses.replace(cached.with_data(**{name: shared[name].get_value() for name in cached.shared_data}),
                               initial_point_func=initial_point, _coords=coords, dims=model.named_vars_to_dims)


def sample(model, key: Hashable, *, draws: int, tune: int, chains: int, seed: int, target_accept: float,
           progress_bar: bool = False):
    """``pm.sample(nuts_sampler="nutpie")`` of ``model`` with its compiled model from the cache.

    ``progress_bar``: nutpie's own progress display (a terminal bar, or HTML in a notebook).

    The InferenceData has what ``pm.sample`` gives: the draws, the sampler statistics, the
    observed and constant data, and the sampling time and tuning steps in the posterior's attributes.
    """
    nutpie = optional_import("nutpie", "the nutpie sampler")
    pm = optional_import("pymc", "Bayesian fits")
    dict_to_dataset = optional_import("arviz", "Bayesian fits").dict_to_dataset
    make_attrs = optional_import("arviz.data.base", "Bayesian fits").make_attrs
    pm_arviz = optional_import("pymc.backends.arviz", "Bayesian fits")
    coords_and_dims_for_inferencedata, find_constants, find_observations = (
        pm_arviz.coords_and_dims_for_inferencedata, pm_arviz.find_constants, pm_arviz.find_observations)

    ready = compiled(model, key)
    start = time.time()
    idata = nutpie.sample(ready, draws=draws, tune=tune, chains=chains, target_accept=target_accept, seed=seed,
                          progress_bar=progress_bar)
    seconds = time.time() - start
    coords, dims = coords_and_dims_for_inferencedata(model)
    observed = dict_to_dataset(find_observations(model), library=pm, coords=coords, dims=dims, default_dims=[])
    idata.posterior.attrs.update(make_attrs({"sampling_time": seconds, "tuning_steps": tune}, library=nutpie))
    # the data the draws were made with: sample_posterior_predictive compares it with the model's
    # pm.Data and, without it, draws every variable that depends on one (the LKJ factor) from its prior
    constant = dict_to_dataset(find_constants(model), library=pm, coords=coords, dims=dims, default_dims=[])
    idata.add_groups({"observed_data": observed, "constant_data": constant}, coords=coords, dims=dims)
    return idata
