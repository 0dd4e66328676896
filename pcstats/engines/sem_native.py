"""SEM engine "pcstats": maximum likelihood on lavaan's parameter table (:mod:`pcstats.stats.sem_ml`).

One fit per ``by`` group of rows, with one block of parameters per value of ``spec.group``. What it
fits as lavaan's ``sem()`` does: mean structures (``meanstructure=True``, with ``group=`` or FIML),
labels shared within and across groups, ``group_equal``/``group_partial``, ``==``, ``<``, ``>``
and ``:=``, free first loadings (``NA*``, ``std_lv=True``), missing values by FIML
(``missing="fiml"``), and the estimators ML, MLR and MLM. Standard errors, fit indices and
standardised solutions follow lavaan 0.6-14 (``tests/reference/lavaan_extended.R``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .._version import __version__
from ..errors import ContractError, EngineError, FormulaError, SpecError
from ..specs.lavaan_syntax import parameter_table
from ..stats import sem_fit, sem_ml, sem_model
from ..stats.sem_missing import independence_moments
from .common import assemble, group_slices, progress
from .prepare import Prepared

__all__ = ["fit", "fit_groups", "SEMFit"]

_MODEL_OPS = ("=~", "~", "~~", "~1")
_LOG_2PI = np.log(2 * np.pi)


@dataclass(frozen=True)
class SEMFit:
    """A fitted SEM: the parameter table with estimates, the problem and the solution behind it."""

    table: pd.DataFrame  # parameter table with est, se, std_lv, std_all, std_nox
    observed: tuple[str, ...]
    exogenous: tuple[str, ...]
    groups: tuple[object, ...]  # values of spec.group (None for one group)
    problem: sem_ml.Problem
    solution: sem_ml.Solution
    vcov: np.ndarray  # of the free parameters (x)
    draws: np.ndarray | None = None  # bootstrap estimates (draws x free parameters)
    robust: dict | None = None  # MLR/MLM: the scaled test and the scaled and robust fit indices


# ------------------------------------------------------------------------------------------- adapter
def fit(spec, prepared: Prepared):
    """Fit ``spec`` in every ``by`` group of ``prepared`` (with its ``group`` values as blocks)."""
    import dataclasses

    slices = group_slices(prepared)
    frame, groups, by = prepared.frame, prepared.groups, list(spec.by)
    tidy_parts, glance_rows, messages, native, rows = [], [], [], {}, []
    outer = groups.groupby(by, sort=True, dropna=False) if by else [((), groups)]
    outer = list(outer)
    for code, (key, members) in progress(enumerate(outer), len(outer), "SEM fits"):
        key = key if isinstance(key, tuple) else (key,)
        where = ", ".join(f"{b}={v!r}" for b, v in zip(by, key)) if by else "the whole table"
        blocks, why, unfit = [], [], False
        for g in members.index:
            label = f"{spec.group}={members.at[g, spec.group]!r}: " if spec.group else ""
            if members.at[g, "dropped_why"]:
                why.append(f"{label}{members.at[g, 'dropped_why']}")
            if g not in slices:
                unfit = True
                continue
            blocks.append((members.at[g, spec.group] if spec.group else None, frame.iloc[slices[g]]))
        row = {**dict(zip(by, key)), "nobs": int(members["nobs"].sum()), "n_dropped": int(members["n_dropped"].sum()),
               "dropped_why": "; ".join(why), "fit": bool(blocks) and not unfit}
        if row["fit"]:
            try:
                out = fit_groups(spec, blocks, where)
            except EngineError as exc:
                if len(outer) == 1:
                    raise
                row.update(fit=False, n_dropped=row["nobs"] + row["n_dropped"],
                           dropped_why="; ".join(filter(None, [row["dropped_why"], f"not fitted: {exc}"])))
                out = None
            if out is not None:
                tidy, glance, notes = _outputs(spec, out, where)
                tidy["_group"] = code
                tidy_parts.append(tidy)
                glance_rows.append({"_group": code, **glance})
                messages += notes
                native[key] = out
        rows.append(row)
    if not tidy_parts:
        raise EngineError(f"No group could be fitted: {rows[0]['dropped_why'] or 'no rows'}.")
    outer_groups = pd.DataFrame(rows)[by + ["nobs", "n_dropped", "dropped_why", "fit"]]
    outer_prepared = dataclasses.replace(prepared, groups=outer_groups, by=tuple(by))
    return assemble(spec, outer_prepared, engine="pcstats", engine_version=__version__,
                    coefficients=pd.concat(tidy_parts, ignore_index=True), statistics=pd.DataFrame(glance_rows),
                    warnings=messages, native=native, seed=spec.seed, packages=())


# -------------------------------------------------------------------------------------------- fitting
def fit_groups(spec, blocks: list[tuple[object, pd.DataFrame]], where: str) -> SEMFit:
    """ML fit of ``spec.model`` to ``blocks`` (one (group value, rows) pair per group)."""
    fiml = spec.missing == "fiml"
    columns = list(blocks[0][1].columns)
    try:
        table = parameter_table(spec.model, observed=columns, n_groups=len(blocks),
                                meanstructure=bool(spec.meanstructure) or fiml or None,
                                std_lv=spec.std_lv, group_equal=spec.group_equal, group_partial=spec.group_partial)
    except FormulaError as exc:
        raise FormulaError(f"{where}: {exc}") from None
    if spec.meanstructure is False and (len(blocks) > 1 or fiml or (table["op"] == "~1").any()):
        raise SpecError("meanstructure=False cannot be kept with group=, missing='fiml' or '~ 1' statements, which "
                        "need the means; leave meanstructure at None.")
    _refuse(table, where)
    observed = _observed(table)
    exogenous = tuple(dict.fromkeys(table.loc[(table["exo"] == 1) & (table["op"] == "~~"), "lhs"]))
    data = []
    for value, rows in blocks:
        label = where if value is None else f"{where}, {spec.group}={value!r}"
        data.append(_group_data(rows, observed, exogenous, label, fiml))
    meanstructure = bool((table["op"] == "~1").any())
    starts = _starts(table, observed, exogenous, data)
    try:
        problem = sem_ml.problem(table, observed, data, meanstructure=meanstructure, starts=starts)
    except ValueError as exc:
        raise EngineError(f"{where}: {exc}; check the '==' statements and shared labels.") from None
    df = _df(problem, observed, exogenous)
    if df < 0:
        raise EngineError(f"{where}: the model is not identified: {_npar(problem)} free parameters for "
                          f"{_npar(problem) + df} sample moments (df = {df}). Fix parameters (e.g. '0*x') or add "
                          "equality constraints.")
    solution = sem_ml.solve(problem)
    if not np.isfinite(solution.fmin):
        raise EngineError(f"{where}: the model implies no valid covariance matrix at its start values or after them "
                          f"({solution.message}): a path and its reverse with a shared label, a loop of paths, or fixed "
                          "values that contradict the data. Check the model's identification; give start values "
                          "(start(0.5)*x) or free the fixed parameters.")
    vcov, draws = _vcov(spec, problem, solution)
    robust = None
    if spec.estimator != "ML":
        from .sem_estimators import robust as robust_statistics

        chisq, base_chisq, base_df = _chisq_baseline(problem, solution, observed, exogenous)
        sandwich, robust = robust_statistics(spec.estimator, problem, solution, chisq=chisq, df=df,
                                             baseline_chisq=base_chisq, baseline_df=base_df, exogenous=exogenous,
                                             where=where)
        if spec.se != "bootstrap":
            vcov = sandwich
    values = problem.values(solution.x)
    se = np.full(len(table), np.nan)
    se[problem.free] = np.sqrt(np.clip(np.diag(vcov), 0, None))
    table = table.assign(est=values, se=se)
    return SEMFit(table, tuple(observed), exogenous, tuple(v for v, _ in blocks), problem, solution, vcov, draws,
                  robust)


def _observed(table: pd.DataFrame) -> list[str]:
    latent = set(table.loc[table["op"] == "=~", "lhs"])
    rows = table[table["op"].isin(_MODEL_OPS)]
    return [v for v in pd.unique(rows[["lhs", "rhs"]].to_numpy().ravel()) if v and v not in latent]


def _refuse(table: pd.DataFrame, where: str) -> None:
    latent = set(table.loc[table["op"] == "=~", "lhs"])
    mixed = table[(table["op"] == "~~") & (table["lhs"].isin(latent) != table["rhs"].isin(latent))]
    if len(mixed):
        row = mixed.iloc[0]
        raise EngineError(f"{where}: '{row.lhs} ~~ {row.rhs}' is a covariance between a latent and an observed variable, "
                          "which lavaan's model cannot represent; model it with a regression or a latent variable.")
    ustart = pd.to_numeric(table["ustart"], errors="coerce")
    if not np.isfinite(ustart[ustart.notna()]).all():
        raise EngineError(f"{where}: a fixed value is not finite; write fixed values as numbers such as '0*x'.")


def _group_data(rows: pd.DataFrame, observed: list[str], exogenous: tuple[str, ...], where: str,
                fiml: bool) -> sem_ml.GroupData:
    require_numeric(rows, observed, where)
    X = rows[observed].to_numpy(dtype=float)
    if not fiml and np.isnan(X).any():
        raise ContractError(f"{where}: missing values reached the fit; this is a bug in the preparer.")
    n, p = X.shape
    if n <= p:
        raise EngineError(f"{where}: {n} rows for {p} observed variables ({', '.join(observed)}); the sample covariance "
                          "needs more rows than variables. Use fewer variables or pool groups.")
    size = np.nanmax(np.abs(X), axis=0, initial=0.0)
    scale = [(v, m) for v, m in zip(observed, size) if m > 1e100 or 0 < m < 1e-100]
    if scale:
        raise EngineError(f"{where}: variable {scale[0][0]!r} reaches {scale[0][1]:.3g}, too far from 1 for its covariance "
                          "to be computed in floating point; rescale it (e.g. change its units).")
    seen = (~np.isnan(X)).sum(axis=0)
    thin = [v for v, k in zip(observed, seen) if k < 2]
    if thin:
        raise EngineError(f"{where}: variable {thin[0]!r} has fewer than 2 values; drop it from the model.")
    sd = np.nanstd(X, axis=0)
    flat = [v for v, s in zip(observed, sd) if not s > 0]
    if flat:
        raise EngineError(f"{where}: variable {flat[0]!r} has zero variance; drop it from the model or from the rows.")
    data = sem_ml.group_data(X)
    d = np.sqrt(np.diag(data.cov))
    eig = np.linalg.eigvalsh(data.cov / np.outer(d, d))
    if eig.min() <= 1e-10:
        raise EngineError(
            f"{where}: the {'EM-estimated' if fiml and not data.complete else 'sample'} covariance of "
            f"{', '.join(observed)} is not positive definite (smallest eigenvalue of the correlation matrix "
            f"{eig.min():.2g}); a variable is a linear combination of others.")
    return data


def require_numeric(rows: pd.DataFrame, observed: list[str], where: str) -> None:
    """The model's observed variables must be numeric columns (both SEM engines check this first)."""
    text = [v for v in observed if pd.api.types.is_complex_dtype(rows[v])
            or not (pd.api.types.is_numeric_dtype(rows[v]) or pd.api.types.is_bool_dtype(rows[v]))]
    if text:
        raise ContractError(
            f"{where}: the model's variable {text[0]!r} is not numeric (dtype {rows[text[0]].dtype}); SEM reads "
            "numbers. Convert it (e.g. pd.to_numeric), or use it as a by= or group= column instead.")


