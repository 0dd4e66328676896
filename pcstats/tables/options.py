"""Checking and normalising table()'s arguments; each error names the argument at fault."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import PcstatsError

__all__ = ["STARS", "is_missing", "number_format", "omitter", "parse_results", "parse_stars", "renamer", "row_format"]

#: modelsummary's convention for ``stars=True``: the symbol of the smallest threshold p is below.
STARS: Mapping[str, float] = {"+": 0.1, "*": 0.05, "**": 0.01, "***": 0.001}


def parse_results(results: Any) -> tuple[list[Any], list[str]]:
    if isinstance(results, Mapping):
        items = list(results.items())
    elif isinstance(results, Sequence) and not isinstance(results, str):
        items = [(None, r) for r in results]
    else:
        items = [(None, results)]
    if not items:
        raise PcstatsError("table(results=[]): give at least one Results (what pcstats.fit returns).")
    for i, (_, r) in enumerate(items):
        if not all(hasattr(r, a) for a in ("tidy", "glance", "model", "by")):
            raise PcstatsError(f"table(results): item {i} is a {type(r).__name__}, not a Results (what pcstats.fit returns).")
    fits = [r for _, r in items]
    models = [r.model for r in fits]
    labels: list[str] = []
    for name, r in items:
        label = str(name) if name is not None else r.model
        if name is None and models.count(r.model) > 1 and len({f.engine for f in fits if f.model == r.model}) > 1:
            label = f"{r.model} [{r.engine}]"
        base, n = label, 2
        while label in labels:
            label, n = f"{base} ({n})", n + 1
        labels.append(label)
    return fits, labels


def parse_stars(stars: bool | Mapping[str, float] | None) -> list[tuple[str, float]]:
    if stars is True:
        stars = STARS
    if stars is False or stars is None:
        return []
    if not isinstance(stars, Mapping) or not stars:
        raise PcstatsError(f"table(stars={stars!r}): give True, False or a mapping such as {{'*': 0.05, '**': 0.01}}.")
    for symbol, level in stars.items():
        if not isinstance(symbol, str) or not symbol or isinstance(level, bool) or not isinstance(level, (int, float)) \
                or not 0 < level < 1:
            raise PcstatsError(f"table(stars): {symbol!r}: {level!r} is not a symbol with a threshold between 0 and 1.")
    return sorted(stars.items(), key=lambda kv: kv[1])  # smallest threshold first


def number_format(fmt: int | Callable[[float], str]) -> Callable[[float], str]:
    if callable(fmt):
        return lambda v: "" if is_missing(v) else str(fmt(float(v)))
    if isinstance(fmt, bool) or not isinstance(fmt, (int, np.integer)) or fmt < 0:
        raise PcstatsError(f"table(fmt={fmt!r}): give the number of digits after the decimal point (e.g. 3) or a function.")

    def number(v: float) -> str:
        if is_missing(v):
            return ""
        text = f"{float(v):.{fmt}f}"
        return text[1:] if re.fullmatch(r"-0\.?0*", text) else text  # no "-0.000"
    return number


def row_format(fmt: int | Callable[[float], str], errors: Sequence[float], *, most: int = 6) -> Callable[[float], str]:
    """The number format of one table row: ``fmt`` digits after the point, more when a standard error
    of the row would round to zero (two significant digits of the smallest), scientific notation
    past ``most`` digits. A function ``fmt`` is used as it is.

    >>> row_format(3, [0.081, 0.00042])(0.0123456), row_format(3, [3e-9])(1.5e-8)
    ('0.01235', '1.5e-08')
    """
    if callable(fmt):
        return number_format(fmt)
    digits = int(fmt)
    for v in errors:
        if not is_missing(v) and np.isfinite(v) and v != 0 and round(abs(float(v)), digits) == 0:
            digits = max(digits, int(math.floor(-math.log10(abs(float(v))))) + 2)
    if digits > most:
        return lambda v: "" if is_missing(v) else f"{float(v):.1e}"
    return number_format(digits)


def is_missing(v: Any) -> bool:
    return v is None or (isinstance(v, (float, np.floating)) and math.isnan(v)) or v is pd.NA


def renamer(coef_rename: Mapping[str, str] | Callable[[str], str] | None) -> Callable[[str], str]:
    if coef_rename is None:
        return lambda term: term
    if callable(coef_rename):
        return lambda term: str(coef_rename(term))
    if isinstance(coef_rename, Mapping):
        return lambda term: str(coef_rename.get(term, term))
    raise PcstatsError(f"table(coef_rename={coef_rename!r}): give a mapping {{term: label}} or a function.")


def omitter(coef_omit: str | None) -> Callable[[str], bool]:
    if coef_omit is None:
        return lambda term: False
    if not isinstance(coef_omit, str):
        raise PcstatsError(f"table(coef_omit={coef_omit!r}): give one regular expression, e.g. 'Intercept|sd__'.")
    try:
        pattern = re.compile(coef_omit)
    except re.error as exc:
        raise PcstatsError(f"table(coef_omit={coef_omit!r}) is not a regular expression: {exc}.") from None
    return lambda term: bool(pattern.search(term))
