"""The bundled example data (``fixtures/``) and model spec files (``models/``), wherever pcstats is installed.

In a built wheel both folders are package data of ``pcstats.datasets`` (``pcstats/datasets/fixtures``,
``pcstats/datasets/models``, found by :mod:`importlib.resources`); in a source checkout or an editable
install they are the repository's own ``fixtures/`` and ``models/``. Every example, notebook and
``pcstats reproduce`` finds them through here, so they run from any working directory.

>>> import pcstats as pc
>>> from pcstats import datasets
>>> monthly = pc.read_table(datasets.fixture_path("inversions/inversions_monthly.parquet"))
>>> spec = pc.load_spec(datasets.model_path("trend_seasonal"))
>>> sorted(p.name for p in datasets.MODELS.glob("sem_*.toml"))
['sem_egs.toml', 'sem_lgs.toml', 'sem_lgs_kinds.toml']
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

import pandas as pd

from ..errors import PcstatsError

__all__ = ["FIXTURES", "MODELS", "fixture_path", "model_path", "read_fixture", "seasonal_permafrost"]


def _data_folder(name: str) -> Path:
    """``pcstats/datasets/<name>`` of an installed wheel, else ``<name>/`` of the source checkout."""
    packaged = resources.files(__name__) / name
    if packaged.is_dir():
        return Path(str(packaged))  # a wheel installs unpacked: the Traversable is a real folder
    checkout = Path(__file__).resolve().parents[2] / name
    if checkout.is_dir():
        return checkout
    raise PcstatsError(f"pcstats.datasets: no {name}/ folder in the installed package ({packaged}) nor in a source "
                       f"checkout ({checkout}); reinstall pcstats from a wheel or an sdist, which carry it.")


#: the folder of the bundled example data (the fixtures' generators and planted truths: ``README.md`` there)
FIXTURES: Path = _data_folder("fixtures")
#: the folder of the model spec files (TOML) the paper's analyses use
MODELS: Path = _data_folder("models")


def fixture_path(name: str) -> Path:
    """The path of a bundled example file, ``name`` relative to :data:`FIXTURES`.

    >>> fixture_path("sem/sem_seasonal.parquet").name
    'sem_seasonal.parquet'
    """
    path = FIXTURES / name
    if not path.exists():
        top = sorted(p.name for p in FIXTURES.iterdir() if not p.name.startswith(("_", ".")) and p.suffix != ".py")
        raise PcstatsError(f"fixture_path(name={name!r}): no such file in {FIXTURES}. Names are relative to that "
                           f"folder, e.g. 'inversions/inversions_monthly.parquet'; it holds: {', '.join(top)}.")
    return path


def model_path(name: str) -> Path:
    """The path of a bundled model spec file, by file name with or without ``.toml``.

    >>> model_path("glmm_trend").name
    'glmm_trend.toml'
    """
    path = MODELS / (name if name.endswith(".toml") else f"{name}.toml")
    if not path.is_file():
        names = sorted(p.stem for p in MODELS.glob("*.toml"))
        raise PcstatsError(f"model_path(name={name!r}): no spec file {path.name} in {MODELS}; the bundled specs are: "
                           f"{', '.join(names)}.")
    return path


def read_fixture(name: str) -> pd.DataFrame:
    """A bundled example table (Parquet or CSV) read with :func:`pcstats.read_table`.

    >>> read_fixture("evaluation/sites_monthly.parquet")["kind"].unique().tolist()
    ['eddy_covariance', 'dgvm']
    """
    from ..data import read_table

    return read_table(fixture_path(name))


@functools.lru_cache(maxsize=1)
def _seasonal_permafrost() -> pd.DataFrame:
    import warnings

    from ..pipeline.inputs import regional_tables

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the two incomplete JAMSTEC seasons: counted as dropped in the fits
        tables, _, _ = regional_tables(read_fixture("inversions/inversions_monthly.parquet"),
                                       read_fixture("covariates/covariates_annual.parquet"),
                                       covariates_monthly=read_fixture("covariates/covariates_monthly.parquet"))
    return tables["permafrost"]


def seasonal_permafrost() -> pd.DataFrame:
    """The inversions' seasonal NEE in permafrost (P) and non-permafrost (NoP) regions, with their ensemble.

    The table the paper's trend models fit (Fig. 1, Table 1), made from the bundled inversions under the
    paper's study design (:data:`pcstats.PAPER`): ``pcstats reproduce`` writes the same table as
    ``data/seasonal_permafrost.csv``. A fresh copy on every call (built once per process).

    >>> t = seasonal_permafrost()
    >>> sorted(t["region"].unique()), sorted(t["season"].unique())
    (['NoP', 'P'], ['ANN', 'EGS', 'LGS', 'WIN'])
    """
    return _seasonal_permafrost().copy()
