"""Benchmark: the gridded pipeline streamed through dask on a grid larger than the memory it may use.

    python bench/grid.py                  # 1/12 degree (about 9 km), 40-85 N, 40 years monthly: 4.5 GB of float32
    python bench/grid.py --quick          # 40-49 N only, for a check (about 0.9 GB)

The monthly NEE grid is synthetic and never exists in memory: each dask chunk (36 x 360 cells x
480 months, 25 MB) is drawn from its own seeded stream when a worker needs it. A LocalCluster of
worker process with 2 threads gets ``--memory-limit`` (default 1 GiB, of which about 0.3 GiB is the
imported libraries), so the input is more than 4x what the worker may hold. Measured in one run:

* pcstats, streamed: ``seasonalize_grid`` (ANN and LGS) -> ``pixel_trends`` (OLS, t test, Sen's
  slope, Mann-Kendall) at 9 km -> trend maps block-averaged to 1 degree (``regrid``), then, in a
  second pass over the input, ``zonal_mean`` of the seasonal NEE over permafrost classes --
  everything a map and a regional series need;
* the xarray idiom for the same maps, streamed on the same cluster: ``groupby("time.year").mean()``
  then ``polyfit(deg=1)`` (OLS slope only: no standard errors, p, Sen or seasons but ANN);
* the in-memory NumPy path (pcstats functions on a NumPy array of one latitude band that fits),
  in the main process, scaled to the whole grid.

Each path runs once first on one chunk (imports, Numba's cached kernels, flox's compilation).

Also timed: making the input alone (a sum over the streamed grid), the floor of any streamed run.

Reported: wall time, input throughput (GB/s of float32 input), peak resident memory of the
workers (sampled every 0.1 s with psutil) against the limit, and the ratios.
"""

from __future__ import annotations

import argparse
import os
import platform
import threading
import time

import dask.array as da
import numpy as np
import pandas as pd
import psutil
import xarray as xr
from timing import best_of

RES = 1 / 12
CHUNK = {"lat": 36, "lon": 360}


