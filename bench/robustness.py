"""Benchmark: random windows, vectorised, against refitting each window with statsmodels, in one run.

    python bench/robustness.py                   # 10,000 windows x the 8 ensemble series (region x season)
    python bench/robustness.py --windows 50000

The data are the fixture's seasonal ensemble NEE (tests/reference/trend_input.csv: 2 regions x
4 seasons, 1976-2019). Measured:

* pcstats: ``pc.robustness.random_windows(spec, table, n)`` end to end (row preparation, the
  windows, slopes, SEs, t, p, CIs, and the Results tables), best of 3;
* the statsmodels loop: for each window and series, select the window's rows and fit
  ``OLS(y, [1, year - 2000])`` with the same statistics (slope, SE, p, CI); timed on a random
  sample of the same windows and scaled to all of them.

Targets (issue 9): <= 0.5 s for 10^4 windows x 8 series on the 2-core machine, >= 100x the loop.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings

import numpy as np
import statsmodels.api as sm
from timing import best_of

import pcstats as pc

SPEC = pc.TrendSpec("NEE ~ year", by=("region", "season"), where="source == 'ensemble'")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=10_000)
    parser.add_argument("--sample", type=int, default=2_000, help="window x series fits timed in the statsmodels loop")
    args = parser.parse_args()
    table = pc.read_table("tests/reference/trend_input.csv")
    warnings.simplefilter("ignore")

    pcstats_time = best_of(lambda: pc.robustness.random_windows(SPEC, table, n=args.windows, seed=0), 3)
    rw = pc.robustness.random_windows(SPEC, table, n=args.windows, seed=0)
    tidy = rw.tidy()
    n_fits = len(tidy)

    ens = table[(table["source"] == "ensemble") & (table["variable"] == "NEE")]
    series = {key: (g["year"].to_numpy(float), g["value"].to_numpy(float)) for key, g in ens.groupby(["region", "season"])}
    rng = np.random.default_rng(1)
    sample = tidy.iloc[rng.choice(n_fits, min(args.sample, n_fits), replace=False)]
    worst = 0.0
    start = time.perf_counter()
    for row in sample.itertuples():
        years, values = series[(row.region, row.season)]
        keep = (years >= row.start) & (years <= row.end)
        fit = sm.OLS(values[keep], sm.add_constant(years[keep] - 2000.0)).fit()
        slope, se, p, ci = fit.params[1], fit.bse[1], fit.pvalues[1], fit.conf_int()[1]
        worst = max(worst, abs(slope / row.estimate - 1), abs(se / row.std_error - 1), abs(ci[0] / row.conf_low - 1))
    loop_time = (time.perf_counter() - start) / len(sample) * n_fits

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"{args.windows:,} windows x {n_fits // args.windows} series = {n_fits:,} fits "
          f"(lengths {rw.spec.min_length}-{rw.spec.max_length} years)")
    print(f"pcstats random_windows, end to end: {pcstats_time:8.3f} s  (target <= 0.5 s)")
    print(f"statsmodels loop (scaled from {len(sample):,} fits): {loop_time:8.1f} s")
    print(f"ratio: {loop_time / pcstats_time:,.0f}x faster (target >= 100x)")
    print(f"largest relative difference on the sample (slope, SE, CI): {worst:.1e}")


if __name__ == "__main__":
    main()
