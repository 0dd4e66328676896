"""Figures a journal would accept as drawn: 89 or 183 mm wide, no text under 7 pt, nothing outside the
figure, no legend over data, over another panel or over its texts, no two texts of a panel on top of
each other (:func:`pcstats.plots_style.layout_problems`). Checked on every figure of the reproduction's
sections (the Bayesian ones on synthetic draws) and on the style helpers themselves."""

from __future__ import annotations

import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("matplotlib")

import pcstats as pc  # noqa: E402
import pcstats.plots as plots  # noqa: E402
from pcstats.plots_style import (finish, journal_figure, journal_style, layout_problems, legend_below,  # noqa: E402
                                 panel_letters)

from .conftest import REFERENCE  # noqa: E402


# ------------------------------------------------------------------------------------ the checker itself

def test_journal_figure_is_a_journal_width_and_letters_its_panels():
    fig, axes = journal_figure(1, 3, width="double", height=60)
    assert fig.get_figwidth() * 25.4 == pytest.approx(183) and fig.get_figheight() * 25.4 == pytest.approx(60)
    panel_letters(axes)
    assert [ax.get_title(loc="left") for ax in axes.ravel()] == ["a", "b", "c"]
    single, _ = journal_figure(width="single")
    assert single.get_figwidth() * 25.4 == pytest.approx(89)


def test_layout_problems_finds_what_a_journal_would_send_back():
    fig, axes = journal_figure(1, 2, width="double", height=60)
    x = np.linspace(0, 1, 50)
    left, right = axes[0]
    left.plot(x, 0.5 + 0 * x, label="a flat line through the middle")
    left.legend(loc="center")  # over the data
    left.set_xlabel("small", fontsize=5)
    right.text(0.5, 0.5, "one")
    right.text(0.5, 0.5, "two")  # on top of "one"
    right.text(3.0, 0.5, "far away")  # outside the figure
    right.set_xlim(0, 1)
    right.text(0.0, -0.01, "on a tick label", transform=right.transAxes, va="top")
    problems = layout_problems(fig)
    assert any("covers data" in p for p in problems)
    assert any("'small' is 5 pt" in p for p in problems)
    assert any("'one' and 'two' overlap" in p for p in problems)
    assert any("'far away' runs outside the figure" in p for p in problems)
    assert any("'on a tick label' and '0.0' overlap" in p for p in problems)
    from matplotlib.figure import Figure

    wide = Figure(figsize=(6.4, 4.8))  # matplotlib's default size
    wide.add_subplot().plot([0, 1])
    assert any("163 mm wide, not a journal width" in p for p in layout_problems(wide))


@pytest.mark.parametrize("label", ["series {k}: R² = 0.{k}5", "series {k}: a long label, R² = 0.{k}5, p < 0.001",
                                   "series {k}: a label longer than the panel is wide, so it must wrap, R² = 0.{k}5, p < 0.001"])
def test_legend_below_clears_the_data_and_the_panel_below(label):
    with journal_style():
        fig, axes = journal_figure(2, 2, width="double", height=120)
        x = np.linspace(0, 10, 40)
        for ax in axes.ravel():
            for k in range(3):
                ax.plot(x, np.sin(x + k), label=label.format(k=k))
            ax.set_xlabel("Year")
            ax.set_title("Late season (Sep–Oct)")
            legend_below(ax, ncols=3)  # finish() uses as many columns as fit
        panel_letters(axes)
        finish(fig)
    assert layout_problems(fig) == []
    assert all(ax.get_legend().get_window_extent().width <= ax.bbox.width + 1 for ax in axes.ravel())


# ------------------------------------------------------------------------------------ the reproduction's figures

def _check_every_saved_figure(monkeypatch) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    save = plots._save

    def checked(fig, path):
        finish(fig)
        found[Path(path).stem if path is not None else f"figure {len(found)}"] = layout_problems(fig)
        return save(fig, path)

    monkeypatch.setattr(plots, "_save", checked)
    return found


