"""``Results.predict(newdata)``: predictions of OLS trend fits and mixed models, as R predicts.

- OLS fits (``TrendSpec(method="ols")``) as ``predict.lm``: the formula is materialised on the new
  rows with the encoding learnt from the fitted rows (factor levels, ``poly()``/``scale()`` state),
  so new data may hold only some levels of a factor; offsets are added.
- Mixed models as lme4's ``predict.merMod``: ``re_form=None`` (lme4's ``re.form = NULL``, the
  default) adds every random effect, the conditional prediction; ``re_form=pd.NA`` (or ``"NA"``,
  ``"~0"``, lme4's ``re.form = NA``) gives the population-level prediction from the fixed effects
  only; ``re_form="~(1 | g)"`` keeps the named random-effect terms. A level of a grouping factor
  the fit has not seen is an error unless ``allow_new_levels=True``, which predicts it at the
  population level (its random effects are zero) and warns saying how many rows that concerns.
  GLMMs predict on the response scale (``type="response"``) or the linear predictor (``"link"``).
- Grouped fits (``by=``): each new row is predicted by the fit of its group, read from its ``by``
  columns; the fit's derived columns (``year_c`` from ``year`` with the group's own centre,
  ``period``) are made from the new rows when absent.

The result is a copy of ``newdata`` (same index) with a column ``fitted``; without ``newdata``
the fitted rows themselves are predicted (with ``re_form=pd.NA``, their population-level values).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from .errors import PcstatsError, did_you_mean

if TYPE_CHECKING:
    from .results import Results

__all__ = ["predict"]


def predict(res: Results, newdata: pd.DataFrame | None = None, *, re_form: Any = None, allow_new_levels: bool = False,
            type: Literal["link", "response"] = "response") -> pd.DataFrame:
    """Predictions of ``res`` for ``newdata`` (see the module docstring).

    Examples
    --------
    >>> import pandas as pd, pcstats as pc
    >>> d = pd.read_csv("tests/reference/predict/sleepstudy.csv")
    >>> res = pc.fit(pc.MixedSpec("Reaction ~ Days + (Days | Subject)"), d)
    >>> new = pd.DataFrame({"Days": [0, 5], "Subject": ["308", "308"]})
    >>> res.predict(new, re_form=pd.NA)["fitted"].round(1).tolist()
    [251.4, 303.7]
    """
    kind = getattr(type_of(res.spec), "kind", "")
    if kind == "trend" and getattr(res.spec, "method", "ols") != "ols":
        raise PcstatsError(f"predict(): {res.model!r} is a Sen slope (method='sen'); predict() serves OLS trends "
                           "(method='ols') and mixed models. Its line is intercept + slope * x from tidy().")
    if kind not in ("trend", "mixed"):
        raise PcstatsError(f"predict(): {res.model!r} is a {kind} fit; predict() serves OLS trends (TrendSpec) and "
                           "mixed models (MixedSpec).")
    if type not in ("link", "response"):
        raise PcstatsError(f"predict(type={type!r}): choose 'response' or 'link'.")
    prepared = res.model_data
    if prepared is None or prepared.model is None:
        raise PcstatsError(f"predict(): {res.model!r} keeps no fitted rows (Results made by stack() or restored "
                           "from a pickle that could not keep them); refit with pcstats.fit to predict.")
    mixed = kind == "mixed"
    terms = _random_terms(prepared.model, re_form) if mixed else ()
    if not mixed and not _is_null(re_form):
        raise PcstatsError("predict(re_form=...): re_form applies to mixed models; an OLS fit has no random effects.")
    given = newdata is not None
    if given:
        if not isinstance(newdata, pd.DataFrame):
            raise PcstatsError(f"predict(newdata=...): expected a pandas DataFrame, got {type_of(newdata).__name__}.")
        new = newdata.copy()
        _check_columns(res, prepared, new, terms)
    else:
        new = prepared.frame.drop(columns="_group").copy()
    tidy = res.tidy()
    out = np.full(len(new), np.nan)
    codes = _group_codes(res, prepared, new) if given else prepared.frame["_group"].to_numpy()
    new_level_rows: list[tuple[str, str]] = []
    for group in pd.unique(codes):
        if group < 0:
            continue
        rows = np.flatnonzero(codes == group)
        part = new.iloc[rows]
        train = prepared.frame[prepared.frame["_group"].to_numpy() == group]
        if given:
            part = _derive(part, prepared, group)
        coef = _rows_for_group(tidy, res.by, prepared, group)
        out[rows] = _predict_group(res, prepared, train, part, coef, terms, allow_new_levels, new_level_rows)
    if mixed and type == "response" and getattr(res.spec, "family", "gaussian") != "gaussian":
        from .stats.glm_families import family

        out = family(res.spec.family, res.spec.link).linkinv(out)
    if new_level_rows:
        first = new_level_rows[0]
        warnings.warn(f"predict(): {len(new_level_rows)} row(s) have levels the fit has not seen (first: {first[0]}="
                      f"{first[1]!r}); their random effects are set to zero, the population-level prediction, as "
                      "lme4's allow.new.levels = TRUE.", UserWarning, stacklevel=3)
    result = new if given else new.reset_index(drop=True)
    result = result.copy()
    result["fitted"] = out
    return result


def type_of(value: Any) -> type:
    """``type()`` (the parameter ``type`` of :func:`predict` shadows the builtin)."""
    return value.__class__


# ---------------------------------------------------------------- checks


def _is_null(re_form: Any) -> bool:
    return re_form is None


def _is_na(re_form: Any) -> bool:
    if re_form is pd.NA or re_form is False:
        return True
    if isinstance(re_form, float) and np.isnan(re_form):
        return True
    return isinstance(re_form, str) and re.sub(r"\s", "", re_form) in ("NA", "~0", "0", "~-1")


def _random_terms(model: Any, re_form: Any) -> tuple:
    """The random-effect terms ``re_form`` keeps: all (None), none (NA), or those a formula names."""
    if _is_null(re_form):
        return tuple(model.random)
    if _is_na(re_form):
        return ()
    if not isinstance(re_form, str):
        raise PcstatsError(f"predict(re_form={re_form!r}): use None (all random effects, lme4's re.form = NULL), "
                           "pd.NA (none, re.form = NA) or a formula of random-effect terms such as '~(1 | source)'.")
    wanted = [re.sub(r"\s", "", t) for t in re.findall(r"\([^()]*\|[^()]*\)", re_form)]
    kept, known = [], []
    for term, formula in model.random:
        texts = {re.sub(r"\s", "", t) for t in (term.text, term.expanded_from) if t}
        known += sorted(texts)
        if texts & set(wanted):
            kept.append((term, formula))
    missing = [w for w in wanted if w not in known]
    if missing or not wanted:
        raise PcstatsError(f"predict(re_form={re_form!r}): {missing[0] if missing else 'no term'} is not a random-effect "
                           f"term of the model; its terms are {', '.join(dict.fromkeys(known))}.")
    return tuple(kept)


def _needed_columns(res: Results, prepared: Any, terms: Sequence) -> list[str]:
    model = prepared.model
    fixed = getattr(model, "fixed", model)
    names = [n for n in fixed.names if n != prepared.response]
    for term, formula in terms:
        names += [*formula.names, *term.factors]
    return list(dict.fromkeys([*res.by, *names]))


def _check_columns(res: Results, prepared: Any, new: pd.DataFrame, terms: Sequence) -> None:
    formula = getattr(res.spec, "formula", res.model)
    for name in _needed_columns(res, prepared, terms):
        if name in new.columns:
            continue
        if name == "year_c" and "year" in new.columns:
            continue
        if name == "period" and "year" in new.columns:
            continue
        role = "a by key of the fit" if name in res.by else f"read by the formula {formula!r}"
        hint = " (or give 'year', from which it is made with each group's centre)" if name in ("year_c", "period") else ""
        raise PcstatsError(f"predict(): newdata has no column {name!r}, {role}{hint}.{did_you_mean(name, list(new.columns))} "
                           f"Columns present: {', '.join(map(str, new.columns))}.")


def _group_codes(res: Results, prepared: Any, new: pd.DataFrame) -> np.ndarray:
    """The fitted group of each new row (from its ``by`` columns); unknown or unfitted groups are errors."""
    groups = prepared.groups
    if not res.by:
        fitted = groups.index[groups["fit"]]
        return np.full(len(new), int(fitted[0]) if len(fitted) else -1)
    key = lambda frame: frame[list(res.by)].astype(str).agg("\x1f".join, axis=1)  # noqa: E731
    lookup = dict(zip(key(groups), groups.index))
    fit = dict(zip(groups.index, groups["fit"]))
    codes = np.empty(len(new), dtype=np.int64)
    for i, k in enumerate(key(new)):
        code = lookup.get(k)
        if code is None or not fit[code]:
            values = dict(zip(res.by, k.split("\x1f")))
            why = "was not fitted (see glance().dropped_why)" if code is not None else "is not a group of the fit"
            known = ", ".join("/".join(map(str, r)) for r in groups.loc[groups["fit"], list(res.by)].head(8).to_numpy())
            raise PcstatsError(f"predict(): newdata row {new.index[i]!r} has {values}, which {why}. Fitted groups "
                               f"({'/'.join(res.by)}): {known}{' ...' if groups['fit'].sum() > 8 else ''}.")
        codes[i] = code
    return codes


def _derive(part: pd.DataFrame, prepared: Any, group: int) -> pd.DataFrame:
    """``year_c`` (the group's own centre) and ``period`` made from ``year`` when the new rows lack them."""
    names = set(_model_names(prepared.model))
    part = part.copy()
    if "year_c" in names and "year_c" not in part.columns:
        part["year_c"] = np.asarray(part["year"]).astype(float) - float(prepared.groups.loc[group, "year_centre"])
    if "period" in names and "period" not in part.columns:
        part["period"] = [f"{int(y) // 10 * 10}s" for y in np.asarray(part["year"]).astype(float)]
    fixed = set(getattr(prepared.model, "fixed", prepared.model).names)
    for column in fixed & set(part.columns):  # categorical columns keep the fit's categories (and contrasts)
        dtype = prepared.frame[column].dtype if column in prepared.frame.columns else None
        if not isinstance(dtype, pd.CategoricalDtype):
            continue
        by_text = {str(c): c for c in dtype.categories}
        values = part[column].astype(str)
        unseen = sorted(set(values[part[column].notna()]) - set(by_text))
        if unseen:
            raise PcstatsError(f"predict(): column {column!r} of newdata has level {unseen[0]!r}, which the fit has not "
                               f"seen (levels: {', '.join(map(str, dtype.categories))}); a fixed effect has no estimate "
                               "for it. Drop those rows.")
        part[column] = pd.Categorical(values.map(by_text), categories=dtype.categories, ordered=dtype.ordered)
    return part


def _model_names(model: Any) -> tuple[str, ...]:
    return tuple(model.names)


def _rows_for_group(tidy: pd.DataFrame, by: Sequence[str], prepared: Any, group: int) -> pd.DataFrame:
    mask = np.ones(len(tidy), dtype=bool)
    for k in by:
        mask &= (tidy[k].astype(str) == str(prepared.groups.loc[group, k])).to_numpy()
    return tidy[mask]


# ---------------------------------------------------------------- prediction


def _matrix(formula: Any, train: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """``formula``'s right-hand side on ``new`` with the encoding learnt on ``train``, in R's column names."""
    from formulaic import model_matrix

    from .engines.design import CONTEXT, _formulaic, design_matrices

    names = list(design_matrices(formula, train, "the fitted rows").X.columns)
    fitted = model_matrix(_formulaic(formula.formulaic), train, context=CONTEXT, na_action="raise")
    spec = (fitted.rhs if formula.response is not None else fitted).model_spec
    from formulaic.errors import DataMismatchWarning

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", DataMismatchWarning)  # a level the fit has not seen: an error, as in R
            matrix = spec.get_model_matrix(new, context=CONTEXT, na_action="ignore")
    except Exception as exc:  # formulaic names the factor and level at fault
        message = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip()
        raise PcstatsError(f"predict(): the formula {formula.text!r} could not be evaluated on newdata: {message} "
                           "A factor in newdata may hold a level the fit has not seen.") from None
    if matrix.shape[1] != len(names):
        raise PcstatsError(f"predict(): newdata gives {matrix.shape[1]} model columns for {formula.text!r}, the fit "
                           f"has {len(names)} ({', '.join(names)}).")
    X = pd.DataFrame(np.asarray(matrix, dtype=float), columns=names, index=new.index)
    for f in getattr(formula, "offsets", ()):
        off = model_matrix(f"~ 0 + {f.expr}", new, context=CONTEXT, na_action="ignore").to_numpy(dtype=float).ravel()
        X.attrs.setdefault("offset", np.zeros(len(new)))
        X.attrs["offset"] = X.attrs["offset"] + off
    return X


def _predict_group(res: Results, prepared: Any, train: pd.DataFrame, new: pd.DataFrame, coef: pd.DataFrame,
                   terms: Sequence, allow_new_levels: bool, new_level_rows: list) -> np.ndarray:
    model = prepared.model
    fixed_formula = getattr(model, "fixed", model)
    X = _matrix(fixed_formula, train, new)
    fixed = coef[coef["component"] == "fixed"].set_index("term")["estimate"]
    beta = fixed.reindex(X.columns).fillna(0.0).to_numpy(dtype=float)  # aliased terms (NaN) drop out, as predict.lm
    eta = X.to_numpy() @ beta + X.attrs.get("offset", 0.0)
    modes = coef[coef["component"] == "ran_vals"]
    for term, formula in terms:
        from .engines.mixed_design import _level_labels

        Z = _matrix(formula, train, new)
        levels = _level_labels(new, term.factors)
        table = modes[modes["group"] == term.group].pivot_table(index="level", columns="term", values="estimate",
                                                                aggfunc="first")
        table.index = table.index.astype(str)
        unknown = ~pd.Index(levels).isin(table.index)
        if unknown.any():
            if not allow_new_levels:
                first = str(levels[np.flatnonzero(unknown)[0]])
                raise PcstatsError(f"predict(): {term.group}={first!r} in newdata is a level the fit has not seen "
                                   f"({int(unknown.sum())} row(s)). Pass allow_new_levels=True to predict such rows at "
                                   "the population level (random effects zero, lme4's allow.new.levels = TRUE), or "
                                   "re_form=pd.NA for population-level predictions of every row.")
            new_level_rows += [(term.group, str(lv)) for lv in levels[unknown]]
        b = table.reindex(index=levels, columns=list(Z.columns)).fillna(0.0).to_numpy(dtype=float)
        eta = eta + np.sum(Z.to_numpy() * b, axis=1)
    return eta