def _starts(table: pd.DataFrame, observed: list[str], exogenous: tuple[str, ...],
            data: list[sem_ml.GroupData]) -> np.ndarray:
    """lavaan's "simple" starts: loadings 1, paths 0, residual variances half the sample variance, latent
    variances 0.05, observed intercepts the sample means; fixed rows their values, fixed.x rows the
    sample moments; a user's start value wins."""
    position = {v: i for i, v in enumerate(observed)}
    latent = set(table.loc[table["op"] == "=~", "lhs"])
    out = np.zeros(len(table))
    for i, (lhs, op, rhs, free, ustart, exo, group) in enumerate(
            table[["lhs", "op", "rhs", "free", "ustart", "exo", "group"]].itertuples(index=False)):
        if op not in _MODEL_OPS:
            continue
        d = data[group - 1]
        if exo == 1:
            out[i] = d.mean[position[lhs]] if op == "~1" else d.cov[position[lhs], position[rhs]]
        elif pd.notna(ustart):
            out[i] = ustart
        elif op == "=~":
            out[i] = 1.0
        elif op == "~~" and lhs == rhs:
            out[i] = 0.05 if lhs in latent else 0.5 * d.cov[position[lhs], position[lhs]]
        elif op == "~1" and lhs not in latent:
            out[i] = d.mean[position[lhs]]
    return out


