"""Benchmark: the gridded pipeline streamed through dask on a grid larger than the memory it may use.

    python bench/grid.py                  # 1/12 degree (about 9 km), 40-85 N, 40 years monthly: 4.5 GB of float32
    python bench/grid.py --quick          # 40-49 N only, for a check (about 0.9 GB)
    python bench/grid.py --scheduler tcp://host:8786   # the same runs on a running dask cluster

The monthly NEE grid is synthetic and never exists in memory: each dask chunk (36 x 360 cells x
480 months, 25 MB) is drawn from its own seeded stream when a worker needs it. A LocalCluster of one
worker process with 2 threads gets ``--memory-limit`` (default 1 GiB, of which about 0.3 GiB is the
imported libraries), so the full input is more than 4x what the worker may hold. Measured in one run:

* pcstats, streamed: ``seasonalize_grid`` (ANN and LGS) -> ``pixel_trends`` (OLS, t test, Sen's
  slope, Mann-Kendall) at 9 km -> trend maps block-averaged to 1 degree (``regrid``), and
  ``zonal_mean`` of the seasonal NEE over a permafrost class map (made chunk by chunk, as a map read
  from disk would be), all in one ``compute`` -- everything a map and a regional series need;
* the xarray idiom for the same maps, streamed on the same cluster: ``groupby("time.year").mean()``
  then ``polyfit(deg=1)`` (OLS slope only: no standard errors, p, Sen or seasons but ANN);
* pcstats on one worker with one thread, then on two workers with one thread each (scaling);
* the in-memory NumPy path (pcstats functions on a NumPy array of one latitude band that fits),
  in the main process, scaled to the whole grid.

Each cluster is warmed up first on one chunk (imports, Numba's cached kernels).

Also timed: making the input alone (a sum over the streamed grid), the floor of any streamed run.

Reported: wall time, input throughput (GB/s of float32 input), the workers' CPU time (user +
system; on a shared machine the wall time also counts waiting for the cores), peak resident memory
of the workers (sampled every 0.1 s with psutil) against the limit, the number of dask "large
graph" warnings, and the ratios. With ``--scheduler`` the workers' memory and CPU time are not
sampled unless they run on this machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import threading
import time
import warnings

import dask
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


def permafrost_labels(nee: xr.DataArray) -> xr.DataArray:
    """A class map (P north of 60 N, NoP south), made chunk by chunk in ``nee``'s spatial chunks as a map read from disk would be."""
    lat = nee["lat"].values

    def block(block_info=None):
        (r0, r1), (c0, c1) = block_info[None]["array-location"]
        return np.where(lat[r0:r1, None] >= 60, "P", "NoP") * np.ones((1, c1 - c0), dtype=object)

    if nee.chunks is None:
        data = block({None: {"array-location": [(0, lat.size), (0, nee["lon"].size)]}})
    else:
        chunks = (nee.chunksizes["lat"], nee.chunksizes["lon"])
        data = da.map_blocks(block, dtype=object, chunks=chunks, meta=np.empty((0, 0), object))
    return xr.DataArray(data, dims=("lat", "lon"), coords={"lat": nee["lat"], "lon": nee["lon"]}, name="permafrost")


def pcstats_pipeline(nee: xr.DataArray):
    from pcstats.grid import pixel_trends, regrid, seasonalize_grid, zonal_mean

    seasonal = seasonalize_grid(nee.transpose("time", "lat", "lon")).sel(season=["ANN", "LGS"])
    trends = pixel_trends(seasonal)
    maps = regrid(trends[["estimate", "std_error", "p_value", "sen_slope", "mk_p"]])
    regional = zonal_mean(seasonal, permafrost_labels(nee), regions=["NoP", "P"])
    return [maps, regional]


def xarray_idiom(nee: xr.DataArray):
    annual = nee.groupby("time.year").mean()
    return [annual.polyfit("year", deg=1)]


class PeakMemory:
    """Largest summed RSS of the given processes, sampled every 0.1 s in a thread, and their CPU time."""

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

    def cpu(self) -> float:
        """User + system CPU seconds of the processes so far."""
        return sum(sum(p.cpu_times()[:2]) for p in self.procs)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def run_on_cluster(client, pids, build, nee) -> dict:
    """Wall time, peak memory and task-graph warnings of computing every output of ``build(nee)`` in one pass."""
    client.run(lambda: __import__("gc").collect())
    with PeakMemory(pids) as mem, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cpu0 = mem.cpu()
        start = time.perf_counter()
        client.compute(build(nee), sync=True)
        wall = time.perf_counter() - start
        cpu = mem.cpu() - cpu0
    large = sum("large graph" in str(w.message) for w in caught)
    return {"wall": wall, "cpu": cpu if pids else np.nan, "peak": mem.peak, "each": mem.peak_each, "large_graphs": large}


def local_pids(client) -> list[int]:
    """The workers' process ids when they run on this machine (their memory is then sampled), else none."""
    here = {a for a in ("127.0.0.1", "localhost", platform.node())}
    workers = client.scheduler_info()["workers"]
    if not all(any(h in w for h in here) for w in workers):
        return []
    return list(client.run(os.getpid).values())


def measure(client, nee, builds: dict) -> dict:
    """Warm the workers up on one chunk (imports, Numba caches, flox), then run each build once."""
    small = nee.isel(lat=slice(0, CHUNK["lat"]), lon=slice(0, CHUNK["lon"]))
    client.compute([r for build in builds.values() for r in build(small)], sync=True)
    pids = local_pids(client)
    return {name: run_on_cluster(client, pids, build, nee) for name, build in builds.items()}


