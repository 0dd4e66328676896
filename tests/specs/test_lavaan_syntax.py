"""lavaan syntax -> parameter table, against lavaan's own tables (tests/reference/lavaan_partable.R)."""

from __future__ import annotations

import doctest
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pcstats.errors import FormulaError, SpecError
from pcstats.specs import lavaan_syntax
from pcstats.specs.lavaan_syntax import PARTABLE_COLUMNS, parameter_table, parse_model

from ..conftest import REFERENCE
from ..numbers import assert_frames_close

TABLES = REFERENCE / "lavaan_partable"
INTEGERS = ["id", "user", "block", "group", "free", "exo"]
COMPARED = ["id", "lhs", "op", "rhs", "user", "block", "group", "free", "ustart", "exo", "label", "plabel"]
OBSERVED = pd.read_csv(TABLES / "observed.csv")
MODELS = sorted(set(OBSERVED["model"]))


def r_table(name: str) -> pd.DataFrame:
    """A table parTable() wrote: text as text ("" stays ""), integers, ustart with NA as NaN."""
    table = pd.read_csv(TABLES / f"{name}.csv", dtype=str, keep_default_na=False)
    table[INTEGERS] = table[INTEGERS].astype("int64")
    table["ustart"] = table["ustart"].replace({"NA": "nan"}).astype(float)
    return table


def ours(name: str) -> pd.DataFrame:
    seen = OBSERVED[OBSERVED["model"] == name]
    text = (TABLES / f"{name}.lav").read_text()
    return parameter_table(text, list(seen["observed"]), fixed_x=bool(seen["fixed_x"].iloc[0]),
                           n_groups=int(seen["n_groups"].iloc[0]))


# ------------------------------------------------------------------------------------ parity with lavaan
@pytest.mark.parametrize("name", MODELS)
def test_table_matches_lavaan_row_for_row(name):
    table, ref = ours(name), r_table(name)
    assert tuple(table.columns) == PARTABLE_COLUMNS
    pd.testing.assert_frame_equal(table[COMPARED], ref[COMPARED], check_dtype=False)
    assert table[["start", "est", "se"]].isna().all().all()


def test_reference_covers_the_paper_models_and_lavaan_features():
    assert {"political_democracy", "holzinger_swineford", "path_lgs", "labels_defined"} <= set(MODELS)
    pd_table = r_table("political_democracy")
    assert ((pd_table["op"] == "~~") & (pd_table["lhs"] != pd_table["rhs"]) & (pd_table["user"] == 1)).sum() == 6
    path = r_table("path_lgs")
    assert set(path.loc[path["exo"] == 1, "lhs"]) == {"airt", "par", "sm", "tc", "p", "pregpp"}
    assert (r_table("labels_defined")["op"] == ":=").sum() == 1


def test_npar_and_fixed_x_rows_of_the_path_model():
    table = ours("path_lgs")
    assert table["free"].max() == 3 + 5 + 4 + 2  # three residual variances, eleven paths
    exo = table[table["exo"] == 1]
    assert len(exo) == 6 * 7 // 2 and (exo["free"] == 0).all() and exo["ustart"].isna().all()


def test_parse_model_is_the_user_rows_of_the_table():
    for name in MODELS:
        seen = OBSERVED[OBSERVED["model"] == name]
        text = (TABLES / f"{name}.lav").read_text()
        n_groups = int(seen["n_groups"].iloc[0])
        table = parameter_table(text, n_groups=n_groups)
        expected = table[table["user"] == 1].reset_index(drop=True)
        pd.testing.assert_frame_equal(parse_model(text, n_groups=n_groups), expected)
    multigroup = (TABLES / "multigroup.lav").read_text()
    assert parse_model(multigroup)["group"].max() == 2  # inferred from c(a1, a2)


# ---------------------------------------------------------------------------------------- the syntax
def test_layout_does_not_change_the_table():
    plain = parameter_table("f =~ x1 + x2 + x3\ny ~ f + z\nd := 2")
    for text in [
        "f =~ x1 + x2 + x3; y ~ f + z; d := 2",
        "# a model\nf =~ x1 +\n   x2\n   + x3   ! trailing comment\n\ny ~\n f + z\nd :=\n 2",
        "f =~ x1+x2+x3\r\ny \u02dc f+z\r\nd:=2",
    ]:
        pd.testing.assert_frame_equal(parameter_table(text), plain)


def test_modifiers():
    t = parameter_table("f =~ NA*x1 + x2 + start(0.8)*x3\nf ~~ 1*f\ny ~ b*start(0.2)*f + 0.5?z + -1*w").set_index(
        ["lhs", "op", "rhs"])
    assert t.loc[("f", "=~", "x1"), "free"] > 0 and np.isnan(t.loc[("f", "=~", "x1"), "ustart"])
    assert t.loc[("f", "=~", "x3"), "ustart"] == 0.8 and t.loc[("f", "=~", "x3"), "free"] > 0
    assert t.loc[("f", "~~", "f"), ["free", "ustart"]].tolist() == [0, 1.0]
    assert t.loc[("y", "~", "f"), ["label", "ustart"]].tolist() == ["b", 0.2]  # lavaan 0.6-14 drops the start
    assert t.loc[("y", "~", "z"), "ustart"] == 0.5 and t.loc[("y", "~", "z"), "free"] > 0
    assert t.loc[("y", "~", "w"), ["free", "ustart"]].tolist() == [0, -1.0]


