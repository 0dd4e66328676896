"""HTML for a :class:`~pcstats.tables.build.Table` through great-tables: the term stub, component
sections as row groups, models/groups as column spanners, notes as source notes (text is escaped)."""

from __future__ import annotations

import pandas as pd

from .layout import Table

__all__ = ["render_html"]


def render_html(tab: Table) -> str:
    from great_tables import GT, loc, style

    data_cols = [f"c{j}" for j in range(tab.n_columns)]
    section, records, gof_rows = None, [], []
    for row in tab.rows:
        if row.kind == "section":
            section = row.label
            continue
        if row.kind == "gof":
            section = None if section is None else " "  # fit statistics sit apart, under a blank group label
            gof_rows.append(len(records))
        records.append({"_section": section, "_term": row.label, **dict(zip(data_cols, row.cells))})
    frame = pd.DataFrame(records, columns=["_section", "_term", *data_cols])
    grouped = frame["_section"].notna().any()
    gt = GT(frame, rowname_col="_term", groupname_col="_section" if grouped else None)
    if not grouped:
        gt = gt.cols_hide("_section")
    labels = tab.column_labels()
    gt = gt.cols_label(**{c: lab[-1] for c, lab in zip(data_cols, labels)})
    for level, header in enumerate(tab.header[:-1]):
        start = 0
        for k, (label, span) in enumerate(header):
            if label:
                gt = gt.tab_spanner(label, columns=data_cols[start:start + span], id=f"s{level}_{k}")
            start += span
    gt = gt.cols_align("center", columns=data_cols)
    if gof_rows and gof_rows[0] > 0:
        gt = gt.tab_style(style.borders(sides="top", color="#666666", weight="1px"), loc.body(rows=[gof_rows[0]]))
        gt = gt.tab_style(style.borders(sides="top", color="#666666", weight="1px"), loc.stub(rows=[gof_rows[0]]))
    if tab.title:
        gt = gt.tab_header(title=tab.title)
    for note in tab.notes:
        gt = gt.tab_source_note(note)
    return gt.as_raw_html()
