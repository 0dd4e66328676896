"""Comparing computed numbers with stored ones, portably across CPUs and BLAS builds.

A float made by NumPy, SciPy or a BLAS kernel can differ in its last bits from one machine to
another (SIMD width, fused multiply-add, summation order, OpenBLAS core type), so a stored
result is never compared with ``==``. Everything else is compared exactly: integers, strings,
booleans, keys, column names, dtypes, shapes and the positions of NaN.

``rtol=1e-12`` is about 4,500 units in the last place of a double: far above what kernels change,
far below what a changed seed, planted value or row changes. Near zero a float is compared on
the scale of its neighbours (``atol = rtol * max |expected|`` of the column or array), so a value
that cancels to 1e-17 on one machine and 3e-17 on another passes, and a flux in mol m-2 s-1
(1e-7) is not swamped by a fixed absolute tolerance.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["RTOL", "assert_tree_close", "assert_frames_close", "assert_arrays_close"]

RTOL = 1e-12


def assert_tree_close(actual: Any, expected: Any, rtol: float = RTOL, path: str = "$", atol: float = 0.0) -> None:
    """JSON-like trees (dicts, lists, scalars) equal, floats within ``rtol``.

    Dict keys, list lengths, strings, booleans, None and integers must match exactly. A float is
    compared relative to its own size (there is no column to take a scale from); ``atol`` is for
    values the generator rounded (one unit of the last decimal kept).
    """
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: expected a dict, got {type(actual).__name__}"
        assert list(actual) == list(expected), f"{path}: keys {list(actual)} != {list(expected)}"
        for key in expected:
            assert_tree_close(actual[key], expected[key], rtol, f"{path}.{key}", atol)
    elif isinstance(expected, (list, tuple)):
        assert isinstance(actual, (list, tuple)), f"{path}: expected a list, got {type(actual).__name__}"
        assert len(actual) == len(expected), f"{path}: length {len(actual)} != {len(expected)}"
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_tree_close(a, e, rtol, f"{path}[{i}]", atol)
    elif isinstance(expected, float) or isinstance(actual, float):
        assert isinstance(actual, (int, float)) and not isinstance(actual, bool), f"{path}: {actual!r} is not a number"
        if math.isnan(expected):
            assert math.isnan(actual), f"{path}: {actual!r} != NaN"
        else:
            assert math.isclose(actual, expected, rel_tol=rtol, abs_tol=atol), f"{path}: {actual!r} != {expected!r} (rtol={rtol}, atol={atol})"
    else:
        assert type(actual) is type(expected) and actual == expected, f"{path}: {actual!r} != {expected!r}"


def assert_arrays_close(actual: np.ndarray, expected: np.ndarray, rtol: float = RTOL, name: str = "array",
                        atol: float | None = None) -> None:
    """Same shape and dtype; floats within ``rtol`` on the array's scale, NaN where expected; others exact."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{name}: shape {actual.shape} != {expected.shape}"
    assert actual.dtype == expected.dtype, f"{name}: dtype {actual.dtype} != {expected.dtype}"
    if np.issubdtype(expected.dtype, np.floating) or np.issubdtype(expected.dtype, np.complexfloating):
        finite = np.abs(expected[np.isfinite(expected)])
        scale = float(finite.max()) if finite.size else 0.0
        np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale if atol is None else atol,
                                   equal_nan=True, err_msg=name)
    elif atol is not None:
        np.testing.assert_allclose(actual.astype(np.float64), expected.astype(np.float64), rtol=0, atol=atol, err_msg=name)
    else:
        np.testing.assert_array_equal(actual, expected, err_msg=name)


def assert_frames_close(actual: pd.DataFrame, expected: pd.DataFrame, rtol: float = RTOL, name: str = "frame") -> None:
    """Same columns, dtypes, index and non-float values; float columns within ``rtol`` on the column's scale."""
    assert list(actual.columns) == list(expected.columns), f"{name}: columns {list(actual.columns)} != {list(expected.columns)}"
    pd.testing.assert_index_equal(actual.index, expected.index)
    for col in expected.columns:
        a, e = actual[col], expected[col]
        assert a.dtype == e.dtype, f"{name}[{col!r}]: dtype {a.dtype} != {e.dtype}"
        if pd.api.types.is_float_dtype(e.dtype):
            assert_arrays_close(a.to_numpy(), e.to_numpy(), rtol, f"{name}[{col!r}]")
        else:
            pd.testing.assert_series_equal(a, e, check_exact=True, obj=f"{name}[{col!r}]")
