"""Readers of the real products: gridded NetCDF (inversions, TRENDY, satellite GPP, NDVI, soil moisture,
covariates) and FLUXNET2015.

Gridded products become one canonical xarray Dataset (:func:`read_product`; sub-monthly products such
as GIMMS NDVI3g's 15-day composites and ESA CCI SM's daily files are made monthly); flux-tower files
become the long table (:func:`read_fluxnet`). Both record in their output how native units and
signs were converted to gC m-2 yr-1 with net uptake positive.
"""

from .fluxnet import read_fluxnet
from .layouts import PRODUCTS, Field, Product
from .netcdf import CALENDARS, decode_months, detect_product, read_product

__all__ = ["CALENDARS", "PRODUCTS", "Field", "Product", "decode_months", "detect_product", "read_fluxnet", "read_product"]
