"""Writers of several files: all of them or none, never a partial set."""

from __future__ import annotations

import pandas as pd
import pytest

import pcstats.export as export
from pcstats.export import write_atomically, write_frame


def test_files_appear_only_when_the_block_succeeds(tmp_path):
    (tmp_path / "kept.csv").write_text("earlier run")
    with pytest.raises(RuntimeError, match="half way"):
        with write_atomically(tmp_path, owns=["kept.csv"]) as tmp:
            (tmp / "new.csv").write_text("this run")
            raise RuntimeError("half way")
    assert [p.name for p in tmp_path.iterdir()] == ["kept.csv"]  # no new file, no temporary folder
    assert (tmp_path / "kept.csv").read_text() == "earlier run"


def test_write_frame_leaves_no_csv_when_the_markdown_fails(tmp_path, monkeypatch):
    def fail(frame, digits=4):
        raise ValueError("cannot format")

    monkeypatch.setattr(export, "to_markdown", fail)
    with pytest.raises(ValueError, match="cannot format"):
        write_frame(pd.DataFrame({"a": [1.0]}), tmp_path / "tables", "soc", "# SOC")
    assert list((tmp_path / "tables").iterdir()) == []
