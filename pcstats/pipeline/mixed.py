"""Section ``mixed``: the GLMMs of the P − NoP trend difference over the inversion spread, and their figure."""

from __future__ import annotations

import pandas as pd

from .context import Context, Section, fixture_truth
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
    section.summary = recovered_difference(results["glmm_trend"], fixture_truth(ctx.fixtures))
    return section


def recovered_difference(glmm, truth: dict) -> str:
    """The GLMM's P − NoP trend difference beside the published one and the fixture's planted one.

    The GLMM's fixed effects are the inversions' mean trends; the fixture's inversion deviations are centred
    over the six inversions, so its planted P − NoP difference is the difference of the region trends.
    """
    if "trend_by_source_and_region" not in truth:
        return ""
    published = truth["trend_by_region"]
    per_source = truth["trend_by_source_and_region"]
    tidy = glmm.tidy().query("component == 'fixed' and term == 'year_c:regionP'").set_index("season")
    rows = []
    for season in ("ANN", "EGS", "LGS", "WIN"):
        planted = (sum(per_source[s]["P"][season] for s in per_source) - sum(per_source[s]["NoP"][season] for s in per_source)) / len(per_source)
        r = tidy.loc[season]
        rows.append({"season": season, "published": f"{round(published['P'][season] - published['NoP'][season], 2) + 0:.2f}",
                     "planted (mean over inversions)": f"{planted + 0:.2f}",
                     "recovered (GLMM)": f"{r['estimate']:.2f} [{r['conf_low']:.2f}, {r['conf_high']:.2f}]"})
    return ("### GLMM: published, planted and recovered P − NoP trend difference (gC m⁻² yr⁻²)\n\n"
            + pd.DataFrame(rows).to_markdown(index=False, disable_numparse=True) + "\n\n")
