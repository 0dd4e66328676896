"""R's formula language, read once: what formulaic materialises and the names R prints.

formulaic parses Wilkinson formulas and builds model matrices; this module adds what a user of R
types and formulaic reads differently or not at all, and gives every column the name R's
``model.matrix`` gives it (so a coefficient table from R and one from pcstats line up):

==============================  =====================================  ======================
R                               formulaic                              R's column names
==============================  =====================================  ======================
``factor(cyl)``                 ``C(cyl)``                             ``factor(cyl)6``
``C(f, sum)``, ``C(f, helmert)``  ``C(f, contr.sum)``, ...             ``C(f, sum)1``
``ordered(f)``, ordered column  ``C(f, contr.poly)``                   ``f.L``, ``f.Q``
``I(x^2)``, ``log(x^2)``        ``I(x ** 2)``                          ``I(x^2)``
``a %in% b``                    ``a:b``                                ``a:b``
``Solar.R``, ```my var```       ```Solar.R```, ```my var```           ``Solar.R``, ```my var```
``offset(x)``                   (subtracted from the response)         (no column)
``poly(x, 2)``                  ``poly(x, 2)`` (orthogonal, as R)      ``poly(x, 2)1``
``.``                           every column not otherwise named       (those columns)
==============================  =====================================  ======================

:func:`model_formula` does the parsing (once per fit) and returns a :class:`ModelFormula`;
:func:`pcstats.engines.design.design_matrices` materialises it on rows. Nothing here evaluates
user text: expressions are parsed with :mod:`ast` and rewritten node by node.
"""

from __future__ import annotations

import ast
import keyword
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from ..errors import FormulaError

__all__ = ["Factor", "ModelFormula", "model_formula", "r_name", "CONTRASTS"]

#: R's contrast names (as ``C(f, sum)`` or ``contr.sum``) -> formulaic's
CONTRASTS: dict[str, str] = {"treatment": "contr.treatment", "sum": "contr.sum", "helmert": "contr.helmert",
                             "poly": "contr.poly"}
#: R functions pcstats does not evaluate in a formula, and what to do instead
REFUSED: dict[str, str] = {
    "relevel": "set the reference level on the column instead: a pandas Categorical whose first category is the "
               "reference (df[x] = pd.Categorical(df[x], categories=[ref, ...]))",
    "interaction": "write the interaction as a:b, or make a column of the combined levels",
    "cut": "make the binned column with pandas.cut() first",
    "ns": "natural splines are not available; bs(x, df = k) (B-splines) and poly(x, k) are",
    "cbind": "a two-column response (binomial successes/failures) needs a GLM, which pcstats does not fit yet",
    "Error": "aov's Error() strata are not supported; fit the strata as random effects with MixedSpec",
}
_LOGICAL = {"TRUE": True, "T": True, "FALSE": False, "F": False}
_SYNTACTIC = re.compile(r"^((\.[A-Za-z._]|[A-Za-z])[A-Za-z0-9._]*|\.)$")
_ANSI = re.compile(r"\x1b\[[0-9;]*m|[⧛⧚]")
_PLACEHOLDER = "_pcq{}_"


@dataclass(frozen=True)
class Factor:
    """One factor of a term: the expression formulaic evaluates and the label R prints."""

    expr: str  # what formulaic evaluates (names that are not Python identifiers in backticks)
    label: str  # R's deparse of what the user wrote (``factor(cyl)``, ``I(wt^2)``, ``Solar.R``)
    names: tuple[str, ...]  # data columns it reads
    column: str = ""  # the expression as formulaic writes it in column names (``I(x ** 2)``)