def _npar(problem: sem_ml.Problem) -> int:
    return int(problem.K.shape[1]) - len(problem.nonlinear)


def _df(problem: sem_ml.Problem, observed: list[str], exogenous: tuple[str, ...]) -> int:
    p, q = len(observed), len(exogenous)
    per_group = sem_fit.df_model(p, 0, meanstructure=problem.meanstructure, n_exogenous=q)
    return per_group * len(problem.data) - _npar(problem)


def _information(spec, problem: sem_ml.Problem, x: np.ndarray) -> np.ndarray:
    if spec.missing == "fiml":
        return sem_ml.observed_information(problem, x)
    return sem_ml.expected_information(problem, x)


def _vcov(spec, problem: sem_ml.Problem, solution: sem_ml.Solution) -> tuple[np.ndarray, np.ndarray | None]:
    """Covariance of the free parameters, and the bootstrap draws behind it (None unless se="bootstrap")."""
    if spec.se == "bootstrap":
        draws = _bootstrap(spec, problem, solution)
        return np.atleast_2d(np.cov(draws, rowvar=False)), draws
    Z = solution.Z
    try:
        info = Z.T @ _information(spec, problem, solution.x) @ Z
        inner = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        inner = np.full((Z.shape[1], Z.shape[1]), np.nan)
    return Z @ inner @ Z.T / problem.n, None


