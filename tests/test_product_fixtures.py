"""The committed product fixtures are what the committed, seeded generator makes.

Layouts (format, dimensions, variable names, dtypes, attribute names) and integers are compared
exactly, floats portably (tests/numbers.py): 1e-12 relative for doubles, 4 units in the last place
for float32, one quantisation step for packed integers (a value the generator rounds can land on
the other side of a rounding boundary on another CPU), one unit of the last decimal written for
the FLUXNET CSVs (``%.5f``) and for probe values truth.json rounds to 9 decimals.
"""

from __future__ import annotations

import importlib.util
import json
import re

import netCDF4
import numpy as np
import pandas as pd

from .conftest import ROOT
from .numbers import assert_arrays_close, assert_tree_close

PRODUCTS = ROOT / "fixtures" / "products"


def load_generator():
    spec = importlib.util.spec_from_file_location("generate_products", ROOT / "fixtures" / "generate_products.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def layout(path) -> dict:
    """Everything a reader sees in a NetCDF file: format, dimensions, variables with dtype, attributes, raw values."""
    with netCDF4.Dataset(path) as nc:
        nc.set_auto_maskandscale(False)
        return {
            "format": nc.file_format, "attrs": {k: np.asarray(nc.getncattr(k)).tolist() for k in nc.ncattrs()},
            "dims": {k: (len(d), d.isunlimited()) for k, d in nc.dimensions.items()},
            "vars": {k: (v.dimensions, str(v.dtype), {a: np.asarray(v.getncattr(a)).tolist() for a in v.ncattrs()},
                         np.asarray(v[...])) for k, v in nc.variables.items()},
        }


def assert_layouts_close(made: dict, committed: dict, name: str) -> None:
    values = {k: v[3] for k, v in committed["vars"].items()}
    assert_tree_close({**made, "vars": {k: v[:3] for k, v in made["vars"].items()}},
                      {**committed, "vars": {k: v[:3] for k, v in committed["vars"].items()}}, path=name)
    for var, (_, dtype, attrs, _) in committed["vars"].items():
        expected, actual = values[var], made["vars"][var][3]
        label = f"{name}:{var}"
        if np.issubdtype(expected.dtype, np.integer) and ("scale_factor" in attrs or "add_offset" in attrs):
            assert_arrays_close(actual, expected, name=label, atol=1)  # one quantisation step
        elif expected.dtype == np.float32:
            assert_arrays_close(actual, expected, rtol=4 * float(np.finfo(np.float32).eps), name=label)
        else:
            assert_arrays_close(actual, expected, name=label)


#: files in fixtures/products/ that another generator makes (raster and HDF fixtures, checked by their own tests)
OTHER_GENERATORS = re.compile(r"SMAP|VCF5KYR|IPA|permaice|MCD12Q1|truth_rasters\.json")


def test_generator_reproduces_committed_product_files(tmp_path):
    generator = load_generator()
    truth = generator.generate(tmp_path)
    assert_tree_close(truth, json.loads((PRODUCTS / "truth.json").read_text()), atol=1e-9)
    committed = sorted(p.relative_to(PRODUCTS) for p in PRODUCTS.rglob("*")
                       if p.is_file() and not OTHER_GENERATORS.search(p.relative_to(PRODUCTS).as_posix()))
    made = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert committed == made
    for rel in committed:
        if rel.suffix in (".nc", ".nc4"):
            assert_layouts_close(layout(tmp_path / rel), layout(PRODUCTS / rel), str(rel))
        elif rel.suffix == ".csv":
            ours, stored = pd.read_csv(tmp_path / rel), pd.read_csv(PRODUCTS / rel)
            assert (tmp_path / rel).read_text().splitlines()[0] == (PRODUCTS / rel).read_text().splitlines()[0]
            pd.testing.assert_frame_equal(ours, stored, check_exact=False, rtol=0, atol=1.000001e-5, obj=str(rel))
        else:
            assert rel.name == "truth.json", f"{rel}: a new kind of fixture file needs a comparison here"
