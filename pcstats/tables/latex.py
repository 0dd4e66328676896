"""LaTeX for a :class:`~pcstats.tables.build.Table`: booktabs rules, text escaped for pdflatex, numbers
aligned on the decimal point (siunitx ``S`` columns), and tables wider than the page split into
blocks of column groups (e.g. one block per season) that each fit.

great-tables 0.17's ``as_latex()`` renders neither the stub nor row groups (its documented
limitations), which a coefficient table needs, so the tabular is written here.
"""

from __future__ import annotations

import re
import unicodedata
import warnings

from .layout import Table

__all__ = ["LATEX_PACKAGES", "escape", "render_latex", "standalone_document"]

#: The packages a table written by :func:`render_latex` needs (``rotating`` only for ``landscape=True``).
LATEX_PACKAGES = ("booktabs", "siunitx", "graphicx", "rotating")

_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
            "}": r"\}", "~": r"$\sim$", "^": r"\textasciicircum{}", "<": "$<$", ">": "$>$", "|": r"$|$"}
_MATH = {"±": r"\pm", "×": r"\times", "·": r"\cdot", "−": "-", "≤": r"\leq", "≥": r"\geq", "≈": r"\approx",
         "°": r"^{\circ}", "←": r"\leftarrow", "→": r"\rightarrow", "↔": r"\leftrightarrow", "µ": r"\mu", "α": r"\alpha", "β": r"\beta", "γ": r"\gamma", "δ": r"\delta", "Δ": r"\Delta",
         "ε": r"\varepsilon", "θ": r"\theta", "κ": r"\kappa", "λ": r"\lambda", "μ": r"\mu", "ρ": r"\rho",
         "σ": r"\sigma", "τ": r"\tau", "φ": r"\phi", "χ": r"\chi", "ψ": r"\psi", "ω": r"\omega", "Σ": r"\Sigma",
         "ζ": r"\zeta", "η": r"\eta", "ι": r"\iota", "ν": r"\nu", "ξ": r"\xi", "π": r"\pi", "Γ": r"\Gamma",
         "Θ": r"\Theta", "Λ": r"\Lambda", "Ξ": r"\Xi", "Π": r"\Pi", "Φ": r"\Phi", "Ψ": r"\Psi", "Ω": r"\Omega",
         "≠": r"\neq", "∑": r"\sum", "∆": r"\Delta", "√": r"\surd", "∞": r"\infty", "∂": r"\partial",
         "∝": r"\propto", "≃": r"\simeq", "∼": r"\sim", "′": r"\prime", "⇒": r"\Rightarrow", "∈": r"\in"}
_TEXT = {"–": "--", "—": "---", "‘": "`", "’": "'", "“": "``", "”": "''", "…": r"\ldots{}", "\u00a0": "~",
         "‰": r"\textperthousand{}", "•": r"\textbullet{}", "†": r"\dag{}", "‡": r"\ddag{}"}
_SUPER = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿ", "0123456789+-=()n"))
_SUB = dict(zip("₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎", "0123456789+-=()"))
_TOKEN = re.compile(f"[{''.join(_SUPER)}]+|[{''.join(_SUB)}]+|(?P<minus>(?<![\\w.])-(?=\\d))|.", re.DOTALL)


