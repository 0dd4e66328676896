"""What every section of the reproduction shares: where it reads and writes, and what it returns."""

from __future__ import annotations

import dataclasses
import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..data.design import PAPER, StudyDesign
from ..engines import fit
from ..progress import status
from ..export import write_results
from ..specs import load_spec

__all__ = ["Context", "Section", "fit_file", "fixture_truth", "quietly"]


@dataclass(frozen=True)
class Context:
    """A run of the reproduction: the output folder (a temporary one until the run ends), inputs and specs."""

    out: Path
    fixtures: Path
    models: Path
    design: StudyDesign = PAPER  # how the inversions' cells become the regions compared (the paper's, by default)


@dataclass
class Section:
    """What a part of the reproduction wrote: files, manifest rows, summary Markdown, warnings, and its fits."""

    written: list[Path] = field(default_factory=list)
    figures: list[Path] = field(default_factory=list)
    runs: list[dict] = field(default_factory=list)
    summary: str = ""
    messages: list[str] = field(default_factory=list)
    results: dict = field(default_factory=dict)  # fits the report reuses (summary, paper tables)


def fixture_truth(fixtures: Path) -> dict:
    """The planted truths of the fixtures (``truth.json``), or ``{}`` for a folder without them."""
    path = Path(fixtures) / "truth.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def quietly(function, *args, **kwargs):
    """Call ``function`` without printing warnings: a fit keeps them on its Results (and in each STEM.json)."""
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        return function(*args, **kwargs)


def fit_file(section: Section, out: Path, models: Path, stem: str, spec_file: str, table: pd.DataFrame, table_name: str,
             design: StudyDesign | None = None):
    """Fit a spec file to a table, write its tables as ``STEM_*`` and record the run in ``section``.

    ``design``: the study design that made ``table``, recorded in the Results' provenance (and so in STEM.json).
    """
    spec_path = models / spec_file
    status(f"fitting {stem} ({spec_file})")
    res = quietly(fit, load_spec(spec_path), table)
    if design is not None:
        res = dataclasses.replace(res, provenance=dataclasses.replace(res.provenance, design=design.describe()))
    section.written += write_results(res, out / "tables", stem, source=str(spec_path.relative_to(models.parent)))
    section.messages += [f"{stem}: {w}" for w in res.warnings]
    section.runs.append({"stem": stem, "spec_file": f"models/{spec_file}", "table": table_name, "engine": res.engine}
                        | ({} if design is None else {"design": design.name}))
    return res
