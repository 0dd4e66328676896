"""One Results type for every engine, and ``compare()`` to line fits up side by side.

Columns follow broom with ``_`` for ``.``:

``tidy()``
    model, the ``by`` keys, component, term, estimate, std_error, statistic, p_value, conf_low, conf_high
``glance()``
    model, the ``by`` keys, nobs, df_residual, r_squared, adj_r_squared, sigma, log_lik, aic, bic,
    n_dropped, dropped_why (one row per group, including groups that were not fitted)
``augment()``
    the ``by`` keys, the data columns of the fit, fitted, resid

Numbers stay numbers: missing is NaN, never a string.
"""

from __future__ import annotations

import dataclasses
import functools
import datetime as dt
import platform
import warnings as _warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Literal

import numpy as np
import pandas as pd

from .errors import PcstatsError, did_you_mean

__all__ = ["Results", "Provenance", "build_results", "compare", "package_versions", "stack", "TIDY_COLUMNS", "GLANCE_COLUMNS"]

TIDY_COLUMNS = ("component", "term", "estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high")
GLANCE_COLUMNS = ("nobs", "df_residual", "r_squared", "adj_r_squared", "sigma", "log_lik", "aic", "bic")


def package_versions(*names: str) -> tuple[tuple[str, str], ...]:
    """Installed versions of pcstats and the given packages (read once per process)."""
    return tuple(dict([("python", platform.python_version()),
                       *((name, _version(name)) for name in ("pcstats", "numpy", "pandas", "scipy", *names))]).items())


@functools.cache
def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


@dataclass(frozen=True)
class Provenance:
    """Where a result came from: the data's hash, the seed, package versions, when."""

    data_hash: str
    seed: int | None
    versions: tuple[tuple[str, str], ...]
    created: str = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))
    design: Mapping[str, Any] | None = None  # how the data were made into the table (pcstats.StudyDesign.describe())

    def as_dict(self) -> dict[str, Any]:
        out = {"data_hash": self.data_hash, "seed": self.seed, "versions": dict(self.versions), "created": self.created}
        return out if self.design is None else out | {"design": dict(self.design)}