def escape(text: str) -> str:
    r"""Text for pdflatex: specials escaped, runs of unicode super/subscripts as math, ± arrows and Greek
    as math. Latin-1 letters pass through (pdflatex's UTF-8 input knows them); any other character
    pdflatex cannot typeset is written as its code point, e.g. ``[U+2603]``, with a warning naming it.

    >>> escape("Trend (gC m⁻² yr⁻²) & 5% of CO₂, -0.5 ± 0.1")
    'Trend (gC m$^{-2}$ yr$^{-2}$) \\& 5\\% of CO$_{2}$, $-$0.5 $\\pm$ 0.1'
    """

    def one(match: re.Match[str]) -> str:
        s = match.group(0)
        if s[0] in _SUPER:
            return "$^{" + "".join(_SUPER[c] for c in s) + "}$"
        if s[0] in _SUB:
            return "$_{" + "".join(_SUB[c] for c in s) + "}$"
        if match.group("minus"):
            return "$-$"  # a minus sign, not a hyphen, before a number
        if s in _SPECIAL:
            return _SPECIAL[s]
        if s in _MATH:
            return "$" + _MATH[s] + "$"
        if s in _TEXT:
            return _TEXT[s]
        if ord(s) < 256:
            return s
        warnings.warn(f"LaTeX table: {s!r} (U+{ord(s):04X}, {unicodedata.name(s, 'unnamed')}) in {text!r} has no "
                      f"pdflatex form and is written as [U+{ord(s):04X}]; rename the label (coef_rename=, title=) "
                      "to avoid it.", UserWarning, stacklevel=4)
        return f"[U+{ord(s):04X}]"

    return _TOKEN.sub(one, text)


# A number as the table writes it: optional "(" or "[", sign, digits, decimals, exponent, then ")" and stars.
_NUMBER = re.compile(r"^(?P<pre>\(?)(?P<num>-?\d+(?:\.(?P<dec>\d+))?(?:e(?P<exp>[-+]?\d+))?)(?P<post>\)?)(?P<stars>[*+]*)$")
_CHAR_PT = 4.6  # mean width of a character of the \small font (9 pt Computer Modern), in pt
_COLSEP_PT = 12.0  # 2 \tabcolsep


def render_latex(tab: Table, *, align: bool = True, max_width: float = 470.0, max_height: float = 560.0,
                 landscape: bool = False) -> str:
    r"""The table as LaTeX floats (``table``, or ``sidewaystable`` when ``landscape``).

    ``align``: numbers in siunitx ``S`` columns, aligned on the decimal point (stars and parentheses
    beside them); False writes centred ``c`` columns. ``max_width`` (pt): when the estimated width
    of the tabular exceeds it, the data columns are split into blocks along the top header's groups
    (e.g. one block per season), each repeating the row labels. Blocks are stacked in one float
    while their estimated height stays under ``max_height`` (pt); the next ones go into further
    floats with the same table number, captioned "(continued)". Every block is also shrunk to
    ``\linewidth`` if LaTeX finds it still wider, so nothing overflows.
    """
    env = "sidewaystable" if landscape else "table"
    floats: list[list[list[int]]] = []
    for columns in _blocks(tab, max_width):
        if floats and sum(_height(tab, c) for c in floats[-1]) + _height(tab, columns) + 14 <= max_height:
            floats[-1].append(columns)
        else:
            floats.append([columns])
    lines: list[str] = []
    for k, blocks in enumerate(floats):
        lines += [rf"\begin{{{env}}}[htbp]", r"\centering", r"\small"]
        if tab.title:
            if k:
                lines.append(r"\addtocounter{table}{-1}")  # the same number as the first part
            lines.append(r"\caption{" + escape(tab.title) + (" (continued)" if k else "") + "}")
        for i, columns in enumerate(blocks):
            if i:
                lines.append(r"\par\bigskip")
            lines += _tabular(tab, columns, align)
        if tab.notes and k == len(floats) - 1:
            lines.append(r"\par\smallskip")
            lines.append(r"\parbox{\linewidth}{\footnotesize " + r" \\ ".join(escape(n) for n in tab.notes) + "}")
        lines.append(rf"\end{{{env}}}")
    return "\n".join(lines) + "\n"


def _height(tab: Table, columns: list[int]) -> float:
    """Estimated height (pt) of a block's tabular at \\small: 11 pt a row, the header and rules."""
    return 11.0 * (len(_block_rows(tab, columns)) + 2 * len(tab.header)) + 12.0


