"""SEM engine "semopy": semopy finds the ML estimates; pcstats computes everything else.

Per group of rows:

1. the parameter table is made from the model syntax (:func:`pcstats.specs.lavaan_syntax.parameter_table`,
   lavaan's ``sem()`` defaults, ``fixed.x = TRUE``);
2. its user statements are rendered as semopy syntax and fitted (objective ``MLW``);
3. semopy's estimates are joined back onto the table; fixed parameters take their fixed values,
   and the exogenous observed variances and covariances their sample values (fixed.x);
4. from the table alone (:mod:`pcstats.stats.sem_model`): SEs from the expected information,
   standardised solutions, R², indirect and total effects, ``:=`` parameters (delta method);
5. fit indices with lavaan's definitions (:mod:`pcstats.stats.sem_fit`), never semopy's: semopy's df,
   p, CFI and RMSEA are wrong for observed-variable path models (DEPENDENCY_NOTES).
"""

from __future__ import annotations

import contextlib
import warnings
from importlib import metadata

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import EngineError, PcstatsError
from ..specs.lavaan_syntax import parameter_table
from ..specs.sem import SEMSpec
from ..stats import sem_model
from .common import assemble, group_label, group_slices, progress
from .prepare import Prepared
from .sem_native import require_numeric

__all__ = ["fit", "fit_table"]

_SEM_OPS = ("=~", "~", "~~")


def fit(spec: SEMSpec, prepared: Prepared):
    """Fit ``spec`` in every group of ``prepared``."""
    options = {"std_lv": spec.std_lv, "meanstructure": spec.meanstructure, "missing": spec.missing != "listwise",
               "estimator": spec.estimator != "ML", "group_equal": spec.group_equal, "group_partial": spec.group_partial}
    used = [k for k, v in options.items() if v]
    if used:
        raise EngineError(f"engine='semopy' fits one-group ML models without means or constraints; "
                          f"{used[0]}={getattr(spec, used[0])!r} needs engine='pcstats' (the default).")
    if spec.group is not None:
        return _fit_multigroup(spec, prepared)
    frame = prepared.frame
    tidy_parts, glance_rows, messages, native, skipped = [], [], [], {}, {}
    slices = group_slices(prepared)
    for group, rows in progress(slices.items(), len(slices), "SEM fits"):
        where = group_label(prepared, group)
        out = fit_table(spec, frame.iloc[rows], where)
        if isinstance(out, str):
            skipped[group] = out
            continue
        out["tidy"]["_group"] = group
        tidy_parts.append(out["tidy"])
        glance_rows.append({"_group": group, **out["glance"]})
        messages += out["messages"]
        native[tuple(prepared.groups.loc[group, list(prepared.by)])] = out["native"]
    if not tidy_parts:
        first = next(iter(skipped))
        raise EngineError(f"No group could be fitted; {group_label(prepared, first)}: {skipped[first]}.")
    return assemble(spec, prepared, engine="semopy", engine_version=metadata.version("semopy"),
                    coefficients=pd.concat(tidy_parts, ignore_index=True), statistics=pd.DataFrame(glance_rows),
                    warnings=messages, native=native, seed=spec.seed, packages=("semopy",), skipped=skipped)