@dataclass(frozen=True, eq=False)
class Results:
    """The fitted model: tables, the spec that made it, the engine, warnings and provenance.

    Immutable: the accessors return copies.

    ``native`` maps each group's ``by`` values (a tuple; ``()`` without ``by``) to the engine's own
    fitted object, for what pcstats does not expose: a statsmodels ``RegressionResults`` (engine
    ``statsmodels``; for a HAC fit it carries the same Newey-West covariance as ``tidy()``), the
    profiled engine's ``LMMFit``/GLMM fit, statsmodels ``MixedLMResults``, an lme4 model through
    rpy2, a linearmodels result, ArviZ ``InferenceData`` (Bayesian; also ``idata``), a semopy
    model or pcstats' SEM fit. It is ``None`` for engines that keep nothing beyond the tables
    (``closed_form``, ``mannkendall``, skill, Q10). ``tidy()``/``glance()`` are the supported
    output; ``native`` may change with the backend's version and is left out when pickling
    objects that cannot be pickled.

    ``summary()`` prints the fit, ``predict(newdata)`` predicts (OLS and mixed models),
    ``to_broom()`` gives broom's own column names, and notebooks show an HTML table.

    Examples
    --------
    >>> import pcstats as pc
    >>> t = pc.read_table("tests/reference/trend_input.csv")
    >>> res = pc.fit(pc.TrendSpec("NEE ~ year", by=("region", "season")), t)
    >>> list(res.tidy().columns[:4])
    ['model', 'region', 'season', 'component']
    """

    spec: Any
    engine: str
    engine_version: str
    by: tuple[str, ...]
    _coefficients: pd.DataFrame = field(repr=False)  # read through tidy()
    _statistics: pd.DataFrame = field(repr=False)  # read through glance()
    provenance: Provenance = field(repr=False)
    removed: pd.DataFrame = field(repr=False, default_factory=lambda: pd.DataFrame(columns=["stage", "reason", "n_removed", "n_before"]))
    warnings: tuple[str, ...] = ()
    units: Mapping[str, str] = field(default_factory=dict)  # unit of each variable in the formula
    augmenter: Callable[[], pd.DataFrame] | None = field(repr=False, default=None)
    native: Mapping[Any, Any] | None = field(repr=False, default=None)
    model_data: Any = field(repr=False, default=None)  # the rows the engine fitted (engines.prepare.Prepared), to refit

    @property
    def model(self) -> str:
        """The model's label (``spec.label``)."""
        return self.spec.label

    @property
    def r_squared(self) -> pd.DataFrame:
        """R² per group: of each endogenous variable for SEMs (``tidy()`` rows of component ``r2``),
        the ``glance()`` columns ``r_squared``/``r2_marginal``/``r2_conditional`` otherwise."""
        tidy = self.tidy()
        if "component" in tidy.columns and (tidy["component"] == "r2").any():
            rows = tidy[tidy["component"] == "r2"]
            group = ["group"] if "group" in rows.columns and rows["group"].notna().any() else []  # multi-group SEM
            return rows[["model", *self.by, *group, "lhs", "estimate"]].rename(
                columns={"lhs": "variable", "estimate": "r_squared"}).reset_index(drop=True)
        glance = self.glance()
        columns = [c for c in ("r_squared", "r2_marginal", "r2_conditional") if c in glance.columns]
        if not columns:
            raise PcstatsError(f"r_squared: {self.model!r} ({type(self.spec).kind}) reports no R²"
                               + ("; for a Bayesian R² use arviz.r2_score on res.idata." if type(self.spec).kind == "bayes" else "."))
        return glance[["model", *self.by, *columns]]

    @property
    def idata(self):
        """The ArviZ InferenceData of a Bayesian fit (a dict by group when there are ``by`` groups)."""
        if type(self.spec).kind != "bayes":
            raise PcstatsError(f"idata: {self.model!r} is not a Bayesian fit; it has no posterior draws.")
        native = dict(self.native or {})
        return next(iter(native.values())) if not self.by and len(native) == 1 else native

    def tidy(self) -> pd.DataFrame:
        """One row per group and term (broom's ``tidy``)."""
        return _with_model(self._coefficients, self.model)

    def glance(self) -> pd.DataFrame:
        """One row per group (broom's ``glance``), including groups that were not fitted."""
        return _with_model(self._statistics, self.model)

    def augment(self) -> pd.DataFrame:
        """The fitted rows with ``fitted`` and ``resid`` (broom's ``augment``)."""
        if self.augmenter is None:
            raise PcstatsError(f"The {self.engine!r} engine keeps no per-row values, so augment() is not available.")
        return self.augmenter()

    def subset(self, **values: Any) -> Results:
        """Results for the groups whose ``by`` keys equal the given values (``res.subset(region="P")``)."""
        unknown = [k for k in values if k not in self.by]
        if unknown:
            raise PcstatsError(f"subset(): {unknown[0]!r} is not one of the by keys {self.by}.{did_you_mean(unknown[0], self.by)}")
        for k, v in values.items():
            present = pd.unique(self._statistics[k])
            if not (present == v).any():
                shown = ", ".join(repr(p) for p in present[:10]) + (" ..." if len(present) > 10 else "")
                raise PcstatsError(f"subset(): no group has {k}={v!r}.{did_you_mean(str(v), [str(p) for p in present])} "
                                   f"Values of {k!r}: {shown}.")

        def keep(frame: pd.DataFrame) -> pd.DataFrame:
            mask = np.ones(len(frame), dtype=bool)
            for k, v in values.items():
                mask &= (frame[k] == v).to_numpy()
            return frame[mask].reset_index(drop=True)

        augmenter = None if self.augmenter is None else (lambda: keep(self.augmenter()))
        return dataclasses.replace(self, _coefficients=keep(self._coefficients), _statistics=keep(self._statistics),
                                   augmenter=augmenter)

    def __getstate__(self) -> dict[str, Any]:
        """For pickle (and worker processes): ``augment()`` is computed once and kept as a table, and
        native objects that cannot be pickled (R objects, compiled models) are left out."""
        state = dict(self.__dict__)
        if self.augmenter is not None and not _picklable(self.augmenter):
            state["augmenter"] = _Table(self.augmenter())
        if self.native is not None:
            state["native"] = {k: v for k, v in self.native.items() if _picklable(v)}
        if self.model_data is not None and not _picklable(self.model_data):
            state["model_data"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def summary(self, layout: Literal["auto", "blocks", "table"] = "auto", max_blocks: int = 6):
        """The fit printed as R/statsmodels print it (:class:`pcstats.summary.Summary`; ``print()`` it).

        One block per group (``summary.lm``, lme4/lmerTest, lavaan, brms layouts, by family) when
        there are at most ``max_blocks`` groups, else one compact table with a row per group and
        term; ``layout`` forces either. See :mod:`pcstats.summary`.
        """
        from .summary import summarize

        return summarize(self, layout=layout, max_blocks=max_blocks)

    def predict(self, newdata: pd.DataFrame | None = None, *, re_form: Any = None, allow_new_levels: bool = False,
                type: Literal["link", "response"] = "response") -> pd.DataFrame:
        """Predictions for new rows (or the fitted rows), as R's ``predict.lm`` / lme4's ``predict.merMod``.

        See :func:`pcstats.predict.predict` for ``re_form`` (``None``: with the random effects, lme4's
        ``re.form = NULL``; ``NA``: population level, ``re.form = NA``), ``allow_new_levels`` and grouped fits.
        """
        from .predict import predict

        return predict(self, newdata, re_form=re_form, allow_new_levels=allow_new_levels, type=type)

    def to_broom(self, part: Literal["tidy", "glance", "augment"] = "tidy",
                 effects: Sequence[str] | None = None) -> pd.DataFrame:
        """``tidy()``, ``glance()`` or ``augment()`` with broom's / broom.mixed's own column names
        (``std.error``, ``p.value``, ``conf.low``, ``logLik``, ``AIC``, ``df.residual``, ``.fitted``,
        ``.resid``, ``effect``); ``effects`` as broom.mixed's. See :mod:`pcstats.broom`."""
        from .broom import to_broom

        return to_broom(self, part, effects)

    def _fitted_groups(self) -> tuple[int, int]:
        stats = self._statistics
        total = len(stats)
        if "nobs" not in stats.columns or not stats["nobs"].notna().any():
            return total, total
        return int(stats["nobs"].gt(0).sum()), total

    def __repr__(self) -> str:
        fitted, total = self._fitted_groups()
        nobs = int(pd.to_numeric(self._statistics.get("nobs", pd.Series(dtype=float)), errors="coerce").fillna(0).sum())
        by = f" by {', '.join(self.by)}" if self.by else ""
        lines = [f"<Results {self.model!r}: {type(self.spec).kind} via {self.engine} {self.engine_version}, "
                 f"{fitted} of {total} groups fitted{by}, {nobs} rows, {len(self.warnings)} warning(s)>"]
        main = self._coefficients
        if "component" in main.columns and main["component"].isin(["fixed", "regression"]).any():
            main = main[main["component"].isin(["fixed", "regression"])]
        if len(main) and {"term", "estimate"} <= set(main.columns):
            shown = main.head(6)
            for _, row in shown.iterrows():
                keys = ", ".join(str(row[k]) for k in self.by if k in row.index)
                se = row.get("std_error", np.nan)
                lines.append(f"  {(keys + ': ') if keys else ''}{row['term']} = {row['estimate']:.4g}"
                             + (f" (SE {se:.3g})" if pd.notna(se) else ""))
            if len(main) > len(shown):
                lines.append(f"  ... {len(main) - len(shown)} more rows in tidy(); summary() prints them all")
        lines += [f"  warning: {w}" for w in self.warnings[:5]]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """A compact table for notebooks: model, engine, groups, coefficients with SE and p, warnings."""
        from .summary import results_html

        return results_html(self)


def stack(results: Mapping[str, Results], key: str, spec: Any) -> Results:
    """One Results from several (same family), with ``key`` holding each one's label as the first by key.

    ``spec`` describes the whole (it needs a ``label``); removed rows and warnings are kept per label.

    >>> import pcstats as pc
    >>> t = pc.read_table("tests/reference/trend_input.csv")
    >>> a = pc.fit(pc.TrendSpec("NEE ~ year", by="season", where="source == 'CAMS' and region == 'P'"), t)
    >>> both = stack({"one": a, "two": a}, "copy", a.spec)
    >>> both.by, len(both.tidy()) == 2 * len(a.tidy())
    (('copy', 'season'), True)
    """
    def concat(part: Callable[[Results], pd.DataFrame]) -> pd.DataFrame:
        frames = [part(r).drop(columns="model", errors="ignore").assign(**{key: label}) for label, r in results.items()]
        out = pd.concat(frames, ignore_index=True)
        return out[[key] + [c for c in out.columns if c != key]]

    first = next(iter(results.values()))
    removed = pd.concat([r.removed.assign(**{key: label}) for label, r in results.items()], ignore_index=True)
    warnings = tuple(f"{label}: {w}" for label, r in results.items() for w in r.warnings)
    hashes = "+".join(dict.fromkeys(r.provenance.data_hash for r in results.values()))
    return Results(spec, first.engine, first.engine_version, (key, *first.by), _coefficients=concat(Results.tidy),
                   _statistics=concat(Results.glance), provenance=Provenance(hashes, first.provenance.seed, package_versions()),
                   removed=removed, warnings=warnings, units=dict(first.units))


@dataclass(frozen=True)
class _Table:
    """An ``augment()`` table kept by value (a picklable stand-in for an engine's closure)."""

    frame: pd.DataFrame

    def __call__(self) -> pd.DataFrame:
        return self.frame.copy()


def _picklable(value: Any) -> bool:
    import pickle

    try:
        pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - any object pickle refuses (closures, R and C objects)
        return False
    return True


def _with_model(frame: pd.DataFrame, model: str) -> pd.DataFrame:
    out = frame.copy()
    out.insert(0, "model", model)
    return out


def finish_warnings(messages: Iterable[str], family: str) -> tuple[str, ...]:
    """Keep messages on the Results and echo a one-line summary as a Python warning."""
    messages = tuple(dict.fromkeys(messages))
    if messages:
        more = f" (+{len(messages) - 1} more in Results.warnings)" if len(messages) > 1 else ""
        # caller -> pcstats.fit -> engine -> assemble -> here
        _warnings.warn(f"pcstats {family} fit: {messages[0]}{more}", stacklevel=5)
    return messages


def build_results(spec: Any, engine: str, engine_version: str, by: Sequence[str], coefficients: pd.DataFrame,
                  statistics: pd.DataFrame, *, provenance: Provenance, cls: type[Results] | None = None,
                  **fields: Any) -> Results:
    """The one place a :class:`Results` is made: every engine and summary calls this.

    ``coefficients`` become ``tidy()`` (broom's columns), ``statistics`` ``glance()``; ``fields``
    are the other :class:`Results` fields (``removed``, ``warnings``, ``units``, ``augmenter``,
    ``native``, ``model_data``). ``cls`` is a subclass with extra methods (window results).
    """
    return (cls or Results)(spec, engine, engine_version, tuple(by), _coefficients=coefficients.reset_index(drop=True),
                            _statistics=statistics.reset_index(drop=True), provenance=provenance, **fields)


def compare(
    results: Sequence[Results],
    stats: Sequence[str] = ("estimate", "std_error", "p_value"),
    *,
    part: Literal["tidy", "glance"] = "tidy",
) -> pd.DataFrame:
    """Line several Results up side by side: one column block per model.

    The same model from several engines is labelled with the engine (``model [lme4]``).
    Rows are (by keys..., component, [group, level,] term) for ``part="tidy"`` (mixed models add
    the random-effect group and level) and the by keys for
    ``part="glance"``; columns are (model, statistic). Models with the same label are numbered.

    Examples
    --------
    >>> import pcstats as pc
    >>> t = pc.read_table("tests/reference/trend_input.csv")
    >>> spec = pc.TrendSpec("NEE ~ year", by=("source", "region", "season"))
    >>> wide = pc.compare([pc.fit(spec, t), pc.fit(spec.replace(cov_type="HAC", hac_lags=2), t)])
    >>> wide.columns.get_level_values(0).unique().tolist()
    ['NEE ~ year', 'NEE ~ year [HAC(2)]']
    """
    if not results or not all(isinstance(r, Results) for r in results):
        raise PcstatsError("compare() needs a list of Results (what pcstats.fit returns).")
    frames, labels, keys = [], [], []
    models = [r.model for r in results]
    for res in results:
        label = res.model
        if models.count(label) > 1 and len({r.engine for r in results if r.model == res.model}) > 1:
            label = f"{res.model} [{res.engine}]"  # the same model from several engines
        base, n = label, 2
        while label in labels:
            label = f"{base} ({n})"
            n += 1
        labels.append(label)
        frame = res.tidy() if part == "tidy" else res.glance()
        frame["model"] = label
        frames.append(frame)
        keys += [k for k in res.by if k not in keys]
    inner = [c for c in ("component", "group", "level", "term") if any(c in f.columns for f in frames)]
    index = keys + (inner if part == "tidy" else [])
    missing = [s for s in stats if not any(s in f.columns for f in frames)]
    if part == "glance" and stats == ("estimate", "std_error", "p_value"):
        stats = [c for c in GLANCE_COLUMNS if any(c in f.columns for f in frames)]
    elif missing:
        raise PcstatsError(f"compare(): no model has column(s) {missing}; choose from the {part}() columns.")
    long = pd.concat(frames, ignore_index=True)
    for k in index:
        if k not in long.columns:
            long[k] = np.nan
    stats = [s for s in stats if s in long.columns]
    wide = long.pivot_table(index=index, columns="model", values=list(stats), aggfunc="first", dropna=False, sort=False)
    wide = wide.swaplevel(0, 1, axis=1)
    wide = wide.reindex(columns=pd.MultiIndex.from_product([labels, list(stats)]))
    order = long[index].drop_duplicates()
    return wide.reindex(pd.MultiIndex.from_frame(order) if len(index) > 1 else pd.Index(order[index[0]]))
