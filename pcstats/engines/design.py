"""Model matrices of a formula read once (:class:`pcstats.specs.r_formula.ModelFormula`), named as R names them.

formulaic materialises the matrices; this module renames their columns to what R's
``model.matrix`` prints (``(Intercept)``, ``factor(cyl)6``, ``C(f, sum)1``, ``tension.L``,
``poly(hp, 2)1``, ``wt:hp``) and evaluates offsets. Every engine builds its matrices here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from ..errors import FormulaError, rows_text
from ..specs.r_formula import ModelFormula

__all__ = ["CONTEXT", "Matrices", "design_matrices", "r_column_names"]

#: functions formulas can call besides formulaic's own transforms (C, I, log, exp, poly, scale, center, ...)
CONTEXT: dict[str, object] = {"log": lambda x, base=np.e: np.log(x) if base == np.e else np.log(x) / np.log(base),
                              "log1p": np.log1p, "sqrt": np.sqrt, "abs": np.abs, "exp": np.exp, "log2": np.log2,
                              "log10": np.log10, "pmax": np.maximum, "pmin": np.minimum}

_POLY_CONTRAST = re.compile(r"^(\.[LQC]|\^\d+)$")
_WHOLE = re.compile(r"^-?\d+\.0$")


@dataclass(frozen=True)
class Matrices:
    """Response (offsets subtracted), fixed design with R's column names, and the offset."""

    y: np.ndarray | None
    X: pd.DataFrame
    offset: np.ndarray | None


def design_matrices(mf: ModelFormula, data: pd.DataFrame, where: str = "the data") -> Matrices:
    """Materialise ``mf`` on ``data`` (rows with NaN in its columns already removed).

    >>> from pcstats.specs.r_formula import model_formula
    >>> d = pd.DataFrame({"y": [1.0, 2.0, 4.0, 3.0], "g": ["a", "b", "a", "b"], "x": [0.0, 1.0, 2.0, 3.0]})
    >>> list(design_matrices(model_formula("y ~ g * x"), d).X.columns)
    ['(Intercept)', 'gb', 'x', 'gb:x']
    """
    from formulaic import model_matrix

    try:
        mm = model_matrix(_formulaic(mf.formulaic), data, context=CONTEXT, na_action="raise")
    except Exception as exc:  # formulaic raises many types; the message names the factor
        message = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip()
        raise FormulaError(f"formula {mf.text!r} could not be evaluated for {where}: {message} Check that each transform "
                           "is defined on these values (log and sqrt need positive ones: drop the rows with where=, or "
                           "shift the variable) and that calls take R's arguments (poly(x, 2), C(f, sum)).") from None
    rhs = mm.rhs if mf.response is not None else mm
    for part in ([mm.lhs] if mf.response is not None else []) + [rhs]:
        complex_columns = [c for c in part.columns if np.iscomplexobj(part[c].to_numpy())]
        if complex_columns:
            raise FormulaError(f"formula {mf.text!r}: {complex_columns[0]!r} holds complex numbers in {where}; a linear "
                               "model reads real numbers. Take the real part, modulus or angle first (e.g. np.abs).")
    X = pd.DataFrame(rhs.to_numpy(dtype=float), columns=r_column_names(mf, rhs.model_spec, list(rhs.columns), data))
    offset = None
    if mf.offsets:
        offset = np.zeros(len(data))
        for f in mf.offsets:
            try:
                offset += model_matrix(f"~ 0 + {f.expr}", data, context=CONTEXT, na_action="raise").to_numpy(dtype=float).ravel()
            except Exception as exc:
                raise FormulaError(f"{f.label} could not be evaluated for {where}: {exc}") from None
    y = None
    if mf.response is not None:
        y = mm.lhs.to_numpy(dtype=float).ravel()
        _finite(y, f"the response {mf.response.label!r}", mf, data, where)
        if offset is not None:
            _finite(offset, "the offset", mf, data, where)
            y = y - offset
    for column in X.columns:
        _finite(X[column].to_numpy(), f"the column {column!r}", mf, data, where)
    return Matrices(y=y, X=X, offset=offset)


