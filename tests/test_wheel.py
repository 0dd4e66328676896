"""The built wheel carries its data and works outside the checkout, with and without the optional stacks.

How the fresh environments are made (no network, a few seconds each): the wheel is built from this
checkout (``pip wheel --no-deps --no-build-isolation``); a venv is created without pip and without
system site-packages; the wheel is installed into it by this interpreter's pip (``pip --python VENV
install --no-deps --no-index``); and pcstats' dependencies come from a *view* of this environment's
site-packages: a folder of symlinks to its entries minus pcstats' own (the editable install's
``dist-info`` and path finder) and, for the base-install test, minus every package an extra installs.
The view is named by a ``.pth`` file, so it is a plain ``sys.path`` entry (its ``.pth`` files do not
run) and ``import pcstats`` can only find the wheel's copy. Every run starts in a temporary folder
outside the checkout with ``PYTHONPATH`` unset. What this does not test: that pip resolves the declared
dependency ranges from an index (``pip check`` in the full view verifies they are satisfied).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

from pcstats._optional import EXTRAS

from .conftest import ROOT

HOST_SITE = Path(sysconfig.get_paths()["purelib"])
#: distributions (normalised names) the extras install, beyond the import names of pcstats._optional.EXTRAS
EXTRA_DISTRIBUTIONS = {"pyshp", "netcdf4", "scikit_sparse", "sksparse", "h5netcdf", "llvmlite"}
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _normalised(entry: str) -> str:
    """``numba-0.65.1.dist-info`` / ``numba.libs`` / ``shapefile.py`` -> ``numba`` / ``numba`` / ``shapefile``."""
    name = re.split(r"-\d", entry)[0]
    for suffix in (".dist-info", ".libs", ".py", ".pth"):
        name = name.removesuffix(suffix)
    return re.sub(r"[-.]+", "_", name).lower()


def _host_view(folder: Path, *, without_extras: bool) -> Path:
    """A folder of symlinks to this environment's site-packages, without pcstats (and without the extras)."""
    blocked = {"pcstats", "__editable___pcstats_0_1_0_finder", "__editable___pcstats_0_1_0"}
    if without_extras:
        blocked |= {_normalised(m) for m in EXTRAS} | EXTRA_DISTRIBUTIONS
    folder.mkdir(parents=True)
    for entry in HOST_SITE.iterdir():
        if _normalised(entry.name) not in blocked and not entry.name.startswith("__editable__"):
            (folder / entry.name).symlink_to(entry)
    return folder


def _venv(root: Path, wheel: Path, view: Path) -> Path:
    """A venv with the wheel installed and ``view`` on its path; returns its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    python = root / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--no-index",
                    str(wheel)], check=True, capture_output=True, text=True)
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "_pcstats_test_dependencies.pth").write_text(f"{view}\n", encoding="utf-8")
    return python


def _run(python: Path, cwd: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["MPLBACKEND"] = "Agg"
    done = subprocess.run([str(python), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(args)[:200]} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(out),
                           str(ROOT)], capture_output=True, text=True)
    if done.returncode and "setuptools" in done.stderr:
        pytest.fail(f"building the wheel needs setuptools >= 77 here (the test extra: .venv/bin/pip install -e '.[test]'):\n"
                    f"{done.stderr[-2000:]}")
    assert done.returncode == 0, done.stderr[-3000:]
    (path,) = out.glob("pcstats-*.whl")
    return path


def test_packages_listed_in_pyproject():
    """pyproject lists packages by hand (for the data mapping): the list must be every package of pcstats/."""
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "pcstats").rglob("__init__.py")}
    data = set(PYPROJECT["tool"]["setuptools"]["package-dir"])
    assert data == {"pcstats.datasets.fixtures", "pcstats.datasets.models"}
    assert listed - data == found, f"add to / remove from [tool.setuptools] packages: {sorted(found ^ (listed - data))}"


def test_package_data_globs_ship_every_fixture():
    """Every file under fixtures/ and models/ but the generators matches a package-data glob."""
    globs = PYPROJECT["tool"]["setuptools"]["package-data"]
    for package, folder in (("pcstats.datasets.fixtures", "fixtures"), ("pcstats.datasets.models", "models")):
        root = ROOT / folder
        shipped = {p for g in globs[package] for p in root.glob(g) if p.is_file()}
        present = {p for p in root.rglob("*") if p.is_file() and p.suffix not in (".py", ".pyc")}
        assert present <= shipped, f"{folder}/ files no package-data glob ships: {sorted(str(p) for p in present - shipped)}"


def test_wheel_carries_data_and_base_install_works_without_extras(wheel, tmp_path):
    """The base install (no PyMC, dask, numba, cartopy, ...): import, OLS, mixed and SEM fits on the packaged
    data from outside the checkout, and a Bayesian fit fails naming the extra to install."""
    python = _venv(tmp_path / "venv", wheel, _host_view(tmp_path / "view", without_extras=True))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = r"""
