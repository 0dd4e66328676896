"""Bad input to the parsers: formulas, random-effect terms, lavaan syntax, priors, spec files (issue 18, part 2).

Every case must raise a pcstats error (a subclass of ``pc.PcstatsError``) whose message names the
token, term, field or file at fault and says what to write instead.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import pcstats as pc

from ..conftest import ROOT


@pytest.mark.parametrize("formula, words", [
    ("~ year", r"formula='~ year' has no response; write it as 'response ~ terms', e\.g\. 'NEE ~ year'"),
    ("NEE + GPP ~ year", r"the left-hand side must be one variable or expression"),
    ("NEE ~ year | source", r"'\|' has no meaning in a fixed-effects formula.*MixedSpec.*by="),
    ("NEE ~ year + (1 | source)", r"'\|' has no meaning.*MixedSpec"),
    ("NEE ~ 0", r"no terms and no intercept.*drop the '0'"),
    ("NEE ~ -1", r"no terms and no intercept"),
    ("NEE ~ ", r"right-hand side is empty.*'NEE ~ year'.*'NEE ~ 1'"),
    ("NEE ~", r"right-hand side is empty"),
    ("", r"is not a formula; write it as 'response ~ terms'"),
    ("NEE year", r"is not a formula"),
    ("NEE ~ year +", r"cannot be parsed"),
    ("NEE ~ (year", r"cannot be parsed"),
    ("NEE ~ year ~ x", r"cannot be parsed"),
    ("NEE ~ year)", r"cannot be parsed"),
    ("`my y ~ year", r"unmatched backtick; quote a name with one backtick on each side"),
    ("`my y ~ year` + x", r"the '~' is inside backticks.*close the quoted name"),
    ("NEE ~ 1e3 + year", r"cannot be parsed: Numeric literals other than `1`"),
    ("NEE ~ (year) ** (0)", r"cannot be parsed: check the operators and parentheses"),
    ("NEE ~ cbind(year, x)", r"cbind\(\) is not supported"),
    ("NEE ~ C(region, foo)", r"the contrast must be one of treatment, sum, helmert, poly"),
])
def test_bad_trend_formulas(formula, words):
    with pytest.raises(pc.FormulaError, match=words):
        pc.TrendSpec(formula)


@pytest.mark.parametrize("where, words", [
    ("x1 != [1, 2]", r"'x1 != \[1, 2\]' compares with a list; a list goes after 'in' or 'not in'"),  # was pandas' ValueError
    ("region in 'P'", r"'in' needs a list of literals, e\.g\. \"region in \['P', 'NoP'\]\""),
    ("region", r"'region' is not a condition; compare it with something"),
    ("year >= 1980 and", r"is not a valid filter\. Use comparisons joined by and/or"),
    ("__import__('os').system('x') == 0", r"is not allowed in a filter"),
    ("", r"must be a non-empty string"),
])
def test_bad_row_filters(where, words):
    with pytest.raises(pc.FormulaError, match=words):
        pc.TrendSpec("NEE ~ year", where=where)


@pytest.mark.parametrize("cls, first", [(pc.TrendSpec, "NEE ~ year"), (pc.SEMSpec, "nee ~ gpp"),
                                        (pc.MixedSpec, "NEE ~ year_c + (1 | source)")])
def test_a_name_that_is_not_text(cls, first):
    with pytest.raises(pc.SpecError, match=r"name=5 must be a string \(a label for tables and figures\), or None"):
        cls(first, name=5)  # was accepted, and save_spec failed with tomli_w's TypeError


def test_a_formula_that_is_not_a_string():
    with pytest.raises(pc.FormulaError, match="is not a formula"):
        pc.TrendSpec(5)


@pytest.mark.parametrize("formula, words", [
    ("NEE ~ year_c + (1 | )", r"the grouping '' must be column names"),
    ("NEE ~ year_c + ( | source)", r"nothing before the bar; write '\(1 \| group\)'"),
    ("NEE ~ year_c + (1 | source/)", r"the grouping 'source/' must be column names"),
    ("NEE ~ year_c", r"has no random-effect term\. Add one such as '\+ \(1 \| source\)'"),
    ("NEE ~ year_c + (x || )", r"in '\(x \|\| \)', the grouping '' must be column names"),
    ("NEE ~ year_c + (1 | source", r"formula"),
    ("NEE ~ year_c | region + (1 | source)", r"'year_c \| region' uses '\|' outside a random-effect term"),
    ("NEE ~ 0 + (1 | source)", r"fixed part: formula='NEE ~ 0' has no terms and no intercept.*drop the '0'"),
    ("NEE ~ year_c + (1 | source) + (1 | source)", r"varies by 'source' in both"),
])
def test_bad_random_effect_terms(formula, words):
    with pytest.raises(pc.FormulaError, match=words):
        pc.MixedSpec(formula)


def test_a_mixed_formula_that_is_not_a_string():
    with pytest.raises(pc.FormulaError, match=r"formula=\['y ~ x'\] is not a formula; write it as 'response ~ terms"):
        pc.MixedSpec(["y ~ x"])  # was "unhashable type: 'list'"


@pytest.mark.parametrize("by", [None, 3, 2.5, True])
def test_by_of_the_wrong_type(by):
    with pytest.raises(pc.SpecError, match=rf"by={by!r} must be column names, e\.g\. by=\('region', 'season'\)"):
        pc.TrendSpec("NEE ~ year", by=by)  # was "'NoneType' object is not iterable"


@pytest.mark.parametrize("model, error, words", [
    ("nee ~ 1", pc.SpecError, r"no regression \('y ~ x'\) and no latent variable.*nothing|no structure to fit"),
    ("nee ~~ ter", pc.SpecError, r"only intercepts \('~ 1'\) or \(co\)variances \('~~'\)"),
    ("f =~ ", pc.FormulaError, r"line 1: nothing after '=~'"),
    ("y ~ a*x\ny ~ a*x", pc.FormulaError, r"line 2: .*repeats line 1"),
    ("y <- x", pc.FormulaError, r"line 1"),
    ("y ~ x\nf <~ y", pc.FormulaError, r"line 2: unsupported operator '<~'.*composites"),
    ("y ~ a*x + b*x", pc.FormulaError, r"line 1: a second label for one parameter at 'b'.*one label"),
    ("y ~ x\nd := a*2", pc.FormulaError, r"line 2: unknown label 'a'.*Set labels with modifiers such as a\*x"),
    ("f =~ x1 + x2 + x3\nf ~~ -1*f", pc.SpecError, r"'f ~~ -1\*f' fixes the variance of 'f' at a negative value.*'1\*f'"),
    ("y ~ x\ny ~~ -0.5*y", pc.SpecError, r"variance of 'y' at a negative value"),
])
def test_bad_lavaan_models(model, error, words):
    with pytest.raises(error, match=words):
        pc.SEMSpec(model)


@pytest.mark.parametrize("priors, words", [
    ({"fixed": "normal(inf, 1)"}, r"mu=inf is not finite; parameters must be finite numbers \(no inf or nan\)"),
    ({"fixed": "normal(nan, 1)"}, r"must be finite numbers"),
    ({"fixed": "normal(0, -1)"}, r"sigma=-1 must be positive \(scale and shape parameters are > 0\)"),
    ({"sigma": "exponential(0)"}, r"lam=0 must be positive"),
    ({"fixed": "normal(0)"}, r"normal takes 2 parameter\(s\); write normal\(mu, sigma\)"),
    ({"sd": "foo(1)"}, r"unknown distribution 'foo'.*Known: normal"),
    ({"fixed": "normal(a, 1)"}, r"mu='a' is not a number; parameters must be numbers, as in normal\(mu, sigma\)"),
    ({"Intercept": "normal(0, 1)"}, r"unknown prior 'Intercept'\. Did you mean 'intercept'"),
    ({"fixed": "normal 0 1"}, r"is not a prior; write e.g. 'normal\(0, 10\)'"),
    ({"nu": "student_t(-1, 0, 1)"}, r"nu=-1 must be positive"),
    ({"fixed": "normal(0, 1e400)"}, r"sigma=1e400 is not finite"),
    ({"fixed": "normal(0, 1, 2)"}, r"normal takes 2 parameter\(s\); write normal\(mu, sigma\)"),
    ({"sd": "halfnormal(nan)"}, r"sigma=nan is not finite"),
])
def test_bad_priors(priors, words):
    with pytest.raises(pc.SpecError, match=words):
        pc.BayesSpec("NEE ~ year_c + (1 | source)", priors=priors)


SPEC_FILES = {
    "family_list": ('family = ["trend"]\nformula = "NEE ~ year"', r"'family' must be a string.*got list"),
    "family_unknown": ('family = "trnd"\nformula = "NEE ~ year"', r"'family' must be one of.*Did you mean 'trend'"),
    "by_int": ('family = "trend"\nformula = "NEE ~ year"\nby = 3', r"by = 3 \(a whole number\) should be a list of column names"),
    "by_numbers": ('family = "trend"\nformula = "NEE ~ year"\nby = [1, 2]', r"by = \[1, 2\] \(an array\) should be a list of column names"),
    "name_int": ('family = "trend"\nformula = "NEE ~ year"\nname = 5', r"name = 5 \(a whole number\) should be a string"),
    "where_list": ('family = "trend"\nformula = "NEE ~ year"\nwhere = ["x"]', r"where = \['x'\] \(an array\) should be a string"),
    "min_years_text": ('family = "trend"\nformula = "NEE ~ year"\nmin_years = "3"', r"min_years = '3' \(a string\) should be a whole number"),
    "reml_text": ('family = "mixed"\nformula = "NEE ~ year_c + (1 | source)"\nreml = "no"', r"reml = 'no' \(a string\) should be true or false"),
    "unknown_key": ('family = "trend"\nformula = "NEE ~ year"\nfromula = "x"',
                    r"unknown key 'fromula'.*Did you mean 'formula'.*Keys of a trend spec: spec, by"),
    "no_formula": ('family = "trend"\nname = "x"', r"a trend spec needs the key 'formula'; add a line such as formula ="),
    "no_model": ('family = "sem"', r"a sem spec needs the key 'model'; add a line such as model = \"nee ~ gpp \+ ter\""),
    "priors_list": ('family = "bayes"\nformula = "NEE ~ year_c + (1 | source)"\npriors = ["normal(0, 1)"]',
                    r"priors = \['normal\(0, 1\)'\] \(an array\) should be a table of strings"),
    "prior_inf": ('family = "bayes"\nformula = "NEE ~ year_c + (1 | source)"\n[priors]\nfixed = "normal(inf, 1)"',
                  r"mu=inf is not finite"),
    "model_table": ('family = "sem"\n[model]\nx = 1', r"model = \{'x': 1\} \(a table\) should be a string"),
    "conf_level_text": ('family = "trend"\nformula = "NEE ~ year"\nconf_level = "95%"',
                        r"conf_level = '95%' \(a string\) should be a number"),
    "bad_toml": ('family = "trend"\nformula = NEE ~ year', r"not valid TOML"),
    "deep": ("a = " + "[" * 5000 + "]" * 5000, r"nested too deeply"),
    "unsafe_formula": ('family = "trend"\nformula = "NEE ~ __import__(\'os\')"', r"formula"),
}


@pytest.mark.parametrize("name", list(SPEC_FILES))
def test_bad_spec_files_name_the_file_and_field(name, tmp_path):
    text, words = SPEC_FILES[name]
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(pc.SpecError, match=words) as info:
        pc.load_spec(path)
    assert str(path) in str(info.value)


def test_spec_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'family = "trend"\nname = "r\xe9gion"\n')
    with pytest.raises(pc.SpecError, match=rf"{path}: not UTF-8 text.*save it as UTF-8"):
        pc.load_spec(path)


@pytest.mark.parametrize("trust", ["false", "yes", 1, 0, None])
def test_trust_must_be_a_bool(trust):
    with pytest.raises(pc.SpecError, match="trust must be True or False"):
        pc.load_spec(ROOT / "models" / "trend_annual.toml", trust=trust)


def test_load_spec_needs_a_path():
    with pytest.raises(pc.SpecError, match=r"load_spec\(path=5\): path must be the spec file's path"):
        pc.load_spec(5)


def test_save_spec_needs_a_spec():
    with pytest.raises(pc.SpecError, match=r"save_spec: 'NEE ~ year' is not a spec; pass one such as pc\.TrendSpec"):
        pc.save_spec("NEE ~ year", "unused.toml")


def test_every_bundled_spec_file_still_loads():
    for path in sorted((ROOT / "models").glob("*.toml")):
        assert pc.load_spec(path) is not None


# ----------------------------------------------------------------- fit time: what only the data can tell
def sem_frame(n: int = 60, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    f, h = rng.normal(size=n), rng.normal(size=n)
    noise = lambda: rng.normal(scale=0.5, size=n)  # noqa: E731
    return pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n), "y": rng.normal(size=n),
                         "x3": f + noise(), "x4": f + noise(), "x5": f + noise(),
                         "x6": h + noise(), "x7": h + noise(), "x8": h + noise(), "g": rng.choice(["a", "b"], n)})


def fit_quietly(spec, data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pc.fit(spec, data)


@pytest.mark.parametrize("model, change, error, words", [
    ("y ~ x1 + x2", {"x2": np.nan}, pc.EngineError, r"60 NaN in x2"),  # was StopIteration with no message
    ("f =~ x3 + x4 + x5", {"x5": np.nan}, pc.EngineError, r"60 NaN in x5"),
    ("f =~ g + x3 + x4", {}, pc.ContractError, r"'g' is not numeric.*pd\.to_numeric"),
    ("x3 ~ x4\nx4 ~ x3", {}, pc.EngineError, r"not identified: 4 free parameters for 3 sample moments"),
    ("f =~ x3 + x4 + x5\nf ~~ x1", {}, pc.EngineError, r"'f ~~ x1' is a covariance between a latent and an observed"),
])
def test_sem_models_the_data_cannot_support(model, change, error, words):
    with pytest.raises(error, match=words):
        fit_quietly(pc.SEMSpec(model), sem_frame().assign(**change))


def test_unidentified_model_is_flagged_as_lavaan_does():
    """A latent variable with its variance fixed at 0: lavaan warns that the information matrix cannot be inverted."""
    with pytest.warns(UserWarning, match="information matrix is singular.*not be identified"):
        res = pc.fit(pc.SEMSpec("f2 =~ x1 + x2\nf2 ~~ 0*f2"), sem_frame())
    assert not res.glance()["converged"].iloc[0] and res.tidy()["std_error"].isna().all()


@pytest.mark.parametrize("model, words", [
    ("y ~ x1\nx1 ~~ x2", r"'x2' appears only in \(co\)variances \('x1 ~~ x2'\).*Add it to a regression \(e\.g\. 'y ~ x2'\)"),
    ("y ~ x1\nx2 ~~ x2", r"'x2' appears only in \(co\)variances"),
])
def test_variables_only_in_covariances(model, words):
    """semopy cannot place them and says so; the native engine fits them as lavaan does."""
    with pytest.raises(pc.EngineError, match=words):
        fit_quietly(pc.SEMSpec(model, engine="semopy"), sem_frame())
    res = fit_quietly(pc.SEMSpec(model), sem_frame())
    assert "x2 ~~ x2" in set(res.tidy()["term"]) and res.glance()["converged"].iloc[0]


def test_latent_variables_regressed_on_each_other_fit_or_are_named():
    """Tester's LinAlgError: 'f ~ h' and 'h ~ f' together. Either a fit or an EngineError naming identification."""
    for seed in range(4):
        try:
            res = fit_quietly(pc.SEMSpec("f =~ x3 + x4 + x5\nh =~ x6 + x7 + x8\nf ~ h\nh ~ f"), sem_frame(seed=seed))
        except pc.EngineError as exc:
            assert "identified" in str(exc) or "semopy could not fit" in str(exc)
        else:
            assert {"f ~ h", "h ~ f"} <= set(res.tidy()["term"])


