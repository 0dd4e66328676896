"""Side-by-side coefficient tables: cells, stars, statistics, groups as spanners, the five writers."""

from __future__ import annotations

import csv
import dataclasses
import io
import shutil
import subprocess
import warnings

import numpy as np
import pandas as pd
import pytest

import pcstats as pc
from pcstats.errors import PcstatsError
from pcstats.tables import STARS, table
from pcstats.tables.latex import escape

from .conftest import REFERENCE

TREND = "Trend (gC m⁻² yr⁻²)"


def quiet(spec, data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pc.fit(spec, data)


@pytest.fixture(scope="module")
def trend_table():
    return pc.read_table(REFERENCE / "trend_input.csv")


@pytest.fixture(scope="module")
def ols(trend_table):
    return quiet(pc.TrendSpec("NEE ~ year", by="season", where="source == 'ensemble' and region == 'P'"), trend_table)


@pytest.fixture(scope="module")
def glmm(trend_table):
    regional = trend_table[trend_table["source"] != "ensemble"].reset_index(drop=True)
    return quiet(pc.MixedSpec("NEE ~ year_c * region + (1 | source)", by="season"), regional)


@pytest.fixture(scope="module")
def sem():
    return quiet(pc.SEMSpec("nee ~ gpp + ter", by="kind", where="season == 'EGS'"),
                 pc.read_table("fixtures/sem/sem_seasonal.parquet"))


@pytest.fixture(scope="module")
def q10():
    wide = pd.read_csv(REFERENCE / "q10_input.csv")
    long = wide.melt(id_vars=["region", "site", "year", "month"], value_vars=["TER", "AirT"], var_name="variable")
    data = long.assign(source="FLUXNET", kind="eddy_covariance",
                       unit=np.where(long["variable"] == "TER", "gC m-2 d-1", "degC"))
    return quiet(pc.Q10Spec(by="region"), data)


@pytest.fixture(scope="module")
def no_p(glmm):
    """A fit that reports no p-values, as the Bayesian engine does."""
    tidy = glmm.tidy().drop(columns="model").assign(p_value=np.nan)
    return dataclasses.replace(glmm, _coefficients=tidy)


def cell(tab, label, column, kind="estimate", after=0):
    """The text of a row (or the statistic row below it) in a column (by its header labels)."""
    j = tab.column_labels().index(column)
    i = next(k for k, r in enumerate(tab.rows) if r.label == label and r.kind == kind)
    return tab.rows[i + after].cells[j]


def test_mix_of_families_side_by_side(ols, glmm, sem, q10):
    tab = table({"OLS": ols.subset(season="EGS"), "GLMM": glmm.subset(season="EGS"), "SEM": sem, "Q10": q10},
                coef_rename={"year": TREND, "year_c": TREND}, gof=("nobs", "r_squared", "r2_marginal", "aic", "cfi"))
    assert tab.header == ((("OLS", 1), ("GLMM", 1), ("SEM", 3), ("Q10", 2)),
                          (("EGS", 1), ("EGS", 1), ("dgvm", 1), ("eddy_covariance", 1), ("inversion", 1), ("NoP", 1), ("P", 1)))
    sections = [r.label for r in tab.rows if r.kind == "section"]
    assert sections == ["Fixed effects", "Random-effect SDs and correlations", "Regressions", "R²"]
    labels = [r.label for r in tab.rows if r.kind == "estimate"]
    assert labels.count(TREND) == 1  # year (OLS) and year_c (GLMM) share the row
    assert "SD (Intercept), source" in labels and "SD Residual" in labels and "nee ~ gpp" in labels and "Q10" in labels
    assert not any("ran_vals" in r.label or "[source: CAMS]" in r.label for r in tab.rows)  # random-effect values hidden
    g = glmm.glance().set_index("season").loc["EGS"]
    assert cell(tab, "R² marginal", ("GLMM", "EGS"), "gof") == f"{g['r2_marginal']:.3f}"
    assert cell(tab, "R² marginal", ("OLS", "EGS"), "gof") == ""
    assert cell(tab, "CFI", ("SEM", "dgvm"), "gof") != "" and cell(tab, "CFI", ("Q10", "P"), "gof") == ""
    assert cell(tab, "Num. obs.", ("OLS", "EGS"), "gof") == str(int(ols.glance().set_index("season").loc["EGS", "nobs"]))


def test_estimates_statistics_and_rounding(ols):
    row = ols.tidy().set_index(["season", "term"]).loc[("ANN", "year")]
    col = ("NEE ~ year", "ANN")
    tab = table([ols], fmt=2)
    assert cell(tab, "year", col) == f"{row['estimate']:.2f}***"
    assert cell(tab, "year", col, after=1) == f"({row['std_error']:.2f})"
    ci = table([ols], statistic="conf_int")
    assert cell(ci, "year", col, after=1) == f"[{row['conf_low']:.3f}, {row['conf_high']:.3f}]"
    assert "95% intervals" in ci.notes[0]
    assert cell(table([ols], statistic="p_value"), "year", col, after=1) == "(<0.001)"
    assert cell(table([ols], statistic="statistic"), "year", col, after=1) == f"({row['statistic']:.3f})"
    bare = table([ols], statistic=None, stars=False)
    assert all(r.kind != "statistic" for r in bare.rows) and bare.notes == ()
    pm = table([ols], style="pm")
    assert cell(pm, "year", col) == f"{row['estimate']:.3f} ± {row['std_error']:.3f}***"
    assert table([ols], fmt=lambda v: f"{v:.1e}").rows[0].cells[0].startswith("-1.2e+03")


def test_stars_follow_the_stated_convention(ols):
    assert dict(STARS) == {"+": 0.1, "*": 0.05, "**": 0.01, "***": 0.001}  # modelsummary's stars=TRUE
    tidy = ols.tidy().drop(columns="model")
    tidy["p_value"] = [0.2, 0.07, 0.03, 0.005, 0.0004, 0.5, 0.5, 0.5]
    fake = dataclasses.replace(ols, _coefficients=tidy)
    ends = sorted(c.lstrip("-0123456789.") for r in table([fake], statistic=None).rows if r.kind == "estimate" for c in r.cells)
    assert ends == sorted(["", "+", "*", "**", "***", "", "", ""])
    assert table([fake]).notes[0].startswith("+ p < 0.1, * p < 0.05, ** p < 0.01, *** p < 0.001.")
    custom = table([fake], stars={"*": 0.05, "**": 0.01}, statistic=None)
    assert sorted(c.lstrip("-0123456789.") for r in custom.rows if r.kind == "estimate" for c in r.cells) == \
        sorted(["", "", "*", "**", "**", "", "", ""])
    assert custom.notes[0] == "* p < 0.05, ** p < 0.01."
    assert not any("*" in c for r in table([fake], stars=False).rows for c in r.cells)


def test_fits_without_p_values_get_no_stars_and_a_note(ols, no_p):
    tab = table({"OLS": ols.subset(season="ANN"), "no p": no_p.subset(season="ANN")})
    assert cell(tab, "year", ("OLS",)).endswith("***")
    assert not cell(tab, "year_c", ("no p",)).endswith("*")
    assert any(n.startswith("No stars for no p") for n in tab.notes)


def test_coef_map_selects_and_orders_coef_omit_drops(ols, glmm):
    tab = table([ols, glmm], coef_map={"year_c": "Trend", "year": "Trend", "regionP": "P offset"}, gof=None)
    assert [r.label for r in tab.rows if r.kind == "estimate"] == ["Trend", "P offset"]
    tab = table([ols, glmm], coef_omit="Intercept|sd__", gof=None)
    labels = [r.label for r in tab.rows if r.kind == "estimate"]
    # coef_omit drops fixed terms only: the random intercept's SD stays (it once dropped it with the intercept)
    assert "(Intercept)" not in labels and "SD (Intercept), source" in labels and "SD Residual" in labels
    picked = table([glmm], coef_map={"year_c": "Trend", "SD (Intercept), source": "SD between inversions"}, gof=None)
    assert [r.label for r in picked.rows if r.kind == "estimate"] == ["Trend", "SD between inversions"]
    fixed_only = table([glmm], components=["fixed"], gof=None)
    assert all(r.kind != "section" for r in fixed_only.rows)
    values = table([glmm.subset(season="ANN")], components=["fixed", "ran_vals"], gof=None)
    assert "(Intercept) [source: CAMS]" in [r.label for r in values.rows]


def test_groups_span_models_or_models_span_groups(ols, no_p):
    by_model = table({"OLS": ols, "B": no_p})
    assert by_model.header[0] == (("OLS", 4), ("B", 4))
    by_group = table({"OLS": ols, "B": no_p}, span="group")
    assert by_group.header == ((("ANN", 2), ("EGS", 2), ("LGS", 2), ("WIN", 2)), (("OLS", 1), ("B", 1)) * 4)
    single = table([ols.subset(season="ANN")])
    assert single.header == ((("NEE ~ year", 1),),) and "All columns: season = ANN." in single.notes


def test_span_group_pairs_fits_on_the_keys_they_share(trend_table, glmm):
    """OLS by region and season beside a GLMM by season: seasons span, the OLS region joins its label."""
    by_region = quiet(pc.TrendSpec("NEE ~ year", by=("region", "season"), where="source == 'ensemble'"), trend_table)
    tab = table({"OLS": by_region, "GLMM": glmm}, span="group")
    assert tab.header[0] == (("ANN", 3), ("EGS", 3), ("LGS", 3), ("WIN", 3))
    assert tab.header[1][:3] == (("OLS, NoP", 1), ("OLS, P", 1), ("GLMM", 1))
    trend = next(i for i, r in enumerate(tab.rows) if r.label == "year")
    lgs_p = by_region.tidy().query("season == 'LGS' and region == 'P' and term == 'year'")["estimate"].iloc[0]
    assert tab.rows[trend].cells[7].startswith(f"{lgs_p:.3f}")  # LGS block: OLS NoP, OLS P, GLMM


def test_gof_rows_and_default_rows(ols, sem):
    tab = table([ols, sem])
    labels = [r.label for r in tab.rows if r.kind == "gof"]
    assert labels == ["Num. obs.", "R²", "AIC", "CFI", "RMSEA"]  # the default rows some model has
    named = table([ols], gof={"sigma": "σ", "bic": "BIC"})
    assert [r.label for r in named.rows if r.kind == "gof"] == ["σ", "BIC"]
    blank = table([ols], gof=("nobs", "cfi"))  # asked for, known to the SEM family, in no fit: no row
    assert [r.label for r in blank.rows if r.kind == "gof"] == ["Num. obs."]  # as modelsummary's gof_map


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"statistic": "se"}, "table(statistic='se'): choose one of"),
    ({"gof": ("nobs", "r_sqared")}, "Did you mean 'r_squared'? Available: nobs, df_residual"),
    ({"stars": {"*": 5}}, "table(stars)"),
    ({"style": "pm", "statistic": "conf_int"}, "style='pm'"),
    ({"style": "inline"}, "table(style='inline')"),
    ({"fmt": -1}, "table(fmt=-1)"),
    ({"coef_rename": {"(Intercept)": "a", "year": "a"}}, "'a' labels 2 terms of one model"),
    ({"coef_omit": "("}, "table(coef_omit='(') is not a regular expression"),
    ({"components": ["fixd"]}, "no model has component 'fixd'. Did you mean 'fixed'?"),
    ({"span": "season"}, "table(span='season')"),
    ({"coef_map": {"year": "a"}, "coef_rename": {"year": "b"}}, "not both"),
    ({"max_columns": 2}, "4 columns"),
])
def test_errors_name_the_argument(ols, kwargs, message):
    with pytest.raises(PcstatsError) as err:
        table([ols], **kwargs)
    assert message in str(err.value)


