"""The CLI on a user's mistakes: one line naming the file or option, exit 2, no traceback (issue 18, parts 5-6).

Whole runs (all outputs or none) are tested in test_atomic.py.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

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
    assert re.search(words, one_line_error(err)), err
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


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_shows_the_traceback(tmp_path, where):
    args = ["fit", SPEC, "--data", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "out")]
    with pytest.raises(FileNotFoundError, match="no file at"):
        main(["--debug", *args] if where == "before" else [*args, "--debug"])
    assert not (tmp_path / "out").exists()


def test_debug_in_a_real_process_prints_the_traceback(tmp_path):
    out = subprocess.run([sys.executable, "-m", "pcstats.cli", "--debug", "fit", SPEC, "--data",
                          str(tmp_path / "none.csv"), "--out", str(tmp_path / "o")], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode != 0 and "Traceback" in out.stderr and "FileNotFoundError" in out.stderr


def test_a_real_process_prints_no_traceback(tmp_path):
    out = subprocess.run([sys.executable, "-m", "pcstats.cli", "fit", SPEC, "--data", str(tmp_path / "none.csv"),
                          "--out", str(tmp_path / "o")], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 2 and "Traceback" not in out.stderr and "no file at" in out.stderr


# ----------------------------------------------------------------------- more mistakes of our own


@pytest.mark.parametrize("args, words", [
    (["fit", SPEC, "--data", TABLE, "--out", "o", "--bogus"], "unrecognized arguments: --bogus"),
    (["fit", SPEC, "--out", "o"], "required: --data"),
    (["fitt", SPEC], "invalid choice: 'fitt'"),
    (["export", ".", "--format", "pdf"], "argument --format: invalid choice: 'pdf'"),
    (["export", ".", "--format", "md", "--fmt", "-1"], "argument --fmt: give a whole number >= 0, not -1"),
    (["export", ".", "--format", "md", "--fmt", "two"], "argument --fmt: 'two' is not a whole number"),
    (["robustness", SPEC, "--data", TABLE, "--windows", "0"], "argument --windows: give a whole number >= 1, not 0"),
    (["robustness", SPEC, "--data", TABLE, "--windows", "-5"], "argument --windows: give a whole number >= 1, not -5"),
    (["robustness", SPEC, "--data", TABLE, "--seed", "-1"], "argument --seed: give a whole number >= 0, not -1"),
    (["ingest", ".", "--out", "o", "--resolution", "0"], "argument --resolution: give a positive number of degrees"),
    (["ingest", ".", "--out", "o", "--resolution", "nan"], "argument --resolution: give a positive number of degrees"),
])
def test_a_bad_command_line_is_one_line_naming_the_option(tmp_path, capsys, monkeypatch, args, words):
    monkeypatch.chdir(tmp_path)
    code, err = run(capsys, *args)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and words in err and "--help" in err, err
    assert list(tmp_path.iterdir()) == []  # nothing made


def test_help_exits_0(capsys):
    assert main(["fit", "--help"]) == 0
    assert "--debug" in capsys.readouterr().out


@pytest.mark.parametrize("name, content, words", [
    ("table.txt", "a,b\n1,2\n", r"unknown file type '\.txt'; use one of \.csv"),
    ("columns.csv", "a,b\n1,2\n", r"columns\.csv.*(missing|column)"),
])
def test_fit_with_a_data_file_of_the_wrong_kind(tmp_path, capsys, name, content, words):
    (tmp_path / name).write_text(content)
    code, err = run(capsys, "fit", SPEC, "--data", str(tmp_path / name), "--out", str(tmp_path / "out"))
    assert code == 2 and re.search(words, one_line_error(err)), err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("spec, words", [
    ("missing.toml", r"no spec file at .*missing\.toml"),
    ("table.toml", r"table\.toml: not valid TOML"),
    ("latin1.toml", r"latin1\.toml.*UTF-8"),
])
def test_fit_with_a_bad_spec_file(tmp_path, capsys, spec, words):
    (tmp_path / "table.toml").write_text(Path(TABLE).read_text())
    (tmp_path / "latin1.toml").write_bytes('family = "trend"\nname = "r\xe9gion"\nformula = "NEE ~ year"\n'.encode("latin-1"))
    code, err = run(capsys, "fit", str(tmp_path / spec), "--data", TABLE, "--out", str(tmp_path / "out"))
    assert code == 2 and re.search(words, one_line_error(err)), err


def test_out_below_a_file(bad_files, capsys):
    code, err = run(capsys, "fit", SPEC, "--data", TABLE, "--out", str(bad_files / "afile" / "sub"))
    line = one_line_error(err)
    assert code == 2 and "afile' is a file, not a folder" in line
    assert (bad_files / "afile").read_text() == "not a folder"


def test_out_where_one_may_not_write(tmp_path, capsys):
    forbidden = Path("/sys/pcstats-test-out")  # sysfs refuses new folders, even to root
    try:
        forbidden.mkdir()
    except OSError:
        pass
    else:
        forbidden.rmdir()
        pytest.skip("this system lets us write in /sys")
    code, err = run(capsys, "fit", SPEC, "--data", TABLE, "--out", str(forbidden / "out"))
    line = one_line_error(err)
    assert code == 2 and "/sys/pcstats-test-out" in line and "may read or write" in line


def test_export_out_pointing_at_a_file(tmp_path, capsys):
    assert main(["fit", SPEC, "--data", TABLE, "--out", str(tmp_path)]) == 0
    code, err = run(capsys, "export", str(tmp_path), "--format", "md", "--out", str(tmp_path / "trend_annual.json"))
    assert code == 2 and "trend_annual.json' is a file; give a folder" in one_line_error(err)


def test_export_of_a_missing_folder_makes_no_folder(tmp_path, capsys):
    code, err = run(capsys, "export", str(tmp_path / "nowhere"), "--format", "md")
    assert code == 2 and "nowhere" in one_line_error(err)
    assert not (tmp_path / "nowhere").exists()  # the default --out (nowhere/export) was not left behind


def test_ingest_of_a_missing_folder(tmp_path, capsys):
    code, err = run(capsys, "ingest", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out"))
    assert code == 2 and "no folder at" in one_line_error(err) and "nowhere" in one_line_error(err)
    assert not (tmp_path / "out").exists()


def test_reproduce_only_names_a_section_and_needs_an_earlier_run(tmp_path, capsys):
    code, err = run(capsys, "reproduce", "--only", "sems", "--out", str(tmp_path / "out"))
    assert code == 2 and "no section 'sems'" in one_line_error(err) and "Did you mean 'sem'" in one_line_error(err)
    code, err = run(capsys, "reproduce", "--only", "sem", "--out", str(tmp_path / "out"))
    assert code == 2 and "has no results of section 'trends'" in one_line_error(err) and "run the whole" in one_line_error(err)
    assert not (tmp_path / "out").exists()


def test_reproduce_with_a_fixtures_folder_that_does_not_exist(tmp_path, capsys):
    code, err = run(capsys, "reproduce", "--fixtures", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out"))
    assert code == 2 and re.search(r"no file at .*nowhere/inversions", one_line_error(err))
    assert not (tmp_path / "out").exists()
