"""Writing Results to files. The only place numbers are rounded (Markdown only; CSV keeps full precision).

Every writer of pcstats that puts several files in a folder (these, ``pcstats ingest``, the
figures) goes through :func:`pcstats.atomic.atomic_output`, so a failure leaves no partial output behind.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from .atomic import atomic_output
from .errors import PcstatsError
from .results import Results

__all__ = ["to_markdown", "write_atomically", "write_frame", "write_results"]


def to_markdown(frame: pd.DataFrame, digits: int = 4) -> str:
    """A Markdown table with numbers shown to ``digits`` significant digits; NaN shows as blank."""
    shown = frame.copy()
    for col in shown.columns:
        if pd.api.types.is_float_dtype(shown[col]):
            shown[col] = shown[col].map(lambda v: "" if pd.isna(v) else f"{v:.{digits}g}")
    return shown.to_markdown(index=False)


@contextmanager
def write_atomically(out: str | Path, *, owns: Iterable[str] = ()) -> Iterator[Path]:
    """A temporary folder to write into; its files reach ``out`` only if the block succeeds.

    :func:`pcstats.atomic.atomic_output` on ``out``, made first (so an empty ``out`` is left by a
    failure, nothing else). The files named in ``owns`` that this run did not write are deleted, so
    no stale output of an earlier run survives.

    >>> import tempfile
    >>> from pathlib import Path
    >>> out = Path(tempfile.mkdtemp())
    >>> _ = (out / "old.txt").write_text("earlier run")
    >>> with write_atomically(out, owns=["new.txt", "old.txt"]) as tmp:
    ...     _ = (tmp / "new.txt").write_text("this run")
    >>> sorted(p.name for p in out.iterdir())
    ['new.txt']
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise PcstatsError(f"output folder {str(out)!r} is a file; give a folder (it is made if missing).")
    out.mkdir(parents=True, exist_ok=True)
    with atomic_output(out, owns=owns) as tmp:
        yield tmp


def write_frame(frame: pd.DataFrame, out: str | Path, stem: str, header: str) -> list[Path]:
    """Write a table that is not a Results as ``STEM.csv`` (full precision) and ``STEM.md`` (under ``header``)."""
    out = Path(out)
    with write_atomically(out) as tmp:
        frame.to_csv(tmp / f"{stem}.csv", index=False)
        (tmp / f"{stem}.md").write_text(f"{header}\n\n" + to_markdown(frame) + "\n", encoding="utf-8")
    return [out / f"{stem}.csv", out / f"{stem}.md"]


def write_results(res: Results, out: str | Path, stem: str, *, source: str | None = None) -> list[Path]:
    """Write ``tidy`` and ``glance`` as ``STEM_tidy.csv/.md`` and ``STEM_glance.csv/.md``, plus ``STEM.json``.

    The JSON holds the spec, engine, warnings, rows removed before fitting and provenance.
    """
    out = Path(out)
    names = [f"{stem}_{part}{ext}" for part in ("tidy", "glance") for ext in (".csv", ".md")] + [f"{stem}.json"]
    with write_atomically(out) as tmp:
        for part, frame in (("tidy", res.tidy()), ("glance", res.glance())):
            frame.to_csv(tmp / f"{stem}_{part}.csv", index=False)
            header = f"# {res.model} -- {part}\n\n" + (f"Spec: `{source}`\n\n" if source else "")
            (tmp / f"{stem}_{part}.md").write_text(header + to_markdown(frame) + "\n", encoding="utf-8")
        (tmp / f"{stem}.json").write_text(json.dumps(_meta(res, source), indent=2, default=str) + "\n", encoding="utf-8")
    return [out / name for name in names]


def _meta(res: Results, source: str | None) -> dict:
    return {
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
