"""FLUXNET2015 FULLSET daily files (``FLX_<SITE>_FLUXNET2015_FULLSET_DD_<Y1>-<Y2>_<v>-<r>.csv``) into the long table.

What is read, per day, and what it becomes:

=================  ================================  ====================================================
variable           from                              notes
=================  ================================  ====================================================
NEE                ``NEE_VUT_REF``                   gC m-2 d-1, release positive in the file; flipped
GPP                mean of ``GPP_NT_VUT_REF`` and    the night-time and day-time partitions, as the paper
                   ``GPP_DT_VUT_REF``                does; a day lacking either is missing
TER                mean of ``RECO_NT_VUT_REF`` and   as GPP
                   ``RECO_DT_VUT_REF``
AirT               ``TA_F``                          degC
PAR                ``par_fraction x SW_IN_F``        W m-2; 0.5 is the fraction of global radiation that
                                                     is PAR in R's bigleaf (``Rg.to.PPFD``, frac_PAR 0.5)
SM                 ``SWC_F_MDS_1 / 100``             m3 m-3 (the file's %); optional: many sites lack it
=================  ================================  ====================================================

``-9999`` is missing. Quality: a day's value is kept when the fraction of measured and
good-quality gap-filled half-hours (the ``_QC`` column of the daily file, 0-1) is at least
``qc_min``; NEE's QC also governs GPP and TER, which are derived from it. A month's value is the
mean over its kept days, written as a rate in gC m-2 yr-1 (x 365, the package's convention),
and is missing when fewer than ``min_day_fraction`` of its days are kept. What was removed, and
why, is in ``table.attrs["pcstats"]`` and in a warning. Empty cells are missing like ``-9999``.

A file that gives no value is a :class:`~pcstats.errors.ProductError` naming it: 0 bytes, not
readable CSV, a required column missing, only a header, only missing values, or no monthly value
left after the quality rules; so are a TIMESTAMP that is not YYYYMMDD, a repeated day, and text
where a number belongs.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.contract import validate
from ..data.units import DAYS_PER_YEAR
from ..errors import ProductError, did_you_mean

__all__ = ["read_fluxnet", "REQUIRED_COLUMNS", "QC_MIN", "MIN_DAY_FRACTION", "PAR_FRACTION"]

QC_MIN = 0.8
MIN_DAY_FRACTION = 0.5
PAR_FRACTION = 0.5
MISSING = -9999.0
FILE_NAME = r"^FLX_(?P<site>[A-Z]{2}-[A-Za-z0-9]{3})_FLUXNET2015_FULLSET_DD_(?P<first>\d{4})-(?P<last>\d{4})_\d+-\d+\.csv$"
REQUIRED_COLUMNS = ("TIMESTAMP", "NEE_VUT_REF", "NEE_VUT_REF_QC", "GPP_NT_VUT_REF", "GPP_DT_VUT_REF", "RECO_NT_VUT_REF",
                    "RECO_DT_VUT_REF", "TA_F", "TA_F_QC", "SW_IN_F", "SW_IN_F_QC")
OPTIONAL_COLUMNS = ("SWC_F_MDS_1", "SWC_F_MDS_1_QC")

#: pcstats variable -> (columns averaged, QC column, factor, unit)
_VARIABLES = {
    "NEE": (("NEE_VUT_REF",), "NEE_VUT_REF_QC", -DAYS_PER_YEAR, "gC m-2 yr-1"),
    "GPP": (("GPP_NT_VUT_REF", "GPP_DT_VUT_REF"), "NEE_VUT_REF_QC", DAYS_PER_YEAR, "gC m-2 yr-1"),
    "TER": (("RECO_NT_VUT_REF", "RECO_DT_VUT_REF"), "NEE_VUT_REF_QC", DAYS_PER_YEAR, "gC m-2 yr-1"),
    "AirT": (("TA_F",), "TA_F_QC", 1.0, "degC"),
    "PAR": (("SW_IN_F",), "SW_IN_F_QC", None, "W m-2"),
    "SM": (("SWC_F_MDS_1",), "SWC_F_MDS_1_QC", 0.01, "m3 m-3"),
}


def _numbers(raw: pd.DataFrame, path: Path) -> pd.DataFrame:
    """The data columns as floats; empty cells (and NaN) are missing like -9999, other text is an error."""
    text_columns = [c for c in raw.columns if not pd.api.types.is_numeric_dtype(raw[c])]  # pandas read text there
    for column in text_columns:
        text = raw[column].astype(str).str.strip()
        bad = pd.to_numeric(text, errors="coerce").isna() & raw[column].notna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise ProductError(f"{path}: column {column} holds {text.iloc[row]!r} on line {row + 2}, which is not a "
                               f"number; FLUXNET files hold numbers and -9999 for missing. Fix that line, or download "
                               "the site's file again.")
    return raw.apply(pd.to_numeric).astype(float) if text_columns else raw.astype(float)


def read_fluxnet(
    path: str | Path,
    *,
    qc_min: float = QC_MIN,
    min_day_fraction: float = MIN_DAY_FRACTION,
    par_fraction: float = PAR_FRACTION,
    site: str | None = None,
) -> pd.DataFrame:
    """Read one FLUXNET2015 FULLSET daily file into a monthly long table.

    Parameters
    ----------
    path
        The site's ``..._FULLSET_DD_...csv``.
    qc_min
        Keep a day when its ``_QC`` fraction (measured + good-quality gap-fill) is at least this.
    min_day_fraction
        A month needs at least this fraction of its days kept, else it is missing.
    par_fraction
        PAR (W m-2) = ``par_fraction`` x SW_IN_F.
    site
        Site code when the file name is not the one FLUXNET ships.

    Returns
    -------
    DataFrame
        Long table (source ``FLUXNET2015``, kind ``eddy_covariance``, region and site = the site
        code, ``month``); ``attrs["pcstats"]`` records the thresholds, conversions and removals.

    Examples
    --------
    >>> from pcstats.products import read_fluxnet
    >>> t = read_fluxnet("fixtures/products/fluxnet/FLX_FI-Hyy_FLUXNET2015_FULLSET_DD_2004-2007_1-4.csv")
    >>> sorted(t["variable"].unique()), t.attrs["pcstats"]["qc_min"]
    (['AirT', 'GPP', 'NEE', 'PAR', 'SM', 'TER'], 0.8)
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"read_fluxnet: no file at {str(path)!r} (working directory: {Path.cwd()}).")
    for name, value, lo, hi in (("qc_min", qc_min, 0, 1), ("min_day_fraction", min_day_fraction, 0, 1),
                                ("par_fraction", par_fraction, 0, 1)):
        if not lo <= value <= hi:
            raise ProductError(f"read_fluxnet({name}={value!r}): must lie in [{lo}, {hi}].")
    match = re.match(FILE_NAME, path.name)
    if site is None:
        if not match:
            raise ProductError(f"{path}: not a FLUXNET2015 FULLSET daily file name (FLX_<SITE>_FLUXNET2015_FULLSET_DD_"
                               "<Y1>-<Y2>_<v>-<r>.csv); pass site='XX-Xxx' to read it anyway.")
        site = match["site"]
    if path.stat().st_size == 0:
        raise ProductError(f"{path}: the file is empty (0 bytes); download or export the site's FULLSET daily file again.")
    try:
        header = pd.read_csv(path, nrows=0).columns.tolist()
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ProductError(f"{path}: not a readable CSV ({type(exc).__name__}: {exc}); a FULLSET daily file is "
                           "comma-separated UTF-8/ASCII text.") from None
    absent = [c for c in REQUIRED_COLUMNS if c not in header]
    if absent:
        hints = "".join(did_you_mean(c, header) for c in absent[:1])
        raise ProductError(f"{path}: required column(s) {', '.join(absent)} missing.{hints} A FULLSET daily file has "
                           f"{', '.join(REQUIRED_COLUMNS)} (and optionally {', '.join(OPTIONAL_COLUMNS)}).")
    columns = [c for c in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS) if c in header]
    try:
        raw = pd.read_csv(path, usecols=columns, dtype={"TIMESTAMP": str})
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise ProductError(f"{path}: not a readable CSV ({type(exc).__name__}: {exc}); a FULLSET daily file is "
                           "comma-separated text with the same number of fields on every line.") from None
    if raw.empty:
        raise ProductError(f"{path}: the file has its header but no rows (no days); it holds no data to read. "
                           "Download the site's file again, or leave it out of the folder.")
    dates = pd.to_datetime(raw["TIMESTAMP"], format="%Y%m%d", errors="coerce")
    if dates.isna().any():
        row = int(np.flatnonzero(dates.isna().to_numpy())[0])
        raise ProductError(f"{path}: TIMESTAMP {raw['TIMESTAMP'].iloc[row]!r} on line {row + 2} is not a date YYYYMMDD.")
    if dates.duplicated().any():
        raise ProductError(f"{path}: TIMESTAMP {raw['TIMESTAMP'][dates.duplicated()].iloc[0]} appears twice.")
    data = _numbers(raw.drop(columns="TIMESTAMP"), path).replace(MISSING, np.nan)
    data.index = dates
    used = sorted({c for sources, qc, _, _ in _VARIABLES.values() for c in sources if c in data.columns})
    if data[used].isna().all().all():
        raise ProductError(f"{path}: every value of {', '.join(used)} in its {len(data)} rows is -9999 or empty "
                           "(missing); the file holds no data. Download the site's file again, or leave it out.")

    rows, removed = [], []
    made = []
    for variable, (sources, qc, factor, unit) in _VARIABLES.items():
        if any(c not in data.columns for c in sources) or qc not in data.columns:
            removed.append({"variable": variable, "reason": f"{', '.join(sources)} not in the file", "n_days": len(data)})
            continue
        values = data[list(sources)].mean(axis=1, skipna=False)
        n_missing = int(values.isna().sum())
        bad_qc = values.notna() & ~(data[qc] >= qc_min)
        values = values.where(~bad_qc)
        factor = par_fraction if variable == "PAR" else factor
        removed += [{"variable": variable, "reason": "-9999 (missing) in " + " or ".join(sources), "n_days": n_missing},
                    {"variable": variable, "reason": f"{qc} < {qc_min}", "n_days": int(bad_qc.sum())}]
        monthly = values.groupby([values.index.year, values.index.month]).agg(["mean", "count"])
        days = pd.Series([pd.Period(f"{y}-{m:02d}").days_in_month for y, m in monthly.index], index=monthly.index)
        short = monthly["count"] < min_day_fraction * days
        removed.append({"variable": variable, "reason": f"months with fewer than {min_day_fraction:g} of their days kept",
                        "n_months": int(short.sum())})
        value = monthly["mean"].where(~short) * factor
        rows.append(pd.DataFrame({"year": monthly.index.get_level_values(0), "month": monthly.index.get_level_values(1),
                                  "variable": variable, "value": value.to_numpy(), "unit": unit}))
        made.append(variable)
    table = pd.concat(rows, ignore_index=True)
    if table["value"].isna().all():
        why = "; ".join(f"{r['variable']}: {r.get('n_days', r.get('n_months'))} {'days' if 'n_days' in r else 'months'} "
                        f"({r['reason']})" for r in removed if r.get("n_days") or r.get("n_months"))
        raise ProductError(f"{path}: no monthly value is left after the quality rules (qc_min={qc_min:g}, "
                           f"min_day_fraction={min_day_fraction:g}): {why}. Lower qc_min or min_day_fraction if that "
                           "is intended, or leave the file out.")
    table.insert(0, "source", "FLUXNET2015")
    table.insert(1, "kind", "eddy_covariance")
    table.insert(2, "region", site)
    table.insert(3, "site", site)
    table["positive"] = np.where(table["variable"] == "NEE", "down", None)
    table = validate(table)
    report = {
        "file": path.name, "site": site, "qc_min": qc_min, "min_day_fraction": min_day_fraction,
        "par": f"PAR (W m-2) = {par_fraction:g} x SW_IN_F (bigleaf's frac_PAR)",
        "conversions": {"NEE": "-NEE_VUT_REF x 365 (gC m-2 d-1, release positive -> gC m-2 yr-1, uptake positive)",
                        "GPP": "(GPP_NT_VUT_REF + GPP_DT_VUT_REF) / 2 x 365", "TER": "(RECO_NT_VUT_REF + RECO_DT_VUT_REF) / 2 x 365",
                        "SM": "SWC_F_MDS_1 / 100 (% -> m3 m-3)"},
        "variables": made, "removed": removed, "n_days": len(data),
    }
    table.attrs["pcstats"] = report
    dropped = [r for r in removed if r.get("n_days") or r.get("n_months")]
    if dropped:
        first = dropped[0]
        count = f"{first['n_days']} days" if "n_days" in first else f"{first['n_months']} months"
        warnings.warn(f"read_fluxnet({path.name}): {len(dropped)} removal(s), e.g. {first['variable']}: {count} "
                      f"({first['reason']}); see table.attrs['pcstats']['removed'].", stacklevel=2)
    return table
