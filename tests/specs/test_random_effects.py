"""lme4-style random-effect terms into the structure every mixed engine reads."""

from __future__ import annotations

import pytest

from pcstats.errors import FormulaError
from pcstats.specs.random_effects import parse_mixed_formula


def terms(formula: str) -> list[tuple[tuple[str, ...], str]]:
    return [(t.columns, t.group) for t in parse_mixed_formula(formula).random]


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ("y ~ x + (1 | g)", [(("(Intercept)",), "g")]),
        ("y ~ x + (1 + x | g)", [(("(Intercept)", "x"), "g")]),
        ("y ~ x + (x | g)", [(("(Intercept)", "x"), "g")]),  # intercept implied, as lme4
        ("y ~ x + (0 + x | g)", [(("x",), "g")]),
        ("y ~ x + (x - 1 | g)", [(("x",), "g")]),
        ("y ~ x + (x || g)", [(("(Intercept)",), "g"), (("x",), "g")]),
        ("y ~ x + (1 | g) + (1 | h)", [(("(Intercept)",), "g"), (("(Intercept)",), "h")]),
        ("y ~ x + (1 | g/h)", [(("(Intercept)",), "g"), (("(Intercept)",), "h:g")]),
        ("y ~ x + (1 | g:h)", [(("(Intercept)",), "g:h")]),
        ("y ~ x + (1 + x | g/h)", [(("(Intercept)", "x"), "g"), (("(Intercept)", "x"), "h:g")]),
    ],
)
def test_terms(formula, expected):
    assert terms(formula) == expected


def test_fixed_part_and_names():
    mf = parse_mixed_formula("NEE ~ year_c * region + (1 + year_c | source) + (1 | source:year)")
    assert mf.fixed == "NEE ~ year_c * region"
    assert mf.names == ("NEE", "year_c", "region", "source", "year")
    assert mf.grouping_factors == ("source", "year")


def test_expansions_remember_what_was_written():
    a, b = parse_mixed_formula("y ~ x + (x || g)").random
    assert (a.text, b.text) == ("(1 | g)", "(0 + x | g)")
    assert a.expanded_from == b.expanded_from == "(x || g)"


def test_intercept_only_fixed_part():
    assert parse_mixed_formula("y ~ (1 | g)").fixed == "y ~ 1"


@pytest.mark.parametrize(
    ("formula", "message"),
    [
        ("y ~ x", "no random-effect term"),
        ("y ~ x | g", "'x | g' uses '|' outside"),
        ("y ~ x * (1 | g)", "uses '|' outside"),
        ("y ~ x + (log(x) - x | g)", "'- x' is not supported"),
        ("y ~ x + (1 | g | h)", "more than one bar"),
        ("y ~ x + (1 | )", "grouping '' must be column names"),
        ("y ~ x + (1 | g) + (1 | g)", "'(Intercept)' varies by 'g' in both"),
        ("y ~ x + (0 | g)", "has no effects left"),
        ("y ~ x + ((1 | g)", "unbalanced"),
        ("y ~ x + (1 | g-h)", "must be column names"),
        ("not a formula", "is not a formula"),
        ("y ~ x + ( | g)", "nothing before the bar"),
        ("y ~ x + (1 | g:g)", "repeats a factor"),
        ("y ~ x + (1 | g:h) + (1 | h:g)", "'(Intercept)' varies by 'h:g' in both"),
    ],
)
def test_errors_name_the_term(formula, message):
    with pytest.raises(FormulaError, match=message.replace("(", r"\(").replace(")", r"\)").replace("|", r"\|").replace("*", r"\*")):
        parse_mixed_formula(formula)
