"""Kenward-Roger (pcstats.stats.lmm_kr and ddf="kenward-roger") against lmerTest's summary(m, ddf = "Kenward-Roger"),
pbkrtest's vcovAdj and KRmodcomp (tests/reference/kenward_roger.R): sleepstudy (correlated and uncorrelated slope,
balanced and unbalanced), Penicillin (crossed), mixed_cells (4100 rows) and the regional NEE with crossed source and
year intercepts."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

import pcstats as pc
from pcstats.errors import EngineError, SpecError
from pcstats.stats import lmm_kr
from pcstats.stats.lmm import Block
from pcstats.stats.lmm_kr import kenward_roger, kenward_roger_contrast

from ..conftest import REFERENCE

KR = REFERENCE / "kenward_roger"
RTOL = 1e-4  # the tolerance for fits by pcstats vs lme4 (measured: 1.1e-6 at worst, a p-value)
SLEEP = "Reaction ~ Days + (Days | Subject)"
CASES = {  # name: (formula, where, data)
    "sleep_slope": (SLEEP, None, "sleepstudy"),
    "sleep_uncorrelated": ("Reaction ~ Days + (1 | Subject) + (0 + Days | Subject)", None, "sleepstudy"),
    "penicillin": ("diameter ~ 1 + (1 | plate) + (1 | sample)", None, "penicillin"),
    "sleep_unbalanced": (SLEEP, None, "sleep_unbalanced"),
    "cells": ("NEE ~ year_c + (1 + year_c | region)", None, "cells"),
    "regional_crossed": ("NEE ~ year_c * region + (1 | source) + (1 | year)", "season == 'ANN'", "regional"),
}


def table(name: str) -> pd.DataFrame:
    if name == "cells":
        return pc.read_table(REFERENCE / "mixed_cells.csv")
    if name == "regional":
        regional = pc.read_table(REFERENCE / "trend_input.csv")
        return regional[regional["source"] != "ensemble"]
    return pd.read_csv(KR / f"{name}.csv")


def reference(name: str, what: str) -> pd.DataFrame:
    return pd.read_csv(KR / f"{name}_{what}.csv", keep_default_na=False, na_values=[""])


def close(ours, ref, what, rtol=RTOL):
    np.testing.assert_allclose(np.asarray(ours, float), np.asarray(ref, float), rtol=rtol, atol=0, err_msg=what)


@pytest.mark.parametrize("name", list(CASES))
def test_fit_matches_lmertest_summary(name):
    formula, where, data = CASES[name]
    res = pc.fit(pc.MixedSpec(formula, where=where, ddf="kenward-roger"), table(data))
    fixed = res.tidy().query("component == 'fixed'").merge(reference(name, "coef"), on="term", suffixes=("", "_r"))
    assert len(fixed) == len(reference(name, "coef"))
    close(fixed["estimate"], fixed["estimate_r"], f"{name}: estimates")
    close(fixed["std_error"], fixed["std_error_r"], f"{name}: adjusted SEs")
    close(fixed["df"], fixed["df_r"], f"{name}: KR df")
    close(fixed["statistic"], fixed["t"], f"{name}: t")
    close(fixed["p_value"], fixed["p"], f"{name}: p")


# ------------------------------------------------------------------ the module at R's own variance estimates


def design(name: str) -> tuple[np.ndarray, list[Block], list[np.ndarray], float]:
    """``(X, blocks, cov_re, sigma)`` of case ``name`` at lme4's REML estimates (the stored VarCorr)."""
    data = table(CASES[name][2])
    if name == "regional_crossed":
        data = data[(data["variable"] == "NEE") & (data["season"] == "ANN") & data["value"].notna()]
    if name in ("cells", "regional_crossed"):
        data = data.assign(year_c=data["year"] - data["year"].drop_duplicates().mean())
    one = np.ones(len(data))
    if name.startswith("sleep"):
        X = np.column_stack([one, data["Days"]])
        terms = ([("Subject", X, "Subject")] if name != "sleep_uncorrelated" else
                 [("Subject", one[:, None], "Subject"), ("Subject.1", data[["Days"]].to_numpy(float), "Subject")])
    elif name == "penicillin":
        X = one[:, None]
        terms = [("plate", X, "plate"), ("sample", X, "sample")]
    elif name == "cells":
        X = np.column_stack([one, data["year_c"]])
        terms = [("region", X, "region")]
    else:
        P = (data["region"] == "P").to_numpy(float)
        X = np.column_stack([one, data["year_c"], P, data["year_c"] * P])
        terms = [("source", one[:, None], "source"), ("year", one[:, None], "year")]
    vc = reference(name, "varcorr")
    blocks, cov_re = [], []
    for grp, Z, factor in terms:
        codes = pd.factorize(data[factor], sort=True)[0]
        blocks.append(Block(np.asarray(Z, float), codes, int(codes.max()) + 1))
        rows = vc[vc["grp"] == grp]
        names = list(rows["var1"][rows["var2"].isna()])
        cov = np.zeros((len(names), len(names)))
        for v1, v2, value in rows[["var1", "var2", "vcov"]].itertuples(index=False):
            i, j = names.index(v1), names.index(v1 if pd.isna(v2) else v2)
            cov[i, j] = cov[j, i] = value
        cov_re.append(cov)
    sigma = float(np.sqrt(vc.loc[vc["grp"] == "Residual", "vcov"].iloc[0]))
    return X, blocks, cov_re, sigma