def test_repeated_term_collects_modifiers_and_lhs_expands():
    t = parse_model("y1 + y2 ~ a*x + start(0.5)*x + z")
    assert list(zip(t["lhs"], t["rhs"], strict=True)) == [("y1", "x"), ("y1", "z"), ("y2", "x"), ("y2", "z")]
    assert list(t["label"]) == ["a", "", "a", ""] and list(t["ustart"].fillna(0)) == [0.5, 0, 0.5, 0]


def test_intercepts_switch_the_meanstructure_on():
    assert "~1" not in set(parameter_table("y ~ x")["op"])
    t = parameter_table("y ~ 1 + x")
    assert t.loc[t["op"] == "~1", "lhs"].tolist() == ["y", "x"]
    assert t.loc[(t["op"] == "~1") & (t["lhs"] == "x"), "exo"].item() == 1


def test_defined_parameters_and_constraints():
    t = parameter_table("y ~ a*x\nw ~ b*y\nab := a*b\nab2 := ( ab + 1 ) ^ 2 - a / 2\na > -1\nab == 2*b")
    rows = t[t["block"] == 0]
    assert rows[["lhs", "op", "rhs", "label"]].values.tolist() == [
        ["ab", ":=", "a*b", "ab"], ["ab2", ":=", "(ab+1)^2-a/2", "ab2"], ["a", ">", "-1", ""], ["ab", "==", "2*b", ""],
    ]
    assert (rows["free"] == 0).all() and (rows["user"] == 1).all()


def test_shared_label_across_groups_becomes_an_equality_row():
    t = parameter_table("y ~ a*x", n_groups=2)
    assert t.iloc[-1][["lhs", "op", "rhs", "user"]].tolist() == [".p1.", "==", f".p{len(t) // 2 + 1}.", 2]
    assert t.loc[t["op"] == "~1", "group"].tolist() == [1, 1, 2, 2]  # several groups: means too


def test_unknown_variable_and_latent_name_clash():
    with pytest.raises(FormulaError, match=r"line 2: unknown variable 'pr' .*Did you mean 'par'"):
        parameter_table("gpp ~ airt\nter ~ gpp + pr", observed=["gpp", "ter", "airt", "par"])
    with pytest.raises(FormulaError, match="line 1: the latent variable"):
        parameter_table("gpp =~ airt + par + ter", observed=["gpp", "ter", "airt", "par"])


def test_bad_arguments():
    with pytest.raises(SpecError, match="n_groups"):
        parameter_table("y ~ x", n_groups=0)
    with pytest.raises(SpecError, match="observed"):
        parameter_table("y ~ x", observed="y")


BAD = [  # text, line, offending token
    ("y ~ x +", 1, "+"),
    ("y ~ x\nz w", 2, "z"),
    ("y ~ x + + z", 1, "+"),
    ("y ~ x\nter ~ gpp ~ airt", 2, "~"),
    ("f =~ f + x", 1, "f"),
    ("y ~ x\n\ny ~ x", 3, "x"),
    ("y ~ x\nx ~~ y\ny ~~ x", 3, "x"),
    ("y ~ a*x\nind := a*c", 2, "c"),
    ("y ~ c(a1, a2)*x", 1, "c"),
    ("y ~ x @ z", 1, "@"),
    ("y = x", 1, "="),
    ("y ~ 2", 1, "2"),
    ("y ~ start(a)*x", 1, "start"),
    ("y ~ a*b*x", 1, "b"),
    ("d := sqrt(a)\ny ~ a*x", 1, "sqrt"),
    ("y ~ a*x\nd := (a*2", 2, "2"),
    ("+ y ~ x", 1, "+"),
    ("if ~ x", 1, "if"),
    ("f <~ x1 + x2", 1, "<~"),
    ("group: 1\ny ~ x", 1, ":"),
    ("y ~ lower(0)*x", 1, "lower"),
    ('y ~ x; y2 ~ "a*x', 1, '"'),
    ("y ~ x\n   # c\n  w ~ y +\n\n", 3, "+"),
    ("y1 + ~ x", 1, "+"),
    ("y ~ c(1, a)*x", 1, "c"),
    ("  visual =~ x1 + x2\n  textual =~ x4 x5", 2, "x5"),
    ("y ~ x +\n  z + * w", 2, "*"),
    ("y ~ NA", 1, "NA"),
    ("y ~ a*x\na := 2*a", 2, "a"),
    ("y ~ x\nx > ", 2, ">"),
    ("f =~ a*y + x + z\ne := 2*a", 2, "a"),  # a labels the first loading, fixed to 1
]


