"""The exact Satterthwaite derivatives (pcstats.stats.lmm_df) against numDeriv's differences.

lmerTest differences the deviance numerically (numDeriv, Richardson r = 4); pcstats computes the
Hessian of the deviance in (theta, sigma) and the gradients of vcov(beta) exactly where the fit has
them at hand (dense path, or one random-effect term on the sparse path). Both are checked here
against ``lmm_df.hessian`` (numDeriv step for step) and central differences of vcov(beta) on
simulated designs: correlated and scalar terms, crossed, a 3 x 3 template, a singular fit, REML and ML.
"""

from __future__ import annotations

import numpy as np
import pytest

from pcstats.stats import lmm, lmm_df
from pcstats.stats.lmm_sparse import available


def simulated(kind: str, seed: int = 3):
    rng = np.random.default_rng(seed)
    m = 150 if kind == "one_term_sparse" else 20
    n = 20 * m if kind == "one_term_sparse" else 200
    g = np.repeat(np.arange(m), n // m)
    x, z = rng.normal(size=n), rng.normal(size=n)
    X = np.column_stack([np.ones(n), x])
    y = 1 + x + rng.normal(0, 1, m)[g] + rng.normal(0, 0.5, m)[g] * x + rng.normal(size=n)
    if kind == "crossed":
        h = rng.integers(0, 7, n)
        return y + rng.normal(0, 1, 7)[h], X, [lmm.Block(X.copy(), g, m), lmm.Block(np.ones((n, 1)), h, 7)]
    if kind == "singular":
        return 1 + x + rng.normal(size=n), X, [lmm.Block(np.ones((n, 1)), g, m)]
    if kind == "three":
        X3 = np.column_stack([X, z])
        y3 = X3 @ [1.0, 1.0, 1.0] + np.einsum("ij,ij->i", X3, rng.normal(0, 0.7, (m, 3))[g]) + rng.normal(size=n)
        return y3, X3, [lmm.Block(X3.copy(), g, m)]
    return y, X, [lmm.Block(X.copy(), g, m)]


KINDS = ["slopes", "crossed", "singular", "three", "one_term_sparse"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("reml", [True, False])
def test_exact_hessian_and_vcov_gradients_match_numerical_derivatives(kind, reml):
    if kind == "one_term_sparse" and not available():
        pytest.skip("scikit-sparse is not installed")
    y, X, blocks = simulated(kind)
    fit = lmm.fit_lmm(y, X, blocks, reml=reml)
    d = lmm._design(y, X, blocks)
    assert (d.core is not None) == (kind == "one_term_sparse")
    # a point away from the optimum too: the formulas hold anywhere, not only where the gradient vanishes
    for theta, sigma in [(fit.theta, fit.sigma), (fit.theta * 1.3 + 0.05, fit.sigma * 0.8)]:
        pieces = lmm._pieces(d, lmm._solve(d, theta), theta, sigma, reml)
        exact = lmm_df.exact_hessian(pieces)
        varpar = np.append(theta, sigma)
        numeric = lmm_df.hessian(lambda v: lmm._deviance_vp(d, v, reml), varpar)
        # at theta = 0 numDeriv steps by 1e-4 whatever the scale: rounding costs it about 4 digits
        rtol = 1e-4 if np.any(theta == 0) else 1e-6
        np.testing.assert_allclose(exact, numeric, rtol=rtol, atol=rtol * np.abs(numeric).max())

        def var_beta(v):
            s = lmm._solve(d, v[:-1])
            return v[-1] ** 2 * np.diag(lmm._cho_solve(s.LX, np.eye(d.p)))

        h = 1e-5 * np.maximum(np.abs(varpar), 1e-2)
        numeric_dV = np.column_stack([(var_beta(varpar + h[i] * e) - var_beta(varpar - h[i] * e)) / (2 * h[i])
                                      for i, e in enumerate(np.eye(varpar.size))])
        np.testing.assert_allclose(lmm_df.variance_gradients(pieces), numeric_dV, rtol=1e-6,
                                   atol=1e-7 * np.abs(numeric_dV).max())


@pytest.mark.parametrize("kind", KINDS)
def test_df_from_the_fit_equal_satterthwaite_df(kind):
    if kind == "one_term_sparse" and not available():
        pytest.skip("scikit-sparse is not installed")
    y, X, blocks = simulated(kind)
    fit = lmm.fit_lmm(y, X, blocks, satterthwaite=True)
    np.testing.assert_allclose(fit.df, lmm.satterthwaite_df(y, X, blocks, fit), rtol=1e-9)
    assert np.all(fit.df > 0) and np.all(fit.df <= len(y))


def test_without_the_df_none_is_computed():
    y, X, blocks = simulated("slopes")
    assert lmm.fit_lmm(y, X, blocks).df is None
