"""All outputs or none: a folder of outputs written in a temporary folder and moved in when done.

:func:`atomic_output` is the one mechanism every writer of pcstats goes through (``pcstats fit``,
``export``, ``robustness``, ``ingest``, ``reproduce``, :func:`pcstats.export.write_results`, the
figures). The guarantee:

* **the run fails or is interrupted** (an exception, Ctrl-C): the temporary folder is deleted and
  ``out`` is as it was.
* **``out`` does not exist yet**: the temporary folder ``.OUT.pcstats-partial-PID-XXXX`` next to
  ``out`` is renamed to ``out`` in one step, so ``out`` appears with all its files or not at all,
  even when the process is killed (SIGKILL, power loss).
* **``out`` exists**: when every file is written the temporary folder is renamed to
  ``.OUT.pcstats-complete-PID-XXXX`` (one step), then each file is moved in with ``os.replace``
  (atomic per file). A run killed before that rename leaves none of its files in ``out``; a run
  killed during the moves (a window of a few renames) leaves the ``complete`` folder, and the next
  run into ``out`` finishes the moves before it starts, so ``out`` ends with all of that run's
  files. Files in ``out`` that the run did not write are kept (listed in the notes).
* the next run into ``out`` deletes the ``partial`` folders of runs that were killed (their process
  is gone) and says so.

Limits: the folder must be on one file system with its parent (else, or when the parent is not
writable, the temporary folder goes inside ``out``); a process id reused by another process keeps
a stale folder until that process ends; files deleted because ``owns`` names them are deleted after
the moves and are not rolled forward.
"""

from __future__ import annotations

import contextvars
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .errors import PcstatsError

__all__ = ["atomic_output"]

_PARTIAL = ".pcstats-partial-"
_COMPLETE = ".pcstats-complete-"


@dataclass
class _Run:
    """An outer run in progress: its temporary folder and the files (relative to it) that it owns in ``out``."""

    folder: Path
    owns: set[Path] = field(default_factory=set)


_ACTIVE: contextvars.ContextVar[tuple[_Run, ...]] = contextvars.ContextVar("pcstats_atomic_runs", default=())


@contextmanager
def atomic_output(out: str | Path, *, owns: Iterable[str] = (), notes: list[str] | None = None) -> Iterator[Path]:
    """Yield a temporary folder to write ``out``'s files into; they reach ``out`` only if the block succeeds.

    Parameters
    ----------
    out
        The output folder; made (with its parents) if missing. A file there is a
        :class:`~pcstats.errors.PcstatsError`.
    owns
        Names of files in ``out`` that belong to this writer: those this run did not write are
        deleted on success, so no output of an earlier run survives beside the new ones.
    notes
        A list to append one-line messages to (stale folders removed, files kept that the run did
        not write); without it the stale folders are reported as warnings.

    Inside another ``atomic_output`` (``out`` in its temporary folder) the files move into the
    enclosing temporary folder, and the enclosing run moves them into place.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> out = Path(tempfile.mkdtemp()) / "results"
    >>> with atomic_output(out) as tmp:
    ...     _ = (tmp / "a.csv").write_text("x\\n1\\n")
    >>> sorted(p.name for p in out.iterdir())
    ['a.csv']
    """
    out = Path(os.path.abspath(out))  # "." has a name and a parent
    if out.exists() and not out.is_dir():
        raise PcstatsError(f"output folder {str(out)!r} is a file; give a folder (it is made if missing).")
    outer = _enclosing(out)
    if outer is not None:
        with _nested(out, outer, owns) as tmp:
            yield tmp
        return
    made = _make_parent(out)
    messages = _recover(out)
    tmp = _temporary(out)
    run = _Run(tmp)
    token = _ACTIVE.set((*_ACTIVE.get(), run))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        for folder in made:  # deepest first; only the folders this run made, if still empty
            _rmdir_if_empty(folder)
        raise
    finally:
        _ACTIVE.reset(token)
    owned = run.owns | {Path(name) for name in owns}
    if tmp.parent == out.parent and not out.exists():
        try:
            os.rename(tmp, out)  # the whole folder in one step
            return _report(messages, notes)
        except OSError:  # out was made meanwhile: move the files in
            pass
    before = _files(out)
    written = _commit(tmp, out)
    for rel in owned - set(written):
        (out / rel).unlink(missing_ok=True)
    kept = sorted(before - set(written) - owned)
    if kept:
        messages.append(f"kept {len(kept)} file{'s' if len(kept) != 1 else ''} in {out} that this run did not write "
                        f"(e.g. {kept[0]})")
    _report(messages, notes)