def _bootstrap(spec, problem: sem_ml.Problem, solution: sem_ml.Solution) -> np.ndarray:
    """Estimates over ``spec.bootstrap`` resamples of the rows within each group (seeded); failures left out."""
    import dataclasses

    from tqdm.auto import tqdm

    rng = np.random.default_rng(spec.seed)
    draws, failed = [], 0
    start = problem.K.T @ (solution.x - problem.x0)
    for _ in tqdm(range(spec.bootstrap), desc="SEM bootstrap", disable=None, leave=False):
        data = tuple(sem_ml.group_data(d.X[rng.integers(0, d.n, d.n)]) for d in problem.data)
        resample = dataclasses.replace(problem, data=data, x0=problem.x0 + problem.K @ start)
        fitted = sem_ml.solve(resample)
        if fitted.converged:
            draws.append(fitted.x)
        else:
            failed += 1
    if len(draws) < 2:
        raise EngineError(f"{failed} of {spec.bootstrap} bootstrap fits did not converge, so there are no bootstrap "
                          "standard errors; check the model's identification, or use se='standard'.")
    return np.array(draws)


# -------------------------------------------------------------------------------------------- outputs
def _outputs(spec, out: SEMFit, where: str) -> tuple[pd.DataFrame, dict, list[str]]:
    table, solution = out.table, out.solution
    notes = []
    if not solution.converged:
        notes.append(f"{where}: the SEM fit did not converge ({solution.message}); the estimates are the last iterate. "
                     "Check the model's identification and the variables' scales.")
    var_rows = table[(table["op"] == "~~") & (table["lhs"] == table["rhs"])]
    negative = var_rows[var_rows["est"] < 0]
    if len(negative):
        r = negative.iloc[0]
        notes.append(f"{where}: the variance of {r['lhs']!r} is estimated negative ({r['est']:.3g}; a Heywood case): "
                     "the model does not fit these data as specified; check it, or constrain the variance ('a > 0').")
    cov = out.vcov
    if not np.all(np.isfinite(cov)) or (cov.size and np.any(np.diag(cov) <= 0)):
        notes.append(f"{where}: the information matrix is singular: the model may not be identified, and its standard "
                     "errors cannot be trusted. Check for redundant paths, covariances or constraints.")
    if out.draws is not None and len(out.draws) < spec.bootstrap:
        notes.append(f"{where}: {spec.bootstrap - len(out.draws)} of {spec.bootstrap} bootstrap fits did not converge "
                     "and were left out.")
    if solution.active:
        notes.append(f"{where}: the constraint(s) {', '.join(solution.active)} hold with equality at the estimate.")
    tidy = _tidy(spec, out)
    glance = _glance(spec, out)
    glance.update(converged=bool(solution.converged) and not any("singular" in n for n in notes),
                  heywood=bool(len(negative)))
    return tidy, glance, notes


