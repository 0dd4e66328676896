"""Variance decomposition of Gaussian linear mixed models: Nakagawa's R² and the ICC.

Definitions follow R's ``performance`` 0.10.2 (``r2_nakagawa``, ``icc``) through ``insight`` 0.19.0
(``get_variance``) for a Gaussian ``lmer`` fit:

* fixed-effect variance: ``var(X beta)`` (sample variance, ``n - 1`` denominator);
* random-effect variance: for each term, the mean over rows of ``z_i' Sigma z_i`` (the mean of
  ``diag(Z Sigma Z')``, Johnson 2014), summed over terms; with only random intercepts this is the sum
  of the intercept variances. insight takes ``z_i`` from the fixed-effect design's columns of the
  same name, which are the term's own columns whenever every random slope is also a fixed effect,
  and counts only the first term of each grouping factor (see ``random_variance``'s ``groups``);
* residual variance: ``sigma^2``.

insight reports no random-effect variance when the fit is singular by its own rule (a diagonal
element of theta below 1e-5, looser than lme4's 1e-4): ``r2_nakagawa`` then gives
``var_fixed / (var_fixed + var_residual)`` and no conditional R², and ``icc`` gives nothing. Pass
``var_random = nan`` to get the same.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .lmm import Block

__all__ = ["PERFORMANCE_SINGULAR_TOL", "fixed_variance", "icc", "nakagawa_r2", "random_variance"]

PERFORMANCE_SINGULAR_TOL = 1e-5  # insight:::.is_singular default tolerance


def fixed_variance(X: np.ndarray, beta: np.ndarray) -> float:
    """Variance of the fixed-effect predictions ``X beta`` (``n - 1`` denominator).

    Examples
    --------
    >>> fixed_variance(np.column_stack([np.ones(4), np.arange(4.0)]), np.array([1.0, 2.0]))
    6.666666666666667
    """
    return float(np.var(np.asarray(X, dtype=np.float64) @ np.asarray(beta, dtype=np.float64), ddof=1))


def random_variance(blocks: Sequence[Block], cov_re: Sequence[np.ndarray],
                    groups: Sequence[str] | None = None) -> float:
    """Random-effect variance: sum over terms of the mean of ``diag(Z_k Sigma_k Z_k')``.

    Parameters
    ----------
    blocks : sequence of Block
        The random-effect terms (their ``Z`` columns are used).
    cov_re : sequence of ndarray
        Per term, the ``p x p`` covariance of its random effects (``LMMFit.cov_re``).
    groups : sequence of str, optional
        Name of each term's grouping factor. When given, only the first term of each factor counts,
        as in insight 0.19: it looks terms up by factor name, so of ``(1 | g) + (0 + x | g)`` (what
        ``(x || g)`` expands to) only ``(1 | g)`` enters performance's R² and ICC. Leave it out
        to count every term.

    Examples
    --------
    Random intercept (variance 4) and slope (variance 1, covariance 0.5) at x = 0, 1, 2:
    mean of ``4 + 2 * 0.5 x + x^2`` = ``4 + 1 + 5/3``.

    >>> Z = np.column_stack([np.ones(3), [0.0, 1.0, 2.0]])
    >>> block = Block(Z, np.array([0, 0, 1]), 2)
    >>> round(random_variance([block], [np.array([[4.0, 0.5], [0.5, 1.0]])]), 6)
    6.666667
    """
    if len(blocks) != len(cov_re):
        raise ValueError(f"{len(blocks)} blocks but {len(cov_re)} covariance matrices")
    if groups is not None and len(groups) != len(blocks):
        raise ValueError(f"{len(blocks)} blocks but {len(groups)} group names")
    counted = range(len(blocks)) if groups is None else [k for k, g in enumerate(groups) if g not in groups[:k]]
    total = 0.0
    for k in counted:
        block, sigma = blocks[k], cov_re[k]
        Z, sigma = np.asarray(block.Z, dtype=np.float64), np.asarray(sigma, dtype=np.float64)
        if sigma.shape != (Z.shape[1], Z.shape[1]):
            raise ValueError(f"cov_re[{k}] has shape {sigma.shape}; blocks[{k}].Z has {Z.shape[1]} columns")
        total += float(np.mean(np.einsum("ij,jk,ik->i", Z, sigma, Z)))
    return total


def nakagawa_r2(var_fixed: float, var_random: float, var_residual: float) -> tuple[float, float]:
    """Marginal and conditional R² of a Gaussian mixed model (Nakagawa and Schielzeth 2013).

    ``marginal = vf / (vf + vr + ve)``, ``conditional = (vf + vr) / (vf + vr + ve)``. With
    ``var_random`` NaN (singular fit, as performance treats it) the marginal R² is
    ``vf / (vf + ve)`` and the conditional R² is NaN.

    Examples
    --------
    >>> nakagawa_r2(1.0, 2.0, 1.0)
    (0.25, 0.75)
    >>> nakagawa_r2(1.0, float("nan"), 1.0)
    (0.5, nan)
    """
    vf, vr, ve = float(var_fixed), float(var_random), float(var_residual)
    if np.isnan(vr):
        return vf / (vf + ve), float("nan")
    total = vf + vr + ve
    return vf / total, (vf + vr) / total


def icc(var_random: float, var_residual: float) -> float:
    """Adjusted intraclass correlation ``vr / (vr + ve)`` (performance's ``ICC_adjusted``).

    Examples
    --------
    >>> icc(3.0, 1.0)
    0.75
    """
    vr, ve = float(var_random), float(var_residual)
    return vr / (vr + ve)
