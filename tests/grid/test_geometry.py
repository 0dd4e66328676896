"""Cell weights on regular grids: the per-latitude vector equals the cell-area and cos-latitude maps."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from pcstats.errors import ProductError
from pcstats.grid import cell_area, coslat
from pcstats.grid.geometry import lat_weights


def test_lat_weights_are_a_row_of_the_maps():
    grid = xr.Dataset(coords={"lat": np.arange(40.25, 90, 0.5), "lon": np.arange(-179.75, 180, 0.5)})
    area = lat_weights(grid)
    assert area.dims == ("lat",) and area.attrs["units"] == "km2"
    np.testing.assert_allclose(cell_area(grid).values, np.broadcast_to(area.values[:, None], (100, 720)), rtol=1e-15)
    np.testing.assert_allclose(coslat(grid).values[:, 3], lat_weights(grid, "coslat").values, rtol=1e-15)
    # the cells of a band sum to the band's spherical area: 2 pi R^2 (sin 90 - sin 40) over 40-90 N
    total = 2 * np.pi * 6371.0**2 * (1 - np.sin(np.deg2rad(40.0)))
    assert float(area.sum()) * 720 == pytest.approx(total, rel=1e-12)
    with pytest.raises(ProductError, match="kind='cells'"):
        lat_weights(grid, "cells")