def _component(op: str, lhs: str, rhs: str) -> str:
    return {"=~": "loading", "~": "regression", "~1": "intercept", ":=": "defined"}.get(
        op, "variance" if op == "~~" and lhs == rhs else "covariance")


def _standardized(out: SEMFit, values: np.ndarray) -> dict[str, np.ndarray]:
    """std.lv, std.all and std.nox of every row (NaN where there is none), group by group, as lavaan's
    ``standardizedSolution``: paths and loadings by the variables' SDs, variances by the variance,
    covariances by the residual SDs (``cov.std = TRUE``), intercepts by the variable's SD; std.lv scales
    latent variables only, std.nox leaves observed exogenous variables unscaled."""
    table, problem = out.table, out.problem
    ops = table["op"].to_numpy()
    group = table["group"].to_numpy()
    names = problem.layouts[0].names
    index = {v: i for i, v in enumerate(names)}
    lhs = np.array([index.get(v, -1) for v in table["lhs"]])
    rhs = np.array([index.get(v, -1) for v in table["rhs"]])
    latent = np.arange(len(names)) >= problem.layouts[0].n_observed
    exogenous = np.isin(np.array(names, dtype=object), list(out.exogenous))
    result = {k: np.full(len(table), np.nan) for k in ("std.lv", "std.all", "std.nox")}
    for g, layout in enumerate(problem.layouts, start=1):
        _, S, omega, _, _, _ = sem_ml.implied_moments(layout, values)
        sd = np.sqrt(np.clip(np.diag(omega), 0, None))
        resid = np.sqrt(np.clip(np.diag(S), 0, None))
        rows = np.flatnonzero((group == g) & np.isin(ops, _MODEL_OPS))
        op, a, b, est = ops[rows], lhs[rows], rhs[rows], values[rows]
        for kind in result:
            keep = {"std.lv": ~latent, "std.nox": exogenous & ~latent, "std.all": np.zeros(len(names), bool)}[kind]
            scale = np.where(keep, 1.0, sd)
            resid_scale = np.where(keep, 1.0, resid)
            with np.errstate(divide="ignore", invalid="ignore"):
                out_rows = np.select(
                    [op == "~", op == "=~", (op == "~~") & (a == b), op == "~~", op == "~1"],
                    [est * scale[b] / scale[a], est * scale[a] / scale[b], est / scale[a] ** 2,
                     est / (resid_scale[a] * resid_scale[b]), est / scale[a]], np.nan)
            result[kind][rows] = np.where(np.isfinite(out_rows), out_rows, np.nan)
    return result


def _tidy(spec, out: SEMFit) -> pd.DataFrame:
    table, problem = out.table, out.problem
    values = table["est"].to_numpy(dtype=float)
    std = _standardized(out, values)
    model = table["op"].isin(_MODEL_OPS).to_numpy()
    rows = table[model]
    parts = [pd.DataFrame({
        "block": rows["group"].to_numpy(),
        "component": [_component(o, a, b) for a, o, b in rows[["lhs", "op", "rhs"]].itertuples(index=False)],
        "term": [f"{a} {o} {b}".rstrip() for a, o, b in rows[["lhs", "op", "rhs"]].itertuples(index=False)],
        "lhs": rows["lhs"].to_numpy(), "op": rows["op"].to_numpy(), "rhs": rows["rhs"].to_numpy(),
        "label": rows["label"].to_numpy(), "estimate": rows["est"].to_numpy(), "std_error": rows["se"].to_numpy(),
        "std_lv": std["std.lv"][model], "std_all": std["std.all"][model], "std_nox": std["std.nox"][model]})]
    parts.append(_defined(out, std))
    for g in range(1, len(out.groups) + 1):
        parts += [_effects(out, g), _r2(out, g)]
    tidy = pd.concat([p for p in parts if len(p)], ignore_index=True)
    z = stats.norm.ppf(0.5 + spec.conf_level / 2)
    tidy["statistic"] = tidy["estimate"] / tidy["std_error"]
    tidy["p_value"] = 2 * stats.norm.sf(np.abs(tidy["statistic"]))
    tidy["conf_low"] = tidy["estimate"] - z * tidy["std_error"]
    tidy["conf_high"] = tidy["estimate"] + z * tidy["std_error"]
    draws = out.draws
    if draws is not None:
        tail = (1 - spec.conf_level) / 2
        low, high = np.quantile(draws, [tail, 1 - tail], axis=0)
        at = {row: k for k, row in enumerate(problem.free)}
        model_rows = np.flatnonzero(model)
        for i, row in enumerate(model_rows):
            if row in at:
                tidy.loc[i, ["conf_low", "conf_high"]] = low[at[row]], high[at[row]]
    if len(out.groups) > 1:
        tidy.insert(0, "group", [out.groups[b - 1] for b in tidy["block"]])
    return tidy.drop(columns="block")


