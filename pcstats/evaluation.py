"""Land-model evaluation: skill of simulated against observed values, in the common Results type."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from .engines import fit
from .results import Results
from .specs.skill import SkillSpec

__all__ = ["skill"]


def skill(table: pd.DataFrame, simulated: str, observed: str, by: str | Sequence[str] = (), *, where: str | None = None,
          min_n: int = 3, name: str | None = None) -> Results:
    """Score simulated against observed values per group: ``fit(SkillSpec(...), table)``.

    Metrics (``tidy()`` rows of component ``skill``; definitions in :mod:`pcstats.stats.skill`):
    r2_pearson, nse, nnse, kge, r, rmse, crmse, mae, mbe (mean of simulated - observed), sd_ratio,
    mean_ratio. ``glance()`` has the number of pairs (nobs), what was dropped and why, and the means
    and SDs of both sides. ``Results.removed`` counts the rows of either side without a partner.

    Parameters
    ----------
    table
        A long table holding both sides, e.g. TRENDY models (kind ``dgvm``) and flux towers.
    simulated, observed
        ``'WHO:VARIABLE'`` selectors; see :class:`pcstats.SkillSpec`.
    by
        Keys to score within besides the simulated ``source``, e.g. ``("site", "season")``.

    Examples
    --------
    >>> import pcstats as pc
    >>> monthly = pc.read_table("fixtures/evaluation/sites_monthly.parquet")
    >>> res = pc.skill(monthly, simulated="TRENDY:GPP", observed="EC:GPP", by="region")
    >>> res.tidy().query("term == 'nse'")[["source", "region"]].shape
    (20, 2)
    """
    return fit(SkillSpec(simulated, observed, by=by, where=where, min_n=min_n, name=name), table)
