"""pcstats.engines.lme4_bridge: pymer4 loads (with a placeholder for R's `report`), fits match lme4 run
directly in R (tests/reference/lme4_bridge_reference.R), and singular, rank-deficient and unconverged
fits come back as data. Tests that need R skip where `R` is absent; the README test command installs it."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from pcstats.engines import lme4_bridge
from pcstats.engines.lme4_bridge import MissingRPackageError, fit_lmer, load_pymer4
from pcstats.errors import EngineError

from ..conftest import REFERENCE


def needs_r(test):
    """Mark a test needs_r and skip it where R is not installed."""
    skip = pytest.mark.skipif(shutil.which("R") is None, reason="R not installed (the README test command installs it)")
    return pytest.mark.needs_r(skip(test))


SLEEP = "Reaction ~ Days + (Days | Subject)"


@pytest.fixture(scope="module")
def sleepstudy() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "lme4_bridge_sleepstudy.csv", dtype={"Subject": str})


def reference(name: str, reml: bool) -> pd.DataFrame:
    ref = pd.read_csv(REFERENCE / f"lme4_bridge_sleepstudy_{name}.csv", dtype={"level": str})
    return ref[ref["reml"] == reml].drop(columns="reml").reset_index(drop=True)


@pytest.fixture
def fresh_load():
    """Forget a cached load before and after, so a simulated absence is seen and then forgotten."""
    lme4_bridge._load.cache_clear()
    yield
    lme4_bridge._load.cache_clear()


# -- errors that need no R -------------------------------------------------------------------------


def test_missing_r_says_how_to_install(monkeypatch, fresh_load):
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    monkeypatch.delenv("R_HOME", raising=False)
    with pytest.raises(EngineError) as err:
        load_pymer4()
    msg = str(err.value)
    assert "needs R, which is not installed" in msg
    assert "apt-get install --no-install-recommends r-base-core r-base-dev libpcre2-dev libblas-dev" in msg
    assert "r-cran-lme4 r-cran-lmertest r-cran-broom.mixed" in msg
    assert "pip install 'pcstats[r]'" in msg and ".ci/setup --test" in msg


def test_missing_python_package_is_named(monkeypatch, fresh_load):
    real = lme4_bridge.importlib.util.find_spec
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: "/usr/bin/R")
    monkeypatch.setattr(lme4_bridge.importlib.util, "find_spec", lambda name: None if name == "pymer4" else real(name))
    with pytest.raises(EngineError, match=r"Python package\(s\) pymer4, which are not installed.*pcstats\[r\]"):
        load_pymer4()


def test_placeholder_raises_a_clear_error():
    report = lme4_bridge._MissingRPackage("report")
    with pytest.raises(MissingRPackageError, match=r"R package 'report' is not installed; pcstats does not use pymer4's report\(\)"):
        report.report
    assert not hasattr(report, "report")  # an AttributeError too, so introspection is not broken
    assert "placeholder" in repr(report)


@pytest.mark.parametrize(
    ("args", "match"),
    [(({"y": [1.0]}, SLEEP, True), "data must be a pandas DataFrame"),
     ((pd.DataFrame({"y": [1.0]}), "y + x", True), "formula must be an lme4 formula"),
     ((pd.DataFrame({"y": [1.0]}), SLEEP, "yes"), "reml must be True or False")],
)
def test_bad_arguments_are_named(args, match):
    with pytest.raises(EngineError, match=match):
        fit_lmer(*args)


# -- with R ----------------------------------------------------------------------------------------


@needs_r
@pytest.mark.parametrize("reml", [True, False], ids=["REML", "ML"])
def test_sleepstudy_matches_lme4_in_r(sleepstudy, reml):
    before = sleepstudy.copy()
    fit = fit_lmer(sleepstudy, SLEEP, reml=reml)
    pd.testing.assert_frame_equal(sleepstudy, before)  # the input is not modified
    for name, keys in [("fixed", ["term"]), ("ran_pars", ["group", "term"]), ("ran_vals", ["group", "level", "term"])]:
        ours, ref = fit[name], reference(name, reml)
        assert list(ours.columns) == list(ref.columns), name
        assert ours[keys].astype(str).equals(ref[keys].astype(str)), name
        numbers = [c for c in ref.columns if c not in keys]
        np.testing.assert_allclose(ours[numbers].to_numpy(float), ref[numbers].to_numpy(float), rtol=1e-6, err_msg=name)
    glance = reference("glance", reml).iloc[0]
    assert fit["log_lik"] == pytest.approx(glance["log_lik"], rel=1e-9)
    assert fit["sigma"] == pytest.approx(glance["sigma"], rel=1e-6)
    assert fit["nobs"] == glance["nobs"] == 180
    assert fit["n_groups"] == {"Subject": 18}
    assert (fit["singular"], fit["converged"], fit["messages"], fit["dropped_terms"]) == (False, True, [], [])
    assert fit["optimizer"] == glance["optimizer"]
    assert (fit["lme4_version"], fit["lmertest_version"]) == (glance["lme4_version"], glance["lmertest_version"])
    assert "lmerModLmerTest" in list(fit["r_model"].rclass)


@needs_r
def test_reference_script_reproduces_stored_values(tmp_path):
    if shutil.which("Rscript") is None:
        pytest.skip("Rscript not installed")
    subprocess.run(["Rscript", "tests/reference/lme4_bridge_reference.R", str(tmp_path)], check=True, capture_output=True)
    for name in ["fixed", "ran_pars", "ran_vals", "glance"]:
        ours = pd.read_csv(tmp_path / f"lme4_bridge_sleepstudy_{name}.csv")
        stored = pd.read_csv(REFERENCE / f"lme4_bridge_sleepstudy_{name}.csv")
        pd.testing.assert_frame_equal(ours, stored, check_exact=False, rtol=1e-6)


@needs_r
def test_report_is_a_placeholder_and_the_rest_is_real():
    pymer4 = load_pymer4()
    import rpy2.robjects as ro
    import rpy2.robjects.packages as rpackages

    easystats = pymer4.tidystats.easystats
    assert rpackages.importr.__module__ == "rpy2.robjects.packages"  # the import-time wrap is undone
    assert not isinstance(easystats.params, lme4_bridge._MissingRPackage)
    assert not isinstance(pymer4.tidystats.lmerTest.lib_lmerTest, lme4_bridge._MissingRPackage)
    if lme4_bridge._installed(ro, ["report"])["report"]:
        pytest.skip("R package 'report' is installed here, so pymer4 uses the real one")
    assert isinstance(easystats.report_lib, lme4_bridge._MissingRPackage)
    with pytest.raises(MissingRPackageError, match=r"R package 'report' is not installed; pcstats does not use pymer4's report\(\)"):
        easystats.report(None)


@needs_r
def test_missing_r_package_names_the_debian_package(monkeypatch, fresh_load):
    monkeypatch.setattr(lme4_bridge, "_installed", lambda ro, names: {n: n != "lmerTest" for n in names})
    with pytest.raises(EngineError, match=r"R package\(s\) lmerTest, which are not installed.*r-cran-lmertest"):
        load_pymer4()


def balanced(groups: int = 6) -> pd.DataFrame:
    """Every group has the same residuals, so the between-group variance is estimated as exactly 0."""
    x = np.tile(np.arange(5.0), groups)
    e = np.tile([1.0, -1.0, 2.0, -2.0, 0.0], groups)
    return pd.DataFrame({"y": 2 + 0.5 * x + e, "x": x, "g": np.repeat([f"g{i}" for i in range(groups)], 5)})


@needs_r
def test_singular_fit_is_flagged():
    fit = fit_lmer(balanced(), "y ~ x + (1 | g)", reml=True)
    assert fit["singular"] is True
    assert fit["converged"] is True  # a boundary fit is not a convergence failure in lme4
    assert "boundary (singular) fit: see help('isSingular')" in fit["messages"]
    sd_g = fit["ran_pars"].set_index(["group", "term"]).loc[("g", "sd__(Intercept)"), "estimate"]
    assert sd_g == pytest.approx(0, abs=1e-6)


@needs_r
def test_rank_deficient_fixed_effects_are_reported():
    data = balanced().assign(x2=lambda d: 2 * d["x"])
    fit = fit_lmer(data, "y ~ x + x2 + (1 | g)", reml=True)
    assert fit["dropped_terms"] == ["x2"]
    assert list(fit["fixed"]["term"]) == ["(Intercept)", "x"]
    assert "fixed-effect model matrix is rank deficient so dropping 1 column / coefficient" in fit["messages"]


@needs_r
def test_convergence_failure_is_reported(sleepstudy):
    data = sleepstudy.assign(D=sleepstudy["Days"] * 1000)  # badly scaled: lme4 fails its gradient check
    fit = fit_lmer(data, "Reaction ~ D + (D | Subject)", reml=True)
    assert fit["converged"] is False
    assert any(m.startswith("Model failed to converge with max|grad|") for m in fit["messages"])
    assert "Some predictor variables are on very different scales: consider rescaling" in fit["messages"]


@needs_r
def test_design_matrix_formula_with_two_grouping_factors():
    rng = np.random.default_rng(1)
    n = 400
    g1, g2 = rng.integers(0, 8, n), rng.integers(0, 5, n)
    x1, x2, z1, z2 = rng.normal(size=(4, n))
    b1, b2 = rng.normal(size=(8, 2)), rng.normal(size=5)
    y = x1 - 0.5 * x2 + b1[g1, 0] * z1 + b1[g1, 1] * z2 + b2[g2] + rng.normal(size=n)
    data = pd.DataFrame({"y": y, "x1": x1, "x2": x2, "z1": z1, "z2": z2,
                         "g1": [f"a{i}" for i in g1], "g2": [f"b{i}" for i in g2]})
    fit = fit_lmer(data, "y ~ 0 + x1 + x2 + (0 + z1 + z2 | g1) + (1 | g2)", reml=False)
    assert list(fit["fixed"]["term"]) == ["x1", "x2"]
    assert fit["fixed"]["df"].notna().all() and (fit["fixed"]["df"] > 300).all()
    assert fit["n_groups"] == {"g1": 8, "g2": 5}
    assert list(zip(fit["ran_pars"]["group"], fit["ran_pars"]["term"])) == [
        ("g1", "sd__z1"), ("g1", "cor__z1.z2"), ("g1", "sd__z2"), ("g2", "sd__(Intercept)"), ("Residual", "sd__Observation")]
    assert fit["ran_vals"].groupby(["group", "term"]).size().to_dict() == {("g1", "z1"): 8, ("g1", "z2"): 8, ("g2", "(Intercept)"): 5}
    assert fit["nobs"] == n and fit["converged"] and not fit["singular"]


@needs_r
def test_lme4_error_becomes_engine_error():
    with pytest.raises(EngineError, match="lme4 could not fit 'y ~ nope \\+ \\(1 \\| g\\)': object 'nope' not found"):
        fit_lmer(balanced(), "y ~ nope + (1 | g)", reml=True)


@pytest.mark.needs_r
def test_starting_r_leaves_child_processes_their_library_path():
    """R's ldpaths in LD_LIBRARY_PATH made child Pythons load Debian's libpython (seen in test_cli)."""
    import os
    import subprocess
    import sys

    before = os.environ.get("LD_LIBRARY_PATH")
    load_pymer4()
    assert os.environ.get("LD_LIBRARY_PATH") == before
    subprocess.run([sys.executable, "-c", "import ssl"], check=True)
