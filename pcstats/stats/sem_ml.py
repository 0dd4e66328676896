"""Maximum likelihood for structural equation models on lavaan's parameter table.

The table (:func:`pcstats.specs.lavaan_syntax.parameter_table`) is read, group by group, into RAM
matrices: ``A`` (paths ``y ~ x`` and loadings ``f =~ y``), ``S`` ((co)variances ``~~``) and ``m``
(intercepts ``~1``) over all variables, observed first. With ``B = (I − A)⁻¹`` the model's moments
of the observed variables are ``Σ = F B S Bᵀ Fᵀ`` and ``μ = F B m``.

Each group contributes its discrepancy (a constant away from −2 logL / n_g)

    F_g = Σ_patterns n_pat / n_g [log|Σ_o| + tr(Σ_o⁻¹ S_pat) + (ȳ_pat − μ_o)ᵀ Σ_o⁻¹ (ȳ_pat − μ_o)]

over its patterns of observed variables (one pattern for complete data: lavaan's ML; several: FIML,
lavaan's ``missing = "ml"``), and the fit minimises ``Σ_g n_g/N F_g`` with analytic gradients.

Parameters are the table's free rows (lavaan's ``free`` numbering). Equality constraints (``==`` rows:
shared labels, ``group.equal`` and the user's own) that are linear are solved exactly,
``x = x₀ + K ζ``, and the fit runs in ζ by Fisher scoring with step halving. Inequalities and
nonlinear equalities go to SLSQP in ζ; constraints active at the solution then count as equalities for
the standard errors, ``Cov(x̂) = Z (Zᵀ I Z)⁻¹ Zᵀ / N`` with ``Z`` the null space of their Jacobian,
as lavaan's ``lav_model_vcov`` does with ``con.jac``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import linalg

from .sem_model import defined

__all__ = ["Layout", "Patterns", "GroupData", "Problem", "Solution", "layouts", "group_data", "problem", "implied_moments",
           "discrepancy", "saturated_constant", "gradient", "moment_jacobian", "expected_information", "observed_information", "solve"]


# ---------------------------------------------------------------------------------------------- layout
@dataclass(frozen=True)
class Layout:
    """Where one group's table rows sit in A, S and m."""

    names: tuple[str, ...]  # observed (data order), then latent
    n_observed: int
    a: tuple[np.ndarray, np.ndarray, np.ndarray]  # (table row, matrix row, matrix column)
    s: tuple[np.ndarray, np.ndarray, np.ndarray]
    m: tuple[np.ndarray, np.ndarray]  # (table row, variable)


def layouts(table: pd.DataFrame, observed: Sequence[str]) -> list[Layout]:
    """One :class:`Layout` per group of ``table`` (``group`` 1..G), rows indexing the whole table."""
    ops, lhs, rhs = (table[c].to_numpy() for c in ("op", "lhs", "rhs"))
    group = table["group"].to_numpy()
    latent = list(dict.fromkeys(lhs[ops == "=~"]))
    names = tuple(observed) + tuple(v for v in latent if v not in observed)
    index = {v: i for i, v in enumerate(names)}
    out = []
    for g in range(1, int(group.max()) + 1):
        mine = group == g

        def rows(op: str) -> np.ndarray:
            return np.flatnonzero(mine & (ops == op))

        def arrays(*cols) -> tuple[np.ndarray, ...]:
            return tuple(np.asarray(c, dtype=np.intp) for c in cols)

        r_a, r_l, r_s, r_m = rows("~"), rows("=~"), rows("~~"), rows("~1")
        a = arrays(np.r_[r_a, r_l], [index[lhs[r]] for r in r_a] + [index[rhs[r]] for r in r_l],
                   [index[rhs[r]] for r in r_a] + [index[lhs[r]] for r in r_l])
        s = arrays(r_s, [index[lhs[r]] for r in r_s], [index[rhs[r]] for r in r_s])
        m = arrays(r_m, [index[lhs[r]] for r in r_m])
        out.append(Layout(names, len(observed), a, s, m))
    return out


