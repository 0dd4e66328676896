"""The product catalogue: how each real product ships its variables, and what pcstats makes of them.

A :class:`Product` is data, not code: native variable names (with the alternatives a product
has used), the units strings it ships, the sign convention of its net flux, its coordinate and
time names, its cell-area and land-fraction variables, the file names it comes in and the
missing-value codes it writes. :mod:`pcstats.products.netcdf` reads any of them the same way.
Where a layout detail is documented or shown by a maintained reader, ``documented`` says where;
details that could not be confirmed are listed in ``assumed``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Field", "Product", "PRODUCTS", "product_for_file"]


@dataclass(frozen=True)
class Field:
    """One native variable: its names in the files, the units it ships in and its sign."""

    names: tuple[str, ...]  # the first name a file has is used (products renamed variables between releases)
    units: tuple[str, ...]  # units attribute strings as shipped; other spellings of the same unit are accepted
    positive: str | None = None  # native sign of a net flux: "up" (release positive) or "down" (uptake positive)

    @property
    def name(self) -> str:
        return self.names[0]


@dataclass(frozen=True)
class Product:
    """The layout of one product and the pcstats variables made from it.

    ``outputs`` maps a pcstats variable to the native fields summed to make it (CarbonTracker's
    land flux is ``bio_flux_opt + fire_flux_imp``; TRENDY's TER is ``ra + rh``).
    """

    name: str
    kind: str
    outputs: dict[str, tuple[Field, ...]]
    file_name: str  # regular expression on the file name; group "source" (if any) labels the source
    source: str  # source label when the file name does not give one
    time: tuple[str, ...] = ("time",)  # accepted names of the time dimension ((): a static map)
    lat: tuple[str, ...] = ("lat", "latitude")
    lon: tuple[str, ...] = ("lon", "longitude")
    area: str | None = None  # cell-area variable (m2), if the product ships one
    land_fraction: str | None = None  # land-sea fraction variable (0-1), if the product ships one
    missing: tuple[float, ...] = ()  # codes meaning missing even where no _FillValue/missing_value declares them
    time_from_file_name: bool = False  # the month is the file name's YYYYMM (the file has no usable time axis)
    documented: str = ""
    assumed: str = ""

    def source_of(self, file_name: str) -> str:
        """The source label of a file of this product (``CTE2020``, ``Jena_s85``, ``CLM5.0``)."""
        match = re.search(self.file_name, file_name)
        if match is None:
            return self.name if "{" in self.source else self.source
        return self.source.format(**match.groupdict())

    @property
    def native_names(self) -> set[str]:
        return {n for fields in self.outputs.values() for f in fields for n in f.names}


_CT_BIO = Field(("bio_flux_opt",), ("mol m-2 s-1",), "up")
_CT_FIRE = Field(("fire_flux_imp",), ("mol m-2 s-1",), "up")
_KG_S = ("kg m-2 s-1", "kg C m-2 s-1", "kgC m-2 s-1")

PRODUCTS: dict[str, Product] = {p.name: p for p in (
    Product(
        name="CT2019B", kind="inversion",
        outputs={"NEE": (_CT_BIO, _CT_FIRE)},
        file_name=r"^(?P<source>CT2019B)\.flux1x1(-monthly|\.\d{6})\.nc$", source="{source}",
        area="cell_area",
        documented="NOAA GML CarbonTracker download page (bio_flux_opt excludes fire; fire_flux_imp separate); "
                   "NCAR so-co2-airborne-obs models/model_carbontracker.py (names, 'mol m-2 s-1', latitude/longitude, "
                   "time_components); positive = source to the atmosphere",
        assumed="time units 'days since 2000-01-01 00:00:00' (standard calendar), no _FillValue, cell_area (m2) present",
    ),
    Product(
        name="CTE", kind="inversion",
        outputs={"NEE": (Field(("bio_flux_opt", "biosphere_flux_optimized"), ("mol m-2 s-1",), "up"),)},
        file_name=r"^(?P<source>CTE\d{4})", source="{source}",
        time=("date", "time"), area="cell_area",
        documented="NCAR so-co2-airborne-obs models/model_cte.py (bio_flux_opt, cell_area, time dimension 'date', "
                   "latitude/longitude, 'mol m-2 s-1'); ICOS Carbon Portal GCB2023 spec (biosphere_flux_optimized)",
        assumed="positive upward as CarbonTracker; time units 'days since 2000-01-01 00:00:00'",
    ),
    Product(
        name="CAMS", kind="inversion",
        outputs={"NEE": (Field(("flux_apos_bio",), ("kgC m-2 month-1",), "up"),)},
        file_name=r"^cams73_(?P<version>v\d+r\d+|latest)_co2_flux_surface_mm_(?P<yyyymm>\d{6})\.nc$", source="CAMS",
        area="area", land_fraction="lsf", time_from_file_name=True,
        documented="ESMValTool cmorizers CAMS.yml and formatters/datasets/cams.py (flux_apos_bio 'kgC m-2 month-1', "
                   "upward, area, lsf, time from the file name); NCAR so-co2-airborne-obs models/model_cams.py",
        assumed="grid spacing (1.875 x 3.75 degrees in the fixture); no time dimension in the monthly files",
    ),
    Product(
        name="JenaCarboScope", kind="inversion",
        outputs={"NEE": (Field(("co2flux_land",), ("PgC/yr",), "up"),)},
        file_name=r"^(?P<run>s\d\d)[A-Za-z]*_v[\w.]+?\.nc$", source="Jena_{run}",
        time=("mtime",), area="dxyp",
        documented="ICOS Carbon Portal CarboScope spec (co2flux_land 'PgC/yr' per grid cell, dims mtime/lat/lon, dxyp); "
                   "ESMValTool formatters/datasets/carboscope.py (positive upward); NCAR model_carboscope.py",
        assumed="mtime units 'days since 2000-01-01 00:00:00'",
    ),
    Product(
        name="TRENDY", kind="dgvm",
        outputs={
            "NBP": (Field(("nbp",), _KG_S, "down"),),
            "GPP": (Field(("gpp",), _KG_S),),
            "RA": (Field(("ra",), _KG_S),),
            "RH": (Field(("rh",), _KG_S),),
            "TER": (Field(("ra",), _KG_S), Field(("rh",), _KG_S)),
        },
        file_name=r"^(?P<source>[A-Za-z0-9.+\-]+?)_S[0-3]_(nbp|gpp|ra|rh)\.nc$", source="{source}",
        time=("time", "time_counter"), missing=(1e20, -99999.0),
        documented="TRENDY protocol (CMIP names, kg m-2 s-1, nbp positive into the land, <MODEL>_S3_<var>.nc); "
                   "ORCHIDEE's time_counter and 'days since 1700-01-01' with a 365_day calendar seen in public readers",
        assumed="fill 1e20; the undeclared -99999 code; 'months since' time units in some models",
    ),
    Product(
        name="CRU", kind="covariate",
        outputs={"AirT": (Field(("tmp",), ("degrees Celsius",)),)},
        file_name=r"^cru_ts\d\.\d+\.\d{4}\.\d{4}\.tmp\.dat\.nc$", source="CRU",
        documented="CRU TS 4.0x tmp.dat.nc headers (tmp(time, lat, lon), 'degrees Celsius', _FillValue and "
                   "missing_value 9.96921e36, 'days since 1900-1-1', NetCDF classic)",
    ),
    Product(
        name="MODIS-VCF", kind="covariate",
        outputs={"TC": (Field(("Percent_Tree_Cover",), ("%", "percent")),)},
        file_name=r"MOD44B", source="MODIS-VCF", time=(), missing=(200.0,),
        documented="MOD44B: percent tree cover at 250 m",
        assumed="a latitude-longitude NetCDF aggregation with variable Percent_Tree_Cover, 200 for water and 253 as "
                "_FillValue (the HDF-EOS sinusoidal tiles are not read)",
    ),
    Product(
        name="Obu2019", kind="covariate",
        outputs={"P": (Field(("PFR",), ("%", "percent")),)},
        file_name=r"PERMAFROST-L4-PFR|Obu2019", source="Obu2019", time=(),
        documented="ESA CCI Permafrost PFR (ESMValTool cmor_config/ESACCI-PERMAFROST.yml)",
        assumed="a latitude-longitude NetCDF in percent (the product ships 1 km polar stereographic: reproject first)",
    ),
)}


def product_for_file(file_name: str) -> Product | None:
    """The product whose file-name pattern matches ``file_name``, if exactly one does."""
    matches = [p for p in PRODUCTS.values() if re.search(p.file_name, file_name)]
    return matches[0] if len(matches) == 1 else None
