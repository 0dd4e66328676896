"""Imports of the optional heavy stacks, with an error that names the extra to install.

The base install carries what OLS, mixed-model and SEM users need; the rest comes with extras::

    pip install 'pcstats[bayes]'   # PyMC, nutpie, ArviZ: BayesSpec fits, posterior plots
    pip install 'pcstats[grid]'    # NetCDF/HDF/GeoTIFF/shapefile readers, dask, numba: gridded products
    pip install 'pcstats[maps]'    # cartopy: the polar trend maps
    pip install 'pcstats[r]'       # rpy2, pymer4: the lme4 engine
    pip install 'pcstats[all]'     # all of them (what `pcstats reproduce` needs for every section)

Every module of pcstats imports these packages through :func:`optional_import`, inside the function
that needs them, so ``import pcstats`` never loads them.

>>> optional_import("numpy").__name__
'numpy'
>>> EXTRAS["pymc"]
'bayes'
"""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import PcstatsError

__all__ = ["EXTRAS", "MissingExtraError", "optional_import"]

#: top-level module -> the extra of pcstats that installs it
EXTRAS: dict[str, str] = {
    "pymc": "bayes", "pytensor": "bayes", "nutpie": "bayes", "arviz": "bayes",
    "netCDF4": "grid", "cftime": "grid", "flox": "grid", "dask": "grid", "distributed": "grid", "numba": "grid",
    "h5py": "grid", "pyhdf": "grid", "tifffile": "grid", "shapefile": "grid", "shapely": "grid", "pyproj": "grid",
    "cartopy": "maps",
    "rpy2": "r", "pymer4": "r",
}


class MissingExtraError(PcstatsError, ImportError):
    """An optional package is not installed; the message names the extra that installs it."""


def optional_import(name: str, needed_for: str | None = None) -> ModuleType:
    """Import module ``name`` (e.g. ``"pymc"``, ``"shapely.geometry"``) or raise :class:`MissingExtraError`.

    ``needed_for`` says what the caller was doing, for the message (default: the module's name).
    Modules of the base install pass straight through.
    """
    top = name.partition(".")[0]
    try:
        return importlib.import_module(name)
    except ImportError as err:
        extra = EXTRAS.get(top)
        if extra is None:
            raise
        raise MissingExtraError(
            f"{needed_for or name} needs the package {top!r}, which could not be imported ({err}). "
            f"Install pcstats' {extra!r} extra: pip install 'pcstats[{extra}]' (or 'pcstats[all]' for every "
            f"optional stack).") from err