def fit_table(spec: SEMSpec, data: pd.DataFrame, where: str) -> dict | str:
    """Fit the model to the rows ``data`` (columns named as in the model); a reason string if it cannot."""
    table = parameter_table(spec.model, observed=[c for c in data.columns])
    observed = _observed(table)
    require_numeric(data, observed, where)
    X = data[observed].to_numpy(dtype=float)
    values = pd.DataFrame(X, columns=observed)  # float64 for semopy (nullable Int64 columns it cannot read)
    n = len(X)
    _check_data(X, observed, where)
    S = np.atleast_2d(np.cov(X, rowvar=False, ddof=0))
    _refuse_unsupported(table, where)
    exogenous = _exogenous(table)
    npar = int(sem_model.parameter_index(table).max()) + 1
    df = len(observed) * (len(observed) + 1) // 2 - len(exogenous) * (len(exogenous) + 1) // 2 - npar
    if df < 0:
        raise EngineError(
            f"{where}: the model is not identified: {npar} free parameters for "
            f"{npar + df} sample moments (df = {df}). Fix parameters (e.g. '0*x') or drop paths."
        )
    messages: list[str] = []
    table, converged = _fit_semopy(table, values, where, messages)
    table = _fill_fixed(table, S, observed)
    index = sem_model.parameter_index(table)
    theta = sem_model.theta_hat(table, index)
    if spec.se == "bootstrap":
        cov, draws = _bootstrap(spec, table, values, index, where, messages)
    else:
        try:
            cov, draws = sem_model.expected_information_cov(table, observed, n), None
        except np.linalg.LinAlgError:
            raise EngineError(f"{where}: the information matrix at semopy's estimates is singular, so the model is not "
                              "identified (e.g. a latent variable's variance fixed at 0, or a path and its reverse); "
                              "fix or drop the redundant parameters.") from None
    if not np.all(np.isfinite(cov)) or np.any(np.diag(cov) <= 0) or np.linalg.cond(cov) > 1e12:
        messages.append(f"{where}: the information matrix is (nearly) singular: the model may not be identified, and "
                        "its standard errors and fit cannot be trusted. Check for redundant paths or covariances.")
        converged = False
    se = np.where(index >= 0, np.sqrt(np.abs(np.diag(cov)))[np.maximum(index, 0)], np.nan)
    table = table.assign(se=se)
    tidy = _tidy(spec, table, observed, exogenous, theta, index, cov)
    if draws is not None:  # percentile intervals of the free parameters
        tidy = _percentile_intervals(spec, tidy, table, index, draws)
    try:
        glance = _glance(table, S, observed, exogenous, n, npar)
    except (ValueError, np.linalg.LinAlgError) as exc:
        raise EngineError(f"{where}: the implied covariance at semopy's estimates is not positive definite ({exc}); "
                          "the model is probably not identified.") from None
    glance.update({"converged": converged, "estimator": spec.estimator, "se": spec.se,
                   "bootstrap": spec.bootstrap if draws is not None else 0})
    return {"tidy": tidy, "glance": glance, "messages": messages, "native": table}


def _observed(table: pd.DataFrame) -> list[str]:
    latent = set(table.loc[table["op"] == "=~", "lhs"])
    names = [v for v in pd.unique(table.loc[table["op"].isin(_SEM_OPS), ["lhs", "rhs"]].to_numpy().ravel()) if v not in latent]
    return names


def _exogenous(table: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(table.loc[(table["exo"] == 1) & (table["op"] == "~~"), "lhs"]))


def _check_data(X: np.ndarray, observed: list[str], where: str) -> None:
    size = np.nanmax(np.abs(X), axis=0, initial=0.0)
    scale = [(v, m) for v, m in zip(observed, size) if m > 1e100 or 0 < m < 1e-100]
    if scale:
        raise EngineError(f"{where}: variable {scale[0][0]!r} reaches {scale[0][1]:.3g}, too far from 1 for its covariance "
                          "to be computed in floating point; rescale it (e.g. change its units).")
    sd = X.std(axis=0)
    flat = [v for v, s in zip(observed, sd) if not s > 0]
    if flat:
        raise EngineError(f"{where}: variable {flat[0]!r} has zero variance; drop it from the model or from the rows.")
    eig = np.linalg.eigvalsh(np.atleast_2d(np.corrcoef(X, rowvar=False)))
    if eig.min() <= 1e-10:
        raise EngineError(
            f"{where}: the sample covariance of {', '.join(observed)} is not positive definite (smallest eigenvalue of "
            f"the correlation matrix {eig.min():.2g}); a variable is a linear combination of others, or there are "
            f"fewer rows ({len(X)}) than variables."
        )


