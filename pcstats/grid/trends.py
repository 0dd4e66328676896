"""Pixel-wise trends: OLS with its t test, Sen's slope and the Mann-Kendall test, for every cell at once.

The OLS numbers are the foundation's closed form (:func:`pcstats.stats.ols.simple_trend`, R's
``lm``), Sen/MK those of :mod:`pcstats.stats.mann_kendall` (pymannkendall and SciPy's
``theilslopes``); each cell uses its own finite years, and cells with fewer than 3 get NaN. The
result is a Dataset that writes to and reads back from NetCDF unchanged.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..data.units import trend_unit
from ..errors import ProductError
from ..stats.mann_kendall import sen_mann_kendall
from ..stats.ols import simple_trend, t_test

__all__ = ["pixel_trends", "TREND_VARIABLES"]

#: output variable -> (long name, unit kind: "trend", "value", "1")
TREND_VARIABLES = {
    "estimate": ("OLS slope", "trend"),
    "std_error": ("standard error of the OLS slope", "trend"),
    "statistic": ("t statistic of the OLS slope", "1"),
    "p_value": ("two-sided p of the OLS slope (t, n - 2 df)", "1"),
    "conf_low": ("lower confidence bound of the OLS slope", "trend"),
    "conf_high": ("upper confidence bound of the OLS slope", "trend"),
    "intercept": ("OLS intercept at year 0", "value"),
    "r_squared": ("R squared of the OLS fit", "1"),
    "nobs": ("number of finite years", "1"),
    "sen_slope": ("Sen's slope (median of pairwise slopes)", "trend"),
    "sen_conf_low": ("lower confidence bound of Sen's slope (Sen 1968)", "trend"),
    "sen_conf_high": ("upper confidence bound of Sen's slope (Sen 1968)", "trend"),
    "mk_s": ("Mann-Kendall S", "1"),
    "mk_z": ("Mann-Kendall z (continuity-corrected, tie-corrected variance)", "1"),
    "mk_p": ("two-sided Mann-Kendall p", "1"),
}


def pixel_trends(data: xr.DataArray, dim: str = "year", *, conf_level: float = 0.95) -> xr.Dataset:
    """Trend of ``data`` along ``dim`` at every other coordinate (cells, seasons, ...).

    Parameters
    ----------
    data
        E.g. ``seasonalize_grid(nee)``: dims ``season, year, lat, lon``; ``dim`` holds numeric years.
        Dask-backed data stay lazy (chunks along ``dim`` are merged into one).
    dim
        The time dimension of the trend.
    conf_level
        Level of the OLS and Sen confidence intervals.

    Returns
    -------
    Dataset
        The variables of :data:`TREND_VARIABLES`, each with ``long_name`` and ``units``.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> y = xr.DataArray(np.array([[1.0, 2.1, 2.9, 4.2], [2.0, np.nan, 2.0, 2.0]]), dims=("cell", "year"),
    ...                  coords={"year": [2000, 2001, 2002, 2003]}, name="NEE", attrs={"units": "gC m-2 yr-1"})
    >>> t = pixel_trends(y)
    >>> t["estimate"].round(3).values.tolist(), t["nobs"].values.tolist(), t["estimate"].attrs["units"]
    ([1.04, 0.0], [4.0, 3.0], 'gC m-2 yr-2')
    """
    if dim not in data.dims:
        raise ProductError(f"pixel_trends(): {data.name!r} has no dimension {dim!r} (dims {data.dims}); seasonalize first "
                           "(pcstats.grid.seasonalize_grid) or pass dim=.")
    if not 0 < conf_level < 1:
        raise ProductError(f"pixel_trends(conf_level={conf_level!r}): must lie in (0, 1).")
    years = np.asarray(data[dim].values, dtype=np.float64)
    if not np.all(np.diff(years) > 0):
        raise ProductError(f"pixel_trends(): {dim!r} must be strictly increasing numbers (got {years[:5]}...).")
    names = list(TREND_VARIABLES)
    if data.chunks is not None:
        data = data.chunk({dim: -1})
    stacked = xr.apply_ufunc(
        _trend_block, data, input_core_dims=[[dim]], output_core_dims=[["statistic_name"]],
        # in dask tasks the kernels run on one thread each: the scheduler's threads and workers share the cores
        kwargs={"years": years, "conf_level": conf_level, "threads": 1 if data.chunks is not None else None},
        dask="parallelized", output_dtypes=[np.float64],
        dask_gufunc_kwargs={"output_sizes": {"statistic_name": len(names)}},
    )
    unit = data.attrs.get("units", "1")
    out = xr.Dataset()
    for k, name in enumerate(names):
        long_name, kind = TREND_VARIABLES[name]
        units = {"trend": trend_unit(unit), "value": unit, "1": "1"}[kind]
        out[name] = stacked.isel(statistic_name=k, drop=True).assign_attrs(long_name=long_name, units=units)
    return out.assign_attrs(
        variable=str(data.name), dim=dim, conf_level=conf_level, first_year=float(years[0]), last_year=float(years[-1]),
        method="OLS (closed form, as R's lm) and Sen's slope with the Mann-Kendall test, per cell on its finite years",
    )


def _trend_block(values: np.ndarray, years: np.ndarray, conf_level: float, threads: int | None) -> np.ndarray:
    shape = values.shape[:-1]
    Y = values.reshape(-1, values.shape[-1]).astype(np.float64)
    ols = simple_trend(Y, years, threads=threads)
    stat, p, low, high = t_test(ols.slope, ols.se_slope, ols.df_residual, conf_level)
    sen = sen_mann_kendall(Y, years, conf_level, threads=threads)
    columns = [ols.slope, ols.se_slope, stat, p, low, high, ols.intercept, ols.r_squared, ols.nobs,
               sen.slope, sen.conf_low, sen.conf_high, sen.s, sen.z, sen.p_value]
    return np.stack(columns, axis=-1).reshape(*shape, len(columns))
