"""Whole runs are atomic (issue 18, part 6): every command writes all its outputs or none.

A failing, interrupted or killed run leaves nothing in ``--out``; the next run removes the folder a
killed run left (and says so), or finishes the moves of a run killed while moving its files in;
files in ``--out`` that the run did not write are kept and reported.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import pcstats.export as export
from pcstats.atomic import atomic_output
from pcstats.cli import main

from ..conftest import ROOT

SPEC = str(ROOT / "models" / "trend_annual.toml")
ENSEMBLE = str(ROOT / "models" / "trend_ensemble.toml")
TABLE = str(ROOT / "tests" / "reference" / "trend_input.csv")
FIT_FILES = ["trend_annual.json", "trend_annual_glance.csv", "trend_annual_glance.md", "trend_annual_tidy.csv",
             "trend_annual_tidy.md"]


def leftovers(folder: Path) -> list[Path]:
    """pcstats's temporary folders next to or inside ``folder``."""
    return [p for p in [*folder.parent.iterdir(), *(folder.iterdir() if folder.is_dir() else [])]
            if ".pcstats-partial-" in p.name or ".pcstats-complete-" in p.name]


def names(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def fail_on_call(monkeypatch, module, name: str, n: int, exc: BaseException) -> None:
    """Make ``module.name`` raise ``exc`` on its n-th call (the earlier calls work)."""
    real, calls = getattr(module, name), []

    def patched(*args, **kwargs):
        calls.append(1)
        if len(calls) == n:
            raise exc
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, patched)


# ------------------------------------------------------------------------------- failing runs


def test_a_run_failing_midway_leaves_no_out_and_no_partial_folder(tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    fail_on_call(monkeypatch, export, "to_markdown", 2, RuntimeError("disk full"))  # the tidy table is written first
    assert main(["fit", SPEC, "--data", TABLE, "--out", str(out)]) == 1
    assert "internal error: RuntimeError: disk full" in capsys.readouterr().err
    assert not out.exists() and leftovers(out) == []


def test_a_failing_run_keeps_what_was_in_out_and_adds_nothing(tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    fail_on_call(monkeypatch, export, "to_markdown", 2, RuntimeError("disk full"))
    assert main(["fit", SPEC, "--data", TABLE, "--out", str(out)]) == 1
    assert names(out) == ["mine.txt"] and (out / "mine.txt").read_text() == "keep me"
    assert leftovers(out) == []


def test_an_interrupted_run_leaves_nothing(tmp_path, capsys, monkeypatch):
    out = tmp_path / "a" / "b" / "out"
    fail_on_call(monkeypatch, export, "to_markdown", 2, KeyboardInterrupt())
    assert main(["fit", SPEC, "--data", TABLE, "--out", str(out)]) == 130
    err = capsys.readouterr().err
    assert "interrupted; nothing was written" in err and "Traceback" not in err
    assert not (tmp_path / "a").exists()  # the parents this run made are gone too


def test_robustness_whose_figure_step_fails_leaves_no_tables(tmp_path, capsys, monkeypatch):
    import pcstats.plots as plots

    out = tmp_path / "rob"
    fail_on_call(monkeypatch, plots, "source_trends_figure", 2, RuntimeError("no display"))  # after several tables
    code = main(["robustness", ENSEMBLE, "--data", TABLE, "--windows", "20", "--out", str(out)])
    assert code == 1 and "internal error: RuntimeError: no display" in capsys.readouterr().err
    assert not out.exists() and leftovers(out) == []


def test_robustness_set_from_python_is_atomic_too(tmp_path, monkeypatch):
    import pcstats.plots as plots
    from pcstats.data import read_table
    from pcstats.pipeline.robustness import robustness_set
    from pcstats.specs import load_spec

    spec, table = load_spec(ENSEMBLE), read_table(TABLE)
    fail_on_call(monkeypatch, plots, "source_trends_figure", 2, RuntimeError("no display"))
    with pytest.raises(RuntimeError, match="no display"):
        robustness_set(spec, table, tmp_path / "rob", windows=20)
    assert not (tmp_path / "rob").exists() and leftovers(tmp_path / "rob") == []
    monkeypatch.undo()
    section = robustness_set(spec, table, tmp_path / "rob", windows=20)
    assert section.written and all(p.is_file() and p.parent.parent == tmp_path / "rob" for p in section.written)
    assert all(p.is_file() for p in section.figures)


def test_ingest_with_no_rows_writes_nothing(tmp_path, capsys):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "notes.txt").write_text("not a product file")
    assert main(["ingest", str(tmp_path / "in"), "--out", str(tmp_path / "out")]) == 2
    assert not (tmp_path / "out").exists() and leftovers(tmp_path / "out") == []


# ------------------------------------------------------------------------------- killed runs


def _start_fit(out: Path, hook: str) -> subprocess.Popen:
    """``pcstats fit`` in a new process, with ``hook`` (Python) run first to slow or stop it."""
    code = f"{hook}\nfrom pcstats.cli import main\nmain(['fit', {SPEC!r}, '--data', {TABLE!r}, '--out', {str(out)!r}])\n"
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stderr=subprocess.PIPE, text=True)


