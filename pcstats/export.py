"""Writing Results to files. The only place numbers are rounded (Markdown only; CSV keeps full precision)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from .results import Results

__all__ = ["to_markdown", "write_frame", "write_results"]


def to_markdown(frame: pd.DataFrame, digits: int = 4) -> str:
    """A Markdown table with numbers shown to ``digits`` significant digits; NaN shows as blank."""
    shown = frame.copy()
    for col in shown.columns:
        if pd.api.types.is_float_dtype(shown[col]):
            shown[col] = shown[col].map(lambda v: "" if pd.isna(v) else f"{v:.{digits}g}")
    return shown.to_markdown(index=False)


def write_frame(frame: pd.DataFrame, out: str | Path, stem: str, header: str) -> list[Path]:
    """Write a table that is not a Results as ``STEM.csv`` (full precision) and ``STEM.md`` (under ``header``)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    csv, md = out / f"{stem}.csv", out / f"{stem}.md"
    frame.to_csv(csv, index=False)
    md.write_text(f"{header}\n\n" + to_markdown(frame) + "\n", encoding="utf-8")
    return [csv, md]


def write_results(res: Results, out: str | Path, stem: str, *, source: str | None = None) -> list[Path]:
    """Write ``tidy`` and ``glance`` as ``STEM_tidy.csv/.md`` and ``STEM_glance.csv/.md``, plus ``STEM.json``.

    The JSON holds the spec, engine, warnings, rows removed before fitting and provenance.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for part, frame in (("tidy", res.tidy()), ("glance", res.glance())):
        csv, md = out / f"{stem}_{part}.csv", out / f"{stem}_{part}.md"
        frame.to_csv(csv, index=False)
        header = f"# {res.model} -- {part}\n\n" + (f"Spec: `{source}`\n\n" if source else "")
        md.write_text(header + to_markdown(frame) + "\n", encoding="utf-8")
        paths += [csv, md]
    meta = {
        "model": res.model,
        "spec_file": source,
        "spec": {k: v for k, v in vars(res.spec).items()},
        "engine": res.engine,
        "engine_version": res.engine_version,
        "units": dict(res.units),
        "warnings": list(res.warnings),
        "removed_before_fitting": res.removed.to_dict("records"),
        "provenance": res.provenance.as_dict(),
    }
    meta_path = out / f"{stem}.json"
    meta_path.write_text(json.dumps(meta, indent=2, default=str) + "\n", encoding="utf-8")
    return paths + [meta_path]
