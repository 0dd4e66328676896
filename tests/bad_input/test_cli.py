"""The CLI on a user's mistakes: one line naming the file or option, exit 2, no traceback (issue 18, parts 5-6).

Also: every command writes all its outputs or none (a failing or killed run leaves nothing in
``--out``), stale partial folders are removed by the next run, and files the run did not write are kept.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pcstats import export
from pcstats.cli import main

from ..conftest import ROOT

SPEC = str(ROOT / "models" / "trend_annual.toml")
TABLE = str(ROOT / "tests" / "reference" / "trend_input.csv")


def run(capsys, *args) -> tuple[int, str]:
    code = main(list(args))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def one_line_error(err: str) -> str:
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture
def bad_files(tmp_path) -> Path:
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "latin1.csv").write_bytes(b"source,kind,region,year,season,variable,value,unit\n"
                                          b"CAMS,inversion,P\xe9,2000,ANN,NEE,1.0,gC m-2 yr-1\n")
    (tmp_path / "header.csv").write_text("source,kind,region,year,season,variable,value,unit\n")
    (tmp_path / "csv.parquet").write_bytes(Path(TABLE).read_bytes())
    (tmp_path / "afile").write_text("not a folder")
    (tmp_path / "folder.csv").mkdir()
    return tmp_path


@pytest.mark.parametrize("data, words", [
    ("empty.csv", r"empty\.csv' is empty \(0 bytes\)"),
    ("latin1.csv", r"latin1\.csv' is not UTF-8 text.*iconv"),
    ("csv.parquet", r"csv\.parquet' cannot be read as Parquet.*is it a CSV named \.parquet"),
    ("missing.csv", r"no file at .*missing\.csv"),
    ("folder.csv", r"folder\.csv' is a folder, not a file"),
    ("header.csv", r"no rows|empty|has no"),
])
def test_fit_with_a_bad_data_file(bad_files, capsys, data, words):
    code, err = run(capsys, "fit", SPEC, "--data", str(bad_files / data), "--out", str(bad_files / "out"))
    assert code == 2
    assert __import__("re").search(words, one_line_error(err)), err
    assert not (bad_files / "out").exists()


def test_out_pointing_at_a_file(bad_files, capsys):
    code, err = run(capsys, "fit", SPEC, "--data", TABLE, "--out", str(bad_files / "afile"))
    assert code == 2 and "afile' is a file; give a folder" in one_line_error(err)
    assert (bad_files / "afile").read_text() == "not a folder"


def test_spec_that_is_a_folder(tmp_path, capsys):
    code, err = run(capsys, "fit", str(ROOT / "models"), "--data", TABLE, "--out", str(tmp_path / "o"))
    assert code == 2 and "give a .toml file, not a folder" in one_line_error(err)


def test_export_of_a_folder_without_fits(tmp_path, capsys):
    code, err = run(capsys, "export", str(tmp_path), "--format", "md")
    assert code == 2 and "no STEM_tidy.csv with its STEM_glance.csv" in one_line_error(err)


def test_export_with_a_corrupt_json(tmp_path, capsys):
    assert main(["fit", SPEC, "--data", TABLE, "--out", str(tmp_path)]) == 0
    (tmp_path / "trend_annual.json").write_text("{not json")
    code, err = run(capsys, "export", str(tmp_path), "--format", "md")
    assert code == 2 and "trend_annual.json: not valid JSON" in one_line_error(err)
    assert not (tmp_path / "export").exists()


def test_ingest_of_a_folder_with_only_a_header_only_fluxnet_file(tmp_path, capsys):
    source = ROOT / "fixtures" / "products" / "fluxnet" / "FLX_FI-Hyy_FLUXNET2015_FULLSET_DD_2004-2007_1-4.csv"
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / source.name).write_text(source.read_text().splitlines()[0] + "\n")
    code, err = run(capsys, "ingest", str(folder), "--out", str(tmp_path / "out"))
    line = one_line_error(err)
    assert code == 2 and "no rows could be read" in line and "header but no rows" in line
    assert not (tmp_path / "out").exists()


def test_ingest_of_an_empty_folder(tmp_path, capsys):
    (tmp_path / "in").mkdir()
    code, err = run(capsys, "ingest", str(tmp_path / "in"), "--out", str(tmp_path / "out"))
    assert code == 2 and "holds no product files" in one_line_error(err)


def test_an_internal_error_is_one_line_with_exit_1(tmp_path, capsys, monkeypatch):
    import pcstats.export as exp

    monkeypatch.setattr(exp, "to_markdown", lambda frame: 1 / 0)
    code, err = run(capsys, "fit", SPEC, "--data", TABLE, "--out", str(tmp_path / "out"))
    assert code == 1 and "internal error: ZeroDivisionError" in err and "--debug" in err
    assert not (tmp_path / "out").exists()  # the failed run left nothing


def test_debug_shows_the_traceback(tmp_path):
    with pytest.raises(FileNotFoundError):
        main(["--debug", "fit", SPEC, "--data", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "out")])


def test_a_real_process_prints_no_traceback(tmp_path):
    out = subprocess.run([sys.executable, "-m", "pcstats.cli", "fit", SPEC, "--data", str(tmp_path / "none.csv"),
                          "--out", str(tmp_path / "o")], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 2 and "Traceback" not in out.stderr and "no file at" in out.stderr


# ----------------------------------------------------------------------------------- whole runs


def test_a_failing_run_keeps_what_was_in_out_and_adds_nothing(tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    import pcstats.export as exp

    real = exp.to_markdown
    calls = []

    def fail_on_second(frame):  # the tidy table is written, then the run fails
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(frame)

    monkeypatch.setattr(exp, "to_markdown", fail_on_second)
    code, _ = run(capsys, "fit", SPEC, "--data", TABLE, "--out", str(out))
    assert code == 1
    assert sorted(p.name for p in out.iterdir()) == ["mine.txt"]
    assert not list(tmp_path.glob(".out.pcstats-run-*"))


def test_files_the_run_did_not_write_are_kept_and_reported(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    code = main(["fit", SPEC, "--data", TABLE, "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 0 and (out / "notes.txt").read_text() == "mine" and (out / "trend_annual_tidy.csv").exists()
    assert "kept 1 file(s) in" in err and "notes.txt" in err


def test_a_killed_run_leaves_nothing_in_out_and_the_next_run_cleans_up(tmp_path, capsys):
    out = tmp_path / "out"
    code = ("import time, pcstats.export as e\n"
            "real = e.to_markdown\n"
            "def slow(frame):\n    time.sleep(60)\n    return real(frame)\n"
            "e.to_markdown = slow\n"
            "from pcstats.cli import main\n"
            f"main(['fit', {SPEC!r}, '--data', {TABLE!r}, '--out', {str(out)!r}])\n")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)
    deadline = time.time() + 120
    while not list(tmp_path.glob(".out.pcstats-run-*/**/*_tidy.csv")) and time.time() < deadline:
        time.sleep(0.2)
    assert time.time() < deadline, "the run never wrote its first table"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not out.exists()  # nothing reached --out
    assert list(tmp_path.glob(".out.pcstats-run-*"))  # the killed run's partial folder
    with pytest.warns(UserWarning, match="partial output of an earlier run"):
        assert main(["fit", SPEC, "--data", TABLE, "--out", str(out)]) == 0
    assert not list(tmp_path.glob(".out.pcstats-run-*"))
    assert (out / "trend_annual_tidy.csv").exists()


def test_whole_run_renames_a_new_folder_in_one_step(tmp_path):
    with export.whole_run(tmp_path / "new") as r:
        (r.folder / "sub").mkdir()
        (r.folder / "sub" / "a.csv").write_text("x")
    assert (tmp_path / "new" / "sub" / "a.csv").read_text() == "x" and r.kept == []
