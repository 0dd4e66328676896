from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import pcstats as pc
from pcstats.export import write_results
from pcstats.robustness import sign_agreement

SOURCES = [f"S{k}" for k in range(6)]
YEARS = np.arange(2000, 2010)
#: slope sign of each source per cell: c1 all positive, c2 5 negative, c3 split 3/3, c4 four positive + 2 missing
SIGNS = {"c1": [1, 1, 1, 1, 1, 1], "c2": [-1, -1, -1, -1, -1, 1], "c3": [1, 1, 1, -1, -1, -1], "c4": [1, 1, 1, 1, 0, 0]}
CLASSES = pd.Series({"c1": "P", "c2": "P", "c3": "NoP", "c4": "NoP"}, name="permafrost")


def _table() -> pd.DataFrame:
    """4 cells x 6 sources x 2 seasons; in c4, S4 has no rows and S5 too few years to fit; in c1 of EGS, S0 and S1 have
    weak noisy positive slopes (p > 0.05)."""
    rows = []
    noise = 0.1 * (-1.0) ** np.arange(YEARS.size)
    for season in ("ANN", "EGS"):
        for cell, signs in SIGNS.items():
            for source, sign in zip(SOURCES, signs):
                if sign == 0 and source == "S4":
                    continue
                years = YEARS[:2] if sign == 0 else YEARS
                weak = season == "EGS" and cell == "c1" and source in ("S0", "S1")
                values = (0.02 if weak else sign) * (years - 2000) + noise[: years.size] * (1 if weak else 0.01)
                rows += [dict(source=source, kind="inversion", region=cell, year=int(y), season=season, variable="NEE",
                              value=float(v), unit="gC m-2 yr-1") for y, v in zip(years, values)]
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def fits() -> pc.Results:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the groups of c4 that cannot be fitted
        return pc.fit(pc.TrendSpec("NEE ~ year", by=("source", "region", "season")), _table())


def _grid(signs: dict[str, list[int]] = SIGNS) -> xr.Dataset:
    """The same 4 cells on a 2 x 2 grid, one season; missing sources as NaN."""
    est = np.array([[s if s else np.nan for s in signs[c]] for c in ("c1", "c2", "c3", "c4")], dtype=float)
    est = est.T.reshape(6, 1, 2, 2)  # source, season, lat, lon
    coords = {"source": SOURCES, "season": ["ANN"], "lat": [60.5, 61.5], "lon": [0.5, 1.5]}
    dims = ("source", "season", "lat", "lon")
    p = np.full(est.shape, 0.01)
    p[:2, 0, 0, 0] = 0.3  # c1: S0 and S1 not significant
    return xr.Dataset({"estimate": (dims, est), "p_value": (dims, p)}, coords=coords, attrs={"variable": "NEE"})


def _labels(lat=(60.5, 61.5)) -> xr.DataArray:
    return xr.DataArray([["P", "P"], ["NoP", "NoP"]], dims=("lat", "lon"), coords={"lat": list(lat), "lon": [0.5, 1.5]},
                        name="permafrost")


def _shares(res: pc.Results, **keys) -> dict[str, float]:
    tidy = res.tidy()
    for k, v in keys.items():
        tidy = tidy[tidy[k] == v]
    return dict(zip(tidy["term"], tidy["estimate"]))


def test_shares_of_hand_built_cells_from_fits(fits):
    res = sign_agreement(fits, over="source", threshold=5)
    assert res.by == ("region_class", "season")
    assert _shares(res, season="ANN") == pytest.approx({"share_agree": 2 / 3, "share_positive": 1 / 3, "share_negative": 1 / 3})
    tidy = res.tidy()
    assert set(tidy["component"]) == {"agreement"} and tidy["std_error"].isna().all() and tidy["p_value"].isna().all()
    g = res.glance().set_index("season").loc["ANN"]
    assert (g["nobs"], g["n_cells"], g["n_sources"], g["threshold"]) == (3, 4, 6, 5)
    assert g["n_cells_too_few_sources"] == g["n_dropped"] == 1
    assert "1 cell(s) with fewer than 5 finite source slopes" in g["dropped_why"]
    cells = res.augment().set_index(["season", "region"]).loc["ANN"]
    assert cells["n_finite"].tolist() == [6, 6, 6, 4]
    assert cells["n_positive"].tolist() == [6, 1, 3, 4] and cells["n_negative"].tolist() == [0, 5, 3, 0]
    assert cells["agree_sign"].tolist()[:3] == [1.0, -1.0, 0.0] and np.isnan(cells["agree_sign"].iloc[3])


