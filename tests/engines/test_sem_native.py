"""The native SEM engine against lavaan 0.6-14 (tests/reference/lavaan_extended.R and lavaan.R):
estimates, SEs, standardised solutions, R², := parameters and fit indices to 1e-3 relative, for mean
structures, several groups with group.equal/group.partial, labelled and explicit constraints, std.lv,
a freed first loading, FIML, and the χ² difference tests of lavTestLRT."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import pcstats as pc
from pcstats.errors import EngineError, SpecError

from ..conftest import REFERENCE

EXTENDED = REFERENCE / "lavaan_extended"
MODELS = pd.read_csv(EXTENDED / "models.csv").set_index("name")
HS, PD = "hs_data.csv", "pd_data.csv"
MULTIGROUP = "../sem_multigroup_input.csv"
SCHOOL = {"group": "school"}
CASES = {
    "hs_meanstructure": (HS, {"meanstructure": True}),
    "hs_configural": (HS, SCHOOL),
    "hs_metric": (HS, {**SCHOOL, "group_equal": ("loadings",)}),
    "hs_scalar": (HS, {**SCHOOL, "group_equal": ("loadings", "intercepts")}),
    "hs_strict": (HS, {**SCHOOL, "group_equal": ("loadings", "intercepts", "residuals")}),
    "hs_partial": (HS, {**SCHOOL, "group_equal": ("loadings", "intercepts"), "group_partial": ("x3 ~ 1", "visual =~ x2")}),
    "pd_equality": (PD, {}),
    "pd_constraints": (PD, {}),
    "hs_std_lv": (HS, {"std_lv": True}),
    "hs_free_first": (HS, {}),
    "hs_fiml": ("hs_fiml_data.csv", {"missing": "fiml"}),
    "path_fiml": ("path_fiml_data.csv", {"missing": "fiml"}),
    "path_fiml_x": ("path_fiml_x_data.csv", {"missing": "fiml"}),
    "multigroup_free": (MULTIGROUP, {"group": "kind"}),
    "multigroup_equal_reg": (MULTIGROUP, {"group": "kind", "group_equal": ("regressions",)}),
    "pd_mlr": (PD, {"estimator": "MLR"}),
    "pd_mlm": (PD, {"estimator": "MLM"}),
    "hs_fiml_mlr": ("hs_fiml_data.csv", {"missing": "fiml", "estimator": "MLR", "std_lv": True}),
    "hs_configural_mlr": (HS, {**SCHOOL, "estimator": "MLR"}),
    "hs_metric_mlr": (HS, {**SCHOOL, "group_equal": ("loadings",), "estimator": "MLR"}),
    "hs_scalar_mlr": (HS, {**SCHOOL, "group_equal": ("loadings", "intercepts"), "estimator": "MLR"}),
}
ROBUST = {"chisq_scaled": "chisq.scaled", "p_value_scaled": "pvalue.scaled", "scaling_factor": "chisq.scaling.factor",
          "baseline_chisq_scaled": "baseline.chisq.scaled", "baseline_scaling_factor": "baseline.chisq.scaling.factor",
          "cfi_scaled": "cfi.scaled", "tli_scaled": "tli.scaled", "rmsea_scaled": "rmsea.scaled",
          "rmsea_ci_low_scaled": "rmsea.ci.lower.scaled", "rmsea_ci_high_scaled": "rmsea.ci.upper.scaled",
          "cfi_robust": "cfi.robust", "tli_robust": "tli.robust", "rmsea_robust": "rmsea.robust",
          "rmsea_ci_low_robust": "rmsea.ci.lower.robust", "rmsea_ci_high_robust": "rmsea.ci.upper.robust",
          "rmsea_pvalue_scaled": "rmsea.pvalue.scaled", "rmsea_pvalue_robust": "rmsea.pvalue.robust"}
FIT = {"npar": "npar", "chisq": "chisq", "df": "df", "p_value": "pvalue", "cfi": "cfi", "tli": "tli", "rmsea": "rmsea",
       "rmsea_ci_low": "rmsea.ci.lower", "rmsea_ci_high": "rmsea.ci.upper", "rmsea_pvalue": "rmsea.pvalue", "srmr": "srmr",
       "log_lik": "logl", "unrestricted_log_lik": "unrestricted.logl", "aic": "aic", "bic": "bic", "baseline_chisq": "baseline.chisq",
       "baseline_df": "baseline.df", "nobs": "ntotal"}
RTOL = 1e-3


def close(ours, ref, what, rtol=RTOL, atol=1e-6):
    np.testing.assert_allclose(np.asarray(ours, float), np.asarray(ref, float), rtol=rtol, atol=atol, err_msg=what)


def fit_case(name: str) -> pc.Results:
    data_file, kwargs = CASES[name]
    data = pd.read_csv(EXTENDED / data_file)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pc.fit(pc.SEMSpec(MODELS.loc[name, "syntax"], **kwargs), data)


@pytest.fixture(scope="module", params=list(CASES))
def case(request):
    return request.param, fit_case(request.param)


def merged(name: str, res: pc.Results) -> pd.DataFrame:
    """Our tidy rows joined one to one with lavaan's parameterEstimates rows (by lhs, op, rhs, group)."""
    ref = pd.read_csv(EXTENDED / f"{name}_estimates.csv", keep_default_na=False, na_values=[""])
    ref["rhs"] = ref["rhs"].fillna("").astype(str)
    tidy = res.tidy()
    tidy = tidy[tidy["op"].isin(["=~", "~", "~~", "~1", ":=", "r2"])].copy()
    labels = str(MODELS.loc[name, "group_labels"]).split(";")
    if "group" in tidy.columns:
        tidy["group"] = [labels.index(str(g)) + 1 for g in tidy["group"]]
    else:
        tidy["group"] = 1
    if "group" not in ref.columns:
        ref["group"] = 1
    ref.loc[ref["op"] == ":=", "group"] = 1
    tidy.loc[tidy["op"] == "r2", "rhs"] = tidy.loc[tidy["op"] == "r2", "lhs"]
    both = tidy.merge(ref, on=["lhs", "op", "rhs", "group"], how="outer", validate="one_to_one", indicator=True)
    missing = both[both["_merge"] != "both"]
    assert missing.empty, f"{name}: rows on one side only:\n{missing[['lhs', 'op', 'rhs', 'group', '_merge']]}"
    return both


