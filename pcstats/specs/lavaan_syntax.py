"""lavaan model syntax -> lavaan's parameter table, the one data structure every SEM step reads.

The parser follows lavaan 0.6 (``lavParseModelString``, ``lavaanify``, ``lav_partable_flat``) with the
defaults of ``sem()``; the stored outputs of ``tests/reference/lavaan_partable.R`` are the reference.

Statements: ``f =~ x1 + x2`` (loadings), ``y ~ x`` (regressions), ``y ~ 1`` (intercepts), ``x ~~ z``
((co)variances), ``d := a*b`` (defined parameters), ``a == b``, ``a < b``, ``a > b`` (constraints).
Modifiers go before a name with ``*``: a label (``a*x``, ``"a"*x``, ``label("a")*x``), a fixed value
(``0*x``, ``1*x``), ``NA*x`` (free, e.g. a first loading), ``start(0.5)*x`` (or ``0.5?x``), one value per
group (``c(a1, a2)*x``, ``c(1, NA)*x``); they chain (``a*start(0.5)*x``) and a name may repeat in one
statement to collect modifiers (``a*x + start(0.5)*x``). ``y1 + y2 ~ x`` expands to ``y1 ~ x``,
``y2 ~ x``. ``#`` and ``!`` start comments, ``;`` separates statements, and a statement goes on across
lines when a line ends with an operator, ``+``, ``*`` or an open parenthesis, or the next line starts
with ``+``.

Differences from lavaan 0.6-14, all of them refusals or fixes of silent surprises: whitespace inside a
name is an error (lavaan deletes it: ``x 1`` is ``x1``); a line without an operator is an error unless
it continues a statement as above (lavaan glues any such line onto the previous one); a repeated element
or a regression of a variable on itself is an error (lavaan warns); chained modifiers all apply (lavaan
0.6-14 keeps the first: ``a*start(0.5)*x`` loses the start value). Not supported, each with an error that
says so: ``<~``, ``|``, ``~*~``, ``%``, block syntax (``group: 1``), interaction terms (``x:z``),
``lower()``/``upper()``/``prior()``/``efa()``/``rv()``, functions in constraints and ``.pN.`` labels.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import pandas as pd

from ..errors import FormulaError, SpecError, did_you_mean

__all__ = ["GROUP_EQUAL", "PARTABLE_COLUMNS", "parse_model", "parameter_table"]

PARTABLE_COLUMNS: tuple[str, ...] = (
    "id", "lhs", "op", "rhs", "user", "block", "group", "free", "ustart", "exo", "label", "plabel",
    "start", "est", "se",
)

_CONSTRAINT_OPS = (":=", "==", "<", ">")
_UNSUPPORTED_OPS = {
    "<~": "composites ('<~')", "~*~": "scaling factors ('~*~')", "|": "thresholds ('|')",
    "%": "group weights ('%')", ":": "block syntax ('group: 1') and interaction terms ('x:z')",
}
_RESERVED = frozenset(
    "if else repeat while function for in next break TRUE FALSE NULL Inf NaN NA NA_integer_ NA_real_ "
    "NA_character_ NA_complex_".split()
)
_CALLS = ("c", "start", "label", "equal")
_CONTINUES = frozenset({"+", "-", "*", "/", "^", "(", ",", "?", "=~", "~", "~~", ":=", "==", "<", ">"})
_TOKEN = re.compile(
    r"""(?P<space>\s+)
      | (?P<number>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
      | (?P<name>(?:[^\W\d_]|\.(?![0-9]))[\w.]*)
      | (?P<string>"[^"]*"|'[^']*')
      | (?P<op>~\*~|=~|~~|<~|:=|==|~|<|>|\||%|:)
      | (?P<punct>[-+*/^(),?;])""",
    re.VERBOSE,
)
_EXPRESSION_HINT = "Constraints and defined parameters use labels, numbers, + - * / ^ and parentheses"


# --------------------------------------------------------------------------------------------- tokens
@dataclass(frozen=True)
class _Token:
    kind: str  # number, name, string, op, punct
    text: str
    line: int
    source: str  # the physical line, for messages


def _error(token: _Token, problem: str, fix: str) -> FormulaError:
    """An error naming the line, the line's text and the token at fault."""
    return FormulaError(f"line {token.line}: {problem} {token.text!r} in `{token.source.strip()}`. {fix}")


def _strip_comment(line: str) -> str:
    quote = ""
    for i, char in enumerate(line):
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in "#!":
            return line[:i]
    return line


def _bad_character(number: int, line: str, code: str, pos: int) -> FormulaError:
    token = _Token("punct", code[pos], number, line)
    if code[pos] in "\"'":
        return _error(token, "unclosed quote", f"Close the quoted label with {code[pos]}.")
    if code[pos] == "=":
        return _error(token, "unexpected", "Loadings are written '=~', equality constraints '=='.")
    return _error(token, "unexpected character", "Remove it: names use letters, digits, '.' and '_', operators "
                  "are =~ ~ ~~ := == < > and modifiers use * ( ) , and ?.")


def _tokenize_line(number: int, line: str) -> list[_Token]:
    code = _strip_comment(line).replace("\u02dc", "~")  # lavaan reads a small tilde as ~
    tokens, pos = [], 0
    while pos < len(code):
        match = _TOKEN.match(code, pos)
        if match is None:
            raise _bad_character(number, line, code, pos)
        if match.lastgroup != "space":
            tokens.append(_Token(match.lastgroup or "", match.group(), number, line))
        pos = match.end()
    return tokens


def _segments(tokens: list[_Token]) -> list[list[_Token]]:
    """Split one line's tokens at ';'."""
    out: list[list[_Token]] = [[]]
    for token in tokens:
        if token.text == ";":
            out.append([])
        else:
            out[-1].append(token)
    return [s for s in out if s]


def _is_open(statement: list[_Token]) -> bool:
    depth = sum((t.text == "(") - (t.text == ")") for t in statement)
    return depth > 0 or statement[-1].text in _CONTINUES


def _statements(text: str) -> list[list[_Token]]:
    """Group tokens into statements: lines, ';' and continuation lines as the module docstring says."""
    statements: list[list[_Token]] = []
    for number, line in enumerate(text.split("\n"), start=1):
        for segment in _segments(_tokenize_line(number, line)):
            if statements and (_is_open(statements[-1]) or segment[0].text == "+"):
                statements[-1].extend(segment)
            elif segment[0].text == "+":
                raise _error(segment[0], "the model starts with", "Remove the leading '+'.")
            else:
                statements.append(segment)
    return statements


# ------------------------------------------------------------------------------------------ modifiers
@dataclass(frozen=True)
class _Values:
    values: tuple
    token: _Token  # where the modifier starts


@dataclass(frozen=True)
class _Modifiers:
    fixed: _Values | None = None  # NaN frees the parameter
    start: _Values | None = None
    label: _Values | None = None  # "" means no label

    def merge(self, other: _Modifiers) -> _Modifiers:
        merged = self
        for kind in ("fixed", "start", "label"):
            new = getattr(other, kind)
            if new is None:
                continue
            if getattr(self, kind) is not None:
                word = {"fixed": "value", "start": "start value", "label": "label"}[kind]
                raise _error(new.token, f"a second {word} for one parameter at", f"Give each parameter one {word}.")
            merged = replace(merged, **{kind: new})
        return merged

    def width(self) -> int:
        """The number of values per modifier (one per group when > 1)."""
        return max((len(v.values) for v in (self.fixed, self.start, self.label) if v is not None), default=1)


@dataclass(frozen=True)
class _Operand:
    token: _Token
    name: str | None = None  # a variable name, or a label when followed by '*'
    number: float | None = None
    modifiers: _Modifiers | None = None  # from NA, a quoted label or a call


class _Cursor:
    """Walk a statement's tokens; running off the end blames the last token."""

    def __init__(self, tokens: list[_Token], anchor: _Token) -> None:
        self.tokens, self.pos, self.last = tokens, 0, anchor

    def peek(self) -> _Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def next(self, what: str) -> _Token:
        token = self.peek()
        if token is None:
            raise _error(self.last, "the statement ends after", f"Put {what} after it.")
        self.pos += 1
        self.last = token
        return token


def _check_name(token: _Token, role: str = "a variable") -> str:
    if token.text in _RESERVED or re.fullmatch(r"\.\.\.|\.\.\d+", token.text):
        raise _error(token, "the reserved word", f"R reserves it, so it cannot name {role}; rename it.")
    return token.text


def _literal(cursor: _Cursor, token: _Token) -> tuple[str, float | str]:
    """One value inside c()/start()/label(): ('number', x), ('na', nan) or ('label', text)."""
    if token.text in ("+", "-") and token.kind == "punct":
        number = cursor.next("a number")
        if number.kind != "number":
            raise _error(number, "expected a number but found", "Write a signed number such as -0.5.")
        return "number", float(token.text + number.text)
    if token.kind == "number":
        return "number", float(token.text)
    if token.text == "NA":
        return "na", math.nan
    if token.kind == "string":
        return "label", token.text[1:-1]
    if token.kind == "name":
        return "label", _check_name(token, "a label")
    raise _error(token, "unexpected", "Modifier values are numbers, NA or labels separated by ','.")


def _call_values(cursor: _Cursor, function: _Token) -> list[tuple[str, float | str]]:
    cursor.next("'('")
    values: list[tuple[str, float | str]] = []
    while True:
        token = cursor.next("a value or ')'")
        if token.text == ")" and not values:
            raise _error(function, "no values in", "Give at least one value, e.g. c(a1, a2) or start(0.5).")
        values.append(_literal(cursor, token))
        separator = cursor.next("',' or ')'")
        if separator.text == ")":
            return values
        if separator.text != ",":
            raise _error(separator, "unexpected", "Separate modifier values with ',' and close with ')'.")


def _call(cursor: _Cursor, function: _Token) -> _Modifiers:
    """c(...), start(...), label(...) or equal(...) as modifiers."""
    if function.text not in _CALLS:
        raise _error(function, "unsupported modifier", "pcstats supports labels, fixed values, NA, c(), start(), "
                     "label() and equal(); bounds go in constraints such as `a > 0`.")
    values = _call_values(cursor, function)
    kinds = {kind for kind, _ in values}
    numbers = tuple(math.nan if kind == "na" else v for kind, v in values)
    labels = tuple("" if kind == "na" else v for kind, v in values)
    if function.text == "start" and "label" not in kinds:
        return _Modifiers(start=_Values(numbers, function))
    if function.text in ("label", "equal") and "number" not in kinds:
        return _Modifiers(label=_Values(labels, function))
    if function.text == "c" and "label" not in kinds:
        return _Modifiers(fixed=_Values(numbers, function))
    if function.text == "c" and "number" not in kinds:
        return _Modifiers(label=_Values(labels, function))
    raise _error(function, "mixed numbers and labels in", "Use c() for either fixed values or labels, "
                 "start() for numbers, label() for labels; chain them: a*start(0.5)*x.")


def _operand(cursor: _Cursor, token: _Token) -> _Operand:
    nxt = cursor.peek()
    if token.kind == "name" and nxt is not None and nxt.text == "(":
        return _Operand(token, modifiers=_call(cursor, token))
    if token.text == "NA":
        return _Operand(token, modifiers=_Modifiers(fixed=_Values((math.nan,), token)))
    if token.kind == "name":
        return _Operand(token, name=token.text)
    if token.text in ("+", "-") and token.kind == "punct" and (nxt is None or nxt.kind != "number"):
        raise _error(token, "unexpected", "Expected a variable name or a modifier; remove the extra sign.")
    if token.kind == "number" or (token.text in ("+", "-") and token.kind == "punct"):
        return _Operand(token, number=float(_literal(cursor, token)[1]))
    if token.kind == "string":
        return _Operand(token, modifiers=_Modifiers(label=_Values((token.text[1:-1],), token)))
    raise _error(token, "unexpected", "Expected a variable name or a modifier such as a*, 0.5*, NA* or start(0.5)*.")


def _as_modifier(operand: _Operand, separator: _Token) -> _Modifiers:
    token = operand.token
    if separator.text == "?":
        if operand.number is None:
            raise _error(token, "a start value must be a number, not", "Write e.g. 0.5?x or start(0.5)*x.")
        return _Modifiers(start=_Values((operand.number,), token))
    if operand.modifiers is not None:
        return operand.modifiers
    if operand.number is not None:
        return _Modifiers(fixed=_Values((operand.number,), token))
    return _Modifiers(label=_Values((_check_name(token, "a label"),), token))


def _term(cursor: _Cursor) -> tuple[_Operand, _Modifiers]:
    """``modifier*modifier*...*name``: the final operand and the modifiers before it."""
    modifiers = _Modifiers()
    while True:
        operand = _operand(cursor, cursor.next("a variable name"))
        separator = cursor.peek()
        if separator is None or separator.text not in ("*", "?"):
            return operand, modifiers
        cursor.next("")
        modifiers = modifiers.merge(_as_modifier(operand, separator))


# ------------------------------------------------------------------------------------------ statements
@dataclass(frozen=True)
class _Element:
    lhs: str
    op: str  # =~ ~ ~~ ~1
    rhs: str
    modifiers: _Modifiers
    lhs_token: _Token
    rhs_token: _Token


@dataclass(frozen=True)
class _Constraint:
    lhs: str
    op: str  # := == < >
    rhs: str
    names: tuple[_Token, ...]  # labels (or defined parameters) the expressions use
    lhs_token: _Token


def _rhs_name(operand: _Operand, modifiers: _Modifiers, op: _Token) -> tuple[str, str, _Modifiers]:
    """(op, rhs, modifiers) of the final operand of a term: a variable, or an intercept for ``~ 1``."""
    token = operand.token
    if operand.name is not None:
        return op.text, _check_name(token), modifiers
    if op.text == "~" and operand.number == 1 and token.text != "-":
        return "~1", "", modifiers
    if op.text == "~" and operand.number == 0 and token.text != "-" and modifiers == _Modifiers():
        return "~1", "", _Modifiers(fixed=_Values((0.0,), token))
    if operand.number is not None:
        raise _error(token, f"a number cannot stand for a variable after {op.text!r}:", "Write `y ~ 1` for an "
                     "intercept; a fixed value goes before a name with '*', e.g. 0.5*x.")
    raise _error(token, "a modifier needs '*' and a variable name after it:", "Write e.g. a*x or start(0.5)*x.")


def _lhs_names(tokens: list[_Token]) -> list[_Token]:
    names: list[_Token] = []
    for i, token in enumerate(tokens):
        if i % 2 == 0 and token.kind != "name":
            raise _error(token, "unexpected", "The left of '=~', '~' and '~~' takes names joined by '+'; "
                         "modifiers such as a* go on the right.")
        if i % 2 == 1 and token.text != "+":
            raise _error(token, "unexpected", "Join the names on the left with '+'.")
        if i % 2 == 0:
            _check_name(token)
            names.append(token)
    if len(tokens) % 2 == 0:
        raise _error(tokens[-1], "the left-hand side ends with", "Put a name after '+'.")
    return names


def _rhs_terms(tokens: list[_Token], op: _Token) -> dict[tuple[str, str], tuple[_Token, _Modifiers]]:
    """Terms of the right-hand side by (op, rhs); a repeated name collects its modifiers, as in lavaan."""
    cursor = _Cursor(tokens, op)
    if tokens[0].text == "+":
        cursor.next("")
    terms: dict[tuple[str, str], tuple[_Token, _Modifiers]] = {}
    while True:
        operand, modifiers = _term(cursor)
        key_op, rhs, modifiers = _rhs_name(operand, modifiers, op)
        token = operand.token
        if (key_op, rhs) in terms:
            token, previous = terms[(key_op, rhs)]
            modifiers = previous.merge(modifiers)
        terms[(key_op, rhs)] = (token, modifiers)
        token = cursor.peek()
        if token is None:
            return terms
        if token.text != "+":
            raise _error(token, "unexpected", "Join the terms on the right with '+'.")
        cursor.next("a term")


def _relation(lhs: list[_Token], op: _Token, rhs: list[_Token]) -> list[_Element]:
    terms = _rhs_terms(rhs, op)
    elements = []
    for left in _lhs_names(lhs):
        for (key_op, name), (token, modifiers) in terms.items():
            if name == left.text and op.text in ("=~", "~"):
                what = "a latent variable measured by itself:" if op.text == "=~" else "a regression on itself:"
                raise _error(token, what, f"Remove {name!r} from the right-hand side.")
            elements.append(_Element(left.text, key_op, name, modifiers, left, token))
    return elements


def _expression(tokens: list[_Token], anchor: _Token) -> tuple[_Token, ...]:
    """Check an arithmetic expression (no recursion, so any nesting is safe); return the names in it."""
    names: list[_Token] = []
    depth, want_operand = 0, True
    for i, token in enumerate(tokens):
        if want_operand and token.text in ("-", "+", "("):
            depth += token.text == "("
        elif want_operand and token.kind in ("number", "name"):
            if token.kind == "name":
                if i + 1 < len(tokens) and tokens[i + 1].text == "(":
                    raise _error(token, "function calls are not supported:", _EXPRESSION_HINT + ".")
                names.append(token)
                _check_name(token, "a label")
            want_operand = False
        elif want_operand:
            raise _error(token, "unexpected", _EXPRESSION_HINT + "; expected a label, a number or '('.")
        elif token.text == ")" and depth > 0:
            depth -= 1
        elif token.text in ("+", "-", "*", "/", "^"):
            want_operand = True
        else:
            raise _error(token, "unexpected", _EXPRESSION_HINT + "; join terms with an operator.")
    if want_operand:
        raise _error(tokens[-1] if tokens else anchor, "the expression ends after", "Complete the expression.")
    if depth:
        raise _error(tokens[-1], "an unclosed '(' in the expression ending at", "Close every '(' with ')'.")
    return tuple(names)


def _constraint(lhs: list[_Token], op: _Token, rhs: list[_Token]) -> _Constraint:
    if op.text == ":=" and (len(lhs) != 1 or lhs[0].kind != "name"):
        raise _error(lhs[-1], "a defined parameter needs one name before ':=', not", "Write e.g. `ind := a*b`.")
    if op.text == ":=":
        _check_name(lhs[0], "a defined parameter")
    names = (() if op.text == ":=" else _expression(lhs, op)) + _expression(rhs, op)
    lhs_text, rhs_text = ("".join(t.text for t in side) for side in (lhs, rhs))  # lavaan drops whitespace
    return _Constraint(lhs_text, op.text, rhs_text, names, lhs[0])


def _statement(tokens: list[_Token]) -> list[_Element] | _Constraint:
    ops = [(i, t) for i, t in enumerate(tokens) if t.kind == "op"]
    if not ops:
        raise _error(tokens[0], "no operator in the statement starting with", "Write `lhs op rhs` with op one "
                     "of =~ ~ ~~ := == < >, or continue the line above by ending it with '+'.")
    for _, token in ops:
        if token.text in _UNSUPPORTED_OPS:
            raise _error(token, "unsupported operator", f"pcstats does not support {_UNSUPPORTED_OPS[token.text]}.")
    if len(ops) > 1:
        raise _error(ops[1][1], "a second operator", "Give each relation its own line or separate them with ';'.")
    i, op = ops[0]
    if i == 0:
        raise _error(op, "nothing before", "Put a name on the left, e.g. `y ~ x`.")
    if i == len(tokens) - 1:
        example = {":=": "ind := a*b", "==": "a == b", "<": "a < 1", ">": "a > 0"}.get(op.text, "y ~ x")
        raise _error(op, "nothing after", f"Put the right-hand side after the operator, e.g. `{example}`.")
    if op.text in _CONSTRAINT_OPS:
        return _constraint(tokens[:i], op, tokens[i + 1:])
    return _relation(tokens[:i], op, tokens[i + 1:])


# ------------------------------------------------------------------------------------------- the model
@dataclass(frozen=True)
class _Model:
    elements: tuple[_Element, ...]
    constraints: tuple[_Constraint, ...]


@dataclass(frozen=True)
class _Names:
    """lavaan's variable lists (``lav_partable_vnames``) for one block."""

    lv: tuple[str, ...]
    ov: tuple[str, ...]
    ov_x: tuple[str, ...]  # exogenous observed: their (co)variances come from the data under fixed.x
    ov_nox: tuple[str, ...]
    lv_x: tuple[str, ...]
    lvov_y: tuple[str, ...]  # lv.y then ov.y: endogenous variables no other variable depends on


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def _names(elements: Sequence[_Element]) -> _Names:
    def side(op: str, attr: str) -> tuple[str, ...]:
        return _unique(getattr(e, attr) for e in elements if e.op == op)

    lv, v_ind, eqs_y, eqs_x = side("=~", "lhs"), side("=~", "rhs"), side("~", "lhs"), side("~", "rhs")
    ov_ind = tuple(v for v in v_ind if v not in lv)
    ov_y = tuple(v for v in eqs_y if v not in lv + ov_ind)
    ov_x = tuple(v for v in eqs_x if v not in lv + ov_ind + ov_y)
    covs = [e.lhs for e in elements if e.op == "~~" and e.lhs not in lv]
    covs += [e.rhs for e in elements if e.op == "~~" and e.rhs not in lv]
    covs += [e.lhs for e in elements if e.op == "~1" and e.lhs not in lv]
    ov = ov_ind + ov_y + ov_x + tuple(v for v in _unique(covs) if v not in ov_ind + ov_y + ov_x)
    random = {e.lhs for e in elements if e.op in ("~~", "~1")} | {e.rhs for e in elements if e.op == "~~"}
    exo = tuple(v for v in ov_x if v not in random)  # a variance, covariance or intercept makes x random
    pure_y = set(eqs_y) - set(v_ind) - set(eqs_x)
    return _Names(
        lv=lv, ov=ov, ov_x=exo, ov_nox=tuple(v for v in ov if v not in exo),
        lv_x=tuple(v for v in lv if v not in v_ind + eqs_y),
        lvov_y=tuple(v for v in lv if v in pure_y) + tuple(v for v in ov if v in pure_y and v not in lv),
    )


def _reorder_covariances(elements: list[_Element]) -> list[_Element]:
    """``x ~~ y`` with x after y in (latent, observed) order is written ``y ~~ x``, as lavaan does."""
    names = _names(elements)
    order = {v: i for i, v in enumerate(_unique(names.lv + names.ov))}
    return [
        replace(e, lhs=e.rhs, rhs=e.lhs, lhs_token=e.rhs_token, rhs_token=e.lhs_token)
        if e.op == "~~" and order[e.lhs] > order[e.rhs] else e
        for e in elements
    ]


def _check_duplicates(elements: list[_Element]) -> None:
    seen: dict[tuple[str, str, str], _Element] = {}
    for e in elements:
        keys = [(e.lhs, e.op, e.rhs)] + ([(e.rhs, e.op, e.lhs)] if e.op == "~~" else [])
        first = next((seen[k] for k in keys if k in seen), None)
        if first is not None:
            raise _error(e.rhs_token, f"{e.lhs} {e.op} {e.rhs} repeats line {first.rhs_token.line}:",
                         "Give each parameter once; merge the modifiers into one statement.")
        seen[keys[0]] = e


def _labels(elements: Sequence[_Element]) -> set[str]:
    return {v for e in elements if e.modifiers.label is not None for v in e.modifiers.label.values if v}


def _check_labels(elements: Sequence[_Element]) -> None:
    """A label is a parameter's name: it may not also name a variable (lavaan accepts `y ~ x*x` silently)."""
    variables = {e.lhs for e in elements} | {e.rhs for e in elements if e.op != "~1"}
    for e in elements:
        given = e.modifiers.label
        for label in (given.values if given is not None else ()):
            if label in variables:
                raise _error(given.token, f"the label {label!r} is also a variable of the model, so it would mean two "
                             "things, in", "Rename the label (e.g. 'b_" + label + "').")


def _check_constraints(elements: Sequence[_Element], constraints: Sequence[_Constraint]) -> None:
    """Defined parameters and constraints may use only labels (and defined parameters defined earlier)."""
    labels, variables = _labels(elements), {e.lhs for e in elements} | {e.rhs for e in elements}
    defined = {c.lhs for c in constraints if c.op == ":="}
    known = set(labels)
    for c in constraints:
        for token in c.names:
            if token.text not in known and not (c.op != ":=" and token.text in defined):
                choices = sorted(known | (defined if c.op != ":=" else set()))
                listed = ", ".join(choices) if choices else "none"
                raise _error(token, "unknown label", f"Set labels with modifiers such as a*x (known: {listed})."
                             + did_you_mean(token.text, choices))
        if c.op == ":=":
            if c.lhs in known or c.lhs in variables:
                raise _error(c.lhs_token, "the defined parameter reuses the name", "Give it a new name.")
            known.add(c.lhs)


def _parse(text: str) -> _Model:
    if not isinstance(text, str):
        raise FormulaError(f"line 1: model syntax must be text, not {type(text).__name__}. Pass a string.")
    statements = _statements(text)
    if not statements:
        raise FormulaError("line 1: the model syntax has no statements in `" + text.strip()[:60] + "`. "
                           "Write at least one, e.g. `y ~ x`.")
    elements: list[_Element] = []
    constraints: list[_Constraint] = []
    for tokens in statements:
        parsed = _statement(tokens)
        if isinstance(parsed, _Constraint):
            constraints.append(parsed)
        else:
            elements.extend(parsed)
    if not elements:
        raise _error(constraints[0].lhs_token, "only constraints, starting with", "Add the model's relations, "
                     "e.g. `y ~ a*x`.")
    _check_duplicates(elements)
    _check_labels(elements)
    _check_constraints(elements, constraints)
    return _Model(tuple(_reorder_covariances(elements)), tuple(constraints))


# ------------------------------------------------------------------------------------------- the table
def _default_rows(names: _Names, meanstructure: bool) -> list[tuple[str, str, str]]:
    """What sem() adds (``lav_partable_flat``), in lavaan's order."""
    rows = [(v, "~~", v) for v in names.ov_nox + names.lv]
    rows += [(a, "~~", b) for a, b in itertools.combinations(names.lv_x, 2)]
    rows += [(a, "~~", b) for a, b in itertools.combinations(names.lvov_y, 2)]
    rows += [(a, "~~", b) for i, a in enumerate(names.ov_x) for b in names.ov_x[i:]]
    if meanstructure:
        rows += [(v, "~1", "") for v in names.ov + names.lv]
    return rows


def _row(lhs: str, op: str, rhs: str, user: int, element: int) -> dict:
    return {"lhs": lhs, "op": op, "rhs": rhs, "user": user, "free": 1, "ustart": math.nan, "exo": 0, "label": "",
            "element": element}


def _fix(rows: list[dict], which: Iterable[int], ustart: float, exo: int = 0) -> None:
    for i in which:
        rows[i].update(free=0, ustart=ustart, exo=exo)


def _fix_first_loadings(rows: list[dict]) -> None:
    """auto.fix.first: the first loading of each latent variable is fixed to 1."""
    first: dict[str, int] = {}
    for i, r in enumerate(rows):
        if r["op"] == "=~":
            first.setdefault(r["lhs"], i)
    _fix(rows, first.values(), 1.0)


def _fix_single_indicators(rows: list[dict]) -> None:
    """auto.fix.single: the residual variance of the only indicator of a latent variable is fixed to 0."""
    loadings = [r for r in rows if r["op"] == "=~"]
    per_latent, per_indicator = Counter(r["lhs"] for r in loadings), Counter(r["rhs"] for r in loadings)
    single = {r["rhs"] for r in loadings
              if per_latent[r["lhs"]] == 1 and per_indicator[r["rhs"]] == 1 and r["rhs"] != r["lhs"]}
    _fix(rows, [i for i, r in enumerate(rows)
                if r["op"] == "~~" and r["lhs"] == r["rhs"] and r["lhs"] in single and not r["user"]], 0.0)


def _one_group(model: _Model, fixed_x: bool, meanstructure: bool, std_lv: bool = False) -> list[dict]:
    """User rows then default rows, with sem()'s fixed first loadings (or, ``std_lv``, unit latent
    variances), latent means 0 and fixed.x."""
    names = _names(model.elements)
    rows = [_row(e.lhs, e.op, e.rhs, 1, k) for k, e in enumerate(model.elements)]
    user = {(r["lhs"], r["op"], r["rhs"]) for r in rows}
    rows += [_row(*key, 0, -1) for key in _default_rows(names, meanstructure) if key not in user]
    if std_lv:
        _fix(rows, [i for i, r in enumerate(rows) if r["op"] == "~~" and r["lhs"] == r["rhs"] and r["lhs"] in names.lv
                    and not r["user"]], 1.0)
    else:
        _fix_first_loadings(rows)
    _fix_single_indicators(rows)
    _fix(rows, [i for i, r in enumerate(rows) if r["op"] == "~1" and r["lhs"] in names.lv and not r["user"]], 0.0)
    if fixed_x:
        exo = [i for i, r in enumerate(rows) if not r["user"] and r["lhs"] in names.ov_x
               and ((r["op"] == "~~" and r["rhs"] in names.ov_x) or r["op"] == "~1")]
        _fix(rows, exo, math.nan, exo=1)
    return rows


def _per_group(values: tuple, n_groups: int, element: _Element, token: _Token) -> tuple:
    if len(values) == 1:
        return values * n_groups
    if len(values) != n_groups:
        groups = "1 group" if n_groups == 1 else f"{n_groups} groups"
        raise _error(token, f"{len(values)} values for `{element.lhs} {element.op} {element.rhs}` in a model of "
                     f"{groups}, from", "Give one value per group (see n_groups), or one value for all groups.")
    return values


def _apply_modifiers(rows: list[dict], model: _Model, n_groups: int) -> None:
    """The modifiers of each user element, one value per group (lavaanify's MOD loop)."""
    where: dict[int, list[dict]] = {}
    for r in rows:
        where.setdefault(r["element"], []).append(r)
    for k, element in enumerate(model.elements):
        for kind in ("fixed", "start", "label"):  # lavaan's order: a start value overrides a fixed one
            given = getattr(element.modifiers, kind)
            if given is None:
                continue
            for r, v in zip(where[k], _per_group(given.values, n_groups, element, given.token), strict=True):
                if kind == "fixed":
                    r.update(free=int(math.isnan(v)), ustart=v)
                else:
                    r["ustart" if kind == "start" else "label"] = v


def _equality_rows(rows: list[dict]) -> list[dict]:
    """A label on several parameters makes them equal: '.pi. == .pj.' rows (user 2), or all fixed."""
    labels = [r["label"] or f"{r['lhs']}{r['op']}{r['rhs']}" + (f".g{r['group']}" if r["group"] > 1 else "")
              for r in rows]
    seen: set[str] = set()
    repeated: list[str] = []  # R's unique(LABEL[duplicated(LABEL)])
    for label in labels:
        if label in seen and label not in repeated:
            repeated.append(label)
        seen.add(label)
    out = []
    for label in repeated:
        same = [i for i, lab in enumerate(labels) if lab == label]
        fixed = [i for i in same if rows[i]["free"] == 0]
        if fixed:
            _fix(rows, same, rows[fixed[0]]["ustart"])
            continue
        out += [_constraint_row(rows[same[0]]["plabel"], "==", rows[i]["plabel"], 2) for i in same[1:]]
    return out


def _constraint_row(lhs: str, op: str, rhs: str, user: int) -> dict:
    return {"lhs": lhs, "op": op, "rhs": rhs, "user": user, "block": 0, "group": 0, "free": 0, "ustart": math.nan,
            "exo": 0, "label": lhs if op == ":=" else "", "plabel": ""}


def _check_definitions(rows: list[dict], model: _Model) -> None:
    """A defined parameter may use only labels of free parameters (lavaan refuses others)."""
    usable = {r["label"] for r in rows if r["free"] and r["label"]}
    for c in model.constraints:
        for token in c.names if c.op == ":=" else ():
            if token.text not in usable:
                raise _error(token, "the defined parameter uses the label of a fixed parameter,", "Use labels of "
                             "free parameters (NA*x frees a first loading), or write the fixed value instead.")
        usable.add(c.lhs)


GROUP_EQUAL: tuple[str, ...] = ("loadings", "intercepts", "means", "residuals", "residual.covariances",
                                "lv.variances", "lv.covariances", "regressions")


def _kind(row: dict, latent: set[str]) -> str:
    """The lavaan ``group.equal`` class of a parameter-table row ("" if none)."""
    op, lhs, rhs = row["op"], row["lhs"], row["rhs"]
    if op == "=~":
        return "loadings"
    if op == "~":
        return "regressions"
    if op == "~1":
        return "means" if lhs in latent else "intercepts"
    if op == "~~":
        lv = lhs in latent
        if lhs == rhs:
            return "lv.variances" if lv else "residuals"
        return "lv.covariances" if lv else "residual.covariances"
    return ""


def _group_equal(rows: list[dict], model: _Model, group_equal: Sequence[str], group_partial: Sequence[str]) -> None:
    """lavaan's ``group.equal``: free parameters of a class get the label of their group-1 row (its
    plabel unless it has a label), except those named in ``group_partial``; with "intercepts" but not
    "means", latent means are freed in every group but the first (as lavaan does)."""
    latent = {e.lhs for e in model.elements if e.op == "=~"}
    partial = {_partial_key(text) for text in group_partial}
    first: dict[tuple[str, str, str], dict] = {}
    for r in rows:
        key = (r["lhs"], r["op"], r["rhs"])
        if r["group"] == 1:
            first[key] = r
            continue
        if ("intercepts" in group_equal and "means" not in group_equal and r["op"] == "~1" and r["lhs"] in latent
                and not r["user"]):
            r.update(free=1, ustart=math.nan)
        one = first.get(key)
        if (one is None or _kind(r, latent) not in group_equal or key in partial or not r["free"] or not one["free"]
                or r["label"] or r["exo"]):
            continue
        one["label"] = one["label"] or one["plabel"]
        r["label"] = one["label"]


def _partial_key(text: str) -> tuple[str, str, str]:
    match = re.fullmatch(r"\s*([\w.]+)\s*(=~|~~|~)\s*([\w.]*)\s*", text)
    if match is None:
        raise SpecError(f"group_partial: {text!r} is not a parameter such as 'visual =~ x2', 'x3 ~ 1' or 'x1 ~~ x1'.")
    lhs, op, rhs = match.groups()
    if op == "~" and rhs == "1":
        return lhs, "~1", ""
    if not rhs:
        raise SpecError(f"group_partial: {text!r} has nothing after {op!r}; write e.g. 'visual =~ x2' or 'x3 ~ 1'.")
    return lhs, op, rhs


def _table(model: _Model, *, fixed_x: bool, n_groups: int, meanstructure: bool | None = None, std_lv: bool = False,
           group_equal: Sequence[str] = (), group_partial: Sequence[str] = ()) -> pd.DataFrame:
    if meanstructure is None:
        meanstructure = n_groups > 1
    meanstructure = meanstructure or any(e.op == "~1" for e in model.elements)
    base = _one_group(model, fixed_x, meanstructure, std_lv)
    rows = [dict(r, group=g, block=g) for g in range(1, n_groups + 1) for r in base]
    _apply_modifiers(rows, model, n_groups)
    for i, r in enumerate(rows, start=1):
        r["plabel"] = f".p{i}."
    if group_equal and n_groups > 1:
        _group_equal(rows, model, group_equal, group_partial)
    rows += [_constraint_row(c.lhs, c.op, c.rhs, 1) for c in model.constraints] + _equality_rows(rows)
    _check_definitions(rows, model)
    free = itertools.count(1)
    for i, r in enumerate(rows, start=1):
        r.update(id=i, free=next(free) if r["free"] else 0, start=math.nan, est=math.nan, se=math.nan)
    table = pd.DataFrame(rows, columns=list(PARTABLE_COLUMNS))
    return table.astype({c: "int64" for c in ("id", "user", "block", "group", "free", "exo")})


def _check_observed(model: _Model, observed: Sequence[str]) -> None:
    names = _names(model.elements)
    data = set(observed)
    tokens: dict[str, _Token] = {}
    for e in model.elements:
        tokens.setdefault(e.lhs, e.lhs_token)
        tokens.setdefault(e.rhs, e.rhs_token)
    for v in names.lv:
        if v in data:
            raise _error(tokens[v], "the latent variable (left of '=~') is also a data column:",
                         "Rename the latent variable.")
    for v in names.ov:
        if v not in data:
            raise _error(tokens[v], "unknown variable", "It is neither a data column nor a latent variable "
                         "(defined with =~)." + did_you_mean(v, observed))


def _groups(n_groups: int) -> int:
    if isinstance(n_groups, bool) or not isinstance(n_groups, int) or n_groups < 1:
        raise SpecError(f"n_groups must be a positive integer, got {n_groups!r}.")
    return n_groups


def parameter_table(
    text: str, observed: Sequence[str] | None = None, *, fixed_x: bool = True, n_groups: int = 1,
    meanstructure: bool | None = None, std_lv: bool = False, group_equal: Sequence[str] = (),
    group_partial: Sequence[str] = (),
) -> pd.DataFrame:
    """The parameter table ``sem()`` builds from lavaan model syntax, before estimation.

    Rows are the user's statements, then what ``sem()`` adds: residual variances of endogenous observed
    and of all latent variables, covariances among exogenous latent variables and among the residuals of
    endogenous variables that predict nothing, and (``fixed_x``) the variances and covariances of
    exogenous observed variables (``free = 0``, ``exo = 1``; their values come from the data). The first
    loading of each latent variable is fixed to 1. Intercepts appear when the model has ``~ 1`` terms or
    several groups (``sem()``'s meanstructure default). With ``n_groups`` > 1 the rows repeat per group;
    ``c()`` modifiers give one value per group and a label shared by parameters adds ``.pi. == .pj.``
    rows (``user = 2``). Constraint rows (``:=``, ``==``, ``<``, ``>``) come last with ``block = 0``.

    Parameters
    ----------
    text : str
        lavaan model syntax (see the module docstring for what is supported).
    observed : sequence of str, optional
        Data column names; when given, every observed variable must be one and no latent variable may be.
    fixed_x : bool, default True
        lavaan's ``fixed.x``: exogenous observed (co)variances fixed at their sample values.
    n_groups : int, default 1
        Number of groups (lavaan's ``ngroups``).
    meanstructure : bool, optional
        Intercept rows for every variable (observed intercepts free, latent means fixed at 0); by default
        with several groups or ``~ 1`` statements, as ``sem()``.
    std_lv : bool, default False
        lavaan's ``std.lv``: latent (residual) variances fixed at 1 and first loadings free.
    group_equal, group_partial
        lavaan's ``group.equal`` classes (:data:`GROUP_EQUAL`) made equal across groups, and parameters
        (``"visual =~ x2"``, ``"x3 ~ 1"``) left free of it.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`PARTABLE_COLUMNS`. ``free`` numbers the free parameters 1..npar in lavaan's order
        (0 for fixed ones), ``ustart`` holds fixed values and starts (NaN otherwise); ``start``, ``est``
        and ``se`` are NaN until an engine fills them.

    Raises
    ------
    pcstats.errors.FormulaError
        Bad syntax, an unknown label or variable, or modifiers with the wrong number of values; the
        message names the line, its text and the token at fault.

    Examples
    --------
    >>> from pcstats.specs.lavaan_syntax import parameter_table
    >>> pt = parameter_table("y ~ a*x + z\\nw ~ b*y\\nind := a*b")
    >>> pt[["lhs", "op", "rhs", "user", "free", "exo", "label"]]
       lhs  op  rhs  user  free  exo label
    0    y   ~    x     1     1    0     a
    1    y   ~    z     1     2    0
    2    w   ~    y     1     3    0     b
    3    y  ~~    y     0     4    0
    4    w  ~~    w     0     5    0
    5    x  ~~    x     0     0    1
    6    x  ~~    z     0     0    1
    7    z  ~~    z     0     0    1
    8  ind  :=  a*b     1     0    0   ind
    """
    if isinstance(observed, str):
        raise SpecError(f"observed must be a sequence of column names, not the string {observed!r}.")
    if not isinstance(text, str):
        _parse(text)  # the error that names the type
    return _cached_table(text, None if observed is None else tuple(observed), bool(fixed_x), n_groups,
                         meanstructure, bool(std_lv), tuple(group_equal), tuple(group_partial)).copy()


@functools.lru_cache(maxsize=256)
def _cached_table(text: str, observed: tuple[str, ...] | None, fixed_x: bool, n_groups: int, meanstructure: bool | None,
                  std_lv: bool, group_equal: tuple[str, ...], group_partial: tuple[str, ...]) -> pd.DataFrame:
    """:func:`parameter_table`, read once per model and options (callers get a copy)."""
    model = _parse(text)
    if observed is not None:
        _check_observed(model, observed)
    unknown = [g for g in group_equal if g not in GROUP_EQUAL]
    if unknown:
        raise SpecError(f"group_equal: {unknown[0]!r} is not one of lavaan's classes ({', '.join(GROUP_EQUAL)})."
                        + did_you_mean(unknown[0], GROUP_EQUAL))
    return _table(model, fixed_x=fixed_x, n_groups=_groups(n_groups), meanstructure=meanstructure, std_lv=std_lv,
                  group_equal=group_equal, group_partial=group_partial)


def parse_model(text: str, *, n_groups: int | None = None) -> pd.DataFrame:
    """The user's own statements as parameter-table rows (``user == 1``), flattened as lavaan does.

    ``f =~ x1 + x2`` gives one row per loading, ``y1 + y2 ~ x`` one row per pair, ``y ~ 1`` an ``~1`` row,
    and constraints (``:=``, ``==``, ``<``, ``>``) come last. These are exactly the ``user == 1`` rows of
    :func:`parameter_table`, with the same ``id``, ``free`` and ``plabel``, so they can be matched.

    Parameters
    ----------
    text : str
        lavaan model syntax.
    n_groups : int, optional
        Number of groups; by default the longest ``c()`` modifier (1 when there is none).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`PARTABLE_COLUMNS`.

    Raises
    ------
    pcstats.errors.FormulaError
        Bad syntax; the message names the line, its text and the token at fault.

    Examples
    --------
    >>> from pcstats.specs.lavaan_syntax import parse_model
    >>> rows = parse_model("visual =~ x1 + x2 + x3  # a comment\\nvisual ~~ x4")
    >>> list(rows["rhs"]), list(rows["free"]), list(rows["ustart"].fillna(-1))
    (['x1', 'x2', 'x3', 'x4'], [0, 1, 2, 3], [1.0, -1.0, -1.0, -1.0])
    """
    if not isinstance(text, str):
        _parse(text)  # the error that names the type
    return _cached_statements(text, n_groups).copy()


@functools.lru_cache(maxsize=256)
def _cached_statements(text: str, n_groups: int | None) -> pd.DataFrame:
    model = _parse(text)
    if n_groups is None:
        n_groups = max((e.modifiers.width() for e in model.elements), default=1)
    table = _table(model, fixed_x=True, n_groups=_groups(n_groups))
    return table[table["user"] == 1].reset_index(drop=True)
