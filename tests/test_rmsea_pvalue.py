"""glance()'s ``rmsea_pvalue`` (H0: RMSEA <= 0.05) against lavaan 0.6-14's ``fitMeasures(fit)["rmsea.pvalue"]``.

The reference values are the ``*_fit.csv`` files that tests/reference/lavaan.R and lavaan_extended.R write
(they store every fit measure, ``rmsea.pvalue``, ``rmsea.pvalue.scaled`` and ``rmsea.pvalue.robust``
included). With G groups lavaan divides the noncentrality under H0 by G (lav_fit_rmsea_closefit); the
two-group Holzinger-Swineford fits check that correction, whose absence changes the p-value tenfold.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

import pcstats as pc
from pcstats.stats import sem_fit

from .conftest import REFERENCE

LAVAAN, EXTENDED = REFERENCE / "lavaan", REFERENCE / "lavaan_extended"
RTOL = 1e-3


def lavaan_fit(folder, name: str) -> pd.Series:
    return pd.read_csv(folder / f"{name}_fit.csv").set_index("name")["value"]


def syntax(folder, name: str) -> str:
    models = pd.read_csv(folder / "models.csv")
    key = "name" if "name" in models.columns else "model"
    return models.set_index(key).loc[name, "syntax"]


def fit(spec: pc.SEMSpec, data: pd.DataFrame) -> pd.Series:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pc.fit(spec, data).glance().iloc[0]


# (folder, model, number of groups): lavaan.R fits multigroup_lgs with group = "kind" (3 kinds);
# lavaan_extended.R stores ngroups in its models.csv
@pytest.mark.parametrize("folder, name, G", [(LAVAAN, "political_democracy", 1), (LAVAAN, "holzinger_swineford", 1),
                                             (LAVAAN, "multigroup_lgs", 3), (EXTENDED, "hs_configural", None),
                                             (EXTENDED, "hs_metric", None), (EXTENDED, "hs_scalar", None),
                                             (EXTENDED, "pd_mlr", None)])
def test_the_formula_gives_lavaans_pvalue_from_lavaans_statistic(folder, name, G):
    lav = lavaan_fit(folder, name)
    if G is None:
        G = int(pd.read_csv(EXTENDED / "models.csv").set_index("name").loc[name, "ngroups"])
    ours = sem_fit.rmsea_pvalue(lav["chisq"], int(lav["df"]), int(lav["ntotal"]), h0=lav["rmsea.close.h0"],
                                n_groups=G)
    assert ours == pytest.approx(lav["rmsea.pvalue"], rel=1e-9, abs=1e-12)
    notclose = sem_fit.rmsea_notclose_pvalue(lav["chisq"], int(lav["df"]), int(lav["ntotal"]),
                                             h0=lav["rmsea.notclose.h0"], n_groups=G)
    assert notclose == pytest.approx(lav["rmsea.notclose.pvalue"], rel=1e-9, abs=1e-12)


def test_groups_divide_the_noncentrality():
    lav = lavaan_fit(EXTENDED, "hs_configural")
    X2, df, n = lav["chisq"], int(lav["df"]), int(lav["ntotal"])
    one_group = sem_fit.rmsea_pvalue(X2, df, n)
    assert one_group > 5 * lav["rmsea.pvalue"]  # ignoring the two groups would be far off
    assert sem_fit.rmsea_pvalue(X2, df, n, n_groups=2) == pytest.approx(sem_fit.rmsea_pvalue(X2, df, n / 2), rel=1e-12)


def test_undefined_cases_are_nan_and_bad_groups_are_named():
    assert math.isnan(sem_fit.rmsea_pvalue(3.0, 0, 100))
    assert math.isnan(sem_fit.rmsea_pvalue(float("nan"), 5, 100))
    with pytest.raises(ValueError, match="n_groups"):
        sem_fit.rmsea_pvalue(3.0, 5, 100, n_groups=0)


NATIVE = {
    "hs_configural": ("hs_data.csv", {"group": "school"}),
    "hs_metric": ("hs_data.csv", {"group": "school", "group_equal": ("loadings",)}),
    "pd_equality": ("pd_data.csv", {}),
    "path_fiml": ("path_fiml_data.csv", {"missing": "fiml"}),
    "multigroup_free": ("../sem_multigroup_input.csv", {"group": "kind"}),
}


@pytest.mark.parametrize("name", list(NATIVE))
def test_native_engine_glance_matches_lavaan(name):
    data_file, kwargs = NATIVE[name]
    g = fit(pc.SEMSpec(syntax(EXTENDED, name), **kwargs), pd.read_csv(EXTENDED / data_file))
    lav = lavaan_fit(EXTENDED, name)
    np.testing.assert_allclose(g["rmsea_pvalue"], lav["rmsea.pvalue"], rtol=RTOL, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("name", ["pd_mlr", "pd_mlm", "hs_configural_mlr"])
def test_native_engine_scaled_and_robust_pvalues_match_lavaan(name):
    data_file, kwargs = {"pd_mlr": ("pd_data.csv", {"estimator": "MLR"}),
                         "pd_mlm": ("pd_data.csv", {"estimator": "MLM"}),
                         "hs_configural_mlr": ("hs_data.csv", {"group": "school", "estimator": "MLR"})}[name]
    g = fit(pc.SEMSpec(syntax(EXTENDED, name), **kwargs), pd.read_csv(EXTENDED / data_file))
    lav = lavaan_fit(EXTENDED, name)
    for ours, theirs in (("rmsea_pvalue", "rmsea.pvalue"), ("rmsea_pvalue_scaled", "rmsea.pvalue.scaled"),
                         ("rmsea_pvalue_robust", "rmsea.pvalue.robust")):
        np.testing.assert_allclose(g[ours], lav[theirs], rtol=RTOL, atol=1e-6, err_msg=f"{name}: {theirs}")


@pytest.mark.parametrize("name, data_file", [("political_democracy", "political_democracy_data.csv"),
                                             ("holzinger_swineford", "holzinger_swineford_data.csv"),
                                             ("defined_chain", "../sem_path_input.csv"),
                                             ("path_lgs", "../sem_path_input.csv")])
def test_semopy_engine_glance_matches_lavaan(name, data_file):
    pytest.importorskip("semopy")
    g = fit(pc.SEMSpec(syntax(LAVAAN, name), engine="semopy"), pd.read_csv(LAVAAN / data_file))
    lav = lavaan_fit(LAVAAN, name)
    np.testing.assert_allclose(g["rmsea_pvalue"], lav["rmsea.pvalue"], rtol=RTOL, atol=1e-6, err_msg=name)


def test_semopy_engine_with_groups_matches_lavaan():
    pytest.importorskip("semopy")
    spec = pc.SEMSpec(syntax(EXTENDED, "hs_configural"), group="school", engine="semopy")
    g = fit(spec, pd.read_csv(EXTENDED / "hs_data.csv"))
    lav = lavaan_fit(EXTENDED, "hs_configural")
    assert g["n_groups"] == 2
    np.testing.assert_allclose(g["rmsea_pvalue"], lav["rmsea.pvalue"], rtol=RTOL, atol=1e-6)