@dataclass(frozen=True)
class ModelFormula:
    """A formula read once: response, terms in R's order, offsets, the columns it reads.

    ``formulaic`` is the text formulaic materialises (``None`` left-hand side when there is no
    response); ``labels`` maps each formulaic factor expression to R's label.
    """

    text: str
    response: Factor | None
    terms: tuple[tuple[Factor, ...], ...]
    intercept: bool
    offsets: tuple[Factor, ...]
    names: tuple[str, ...]

    @property
    def rhs(self) -> str:
        """The right-hand side in formulaic's syntax (``1 + x + C(g)``)."""
        parts = ["1" if self.intercept else "0"] + [":".join(f.expr for f in term) for term in self.terms]
        return " + ".join(parts)

    @property
    def formulaic(self) -> str:
        return (f"{self.response.expr} ~ " if self.response else "~ ") + self.rhs

    @property
    def labels(self) -> dict[str, str]:
        """formulaic's column expression of each factor -> R's label."""
        return {f.column: f.label for term in self.terms for f in term}

    @property
    def factors(self) -> tuple[str, ...]:
        """Distinct right-hand-side factors by R label, in order."""
        return tuple(dict.fromkeys(f.label for term in self.terms for f in term))

    @property
    def term_labels(self) -> tuple[str, ...]:
        """R's term labels (``wt``, ``factor(cyl)``, ``wt:hp``), as ``attr(terms(f), "term.labels")``."""
        return tuple(":".join(f.label for f in term) for term in self.terms)


def r_name(name: str) -> str:
    """A column name as R prints it: bare when syntactic, else in backticks.

    >>> r_name("Solar.R"), r_name("my var")
    ('Solar.R', '`my var`')
    """
    return name if _SYNTACTIC.match(name) and not re.match(r"^\.\d", name) else f"`{name}`"


def model_formula(text: str, columns: Sequence[str] | None = None, ordered: Iterable[str] = (),
                  argument: str = "formula", response: bool = True) -> ModelFormula:
    """Read an R formula; ``columns`` (of the data) resolve ``.`` and dotted names such as ``Solar.R``.

    ``ordered`` names the columns that are ordered factors (polynomial contrasts, as R).
    ``response=False`` reads a one-sided formula (``~ x + z``).

    >>> mf = model_formula("mpg ~ wt * hp + factor(cyl)")
    >>> mf.term_labels, mf.formulaic
    (('wt', 'hp', 'factor(cyl)', 'wt:hp'), 'mpg ~ 1 + wt + hp + C(cyl) + wt:hp')
    >>> model_formula("log(Ozone) ~ Solar.R + I(Temp^2)", ["Ozone", "Solar.R", "Temp"]).formulaic
    'log(Ozone) ~ 1 + `Solar.R` + I(Temp ** 2)'
    """
    if not isinstance(text, str) or "~" not in text:
        example = "'y ~ x'" if response else "'~ x'"
        raise FormulaError(f"{argument}={text!r} is not a formula; write it as 'response ~ terms', e.g. {example}.")
    return _read(text, tuple(str(c) for c in columns) if columns is not None else None, frozenset(ordered), argument,
                 response)