def render(table: pd.DataFrame) -> str:
    """The parameter table's paths and (co)variances as semopy syntax (the fixed.x rows left out).

    Every row is written, the defaults lavaan adds included (residual covariances of endogenous
    variables, a single indicator's zero residual variance), so that semopy fits the table's model
    and not its own defaults; labels as ``a*x``, fixed values at full precision as ``0.5*x``.
    """
    lines = []
    for row in table[table["op"].isin(_SEM_OPS) & (table["exo"] != 1)].itertuples(index=False):
        rhs = row.rhs
        if row.free == 0 and pd.notna(row.ustart):
            rhs = f"{float(row.ustart)!r}*{rhs}"
        elif isinstance(row.label, str) and row.label:
            rhs = f"{row.label}*{rhs}"
        lines.append(f"{row.lhs} {row.op} {rhs}")
    return "\n".join(lines)


def _refuse_unsupported(table: pd.DataFrame, where: str) -> None:
    """Statements the parser reads but this engine does not fit, named, before anything is fitted."""
    user = table[table["user"] == 1]
    ops = user.loc[user["op"].isin(["==", "<", ">", "~1"]), "op"].unique().tolist()
    if ops:
        what = "intercepts ('~ 1')" if ops == ["~1"] else f"{ops} statements"
        raise EngineError(f"{where}: the semopy engine does not fit {what} yet; remove them, or use labels for equality.")
    ustart = pd.to_numeric(table["ustart"], errors="coerce")
    if not np.isfinite(ustart[ustart.notna()]).all():
        raise EngineError(f"{where}: a fixed value is not finite; write fixed values as numbers such as '0*x'.")
    latent = set(table.loc[table["op"] == "=~", "lhs"])
    for name in latent:
        first = table[(table["op"] == "=~") & (table["lhs"] == name)].iloc[0]
        if first["free"] > 0:
            raise EngineError(
                f"{where}: '{name} =~ NA*{first['rhs']}' frees the first loading; semopy always fixes it to 1. "
                f"Keep the default scaling (drop 'NA*' and the fixed variance of {name!r})."
            )
    mixed = table[(table["op"] == "~~") & (table["lhs"].isin(latent) != table["rhs"].isin(latent))]
    if len(mixed):
        row = mixed.iloc[0]
        raise EngineError(f"{where}: '{row.lhs} ~~ {row.rhs}' is a covariance between a latent and an observed variable, "
                          "which neither lavaan nor semopy can represent; model it with a regression or a latent.")
    paths = table[table["op"].isin(["=~", "~"])]
    in_paths = set(paths["lhs"]) | set(paths["rhs"])
    covariances = table[(table["op"] == "~~") & (table["user"] == 1)]
    alone = [v for v in pd.unique(covariances[["lhs", "rhs"]].to_numpy().ravel()) if v not in in_paths]
    if alone:
        row = covariances[(covariances["lhs"] == alone[0]) | (covariances["rhs"] == alone[0])].iloc[0]
        raise EngineError(
            f"{where}: {alone[0]!r} appears only in (co)variances ('{row.lhs} ~~ {row.rhs}'), in no regression or "
            "loading; the semopy engine cannot place such a variable. Add it to a regression (e.g. "
            f"'y ~ {alone[0]}') or a latent variable, or drop the statement.")


def _fit_semopy(table: pd.DataFrame, data: pd.DataFrame, where: str, messages: list[str]) -> tuple[pd.DataFrame, bool]:
    """semopy's estimates joined onto the table, and whether semopy converged (a warning if not)."""
    import semopy

    with warnings.catch_warnings(), _semopy_log() as log, _semopy_failure(where):
        warnings.simplefilter("ignore")
        model = semopy.Model(render(table))
        # SLSQP at semopy's default tolerance stops 8e-4 (relative) from lavaan's estimates; at 1e-12, 5e-7
        result = model.fit(data, obj="MLW", solver="SLSQP", options={"ftol": 1e-12, "maxiter": 1000})
        est = _estimates(model, table, where)
    converged = bool(getattr(result, "success", True))
    if not converged:
        messages.append(f"{where}: semopy did not converge ({getattr(result, 'message', '')}); the estimates are its last "
                        "iterate. Check the model's identification and the variables' scales.")
    messages += [f"{where}: semopy: {m}" for m in dict.fromkeys(log) if "Fisher" not in m]  # its FIM is not used
    return table.assign(est=est), converged


