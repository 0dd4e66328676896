"""The documentation: the code in the README and in the documentation pages (notebooks/*.md) runs from the
repository root; every notebook runs, top to bottom, from notebooks/; the Sphinx site builds with warnings as
errors and its API reference covers pcstats.__all__."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
import warnings

import pytest

import pandas as pd

from .conftest import REFERENCE, ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT = 120  # seconds per cell; a whole notebook takes under 10 s


def _notebook_client():
    """nbclient's NotebookClient, or a failure saying what to install (never a silent skip)."""
    try:
        import nbformat
        from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
        from nbclient import NotebookClient
    except ImportError as err:
        pytest.fail(f"executing the notebooks needs nbclient, nbformat and ipykernel ({err}); "
                    "install the test extra: .venv/bin/pip install -e '.[test]'")
    try:
        argv = KernelSpecManager().get_kernel_spec("python3").argv
    except NoSuchKernel:
        pytest.fail("no Jupyter kernel 'python3': install ipykernel into this environment "
                    "(.venv/bin/pip install -e '.[test]')")
    # jupyter_client runs a kernel spec's bare "python" as sys.executable; any other path is another interpreter
    if argv[0] not in ("python", "python3", f"python3.{sys.version_info.minor}") and \
            os.path.abspath(argv[0]) != os.path.abspath(sys.executable):
        pytest.fail(f"the Jupyter kernel 'python3' runs {argv[0]}, not this interpreter ({sys.executable}); "
                    "remove that kernel spec (jupyter kernelspec list) or install ipykernel here")
    return nbformat, NotebookClient


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path):
    nbformat, NotebookClient = _notebook_client()
    notebook = nbformat.read(path, as_version=4)
    assert any(c.cell_type == "code" for c in notebook.cells), f"{path.name} has no code"
    client = NotebookClient(notebook, timeout=CELL_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})  # Jupyter's default: the notebook's folder
    client.execute()  # raises CellExecutionError naming the cell and its traceback


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_reads_packaged_data(path):
    """Data and spec files come from pcstats.datasets, not from paths into the repository."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    code = "".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code")
    relative = re.findall(r"""["'](?:\.\./)*(?:tests|fixtures|models)/[^"']*["']""", code)
    assert not relative, (f"{path.name} reads {relative}: paths relative to the repository fail where pcstats is "
                          "installed; use pcstats.datasets (fixture_path, read_fixture, model_path, seasonal_permafrost)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_committed_without_outputs(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    assert notebook["nbformat"] == 4, f"{path.name}: nbformat {notebook['nbformat']}, expected 4"
    dirty = [i for i, c in enumerate(notebook["cells"])
             if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, (f"{path.name}: cells {dirty} have outputs or execution counts; clear them before committing "
                       f"(jupyter nbconvert --clear-output --inplace notebooks/{path.name})")


def test_notebooks_present():
    assert {"quickstart.ipynb", "refitting.ipynb", "robustness.ipynb", "export_tables.ipynb"} <= {p.name for p in NOTEBOOKS}


DOCS = ROOT / "notebooks"  # the Sphinx sources sit beside the tutorial notebooks
PAGES = sorted(DOCS.glob("*.md"))


def _python_blocks(path):
    """The ```python blocks of a Markdown file, in order (``{code-block} python`` blocks are shown, not run)."""
    text = path.read_text(encoding="utf-8")
    return [block.split("\n```")[0] for block in text.split("```python\n")[1:]]


def _run_blocks(path) -> dict:
    """Run a page's python blocks in one namespace, from the repository root, as a reader would paste them."""
    import matplotlib

    matplotlib.use("Agg")
    namespace: dict = {"__name__": f"__{path.stem}__"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, block in enumerate(_python_blocks(path)):
            exec(compile(block, f"{path.name} (python block {i + 1})", "exec"), namespace)
    import matplotlib.pyplot as plt

    plt.close("all")
    return namespace


def test_readme_python_runs():
    """The README's example runs and gives R's numbers (lm and lmer from tests/reference/model_frames.R)."""
    assert _python_blocks(ROOT / "README.md"), "README has no python example"
    namespace = _run_blocks(ROOT / "README.md")
    lm = pd.read_csv(REFERENCE / "model_frames" / "lm_tidy.csv")
    lm = lm[lm["model"] == "mtcars_interaction"].set_index("term")
    ours = namespace["res"].tidy().set_index("term")
    assert set(ours.index) == set(lm.index), f"README's lm example: terms {sorted(ours.index)}, R has {sorted(lm.index)}"
    for column in ("estimate", "std_error", "p_value"):
        assert ours.loc[lm.index, column].to_numpy() == pytest.approx(lm[column].to_numpy(), rel=1e-6), column
    lmer = pd.read_csv(REFERENCE / "model_frames" / "lmer_fixed.csv")
    lmer = lmer[lmer["model"] == "sleep_slopes"].set_index("term")
    fixed = namespace["mixed"].tidy().query("component == 'fixed'").set_index("term")
    for column in ("estimate", "std_error", "df"):
        assert fixed.loc[lmer.index, column].to_numpy() == pytest.approx(lmer[column].to_numpy(), rel=1e-4), column


def test_readme_links_exist():
    """The README's relative links point at files of the repository (the documentation pages' sources)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    links = [target for target in re.findall(r"\]\(([^)#]+)\)", text) if "://" not in target]
    assert len(links) >= 10, f"README links to {len(links)} documentation pages; expected the whole site's"
    missing = [target for target in links if not (ROOT / target).is_file()]
    assert not missing, f"README links to missing files: {missing}"
    linked = {(ROOT / target).resolve() for target in links}
    unlinked = [p.name for p in PAGES if p.resolve() not in linked and p.name != "index.md"]
    assert not unlinked, f"documentation pages the README does not link to: {unlinked}"


@pytest.mark.parametrize("path", [p for p in PAGES if _python_blocks(p)], ids=lambda p: p.name)
def test_docs_page_python_runs(path):
    _run_blocks(path)


def test_docs_pages_have_examples():
    with_code = {p.name for p in PAGES if _python_blocks(p)}
    expected = {"own_data.md", "flux_pipeline.md", "models_trend.md", "models_mixed.md", "models_glmm.md",
                "models_sem.md", "models_panel.md", "models_skill.md", "models_q10.md", "paper_tables.md",
                "robustness_sensitivity.md", "soc.md", "products.md"}
    assert expected <= with_code, f"pages without a runnable example: {sorted(expected - with_code)}"


def test_docs_build_without_warnings(tmp_path):
    """sphinx-build -W: every page, notebook and docstring renders without a warning."""
    try:
        import myst_nb  # noqa: F401
        import sphinx  # noqa: F401
    except ImportError as err:
        pytest.fail(f"building the documentation needs sphinx and myst-nb ({err}); install the docs extra: "
                    ".venv/bin/pip install -e '.[docs]'")
    out = tmp_path / "html"
    env = {**os.environ, "PCSTATS_DOCS_EXECUTE": "0"}
    run = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", str(DOCS), str(out)],
                         capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    assert run.returncode == 0, f"sphinx-build -W failed:\n{run.stderr[-5000:]}\n{run.stdout[-2000:]}"
    pages = {p.stem for p in out.glob("*.html")}
    assert {"index", "api_pcstats", *(p.stem for p in NOTEBOOKS), *(p.stem for p in PAGES)} <= pages
    api = (out / "api_pcstats.html").read_text(encoding="utf-8")
    import pcstats

    modules = {name for name in pcstats.__all__ if type(getattr(pcstats, name)).__name__ == "module"}
    undocumented = [name for name in pcstats.__all__ if name not in modules and f'id="pcstats.{name}"' not in api]
    assert not undocumented, f"pcstats.__all__ names missing from the API reference (api_pcstats.rst): {undocumented}"
    for name in modules:
        assert (out / f"api_{name}.html").is_file(), f"pcstats.{name} has no API page (notebooks/api_{name}.rst)"
    for notebook in NOTEBOOKS:  # rendered as tutorials: their code is on the page
        text = html.unescape(re.sub(r"<[^>]+>", "", (out / f"{notebook.stem}.html").read_text(encoding="utf-8")))
        assert "import pcstats" in text, f"{notebook.name} renders without its code"