def implied_moments(layout: Layout, values: np.ndarray) -> tuple[np.ndarray, ...]:
    """``(B, S, Ω, μ_all, Σ, μ)`` at ``values``: ``B = (I − A)⁻¹``, ``Ω = B S Bᵀ`` and ``μ_all = B m``
    the covariance and means of all variables, ``Σ`` and ``μ`` their observed blocks."""
    k, p = len(layout.names), layout.n_observed
    A = np.zeros((k, k))
    S = np.zeros((k, k))
    m = np.zeros(k)
    r, i, j = layout.a
    A[i, j] = values[r]
    r, i, j = layout.s
    S[i, j] = values[r]
    S[j, i] = values[r]
    r, i = layout.m
    m[i] = values[r]
    B = np.linalg.inv(np.eye(k) - A)
    omega = B @ S @ B.T
    mu_all = B @ m
    return B, S, omega, mu_all, omega[:p, :p], mu_all[:p]


# ------------------------------------------------------------------------------------------------ data
@dataclass(frozen=True)
class Patterns:
    """The patterns of observed variables that have ``m`` of them, stacked: positions (b, m), row counts
    (b,), and each pattern's mean (b, m) and divide-by-n covariance (b, m, m). Complete data: one pattern."""

    observed: np.ndarray
    n: np.ndarray
    mean: np.ndarray
    cov: np.ndarray

    def blocks(self, matrix: np.ndarray) -> np.ndarray:
        """Each pattern's observed block of a p x p matrix, (b, m, m)."""
        return matrix[self.observed[:, :, None], self.observed[:, None, :]]


@dataclass(frozen=True)
class GroupData:
    """One group's rows, as the fit reads them."""

    X: np.ndarray  # n x p, NaN where missing
    patterns: tuple[Patterns, ...]  # by number of observed variables
    mean: np.ndarray  # sample (complete data) or EM (missing data) moments: the saturated model's
    cov: np.ndarray

    @property
    def n(self) -> int:
        return int(self.X.shape[0])

    @property
    def complete(self) -> bool:
        return len(self.patterns) == 1 and len(self.patterns[0].n) == 1 and self.patterns[0].observed.shape[1] == self.X.shape[1]

    @property
    def values_seen(self) -> int:
        """The number of observed values (rows x variables, less the missing ones)."""
        return int(sum(b.n.sum() * b.observed.shape[1] for b in self.patterns))


def group_data(X: np.ndarray) -> GroupData:
    """Patterns of ``X`` and its saturated moments (sample moments, or EM estimates under missing data)."""
    X = np.asarray(X, dtype=float)
    seen = ~np.isnan(X)
    if seen.all():
        mean = X.mean(axis=0)
        centred = X - mean
        cov = centred.T @ centred / len(X)
        one = Patterns(np.arange(X.shape[1])[None, :], np.array([len(X)]), mean[None, :], cov[None, :, :])
        return GroupData(X, (one,), mean, cov)
    codes = seen @ (2.0 ** np.arange(X.shape[1]))  # one number per pattern of observed variables
    keys, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
    inverse = np.ravel(inverse)
    by_size: dict[int, list] = {}
    for k in range(len(keys)):
        key = seen[first[k]]
        rows = X[inverse == k][:, key]
        centred = rows - rows.mean(axis=0)
        by_size.setdefault(int(key.sum()), []).append(
            (np.flatnonzero(key), len(rows), rows.mean(axis=0), centred.T @ centred / len(rows)))
    patterns = tuple(Patterns(*(np.array([item[i] for item in items]) for i in range(4)))
                     for _, items in sorted(by_size.items()))
    from .sem_missing import em_moments

    mean, cov = em_moments(X, patterns)
    return GroupData(X, patterns, mean, cov)


