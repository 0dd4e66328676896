"""Spec files: TOML in ``models/``. Loading never runs code.

A spec file names its kind of model (``spec``, a key of :data:`pcstats.families.FAMILIES`) and the
spec's fields::

    spec = "trend"
    name = "Annual NEE trend"
    formula = "NEE ~ year"
    by = ["source", "region"]
    where = "season == 'ANN'"

Formulas from files may only use :data:`pcstats.specs.formula.SAFE_TRANSFORMS`; pass
``trust=True`` to accept anything formulaic can evaluate.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from collections.abc import Mapping
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
    if not isinstance(trust, bool):
        raise SpecError(f"load_spec(trust={trust!r}): trust must be True or False (a bool); any other value is refused "
                        "so that a string such as 'false' cannot switch the safe vocabulary off.")
    if not isinstance(path, str | os.PathLike):
        raise SpecError(f"load_spec(path={path!r}): path must be the spec file's path, e.g. 'models/trend_annual.toml'.")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load_spec: no spec file at {str(path)!r} (give a .toml file, not a folder).")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path}: not valid TOML ({exc}).") from None
    except UnicodeDecodeError as exc:
        raise SpecError(f"{path}: not UTF-8 text (byte {exc.object[exc.start:exc.start + 1]!r} at position {exc.start}); "
                        "TOML files are UTF-8: save it as UTF-8.") from None
    except RecursionError:
        raise SpecError(f"{path}: nested too deeply to be a spec file (a spec is a flat list of keys).") from None
    # the kind of model is `spec = "mixed"`; files written before GLMMs had a `family` field name it `family`
    key = "spec" if "spec" in data else "family"
    family = data.pop(key, None)
    if not isinstance(family, str | None):
        raise SpecError(f"{path}: {key!r} must be a string, one of {sorted(FAMILIES)}; got {type(family).__name__} {family!r}.")
    if family not in FAMILIES:
        hint = did_you_mean(str(family), FAMILIES) if family else ""
        raise SpecError(f"{path}: {key!r} must be one of {sorted(FAMILIES)}, got {family!r}.{hint}"
                        + (" Name the kind of model with spec = \"mixed\" (family is then the GLMM's distribution)."
                           if key == "family" else ""))
    cls = load(FAMILIES[family].spec)
    engines = [*FAMILIES[family].engines, *(["auto"] if FAMILIES[family].auto else [])]
    if "engine" in data and data["engine"] not in engines:
        raise SpecError(f"{path}: engine={data['engine']!r} is not an engine of family {family!r}."
                        f"{did_you_mean(str(data['engine']), engines)} Engines: {', '.join(engines)}.")
    fields = {f.name for f in dataclasses.fields(cls)}
    for key in data:
        if key not in fields:
            raise SpecError(f"{path}: unknown key {key!r} for family {family!r}.{did_you_mean(key, fields)} "
                            f"Keys of a {family} spec: spec, {', '.join(sorted(fields))}.")
    required = [f.name for f in dataclasses.fields(cls)
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    missing = [name for name in required if name not in data]
    if missing:
        example = {"formula": '"NEE ~ year_c + (1 | source)"' if family in ("mixed", "bayes") else '"NEE ~ year"',
                   "model": '"nee ~ gpp + ter"', "simulated": '"TRENDY:NEE"', "observed": '"EC:NEE"'}
        raise SpecError(f"{path}: a {family} spec needs the key {missing[0]!r}; add a line such as "
                        f"{missing[0]} = {example.get(missing[0], '...')}.")
    _check_types(path, cls, data)
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


def _check_types(path: Path, cls, data: dict) -> None:
    """Each key's TOML value against the spec field's annotation (str, int, float, bool, list of strings, table)."""
    hints = typing.get_type_hints(cls)
    for key, value in data.items():
        expected = hints.get(key)
        if expected is None or _matches(value, expected):
            continue
        raise SpecError(f"{path}: {key} = {value!r} ({_toml_type(value)}) should be {_describe(expected)}.")


def _matches(value, expected) -> bool:
    origin, args = typing.get_origin(expected), typing.get_args(expected)
    if origin is typing.Literal:
        return isinstance(value, str)  # the value itself is checked by the spec, with a did-you-mean
    if origin in (types.UnionType, typing.Union):
        return any(_matches(value, a) for a in args if a is not type(None))
    if origin is tuple:
        return isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))
    if origin is not None and isinstance(origin, type) and issubclass(origin, Mapping):
        return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
    if expected is bool:
        return isinstance(value, bool)
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if expected is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if expected is str:
        return isinstance(value, str)
    return True


def _describe(expected) -> str:
    origin, args = typing.get_origin(expected), typing.get_args(expected)
    if origin in (types.UnionType, typing.Union):
        return " or ".join(_describe(a) for a in args if a is not type(None))
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin is tuple:
        return "a list of column names, e.g. [\"source\", \"region\"]"
    if origin is not None and isinstance(origin, type) and issubclass(origin, Mapping):
        return "a table of strings, e.g. {fixed = \"normal(0, 10)\"}"
    return {bool: "true or false", int: "a whole number", float: "a number", str: "a string in quotes"}.get(expected, str(expected))


def _toml_type(value) -> str:
    return {bool: "a boolean", int: "a whole number", float: "a number", str: "a string", list: "an array",
            dict: "a table"}.get(type(value), type(value).__name__)


def save_spec(spec, path: str | Path) -> Path:
    """Write a spec to a TOML file that :func:`load_spec` reads back to an equal spec."""
    import tomli_w

    if not dataclasses.is_dataclass(spec) or isinstance(spec, type) or getattr(type(spec), "kind", None) not in FAMILIES:
        raise SpecError(f"save_spec: {spec!r} is not a spec; pass one such as pc.TrendSpec('NEE ~ year').")
    data = {"spec": type(spec).kind}
    for f in dataclasses.fields(spec):
        value = getattr(spec, f.name)
        if value is None or value == f.default:
            continue
        data[f.name] = list(value) if isinstance(value, tuple) else value
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path
