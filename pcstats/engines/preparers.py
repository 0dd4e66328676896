"""The preparation step of each family: from a data frame and a spec to :class:`Prepared` rows.

A long table (columns ``variable`` and ``value``) goes through :func:`pcstats.engines.prepare.prepare`
(names are variables and key columns, pivoted to columns); any other data frame is a model frame
(:func:`pcstats.engines.prepare.prepare_frame`: names are its columns). Either way the formula is
then read once against the prepared columns and carried in ``Prepared.model``.
"""

from __future__ import annotations

import dataclasses
import pandas as pd

from ..data.contract import LongTable, key_columns
from ..errors import FormulaError, SpecError, did_you_mean
from ..specs.r_formula import ModelFormula, model_formula
from .mixed_design import MixedModel
from .mixed_glmm import TRIALS, binomial_response
from .prepare import DERIVED, Prepared, columns_text, is_long, ordered_columns, prepare, prepare_frame

__all__ = ["prepare_trend", "auto_trend", "prepare_mixed", "prepare_sem", "read_formula"]


def read_formula(text: str, frame: pd.DataFrame, response: bool = True) -> ModelFormula:
    """The formula read against the columns of ``frame`` (once per fit)."""
    return model_formula(text, [str(c) for c in frame.columns], ordered_columns(frame), response=response)


def _weights(spec) -> list[str]:
    """Columns besides the formula's: ``weights=`` and the factor of ``dispersion=``."""
    weights = getattr(spec, "weights", None)
    factor = getattr(spec, "dispersion_factor", None)
    return ([weights] if weights else []) + ([factor] if factor else [])


def _check_dispersion(spec, columns: list[str], long: bool) -> None:
    """``dispersion="~ f"`` names a column: on a long table a key column, a variable or a derived one (``period``)."""
    factor = getattr(spec, "dispersion_factor", None)
    choices = columns + ([c for c in DERIVED if c not in columns] if long else [])
    if factor is None or factor in choices:
        return
    kind = "key column, variable or derived column of the table" if long else "column of this data frame"
    raise FormulaError(f"dispersion={spec.dispersion!r} names {factor!r}, which is not a {kind} "
                       f"({columns_text(factor, choices)}). Add the factor as a column or name another one.")


def prepare_trend(spec, data: pd.DataFrame) -> Prepared:
    """Rows for a trend/OLS spec; the formula is read once, against the data frame's columns or the pivoted table's."""
    if is_long(data):
        return prepare(data, spec.formula, spec.by, spec.where, spec.min_years, extra=_weights(spec))
    model = read_formula(spec.formula, data)
    prepared = prepare_frame(data, [*model.names, *_weights(spec)], spec.by, spec.where, spec.min_years,
                             response=model.response.label)
    return dataclasses.replace(prepared, model=model)


def auto_trend(spec, prepared: Prepared) -> str:
    """``engine="auto"``: Sen for ``method="sen"``, the closed form for plain ``y ~ year`` OLS, else statsmodels."""
    from .trend_closed_form import supports

    if spec.method == "sen":
        return "mannkendall"
    return "closed_form" if supports(spec, prepared) is None else "statsmodels"


def _mixed_names(spec, model: MixedModel) -> list[str]:
    """Columns a mixed model reads: its formula's, ``sigma_by`` and ``weights``."""
    sigma_by = getattr(spec, "sigma_by", None)
    return list(dict.fromkeys([*model.names, *([sigma_by] if sigma_by else []), *_weights(spec)]))