def _enclosing(out: Path) -> _Run | None:
    """The innermost run whose temporary folder holds ``out``, if any."""
    path = out.resolve()
    for run in reversed(_ACTIVE.get()):
        if path == run.folder.resolve() or run.folder.resolve() in path.parents:
            return run
    return None


@contextmanager
def _nested(out: Path, outer: _Run, owns: Iterable[str]) -> Iterator[Path]:
    """Inside an enclosing run: a temporary folder inside ``out``, its files moved to ``out`` on success."""
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"{_PARTIAL}{os.getpid()}-", dir=out))
    try:
        yield tmp
        for rel in _walk(tmp):
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp / rel, out / rel)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    base = out.resolve().relative_to(outer.folder.resolve())
    outer.owns |= {base / name for name in owns}


def _temporary(out: Path) -> Path:
    """A new temporary folder next to ``out`` (same file system), else inside it."""
    if out.parent.exists() and not (out.exists() and os.path.ismount(out)):
        try:
            return Path(tempfile.mkdtemp(prefix=f".{out.name}{_PARTIAL}{os.getpid()}-", dir=out.parent))
        except PermissionError:
            if not out.is_dir():
                raise PermissionError(f"cannot write in {str(out.parent)!r} to make the output folder "
                                      f"{out.name!r}; give an --out where you may write.") from None
    return Path(tempfile.mkdtemp(prefix=f"{_PARTIAL}{os.getpid()}-", dir=out))


def _recover(out: Path) -> list[str]:
    """Finish the moves of a run killed while moving its files in; delete the folders of runs killed earlier."""
    messages = []
    places = [(out.parent, f".{out.name}")] + ([(out, "")] if out.is_dir() else [])
    for parent, name in places:
        for folder in sorted(parent.glob(f"{name}{_COMPLETE}*")):
            if folder.is_dir() and not _alive(folder.name[len(name) + len(_COMPLETE):]):
                moved = _commit(folder, out)
                messages.append(f"moved {len(moved)} file(s) of an earlier run that was stopped while moving its "
                                f"outputs into {out}")
        for folder in sorted(parent.glob(f"{name}{_PARTIAL}*")):
            if folder.is_dir() and not _alive(folder.name[len(name) + len(_PARTIAL):]):
                shutil.rmtree(folder, ignore_errors=True)
                messages.append(f"removed {folder}, the partial output of an earlier run that was stopped")
    return messages


def _commit(tmp: Path, out: Path) -> list[Path]:
    """Mark ``tmp`` complete (one rename), move each file into ``out``, delete it; the files moved (relative)."""
    if _PARTIAL in tmp.name:
        done = tmp.with_name(tmp.name.replace(_PARTIAL, _COMPLETE, 1))
        os.rename(tmp, done)
        tmp = done
    out.mkdir(parents=True, exist_ok=True)
    moved = _walk(tmp)
    for rel in moved:
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp / rel, out / rel)
    shutil.rmtree(tmp, ignore_errors=True)
    return moved


def _walk(folder: Path) -> list[Path]:
    """Every file under ``folder`` (relative), outside the temporary folders of nested writers."""
    return sorted(p.relative_to(folder) for p in folder.rglob("*")
                  if p.is_file() and not any(part.startswith((_PARTIAL, _COMPLETE)) for part in p.relative_to(folder).parts))


def _files(out: Path) -> set[Path]:
    """The files in ``out`` (relative), outside pcstats's temporary folders."""
    return set(_walk(out)) if out.is_dir() else set()


def _alive(rest: str) -> bool:
    """Whether the process whose id starts ``rest`` ("PID-XXXX") is still running."""
    pid = rest.split("-")[0]
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _make_parent(out: Path) -> list[Path]:
    """Make the parent of ``out`` and its missing ancestors; the folders made, deepest first."""
    parent = out.parent
    missing = [p for p in (parent, *parent.parents) if not p.exists()]
    above = next((p for p in (parent, *parent.parents) if p.exists()), None)
    if above is not None and not above.is_dir():
        raise PcstatsError(f"output folder {str(out)!r} cannot be made: {str(above)!r} is a file, not a folder; "
                           "give a folder (it is made if missing).")
    parent.mkdir(parents=True, exist_ok=True)
    return missing


def _rmdir_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass


def _report(messages: list[str], notes: list[str] | None) -> None:
    if notes is not None:
        notes += messages
        return
    for message in messages:
        if not message.startswith("kept "):
            warnings.warn(message, stacklevel=4)