def test_regions_series_groups_cells(fits):
    res = sign_agreement(fits, threshold=5, regions=CLASSES)
    assert _shares(res, season="ANN", region_class="P") == pytest.approx(
        {"share_agree": 1.0, "share_positive": 0.5, "share_negative": 0.5})
    assert _shares(res, season="ANN", region_class="NoP") == pytest.approx(
        {"share_agree": 0.0, "share_positive": 0.0, "share_negative": 0.0})
    g = res.glance().set_index(["region_class", "season"])
    assert g.loc[("NoP", "ANN"), ["nobs", "n_cells", "n_dropped"]].tolist() == [1, 2, 1]
    assert res.removed.empty
    partial = sign_agreement(fits, threshold=5, regions=CLASSES.drop("c3"))
    assert partial.removed[["n_removed", "n_before"]].values.tolist() == [[1, 4]]
    assert "(c3)" in partial.removed["reason"].iloc[0]


def test_alpha_counts_only_significant_slopes(fits):
    assert fits.tidy().query("term == 'year' and season == 'EGS' and region == 'c1' and source in ['S0', 'S1']")[
        "p_value"].gt(0.05).all()
    loose = sign_agreement(fits, threshold=5)
    strict = sign_agreement(fits, threshold=5, alpha=0.05)
    assert _shares(loose, season="EGS")["share_positive"] == pytest.approx(1 / 3)
    assert _shares(strict, season="EGS")["share_positive"] == 0.0  # c1 keeps only 4 significant positive slopes
    cell = strict.augment().query("season == 'EGS' and region == 'c1'").iloc[0]
    assert (cell["n_finite"], cell["n_positive"], cell["agree_sign"]) == (6, 4, 0.0)
    assert strict.glance()["n_dropped"].tolist() == loose.glance()["n_dropped"].tolist()
    assert "p < 0.05" in strict.model


def test_grid_dataset_with_labels_and_nan():
    ds = _grid()
    res = sign_agreement(ds, over="source", threshold=5)
    assert res.by == ("region_class", "season")
    assert _shares(res) == pytest.approx({"share_agree": 2 / 3, "share_positive": 1 / 3, "share_negative": 1 / 3})
    assert res.glance()[["nobs", "n_cells_too_few_sources"]].values.tolist() == [[3, 1]]
    by_class = sign_agreement(ds, threshold=5, regions=_labels())
    assert _shares(by_class, region_class="P") == pytest.approx({"share_agree": 1.0, "share_positive": 0.5, "share_negative": 0.5})
    assert _shares(by_class, region_class="NoP")["share_agree"] == 0.0
    cells = by_class.augment()
    assert list(cells.columns) == ["region_class", "season", "lat", "lon", "n_finite", "n_positive", "n_negative", "agree_sign",
                                  "area"]
    mapped = cells.set_index(["lat", "lon"])["agree_sign"].to_xarray()
    assert mapped.sel(lat=61.5, lon=0.5).item() == 0.0
    strict = sign_agreement(ds, threshold=5, alpha=0.05)
    assert _shares(strict)["share_positive"] == 0.0
    slopes = sign_agreement(ds["estimate"], threshold=5)  # a DataArray of slopes
    assert _shares(slopes) == pytest.approx(_shares(res))