def test_a_single_indicator_latent_is_its_indicator():
    """f =~ x3 alone: lavaan fixes the residual variance at 0, so var(f) is var(x3) (was a 0-d covariance error)."""
    data = sem_frame()
    tidy = fit_quietly(pc.SEMSpec("f =~ x3"), data.drop(columns="g")).tidy().set_index("term")
    assert tidy.loc["f ~~ f", "estimate"] == pytest.approx(data["x3"].var(ddof=0), rel=1e-4)
    assert tidy.loc["f ~~ f", "std_error"] == pytest.approx(data["x3"].var(ddof=0) * np.sqrt(2 / len(data)), rel=1e-3)


@pytest.mark.parametrize("formula, words", [
    ("y ~ exp(x1 * 1000)", r"the column 'exp\(x1 \* 1000\)' is not finite \(inf or NaN\) in rows .*Rescale or shift"),
    ("I(exp(y * 1000)) ~ x1", r"the response 'I\(exp\(y \* 1000\)\)' is not finite"),
    ("log(y) ~ x1", r"`log\(y\)` contains null values.*log and sqrt need positive ones"),
    ("y ~ C(g, degree = 3)", r"unexpected keyword argument 'degree'.*calls take R's arguments"),
])
def test_transforms_that_overflow_are_named(formula, words):
    with pytest.raises(pc.FormulaError, match=words):  # was statsmodels' MissingDataError
        fit_quietly(pc.TrendSpec(formula), sem_frame())


