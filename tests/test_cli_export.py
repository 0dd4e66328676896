"""pcstats export: one table per saved fit, in each format."""

from __future__ import annotations

import warnings

import pytest

import pcstats as pc
from pcstats.cli import main
from pcstats.export import write_results
from pcstats.tables import read_saved, table

from .conftest import REFERENCE


@pytest.fixture(scope="module")
def saved_dir(tmp_path_factory):
    t = pc.read_table(REFERENCE / "trend_input.csv")
    folder = tmp_path_factory.mktemp("results")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ols = pc.fit(pc.TrendSpec("NEE ~ year", by="season", where="source == 'ensemble' and region == 'P'"), t)
        regional = t[t["source"] != "ensemble"].reset_index(drop=True)
        glmm = pc.fit(pc.MixedSpec("NEE ~ year_c * region + (1 | source)", by="season"), regional)
    write_results(ols, folder / "tables", "trend")
    write_results(glmm, folder / "tables", "glmm")
    (folder / "tables" / "comparison_tidy.csv").write_text("model,term,estimate\nx,year,1\n")  # no glance: skipped
    return folder, ols, glmm


def test_saved_fits_make_the_same_table_as_the_results(saved_dir):
    folder, ols, glmm = saved_dir
    saved = read_saved(folder)
    assert sorted(saved) == ["glmm", "trend"] and saved["glmm"].by == ("season",) and saved["trend"].conf_level == 0.95
    assert table([saved["trend"], saved["glmm"]]) == table([ols, glmm])


@pytest.mark.parametrize(("fmt", "ext"), [("latex", "tex"), ("md", "md"), ("html", "html"), ("docx", "docx"), ("csv", "csv")])
def test_export_writes_one_table_per_fit(saved_dir, tmp_path, capsys, fmt, ext):
    folder, ols, glmm = saved_dir
    assert main(["export", str(folder), "--format", fmt, "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"glmm.{ext}", f"trend.{ext}"]
    captured = capsys.readouterr()
    assert f"wrote 2 {fmt} tables" in captured.out and "skipped comparison_tidy.csv" in captured.err
    if fmt == "md":
        assert (tmp_path / "trend.md").read_text(encoding="utf-8") == table({ols.model: ols}).to_markdown()


def test_export_options_and_default_folder(saved_dir, capsys):
    folder, ols, _ = saved_dir
    assert main(["export", str(folder), "--format", "md", "--statistic", "conf_int", "--no-stars", "--fmt", "2"]) == 0
    text = (folder / "export" / "trend.md").read_text(encoding="utf-8")
    assert text == table({ols.model: ols}, statistic="conf_int", stars=False, fmt=2).to_markdown()


def test_export_of_an_empty_folder_is_an_error(tmp_path, capsys):
    assert main(["export", str(tmp_path), "--format", "md"]) == 2
    assert "no STEM_tidy.csv" in capsys.readouterr().err
