"""Writing Results to files. The only place numbers are rounded (Markdown only; CSV keeps full precision).

Every writer of pcstats that puts several files in a folder (these, ``pcstats ingest``, the
figures) goes through :func:`write_atomically`, so a failure leaves no partial output behind.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .errors import PcstatsError
from .results import Results

__all__ = ["to_markdown", "whole_run", "write_atomically", "write_frame", "write_results"]


def to_markdown(frame: pd.DataFrame, digits: int = 4) -> str:
    """A Markdown table with numbers shown to ``digits`` significant digits; NaN shows as blank."""
    shown = frame.copy()
    for col in shown.columns:
        if pd.api.types.is_float_dtype(shown[col]):
            shown[col] = shown[col].map(lambda v: "" if pd.isna(v) else f"{v:.{digits}g}")
    return shown.to_markdown(index=False)


@contextmanager
def write_atomically(out: str | Path, *, owns: Iterable[str] = ()) -> Iterator[Path]:
    """A temporary folder inside ``out`` to write into; its files replace those in ``out`` only if the block succeeds.

    On success every file written to the temporary folder is moved into ``out`` (``os.replace``),
    and the files named in ``owns`` that this run did not write are deleted, so no stale output of
    an earlier run survives. On any exception the temporary folder is deleted and ``out`` is left
    as it was.

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
    _remove_stale_partials(out)
    tmp = Path(tempfile.mkdtemp(prefix=f"{_PARTIAL}{os.getpid()}-", dir=out))
    try:
        yield tmp
        written = sorted(p.name for p in tmp.iterdir())
        for name in written:
            os.replace(tmp / name, out / name)
        for name in set(owns) - set(written):
            (out / name).unlink(missing_ok=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


_PARTIAL = ".pcstats-partial-"
_RUN = ".pcstats-run-"


@dataclass
class WholeRun:
    """The temporary folder a whole command writes into, and what it kept in the output folder."""

    folder: Path
    kept: list[str] = field(default_factory=list)


@contextmanager
def whole_run(out: str | Path) -> Iterator[WholeRun]:
    """All of a command's outputs or none: it writes into a hidden sibling of ``out``, moved in at the end.

    When ``out`` does not exist yet the sibling is renamed to it (one atomic step). When it exists,
    each file is moved in (``os.replace``) after the whole run succeeded, and files in ``out`` that
    this run did not write are kept and listed in ``WholeRun.kept``. On an error or Ctrl-C the
    sibling is deleted; after a kill it is left and deleted by the next run into ``out``.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise PcstatsError(f"output folder {str(out)!r} is a file; give a folder (it is made if missing).")
    out.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{out.name}{_RUN}"
    for stale in out.parent.glob(f"{prefix}*"):
        pid = stale.name[len(prefix):].split("-")[0]
        if stale.is_dir() and not (pid.isdigit() and Path(f"/proc/{pid}").exists()):
            shutil.rmtree(stale, ignore_errors=True)
            warnings.warn(f"removed {stale}, the partial output of an earlier run that was stopped", stacklevel=3)
    run = WholeRun(Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=out.parent)))
    try:
        yield run
    except BaseException:
        shutil.rmtree(run.folder, ignore_errors=True)
        raise
    if not out.exists():
        os.rename(run.folder, out)
        return
    before = {p.relative_to(out) for p in out.rglob("*") if p.is_file() and not p.name.startswith(_PARTIAL)}
    written = sorted(p.relative_to(run.folder) for p in run.folder.rglob("*") if p.is_file())
    for rel in written:
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        os.replace(run.folder / rel, out / rel)
    shutil.rmtree(run.folder, ignore_errors=True)
    run.kept = sorted(str(p) for p in before - set(written))


def _remove_stale_partials(out: Path) -> None:
    """Temporary folders left in ``out`` by a run that was killed (its process is gone) are deleted, with a warning."""
    for folder in out.glob(f"{_PARTIAL}*"):
        pid = folder.name[len(_PARTIAL):].split("-")[0]
        alive = pid.isdigit() and Path(f"/proc/{pid}").exists()
        if folder.is_dir() and not alive:
            shutil.rmtree(folder, ignore_errors=True)
            warnings.warn(f"removed {folder}, the partial output of an earlier run that was stopped", stacklevel=3)


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
