"""The HTML report: sections with their spec files, figures inline, and every image loads in headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from pcstats.report import sections, write_report  # noqa: E402


def render(page: Path) -> str:
    """The DOM of ``page`` after load, from headless Chromium (Debian's chromium; the test command installs it)."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "chromium is not installed: `.ci/setup --test` installs Debian's chromium package"
    done = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                           "--virtual-time-budget=10000",
                           "--dump-dom", page.resolve().as_uri()], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def images(dom: str) -> tuple[int, int]:
    body = re.search(r"<body[^>]*>", dom).group(0)
    total = int(re.search(r'data-images-total="(\d+)"', body).group(1))
    loaded = int(re.search(r'data-images-loaded="(\d+)"', body).group(1))
    return loaded, total


def figure(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [0, 1])
    fig.savefig(path, dpi=50)
    plt.close(fig)


def test_sections_carry_their_spec_files_and_figures(tmp_path):
    figure(tmp_path / "figures" / "a.png")
    figure(tmp_path / "figures" / "b.png")
    summary = ("# Run\n\nIntro, figures/a.png.\n\n## Trends (models/trend_seasonal.toml)\n\n| x | y |\n|---|---|\n| 1 | 2 |\n\n"
               "## SOC (pcstats.soc)\n\nNo figure here.\n")
    page = write_report(tmp_path, summary, ["figures/a.png", "figures/a.svg", "figures/b.png"])
    text = page.read_text()
    assert text.count("<section") == 4  # three sections and "Other figures" (b.png is named by none)
    assert "<code>models/trend_seasonal.toml</code>" in text and "No spec file" in text
    assert "<table>" in text and "<td>1</td>" in text
    assert "src='figures" not in text and text.count("data:image/png;base64,") == 2  # self-contained
    assert images(render(page)) == (2, 2)


def test_a_missing_image_is_caught_by_the_check(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><html><body><img src='nowhere.png'>"
                    + Path("pcstats/report.py").read_text().split('_CHECK = """')[1].split('"""')[0] + "</body></html>")
    assert images(render(page)) == (0, 1)


def test_sections_split_on_headings():
    assert [h for h, _ in sections("# A\nx\n## B\ny\n### C\nz\n")] == ["A", "B"]