# --------------------------------------------------------------------------------------------- problem
@dataclass(frozen=True)
class Problem:
    """A parameter table with its data, ready to fit: which rows are free, and the constraints."""

    table: pd.DataFrame
    layouts: tuple[Layout, ...]
    data: tuple[GroupData, ...]
    base: np.ndarray  # every row's value with the free ones at their starts
    free: np.ndarray  # table rows of the free parameters, in lavaan's free order
    x0: np.ndarray  # a point meeting the linear equalities (free-parameter space)
    K: np.ndarray  # x = x0 + K zeta
    meanstructure: bool
    nonlinear: tuple[Callable[[np.ndarray], float], ...] = ()  # further equalities c(x) = 0
    inequalities: tuple[Callable[[np.ndarray], float], ...] = ()  # c(x) >= 0
    names: tuple[str, ...] = field(default=())  # constraint texts, nonlinear then inequalities

    @property
    def n(self) -> int:
        return sum(d.n for d in self.data)

    @property
    def weights(self) -> np.ndarray:
        sizes = np.array([d.n for d in self.data], dtype=float)
        return sizes / sizes.sum()

    def values(self, x: np.ndarray) -> np.ndarray:
        out = self.base.copy()
        out[self.free] = x
        return out


@dataclass(frozen=True)
class Labels:
    """The names constraints and ``:=`` parameters use: labels and plabels (a plabel names its own row,
    also where another row carries it as a label), then the ``:=`` parameters in order."""

    rows: dict[str, int]
    definitions: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, table: pd.DataFrame) -> Labels:
        rows: dict[str, int] = {}
        model = np.flatnonzero(~table["op"].isin([":=", "==", "<", ">"]).to_numpy())
        labels, plabels = table["label"].to_numpy(), table["plabel"].to_numpy()
        for i in model:
            if isinstance(labels[i], str) and labels[i]:
                rows.setdefault(labels[i], int(i))
        for i in model:
            rows[plabels[i]] = int(i)
        definitions = tuple(table.loc[table["op"] == ":=", ["lhs", "rhs"]].itertuples(index=False, name=None))
        return cls(rows, definitions)

    def values(self, values: np.ndarray) -> dict[str, float]:
        out = {name: values[row] for name, row in self.rows.items()}
        for lhs, rhs in self.definitions:
            out[lhs] = defined(rhs, out)
        return out

    def rows_used(self, expression: str) -> set[int]:
        """Table rows an expression depends on (through ``:=`` parameters too)."""
        expressions = dict(self.definitions)
        out: set[int] = set()
        todo, seen = [expression], set()
        while todo:
            for name in re.findall(r"[A-Za-z_.][\w.]*", todo.pop()):
                if name in self.rows:
                    out.add(self.rows[name])
                elif name in expressions and name not in seen:
                    seen.add(name)
                    todo.append(expressions[name])
        return out


def _labels(table: pd.DataFrame, values: np.ndarray) -> dict[str, float]:
    """Every label's value at ``values`` (see :class:`Labels`)."""
    return Labels.of(table).values(values)


@dataclass(frozen=True)
class _Constraint:
    """``lhs op rhs`` as ``c(x) = 0`` (``==``) or ``c(x) >= 0`` (``<``, ``>``), with the free positions it reads."""

    text: str
    lhs: str
    op: str
    rhs: str
    labels: Labels
    free: np.ndarray
    base: np.ndarray
    uses: np.ndarray  # positions in x the constraint depends on

    def __call__(self, x: np.ndarray) -> float:
        values = self.base.copy()
        values[self.free] = x
        labels = self.labels.values(values)
        difference = defined(self.lhs, labels) - defined(self.rhs, labels)
        return -difference if self.op == "<" else difference

    def linear(self) -> tuple[np.ndarray, float] | None:
        """``(a, b)`` with ``c(x) = a·x + b`` if the constraint is linear (checked at random points), else None."""
        k = len(self.free)
        zero = np.zeros(k)
        b = self(zero)
        a = np.zeros(k)
        for i in self.uses:
            e = zero.copy()
            e[i] = 1.0
            a[i] = self(e) - b
        rng = np.random.default_rng(0)
        for _ in range(2):
            x = np.zeros(k)
            x[self.uses] = rng.normal(size=len(self.uses)) * 3
            if abs(self(x) - (b + a @ x)) > 1e-9 * (1 + abs(b) + np.abs(a) @ np.abs(x)):
                return None
        return a, b


