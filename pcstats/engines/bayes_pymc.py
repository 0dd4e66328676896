"""Bayesian engine "pymc": the mixed-model design as a PyMC model, sampled with nutpie or PyMC's NUTS.

The design matrices come from :mod:`pcstats.engines.mixed_design`, the same as the REML
engines', so terms are named alike and ``compare()`` lines a Bayesian fit up with a REML one.

Model, per group of rows: ``y ~ Normal(X β + Σ_k Z_k b_k, σ)`` (or Student-t with ``nu``);
``β`` with the ``intercept``/``fixed`` priors; each random-effect term non-centred,
``b_k = z_k L_kᵀ`` with ``z_k ~ N(0, 1)`` and ``L_k`` the Cholesky factor of its covariance
(an LKJ prior on the correlations and the ``sd`` prior on the SDs for several columns, ``b_k =
z_k sd_k`` for one); ``σ`` one per value of ``sigma_by`` if given.

Diagnostics go to ``glance()`` and ``warnings``: divergences, R-hat > 1.01, bulk/tail ESS below
100 per chain, Pareto k > 0.7 in PSIS-LOO. ``sampling_seconds`` is the wall time of sampling
(nutpie's compilation included, when the model was not compiled before) and of the log-likelihood.
nutpie's compiled model is reused for every group and data set of the same structure in the process
(:mod:`.bayes_compiled`): the design's arrays are ``pm.Data``, so one compiled model samples
another data set with the same draws as a fresh compile would give. The default priors are absolute
numbers for seasonal fluxes in gC m-2 yr-1; a warning says when least squares puts a fixed
effect more than 3 prior SDs out. On a model frame (any data frame), the priors a spec leaves
unset are brms's data-scaled defaults (:func:`data_scaled_priors`), recorded in ``glance()``.
"""

from __future__ import annotations

import importlib.util
import time
import warnings

import numpy as np
import pandas as pd

from ..progress import backends_quiet, sampler_bars, status
from ..specs.bayes import BayesSpec, parse_prior
from .common import assemble, group_label, group_slices, progress
from .mixed_design import Design, build_design, ran_par_names, unfit_reason
from .prepare import Prepared
from .._optional import optional_import

__all__ = ["fit", "build_model", "structure", "data_scaled_priors", "posterior_prob", "prior_predictive"]

GLANCE = ("nobs", "n_groups", "draws", "chains", "divergences", "max_rhat", "min_ess_bulk", "min_ess_tail",
          "elpd_loo", "p_loo", "looic", "elpd_waic", "p_waic", "waic", "max_pareto_k", "sampling_seconds", "sampler",
          "seed", "likelihood", "priors")


def fit(spec: BayesSpec, prepared: Prepared):
    """Sample ``spec`` in every group of ``prepared``."""
    pymc = optional_import("pymc", "Bayesian fits (BayesSpec)")

    sampler = _sampler(spec)
    frame = prepared.frame
    tidy_parts, glance_rows, messages, native, skipped = [], [], [], {}, {}
    if sampler != spec.sampler:
        messages.append("nutpie is not installed; sampled with PyMC's NUTS (pip install nutpie for the faster sampler).")
    slices = group_slices(prepared)
    for number, (group, rows) in enumerate(progress(slices.items(), len(slices), "Bayesian fits"), start=1):
        where = group_label(prepared, group)
        status(f"sampling {where} ({number}/{len(slices)})")
        data = frame.iloc[rows]
        design = build_design(prepared.model, data, where)
        reason = unfit_reason(design)
        if reason:
            skipped[group] = reason
            continue
        used = spec if prepared.long else data_scaled_priors(spec, design)
        messages += _prior_scale_check(used, design, where)
        model = build_model(used, design, data)
        idata, seconds = _sample(used, model, sampler, structure(used, design, data))
        tidy, glance, notes = _summaries(used, design, data, idata)
        glance.update(sampling_seconds=seconds, sampler=sampler)
        tidy["_group"] = group
        tidy_parts.append(tidy)
        glance_rows.append({"_group": group, **glance})
        messages += [f"{where}: {n}" for n in notes]
        native[tuple(prepared.groups.loc[group, list(prepared.by)])] = idata
    if not tidy_parts:
        from ..errors import EngineError

        first = next(iter(skipped))
        raise EngineError(f"No group could be fitted; {group_label(prepared, first)}: {skipped[first]}.")
    statistics = pd.DataFrame(glance_rows, columns=["_group", *GLANCE])
    return assemble(spec, prepared, engine="pymc", engine_version=pymc.__version__,
                    coefficients=pd.concat(tidy_parts, ignore_index=True), statistics=statistics, warnings=messages,
                    native=native, seed=spec.seed, packages=("pymc", "arviz", "nutpie"), skipped=skipped)