def test_a_bootstrap_where_no_resample_converges_is_named():
    """Residual variance fixed at 0: every resample fails (was numpy's IndexError from quantiles of no draws)."""
    spec = pc.SEMSpec("y ~ x1\ny ~~ 0*y", se="bootstrap", bootstrap=10, seed=1, engine="semopy")
    with pytest.raises(pc.EngineError, match=r"10 of 10 bootstrap fits did not converge.*se='standard'"):
        fit_quietly(spec, sem_frame().drop(columns="g"))
    # the native engine finds no valid covariance matrix before it gets to the bootstrap, and says why
    with pytest.raises(pc.EngineError, match=r"implies no valid covariance matrix.*fixed values that contradict"):
        fit_quietly(spec.replace(engine="pcstats"), sem_frame().drop(columns="g"))


@pytest.mark.parametrize("spec, column, change, words", [
    (pc.TrendSpec("y ~ x1 + x2"), "x1", lambda c: c + 1j, r"'x1' holds complex numbers.*Take the real part"),
    (pc.MixedSpec("y ~ x1 + (1 | g)"), "y", lambda c: c + 1j, r"'y' holds complex numbers"),  # imaginary part was dropped
    (pc.TrendSpec("y ~ x1 + x2"), "x1", lambda c: c * 1e300, r"the column 'x1' reaches .*e\+300.*rescale it"),  # NaN slope
    (pc.TrendSpec("y ~ x1 + x2"), "y", lambda c: c * 1e-300, r"the response 'y' reaches .*e-300.*rescale it"),
])
def test_values_a_linear_model_cannot_use(spec, column, change, words):
    data = sem_frame()
    with pytest.raises(pc.FormulaError, match=words):
        fit_quietly(spec, data.assign(**{column: change(data[column])}))


