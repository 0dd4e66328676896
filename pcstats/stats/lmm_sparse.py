"""The sparse core of :mod:`pcstats.stats.lmm`: ``A = Λ'Z'ZΛ + I`` kept sparse, factorised by CHOLMOD.

lme4 keeps ``A`` sparse and reuses one symbolic Cholesky factorisation (a fill-reducing
permutation and the pattern of ``L``) for every ``θ`` (Bates et al. 2015, section 3.5). This
module does the same with CHOLMOD through scikit-sparse (``sksparse.cholmod``, built against
Debian's libsuitesparse-dev): :class:`SparseCore` holds ``Z'Z`` as a sparse matrix and the
symbolic factorisation; :meth:`SparseCore.factor` refactorises numerically in place for each ``θ``.
Nothing on this path forms a dense ``q x q`` or ``n x q`` matrix:

* the penalised least-squares pieces (``log|A|``, ``cu``, ``RZX``) come from the factor;
* conditional modes ``u = P' L'^-1 (cu - RZX β)``;
* conditional variances: the ``p x p`` diagonal blocks of ``A^-1`` (one per level of each term),
  as inner products of columns of ``L^-1 P``, solved a batch of columns at a time.

:func:`available` says whether scikit-sparse imports; without it :mod:`pcstats.stats.lmm` keeps
its dense path for every size.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np
from scipy import sparse

__all__ = ["SparseCore", "available", "lambda_matrix"]

_BATCH = 32  # columns of L^-1 P solved at once for the conditional variances (InstEval: 1.8 s at 256, 1.4 s at 32)


@cache
def available() -> bool:
    """True when scikit-sparse's CHOLMOD binding imports."""
    try:
        import sksparse.cholmod  # noqa: F401
    except ImportError:
        return False
    return True


def lambda_matrix(q: int, rows: np.ndarray, cols: np.ndarray, values: np.ndarray) -> sparse.csc_matrix:
    """Λ (q x q, block diagonal of the templates) from its nonzeros."""
    return sparse.csc_matrix((values, (rows, cols)), shape=(q, q))


class SparseCore:
    """``Z'Z`` and the symbolic factorisation of ``Λ'Z'ZΛ + I``, made once per data set."""

    def __init__(self, ZtZ: sparse.spmatrix):
        from sksparse.cholmod import analyze

        self.ZtZ = sparse.csc_matrix(ZtZ)
        self.q = self.ZtZ.shape[0]
        self._eye = sparse.identity(self.q, format="csc")
        # the pattern of A for any θ lies inside that of Z'Z + I (Λ is block diagonal by level)
        self._pattern = (self.ZtZ + self._eye).tocsc()
        self._pattern.sort_indices()
        self._rows = self._pattern.indices
        self._cols = np.repeat(np.arange(self.q), np.diff(self._pattern.indptr))
        self._base = np.asarray(self.ZtZ[self._rows, self._cols]).ravel()  # Z'Z on the pattern
        self._diagonal = self._rows == self._cols
        # simplicial with METIS ordering: on InstEval's A (q = 4100) 30 ms per factorisation, against
        # 87 ms for CHOLMOD's default (supernodal, AMD: 1.7x the fill) and 26 ms for "best" (which
        # tries every ordering, 220 ms to analyse); on the crossed 1000 x 200 bench design 1.6x faster
        self._factor = analyze(self._pattern, mode="simplicial", ordering_method="metis")
        self._level_blocks: dict[tuple[int, int, int], np.ndarray] = {}

    def factor(self, lam: sparse.csc_matrix, scalar: np.ndarray | None = None):
        """Numerical Cholesky factor of ``Λ'Z'ZΛ + I`` (the symbolic one reused; updated in place).

        ``scalar``: when every term has one column, Λ is the diagonal ``scalar`` and ``A`` is
        formed entry by entry on the fixed pattern, without sparse products.
        """
        if scalar is not None:
            A = self._pattern.copy()
            A.data = self._base * scalar[self._rows] * scalar[self._cols] + self._diagonal
        else:
            A = (lam.T @ self.ZtZ @ lam + self._eye).tocsc()
        self._factor.cholesky_inplace(A)
        return self._factor

    def level_blocks(self, offset: int, m: int, p: int) -> np.ndarray:
        """The ``p x p`` diagonal blocks of ``Z'Z`` of a term's ``m`` levels (``m x p x p``), made once."""
        key = (offset, m, p)
        if key not in self._level_blocks:
            idx = offset + np.arange(m)[:, None, None] * p
            r, c = np.broadcast_arrays(idx + np.arange(p)[None, :, None], idx + np.arange(p)[None, None, :])
            self._level_blocks[key] = np.asarray(self.ZtZ[r.ravel(), c.ravel()]).reshape(m, p, p)
        return self._level_blocks[key]

    @staticmethod
    def solve_L(F, B: np.ndarray) -> np.ndarray:
        """``L^-1 P B``."""
        return F.solve_L(F.apply_P(B), use_LDLt_decomposition=False)

    @staticmethod
    def solve_Lt(F, B: np.ndarray) -> np.ndarray:
        """``P' L'^-1 B``."""
        return F.apply_Pt(F.solve_Lt(B, use_LDLt_decomposition=False))

    def inverse_blocks(self, F, dims: Sequence[tuple[int, int, int]]) -> list[np.ndarray]:
        """The ``p x p`` diagonal blocks of ``A^-1`` for every level of every term: ``m x p x p`` per term."""
        out = []
        for offset, m, p in dims:
            blocks = np.empty((m, p, p))
            per = max(1, _BATCH // p)
            for start in range(0, m, per):
                levels = np.arange(start, min(m, start + per))
                cols = (offset + levels[:, None] * p + np.arange(p)[None, :]).ravel()
                E = np.zeros((self.q, cols.size))
                E[cols, np.arange(cols.size)] = 1.0
                W = self.solve_L(F, E).reshape(self.q, levels.size, p)
                blocks[levels] = np.einsum("qli,qlj->lij", W, W)
            out.append(blocks)
        return out