@contextlib.contextmanager
def _semopy_failure(where: str):
    """semopy's own exceptions on a model it cannot fit (a singular information matrix, a variable it did not
    place, an empty iteration) as an EngineError naming the group."""
    try:
        yield
    except PcstatsError:
        raise
    except (ArithmeticError, LookupError, ValueError, StopIteration, np.linalg.LinAlgError) as exc:
        raise EngineError(
            f"{where}: semopy could not fit the model ({type(exc).__name__}: {exc or 'no message'}). The model is "
            "probably not identified or the data do not support it: check fixed values, paths in both directions "
            "and variables with (nearly) no variance.") from None


@contextlib.contextmanager
def _semopy_log():
    """semopy logs through the root logger; collect its messages instead of printing them."""
    import logging

    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    root = logging.getLogger()
    handler, handlers = Collect(), root.handlers[:]
    root.handlers = [handler]
    try:
        yield messages
    finally:
        root.handlers = handlers


def _estimates(model, table: pd.DataFrame, where: str) -> list[float]:
    found = {}
    for lval, op, rval, value in model.inspect()[["lval", "op", "rval", "Estimate"]].itertuples(index=False):
        found[(lval, op, rval)] = float(value)
        if op == "~~":
            found[(rval, op, lval)] = float(value)
    est = []
    for lhs, op, rhs, free, ustart in table[["lhs", "op", "rhs", "free", "ustart"]].itertuples(index=False):
        key = (rhs, "~", lhs) if op == "=~" else (lhs, op, rhs)
        if free > 0:
            if key not in found:
                raise EngineError(f"{where}: semopy reported no estimate for {lhs} {op} {rhs}.")
            est.append(found[key])
        else:
            est.append(ustart if pd.notna(ustart) else np.nan)
    return est


