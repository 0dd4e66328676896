"""``table()``: the long table of cells, one row per term (and its statistic) and goodness-of-fit name,
one column per model and group. The only place (with :mod:`pcstats.export`) where numbers become text."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..errors import PcstatsError, did_you_mean
from .layout import Row, Table
from .options import STARS, is_missing, number_format, omitter, parse_results, parse_stars, renamer, row_format

__all__ = ["table", "ran_par_label", "STARS", "GOF_LABELS", "KNOWN_GOF", "COMPONENT_LABELS", "HIDDEN_COMPONENTS"]

#: Row labels of the goodness-of-fit names; other glance() columns show under their own name.
GOF_LABELS: Mapping[str, str] = {
    "nobs": "Num. obs.", "n_groups": "Num. groups", "df_residual": "Residual df", "r_squared": "R²",
    "adj_r_squared": "Adj. R²", "r2_marginal": "R² marginal", "r2_conditional": "R² conditional", "icc": "ICC",
    "sigma": "Residual SD", "log_lik": "Log lik.", "aic": "AIC", "bic": "BIC", "chisq": "χ²", "df": "df",
    "cfi": "CFI", "tli": "TLI", "rmsea": "RMSEA", "rmsea_pvalue": "RMSEA p (close fit)", "srmr": "SRMR", "looic": "LOOIC", "waic": "WAIC",
    "elpd_loo": "ELPD (LOO)", "max_rhat": "Max. R-hat", "min_ess_bulk": "Min. bulk ESS", "divergences": "Divergences",
    "draws": "Draws", "chains": "Chains", "kendall_tau": "Kendall's τ",
}
#: glance() columns of the pcstats families: asked for, they make a row even if no model in the table has them.
KNOWN_GOF = frozenset(GOF_LABELS) | {
    "npar", "p_value", "rmsea_ci_low", "rmsea_ci_high", "baseline_chisq", "baseline_df", "deviance", "reml_crit",
    "converged", "singular", "p_loo", "p_waic", "elpd_waic", "max_pareto_k", "min_ess_tail", "r_squared_between",
    "r_squared_overall", "n_entities", "n_time", "f_pooled", "mk_s", "mk_var_s", "n_dropped"}
DEFAULT_GOF = ("nobs", "r_squared", "r2_marginal", "r2_conditional", "aic", "cfi", "rmsea", "looic")
_INTEGERS = {"nobs", "n_groups", "npar", "df", "df_residual", "draws", "chains", "divergences", "n_dropped",
             "n_entities", "n_time", "n_windows", "baseline_df"}

#: Section headings of the tidy() components, in the order the sections are shown.
COMPONENT_LABELS: Mapping[str, str] = {
    "fixed": "Fixed effects", "ran_pars": "Random-effect SDs and correlations", "regression": "Regressions",
    "loading": "Loadings", "intercept": "Intercepts", "defined": "Defined parameters", "r2": "R²",
    "difference": "Differences", "skill": "Skill", "agreement": "Sign agreement", "variance": "Variances",
    "covariance": "Covariances", "indirect": "Indirect effects", "total": "Total effects",
    "ran_vals": "Random-effect values", "trend": "Group trends",
}
#: Shown only when asked for by ``components=``: per-level values and the SEM's (co)variances and effects.
HIDDEN_COMPONENTS = ("ran_vals", "trend", "variance", "covariance", "indirect", "total")
STATISTICS = ("std_error", "conf_int", "p_value", "statistic", None)


def table(
    results: Sequence[Any] | Mapping[str, Any],
    *,
    statistic: Literal["std_error", "conf_int", "p_value", "statistic"] | None = "std_error",
    style: Literal["below", "pm"] = "below",
    stars: bool | Mapping[str, float] = True,
    fmt: int | Callable[[float], str] = 3,
    coef_map: Mapping[str, str] | None = None,
    coef_rename: Mapping[str, str] | Callable[[str], str] | None = None,
    coef_omit: str | None = None,
    components: Sequence[str] | None = None,
    gof: Sequence[str] | Mapping[str, str] | None = DEFAULT_GOF,
    span: Literal["model", "group"] = "model",
    group_rename: Mapping[str, str] | None = None,
    title: str | None = None,
    notes: Sequence[str] = (),
    max_columns: int | None = 30,
) -> Table:
    """Side-by-side coefficient table of several fits (modelsummary's layout), to write as LaTeX,
    Markdown, HTML, Word or CSV.

    Parameters
    ----------
    results
        Results of any family (or fits read back by :func:`pcstats.tables.read_saved`); a mapping
        gives the column labels, otherwise each fit's model label is used (numbered when repeated).
    statistic
        Shown in parentheses below each estimate: ``"std_error"`` (default), ``"conf_int"`` (in
        brackets), ``"p_value"``, ``"statistic"`` (t or z) or None.
    style
        ``"below"`` (statistic on its own line) or ``"pm"``: ``0.580 ± 0.090`` in one cell (needs
        ``statistic="std_error"``).
    stars
        True: modelsummary's convention ``+ p < 0.1, * p < 0.05, ** p < 0.01, *** p < 0.001`` (the
        symbol of the smallest threshold p is below); a mapping ``{"*": 0.05, "**": 0.01}`` for
        another; False for none. A note line states the convention. Estimates without a p-value
        (Bayesian fits, Sen slopes' intercepts) get none.
    fmt
        Digits after the decimal point (more in a row whose standard error would show as zero: two
        significant digits, scientific past six decimals), or a function of a float to text. NaN shows as blank;
        p-values below ``10**-fmt`` as ``<0.001``; counts such as ``nobs`` as whole numbers.
    coef_map
        ``{term: label}``: show only these terms, in this order, under these labels (not with coef_rename).
    coef_rename
        ``{term: label}`` or a function: rename terms, keep the rest. Terms renamed to the same
        label share a row (``{"year": "Trend", "year_c": "Trend"}``).
    coef_omit
        Regular expression; terms it finds (``re.search``) are left out, e.g. ``"Intercept"``. It
        never removes random-effect SDs and correlations (``"Intercept"`` leaves ``SD (Intercept),
        site``); leave those out with ``components=("fixed",)`` or pick rows with ``coef_map``.
    components
        tidy() components to show, in order; default all but :data:`HIDDEN_COMPONENTS`
        (random-effect values, group trends, SEM (co)variances and effects). When more than one is
        shown each gets a section heading (fixed effects, random-effect SDs, regressions, ...).
        Random-effect parameters read as ``SD (Intercept), source``, ``Cor (Intercept), year_c,
        source`` and ``SD Residual`` (:func:`ran_par_label`); coef_map and coef_rename take these labels.
    gof
        glance() columns shown below the estimates, each model's value or blank where its family has
        none (``"cfi"`` is blank for an OLS fit beside an SEM); a mapping gives the labels. A row no
        model has a value for is left out, as modelsummary's ``gof_map`` does; a name that is neither
        a glance() column of these fits nor one of another family (:data:`KNOWN_GOF`) is an error.
    span
        When fits have ``by`` groups each group is a column, labelled by its key values (``NoP, ANN``).
        ``"model"``: the model label spans its groups (one column per season under each model);
        ``"group"``: each group spans the models (e.g. OLS, GLMM and Bayes side by side under each
        season); only the keys every fit has span, a fit's other keys join its label (``OLS, P``
        for an OLS fit by region and season beside a GLMM by season). A key value that every column shares (all ``season = LGS``) is stated once in a note
        instead.
    group_rename
        ``{value: label}`` for the ``by`` values in the column headers, e.g.
        ``{"dgvm": "TRENDY-like models", "EGS": "Early season"}``.
    title, notes
        Caption and extra note lines.
    max_columns
        Refuse tables wider than this (a fit by source x region x season has 56 groups); None for no limit.

    Returns
    -------
    Table
        Immutable; ``to_latex``, ``to_markdown``, ``to_html``, ``to_csv`` return the text (and write
        it to a path if given); ``to_docx(path)`` writes a Word file.

    Examples
    --------
    >>> import pcstats as pc
    >>> from pcstats.tables import table
    >>> t = pc.read_table("tests/reference/trend_input.csv")
    >>> ols = pc.fit(pc.TrendSpec("NEE ~ year", by="season", where="source == 'ensemble' and region == 'P'"), t)
    >>> tab = table({"OLS": ols.subset(season="ANN")}, coef_rename={"year": "Trend"}, gof=("nobs", "r_squared"))
    >>> print(tab.to_markdown(), end="")
    | term        | OLS          |
    |:------------|:-------------|
    | (Intercept) | -1175.977*** |
    |             | (161.651)    |
    | Trend       | 0.564***     |
    |             | (0.081)      |
    | Num. obs.   | 38           |
    | R²          | 0.575        |
    <BLANKLINE>
    \\+ p < 0.1, * p < 0.05, ** p < 0.01, *** p < 0.001. Standard errors in parentheses.
    All columns: season = ANN.
    >>> tab.to_latex("table1.tex")  # doctest: +SKIP
    """
    fits, labels = parse_results(results)
    if statistic not in STATISTICS:
        raise PcstatsError(f"table(statistic={statistic!r}): choose one of {STATISTICS}.")
    if style not in ("below", "pm"):
        raise PcstatsError(f"table(style={style!r}): choose 'below' (statistic under the estimate) or 'pm' (estimate ± SE).")
    if style == "pm" and statistic != "std_error":
        raise PcstatsError(f"table(style='pm') shows estimate ± std_error; it cannot show statistic={statistic!r}. "
                           "Use statistic='std_error' or style='below'.")
    if span not in ("model", "group"):
        raise PcstatsError(f"table(span={span!r}): choose 'model' (model above its groups) or 'group' (group above the models).")
    if coef_map is not None and coef_rename is not None:
        raise PcstatsError("table(): give coef_map (select, order and rename) or coef_rename (rename only), not both.")
    thresholds = parse_stars(stars)
    number = number_format(fmt)
    rename = renamer(coef_rename)
    omit = omitter(coef_omit)

    raw = [f.tidy() for f in fits]
    if components is not None:
        if isinstance(components, str):
            components = (components,)
        present = {str(c) for t in raw if "component" in t.columns for c in t["component"].dropna()} or {"fixed"}
        unknown = [c for c in components if c not in present]
        if unknown:
            raise PcstatsError(f"table(components): no model has component {unknown[0]!r}."
                               f"{did_you_mean(unknown[0], present)} Available: {', '.join(sorted(present))}.")
    tidies = [_select(t, components, coef_map, rename, omit) for t in raw]
    glances = [f.glance() for f in fits]
    per_fit = [max(1, len(_groups(f, g, t))) for f, g, t in zip(fits, glances, tidies)]  # vectorised count
    if max_columns is not None and sum(per_fit) > max_columns:
        wide = int(np.argmax(per_fit))
        raise PcstatsError(
            f"table(): {sum(per_fit)} columns (each by group of each fit is a column; {labels[wide]!r} has "
            f"{per_fit[wide]} groups of {tuple(fits[wide].by)}). Choose groups with "
            "res.subset(season='ANN', ...) (for random windows use rw.distribution()), or pass max_columns=None.")
    columns = _columns(fits, labels, tidies, glances, span)

    rows = _body(tidies, columns, statistic, style, thresholds, fmt, coef_map, components)
    rows += _gof_rows(gof, fits, glances, columns, number)
    shared = _shared(columns)
    header = _header(columns, [tuple(kv for kv in g if kv not in shared) for _, _, g in columns], span)
    if group_rename:
        if not isinstance(group_rename, Mapping):
            raise PcstatsError(f"table(group_rename={group_rename!r}): give a mapping {{by value: header label}}.")
        header = tuple(tuple((", ".join(str(group_rename.get(part, part)) for part in label.split(", ")), n)
                             for label, n in line) for line in header)
    keys = (f"All columns: {', '.join(f'{k} = {v}' for k, v in shared)}.",) if shared else ()
    return Table(header=header, rows=tuple(rows), title=title,
                 notes=_notes(fits, labels, tidies, statistic, thresholds, (*keys, *notes)))


# ---------------------------------------------------------------------------------------- the cells

def _select(tidy: pd.DataFrame, components: Sequence[str] | None, coef_map: Mapping[str, str] | None,
            rename: Callable[[str], str], omit: Callable[[str], bool]) -> pd.DataFrame:
    """The fit's shown rows, with ``_label`` (the row label) and ``component`` filled in."""
    tidy = tidy.copy()
    if "component" not in tidy.columns:
        tidy["component"] = "fixed"
    tidy["component"] = tidy["component"].fillna("fixed").astype(str)
    if components is None:
        tidy = tidy[~tidy["component"].isin(HIDDEN_COMPONENTS)]
    else:
        tidy = tidy[tidy["component"].isin(list(components))]
    term = tidy["term"].astype(str)
    parts = [tidy[c] for c in ("group", "level") if c in tidy.columns]
    suffix = pd.Series([": ".join(str(v) for v in vals if not is_missing(v) and v != "") for vals in zip(*parts)]
                       if parts else [""] * len(tidy), index=tidy.index, dtype=object)
    full = term.where(suffix == "", term + " [" + suffix + "]")
    variance = (tidy["component"] == "ran_pars").to_numpy()
    readable = pd.Series([ran_par_label(t, g) if v else "" for t, g, v in zip(term, suffix, variance)],
                         index=tidy.index, dtype=object)
    keep = ~term.map(omit) | variance  # coef_omit never removes a variance component (components= does)
    if coef_map is not None:
        if not isinstance(coef_map, Mapping):
            raise PcstatsError(f"table(coef_map={coef_map!r}): give a mapping {{term: label}} (its order is the row order).")
        keep &= term.isin(list(coef_map)) | full.isin(list(coef_map)) | readable.isin(list(coef_map))
        label = pd.Series([coef_map[r] if r in coef_map else coef_map.get(f, r) if r else
                           coef_map[f] if f in coef_map else f"{coef_map.get(t, t)} [{x}]" if x else coef_map.get(t, t)
                           for f, t, x, r in zip(full, term, suffix, readable)], index=tidy.index, dtype=object)
        tidy["_order"] = [_map_position(coef_map, r if r in coef_map else f, t) for f, t, r in zip(full, term, readable)]
    else:
        renamed = term.map(rename)
        label = renamed.where(suffix == "", renamed + " [" + suffix + "]")
        label = label.where(~variance, readable.map(rename))
    tidy["_label"] = label.astype(str)
    return tidy[keep.to_numpy()]


