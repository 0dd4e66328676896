"""Spec files: TOML in ``models/``. Loading never runs code.

A spec file names its family and the spec's fields::

    family = "trend"
    name = "Annual NEE trend"
    formula = "NEE ~ year"
    by = ["source", "region"]
    where = "season == 'ANN'"

Formulas from files may only use :data:`pcstats.specs.formula.SAFE_TRANSFORMS`; pass
``trust=True`` to accept anything formulaic can evaluate.
"""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

from ..errors import SpecError, did_you_mean
from ..families import FAMILIES, load
from .formula import check_formula_vocabulary
from .random_effects import parse_mixed_formula

__all__ = ["load_spec", "save_spec"]


def load_spec(path: str | Path, *, trust: bool = False):
    """Read a spec from a TOML file.

    Parameters
    ----------
    path
        The ``.toml`` file.
    trust
        Accept formulas outside the safe vocabulary. Only for files you wrote yourself.

    Examples
    --------
    >>> import pcstats as pc
    >>> pc.load_spec("models/trend_annual.toml").by
    ('source', 'region')
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load_spec: no spec file at {str(path)!r} (give a .toml file, not a folder).")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path}: not valid TOML ({exc}).") from None
    family = data.pop("family", None)
    if family not in FAMILIES:
        hint = did_you_mean(str(family), FAMILIES) if family else ""
        raise SpecError(f"{path}: 'family' must be one of {sorted(FAMILIES)}, got {family!r}.{hint}")
    cls = load(FAMILIES[family].spec)
    engines = [*FAMILIES[family].engines, *(["auto"] if FAMILIES[family].auto else [])]
    if "engine" in data and data["engine"] not in engines:
        raise SpecError(f"{path}: engine={data['engine']!r} is not an engine of family {family!r}."
                        f"{did_you_mean(str(data['engine']), engines)} Engines: {', '.join(engines)}.")
    fields = {f.name for f in dataclasses.fields(cls)}
    for key in data:
        if key not in fields:
            raise SpecError(f"{path}: unknown key {key!r} for family {family!r}.{did_you_mean(key, fields)}")
    if not trust and "formula" in data:
        try:
            fixed = parse_mixed_formula(data["formula"]).fixed if family in ("mixed", "bayes") else data["formula"]
            check_formula_vocabulary(fixed)
        except SpecError as exc:
            raise SpecError(f"{path}: {exc}") from None
    if isinstance(data.get("by"), list):
        data["by"] = tuple(data["by"])
    try:
        return cls(**data)
    except (SpecError, TypeError) as exc:
        raise SpecError(f"{path}: {exc}") from None


def save_spec(spec, path: str | Path) -> Path:
    """Write a spec to a TOML file that :func:`load_spec` reads back to an equal spec."""
    import tomli_w

    family = type(spec).family
    data = {"family": family}
    for f in dataclasses.fields(spec):
        value = getattr(spec, f.name)
        if value is None or value == f.default:
            continue
        data[f.name] = list(value) if isinstance(value, tuple) else value
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path