def _bootstrap(spec: SEMSpec, table: pd.DataFrame, data: pd.DataFrame, index: np.ndarray, where: str,
               messages: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Covariance of the free parameters over ``spec.bootstrap`` resamples of the rows (seeded)."""
    import semopy
    from tqdm.auto import tqdm

    rng = np.random.default_rng(spec.seed)
    desc = render(table)
    draws, failed = [], 0
    for _ in tqdm(range(spec.bootstrap), desc=f"bootstrap ({where})", disable=None, leave=False):
        sample = data.iloc[rng.integers(0, len(data), len(data))].reset_index(drop=True)
        try:
            with warnings.catch_warnings(), _semopy_log(), _semopy_failure(where):
                warnings.simplefilter("ignore")
                model = semopy.Model(desc)
                result = model.fit(sample, obj="MLW", solver="SLSQP", options={"ftol": 1e-12, "maxiter": 1000})
                if getattr(result, "success", True):
                    draws.append(sem_model.theta_hat(table.assign(est=_estimates(model, table, where)), index))
                    continue
        except EngineError:  # a resample semopy cannot fit counts as one that did not converge
            pass
        failed += 1
    if len(draws) < 2:
        raise EngineError(f"{where}: {failed} of {spec.bootstrap} bootstrap fits did not converge, so there are no "
                          "bootstrap standard errors; check the model's identification and fixed values, or use "
                          "se='standard'.")
    if failed:
        messages.append(f"{where}: {failed} of {spec.bootstrap} bootstrap fits did not converge and were left out.")
    draws = np.array(draws)
    return np.atleast_2d(np.cov(draws, rowvar=False)), draws


def _percentile_intervals(spec: SEMSpec, tidy: pd.DataFrame, table: pd.DataFrame, index: np.ndarray,
                          draws: np.ndarray) -> pd.DataFrame:
    tail = (1 - spec.conf_level) / 2
    low, high = np.quantile(draws, [tail, 1 - tail], axis=0)
    rows = table[table["op"].isin(_SEM_OPS)]
    idx = index[table["op"].isin(_SEM_OPS).to_numpy()]
    key = {f"{a} {o} {b}": i for (a, o, b), i in zip(rows[["lhs", "op", "rhs"]].itertuples(index=False), idx)}
    out = tidy.copy()
    for i, term in enumerate(out["term"]):
        j = key.get(term, -1)
        if j >= 0:
            out.loc[i, ["conf_low", "conf_high"]] = low[j], high[j]
    return out


def _fill_fixed(table: pd.DataFrame, S: np.ndarray, observed: list[str]) -> pd.DataFrame:
    """Exogenous observed (co)variances take their sample values (fixed.x = TRUE)."""
    index = {v: i for i, v in enumerate(observed)}
    est = table["est"].to_numpy(dtype=float).copy()
    for i, (lhs, op, rhs, exo) in enumerate(table[["lhs", "op", "rhs", "exo"]].itertuples(index=False)):
        if op == "~~" and exo == 1:
            est[i] = S[index[lhs], index[rhs]]
    return table.assign(est=est)


def _component(op: str, lhs: str, rhs: str) -> str:
    return {"=~": "loading", "~": "regression", "~1": "intercept", ":=": "defined"}.get(
        op, "variance" if op == "~~" and lhs == rhs else "covariance")


def _tidy(spec, table, observed, exogenous, theta, index, cov) -> pd.DataFrame:
    z = stats.norm.ppf(0.5 + spec.conf_level / 2)
    rows = table[table["op"].isin(_SEM_OPS)].copy()
    std = {k: sem_model.standardized(table, observed, exogenous, k) for k in ("std.lv", "std.all", "std.nox")}
    sem_rows = table["op"].isin(_SEM_OPS).to_numpy()
    out = pd.DataFrame({
        "component": [_component(o, a, b) for a, o, b in rows[["lhs", "op", "rhs"]].itertuples(index=False)],
        "term": [f"{a} {o} {b}" for a, o, b in rows[["lhs", "op", "rhs"]].itertuples(index=False)],
        "lhs": rows["lhs"], "op": rows["op"], "rhs": rows["rhs"], "label": rows["label"],
        "estimate": rows["est"], "std_error": rows["se"],
        "std_lv": std["std.lv"][sem_rows], "std_all": std["std.all"][sem_rows], "std_nox": std["std.nox"][sem_rows],
    })
    extra = [_defined_rows(table, theta, index, cov, observed, exogenous), _effect_rows(table, observed, exogenous, theta, index, cov),
             _r2_rows(table, observed)]
    out = pd.concat([out] + [e for e in extra if len(e)], ignore_index=True)
    out["statistic"] = out["estimate"] / out["std_error"]
    out["p_value"] = 2 * stats.norm.sf(np.abs(out["statistic"]))
    out["conf_low"] = out["estimate"] - z * out["std_error"]
    out["conf_high"] = out["estimate"] + z * out["std_error"]
    return out


def _defined_rows(table, theta, index, cov, observed, exogenous) -> pd.DataFrame:
    defs = table[table["op"] == ":="]
    if defs.empty:
        return pd.DataFrame()
    values = sem_model.values_of(table, index)
    labelled = table["label"].fillna("").to_numpy()

    def evaluate(t: np.ndarray, std: str | None = None) -> np.ndarray:
        v = values(t)
        if std:
            v = sem_model.standardized(table, observed, exogenous, std, v)
        labels = {lab: v[i] for i, lab in enumerate(labelled) if lab and table["op"].iat[i] != ":="}
        out = []
        for name, expr in zip(defs["lhs"], defs["rhs"]):  # in order: a := may use an earlier one
            labels[name] = sem_model.defined(expr, labels)
            out.append(labels[name])
        return np.array(out)

    est = evaluate(theta)
    se = np.sqrt(np.clip(np.diag(sem_model.delta_cov(evaluate, theta, cov)), 0, None))
    return pd.DataFrame({"component": "defined", "term": [f"{a} := {b}" for a, b in zip(defs["lhs"], defs["rhs"])],
                         "lhs": defs["lhs"].to_numpy(), "op": ":=", "rhs": defs["rhs"].to_numpy(), "label": defs["lhs"].to_numpy(),
                         "estimate": est, "std_error": se, "std_lv": evaluate(theta, "std.lv"),
                         "std_all": evaluate(theta, "std.all"), "std_nox": evaluate(theta, "std.nox")})


def _effect_rows(table, observed, exogenous, theta, index, cov) -> pd.DataFrame:
    """Indirect and total effects of path models (no latent variables), where a variable acts through another."""
    if (table["op"] == "=~").any():
        return pd.DataFrame()
    values = sem_model.values_of(table, index)
    base = sem_model.effects(table, observed)
    base = base[base["indirect"] != 0]
    if base.empty:
        return pd.DataFrame()
    names = {v: i for i, v in enumerate(sem_model.ram(table, observed).names)}
    ii = np.array([names[v] for v in base["lhs"]])
    jj = np.array([names[v] for v in base["rhs"]])

    def pick(t: np.ndarray, column: str, std: bool = False) -> np.ndarray:
        A, total = sem_model.total_effects(table, observed, values(t))
        out = (total - A)[ii, jj] if column == "indirect" else total[ii, jj]
        if std:
            sd = np.sqrt(np.diag(sem_model.ram(table, observed, values(t)).total))
            out = out * sd[jj] / sd[ii]
        return out

    parts = []
    for column in ("indirect", "total"):
        est = pick(theta, column)
        se = np.sqrt(np.clip(np.diag(sem_model.delta_cov(lambda t: pick(t, column), theta, cov)), 0, None))
        parts.append(pd.DataFrame({"component": column, "term": [f"{a} <- {b} ({column})" for a, b in zip(base["lhs"], base["rhs"])],
                                   "lhs": base["lhs"].to_numpy(), "op": column, "rhs": base["rhs"].to_numpy(), "label": None,
                                   "estimate": est, "std_error": se, "std_all": pick(theta, column, std=True)}))
    return pd.concat(parts, ignore_index=True)


def _r2_rows(table, observed) -> pd.DataFrame:
    r2 = sem_model.r_squared(table, observed)
    return pd.DataFrame({"component": "r2", "term": [f"{v} r2" for v in r2.index], "lhs": r2.index, "op": "r2",
                         "rhs": r2.index, "label": None, "estimate": r2.to_numpy()})


def _glance(table, S, observed, exogenous, n, npar) -> dict:
    from ..stats import sem_fit

    return sem_fit.glance(S, sem_model.implied(table, observed), n=n, npar=npar,
                          exogenous=[observed.index(v) for v in exogenous])


def _fit_multigroup(spec: SEMSpec, prepared: Prepared):
    """One model per ``by`` group with one parameter set per value of ``spec.group``.

    Without constraints across groups the joint ML fit is the separate fits: estimates per
    group, χ², df and log-likelihood summed. As lavaan, whose multi-group fits carry a saturated
    mean structure, each group adds its ``p`` intercepts to npar (AIC, BIC) and ``p`` zero mean
    residuals to SRMR (the n-weighted mean over groups); RMSEA is lavaan's ``√G``-scaled one.
    """
    import dataclasses

    from ..stats import sem_fit

    from ..specs.lavaan_syntax import parse_model

    labelled = parse_model(spec.model)
    labelled = labelled[labelled["label"].fillna("").astype(str) != ""]
    if len(labelled):
        row = labelled.iloc[0]
        raise EngineError(
            f"group={spec.group!r}: the label {row['label']!r} on '{row['lhs']} {row['op']} {row['rhs']}' would constrain "
            "that parameter to be equal across groups (as in lavaan); equality constraints across groups are not "
            "fitted yet. Remove the labels to fit the groups without constraints."
        )
    by, frame, groups = list(spec.by), prepared.frame, prepared.groups
    outer = groups.groupby(by, sort=True, dropna=False) if by else [((), groups)]
    slices = group_slices(prepared)
    tidy_parts, glance_rows, messages, native, rows = [], [], [], {}, []
    for code, (key, members) in enumerate(outer):
        key = key if isinstance(key, tuple) else (key,)
        fits, skipped = [], []
        for g in members.index:
            if g not in slices:
                skipped.append(f"{spec.group}={members.at[g, spec.group]!r}: {members.at[g, 'dropped_why']}")
                continue
            where = group_label(prepared, g)
            out = fit_table(spec, frame.iloc[slices[g]], where)
            out["tidy"].insert(0, "group", members.at[g, spec.group])
            fits.append(out)
        why = "; ".join(skipped)
        rows.append({**dict(zip(by, key)), "nobs": int(members["nobs"].sum()), "n_dropped": int(members["n_dropped"].sum()),
                     "dropped_why": why, "fit": bool(fits) and not skipped})
        if not fits or skipped:
            continue
        tidy = pd.concat([f["tidy"] for f in fits], ignore_index=True)
        tidy["_group"] = code
        tidy_parts.append(tidy)
        glance_rows.append({"_group": code, **_combine(fits, sem_fit)})
        messages += [m for f in fits for m in f["messages"]]
        native[key] = [f["native"] for f in fits]
    if not tidy_parts:
        raise EngineError(f"No group could be fitted: {rows[0]['dropped_why'] or 'no rows'}.")
    outer_groups = pd.DataFrame(rows)[by + ["nobs", "n_dropped", "dropped_why", "fit"]]
    outer_prepared = dataclasses.replace(prepared, groups=outer_groups, by=tuple(by))
    return assemble(spec, outer_prepared, engine="semopy", engine_version=metadata.version("semopy"),
                    coefficients=pd.concat(tidy_parts, ignore_index=True), statistics=pd.DataFrame(glance_rows),
                    warnings=messages, native=native, seed=spec.seed, packages=("semopy",))


def _combine(fits: list[dict], sem_fit) -> dict:
    g = [f["glance"] for f in fits]
    n = sum(x["nobs"] for x in g)
    p = len(_observed(fits[0]["native"]))
    chisq, df = sum(x["chisq"] for x in g), sum(x["df"] for x in g)
    base_chisq, base_df = sum(x["baseline_chisq"] for x in g), sum(x["baseline_df"] for x in g)
    table = fits[0]["native"]
    intercepts = len([v for v in sem_model.endogenous(table) if v in _observed(table)])
    npar = sum(x["npar"] for x in g) + intercepts * len(g)  # + free intercepts (fixed.x: not the x means), as lavaan
    logl = sum(x["log_lik"] for x in g)
    scale = np.sqrt(len(g))
    low, high = sem_fit.rmsea_ci(chisq, df, n)
    moments = p * (p + 1) / 2
    return {
        "nobs": n, "n_groups": len(g), "npar": npar, "chisq": chisq, "df": df, "p_value": sem_fit.chisq_pvalue(chisq, df),
        "cfi": sem_fit.cfi(chisq, df, base_chisq, base_df), "tli": sem_fit.tli(chisq, df, base_chisq, base_df),
        "rmsea": sem_fit.rmsea(chisq, df, n) * scale, "rmsea_ci_low": low * scale, "rmsea_ci_high": high * scale,
        "rmsea_pvalue": sem_fit.rmsea_pvalue(chisq, df, n, n_groups=len(g)),
        "srmr": sum(x["srmr"] * np.sqrt(moments / (moments + p)) * x["nobs"] for x in g) / n,
        "aic": -2 * logl + 2 * npar, "bic": -2 * logl + np.log(n) * npar, "log_lik": logl,
        "baseline_chisq": base_chisq, "baseline_df": base_df, "converged": all(x["converged"] for x in g),
        "estimator": g[0]["estimator"], "se": g[0]["se"], "bootstrap": g[0]["bootstrap"],
    }
