"""lme4-style random-effect terms: ``(1 | g)``, ``(1 + x | g)``, ``(0 + x | g)``, ``(x || g)``,
``(1 | a/b)``, ``(1 | a:b)``, several bars, crossed and nested groups.

:func:`parse_mixed_formula` splits a mixed-model formula into its fixed part (an ordinary
formula, read by :func:`pcstats.specs.formula.parse_formula`) and a tuple of
:class:`RandomTerm`, which every mixed-model engine reads. The expansions follow lme4:

- ``(x || g)`` is ``(1 | g) + (0 + x | g)``: uncorrelated terms, one per column;
- ``(1 | a/b)`` is ``(1 | a) + (1 | b:a)`` (lme4's names: ``a/b/c`` adds ``c:(b:a)``);
- ``(x | g)`` has an intercept unless ``0 +`` or ``- 1`` removes it.

>>> mf = parse_mixed_formula("NEE ~ year_c * region + (1 + year_c | source) + (1 | source:region)")
>>> mf.fixed
'NEE ~ year_c * region'
>>> [(t.columns, t.group) for t in mf.random]
[(('(Intercept)', 'year_c'), 'source'), (('(Intercept)',), 'source:region')]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ..errors import FormulaError
from .formula import parse_formula
from .r_formula import model_formula

__all__ = ["RandomTerm", "MixedFormula", "parse_mixed_formula"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class RandomTerm:
    """One random-effect term: correlated effects of ``columns`` varying over levels of ``group``.

    ``columns`` are the term's model-matrix columns in pcstats' names (``(Intercept)`` first when
    present), ``factors`` the key columns whose combinations are the levels (``source:region`` →
    ``("source", "region")``), ``text`` the term as written by the user (``expanded_from`` set when
    it came from ``||`` or ``/``).
    """

    columns: tuple[str, ...]
    group: str
    text: str
    expanded_from: str | None = None

    @property
    def factors(self) -> tuple[str, ...]:
        """The columns whose combined levels are the groups (``c:(b:a)`` -> ``('c', 'b', 'a')``)."""
        return tuple(self.group.replace("(", "").replace(")", "").split(":"))

    @property
    def has_intercept(self) -> bool:
        return "(Intercept)" in self.columns

    @property
    def slopes(self) -> tuple[str, ...]:
        return tuple(c for c in self.columns if c != "(Intercept)")

    @property
    def formula(self) -> str:
        """The term's right-hand side as a formula (``1 + year_c``, ``0 + x``)."""
        return " + ".join(("1" if self.has_intercept else "0",) + self.slopes)


@dataclass(frozen=True)
class MixedFormula:
    """A mixed-model formula split into its fixed part and its random-effect terms."""

    text: str
    fixed: str
    random: tuple[RandomTerm, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """Every data name used: the fixed part's names, then those of slopes and grouping factors."""
        names = list(parse_formula(self.fixed).names)
        for term in self.random:
            slopes = model_formula("~ " + term.formula, response=False).names
            for name in slopes + term.factors:
                if name not in names:
                    names.append(name)
        return tuple(names)

    @property
    def grouping_factors(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f for t in self.random for f in t.factors))


def parse_mixed_formula(text: str, argument: str = "formula") -> MixedFormula:
    """Split ``text`` into the fixed formula and lme4-style random-effect terms.

    Raises :class:`pcstats.errors.FormulaError` naming the term at fault.

    >>> [t.text for t in parse_mixed_formula("y ~ x + (x || g)").random]
    ['(1 | g)', '(0 + x | g)']
    >>> [t.group for t in parse_mixed_formula("y ~ 1 + (1 | a/b)").random]
    ['a', 'b:a']
    """
    if not isinstance(text, str) or "~" not in text:
        raise FormulaError(f"{argument}={text!r} is not a formula; write it as 'response ~ terms + (terms | group)'.")
    return _parse_mixed_formula(text, argument)


@lru_cache(maxsize=512)
def _parse_mixed_formula(text: str, argument: str) -> MixedFormula:
    lhs, rhs = text.split("~", 1)
    pieces = _split_top_level(rhs, text, argument)
    fixed_parts, random = [], []
    for piece in pieces:
        inner = _bar_term(piece)
        if inner is None:
            if "|" in piece:
                raise FormulaError(
                    f"{argument}={text!r}: the term {piece.strip()!r} uses '|' outside a random-effect term. "
                    "Write random effects as separate '+ (terms | group)' terms."
                )
            fixed_parts.append(piece.strip())
        else:
            random.extend(_random_terms(piece.strip(), inner, text, argument))
    if not random:
        raise FormulaError(
            f"{argument}={text!r} has no random-effect term. Add one such as '+ (1 | source)', "
            "or fit a fixed-effects model with pcstats.TrendSpec."
        )
    fixed = f"{lhs.strip()} ~ {' + '.join(fixed_parts) if fixed_parts else '1'}"
    checked = fixed
    if re.match(r"\s*cbind\s*\(", lhs):  # a binomial GLMM's two-column response: read by the GLMM preparer
        checked = f"cbind_response_ ~ {fixed.split('~', 1)[1]}"
    try:
        parse_formula(checked, argument)  # the fixed part must be an ordinary formula
    except FormulaError as exc:
        raise FormulaError(f"{argument}={text!r}, fixed part: {exc}") from None
    seen: dict[tuple, str] = {}
    for term in random:
        for column in term.columns:
            key = (frozenset(term.factors), column)  # g:h and h:g are the same grouping
            if key in seen:
                raise FormulaError(
                    f"{argument}={text!r}: {column!r} varies by {term.group!r} in both {seen[key]!r} and {term.text!r}. "
                    "Name each random effect once per grouping factor."
                )
            seen[key] = term.text
    return MixedFormula(text=text, fixed=fixed, random=tuple(random))