import json, sys, warnings
warnings.simplefilter("ignore")
import pcstats as pc
from pcstats import datasets
from pcstats._optional import MissingExtraError
here = {"pcstats": pc.__file__, "fixtures": str(datasets.FIXTURES), "models": str(datasets.MODELS)}
family = 1 - 0.05 / 8
table = datasets.seasonal_permafrost()
trend = pc.fit(pc.load_spec(datasets.model_path("trend_seasonal")).replace(conf_level=family), table)
ens = trend.tidy().query("source == 'ensemble' and term == 'year'")
mixed = pc.fit(pc.load_spec(datasets.model_path("glmm_trend")), table)
sem = pc.fit(pc.load_spec(datasets.model_path("sem_lgs")), datasets.read_fixture("sem/sem_seasonal.parquet"))
try:
    pc.fit(pc.load_spec(datasets.model_path("bayes_trend")), table)
    bayes = "no error"
except MissingExtraError as err:
    bayes = str(err)
heavy = [m for m in ("pymc", "pytensor", "nutpie", "arviz", "dask", "numba", "netCDF4", "cartopy") if m in sys.modules]
print(json.dumps({"here": here, "ens": ens[["region", "season", "conf_low", "conf_high"]].to_dict("records"),
                  "mixed_nobs": int(mixed.glance()["nobs"].sum()), "sem_rows": len(sem.tidy()),
                  "bayes": bayes, "heavy": heavy, "truth": str(datasets.fixture_path("truth.json"))}))
"""
    out = json.loads(_run(python, elsewhere, "-c", code).stdout.strip().splitlines()[-1])
    site = str(python.parent.parent)
    assert all(path.startswith(site) for path in out["here"].values()), out["here"]  # the wheel's copy, data included
    truth = json.loads(Path(out["truth"]).read_text())["ensemble_target_by_region"]
    for row in out["ens"]:  # Bonferroni intervals over the 8 region-seasons (as tests/test_planted_truth.py)
        assert row["conf_low"] <= truth[row["region"]][row["season"]] <= row["conf_high"], row
    assert out["mixed_nobs"] > 0 and out["sem_rows"] > 0
    assert "pip install 'pcstats[bayes]'" in out["bayes"], out["bayes"]
    assert out["heavy"] == []


@pytest.mark.slow
def test_wheel_reproduces_from_outside_the_checkout(wheel, tmp_path):
    """The full install: ``pip check``, then ``pcstats reproduce --out results`` and a one-section rerun
    (``--only trends``) from a folder outside the checkout. 6.6 minutes on 2 busy cores (the full run is most of it)."""
    python = _venv(tmp_path / "venv", wheel, _host_view(tmp_path / "view", without_extras=False))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    check = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    pcstats = python.parent / "pcstats"
    _run(pcstats, elsewhere, "reproduce", "--out", "results", timeout=1800)
    first = json.loads((elsewhere / "results" / "manifest.json").read_text())
    _run(pcstats, elsewhere, "reproduce", "--out", "results", "--only", "trends", timeout=900)
    manifest = json.loads((elsewhere / "results" / "manifest.json").read_text())
    assert (elsewhere / "results" / "summary.md").is_file() and (elsewhere / "results" / "index.html").is_file()
    assert set(manifest) == set(first)
