"""MLR and MLM for the native SEM engine: the fit's pieces handed to :mod:`pcstats.stats.sem_robust`.

From a solved :class:`pcstats.stats.sem_ml.Problem` this builds, per group, the Jacobian ``Δ_g`` of
the model moments (means, then lavaan's ``vech(Σ)``) in the directions the constraints leave free
(``Z``), the implied and saturated moments and the rows, and returns lavaan 0.6-14's

* MLR: Huber-White standard errors (observed information, first-order meat at the implied moments)
  and the Yuan-Bentler (Mplus) scaled χ², with complete data or FIML;
* MLM: Satorra-Bentler robust standard errors and scaled χ² (expected information, ADF Γ; complete
  data only),

and the scaled and robust CFI, TLI and RMSEA (FIML-corrected under FIML, as lavaan).
"""

from __future__ import annotations

import numpy as np

from ..errors import EngineError
from ..stats import sem_ml, sem_robust

__all__ = ["robust"]


def _deltas(problem: sem_ml.Problem, x: np.ndarray, Z: np.ndarray) -> list[np.ndarray]:
    out = []
    for g in range(len(problem.data)):
        d_mu, d_sigma, _, _ = sem_ml.moment_jacobian(problem, x, g)
        rows = [sem_robust.vech(d) for d in d_sigma]
        delta = np.array(rows).T  # vech(Σ) x free
        if problem.meanstructure:
            delta = np.vstack([d_mu.T, delta])
        out.append(delta @ Z)
    return out


def robust(estimator: str, problem: sem_ml.Problem, solution: sem_ml.Solution, *, chisq: float, df: int,
           baseline_chisq: float, baseline_df: int, exogenous: tuple[str, ...], where: str) -> tuple[np.ndarray, dict]:
    """``(vcov of the free parameters, glance entries)`` of ``estimator`` ("MLR" or "MLM")."""
    if exogenous:
        raise EngineError(f"{where}: estimator={estimator!r} with observed exogenous covariates ({', '.join(exogenous)}) "
                          "is not available yet (lavaan's fixed.x corrections of Gamma and the scores); use "
                          "estimator='ML' with se='bootstrap', or model the covariates (e.g. 'x ~~ x').")
    x, Z = solution.x, solution.Z
    ms = problem.meanstructure
    deltas = _deltas(problem, x, Z)
    values = problem.values(x)
    moments = [sem_ml.implied_moments(layout, values)[4:] for layout in problem.layouts]
    X = [d.X for d in problem.data]
    nobs = [d.n for d in problem.data]
    N = sum(nobs)
    G = len(X)
    if estimator == "MLM":
        E = Z.T @ sem_ml.expected_information(problem, x) @ Z
        weights = [sem_robust.normal_information(sigma, ms) for sigma, _ in moments]
        gammas = [sem_robust.gamma_adf(Xg, ms) for Xg in X]
        vcov = sem_robust.robust_sem_vcov(E, deltas, weights, gammas, nobs)
        test = sem_robust.satorra_bentler(chisq, df, E, deltas, weights, gammas, nobs)
        base = sem_robust.baseline_scaled_test(X, baseline_chisq, baseline_df, "satorra.bentler", ms)
        name = "satorra.bentler"
    else:
        A = Z.T @ sem_ml.observed_information(problem, x) @ Z
        scores = np.vstack([sem_robust.casewise_scores(Xg, mu if ms else None, sigma, delta)
                            for Xg, (sigma, mu), delta in zip(X, moments, deltas)])
        vcov = sem_robust.huber_white_vcov(A, scores)
        h1_info, h1_first = [], []
        for d in problem.data:
            h1_info.append(sem_robust.observed_information(d.X, d.mean, d.cov, ms))
            h1_first.append(sem_robust.first_order_information(sem_robust.h1_scores(d.X, d.mean, d.cov, ms)))
        test = sem_robust.yuan_bentler_mplus(chisq, df, A, scores, h1_info, h1_first, npar=len(problem.free))
        h1_means, h1_covs = [d.mean for d in problem.data], [d.cov for d in problem.data]
        base = sem_robust.baseline_scaled_test(X, baseline_chisq, baseline_df, "yuan.bentler.mplus", ms,
                                               h1_means, h1_covs)
        name = "yuan.bentler.mplus"
    c, c0 = test.scaling_factor, base.scaling_factor
    out = {"test": name, "chisq_scaled": test.chisq, "p_value_scaled": test.pvalue, "scaling_factor": c, "baseline_chisq_scaled": base.chisq, "baseline_scaling_factor": c0}
    out.update(_rename(sem_robust.scaled_fit_indices(chisq, df, c, baseline_chisq, baseline_df, c0, N, G)))
    if all(d.complete for d in problem.data):
        robust_ix = sem_robust.robust_fit_indices(chisq, df, c, baseline_chisq, baseline_df, c0, N, G)
    else:
        h1_means, h1_covs = [d.mean for d in problem.data], [d.cov for d in problem.data]
        model = sem_robust.fiml_corrected(X, [mu for _, mu in moments], [s for s, _ in moments], deltas,
                                          h1_means, h1_covs, df)
        null_model = sem_robust.independence_model(X, meanstructure=True)
        null = sem_robust.fiml_corrected(X, null_model.means, null_model.covs, null_model.deltas, h1_means, h1_covs,
                                         baseline_df)
        robust_ix = sem_robust.robust_fit_indices(model.chisq, model.df, model.scaling_factor, null.chisq, null.df,
                                                  null.scaling_factor, N, G)
    out.update(_rename(robust_ix))
    return Z @ vcov @ Z.T, out


def _rename(indices: dict[str, float]) -> dict[str, float]:
    """sem_robust's names as glance()'s (``rmsea_ci_lower_scaled`` -> ``rmsea_ci_low_scaled``)."""
    return {k.replace("ci_lower", "ci_low").replace("ci_upper", "ci_high"): v for k, v in indices.items()}
