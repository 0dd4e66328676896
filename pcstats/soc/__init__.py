"""Soil organic carbon (SOC) stocks and storage in the northern permafrost region.

* :func:`layer_stock`: kg C m-2 of soil layers from C content, bulk density, thickness, coarse fraction.
* :func:`pedon_stock`: pedons over cumulative depth intervals (0-30, 0-100, 0-200, 0-300 cm).
* :func:`zone_storage`: Pg C per zone from mean stocks and areas, with an area-weighted total.
* :func:`check_consistency`: whether a published stock/area/storage table agrees with its rounding;
  :func:`read_published` reads one from a tidy CSV.

Only numpy and pandas are used.
"""

from __future__ import annotations

from .consistency import check_consistency
from .published import PublishedTables, read_published
from .stocks import layer_stock, pedon_stock
from .storage import zone_storage

__all__ = ["PublishedTables", "check_consistency", "layer_stock", "pedon_stock", "read_published", "zone_storage"]
