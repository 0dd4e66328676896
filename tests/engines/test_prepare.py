"""Bad input at fit time: named errors, or drops counted in glance()."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pcstats as pc

from ..conftest import series


def two_regions():
    years = list(range(1990, 2000))
    wiggle = 0.1 * (-1.0) ** np.arange(10)  # not an exact line: that is warned about as an essentially perfect fit
    return pd.concat([series(years, np.arange(10.0) + wiggle, region="P"),
                      series(years, np.arange(10.0) * 2 - wiggle, region="NoP")], ignore_index=True)


def test_formula_naming_an_absent_variable_suggests():
    with pytest.raises(pc.FormulaError, match=r"formula names 'nee', which is neither a key column nor a variable.*Did you mean 'NEE'"):
        pc.fit(pc.TrendSpec("nee ~ year"), two_regions())
    with pytest.raises(pc.FormulaError, match=r"names 'AirT'.*Variables present: NEE"):
        pc.fit(pc.TrendSpec("NEE ~ year + AirT"), two_regions())


def test_response_must_be_a_variable():
    with pytest.raises(pc.FormulaError, match="the response 'year' must be a variable"):
        pc.fit(pc.TrendSpec("year ~ NEE"), two_regions())


def test_by_must_be_a_key_column():
    with pytest.raises(pc.SpecError, match=r"'regoin' is not a key column\. Did you mean 'region'"):
        pc.fit(pc.TrendSpec("NEE ~ year", by=("regoin",)), two_regions())


def test_filter_leaving_nothing_lists_values_present():
    with pytest.raises(pc.ContractError, match=r"where=\"season == 'SUMMER'\" leaves no rows to fit.*season: ANN"):
        pc.fit(pc.TrendSpec("NEE ~ year", where="season == 'SUMMER'"), two_regions())


def test_filtered_rows_are_counted_on_the_results():
    res = pc.fit(pc.TrendSpec("NEE ~ year", where="region == 'P'"), two_regions())
    removed = res.removed.iloc[0]
    assert (removed["stage"], removed["n_removed"], removed["n_before"]) == ("where", 10, 20)


def test_filter_on_a_variable_is_applied_after_pivoting():
    t = pd.concat([two_regions(), series(range(1990, 2000), np.linspace(-5, 5, 10), variable="AirT", unit="degC", region="P")], ignore_index=True)
    res = pc.fit(pc.TrendSpec("NEE ~ year", by=("region",), where="AirT > 0"), t)
    assert res.glance().set_index("region").loc["P", "nobs"] == 5
    assert "observations not matching" in res.removed.iloc[0]["reason"]


def test_nan_rows_are_counted_and_explained_per_group():
    t = two_regions()
    t.loc[(t["region"] == "P") & (t["year"].isin([1991, 1995])), "value"] = np.nan
    res = pc.fit(pc.TrendSpec("NEE ~ year", by=("region",)), t)
    g = res.glance().set_index("region")
    assert g.loc["P", "nobs"] == 8 and g.loc["P", "n_dropped"] == 2 and g.loc["P", "dropped_why"] == "2 NaN in NEE"
    assert g.loc["NoP", "n_dropped"] == 0 and g.loc["NoP", "dropped_why"] == ""


def test_group_with_fewer_than_three_years_is_reported_not_fitted():
    t = pd.concat([two_regions(), series([2000, 2001], [1.0, 2.0], region="X")], ignore_index=True)
    with pytest.warns(UserWarning, match="1 of 3 group"):
        res = pc.fit(pc.TrendSpec("NEE ~ year", by=("region",)), t)
    g = res.glance().set_index("region")
    assert g.loc["X", "nobs"] == 0 and g.loc["X", "n_dropped"] == 2
    assert g.loc["X", "dropped_why"] == "not fitted: 2 years < min_years=3" and np.isnan(g.loc["X", "r_squared"])
    assert "X" not in set(res.tidy()["region"])
    assert any("not fitted" in w for w in res.warnings)


def test_empty_group_all_nan_is_reported():
    t = two_regions()
    t.loc[t["region"] == "NoP", "value"] = np.nan
    with pytest.warns(UserWarning, match="not fitted"):
        res = pc.fit(pc.TrendSpec("NEE ~ year", by=("region",)), t)
    g = res.glance().set_index("region")
    assert g.loc["NoP", "nobs"] == 0 and g.loc["NoP", "dropped_why"] == "10 NaN in NEE; not fitted: 0 years < min_years=3"


def test_mixed_units_within_a_variable_are_refused_at_fit():
    t = two_regions()
    t.loc[t["region"] == "NoP", "unit"] = "gC m-2 d-1"
    t.loc[t["region"] == "NoP", "source"] = "CT"
    with pytest.raises(pc.ContractError, match=r"Variable 'NEE' mixes units \['gC m-2 d-1', 'gC m-2 yr-1'\].*convert_units"):
        pc.fit(pc.TrendSpec("NEE ~ year", by=("region",)), t)


def test_duplicate_keys_are_refused_at_fit():
    t = pd.concat([two_regions(), two_regions().iloc[:1]], ignore_index=True)
    with pytest.raises(pc.ContractError, match="Duplicate keys"):
        pc.fit(pc.TrendSpec("NEE ~ year"), t)


def test_fit_does_not_modify_the_table():
    t = two_regions()
    before = t.copy()
    pc.fit(pc.TrendSpec("NEE ~ year", by=("region",)), t)
    pd.testing.assert_frame_equal(t, before)


def test_covariate_from_another_source_pairs_with_every_source():
    years = list(range(1990, 2000))
    nee = pd.concat([series(years, np.arange(10.0) + 0.1 * i, source=s) for i, s in enumerate(("CAMS", "CT"))], ignore_index=True)
    airt = series(years, np.linspace(-3, 3, 10) ** 2, source="CRU", kind="covariate", variable="AirT", unit="degC")
    res = pc.fit(pc.TrendSpec("NEE ~ year + AirT", by=("source",)), pd.concat([nee, airt], ignore_index=True))
    assert res.glance()["nobs"].tolist() == [10, 10]
    aug = res.augment()
    assert set(aug.columns) >= {"AirT", "NEE"} and aug.groupby("source")["AirT"].apply(tuple).nunique() == 1


def test_covariate_from_several_foreign_sources_is_ambiguous():
    years = list(range(1990, 2000))
    t = pd.concat([series(years, np.arange(10.0)),
                   series(years, np.arange(10.0), source="CRU", kind="covariate", variable="AirT", unit="degC"),
                   series(years, np.arange(10.0), source="ERA5", kind="covariate", variable="AirT", unit="degC")], ignore_index=True)
    with pytest.raises(pc.ContractError, match=r"Variable 'AirT' comes from \['CRU', 'ERA5'\].*Keep one source"):
        pc.fit(pc.TrendSpec("NEE ~ year + AirT"), t)


def test_units_are_checked_after_the_filter():
    t = two_regions()
    t.loc[t["region"] == "NoP", "unit"] = "gC m-2 d-1"
    t.loc[t["region"] == "NoP", "source"] = "CT"
    res = pc.fit(pc.TrendSpec("NEE ~ year", where="region == 'P'"), t)
    assert res.units == {"NEE": "gC m-2 yr-1"}


def test_key_filter_selects_response_rows_and_keeps_foreign_covariates():
    years = list(range(1990, 2000))
    nee = pd.concat([series(years, np.arange(10.0) + 0.1 * i, source=s) for i, s in enumerate(("CAMS", "CT"))], ignore_index=True)
    airt = series(years, np.linspace(-3, 3, 10) ** 2, source="CRU", kind="covariate", variable="AirT", unit="degC")
    res = pc.fit(pc.TrendSpec("NEE ~ year + AirT", where="source == 'CAMS'"), pd.concat([nee, airt], ignore_index=True))
    assert res.glance()["nobs"].tolist() == [10] and res.glance()["dropped_why"].tolist() == [""]
    assert res.removed.iloc[0][["n_removed", "n_before"]].tolist() == [10, 20]


def test_table_must_be_a_dataframe():
    with pytest.raises(pc.EngineError, match="data must be a pandas \\(or polars\\) DataFrame, got str.*read_table"):
        pc.fit(pc.TrendSpec("NEE ~ year"), "fixtures/inversions/inversions_monthly.parquet")


def test_a_covariate_with_two_rows_for_one_key_of_the_response_is_refused():
    years = list(range(1990, 2000))
    nee = series(years, np.arange(10.0) + 0.1 * (-1.0) ** np.arange(10))
    airt = [series(years, np.linspace(-5, 5, 10) + k, source="CRU", kind=kind, variable="AirT", unit="degC")
            for k, kind in enumerate(("covariate", "satellite"))]  # one source, two kinds: two AirT per year
    with pytest.raises(pc.ContractError, match=r"Variable 'AirT' has several rows for one \(region, year, season\) of 'NEE'"):
        pc.fit(pc.TrendSpec("NEE ~ year + AirT"), pd.concat([nee, *airt], ignore_index=True))