def data_scaled_priors(spec: BayesSpec, design: Design) -> BayesSpec:
    """The spec with brms's data-scaled defaults for the priors it leaves unset (model frames).

    As brms: ``s = max(2.5, mad(y))``; intercept ``student_t(3, median(y), s)``; sigma
    ``halfstudent_t(3, s)``; correlations ``lkj(1)``. Random-effect SDs get ``halfnormal(2 s)``
    (brms: half-t(3, 0, s), which PyMC cannot use as the SD prior of a correlated term). brms
    leaves fixed effects flat; pcstats gives them ``normal(0, 2.5 sd(y) / sd(x))`` with the
    smallest SD of a non-constant column (weakly informative on every column).
    """
    y = design.y / (1.0 if design.sqrt_weights is None else design.sqrt_weights)
    mad = 1.4826 * float(np.median(np.abs(y - np.median(y))))
    s = max(2.5, round(mad, 1))
    sds = design.X.std(axis=0)
    sd_x = float(sds[sds > 0].min()) if np.any(sds > 0) else 1.0
    fixed = 2.5 * max(float(np.std(y)), 1e-12) / sd_x
    scaled = {"intercept": f"student_t(3, {float(np.median(y)):.6g}, {s:.6g})", "fixed": f"normal(0, {fixed:.6g})",
              "sd": f"halfnormal({2 * s:.6g})", "sigma": f"halfstudent_t(3, {s:.6g})", "cor": "lkj(1)"}
    return spec.replace(priors={**scaled, **dict(spec.priors)})


def _prior_scale_check(spec: BayesSpec, design: Design, where: str) -> list[str]:
    """The default priors are absolute numbers; say so when least squares puts a coefficient far out in them."""
    ols = np.linalg.lstsq(design.X, design.y, rcond=None)[0]
    notes = []
    for name, estimate in zip(design.fixed_names, ols):
        kind = "intercept" if name == "(Intercept)" else "fixed"
        family, args = parse_prior(kind, spec.prior(kind))
        scale = args[-1] if family in ("normal", "student_t") else None
        centre = args[-2] if scale else 0.0
        if scale and abs(estimate - centre) > 3 * scale:
            notes.append(f"{where}: the least-squares estimate of {name} ({estimate:.3g}) lies {abs(estimate - centre) / scale:.0f} "
                         f"prior SDs out in priors[{kind!r}]={spec.prior(kind)!r}, which will pull it in; set a wider prior "
                         "for this response's units.")
    return notes


def _sampler(spec: BayesSpec) -> str:
    if spec.sampler == "nutpie" and importlib.util.find_spec("nutpie") is None:
        return "pymc"
    return spec.sampler


def _prior(pm, name: str, text: str, rv_name: str, **kwargs):
    family, args = parse_prior(name, text)
    dist = {"normal": pm.Normal, "student_t": pm.StudentT, "halfnormal": pm.HalfNormal, "halfcauchy": pm.HalfCauchy,
            "halfstudent_t": pm.HalfStudentT, "exponential": pm.Exponential, "gamma": pm.Gamma}[family]
    from ..specs.bayes import PRIOR_FAMILIES

    params = dict(zip(PRIOR_FAMILIES[family], args))
    params.update({k: kwargs.pop(k) for k in list(kwargs) if k in params})  # scaled parameters
    if rv_name is None:
        return dist.dist(**params, **kwargs)
    return dist(rv_name, **params, **kwargs)


def _scaled(spec: BayesSpec, factor) -> dict:
    """The ``sd`` prior's scale parameter multiplied by ``factor`` (the prior of ``factor · sd``; a tensor)."""
    from ..specs.bayes import PRIOR_FAMILIES

    family, args = parse_prior("sd", spec.prior("sd"))
    name = {"halfnormal": "sigma", "halfcauchy": "beta", "halfstudent_t": "sigma", "exponential": "lam", "gamma": "beta"}[family]
    value = dict(zip(PRIOR_FAMILIES[family], args))[name]
    # exponential's rate and gamma's rate scale inversely
    return {name: value / factor if name in ("lam", "beta") and family != "halfcauchy" else value * factor}