def _defined(out: SEMFit, std: dict[str, np.ndarray]) -> pd.DataFrame:
    table, problem, x, cov = out.table, out.problem, out.solution.x, out.vcov
    defs = table[table["op"] == ":="]
    if defs.empty:
        return pd.DataFrame()

    def evaluate(values: np.ndarray) -> np.ndarray:
        labels = sem_ml._labels(table, values)
        return np.array([labels[name] for name in defs["lhs"]])

    est = evaluate(problem.values(x))
    se = np.sqrt(np.clip(np.diag(sem_model.delta_cov(lambda t: evaluate(problem.values(t)), x, cov)), 0, None))
    return pd.DataFrame({"block": 1, "component": "defined",
                         "term": [f"{a} := {b}" for a, b in zip(defs["lhs"], defs["rhs"])],
                         "lhs": defs["lhs"].to_numpy(), "op": ":=", "rhs": defs["rhs"].to_numpy(),
                         "label": defs["lhs"].to_numpy(), "estimate": est, "std_error": se,
                         **{k.replace(".", "_"): evaluate(np.nan_to_num(v)) for k, v in std.items()}})


def _group_rows(out: SEMFit, g: int) -> np.ndarray:
    table = out.table
    return np.flatnonzero((table["group"].to_numpy() == g) & table["op"].isin(_MODEL_OPS).to_numpy())


def _effects(out: SEMFit, g: int) -> pd.DataFrame:
    """Indirect and total effects of path models (no latent variables), where a variable acts through another."""
    table, problem, x, cov = out.table, out.problem, out.solution.x, out.vcov
    if (table["op"] == "=~").any():
        return pd.DataFrame()
    rows = _group_rows(out, g)
    sub = table.iloc[rows].reset_index(drop=True)
    base = sem_model.effects(sub, out.observed)
    base = base[base["indirect"] != 0]
    if base.empty:
        return pd.DataFrame()
    names = {v: i for i, v in enumerate(sem_model.ram(sub, out.observed).names)}
    ii = np.array([names[v] for v in base["lhs"]])
    jj = np.array([names[v] for v in base["rhs"]])

    def pick(t: np.ndarray, column: str, std: bool = False) -> np.ndarray:
        values = problem.values(t)[rows]
        A, total = sem_model.total_effects(sub, out.observed, values)
        effect = (total - A)[ii, jj] if column == "indirect" else total[ii, jj]
        if std:
            sd = np.sqrt(np.diag(sem_model.ram(sub, out.observed, values).total))
            effect = effect * sd[jj] / sd[ii]
        return effect

    parts = []
    for column in ("indirect", "total"):
        se = np.sqrt(np.clip(np.diag(sem_model.delta_cov(lambda t: pick(t, column), x, cov)), 0, None))
        parts.append(pd.DataFrame({"block": g, "component": column,
                                   "term": [f"{a} <- {b} ({column})" for a, b in zip(base["lhs"], base["rhs"])],
                                   "lhs": base["lhs"].to_numpy(), "op": column, "rhs": base["rhs"].to_numpy(),
                                   "label": None, "estimate": pick(x, column), "std_error": se,
                                   "std_all": pick(x, column, std=True)}))
    return pd.concat(parts, ignore_index=True)


def _r2(out: SEMFit, g: int) -> pd.DataFrame:
    sub = out.table.iloc[_group_rows(out, g)].reset_index(drop=True)
    r2 = sem_model.r_squared(sub, out.observed)
    return pd.DataFrame({"block": g, "component": "r2", "term": [f"{v} r2" for v in r2.index], "lhs": r2.index,
                         "op": "r2", "rhs": r2.index, "label": None, "estimate": r2.to_numpy()})


