"""Every LaTeX table pcstats writes compiles with pdflatex, fits the page (no overfull box) and is not
shrunk to fit: pc.table's own tables and the paper's three tables that ``pcstats reproduce`` writes."""

from __future__ import annotations

import re
import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pcstats as pc
from pcstats.specs import load_spec
from pcstats.tables import SavedFit, table
from pcstats.tables.latex import standalone_document

from .conftest import REFERENCE

HAVE_LATEX = not (shutil.which("pdflatex") is None or shutil.which("kpsewhich") is None
                  or subprocess.run(["kpsewhich", "siunitx.sty"], capture_output=True, text=True).stdout.strip() == "")
pytestmark = pytest.mark.skipif(
    not HAVE_LATEX,
    reason="pdflatex with siunitx not installed (apt-get install --no-install-recommends texlive-latex-base "
           "texlive-latex-recommended texlive-science)")

ROOT = Path(__file__).resolve().parents[1]
# \resizebox replaced by a box that reports the tabular's natural width: a table must fit without shrinking
MEASURE = r"\renewcommand{\resizebox}[3]{\sbox0{#3}\typeout{TABLEWIDTH \the\wd0\space OF \the\linewidth}\usebox0}" + "\n"


def compile_tex(tex: str, folder: Path, name: str, *, landscape: bool = False) -> str:
    """pdflatex a table in a standalone document; the log, after checking the run succeeded."""
    (folder / f"{name}.tex").write_text(standalone_document(MEASURE + tex, landscape=landscape), encoding="utf-8")
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", f"{name}.tex"], cwd=folder,
                         capture_output=True, text=True, timeout=120)
    log = (folder / f"{name}.log").read_text(errors="replace")
    assert run.returncode == 0, log[-3000:]
    return log


def assert_fits(log: str, *, shrink: float = 1.0) -> list[float]:
    """No overfull box, no float taller than the page; each tabular no wider than ``shrink`` x the line
    (1.0: never scaled down)."""
    overfull = re.findall(r"^Overfull \\hbox .*$", log, flags=re.M)
    assert not overfull, overfull
    tall = re.findall(r"Float too large for page by [\d.]+pt", log)
    assert not tall, tall
    assert "Missing character" not in log
    widths = [(float(w), float(line)) for w, line in re.findall(r"TABLEWIDTH ([\d.]+)pt ?OF ([\d.]+)pt", log)]
    assert widths, "no tabular measured"
    for width, line in widths:
        assert width <= shrink * line, f"a tabular of {width:.0f} pt on a {line:.0f} pt line"
    return [w for w, _ in widths]


