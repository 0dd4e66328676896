"""Benchmark: the vectorised closed-form trend engine against its alternatives, in one run.

    python bench/trends.py                      # 10^6 series x 38 years, ~5 % missing (about 1 min)
    python bench/trends.py --series 100000      # quicker

Measured on the same array (series x years, NaN = missing year):

* pcstats closed form: ``simple_trend`` plus t statistics, p-values and 95 % CIs for intercept
  and slope -- everything the engine puts in ``tidy()``;
* statsmodels: ``OLS(y, [1, year]).fit()`` per series with the same statistics, timed on a random
  sample of series and scaled to all of them;
* ``xarray.DataArray.polyfit(deg=1, cov=True, skipna=True)`` on the whole array;
* a single NumPy pass over the array (``np.add.reduce`` along years): the memory-bandwidth floor.

Also timed, for information: ``pcstats.fit`` end to end from a long table (validation, pivot,
grouping, Results) on a subset.

Targets (issue 2): >= 1000x the statsmodels loop, >= 5x polyfit, within 10x of the single pass.
Wall-clock numbers depend on the machine; the ratios are what to compare.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings

import numpy as np
import pandas as pd
from timing import best_of



def make_array(series: int, years: int, missing: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    yr = np.arange(1981, 1981 + years)
    Y = 100.0 + 0.5 * (yr - 2000) + rng.normal(0, 8, (series, years))
    Y[rng.random(Y.shape) < missing] = np.nan
    return Y, yr


def pcstats_closed_form(Y: np.ndarray, years: np.ndarray):
    from pcstats.stats.ols import simple_trend, t_test

    fit = simple_trend(Y, years)
    est = np.concatenate([fit.intercept, fit.slope])
    se = np.concatenate([fit.se_intercept, fit.se_slope])
    return fit, t_test(est, se, np.concatenate([fit.df_residual, fit.df_residual]), 0.95)


def statsmodels_loop(Y: np.ndarray, years: np.ndarray, rows: np.ndarray) -> np.ndarray:
    import statsmodels.api as sm

    slopes = np.empty(len(rows))
    x = sm.add_constant(years.astype(float))
    for i, r in enumerate(rows):
        ok = np.isfinite(Y[r])
        res = sm.OLS(Y[r, ok], x[ok]).fit()
        res.params, res.bse, res.tvalues, res.pvalues, res.conf_int()  # noqa: B018 - the statistics tidy() has
        slopes[i] = res.params[1]
    return slopes


def xarray_polyfit(Y: np.ndarray, years: np.ndarray):
    import xarray as xr

    da = xr.DataArray(Y, dims=("series", "year"), coords={"year": years})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return da.polyfit("year", deg=1, cov=True, skipna=True)


def fit_end_to_end(Y: np.ndarray, years: np.ndarray) -> float:
    import pcstats as pc

    n, t = Y.shape
    table = pd.DataFrame({
        "source": "bench", "kind": "dgvm", "region": np.repeat([f"px{i}" for i in range(n)], t),
        "year": np.tile(years, n), "season": "ANN", "variable": "NEE", "value": Y.ravel(), "unit": "gC m-2 yr-1",
    })
    spec = pc.TrendSpec("NEE ~ year", by=("region",), engine="closed_form")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return best_of(lambda: pc.fit(spec, table), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=1_000_000)
    parser.add_argument("--years", type=int, default=38)
    parser.add_argument("--missing", type=float, default=0.05)
    parser.add_argument("--sample", type=int, default=2000, help="series timed in the statsmodels loop")
    parser.add_argument("--end-to-end", type=int, default=100_000, help="series for the pcstats.fit timing")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    Y, years = make_array(args.series, args.years, args.missing, args.seed)
    print(f"{args.series:,} series x {args.years} years, {np.isnan(Y).mean():.1%} missing; "
          f"{os.cpu_count()} cores, Python {platform.python_version()}, NumPy {np.__version__}")

    pcstats_closed_form(Y[:10_000], years)  # warm-up (imports, thread pool)
    t_pc = best_of(lambda: pcstats_closed_form(Y, years), 3)
    t_floor = best_of(lambda: np.add.reduce(Y, axis=1), 5)
    rng = np.random.default_rng(args.seed + 1)
    rows = rng.choice(args.series, size=min(args.sample, args.series), replace=False)
    start = time.perf_counter()
    sm_slopes = statsmodels_loop(Y, years, rows)
    t_sm = (time.perf_counter() - start) * args.series / len(rows)
    start = time.perf_counter()
    poly = xarray_polyfit(Y, years)
    t_poly = time.perf_counter() - start

    fit, _ = pcstats_closed_form(Y, years)
    err_sm = np.max(np.abs(fit.slope[rows] - sm_slopes) / np.abs(sm_slopes))
    poly_slope = poly["polyfit_coefficients"].sel(degree=1).to_numpy()
    err_poly = np.nanmax(np.abs(fit.slope - poly_slope) / np.abs(poly_slope))
    t_e2e = fit_end_to_end(Y[: args.end_to_end], years)

    print()
    print(f"{'method':48s} {'seconds':>10s} {'vs pcstats':>12s}")
    print(f"{'pcstats closed form (estimates, SE, t, p, CI)':48s} {t_pc:10.3f} {'1':>12s}")
    print(f"{'statsmodels OLS loop (sample of %d, scaled)' % len(rows):48s} {t_sm:10.1f} {t_sm / t_pc:11.0f}x")
    print(f"{'xarray polyfit(cov=True, skipna=True)':48s} {t_poly:10.2f} {t_poly / t_pc:11.1f}x")
    print(f"{'single NumPy pass (np.add.reduce)':48s} {t_floor:10.3f} {t_floor / t_pc:11.2f}x")
    print(f"{'pcstats.fit end to end, %s series' % f'{args.end_to_end:,}':48s} {t_e2e:10.2f}")
    print()
    print("targets:")
    print(f"  >= 1000x the statsmodels loop : {t_sm / t_pc:8.0f}x  {'met' if t_sm / t_pc >= 1000 else 'NOT met'}")
    print(f"  >= 5x xarray polyfit          : {t_poly / t_pc:8.1f}x  {'met' if t_poly / t_pc >= 5 else 'NOT met'}")
    print(f"  within 10x of one NumPy pass  : {t_pc / t_floor:8.1f}x  {'met' if t_pc / t_floor <= 10 else 'NOT met'}")
    print(f"agreement: slope max relative difference vs statsmodels {err_sm:.1e}, vs polyfit {err_poly:.1e}")


if __name__ == "__main__":
    main()
