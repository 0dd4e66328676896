"""Nested SEMs compared: χ² difference tests (lavaan's ``lavTestLRT``), measurement invariance and
which constrained parameters differ between groups.

* :func:`sem_lrt` – the χ² difference test between nested fitted SEMs, per ``by`` group: each model
  against the one before it in order of df, as ``lavTestLRT(m1, m2, ...)``; with a robust estimator
  (MLR, MLM) the scaled difference of Satorra and Bentler (2001), lavaan's default there;
* :func:`invariance` – configural, metric, scalar and strict models (``group_equal`` growing by
  loadings, intercepts, residuals) fitted and compared, with ΔCFI and ΔRMSEA beside Δχ²
  (as ``semTools::measurementInvariance`` reports them);
* :func:`partial_invariance` – from a model with a class of parameters equal across groups, each
  parameter freed in turn (``group_partial``) and tested against it: which paths differ.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from .errors import PcstatsError, SpecError
from .results import Results

__all__ = ["INVARIANCE_STEPS", "Comparison", "invariance", "partial_invariance", "sem_lrt"]

#: lavaan's group.equal for each step of a measurement-invariance sequence
INVARIANCE_STEPS: dict[str, tuple[str, ...]] = {
    "configural": (), "metric": ("loadings",), "scalar": ("loadings", "intercepts"),
    "strict": ("loadings", "intercepts", "residuals"),
}


@dataclass(frozen=True)
class Comparison:
    """Nested SEM fits and their χ² difference tests: ``table`` (one row per model and ``by`` group)
    and the fitted ``fits`` by name."""

    table: pd.DataFrame
    fits: Mapping[str, Results] = field(repr=False)

    def __repr__(self) -> str:
        return f"Comparison of {', '.join(self.fits)}\n{self.table.to_string(index=False)}"

    def _repr_html_(self) -> str:
        return self.table.to_html(index=False)


def sem_lrt(fits: Mapping[str, Results] | Sequence[Results]) -> pd.DataFrame:
    """χ² difference tests between nested SEM fits of the same rows, per ``by`` group (``lavTestLRT``).

    Models are ordered by df (the least constrained first); each row after the first tests that model
    against the one before it: ``chisq_diff`` on ``df_diff`` df. With a robust estimator the
    difference is scaled as Satorra and Bentler (2001) (lavaan's default for MLR and MLM; the column
    ``scaling_diff`` holds the difference's scaling factor). ``delta_cfi`` and ``delta_rmsea`` are the
    change from the previous model.
    """
    if not isinstance(fits, Mapping):
        fits = {res.model: res for res in fits}
    if len(fits) < 2:
        raise PcstatsError("sem_lrt() needs at least two fitted SEMs to compare.")
    first = next(iter(fits.values()))
    for name, res in fits.items():
        if not isinstance(res, Results) or type(res.spec).kind != "sem":
            raise PcstatsError(f"sem_lrt(): {name!r} is not the Results of an SEM (pcstats.SEMSpec).")
        if res.provenance.data_hash != first.provenance.data_hash or res.by != first.by:
            raise PcstatsError(f"sem_lrt(): {name!r} was fitted to other data or with other by= keys than "
                               f"{first.model!r}; a χ² difference test needs the same rows.")
        if res.spec.estimator != first.spec.estimator:
            raise PcstatsError(f"sem_lrt(): {name!r} uses estimator={res.spec.estimator!r}, {first.model!r} "
                               f"{first.spec.estimator!r}; compare models fitted with the same estimator.")
    by = list(first.by)
    parts = []
    for name, res in fits.items():
        g = res.glance().assign(model=name)
        parts.append(g)
    table = pd.concat(parts, ignore_index=True)
    robust = first.spec.estimator in ("MLR", "MLM")
    out = []
    for _, block in (table.groupby(by, sort=False, dropna=False) if by else [((), table)]):
        block = block.sort_values(["df", "chisq"], kind="stable").reset_index(drop=True)
        if (block["nobs"] != block["nobs"].iloc[0]).any():
            raise PcstatsError("sem_lrt(): the models were fitted to different numbers of rows "
                               f"({sorted(set(block['nobs']))}); fit them with the same where= and missing=.")
        rows = []
        for i, row in block.iterrows():
            entry = {**{b: row[b] for b in by}, "model": row["model"], "npar": row["npar"], "df": row["df"],
                     "aic": row["aic"], "bic": row["bic"], "chisq": row["chisq"], "cfi": row["cfi"],
                     "rmsea": row["rmsea"], "chisq_diff": np.nan, "df_diff": np.nan, "p_value": np.nan,
                     "delta_cfi": np.nan, "delta_rmsea": np.nan}
            if robust:
                entry.update(chisq_scaled=row.get("chisq_scaled", np.nan), scaling_diff=np.nan)
            if i > 0:
                prev = block.iloc[i - 1]
                df_diff = int(row["df"] - prev["df"])
                diff = row["chisq"] - prev["chisq"]
                p_value = float(stats.chi2.sf(diff, df_diff)) if df_diff > 0 else np.nan
                if robust:
                    from .stats.sem_robust import sb2001_difference

                    test = sb2001_difference(row["chisq"], row["df"], row["scaling_factor"],
                                             prev["chisq"], prev["df"], prev["scaling_factor"])
                    diff, p_value, entry["scaling_diff"] = test.chisq, test.pvalue, test.scaling_factor
                entry.update(chisq_diff=diff, df_diff=df_diff, p_value=p_value,
                             delta_cfi=row["cfi"] - prev["cfi"], delta_rmsea=row["rmsea"] - prev["rmsea"])
            rows.append(entry)
        out += rows
    return pd.DataFrame(out)


def _fit_all(specs: Mapping[str, object], data: pd.DataFrame) -> dict[str, Results]:
    from .engines import fit

    return {name: fit(spec, data) for name, spec in specs.items()}


def invariance(spec, data: pd.DataFrame, steps: Sequence[str] = tuple(INVARIANCE_STEPS)) -> Comparison:
    """Measurement invariance across ``spec.group``: the configural, metric, scalar and strict models
    (``steps``, a subset in this order) fitted to ``data`` and compared with :func:`sem_lrt`.

    Examples
    --------
    >>> import pandas as pd, pcstats as pc
    >>> hs = pd.read_csv("tests/reference/lavaan_extended/hs_data.csv")
    >>> model = "visual =~ x1 + x2 + x3\\ntextual =~ x4 + x5 + x6\\nspeed =~ x7 + x8 + x9"
    >>> mi = pc.invariance(pc.SEMSpec(model, group="school"), hs)
    >>> mi.table[["model", "df", "chisq_diff", "df_diff"]].round(3)
            model  df  chisq_diff  df_diff
    0  configural  48         NaN      NaN
    1      metric  54       8.192      6.0
    2      scalar  60      40.059      6.0
    3      strict  69      17.409      9.0
    """
    if type(spec).kind != "sem" or spec.group is None:
        raise SpecError("invariance() needs an SEMSpec with group= (the column whose groups are compared), e.g. "
                        "pc.SEMSpec(model, group='school').")
    unknown = [s for s in steps if s not in INVARIANCE_STEPS]
    if unknown:
        raise SpecError(f"invariance(): unknown step {unknown[0]!r}; steps are {', '.join(INVARIANCE_STEPS)}.")
    if len(steps) < 2:
        raise SpecError("invariance() compares at least two steps, e.g. ('configural', 'metric').")
    specs = {s: spec.replace(group_equal=INVARIANCE_STEPS[s], group_partial=(), name=s) for s in steps}
    fits = _fit_all(specs, data)
    return Comparison(sem_lrt(fits), fits)


def partial_invariance(spec, data: pd.DataFrame) -> Comparison:
    """Which parameters differ between groups: from ``spec`` (with ``group_equal``), each constrained
    parameter is freed alone (``group_partial``) and tested against the constrained model.

    ``table``: first the free model (no ``group_equal``) and the constrained one tested against it;
    then one row per freed parameter (``term``) and ``by`` group: the constrained model tested against
    the one with that parameter free, ``chisq_diff`` on ``df_diff`` (= groups − 1) df, its p-value and
    ``p_holm``, adjusted over the parameters (Holm).
    """
    if type(spec).kind != "sem" or spec.group is None or not spec.group_equal:
        raise SpecError("partial_invariance() needs an SEMSpec with group= and group_equal=, e.g. "
                        "pc.SEMSpec(model, group='kind', group_equal=('regressions',)).")
    from .engines import fit

    constrained = fit(spec, data)
    free = fit(spec.replace(group_equal=(), group_partial=(), name="free"), data)
    fits = {"free": free, "equal": constrained}
    by = list(spec.by)
    overall = sem_lrt(fits).assign(term=lambda t: np.where(t["model"] == "equal", "all " + "/".join(spec.group_equal),
                                                           "none"))
    rows = []
    for term in _constrained_terms(constrained):
        name = f"{term} free"
        fits[name] = fit(spec.replace(group_partial=tuple(spec.group_partial) + (term,), name=name), data)
        test = sem_lrt({name: fits[name], "equal": constrained})
        released = test[test["model"] == name].drop(columns=["chisq_diff", "df_diff", "p_value", "delta_cfi",
                                                             "delta_rmsea"])
        difference = test.loc[test["model"] == "equal", by + ["chisq_diff", "df_diff", "p_value", "delta_cfi",
                                                              "delta_rmsea"]]
        rows.append(released.merge(difference, on=by) if by else pd.concat(
            [released.reset_index(drop=True), difference.reset_index(drop=True)], axis=1))
        rows[-1]["term"] = term
    columns = by + ["term", "model", "df", "chisq", "chisq_diff", "df_diff", "p_value", "delta_cfi", "delta_rmsea"]
    table = pd.concat([overall] + rows, ignore_index=True)[columns]
    released = table["model"].str.endswith(" free").to_numpy()
    table["p_holm"] = np.nan
    if released.any():
        part = table[released]
        table.loc[released, "p_holm"] = (part.groupby(by, dropna=False)["p_value"].transform(_holm) if by
                                         else _holm(part["p_value"]))
    return Comparison(table, fits)


def _constrained_terms(res: Results) -> list[str]:
    """The parameters a group_equal fit holds equal across groups, as 'lhs op rhs' (lavaan's group.partial)."""
    tidy = res.tidy()
    rows = tidy[tidy["label"].fillna("").astype(str).str.startswith(".p") & tidy["op"].isin(["=~", "~", "~~", "~1"])]
    terms = []
    for lhs, op, rhs in rows[["lhs", "op", "rhs"]].drop_duplicates().itertuples(index=False):
        terms.append(f"{lhs} ~ 1" if op == "~1" else f"{lhs} {op} {rhs}")
    return terms


def _holm(p: pd.Series) -> pd.Series:
    values = p.to_numpy(dtype=float)
    order = np.argsort(values)
    m = len(values)
    adjusted = np.maximum.accumulate((m - np.arange(m)) * values[order])
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    return pd.Series(out, index=p.index)
