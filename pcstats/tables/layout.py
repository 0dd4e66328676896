"""The formatted table: header lines with spanners, body rows of text, notes; the writers lay it out."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd

__all__ = ["Row", "Table"]


@dataclass(frozen=True)
class Row:
    """One body row: ``kind`` is ``section`` (a heading), ``estimate``, ``statistic`` (below an estimate) or ``gof``."""

    kind: Literal["section", "estimate", "statistic", "gof"]
    label: str
    cells: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    """A formatted side-by-side table: every cell is text already; the writers only lay it out.

    ``header`` holds one tuple per header line of ``(label, span)`` pairs over the data columns
    (the top line holds the spanners); ``rows`` the body; ``notes`` the lines below the table.
    """

    header: tuple[tuple[tuple[str, int], ...], ...]
    rows: tuple[Row, ...]
    notes: tuple[str, ...] = ()
    title: str | None = None

    @property
    def n_columns(self) -> int:
        """Number of data columns (the label column not counted)."""
        return sum(span for _, span in self.header[-1])

    def column_labels(self) -> list[tuple[str, ...]]:
        """Each data column's header labels, top line first."""
        levels = [[label for label, span in line for _ in range(span)] for line in self.header]
        return list(zip(*levels))

    def to_frame(self) -> pd.DataFrame:
        """The cells as a DataFrame of text: column ``term`` then one column per data column (a
        MultiIndex when the header has several lines); section rows hold their heading in ``term``."""
        labels = self.column_labels()
        columns = pd.MultiIndex.from_tuples(labels) if len(self.header) > 1 else pd.Index([c[0] for c in labels])
        body = pd.DataFrame([list(r.cells) for r in self.rows], columns=columns)
        body.insert(0, ("term",) + ("",) * (len(self.header) - 1) if len(self.header) > 1 else "term",
                    [r.label for r in self.rows])
        return body

    def to_latex(self, path: str | Path | None = None, *, align: bool = True, max_width: float = 470.0,
                 max_height: float = 560.0, landscape: bool = False, standalone: bool = False) -> str:
        """LaTeX (booktabs) float, written to ``path`` if given; needs the packages
        :data:`pcstats.tables.latex.LATEX_PACKAGES` (booktabs, siunitx, graphicx; rotating when ``landscape``).

        ``align``: numbers aligned on the decimal point (siunitx ``S`` columns). ``max_width`` (pt, 470
        = 16.5 cm): a wider table is split into blocks of its top header's column groups (one per
        season, say); each block is shrunk to ``\\linewidth`` only if still too wide, so no table runs
        off the page. ``max_height`` (pt, 560 = 19.8 cm): blocks that would make a float taller go on in
        further floats with the same table number, captioned "(continued)". ``landscape``: a ``sidewaystable`` (try ``max_width=650``).
        ``standalone``: a complete document that pdflatex compiles as it is.
        """
        from .latex import render_latex, standalone_document

        text = render_latex(self, align=align, max_width=max_width, max_height=max_height, landscape=landscape)
        return _written(standalone_document(text, landscape=landscape) if standalone else text, path)

    def to_markdown(self, path: str | Path | None = None) -> str:
        """A pipe table; header lines joined by a slash, sections as bold rows, notes below."""
        from .text import render_markdown

        return _written(render_markdown(self), path)

    def to_csv(self, path: str | Path | None = None) -> str:
        """CSV text: one line per header line (spanner labels repeated over their columns), then the rows."""
        from .text import render_csv

        return _written(render_csv(self), path)

    def to_html(self, path: str | Path | None = None) -> str:
        """HTML through great-tables (``GT.as_raw_html``); ``path`` gets a complete UTF-8 page."""
        from .html import render_html

        html = render_html(self)
        if path is not None:
            page = f'<!DOCTYPE html>\n<html>\n<head><meta charset="utf-8"></head>\n<body>\n{html}\n</body>\n</html>\n'
            Path(path).write_text(page, encoding="utf-8")
        return html

    def to_docx(self, path: str | Path) -> Path:
        """A Word document holding the table (python-docx), written to ``path``."""
        from .word import render_docx

        return render_docx(self, Path(path))

    def _repr_html_(self) -> str:
        return self.to_html()

    def __str__(self) -> str:
        return self.to_markdown()


def _written(text: str, path: str | Path | None) -> str:
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text
