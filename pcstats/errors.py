"""The one error path: every user-facing error names what is at fault and how to fix it."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

__all__ = ["PcstatsError", "ContractError", "SpecError", "FormulaError", "EngineError", "ProductError", "did_you_mean",
           "rows_text"]


class PcstatsError(ValueError):
    """Base class for errors raised by pcstats about the user's input."""


class ContractError(PcstatsError):
    """A table breaks the long-table column contract (see :mod:`pcstats.data.contract`)."""


class SpecError(PcstatsError):
    """A spec argument or spec file is invalid."""


class FormulaError(SpecError):
    """A formula or row filter cannot be used."""


class EngineError(PcstatsError):
    """An engine cannot fit what the spec asks for."""


class ProductError(PcstatsError):
    """A product file (NetCDF, FLUXNET CSV) or grid does not have the layout pcstats reads."""


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return ``" Did you mean 'x'?"`` for the closest choice, or ``""``."""
    choices = [str(c) for c in choices]
    lowered = {c.lower(): c for c in choices}
    if name.lower() in lowered and lowered[name.lower()] != name:
        return f" Did you mean {lowered[name.lower()]!r}?"
    close = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
    return f" Did you mean {lowered[close[0]]!r}?" if close else ""


def rows_text(rows: Sequence[object], limit: int = 5) -> str:
    """Describe row labels briefly: ``rows 3, 8, 9 (and 12 more)``."""
    shown = ", ".join(str(r) for r in list(rows)[:limit])
    more = len(rows) - limit
    word = "row" if len(rows) == 1 else "rows"
    return f"{word} {shown}" + (f" (and {more} more)" if more > 0 else "")