@lru_cache(maxsize=512)
def _read(text: str, columns: tuple[str, ...] | None, ordered: frozenset, argument: str, response: bool) -> ModelFormula:
    """:func:`model_formula`, memoised: a formula read against the same columns is read once per process
    (refits with the same formula, one fit per group, robustness loops)."""
    from formulaic import Formula

    columns = list(columns) if columns is not None else None
    if text.count("`") % 2:
        raise FormulaError(f"{argument}={text!r} has an unmatched backtick; quote a name with one backtick on each "
                           "side, e.g. 'y ~ `my var`'.")
    protected, quoted = _protect(text, columns)
    if "~" not in protected:
        raise FormulaError(f"{argument}={text!r}: the '~' is inside backticks, so the formula has no '~'; close the "
                           "quoted name before it, e.g. '`my y` ~ x'.")
    protected = re.sub(r"\s*%in%\s*", ":", protected)
    if re.search(r"(^|[~+*:(\s])\.(\s*($|[+*:)-]))", protected.split("~", 1)[1]):
        if columns is not None:
            protected = _expand_dot(protected, columns, quoted)
        else:  # read without data (a spec checking its formula): '.' stands for columns not known yet
            key = _PLACEHOLDER.format(len(quoted))
            quoted[key] = "."
            lhs, rhs = protected.split("~", 1)
            protected = lhs + "~" + re.sub(r"(?<![\w.])\.(?![\w.])", key, rhs, count=1)
    if "|" in protected:
        raise FormulaError(f"{argument}={text!r}: '|' has no meaning in a fixed-effects formula. Random-effect terms "
                           "such as '(1 | group)' belong in a MixedSpec or BayesSpec; one fit per group is by=(...).")
    try:
        parsed = Formula(protected)
    except Exception as exc:  # formulaic raises several types; all mean bad syntax
        raise FormulaError(f"{argument}={text!r} cannot be parsed: {_syntax_message(exc)}") from None
    try:
        lhs_terms = list(parsed.lhs) if hasattr(parsed, "lhs") else []
        rhs_terms = list(parsed.rhs) if hasattr(parsed, "rhs") else list(parsed)
        [term.factors for term in lhs_terms + rhs_terms]  # noqa: B018 -- a structured formula has no factors
    except (AttributeError, TypeError, IndexError):
        raise FormulaError(f"{argument}={text!r} is not a formula pcstats reads: write 'response ~ term + term', "
                           "e.g. 'NEE ~ year'.") from None
    if not text.split("~", 1)[1].strip():
        raise FormulaError(f"{argument}={text!r}: the right-hand side is empty; name the terms (e.g. "
                           f"'{text.split('~', 1)[0].strip() or 'y'} ~ year'), or write "
                           f"'{text.split('~', 1)[0].strip() or 'y'} ~ 1' for an intercept only.")
    reader = _Reader(quoted, ordered, argument, text)
    lhs = None
    if response:
        if not lhs_terms:
            raise FormulaError(f"{argument}={text!r} has no response; write it as 'response ~ terms', e.g. "
                               f"'NEE ~ {text.split('~', 1)[1].strip() or 'year'}'.")
        if len(lhs_terms) != 1 or len(lhs_terms[0].factors) != 1:
            raise FormulaError(f"{argument}={text!r}: the left-hand side must be one variable or expression, e.g. 'y ~ x' "
                               "or 'log(y) ~ x'.")
        lhs = reader.factor(lhs_terms[0].factors[0].expr)
    elif lhs_terms:
        raise FormulaError(f"{argument}={text!r} must be one-sided ('~ terms').")
    intercept, terms, offsets = False, [], []
    for term in rhs_terms:
        exprs = [f.expr for f in term.factors]
        if exprs == ["1"]:
            intercept = True
            continue
        if len(exprs) == 1 and re.match(r"^offset\s*\(", exprs[0]):
            offsets.append(reader.offset(exprs[0]))
            continue
        if any(e in ("0", "-1") for e in exprs):
            continue
        terms.append(tuple(reader.factor(e) for e in exprs))
    if not intercept and not terms:
        raise FormulaError(f"{argument}={text!r} has no terms and no intercept, so there is nothing to estimate; "
                           "drop the '0' / '-1', or add terms.")
    names = list(lhs.names) if lhs else []
    for factor in [f for term in terms for f in term] + offsets:
        names.extend(n for n in factor.names if n not in names and n != ".")
    mf = ModelFormula(text=text, response=lhs, terms=tuple(terms), intercept=intercept, offsets=tuple(offsets),
                      names=tuple(dict.fromkeys(names)))
    try:
        return _normalised(mf)
    except FormulaError:
        raise
    except Exception as exc:  # formulaic reads each factor again: its syntax errors, in our words
        raise FormulaError(f"{argument}={text!r} cannot be parsed: {_syntax_message(exc)}") from None


def _syntax_message(exc: Exception) -> str:
    """The first line of formulaic's message without its colour codes, or a hint when it has none."""
    lines = _ANSI.sub("", str(exc)).strip().splitlines()
    fix = "Write it with R's formula operators, e.g. 'y ~ x + z', 'y ~ x * z', 'y ~ (x + z)^2', 'log(y) ~ poly(x, 2)'."
    return f"{lines[0].rstrip('.')}. {fix}" if lines else f"check the operators and parentheses. {fix}"