def synthetic(lat0: float, lat1: float, years: int, seed: int) -> xr.DataArray:
    """Monthly NEE (gC m-2 yr-1, uptake positive), lat x lon x time, generated block by block."""
    lat = np.round(np.arange(lat0 + RES / 2, lat1, RES), 6)
    lon = np.round(np.arange(-180 + RES / 2, 180, RES), 6)
    time = pd.date_range(f"{2020 - years + 1}-01-01", periods=12 * years, freq="MS")
    month = time.month.to_numpy()
    year = time.year.to_numpy() - 2000.0

    def block(block_info=None):
        (r0, r1), (c0, c1), _ = block_info[None]["array-location"]
        rng = np.random.default_rng([seed, r0, c0])
        la = lat[r0:r1][:, None, None]
        season = 1200.0 * np.exp(-(((month - 7) / 1.5) ** 2)) - 250.0
        trend = 3.0 - 0.4 * (la - 65.0) + 0.01 * lon[c0:c1][None, :, None]
        out = season[None, None, :] + trend * year[None, None, :]
        out += rng.standard_normal((r1 - r0, c1 - c0, month.size), dtype=np.float32) * 10.0
        return out.astype(np.float32)

    chunks = ((CHUNK["lat"],) * (lat.size // CHUNK["lat"]), (CHUNK["lon"],) * (lon.size // CHUNK["lon"]), (time.size,))
    data = da.map_blocks(block, dtype=np.float32, chunks=chunks, meta=np.empty((0, 0, 0), np.float32))
    return xr.DataArray(data, dims=("lat", "lon", "time"), coords={"lat": lat, "lon": lon, "time": time}, name="NEE",
                        attrs={"units": "gC m-2 yr-1", "positive": "down"})


def pcstats_pipeline(nee: xr.DataArray):
    from pcstats.grid import pixel_trends, regrid, seasonalize_grid, zonal_mean

    seasonal = seasonalize_grid(nee.transpose("time", "lat", "lon")).sel(season=["ANN", "LGS"])
    trends = pixel_trends(seasonal)
    maps = regrid(trends[["estimate", "std_error", "p_value", "sen_slope", "mk_p"]])
    labels = xr.DataArray(np.where(nee["lat"].values[:, None] >= 60, "P", "NoP") * np.ones((1, nee["lon"].size), dtype=object),
                          dims=("lat", "lon"), coords={"lat": nee["lat"], "lon": nee["lon"]})
    regional = zonal_mean(seasonal, labels)
    return [maps, regional]


def xarray_idiom(nee: xr.DataArray):
    annual = nee.groupby("time.year").mean()
    return [annual.polyfit("year", deg=1)]


class PeakMemory:
    """Largest summed RSS of the given processes, sampled every 0.1 s in a thread."""

    def __init__(self, pids):
        self.procs = [psutil.Process(p) for p in pids]
        self.peak = self.peak_each = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            rss = []
            for p in self.procs:
                try:
                    rss.append(p.memory_info().rss)
                except psutil.Error:
                    rss.append(0)
            self.peak, self.peak_each = max(self.peak, sum(rss)), max(self.peak_each, max(rss))
            time.sleep(0.1)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def run_on_cluster(client, pids, build, nee) -> tuple[float, float, float]:
    """Wall time and peak memory of computing ``build(nee)``, one output after the other (one pass each)."""
    client.run(lambda: __import__("gc").collect())
    with PeakMemory(pids) as mem:
        start = time.perf_counter()
        for result in build(nee):
            client.compute(result, sync=True)
        wall = time.perf_counter() - start
    return wall, mem.peak, mem.peak_each


def main() -> None:
    from dask.utils import parse_bytes
    from distributed import Client, LocalCluster

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="40-49 N only (about 0.9 GB)")
    parser.add_argument("--years", type=int, default=40)
    parser.add_argument("--memory-limit", default="1GiB", help="of the worker process")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    lat1 = 49.0 if args.quick else 85.0
    nee = synthetic(40.0, lat1, args.years, args.seed)
    gb = nee.size * 4 / 1e9
    limit = parse_bytes(args.memory_limit)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"grid: {nee.sizes['lat']} x {nee.sizes['lon']} cells at 1/12 degree, {nee.sizes['time']} months: {gb:.2f} GB of float32, "
          f"{nee.data.npartitions} chunks of {np.prod(nee.data.chunksize) * 4 / 1e6:.0f} MB")
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=True, memory_limit=limit, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        pids = list(client.run(os.getpid).values())
        limit_bytes = sum(w["memory_limit"] for w in client.scheduler_info()["workers"].values())
        print(f"cluster: 1 worker x 2 threads, memory limit {limit_bytes / 2**30:.2f} GiB in all; input / limit = "
              f"{gb * 1e9 / limit_bytes:.1f}x")
        small = nee.isel(lat=slice(0, CHUNK["lat"]), lon=slice(0, CHUNK["lon"]))
        client.compute(pcstats_pipeline(small) + xarray_idiom(small), sync=True)  # warm-up: imports, Numba caches
        wall_in, peak_in, each_in = run_on_cluster(client, pids, lambda x: [x.sum()], nee)
        wall_pc, peak_pc, each_pc = run_on_cluster(client, pids, pcstats_pipeline, nee)
        wall_xr, peak_xr, each_xr = run_on_cluster(client, pids, xarray_idiom, nee)

    # in-memory NumPy path on one latitude band of chunks, scaled by cells
    band = nee.isel(lat=slice(0, CHUNK["lat"]), lon=slice(0, 4 * CHUNK["lon"])).compute()
    scale = nee.sizes["lat"] * nee.sizes["lon"] / (band.sizes["lat"] * band.sizes["lon"])
    wall_np = best_of(lambda: [r.compute() for r in pcstats_pipeline(band)], 2) * scale  # the first run warms up

    rows = [
        ("making the input only (sum), dask streamed", wall_in, peak_in, each_in),
        ("pcstats, dask streamed", wall_pc, peak_pc, each_pc),
        ("xarray groupby + polyfit, dask streamed", wall_xr, peak_xr, each_xr),
        ("pcstats in memory (NumPy, 1 process, scaled)", wall_np, np.nan, np.nan),
    ]
    print(f"\n{'run':46s} {'wall s':>8s} {'GB/s':>6s} {'peak RSS GiB':>13s} {'max worker GiB':>15s}")
    for name, wall, peak, each in rows:
        print(f"{name:46s} {wall:8.1f} {gb / wall:6.3f} {peak / 2**30:13.2f} {each / 2**30:15.2f}")
    print(f"\npeak worker memory / limit: {peak_pc / limit_bytes:.2f} (pcstats), {peak_xr / limit_bytes:.2f} (xarray idiom)")
    print(f"pcstats streamed vs xarray idiom: {wall_xr / wall_pc:.2f}x the throughput (pcstats also gives SE, p, Sen, MK, "
          "two seasons and regional means)")
    print(f"pcstats streamed vs in memory on one core (input made in advance): {wall_np / wall_pc:.2f}x the throughput")
    print(f"pcstats streamed, less the time to make the input: {gb / max(wall_pc - wall_in, 1e-9):.3f} GB/s")


if __name__ == "__main__":
    main()
