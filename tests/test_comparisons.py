"""pcstats.comparisons (towers vs the inversions, land sink vs GCB, MAT sensitivity) and the comparisons section.

The functions are checked on small series whose answers follow by hand or from scipy/statsmodels; the section on
the fixtures recovers what fixtures/generate_comparisons.py (comparisons_truth.json) and fixtures/generate.py
(truth.json, "mat_sensitivity") planted. The evaluation fixture's towers must give a negative LGS gamma, smaller in
magnitude in P than in NoP (as in the paper).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import pcstats as pc
from pcstats.comparisons import (land_sink_correlation, mat_sensitivity, read_land_sink, regional_total, tower_cells,
                                 tower_trends_vs_ensemble)
from pcstats.errors import ContractError, PcstatsError

from .conftest import ROOT
from .numbers import assert_frames_close, assert_tree_close

UNIT = "gC m-2 yr-1"


# --- synthetic inputs -------------------------------------------------------------------------------------------

def _grid(slopes: dict[str, float], years=range(1990, 2011), centres=None) -> pd.DataFrame:
    """A seasonal per-cell table: cell c -> value = slope * (year - 2000) + a bend before 1995."""
    centres = centres or {"c1": (60.5, 10.5), "c2": (65.5, -179.5)}
    rows = []
    for cell, slope in slopes.items():
        for year in years:
            bend = 5.0 * (1995 - year) if year < 1995 else 0.0  # outside the towers' years: must not matter
            rows.append({"source": "ensemble", "region": cell, "lat": centres[cell][0], "lon": centres[cell][1],
                         "year": year, "season": "ANN", "variable": "NEE", "value": slope * (year - 2000) + bend,
                         "unit": UNIT})
    return pd.DataFrame(rows)


def _towers(spec: dict[str, tuple[str, str, float, float, float]], years=range(1998, 2008)) -> pd.DataFrame:
    """site -> (region, cell, lat, lon, tower slope); value = slope * (year - 2000) + 3."""
    rows = []
    for site, (region, lat, lon, slope) in spec.items():
        for year in years:
            rows.append({"source": "FLUXNET", "site": site, "region": region, "lat": lat, "lon": lon, "year": year,
                         "season": "ANN", "variable": "NEE", "value": slope * (year - 2000) + 3.0, "unit": UNIT})
    return pd.DataFrame(rows)


TOWERS = {"A": ("P", 60.7, 10.2, 1.5), "B": ("P", 60.1, 10.9, 2.5), "C": ("P", 60.5, 10.5, 0.0),
          "D": ("P", 60.9, 10.0, 3.0), "E": ("NoP", 65.2, 180.3, -0.5), "F": ("NoP", 65.9, -179.1, 0.5),
          "G": ("NoP", 65.5, -179.5, -2.0)}


def test_towers_map_to_the_cell_that_holds_them_across_the_dateline():
    cells = tower_cells(_towers(TOWERS), _grid({"c1": 1.0, "c2": -1.0}))
    assert cells.to_dict() == {"A": "c1", "B": "c1", "C": "c1", "D": "c1", "E": "c2", "F": "c2", "G": "c2"}


def test_paired_difference_of_tower_and_cell_trends_over_the_towers_years():
    res = tower_trends_vs_ensemble(_towers(TOWERS), _grid({"c1": 1.0, "c2": -1.0}))
    per_tower = res.augment().set_index("site")
    # straight lines: the OLS trends are the slopes; the grid's bend before 1995 is outside the towers' years
    expected = {s: v[3] - (1.0 if v[0] == "P" else -1.0) for s, v in TOWERS.items()}
    for site, d in expected.items():
        assert per_tower.loc[site, "difference"] == pytest.approx(d, abs=1e-9)
        assert (per_tower.loc[site, "first_year"], per_tower.loc[site, "last_year"]) == (1998, 2007)
    tidy = res.tidy().set_index(["region", "component", "term"])
    for region in ("P", "NoP"):
        d = np.array([expected[s] for s, v in TOWERS.items() if v[0] == region])
        paired = tidy.loc[(region, "paired t", "tower - ensemble")]
        ref = stats.ttest_1samp(d, 0.0)
        assert paired["estimate"] == pytest.approx(d.mean(), abs=1e-9)
        assert paired["std_error"] == pytest.approx(d.std(ddof=1) / np.sqrt(len(d)), rel=1e-9)
        assert paired["statistic"] == pytest.approx(ref.statistic, rel=1e-9)
        assert paired["p_value"] == pytest.approx(ref.pvalue, rel=1e-9)
        assert paired["df"] == len(d) - 1
        low, high = ref.confidence_interval(0.95)
        assert (paired["conf_low"], paired["conf_high"]) == (pytest.approx(low, rel=1e-9), pytest.approx(high, rel=1e-9))
        wilcoxon = tidy.loc[(region, "wilcoxon", "tower - ensemble")]
        assert wilcoxon["p_value"] == pytest.approx(stats.wilcoxon(d).pvalue, rel=1e-9)
        walsh = [(a + b) / 2 for i, a in enumerate(d) for b in d[i:]]
        assert wilcoxon["estimate"] == pytest.approx(np.median(walsh), abs=1e-9)
    assert res.glance().set_index("region").loc["P", "nobs"] == 4
    assert res.units["trend"] == "gC m-2 yr-2"


def test_towers_outside_the_grid_and_short_records_are_counted_not_fitted():
    towers = pd.concat([_towers(TOWERS), _towers({"far": ("P", 40.0, 10.0, 1.0)}),
                        _towers({"short": ("P", 60.5, 10.4, 1.0)}, years=range(2000, 2003))])
    res = tower_trends_vs_ensemble(towers, _grid({"c1": 1.0, "c2": -1.0}), min_years=5)
    assert set(res.augment()["site"]) == set(TOWERS)
    removed = res.removed.set_index("stage")
    assert removed.loc["cell", "n_removed"] == 10 and "far" in removed.loc["cell", "reason"]
    assert removed.loc["years", "n_removed"] == 1


@pytest.mark.parametrize("column", ["lat", "site", "region", "unit"])
def test_a_missing_tower_column_is_named(column):
    with pytest.raises(ContractError, match=f"towers has no column '{column}'"):
        tower_trends_vs_ensemble(_towers(TOWERS).drop(columns=column), _grid({"c1": 1.0, "c2": -1.0}))


def test_bad_tower_inputs_name_the_fault():
    grid = _grid({"c1": 1.0, "c2": -1.0})
    with pytest.raises(ContractError, match="grid has no column 'lon'"):
        tower_trends_vs_ensemble(_towers(TOWERS), grid.drop(columns="lon"))
    with pytest.raises(ContractError, match="'unit'"):
        tower_trends_vs_ensemble(_towers(TOWERS).assign(unit="gC m-2 d-1"), grid)
    with pytest.raises(ContractError, match="no rows of source 'CAMS'"):
        tower_trends_vs_ensemble(_towers(TOWERS), grid, source="CAMS")
    with pytest.raises(ContractError, match="variable 'GPP'"):
        tower_trends_vs_ensemble(_towers(TOWERS), grid, variable="GPP")
    with pytest.raises(ContractError, match="no tower lies in a grid cell"):
        tower_trends_vs_ensemble(_towers(TOWERS).assign(lat=0.0), grid)


# --- land sink vs a reference series ----------------------------------------------------------------------------

def _series(seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    years = np.arange(1975, 2021)
    x = 0.02 * (years - 1975) + rng.normal(0, 0.3, len(years))
    y = 1.0 + 2.0 * x + rng.normal(0, 0.5, len(years))
    return pd.DataFrame({"year": years, "value": x}), pd.DataFrame({"year": years, "value": y})


def test_land_sink_correlation_is_pearson_with_fisher_interval_and_ols_trends():
    sink, reference = _series()
    res = land_sink_correlation(sink, reference, years=(1980, 2017))
    window = sink["year"].between(1980, 2017)
    x, y, t = sink.loc[window, "value"], reference.loc[window, "value"], sink.loc[window, "year"]
    ref = stats.pearsonr(x, y)
    tidy = res.tidy().set_index(["component", "series", "term"])
    r = tidy.loc[("correlation", "ensemble vs GCB2020", "r")]
    assert r["estimate"] == pytest.approx(ref.statistic, rel=1e-12) and r["p_value"] == pytest.approx(ref.pvalue, rel=1e-8)
    low, high = ref.confidence_interval(0.95)
    assert (r["conf_low"], r["conf_high"]) == (pytest.approx(low, rel=1e-9), pytest.approx(high, rel=1e-9))
    for series, values in (("ensemble", x), ("GCB2020", y)):
        fit = stats.linregress(t, values)
        row = tidy.loc[("trend", series, "year")]
        assert row["estimate"] == pytest.approx(fit.slope, rel=1e-9) and row["std_error"] == pytest.approx(fit.stderr, rel=1e-9)
        assert row["p_value"] == pytest.approx(fit.pvalue, rel=1e-8)
    fit = stats.linregress(x, y)
    assert tidy.loc[("regression", "GCB2020 ~ ensemble", "ensemble"), "estimate"] == pytest.approx(fit.slope, rel=1e-9)
    assert tidy.loc[("regression", "GCB2020 ~ ensemble", "(Intercept)"), "estimate"] == pytest.approx(fit.intercept, rel=1e-9)
    glance = res.glance().iloc[0]
    assert (glance["nobs"], glance["first_year"], glance["last_year"]) == (38, 1980, 2017)


def test_bad_land_sink_inputs_name_the_fault():
    sink, reference = _series()
    with pytest.raises(ContractError, match="reference has no column 'value'"):
        land_sink_correlation(sink, reference.rename(columns={"value": "land sink"}))
    with pytest.raises(ContractError, match="several rows for year 1975"):
        land_sink_correlation(pd.concat([sink, sink.head(1)]), reference)
    with pytest.raises(ContractError, match="only 0 years"):
        land_sink_correlation(sink, reference, years=(1900, 1950))


def test_read_land_sink_finds_the_header_below_the_notes(tmp_path):
    path = tmp_path / "gcb.csv"
    path.write_text("Global Carbon Budget 2020\nUnits: GtC/yr\n\nYear,fossil emissions,Land Sink ,ocean sink\n"
                    "1980,5.3,1.5,2.0\n1981,5.2,,2.1\n\nSource: notes below\n")
    out = read_land_sink(path)
    assert out["year"].tolist() == [1980, 1981]
    assert out["value"].iloc[0] == 1.5 and np.isnan(out["value"].iloc[1])
    with pytest.raises(ContractError, match="no column 'land use'.*fossil emissions"):
        read_land_sink(path, "land use")
    path.write_text("year;land sink\n1980;1.5\n")
    with pytest.raises(ContractError, match="no header row starting with 'Year'"):
        read_land_sink(path)


@pytest.mark.skipif(importlib.util.find_spec("openpyxl") is not None, reason="openpyxl is installed")
def test_reading_the_workbook_without_openpyxl_says_what_to_install(tmp_path):
    path = tmp_path / "Global_Carbon_Budget_2020v1.0.xlsx"
    import zipfile

    with zipfile.ZipFile(path, "w") as zf:  # what pandas needs to see a workbook before it asks for openpyxl
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(PcstatsError, match="pip install openpyxl"):
        read_land_sink(path)


# --- MAT sensitivity --------------------------------------------------------------------------------------------

def _mat_inputs(seed: int = 5) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    rng = np.random.default_rng(seed)
    years = np.arange(1980, 2018)
    flux, mat, slope = [], [], {"P": 6.0, "NoP": -1.0}
    for region, area in (("P", 2e5), ("NoP", 3e5)):
        t = -5 + 0.04 * (years - 1980) + rng.normal(0, 0.6, len(years))
        f = 20 + 0.5 * (years - 1980) + slope[region] * t + rng.normal(0, 2, len(years))
        flux.append(pd.DataFrame({"region": region, "year": years, "value": f, "unit": UNIT, "weight": area}))
        mat.append(pd.DataFrame({"region": region, "year": years, "value": t}))
    return pd.concat(flux, ignore_index=True), pd.concat(mat, ignore_index=True), slope


def test_mat_sensitivity_is_the_slope_of_the_detrended_series_with_n_minus_3_df():
    import statsmodels.api as sm

    flux, mat, _ = _mat_inputs()
    res = mat_sensitivity(flux, mat)
    tidy = res.tidy().set_index(["region", "component"])
    for region, area in (("P", 2e5), ("NoP", 3e5)):
        f = flux[flux["region"] == region]["value"].to_numpy()
        t = mat[mat["region"] == region]["value"].to_numpy()
        years = np.arange(1980, 2018)
        detrend = lambda v: v - np.polyval(np.polyfit(years, v, 1), years)  # noqa: E731
        slope = np.polyfit(detrend(t), detrend(f), 1)[0]
        fit = sm.OLS(f, sm.add_constant(np.column_stack([years, t]))).fit()
        per_area = tidy.loc[(region, "per_area")]
        assert per_area["estimate"] == pytest.approx(slope, rel=1e-9)
        assert per_area["std_error"] == pytest.approx(fit.bse[2], rel=1e-9) and per_area["df"] == len(years) - 3
        assert per_area["p_value"] == pytest.approx(fit.pvalues[2], rel=1e-8)
        total = tidy.loc[(region, "total")]
        assert total["estimate"] == pytest.approx(slope * area * 1e6 / 1e12, rel=1e-9)  # TgC yr-1 K-1
        assert total["p_value"] == pytest.approx(per_area["p_value"], rel=1e-9)
    assert res.units == {"total": "TgC yr-1 K-1", "per_area": "gC m-2 yr-1 K-1"}
    assert set(res.augment().columns) >= {"total_anomaly", "MAT_anomaly", "fitted", "resid"}


def test_bad_mat_inputs_name_the_fault():
    flux, mat, _ = _mat_inputs()
    with pytest.raises(ContractError, match="flux has no column 'weight'"):
        mat_sensitivity(flux.drop(columns="weight"), mat)
    with pytest.raises(ContractError, match="several rows for region 'P', year 1980"):
        mat_sensitivity(pd.concat([flux, flux.head(1)]), mat)
    with pytest.raises(ContractError, match="column 'unit'.*gC m-2 yr-1"):
        mat_sensitivity(flux.assign(unit="gC m-2 d-1"), mat)
    with pytest.raises(ContractError, match="temperature has no column 'region'"):
        mat_sensitivity(flux, mat.drop(columns="region"))


def test_regional_total_is_value_times_area():
    t = pd.DataFrame({"value": [10.0, -2.0], "unit": UNIT, "weight": [1e6, 5e5]})
    assert regional_total(t, "PgC yr-1")["value"].tolist() == pytest.approx([1e-2, -1e-3], rel=1e-12)
    with pytest.raises(PcstatsError, match="to='GtC'"):
        regional_total(t, "GtC")


# --- the fixtures and the section -------------------------------------------------------------------------------

def _generator():
    spec = importlib.util.spec_from_file_location("generate_comparisons", ROOT / "fixtures" / "generate_comparisons.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generator_reproduces_committed_files(tmp_path):
    generator = _generator()
    (tmp_path / "inversions").symlink_to(ROOT / "fixtures" / "inversions")
    truth = generator.generate(tmp_path)
    assert_tree_close(truth, json.loads((ROOT / "fixtures" / "comparisons_truth.json").read_text()))
    rel = "towers/towers_monthly.parquet"
    assert_frames_close(pd.read_parquet(tmp_path / rel), pd.read_parquet(ROOT / "fixtures" / rel), name=rel)
    assert (tmp_path / generator.GCB["file"]).read_text() == (ROOT / "fixtures" / generator.GCB["file"]).read_text()


@pytest.fixture(scope="module")
def section(tmp_path_factory):
    from pcstats.pipeline.comparisons import comparisons
    from pcstats.pipeline.context import Context
    from pcstats.pipeline.inputs import FIXTURES, MODELS

    out = tmp_path_factory.mktemp("comparisons")
    return comparisons(Context(out, FIXTURES, MODELS)), out


@pytest.fixture(scope="module")
def planted() -> dict:
    return json.loads((ROOT / "fixtures" / "comparisons_truth.json").read_text())


def test_section_recovers_the_towers_planted_differences(section, planted):
    res = section[0].results["towers_vs_inversions"]
    rows = res.tidy().query("component == 'paired t'")
    family = len(rows)  # Bonferroni over the regions and seasons
    for r in rows.itertuples():
        truth = planted["towers"]["mean_difference"][r.region][r.season]
        q = stats.t.ppf(1 - 0.05 / (2 * family), r.df)
        assert abs(r.estimate - truth) <= q * r.std_error, (r.region, r.season, r.estimate, truth)
    ann = rows.set_index("region")
    ann = ann[ann["season"] == "ANN"]
    assert ann.loc["P", "p_value"] < 0.05  # P's planted ANN difference (0.64) is found
    assert res.glance()["nobs"].tolist() == [10] * 8


def test_section_recovers_the_planted_gcb_correlation(section, planted):
    res = section[0].results["land_sink_gcb2020"]
    tidy = res.tidy().set_index(["component", "term"])
    r = tidy.loc[("correlation", "r")]
    # the same ensemble series the generator planted on, the land sink written to 1e-6: r and b to ~1e-5
    assert r["estimate"] == pytest.approx(planted["gcb"]["sample_r"], abs=1e-5)
    assert r["conf_low"] < 0.78 < r["conf_high"]
    assert tidy.loc[("regression", "ensemble"), "estimate"] == pytest.approx(planted["gcb"]["b"], rel=1e-4)
    assert tidy.loc[("regression", "(Intercept)"), "estimate"] == pytest.approx(planted["gcb"]["a"], abs=1e-4)
    assert res.glance()["nobs"].iloc[0] == 38


def test_section_recovers_the_planted_mat_sensitivity(section, truth):
    res = section[0].results["mat_sensitivity"]
    rows = res.tidy().query("component == 'total'").set_index("region")
    q = stats.t.ppf(1 - 0.05 / 4, rows["df"])  # Bonferroni over the two regions
    for region in ("P", "NoP"):
        planted = truth["mat_sensitivity"][region]["TgC_yr_K"]
        assert abs(rows.loc[region, "estimate"] - planted) <= q[list(rows.index).index(region)] * rows.loc[region, "std_error"]
    area = res.glance().set_index("region")["area_km2"]
    for region in ("P", "NoP"):
        assert area[region] == pytest.approx(truth["mat_sensitivity"][region]["area_km2"], rel=1e-9)


def test_section_writes_tables_figures_and_a_summary_with_published_planted_and_recovered(section):
    sec, out = section
    for path in sec.written + sec.figures:
        assert (out / path).is_file() if not path.is_absolute() else path.is_file()
    names = {p.name for p in sec.figures}
    assert {"figS7_towers_vs_inversions.png", "figS2_land_sink_gcb2020.png", "figS12_mat_sensitivity.png"} <= names
    assert "published r = 0.78" in sec.summary and "planted r = 0.780" in sec.summary
    assert "101 ± 32" in sec.summary and "-14 ± 18" in sec.summary
    assert "planted tower − ensemble" in sec.summary


# --- the evaluation fixture's towers: LGS gamma -----------------------------------------------------------------

@pytest.mark.parametrize("spec_file", ["gamma_pooled.toml", "gamma_mixed.toml", "panel_gamma.toml"])
def test_towers_lgs_gamma_is_negative_and_smaller_in_magnitude_in_p(spec_file):
    sites = pc.read_table(ROOT / "fixtures" / "evaluation" / "sites_monthly.parquet")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seasonal = pc.seasonalize(sites[sites["kind"] == "eddy_covariance"], how="mean")
        spec = pc.load_spec(ROOT / "models" / spec_file)
        res = pc.fit(dataclasses.replace(spec, by=("region", "season")), seasonal)
    gamma = res.tidy().query("term == 'AirT' and season == 'LGS'").set_index("region")["estimate"]
    assert gamma["P"] < 0 and gamma["NoP"] < 0
    assert abs(gamma["P"]) < abs(gamma["NoP"])


def test_towers_lgs_gamma_truth_is_negative_and_recovered_within_sites():
    truth = json.loads((ROOT / "fixtures" / "evaluation" / "truth.json").read_text())["towers_lgs_gamma"]
    assert truth["P"] < 0 and truth["NoP"] < truth["P"]
    sites = pc.read_table(ROOT / "fixtures" / "evaluation" / "sites_monthly.parquet")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seasonal = pc.seasonalize(sites[sites["kind"] == "eddy_covariance"], how="mean")
        spec = pc.load_spec(ROOT / "models" / "panel_gamma.toml")
        res = pc.fit(dataclasses.replace(spec, by=("region", "season")), seasonal)
    rows = res.tidy().query("term == 'AirT' and season == 'LGS'").set_index("region")
    q = stats.norm.ppf(1 - 0.05 / 4)
    for region in ("P", "NoP"):
        assert abs(rows.loc[region, "estimate"] - truth[region]) <= q * rows.loc[region, "std_error"]
