"""The product fixtures read once for the grid tests."""

from __future__ import annotations

import json
import warnings

import pytest

from pcstats.products import read_product

from ..conftest import ROOT

PRODUCTS = ROOT / "fixtures" / "products"


def product(*names: str, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read_product([PRODUCTS / n for n in names], **kw)


@pytest.fixture(scope="session")
def products_truth() -> dict:
    return json.loads((PRODUCTS / "truth.json").read_text())


@pytest.fixture(scope="session")
def ct():
    return product("CT2019B.flux1x1-monthly.nc")


@pytest.fixture(scope="session")
def covariates():
    """TC, P (0.5 degrees) and CRU AirT."""
    tc = product("MOD44B.A2010.061.Percent_Tree_Cover.0p5deg.nc")["TC"]
    p = product("ESACCI-PERMAFROST-L4-PFR-MODISLST_CRYOGRID-AREA4_PP-2010-fv03.0_latlon0p5.nc")["P"]
    airt = product("cru_ts4.04.1901.2019.tmp.dat.nc")["AirT"]
    return {"TC": tc, "P": p, "AirT": airt}
