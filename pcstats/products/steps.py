"""Sub-monthly products made monthly: GIMMS NDVI3g's 15-day composites, ESA CCI SM's daily values.

:func:`to_months` works on a Dataset already read and combined by :func:`pcstats.products.read_product`
(native names, a ``time`` axis of step dates); the product's :class:`~pcstats.products.Product`
record says how: ``flag``, ``flag_divisor`` and ``keep_flags`` for the quality screening,
``to_month`` for the rule (mean of the valid steps, or their maximum).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import ProductError
from .layouts import Product

__all__ = ["to_months"]


def to_months(ds: xr.Dataset, layout: Product, where: object) -> tuple[xr.Dataset, dict[str, xr.DataArray], list[str]]:
    """Monthly values of a sub-monthly product Dataset (a ``time`` axis of step dates).

    Steps whose quality flag (``layout.flag // layout.flag_divisor``) is not in ``layout.keep_flags``
    are left out first; each month is then the mean (``to_month="mean"``) or the maximum
    (``"max"``, a maximum-value composite) of its valid steps, in double precision. Returns the
    monthly Dataset (native names and units), the number of valid steps behind each value (per
    native variable) and notes on what the screening left out. ``where`` names the files in errors.

    Examples
    --------
    >>> import numpy as np, pandas as pd, xarray as xr
    >>> from pcstats.products import PRODUCTS
    >>> days = pd.date_range("2010-07-30", periods=4)
    >>> ds = xr.Dataset({"sm": ("time", [0.2, np.nan, 0.4, 0.5]), "flag": ("time", [0, 0, 0, 2])},
    ...                 coords={"time": days})
    >>> out, counts, notes = to_months(ds, PRODUCTS["ESACCI-SM"], "example")
    >>> out["sm"].values.tolist(), counts["sm"].values.tolist(), notes
    ([0.2, 0.4], [1, 1], ["sm: 1 valid daily value(s) left out by their quality flag ('flag' not in [0])"])
    """
    time = pd.DatetimeIndex(ds["time"].values)
    ym = np.asarray(time.year * 12 + time.month - 1)
    months = pd.DatetimeIndex(sorted({pd.Timestamp(t.year, t.month, 1) for t in time}))
    step = {"daily": "daily", "half-monthly": "half-monthly"}.get(layout.steps, layout.steps)
    keep, notes = None, []
    if layout.flag and layout.keep_flags is not None:
        if layout.flag not in ds:
            raise ProductError(f"{where}: the quality-flag variable {layout.flag!r} is not "
                               f"in the files, so {layout.name}'s values cannot be screened (keep_flags="
                               f"{layout.keep_flags}). Read with replace(product, keep_flags=None) to use every value.")
        keep = np.floor(ds[layout.flag] / layout.flag_divisor).isin(list(layout.keep_flags))
    out = xr.Dataset(attrs=ds.attrs)
    counts = {}
    for name in ds.data_vars:
        var = ds[name]
        if name in layout.flag_variables:
            continue
        if "time" not in var.dims:
            out[name] = var
            continue
        var = var.astype(np.float64)  # monthly means in double precision, eager or lazy alike
        if keep is not None:
            if var.chunks is None:
                left_out = int((var.notnull() & ~keep).sum())
                notes.append(f"{name}: {left_out} valid {step} value(s) left out by their quality flag "
                             f"({layout.flag!r} not in {list(layout.keep_flags)})")
            var = var.where(keep)
        grouped = var.assign_coords(_ym=("time", ym)).groupby("_ym")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN months are NaN
            made = grouped.max(skipna=True) if layout.to_month == "max" else grouped.mean(skipna=True)
        n = var.notnull().assign_coords(_ym=("time", ym)).groupby("_ym").sum()
        out[name] = made.rename({"_ym": "time"}).assign_coords(time=months).assign_attrs(var.attrs)
        counts[name] = n.rename({"_ym": "time"}).assign_coords(time=months)
    how = "maximum-value composite" if layout.to_month == "max" else "mean"
    screen = f", steps flagged other than {list(layout.keep_flags)} left out" if keep is not None else ""
    out.attrs["time_steps"] = f"monthly {how} of the valid {step} steps ({ds.attrs.get('time_steps', step)}{screen})"
    return out, counts, notes