@pytest.mark.parametrize("name", [
    "trends", "sem", "comparisons", "smap", "productivity",
    pytest.param("mixed", marks=pytest.mark.slow), pytest.param("evaluation", marks=pytest.mark.slow),
    pytest.param("grid", marks=pytest.mark.slow), pytest.param("robustness", marks=pytest.mark.slow),
])
def test_every_figure_of_a_section_is_publication_ready(name, tmp_path, monkeypatch):
    from pcstats.pipeline import run
    from pcstats.pipeline.context import Context
    from pcstats.pipeline.inputs import FIXTURES, MODELS

    section = {"trends": run.trends, "sem": run.sem, "comparisons": run.comparisons, "smap": run.smap,
               "productivity": run.productivity, "mixed": run.mixed, "evaluation": run._evaluation, "grid": run._grid,
               "robustness": run._robustness}[name]
    found = _check_every_saved_figure(monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        done = section(Context(tmp_path, FIXTURES, MODELS))
    pngs = [p for p in done.figures if p.suffix == ".png"]
    assert pngs and set(found) == {p.stem for p in pngs}
    assert {stem: problems for stem, problems in found.items() if problems} == {}


@pytest.fixture(scope="module")
def trend_table():
    return pc.read_table(REFERENCE / "trend_input.csv")


def test_robustness_figures_on_the_reference_table(trend_table, monkeypatch, tmp_path):
    found = _check_every_saved_figure(monkeypatch)
    spec = pc.TrendSpec("NEE ~ year", by=("region", "season"), where="source == 'ensemble'")
    plots.window_trends_figure(pc.robustness.random_windows(spec, trend_table, n=200, seed=3), path=tmp_path / "w.png")
    plots.source_trends_figure(pc.robustness.by_source(spec, trend_table), path=tmp_path / "s.png")
    annual = pc.TrendSpec("NEE ~ year", by="region", where="source == 'ensemble' and season == 'ANN'")
    plots.window_trends_figure(pc.robustness.random_windows(annual, trend_table, n=100), path=tmp_path / "one.png")
    assert set(found) == {"w", "s", "one"} and {k: v for k, v in found.items() if v} == {}


def _bayes_like(seed: int = 1):
    """What the Bayesian figures read from a fit (tidy trends, ArviZ draws), with synthetic numbers."""
    import arviz as az

    rng = np.random.default_rng(seed)
    seasons, sources, terms = ("ANN", "EGS", "LGS", "WIN"), ("CAMS", "CT2019B", "CTE2020", "JAMSTEC", "Jena_s76", "Jena_s85"), \
        ["(Intercept)", "year_c", "regionP", "year_c:regionP"]
    rows = [{"season": s, "component": "trend", "term": "year_c", "level": f"{src}:{r}", "estimate": m,
             "conf_low": m - 0.3, "conf_high": m + 0.3}
            for s in seasons for src in sources for r in ("NoP", "P") for m in [rng.normal(0.5, 0.5)]]
    tidy = pd.DataFrame(rows)
    native = {}
    for s in seasons:
        y = rng.normal(0, 1, 120)
        native[(s,)] = az.from_dict(posterior={"beta": rng.normal(size=(4, 250, 4))},
                                    posterior_predictive={"y": y + rng.normal(size=(4, 250, 120))},
                                    observed_data={"y": y}, coords={"term": terms}, dims={"beta": ["term"]})
    spec = SimpleNamespace(fixed="NEE ~ year_c * region", formula="NEE ~ year_c * region", conf_level=0.94, kind="bayes")
    return SimpleNamespace(model="Hierarchical NEE trend (Bayesian)", by=("season",), spec=spec, units={},
                           native=native, tidy=lambda: tidy.copy())


def test_bayesian_figures(monkeypatch, tmp_path):
    pytest.importorskip("arviz")
    found = _check_every_saved_figure(monkeypatch)
    res = _bayes_like()
    plots.forest_figure(res, path=tmp_path / "forest.png")
    plots.ppc_figure(res, path=tmp_path / "ppc.png")
    fig = plots.rank_figure(res, key=("LGS",), path=tmp_path / "rank.png")
    assert [ax.get_title() for ax in fig.axes if ax.get_visible()][:2] == ["(Intercept)", "year_c"]  # not "beta\n(Intercept)"
    assert set(found) == {"forest", "ppc", "rank"} and {k: v for k, v in found.items() if v} == {}
