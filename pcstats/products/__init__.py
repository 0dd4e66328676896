"""Readers of the real products: gridded NetCDF (inversions, TRENDY, satellite GPP, NDVI, soil moisture,
covariates) and FLUXNET2015.

Gridded products become one canonical xarray Dataset (:func:`read_product`; sub-monthly products such
as GIMMS NDVI3g's 15-day composites and ESA CCI SM's daily files are made monthly); flux-tower files
become the long table (:func:`read_fluxnet`); the raster products (AVHRR VCF5KYR GeoTIFFs, the IPA permafrost
map, MCD12Q1 HDF4 tiles, SMAP L4C HDF5) have their own readers. Both record in their output how native units and
signs were converted to gC m-2 yr-1 with net uptake positive.
"""

from .fluxnet import read_fluxnet
from .geotiff import read_geotiff, read_vcf5kyr, vcf_long
from .ipa import PAPER_RULE, ipa_zones, read_ipa_polygons, read_ipa_raster
from .landcover import landcover_on_grid, natural_vegetation, ndvi_rule, read_mcd12q1
from .layouts import PRODUCTS, Field, Product
from .netcdf import CALENDARS, decode_months, detect_product, read_product
from .smap import monthly_means, read_smap_l4c, smap_long

__all__ = ["CALENDARS", "PAPER_RULE", "PRODUCTS", "Field", "Product", "decode_months", "detect_product", "ipa_zones",
           "landcover_on_grid", "monthly_means", "natural_vegetation", "ndvi_rule", "read_fluxnet", "read_geotiff",
           "read_ipa_polygons", "read_ipa_raster", "read_mcd12q1", "read_product", "read_smap_l4c", "read_vcf5kyr",
           "smap_long", "vcf_long"]