def test_bad_results_are_named(ols):
    with pytest.raises(PcstatsError, match=r"table\(results=\[\]\)"):
        table([])
    with pytest.raises(PcstatsError, match="item 1 is a DataFrame"):
        table([ols, ols.tidy()])


def test_random_windows_ask_for_a_subset(trend_table):
    spec = pc.TrendSpec("NEE ~ year", by=("region", "season"), where="source == 'ensemble'")
    rw = pc.robustness.random_windows(spec, trend_table, n=20, seed=1)
    with pytest.raises(PcstatsError, match=r"rw.distribution\(\)"):
        table([rw])
    tab = table([rw.subset(window=0, season="ANN")])
    assert tab.header[1] == (("NoP", 1), ("P", 1)) and "All columns: window = 0, season = ANN." in tab.notes


def test_robustness_by_source(trend_table):
    spec = pc.TrendSpec("NEE ~ year", by=("region", "season"), where="source == 'ensemble'")
    res = pc.robustness.by_source(spec, trend_table).subset(region="P", season="ANN")
    tab = table([res], coef_omit="Intercept")
    assert [label for label, _ in tab.header[1]][:2] == ["CAMS", "CT2019B"]


def test_table_is_immutable(ols):
    tab = table([ols])
    with pytest.raises(dataclasses.FrozenInstanceError):
        tab.title = "x"