def build_model(spec: BayesSpec, design: Design, data: pd.DataFrame):
    """The PyMC model of one group's design (see the module docstring).

    Every array of the design is a ``pm.Data`` container, so that a compiled model of the same
    structure (:func:`structure`) samples another group's or data set's design with new data.
    """
    pm = optional_import("pymc", "Bayesian fits (BayesSpec)")

    names = list(design.fixed_names)
    coords = {"fixed": names}
    with pm.Model(coords=coords) as model:
        parts = []
        for i, term in enumerate(names):
            kind = "intercept" if term == "(Intercept)" else "fixed"
            parts.append(_prior(pm, kind, spec.prior(kind), f"beta_{i}"))
        beta = pm.Deterministic("beta", pm.math.stack(parts), dims="fixed")
        mu = pm.Data("X", design.X) @ beta
        for k, block in enumerate(design.blocks):
            p = block.Z.shape[1]
            model.add_coord(f"level_{k}", list(block.levels))
            model.add_coord(f"column_{k}", list(block.columns))
            # sample each column's effects on the scale of a unit-RMS column (a trend on years is
            # ~20x smaller than an intercept); the prior is scaled along, so it is the stated prior
            # on the original scale, and b, sd and cor are reported on the original scale
            rms = np.sqrt(np.mean(block.Z**2, axis=0))
            rms = pm.Data(f"rms_{k}", np.where(rms > 0, rms, 1.0))
            if p == 1:
                sd_unit = _prior(pm, "sd", spec.prior("sd"), f"sd_unit_{k}", **_scaled(spec, rms[0]))
                pm.Deterministic(f"sd_{k}", sd_unit / rms[0])
                z = pm.Normal(f"z_{k}", 0.0, 1.0, dims=(f"level_{k}",))
                b = pm.Deterministic(f"b_{k}", (z * sd_unit / rms[0])[:, None], dims=(f"level_{k}", f"column_{k}"))
            else:
                eta = parse_prior("cor", spec.prior("cor"))[1][0]
                chol, corr, stds = pm.LKJCholeskyCov(f"chol_unit_{k}", n=p, eta=eta, compute_corr=True,
                                                     sd_dist=_prior(pm, "sd", spec.prior("sd"), None, shape=p, **_scaled(spec, rms)))
                pm.Deterministic(f"chol_{k}_stds", stds / rms)
                pm.Deterministic(f"chol_{k}_corr", corr)
                z = pm.Normal(f"z_{k}", 0.0, 1.0, dims=(f"level_{k}", f"column_{k}"))
                b = pm.Deterministic(f"b_{k}", (z @ chol.T) / rms, dims=(f"level_{k}", f"column_{k}"))
            mu = mu + (pm.Data(f"Z_{k}", block.Z) * b[pm.Data(f"codes_{k}", block.codes)]).sum(axis=1)
        if spec.sigma_by:
            levels, codes = np.unique(data[spec.sigma_by].astype(str).to_numpy(), return_inverse=True)
            model.add_coord("sigma_level", list(levels))
            sigma = _prior(pm, "sigma", spec.prior("sigma"), "sigma", dims="sigma_level")[pm.Data("sigma_codes", codes)]
        else:
            sigma = _prior(pm, "sigma", spec.prior("sigma"), "sigma")
        observed = pm.Data("y_observed", design.y)
        if spec.likelihood == "student_t":
            nu = _prior(pm, "nu", spec.prior("nu"), "nu")
            pm.StudentT("y", nu=nu, mu=mu, sigma=sigma, observed=observed)
        else:
            pm.Normal("y", mu=mu, sigma=sigma, observed=observed)
    return model


def structure(spec: BayesSpec, design: Design, data: pd.DataFrame) -> tuple:
    """What :func:`build_model`'s graph depends on besides its ``pm.Data`` arrays: the key under
    which a compiled model is reused (:mod:`pcstats.engines.bayes_compiled`): the priors, the
    likelihood, and the number of columns and levels of each term (the number of parameters).
    Not the values, the level names or the number of rows: the ``pm.Data`` arrays have no fixed
    length, so a season with one year more reuses the model."""
    sigma_levels = data[spec.sigma_by].astype(str).nunique() if spec.sigma_by else None
    return (tuple(spec.prior(name) for name in ("intercept", "fixed", "sd", "cor", "sigma", "nu")), spec.likelihood,
            design.X.shape[1], tuple((block.Z.shape[1], block.n_levels) for block in design.blocks), sigma_levels)


