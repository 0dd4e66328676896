"""Likelihood-ratio tests between nested mixed models, as lme4's ``anova(m0, m1)``."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from .errors import PcstatsError
from .results import Results

__all__ = ["lrt"]


def lrt(small: Results, big: Results, *, refit: bool = True) -> pd.DataFrame:
    """Likelihood-ratio test of ``small`` against ``big``, per ``by`` group.

    As lme4's ``anova()``: models fitted by REML are refitted by maximum likelihood first
    (``refit=True``, the default), since REML likelihoods of models with different fixed effects
    are not comparable. With ``refit=False`` both models must have the same fixed effects (a test
    of random effects on the REML scale). The statistic is ``2 (log_lik_big − log_lik_small)`` on
    ``npar_big − npar_small`` df, against χ². A variance tested at its boundary (zero) makes this
    p-value conservative.

    Returns one row per model and group: the by keys, model, npar, aic, bic, log_lik, deviance,
    statistic, df, p_value (NaN on the smaller model's rows), refitted.

    Examples
    --------
    >>> import pcstats as pc
    >>> cells = pc.read_table("tests/reference/mixed_cells.csv")
    >>> m0 = pc.fit(pc.MixedSpec("NEE ~ year_c + (1 | region)"), cells)
    >>> m1 = pc.fit(pc.MixedSpec("NEE ~ year_c + (1 + year_c | region)"), cells)
    >>> bool(pc.lrt(m0, m1)["p_value"].iloc[1] < 0.001)
    True
    """
    for name, res in (("small", small), ("big", big)):
        if not isinstance(res, Results) or type(res.spec).kind != "mixed":
            raise PcstatsError(f"lrt(): {name} must be the Results of a mixed model (pcstats.MixedSpec).")
    if small.provenance.data_hash != big.provenance.data_hash or small.by != big.by:
        raise PcstatsError("lrt(): the two models were fitted to different tables or with different by= keys; "
                           "a likelihood-ratio test needs the same rows.")
    if _rows(small) != _rows(big):
        raise PcstatsError(
            "lrt(): the two models were fitted to different rows (different where= filters or NaN drops); "
            "a likelihood-ratio test needs the same rows. Fit both with the same where=."
        )
    if not refit and _reml(small) != _reml(big):
        raise PcstatsError("lrt(refit=False): one model is fitted by REML and the other by ML; their likelihoods are "
                           "not comparable. Use refit=True, or fit both the same way.")
    reml = _reml(small) or _reml(big)
    if reml and not refit and small.spec.fixed != big.spec.fixed:
        raise PcstatsError(
            f"lrt(refit=False): REML likelihoods of models with different fixed effects ({small.spec.fixed!r} vs "
            f"{big.spec.fixed!r}) are not comparable. Use refit=True (maximum likelihood), as lme4's anova() does."
        )
    refitted = reml and refit
    if refitted:
        small, big = _ml(small), _ml(big)
    a, b = small.glance(), big.glance()
    keys = list(small.by)
    if not np.array_equal(a["nobs"].to_numpy(), b["nobs"].to_numpy()):
        raise PcstatsError("lrt(): the models were fitted to different rows (nobs differ); drop NaN rows from the table first.")
    a["deviance"], b["deviance"] = -2 * a["log_lik"], -2 * b["log_lik"]  # the REML criterion on the REML scale
    columns = ["npar", "aic", "bic", "log_lik", "deviance"]
    a = a.rename(columns={"df": "npar"})
    b = b.rename(columns={"df": "npar"})
    if (a["npar"] >= b["npar"]).any():
        raise PcstatsError("lrt(small, big): big must have more parameters than small; pass the smaller model first.")
    statistic = 2 * (b["log_lik"] - a["log_lik"])
    df = b["npar"] - a["npar"]
    first = a[keys + ["model"] + columns].assign(statistic=np.nan, df=np.nan, p_value=np.nan)
    second = b[keys + ["model"] + columns].assign(statistic=statistic.to_numpy(), df=df.to_numpy(),
                                                  p_value=stats.chi2.sf(np.clip(statistic, 0, None), df))
    out = pd.concat([first, second]).sort_index(kind="stable").reset_index(drop=True)
    out["refitted"] = refitted
    return out


def _reml(res: Results) -> bool:
    """Fitted by REML: Gaussian models with reml=True (a GLMM's Laplace likelihood is always ML)."""
    return bool(res.spec.reml) and getattr(res.spec, "family", "gaussian") == "gaussian"


def _rows(res: Results) -> str:
    """A hash of the rows a fit used: its key columns and response, group by group."""
    import hashlib

    data = res.model_data
    keys = [c for c in ("_group", "source", "kind", "region", "site", "year", "month", "season", data.response)
            if c in data.frame.columns]
    return hashlib.sha256(pd.util.hash_pandas_object(data.frame[keys], index=False).to_numpy().tobytes()).hexdigest()


def _ml(res: Results) -> Results:
    if not _reml(res):
        return res
    from .engines import run

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the REML fit already reported its warnings
        return run(res.spec.replace(reml=False, engine=res.engine), res.model_data)
