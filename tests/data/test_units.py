from __future__ import annotations

import numpy as np
import pytest

import pcstats as pc
from pcstats.data.units import MOLAR_MASS_C, rate_factor

from ..conftest import long_table


def test_rate_factors():
    assert rate_factor("mol m-2 s-1") == pytest.approx(MOLAR_MASS_C * 86400)
    assert rate_factor("kgC m-2 s-1") == pytest.approx(8.64e7)
    assert rate_factor("umol m-2 s-1", "gC m-2 yr-1") == pytest.approx(12.011e-6 * 86400 * 365)
    with pytest.raises(pc.ContractError, match=r"Unknown flux unit 'mol m-2 d-1'"):
        rate_factor("mol m-2 d-1")


def test_convert_flips_release_positive_sources_and_records_it():
    t = long_table(source=["CT", "JENA"], value=[1e-6, 2.0], unit=["mol m-2 s-1", "gC m-2 d-1"],
                   positive=["up", "down"])
    out = pc.convert_units(t)
    np.testing.assert_allclose(out["value"], [-1e-6 * MOLAR_MASS_C * 86400, 2.0])
    assert set(out["unit"]) == {"gC m-2 d-1"} and set(out["positive"]) == {"down"}


def test_positive_argument_overrides_and_fills():
    out = pc.convert_units(long_table(value=3.0), positive={"CAMS": "up"}, uptake_positive=False)
    assert out["value"].iloc[0] == 3.0 and out["positive"].iloc[0] == "up"


def test_missing_sign_convention_is_an_error_naming_the_source():
    with pytest.raises(pc.ContractError, match=r"Net-flux rows of \['CAMS'\] have no sign convention"):
        pc.convert_units(long_table())


def test_non_flux_rows_are_untouched():
    t = long_table(variable=["NEE", "AirT"], unit=["gC m-2 d-1", "degC"], value=[1.0, -5.0], positive=["down", None], month=[1, 2])
    out = pc.convert_units(t)
    assert out.loc[1, "value"] == -5.0 and out.loc[1, "unit"] == "degC"