def test_parameters_match_lavaan(case):
    name, res = case
    both = merged(name, res)
    close(both["estimate"], both["est"], f"{name}: estimates")
    has_se = both["se"].fillna(0) > 0
    close(both.loc[has_se, "std_error"], both.loc[has_se, "se"], f"{name}: standard errors")
    for ours, theirs in (("std_all", "std.all"), ("std_lv", "std.lv"), ("std_nox", "std.nox")):
        rows = both[theirs].notna() & (both["op"] != "r2")
        close(both.loc[rows, ours], both.loc[rows, theirs], f"{name}: {theirs}")


def test_fit_indices_match_lavaan(case):
    name, res = case
    fit = pd.read_csv(EXTENDED / f"{name}_fit.csv").set_index("name")["value"]
    g = res.glance().iloc[0]
    for ours, theirs in FIT.items():
        close(g[ours], fit[theirs], f"{name}: {theirs}")
    if CASES[name][1].get("estimator", "ML") != "ML":
        for ours, theirs in ROBUST.items():
            close(g[ours], fit[theirs], f"{name}: {theirs}")


def test_invariance_matches_lavtestlrt():
    data = pd.read_csv(EXTENDED / HS)
    model = MODELS.loc["hs_configural", "syntax"]
    mi = pc.invariance(pc.SEMSpec(model, group="school"), data)
    ref = pd.read_csv(EXTENDED / "invariance_lrt.csv")
    table = mi.table
    assert list(table["model"]) == ["configural", "metric", "scalar", "strict"]
    assert list(table["df"]) == list(ref["Df"])
    close(table["chisq"], ref["Chisq"], "chisq")
    close(table["aic"], ref["AIC"], "aic")
    close(table["chisq_diff"].iloc[1:], ref["Chisq diff"].iloc[1:], "chisq diff")
    close(table["p_value"].iloc[1:], ref["Pr(>Chisq)"].iloc[1:], "p")
    cfi = [pd.read_csv(EXTENDED / f"hs_{s}_fit.csv").set_index("name")["value"]["cfi"] for s in table["model"]]
    close(table["delta_cfi"].iloc[1:], np.diff(cfi), "delta cfi")
    assert set(mi.fits) == {"configural", "metric", "scalar", "strict"}


