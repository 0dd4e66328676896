"""A fitted SEM's quantities from its parameter table, with lavaan's definitions.

The parameter table (``lhs, op, rhs, free, label, est, ...``; see
:mod:`pcstats.specs.lavaan_syntax`) is read into RAM matrices: ``A`` (directed paths: ``y ~ x``
and loadings ``f =~ y``), ``S`` (variances and covariances: ``~~``) and the filter ``F`` that
picks the observed variables. Then

* implied covariance ``Σ = F (I − A)⁻¹ S (I − A)⁻ᵀ Fᵀ``;
* standard errors from the expected information of normal-theory ML,
  ``I_ij = ½ tr(Σ⁻¹ ∂Σ/∂θ_i Σ⁻¹ ∂Σ/∂θ_j)``, ``Cov(θ̂) = I⁻¹ / N`` (lavaan's ``se = "standard"``);
  parameters sharing a label are one parameter;
* standardised solutions ``std.lv``, ``std.all``, ``std.nox`` (residual covariances scaled by the
  residual variances, lavaan's ``cov.std = TRUE``), R² of endogenous variables, total and indirect
  effects of path models and ``:=`` parameters, with delta-method SEs.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["RAM", "ram", "implied", "parameter_index", "theta_hat", "values_of", "expected_information_cov", "standardized",
           "endogenous", "r_squared", "total_effects", "effects", "delta_cov", "defined"]


@dataclass(frozen=True)
class RAM:
    """Variable names (observed first, in data order), A, S and the number of observed variables."""

    names: tuple[str, ...]
    A: np.ndarray
    S: np.ndarray
    n_observed: int

    @property
    def total(self) -> np.ndarray:
        """Covariance of all variables, observed and latent: ``(I − A)⁻¹ S (I − A)⁻ᵀ``."""
        inv = np.linalg.inv(np.eye(len(self.names)) - self.A)
        return inv @ self.S @ inv.T

    @property
    def sigma(self) -> np.ndarray:
        """The implied covariance of the observed variables."""
        k = self.n_observed
        return self.total[:k, :k]


def ram(table: pd.DataFrame, observed: Sequence[str], values: np.ndarray | None = None) -> RAM:
    """RAM matrices of ``table`` with its ``est`` column (or ``values`` in its place)."""
    names, a_rows, s_rows = _layout(table, tuple(observed))
    est = table["est"].to_numpy(dtype=float) if values is None else np.asarray(values, dtype=float)
    k = len(names)
    A = np.zeros((k, k))
    S = np.zeros((k, k))
    row, i, j = a_rows
    A[i, j] = est[row]
    row, i, j = s_rows
    S[i, j] = est[row]
    S[j, i] = est[row]
    return RAM(names, A, S, len(observed))


def _layout(table: pd.DataFrame, observed: tuple[str, ...]):
    """Variable names and, for the A and S entries, (table row, matrix row, matrix column)."""
    key = (id(table), len(table), observed)
    cached = _LAYOUTS.get(key)
    if cached is not None and cached[0] is table:
        return cached[1]
    ops, lhs, rhs = table["op"].to_numpy(), table["lhs"].to_numpy(), table["rhs"].to_numpy()
    latent = list(dict.fromkeys(lhs[ops == "=~"]))
    names = tuple(observed) + tuple(v for v in latent if v not in observed)
    index = {v: i for i, v in enumerate(names)}
    a = [(r, index[lhs[r]], index[rhs[r]]) for r in np.flatnonzero(ops == "~")]
    a += [(r, index[rhs[r]], index[lhs[r]]) for r in np.flatnonzero(ops == "=~")]
    s_ = [(r, index[lhs[r]], index[rhs[r]]) for r in np.flatnonzero(ops == "~~")]
    as_arrays = [tuple(np.array(c, dtype=np.intp) for c in zip(*x)) if x else (np.array([], np.intp),) * 3 for x in (a, s_)]
    out = (names, as_arrays[0], as_arrays[1])
    _LAYOUTS.clear()  # keep one: the table being fitted
    _LAYOUTS[key] = (table, out)
    return out


_LAYOUTS: dict = {}


def implied(table: pd.DataFrame, observed: Sequence[str]) -> np.ndarray:
    """``Σ(θ̂)`` of the observed variables, in the order of ``observed``."""
    return ram(table, observed).sigma


def parameter_index(table: pd.DataFrame) -> np.ndarray:
    """Per row, the index of its free parameter (rows sharing a label share one), or -1 if fixed."""
    out = np.full(len(table), -1)
    seen: dict[str, int] = {}
    k = 0
    for i, (free, label) in enumerate(zip(table["free"].to_numpy(), table["label"].fillna("").to_numpy())):
        if free <= 0:
            continue
        if label and label in seen:
            out[i] = seen[label]
            continue
        out[i] = k
        if label:
            seen[label] = k
        k += 1
    return out


def values_of(table: pd.DataFrame, index: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """θ -> the table's ``est`` column with the free parameters set to θ (fixed rows unchanged)."""
    base = table["est"].to_numpy(dtype=float).copy()
    mask = index >= 0

    def values(theta: np.ndarray) -> np.ndarray:
        out = base.copy()
        out[mask] = theta[index[mask]]
        return out

    return values