def _sample(spec: BayesSpec, model, sampler: str, key: tuple):
    pm = optional_import("pymc", "Bayesian fits (BayesSpec)")

    from . import bayes_compiled

    start = time.perf_counter()
    bars = sampler_bars()  # the sampler's own progress on a terminal or in a notebook, never inside reproduce's sections
    with model, warnings.catch_warnings(), backends_quiet():  # no "Sampling: [y]" through a progress display
        warnings.simplefilter("ignore")
        if sampler == "nutpie":
            idata = bayes_compiled.sample(model, key, draws=spec.draws, tune=spec.tune, chains=spec.chains,
                                          seed=spec.seed, target_accept=spec.target_accept, progress_bar=bars)
        else:
            idata = pm.sample(draws=spec.draws, tune=spec.tune, chains=spec.chains, random_seed=spec.seed,
                              target_accept=spec.target_accept, progressbar=bars, nuts_sampler="pymc", cores=1)
        pm.compute_log_likelihood(idata, progressbar=False)
        seconds = time.perf_counter() - start
        pm.sample_posterior_predictive(idata, extend_inferencedata=True, random_seed=spec.seed, progressbar=False)
    return idata, seconds


def _summaries(spec: BayesSpec, design: Design, data: pd.DataFrame, idata) -> tuple[pd.DataFrame, dict, list[str]]:
    az = optional_import("arviz", "Bayesian fits (BayesSpec)")

    hdi = spec.conf_level
    rows = []

    def add(component, group, level, term, draws: np.ndarray):
        rows.append({"component": component, "group": group, "level": level, "term": term, "draws": draws})

    post = idata.posterior
    for i, term in enumerate(design.fixed_names):
        add("fixed", None, None, term, post["beta"].values[:, :, i])
    for k, block in enumerate(design.blocks):
        group = block.term.group
        if block.Z.shape[1] == 1:
            add("ran_pars", group, None, f"sd__{block.columns[0]}", post[f"sd_{k}"].values)
        else:
            sds, corr = post[f"chol_{k}_stds"].values, post[f"chol_{k}_corr"].values
            for name, i, j in ran_par_names(block):
                add("ran_pars", group, None, name, sds[..., i] if i == j else corr[..., i, j])
        b = post[f"b_{k}"].values
        for li, level in enumerate(block.levels):
            for ci, column in enumerate(block.columns):
                add("ran_vals", group, level, column, b[:, :, li, ci])
    for group, level, slope, draws in _group_trends(design, post):
        add("trend", group, level, slope, draws)
    sigma = post["sigma"].values
    if sigma.ndim == 3:
        for si, level in enumerate(post["sigma"].coords["sigma_level"].values):
            add("ran_pars", "Residual", str(level), "sd__Observation", sigma[..., si])
    else:
        add("ran_pars", "Residual", None, "sd__Observation", sigma)
    if spec.likelihood == "student_t":
        add("ran_pars", "Residual", None, "nu", post["nu"].values)

    table = []
    for r in rows:
        draws = r.pop("draws")
        low, high = az.hdi(draws[..., None], hdi_prob=hdi)[0] if draws.size else (np.nan, np.nan)
        table.append({**r, "estimate": float(draws.mean()), "std_error": float(draws.std(ddof=1)),
                      "conf_low": float(low), "conf_high": float(high), "rhat": float(az.rhat(draws)),
                      "ess_bulk": float(az.ess(draws, method="bulk")), "ess_tail": float(az.ess(draws, method="tail")),
                      "mcse_mean": float(np.ravel(az.mcse(draws, method="mean"))[0])})
    tidy = pd.DataFrame(table)
    tidy["statistic"] = np.nan
    tidy["p_value"] = np.nan
    glance, notes = _diagnostics(spec, design, idata, tidy)
    return tidy, glance, notes


def _group_trends(design: Design, post):
    """Each level's own trend where the trend varies by level: the fixed slope (if any), every
    fixed interaction with it at the level's values (the interaction's own column divided by the
    slope, averaged over the level's rows: ``regionP`` for ``year_c:regionP``), plus the
    level's random slope. For the forest plot of group-level trends."""
    names = list(design.fixed_names)
    beta = post["beta"].values
    X = design.X
    for k, block in enumerate(design.blocks):
        for slope in (c for c in block.columns if c in ("year_c", "year")):
            ci = block.columns.index(slope)
            b = post[f"b_{k}"].values
            raw = block.Z[:, ci]
            for li, level in enumerate(block.levels):
                rows = (block.codes == li) & (np.abs(raw) > 1e-12)
                draws = b[:, :, li, ci].copy()
                for j, term in enumerate(names):
                    if slope in term.split(":"):
                        weight = float(np.mean(X[rows, j] / raw[rows])) if rows.any() else 0.0
                        draws = draws + beta[..., j] * weight
                yield block.term.group, level, slope, draws


