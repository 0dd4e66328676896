from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pcstats as pc

from ..conftest import series


def test_mean_sd_and_count_over_available_sources():
    a = series([2000, 2001, 2002], [1.0, 2.0, np.nan], source="A")
    b = series([2001, 2002], [4.0, 6.0], source="B")
    out = pc.ensemble(pc.validate(pd.concat([a, b], ignore_index=True))).set_index("year")
    assert out.loc[2000, "value"] == 1.0 and out.loc[2000, "ensemble_n"] == 1 and np.isnan(out.loc[2000, "ensemble_sd"])
    assert out.loc[2001, "value"] == 3.0 and out.loc[2001, "ensemble_sd"] == pytest.approx(np.sqrt(2))
    assert out.loc[2002, "value"] == 6.0 and out.loc[2002, "ensemble_n"] == 1
    assert set(out["source"]) == {"ensemble"}


def test_units_must_agree():
    a = series([2000], [1.0], source="A")
    b = series([2000], [1.0], source="B", unit="gC m-2 d-1")
    with pytest.raises(pc.ContractError, match="disagree on .unit."):
        pc.ensemble(pd.concat([a, b], ignore_index=True))


def test_over_must_be_a_key():
    with pytest.raises(pc.ContractError, match="ensemble\\(over='value'\\)"):
        pc.ensemble(series([2000], [1.0]), over="value")


def test_fixture_ensemble_counts_follow_coverage(tables):
    t = tables[0]["permafrost"]
    ens = t[(t["source"] == "ensemble") & (t["region"] == "P") & (t["season"] == "ANN")].set_index("year")
    # the paper's window, 1980-2017: CAMS and Jena s76 in 1980; JAMSTEC's 2005 P value is NaN (three cells missing)
    assert (ens.index.min(), ens.index.max()) == (1980, 2017)
    assert ens.loc[1980, "ensemble_n"] == 2 and ens.loc[2005, "ensemble_n"] == 5
    assert ens.loc[2010, "ensemble_n"] == 6 and ens.loc[2017, "ensemble_n"] == 6


def test_sign_conventions_must_agree():
    a = series([2000], [1.0], source="A", positive="up")
    b = series([2000], [3.0], source="B", positive="down")
    with pytest.raises(pc.ContractError, match="disagree on 'positive'"):
        pc.ensemble(pd.concat([a, b], ignore_index=True))
