"""R's formula language read once: rewriting for formulaic, R's labels, the names a formula reads."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pcstats.engines.design import design_matrices
from pcstats.errors import FormulaError
from pcstats.specs.formula import check_formula_vocabulary
from pcstats.specs.r_formula import model_formula, r_name

COLUMNS = ["mpg", "wt", "hp", "cyl", "Solar.R", "my var", "Ozone", "Temp", "g", "o"]


@pytest.mark.parametrize(("text", "formulaic", "labels", "names"), [
    ("mpg ~ wt * hp + factor(cyl)", "mpg ~ 1 + wt + hp + C(cyl) + wt:hp", ("wt", "hp", "factor(cyl)", "wt:hp"),
     ("mpg", "wt", "hp", "cyl")),
    ("log(Ozone) ~ Solar.R + I(Temp^2)", "log(Ozone) ~ 1 + `Solar.R` + I(Temp ** 2)", ("Solar.R", "I(Temp^2)"),
     ("Ozone", "Solar.R", "Temp")),
    ("mpg ~ C(factor(cyl), sum) + C(g, helmert)", "mpg ~ 1 + C(cyl, contr.sum) + C(g, contr.helmert)",
     ("C(factor(cyl), sum)", "C(g, helmert)"), ("mpg", "cyl", "g")),
    ("mpg ~ (wt + hp + Temp)^2", "mpg ~ 1 + wt + hp + Temp + wt:hp + wt:Temp + hp:Temp",
     ("wt", "hp", "Temp", "wt:hp", "wt:Temp", "hp:Temp"), ("mpg", "wt", "hp", "Temp")),
    ("mpg ~ 0 + factor(cyl) + wt", "mpg ~ 0 + C(cyl) + wt", ("factor(cyl)", "wt"), ("mpg", "cyl", "wt")),
    ("mpg ~ wt - 1", "mpg ~ 0 + wt", ("wt",), ("mpg", "wt")),
    ("mpg ~ wt %in% g", "mpg ~ 1 + wt:g", ("wt:g",), ("mpg", "wt", "g")),
    ("mpg ~ `my var` + o + ordered(cyl)", "mpg ~ 1 + `my var` + C(o, contr.poly) + C(cyl, contr.poly)",
     ("`my var`", "o", "ordered(cyl)"), ("mpg", "my var", "o", "cyl")),
    ("mpg ~ poly(wt, degree = 2, raw = TRUE)", "mpg ~ 1 + poly(wt, degree=2, raw=True)",
     ("poly(wt, degree = 2, raw = TRUE)",), ("mpg", "wt")),
])
def test_r_idioms_are_rewritten_and_labelled_as_r(text, formulaic, labels, names):
    mf = model_formula(text, COLUMNS, ordered=["o"])
    assert mf.formulaic == formulaic
    assert mf.term_labels == labels
    assert mf.names == names


def test_offset_and_dot():
    mf = model_formula("mpg ~ wt + offset(0.5 * hp)", COLUMNS)
    assert mf.term_labels == ("wt",) and [o.label for o in mf.offsets] == ["offset(0.5 * hp)"]
    assert mf.names == ("mpg", "wt", "hp")
    dot = model_formula("mpg ~ . - g", ["mpg", "wt", "hp", "g"])
    assert dot.term_labels == ("wt", "hp") and dot.names == ("mpg", "wt", "hp", "g")[:3]


def test_r_names():
    assert r_name("Solar.R") == "Solar.R" and r_name("my var") == "`my var`" and r_name(".5x") == "`.5x`"


def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 30
    return pd.DataFrame({"y": rng.normal(size=n), "x": rng.normal(size=n), "cyl": rng.choice([4, 6, 8], n),
                         "g": rng.choice(["a", "b", "c"], n), "t": rng.random(n) > 0.5,
                         "o": pd.Categorical(rng.choice(["L", "M", "H"], n), categories=["L", "M", "H"], ordered=True)})


@pytest.mark.parametrize(("text", "columns"), [
    ("y ~ x * factor(cyl)", ["(Intercept)", "x", "factor(cyl)6", "factor(cyl)8", "x:factor(cyl)6", "x:factor(cyl)8"]),
    ("y ~ C(factor(cyl), sum) + g:x", ["(Intercept)", "C(factor(cyl), sum)1", "C(factor(cyl), sum)2", "ga:x", "gb:x", "gc:x"]),
    ("y ~ o + t", ["(Intercept)", "o.L", "o.Q", "tTRUE"]),
    ("y ~ poly(x, 2) + C(g, helmert)", ["(Intercept)", "poly(x, 2)1", "poly(x, 2)2", "C(g, helmert)1", "C(g, helmert)2"]),
    ("y ~ factor(cyl) * g", ["(Intercept)", "factor(cyl)6", "factor(cyl)8", "gb", "gc", "factor(cyl)6:gb",
                             "factor(cyl)8:gb", "factor(cyl)6:gc", "factor(cyl)8:gc"]),
])
def test_design_columns_are_named_as_r_model_matrix(text, columns):
    data = frame()
    mf = model_formula(text, list(data.columns), ordered=["o"])
    assert list(design_matrices(mf, data).X.columns) == columns


def test_offset_is_subtracted_from_the_response():
    data = frame()
    m = design_matrices(model_formula("y ~ x + offset(2 * x)", list(data.columns)), data)
    np.testing.assert_allclose(m.y, data["y"] - 2 * data["x"], rtol=1e-15)
    np.testing.assert_allclose(m.offset, 2 * data["x"], rtol=1e-15)


@pytest.mark.parametrize(("text", "message"), [
    ("mpg ~ C(cyl, bogus)", "the contrast must be one of treatment, sum, helmert, poly"),
    ("mpg ~ factor(cyl, levels = 3)", "write factor\\(x\\) with one argument"),
    ("mpg", "is not a formula"),
    ("mpg + wt ~ hp", "the left-hand side must be one variable or expression"),
])
def test_errors_name_the_idiom(text, message):
    with pytest.raises(FormulaError, match=message):
        model_formula(text, COLUMNS)


def test_safe_vocabulary_takes_r_idioms_and_refuses_code():
    check_formula_vocabulary("mpg ~ factor(cyl) + C(g, sum) + I(wt^2) + poly(hp, 2) + log(Ozone) + offset(Temp)")
    for text in ("mpg ~ os.system('x')", "mpg ~ __import__('os')", "mpg ~ wt.mean()", "mpg ~ poly(wt, f=open)"):
        with pytest.raises(FormulaError, match="outside the safe vocabulary"):
            check_formula_vocabulary(text)
