"""Figures from Results: they draw what the Results hold, and refuse Results they cannot draw."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import pcstats as pc
from pcstats.errors import PcstatsError
from pcstats.plots import mixed_trend_figure, taylor_figure, unit_label

from .conftest import REFERENCE


@pytest.fixture(scope="module")
def glmm():
    table = pc.read_table(REFERENCE / "trend_input.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pc.fit(pc.MixedSpec("NEE ~ year_c * region + (1 + year_c | source)", by="season",
                                   where="source != 'ensemble'"), table)


def test_mixed_trend_figure_plots_fixed_plus_modes(glmm, tmp_path):
    fig = mixed_trend_figure(glmm, path=tmp_path / "f.png")
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"
    ax = fig.axes[0]  # ANN
    tidy = glmm.tidy().query("season == 'ANN'")
    fixed = tidy.query("component == 'fixed'").set_index("term")["estimate"]
    modes = tidy.query("component == 'ran_vals' and term == 'year_c'").sort_values("level")["estimate"].to_numpy()
    points = [np.asarray(line.get_xdata(), dtype=float) for line in ax.lines if line.get_marker() == "o"]  # one per region
    assert len(points) == 2
    xs = np.sort(np.concatenate(points))
    expected = np.sort(np.concatenate([fixed["year_c"] + modes, fixed["year_c"] + fixed["year_c:regionP"] + modes]))
    np.testing.assert_allclose(xs, expected)
    assert "gC m$^{-2}$ yr$^{-2}$" in ax.get_xlabel() and unit_label("yr-2") in ax.get_xlabel()


def test_mixed_trend_figure_needs_a_random_slope(tmp_path):
    table = pc.read_table(REFERENCE / "mixed_cells.csv")
    res = pc.fit(pc.MixedSpec("NEE ~ year_c + (1 | region)"), table)
    with pytest.raises(PcstatsError, match=r"no random 'year_c' varying by 'source'.*\(1 \+ year_c \| source\)"):
        mixed_trend_figure(res)


def test_sem_path_figure_draws_significant_paths_coloured_by_sign(tmp_path):
    from matplotlib.patches import FancyArrowPatch

    from pcstats.plots import sem_path_figure

    table = pc.read_table("fixtures/sem/sem_seasonal.parquet")
    res = pc.fit(pc.load_spec("models/sem_lgs.toml"), table).subset(kind="dgvm")
    fig = sem_path_figure(res, path=tmp_path / "paths.png")
    assert (tmp_path / "paths.png").exists() and (tmp_path / "paths.svg").read_text().lstrip().startswith("<?xml")
    paths = res.tidy().query("component == 'regression'")
    significant = paths[paths["p_value"] < 0.05]
    arrows = [p for p in fig.axes[0].patches if isinstance(p, FancyArrowPatch)]
    assert len(arrows) == len(significant) < len(paths)  # the planted zero path (ter <- par) is left out
    colours = sorted(tuple(np.round(a.get_edgecolor()[:3], 2)) for a in arrows)
    n_negative = int((significant["std_all"] < 0).sum())
    assert sum(c == (0.91, 0.71, 0.0) for c in colours) == n_negative
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert any(t.startswith("NEE\nR² = ") for t in labels)  # nodes as a reader names them
    coefficients = sorted(float(t) for t in labels if "R²" not in t and t not in pc.plots.VARIABLE_LABELS.values()
                          and not t.startswith("GPP"))
    np.testing.assert_allclose(coefficients, np.sort(np.round(significant["std_all"], 2)))
    from pcstats.plots_style import layout_problems

    assert layout_problems(fig) == []  # no coefficient on a node or on another coefficient


@pytest.fixture(scope="module")
def ct_trends():
    from pcstats.grid import pixel_trends, seasonalize_grid
    from pcstats.products import read_product

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ct = read_product("fixtures/products/CT2019B.flux1x1-monthly.nc")
    return pixel_trends(seasonalize_grid(ct["NEE"]).sel(season=["LGS", "ANN"]))


def significant_cells(trends, season: str) -> tuple[np.ndarray, np.ndarray]:
    """Longitudes and latitudes of the cells with p < 0.05, sorted."""
    sig = trends["p_value"].sel(season=season).transpose("lat", "lon").values < 0.05
    rows, cols = np.nonzero(sig)
    return trends["lon"].values[cols], trends["lat"].values[rows]


def sorted_points(x, y) -> np.ndarray:
    points = np.column_stack([x, y])
    return points[np.lexsort(points.T[::-1])]


def stipples(ax) -> np.ndarray:
    """Where the dots are drawn, in display coordinates."""
    from matplotlib.collections import PathCollection

    (dots,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    return dots.get_offset_transform().transform(np.asarray(dots.get_offsets()))


def test_trend_map_on_cartopy_stipples_the_significant_cells(ct_trends, tmp_path, monkeypatch):
    ccrs = pytest.importorskip("cartopy.crs")
    from cartopy.io import Downloader
    from cartopy.mpl.feature_artist import FeatureArtist
    from cartopy.mpl.gridliner import Gridliner

    from pcstats.plots import trend_map_figure

    def no_download(*args, **kw):
        raise AssertionError("trend_map_figure downloaded something")

    monkeypatch.setattr(Downloader, "acquire_resource", no_download)
    fig = trend_map_figure(ct_trends, alpha=0.05, path=tmp_path / "map.png")
    assert (tmp_path / "map.png").stat().st_size > 0 and (tmp_path / "map.svg").stat().st_size > 0
    axes = [ax for ax in fig.axes if ax.name == "cartopy.geoaxes"]
    assert [ax.get_title() for ax in axes] == ["Late season (Sep–Oct)", "Annual"]
    for ax, season in zip(axes, ("LGS", "ANN")):
        assert isinstance(ax.projection, ccrs.NorthPolarStereo)
        assert any(isinstance(a, Gridliner) for a in ax.artists)
        assert not any(isinstance(c, FeatureArtist) for c in ax.collections)  # no coastlines or other features
        lon, lat = significant_cells(ct_trends, season)
        assert 0 < len(lon) < ct_trends["p_value"].sel(season=season).size
        expected = ax.transData.transform(ax.projection.transform_points(ccrs.PlateCarree(), lon, lat)[:, :2])
        np.testing.assert_allclose(sorted_points(*stipples(ax).T), sorted_points(*expected.T), atol=1e-6)
        # a regional grid is zoomed to, not drawn as a wedge of the whole cap
        west, east, south, _ = ax.get_extent(ccrs.PlateCarree())
        assert east - west < 90 and south > float(ct_trends["lat"].min()) - 5
    assert "gC m$^{-2}$ yr$^{-2}$" in fig.axes[-1].get_xlabel()


def test_trend_map_without_cartopy_is_a_plain_polar_projection(ct_trends, tmp_path, monkeypatch):
    import sys

    from pcstats.plots import trend_map_figure

    monkeypatch.setitem(sys.modules, "cartopy", None)  # `import cartopy.crs` now raises ImportError
    monkeypatch.setitem(sys.modules, "cartopy.crs", None)
    fig = trend_map_figure(ct_trends, alpha=0.05, path=tmp_path / "map.png")
    assert (tmp_path / "map.png").stat().st_size > 0 and (tmp_path / "map.svg").stat().st_size > 0
    axes = [ax for ax in fig.axes if ax.name == "polar"]
    assert [ax.get_title() for ax in axes] == ["Late season (Sep–Oct)", "Annual"]
    for ax, season in zip(axes, ("LGS", "ANN")):
        lon, lat = significant_cells(ct_trends, season)  # angle = longitude, radius = 90 - latitude
        expected = ax.transData.transform(np.column_stack([np.deg2rad(lon), 90.0 - lat]))
        np.testing.assert_allclose(sorted_points(*stipples(ax).T), sorted_points(*expected.T), atol=1e-6)
    assert "gC m$^{-2}$ yr$^{-2}$" in fig.axes[-1].get_xlabel()


def test_taylor_figure_places_each_model_at_its_correlation_and_sd_ratio(tmp_path):
    monthly = pc.read_table("fixtures/evaluation/sites_monthly.parquet")
    res = pc.skill(monthly, simulated="TRENDY:GPP", observed="EC:GPP", by="region")
    fig = taylor_figure(res, panel="region", path=tmp_path / "taylor.png")
    assert (tmp_path / "taylor.png").read_bytes()[:4] == b"\x89PNG" and (tmp_path / "taylor.svg").exists()
    assert len(fig.axes) == 2
    wide = res.tidy().query("region == 'NoP'").pivot_table(index="source", columns="term", values="estimate")
    line = next(ln for ln in fig.axes[0].get_lines() if ln.get_label() == "CLM5.0")  # panels sorted: NoP first
    np.testing.assert_allclose(line.get_xdata(), np.arccos(wide.loc["CLM5.0", "r"]))
    np.testing.assert_allclose(line.get_ydata(), wide.loc["CLM5.0", "sd_ratio"])
    with pytest.raises(PcstatsError, match="skill Results"):
        taylor_figure(pc.fit(pc.Q10Spec(by="region"), monthly))


def test_a_failed_png_leaves_no_svg_behind(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from pcstats.plots import _save

    real = Figure.savefig

    def savefig(self, fname, **kw):
        if str(fname).endswith(".png"):
            raise OSError("disk full")
        return real(self, fname, **kw)

    monkeypatch.setattr(Figure, "savefig", savefig)
    with pytest.raises(OSError, match="disk full"):
        _save(Figure(), tmp_path / "figures" / "map.png")
    assert list((tmp_path / "figures").iterdir()) == []
