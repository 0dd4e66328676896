"""SkillSpec: how well simulated values match observed ones, per group."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ..errors import SpecError
from .checks import engine_name, normalise_by, replace_fields, spec_name
from .checks import typed as _typed
from .formula import check_where

__all__ = ["SkillSpec", "parse_selector"]


def parse_selector(argument: str, selector: object) -> tuple[str, str]:
    """``"TRENDY:NBP"`` -> ``("TRENDY", "NBP")``: who (a source, a kind or a kind's alias) and the variable.

    >>> parse_selector("observed", "EC:NEE")
    ('EC', 'NEE')
    """
    if not isinstance(selector, str) or selector.count(":") != 1 or not all(p.strip() for p in selector.split(":")):
        raise SpecError(
            f"{argument}={selector!r} must be 'WHO:VARIABLE', e.g. 'TRENDY:NBP' or 'FLUXNET:NEE', where WHO is a "
            "source, a kind (dgvm, eddy_covariance, inversion, ...) or the alias TRENDY (dgvm) or EC (eddy_covariance)."
        )
    who, variable = (p.strip() for p in selector.split(":"))
    return who, variable


@dataclass(frozen=True)
class SkillSpec:
    """What to score: simulated against observed values matched on region, site, year and month/season.

    Parameters
    ----------
    simulated, observed
        ``'WHO:VARIABLE'``: WHO is a ``source`` value, a ``kind`` value, or ``TRENDY``/``DGVM``
        (kind ``dgvm``) or ``EC`` (kind ``eddy_covariance``). Each simulated source is scored on its
        own (``source`` is always a key of the output); the observed side must have one value per key.
    by
        Key columns to score within, besides the simulated ``source`` (e.g. ``("site", "season")``).
    where
        Row filter on key columns applied to both sides first, e.g. ``"season != 'ANN'"``.
    min_n
        Groups with fewer matched pairs are reported in ``glance()`` and not scored.
    engine
        ``"numpy"`` (the only one; :mod:`pcstats.stats.skill`).
    name
        Label of the model in outputs; default ``"simulated vs observed"``.

    Examples
    --------
    >>> import pcstats as pc
    >>> pc.SkillSpec("TRENDY:NBP", "EC:NEE", by=("site", "season")).label
    'TRENDY:NBP vs EC:NEE'
    """

    simulated: str
    observed: str
    by: tuple[str, ...] = ()
    where: str | None = None
    min_n: int = 3
    engine: str = "numpy"
    name: str | None = None

    kind: ClassVar[str] = "skill"

    def __post_init__(self) -> None:
        engine_name(self)
        spec_name(self)
        object.__setattr__(self, "by", normalise_by(self.by))
        parse_selector("simulated", self.simulated)
        parse_selector("observed", self.observed)
        if self.where is not None:
            check_where(self.where)
        _typed("min_n", self.min_n, int, "a whole number >= 2")
        if self.min_n < 2:
            raise SpecError(f"min_n={self.min_n!r}: skill needs at least 2 pairs per group (a correlation needs 2).")

    @property
    def label(self) -> str:
        """``name`` if given, else ``'simulated vs observed'``."""
        return self.name or f"{self.simulated} vs {self.observed}"

    def replace(self, **changes: Any) -> SkillSpec:
        """A copy with some fields changed (the spec itself is frozen)."""
        return replace_fields(self, changes)