def test_grid_unlabelled_cells_are_removed():
    labels = _labels().copy(data=[["P", None], ["NoP", "NoP"]])
    res = sign_agreement(_grid(), threshold=5, regions=labels)
    assert res.removed[["n_removed", "n_before"]].values.tolist() == [[1, 4]]
    assert res.glance().set_index("region_class").loc["P", "n_cells"] == 1


def test_pixel_trends_output_goes_in():
    from pcstats.grid import pixel_trends

    t = np.arange(10.0)
    signs = np.array([1, 1, 1, 1, 1, -1])[:, None, None, None]
    values = signs * t[None, :, None, None] + 0.01 * (-1.0) ** t[None, :, None, None] + np.zeros((6, 10, 2, 2))
    values[0, :, 1, 1] = np.nan
    values[1, :, 1, 1] = np.nan
    data = xr.DataArray(values, dims=("source", "year", "lat", "lon"),
                        coords={"source": SOURCES, "year": 2000 + t, "lat": [60.5, 61.5], "lon": [0.5, 1.5]}, name="NEE")
    res = sign_agreement(pixel_trends(data), threshold=5)
    assert _shares(res) == pytest.approx({"share_agree": 1.0, "share_positive": 1.0, "share_negative": 0.0})
    assert res.glance()[["nobs", "n_dropped"]].values.tolist() == [[3, 1]]


def test_bad_input_errors(fits):
    with pytest.raises(pc.PcstatsError, match=r"threshold=7\): the trends have only 6 source value\(s\) \(S0, S1"):
        sign_agreement(fits, threshold=7)
    with pytest.raises(pc.PcstatsError, match="only 6 source"):
        sign_agreement(_grid(), threshold=7)
    with pytest.raises(pc.PcstatsError, match="majority, threshold > 3"):
        sign_agreement(fits, threshold=3)
    with pytest.raises(pc.PcstatsError, match="whole number"):
        sign_agreement(fits, threshold=4.5)
    with pytest.raises(pc.PcstatsError, match="'model' is not a by key"):
        sign_agreement(fits, over="model")
    with pytest.raises(pc.PcstatsError, match="has no term 'AirT'"):
        sign_agreement(fits, term="AirT")
    with pytest.raises(pc.PcstatsError, match=r"alpha=2\)"):
        sign_agreement(fits, alpha=2)
    with pytest.raises(pc.PcstatsError, match="give a pandas Series"):
        sign_agreement(fits, regions=_labels())
    with pytest.raises(pc.PcstatsError, match="no dimension 'model'"):
        sign_agreement(_grid(), over="model")
    with pytest.raises(pc.PcstatsError, match="has no p-values"):
        sign_agreement(_grid()["estimate"], alpha=0.05)
    with pytest.raises(pc.PcstatsError, match=r"labels' 'lat' coordinate .* differs"):
        sign_agreement(_grid(), regions=_labels(lat=(70.5, 71.5)))
    with pytest.raises(pc.PcstatsError, match="not a Dataset"):
        sign_agreement(_grid(), regions=_labels().to_dataset())
    with pytest.raises(pc.PcstatsError, match="gridded trends"):
        sign_agreement(pd.DataFrame())


def test_compare_and_export_take_the_result(fits, tmp_path):
    a = sign_agreement(fits, threshold=5, regions=CLASSES)
    b = sign_agreement(fits, threshold=6, regions=CLASSES)
    wide = pc.compare([a, b])
    assert wide.columns.get_level_values(0).unique().tolist() == [a.model, b.model]
    assert wide.loc[("P", "ANN", "agreement", "share_agree"), (a.model, "estimate")] == 1.0
    assert wide.loc[("P", "ANN", "agreement", "share_agree"), (b.model, "estimate")] == 0.5
    assert pc.compare([a, b], part="glance").shape[0] == 4
    paths = write_results(a, tmp_path, "agreement")
    assert {p.name for p in paths} >= {"agreement_tidy.csv", "agreement_glance.csv", "agreement.json"}
    assert a.spec.kind == "agreement" and a.spec.threshold == 5 and a.spec.n_sources == 6
