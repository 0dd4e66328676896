from __future__ import annotations

import html
import json
import subprocess
import sys

import numpy as np
import pandas as pd

from pcstats.cli import main
from pcstats.report import sections


def test_fit_writes_tidy_and_glance(tmp_path, capsys):
    code = main(["fit", "models/trend_seasonal.toml", "--data", "tests/reference/trend_input.csv", "--out", str(tmp_path)])
    assert code == 0
    tidy = pd.read_csv(tmp_path / "trend_seasonal_tidy.csv")
    assert len(tidy) == 112 and {"estimate", "std_error", "p_value"} <= set(tidy.columns)
    assert (tmp_path / "trend_seasonal_glance.md").read_text().startswith("# Seasonal NEE trend (OLS) -- glance")
    meta = json.loads((tmp_path / "trend_seasonal.json").read_text())
    assert meta["engine"] == "closed_form" and len(meta["provenance"]["data_hash"]) == 64
    assert "56 of 56 groups fitted" in capsys.readouterr().out


def test_errors_exit_2_with_the_message(tmp_path, capsys):
    spec = tmp_path / "bad.toml"
    spec.write_text('family = "trend"\nformula = "NEE ~ year + os.getcwd()"\n')
    assert main(["fit", str(spec), "--data", "tests/reference/trend_input.csv", "--out", str(tmp_path)]) == 2
    assert "outside the safe vocabulary" in capsys.readouterr().err
    assert main(["fit", "models/trend_seasonal.toml", "--data", "nope.csv", "--out", str(tmp_path)]) == 2