def _constraint(table: pd.DataFrame, labels: Labels, row: int, free: np.ndarray, base: np.ndarray) -> _Constraint:
    lhs, op, rhs = table.loc[table.index[row], ["lhs", "op", "rhs"]]
    position = {int(r): k for k, r in enumerate(free)}
    uses = sorted(position[r] for r in labels.rows_used(lhs) | labels.rows_used(rhs) if r in position)
    return _Constraint(f"{lhs} {op} {rhs}", lhs, op, rhs, labels, free, base, np.array(uses, dtype=np.intp))


def problem(table: pd.DataFrame, observed: Sequence[str], data: Sequence[GroupData], *, meanstructure: bool,
            starts: np.ndarray) -> Problem:
    """The fit's :class:`Problem`: ``starts`` holds every row's start (fixed rows their fixed values)."""
    free = np.flatnonzero(table["free"].to_numpy() > 0)
    free = free[np.argsort(table["free"].to_numpy()[free], kind="stable")]
    base = np.asarray(starts, dtype=float).copy()
    ops = table["op"].to_numpy()
    labels = Labels.of(table)
    linear, nonlinear = [], []
    for r in np.flatnonzero(ops == "=="):
        c = _constraint(table, labels, r, free, base)
        form = c.linear()
        if form is None:
            nonlinear.append(c)
        else:
            linear.append(form)
    x_start = base[free]
    if linear:
        C = np.array([a for a, _ in linear])
        c0 = np.array([b for _, b in linear])
        K = linalg.null_space(C, rcond=1e-10)
        shift = np.linalg.lstsq(C, -c0, rcond=None)[0]
        x0 = shift + K @ (K.T @ (x_start - shift))  # the starts projected onto the constraints
        if np.max(np.abs(C @ x0 + c0), initial=0.0) > 1e-8 * max(1.0, np.max(np.abs(c0), initial=0.0)):
            raise ValueError("the equality constraints contradict each other: no parameter values meet them all")
    else:
        K, x0 = np.eye(len(free)), x_start
    inequalities = tuple(_constraint(table, labels, r, free, base) for r in np.flatnonzero(np.isin(ops, ["<", ">"])))
    names = tuple(c.text for c in nonlinear) + tuple(c.text for c in inequalities)
    return Problem(table, tuple(layouts(table, observed)), tuple(data), base, free, x0, K, meanstructure,
                   tuple(nonlinear), inequalities, names)


# ------------------------------------------------------------------------------------ objective and gradient
def _group_terms(sigma: np.ndarray, mu: np.ndarray, data: GroupData, meanstructure: bool, want_gradient: bool):
    """F_g and, if wanted, (dF/dΣ, dF/dμ) of one group; F_g = inf where Σ is not positive definite."""
    p = sigma.shape[0]
    W = np.zeros((p, p))
    g_mu = np.zeros(p)
    total = 0.0
    for batch in data.patterns:
        s_o = batch.blocks(sigma)
        sign, logdet = np.linalg.slogdet(s_o)
        if np.any(sign <= 0):
            return np.inf, None
        inv = np.linalg.inv(s_o)
        d = batch.mean - mu[batch.observed] if meanstructure else np.zeros_like(batch.mean)
        inv_d = np.einsum("bij,bj->bi", inv, d)
        total += batch.n @ (logdet + np.einsum("bij,bji->b", inv, batch.cov) + np.einsum("bi,bi->b", d, inv_d))
        if want_gradient:
            inner = batch.cov + d[:, :, None] * d[:, None, :]
            part = batch.n[:, None, None] * (inv - inv @ inner @ inv)
            o = batch.observed
            if len(o) == 1 and o.shape[1] == p:  # complete data
                W += part[0]
                g_mu += batch.n[0] * (-2 * inv_d[0])
            else:
                np.add.at(W, (o[:, :, None], o[:, None, :]), part)
                np.add.at(g_mu, o, batch.n[:, None] * (-2 * inv_d))
    total /= data.n
    if not want_gradient:
        return total, None
    return total, (W / data.n, g_mu / data.n)


