"""Fits read back from the files ``pcstats fit``/``reproduce`` write (``STEM_tidy.csv``,
``STEM_glance.csv``, ``STEM.json``; see :func:`pcstats.export.write_results`), for tables without refitting."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import PcstatsError

__all__ = ["SavedFit", "read_saved"]


@dataclass(frozen=True, eq=False)
class SavedFit:
    """A fit's tables as saved: ``model``, ``by``, ``engine``, ``tidy()``, ``glance()`` like a Results."""

    model: str
    by: tuple[str, ...]
    engine: str
    _tidy: pd.DataFrame = field(repr=False)
    _glance: pd.DataFrame = field(repr=False)
    conf_level: float | None = None

    def tidy(self) -> pd.DataFrame:
        return self._tidy.copy()

    def glance(self) -> pd.DataFrame:
        return self._glance.copy()


def read_saved(folder: str | Path) -> dict[str, SavedFit]:
    """Every fit saved in ``folder`` (or in ``folder/tables``, where ``reproduce`` writes), by stem.

    A stem needs ``STEM_tidy.csv`` and ``STEM_glance.csv``; ``STEM.json`` adds the engine and the
    interval level. The by keys are the columns between ``model`` and ``component`` of the tidy table.

    >>> import tempfile
    >>> import pcstats as pc
    >>> from pcstats.export import write_results
    >>> from pcstats.tables import table
    >>> t = pc.read_table("tests/reference/trend_input.csv")
    >>> res = pc.fit(pc.TrendSpec("NEE ~ year", by="season", where="source == 'ensemble' and region == 'P'"), t)
    >>> folder = tempfile.mkdtemp()
    >>> _ = write_results(res, folder, "trend")
    >>> saved = read_saved(folder)
    >>> saved["trend"].by, table([saved["trend"]]).header[1][0]
    (('season',), ('ANN', 1))
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder with STEM_tidy.csv/STEM_glance.csv files.")
    if not list(folder.glob("*_tidy.csv")) and (folder / "tables").is_dir():
        folder = folder / "tables"
    out = {}
    for tidy_path in sorted(folder.glob("*_tidy.csv")):
        stem = tidy_path.name[: -len("_tidy.csv")]
        glance_path = folder / f"{stem}_glance.csv"
        if not glance_path.exists():
            continue
        tidy = pd.read_csv(tidy_path, keep_default_na=True)
        glance = pd.read_csv(glance_path)
        meta: dict[str, Any] = {}
        if (folder / f"{stem}.json").exists():
            try:
                meta = json.loads((folder / f"{stem}.json").read_text(encoding="utf-8"))
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise PcstatsError(f"{folder / f'{stem}.json'}: not valid JSON ({exc}); write it again with "
                                   "`pcstats fit`, or delete it (the tables are read without it).") from None
            if not isinstance(meta, dict):
                raise PcstatsError(f"{folder / f'{stem}.json'}: expected a JSON object (as write_results writes), "
                                   f"found {type(meta).__name__}; write it again or delete it.")
        columns = list(tidy.columns)
        if "model" not in columns or "term" not in columns:
            raise PcstatsError(f"{tidy_path}: a tidy table needs the columns model and term (as write_results writes them).")
        end = columns.index("component") if "component" in columns else columns.index("term")
        by = tuple(c for c in columns[columns.index("model") + 1:end] if c in glance.columns)
        model = str(meta.get("model") or (tidy["model"].iloc[0] if len(tidy) else stem))
        spec = meta.get("spec") or {}
        out[stem] = SavedFit(model, by, str(meta.get("engine", "")), tidy, glance, spec.get("conf_level"))
    return out