@pytest.mark.parametrize("change, error, words", [
    (lambda c: c * 1e300, pc.EngineError, r"variable 'x3' reaches .*e\+300, too far from 1.*rescale it"),  # LinAlgError
    (lambda c: c + 1j, pc.ContractError, r"variable 'x3' is not numeric \(dtype complex128\)"),  # was fitted silently
])
def test_sem_values_that_cannot_make_a_covariance(change, error, words):
    data = sem_frame().drop(columns="g")
    with pytest.raises(error, match=words):
        fit_quietly(pc.SEMSpec("f =~ x3 + x4 + x5"), data.assign(x3=change(data["x3"])))


def test_sem_reads_nullable_integer_and_boolean_columns():
    """Positive control: Int64 columns (semopy's isnan failed on them) and booleans are numbers to SEM."""
    data = sem_frame().drop(columns="g")
    plain = fit_quietly(pc.SEMSpec("y ~ x1 + x2"), data.assign(x2=(data["x2"] > 0).astype(float)))
    data = data.assign(x2=data["x2"] > 0, x1=pd.array((data["x1"] * 10).round(), dtype="Int64"))
    odd = fit_quietly(pc.SEMSpec("y ~ x1 + x2"), data).tidy().set_index("term")
    assert odd.loc["y ~ x2", "estimate"] == pytest.approx(plain.tidy().set_index("term").loc["y ~ x2", "estimate"], rel=0.2)
    assert np.isfinite(odd.loc["y ~ x1", "std_error"])
