"""Benchmark: ``pcstats.fit`` of ``NEE ~ year`` by one key, end to end, against its alternatives, 10^3 to 10^6 groups.

    python bench/trends_end_to_end.py                          # 1e3, 1e4, 2e4, 1e5, 1e6 groups (about 5 min)
    python bench/trends_end_to_end.py --groups 1000 20000 100000

Each size is measured in a fresh process (so that peak memory is that size's). Per size, on
groups x 38 years with 5 % of the values missing:

* ``pc.fit`` on the long table (the pcstats contract: source, kind, region, year, season,
  variable, value, unit; validation, pivot, grouping, fit, Results), and on the same table
  validated once with ``pc.long_table`` (what a caller fitting many specs to one table pays per fit);
* ``pc.fit`` on a wide data frame (region, year, NEE) with ``by=("region",)``;
* the closed-form maths alone (``simple_trend`` and the t tests on a groups x years array);
* a statsmodels ``OLS`` loop over the groups with the same statistics (a sample of groups, scaled);
* pandas ``pivot`` + ``xarray.DataArray.polyfit(cov=True)`` from the same long table.

Printed: seconds, microseconds per group, the ratios (targets, issue 22: ``pc.fit`` >= 100x the
statsmodels loop at 2x10^4 and 10^5 groups, within 10x of the maths, faster than pivot + polyfit at
every size), the table's size and the peak resident memory added during ``pc.fit`` (sampled every
5 ms; target: within 3x the table). Wall-clock numbers depend on the machine; compare the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import threading
import time
import warnings

import numpy as np
import pandas as pd
from timing import best_of

YEARS = np.arange(1981, 2019)


def long_table(groups: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = len(YEARS)
    Y = 100.0 + 0.5 * (YEARS - 2000) + rng.normal(0, 8, (groups, t))
    Y[rng.random(Y.shape) < 0.05] = np.nan
    region = pd.Series([f"px{i}" for i in range(groups)], dtype="str")
    return pd.DataFrame({"source": "bench", "kind": "dgvm", "region": region.repeat(t).to_numpy(),
                         "year": np.tile(YEARS, groups), "season": "ANN", "variable": "NEE", "value": Y.ravel(),
                         "unit": "gC m-2 yr-1"})


class PeakRSS:
    """Peak resident memory of this process above its level at start, sampled in a thread."""

    def __init__(self, every: float = 0.005):
        import psutil

        self.process, self.every = psutil.Process(), every

    def __enter__(self):
        self.base = self.peak = self.process.memory_info().rss
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self):
        while self.running:
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(self.every)

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)

    @property
    def added(self) -> int:
        return self.peak - self.base


def measure(groups: int, sample: int) -> dict:
    """Every timing for one size (run in its own process)."""
    import statsmodels.api as sm
    import xarray as xr

    import pcstats as pc
    from pcstats.stats.ols import simple_trend, t_test

    warnings.simplefilter("ignore")
    table = long_table(groups)
    table_bytes = int(table.memory_usage(deep=True).sum())
    repeats = 3 if groups <= 100_000 else 1
    spec = pc.TrendSpec("NEE ~ year", by=("region",))
    pc.fit(spec, table.iloc[: 38 * 10])  # imports and first-call costs
    with PeakRSS() as rss:
        res = pc.fit(spec, table)
    t_fit = best_of(lambda: pc.fit(spec, table), repeats)
    validated = pc.long_table(table)
    t_validated = best_of(lambda: pc.fit(spec, validated), repeats)
    wide = table.loc[table["variable"] == "NEE", ["region", "year", "value"]].rename(columns={"value": "NEE"})
    t_wide = best_of(lambda: pc.fit(spec, wide), repeats)

    Y = table["value"].to_numpy().reshape(groups, len(YEARS))

    def maths():
        fit = simple_trend(Y, YEARS)
        est = np.concatenate([fit.intercept, fit.slope])
        se = np.concatenate([fit.se_intercept, fit.se_slope])
        return t_test(est, se, np.concatenate([fit.df_residual, fit.df_residual]), 0.95)

    t_maths = best_of(maths, repeats)

    def pivot_polyfit():
        arr = table.pivot(index="region", columns="year", values="value")
        da = xr.DataArray(arr.to_numpy(), dims=("region", "year"), coords={"region": arr.index, "year": arr.columns})
        return da.polyfit("year", deg=1, cov=True, skipna=True)

    t_poly = best_of(pivot_polyfit, 1)
    rows = np.random.default_rng(1).choice(groups, size=min(sample, groups), replace=False)
    x = sm.add_constant(YEARS.astype(float))
    start = time.perf_counter()
    for r in rows:
        ok = np.isfinite(Y[r])
        fit = sm.OLS(Y[r, ok], x[ok]).fit()
        fit.params, fit.bse, fit.tvalues, fit.pvalues, fit.conf_int()  # noqa: B018 - what tidy() has
    t_sm = (time.perf_counter() - start) * groups / len(rows)
    slope = res.tidy().query("term == 'year'").set_index("region")["estimate"]
    check = float(np.max(np.abs(slope.loc[[f"px{i}" for i in rows]].to_numpy() - simple_trend(Y[rows], YEARS).slope)))
    return {"groups": groups, "rows": len(table), "table_MB": table_bytes / 2**20, "fit": t_fit, "fit_validated": t_validated,
            "fit_wide": t_wide, "maths": t_maths, "pivot_polyfit": t_poly, "statsmodels": t_sm,
            "peak_added_MB": rss.added / 2**20, "max_slope_diff": check}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, nargs="+", default=[1_000, 10_000, 20_000, 100_000, 1_000_000])
    parser.add_argument("--sample", type=int, default=500, help="groups timed in the statsmodels loop (scaled)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a child process: measure one size
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.sample)))
        return
    print(f"{os.cpu_count()} cores, Python {platform.python_version()}, NumPy {np.__version__}, pandas {pd.__version__}; "
          f"{len(YEARS)} years, 5 % missing")
    rows = []
    for groups in args.groups:
        out = subprocess.run([sys.executable, __file__, "--one", str(groups), "--sample", str(args.sample)],
                             capture_output=True, text=True, check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    table = pd.DataFrame(rows)
    table["us_per_group"] = 1e6 * table["fit"] / table["groups"]
    table["x_statsmodels"] = table["statsmodels"] / table["fit"]
    table["x_maths"] = table["fit"] / table["maths"]
    table["x_polyfit"] = table["pivot_polyfit"] / table["fit"]
    table["peak_x_table"] = table["peak_added_MB"] / table["table_MB"]
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    print("\ncolumns: seconds (fit = pc.fit on the long table; fit_validated = on pc.long_table(table); fit_wide = on a "
          "region/year/NEE data frame), x_statsmodels = statsmodels loop / fit, x_maths = fit / maths, x_polyfit = "
          "(pivot + polyfit) / fit, peak_x_table = peak memory added during fit / table size")
    print("targets: x_statsmodels >= 100 at 2e4 and 1e5 groups; x_maths <= 10; x_polyfit > 1 at every size; peak_x_table <= 3")


if __name__ == "__main__":
    main()