def test_equal_regressions_across_kinds_match_lavtestlrt():
    data = pd.read_csv(EXTENDED / MULTIGROUP)
    model = MODELS.loc["multigroup_free", "syntax"]
    fits = {"free": pc.fit(pc.SEMSpec(model, group="kind"), data),
            "equal": pc.fit(pc.SEMSpec(model, group="kind", group_equal=("regressions",)), data)}
    table = pc.sem_lrt(fits)
    ref = pd.read_csv(EXTENDED / "multigroup_lrt.csv")
    close(table["chisq_diff"].iloc[1], ref["Chisq diff"].iloc[1], "chisq diff")
    assert table["df_diff"].iloc[1] == ref["Df diff"].iloc[1]


def test_partial_invariance_frees_each_equal_path_once():
    data = pd.read_csv(EXTENDED / MULTIGROUP)
    model = MODELS.loc["multigroup_free", "syntax"]
    out = pc.partial_invariance(pc.SEMSpec(model, group="kind", group_equal=("regressions",)), data)
    paths = out.table[out.table["model"].str.endswith(" free")]
    from pcstats.specs.lavaan_syntax import parse_model

    n_paths = int((parse_model(model)["op"] == "~").sum())
    assert len(paths) == n_paths and paths["df_diff"].eq(2).all()
    assert (paths["p_holm"] >= paths["p_value"] - 1e-15).all() and (paths["p_holm"] <= 1).all()
    # freeing one path of the equal model gives a chi-square between the equal and the free model's
    overall = out.table.set_index("model")
    assert (paths["chisq"] <= overall.loc["equal", "chisq"] + 1e-6).all()
    assert (paths["chisq"] >= overall.loc["free", "chisq"] - 1e-6).all()


def test_scaled_invariance_tests_match_lavtestlrt():
    """MLR: lavTestLRT's default Satorra-Bentler (2001) scaled differences."""
    data = pd.read_csv(EXTENDED / HS)
    model = MODELS.loc["hs_configural", "syntax"]
    mi = pc.invariance(pc.SEMSpec(model, group="school", estimator="MLR"), data, steps=("configural", "metric", "scalar"))
    ref = pd.read_csv(EXTENDED / "invariance_lrt_mlr.csv")
    close(mi.table["chisq"], ref["Chisq"], "chisq")
    close(mi.table["chisq_diff"].iloc[1:], ref["Chisq diff"].iloc[1:], "scaled chisq diff")
    close(mi.table["p_value"].iloc[1:], ref["Pr(>Chisq)"].iloc[1:], "p")


def test_robust_estimators_refuse_exogenous_covariates_for_now():
    data = pd.read_csv(REFERENCE / "sem_path_input.csv")
    with pytest.raises(EngineError, match="estimator='MLR' with observed exogenous covariates"):
        pc.fit(pc.SEMSpec("gpp ~ airt + par\nnee ~ gpp", estimator="MLR"), data)


def test_intercept_rows_are_lavaans():
    res = fit_case("hs_meanstructure")
    intercepts = res.tidy().query("op == '~1'")
    assert list(intercepts["term"]) == [f"x{i} ~1" for i in range(1, 10)] + ["visual ~1", "textual ~1", "speed ~1"]
    assert (intercepts["rhs"] == "").all() and (intercepts["component"] == "intercept").all()


def test_missing_exogenous_rows_are_dropped_and_counted():
    res = fit_case("path_fiml_x")
    g = res.glance().iloc[0]
    assert g["nobs"] == 216 and g["n_dropped"] == 24 and "24 NaN in airt" in g["dropped_why"]


def test_fiml_drops_only_empty_rows():
    data = pd.read_csv(EXTENDED / "hs_fiml_data.csv")
    data.loc[[0, 5], :] = np.nan
    res = pc.fit(pc.SEMSpec(MODELS.loc["hs_fiml", "syntax"], missing="fiml"), data)
    g = res.glance().iloc[0]
    assert g["nobs"] == 299 and g["n_dropped"] == 2 and "2 NaN in every model variable" in g["dropped_why"]


def test_listwise_is_the_default_and_counts_rows():
    data = pd.read_csv(EXTENDED / "hs_fiml_data.csv")
    res = pc.fit(pc.SEMSpec(MODELS.loc["hs_fiml", "syntax"]), data)
    assert res.glance()["nobs"].iloc[0] == 113


def test_active_inequality_is_reported():
    res = fit_case("pd_constraints")
    assert any("i < 0.8" in w and "equality" in w for w in res.warnings)
    i = res.tidy().query("label == 'i'")
    assert i["estimate"].iloc[0] == pytest.approx(0.8, abs=1e-6)


