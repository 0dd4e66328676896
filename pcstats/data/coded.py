"""Columns as integer codes: factorize once, then check, group, match and hash by integers.

A long table repeats a few texts (source, kind, season, variable, unit) and one key of many
values (region) over millions of rows; comparing, grouping and sorting those texts row by row is
what made preparing a fit slow. Each column is factorized once (a column of one value without a
hash table), and everything after works on the codes: mixed-radix keys of several columns,
duplicate checks by counting, dense group numbers in sorted order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Codes", "factorize", "combine", "dense", "dense_range", "distinct", "duplicated", "table_hash"]

#: a key space up to this many times the row count (plus a constant) is counted with bincount
_DENSE_FACTOR = 4


@dataclass(frozen=True)
class Codes:
    """A column as ``codes`` (int64, -1 for missing) into ``uniques``."""

    codes: np.ndarray
    uniques: pd.Index

    @property
    def size(self) -> int:
        """Number of distinct values (missing not counted)."""
        return len(self.uniques)


def factorize(column: pd.Series, sort: bool = False) -> Codes:
    """Codes of a column: categoricals by their codes, a column of one value without a hash table."""
    if isinstance(column.dtype, pd.CategoricalDtype) and not sort:
        codes = column.cat.codes.to_numpy().astype(np.int64)
        return Codes(codes, pd.Index(column.cat.categories))
    if len(column):
        first = column.iloc[0]
        sample = column.iloc[:: max(1, len(column) // 64)]  # most columns of many values show it here, cheaply
        if not _isna(first) and bool((sample == first).all()) and bool((column == first).all()):
            return Codes(np.zeros(len(column), dtype=np.int64), pd.Index([first], dtype=column.dtype))
    codes, uniques = pd.factorize(column, sort=sort, use_na_sentinel=True)
    return Codes(codes.astype(np.int64, copy=False), pd.Index(uniques))


def _isna(value) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def combine(parts: Sequence[Codes], n_rows: int) -> tuple[np.ndarray, int]:
    """One int64 key per row from several coded columns (missing is a value of its own), and its range.

    The key orders rows as sorting by the columns in turn would (for sorted codes, missing
    last). When the product of the sizes would overflow, the key so far is renumbered densely.
    """
    key, size = np.zeros(n_rows, dtype=np.int64), 1
    for part in parts:
        missing = bool(len(part.codes)) and int(part.codes.min()) < 0
        width = part.size + missing  # missing (-1) becomes the last value
        if width == 1:
            continue
        codes = np.where(part.codes < 0, part.size, part.codes) if missing else part.codes
        if size == 1:
            key, size = codes.astype(np.int64), width
            continue
        if size * width >= 2**62:
            key, size = dense(key, size)
        key = key * width + codes
        size *= width
    return key, size


def dense_range(size: int, n_rows: int) -> bool:
    """Whether keys in ``range(size)`` are few enough to count in an array rather than a hash table."""
    return size <= _DENSE_FACTOR * n_rows + 2**20


def dense(key: np.ndarray, size: int) -> tuple[np.ndarray, int]:
    """Renumber keys 0 .. k-1 keeping their order; returns the new keys and k."""
    if dense_range(size, len(key)):
        present = np.bincount(key, minlength=size) > 0
        rank = np.cumsum(present) - 1
        return rank[key], int(present.sum())
    codes, uniques = pd.factorize(key, sort=True)
    return codes.astype(np.int64, copy=False), len(uniques)


def distinct(key: np.ndarray, size: int) -> np.ndarray:
    """The distinct keys, sorted (without sorting every row)."""
    if dense_range(size, len(key)):
        return np.flatnonzero(np.bincount(key, minlength=size))
    return np.sort(pd.unique(key))


def duplicated(key: np.ndarray, size: int) -> np.ndarray:
    """Rows whose key another row shares (every copy marked)."""
    if len(key) < 2:
        return np.zeros(len(key), dtype=bool)
    if bool((key[1:] > key[:-1]).all()):
        return np.zeros(len(key), dtype=bool)
    if dense_range(size, len(key)):
        return np.bincount(key, minlength=size)[key] > 1
    return pd.Series(key).duplicated(keep=False).to_numpy()


def _narrow(values: np.ndarray) -> np.ndarray:
    """Integers in the smallest type that holds them (fewer bytes to hash; the values decide it)."""
    if values.dtype.kind not in "iu" or not len(values):
        return values
    low, high = int(values.min()), int(values.max())
    for small in (np.int8, np.int16, np.int32):
        info = np.iinfo(small)
        if info.min <= low and high <= info.max:
            return values.astype(small)
    return values


def table_hash(table: pd.DataFrame, coded: Mapping[str, Codes] | None = None) -> str:
    """BLAKE2b (256 bits) of a table's column names, dtypes and values, column by column, row order included.

    Numbers are hashed as their bytes; other columns as codes plus the hash of their distinct
    values (``coded`` supplies codes already computed).
    """
    digest = hashlib.blake2b(digest_size=32)
    digest.update(repr((len(table), [str(c) for c in table.columns])).encode())
    for name in table.columns:
        column = table[name]
        dtype = column.dtype
        digest.update(f"\x00{name}:{dtype}".encode())
        if isinstance(dtype, np.dtype) and dtype.kind in "biufcmM":
            digest.update(_narrow(np.ascontiguousarray(column.to_numpy())).view(np.uint8))
            continue
        codes = (coded or {}).get(name) or factorize(column)
        if codes.size > 1 or (len(codes.codes) and int(codes.codes.min()) < 0):  # one value everywhere: its text suffices
            digest.update(_narrow(codes.codes).view(np.uint8))
        digest.update(pd.util.hash_pandas_object(pd.Series(codes.uniques, dtype=object), index=False).to_numpy().tobytes())
    return digest.hexdigest()
