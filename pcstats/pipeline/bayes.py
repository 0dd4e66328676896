"""Section ``bayes``: the Bayesian hierarchical trend model (PyMC, nutpie) and its diagnostics figures."""

from __future__ import annotations

import logging

from .context import Context, Section
from .trends import Run, fit_runs

__all__ = ["BAYES_RUNS", "bayes"]

BAYES_RUNS: tuple[Run, ...] = (Run("bayes_trend", "bayes_trend.toml", "permafrost"),)


def bayes(ctx: Context) -> Section:
    """Sample the model once per season; forest, posterior predictive and rank figures."""
    from ..plots import forest_figure, ppc_figure, rank_figure

    section = Section()
    pymc = logging.getLogger("pymc")
    level = pymc.level
    pymc.setLevel(logging.WARNING)  # "Sampling: [y]" per season would print through the progress display
    try:
        res = fit_runs(ctx, section, BAYES_RUNS)["bayes_trend"]
        for name, draw in (("bayes_forest", forest_figure), ("bayes_ppc", ppc_figure), ("bayes_rank_LGS", rank_figure)):
            path = ctx.out / "figures" / f"{name}.png"
            draw(res, path=path, **({"key": ("LGS",)} if name.endswith("LGS") else {}))
            section.figures.append(path)
    finally:
        pymc.setLevel(level)
    return section