def discrepancy(data: GroupData, mean: np.ndarray, cov: np.ndarray, meanstructure: bool = True) -> float:
    """F_g of moments (``mean``, ``cov``) for one group's rows, pattern by pattern."""
    return _group_terms(cov, mean, data, meanstructure, False)[0]


def gradient(problem: Problem, x: np.ndarray) -> tuple[float, np.ndarray]:
    """The objective (without the saturated constant) and its gradient in the free parameters."""
    values = problem.values(x)
    grad = np.zeros(len(values))
    total = 0.0
    for w, layout, data in zip(problem.weights, problem.layouts, problem.data):
        try:
            B, S, omega, mu_all, sigma, mu = implied_moments(layout, values)
        except np.linalg.LinAlgError:  # I − A singular: a loop of paths with unit gain
            return np.inf, np.full(len(x), np.nan)
        f, pieces = _group_terms(sigma, mu, data, problem.meanstructure, True)
        if pieces is None:
            return np.inf, np.full(len(x), np.nan)
        total += w * f
        W, g_mu = pieces
        p = layout.n_observed
        Bo = B[:p]
        hW = Bo.T @ W  # k x p
        gA = 2 * hW @ omega[:p] + np.outer(Bo.T @ g_mu, mu_all)
        gS = hW @ Bo
        gm = Bo.T @ g_mu
        r, i, j = layout.a
        np.add.at(grad, r, w * gA[i, j])
        r, i, j = layout.s
        np.add.at(grad, r, w * gS[i, j] * np.where(i == j, 1.0, 2.0))
        r, i = layout.m
        np.add.at(grad, r, w * gm[i])
    return total, grad[problem.free]


