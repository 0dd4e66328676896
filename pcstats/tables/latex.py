"""LaTeX for a :class:`~pcstats.tables.build.Table`: booktabs rules, text escaped for pdflatex.

great-tables 0.17's ``as_latex()`` renders neither the stub nor row groups (its documented
limitations), which a coefficient table needs, so the tabular is written here.
"""

from __future__ import annotations

import re
import unicodedata
import warnings

from .layout import Table

__all__ = ["escape", "render_latex"]

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


def render_latex(tab: Table) -> str:
    n = tab.n_columns
    lines = [r"\begin{table}[htbp]", r"\centering"]
    if tab.title:
        lines.append(r"\caption{" + escape(tab.title) + "}")
    lines += [r"\begin{tabular}{l" + "c" * n + "}", r"\toprule"]
    for level, header in enumerate(tab.header):
        cells, rules, start = [""], [], 2
        for label, span in header:
            cells.append(escape(label) if span == 1 else rf"\multicolumn{{{span}}}{{c}}{{{escape(label)}}}")
            if level < len(tab.header) - 1 and label:
                rules.append(rf"\cmidrule(lr){{{start}-{start + span - 1}}}")
            start += span
        lines.append(" & ".join(cells) + r" \\")
        if rules:
            lines.append(" ".join(rules))
    lines.append(r"\midrule")
    previous = None
    for row in tab.rows:
        if row.kind == "gof" and previous not in (None, "gof"):
            lines.append(r"\midrule")
        if row.kind == "section":
            if previous is not None:
                lines.append(r"\addlinespace")
            lines.append(rf"\multicolumn{{{n + 1}}}{{l}}{{\emph{{{escape(row.label)}}}}} \\")
        else:
            label = escape(row.label)
            label = "{}" + label if label.startswith("[") else label  # not an optional argument of \\ or \midrule
            lines.append(" & ".join([label, *map(escape, row.cells)]) + r" \\")
        previous = row.kind
    lines.append(r"\bottomrule")
    lines += [rf"\multicolumn{{{n + 1}}}{{l}}{{\footnotesize {escape(note)}}} \\" for note in tab.notes]
    lines += [r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"