_RAN_PAR = {"sd": "SD", "cor": "Cor", "var": "Var", "cov": "Cov"}


def ran_par_label(term: str, group: str) -> str:
    """A random-effect parameter as a reader names it (broom.mixed's ``sd__x`` terms).

    >>> ran_par_label("sd__(Intercept)", "site"), ran_par_label("sd__Observation", "Residual")
    ('SD (Intercept), site', 'SD Residual')
    >>> ran_par_label("cor__(Intercept).year_c", "source")
    'Cor (Intercept), year_c, source'
    """
    kind, sep, rest = term.partition("__")
    if not sep or kind not in _RAN_PAR:
        return f"{term}, {group}" if group else term
    if group == "Residual" or rest == "Observation":
        return f"{_RAN_PAR[kind]} Residual"
    if kind in ("cor", "cov"):
        first, dot, second = rest.partition(").") if rest.startswith("(") else rest.partition(".")
        rest = f"{first}{')' if dot == ').' else ''}, {second}" if dot else rest
    return f"{_RAN_PAR[kind]} {rest}" + (f", {group}" if group else "")


def _map_position(coef_map: Mapping[str, str], full: str, term: str) -> int:
    keys = list(coef_map)
    return keys.index(full) if full in coef_map else keys.index(term) if term in coef_map else len(keys)


