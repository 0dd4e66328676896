"""Package hygiene: light import without R or samplers, runnable docstring examples."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import subprocess
import sys
import warnings

import pytest

import pcstats


def test_import_does_not_load_heavy_backends():
    code = ("import sys, pcstats; heavy = [m for m in ('pymc', 'semopy', 'rpy2', 'pymer4', 'statsmodels', 'matplotlib', "
            "'xarray', 'dask', 'distributed', 'netCDF4', 'numba', 'cartopy') "
            "if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


def test_missing_optional_stack_names_its_extra(monkeypatch):
    from pcstats._optional import MissingExtraError, optional_import

    monkeypatch.setitem(sys.modules, "tifffile", None)  # as if not installed
    with pytest.raises(MissingExtraError, match=r"reading GeoTIFFs needs .*pip install 'pcstats\[grid\]'") as caught:
        optional_import("tifffile", "reading GeoTIFFs")
    assert isinstance(caught.value, pcstats.PcstatsError)  # the CLI reports it as a user error (exit code 2)
    assert isinstance(caught.value, ImportError)
    monkeypatch.setitem(sys.modules, "pymc", None)
    with pytest.raises(MissingExtraError, match=r"pcstats\[bayes\]"):
        optional_import("pymc")


MODULES = sorted(m.name for m in pkgutil.walk_packages(pcstats.__path__, "pcstats.") if not m.name.endswith("__main__"))


@pytest.mark.parametrize("name", ["pcstats", *MODULES])
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # examples on the fixtures warn about the planted missing months
        for test in finder.find(module, name):
            runner.run(test)
    assert runner.failures == 0, f"{runner.failures} docstring example(s) failed in {name}"


@pytest.mark.parametrize("name", MODULES)
def test_public_modules_declare_all(name):
    module = importlib.import_module(name)
    assert hasattr(module, "__all__"), name
