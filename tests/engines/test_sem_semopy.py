"""The SEM engine against lavaan (tests/reference/lavaan.R): estimates, SEs, standardised
solutions, R², := parameters and fit indices to 1e-3 relative -- where semopy's own fit indices
are wrong (df, CFI, RMSEA on path models; see tests/stats/test_sem_fit.py)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import pcstats as pc
from pcstats.engines.sem_semopy import fit_table
from pcstats.errors import EngineError, FormulaError

from ..conftest import REFERENCE

LAVAAN = REFERENCE / "lavaan"
MODELS = pd.read_csv(LAVAAN / "models.csv").set_index("model")
DATA = {"political_democracy": "political_democracy_data.csv", "holzinger_swineford": "holzinger_swineford_data.csv",
        "path_lgs": "../sem_path_input.csv", "path_defined": "../sem_path_input.csv",
        "two_outcomes": "../sem_path_input.csv", "single_indicator": "../sem_path_input.csv",
        "exogenous_covariance": "../sem_path_input.csv", "defined_chain": "../sem_path_input.csv"}
RTOL = 1e-3
PARAMETERS = ["loading", "regression", "variance", "covariance"]


@pytest.fixture(scope="module", params=list(DATA))
def case(request):
    name = request.param
    data = pd.read_csv(LAVAAN / DATA[name])
    out = fit_table(pc.SEMSpec(MODELS.loc[name, "syntax"]), data, name)
    return name, out


def close(ours, ref, what, rtol=RTOL):
    np.testing.assert_allclose(np.asarray(ours, float), np.asarray(ref, float), rtol=rtol, atol=1e-9, err_msg=what)


def test_parameters_match_lavaan(case):
    name, out = case
    ref = pd.read_csv(LAVAAN / f"{name}_estimates.csv")
    tidy = out["tidy"][out["tidy"]["component"].isin(PARAMETERS)]
    merged = tidy.merge(ref[ref["op"] != ":="], on=["lhs", "op", "rhs"], validate="one_to_one")
    assert len(merged) == (ref["op"] != ":=").sum() == len(tidy)
    close(merged["estimate"], merged["est"], "estimates")
    free = merged["se"] > 0
    close(merged.loc[free, "std_error"], merged.loc[free, "se"], "standard errors")
    for ours, theirs in (("std_all", "std.all"), ("std_lv", "std.lv"), ("std_nox", "std.nox")):
        close(merged[ours], merged[theirs], theirs)


def test_fit_indices_match_lavaan(case):
    name, out = case
    fit = pd.read_csv(LAVAAN / f"{name}_fit.csv").set_index("name")["value"]
    g = out["glance"]
    pairs = {"chisq": "chisq", "df": "df", "p_value": "pvalue", "cfi": "cfi", "tli": "tli", "rmsea": "rmsea",
             "rmsea_ci_low": "rmsea.ci.lower", "rmsea_ci_high": "rmsea.ci.upper", "rmsea_pvalue": "rmsea.pvalue",
             "srmr": "srmr", "log_lik": "logl", "aic": "aic", "bic": "bic", "baseline_chisq": "baseline.chisq", "baseline_df": "baseline.df", "npar": "npar"}
    for ours, theirs in pairs.items():
        close(g[ours], fit[theirs], theirs)
    assert g["converged"] and g["nobs"] == MODELS.loc[name, "nobs"]


def test_r_squared_matches_lavaan(case):
    name, out = case
    ref = pd.read_csv(LAVAAN / f"{name}_r2.csv").set_index("name")["value"]
    r2 = out["tidy"][out["tidy"]["component"] == "r2"].set_index("lhs")["estimate"]
    close(r2.reindex(ref.index), ref, "R2")


@pytest.mark.parametrize("name", ["path_defined", "defined_chain"])
def test_defined_parameters_and_delta_method_match_lavaan(name):
    out = fit_table(pc.SEMSpec(MODELS.loc[name, "syntax"]), pd.read_csv(LAVAAN / DATA[name]), name)
    ref = pd.read_csv(LAVAAN / f"{name}_estimates.csv").query("op == ':='").set_index("lhs")
    ours = out["tidy"].query("component == 'defined'").set_index("lhs").loc[ref.index]
    close(ours["estimate"], ref["est"], ":= estimates")
    close(ours["std_error"], ref["se"], ":= delta-method SEs")
    close(ours["std_all"], ref["std.all"], ":= std.all")


def test_indirect_effect_equals_product_of_paths():
    name = "path_defined"
    out = fit_table(pc.SEMSpec(MODELS.loc[name, "syntax"]), pd.read_csv(LAVAAN / DATA[name]), name)
    tidy = out["tidy"].set_index("term")
    ref = pd.read_csv(LAVAAN / f"{name}_estimates.csv").query("op == ':='").set_index("lhs")
    # airt acts on ter directly and through gpp: the indirect part is a*b
    close(tidy.loc["ter <- airt (indirect)", "estimate"], ref.loc["ind_airt_ter", "est"], "indirect effect")
    close(tidy.loc["ter <- airt (indirect)", "std_error"], ref.loc["ind_airt_ter", "se"], "indirect effect SE")


# ---------------------------------------------------------------------------------------- via pc.fit


@pytest.fixture(scope="module")
def sem_table():
    return pc.read_table("fixtures/sem/sem_seasonal.parquet")


LGS = "gpp ~ airt + par + sm + tc + p\nter ~ pregpp + airt + par + sm + tc + p + gpp\nnee ~ gpp + ter"


def test_planted_structure_differs_between_kinds(sem_table, truth):
    res = pc.fit(pc.SEMSpec(LGS, by="kind", where="season == 'LGS'"), sem_table)
    tidy = res.tidy().query("component == 'regression' and lhs == 'nee'").pivot(index="kind", columns="rhs", values="std_all")
    for kind in ("eddy_covariance", "inversion"):
        assert abs(tidy.loc[kind, "ter"]) > abs(tidy.loc[kind, "gpp"])  # respiration controls LGS NEE
    assert abs(tidy.loc["dgvm", "gpp"]) > abs(tidy.loc["dgvm", "ter"])
    planted = truth["sem"]["by_kind"]
    for kind in tidy.index:  # within 0.1 of the planted standardised paths
        std = planted[kind]["LGS"]["std_all"]["nee"]
        np.testing.assert_allclose(tidy.loc[kind, ["gpp", "ter"]].to_numpy(float), [std["gpp"], std["ter"]], atol=0.1)


def test_model_names_match_variables_regardless_of_case(sem_table):
    res = pc.fit(pc.SEMSpec("nee ~ gpp + ter", where="season == 'EGS' and kind == 'dgvm'"), sem_table)
    assert set(res.tidy()["lhs"]) >= {"nee"} and res.glance()["nobs"].iloc[0] > 0
    assert list(res.r_squared.columns) == ["model", "variable", "r_squared"]


def test_unknown_variable_is_named(sem_table):
    with pytest.raises(FormulaError, match="'gppp'.*Did you mean 'GPP'"):
        pc.fit(pc.SEMSpec("nee ~ gppp + ter"), sem_table)


def test_zero_variance_variable(sem_table):
    table = sem_table[sem_table["region"] == "US-Prr"]  # TC is constant at one site
    with pytest.raises(EngineError, match="variable 'tc' has zero variance"):
        pc.fit(pc.SEMSpec("nee ~ gpp + ter + tc", where="season == 'EGS'"), table)


def test_non_positive_definite_sample_covariance():
    rng = np.random.default_rng(3)
    x = rng.normal(size=50)
    data = pd.DataFrame({"y": rng.normal(size=50), "x": x, "z": 2 * x})
    with pytest.raises(EngineError, match="not positive definite"):
        fit_table(pc.SEMSpec("y ~ x + z"), data, "test")


def test_under_identified_model():
    rng = np.random.default_rng(4)
    data = pd.DataFrame(rng.normal(size=(100, 2)), columns=["y", "x"])
    with pytest.raises(EngineError, match="not identified.*df = -1"):
        fit_table(pc.SEMSpec("y ~ x\nx ~ y"), data, "test")


def test_nan_rows_are_dropped_and_counted(sem_table):
    table = sem_table.copy()
    hit = (table["variable"] == "GPP") & (table["season"] == "EGS") & (table["kind"] == "dgvm")
    table.loc[table.index[hit][:3], "value"] = np.nan
    res = pc.fit(pc.SEMSpec("nee ~ gpp + ter", by="kind", where="season == 'EGS'"), table)
    g = res.glance().set_index("kind")
    assert g.loc["dgvm", "n_dropped"] == 3 and "3 NaN in GPP" in g.loc["dgvm", "dropped_why"]


def test_bootstrap_is_seeded_and_close_to_standard_errors():
    data = pd.read_csv(LAVAAN / DATA["path_lgs"])
    spec = pc.SEMSpec(MODELS.loc["path_lgs", "syntax"], se="bootstrap", bootstrap=60, seed=7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a, b = fit_table(spec, data, "boot"), fit_table(spec, data, "boot")
    pd.testing.assert_frame_equal(a["tidy"], b["tidy"])
    standard = fit_table(spec.replace(se="standard"), data, "std")["tidy"].set_index("term")
    boot = a["tidy"].set_index("term")
    reg = standard.index[standard["component"] == "regression"]
    ratio = boot.loc[reg, "std_error"] / standard.loc[reg, "std_error"]
    assert ratio.between(0.6, 1.5).all()  # 60 draws: same size, not the same number
    assert (boot.loc[reg, "conf_low"] < boot.loc[reg, "estimate"]).all() and a["glance"]["bootstrap"] == 60


def test_multigroup_matches_lavaan(sem_table):
    """group='kind': one parameter set per kind, one test (lavaan's sem(..., group = "kind"))."""
    res = pc.fit(pc.SEMSpec(LGS, group="kind", where="season == 'LGS'"), sem_table)
    ref = pd.read_csv(LAVAAN / "multigroup_lgs_estimates.csv")
    tidy = res.tidy()
    tidy = tidy[tidy["component"].isin(PARAMETERS)]
    merged = tidy.merge(ref, on=["group", "lhs", "op", "rhs"], validate="one_to_one")
    assert len(merged) == len(tidy) == len(ref[ref["op"] != "~1"])
    close(merged["estimate"], merged["est"], "estimates")
    free = merged["se"] > 0
    close(merged.loc[free, "std_error"], merged.loc[free, "se"], "standard errors")
    close(merged["std_all"], merged["std.all"], "std.all")
    fit = pd.read_csv(LAVAAN / "multigroup_lgs_fit.csv").set_index("name")["value"]
    g = res.glance().iloc[0]
    for ours, theirs in {"chisq": "chisq", "df": "df", "npar": "npar", "cfi": "cfi", "tli": "tli", "rmsea": "rmsea",
                         "rmsea_ci_low": "rmsea.ci.lower", "rmsea_ci_high": "rmsea.ci.upper",
                         "rmsea_pvalue": "rmsea.pvalue", "srmr": "srmr",
                         "log_lik": "logl", "aic": "aic", "bic": "bic"}.items():
        close(g[ours], fit[theirs], theirs)
    assert g["n_groups"] == 3 and g["nobs"] == fit["ntotal"]
    assert set(res.r_squared["group"]) == {"dgvm", "eddy_covariance", "inversion"}
    from pcstats.plots import sem_path_figure

    assert len(sem_path_figure(res).axes) == 3  # one diagram per group


def test_multigroup_input_is_current():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_sem_input", REFERENCE / "make_sem_input.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    stored = pd.read_csv(REFERENCE / "sem_multigroup_input.csv")
    pd.testing.assert_frame_equal(module.build_multigroup().reset_index(drop=True), stored, check_dtype=False, rtol=1e-6)


def test_multigroup_refuses_cross_group_labels(sem_table):
    with pytest.raises(EngineError, match="equal across groups"):
        pc.fit(pc.SEMSpec("nee ~ c(a, a, a)*gpp + ter", group="kind", where="season == 'LGS'", engine="semopy"),
               sem_table)


@pytest.mark.parametrize("option", [{"std_lv": True}, {"meanstructure": True}, {"missing": "fiml"},
                                    {"estimator": "MLR"}, {"group": "kind", "group_equal": ("regressions",)}])
def test_semopy_refuses_what_only_the_native_engine_fits(sem_table, option):
    with pytest.raises(EngineError, match="engine='pcstats'"):
        pc.fit(pc.SEMSpec("nee ~ gpp + ter", where="season == 'LGS'", engine="semopy", **option), sem_table)


def test_freed_first_loading_is_refused_not_refixed():
    data = pd.read_csv(LAVAAN / DATA["political_democracy"])
    model = "ind60 =~ x1 + x2 + x3\ndem60 =~ NA*y1 + y2 + y3 + y4\ndem60 ~~ 1*dem60\ndem60 ~ ind60"
    with pytest.raises(EngineError, match="frees the first loading; semopy always fixes it"):
        fit_table(pc.SEMSpec(model), data, "test")


def test_intercepts_are_refused_before_the_identification_check():
    data = pd.read_csv(LAVAAN / DATA["path_lgs"])
    with pytest.raises(EngineError, match=r"does not fit intercepts \('~ 1'\)"):
        fit_table(pc.SEMSpec("gpp ~ 1 + airt\nnee ~ gpp"), data, "test")


def test_dotted_labels_in_defined_parameters():
    data = pd.read_csv(LAVAAN / DATA["path_lgs"])
    out = fit_table(pc.SEMSpec("gpp ~ b.1*par + airt\nnee ~ gpp\nd := b.1^2"), data, "test")["tidy"].set_index("term")
    assert out.loc["d := b.1^2", "estimate"] == pytest.approx(out.loc["gpp ~ par", "estimate"] ** 2)


def test_unidentified_model_is_flagged():
    data = pd.read_csv(LAVAAN / DATA["path_lgs"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = fit_table(pc.SEMSpec("gpp ~ airt + par\nnee ~ gpp + airt + par + ter + sm\ngpp ~~ nee"), data, "test")
    assert not out["glance"]["converged"] and any("not be identified" in m for m in out["messages"])


def test_semopy_non_convergence_is_flagged_not_raised(monkeypatch):
    import semopy

    fit = semopy.Model.fit

    def failing(self, *args, **kwargs):
        result = fit(self, *args, **kwargs)
        result.success, result.message = False, "iteration limit reached"
        return result

    monkeypatch.setattr(semopy.Model, "fit", failing)
    out = fit_table(pc.SEMSpec(MODELS.loc["path_lgs", "syntax"]), pd.read_csv(LAVAAN / DATA["path_lgs"]), "test")
    assert not out["glance"]["converged"]
    assert any("semopy did not converge (iteration limit reached)" in m for m in out["messages"])