def _normalised(mf: ModelFormula) -> ModelFormula:
    """Factor expressions as formulaic writes them in column names (``I(x ** 2)``)."""
    from formulaic import Formula

    def norm(f: Factor) -> Factor:
        if "." in f.names:  # '.' read without data: expanded when the data's columns are known
            return Factor(f.expr, f.label, (), f.expr)
        exprs = [g.expr for t in Formula(f"~ 0 + {f.expr}") for g in t.factors]
        return Factor(f.expr, f.label, f.names, exprs[0] if len(exprs) == 1 else f.expr)

    terms = tuple(tuple(norm(f) for f in term) for term in mf.terms)
    response = norm(mf.response) if mf.response else None
    return ModelFormula(mf.text, response, terms, mf.intercept, mf.offsets, mf.names)


# ------------------------------------------------------------------------------------------ names
def _protect(text: str, columns: list[str] | None) -> tuple[str, dict[str, str]]:
    """Backticked names and dotted R names become placeholders Python can parse."""
    quoted: dict[str, str] = {}

    def hold(name: str) -> str:
        for key, value in quoted.items():
            if value == name:
                return key
        key = _PLACEHOLDER.format(len(quoted))
        quoted[key] = name
        return key

    text = re.sub(r"\bas\.(factor|numeric|integer|double)\s*\(", r"as_\1_(", text)  # Python cannot parse as.x
    text = re.sub(r"`([^`]+)`", lambda m: hold(m.group(1)), text)

    def dotted(m: re.Match) -> str:
        name = m.group(0)
        after = text[m.end():].lstrip()[:1]
        if after == "(" or re.match(r"^\.?\d", name) or name.startswith("contr."):
            return name
        if columns is not None and name not in columns:
            return name  # left to the "not a column" message
        return hold(name)

    text = re.sub(r"(?<![\w.`])[A-Za-z.][A-Za-z0-9_]*\.[A-Za-z0-9._]*", dotted, text)
    return text, quoted