SLOW_MARKDOWN = ("import time, pcstats.export as e\nreal = e.to_markdown\n"
                 "def slow(frame, *a, **k):\n    time.sleep(60)\n    return real(frame, *a, **k)\ne.to_markdown = slow")


def _kill_after_first_table(proc: subprocess.Popen, parent: Path) -> None:
    deadline = time.time() + 120
    while not list(parent.glob(".out.pcstats-partial-*/**/*_tidy.csv")) and time.time() < deadline:
        assert proc.poll() is None, proc.stderr.read()
        time.sleep(0.1)
    assert time.time() < deadline, "the run never wrote its first table"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


def test_a_killed_run_leaves_nothing_in_out_and_the_next_run_cleans_up(tmp_path, capsys):
    out = tmp_path / "out"
    _kill_after_first_table(_start_fit(out, SLOW_MARKDOWN), tmp_path)
    assert not out.exists()  # nothing reached --out
    stale = list(tmp_path.glob(".out.pcstats-partial-*"))
    assert len(stale) == 1 and list(stale[0].rglob("*_tidy.csv"))  # the killed run's hidden folder, with its table
    assert main(["fit", SPEC, "--data", TABLE, "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert f"removed {stale[0]}, the partial output of an earlier run that was stopped" in err
    assert leftovers(out) == [] and names(out) == FIT_FILES


def test_a_killed_run_into_an_existing_folder_adds_none_of_its_files(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    _kill_after_first_table(_start_fit(out, SLOW_MARKDOWN), tmp_path)
    assert names(out) == ["notes.txt"]
    with pytest.warns(UserWarning, match="partial output of an earlier run that was stopped"):
        with atomic_output(out):  # any later writer into out (here the Python API) removes the stale folder
            pass
    assert leftovers(out) == [] and names(out) == ["notes.txt"]


def test_a_run_killed_while_moving_its_files_in_is_finished_by_the_next(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    die_after_first_move = ("import os, pcstats.atomic as a\nreal = a.os.replace\nmoved = []\n"
                            "def replace(src, dst):\n    real(src, dst)\n    moved.append(dst)\n"
                            "    if str(dst).startswith(" + repr(str(out)) + "):\n        os._exit(9)\n"
                            "a.os.replace = replace")
    proc = _start_fit(out, die_after_first_move)
    assert proc.wait(timeout=300) == 9
    assert len(names(out)) == 2  # notes.txt and one file of the run: the window this guards against
    complete = list(tmp_path.glob(".out.pcstats-complete-*"))
    assert len(complete) == 1 and len(names(complete[0])) == 4
    notes: list[str] = []
    with atomic_output(out, notes=notes):
        pass
    assert notes[0] == f"moved 4 file(s) of an earlier run that was stopped while moving its outputs into {out}"
    assert names(out) == sorted(["notes.txt", *FIT_FILES]) and leftovers(out) == []
    assert json.loads((out / "trend_annual.json").read_text())["spec_file"] == SPEC


def test_a_running_writers_folder_is_not_removed(tmp_path):
    out = tmp_path / "out"
    alive = tmp_path / f".out.pcstats-partial-{os.getpid()}-abcd"  # this process is alive
    alive.mkdir()
    notes: list[str] = []
    with atomic_output(out, notes=notes) as tmp:
        (tmp / "a.txt").write_text("x")
    assert alive.is_dir() and notes == [] and names(out) == ["a.txt"]


# ------------------------------------------------------------------------- files already in out


def test_files_the_run_did_not_write_are_kept_and_reported(tmp_path, capsys):
    out = tmp_path / "out"
    (out / "old").mkdir(parents=True)
    (out / "notes.txt").write_text("mine")
    (out / "old" / "draft.md").write_text("mine too")
    (out / "trend_annual_tidy.csv").write_text("an earlier run's table")
    assert main(["fit", SPEC, "--data", TABLE, "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert (out / "notes.txt").read_text() == "mine" and (out / "old" / "draft.md").read_text() == "mine too"
    assert (out / "trend_annual_tidy.csv").read_text().startswith("model,")  # replaced by this run
    kept = [line for line in err.splitlines() if "kept" in line]
    assert kept == [f"pcstats fit: kept 2 files in {out} that this run did not write (e.g. notes.txt)"]


def test_out_as_the_working_directory(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["fit", SPEC, "--data", TABLE, "--out", "."]) == 0
    assert names(tmp_path) == sorted(["notes.txt", *FIT_FILES]) and leftovers(tmp_path) == []
    assert "wrote 5 files to ." in capsys.readouterr().out


def test_export_writes_all_its_tables_or_none(tmp_path, capsys, monkeypatch):
    from pcstats.tables.layout import Table

    assert main(["fit", SPEC, "--data", TABLE, "--out", str(tmp_path)]) == 0
    assert main(["fit", str(ROOT / "models" / "trend_seasonal.toml"), "--data", TABLE, "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    fail_on_call(monkeypatch, Table, "to_markdown", 2, RuntimeError("disk full"))
    assert main(["export", str(tmp_path), "--format", "md"]) == 1
    assert not (tmp_path / "export").exists() and leftovers(tmp_path / "export") == []
    monkeypatch.undo()
    assert main(["export", str(tmp_path), "--format", "md"]) == 0
    assert names(tmp_path / "export") == ["trend_annual.md", "trend_seasonal.md"]


# ------------------------------------------------------------------------ the mechanism itself


def test_a_nested_writer_moves_into_the_enclosing_run_and_its_owned_files_go(tmp_path):
    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    (out / "sub" / "stale.parquet").write_text("an earlier run's")
    with atomic_output(out) as tmp:
        with atomic_output(tmp / "sub", owns=["stale.parquet", "new.parquet"]) as inner:
            assert inner.parent == tmp / "sub"  # inside the enclosing temporary folder, not next to out
            (inner / "new.parquet").write_text("this run's")
        assert not out.joinpath("sub", "new.parquet").exists()  # not before the enclosing run ends
    assert names(out) == ["sub/new.parquet"] and leftovers(out) == []


def test_a_nested_writer_that_fails_adds_nothing_to_the_enclosing_run(tmp_path):
    out = tmp_path / "out"
    with atomic_output(out) as tmp:
        with pytest.raises(RuntimeError, match="svg failed"):
            with atomic_output(tmp / "figures") as inner:  # e.g. a figure's .png written, its .svg failed
                (inner / "a.png").write_text("png")
                raise RuntimeError("svg failed")
        (tmp / "table.csv").write_text("x\n")
    assert names(out) == ["table.csv"]


def test_an_output_folder_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "out").write_text("a file")
    with pytest.raises(Exception, match="is a file; give a folder"):
        with atomic_output(tmp_path / "out"):
            pass
    assert (tmp_path / "out").read_text() == "a file"