def _glance(spec, out: SEMFit) -> dict:
    """Fit indices with lavaan's definitions, with mean structures, several groups and FIML."""
    problem, solution = out.problem, out.solution
    table = out.table
    values = table["est"].to_numpy(dtype=float)
    n_groups, N = len(out.groups), problem.n
    x_pos = [out.observed.index(v) for v in out.exogenous]
    npar = _npar(problem)
    df = _df(problem, list(out.observed), out.exogenous)
    chisq, base_chisq, base_df = _chisq_baseline(problem, solution, out.observed, out.exogenous)
    logl, logl_h1, srmr_sum = 0.0, 0.0, 0.0
    for layout, data in zip(problem.layouts, problem.data):
        _, _, _, _, sigma, mu = sem_ml.implied_moments(layout, values)
        sat = sem_ml.discrepancy(data, data.mean, data.cov, problem.meanstructure)
        seen = data.values_seen
        logl += -0.5 * (seen * _LOG_2PI + data.n * sem_ml.discrepancy(data, mu, sigma, problem.meanstructure))
        logl_h1 += -0.5 * (seen * _LOG_2PI + data.n * sat)
        if x_pos:  # fixed.x: the likelihood of the endogenous variables given the exogenous ones
            Sxx = data.cov[np.ix_(x_pos, x_pos)]
            x_part = -0.5 * data.n * (len(x_pos) * _LOG_2PI + np.linalg.slogdet(Sxx)[1] + len(x_pos))
            logl -= x_part
            logl_h1 -= x_part
        srmr_sum += data.n * _srmr(data.cov, sigma, data.mean, mu, problem.meanstructure)
    scale = np.sqrt(n_groups)
    low, high = sem_fit.rmsea_ci(chisq, df, N)
    return {
        "nobs": N, "n_groups": n_groups, "npar": npar, "chisq": chisq, "df": df,
        "p_value": sem_fit.chisq_pvalue(chisq, df), "cfi": sem_fit.cfi(chisq, df, base_chisq, base_df),
        "tli": sem_fit.tli(chisq, df, base_chisq, base_df), "rmsea": sem_fit.rmsea(chisq, df, N) * scale,
        "rmsea_ci_low": low * scale, "rmsea_ci_high": high * scale,
        "rmsea_pvalue": sem_fit.rmsea_pvalue(chisq, df, N, n_groups=n_groups), "srmr": srmr_sum / N,
        "aic": sem_fit.aic(logl, npar), "bic": sem_fit.bic(logl, npar, N), "log_lik": logl,
        "unrestricted_log_lik": logl_h1, "baseline_chisq": base_chisq, "baseline_df": base_df,
        "estimator": spec.estimator, "se": spec.se, "missing": spec.missing,
        "bootstrap": spec.bootstrap if spec.se == "bootstrap" else 0, **(out.robust or {}),
    }


def _chisq_baseline(problem: sem_ml.Problem, solution: sem_ml.Solution, observed, exogenous) -> tuple[float, float, int]:
    """The model's ML χ² and the baseline (independence) model's χ² and df, lavaan's, FIML included."""
    x_pos = [list(observed).index(v) for v in exogenous]
    chisq = max(problem.n * (solution.fmin - sem_ml.saturated_constant(problem)), 0.0)
    base_chisq = 0.0
    for data in problem.data:
        mean0, cov0 = independence_moments(data.X, x_pos)
        sat = sem_ml.discrepancy(data, data.mean, data.cov, problem.meanstructure)
        base_chisq += data.n * (sem_ml.discrepancy(data, mean0, cov0, problem.meanstructure) - sat)
    p, q = len(observed), len(x_pos)
    return chisq, base_chisq, (p * (p + 1) // 2 - q * (q + 1) // 2 - (p - q)) * len(problem.data)


def _srmr(S: np.ndarray, sigma: np.ndarray, mean: np.ndarray, mu: np.ndarray, meanstructure: bool) -> float:
    """lavaan's SRMR (Bentler): residual covariances (and means) scaled by the observed SDs."""
    sd = np.sqrt(np.diag(S))
    residual = (S - sigma) / np.outer(sd, sd)
    squares = list(residual[np.tril_indices_from(residual)] ** 2)
    if meanstructure:
        squares += list(((mean - mu) / sd) ** 2)
    return float(np.sqrt(np.mean(squares)))
