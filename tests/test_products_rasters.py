"""Readers of the non-NetCDF products: VCF5KYR (GeoTIFF), IPA permafrost map, MCD12Q1 (HDF4), SMAP L4C (HDF5).

Reference values are the planted truths of fixtures/generate_products_rasters.py (truth_rasters.json).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from pcstats.errors import ProductError
from pcstats.products.geotiff import read_geotiff, read_vcf5kyr, vcf_long
from pcstats.products.ipa import PAPER_RULE, ZONE_CODES, ipa_zones, read_ipa_polygons, read_ipa_raster, zone_of_code
from pcstats.products.landcover import landcover_on_grid, natural_vegetation, ndvi_rule, read_mcd12q1
from pcstats.products.smap import ease2_centres, ease2_row_col, monthly_means, read_smap_l4c, smap_long

from .numbers import assert_tree_close

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "fixtures" / "products_rasters"
VCF = FOLDER / "VCF5KYR_2010001_001_2018224204211.tif"
MCD = FOLDER / "MCD12Q1.A2010001.h22v02.061.2022146061358.hdf"
SMAP = sorted((FOLDER / "smap").glob("SMAP_L4_C_mdl_*.h5"))


@pytest.fixture(scope="module")
def truth() -> dict:
    return json.loads((FOLDER / "truth_rasters.json").read_text())


@pytest.fixture(scope="module")
def l4c():
    return read_smap_l4c(SMAP)


# --- VCF5KYR --------------------------------------------------------------------------------------------------------

def test_vcf_returns_planted_tree_cover_water_and_fill(truth):
    ds = read_vcf5kyr(VCF)
    assert ds.attrs["year"] == 2010 and ds.attrs["source"] == "AVHRR-VCF" and ds["TC"].attrs["units"] == "%"
    assert np.all(np.diff(ds["lat"].values) > 0) and ds.sizes["lat"] == 80 and ds.sizes["lon"] == 120
    assert float(ds["lat"][1] - ds["lat"][0]) == pytest.approx(0.05, abs=1e-9)
    assert any(p["water"] for p in truth["vcf5kyr"]["probes"])
    for probe in truth["vcf5kyr"]["probes"]:
        value = float(ds["TC"].sel(lat=probe["lat"], lon=probe["lon"], method="nearest", tolerance=1e-6))
        if probe["TC"] is None:
            assert np.isnan(value), probe
        else:
            assert value == pytest.approx(probe["TC"], abs=1e-9), probe
        if probe["water"]:
            assert value == pytest.approx(0.0, abs=1e-9)
    assert int(ds["TC"].isnull().sum()) == truth["vcf5kyr"]["n_fill"]
    total = ds["TC"] + ds["non_tree_vegetation"] + ds["bare_ground"]
    assert float(np.nanmax(np.abs(total.values - 100)[np.isfinite(total.values) & (ds["TC"].values > 0)])) < 1e-9


def test_vcf_long_table(truth):
    table = vcf_long(VCF)
    assert set(table["source"]) == {"AVHRR-VCF"} and set(table["variable"]) == {"TC"} and set(table["year"]) == {2010}
    assert len(table) == 80 * 120 - truth["vcf5kyr"]["n_fill"]
    probe = truth["vcf5kyr"]["probes"][1]
    row = table[np.isclose(table["lat"], probe["lat"]) & np.isclose(table["lon"], probe["lon"])]
    assert row["value"].to_numpy() == pytest.approx([probe["TC"]], abs=1e-9)


def test_geotiff_nodata_tag_is_missing(tmp_path):
    import tifffile

    keys = [1, 1, 0, 2, 1024, 0, 1, 2, 2048, 0, 1, 4326]
    path = tmp_path / "VCF5KYR_2001001_001_2018224204211.tif"
    data = np.array([[[10, 0], [100, 250]]], dtype=np.uint8)
    tifffile.imwrite(path, data[0], extratags=[(33550, "d", 3, (0.5, 0.5, 0.0), False),
                                               (33922, "d", 6, (0, 0, 0, 10.0, 61.0, 0), False),
                                               (34735, "H", len(keys), keys, False), (42113, "s", 2, "0", False)])
    raster = read_geotiff(path)
    assert raster.attrs["nodata"] == pytest.approx(0.0) and raster.attrs["epsg"] == 4326
    assert raster["x"].values.tolist() == pytest.approx([10.25, 10.75]) and raster["y"].values.tolist() == pytest.approx([60.75, 60.25])
    tc = read_vcf5kyr(path)["TC"]  # lat ascending: the top row (61 N) is last
    assert tc.values.tolist()[1][0] == pytest.approx(10.0) and np.isnan(tc.values[1, 1]) and np.isnan(tc.values[0, 1])
    assert tc.values[0, 0] == pytest.approx(100.0)


def test_vcf_bad_input_names_the_file(tmp_path):
    bad = tmp_path / "VCF5KYR_2010001_001_2018224204211.tif"
    bad.write_bytes(b"not a tiff at all")
    with pytest.raises(ProductError, match="VCF5KYR_2010001_001_2018224204211.tif: cannot be read as a TIFF"):
        read_vcf5kyr(bad)
    renamed = tmp_path / "treecover.tif"
    shutil.copy(VCF, renamed)
    with pytest.raises(ProductError, match="treecover.tif: not a VCF5KYR file name"):
        read_vcf5kyr(renamed)


# --- IPA ------------------------------------------------------------------------------------------------------------

def test_ipa_polygons_and_raster_give_the_planted_zones(truth):
    probes = truth["zone_probes"]
    lat, lon = [p["lat"] for p in probes], [p["lon"] for p in probes]
    expected = [p["zone"] for p in probes]
    assert {"continuous", "discontinuous", "sporadic", "isolated", "none", None} <= set(expected)
    for source in (read_ipa_polygons(FOLDER / "permaice.shp"), read_ipa_raster(FOLDER / "nhipa.tif")):
        zones = ipa_zones(lat, lon, source)
        as_text = lambda column: [v if isinstance(v, str) else None for v in zones[column]]  # noqa: E731 (missing: NaN)
        assert as_text("zone") == expected
        assert as_text("permafrost") == [PAPER_RULE.get(z) if z else None for z in expected]
        codes = [ZONE_CODES[z] if z else np.nan for z in expected]
        np.testing.assert_allclose(zones["zone_code"].to_numpy(), codes, atol=0)


def test_paper_rule_isolated_counts_as_no_permafrost():
    assert [PAPER_RULE[z] for z in ("continuous", "discontinuous", "sporadic", "isolated", "none")] == \
        ["P", "P", "P", "NoP", "NoP"]
    assert zone_of_code([4, 8, 16, 20]).tolist() == ["isolated"] * 4
    assert zone_of_code([13, 17, 24, 0]).tolist() == ["continuous", "continuous", None, None]


def test_ipa_byte_raster_on_the_ease_grid(tmp_path):
    side = 721
    codes = np.zeros((side, side), dtype=np.uint8)
    codes[360, 360] = 1  # the pole: continuous
    codes[360 + 100, 360] = 12  # 100 cells (2507 km) from the pole along +y down the rows: isolated
    path = tmp_path / "nhipa.byte"
    codes.tofile(path)
    raster = read_ipa_raster(path)
    assert raster.attrs["crs"] == "EPSG:3408"
    from pyproj import Transformer

    lon, lat = Transformer.from_crs(3408, 4326, always_xy=True).transform(0.0, -100 * 25067.525)
    zones = ipa_zones([90.0, lat, 60.0], [0.0, lon, 0.0], raster)
    assert [z if isinstance(z, str) else None for z in zones["zone"]] == ["continuous", "isolated", None]
    (tmp_path / "short.byte").write_bytes(codes.tobytes()[:-10])
    with pytest.raises(ProductError, match=r"short.byte: 519831 bytes; nhipa.byte is 1441 x 1441"):
        read_ipa_raster(tmp_path / "short.byte")


def test_ipa_polygons_bad_input(tmp_path):
    for suffix in (".shp", ".shx", ".dbf"):
        shutil.copy(FOLDER / f"permaice{suffix}", tmp_path / f"permaice{suffix}")
    with pytest.raises(ProductError, match=r"permaice.shp: no permaice.prj beside it"):
        read_ipa_polygons(tmp_path / "permaice.shp")
    import shapefile

    with shapefile.Writer(str(tmp_path / "odd")) as w:
        w.field("NUM_CODE", "C", size=4)
        w.field("EXTENT", "C", size=2)
        w.poly([[[0, 0], [0, 1], [1, 1], [0, 0]]])
        w.record("1", "X")
    shutil.copy(FOLDER / "permaice.prj", tmp_path / "odd.prj")
    with pytest.raises(ProductError, match=r"odd.shp, field EXTENT: values \['X'\]"):
        read_ipa_polygons(tmp_path / "odd.shp")


# --- MCD12Q1 --------------------------------------------------------------------------------------------------------

def test_mcd12q1_classes_and_fill(truth):
    lc = read_mcd12q1(MCD)
    assert lc.shape == (2400, 2400) and lc.attrs["tile"] == "h22v02" and lc.attrs["year"] == 2010
    assert lc.attrs["n_fill"] > 0 and int(lc.isnull().sum()) == lc.attrs["n_fill"]
    classes = set(np.unique(lc.values[np.isfinite(lc.values)]).astype(int))
    assert classes <= set(range(1, 18)) and {12, 13, 14, 16, 17} <= classes
    # pixel centres: the tile's north-west corner is 70 N (sinusoidal y = 7 tiles)
    assert float(lc["lat"][0]) == pytest.approx(70.0, abs=0.01) and float(lc["lat"][-1]) == pytest.approx(60.0, abs=0.01)


def test_mcd12q1_majority_and_fractions_on_the_l4c_cells(truth, l4c):
    cover = landcover_on_grid(read_mcd12q1(MCD), l4c)
    rows, cols = list(cover["row"].values), list(cover["col"].values)
    for probe in truth["mcd12q1"]["probes"]:
        i, j = rows.index(probe["row"]), cols.index(probe["col"])
        assert float(cover["majority"][i, j]) == pytest.approx(probe["majority"]), probe
        assert float(cover["fraction"].sel(igbp=7)[i, j]) == pytest.approx(probe["minority_fraction"], abs=1e-12)
    sums = cover["fraction"].sum("igbp").values
    np.testing.assert_allclose(sums[cover["n_pixels"].values > 0], 1.0, atol=1e-12)


def test_mcd12q1_on_a_regular_grid():
    grid = xr.Dataset(coords={"lat": np.arange(62.75, 65.5, 0.5), "lon": np.arange(100.25, 103.5, 0.5)})
    cover = landcover_on_grid(read_mcd12q1(MCD), grid)
    assert cover["majority"].dims == ("lat", "lon") and int(cover["n_pixels"].min()) > 0
    # the continuous zone (north of 64.65 N) is deciduous needleleaf (larch, 3) in the fixture
    assert float(cover["majority"].sel(lat=65.25, lon=100.25)) == pytest.approx(3.0)


def test_natural_vegetation_rule():
    classes = xr.DataArray(np.arange(1.0, 18.0)[None, :], dims=("lat", "lon"),
                           coords={"lat": [60.5], "lon": np.arange(17) + 0.5})
    kept = natural_vegetation(classes).values[0]
    assert kept.tolist() == [True] * 11 + [False] * 6  # 12-14 managed; 15 snow/ice, 16 barren, 17 water
    ndvi = classes * 0 + 0.5
    ndvi[0, 0] = 0.05
    assert natural_vegetation(classes, ndvi).values[0].tolist() == [False] + [True] * 10 + [False] * 6
    table = pd.DataFrame({"region": ["a", "a", "b", "b"], "value": [0.08, 0.1, 0.2, np.nan]})
    assert ndvi_rule(table).to_dict() == {"a": False, "b": True}


def test_mcd12q1_bad_input_names_the_file_and_sds(tmp_path):
    from pyhdf.SD import SD, SDC

    name = "MCD12Q1.A2010001.h22v02.061.2022146061358.hdf"
    path = tmp_path / name
    sd = SD(str(path), SDC.WRITE | SDC.CREATE)
    sds = sd.create("LC_Type2", SDC.UINT8, (4, 4))
    sds[:] = np.ones((4, 4), dtype=np.uint8)
    sds.endaccess()
    sd.end()
    with pytest.raises(ProductError, match=rf"{name}: no SDS 'LC_Type1'; the file has \['LC_Type2'\]"):
        read_mcd12q1(path)
    broken = tmp_path / "MCD12Q1.A2011001.h22v02.061.2022146061358.hdf"
    broken.write_bytes(MCD.read_bytes()[:2000])
    with pytest.raises(ProductError, match="MCD12Q1.A2011001.h22v02.061.2022146061358.hdf: cannot"):
        read_mcd12q1(broken)


# --- SMAP L4C -------------------------------------------------------------------------------------------------------

def test_ease2_round_trip():
    rows, cols = np.array([0, 70, 812, 1623]), np.array([0, 2999, 1928, 3855])
    lat, lon = ease2_centres(rows, cols)
    back = ease2_row_col(lat, lon)
    assert back[0].tolist() == rows.tolist() and back[1].tolist() == cols.tolist()


def test_l4c_decodes_units_sign_fill_and_grid(truth, l4c):
    smap = truth["smap"]
    assert l4c.sizes == {"time": 36, "lat": 18, "lon": 40}
    assert [int(l4c["row"].min()), int(l4c["row"].max())] == smap["rows"] and l4c["row"].values[0] == smap["rows"][1]
    assert [int(l4c["col"].min()), int(l4c["col"].max())] == smap["cols"]
    probe = smap["probe"]
    by_cell = l4c.swap_dims(lat="row", lon="col")
    cell = by_cell.sel(row=probe["row"], col=probe["col"])
    assert float(cell["lat"]) == pytest.approx(probe["lat"], abs=1e-5) and float(cell["lon"]) == pytest.approx(probe["lon"], abs=1e-5)
    for day, native in probe["native_g_C_m2_d"].items():
        at = cell.sel(time=day)
        assert float(at["NEE"]) == pytest.approx(-365 * native["nee_mean"], rel=1e-6)  # uptake positive, per year
        assert float(at["GPP"]) == pytest.approx(365 * native["gpp_mean"], rel=1e-6)
        assert float(at["RH"]) == pytest.approx(365 * native["rh_mean"], rel=1e-6)
    assert l4c["NEE"].attrs["positive"] == "down" and l4c["NEE"].attrs["units"] == "gC m-2 yr-1"
    n_missing = int(l4c["NEE"].isnull().sum())
    assert n_missing == 36 * smap["water_cells"] + len(smap["gaps"])
    for gap in smap["gaps"]:
        value = by_cell["NEE"].sel(time=f"{gap['year']}-{gap['month']:02d}-15", row=gap["row"], col=gap["col"])
        assert bool(value.isnull())
        assert bool(by_cell["NEE"].sel(row=gap["row"], col=gap["col"]).notnull().sum() == 35)


def test_l4c_bbox_reads_a_window(l4c):
    part = read_smap_l4c(SMAP[:3], bbox=(63.5, 64.5, 101.0, 102.0))
    assert 0 < part.sizes["lat"] < l4c.sizes["lat"] and 0 < part.sizes["lon"] < l4c.sizes["lon"]
    assert part["lat"].min() >= 63.5 and part["lon"].max() <= 102.0
    whole = l4c.isel(time=slice(0, 3)).swap_dims(lat="row", lon="col")
    window = whole.sel(row=part["row"].values, col=part["col"].values)
    np.testing.assert_allclose(part["NEE"].values, window["NEE"].values, rtol=1e-12)


def test_l4c_long_tables(l4c, truth):
    monthly = smap_long(l4c)
    assert set(monthly["variable"]) == {"NEE", "GPP", "RH"} and set(monthly["month"]) == set(range(5, 11))
    assert (monthly.loc[monthly["variable"] == "NEE", "positive"] == "down").all()
    assert monthly["weight"].to_numpy() == pytest.approx(81.145, abs=1e-3)
    n_cells = 18 * 40 - truth["smap"]["water_cells"]
    assert (monthly["variable"] == "NEE").sum() == 36 * n_cells - len(truth["smap"]["gaps"])
    daily = smap_long(l4c, by="day")
    assert "date" in daily and len(daily) == len(monthly)  # one day per month in the fixture
    means = monthly_means(l4c)
    assert means["n_days"].values.tolist() == [1] * 36 and str(means["time"].values[0])[:10] == "2015-05-01"


def _copy_l4c(tmp_path: Path, name: str | None = None) -> Path:
    path = tmp_path / (name or SMAP[0].name)
    shutil.copy(SMAP[0], path)
    return path


def test_l4c_bad_input_names_the_file_and_dataset(tmp_path):
    import h5py

    path = _copy_l4c(tmp_path)
    with h5py.File(path, "r+") as h5:
        h5["GPP/gpp_mean"].attrs["units"] = "kg C m-2 s-1"
    with pytest.raises(ProductError, match=rf"{path.name}, dataset 'GPP/gpp_mean': units 'kg C m-2 s-1'"):
        read_smap_l4c(path)
    path = _copy_l4c(tmp_path)
    with h5py.File(path, "r+") as h5:
        del h5["RH"]
    with pytest.raises(ProductError, match=rf"{path.name}: no dataset 'RH/rh_mean'"):
        read_smap_l4c(path)
    path = _copy_l4c(tmp_path)
    with h5py.File(path, "r+") as h5:
        h5["NEE/nee_mean"][0, 0] = -9998.0  # an undeclared fill
    with pytest.raises(ProductError, match=rf"{path.name}, dataset 'NEE/nee_mean': values up to 9998"):
        read_smap_l4c(path)
    path = _copy_l4c(tmp_path)
    with h5py.File(path, "r+") as h5:
        h5["GEO/latitude"][0, -1] = h5["GEO/latitude"][1, -1]
    with pytest.raises(ProductError, match="not rows and columns of the EASE-Grid 2.0 9 km grid"):
        read_smap_l4c(path)
    damaged = tmp_path / SMAP[1].name
    damaged.write_bytes(SMAP[1].read_bytes()[:500])
    with pytest.raises(ProductError, match=rf"{damaged.name}: cannot be opened as HDF5"):
        read_smap_l4c(damaged)
    with pytest.raises(ProductError, match="l4c.h5: not an SPL4CMDL file name"):
        read_smap_l4c(_copy_l4c(tmp_path, "l4c.h5"))
    twin = tmp_path / "twin"
    twin.mkdir()
    with pytest.raises(ProductError, match="two files for 2015-05-15"):
        read_smap_l4c([SMAP[0], _copy_l4c(twin, SMAP[0].name.replace("_001.h5", "_002.h5"))])
    with pytest.raises(ProductError, match=r"no cell centre inside bbox=\(10, 20, 0, 5\)"):
        read_smap_l4c(SMAP[:1], bbox=(10, 20, 0, 5))
    with pytest.raises(ProductError, match=r"\['NBP'\] not in the L4C product"):
        read_smap_l4c(SMAP[:1], variables=("NBP",))


# --- the generator ----------------------------------------------------------------------------------------------------

def _arrays(path: Path) -> dict[str, np.ndarray]:
    """The arrays of a fixture file, by name, whatever its format."""
    suffix = path.suffix
    if suffix == ".tif":
        import tifffile

        return {"raster": tifffile.imread(path)}
    if suffix == ".hdf":
        from pyhdf.SD import SD

        sd = SD(str(path))
        try:
            return {name: np.asarray(sd.select(name).get()) for name in sd.datasets()} | \
                {"StructMetadata.0": np.array(sd.attributes()["StructMetadata.0"])}
        finally:
            sd.end()
    if suffix == ".h5":
        import h5py

        out = {}
        with h5py.File(path) as h5:
            h5.visititems(lambda name, obj: out.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None)
        return out
    if suffix == ".nc":
        with xr.open_dataset(path, decode_times=False, mask_and_scale=False) as ds:
            return {name: ds[name].values for name in ds.variables}
    if suffix == ".shp":
        import shapefile

        with shapefile.Reader(str(path)) as r:
            return {f"shape{k}": np.asarray(s.points) for k, s in enumerate(r.shapes())} | \
                {"records": np.array([list(rec) for rec in r.records()], dtype=object)}
    return {}


def test_generator_reproduces_the_committed_fixtures(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("generate_products_rasters", ROOT / "fixtures" / "generate_products_rasters.py")
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    truth = generator.generate(tmp_path)
    assert_tree_close(json.loads(json.dumps(truth, default=str)), json.loads((FOLDER / "truth_rasters.json").read_text()),
                      rtol=1e-9, atol=1e-9)
    committed = sorted(p.relative_to(FOLDER) for p in FOLDER.rglob("*") if p.is_file())
    made = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert committed == made
    for rel in committed:
        ours, stored = _arrays(tmp_path / rel), _arrays(FOLDER / rel)
        assert ours.keys() == stored.keys(), rel
        for name, value in stored.items():
            if value.dtype.kind in "fc":
                np.testing.assert_allclose(ours[name], value, rtol=1e-6, atol=1e-6, err_msg=f"{rel}:{name}")
            else:
                assert np.array_equal(ours[name], value), f"{rel}:{name}"
        if rel.suffix in (".prj", ".dbf"):
            assert (tmp_path / rel).read_bytes() == (FOLDER / rel).read_bytes(), rel
