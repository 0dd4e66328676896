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
    scale: float = 1.0  # a documented scale factor the files do not declare (GIMMS ndvi: 1/10000); not applied when
    #                     the variable carries its own scale_factor attribute
    units_if_absent: str | None = None  # units of a documented unitless variable shipped without a units attribute

    @property
    def name(self) -> str:
        return self.names[0]


@dataclass(frozen=True)
class Product:
    """The layout of one product and the pcstats variables made from it.

    ``outputs`` maps a pcstats variable to the native fields summed to make it (CarbonTracker's
    land flux is ``bio_flux_opt + fire_flux_imp``; TRENDY's TER is ``ra + rh``). Sub-monthly
    products (``steps``) are made monthly by :func:`pcstats.products.steps.to_months` with the
    ``to_month`` rule after quality screening (``flag``, ``keep_flags``). A variant is a
    ``dataclasses.replace`` of a record, passed to ``read_product(..., product=variant)``; the
    catalogue's own variants (``CTE-nofire``) have ``detect=False``, so a file name never picks them.
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
    time_from_file_name: bool = False  # the month is the file name's YYYYMM, or the half-year its YYYY_0106/_0712
    steps: str = "monthly"  # native time step: "monthly", "half-monthly" (15-day composites) or "daily"
    to_month: str = "mean"  # how sub-monthly steps make a month: "mean" of the valid steps or "max" (maximum value)
    flag: str | None = None  # quality-flag variable (sub-monthly products); its value is flag // flag_divisor
    flag_divisor: int = 1  # GIMMS NDVI3g v1 embeds its flag in percentile as 2000 * flag + percentile
    keep_flags: tuple[int, ...] | None = None  # flag values kept; None keeps every step (no quality screening)
    detect: bool = True  # False: a variant chosen by name only (product="CTE-nofire"), never from a file name
    documented: str = ""
    assumed: str = ""

    def source_of(self, file_name: str) -> str:
        """The source label of a file of this product (``CTE2020``, ``Jena_s85``, ``CLM5.0``)."""
        match = re.search(self.file_name, file_name)
        if match is None:
            return self.name if "{" in self.source else self.source
        return self.source.format(**match.groupdict())

    @property
    def flag_variables(self) -> set[str]:
        return {self.flag} if self.flag else set()

    @property
    def native_names(self) -> set[str]:
        return {n for fields in self.outputs.values() for f in fields for n in f.names}


_CT_BIO = Field(("bio_flux_opt",), ("mol m-2 s-1",), "up")
_CT_FIRE = Field(("fire_flux_imp",), ("mol m-2 s-1",), "up")
_CTE_BIO = Field(("bio_flux_opt", "biosphere_flux_optimized"), ("mol m-2 s-1",), "up")
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
        outputs={"NEE": (_CTE_BIO, _CT_FIRE)},
        file_name=r"^(?P<source>CTE\d{4})", source="{source}",
        time=("date", "time"), area="cell_area",
        documented="NCAR so-co2-airborne-obs models/model_cte.py (bio_flux_opt, cell_area, time dimension 'date', "
                   "latitude/longitude, 'mol m-2 s-1'); ICOS Carbon Portal GCB2023 spec (biosphere_flux_optimized); "
                   "CarbonTracker Europe ships bio_flux_opt (fire excluded) and fire_flux_imp, so NEE = bio + fire as CT2019B "
                   "(product='CTE-nofire' reads bio_flux_opt alone)",
        assumed="positive upward as CarbonTracker; time units 'days since 2000-01-01 00:00:00'; that the GCB files' fire "
                "variable is also named fire_flux_imp",
    ),
    Product(
        name="CTE-nofire", kind="inversion",
        outputs={"NEE": (_CTE_BIO,)},
        file_name=r"^(?P<source>CTE\d{4})", source="{source}",
        time=("date", "time"), area="cell_area", detect=False,
        documented="as CTE, with NEE = bio_flux_opt alone (fire_flux_imp left out); chosen by product='CTE-nofire' only",
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
    Product(
        name="JAMSTEC", kind="inversion",
        outputs={"NEE": (Field(("flux_apos_land",), ("kg-CO2/m2/month",), "up"),)},
        file_name=r"^co2\.MACTM-r\d+\.JAMSTEC\.\d{4}\.nc$", source="JAMSTEC",
        documented="NCAR so-co2-airborne-obs models/model_miroc.py and info_models.yaml (MIROC4-ACTM, Saeki & Patra 2017: "
                   "yearly files co2.MACTM-r84.JAMSTEC.YYYY.nc concatenated along time; flux_apos_land, flux_apos_ocean, "
                   "flux_apri_land, flux_apri_ocean, flux_apri_fossil in 'kg-CO2/m2/month'; latitude/longitude; no "
                   "cell-area variable; summed with the other models' release-positive fluxes)",
        assumed="positive upward (release to the atmosphere), as the NCAR reader's sum with the other models implies; "
                "'kg-CO2/m2/month' is the month's total, divided by the days of the month (as CAMS's kgC m-2 month-1); "
                "CF time units with the standard calendar; a 1 x 1 degree grid; the GCB2020 release the paper used "
                "(1996-2017) in this same layout",
    ),
    Product(
        name="LUE-GPP", kind="satellite",
        outputs={"GPP": (Field(("GPP", "gpp"), ("g C m-2 d-1", "gC m-2 d-1", "g C/m2/d")),)},
        file_name=r"^gross_primary_productivity_monthly_\d{4}-\d{4}(_\w+)?\.nc4?$|(?i:gpp[_-]?lue|lue[_-]?gpp)",
        source="LUE", missing=(-9999.0,),
        documented="ORNL DAAC 1789 (Madani & Parazoo 2020, 'Global Monthly GPP from an Improved Light Use Efficiency "
                   "Model, 1982-2016'): monthly average GPP in g C m-2 d-1 at 8 km (1/12 degree), one netCDF4 file; "
                   "public readers (ncdf4 in R) of gross_primary_productivity_monthly_1982-2016.nc4 (and a 360x720 "
                   "regridding of it): variables GPP, lat, lon, time in days since 1982-01-01",
        assumed="GPP(time, lat, lon) with units 'g C m-2 d-1' (the guide's 'g carbon/m2/d'), _FillValue and the code "
                "-9999 for no data, latitudes north to south, the standard calendar",
    ),
    Product(
        name="GIMMS-NDVI3g", kind="covariate",
        outputs={"NDVI": (Field(("ndvi",), ("1",), scale=1e-4, units_if_absent="1"),)},
        file_name=r"^ndvi3g_geo_v1_(?P<yyyy>\d{4})_(?P<months>0106|0712)\.nc4$", source="GIMMS-NDVI3g",
        missing=(-3000.0,), time_from_file_name=True, steps="half-monthly", to_month="max",
        flag="percentile", flag_divisor=2000, keep_flags=None,
        documented="GIMMS NDVI3g v1 README (ECOCAST; IRI data library v1p0): two nc4 files a year (Jan-Jun, Jul-Dec), 12 "
                   "15-day composites each, 1/12 degree, latitudes 89.958 N to 89.958 S; int16 ndvi rescaled by 10000, "
                   "fill -32768; flag embedded in percentile as 2000 * flag + percentile (0 good, 1 spline interpolation, "
                   "2 seasonal profile, possible snow/cloud); R package gimms (rasterizeGimms: varname 'ndvi' and "
                   "'percentile', -32768 water and -3000 no-data masked, / 10000, flag = floor(percentile / 2000); "
                   "monthlyComposite: maximum value by default)",
        assumed="the scale 1/10000 is not declared as a scale_factor attribute (the R package applies it by hand); "
                "-32768 is declared as _FillValue; dimensions named time, lat, lon; the composites' dates come from the "
                "file name and their order (1-15 and 16-end of each month), not from the file's time variable. Monthly "
                "NDVI is the maximum-value composite of the month's two half-months (GIMMS practice, and the R package's "
                "default; it suppresses cloud and snow contamination); replace(PRODUCTS['GIMMS-NDVI3g'], to_month='mean') "
                "averages them instead, keep_flags=(0,) keeps good values only",
    ),
    Product(
        name="ESACCI-SM", kind="covariate",
        outputs={"SM": (Field(("sm",), ("m3 m-3",)),)},
        file_name=r"^ESACCI-SOILMOISTURE-L3S-SSMV-COMBINED-\d{8}000000-fv\d+\.\d+\.nc$", source="ESACCI-SM",
        steps="daily", to_month="mean", flag="flag", keep_flags=(0,),
        documented="ESA CCI SM Product User Guide and ESMValTool cmorizer esacci_soilmoisture.py / ESACCI-SOILMOISTURE.yml "
                   "(daily files ESACCI-SOILMOISTURE-L3S-SSMV-COMBINED-YYYYMMDD000000-fv0X.X.nc, sm(time, lat, lon) "
                   "float32 'm3 m-3', _FillValue -9999, valid_range 0-1, int8 'flag' (0 = no inconsistency detected; "
                   "bits for snow or frozen soil, dense vegetation, no convergence, ...), sm_uncertainty, 0.25 degree, "
                   "latitudes north to south, time 'days since 1970-01-01 00:00:00 UTC')",
        assumed="monthly SM is the mean of the month's days with a valid sm and flag 0 (replace(..., keep_flags=None) "
                "keeps every valid sm); SM_count says how many days were averaged",
    ),
)}


def product_for_file(file_name: str) -> Product | None:
    """The product whose file-name pattern matches ``file_name``, if exactly one does."""
    matches = [p for p in PRODUCTS.values() if p.detect and re.search(p.file_name, file_name)]
    return matches[0] if len(matches) == 1 else None
