"""TrendSpec: per-group linear (OLS) or Sen/Mann-Kendall trends."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from ..errors import SpecError
from .checks import choice as _choice
from .checks import engine_name, normalise_by, replace_fields, spec_name
from .checks import typed as _typed
from .formula import check_where, parse_formula

__all__ = ["TrendSpec"]


@dataclass(frozen=True)
class TrendSpec:
    """What to fit: a formula per group of the long table.

    Parameters
    ----------
    formula
        R's formula language (``mpg ~ wt * hp + factor(cyl)``, ``log(y) ~ poly(x, 2)``; see
        :mod:`pcstats.specs.r_formula`). On a data frame the names are its columns, as in R's
        ``lm``; on a pcstats long table they are ``variable`` values (pivoted to columns on the
        key columns) or key columns such as ``year``, ``region``, ``source``.
    by
        Columns (key columns of a long table); one fit per combination of their values.
    where
        Row filter applied before fitting, e.g. ``"season == 'ANN'"``.
    method
        ``"ols"`` (least squares) or ``"sen"`` (Sen's slope with the Mann-Kendall test; formula
        must be ``y ~ year``).
    cov_type
        ``"nonrobust"`` or ``"HAC"`` (Newey-West with the Bartlett kernel: the estimator of R's
        ``sandwich::NeweyWest``, with the defaults below).
    hac_lags
        HAC truncation lag; ``None`` uses ``floor(4 (n/100)^(2/9))`` per group (statsmodels' rule).
        Recorded in ``glance()``.
    hac_prewhite
        VAR(1) prewhitening of the estimating functions. The R equivalent of a pcstats HAC fit is
        ``coeftest(fit, vcov = NeweyWest(fit, lag = L, prewhite = P, adjust = FALSE))`` with the
        lag and prewhitening pcstats records; note R's own defaults differ (automatic
        ``bwNeweyWest`` lag, ``prewhite = TRUE``).
    conf_level
        Confidence level of ``conf_low``/``conf_high``.
    min_years
        Groups with fewer distinct years are reported in ``glance()`` and not fitted.
    weights
        A column of positive weights: weighted least squares as R's ``lm(..., weights = w)``
        (residual variance sigma^2 / w; log-likelihood, R^2 and AIC as R computes them).
    engine
        ``"auto"``, ``"statsmodels"``, ``"closed_form"`` or ``"mannkendall"``; ``"auto"`` takes the
        vectorised closed form for plain ``y ~ year`` OLS with one row per year, the Sen engine for
        ``method="sen"`` and statsmodels otherwise. The engine used is recorded in the Results.
    name
        Label of the model in ``tidy()`` and ``compare()``; defaults to :attr:`label`.

    Examples
    --------
    >>> import pandas as pd, pcstats as pc
    >>> cars = pd.read_csv("tests/reference/model_frames/data/mtcars.csv")
    >>> pc.fit(pc.TrendSpec("mpg ~ wt", by=("am",)), cars).tidy()["term"].tolist()
    ['(Intercept)', 'wt', '(Intercept)', 'wt']
    >>> spec = pc.TrendSpec("NEE ~ year", by=("region", "season"))
    >>> spec.replace(cov_type="HAC", hac_lags=2).label
    'NEE ~ year [HAC(2)]'
    """

    formula: str
    by: tuple[str, ...] = ()
    where: str | None = None
    method: Literal["ols", "sen"] = "ols"
    cov_type: Literal["nonrobust", "HAC"] = "nonrobust"
    hac_lags: int | None = None
    hac_prewhite: bool = False
    conf_level: float = 0.95
    min_years: int = 3
    weights: str | None = None
    engine: str = "auto"
    name: str | None = field(default=None, compare=True)

    kind: ClassVar[str] = "trend"

    def __post_init__(self) -> None:
        engine_name(self)
        spec_name(self)
        object.__setattr__(self, "by", normalise_by(self.by))
        parsed = parse_formula(self.formula)
        if self.where is not None:
            check_where(self.where)
        _typed("conf_level", self.conf_level, (int, float), "a number such as 0.95")
        _typed("min_years", self.min_years, int, "a whole number such as 3")
        _typed("hac_prewhite", self.hac_prewhite, bool, "True or False")
        if self.hac_lags is not None:
            _typed("hac_lags", self.hac_lags, int, "a whole number >= 0, or None for the default rule")
        _choice("method", self.method, ("ols", "sen"))
        _choice("cov_type", self.cov_type, ("nonrobust", "HAC"))
        if self.cov_type != "HAC" and (self.hac_lags is not None or self.hac_prewhite):
            raise SpecError("hac_lags/hac_prewhite are set but cov_type is 'nonrobust'; set cov_type='HAC' or drop them.")
        if self.hac_lags is not None and self.hac_lags < 0:
            raise SpecError(f"hac_lags={self.hac_lags!r} must be a whole number >= 0, or None for the default rule.")
        if not 0 < self.conf_level < 1:
            raise SpecError(f"conf_level={self.conf_level!r} must lie strictly between 0 and 1, e.g. 0.95.")
        if self.min_years < 3:
            raise SpecError(f"min_years={self.min_years!r}: a trend needs at least 3 years (one residual degree of freedom).")
        if self.weights is not None:
            _typed("weights", self.weights, str, "a column name such as 'n_obs', or None")
            if self.method == "sen" or self.cov_type == "HAC":
                raise SpecError("weights= is for OLS with nonrobust standard errors (method='ols', cov_type='nonrobust').")
        if self.method == "sen":
            if parsed.factors != ("year",) or not parsed.has_intercept:
                raise SpecError(f"method='sen' fits one slope against year; formula must be 'y ~ year', got {self.formula!r}.")
            if self.cov_type != "nonrobust":
                raise SpecError("method='sen' has no covariance type; leave cov_type='nonrobust'.")

    @property
    def label(self) -> str:
        """The model's name in outputs: ``name`` if given, else the formula and non-default options."""
        if self.name:
            return self.name
        options = []
        if self.method == "sen":
            options.append("Sen")
        if self.weights:
            options.append(f"weights={self.weights}")
        if self.cov_type == "HAC":
            lag = "auto" if self.hac_lags is None else str(self.hac_lags)
            options.append(f"HAC({lag}{', prewhite' if self.hac_prewhite else ''})")
        return self.formula + (f" [{', '.join(options)}]" if options else "")

    def replace(self, **changes: Any) -> TrendSpec:
        """A copy with some fields changed (the spec itself is frozen)."""
        return replace_fields(self, changes)

