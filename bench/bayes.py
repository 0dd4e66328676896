"""Benchmark: nutpie against PyMC's default NUTS, and the engine's compiled-model cache, on the paper's model.

One run: both samplers on the annual data, then ``pc.fit`` on the four seasons with and without the cache.

    python bench/bayes.py                                  # the spec's 4 x (1500 + 1500): about 10 min on 2 cores
    python bench/bayes.py --draws 500 --tune 500           # quicker
    python bench/bayes.py --cores 1 --no-seasons           # one core; skip the four-season case

Model: ``models/bayes_trend.toml`` (the paper's hierarchical trend model: ``NEE ~ year_c * region +
(1 + year_c | source:region)``, non-centred correlated random intercepts and trends with an LKJ
prior) on the annual rows of ``tests/reference/trend_input.csv``; without that file, the same
formula with the engine's default priors, by season, without the ensemble.
The PyMC model is built with the engine's own code (``bayes`` row preparation,
``mixed_design.build_design``, ``bayes_pymc.build_model``: the design's arrays are ``pm.Data``),
and both samplers sample that model with the spec's seed and ``target_accept``, the same
draws/tune/chains and ``--cores`` cores:

* ``pymc``: ``pm.sample(nuts_sampler="pymc", cores=...)``, run twice. The first run includes
  PyTensor's C compilation of the log-density and its gradient (cached on disk by PyTensor, so it
  is short when an earlier run already compiled this model: about 20 s cold, 1-10 s warm on 2
  shared cores); the second run is warm. Its "compile" column is first run minus second run, so
  it also carries the run-to-run noise; its "sampling" column is the second run;
* ``nutpie``: the engine's compile step with an empty cache (``bayes_compiled.compiled``, which
  is ``nutpie.compile_pymc_model(model)``: PyTensor rewrites and Numba), timed as compile time,
  then ``nutpie.sample(compiled, ...)``, timed as sampling time;
* ``nutpie, compiled model reused``: the same for a new model object of the same structure, which
  the engine's cache serves with the new model's data (``with_data``), initial points and
  coordinates instead of compiling; its draws must equal the row above's (the largest difference
  is printed).

Per sampler: wall times; the smallest bulk ESS over the fixed effects and the variance parameters
(random-effect SDs and correlations, residual SD: the parameters ``glance()`` checks); ESS_bulk
per second of sampling and per second including compilation; divergences; the largest R-hat over
those parameters and over every posterior quantity (random effects included). Then the ratio
nutpie/PyMC of ESS/s. Target (issue 5): nutpie >= 10x PyMC default's ESS/s, with zero
divergences and R-hat <= 1.01; issue 22 asks for >= 10x including compile.

Then the four seasons (data sets of the same structure: 12 source:region levels, 353 or 354 rows),
``pc.fit`` end to end (summaries, LOO, posterior predictive): without the cache (cleared before
each season, so each compiles, as before the cache) and with it (one ``pc.fit`` with
``by=season``, as ``pcstats reproduce`` fits it: one compile), the totals, their ratio and the
largest difference between the two runs' draws (0: identical).

Wall-clock numbers depend on the machine (and on the other load on it); the ratios are what to
compare.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import platform
import time
import warnings
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd

import pcstats as pc
from pcstats.engines import bayes_compiled, prepare
from pcstats.engines.bayes_pymc import build_model, structure
from pcstats.engines.common import group_label, group_slices
from pcstats.engines.mixed_design import build_design

ROOT = Path(__file__).resolve().parent.parent
MODEL_FILE = ROOT / "models" / "bayes_trend.toml"
DATA = ROOT / "tests" / "reference" / "trend_input.csv"
FALLBACK = {"formula": "NEE ~ year_c * region + (1 + year_c | source:region)", "by": ["season"],
            "where": "source != 'ensemble'", "draws": 1000, "tune": 1000, "chains": 4, "seed": 1}
TARGET_RATIO, TARGET_RHAT = 10.0, 1.01


def load_spec(args) -> tuple[pc.BayesSpec, str]:
    if MODEL_FILE.exists():
        spec, origin = pc.load_spec(MODEL_FILE), str(MODEL_FILE.relative_to(ROOT))
    else:
        spec, origin = pc.BayesSpec(**FALLBACK), "built in (models/bayes_trend.toml not found)"
    changes = {k: getattr(args, k) for k in ("draws", "tune", "chains") if getattr(args, k) is not None}
    return dataclasses.replace(spec, **changes), origin


def the_model(spec: pc.BayesSpec):
    """The PyMC model of the annual group (the first group if the spec has ``by`` groups), a
    function that builds it again (a new model object of the same structure), and its cache key."""
    table = pc.read_table(DATA)
    table = table[table["season"] == "ANN"].reset_index(drop=True)
    prepared = prepare(spec, table)
    slices = group_slices(prepared)
    group, rows = next(iter(slices.items()))
    data = prepared.frame.iloc[rows]
    design = build_design(prepared.model, data, "bench")
    where = group_label(prepared, group) + (f" (first of {len(slices)} groups)" if len(slices) > 1 else "")
    return (lambda: build_model(spec, design, data)), structure(spec, design, data), design, where


def checked_draws(idata) -> dict[str, np.ndarray]:
    """(chain, draw) arrays of the fixed effects and variance parameters (as ``glance()`` checks them)."""
    post = idata.posterior
    out = {}
    for name in post.data_vars:
        if not (name == "beta" or name == "sigma" or name == "nu" or name.startswith("sd_")
                or (name.startswith("chol_") and name.endswith(("_stds", "_corr")))):
            continue
        values = post[name].values
        flat = values.reshape(values.shape[0], values.shape[1], -1)
        if name.endswith("_corr"):  # the upper triangle: the diagonal is 1 and the lower a copy
            p = values.shape[-1]
            flat = flat[..., [i * p + j for i in range(p) for j in range(i + 1, p)]]
        for c in range(flat.shape[-1]):
            out[f"{name}[{c}]" if flat.shape[-1] > 1 or values.ndim > 2 else name] = flat[..., c]
    return out


def diagnostics(idata) -> dict:
    draws = checked_draws(idata)
    ess = {k: float(az.ess(v, method="bulk")) for k, v in draws.items()}
    rhat = {k: float(az.rhat(v)) for k, v in draws.items()}
    worst = min(ess, key=ess.get)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # constant quantities (the diagonal of a correlation matrix) give NaN
        rhat_all = az.rhat(idata.posterior)
    max_all = float(np.nanmax(np.concatenate([np.ravel(rhat_all[v].values) for v in rhat_all.data_vars])))
    return {"min_ess_bulk": ess[worst], "worst": worst, "divergences": int(idata.sample_stats["diverging"].values.sum()),
            "max_rhat": max(rhat.values()), "max_rhat_all": max_all, "n_checked": len(draws)}


def run_pymc(model, spec: pc.BayesSpec, cores: int):
    import pymc as pm

    start = time.perf_counter()
    with model, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idata = pm.sample(draws=spec.draws, tune=spec.tune, chains=spec.chains, cores=cores, random_seed=spec.seed,
                          target_accept=spec.target_accept, nuts_sampler="pymc", progressbar=False,
                          compute_convergence_checks=False)
    return idata, time.perf_counter() - start


def run_nutpie(model, key, spec: pc.BayesSpec, cores: int):
    """The engine's compile step (``bayes_compiled.compiled``: a Numba compile when ``key`` is not
    in the cache, else the cached model with this model's data), timed, then ``nutpie.sample``."""
    import nutpie

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = bayes_compiled.compiled(model, key)
    compile_seconds = time.perf_counter() - start
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idata = nutpie.sample(compiled, draws=spec.draws, tune=spec.tune, chains=spec.chains, cores=cores,
                              seed=spec.seed, target_accept=spec.target_accept, progress_bar=False)
    return idata, compile_seconds, time.perf_counter() - start