def test_latex_escapes_specials_and_unicode():
    assert escape("Trend (gC m⁻² yr⁻²)") == "Trend (gC m$^{-2}$ yr$^{-2}$)"
    assert escape("5% & #1_a $") == r"5\% \& \#1\_a \$"
    assert escape("0.58 ± 0.09") == r"0.58 $\pm$ 0.09"
    assert escape("-0.5 [-1.0, 0.2]") == "$-$0.5 [$-$1.0, 0.2]"
    assert escape("Random-effect CO₂ σ < 1") == r"Random-effect CO$_{2}$ $\sigma$ $<$ 1"
    assert escape(r"a\b{c}~^") == r"a\textbackslash{}b\{c\}$\sim$\textasciicircum{}"


def test_latex_uses_booktabs(ols, glmm):
    tex = table({"OLS": ols, "GLMM": glmm}, title="NEE trends").to_latex()
    assert tex.startswith("\\begin{table}") and "\\toprule" in tex and "\\bottomrule" in tex and "\\cmidrule(lr){2-5}" in tex
    assert "\\multicolumn{4}{c}{OLS}" in tex and "\\caption{NEE trends}" in tex
    assert "\\emph{Random-effect SDs and correlations}" in tex and "SD (Intercept), source" in tex


@pytest.mark.skipif(shutil.which("pdflatex") is None,
                    reason="pdflatex not installed (apt-get install --no-install-recommends texlive-latex-base "
                    "texlive-latex-recommended texlive-science)")
