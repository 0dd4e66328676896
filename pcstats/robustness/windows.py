"""Random windows: the trend of every series over many random start years and lengths, vectorised.

The paper's first robustness check: trends over random periods of at least 10 years. Windows are
drawn once (seeded) on the calendar years of the fitted rows and applied to every group, so the
groups' trends can be compared window by window (e.g. P - NoP). The maths is
:func:`pcstats.stats.window_ols.window_trends`; the numbers equal a statsmodels OLS refit of each
window's rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .._version import __version__
from ..engines.prepare import prepare
from ..errors import PcstatsError
from ..results import Provenance, Results, build_results, finish_warnings, package_versions
from ..specs.formula import parse_formula
from ..specs.trend import TrendSpec
from ..stats.ols import t_test
from ..stats.welch import welch_difference
from ..stats.window_ols import window_trends

__all__ = ["WindowSpec", "WindowSummarySpec", "WindowResults", "random_windows"]

_BLOCK = 2_000  # windows per block (the progress bar counts blocks)


@dataclass(frozen=True)
class WindowSpec:
    """What ``random_windows`` ran: the trend spec, how many windows, their lengths, the seed."""

    trend: TrendSpec
    n: int
    min_length: int
    max_length: int
    seed: int | None

    kind: ClassVar[str] = "robustness"

    @property
    def label(self) -> str:
        return f"{self.trend.label} [{self.n} random windows of {self.min_length}-{self.max_length} years]"

    @property
    def conf_level(self) -> float:
        return self.trend.conf_level


@dataclass(frozen=True)
class WindowSummarySpec:
    """What :meth:`WindowResults.distribution` condensed: the windows, the significance level, the contrast."""

    windows: WindowSpec
    alpha: float
    contrast: tuple[str, str, str] | None

    kind: ClassVar[str] = "robustness"
    conf_level: ClassVar[float] = 0.95  # conf_low/conf_high are the 2.5 and 97.5 % quantiles over the windows

    @property
    def label(self) -> str:
        return f"{self.windows.trend.label} [median of {self.windows.n} random windows]"


@dataclass(frozen=True, eq=False, repr=False)  # keep Results.__repr__
class WindowResults(Results):
    """Results of :func:`random_windows`: ``tidy()`` has one row per window and group."""

    def distribution(self, alpha: float = 0.05, contrast: tuple[str, str, str] | None = None) -> Results:
        """The distribution of each group's trend over the windows, and of a contrast, as a Results.

        It is a distribution, not a test: ``pc.table`` and ``compare()`` take it beside ordinary fits
        (the median window trend in the row of the trend term), but it has no p-values.

        Parameters
        ----------
        alpha
            Significance level of the shares in ``glance()``.
        contrast
            ``(key, a, b)``: per window, ``trend[key=a] - trend[key=b]`` with its Welch test, e.g.
            ``("region", "P", "NoP")`` (the default when ``region`` has those values).

        Returns
        -------
        Results
            By the by keys other than ``window``. ``tidy()``: component ``fixed``, the trend term,
            estimate = the median trend over the windows fitted, std_error = their SD, conf_low and
            conf_high = the 2.5 and 97.5 % quantiles, statistic and p_value NaN. A contrast adds rows of
            component ``difference`` whose ``key`` is ``"a - b"`` (e.g. region ``"P - NoP"``), over the
            windows where both are fitted. ``glance()``: nobs (windows fitted), share_significant
            (p < alpha; for the contrast, the Welch p), share_positive_significant,
            share_negative_significant and share_positive (estimate > 0).

        Examples
        --------
        >>> import pcstats as pc
        >>> t = pc.read_table("tests/reference/trend_input.csv")
        >>> spec = pc.TrendSpec("NEE ~ year", by=("region", "season"), where="source == 'ensemble'")
        >>> s = pc.robustness.random_windows(spec, t, n=200, seed=1).distribution()
        >>> s.by, sorted(s.tidy()["region"].unique()), int(s.glance()["nobs"].iloc[0])
        (('region', 'season'), ['NoP', 'P', 'P - NoP'], 200)
        """
        tidy = self.tidy()
        keys = [k for k in self.by if k != "window"]
        if contrast is None and "region" in keys and {"P", "NoP"} <= set(tidy["region"]):
            contrast = ("region", "P", "NoP")
        fitted = tidy[tidy["estimate"].notna()]
        parts = [_distribution(fitted, keys, alpha, "fixed")]
        if contrast is not None:
            key, a, b = contrast
            if key not in keys:
                raise PcstatsError(f"summary(contrast={contrast!r}): {key!r} is not a by key ({keys}).")
            on = ["window", "term", *[k for k in keys if k != key]]
            columns = [*on, "estimate", "std_error", "df_residual"]
            left, right = fitted.loc[fitted[key] == a, columns], fitted.loc[fitted[key] == b, columns]
            if left.empty or right.empty:
                raise PcstatsError(f"summary(contrast={contrast!r}): no fitted windows with {key} = {a!r} or {b!r}.")
            pair = left.merge(right, on=on, suffixes=("_a", "_b"), how="inner")
            r = welch_difference(pair["estimate_a"], pair["std_error_a"], pair["df_residual_a"],
                                 pair["estimate_b"], pair["std_error_b"], pair["df_residual_b"], self.spec.conf_level)
            diff = pair[on].assign(**{key: f"{a} - {b}"}, estimate=r["estimate"], p_value=r["p_value"])
            parts.append(_distribution(diff, keys, alpha, "difference"))
        spec = WindowSummarySpec(self.spec, float(alpha), None if contrast is None else tuple(contrast))
        return build_results(spec, "window_summary", __version__, keys, pd.concat([c for c, _ in parts], ignore_index=True),
                             pd.concat([s for _, s in parts], ignore_index=True), provenance=self.provenance,
                       removed=self.removed, warnings=self.warnings, units=dict(self.units))


def _distribution(frame: pd.DataFrame, keys: list[str], alpha: float, component: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """tidy() and glance() rows of the distribution of ``estimate`` over the windows, per group of ``keys``."""
    significant = (frame["p_value"] < alpha).to_numpy()
    data = frame.assign(_sig=significant, _pos_sig=significant & (frame["estimate"] > 0).to_numpy(),
                        _neg_sig=significant & (frame["estimate"] < 0).to_numpy(), _pos=frame["estimate"] > 0)
    grouped = data.groupby([*keys, "term"], sort=True)
    out = grouped.agg(estimate=("estimate", "median"), std_error=("estimate", "std"),
                      conf_low=("estimate", lambda e: e.quantile(0.025)), conf_high=("estimate", lambda e: e.quantile(0.975)),
                      nobs=("estimate", "size"), share_significant=("_sig", "mean"),
                      share_positive_significant=("_pos_sig", "mean"), share_negative_significant=("_neg_sig", "mean"),
                      share_positive=("_pos", "mean")).reset_index()
    coefficients = out[[*keys]].assign(component=component, term=out["term"], estimate=out["estimate"],
                                       std_error=out["std_error"], statistic=np.nan, p_value=np.nan,
                                       conf_low=out["conf_low"], conf_high=out["conf_high"])
    statistics = out[[*keys, "nobs", "share_significant", "share_positive_significant", "share_negative_significant",
                      "share_positive"]]
    return coefficients, statistics


def random_windows(spec: TrendSpec, table: pd.DataFrame, n: int = 10_000, min_length: int = 10, *,
                   max_length: int | None = None, seed: int | None = 0) -> WindowResults:
    """Trends of every group of ``spec`` over ``n`` random windows of ``min_length``-``max_length`` years.

    Parameters
    ----------
    spec
        A ``y ~ year`` OLS :class:`pcstats.TrendSpec` (nonrobust SEs), e.g. by region and season.
    table
        The long table the spec fits (one row per group and year).
    n
        Number of windows; each has a length drawn uniformly from ``min_length..max_length`` and then a
        start year drawn uniformly among those that fit in the record (first..last year of the rows).
    max_length
        Default: the whole record.
    seed
        Seed of ``numpy.random.default_rng``; the same seed gives the same windows.

    Returns
    -------
    WindowResults
        ``tidy()``: window, start, end, length, the by keys, term ``year``, estimate, std_error,
        statistic, p_value, conf_low, conf_high, nobs (years with data in the window), df_residual;
        windows where a group has fewer than 3 years are NaN and counted in ``glance()``.
        ``summary()`` condenses them into a Results that ``pc.table`` and ``compare()`` take.

    Examples
    --------
    >>> import pcstats as pc
    >>> t = pc.read_table("tests/reference/trend_input.csv")
    >>> spec = pc.TrendSpec("NEE ~ year", by=("region", "season"), where="source == 'ensemble'")
    >>> rw = pc.robustness.random_windows(spec, t, n=100, seed=1)
    >>> rw.tidy()[["window", "region", "season", "start", "length"]].shape
    (800, 5)
    """
    if not isinstance(spec, TrendSpec):
        raise PcstatsError(f"random_windows() takes a TrendSpec, got {type(spec).__name__}.")
    parsed = parse_formula(spec.formula)
    if parsed.factors != ("year",) or not parsed.has_intercept or spec.method != "ols" or spec.cov_type != "nonrobust":
        raise PcstatsError(f"random_windows() refits 'y ~ year' OLS with nonrobust SEs; {spec.label!r} is not that. "
                           "Use spec.replace(formula='NEE ~ year', method='ols', cov_type='nonrobust').")
    for name, value, low in (("n", n, 1), ("min_length", min_length, 3)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise PcstatsError(f"random_windows({name}={value!r}): give a whole number >= {low}.")
    prepared = prepare(table, spec.formula, spec.by, spec.where, spec.min_years)
    frame = prepared.frame
    if frame.duplicated(["_group", "year"]).any():
        raise PcstatsError("random_windows(): some group has several rows for one year; add the key that separates "
                           "them (e.g. 'source') to the spec's by=.")
    groups = np.unique(frame["_group"].to_numpy())
    first, last = int(frame["year"].min()), int(frame["year"].max())
    record = last - first + 1
    max_length = record if max_length is None else int(max_length)
    if min_length > record:
        raise PcstatsError(f"random_windows(min_length={min_length}): the record is only {record} years "
                           f"({first}-{last}); give min_length <= {record}.")
    if not min_length <= max_length <= record:
        raise PcstatsError(f"random_windows(max_length={max_length}): give min_length ({min_length}) <= max_length <= "
                           f"the record's {record} years ({first}-{last}).")
    rng = np.random.default_rng(seed)
    lengths = rng.integers(min_length, max_length + 1, n)
    starts = first + np.floor(rng.random(n) * (record - lengths + 1)).astype(np.int64)
    years = np.arange(first, last + 1)
    Y = np.full((len(groups), record), np.nan)
    Y[np.searchsorted(groups, frame["_group"].to_numpy()), frame["year"].to_numpy() - first] = frame[prepared.response].to_numpy(float)

    blocks = range(0, n, _BLOCK)
    parts = [window_trends(Y, years, starts[b:b + _BLOCK], lengths[b:b + _BLOCK])
             for b in tqdm(blocks, total=len(blocks), desc="random windows", delay=1.0, leave=False, disable=None)]
    def stack(field: str) -> np.ndarray:
        return np.concatenate([getattr(p, field) for p in parts], axis=1).ravel()  # group-major
    nobs, est, se = stack("nobs"), stack("slope"), stack("se_slope")
    df = nobs - 2.0
    stat, p, low, high = t_test(est, se, np.where(np.isnan(est), np.nan, df), spec.conf_level)
    keys = prepared.groups.loc[groups, list(prepared.by)].reset_index(drop=True)
    index = np.repeat(np.arange(len(groups)), n)
    window = np.tile(np.arange(n), len(groups))
    coefficients = pd.concat([pd.DataFrame({"window": window}), keys.iloc[index].reset_index(drop=True)], axis=1).assign(
        component="fixed", term="year", estimate=est, std_error=se, statistic=stat, p_value=p, conf_low=low, conf_high=high,
        start=starts[window], end=starts[window] + lengths[window] - 1, length=lengths[window], nobs=nobs,
        df_residual=np.where(np.isnan(est), np.nan, df))
    missing = np.isnan(est)
    statistics = coefficients[["window", *prepared.by, "nobs", "df_residual"]].assign(
        sigma=stack("sigma"), r_squared=stack("r_squared"), n_dropped=0,
        dropped_why=np.where(missing, "not fitted: fewer than 3 years with data in the window", ""))
    statistics["nobs"] = np.where(missing, 0, nobs).astype(np.int64)
    messages = []
    if missing.any():
        messages.append(f"{int(missing.sum())} of {missing.size} window x group fits have fewer than 3 years with data "
                        "and are NaN (glance().dropped_why)")
    window_spec = WindowSpec(trend=spec, n=int(n), min_length=int(min_length), max_length=max_length, seed=seed)
    return build_results(window_spec, "window_ols", __version__, ("window", *prepared.by), coefficients, statistics,
                         cls=WindowResults, provenance=Provenance(prepared.data_hash, seed, package_versions()), removed=prepared.removed,
                         warnings=finish_warnings(messages, "robustness"), units=dict(prepared.units), model_data=prepared)
