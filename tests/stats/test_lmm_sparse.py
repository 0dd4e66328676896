"""The sparse (CHOLMOD) core of the default mixed engine gives the dense core's numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pcstats.stats import lmm
from pcstats.stats.lmm_sparse import available

from ..conftest import REFERENCE

pytestmark = pytest.mark.skipif(not available(), reason="scikit-sparse is not installed (pip install 'pcstats[sparse]')")
DATA = REFERENCE / "model_frames" / "data"


def crossed():
    d = pd.read_csv(DATA / "crossed.csv")
    n = len(d)
    a, b = pd.factorize(d["a"], sort=True)[0], pd.factorize(d["b"], sort=True)[0]
    blocks = [lmm.Block(np.ones((n, 1)), a, a.max() + 1), lmm.Block(np.ones((n, 1)), b, b.max() + 1)]
    return d["y"].to_numpy(float), np.column_stack([np.ones(n), d["x"]]), blocks


def slopes():
    d = pd.read_csv(DATA / "slopes.csv")
    n = len(d)
    g = pd.factorize(d["g"], sort=True)[0]
    Z = np.column_stack([np.ones(n), d["t"]])
    return d["y"].to_numpy(float), Z.copy(), [lmm.Block(Z, g, g.max() + 1)]


@pytest.mark.parametrize("case", [crossed, slopes])
@pytest.mark.parametrize("reml", [True, False])
def test_sparse_and_dense_cores_agree(case, reml, monkeypatch):
    y, X, blocks = case()
    assert lmm._design(y, X, blocks).core is not None  # the default takes the sparse core
    sparse_fit = lmm.fit_lmm(y, X, blocks, reml=reml)
    sparse_df = lmm.satterthwaite_df(y, X, blocks, sparse_fit)
    monkeypatch.setattr(lmm, "SPARSE_MIN_Q", 10**9)
    monkeypatch.setattr(lmm, "SPARSE_MIN_Q_ONE_TERM", 10**9)
    assert lmm._design(y, X, blocks).core is None
    dense_fit = lmm.fit_lmm(y, X, blocks, reml=reml)
    dense_df = lmm.satterthwaite_df(y, X, blocks, dense_fit)
    assert sparse_fit.converged and dense_fit.converged
    assert sparse_fit.loglik >= dense_fit.loglik - 1e-6
    np.testing.assert_allclose(sparse_fit.beta, dense_fit.beta, rtol=1e-6)
    np.testing.assert_allclose(np.sqrt(np.diag(sparse_fit.cov_beta)), np.sqrt(np.diag(dense_fit.cov_beta)), rtol=1e-5)
    for s, d in zip(sparse_fit.cov_re, dense_fit.cov_re):
        np.testing.assert_allclose(s, d, rtol=1e-4, atol=1e-6 * np.abs(d).max())
    np.testing.assert_allclose(sparse_fit.sigma, dense_fit.sigma, rtol=1e-6)
    for s, d in zip(sparse_fit.blups, dense_fit.blups):
        np.testing.assert_allclose(s, d, rtol=0, atol=1e-4 * np.abs(d).max())
    for s, d in zip(sparse_fit.blup_se, dense_fit.blup_se):
        np.testing.assert_allclose(s, d, rtol=1e-4)
    np.testing.assert_allclose(sparse_df, dense_df, rtol=1e-4)


def test_inverse_blocks_are_the_diagonal_blocks_of_the_inverse():
    from scipy import sparse

    from pcstats.stats.lmm_sparse import SparseCore

    rng = np.random.default_rng(3)
    n, m, p = 200, 40, 2
    codes = rng.integers(0, m, n)
    Z = np.column_stack([np.ones(n), rng.normal(size=n)])
    rows = np.repeat(np.arange(n), p)
    Zs = sparse.csr_matrix((Z.ravel(), (rows, (codes[:, None] * p + np.arange(p)).ravel())), shape=(n, m * p))
    core = SparseCore((Zs.T @ Zs).tocsc())
    lam = sparse.identity(m * p, format="csc") * 0.7
    F = core.factor(lam)
    A = (lam.T @ (Zs.T @ Zs) @ lam).toarray() + np.eye(m * p)
    inverse = np.linalg.inv(A)
    blocks = core.inverse_blocks(F, [(0, m, p)])[0]
    for j in range(m):
        np.testing.assert_allclose(blocks[j], inverse[j * p:(j + 1) * p, j * p:(j + 1) * p], rtol=1e-10, atol=1e-13)
    assert F.logdet() == pytest.approx(np.linalg.slogdet(A)[1], rel=1e-12)