def test_latex_compiles_with_pdflatex(ols, glmm, tmp_path):
    tab = table({"OLS & co.": ols, "GLMM_1": glmm}, stars=True, statistic="std_error",
                coef_rename={"year": TREND, "year_c": TREND}, title="Trends: 5% of #sources ± SE, CO₂ ≥ 0, η ≠ ∑x, 3 ‰")
    tab.to_latex(tmp_path / "table1.tex")
    (tmp_path / "doc.tex").write_text("\\documentclass{article}\n\\usepackage{booktabs,siunitx,graphicx}\n"
                                      "\\usepackage[margin=1cm,landscape]{geometry}\n"
                                      "\\begin{document}\n\\input{table1.tex}\n\\end{document}\n")
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-3000:]
    assert (tmp_path / "doc.pdf").stat().st_size > 1000
    assert "Missing character" not in (tmp_path / "doc.log").read_text(errors="replace")


def test_latex_writes_characters_it_cannot_typeset_as_code_points_and_says_so(ols):
    with pytest.warns(UserWarning, match=r"'☃' \(U\+2603, SNOWMAN\).*coef_rename"):
        tex = table([ols], coef_rename={"year": "Trend ☃"}).to_latex()
    assert "Trend [U+2603]" in tex and "☃" not in tex


def test_docx_cells(ols, no_p, tmp_path):
    docx = pytest.importorskip("docx")
    tab = table({"OLS": ols, "B": no_p.subset(season="ANN")}, coef_rename={"year": TREND}, title="Table 1")
    path = tab.to_docx(tmp_path / "table1.docx")
    document = docx.Document(str(path))
    grid = document.tables[0]
    assert len(grid.rows) == 2 + len(tab.rows) and len(grid.columns) == 1 + tab.n_columns
    assert [c.text for c in grid.rows[0].cells] == ["", "OLS", "OLS", "OLS", "OLS", "B"]  # merged spanner
    assert grid.rows[0].cells[1]._tc is grid.rows[0].cells[4]._tc
    assert [c.text for c in grid.rows[1].cells] == ["", "ANN", "EGS", "LGS", "WIN", "ANN"]
    i = next(k for k, r in enumerate(tab.rows) if r.label == TREND)
    assert [c.text for c in grid.rows[2 + i].cells] == [TREND, *tab.rows[i].cells]
    assert grid.rows[2 + i + 1].cells[1].text == tab.rows[i + 1].cells[0] and grid.rows[2 + i + 1].cells[1].text.startswith("(")
    assert grid.rows[2].cells[0].text == "Fixed effects"
    texts = [p.text for p in document.paragraphs]
    assert texts[0] == "Table 1" and texts[1].startswith("+ p < 0.1, * p < 0.05")


