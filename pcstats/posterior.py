"""Questions asked of Bayesian fits: posterior probabilities and prior predictive draws.

Thin wrappers that keep PyMC out of ``import pcstats``: the work is in
:mod:`pcstats.engines.bayes_pymc`.
"""

from __future__ import annotations

__all__ = ["posterior_prob", "prior_predictive"]


def posterior_prob(res, hypothesis: str):
    """Posterior probability of ``"term > 0"``, ``"term < value"`` or ``"term_a > term_b"``.

    Parameters
    ----------
    res
        Results of a :class:`pcstats.BayesSpec` fit.
    hypothesis
        A comparison of fixed-effect terms and numbers, e.g. ``"year_c:regionP > 0"``.

    Returns
    -------
    float, or a DataFrame with one row per ``by`` group.
    """
    from .engines.bayes_pymc import posterior_prob as compute
    from .errors import PcstatsError

    if getattr(type(getattr(res, "spec", None)), "kind", None) != "bayes":
        raise PcstatsError("posterior_prob() needs the Results of a Bayesian fit (pcstats.BayesSpec).")
    return compute(res, hypothesis)


def prior_predictive(spec, table, draws: int = 500):
    """Prior and prior-predictive draws of a :class:`pcstats.BayesSpec` on each group's rows.

    Returns a dict from the group's ``by`` values to an ArviZ ``InferenceData``.
    """
    from .engines.bayes_pymc import prior_predictive as compute

    return compute(spec, table, draws)
