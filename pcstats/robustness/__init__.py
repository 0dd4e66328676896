"""Robustness of the trends: random windows, sources one by one, sign agreement.

* :func:`random_windows`: trends over many random start years and lengths, vectorised;
* :func:`by_source`, :func:`leave_one_out`, :func:`longest_vs_shortest`: refits on subsets of the
  sources (an ensemble in the table is recomputed from each subset);
* :func:`sign_agreement`: the share of cells where at least k of n sources agree on the sign.

Each returns a :class:`pcstats.Results`, so ``compare()`` and the exporters take them.
"""

from .agreement import sign_agreement
from .subsets import by_source, leave_one_out, longest_vs_shortest
from .windows import WindowResults, random_windows

__all__ = ["WindowResults", "by_source", "leave_one_out", "longest_vs_shortest", "random_windows", "sign_agreement"]
