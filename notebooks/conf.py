"""Sphinx configuration of the pcstats documentation.

The sources are the Markdown pages (MyST) and the tutorial notebooks in this folder; the API
reference is read from the docstrings (autodoc + napoleon, numpydoc style). Build from the
repository root, warnings as errors, into a folder outside the sources::

    .venv/bin/sphinx-build -W -b html notebooks /tmp/pcstats-docs

The notebooks are committed without outputs and are not executed here (the test suite executes
them, tests/test_docs.py); set PCSTATS_DOCS_EXECUTE=1 to run them during the build and show their
outputs (about a minute; they need the fixtures of a checkout).
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Directive

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the checkout's pcstats, whether or not it is installed

import pcstats  # noqa: E402

project = "pcstats"
author = "the pcstats authors"
copyright = "2026, the pcstats authors"
release = pcstats.__version__ if hasattr(pcstats, "__version__") else ""
version = release

extensions = [
    "myst_nb",  # MyST Markdown pages and .ipynb notebooks
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",  # numpydoc-style docstrings
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
]

source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints", "Thumbs.db", ".DS_Store"]

# notebooks: rendered as committed (no outputs) unless PCSTATS_DOCS_EXECUTE=1
nb_execution_mode = "force" if os.environ.get("PCSTATS_DOCS_EXECUTE") == "1" else "off"
nb_execution_timeout = 300
nb_execution_raise_on_error = True
myst_enable_extensions = ["colon_fence", "deflist", "dollarmath"]
myst_heading_anchors = 3  # [text](page.md#a-heading) links

autodoc_default_options = {"members": True, "member-order": "bysource", "undoc-members": False}
autodoc_typehints = "description"
autodoc_typehints_format = "short"
autodoc_preserve_defaults = True
autodoc_class_signature = "separated"
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
napoleon_use_ivar = True

html_theme = "alabaster"
html_title = f"pcstats {release}"
html_theme_options = {"description": "Seasonal CO2 flux statistics for northern permafrost regions",
                      "fixed_sidebar": True, "page_width": "1240px", "sidebar_width": "250px"}
html_static_path: list[str] = []


class CliHelp(Directive):
    """``{cli-help} SUBCOMMAND``: the ``pcstats SUBCOMMAND --help`` text, made at build time (never out of date)."""

    optional_arguments = 1

    def run(self):
        from pcstats.cli import main

        buffer = io.StringIO()
        columns = os.environ.get("COLUMNS")
        os.environ["COLUMNS"] = "100"  # argparse wraps at the terminal's width
        try:
            with contextlib.redirect_stdout(buffer):
                try:
                    main([*self.arguments, "--help"])
                except SystemExit:
                    pass
        finally:
            if columns is None:
                os.environ.pop("COLUMNS", None)
            else:
                os.environ["COLUMNS"] = columns
        text = buffer.getvalue().rstrip()
        if not text:
            raise self.error(f"pcstats {' '.join(self.arguments)} --help printed nothing")
        block = nodes.literal_block(text, text)
        block["language"] = "text"
        return [block]


def setup(app):
    app.add_directive("cli-help", CliHelp)
    return {"parallel_read_safe": True}