def standalone_document(body: str, *, landscape: bool = False) -> str:
    """A complete pdflatex document around a table written by :func:`render_latex`."""
    geometry = r"\usepackage[margin=2.5cm]{geometry}" + "\n"
    return ("\\documentclass[10pt]{article}\n\\usepackage[T1]{fontenc}\n\\usepackage[utf8]{inputenc}\n" + geometry
            + "".join(f"\\usepackage{{{p}}}\n" for p in LATEX_PACKAGES if landscape or p != "rotating")
            + "\\begin{document}\n" + body + "\\end{document}\n")


def _tabular(tab: Table, columns: list[int], align: bool) -> list[str]:
    rows = _block_rows(tab, columns)
    spec = "l" + "".join(_column_spec([r.cells[j] for r in rows if r.kind != "section"]) if align else "c"
                         for j in columns)
    lines = [r"\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{%", rf"\begin{{tabular}}{{{spec}}}",
             r"\toprule"]
    n = len(columns)
    for level, header in enumerate(_block_header(tab, columns)):
        cells, rules, start = [""], [], 2
        for label, span in header:
            text = _header_text(label, wrap=level == len(tab.header) - 1)
            cells.append(rf"\multicolumn{{{span}}}{{c}}{{{text}}}")
            if level < len(tab.header) - 1 and label:
                rules.append(rf"\cmidrule(lr){{{start}-{start + span - 1}}}")
            start += span
        lines.append(" & ".join(cells) + r" \\")
        if rules:
            lines.append(" ".join(rules))
    lines.append(r"\midrule")
    previous = None
    for row in rows:
        if row.kind == "gof" and previous not in (None, "gof"):
            lines.append(r"\midrule")
        if row.kind == "section":
            if previous is not None:
                lines.append(r"\addlinespace")
            lines.append(rf"\multicolumn{{{n + 1}}}{{l}}{{\emph{{{escape(row.label)}}}}} \\")
        else:
            label = escape(row.label)
            label = "{}" + label if label.startswith("[") else label  # not an optional argument of \\ or \midrule
            cells = [_cell(row.cells[j], align) for j in columns]
            lines.append(" & ".join([label, *cells]) + r" \\")
        previous = row.kind
    lines += [r"\bottomrule", r"\end{tabular}}"]
    return lines


def _cell(text: str, align: bool) -> str:
    if not align:
        return escape(text)
    if not text:
        return ""
    m = _NUMBER.match(text)
    if m is None:
        return "{" + escape(text) + "}"  # text in an S column is braced
    pre = "{(}" if m["pre"] else ""
    post = ("{)}" if m["post"] else "") + (f"{{$^{{{m['stars']}}}$}}" if m["stars"] else "")
    return pre + m["num"] + post


def _column_spec(cells: list[str]) -> str:
    """An siunitx S column wide enough for every number of the column (table-format)."""
    matches = [m for m in map(_NUMBER.match, cells) if m is not None]
    if not matches:
        return "c"
    whole = max(len(m["num"].lstrip("-").split("e")[0].split(".")[0]) for m in matches)
    decimals = max(len(m["dec"] or "") for m in matches)
    exponent = max((len(m["exp"].lstrip("+-")) for m in matches if m["exp"]), default=0)
    sign = "-" if any(m["num"].startswith("-") for m in matches) else ""
    fmt = f"{sign}{whole}" + (f".{decimals}" if decimals else "") + (f"e-{exponent}" if exponent else "")
    stars = max((m["stars"] for m in matches), key=len, default="")
    post = f"$^{{{stars}}}$" if stars else (")" if any(m["post"] for m in matches) else "")
    pre = "(" if any(m["pre"] for m in matches) else ""
    options = [f"table-format={fmt}"]
    if pre:
        options.append("table-space-text-pre={(}")
    if post:
        options.append("table-space-text-post={" + post + "}")
    return "S[" + ", ".join(options) + "]"