def _groups(fit, glance: pd.DataFrame, tidy: pd.DataFrame) -> pd.DataFrame:
    """The fit's distinct by groups, from its glance() then its tidy(), in order of appearance."""
    by = [k for k in fit.by if k in glance.columns or k in tidy.columns]
    frames = [frame[by] for frame in (glance, tidy) if by and all(k in frame.columns for k in by)]
    return pd.concat(frames).drop_duplicates() if frames else pd.DataFrame()


def _columns(fits, labels, tidies, glances, span) -> list[tuple[int, str, tuple]]:
    """(fit index, model label, group) per data column, in display order."""
    out = []
    for i, fit in enumerate(fits):
        groups = _groups(fit, glances[i], tidies[i])
        keys = [tuple(zip(groups.columns, key)) for key in groups.itertuples(index=False)]
        out += [(i, labels[i], g) for g in (keys or [()])]
    if span == "group":
        common = _common_keys(out)
        order = {text: n for n, text in enumerate(dict.fromkeys(_group_text(g, common) for _, _, g in out))}
        out.sort(key=lambda c: (order[_group_text(c[2], common)], c[0]))
    return out


def _common_keys(columns) -> set[str] | None:
    """The by keys every fit's columns have: with span='group' they make the spanner (None: no such key)."""
    per_fit: dict[int, set[str]] = {}
    for i, _, g in columns:
        per_fit.setdefault(i, set()).update(k for k, _ in g)
    common = set.intersection(*per_fit.values()) if per_fit else set()
    return common or None


