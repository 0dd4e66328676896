"""What the commands print: --version, --help examples, each warning once, --quiet, --verbose, robustness summary.md."""

from __future__ import annotations

import pytest

import pcstats
from pcstats.cli import main

from .conftest import REFERENCE

COMMANDS = ("fit", "reproduce", "ingest", "seasonalize", "robustness", "export")


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"pcstats {pcstats.__version__}"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_help_has_an_example(command, capsys):
    assert main([command, "--help"]) == 0
    text = capsys.readouterr().out
    assert "Example" in text and f"pcstats {command} " in text.split("Example")[1]


def test_top_level_help_lists_seasonalize_and_an_example(capsys):
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    assert "seasonalize" in text and "Example" in text and "--quiet" in text and "--verbose" in text


@pytest.fixture()
def warning_spec(tmp_path):
    """A trend spec with groups that cannot be fitted (two years only): one warning on its Results."""
    spec = tmp_path / "short.toml"
    spec.write_text('family = "trend"\nformula = "NEE ~ year"\nby = ["source", "region", "season"]\n'
                    "where = \"source == 'CAMS' or year < 1982\"\n")
    return spec


@pytest.mark.parametrize("switch", [[], ["--verbose"]])
def test_fit_prints_each_warning_once(warning_spec, tmp_path, capsys, switch):
    assert main(["fit", str(warning_spec), "--data", "tests/reference/trend_input.csv", "--out", str(tmp_path / "o"),
                 *switch]) == 0
    captured = capsys.readouterr()
    printed = (captured.out + captured.err).splitlines()
    warned = [line for line in printed if "not fitted" in line]
    assert len(warned) == 1 and warned[0].startswith("warning: "), printed


def test_quiet_prints_only_the_final_line(warning_spec, tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["fit", str(warning_spec), "--data", "tests/reference/trend_input.csv", "--out", str(out), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == f"wrote 5 files to {out}\n"
    assert main(["--quiet", "fit", "models/trend_seasonal.toml", "--data", "nope.csv", "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("pcstats fit: error:")  # errors still print


def test_quiet_and_verbose_together_is_a_mistake(capsys):
    assert main(["--quiet", "fit", "x.toml", "--data", "x.csv", "--out", "o", "--verbose"]) == 2
    assert "--quiet and --verbose" in capsys.readouterr().err


def test_robustness_writes_summary_md(tmp_path, capsys):
    out = tmp_path / "rob"
    assert main(["robustness", "models/trend_ensemble.toml", "--data", "tests/reference/trend_input.csv",
                 "--windows", "50", "--seed", "3", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "50 windows" in summary and summary.strip() in printed
    assert printed.rstrip().splitlines()[-1].startswith("wrote summary.md, ")


def test_spec_by_bundled_name_from_any_folder(tmp_path, monkeypatch, capsys):
    data = str(REFERENCE / "trend_input.csv")
    monkeypatch.chdir(tmp_path)  # no models/ here: the bundled spec is found by name
    assert main(["fit", "trend_seasonal", "--data", data, "--out", "fits"]) == 0
    assert (tmp_path / "fits" / "trend_seasonal_tidy.csv").is_file() and "56 of 56 groups fitted" in capsys.readouterr().out
    assert main(["fit", "trend_seasonl", "--data", data, "--out", "fits"]) == 2
    err = capsys.readouterr().err
    assert "no bundled spec of that name" in err and "trend_seasonal, " in err.split("bundled specs: ")[1]