def quiet(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


@pytest.fixture(scope="module")
def trends():
    return pc.read_table(REFERENCE / "trend_input.csv")


@pytest.fixture(scope="module")
def fits(trends):
    inversions = trends[trends["source"] != "ensemble"].reset_index(drop=True)
    sem = pc.read_table(ROOT / "fixtures/sem/sem_seasonal.parquet")
    towers = quiet(pc.seasonalize, pc.read_table(ROOT / "fixtures/evaluation/sites_monthly.parquet"), how="mean")
    out = {
        "trend_seasonal": quiet(pc.fit, pc.TrendSpec("NEE ~ year", by=("source", "region", "season")), trends),
        "glmm_trend": quiet(pc.fit, pc.MixedSpec("NEE ~ year_c * region + (1 + year_c | source)", by="season"), inversions),
        "sem_egs": quiet(pc.fit, load_spec(ROOT / "models/sem_egs.toml"), sem),
        "sem_lgs": quiet(pc.fit, load_spec(ROOT / "models/sem_lgs.toml"), sem),
    }
    for stem, spec in (("gamma_towers_pooled", "gamma_pooled.toml"), ("gamma_towers_mixed", "gamma_mixed.toml"),
                       ("gamma_towers_panel", "panel_gamma.toml")):
        out[stem] = quiet(pc.fit, load_spec(ROOT / "models" / spec), towers)
    # the Bayesian column: the GLMM's rows without p-values (a posterior has none), as a saved fit
    glmm = out["glmm_trend"]
    out["bayes_trend"] = SavedFit("bayes", glmm.by, "pymc", glmm.tidy().assign(p_value=np.nan), glmm.glance())
    return out


def test_paper_tables_of_reproduce_compile_and_fit_the_page(fits, tmp_path):
    from pcstats.pipeline.report import _paper_tables

    written, _ = _paper_tables(tmp_path, fits)
    texs = sorted(p for p in written if p.suffix == ".tex")
    assert [p.name for p in texs] == ["table1_trends.tex", "table2_sem.tex", "table3_gamma.tex"]
    for tex in texs:
        widths = assert_fits(compile_tex(tex.read_text(), tmp_path, f"doc_{tex.stem}"))
        assert len(widths) >= 2, f"{tex.name}: the seasons (or SEMs) were not split into blocks"
    table1 = texs[0].read_text()  # four seasons: one block each, in floats of one table number
    assert table1.count(r"\begin{tabular}{l") == 4 and table1.count(r"\addtocounter{table}{-1}") == table1.count("(continued)") >= 1
    assert "SD Residual" in table1 and "sd\\_\\_" not in table1 and r"\begin{tabular}{lS[" in table1
    table3 = texs[2].read_text()  # coef_omit="Intercept" once dropped the random intercept's SD too
    assert "SD (Intercept), site" in table3


@pytest.mark.parametrize("case", ["narrow", "twelve columns", "sem", "unaligned", "landscape", "tiny SEs"])
def test_pc_table_latex_compiles_and_fits(case, fits, trends, tmp_path):
    ols, glmm = fits["trend_seasonal"].subset(source="ensemble", region="P"), fits["glmm_trend"]
    kwargs, make = {}, lambda: table({"OLS": ols, "GLMM": glmm}, span="group")
    if case == "narrow":
        make = lambda: table({"OLS": ols.subset(season="ANN")}, title="One column")  # noqa: E731
    elif case == "sem":
        make = lambda: table({"EGS": fits["sem_egs"], "LGS": fits["sem_lgs"]}, gof=("nobs", "cfi", "rmsea"))  # noqa: E731
    elif case == "unaligned":
        kwargs = {"align": False}
    elif case == "landscape":
        kwargs = {"landscape": True, "max_width": 650}
    elif case == "tiny SEs":
        scaled = trends.assign(value=trends["value"] * 1e-4)  # SEs of ~1e-5: no "(0.000)"
        tiny = quiet(pc.fit, pc.TrendSpec("NEE ~ year", by="season", where="source == 'ensemble' and region == 'P'"), scaled)
        make = lambda: table({"tiny": tiny, "tinier": quiet(pc.fit, tiny.spec, scaled.assign(value=scaled["value"] * 1e-4))})  # noqa: E731
    tab = make()
    tex = tab.to_latex(**kwargs)
    assert_fits(compile_tex(tex, tmp_path, "doc", landscape=kwargs.get("landscape", False)))
    if case == "tiny SEs":
        statistics = [c for r in tab.rows if r.kind == "statistic" for c in r.cells if c]
        assert statistics and not any(re.fullmatch(r"\(-?0\.0*\)", c) for c in statistics), statistics
        assert any("e-" in c for c in statistics)  # 1e-9 needs more than six decimals: scientific
    if case == "twelve columns":
        assert tex.count(r"\begin{tabular}{l") == 2  # 4 seasons x (OLS, GLMM) in blocks of seasons


def test_standalone_document_is_complete(fits, tmp_path):
    tex = table([fits["glmm_trend"]]).to_latex(tmp_path / "t.tex", standalone=True)
    assert tex.startswith("\\documentclass") and "\\usepackage{siunitx}" in tex
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "t.tex"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and "Overfull" not in (tmp_path / "t.log").read_text(errors="replace")


def test_table_csv_keeps_every_column(fits):
    """Splitting is LaTeX's business: the CSV and Markdown keep the one wide table."""
    tab = table({"OLS": fits["trend_seasonal"].subset(source="ensemble", region="P"), "GLMM": fits["glmm_trend"]}, span="group")
    frame = pd.read_csv(pd.io.common.StringIO(tab.to_csv()), header=[0, 1], index_col=0)
    assert frame.shape[1] == 8
