"""The study design of a regional comparison: window, how cells become P and NoP, masking and zonal means.

Liu et al. (2022) compare short-vegetated permafrost with tree-dominated non-permafrost: in the
Methods, P is tree cover below 50 % with permafrost extent above 10 % and NoP tree cover above 50 %
with extent below 10 %, over 1980-2017, on natural vegetation (croplands, urban areas and
cropland/natural mosaics of MCD12Q1 removed; the R code also masks NDVI < 0.1). Its R code
(figure1&3.r) takes permafrost from the IPA zone map (isolated permafrost counted as NoP) and
averages cells unweighted (``raster::zonal``). Each of these choices is a field of
:class:`StudyDesign`; :data:`PAPER` is the published design, :data:`THRESHOLD` the simpler one
(P >= 10 % vs the rest, all cells and years, area-weighted) that pcstats used before.

>>> import pandas as pd
>>> cells = pd.DataFrame({"TC": [20.0, 70.0, 70.0, 20.0], "P": [60.0, 2.0, 60.0, 2.0]}, index=["a", "b", "c", "d"])
>>> PAPER.regions(cells).tolist()
['P', 'NoP', None, None]
>>> THRESHOLD.regions(cells).tolist()
['P', 'NoP', 'P', 'NoP']
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np
import pandas as pd

from ..errors import ContractError, did_you_mean

__all__ = ["StudyDesign", "PAPER", "PAPER_CODE", "THRESHOLD", "DESIGNS", "IPA_ZONE_CODES", "IPA_PERMAFROST",
           "IPA_NO_PERMAFROST", "NOT_NATURAL_IGBP"]

#: IPA permafrost zones (Brown et al. 2002, NSIDC GGD318) as numeric codes: the one convention of the long tables,
#: the fixtures and the IPA reader (:func:`pcstats.products.ipa_zones`)
IPA_ZONE_CODES = {"continuous": 1, "discontinuous": 2, "sporadic": 3, "isolated": 4, "none": 0, "glacier": -1}
#: the zones the paper's code counts as permafrost, and as none (isolated counts as NoP; glaciers are neither)
IPA_PERMAFROST = tuple(IPA_ZONE_CODES[z] for z in ("continuous", "discontinuous", "sporadic"))
IPA_NO_PERMAFROST = tuple(IPA_ZONE_CODES[z] for z in ("isolated", "none"))
#: IGBP classes of MCD12Q1 (LC_Type1) that are not natural vegetation: croplands, urban, cropland/natural mosaics
NOT_NATURAL_IGBP = (12, 13, 14)


@dataclass(frozen=True)
class StudyDesign:
    """How cells become the regions compared, over which years, and how they are averaged.

    Parameters
    ----------
    years
        First and last year of the study window (inclusive); ``None`` keeps every year.
    contrast
        ``"tree_cover"``: P = tree cover < ``tc_split`` and permafrost, NoP = tree cover > ``tc_split`` and
        no permafrost (cells in neither are left out); ``"permafrost"``: permafrost or not, whatever the tree cover.
    permafrost
        ``"percent"``: permafrost where extent > ``p_split`` % (NoP below it; with ``contrast="permafrost"``
        P is extent >= ``p_split``, the ConP + DisconP of :func:`pcstats.classify`); ``"ipa"``: permafrost in the
        IPA zones continuous, discontinuous and sporadic (codes 1-3), isolated and none are NoP.
    zonal
        ``"unweighted"``: the mean of the cells (the paper's code, ``raster::zonal``); ``"area"``: area-weighted.
    mask
        ``"natural"``: leave out cells whose IGBP class is in ``not_natural`` or whose mean NDVI is below
        ``ndvi_min`` (cells without a class or NDVI are kept); ``"none"``: keep every cell.
    """

    name: str = "paper"
    years: tuple[int, int] | None = (1980, 2017)
    contrast: str = "tree_cover"
    permafrost: str = "percent"
    zonal: str = "unweighted"
    mask: str = "natural"
    tc_split: float = 50.0
    p_split: float = 10.0
    ndvi_min: float = 0.1
    not_natural: tuple[int, ...] = NOT_NATURAL_IGBP

    def __post_init__(self) -> None:
        for field, allowed in (("contrast", ("tree_cover", "permafrost")), ("permafrost", ("percent", "ipa")),
                               ("zonal", ("unweighted", "area")), ("mask", ("natural", "none"))):
            value = getattr(self, field)
            if value not in allowed:
                raise ContractError(f"StudyDesign({field}={value!r}): must be one of {allowed}.{did_you_mean(value, allowed)}")
        if self.years is not None and (len(self.years) != 2 or self.years[0] > self.years[1]):
            raise ContractError(f"StudyDesign(years={self.years!r}): give (first, last) with first <= last, or None.")

    @property
    def weight(self) -> str | None:
        """The ``weight=`` of :func:`pcstats.aggregate` for this design's zonal means."""
        return "weight" if self.zonal == "area" else None

    def permafrost_cells(self, cells: pd.DataFrame) -> pd.Series:
        """True where a cell counts as permafrost, False where not, missing where its attribute is."""
        if self.permafrost == "ipa":
            _need(cells, ("IPA",), "permafrost='ipa'")
            zone = cells["IPA"]
            return pd.Series(np.select([zone.isin(IPA_PERMAFROST), zone.isin(IPA_NO_PERMAFROST)], [True, False], None),
                             index=cells.index, dtype=object)
        _need(cells, ("P",), "permafrost='percent'")
        p = cells["P"]
        inside = p >= self.p_split if self.contrast == "permafrost" else p > self.p_split
        outside = p < self.p_split
        return pd.Series(np.select([inside, outside], [True, False], None), index=cells.index, dtype=object)

    def natural(self, cells: pd.DataFrame) -> pd.Series:
        """True for cells the mask keeps (all, with ``mask="none"``)."""
        keep = pd.Series(True, index=cells.index)
        if self.mask == "none":
            return keep
        if "LC" in cells.columns:
            keep &= ~cells["LC"].isin(self.not_natural)
        if "NDVI" in cells.columns:
            keep &= ~(cells["NDVI"] < self.ndvi_min)
        return keep

    def regions(self, cells: pd.DataFrame) -> pd.Series:
        """``P``, ``NoP`` or missing (left out) per cell, from columns TC, P (or IPA), LC and NDVI."""
        permafrost = self.permafrost_cells(cells)
        p, nop = permafrost.eq(True), permafrost.eq(False)
        if self.contrast == "tree_cover":
            _need(cells, ("TC",), "contrast='tree_cover'")
            p &= cells["TC"] < self.tc_split
            nop &= cells["TC"] > self.tc_split
        natural = self.natural(cells)
        return pd.Series(np.select([p & natural, nop & natural], ["P", "NoP"], None), index=cells.index, dtype=object)

    def within(self, table: pd.DataFrame) -> pd.DataFrame:
        """The rows of ``table`` inside the study window."""
        if self.years is None:
            return table
        return table[table["year"].between(*self.years)]

    def describe(self) -> dict:
        """The choices as a flat record (for Results, manifests and reports)."""
        out = asdict(self)
        out["years"] = None if self.years is None else list(self.years)
        out["not_natural"] = list(self.not_natural)
        return out

    def text(self) -> str:
        """One line: what this design compares."""
        years = "all years" if self.years is None else f"{self.years[0]}-{self.years[1]}"
        extent = ("IPA zones continuous/discontinuous/sporadic (isolated counts as NoP)" if self.permafrost == "ipa"
                  else f"permafrost extent {'>=' if self.contrast == 'permafrost' else '>'} {self.p_split:g} %")
        regions = (f"P: TC < {self.tc_split:g} % and {extent}; NoP: TC > {self.tc_split:g} % and no permafrost"
                   if self.contrast == "tree_cover" else f"P: {extent}; NoP: the rest")
        mask = (f"natural vegetation (IGBP not {', '.join(map(str, self.not_natural))}; mean NDVI >= {self.ndvi_min:g})"
                if self.mask == "natural" else "all cells")
        return f"{self.name}: {years}; {regions}; {mask}; {self.zonal} zonal means"

    def differences(self, other: StudyDesign) -> list[str]:
        """The choices where this design differs from ``other``, as ``field: ours (theirs)``."""
        mine, theirs = self.describe(), other.describe()
        return [f"{k}: {mine[k]} ({other.name}: {theirs[k]})" for k in mine if k != "name" and mine[k] != theirs[k]]

    def but(self, **changes) -> StudyDesign:
        """A copy with some choices changed (``PAPER.but(zonal="area")``)."""
        return replace(self, **changes)


def _need(cells: pd.DataFrame, columns: tuple[str, ...], why: str) -> None:
    missing = [c for c in columns if c not in cells.columns]
    if missing:
        raise ContractError(f"StudyDesign({why}) needs cell column(s) {missing}; the cells have {list(cells.columns)}. "
                            "Build them with pcstats.cell_attributes(covariates, variables=(...)).")


#: the paper's published design (Methods), with the unweighted zonal means of its R code
PAPER = StudyDesign()
#: what the paper's R code does where it differs from the Methods text: IPA zones for permafrost
PAPER_CODE = StudyDesign(name="paper_code", permafrost="ipa")
#: P >= 10 % vs the rest, every cell and year, area-weighted (pcstats before issue 23)
THRESHOLD = StudyDesign(name="threshold", years=None, contrast="permafrost", zonal="area", mask="none")
DESIGNS = {d.name: d for d in (PAPER, PAPER_CODE, THRESHOLD)}

#: why the default differs from the paper's R code, per choice (reported by ``pcstats reproduce``)
WHY_NOT_CODE = {
    "permafrost": "the Methods define P by permafrost extent (> 10 %), which works with any %P map and with the "
                  "fixtures' Obu-style extent; the R code reads the IPA zone map instead (design 'paper_code')",
}
