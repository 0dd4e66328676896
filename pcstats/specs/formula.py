"""R-style formulas and row filters: parsing, the safe vocabulary, and term names.

Formulas are R's formulas (read by :mod:`pcstats.specs.r_formula` on top of formulaic):
``NEE ~ year``, ``NEE ~ year * region``, ``mpg ~ wt * hp + factor(cyl)``, ``log(y) ~ poly(x, 2)``.

Spec files may only use :data:`SAFE_TRANSFORMS` and arithmetic; anything else (attribute access,
other calls, subscripts, lambdas, ...) is refused unless the caller passes ``trust=True``.
Row filters (``where``) are comparisons of columns with literals joined by ``and``/``or``/``not``,
e.g. ``"season == 'ANN' and year >= 1980"`` or ``"region in ['P', 'NoP']"``; they are evaluated
by a small interpreter here, never by ``eval``.

Term names are R's, in every engine: ``(Intercept)``, ``regionP``, ``factor(cyl)6``, ``year_c:regionP``
(see :mod:`pcstats.engines.design`).
"""

from __future__ import annotations

import ast
import operator
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import FormulaError
from .r_formula import CONTRASTS, ModelFormula, model_formula

__all__ = [
    "SAFE_TRANSFORMS",
    "ParsedFormula",
    "parse_formula",
    "check_formula_vocabulary",
    "check_where",
    "where_names",
    "evaluate_where",
]

SAFE_TRANSFORMS: tuple[str, ...] = ("log", "log10", "log2", "log1p", "exp", "sqrt", "abs", "center", "scale", "C", "I",
                                    "poly", "bs", "factor", "ordered", "offset", "pmax", "pmin", "as.factor",
                                    "as.numeric", "as.integer", "as.double")


@dataclass(frozen=True)
class ParsedFormula:
    """A formula split into what pcstats needs: response, names used, factors as R labels them.

    A view of ``model``, the formula read by :func:`pcstats.specs.r_formula.model_formula` without
    data (preparation reads it with the data's columns: ``.`` and dotted names need them).
    """

    text: str
    model: ModelFormula

    @property
    def response(self) -> str:
        """R's label of the left-hand side: ``'NEE'``, ``'log(Ozone)'``."""
        return self.model.response.label

    @property
    def names(self) -> tuple[str, ...]:
        """Every data name on either side, the response's first."""
        return self.model.names

    @property
    def factors(self) -> tuple[str, ...]:
        """Right-hand-side factors, as R labels them (``'year'``, ``'factor(cyl)'``)."""
        return self.model.factors

    @property
    def has_intercept(self) -> bool:
        return self.model.intercept

    @property
    def response_names(self) -> tuple[str, ...]:
        """The data names the left-hand side reads (``('Ozone',)`` for ``log(Ozone)``)."""
        return self.model.response.names if self.model.response else ()


def parse_formula(text: str, argument: str = "formula") -> ParsedFormula:
    """Parse an R-style formula (R's formula language: see :mod:`pcstats.specs.r_formula`).

    >>> p = parse_formula("NEE ~ year * C(region)")
    >>> p.response, p.names
    ('NEE', ('NEE', 'year', 'region'))
    >>> parse_formula("log(Ozone) ~ Solar.R + I(Temp^2)").names
    ('Ozone', 'Solar.R', 'Temp')
    """
    return ParsedFormula(text=text, model=model_formula(text, argument=argument))


_ARITH = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.USub, ast.UAdd, ast.FloorDiv, ast.Mod, ast.BitXor)
_SAFE_KEYWORDS = ("degree", "raw", "df", "center", "scale")


