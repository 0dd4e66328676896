"""The robustness figures: titles, labels and units, and the plotted values are the Results' numbers."""

from __future__ import annotations

import warnings

import matplotlib
import numpy as np
import pytest

import pcstats as pc
from pcstats.errors import PcstatsError
from pcstats.plots import SEASON_TITLES, sensitivity_figure, source_trends_figure, window_trends_figure

matplotlib.use("Agg")
SPEC = pc.TrendSpec("NEE ~ year", by=("region", "season"), where="source == 'ensemble'")


@pytest.fixture(scope="module")
def table():
    return pc.read_table("tests/reference/trend_input.csv")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def errorbars(ax):
    """(x, y, low, high) of each errorbar series of an axis, in the order drawn."""
    out = []
    for container in ax.containers:
        line, _, (bars,) = container.lines
        x, y = line.get_xdata(), line.get_ydata()
        segments = np.array(bars.get_segments())
        out.append((np.asarray(x, float), np.asarray(y, float), segments))
    return out


def test_window_trends_figure_plots_the_window_trends_per_season_and_region(table):
    rw = pc.robustness.random_windows(SPEC, table, n=300, seed=5)
    fig = window_trends_figure(rw)
    axes = fig.axes
    assert [ax.get_title() for ax in axes] == [SEASON_TITLES[s] for s in ("ANN", "EGS", "LGS", "WIN")]
    assert {ax.get_xlabel() for ax in axes} == {"Trend (gC m$^{-2}$ yr$^{-2}$)"} and axes[0].get_ylabel() == "windows"
    assert fig.texts[0].get_text() == f"{rw.model}: trends over random windows (dashed: median)"
    assert [t.get_text() for t in axes[0].get_legend().get_texts()] == ["NoP", "P"]
    tidy = rw.tidy()
    for ax, season in zip(axes, ("ANN", "EGS", "LGS", "WIN")):
        part = tidy[tidy["season"] == season]
        heights = [sum(p.get_height() for p in c) for c in ax.containers]
        assert heights == [300, 300]  # every window of NoP, then of P
        medians = [line.get_xdata()[0] for line in ax.lines if line.get_linestyle() == "--"]
        np.testing.assert_allclose(medians, part.groupby("region")["estimate"].median().loc[["NoP", "P"]])


def test_window_trends_figure_without_seasons_and_with_several_sources(table):
    annual = pc.TrendSpec("NEE ~ year", by="region", where="source == 'ensemble' and season == 'ANN'")
    fig = window_trends_figure(pc.robustness.random_windows(annual, table, n=100))
    assert len(fig.axes) == 1 and fig.axes[0].get_title() == ""
    per_source = pc.TrendSpec("NEE ~ year", by=("source", "region", "season"), where="source in ['CAMS', 'Jena_s76']")
    rw = pc.robustness.random_windows(per_source, table, n=50)
    with pytest.raises(PcstatsError, match=r"several 'source' values \(CAMS, Jena_s76\).*res\.subset\(source=\.\.\.\)"):
        window_trends_figure(rw)
    assert len(window_trends_figure(rw.subset(source="CAMS")).axes) == 4
    with pytest.raises(PcstatsError, match="colour_by='kind'"):
        window_trends_figure(rw, colour_by="kind")


def test_source_trends_figure_plots_each_sources_trend_and_ci(table):
    alone = pc.robustness.by_source(SPEC, table)
    fig = source_trends_figure(alone)
    assert fig.texts[0].get_text() == f"{alone.model}: trend and 95% CI per source"
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["CAMS", "CT2019B", "CTE2020", "JAMSTEC", "Jena_s76",
                                                                     "Jena_s85"]
    assert fig.axes[2].get_title() == SEASON_TITLES["LGS"] and fig.axes[2].get_xlabel() == "Trend (gC m$^{-2}$ yr$^{-2}$)"
    rows = alone.tidy().query("term == 'year' and season == 'LGS'").set_index(["region", "source"]).sort_index()
    for (x, _, segments), region in zip(errorbars(fig.axes[2]), ("NoP", "P")):
        np.testing.assert_allclose(x, rows.loc[region, "estimate"])
        np.testing.assert_allclose(segments[:, 0, 0], rows.loc[region, "conf_low"])
        np.testing.assert_allclose(segments[:, 1, 0], rows.loc[region, "conf_high"])


def test_source_trends_figure_refuses_a_per_source_base_spec(table):
    per_source = pc.TrendSpec("NEE ~ year", by=("source", "region"), where="season == 'ANN' and source != 'ensemble'")
    loo = pc.robustness.leave_one_out(per_source, table)
    with pytest.raises(PcstatsError, match=r"already fits each source separately \(by=\('source', 'region'\)\).*"
                                           r"res\.subset\(source=\.\.\.\)"):
        source_trends_figure(loo)
    fig = source_trends_figure(loo.subset(source="CAMS"))
    assert len(fig.axes) == 1  # CAMS's trend with each other source left out (unchanged: it is fitted alone)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["CT2019B", "CTE2020", "JAMSTEC", "Jena_s76", "Jena_s85"]


def test_sensitivity_figure_shows_gamma_with_the_specs_ci_level_and_unit():
    sites = pc.read_table("fixtures/evaluation/sites_monthly.parquet")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # towers miss months
        legacy = pc.sensitivity(sites, driver_season="MJ", seasons=("EGS", "LGS"), by="region", where="source == 'FLUXNET'")
        seasonal = pc.seasonalize(sites[sites["source"] == "FLUXNET"], how="mean")
        ninety = pc.fit(pc.TrendSpec("NEE ~ AirT", by=("region", "season"), conf_level=0.9, where="season != 'ANN'"), seasonal)
    fig = sensitivity_figure({"legacy": legacy})
    assert fig.texts[0].get_text() == "Temperature sensitivity γ, OLS slope ± 95 % CI"
    assert fig.axes[0].get_ylabel() == "γ (gC m$^{-2}$ d$^{-1}$ K$^{-1}$)" and fig.axes[0].get_title() == "legacy"
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["EGS", "LGS"]
    rows = legacy.tidy().query("term == 'AirT'").set_index(["region", "season"]).sort_index()
    for (_, y, segments), region in zip(errorbars(fig.axes[0]), ("NoP", "P")):
        np.testing.assert_allclose(y, rows.loc[region, "estimate"])
        np.testing.assert_allclose(segments[:, :, 1], rows.loc[region, ["conf_low", "conf_high"]])
    fig = sensitivity_figure({"direct, 90 %": ninety})
    assert fig.texts[0].get_text() == "Temperature sensitivity γ, OLS slope ± 90 % CI"
    rows = ninety.tidy().query("term == 'AirT' and region == 'P'").set_index("season").loc[["EGS", "LGS", "WIN"]]
    _, y, segments = errorbars(fig.axes[0])[1]
    np.testing.assert_allclose(segments[:, :, 1], rows[["conf_low", "conf_high"]])
    both = sensitivity_figure({"95": legacy, "90": ninety})
    assert both.texts[0].get_text().endswith("OLS slope ± CI") and both.axes[1].get_title() == "90 (90% CI)"
