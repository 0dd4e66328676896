"""Argument checks shared by the spec dataclasses: each error names the field and a valid value."""

from __future__ import annotations

import dataclasses
from typing import Any

from ..errors import SpecError, did_you_mean
from ..families import FAMILIES

__all__ = ["typed", "choice", "normalise_by", "replace_fields", "spec_name"]


def typed(argument: str, value: object, types, expected: str) -> None:
    """Refuse ``value`` unless it has one of ``types`` (a bool is not a number here)."""
    if isinstance(value, bool) and types is not bool or not isinstance(value, types):
        raise SpecError(f"{argument}={value!r} must be {expected}.")


def choice(argument: str, value: object, allowed: tuple[str, ...]) -> None:
    """Refuse ``value`` unless it is one of ``allowed``."""
    if value not in allowed:
        raise SpecError(f"{argument}={value!r} is not one of {allowed}.{did_you_mean(str(value), allowed)}")


def normalise_by(by: object) -> tuple[str, ...]:
    """``by`` as a tuple of distinct column names (a single string is one name)."""
    if not isinstance(by, str | tuple | list):
        raise SpecError(f"by={by!r} must be column names, e.g. by=('region', 'season'), or by=() for one fit of "
                        "all rows.")
    out = (by,) if isinstance(by, str) else tuple(by)
    if not all(isinstance(b, str) for b in out) or len(set(out)) != len(out):
        raise SpecError(f"by={by!r} must be distinct column names, e.g. by=('region', 'season').")
    return out


def replace_fields(spec: Any, changes: dict[str, Any]) -> Any:
    """``dataclasses.replace`` with an error naming an unknown field."""
    names = {f.name for f in dataclasses.fields(spec)}
    for key in changes:
        if key not in names:
            raise SpecError(
                f"{type(spec).__name__} has no field {key!r}.{did_you_mean(key, names)} Fields: {', '.join(sorted(names))}."
            )
    return dataclasses.replace(spec, **changes)


def engine_name(spec: Any) -> None:
    """Refuse an engine the spec's family does not have, naming the ones it has (from :mod:`pcstats.families`)."""
    family = FAMILIES.get(type(spec).kind)
    if family is None:
        return
    names = [*family.engines, *(["auto"] if family.auto else [])]
    if not isinstance(spec.engine, str) or spec.engine not in names:
        raise SpecError(f"engine={spec.engine!r} is not an engine of {type(spec).__name__}."
                        f"{did_you_mean(str(spec.engine), names)} Engines: {', '.join(names)}.")


def spec_name(spec: Any) -> None:
    """Refuse a ``name`` that is not text: it labels tables and figures and is written to spec files."""
    if spec.name is not None and not isinstance(spec.name, str):
        raise SpecError(f"name={spec.name!r} must be a string (a label for tables and figures), or None.")