def _split_top_level(rhs: str, text: str, argument: str) -> list[str]:
    """Split the right-hand side on '+' outside parentheses, keeping '- 1' style parts attached."""
    pieces, depth, start = [], 0, 0
    for i, ch in enumerate(rhs):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise FormulaError(f"{argument}={text!r}: unbalanced ')' in the formula; every ')' closes one '(' "
                                   "(e.g. 'y ~ x + (1 | g)').")
        elif ch == "+" and depth == 0:
            pieces.append(rhs[start:i])
            start = i + 1
    if depth != 0:
        raise FormulaError(f"{argument}={text!r}: unbalanced '(' in the formula; close each '(' with ')' "
                           "(e.g. 'y ~ x + (1 | g)').")
    pieces.append(rhs[start:])
    if any(not p.strip() for p in pieces):
        raise FormulaError(f"{argument}={text!r}: empty term between '+' signs.")
    return pieces


def _bar_term(piece: str) -> str | None:
    """The inside of ``( ... | ... )`` when the whole piece is one parenthesised bar term."""
    piece = piece.strip()
    if not (piece.startswith("(") and piece.endswith(")")):
        return None
    depth = 0
    for i, ch in enumerate(piece):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0 and i != len(piece) - 1:
            return None  # e.g. "(a) * (b | g)": not one term
    inner = piece[1:-1]
    return inner if "|" in inner else None


def _random_terms(piece: str, inner: str, text: str, argument: str) -> list[RandomTerm]:
    uncorrelated = "||" in inner
    left, _, right = inner.partition("||" if uncorrelated else "|")
    if "|" in right:
        raise FormulaError(f"{argument}={text!r}: {piece!r} has more than one bar; write one '(terms | group)' per term.")
    columns = _columns(left, piece, text, argument)
    groups = _groups(right, piece, text, argument)
    terms = []
    for group in groups:
        if uncorrelated:
            for column in columns:
                sub = f"({'1' if column == '(Intercept)' else '0 + ' + column} | {group})"
                terms.append(RandomTerm(columns=(column,), group=group, text=sub, expanded_from=piece))
        else:
            label = piece if len(groups) == 1 else f"({left.strip()} | {group})"
            terms.append(RandomTerm(columns=columns, group=group, text=label, expanded_from=None if len(groups) == 1 else piece))
    return terms


def _columns(left: str, piece: str, text: str, argument: str) -> tuple[str, ...]:
    """The effects left of the bar: ``(Intercept)`` unless ``0 +`` / ``- 1``, then each expression as written."""
    if not left.strip():
        raise FormulaError(f"{argument}={text!r}: {piece!r} has nothing before the bar; write '(1 | group)' for a random intercept.")
    intercept, slopes = True, []
    for sign, part in _signed_parts(left):
        if part in ("0", "1"):
            intercept = (part == "1") == (sign == "+")
            continue
        if sign == "-":
            raise FormulaError(
                f"{argument}={text!r}: in {piece!r}, '- {part}' is not supported; a random-effect term lists "
                "effects joined by '+', with '0 +' to drop the intercept, e.g. '(0 + year_c | source)'."
            )
        try:
            model_formula(f"~ {part}", argument=argument, response=False)
        except FormulaError:
            raise FormulaError(f"{argument}={text!r}: in {piece!r}, {part!r} is not a valid term; list column names "
                               "or transforms joined by '+' before the bar, e.g. '(1 + year_c | source)'.") from None
        if part not in slopes:
            slopes.append(part)
    columns = (("(Intercept)",) if intercept else ()) + tuple(slopes)
    if not columns:
        raise FormulaError(f"{argument}={text!r}: {piece!r} has no effects left; drop the term or remove '0 +'.")
    return columns


def _signed_parts(left: str) -> list[tuple[str, str]]:
    """``1 + x + factor(g)`` -> ``[('+', '1'), ('+', 'x'), ('+', 'factor(g)')]``, split outside parentheses."""
    parts, depth, start, sign = [], 0, 0, "+"
    for i, ch in enumerate(left + "+"):
        depth += ch == "("
        depth -= ch == ")"
        if ch in "+-" and depth == 0 and i < len(left) + 1:
            part = left[start:i].strip()
            if part:
                parts.append((sign, part))
            sign, start = ch, i + 1
    return parts


def _groups(right: str, piece: str, text: str, argument: str) -> list[str]:
    right = right.replace(" ", "")
    parts = right.split("/")
    for part in parts:
        names = part.split(":")
        if len(set(names)) != len(names):
            raise FormulaError(f"{argument}={text!r}: in {piece!r}, {part!r} repeats a factor; name each factor once.")
        if not part or not all(_NAME.match(n) for n in names):
            raise FormulaError(
                f"{argument}={text!r}: in {piece!r}, the grouping {right!r} must be column names joined by ':' "
                "(interaction) or '/' (nesting), e.g. '(1 | source)', '(1 | source:region)', '(1 | source/region)'."
            )
    # a/b/c -> a, b:a, c:(b:a), as lme4 names the nested terms
    groups = [parts[0]]
    for part in parts[1:]:
        inner = groups[-1]
        groups.append(f"{part}:({inner})" if ":" in inner else f"{part}:{inner}")
    return groups