def test_html_through_great_tables(ols, glmm, tmp_path):
    tab = table({"OLS <1>": ols, "GLMM": glmm}, title="A & B")
    html = tab.to_html(tmp_path / "t.html")
    assert 'class="gt_table"' in html and "gt_column_spanner" in html and "OLS &lt;1&gt;" in html
    assert "A &amp; B" in html and "Random-effect SDs and correlations" in html and "gt_sourcenote" in html
    assert (tmp_path / "t.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_markdown_and_csv(ols, tmp_path):
    tab = table({"OLS | HAC": ols}, coef_rename={"year": TREND})
    md = tab.to_markdown(tmp_path / "t.md")
    lines = md.splitlines()
    assert lines[0].startswith("| term") and "OLS \\| HAC / ANN" in lines[0]
    assert any(line.startswith(f"| {TREND}") for line in lines) and lines[-1].startswith("\\+ p < 0.1")
    text = tab.to_csv(tmp_path / "t.csv")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["", *["OLS | HAC"] * 4] and rows[1] == ["term", "ANN", "EGS", "LGS", "WIN"]
    assert [TREND, *tab.rows[2].cells] in rows and rows[-1][0].startswith("+ p < 0.1")
    assert (tmp_path / "t.csv").read_text(encoding="utf-8") == text
    frame = tab.to_frame()
    assert list(frame.columns)[1] == ("OLS | HAC", "ANN") and frame.shape == (len(tab.rows), 5)


@pytest.mark.slow
def test_bayesian_fit_in_a_table(ols):
    cells = pc.read_table(REFERENCE / "mixed_cells.csv")
    cells = cells[cells["region"].isin(sorted(cells["region"].unique())[:10])]
    bayes = quiet(pc.BayesSpec("NEE ~ year_c + (1 | region)", draws=100, tune=100, chains=2, seed=3), cells)
    tab = table({"OLS": ols.subset(season="ANN"), "Bayes": bayes}, coef_rename={"year": TREND, "year_c": TREND},
                gof=("nobs", "r_squared", "looic"), statistic="conf_int")
    est = cell(tab, TREND, ("Bayes", ""))
    assert est and not est.endswith("*") and cell(tab, TREND, ("Bayes", ""), after=1).startswith("[")
    assert cell(tab, "LOOIC", ("Bayes", ""), "gof") != "" and cell(tab, "LOOIC", ("OLS", "ANN"), "gof") == ""
    assert any(n.startswith("No stars for Bayes") for n in tab.notes)


def test_group_rename_labels_the_by_values_of_the_header(sem, glmm):
    tab = table({"SEM": sem}, group_rename={"dgvm": "TRENDY-like models", "eddy_covariance": "Flux towers"})
    assert [label for label, _ in tab.header[-1]] == ["TRENDY-like models", "Flux towers", "inversion"]
    with pytest.raises(PcstatsError, match=r"group_rename=.*give a mapping"):
        table({"SEM": sem}, group_rename=["dgvm"])
    labels = [r.label for r in table([glmm.subset(season="ANN")], gof=None).rows if r.kind == "estimate"]
    assert labels[-1] == "SD Residual" and "SD (Intercept), source" in labels  # the residual closes the variances


def test_no_standard_error_prints_as_zero(trend_table):
    tiny = quiet(pc.TrendSpec("NEE ~ year", by="season", where="source == 'ensemble' and region == 'P'"),
                 trend_table.assign(value=trend_table["value"] * 1e-3))
    tab = table([tiny], fmt=3)
    errors = [c for r in tab.rows if r.kind == "statistic" for c in r.cells]
    assert errors and not any(c in ("(0.000)", "(-0.000)") for c in errors)
    se = tiny.tidy().query("term == 'year' and season == 'ANN'")["std_error"].iloc[0]  # ~8e-5: two significant digits
    assert f"({se:.{int(np.floor(-np.log10(se))) + 2}f})" in errors
