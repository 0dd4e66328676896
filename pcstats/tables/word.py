"""Word (.docx) for a :class:`~pcstats.tables.build.Table` through python-docx: merged spanner
cells, italic section rows, booktabs-like horizontal rules, notes as small paragraphs below."""

from __future__ import annotations

from pathlib import Path

from .layout import Table

__all__ = ["render_docx"]


def render_docx(tab: Table, path: Path) -> Path:
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    document = docx.Document()
    if tab.title:
        document.add_paragraph(tab.title, style="Caption")
    n_head, n = len(tab.header), tab.n_columns
    grid = document.add_table(rows=n_head + len(tab.rows), cols=n + 1)
    for level, header in enumerate(tab.header):
        cells, start = grid.rows[level].cells, 1
        for label, span in header:
            cell = cells[start].merge(cells[start + span - 1]) if span > 1 else cells[start]
            cell.text = label
            cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
            start += span
    grid.rows[n_head - 1].cells[0].text = ""
    first_gof = next((i for i, r in enumerate(tab.rows) if r.kind == "gof"), None)
    for i, row in enumerate(tab.rows):
        cells = grid.rows[n_head + i].cells
        if row.kind == "section":
            merged = cells[0].merge(cells[n])
            merged.text = ""
            merged.paragraphs[0].add_run(row.label).italic = True
            continue
        cells[0].text = row.label
        for j, text in enumerate(row.cells, start=1):
            cells[j].text = text
            cells[j].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    for row in grid.rows:
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                paragraph.paragraph_format.space_after = Pt(0)
                for run in paragraph.runs:
                    run.font.size = Pt(9)
    _rule(grid.rows[0], "top", 12)
    _rule(grid.rows[n_head - 1], "bottom", 6)
    if first_gof:
        _rule(grid.rows[n_head + first_gof], "top", 6)
    _rule(grid.rows[-1], "bottom", 12)
    for note in tab.notes:
        paragraph = document.add_paragraph()
        paragraph.add_run(note).font.size = Pt(8)
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path


def _rule(row, side: str, size: int) -> None:
    """A horizontal border on one side of every cell of a row (``size`` in eighths of a point)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    for cell in row.cells:
        props = cell._tc.get_or_add_tcPr()
        borders = props.find(qn("w:tcBorders"))
        if borders is None:
            borders = OxmlElement("w:tcBorders")
            props.append(borders)
        edge = OxmlElement(f"w:{side}")
        edge.set(qn("w:val"), "single")
        edge.set(qn("w:sz"), str(size))
        edge.set(qn("w:color"), "000000")
        borders.append(edge)