def input_only(nee: xr.DataArray):
    return [nee.sum()]


def main() -> None:
    from dask.utils import parse_bytes
    from distributed import Client, LocalCluster

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="40-49 N only (about 0.9 GB)")
    parser.add_argument("--years", type=int, default=40)
    parser.add_argument("--memory-limit", default="1GiB", help="of each local worker process")
    parser.add_argument("--scheduler", help="address of a running dask scheduler (e.g. tcp://host:8786): run there instead")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    lat1 = 49.0 if args.quick else 85.0
    nee = synthetic(40.0, lat1, args.years, args.seed)
    gb = nee.size * 4 / 1e9
    limit = parse_bytes(args.memory_limit)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"grid: {nee.sizes['lat']} x {nee.sizes['lon']} cells at 1/12 degree, {nee.sizes['time']} months: {gb:.2f} GB of float32, "
          f"{nee.data.npartitions} chunks of {np.prod(nee.data.chunksize) * 4 / 1e6:.0f} MB")
    builds = {"input": input_only, "pcstats": pcstats_pipeline, "xarray": xarray_idiom}

    if args.scheduler:  # a user's cluster: the same calls, nothing else changes
        with Client(args.scheduler) as client:
            info = client.scheduler_info()["workers"].values()
            print(f"cluster at {args.scheduler}: {len(info)} workers, {sum(w['nthreads'] for w in info)} threads")
            runs = measure(client, nee, builds)
        report(gb, runs, limit_bytes=sum(w["memory_limit"] for w in info))
        return

    def cluster(n_workers: int, threads: int):
        return LocalCluster(n_workers=n_workers, threads_per_worker=threads, processes=True, memory_limit=limit,
                            dashboard_address=None)

    with cluster(1, 2) as lc, Client(lc) as client:
        limit_bytes = sum(w["memory_limit"] for w in client.scheduler_info()["workers"].values())
        print(f"cluster: 1 worker x 2 threads, memory limit {limit_bytes / 2**30:.2f} GiB in all; input / limit = "
              f"{gb * 1e9 / limit_bytes:.1f}x")
        runs = measure(client, nee, builds)
    scaling = {}
    for n_workers in (1, 2):
        with cluster(n_workers, 1) as lc, Client(lc) as client:
            scaling[n_workers] = measure(client, nee, {"pcstats": pcstats_pipeline})["pcstats"]

    # in-memory NumPy path on one latitude band of chunks, scaled by cells
    band = nee.isel(lat=slice(0, CHUNK["lat"]), lon=slice(0, 4 * CHUNK["lon"])).compute()
    scale = nee.sizes["lat"] * nee.sizes["lon"] / (band.sizes["lat"] * band.sizes["lon"])
    with dask.config.set(scheduler="synchronous"):
        wall_np = best_of(lambda: dask.compute(pcstats_pipeline(band)), 2) * scale  # the first run warms up
    report(gb, runs, limit_bytes, scaling, wall_np)


def report(gb: float, runs: dict, limit_bytes: float, scaling: dict | None = None, wall_np: float = np.nan) -> None:
    rows = [("making the input only (sum), dask streamed", runs["input"]),
            ("pcstats, dask streamed", runs["pcstats"]),
            ("xarray groupby + polyfit, dask streamed", runs["xarray"])]
    if scaling:
        rows += [("pcstats, 1 worker x 1 thread", scaling[1]), ("pcstats, 2 workers x 1 thread", scaling[2])]
    if np.isfinite(wall_np):
        rows.append(("pcstats in memory (NumPy, 1 process, scaled)", {"wall": wall_np, "cpu": np.nan, "peak": np.nan,
                                                                      "each": np.nan, "large_graphs": 0}))
    print(f"\n{'run':46s} {'wall s':>7s} {'GB/s':>6s} {'worker CPU s':>13s} {'peak RSS GiB':>13s} {'max worker GiB':>15s} "
          f"{'large-graph warnings':>21s}")
    for name, r in rows:
        print(f"{name:46s} {r['wall']:7.1f} {gb / r['wall']:6.3f} {r['cpu']:13.1f} {r['peak'] / 2**30:13.2f} "
              f"{r['each'] / 2**30:15.2f} {r['large_graphs']:21d}")
    pc, xr_, floor = runs["pcstats"], runs["xarray"], runs["input"]
    print(f"\npeak worker memory / limit: {pc['peak'] / limit_bytes:.2f} (pcstats), {xr_['peak'] / limit_bytes:.2f} (xarray idiom)")
    print(f"pcstats streamed vs xarray idiom: {xr_['wall'] / pc['wall']:.2f}x the throughput, {xr_['cpu'] / pc['cpu']:.2f}x "
          "by worker CPU time (pcstats also gives SE, p, Sen, MK, two seasons and regional means)")
    print(f"pcstats streamed vs the input-only floor: {pc['wall'] / floor['wall']:.2f}x its time "
          f"({pc['cpu'] / floor['cpu']:.2f}x its worker CPU time)")
    if scaling:
        print(f"pcstats on 2 workers vs 1 worker (1 thread each): {scaling[1]['wall'] / scaling[2]['wall']:.2f}x the throughput")
    if np.isfinite(wall_np):
        print(f"pcstats streamed vs in memory on one process (input made in advance): {wall_np / pc['wall']:.2f}x the throughput")
    print(f"large task-graph warnings: {sum(r['large_graphs'] for _, r in rows)}")


if __name__ == "__main__":
    main()