def _diagnostics(spec: BayesSpec, design: Design, idata, tidy: pd.DataFrame) -> tuple[dict, list[str]]:
    az = optional_import("arviz", "Bayesian fits (BayesSpec)")

    notes = []
    divergences = int(idata.sample_stats["diverging"].values.sum())
    checked = tidy[~tidy["component"].isin(["ran_vals", "trend"])]
    max_rhat, min_bulk, min_tail = checked["rhat"].max(), checked["ess_bulk"].min(), checked["ess_tail"].min()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loo = az.loo(idata, pointwise=True)
        waic = az.waic(idata)
    max_k = float(np.nanmax(loo.pareto_k.values))
    if divergences:
        notes.append(f"{divergences} divergent transition(s): raise target_accept or reparametrise; the posterior may be biased.")
    if max_rhat > 1.01:
        notes.append(f"R-hat up to {max_rhat:.3f} (> 1.01): the chains have not mixed; draw longer.")
    if min(min_bulk, min_tail) < 100 * spec.chains:
        notes.append(f"low effective sample size (bulk {min_bulk:.0f}, tail {min_tail:.0f}; want >= {100 * spec.chains}).")
    if max_k > 0.7:
        notes.append(f"PSIS-LOO: Pareto k up to {max_k:.2f} (> 0.7); elpd_loo is unreliable for those rows.")
    glance = {
        "nobs": len(design.y), "n_groups": max(b.n_levels for b in design.blocks), "draws": spec.draws,
        "chains": spec.chains, "divergences": divergences, "max_rhat": max_rhat, "min_ess_bulk": min_bulk,
        "min_ess_tail": min_tail, "elpd_loo": float(loo.elpd_loo), "p_loo": float(loo.p_loo),
        "looic": -2 * float(loo.elpd_loo), "elpd_waic": float(waic.elpd_waic), "p_waic": float(waic.p_waic),
        "waic": -2 * float(waic.elpd_waic), "max_pareto_k": max_k, "seed": spec.seed, "likelihood": spec.likelihood,
        "priors": "; ".join(f"{n}={spec.prior(n)}" for n in ("intercept", "fixed", "sd", "cor", "sigma")
                            + (("nu",) if spec.likelihood == "student_t" else ())),
    }
    return glance, notes


def posterior_prob(res, hypothesis: str):
    """Posterior probability of ``"term > 0"``, ``"term < value"`` or ``"term_a > term_b"``.

    Returns a float for a fit without ``by`` groups, else a DataFrame with one row per group.
    """
    import re

    from ..errors import PcstatsError

    match = re.match(r"^\s*(.+?)\s*(>=|<=|>|<)\s*(.+?)\s*$", hypothesis or "")
    if not match:
        raise PcstatsError(f"posterior_prob(): {hypothesis!r} must compare a term with a number or another term, "
                           "e.g. 'year_c:regionP > 0'.")
    left, op, right = (re.sub(r"\s*:\s*", ":", side) for side in match.groups())
    out = []
    for key, idata in (res.native or {}).items():
        names = list(idata.posterior["beta"].coords["fixed"].values)

        def draws(side: str) -> np.ndarray:
            if side in names:
                return idata.posterior["beta"].values[..., names.index(side)].ravel()
            try:
                return np.full(1, float(side))
            except ValueError:
                from ..errors import did_you_mean

                raise PcstatsError(f"posterior_prob(): {side!r} is not a fixed effect.{did_you_mean(side, names)} "
                                   f"Terms: {', '.join(names)}.") from None

        a, b = draws(left), draws(right)  # an unknown name is an error naming it
        if left not in names and right not in names:
            raise PcstatsError(f"posterior_prob(): {hypothesis!r} names no fixed effect; terms: {', '.join(names)}.")
        prob = float(np.mean({">": a > b, "<": a < b, ">=": a >= b, "<=": a <= b}[op]))
        out.append({**dict(zip(res.by, key)), "hypothesis": hypothesis, "probability": prob})
    if not res.by:
        return out[0]["probability"]
    return pd.DataFrame(out)


def prior_predictive(spec: BayesSpec, table: pd.DataFrame, draws: int = 500):
    """Prior and prior-predictive draws of ``spec`` on each group's rows (dict of InferenceData by group key)."""
    pm = optional_import("pymc", "Bayesian fits (BayesSpec)")

    from . import prepare

    prepared = prepare(spec, table)
    out = {}
    for group, rows in group_slices(prepared).items():
        data = prepared.frame.iloc[rows]
        design = build_design(prepared.model, data, group_label(prepared, group))
        with build_model(spec if prepared.long else data_scaled_priors(spec, design), design, data):
            out[tuple(prepared.groups.loc[group, list(prepared.by)])] = pm.sample_prior_predictive(draws, random_seed=spec.seed)
    return out