def check_formula_vocabulary(text: str, argument: str = "formula") -> ParsedFormula:
    """Refuse a formula that calls anything outside :data:`SAFE_TRANSFORMS`.

    >>> check_formula_vocabulary("NEE ~ log(GPP) + factor(region) + I(AirT^2)").response
    'NEE'
    >>> check_formula_vocabulary("NEE ~ os.system('x')")
    Traceback (most recent call last):
    ...
    pcstats.errors.FormulaError: formula='NEE ~ os.system(...)' uses 'os.system', which is outside the safe vocabulary (log, log10, log2, log1p, exp, sqrt, abs, center, scale, C, I, poly, bs, factor, ordered, offset, pmax, pmin, as.factor, as.numeric, as.integer, as.double). Rewrite the term, or load the spec with trust=True if you wrote the file yourself.
    """
    parsed = parse_formula(text, argument)
    model = parsed.model
    factors = [model.response] + [f for term in model.terms for f in term] + list(model.offsets)
    for factor in factors:
        tree = _parse_expr(re.sub(r"`[^`]+`", "_quoted_", factor.expr), argument)
        contrasts = {id(n) for n in ast.walk(tree) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
                     and n.value.id == "contr" and n.attr in CONTRASTS}
        inside = {id(c) for n in ast.walk(tree) if id(n) in contrasts for c in ast.walk(n)}
        for node in ast.walk(tree):
            bad = None
            if id(node) in inside:
                continue
            if isinstance(node, ast.Call):
                if not (isinstance(node.func, ast.Name) and re.sub(r"^as_(\w+)_$", r"as.\1", node.func.id) in SAFE_TRANSFORMS):
                    bad = ast.unparse(node.func)
                elif any(k.arg not in _SAFE_KEYWORDS for k in node.keywords):
                    bad = ast.unparse(node)
            elif not isinstance(node, (ast.Expression, ast.Name, ast.Load, ast.Constant, ast.BinOp, ast.UnaryOp, *_ARITH)):
                bad = ast.unparse(node)
            elif isinstance(node, ast.Constant) and not isinstance(node.value, (int, float)):
                bad = repr(node.value)
            if bad is not None:
                shown = re.sub(r"\(.*\)", "(...)", text) if "(" in text else text
                raise FormulaError(
                    f"{argument}={shown!r} uses {bad!r}, which is outside the safe vocabulary "
                    f"({', '.join(SAFE_TRANSFORMS)}). Rewrite the term, or load the spec with trust=True "
                    "if you wrote the file yourself."
                )
    return parsed


def _parse_expr(expr: str, argument: str) -> ast.Expression:
    try:
        return ast.parse(expr, mode="eval")
    except SyntaxError:
        raise FormulaError(f"{argument}: {expr!r} is not a valid expression.") from None


_COMPARE = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt,
    ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
}
_WHERE_NODES = (
    ast.Expression, ast.Compare, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub,
    ast.Name, ast.Load, ast.Constant, ast.List, ast.Tuple, ast.In, ast.NotIn, *_COMPARE,
)


def check_where(where: str, argument: str = "where") -> ast.Expression:
    """Parse a row filter and refuse anything but comparisons, ``in`` and boolean logic.

    >>> sorted(where_names("season == 'ANN' and year >= 1980"))
    ['season', 'year']
    """
    if not isinstance(where, str) or not where.strip():
        raise FormulaError(f"{argument}={where!r} must be a non-empty string such as \"season == 'ANN'\".")
    try:
        tree = ast.parse(where.strip(), mode="eval")
    except SyntaxError:
        raise FormulaError(
            f"{argument}={where!r} is not a valid filter. Use comparisons joined by and/or, "
            "e.g. \"season == 'ANN' and year >= 1980\" or \"region in ['P', 'NoP']\"."
        ) from None
    for node in ast.walk(tree):
        if not isinstance(node, _WHERE_NODES):
            raise FormulaError(
                f"{argument}={where!r}: {ast.unparse(node)!r} is not allowed in a filter; "
                "use column names, literals, comparisons, 'in', and/or/not."
            )
    _require_condition(tree.body, where, argument)
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            _check_lists(node, where, argument)
    return tree


def _check_lists(node: ast.Compare, where: str, argument: str) -> None:
    """A list belongs after 'in' / 'not in' and nowhere else; 'in' needs a list."""
    left = node.left
    for op, right in zip(node.ops, node.comparators):
        membership = isinstance(op, (ast.In, ast.NotIn))
        if isinstance(left, (ast.List, ast.Tuple)) or (not membership and isinstance(right, (ast.List, ast.Tuple))):
            raise FormulaError(f"{argument}={where!r}: {ast.unparse(node)!r} compares with a list; a list goes after "
                               "'in' or 'not in', e.g. \"region in ['P', 'NoP']\".")
        if membership and not isinstance(right, (ast.List, ast.Tuple)):
            raise FormulaError(f"{argument}={where!r}: {ast.unparse(node)!r}: 'in' needs a list of literals, "
                               "e.g. \"region in ['P', 'NoP']\".")
        left = right