# ------------------------------------------------------------------------------------------ information
def moment_jacobian(problem: Problem, x: np.ndarray, g: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(∂μ/∂x, ∂Σ/∂x, μ, Σ)`` of group ``g``: shapes (k, p), (k, p, p) over the free parameters."""
    layout = problem.layouts[g]
    values = problem.values(x)
    B, S, omega, mu_all, sigma, mu = implied_moments(layout, values)
    p = layout.n_observed
    Bo = B[:p]
    position = {row: k for k, row in enumerate(problem.free)}
    d_mu = np.zeros((len(x), p))
    d_sigma = np.zeros((len(x), p, p))
    for r, i, j in zip(*layout.a):
        if r in position:
            k = position[r]
            outer = np.outer(Bo[:, i], omega[:p, j])
            d_sigma[k] += outer + outer.T
            d_mu[k] += Bo[:, i] * mu_all[j]
    for r, i, j in zip(*layout.s):
        if r in position:
            k = position[r]
            outer = np.outer(Bo[:, i], Bo[:, j])
            d_sigma[k] += outer + outer.T if i != j else outer
    for r, i in zip(*layout.m):
        if r in position:
            d_mu[position[r]] += Bo[:, i]
    return d_mu, d_sigma, mu, sigma


def expected_information(problem: Problem, x: np.ndarray) -> np.ndarray:
    """Expected (unit) information of the free parameters, ``Σ_g n_g/N Δ_gᵀ W_g Δ_g``; with missing data
    summed over patterns (lavaan's ``h1.information = "structured"``)."""
    info = np.zeros((len(x), len(x)))
    for g, (w, data) in enumerate(zip(problem.weights, problem.data)):
        d_mu, d_sigma, _, sigma = moment_jacobian(problem, x, g)
        for batch in data.patterns:
            o = batch.observed
            inv = np.linalg.inv(batch.blocks(sigma))  # (b, m, m)
            blocks = d_sigma[:, o[:, :, None], o[:, None, :]]  # (k, b, m, m)
            k = len(x)
            left = np.matmul(inv[None], blocks)  # Σ⁻¹ ∂Σ/∂x_k, (k, b, m, m)
            share = (batch.n / data.n)[None, :, None, None]
            # ½ Σ_b share_b tr(L_kb L_lb), as one product of flattened matrices
            part = 0.5 * (left * share).reshape(k, -1) @ np.swapaxes(left, 2, 3).reshape(k, -1).T
            if problem.meanstructure:
                dm = d_mu[:, o]  # (k, b, m)
                weighted = np.einsum("bij,kbj->kbi", inv, dm) * share[..., 0]
                part += dm.reshape(k, -1) @ weighted.reshape(k, -1).T
            info += w * part
    return info


def observed_information(problem: Problem, x: np.ndarray) -> np.ndarray:
    """Observed (unit) information: half the Hessian of the objective, by central differences of the
    analytic gradient (lavaan's ``observed.information = "hessian"`` does the same)."""
    k = len(x)
    H = np.zeros((k, k))
    for i in range(k):
        h = 1e-5 * max(1.0, abs(x[i]))
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        H[i] = (gradient(problem, up)[1] - gradient(problem, down)[1]) / (2 * h)
    return 0.25 * (H + H.T)


# ---------------------------------------------------------------------------------------------- solving
@dataclass(frozen=True)
class Solution:
    """The ML estimate and how it was reached."""

    x: np.ndarray  # free parameters
    fmin: float  # objective at x (saturated constant removed)
    converged: bool
    iterations: int
    message: str
    Z: np.ndarray  # basis of the directions the constraints leave free at x (for the SEs)
    active: tuple[str, ...]  # inequality constraints active at x


def solve(problem: Problem, *, max_iterations: int = 500, tolerance: float = 1e-10) -> Solution:
    """Minimise the discrepancy under the problem's constraints."""
    K, x0 = problem.K, problem.x0
    zeta = np.zeros(K.shape[1])
    if problem.nonlinear or problem.inequalities:
        zeta, converged, iterations, message = _slsqp(problem, zeta)
        x = x0 + K @ zeta
        return _finish(problem, x, converged, iterations, message)
    zeta, converged, iterations, message = _scoring(problem, zeta, max_iterations, tolerance)
    if not converged:
        zeta2, converged2, iterations2, message2 = _quasi_newton(problem, zeta)
        zeta2, converged2, more, message2 = _scoring(problem, zeta2, max_iterations, tolerance)
        if converged2 or _f(problem, x0 + K @ zeta2) < _f(problem, x0 + K @ zeta):
            zeta, converged, message = zeta2, converged2, message2
        iterations += iterations2 + more
    return _finish(problem, x0 + K @ zeta, converged, iterations, message)


def _f(problem: Problem, x: np.ndarray) -> float:
    return gradient(problem, x)[0]


def _scoring(problem: Problem, zeta: np.ndarray, max_iterations: int, tolerance: float):
    """Fisher scoring in ζ with step halving; once the gradient is small, BFGS updates of the scoring
    matrix (scoring alone converges only linearly where the model does not fit, because the expected and
    observed information then differ). Converged when the gradient or the step is negligible."""
    K, x0 = problem.K, problem.x0
    f, g = gradient(problem, x0 + K @ zeta)
    if not np.isfinite(f):
        return zeta, False, 0, "the start values give a covariance matrix that is not positive definite"
    gz = K.T @ g
    matrix, quasi = None, False
    for iteration in range(1, max_iterations + 1):
        if matrix is None or not quasi:
            matrix = 2 * (K.T @ expected_information(problem, x0 + K @ zeta) @ K)
            quasi = np.max(np.abs(gz)) < 1e-3
        try:
            step = -np.linalg.solve(matrix, gz)
        except np.linalg.LinAlgError:
            step = -np.linalg.lstsq(matrix, gz, rcond=None)[0]
        for halvings in range(40):
            f_new, g_new = gradient(problem, x0 + K @ (zeta + step))
            if np.isfinite(f_new) and f_new <= f + 1e-12 * abs(f):
                break
            step /= 2
        else:
            return zeta, False, iteration, "the line search found no lower value of the discrepancy"
        gz_new = K.T @ g_new
        if quasi:  # BFGS update of the curvature along the step
            change = gz_new - gz
            curvature = step @ change
            if curvature > 1e-12 * np.linalg.norm(step) * np.linalg.norm(change) and not halvings:
                Ms = matrix @ step
                matrix = matrix - np.outer(Ms, Ms) / (step @ Ms) + np.outer(change, change) / curvature
            else:
                quasi = False  # back to scoring for the next step
        zeta, f_old, f, g, gz = zeta + step, f, f_new, g_new, gz_new
        small_step = np.max(np.abs(step), initial=0.0) < 1e-7 * max(1.0, np.max(np.abs(zeta), initial=0.0))
        if np.max(np.abs(gz), initial=0.0) < tolerance or (abs(f_old - f) <= 1e-13 * max(1.0, abs(f))
                                                           and small_step):
            return zeta, True, iteration, "converged"
    return zeta, False, max_iterations, f"no convergence in {max_iterations} Fisher-scoring iterations"


def _quasi_newton(problem: Problem, zeta: np.ndarray):
    from scipy.optimize import minimize

    K, x0 = problem.K, problem.x0

    def fun(z):
        f, g = gradient(problem, x0 + K @ z)
        return (1e10, np.zeros_like(z)) if not np.isfinite(f) else (f, K.T @ g)

    result = minimize(fun, zeta, jac=True, method="L-BFGS-B", options={"maxiter": 5000, "gtol": 1e-12, "ftol": 1e-15})
    return result.x, bool(result.success), int(result.nit), str(result.message)


def _slsqp(problem: Problem, zeta: np.ndarray):
    from scipy.optimize import minimize

    K, x0 = problem.K, problem.x0
    zeta, _, _, _ = _scoring(problem, zeta, 50, 1e-6) if not problem.nonlinear else (zeta, 0, 0, "")

    def fun(z):
        f, g = gradient(problem, x0 + K @ z)
        return (1e10, np.zeros_like(z)) if not np.isfinite(f) else (f, K.T @ g)

    constraints = [{"type": "eq", "fun": (lambda z, c=c: c(x0 + K @ z))} for c in problem.nonlinear]
    constraints += [{"type": "ineq", "fun": (lambda z, c=c: c(x0 + K @ z))} for c in problem.inequalities]
    result = minimize(fun, zeta, jac=True, method="SLSQP", constraints=constraints,
                      options={"maxiter": 2000, "ftol": 1e-14})
    return result.x, bool(result.success), int(result.nit), str(result.message)


def _finish(problem: Problem, x: np.ndarray, converged: bool, iterations: int, message: str) -> Solution:
    """The solution with the null space of the equalities and active inequalities (for the SEs)."""
    K = problem.K
    active = [c for c in problem.inequalities if abs(c(x)) < 1e-6]
    names = [n for c, n in zip(problem.inequalities, problem.names[len(problem.nonlinear):]) if abs(c(x)) < 1e-6]
    binding = list(problem.nonlinear) + active
    Z = K
    if binding:
        J = np.array([_constraint_gradient(c, x) for c in binding]) @ K
        Z = K @ linalg.null_space(J, rcond=1e-8)
    return Solution(x, _f(problem, x), converged, iterations, message, Z, tuple(names))


def _constraint_gradient(c: Callable[[np.ndarray], float], x: np.ndarray) -> np.ndarray:
    out = np.zeros(len(x))
    for i in range(len(x)):
        h = 1e-6 * max(1.0, abs(x[i]))
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        out[i] = (c(up) - c(down)) / (2 * h)
    return out


def saturated_constant(problem: Problem) -> float:
    """``Σ_g n_g/N F_g(saturated)``: subtract from :func:`gradient`'s value to get the discrepancy."""
    return float(sum(w * discrepancy(d, d.mean, d.cov, problem.meanstructure)
                     for w, d in zip(problem.weights, problem.data)))
