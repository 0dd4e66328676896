"""Section ``mixed``: the GLMMs of the P − NoP trend difference over the inversion spread, and their figure."""

from __future__ import annotations

from .context import Context, Section
from .trends import Run, fit_runs

__all__ = ["MIXED_RUNS", "mixed"]

MIXED_RUNS: tuple[Run, ...] = (
    Run("glmm_trend", "glmm_trend.toml", "permafrost"),
    Run("glmm_trend_by_region", "glmm_trend_by_region.toml", "permafrost"),
    Run("glmm_trend_dispersion", "glmm_trend_dispersion.toml", "permafrost"),
)


def mixed(ctx: Context) -> Section:
    """Fit the three GLMMs (random effects, by-region trends, residual SD by decade); figures/glmm_trends.png."""
    from ..plots import mixed_trend_figure

    section = Section()
    results = fit_runs(ctx, section, MIXED_RUNS)
    path = ctx.out / "figures" / "glmm_trends.png"
    mixed_trend_figure(results["glmm_trend"], path=path)
    section.figures.append(path)
    return section