def _expand_dot(text: str, columns: list[str], quoted: dict[str, str]) -> str:
    """R's ``.``: every column not otherwise in the formula."""
    lhs, rhs = text.split("~", 1)
    used = {quoted.get(n, n) for n in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", lhs + "~" + rhs)}
    others = [c for c in columns if c not in used and not str(c).startswith("_")]
    if not others:
        raise FormulaError(f"formula {text!r}: '.' stands for every other column, and there is none.")
    placeholders = {v: k for k, v in quoted.items()}
    names = []
    for c in others:
        if c not in placeholders:
            key = _PLACEHOLDER.format(len(quoted))
            quoted[key] = c
            placeholders[c] = key
        names.append(placeholders[c])
    return lhs + "~" + re.sub(r"(?<![\w.])\.(?![\w.])", "(" + " + ".join(names) + ")", rhs, count=1)


class _Reader:
    """Rewrites one factor expression for formulaic and deparses it as R would."""

    def __init__(self, quoted: dict[str, str], ordered: set[str], argument: str, text: str):
        self.quoted, self.ordered, self.argument, self.text = quoted, ordered, argument, text

    def parse(self, expr: str) -> ast.AST:
        try:
            return ast.parse(expr.replace("`", ""), mode="eval").body
        except SyntaxError:
            raise FormulaError(f"{self.argument}={self.text!r}: {self._show(expr)!r} is not a valid expression; names "
                               "start with a letter (quote others in backticks, e.g. `2nd var`), calls are f(x).") from None

    def factor(self, expr: str) -> Factor:
        node = self.parse(expr)
        label = _deparse(node, self.quoted)
        rewritten = self._rewrite(node, top=True)
        return Factor(_unparse(rewritten, self.quoted), label, tuple(self._names(node)))

    def offset(self, expr: str) -> Factor:
        node = self.parse(expr)
        if not (isinstance(node, ast.Call) and len(node.args) == 1 and not node.keywords):
            raise FormulaError(f"{self.argument}={self.text!r}: write an offset as 'offset(expression)', one argument.")
        inner = self._rewrite(node.args[0], top=False)
        return Factor(f"I({_unparse(inner, self.quoted)})", _deparse(node, self.quoted), tuple(self._names(node.args[0])))

    def _show(self, expr: str) -> str:
        for key, name in self.quoted.items():
            expr = expr.replace(key, r_name(name))
        return expr

    def _names(self, node: ast.AST) -> list[str]:
        called = {id(n.func) for n in ast.walk(node) if isinstance(n, ast.Call)}
        skip = {id(n.value) for n in ast.walk(node) if isinstance(n, ast.Attribute)}  # contr.sum
        out = []
        for n in ast.walk(node):
            if isinstance(n, ast.Name) and id(n) not in called and id(n) not in skip and n.id not in _LOGICAL:
                if n.id in CONTRASTS and _is_contrast_argument(node, n):
                    continue
                name = self.quoted.get(n.id, n.id)
                if name not in out:
                    out.append(name)
        return out

    def _rewrite(self, node: ast.AST, top: bool) -> ast.AST:
        if isinstance(node, ast.Name):
            name = self.quoted.get(node.id, node.id)
            if top and name in self.ordered:
                return _call("C", [node, _contrast("poly")])
            if node.id in _LOGICAL:
                return ast.Constant(_LOGICAL[node.id])
            return node
        if isinstance(node, ast.BinOp):
            op = ast.Pow() if isinstance(node.op, ast.BitXor) else node.op
            return ast.BinOp(self._rewrite(node.left, False), op, self._rewrite(node.right, False))
        if isinstance(node, ast.UnaryOp):
            return ast.UnaryOp(node.op, self._rewrite(node.operand, False))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            name = node.func.id
            args = [self._rewrite(a, False) for a in node.args]
            keywords = [ast.keyword(k.arg, self._rewrite(k.value, False)) for k in node.keywords]
            if name in ("as_numeric_", "as_integer_", "as_double_"):
                self._one_argument(node, name.replace("as_", "as.").rstrip("_") + "(x)")
                return _call("I", [args[0]])
            if name in ("factor", "as_factor_"):
                self._one_argument(node, "factor(x)")
                return _call("C", [_unfactor(args[0])])
            if name == "ordered":
                self._one_argument(node, "ordered(x)")
                return _call("C", [_unfactor(args[0]), _contrast("poly")])
            if name == "C":
                return self._c(node, args, keywords)
            if name in REFUSED:
                raise FormulaError(f"{self.argument}={self.text!r}: {name}() is not supported: {REFUSED[name]}.")
            return ast.Call(node.func, args, keywords)
        if isinstance(node, ast.Call):
            return ast.Call(node.func, [self._rewrite(a, False) for a in node.args], node.keywords)
        return node

    def _one_argument(self, node: ast.Call, form: str) -> None:
        if len(node.args) != 1 or node.keywords:
            raise FormulaError(f"{self.argument}={self.text!r}: {self._show(ast.unparse(node))!r}: write {form} "
                               "with one argument (set levels on the data frame column instead).")

    def _c(self, node: ast.Call, args: list[ast.AST], keywords: list[ast.keyword]) -> ast.AST:
        if not args:
            raise FormulaError(f"{self.argument}={self.text!r}: C() needs a factor, e.g. C(cyl, sum).")
        rest = []
        for arg in args[1:2]:
            contrast = _contrast_name(arg)
            if contrast is None:
                raise FormulaError(
                    f"{self.argument}={self.text!r}: {self._show(ast.unparse(node))!r}: the contrast must be one of "
                    f"{', '.join(CONTRASTS)} (or contr.{'/contr.'.join(CONTRASTS)}).")
            rest.append(_contrast(contrast))
        if len(args) > 2:
            raise FormulaError(f"{self.argument}={self.text!r}: C() takes a factor and a contrast; how.many is not supported.")
        return _call("C", [_unfactor(args[0]), *rest], keywords)


def _is_contrast_argument(root: ast.AST, name: ast.Name) -> bool:
    for n in ast.walk(root):
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "C" and name in n.args[1:]:
            return True
    return False


def _call(name: str, args: list[ast.AST], keywords: list[ast.keyword] | None = None) -> ast.Call:
    return ast.Call(ast.Name(name, ast.Load()), args, keywords or [])


def _contrast(name: str) -> ast.AST:
    return ast.Attribute(ast.Name("contr", ast.Load()), name, ast.Load())


def _contrast_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name) and node.id in CONTRASTS:
        return node.id
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "contr":
        return node.attr if node.attr in CONTRASTS else None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return _contrast_name(ast.parse(node.value, mode="eval").body) if re.match(r"^[\w.]+$", node.value) else None
    return None


