"""``fit`` = ``run(spec, prepare(spec, data))``, through the family registry (:mod:`pcstats.families`).

An engine is a plain function ``(spec, prepared) -> Results``; each family has one preparation
step and one rule for ``engine="auto"``. Heavy backends are imported inside their engine module,
which is imported on first use.
"""

from __future__ import annotations

import pandas as pd

from ..data.contract import LongTable
from ..errors import ContractError, EngineError, did_you_mean
from ..families import family_of, load
from ..results import Results
from .prepare import Prepared, is_long

__all__ = ["fit", "prepare", "run", "resolve_engine"]


def prepare(spec, data: pd.DataFrame) -> Prepared:
    """The rows ``spec`` fits, grouped, with the formula read once (first step of :func:`fit`).

    ``data`` is a long table (it has the columns ``variable`` and ``value``) or any other data
    frame (a model frame: formula names are its columns). A polars DataFrame is converted.

    Examples
    --------
    >>> import pandas as pd, pcstats as pc
    >>> sleep = pd.read_csv("tests/reference/model_frames/data/sleepstudy.csv")
    >>> prepared = pc.prepare(pc.MixedSpec("Reaction ~ Days + (Days | Subject)"), sleep)
    >>> prepared.model.fixed.term_labels, int(prepared.groups["nobs"].iloc[0])
    (('Days',), 180)
    """
    family = family_of(spec)
    data = _as_pandas(data)
    if isinstance(data, LongTable) and not family.model_frames:
        data = data.table  # these families validate their long tables themselves
    if not family.model_frames and not is_long(data):
        raise ContractError(
            f"{type(spec).__name__} fits long tables only (columns variable and value, see pcstats.read_table); "
            f"this data frame has columns {', '.join(map(str, data.columns[:12]))}."
        )
    return load(family.prepare)(spec, data)


def resolve_engine(spec, prepared: Prepared) -> str:
    """The engine name ``run`` will use for this spec and these rows."""
    family = family_of(spec)
    engine = spec.engine
    if engine == "auto" and family.auto:
        engine = load(family.auto)(spec, prepared)
    if engine not in family.engines:
        names = list(family.engines) + (["auto"] if family.auto else [])
        raise EngineError(
            f"No engine {engine!r} for {family.name!r} specs ({type(spec).__name__}).{did_you_mean(engine, names)} "
            f"Engines: {', '.join(names)}."
        )
    return engine


def run(spec, prepared: Prepared) -> Results:
    """Fit prepared rows with the engine the spec names (second step of :func:`fit`).

    Examples
    --------
    >>> import pandas as pd, pcstats as pc
    >>> cars = pd.read_csv("tests/reference/model_frames/data/mtcars.csv")
    >>> spec = pc.TrendSpec("mpg ~ wt")
    >>> round(float(pc.run(spec, pc.prepare(spec, cars)).tidy()["estimate"].iloc[1]), 4)
    -5.3445
    """
    groups = prepared.groups
    if len(groups) and "fit" in groups.columns and not groups["fit"].any():
        from .common import group_label

        first = groups.index[0]
        more = f" (and the other {len(groups) - 1} group(s): see prepare(spec, data).groups)" if len(groups) > 1 else ""
        raise EngineError(f"No group can be fitted; {group_label(prepared, first)}: {groups.at[first, 'dropped_why']}{more}.")
    return load(family_of(spec).engines[resolve_engine(spec, prepared)])(spec, prepared)


def fit(spec, data: pd.DataFrame) -> Results:
    """Fit a spec to a data frame: ``run(spec, prepare(spec, data))``.

    Parameters
    ----------
    spec
        A frozen spec (e.g. :class:`pcstats.TrendSpec`, :class:`pcstats.MixedSpec`).
    data
        Any data frame whose columns the formula names (as ``lm(formula, data)`` in R), or a
        pcstats long table (columns ``variable`` and ``value``; formula names are variables and
        key columns). It is not modified. To fit many specs to one long table, validate it once
        with :func:`pcstats.long_table` and pass that.

    Examples
    --------
    >>> import pandas as pd, pcstats as pc
    >>> cars = pd.DataFrame({"mpg": [21.0, 22.8, 21.4, 18.7, 18.1, 14.3], "wt": [2.62, 2.32, 3.215, 3.44, 3.46, 3.57],
    ...                      "cyl": [6, 4, 6, 8, 6, 8]})
    >>> pc.fit(pc.TrendSpec("mpg ~ wt + factor(cyl)"), cars).tidy()["term"].tolist()
    ['(Intercept)', 'wt', 'factor(cyl)6', 'factor(cyl)8']
    >>> t = pc.read_table("tests/reference/trend_input.csv")
    >>> pc.fit(pc.TrendSpec("NEE ~ year", by=("source", "region", "season")), t).engine
    'closed_form'
    """
    return run(spec, prepare(spec, data))


def _as_pandas(data) -> pd.DataFrame | LongTable:
    if isinstance(data, (pd.DataFrame, LongTable)):
        return data
    if type(data).__module__.split(".")[0] == "polars":
        return data.to_pandas()
    raise EngineError(
        f"fit(): data must be a pandas (or polars) DataFrame, got {type(data).__name__}. "
        "Read files with pandas.read_csv() or pcstats.read_table()."
    )