def prepare_mixed(spec, data: pd.DataFrame) -> Prepared:
    """Rows for a mixed (or Bayesian hierarchical) model; grouping factors may be any column of a model frame."""
    parsed = spec.parsed
    if is_long(data):
        table = data.table if isinstance(data, LongTable) else data
        keys = [k for k in key_columns(table) if k != "variable"]
        sigma_by = getattr(spec, "sigma_by", None)
        if sigma_by and sigma_by not in keys:
            raise SpecError(f"sigma_by={sigma_by!r} is not a key column.{did_you_mean(sigma_by, keys)} Key columns: {', '.join(keys)}.")
        for term in parsed.random:
            for factor in term.factors:
                if factor not in keys:
                    raise FormulaError(
                        f"{term.text}: grouping factor {factor!r} is not a key column.{did_you_mean(factor, keys)} "
                        f"Group random effects by key columns: {', '.join(keys)}."
                    )
        columns = keys + table["variable"].unique().tolist()
        _check_dispersion(spec, columns, long=True)
        random = tuple((t, model_formula("~ " + t.formula, columns, ordered_columns(table), response=False))
                       for t in parsed.random)
        extra = [n for t, m in random for n in (*m.names, *t.factors)] + ([sigma_by] if sigma_by else []) + _weights(spec)
        prepared = prepare(data, parsed.fixed, spec.by, spec.where, 1, extra=extra, sort_years=False)
        return dataclasses.replace(prepared, model=MixedModel(fixed=prepared.model, random=random))
    _check_dispersion(spec, [str(c) for c in data.columns], long=False)
    fixed = parsed.fixed
    binomial = binomial_response(fixed, data) if getattr(spec, "family", "gaussian") == "binomial" else None
    if binomial is not None:  # cbind(successes, failures): the proportion, with the trials as weights
        if spec.weights is not None:
            raise SpecError("cbind(successes, failures) gives the numbers of trials; drop weights=.")
        fixed, data = binomial
    model = MixedModel(fixed=read_formula(fixed, data),
                       random=tuple((t, read_formula("~ " + t.formula, data, response=False)) for t in parsed.random))
    names = _mixed_names(spec, model) + ([TRIALS] if binomial is not None else [])
    prepared = prepare_frame(data, names, spec.by, spec.where, 1, response=model.fixed.response.label)
    return dataclasses.replace(prepared, model=model)


def prepare_sem(spec, data: pd.DataFrame) -> Prepared:
    """Rows for an SEM: one row per key (long table) or per data-frame row, one column per observed variable."""
    from ..specs.lavaan_syntax import parameter_table, parse_model

    statements = parse_model(spec.model)
    statements = statements[statements["op"].isin(["=~", "~", "~~", "~1"])]
    latent = set(statements.loc[statements["op"] == "=~", "lhs"])
    used = [v for v in pd.unique(statements[["lhs", "rhs"]].to_numpy().ravel()) if v and v not in latent]
    long = is_long(data)
    present = ((data.table if isinstance(data, LongTable) else data)["variable"].unique().tolist() if long
               else [str(c) for c in data.columns])
    lower: dict[str, list[str]] = {}
    for v in present:
        lower.setdefault(v.lower(), []).append(v)
    to_table = {}
    for name in used:
        if name in present:
            to_table[name] = name
        elif long and len(lower.get(name.lower(), [])) == 1:
            to_table[name] = lower[name.lower()][0]
        elif long:
            raise FormulaError(
                f"model names {name!r}, which is not a variable of the table.{did_you_mean(name, present)} "
                f"Variables present: {', '.join(present)} (matched without regard to case)."
            )
        else:
            raise FormulaError(f"model names {name!r}, which is neither a latent variable (defined with =~) nor a column "
                               f"of this data frame ({columns_text(name, present)}).")
    endogenous = [v for v in statements.loc[statements["op"] == "~", "lhs"] if v in to_table] or used
    by = tuple(spec.by) + ((spec.group,) if spec.group else ())
    fiml = getattr(spec, "missing", "listwise") == "fiml"
    # fixed.x: under FIML, lavaan drops rows missing an exogenous observed variable (their moments are fixed)
    exogenous = (parameter_table(spec.model).query("exo == 1 and op == '~~'")["lhs"].unique().tolist() if fiml else [])
    if not long and spec.group in data.columns and not isinstance(data[spec.group].dtype, pd.CategoricalDtype):
        # lavaan numbers groups in order of appearance (a factor's levels in order): group 1 is the first seen
        data = data.assign(**{spec.group: pd.Categorical(data[spec.group], categories=pd.unique(data[spec.group].dropna()))})
    if not long:
        prepared = prepare_frame(data, used, by, spec.where, 1, response=endogenous[0], argument="model", missing_ok=fiml,
                                 required=exogenous)
        return dataclasses.replace(prepared, response=endogenous[0])
    response = to_table[endogenous[0]]
    others = [to_table[v] for v in used if to_table[v] != response]
    prepared = prepare(data, f"{response} ~ {' + '.join(others) or '1'}", by, spec.where, 1, sort_years=False,
                       missing_ok=fiml, required=[to_table[v] for v in exogenous])
    back = {t: m for m, t in to_table.items()}
    return dataclasses.replace(prepared, frame=prepared.frame.rename(columns=back),
                               columns=tuple(back.get(c, c) for c in prepared.columns),
                               units={back.get(k, k): u for k, u in prepared.units.items()}, response=endogenous[0])
