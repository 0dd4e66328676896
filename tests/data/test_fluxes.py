from __future__ import annotations

import pandas as pd
import pytest

import pcstats as pc

from ..conftest import series


def test_ter_is_gpp_minus_uptake_for_each_inversion():
    nee = pd.concat([series([2000, 2001], [20.0, 30.0], source="CAMS", positive="down"),
                     series([2000, 2001], [10.0, 10.0], source="CT", positive="down")], ignore_index=True)
    gpp = series([2000, 2001], [500.0, 510.0], source="FLUXSAT", kind="satellite", variable="GPP")
    out = pc.ter_residual(nee, gpp).set_index(["source", "year"])["value"]
    assert out[("CAMS", 2000)] == 480.0 and out[("CT", 2001)] == 500.0


def test_ter_needs_uptake_positive_nee_and_one_unit():
    nee = series([2000], [20.0], positive="up")
    gpp = series([2000], [500.0], variable="GPP")
    with pytest.raises(pc.ContractError, match="positive == 'down'"):
        pc.ter_residual(nee, gpp)
    with pytest.raises(pc.ContractError, match="share one unit"):
        pc.ter_residual(series([2000], [1.0], positive="down"), series([2000], [1.0], variable="GPP", unit="gC m-2 d-1"))