def _require_condition(node: ast.AST, where: str, argument: str) -> None:
    """A filter is a comparison, or and/or/not of comparisons: ``region`` alone is not a condition."""
    if isinstance(node, ast.BoolOp):
        for value in node.values:
            _require_condition(value, where, argument)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        _require_condition(node.operand, where, argument)
    elif not isinstance(node, ast.Compare):
        raise FormulaError(
            f"{argument}={where!r}: {ast.unparse(node)!r} is not a condition; compare it with something, "
            "e.g. \"season == 'ANN'\"."
        )


def where_names(where: str) -> set[str]:
    """Column names a row filter refers to."""
    return {n.id for n in ast.walk(check_where(where)) if isinstance(n, ast.Name)}


def evaluate_where(where: str, frame: pd.DataFrame) -> np.ndarray:
    """Boolean mask of the rows of ``frame`` a filter keeps."""
    tree = check_where(where)
    missing = sorted(where_names(where) - set(frame.columns))
    if missing:
        from ..errors import did_you_mean

        raise FormulaError(
            f"where={where!r} names {missing[0]!r}, which is not a column here.{did_you_mean(missing[0], frame.columns)} "
            f"Columns: {', '.join(map(str, frame.columns))}."
        )
    result = _eval(tree.body, frame)
    return np.broadcast_to(np.asarray(result, dtype=bool), (len(frame),)).copy()


def _eval(node: ast.AST, frame: pd.DataFrame):
    if isinstance(node, ast.Name):
        return frame[node.id]
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_eval(e, frame) for e in node.elts]
    if isinstance(node, ast.UnaryOp):
        value = _eval(node.operand, frame)
        return ~np.asarray(value, dtype=bool) if isinstance(node.op, ast.Not) else -value
    if isinstance(node, ast.BoolOp):
        values = [np.asarray(_eval(v, frame), dtype=bool) for v in node.values]
        combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
        out = values[0]
        for v in values[1:]:
            out = combine(out, v)
        return out
    if isinstance(node, ast.Compare):
        left = _eval(node.left, frame)
        out = np.ones(len(frame), dtype=bool)
        for op, comparator in zip(node.ops, node.comparators):
            right = _eval(comparator, frame)
            if isinstance(op, (ast.In, ast.NotIn)):
                if not isinstance(right, list):
                    raise FormulaError("where: 'in' needs a list of literals, e.g. region in ['P', 'NoP'].")
                if isinstance(left, pd.Series):
                    _known_values(left, right, node)
                    hit = left.isin(right).to_numpy()
                else:
                    hit = np.full(len(frame), left in right)
                step = hit if isinstance(op, ast.In) else ~hit
            else:
                try:
                    step = np.asarray(_COMPARE[type(op)](left, right), dtype=bool)
                except TypeError:
                    raise FormulaError(
                        f"where: {ast.unparse(node)!r} compares values of different types "
                        "(text with a number?); quote text and leave numbers bare."
                    ) from None
            out &= step
            left = right
        return out
    raise FormulaError(f"where: {ast.unparse(node)!r} is not allowed.")  # unreachable after check_where


def _known_values(column: pd.Series, values: list, node: ast.AST) -> None:
    """A text value listed in a filter that the column never holds is a typo, not a wish."""
    present = set(column.unique())
    unknown = [v for v in values if isinstance(v, str) and v not in present]
    if unknown:
        from ..errors import did_you_mean

        raise FormulaError(
            f"where: {ast.unparse(node)!r} lists {unknown[0]!r}, which column {column.name!r} never holds."
            f"{did_you_mean(unknown[0], map(str, present))} Values: {', '.join(sorted(map(str, present))[:12])}."
        )