def _group_text(group: tuple, keys: set[str] | None = None) -> str:
    """The group's values, of ``keys`` only (None: all)."""
    return ", ".join(str(v) for k, v in group if keys is None or k in keys)


def _in_group(frame: pd.DataFrame, group: tuple) -> pd.DataFrame:
    mask = np.ones(len(frame), dtype=bool)
    for k, v in group:
        mask &= (frame[k] == v).to_numpy() if not is_missing(v) else frame[k].isna().to_numpy()
    return frame[mask]


def _body(tidies, columns, statistic, style, thresholds, fmt, coef_map, components) -> list[Row]:
    long = pd.concat([t.assign(_fit=i) for i, t in enumerate(tidies)], ignore_index=True)
    if long.empty:
        return []
    present = list(dict.fromkeys(long["component"]))
    wanted = list(components) if components is not None else [c for c in COMPONENT_LABELS if c in present] + \
        [c for c in present if c not in COMPONENT_LABELS]
    sections = [c for c in wanted if c in present]
    records: dict[tuple[str, str], list[Any]] = {}
    order: dict[str, list[str]] = {c: [] for c in sections}
    frames = [long[long["_fit"] == i] for i in range(len(tidies))]
    for j, (i, _, group) in enumerate(columns):
        part = _in_group(frames[i], group)
        dupes = part[part.duplicated(["component", "_label"], keep=False)]
        if not dupes.empty:
            raise PcstatsError(f"table(): {dupes['_label'].iloc[0]!r} labels {len(dupes)} terms of one model "
                               f"({', '.join(map(str, dupes['term']))}); give them different labels in coef_rename/coef_map.")
        for rec in part.to_dict("records"):
            key = (rec["component"], rec["_label"])
            if rec["_label"] not in order[rec["component"]]:
                order[rec["component"]].append(rec["_label"])
            records.setdefault(key, [None] * len(columns))[j] = rec
    cells: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for key, recs in records.items():  # one number format per row: no standard error shows as 0.000
        number = row_format(fmt, [r.get("std_error", np.nan) for r in recs if r is not None])
        cells[key] = [("", "") if r is None else _cell(r, statistic, style, thresholds, number) for r in recs]
    if "ran_pars" in order:  # the residual SD closes the random-effect rows, as lme4's summary does
        order["ran_pars"].sort(key=lambda label: label.endswith(" Residual"))
    if coef_map is not None:
        pos = long.groupby(["component", "_label"])["_order"].min()
        order = {c: sorted(ls, key=lambda lab: pos[(c, lab)]) for c, ls in order.items()}
    rows: list[Row] = []
    for comp in sections:
        if len(sections) > 1:
            rows.append(Row("section", COMPONENT_LABELS.get(comp, comp), ("",) * len(columns)))
        for label in order[comp]:
            pairs = cells[(comp, label)]
            rows.append(Row("estimate", label, tuple(p[0] for p in pairs)))
            if style == "below" and statistic is not None and any(p[1] for p in pairs):
                rows.append(Row("statistic", "", tuple(p[1] for p in pairs)))
    return rows


