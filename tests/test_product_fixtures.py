"""The committed product fixtures are exactly what the committed, seeded generator makes."""

from __future__ import annotations

import importlib.util
import json

import netCDF4
import numpy as np

from .conftest import ROOT

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
                         np.asarray(v[...]).tobytes()) for k, v in nc.variables.items()},
        }


def test_generator_reproduces_committed_product_files(tmp_path):
    generator = load_generator()
    truth = generator.generate(tmp_path)
    assert truth == json.loads((PRODUCTS / "truth.json").read_text())
    committed = sorted(p.relative_to(PRODUCTS) for p in PRODUCTS.rglob("*") if p.is_file())
    made = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert committed == made
    for rel in committed:
        if rel.suffix == ".nc":
            assert layout(tmp_path / rel) == layout(PRODUCTS / rel), rel
        else:
            assert (tmp_path / rel).read_bytes() == (PRODUCTS / rel).read_bytes(), rel