def _unfactor(node: ast.AST) -> ast.AST:
    """``C(factor(x))`` is ``C(x)``: formulaic's C makes the factor."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "C" and len(node.args) == 1:
        return node.args[0]
    return node


def _unparse(node: ast.AST, quoted: dict[str, str]) -> str:
    text = ast.unparse(node)
    for key, name in quoted.items():
        shown = name if name.isidentifier() and not keyword.iskeyword(name) else f"`{name}`"
        text = re.sub(rf"\b{re.escape(key)}\b", lambda m: shown, text)
    return text


# ------------------------------------------------------------------------------------------ R deparse
_PRECEDENCE = {ast.Add: 1, ast.Sub: 1, ast.Mult: 2, ast.Div: 2, ast.Mod: 3, ast.FloorDiv: 3, ast.Pow: 5, ast.BitXor: 5}
_SYMBOL = {ast.Add: " + ", ast.Sub: " - ", ast.Mult: " * ", ast.Div: " / ", ast.Mod: " %% ", ast.FloorDiv: " %/% ",
           ast.Pow: "^", ast.BitXor: "^"}


def _deparse(node: ast.AST, quoted: dict[str, str]) -> str:
    """An expression as R's ``deparse`` writes it (R's labels of terms and coefficients)."""
    if isinstance(node, ast.Name):
        return r_name(quoted.get(node.id, node.id))
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, float):
            return format(value, ".15g")
        if isinstance(value, str):
            return '"' + value.replace('"', '\\"') + '"'
        return str(value)
    if isinstance(node, ast.Attribute):
        return f"{_deparse(node.value, quoted)}.{node.attr}"
    if isinstance(node, ast.UnaryOp):
        sign = {ast.USub: "-", ast.UAdd: "+", ast.Not: "!"}.get(type(node.op), "-")
        operand = _deparse(node.operand, quoted)
        if isinstance(node.operand, ast.BinOp) and _PRECEDENCE[type(node.operand.op)] < 4:
            operand = f"({operand})"
        return sign + operand
    if isinstance(node, ast.BinOp):
        mine = _PRECEDENCE[type(node.op)]
        right_assoc = isinstance(node.op, (ast.Pow, ast.BitXor))

        def side(child: ast.AST, is_right: bool) -> str:
            text = _deparse(child, quoted)
            if isinstance(child, ast.BinOp):
                theirs = _PRECEDENCE[type(child.op)]
                if theirs < mine or (theirs == mine and is_right != right_assoc):
                    return f"({text})"
            if isinstance(child, ast.UnaryOp) and mine >= 4 and not is_right:
                return f"({text})"
            return text

        return side(node.left, False) + _SYMBOL[type(node.op)] + side(node.right, True)
    if isinstance(node, ast.Call):
        args = [_deparse(a, quoted) for a in node.args]
        args += [f"{k.arg} = {_deparse(k.value, quoted)}" for k in node.keywords]
        func = _deparse(node.func, quoted)
        func = re.sub(r"^as_(\w+)_$", r"as.\1", func)
        return f"{func}({', '.join(args)})"
    if isinstance(node, (ast.List, ast.Tuple)):
        return "c(" + ", ".join(_deparse(e, quoted) for e in node.elts) + ")"
    return ast.unparse(node)
