"""Fuzzing the parsers and pc.fit: bad input raises a pcstats error or nothing (issue 18, part 2).

Formula-like strings, lavaan-like model strings, prior strings, TOML spec files and spec arguments of
random types are generated with a fixed seed (``derandomize=True``); every call must either succeed or
raise a subclass of :class:`pcstats.PcstatsError`. Any other exception (``AttributeError``,
``IndexError``, ``KeyError``, a numpy or semopy error, ...) fails the test with the input that caused
it. A smaller run fits generated formulas and SEM models to small generated data frames.
"""

from __future__ import annotations

import dataclasses
import math
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pcstats as pc
from pcstats.specs.bayes import parse_prior
from pcstats.specs.formula import check_formula_vocabulary, check_where, parse_formula
from pcstats.specs.lavaan_syntax import parameter_table, parse_model
from pcstats.specs.r_formula import model_formula
from pcstats.specs.random_effects import parse_mixed_formula

FAST = settings(derandomize=True, deadline=None, max_examples=1500, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
SLOW = settings(derandomize=True, deadline=None, max_examples=100, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def only_pcstats_errors(call, *args, **kwargs) -> object:
    """Call; a pcstats error is an answer, any other exception fails with the input that caused it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return call(*args, **kwargs)
    except pc.PcstatsError as exc:
        assert str(exc).strip(), f"{call.__name__}{args!r}: a pcstats error with no message"
        return exc
    except Exception as exc:  # the point of the test: nothing else may escape
        pytest.fail(f"{call.__name__}{args!r} {kwargs!r} raised {type(exc).__name__}: {exc}", pytrace=False)


# --------------------------------------------------------------------------------------- formulas
NAMES = ["NEE", "year", "x", "y", "g", "region", "Solar.R", "`my var`", "a.b", "_x", "x1", "T"]
OPERATORS = ["~", "+", "*", ":", "|", "||", "/", "(", ")", "-", "^", ".", "0", "1", "%in%", ",", "~~", "=", "2",
             "1.5", "'a'", "[", "]", "{", "}", "\\", "!", "@", "#", "$"]
FUNCTIONS = ["log(", "factor(", "I(", "poly(", "C(", "offset(", "scale(", "ordered(", "as.factor(", "exp(",
             "center(", "bs(", "os.system(", "contr.sum", "sum", "helmert", "lambda x:", "__import__(", "degree=",
             "raw=", "pmax("]
TOKENS = st.sampled_from(NAMES + OPERATORS + FUNCTIONS)
SPACE = st.sampled_from(["", " ", "  ", "\n", "\t"])
token_string = st.lists(st.tuples(TOKENS, SPACE).map("".join), max_size=14).map("".join)
CALLS = ["log", "factor", "I", "poly", "C", "offset", "scale", "ordered", "as.factor", "exp", "center", "bs", "pmax",
         "os.system", "__import__", "contr.sum", "sqrt", "as.numeric", "f", "lambda"]
EXTRA = ["", "", ", 2", ", sum", ", degree=2", ", raw=TRUE", ", x", ", 'a'", ", helmert", ", contr.poly", ", 1, 2",
         ", ", ", y=1", ", 0"]
BINARY = ["+", "*", ":", "/", "^", "%in%", "-", "+", "+", "|", "||", "**", "%%"]
expression = st.recursive(
    st.sampled_from(NAMES + ["0", "1", "-1", "2", ".", "1e3", "TRUE", "x[1]", "x.y.z", "`a b`"]),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(BINARY), inner).map(" ".join),
        st.tuples(st.sampled_from(CALLS), inner, st.sampled_from(EXTRA)).map(lambda p: f"{p[0]}({p[1]}{p[2]})"),
        inner.map(lambda e: f"({e})"),
        st.tuples(inner, st.sampled_from(["|", "||"]), inner).map(lambda p: f"({p[0]} {p[1]} {p[2]})"),
    ), max_leaves=8)
LHS = st.sampled_from(["", "NEE", "y", "log(y)", "y + x", "cbind(y, x)", "I(y^2)", "`my var`", "0", "y | g"])
grammar_formula = st.tuples(LHS, expression).map(" ~ ".join)


def mutate(args: tuple[str, int, str, int]) -> str:
    """Insert a token at a position and delete a few characters after it."""
    text, at, token, cut = args
    at = at % (len(text) + 1)
    return text[:at] + token + text[at + cut:]


mutated_formula = st.tuples(grammar_formula, st.integers(0, 60), st.sampled_from(NAMES + OPERATORS + FUNCTIONS + [""]),
                            st.integers(0, 3)).map(mutate)
two_sided = st.tuples(st.sampled_from(["", "NEE", "y", "log(y)", "y + x", "~"]), token_string).map(" ~ ".join)
formula_text = st.one_of(grammar_formula, grammar_formula, mutated_formula, mutated_formula, two_sided,
                         st.text(max_size=30))


@FAST
@given(formula_text)
def test_fixed_formula_parsers(text):
    only_pcstats_errors(parse_formula, text)
    only_pcstats_errors(model_formula, text, ["NEE", "year", "x", "y", "Solar.R", "my var", "a.b", "g"])
    only_pcstats_errors(check_formula_vocabulary, text)
    only_pcstats_errors(pc.TrendSpec, text)


@FAST
@given(st.one_of(formula_text, st.tuples(grammar_formula, expression).map(lambda p: f"{p[0]} + ({p[1]})"),
                 st.tuples(grammar_formula, expression, st.sampled_from(["|", "||"]), expression)
                 .map(lambda p: f"{p[0]} + ({p[1]} {p[2]} {p[3]})"),
                 st.tuples(token_string, st.sampled_from(["|", "||"]), token_string)
                 .map(lambda p: f"y ~ x + ({p[0]} {p[1]} {p[2]})")))
def test_mixed_formula_parsers(text):
    only_pcstats_errors(parse_mixed_formula, text)
    only_pcstats_errors(pc.MixedSpec, text)
    only_pcstats_errors(pc.BayesSpec, text)


@settings(FAST, max_examples=800)
@given(st.one_of(token_string, st.text(max_size=30),
                 st.tuples(st.sampled_from(NAMES + ["season", "1", "'a'", "[1, 2]", "()"]),
                           st.sampled_from(["==", "!=", "<", ">=", "in", "not in", "and", "or", "is", "+", ""]),
                           st.sampled_from(NAMES + ["'ANN'", "1980", "[1, 'a']", "None", "x.y", "f(x)", ""]))
                 .map(" ".join)))
def test_row_filters(text):
    only_pcstats_errors(check_where, text)
    only_pcstats_errors(pc.TrendSpec, "y ~ x", where=text)


# ------------------------------------------------------------------------------------------- lavaan
LAVAAN_NAMES = ["f", "f1", "f2", "x1", "x2", "x3", "y", "nee", "ter", "a", "b", "c", "1", "0", "NA", "0.5", "d"]
LAVAAN_OPS = ["=~", "~", "~~", ":=", "==", "<", ">", "<~", "|", "%", ":", "~*~", "<-"]
MODIFIERS = ["", "", "a*", "b*", "1*", "0*", "NA*", "start(0.5)*", "c(a, b)*", "label('z')*", "0.5?", "equal('a')*",
             "c(1, NA)*", "*", "a*b*", "-", "c()*", "start()*"]
lavaan_term = st.tuples(st.sampled_from(MODIFIERS), st.sampled_from(LAVAAN_NAMES)).map("".join)
lavaan_rhs = st.lists(lavaan_term, min_size=0, max_size=4).map(" + ".join)
lavaan_line = st.one_of(
    st.tuples(st.sampled_from(LAVAAN_NAMES), st.sampled_from(LAVAAN_OPS), lavaan_rhs).map(" ".join),
    st.tuples(st.sampled_from(LAVAAN_NAMES), st.sampled_from([":=", "==", "<", ">"]),
              st.lists(st.sampled_from(LAVAAN_NAMES + ["*", "+", "-", "/", "^", "(", ")", "exp("]), max_size=6)
              .map(" ".join)).map(" ".join),
    st.lists(st.sampled_from(LAVAAN_NAMES + LAVAAN_OPS + ["*", "+", "(", ")", ";", "#", "!", '"', ",", "?"]),
             max_size=6).map(" ".join),
)
VALID_MODELS = ["visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nvisual ~~ textual",
                "y ~ a*x + z\nw ~ b*y\nind := a*b\na == b", "f =~ NA*x1 + start(0.5)*x2 + c(1, NA)*x3\nf ~~ 1*f",
                "y1 + y2 ~ x  # comment\ny1 ~~ y2; x ~ 1", "d := a^2 - 1\ny ~ a*x +\n  z\na > 0"]
mutated_model = st.tuples(st.sampled_from(VALID_MODELS), st.integers(0, 120),
                          st.sampled_from(LAVAAN_OPS + MODIFIERS + LAVAAN_NAMES + ["\n", ";", "#", "(", ")", '"', "'",
                                                                                     "+", " ", "", "\t", "\\"]),
                          st.integers(0, 4)).map(mutate)
lavaan_model = st.one_of(st.lists(lavaan_line, min_size=1, max_size=5).map("\n".join), mutated_model, mutated_model,
                         st.text(max_size=40))


@FAST
@given(lavaan_model)
def test_lavaan_parser(model):
    only_pcstats_errors(parse_model, model)
    only_pcstats_errors(pc.SEMSpec, model)


@settings(FAST, max_examples=500)
@given(lavaan_model, st.integers(1, 3), st.sampled_from([None, ["x1", "x2", "x3", "y"], ["f", "x1"]]))
def test_lavaan_parameter_table(model, groups, observed):
    only_pcstats_errors(parameter_table, model, observed, n_groups=groups)


# ------------------------------------------------------------------------------------------- priors
PRIOR_KEYS = ["fixed", "intercept", "sd", "sigma", "nu", "Intercept", "", "x", "sd_source"]
DISTRIBUTIONS = ["normal", "student_t", "exponential", "half_normal", "halfnormal", "half_cauchy", "gamma",
                 "cauchy", "uniform", "foo", "", "Normal", "lognormal"]
NUMBERS = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr),
                    st.sampled_from(["inf", "-inf", "nan", "1e400", "0", "-1", "1", "a", "", "1,", "(1)", "1e", "0x10",
                                     "1_000", "True", "None", "--1"]))
prior_text = st.one_of(
    st.tuples(st.sampled_from(DISTRIBUTIONS), st.lists(NUMBERS, max_size=4).map(", ".join))
    .map(lambda p: f"{p[0]}({p[1]})"),
    st.text(max_size=25),
)


@FAST
@given(st.sampled_from(PRIOR_KEYS), prior_text)
def test_prior_parser(key, text):
    only_pcstats_errors(parse_prior, key, text)
    only_pcstats_errors(pc.BayesSpec, "NEE ~ year_c + (1 | source)", priors={key: text})


# -------------------------------------------------------------------------------------- spec files
FIELDS = ["family", "name", "formula", "model", "by", "where", "method", "cov_type", "hac_lags", "min_years", "reml",
          "priors", "draws", "chains", "conf_level", "engine", "group", "se", "bootstrap", "seed", "likelihood",
          "weights", "response", "temperature", "form", "t_ref", "entity", "time", "simulated", "observed", "min_n",
          "sigma_by", "target_accept", "entity_effects", "fromula"]
FAMILY_NAMES = ["trend", "mixed", "sem", "bayes", "panel", "q10", "skill", "trnd", ""]
leaf = st.one_of(
    st.sampled_from(FAMILY_NAMES + ["NEE ~ year", "y ~ x + (1 | g)", "f =~ x1 + x2 + x3", "season == 'ANN'",
                                    "ols", "HAC", "source", "normal(0, 1)"]),
    st.text(max_size=12), st.integers(-10**20, 10**20), st.floats(), st.booleans(),
)
toml_value = st.recursive(leaf, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                        st.dictionaries(st.sampled_from(PRIOR_KEYS[:5]), inner,
                                                                        max_size=3)), max_leaves=6)
spec_dict = st.dictionaries(st.sampled_from(FIELDS), toml_value, max_size=6)


SPEC_OF = {"trend": pc.TrendSpec, "mixed": pc.MixedSpec, "sem": pc.SEMSpec, "bayes": pc.BayesSpec, "panel": pc.PanelSpec,
           "q10": pc.Q10Spec, "skill": pc.SkillSpec}


def _load(text: bytes, trust=False):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "spec.toml"
        path.write_bytes(text)
        return pc.load_spec(path, trust=trust)


def load_spec_text(text: bytes, trust=False):
    return _load(text, trust)


@settings(FAST, max_examples=1000)
@given(st.sampled_from(FAMILY_NAMES[:7]), spec_dict, st.booleans())
def test_spec_files_with_fields_of_random_types(family, fields, complete):
    if family in SPEC_OF and not {"family", "fromula"} & set(fields):  # mostly the family's own keys
        own = {f.name for f in dataclasses.fields(SPEC_OF[family])}
        fields = {k: v for k, v in fields.items() if k in own}
    if complete:  # the required keys with good values, so that the other keys' values are what is tested
        cls = SPEC_OF[family]
        required = {"skill": {"simulated": "TRENDY:NEE", "observed": "EC:NEE"}, "sem": {"model": FIRST[pc.SEMSpec]},
                    "q10": {}}.get(family, {"formula": FIRST.get(cls, "NEE ~ year")})
        fields = {**required, **{k: v for k, v in fields.items() if k not in required}}
    fields = {"family": family, **fields} if "family" not in fields else fields
    try:
        text = tomli_w.dumps(fields).encode("utf-8")
    except Exception:  # a NaN or a value TOML cannot write: not what is tested here
        return
    only_pcstats_errors(load_spec_text, text)


@settings(FAST, max_examples=400)
@given(st.one_of(st.binary(max_size=60), st.text(max_size=60).map(lambda t: t.encode("utf-8")),
                 st.tuples(st.sampled_from([b'family = "trend"\n', b'family = "sem"\n', b""]), st.binary(max_size=30))
                 .map(b"".join)),
       st.sampled_from([False, True, "false", 0, None, "True"]))
def test_spec_files_of_random_bytes(data, trust):
    only_pcstats_errors(load_spec_text, data, trust)


SPEC_TYPES = [pc.TrendSpec, pc.MixedSpec, pc.SEMSpec, pc.BayesSpec, pc.PanelSpec, pc.Q10Spec, pc.SkillSpec]
FIRST = {pc.TrendSpec: "NEE ~ year", pc.MixedSpec: "NEE ~ year_c + (1 | source)", pc.SEMSpec: "nee ~ gpp + ter",
         pc.PanelSpec: "NEE ~ GPP", pc.BayesSpec: "NEE ~ year_c + (1 | source)"}
python_value = st.one_of(leaf, st.none(), st.lists(leaf, max_size=3), st.tuples(leaf, leaf),
                         st.dictionaries(st.sampled_from(PRIOR_KEYS[:5]), leaf, max_size=2), st.just(object()),
                         st.just(math.inf), st.just(float("nan")), st.just(np.int64(3)), st.just(np.float64(0.5)))


@settings(FAST, max_examples=1000)
@given(st.sampled_from(SPEC_TYPES), st.dictionaries(st.sampled_from(FIELDS[1:-1]), python_value, max_size=3))
def test_spec_arguments_of_random_types(cls, kwargs):
    names = {f.name for f in dataclasses.fields(cls)}
    kwargs = {k: v for k, v in kwargs.items() if k in names}
    args = (FIRST[cls],) if cls in FIRST and not ({"formula", "model"} & set(kwargs)) else ()
    if cls is pc.SkillSpec and not {"simulated", "observed"} <= set(kwargs):
        kwargs = {"simulated": "TRENDY:NEE", "observed": "EC:NEE", **kwargs}
    spec = only_pcstats_errors(cls, *args, **kwargs)
    if isinstance(spec, cls):  # a spec that was accepted can be written and read back
        only_pcstats_errors(save_and_load, spec)


def save_and_load(spec):
    with tempfile.TemporaryDirectory() as folder:
        return pc.load_spec(pc.save_spec(spec, Path(folder) / "spec.toml"), trust=True)


# -------------------------------------------------------------------------------------------- fit
def frame(seed: int, n: int, nan_column: str | None, constant_column: str | None) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    f = rng.normal(size=n)
    data = pd.DataFrame({
        "y": 1 + 0.5 * x1 - 0.3 * x2 + rng.normal(size=n), "x1": x1, "x2": x2,
        "x3": f + rng.normal(scale=0.5, size=n), "x4": f + rng.normal(scale=0.5, size=n),
        "x5": f + rng.normal(scale=0.5, size=n), "g": rng.choice(["a", "b", "c"], size=n),
        "w": rng.uniform(0.5, 2, size=n),
    })
    if nan_column:
        data[nan_column] = np.nan
    if constant_column:
        data[constant_column] = 1.0
    return data


COLUMNS = ["y", "x1", "x2", "x3", "x4", "x5", "g", "w", "zz"]
data_frames = st.builds(frame, st.integers(0, 10**6), st.sampled_from([25, 60, 8, 3]),
                        st.sampled_from([None] * 6 + ["x1", "x3", "y", "g"]),
                        st.sampled_from([None] * 6 + ["x2", "x4", "g"]))
fit_formula = st.tuples(
    st.sampled_from(["y", "x3", "log(y)", "I(y^2)", "g", "zz"]),
    st.lists(st.sampled_from(["x1", "x2", "x3", "g", "factor(g)", "x1:x2", "x1*g", "poly(x1, 2)", "poly(x1, 9)", "0",
                              "1", "-1", "log(x1)", "I(x1^2)", "offset(x2)", "scale(x1)", ".", "C(g, sum)",
                              "ordered(g)", "(x1 + x2)^2", "exp(x1 * 1000)", "I(x1 - x1)", "zz"]),
             min_size=1, max_size=4).map(" + ".join),
).map(" ~ ".join)


fit_expression = st.recursive(
    st.sampled_from(["x1", "x2", "g", "a.b", "`x 6`", "1", "0", "2", "."]),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["+", "*", ":", "/", "^", "-", "%in%"]), inner).map(" ".join),
        st.tuples(st.sampled_from(["log", "exp", "sqrt", "I", "poly", "factor", "C", "scale", "ordered", "bs", "offset",
                                   "center", "as.numeric", "pmax", "abs", "log1p"]), inner,
                  st.sampled_from(["", "", ", 2", ", sum", ", degree = 3", ", df = 4", ", x2", ", 0"]))
        .map(lambda p: f"{p[0]}({p[1]}{p[2]})"),
        inner.map(lambda e: f"({e})"),
    ), max_leaves=5)


ODD = {
    "bool": lambda c: c > 0, "text numbers": lambda c: c.round(3).astype(str), "inf": lambda c: c.where(c < 1, np.inf),
    "nullable int": lambda c: pd.array((c * 10).round(), dtype="Int64"), "datetime": lambda c: pd.Timestamp("2000")
    + pd.to_timedelta(np.arange(len(c)), unit="D"), "category": lambda c: pd.Categorical(np.where(c > 0, "hi", "lo"),
                                                                                         categories=["lo", "hi", "never"]),
    "object mixed": lambda c: pd.Series([1.0, "a"] * (len(c) // 2) + [1.0] * (len(c) % 2), dtype=object),
    "huge": lambda c: c * 1e300, "tiny": lambda c: c * 1e-300, "complex": lambda c: c + 1j,
}


@settings(SLOW, max_examples=60)
@given(st.sampled_from(["y ~ x1 + x2", "y ~ x1 * g", "x1 ~ y + factor(x2)", "y ~ poly(x1, 2)", "y ~ x1 + (1 | g)",
                        "f =~ x3 + x4 + x5\ny ~ x1 + f"]),
       data_frames, st.sampled_from(["y", "x1", "x2", "x3", "g"]), st.sampled_from(sorted(ODD)))
def test_fit_columns_of_odd_types(model, data, column, kind):
    spec = pc.SEMSpec(model) if "=~" in model else pc.MixedSpec(model) if "|" in model else pc.TrendSpec(model)
    data = data.assign(**{column: ODD[kind](data["x1" if column == "g" else column])})
    only_pcstats_errors(pc.fit, spec, data if "|" in model or column == "g" else data.drop(columns=["g"]))


@settings(SLOW, max_examples=50)
@given(st.tuples(st.sampled_from(["y", "log(y)", "a.b", "`x 6`", "I(y - 1)"]), fit_expression).map(" ~ ".join),
       data_frames)
def test_fit_generated_formulas(formula, data):
    spec = only_pcstats_errors(pc.TrendSpec, formula)
    if isinstance(spec, pc.TrendSpec):
        data = data.assign(**{"a.b": data["x1"] * 2 + 1, "x 6": np.abs(data["x2"])})
        only_pcstats_errors(pc.fit, spec, data)


@settings(SLOW, max_examples=50)
@given(fit_formula, data_frames, st.sampled_from([(), ("g",)]), st.sampled_from([None, "w", "x1"]))
def test_fit_trend_formulas(formula, data, by, weights):
    spec = only_pcstats_errors(pc.TrendSpec, formula, by=by, weights=weights)
    if isinstance(spec, pc.TrendSpec):
        only_pcstats_errors(pc.fit, spec, data)


SEM_LINES = ["f =~ x3 + x4 + x5", "y ~ x1 + x2", "f =~ x3 + x4", "f =~ x3", "y ~ f", "f ~ y", "y ~ a*x1\nd := a*2",
             "x1 ~~ x2", "y ~ 1", "f =~ x1 + x2 + x3\nh =~ x4 + x5 + y\nf ~ h\nh ~ f", "f2 =~ x1 + x2\nf2 ~~ 0*f2",
             "x3 ~ x4\nx4 ~ x3", "y ~ x1\ny ~~ 0*y", "f =~ NA*x3 + x4 + x5\nf ~~ 1*f", "x1 ~ y\ny ~ x1",
             "y ~ x1 + x2\na == 1", "f =~ g + x3 + x4", "y ~ b*x1 + b*x2", "f =~ x3 + x4 + x5\nf ~~ -1*f",
             "y ~ x1 + 1000*x2", "x1 ~~ 5*x1\ny ~ x1", "y ~ zz", "f =~ x3 + x4 + x5\ny ~ c*f\nc > 100",
             "f =~ x3 + x4 + x5\nx3 ~~ x4\nx4 ~~ x5\nx3 ~~ x5"]
SEM_VARIABLES = ["x1", "x2", "x3", "x4", "x5", "y", "f", "h"]
sem_statement = st.tuples(
    st.sampled_from(SEM_VARIABLES), st.sampled_from(["=~", "~", "~~", "=~", "~"]),
    st.lists(st.tuples(st.sampled_from(["", "", "", "a*", "0*", "1*", "NA*", "0.5*", "-1*", "start(0.3)*"]),
                       st.sampled_from(SEM_VARIABLES)).map("".join), min_size=1, max_size=3, unique=True).map(" + ".join),
).map(" ".join)
sem_model = st.one_of(st.lists(st.sampled_from(SEM_LINES), min_size=1, max_size=3, unique=True).map("\n".join),
                      st.lists(sem_statement, min_size=1, max_size=4).map("\n".join))


@settings(SLOW, max_examples=80)
@given(sem_model, data_frames, st.sampled_from([None, None, None, "g"]), st.sampled_from([(), (), ("k",)]))
def test_fit_sem_models(model, data, group, by):
    spec = only_pcstats_errors(pc.SEMSpec, model, group=group, by=by)
    if isinstance(spec, pc.SEMSpec):
        data = data.assign(k=np.arange(len(data)) % 2)
        only_pcstats_errors(pc.fit, spec, data if "g" in model or group or by else data.drop(columns=["g"]))


where_filter = st.tuples(
    st.sampled_from(["x1", "g", "y", "k", "zz", "1", "'a'"]),
    st.sampled_from(["==", "!=", "<", ">=", "in", "not in"]),
    st.sampled_from(["0", "'a'", "'zz'", "['a', 'b']", "[1, 2]", "[]", "x2", "1e308", "True", "None", "-1", "'0'"]),
).map(" ".join)


@settings(SLOW, max_examples=30)
@given(st.lists(where_filter, min_size=1, max_size=2).map(" and ".join), data_frames)
def test_fit_with_row_filters(where, data):
    spec = only_pcstats_errors(pc.TrendSpec, "y ~ x1", where=where)
    if isinstance(spec, pc.TrendSpec):
        only_pcstats_errors(pc.fit, spec, data.assign(k=np.arange(len(data)) % 3))


mixed_formula = st.tuples(
    st.sampled_from(["y", "x3", "log(y)", "g"]),
    st.lists(st.sampled_from(["x1", "x2", "0", "1", "factor(g)", "x1:x2", "exp(x1 * 1000)", "x1 + I(2 * x1)"]),
             min_size=1, max_size=2).map(" + ".join),
    st.lists(st.sampled_from(["(1 | g)", "(x1 | g)", "(x1 || g)", "(0 + x1 | g)", "(1 | g/h)", "(1 | g:h)", "(1 | x1)",
                              "(1 | zz)", "(1 + x1 + x2 | g)"]), min_size=1, max_size=2, unique=True).map(" + ".join),
).map(lambda p: f"{p[0]} ~ {p[1]} + {p[2]}")


@settings(SLOW, max_examples=30)
@given(mixed_formula, data_frames, st.booleans())
def test_fit_mixed_formulas(formula, data, reml):
    spec = only_pcstats_errors(pc.MixedSpec, formula, reml=reml)
    if isinstance(spec, pc.MixedSpec):
        only_pcstats_errors(pc.fit, spec, data.assign(h=np.arange(len(data)) % 2))


def test_the_generated_data_support_fits():
    """Positive control: the fit fuzzers reach the engines (a good model on the generated frame is fitted)."""
    data = frame(1, 60, None, None)
    sem = only_pcstats_errors(pc.fit, pc.SEMSpec(SEM_LINES[0] + "\ny ~ x1 + x2"), data.drop(columns=["g"]))
    trend = only_pcstats_errors(pc.fit, pc.TrendSpec("y ~ x1 + factor(g)", by=("k",)), data.assign(k=np.arange(60) % 2))
    mixed = only_pcstats_errors(pc.fit, pc.MixedSpec("y ~ x1 + (1 | g)"), data)
    for res in (sem, trend, mixed):
        assert not isinstance(res, pc.PcstatsError), res
    assert trend.tidy()["estimate"][trend.tidy()["term"] == "x1"].between(0.2, 0.8).all()  # planted 0.5