def _sigma_of(table: pd.DataFrame, observed: Sequence[str], index: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    values = values_of(table, index)
    return lambda theta: ram(table, observed, values(theta)).sigma


def theta_hat(table: pd.DataFrame, index: np.ndarray) -> np.ndarray:
    """The estimates of the free parameters, one per index."""
    k = int(index.max()) + 1 if (index >= 0).any() else 0
    theta = np.zeros(k)
    est = table["est"].to_numpy(dtype=float)
    theta[index[index >= 0]] = est[index >= 0]
    return theta


def _jacobian(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> np.ndarray:
    """Central differences of a matrix-valued ``f``: shape (k, *f(x).shape)."""
    out = []
    for i in range(len(x)):
        h = 1e-6 * max(1.0, abs(x[i]))
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        out.append((f(up) - f(down)) / (2 * h))
    return np.array(out)


def expected_information_cov(table: pd.DataFrame, observed: Sequence[str], n: int) -> np.ndarray:
    """``Cov(θ̂)`` of the free parameters (by :func:`parameter_index`) from the expected information."""
    index = parameter_index(table)
    theta = theta_hat(table, index)
    sigma_of = _sigma_of(table, observed, index)
    inv = np.linalg.inv(sigma_of(theta))
    d = _jacobian(sigma_of, theta)
    left = np.einsum("ij,kjl->kil", inv, d)  # Σ⁻¹ ∂Σ/∂θ_k
    info = 0.5 * np.einsum("kij,lji->kl", left, left)
    return np.linalg.inv(info) / n


def _sds(model: RAM) -> tuple[np.ndarray, np.ndarray]:
    total = model.total
    return np.sqrt(np.clip(np.diag(total), 0, None)), np.sqrt(np.clip(np.diag(model.S), 0, None))


def standardized(table: pd.DataFrame, observed: Sequence[str], exogenous: Sequence[str], kind: str,
                 values: np.ndarray | None = None) -> np.ndarray:
    """``std.all``, ``std.lv`` or ``std.nox`` of every row of ``table`` (NaN for rows without one)."""
    model = ram(table, observed, values)
    sd, resid_sd = _sds(model)
    index = {v: i for i, v in enumerate(model.names)}
    latent = set(model.names[model.n_observed:])
    est = table["est"].to_numpy(dtype=float) if values is None else values

    def scale(v: str) -> float:  # the SD a variable is standardised by, or 1 where it is not
        if kind == "std.lv":
            return sd[index[v]] if v in latent else 1.0
        if kind == "std.nox" and v in exogenous:
            return 1.0
        return sd[index[v]]

    def resid_scale(v: str) -> float:
        if kind == "std.lv" and v not in latent:
            return 1.0
        if kind == "std.nox" and v in exogenous:
            return 1.0
        return resid_sd[index[v]]

    out = np.full(len(table), np.nan)
    for i, (lhs, op, rhs) in enumerate(table[["lhs", "op", "rhs"]].itertuples(index=False)):
        if op == "~":
            out[i] = est[i] * scale(rhs) / scale(lhs)
        elif op == "=~":
            out[i] = est[i] * scale(lhs) / scale(rhs)
        elif op == "~~" and lhs == rhs:
            out[i] = est[i] / scale(lhs) ** 2
        elif op == "~~":
            denom = resid_scale(lhs) * resid_scale(rhs)
            out[i] = est[i] / denom if denom > 0 else np.nan
    return out


def endogenous(table: pd.DataFrame) -> list[str]:
    """Variables with an incoming path: lhs of ``~``, indicators (rhs) of ``=~``."""
    rows = [lhs for lhs, op in zip(table["lhs"], table["op"]) if op == "~"]
    rows += [rhs for rhs, op in zip(table["rhs"], table["op"]) if op == "=~"]
    return list(dict.fromkeys(rows))


def r_squared(table: pd.DataFrame, observed: Sequence[str]) -> pd.Series:
    """R² of each endogenous variable: 1 − residual variance / implied total variance."""
    model = ram(table, observed)
    total = np.diag(model.total)
    index = {v: i for i, v in enumerate(model.names)}
    return pd.Series({v: 1.0 - model.S[index[v], index[v]] / total[index[v]] for v in endogenous(table)}, name="r_squared")


def total_effects(table: pd.DataFrame, observed: Sequence[str], values: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Direct effects ``A`` and total effects ``(I − A)⁻¹ − I`` among all variables."""
    A = ram(table, observed, values).A
    return A, np.linalg.inv(np.eye(len(A)) - A) - np.eye(len(A))


def effects(table: pd.DataFrame, observed: Sequence[str], values: np.ndarray | None = None) -> pd.DataFrame:
    """Direct, indirect and total effects for every pair with a nonzero total effect."""
    names = ram(table, observed).names
    A, total = total_effects(table, observed, values)
    rows = [{"lhs": to, "rhs": frm, "direct": A[i, j], "indirect": total[i, j] - A[i, j], "total": total[i, j]}
            for i, to in enumerate(names) for j, frm in enumerate(names) if i != j and total[i, j] != 0]
    return pd.DataFrame(rows, columns=["lhs", "rhs", "direct", "indirect", "total"])


def delta_cov(f: Callable[[np.ndarray], np.ndarray], theta: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """Delta-method covariance of ``f(θ̂)``: ``J Cov(θ̂) Jᵀ`` with a central-difference Jacobian."""
    J = _jacobian(lambda t: np.atleast_1d(f(t)), theta).T
    return J @ cov @ J.T


_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.Pow: operator.pow}


def defined(expression: str, labels: dict[str, float]) -> float:
    """Value of a ``:=`` expression (``a*b``, ``c + a*b``, ``a^2``) given the labelled estimates.

    >>> defined("a*b + c", {"a": 2.0, "b": 3.0, "c": 1.0})
    7.0
    >>> defined("b.1^2", {"b.1": 3.0})
    9.0
    """
    names = {}  # lavaan labels may contain dots (b.1): give each a Python name first
    text = expression.replace("^", "**")
    for i, label in enumerate(sorted(labels, key=len, reverse=True)):
        if "." in label and label in text:
            names[f"_label{i}"] = label
            text = re.sub(rf"(?<![\w.]){re.escape(label)}(?![\w.])", f"_label{i}", text)
    labels = {**labels, **{k: labels[v] for k, v in names.items()}}
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        raise ValueError(f"':=' expression {expression!r} is not arithmetic of labels") from None

    def value(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return value(node.body)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            return _BINARY[type(node.op)](value(node.left), value(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            return -value(node.operand) if isinstance(node.op, ast.USub) else value(node.operand)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        if isinstance(node, ast.Name) and node.id in labels:
            return float(labels[node.id])
        raise ValueError(f"':=' expression {expression!r}: {ast.unparse(node)!r} is not a label or arithmetic")

    return value(tree)
