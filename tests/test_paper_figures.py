"""The paper's gradient figures (Fig. 1d-f, 3d, 4): fitted lines, R² and p from the Results, units on every axis."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pcstats as pc

pytest.importorskip("matplotlib")

from pcstats.plots import bin_trends_figure, gradient_figure  # noqa: E402

SEASONS = ("EGS", "LGS", "WIN", "ANN")
TREND_UNIT = "gC m$^{-2}$ yr$^{-2}$"  # mathtext superscripts


@pytest.fixture(scope="module")
def bins():
    """Ten 5 % tree-cover bins whose NEE trend rises by 0.04 gC m-2 yr-2 per % (noise-free years plus noise)."""
    rng = np.random.default_rng(5)
    cover = pd.Series(2.5 + 5.0 * np.arange(10), index=[f"TC{i:02d}" for i in range(10)], name="TC")
    years = np.arange(1990, 2020)
    rows = [{"source": "ensemble", "kind": "inversion", "region": b, "season": s, "year": y, "variable": "NEE",
             "unit": "gC m-2 yr-1", "value": 0.04 * tc * (y - 2005) + rng.normal(0, 2)}
            for b, tc in cover.items() for s in SEASONS for y in years]
    table = pd.DataFrame(rows)
    trends = pc.fit(pc.TrendSpec("NEE ~ year", by=("source", "region", "season")), table)
    return trends, pc.trend_gradient(trends, cover, name="trend ~ TC"), cover


def test_bin_trends_figure_labels_every_panel_with_units_and_the_fit(bins):
    trends, gradient_fit, cover = bins
    fig = bin_trends_figure({"inversions": (trends, gradient_fit)}, cover, xlabel="Tree cover (%)")
    axes = fig.axes
    assert [ax.get_title() for ax in axes] == [pc.plots.SEASON_TITLES.get(s, s) for s in SEASONS]
    glance = gradient_fit.glance().set_index("season")
    tidy = gradient_fit.tidy().query("term == 'TC'").set_index("season")
    for ax, season in zip(axes, SEASONS):
        assert ax.get_ylabel() == f"Trend ({TREND_UNIT})" and ax.get_xlabel() == "Tree cover (%)"
        (legend,) = [t.get_text() for t in ax.get_legend().get_texts()]
        assert legend == (f"inversions: {tidy.loc[season, 'estimate']:.3f} per %, "
                          f"R² = {glance.loc[season, 'r_squared']:.2f}, p = {tidy.loc[season, 'p_value']:.2g}")
        assert tidy.loc[season, "estimate"] == pytest.approx(0.04, abs=0.005)  # the planted slope
        (line,) = [ln for ln in ax.get_lines() if ln.get_label() == legend]  # drawn from the second-stage fit
        slope = np.diff(line.get_ydata())[0] / np.diff(line.get_xdata())[0]
        assert slope == pytest.approx(tidy.loc[season, "estimate"], rel=1e-9)


def test_gradient_figure_titles_carry_r2_and_p(bins):
    trends, gradient_fit, cover = bins
    fig = gradient_figure([(trends.subset(source="ensemble"), gradient_fit, cover, "Tree cover (%)")], season="LGS")
    (ax,) = fig.axes
    glance = gradient_fit.glance().set_index("season").loc["LGS"]
    p = gradient_fit.tidy().query("season == 'LGS' and term == 'TC'")["p_value"].iloc[0]
    assert ax.get_title() == f"R² = {glance['r_squared']:.2f}, p = {p:.2g}"
    assert ax.get_ylabel() == f"Trend ({TREND_UNIT})" and ax.get_xlabel() == "Tree cover (%)"