def test_heywood_case_is_flagged():
    rng = np.random.default_rng(3)
    f = rng.normal(size=(60, 1))
    data = pd.DataFrame(f @ np.array([[1.0, 0.9, 0.05]]) + rng.normal(size=(60, 3)) * [0.05, 0.45, 1.0],
                        columns=["y1", "y2", "y3"])
    data["y1"] = data["y2"] * 1.02 + rng.normal(size=60) * 0.01
    with pytest.warns(UserWarning, match="Heywood"):
        res = pc.fit(pc.SEMSpec("f =~ y1 + y2 + y3"), data)
    assert bool(res.glance()["heywood"].iloc[0])


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"group_equal": ("loading",)}, "Did you mean 'loadings'"),
    ({"group": "school", "group_equal": ("slopes",)}, "not one of lavaan's classes"),
    ({"group_equal": ("loadings",)}, "give group="),
    ({"missing": "fiml", "estimator": "MLM"}, "cannot go with missing='fiml'"),
    ({"group": "school", "group_partial": ("visual = x2",)}, "group_partial"),
    ({"std_lv": 1}, "std_lv=1 must be"),
])
def test_bad_options_are_named(kwargs, message):
    with pytest.raises(SpecError, match=message):
        pc.SEMSpec("f =~ x1 + x2 + x3", **kwargs)


def test_contradictory_constraints_are_named():
    data = pd.read_csv(EXTENDED / PD)
    model = "ind60 =~ x1 + a*x2 + b*x3\na == 1\na == 2"
    with pytest.raises(EngineError, match="contradict"):
        pc.fit(pc.SEMSpec(model), data)


def test_too_few_rows_in_a_group_is_named():
    data = pd.read_csv(EXTENDED / HS)
    small = pd.concat([data[data["school"] == "Pasteur"], data[data["school"] == "Grant-White"].head(5)])
    with pytest.raises(EngineError, match="5 rows for 9 observed variables"):
        pc.fit(pc.SEMSpec(MODELS.loc["hs_configural", "syntax"], group="school"), small)


def test_unidentified_by_constraints_is_refused():
    data = pd.read_csv(EXTENDED / HS)
    model = "visual =~ NA*x1 + x2 + x3"
    with pytest.raises(EngineError, match="not identified"):
        pc.fit(pc.SEMSpec(model), data)


def test_bootstrap_is_seeded_and_close_to_standard_errors():
    data = pd.read_csv(EXTENDED / HS)
    model = MODELS.loc["hs_std_lv", "syntax"]
    a = pc.fit(pc.SEMSpec(model, std_lv=True, se="bootstrap", bootstrap=200, seed=4), data).tidy()
    b = pc.fit(pc.SEMSpec(model, std_lv=True, se="bootstrap", bootstrap=200, seed=4), data).tidy()
    pd.testing.assert_series_equal(a["std_error"], b["std_error"], rtol=1e-9)
    standard = pc.fit(pc.SEMSpec(model, std_lv=True), data).tidy()
    rows = standard["component"].isin(["loading"])
    ratio = a.loc[rows, "std_error"] / standard.loc[rows, "std_error"]
    assert ratio.between(0.8, 2.0).all()  # HS1939 is not normal: bootstrap (and MLR) SEs exceed ML's
    assert (a.loc[rows, "conf_low"] < a.loc[rows, "estimate"]).all() and (a.loc[rows, "conf_high"] > a.loc[rows, "estimate"]).all()


def test_a_label_that_names_a_variable_is_refused():
    with pytest.raises(pc.FormulaError, match=r"the label 'x1' is also a variable of the model.*Rename the label"):
        pc.SEMSpec("visual =~ x1 + x1*x2 + x3")


def test_a_label_shared_across_groups_makes_one_parameter():
    data = pd.read_csv(EXTENDED / HS)
    res = pc.fit(pc.SEMSpec("visual =~ x1 + c(a, a)*x2 + x3\ntextual =~ x4 + x5 + x6\nx7 ~ 1", group="school"), data)
    loading = res.tidy().query("op == '=~' and rhs == 'x2'")
    assert len(loading) == 2
    close(loading["estimate"].iloc[0], loading["estimate"].iloc[1], "equal loadings", rtol=1e-10)
    free = res.glance().iloc[0]
    assert (free["npar"], free["df"]) == (41, 29)  # lavaan's, from the model's moments and parameters
    assert res.tidy().query("term == 'x7 ~1'").shape[0] == 2  # a variable only in an intercept is observed
