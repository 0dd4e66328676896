"""What every mixed-model engine fits: y, the fixed design X and one block per random-effect term.

Building the matrices once, here, gives every engine the same columns, the same contrasts and
the same names (pcstats' term names: ``(Intercept)``, ``year_c``, ``regionP``), so engines
differ only in how they estimate. The checks that make a group unfit for a mixed model live
here too; each returns a reason that names the term or factor at fault.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import EngineError, FormulaError
from ..specs.r_formula import ModelFormula
from ..specs.random_effects import RandomTerm
from ..stats.ols import aliased_columns
from .design import design_matrices

__all__ = ["Design", "DesignBlock", "MixedModel", "build_design", "unfit_reason", "ran_par_names"]


@dataclass(frozen=True)
class MixedModel:
    """A mixed-model formula read once: the fixed part and each random-effect term's own formula."""

    fixed: ModelFormula
    random: tuple[tuple[RandomTerm, ModelFormula], ...]

    @property
    def names(self) -> tuple[str, ...]:
        """Every data column the model reads: fixed part, slopes, grouping factors."""
        names = list(self.fixed.names)
        for term, model in self.random:
            names += [*model.names, *term.factors]
        return tuple(dict.fromkeys(names))


@dataclass(frozen=True)
class DesignBlock:
    """One random-effect term's raw columns and the level of its grouping factor in each row."""

    term: RandomTerm
    Z: np.ndarray  # n x p
    columns: tuple[str, ...]  # pcstats names of Z's columns
    codes: np.ndarray  # n level codes 0..m-1
    levels: tuple[str, ...]  # level labels ("CAMS", "CAMS:P"), sorted

    @property
    def n_levels(self) -> int:
        return len(self.levels)


@dataclass(frozen=True)
class Design:
    """Response, fixed-effect design and random-effect blocks of one group's rows."""

    y: np.ndarray
    X: np.ndarray
    fixed_names: tuple[str, ...]
    blocks: tuple[DesignBlock, ...]
    sqrt_weights: np.ndarray | None = None  # y, X and Z are scaled by these (lme4's weights)
    offset: np.ndarray | None = None  # offset(...) terms, already subtracted from y
    dispersion_codes: np.ndarray | None = None  # level of the dispersion= factor on each row (0: reference)
    dispersion_levels: tuple[str, ...] = ()

    @property
    def n_random(self) -> int:
        """Number of random effects (lme4's q)."""
        return sum(b.n_levels * b.Z.shape[1] for b in self.blocks)


def build_design(model: MixedModel, data: pd.DataFrame, where: str, weights: str | None = None,
                 dispersion: str | None = None) -> Design:
    """Model matrices of ``model`` on ``data`` (the rows of one group), named as lme4 names them.

    With ``weights`` (a column of positive weights) every row of y, X and Z is scaled by the
    square root of its weight: the residual variance of the row is then sigma^2 / w, as in lme4.
    """
    fixed = design_matrices(model.fixed, data, where)
    sw = None
    if weights is not None:
        w = data[weights].to_numpy(dtype=float)
        bad = np.flatnonzero(~(w > 0))
        if len(bad):
            raise FormulaError(f"weights={weights!r}: {len(bad)} weight(s) in {where} are not positive "
                               f"(first: {w[bad[0]]!r}); weights must be > 0.")
        sw = np.sqrt(w)
    scale = (lambda a: a * (sw[:, None] if a.ndim == 2 else sw)) if sw is not None else (lambda a: a)
    blocks = []
    for term, formula in model.random:
        Z = design_matrices(formula, data, f"{where} (random-effect term {term.text})").X
        labels = _level_labels(data, term.factors)
        levels, codes = np.unique(labels, return_inverse=True)
        blocks.append(DesignBlock(term, scale(Z.to_numpy()), tuple(Z.columns), codes.astype(np.intp), tuple(levels)))
    codes, levels = None, ()
    if dispersion is not None:
        values = data[dispersion]
        order = (list(values.cat.categories) if isinstance(values.dtype, pd.CategoricalDtype)
                 else sorted(pd.unique(values.astype(str))))
        labels = values.astype(str).to_numpy()
        levels = tuple(str(v) for v in order if str(v) in set(labels))
        codes = np.array([levels.index(v) for v in labels], dtype=np.intp)
        counts = np.bincount(codes, minlength=len(levels))
        single = [levels[i] for i in np.flatnonzero(counts < 2)]
        if single:
            raise EngineError(f"dispersion='~ {dispersion}': level {single[0]!r} has {counts[levels.index(single[0])]} "
                              f"row(s) in {where}; a residual SD per level needs at least two rows in each. Merge "
                              "the level with another, or drop dispersion=.")
        if len(levels) < 2:
            raise EngineError(f"dispersion='~ {dispersion}' has one level ({levels[0] if levels else 'none'}) in "
                              f"{where}; there is nothing to vary. Drop dispersion= for these rows.")
    return Design(y=scale(fixed.y), X=scale(fixed.X.to_numpy()), fixed_names=tuple(fixed.X.columns), blocks=tuple(blocks),
                  sqrt_weights=sw, offset=fixed.offset, dispersion_codes=codes, dispersion_levels=levels)


def unfit_reason(design: Design) -> str | None:
    """Why lme4 would refuse these rows (as its own checks do), or None when they can be fitted."""
    n, p = design.X.shape
    aliased = aliased_columns(pd.DataFrame(design.X, columns=design.fixed_names))
    if aliased:
        return (f"not fitted: the fixed effects are perfectly collinear ({', '.join(aliased)} is a linear "
                "combination of earlier columns); drop a term from the formula")
    for block in design.blocks:
        if block.n_levels < 2:
            return (f"not fitted: grouping factor {block.term.group!r} of {block.term.text} has one level "
                    f"({block.levels[0] if block.levels else 'none'}) here; a variance needs at least two")
        if block.n_levels >= n:
            return (f"not fitted: {block.term.text} has {block.n_levels} levels for {n} rows; each level needs "
                    "more than one row on average (lme4: number of levels must be < number of observations)")
        q = block.n_levels * block.Z.shape[1]
        if q >= n:
            return (f"not fitted: {block.term.text} has {q} random effects for {n} rows (lme4: number of "
                    "observations must exceed the number of random effects); simplify the term")
    if n <= p:
        return f"not fitted: {n} rows for {p} fixed effects"
    return None


def ran_par_names(block: DesignBlock) -> list[tuple[str, int, int]]:
    """broom.mixed names of a block's variance parameters, with the covariance entry each reads.

    ``sd__(Intercept)``, ``sd__year_c``, then ``cor__(Intercept).year_c``, in lme4's order.
    """
    cols = block.columns
    out = [(f"sd__{c}", i, i) for i, c in enumerate(cols)]
    out += [(f"cor__{cols[i]}.{cols[j]}", i, j) for i in range(len(cols)) for j in range(i + 1, len(cols))]
    return out


def _level_labels(data: pd.DataFrame, factors: tuple[str, ...]) -> np.ndarray:
    parts = [data[f].astype(str).to_numpy() for f in factors]
    labels = parts[0].astype(object)
    for part in parts[1:]:
        labels = labels + ":" + part
    return labels.astype(str)