def max_gap(a, b) -> float:
    """Largest absolute difference between two fits' posterior draws (every variable)."""
    return max(float(np.max(np.abs(a.posterior[v].values - b.posterior[v].values))) for v in a.posterior.data_vars)


def run_seasons(spec: pc.BayesSpec) -> None:
    """``pc.fit`` of the spec on each season, with and without the compiled-model cache, in one run.

    Without: the cache is cleared before each season's fit, so each compiles (as before the cache).
    With: the cache is cleared once, then one ``pc.fit`` with ``by=season`` (as ``pcstats
    reproduce`` fits it) compiles for the first season and reuses that model for the others.
    """
    table = pc.read_table(DATA)
    seasons = sorted(table["season"].unique())
    if "season" not in spec.by:
        spec = spec.replace(by=("season", *spec.by))
    print(f"\n{len(seasons)} data sets of the same shape (seasons {', '.join(seasons)}): pc.fit, with the engine's "
          "summaries, LOO and posterior predictive")
    without, fits = {}, {}
    for season in seasons:
        bayes_compiled.clear()
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fits[season] = pc.fit(spec, table[table["season"] == season].reset_index(drop=True))
        without[season] = time.perf_counter() - start
    bayes_compiled.clear()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cached = pc.fit(spec, table)
    with_cache = time.perf_counter() - start
    glance = cached.glance().set_index("season")
    gap = max(max_gap(fits[s].native[(s,)], cached.native[(s,)]) for s in seasons)
    print(pd.DataFrame({"without cache (s)": without, "with cache: sampling_seconds": glance["sampling_seconds"]})
          .to_string(float_format=lambda v: f"{v:.2f}"))
    total = sum(without.values())
    print(f"total: {total:.1f} s without the cache (a compile per season), {with_cache:.1f} s with it (one compile): "
          f"{total / with_cache:.2f}x faster; largest difference between the two runs' draws: {gap:.3g}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, help="posterior draws per chain (default: the spec's)")
    parser.add_argument("--tune", type=int, help="tuning steps per chain (default: the spec's)")
    parser.add_argument("--chains", type=int, help="chains (default: the spec's)")
    parser.add_argument("--cores", type=int, help="cores for both samplers (default: min(chains, CPUs))")
    parser.add_argument("--no-seasons", action="store_true", help="skip the four-season case (cache against no cache)")
    args = parser.parse_args()

    import nutpie
    import pymc as pm

    for name in ("pymc", "pytensor"):  # PyMC's progress messages and PyTensor's BLAS notice
        logging.getLogger(name).setLevel(logging.ERROR)

    spec, origin = load_spec(args)
    cores = args.cores or min(spec.chains, os.cpu_count() or 1)
    make_model, key, design, where = the_model(spec)
    model = make_model()
    print(f"python {platform.python_version()}, pcstats {pc.__version__}, pymc {pm.__version__}, "
          f"nutpie {nutpie.__version__}, arviz {az.__version__}, {platform.machine()}, {os.cpu_count()} CPUs")
    print(f"spec: {origin}\n  {spec.formula}\n  where {spec.where!r}; {where}")
    print(f"  {len(design.y)} rows, {len(design.fixed_names)} fixed effects, "
          f"{', '.join(f'{b.n_levels} levels x {b.Z.shape[1]} columns' for b in design.blocks)}; "
          f"{spec.chains} chains x ({spec.tune} tune + {spec.draws} draws), target_accept {spec.target_accept}, "
          f"seed {spec.seed}, {cores} cores")

    rows = []
    idata, first = run_pymc(model, spec, cores)
    idata, warm = run_pymc(model, spec, cores)
    rows.append({"sampler": "pymc (default NUTS)", "compile_s": max(first - warm, 0.0), "sampling_s": warm,
                 "total_s": first, **diagnostics(idata)})
    print(f"\npymc: first run {first:.1f} s (with C compilation, if not cached), second run {warm:.1f} s")
    bayes_compiled.clear()
    idata, compile_seconds, sampling = run_nutpie(model, key, spec, cores)
    rows.append({"sampler": "nutpie", "compile_s": compile_seconds, "sampling_s": sampling,
                 "total_s": compile_seconds + sampling, **diagnostics(idata)})
    reused, compile_seconds, sampling = run_nutpie(make_model(), key, spec, cores)  # a new model object, same key
    rows.append({"sampler": "nutpie, compiled model reused", "compile_s": compile_seconds, "sampling_s": sampling,
                 "total_s": compile_seconds + sampling, **diagnostics(reused)})
    print(f"nutpie: largest difference between the draws of the fresh and the reused compiled model: "
          f"{max_gap(idata, reused):.3g}")

    out = pd.DataFrame(rows)
    out["ess_per_s"] = out["min_ess_bulk"] / out["sampling_s"]
    out["ess_per_s_with_compile"] = out["min_ess_bulk"] / out["total_s"]
    columns = ["sampler", "compile_s", "sampling_s", "total_s", "min_ess_bulk", "ess_per_s", "ess_per_s_with_compile",
               "divergences", "max_rhat", "max_rhat_all", "worst"]
    print(f"\nmin_ess_bulk and max_rhat: over {out['n_checked'].iloc[0]} fixed-effect and variance parameters "
          "(worst: the one with the smallest ESS); max_rhat_all: every posterior quantity")
    print(out[columns].to_string(index=False, float_format=lambda v: f"{v:.4g}"))

    pymc_row, nutpie_row = out.iloc[0], out.iloc[1]
    ratio = nutpie_row["ess_per_s"] / pymc_row["ess_per_s"]
    ratio_compile = nutpie_row["ess_per_s_with_compile"] / pymc_row["ess_per_s_with_compile"]
    print(f"\nnutpie / pymc ESS_bulk per second: {ratio:.2f}x sampling only, {ratio_compile:.2f}x including compile "
          f"(wall time: {pymc_row['sampling_s'] / nutpie_row['sampling_s']:.2f}x faster sampling, "
          f"{pymc_row['total_s'] / nutpie_row['total_s']:.2f}x faster first run)")

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    print(f"target >= {TARGET_RATIO:g}x PyMC's ESS/s: {verdict(ratio >= TARGET_RATIO)} on sampling time ({ratio:.2f}x), "
          f"{verdict(ratio_compile >= TARGET_RATIO)} including compile ({ratio_compile:.2f}x)")
    reuse = out.iloc[2]
    print(f"reused compiled model: {reuse['ess_per_s_with_compile'] / pymc_row['ess_per_s_with_compile']:.2f}x PyMC's "
          f"ESS/s including compile ({reuse['compile_s']:.2f} s to reuse it against {nutpie_row['compile_s']:.1f} s to compile)")
    print(f"target zero divergences (nutpie): {verdict(nutpie_row['divergences'] == 0)} ({nutpie_row['divergences']})")
    print(f"target R-hat <= {TARGET_RHAT} (nutpie): {verdict(nutpie_row['max_rhat'] <= TARGET_RHAT)} on the fixed-effect "
          f"and variance parameters ({nutpie_row['max_rhat']:.4f}), {verdict(nutpie_row['max_rhat_all'] <= TARGET_RHAT)} "
          f"on every posterior quantity ({nutpie_row['max_rhat_all']:.4f})")
    if not args.no_seasons:
        run_seasons(spec)


if __name__ == "__main__":
    main()