@pytest.mark.parametrize("name", list(CASES))
def test_vcovadj_and_lb_ddf_at_lme4s_estimates(name):
    X, blocks, cov_re, sigma = design(name)
    adjusted, df = kenward_roger(X, blocks, cov_re, sigma)
    vcovadj = reference(name, "vcovadj").drop(columns="term").to_numpy(float)
    np.testing.assert_allclose(adjusted, vcovadj, rtol=1e-8, atol=1e-10 * np.abs(vcovadj).max(), err_msg="vcovAdj")
    close(df, reference(name, "coef")["df"], "Lb_ddf", rtol=1e-8)


@pytest.mark.parametrize("name", list(CASES))
def test_krmodcomp_df_and_f_scaling(name):
    X, blocks, cov_re, sigma = design(name)
    ref = reference(name, "krmodcomp")
    p = X.shape[1]
    contrasts = [np.eye(p)[[j]] for j in range(p)] + ([np.eye(p)] if p > 1 else [])  # unit rows, all coefficients
    assert list(ref["ndf"]) == [len(L) for L in contrasts]
    ours = np.array([kenward_roger_contrast(L, X, blocks, cov_re, sigma) for L in contrasts])
    close(ours[:, 0], ref["ddf"], "KRmodcomp ddf", rtol=1e-8)
    close(ours[:, 1], ref["f_scaling"], "KRmodcomp F.scaling", rtol=1e-8)
    if p > 1:
        assert abs(ours[-1, 1] - 1) > 1e-3  # the joint test is scaled


def test_unbalanced_adjustment_is_not_negligible():
    X, blocks, cov_re, sigma = design("sleep_unbalanced")
    adjusted, _ = kenward_roger(X, blocks, cov_re, sigma)
    ols_like = np.linalg.inv(X.T @ np.linalg.solve(_sigma(X, blocks, cov_re, sigma), X))  # lme4's vcov
    assert np.all(np.diag(adjusted) > np.diag(ols_like) * (1 + 1e-4))


def _sigma(X, blocks, cov_re, sigma):
    n = len(X)
    V = sigma**2 * np.eye(n)
    for b, cov in zip(blocks, cov_re):
        same = b.codes[:, None] == b.codes[None, :]
        V += same * (b.Z @ cov @ b.Z.T)
    return V


# ------------------------------------------------------------------ engine behaviour


def test_none_gives_z_tests():
    res = pc.fit(pc.MixedSpec(SLEEP, ddf="none"), table("sleepstudy"))
    fixed = res.tidy().query("component == 'fixed'")
    assert fixed["df"].isna().all()
    from scipy import stats

    close(fixed["p_value"], 2 * stats.norm.sf(np.abs(fixed["statistic"])), "z-test p", rtol=1e-12)


def test_kenward_roger_needs_reml():
    with pytest.raises(SpecError, match="REML"):
        pc.MixedSpec(SLEEP, ddf="kenward-roger", reml=False)


def test_too_large_a_design_is_refused_by_name(monkeypatch):
    monkeypatch.setattr(lmm_kr, "MAX_CELLS", 1000)  # sleepstudy: 180 rows x 36 random effects
    with pytest.raises(EngineError, match=r"180 rows and 36 random effects \(6,480 cells.*ddf='satterthwaite'"):
        pc.fit(pc.MixedSpec(SLEEP, ddf="kenward-roger"), table("sleepstudy"))


def test_constant_weights_change_nothing():
    """pcstats builds Σ from the weighted rows; pbkrtest 0.5.2 does not (its .get_SigmaG has residual covariance
    sigma^2 I whatever lmer's weights), so lmerTest's KR differs for weighted fits -- even for weights all 2."""
    data = table("sleepstudy")
    plain = pc.fit(pc.MixedSpec(SLEEP, ddf="kenward-roger"), data).tidy().query("component == 'fixed'")
    weighted = pc.fit(pc.MixedSpec(SLEEP, ddf="kenward-roger", weights="w"), data.assign(w=2.0))
    weighted = weighted.tidy().query("component == 'fixed'")
    close(weighted["std_error"], plain["std_error"], "SEs", rtol=1e-6)
    close(weighted["df"], plain["df"], "df", rtol=1e-6)


@pytest.mark.needs_r
@pytest.mark.skipif(shutil.which("Rscript") is None, reason="Rscript not installed")
def test_lme4_engine_passes_ddf_to_lmertest():
    data = table("sleep_unbalanced")
    ref = reference("sleep_unbalanced", "coef")
    kr = pc.fit(pc.MixedSpec(SLEEP, ddf="kenward-roger", engine="lme4"), data).tidy().query("component == 'fixed'")
    close(kr["std_error"], ref["std_error"], "lme4 engine: adjusted SEs")
    close(kr["df"], ref["df"], "lme4 engine: KR df")
    z = pc.fit(pc.MixedSpec(SLEEP, ddf="none", engine="lme4"), data).tidy().query("component == 'fixed'")
    assert z["df"].isna().all() and z["p_value"].notna().all()


@pytest.mark.needs_r
@pytest.mark.skipif(shutil.which("Rscript") is None, reason="Rscript not installed")
def test_stored_r_outputs_are_reproduced_by_the_script(tmp_path):
    subprocess.run(["Rscript", "tests/reference/kenward_roger.R", str(tmp_path)], check=True, capture_output=True)
    for name in CASES:  # nloptwrap's optimum moves in the 8th digit between runs
        for what in ("coef", "vcovadj", "varcorr", "krmodcomp"):
            pd.testing.assert_frame_equal(pd.read_csv(tmp_path / f"{name}_{what}.csv"), reference(name, what),
                                          rtol=1e-6, obj=f"{name}_{what}")
