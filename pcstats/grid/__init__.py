"""Gridded pipeline: regridding, masks, region classes, zonal means, seasons, ensembles, pixel trends.

Every function takes xarray objects in the canonical layout of :func:`pcstats.products.read_product`
(``lat``, ``lon``, ``time``) and works the same on NumPy- and dask-backed arrays.
"""

from .ensemble import ensemble_grid
from .geometry import cell_area, check_same_grid, coslat
from .long import cell_id, to_long
from .regions import natural_mask, region_classes, zonal_mean
from .regrid import regrid, target_grid
from .seasons import seasonalize_grid
from .trends import TREND_VARIABLES, pixel_trends

__all__ = ["TREND_VARIABLES", "cell_area", "cell_id", "check_same_grid", "coslat", "ensemble_grid", "natural_mask",
           "pixel_trends", "region_classes", "regrid", "seasonalize_grid", "target_grid", "to_long", "zonal_mean"]
