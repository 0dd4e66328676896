"""One self-contained HTML page of a reproduction: every section of ``summary.md`` with its figures inline.

:func:`write_report` turns the summary (Markdown, one ``##`` section per analysis) into
``index.html``: Markdown tables become HTML tables (Python-Markdown's ``tables`` extension), each
section starts with the spec files it names (``models/*.toml``) or says that no spec file made
it, and every figure the section names is embedded as a base64 PNG, so the page needs no other
file. Figures no section names are shown at the end. A small script on the page marks images
that fail to load and records ``data-images-loaded`` / ``data-images-total`` on ``<body>``
(the test suite opens the page in headless Chromium and reads them).
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Sequence
from pathlib import Path

__all__ = ["sections", "write_report"]

_SPEC = re.compile(r"models/[\w.-]+\.toml")
_FIGURE = re.compile(r"[\w.-]+\.png")
_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 75rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.85rem; }
th, td { border-bottom: 1px solid #ccc; padding: 0.2rem 0.6rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
figure { margin: 1rem 0; } figure img { max-width: 100%; } figcaption { font-size: 0.8rem; color: #555; }
.spec { font-size: 0.85rem; background: #f3f5f7; padding: 0.3rem 0.6rem; border-left: 3px solid #1b6ca8; }
.broken { outline: 3px solid #d1495b; }
"""
_CHECK = """
<script>
window.addEventListener("load", () => {
  const images = Array.from(document.images);
  const loaded = images.filter(i => i.complete && i.naturalWidth > 0);
  images.filter(i => !loaded.includes(i)).forEach(i => i.classList.add("broken"));
  document.body.dataset.imagesTotal = images.length;
  document.body.dataset.imagesLoaded = loaded.length;
});
</script>
"""


def sections(summary: str) -> list[tuple[str, str]]:
    """``(heading, body)`` per ``#``/``##`` heading of a Markdown summary, in order.

    >>> sections("# A\\ntext\\n\\n## B (models/x.toml)\\nmore\\n")
    [('A', 'text\\n'), ('B (models/x.toml)', 'more\\n')]
    """
    out: list[tuple[str, str]] = []
    for line in summary.splitlines(keepends=True):
        match = re.match(r"#{1,2} (.*)", line)
        if match:
            out.append((match.group(1).strip(), ""))
        elif out:
            out[-1] = (out[-1][0], out[-1][1] + line)
    return [(h, b.strip("\n") + "\n") for h, b in out]


def write_report(out: str | Path, summary: str, figures: Sequence[str | Path], *, title: str = "pcstats reproduce",
                 also_in: Sequence[str | Path] = ()) -> Path:
    """Write ``out/index.html`` from the summary Markdown and the PNG figures (paths relative to ``out``;
    a figure not in ``out`` is read from the first of the folders ``also_in`` that has it)."""
    import markdown

    out = Path(out)
    folders = [out, *map(Path, also_in)]
    pngs = [Path(f) for f in figures if str(f).endswith(".png")]
    by_name = {p.name: p for p in pngs}
    shown: set[Path] = set()
    parts = [f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
             f"<style>{_STYLE}</style></head><body>\n<h1>{html.escape(title)}</h1>\n"]
    toc, body = [], []
    for i, (heading, text) in enumerate(sections(summary)):
        specs = list(dict.fromkeys(_SPEC.findall(heading + text)))
        named = [by_name[n] for n in dict.fromkeys(_FIGURE.findall(heading + text)) if n in by_name and by_name[n] not in shown]
        shown.update(named)
        spec_line = ("Spec files: " + ", ".join(f"<code>{s}</code>" for s in specs)) if specs else \
            "No spec file: computed by the code named in the heading."
        body.append(f"<section id='s{i}'>\n<h2>{html.escape(heading)}</h2>\n<p class='spec'>{spec_line}</p>\n"
                    + markdown.markdown(text, extensions=["tables"]) + "".join(_figure(folders, p) for p in named) + "</section>\n")
        toc.append(f"<li><a href='#s{i}'>{html.escape(heading)}</a></li>")
    rest = [p for p in pngs if p not in shown]
    if rest:
        body.append("<section id='other'>\n<h2>Other figures</h2>\n<p class='spec'>Figures no section names.</p>\n"
                    + "".join(_figure(folders, p) for p in rest) + "</section>\n")
        toc.append("<li><a href='#other'>Other figures</a></li>")
    parts += ["<nav><ol>", *toc, "</ol></nav>\n", *body, _CHECK, "</body></html>\n"]
    path = out / "index.html"
    path.write_text("".join(parts), encoding="utf-8")
    return path


def _figure(folders: Sequence[Path], rel: Path) -> str:
    path = next((f / rel for f in folders if (f / rel).is_file()), folders[0] / rel)
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (f"<figure><img alt='{html.escape(str(rel))}' src='data:image/png;base64,{data}'>"
            f"<figcaption>{html.escape(str(rel))} (also .svg)</figcaption></figure>\n")