def _cell(rec: Mapping[str, Any], statistic, style, thresholds, number) -> tuple[str, str]:
    est = number(rec.get("estimate"))
    p = rec.get("p_value")
    star = next((s for s, level in thresholds if not is_missing(p) and p < level), "") if est else ""
    if statistic == "conf_int":
        low, high = number(rec.get("conf_low")), number(rec.get("conf_high"))
        below = f"[{low}, {high}]" if low or high else ""
    elif statistic == "p_value":
        below = _p_text(p, number)
    elif statistic is not None:
        value = number(rec.get(statistic))
        below = f"({value})" if value else ""
    else:
        below = ""
    if style == "pm":
        se = number(rec.get("std_error"))
        return (f"{est} ± {se}{star}" if est and se else f"{est}{star}"), ""
    return f"{est}{star}", below


def _p_text(p: Any, number: Callable[[float], str]) -> str:
    if is_missing(p):
        return ""
    text = number(p)
    smallest = re.fullmatch(r"0\.0*", text)
    return f"(<{text[:-1]}1)" if smallest else f"({text})"


def _gof_rows(gof, fits, glances, columns, number) -> list[Row]:
    if gof is None or (not isinstance(gof, str) and len(gof) == 0):
        return []
    default = gof is DEFAULT_GOF
    if isinstance(gof, str):
        gof = (gof,)
    labels = dict(gof) if isinstance(gof, Mapping) else {g: GOF_LABELS.get(g, g) for g in gof}
    available = list(dict.fromkeys(c for g in glances for c in g.columns if c != "model" and not _is_key(c, fits)))
    if not default:
        for name in labels:
            if not any(name in g.columns for g in glances) and name not in KNOWN_GOF:
                raise PcstatsError(f"table(gof): no model's glance() has {name!r}.{did_you_mean(name, available)} "
                                   f"Available: {', '.join(available)}.")
    rows = []
    for name, label in labels.items():
        cells = []
        for i, _, group in columns:
            g = glances[i]
            part = _in_group(g, group) if name in g.columns else g.iloc[:0]
            cells.append(_gof_text(name, part[name].iloc[0], number) if len(part) else "")
        if not any(cells):  # as modelsummary: a statistic no model has is no row
            continue
        rows.append(Row("gof", label, tuple(cells)))
    return rows


