"""The code in the README and in every notebook runs, top to bottom, from the repository root."""

from __future__ import annotations

import json
import warnings

import pytest

from .conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_code_runs(path):
    cells = json.loads(path.read_text())["cells"]
    code = [("".join(c["source"]), i) for i, c in enumerate(cells) if c["cell_type"] == "code"]
    assert code, f"{path.name} has no code"
    namespace: dict = {"__name__": "__notebook__"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for source, index in code:
            exec(compile(source, f"{path.name}[cell {index}]", "exec"), namespace)


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
