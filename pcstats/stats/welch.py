"""Difference of two independent estimates from their SEs (Welch-Satterthwaite df)."""

from __future__ import annotations

import numpy as np

from .ols import t_test

__all__ = ["welch_difference"]


def welch_difference(est_a, se_a, df_a, est_b, se_b, df_b, conf_level: float = 0.95) -> dict[str, np.ndarray]:
    """Test ``a - b = 0`` for two independent estimates.

    ``se = sqrt(se_a^2 + se_b^2)``, ``df = se^4 / (se_a^4 / df_a + se_b^4 / df_b)``, t with that df.

    Examples
    --------
    >>> r = welch_difference(0.58, 0.09, 36, 0.13, 0.06, 36)
    >>> round(float(r["estimate"]), 2), round(float(r["statistic"]), 3), round(float(r["df"]), 1)
    (0.45, 4.16, 62.7)
    """
    est_a, se_a, df_a, est_b, se_b, df_b = (np.asarray(v, dtype=np.float64) for v in (est_a, se_a, df_a, est_b, se_b, df_b))
    estimate = est_a - est_b
    va, vb = se_a**2, se_b**2
    se = np.sqrt(va + vb)
    with np.errstate(invalid="ignore", divide="ignore"):
        df = (va + vb) ** 2 / (va**2 / df_a + vb**2 / df_b)
    statistic, p_value, low, high = t_test(estimate, se, df, conf_level)
    return {"estimate": estimate, "std_error": se, "statistic": statistic, "df": df,
            "p_value": p_value, "conf_low": low, "conf_high": high}