def _header_text(label: str, wrap: bool) -> str:
    """A header label; long bottom labels break onto two lines (a nested tabular)."""
    lines = _header_lines(label) if wrap else [label]
    if len(lines) == 1:
        return escape(label)
    return r"\begin{tabular}[b]{@{}c@{}}" + r"\\".join(map(escape, lines)) + r"\end{tabular}"


def _header_lines(label: str) -> list[str]:
    """A label of more than 14 characters on two lines, cut at the space nearest its middle."""
    words = label.split(" ")
    if len(label) <= 14 or len(words) < 2:
        return [label]
    cut = min(range(1, len(words)), key=lambda k: abs(len(" ".join(words[:k])) - len(label) / 2))
    return [" ".join(words[:cut]), " ".join(words[cut:])]


def _width(tab: Table, columns: list[int]) -> float:
    """Estimated width (pt) of a tabular holding the label column and ``columns``."""
    labels = [r.label for r in tab.rows if r.kind != "section"] or [""]
    bottom = [label for label, span in tab.header[-1] for _ in range(span)]
    total = max(map(len, labels)) * _CHAR_PT + _COLSEP_PT
    for j in columns:
        cells = [r.cells[j] for r in tab.rows if r.kind != "section"]
        text = [len(c) * _CHAR_PT for c in cells if not _NUMBER.match(c)] + [_numbers_width(cells)]
        text.append(max(map(len, _header_lines(bottom[j]))) * _CHAR_PT)
        total += max(text) + _COLSEP_PT
    return total


def _numbers_width(cells: list[str]) -> float:
    """Width (pt) of the numbers of an S column as siunitx sets them: every part at its widest."""
    matches = [m for m in map(_NUMBER.match, cells) if m is not None]
    if not matches:
        return 0.0
    whole = max(len(m["num"].lstrip("-").split("e")[0].split(".")[0]) for m in matches)
    decimals = max(len(m["dec"] or "") for m in matches)
    exponent = max((len(m["exp"]) + 2 for m in matches if m["exp"]), default=0)
    sign = 7.0 if any(m["num"].startswith("-") for m in matches) else 0.0
    stars = max(len(m["stars"]) for m in matches) * 3.6
    post = max(stars, 3.6 if any(m["post"] for m in matches) else 0.0)
    pre = 3.6 if any(m["pre"] for m in matches) else 0.0
    return sign + pre + post + (whole + decimals + exponent) * _CHAR_PT + (2.5 if decimals else 0.0)


def _groups(tab: Table) -> list[list[int]]:
    """The data columns under each label of the top header line."""
    out, start = [], 0
    for _, span in tab.header[0]:
        out.append(list(range(start, start + span)))
        start += span
    return out


def _blocks(tab: Table, max_width: float) -> list[list[int]]:
    """Consecutive top-header groups packed into blocks no wider than ``max_width`` (a group is never split)."""
    blocks: list[list[int]] = []
    for group in _groups(tab):
        if blocks and _width(tab, blocks[-1] + group) <= max_width:
            blocks[-1] += group
        else:
            blocks.append(list(group))
    return blocks


def _block_header(tab: Table, columns: list[int]) -> list[list[tuple[str, int]]]:
    keep = set(columns)
    out = []
    for line in tab.header:
        cells, start = [], 0
        for label, span in line:
            n = sum(1 for j in range(start, start + span) if j in keep)
            if n:
                cells.append((label, n))
            start += span
        out.append(cells)
    return out


def _block_rows(tab: Table, columns: list[int]) -> list:
    """The rows with a value in ``columns`` (a statistic row goes with its estimate; a heading with its rows)."""
    rows, estimate_kept = [], False
    for row in tab.rows:
        filled = any(row.cells[j] for j in columns)
        if row.kind == "section":
            rows.append(row)
        elif row.kind == "statistic":
            if estimate_kept and filled:
                rows.append(row)
        else:
            estimate_kept = filled
            if filled:
                rows.append(row)
    return [r for k, r in enumerate(rows)
            if r.kind != "section" or (k + 1 < len(rows) and rows[k + 1].kind not in ("section", "gof"))]
