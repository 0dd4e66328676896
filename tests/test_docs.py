"""The code in the README runs from the repository root; every notebook runs, top to bottom, from notebooks/."""

from __future__ import annotations

import json
import os
import re
import sys
import warnings

import pytest

from .conftest import ROOT

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


def test_readme_python_runs():
    text = (ROOT / "README.md").read_text()
    blocks = text.split("```python\n")[1:]
    assert blocks, "README has no python example"
    namespace: dict = {"__name__": "__readme__"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for block in blocks:
            exec(compile(block.split("```")[0], "README.md", "exec"), namespace)
    assert namespace["res"].engine == "closed_form"