def _is_key(column: str, fits) -> bool:
    return any(column in f.by for f in fits)


def _gof_text(name: str, value: Any, number: Callable[[float], str]) -> str:
    if is_missing(value):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, float, np.number)):
        if name in _INTEGERS and float(value).is_integer():
            return str(int(value))
        return number(float(value))
    return str(value)


def _shared(columns) -> list[tuple[str, Any]]:
    """The (key, value) pairs of every column: said once in a note rather than over each column."""
    groups = [set(g) for _, _, g in columns]
    return [kv for kv in columns[0][2] if all(kv in g for g in groups)]


def _header(columns, shown, span) -> tuple[tuple[tuple[str, int], ...], ...]:
    grouped = any(shown)
    if span == "model":
        top = [label for _, label, _ in columns]
        bottom = [_group_text(g) for g in shown]
    else:  # the keys all fits have span the columns; a fit's other keys go with its label ("OLS, P")
        common = _common_keys(columns)
        top = [_group_text(g, common) for g in shown]
        bottom = [", ".join([label] + [str(v) for k, v in g if common is not None and k not in common])
                  for (_, label, _), g in zip(columns, shown)]
    if not grouped:
        return (_runs(top, [c[0] for c in columns]),)
    return (_runs(top, top), tuple((b, 1) for b in bottom))


def _runs(labels: list[str], keys: list[Any]) -> tuple[tuple[str, int], ...]:
    """Consecutive columns with the same key share one spanning label."""
    out: list[list[Any]] = []
    for label, key in zip(labels, keys):
        if out and out[-1][2] == key:
            out[-1][1] += 1
        else:
            out.append([label, 1, key])
    return tuple((label, n) for label, n, _ in out)


def _notes(fits, labels, tidies, statistic, thresholds, extra) -> tuple[str, ...]:
    first = []
    if thresholds:
        first.append(", ".join(f"{s} p < {level:g}" for s, level in sorted(thresholds, key=lambda kv: -kv[1])) + ".")
    if statistic == "std_error":
        bayes = [labels[i] for i, f in enumerate(fits) if getattr(getattr(f, "spec", None), "kind", None) == "bayes"]
        first.append("Standard errors in parentheses" + (f" (posterior SDs for {', '.join(bayes)})." if bayes else "."))
    elif statistic == "conf_int":
        levels = {getattr(getattr(f, "spec", None), "conf_level", None) or getattr(f, "conf_level", None) for f in fits}
        level = f"{100 * levels.pop():g}% " if len(levels) == 1 and None not in levels else ""
        first.append(f"{level}intervals (conf_low, conf_high) in brackets.")
    elif statistic == "p_value":
        first.append("p-values in parentheses.")
    elif statistic == "statistic":
        first.append("Test statistics (t or z) in parentheses.")
    out = [" ".join(first)] if first else []
    if thresholds:
        no_p = [labels[i] for i, t in enumerate(tidies) if len(t) and ("p_value" not in t or t["p_value"].isna().all())]
        if no_p:
            out.append(f"No stars for {', '.join(no_p)}: they have no p-values (posterior or window distributions, rank-based fits).")
    return tuple(out) + tuple(str(n) for n in extra)