def _finite(values: np.ndarray, what: str, mf: ModelFormula, data: pd.DataFrame, where: str) -> None:
    """A transform that overflows or leaves its domain (exp(1000 * x), log(0), 1/0), or values whose squares overflow
    or vanish (1e300), are named, not fitted."""
    bad = ~np.isfinite(values)
    if bad.any():
        raise FormulaError(
            f"formula {mf.text!r}: {what} is not finite (inf or NaN) in {rows_text(list(data.index[bad]))} of {where}; "
            "a transform overflowed or left its domain (log of 0, exp of a large value, division by 0). Rescale or "
            "shift the variable, or drop those rows with where=.")
    size = np.abs(values[~bad]).max(initial=0.0)
    if size > 1e100 or 0 < size < 1e-100:
        raise FormulaError(f"formula {mf.text!r}: {what} reaches {size:.3g} in {where}, too far from 1 for least squares "
                           "in floating point (its squares overflow or vanish); rescale it (e.g. change its units).")


@lru_cache(maxsize=512)
def _formulaic(text: str):
    """formulaic's parse of a formula, once per process (it is immutable)."""
    from formulaic import Formula

    return Formula(text)


def r_column_names(mf: ModelFormula, spec, columns: list[str], data: pd.DataFrame | None = None) -> list[str]:
    """R's names of formulaic's columns: labels as the user wrote them, levels and contrasts as R codes them."""
    labels = mf.labels
    names = list(columns)
    for term, where in spec.term_slices.items():
        exprs = [f.expr for f in term.factors]
        if exprs == ["1"]:
            names[where] = ["(Intercept)"] * (where.stop - where.start)
            continue
        parts = [_split(col, exprs) for col in columns[where]]
        seen: list[list[str]] = [[] for _ in exprs]
        for row in parts:
            for i, code in enumerate(row):
                if code is not None and code not in seen[i]:
                    seen[i].append(code)
        out = []
        for row in parts:
            pieces = []
            for i, (expr, code) in enumerate(zip(exprs, row)):
                label = labels.get(expr, expr)
                if code is None and data is not None and expr in data.columns and data[expr].dtype == bool:
                    code = "TRUE"  # R codes a logical as the factor FALSE/TRUE
                if code is not None and code.isdigit() and label.startswith("poly(") and "raw = TRUE" in label:
                    code = str(int(code) + 1)  # formulaic counts raw powers from 0, R from 1
                pieces.append(label + _r_code(code, seen[i]))
            out.append(":".join(pieces))
        names[where] = out
    return names


def _split(column: str, exprs: list[str]) -> list[str | None]:
    """``a[T.x]:b`` -> ``['T.x', None]`` for the term's factor expressions ``['a', 'b']``."""
    codes: list[str | None] = []
    pos = 0
    for i, expr in enumerate(exprs):
        if not column.startswith(expr, pos):
            raise FormulaError(f"cannot read the column {column!r} of formulaic (expected {expr!r}); please report this.")
        pos += len(expr)
        if pos < len(column) and column[pos] == "[":
            if i == len(exprs) - 1:
                end = len(column) - 1
            else:
                end = column.find("]:" + exprs[i + 1], pos)
            codes.append(column[pos + 1:end])
            pos = end + 1
        else:
            codes.append(None)
        if i < len(exprs) - 1:
            pos += 1  # the ':'
    return codes


def _r_code(code: str | None, seen: list[str]) -> str:
    """What R appends to a factor's label: the level, the contrast's column number, or .L/.Q/^4."""
    if code is None:
        return ""
    if code.startswith(("S.", "H.")):
        return str(seen.index(code) + 1)  # contr.sum and contr.helmert have no column names in R
    if code.startswith("T."):
        code = code[2:]
    elif _POLY_CONTRAST.match(code):
        return code
    return code[:-2] if _WHOLE.match(code) else code
