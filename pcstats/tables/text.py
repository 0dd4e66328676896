"""Markdown and CSV for a :class:`~pcstats.tables.build.Table`. The CSV holds the formatted text (the
numbers at full precision are in the fits' tidy()/glance()), with the notes as its last lines."""

from __future__ import annotations

import csv
import io
import re

from .layout import Table

__all__ = ["render_csv", "render_markdown"]


def _md(text: str) -> str:
    """Escape a cell's table borders (stars and underscores cannot pair up within one cell)."""
    return text.replace("|", "\\|")


def _note(text: str) -> str:
    """A note line: also escape a leading list or heading marker (``+ p < 0.1``)."""
    return re.sub(r"^([+#>*-])", r"\\\1", _md(text))


def render_markdown(tab: Table) -> str:
    header = [_md("term")] + [_md(" / ".join(x for x in labels if x)) for labels in tab.column_labels()]
    body = [[f"**{_md(r.label)}**" if r.kind == "section" else _md(r.label), *map(_md, r.cells)] for r in tab.rows]
    widths = [max(len(row[j]) for row in [header, *body]) for j in range(len(header))]
    widths = [max(w, 3) for w in widths]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"

    lines = [f"Table: {_md(tab.title)}", ""] if tab.title else []
    lines += [line(header), "|" + "|".join(":" + "-" * (w + 1) for w in widths) + "|"]
    lines += [line(row) for row in body]
    if tab.notes:
        lines += ["", *(_note(n) for n in tab.notes)]
    return "\n".join(lines) + "\n"


def render_csv(tab: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    labels = tab.column_labels()
    for level in range(len(tab.header)):
        first = "term" if level == len(tab.header) - 1 else ""
        writer.writerow([first, *(c[level] for c in labels)])
    for row in tab.rows:
        writer.writerow([row.label, *row.cells])
    for note in tab.notes:
        writer.writerow([note, *[""] * tab.n_columns])
    return out.getvalue()