@pytest.mark.parametrize(("text", "line", "token"), BAD)
def test_syntax_errors_name_line_text_and_token(text, line, token):
    with pytest.raises(FormulaError) as info:
        parameter_table(text, n_groups=1)
    message = str(info.value)
    assert message.startswith(f"line {line}: ")
    assert repr(token) in message
    assert f"`{text.split(chr(10))[line - 1].strip()}`" in message
    assert message.rstrip().endswith(".") and len(message.split(". ")) >= 2  # says how to fix it


def test_empty_model():
    for text in ["", "  \n # nothing\n"]:
        with pytest.raises(FormulaError, match="line 1: the model syntax has no statements"):
            parse_model(text)


def test_docstring_examples_run():
    result = doctest.testmod(lavaan_syntax, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 2 and result.failed == 0


# ---------------------------------------------------------------------------------------------- fuzz
FUZZ = settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
VOCABULARY = [
    "y", "x", "f", "a", "b", "x1", ".x", "NA", "c", "start", "label", "equal", "lower", "if", "TRUE", "1", "0", "0.5",
    "1e999", "-", "+", "*", "/", "^", "(", ")", ",", "?", "=~", "~", "~~", ":=", "==", "<", ">", "<~", "|", ":",
    "%", ";", "\n", "#", "!", '"a"', "'", "=", "@", "\u02dc", " ",
]
LATENT, OBSERVED_NAMES = ["f", "g"], ["y", "x", "z", "x1", "x2"]
MODIFIERS = ["", "", "", "a*", "b*", "0*", "1*", "NA*", "start(0.5)*", "c(a, b)*", "c(1, NA)*", "0.3?", '"q"*',
             "label('a')*"]
CONSTRAINT = st.sampled_from(["d := a*b", "a == b", "a > 0", "e := (a + 1)^2", "a < b*2", "q := d - 1"])


@st.composite
def relation(draw) -> str:
    """A mostly valid statement: latent variables on the left of =~, no variable on both sides."""
    op = draw(st.sampled_from(["=~", "~", "~~"]))
    lhs = draw(st.lists(st.sampled_from(LATENT if op == "=~" else LATENT + OBSERVED_NAMES), min_size=1, max_size=2,
                        unique=True))
    pool = [n for n in OBSERVED_NAMES + LATENT if n not in lhs]
    terms = [draw(st.sampled_from(MODIFIERS)) + n for n in draw(st.lists(st.sampled_from(pool), min_size=1,
                                                                          max_size=3, unique=True))]
    if op == "~" and draw(st.booleans()):
        terms.insert(draw(st.integers(0, len(terms))), draw(st.sampled_from(["", "a*", "0*"])) + "1")
    return f"{' + '.join(lhs)} {op} {' + '.join(terms)}"


MODEL = st.lists(st.one_of(relation(), relation(), CONSTRAINT), min_size=1, max_size=6).map("\n".join)


def _table_or_formula_error(text: str, **kwargs) -> pd.DataFrame | None:
    try:
        table = parameter_table(text, **kwargs)
    except FormulaError:
        return None
    assert tuple(table.columns) == PARTABLE_COLUMNS
    assert table["id"].tolist() == list(range(1, len(table) + 1))
    free = table.loc[table["free"] > 0, "free"].tolist()
    assert free == list(range(1, len(free) + 1))
    return table


@FUZZ
@given(st.text(max_size=200))
def test_fuzz_arbitrary_text_raises_only_formula_error(text):
    _table_or_formula_error(text)


@FUZZ
@given(st.lists(st.sampled_from(VOCABULARY), max_size=25), st.sampled_from(["", " "]))
def test_fuzz_token_soup_raises_only_formula_error(tokens, separator):
    _table_or_formula_error(separator.join(tokens))


@FUZZ
@given(MODEL, st.sampled_from([1, 2]), st.booleans())
def test_fuzz_valid_pieces_give_a_table_or_formula_error(text, n_groups, fixed_x):
    _table_or_formula_error(text, n_groups=n_groups, fixed_x=fixed_x, observed=OBSERVED_NAMES)


# -------------------------------------------------------------------------------------------- rerun R
def _lavaan_installed() -> bool:
    if shutil.which("Rscript") is None:
        return False
    probe = ["Rscript", "-e", "quit(status = !requireNamespace('lavaan', quietly = TRUE))"]
    return subprocess.run(probe, capture_output=True).returncode == 0


@pytest.mark.needs_r
def test_stored_tables_are_reproduced_by_lavaan_partable_R(tmp_path):
    if not _lavaan_installed():
        pytest.skip("R's lavaan is not installed (Debian: r-cran-lavaan)")
    subprocess.run(["Rscript", "tests/reference/lavaan_partable.R", str(tmp_path)], check=True, capture_output=True)
    for path in sorted(TABLES.iterdir()):
        if path.suffix == ".csv":  # start values are computed by R: floats to 1e-10, the rest exactly
            assert_frames_close(pd.read_csv(tmp_path / path.name), pd.read_csv(path), rtol=1e-10, name=path.name)
        else:
            assert (tmp_path / path.name).read_text() == path.read_text(), path.name