def test_robustness_command_runs_the_set_and_reports_bad_input(tmp_path, capsys):
    out = tmp_path / "rob"
    assert main(["robustness", "models/trend_ensemble.toml", "--data", "tests/reference/trend_input.csv",
                 "--windows", "300", "--seed", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "300 windows" in printed and "Longest two vs shortest three" in printed
    windows = pd.read_csv(out / "tables" / "trend_ensemble_windows_tidy.csv.gz")
    assert windows["window"].nunique() == 300 and (out / "figures" / "trend_ensemble_windows.png").stat().st_size > 0
    again = tmp_path / "again"
    main(["robustness", "models/trend_ensemble.toml", "--data", "tests/reference/trend_input.csv", "--windows", "300",
          "--seed", "2", "--out", str(again)])
    assert pd.read_csv(again / "tables" / "trend_ensemble_windows_tidy.csv.gz")["start"].equals(windows["start"])
    assert main(["robustness", "models/trend_ensemble.toml", "--data", "tests/reference/trend_input.csv",
                 "--min-length", "99", "--out", str(out)]) == 2
    assert "min_length=99" in capsys.readouterr().err


def test_robustness_command_takes_a_region_only_spec(tmp_path, capsys):
    spec = tmp_path / "annual.toml"
    spec.write_text('family = "trend"\nformula = "NEE ~ year"\nby = ["region"]\n'
                    'where = "source == \'ensemble\' and season == \'ANN\'"\n')
    out = tmp_path / "rob"
    assert main(["robustness", str(spec), "--data", "tests/reference/trend_input.csv", "--windows", "200", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "| region   |   share p < 0.05" in printed and "P − NoP per window: median" in printed and "Skipped" not in printed
    for name in ("windows", "by_source", "leave_one_out", "longest_vs_shortest"):
        assert (out / "figures" / f"annual_{name}.png").stat().st_size > 0, name
    summary = pd.read_csv(out / "tables" / "annual_windows_summary_glance.csv")
    assert summary["region"].tolist() == ["NoP", "P", "P - NoP"] and (summary["nobs"] == 200).all()


def test_robustness_command_takes_a_per_source_spec_and_says_what_it_skipped(tmp_path, capsys):
    spec = tmp_path / "per_source.toml"
    spec.write_text('family = "trend"\nformula = "NEE ~ year"\nby = ["source", "region", "season"]\n')
    out = tmp_path / "rob"
    assert main(["robustness", str(spec), "--data", "tests/reference/trend_input.csv", "--windows", "200", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    skipped = captured.out.split("Skipped, as they do not apply to this spec:")[1]
    assert "figures/per_source_windows.png: window_trends_figure(): " in skipped and "several 'source' values" in skipped
    assert "each source alone: by_source(): 'NEE ~ year' already fits each source separately" in skipped
    assert "figures/per_source_leave_one_out.png: source_trends_figure(): the spec of" in skipped
    assert "skipped figures/per_source_windows.png" in captured.err
    summary = pd.read_csv(out / "tables" / "per_source_windows_summary_tidy.csv")
    assert len(summary.query("component == 'fixed'")) == 7 * 2 * 4 and set(summary.query("component == 'difference'")["region"]) == {"P - NoP"}
    assert (out / "tables" / "per_source_leave_one_out_tidy.csv").exists() and not (out / "figures" / "per_source_by_source.png").exists()


def test_reproduce_writes_tables_figures_and_manifest(tmp_path):
    out = tmp_path / "results"
    proc = subprocess.run([sys.executable, "-m", "pcstats.cli", "reproduce", "--out", str(out)],
                          capture_output=True, text=True, check=True)
    assert "P − NoP (Welch)" in (out / "summary.md").read_text() and f"summary: {out / 'summary.md'}" in proc.stdout
    assert all(line.startswith("reproduce: ") for line in proc.stderr.splitlines()), proc.stderr  # nothing through it
    manifest = json.loads((out / "manifest.json").read_text())
    assert {r["spec_file"] for r in manifest["runs"]} >= {"models/trend_seasonal.toml", "models/trend_bins.toml"}
    for rel in manifest["tables"] + manifest["figures"]:
        assert (out / rel).stat().st_size > 0, rel
    assert (out / "figures" / "trends.png").read_bytes()[:4] == b"\x89PNG"
    assert "tables/trend_seasonal_tidy.md" in manifest["tables"]
    assert any("JAMSTEC" in w for w in manifest["warnings"])
    # land-model evaluation and SOC (issue 7): skill by season, Q10 P vs NoP, the published-table check
    assert {"models/skill_nbp.toml", "models/q10_towers.toml"} <= {r["spec_file"] for r in manifest["runs"]}
    skill = pd.read_csv(out / "tables" / "skill_nbp_tidy.csv")
    assert set(skill["season"]) == {"ANN", "EGS", "LGS", "WIN"} and "ensemble" in set(skill["source"])
    assert "figures/taylor_nbp.png" in manifest["figures"]
    soc = pd.read_csv(out / "tables" / "soc_consistency.csv")
    assert (~soc["consistent"]).sum() == 12
    summary = (out / "summary.md").read_text()
    assert "Land-model skill" in summary and "Permafrost SOC storage" in summary and "Q10" in summary
    # robustness and sensitivity (issue 9)
    assert {"models/trend_ensemble.toml", "models/panel_gamma.toml", "models/gamma_mixed.toml"} <= {
        r["spec_file"] for r in manifest["runs"]}
    for figure in ("robustness_windows.png", "robustness_by_source.png", "gamma.png"):
        assert f"figures/{figure}" in manifest["figures"]
    agreement = pd.read_csv(out / "tables" / "sign_agreement_tidy.csv")
    assert set(agreement["region_class"]) == {"P", "NoP"} and agreement["estimate"].between(0, 1).all()
    assert "Random windows" in summary and "Temperature sensitivity" in summary
    # the gridded pipeline on the product fixtures: pixel-trend NetCDF, north-polar map, P/NoP trend table
    import xarray as xr

    from pcstats.grid import cell_area

    assert {"figures/grid_trend_map.png", "figures/grid_trend_map.svg"} <= set(manifest["figures"])
    assert (out / "figures" / "grid_trend_map.png").read_bytes()[:4] == b"\x89PNG"
    assert {"data/grid_trends.nc", "tables/grid_zonal_trends.csv", "tables/grid_zonal_trends.md"} <= set(manifest["tables"])
    with xr.open_dataset(out / "data" / "grid_trends.nc") as ds:
        assert set(ds["source"].values) == {"CT2019B", "CTE2020", "CAMS", "JAMSTEC", "Jena_s85", "ensemble"}
        assert list(ds["season"].values) == ["LGS", "ANN"] and ds["estimate"].attrs["units"] == "gC m-2 yr-2"
        assert {"sen_slope", "mk_p", "p_value"} <= set(ds.data_vars)
        weight = cell_area(ds).where(ds["permafrost"] == "P")
        cells_mean = float((ds["estimate"].sel(source="ensemble", season="ANN") * weight).sum() / weight.sum())
    zonal = pd.read_csv(out / "tables" / "grid_zonal_trends.csv").set_index(["region_class", "season", "source"])
    # OLS is linear: the trend of the area-weighted P mean is the area-weighted mean of the cells' trends
    np.testing.assert_allclose(zonal.loc[("P", "ANN", "ensemble"), "estimate"], cells_mean, rtol=1e-10)
    ct = zonal.xs("CT2019B", level="source")  # the 1-degree inversion recovers the planted trend of each class
    assert len(ct) == 4 and ((ct["estimate"] - ct["planted"]).abs() < 3 * ct["std_error"]).all()
    grid_agreement = pd.read_csv(out / "tables" / "grid_sign_agreement_tidy.csv")
    assert set(grid_agreement["region_class"]) == {"P", "NoP"} and set(grid_agreement["season"]) == {"LGS", "ANN"}
    assert "## Gridded products" in summary and "planted" in summary
    # the report (issue 8): one self-contained page, every section, every figure loaded in headless Chromium
    from .test_report import images, render

    assert manifest["report"] == "index.html"
    page = (out / "index.html").read_text()
    for heading, _ in sections(summary):
        assert heading in html.unescape(page), heading
    pngs = [f for f in manifest["figures"] if f.endswith(".png")]
    assert images(render(out / "index.html")) == (len(pngs), len(pngs))
    for paper_figure in ("fig3d_tc_bins", "fig4_trendy_vs_inversions", "gradients_ANN"):
        assert {f"figures/{paper_figure}.png", f"figures/{paper_figure}.svg"} <= set(manifest["figures"])
    # the paper's Table 1 with the real Bayesian fit: its estimates and no stars, posterior SDs named
    table1 = pd.read_csv(out / "tables" / "paper" / "table1_trends.csv", header=[0, 1], index_col=0)
    bayes = pd.read_csv(out / "tables" / "bayes_trend_tidy.csv").query("term == 'year_c:regionP'")
    cells = table1.xs("Bayesian", axis=1, level=1).loc["P − NoP trend"]
    assert len(cells) == 4 and not cells.str.contains(r"\*|\+").any()
    np.testing.assert_allclose(cells.astype(float), bayes.set_index("season").loc[cells.index, "estimate"], atol=5e-4)
    assert table1.index.str.contains("posterior SDs for Bayesian").any()
    # rerun two sections in two worker processes: the same numbers, the other sections' files untouched
    trend_file = out / "tables" / "trend_seasonal_tidy.csv"
    before = {name: pd.read_csv(out / "tables" / name) for name in ("sem_lgs_tidy.csv", "grid_zonal_trends.csv")}
    stamp, headings = trend_file.stat().st_mtime_ns, [h for h, _ in sections(summary)]
    proc = subprocess.run([sys.executable, "-m", "pcstats.cli", "reproduce", "--out", str(out), "--only", "sem", "grid",
                           "--jobs", "2"], capture_output=True, text=True, check=True)
    assert "reproduce: sem done" in proc.stderr and "reproduce: grid done" in proc.stderr and "trends done" not in proc.stderr
    for name, frame in before.items():
        pd.testing.assert_frame_equal(pd.read_csv(out / "tables" / name), frame, check_exact=False, rtol=1e-10)
    assert trend_file.stat().st_mtime_ns == stamp
    assert [h for h, _ in sections((out / "summary.md").read_text())] == headings
    assert sorted(json.loads((out / "manifest.json").read_text())["tables"]) == sorted(manifest["tables"])
    # the paper's whole design (issue 23): its sections and figures, the design paragraph, and reruns under one design
    for figure in ("fig2_productivity.png", "figS7_towers_vs_inversions.png", "figS2_land_sink_gcb2020.png",
                   "figS12_mat_sensitivity.png", "smap_sensitivity.png"):
        assert f"figures/{figure}" in manifest["figures"]
    assert "## Study design" in summary and "Published, planted and recovered trends" in summary
    assert json.loads((out / "tables" / "trend_seasonal.json").read_text())["provenance"]["design"]["name"] == "paper"
    proc = subprocess.run([sys.executable, "-m", "pcstats.cli", "reproduce", "--out", str(out), "--only", "trends",
                           "--design", "threshold"], capture_output=True, text=True)
    assert proc.returncode == 2 and "study design 'paper'" in proc.stderr
    # the paper tables of a real run compile without overfull boxes (skipped without pdflatex and siunitx)
    from .test_latex_compile import HAVE_LATEX, assert_fits, compile_tex

    for tex in sorted((out / "tables" / "paper").glob("*.tex")) if HAVE_LATEX else []:
        assert_fits(compile_tex(tex.read_text(), tmp_path, f"doc_{tex.stem}"))
