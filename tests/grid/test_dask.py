"""The grid functions on dask arrays chunked in space, under a dask.distributed LocalCluster, give the in-memory numbers."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from pcstats.grid import ensemble_grid, pixel_trends, region_classes, regrid, seasonalize_grid, zonal_mean

from .conftest import product

CLM = [f"trendy/CLM5.0_S3_{v}.nc" for v in ("nbp", "gpp", "ra", "rh")]


def pipeline(chunks):
    """Read, regrid to 1 degree, seasonalize, ensemble, pixel trends and zonal means; lazy when chunks are given."""
    ct = product("CT2019B.flux1x1-monthly.nc", chunks=chunks)
    cte = product("CTE2020_monthly.nc", chunks=chunks)
    clm = regrid(product(*CLM, chunks=chunks))
    tc = regrid(product("MOD44B.A2010.061.Percent_Tree_Cover.0p5deg.nc"))["TC"]
    p = regrid(product("ESACCI-PERMAFROST-L4-PFR-MODISLST_CRYOGRID-AREA4_PP-2010-fv03.0_latlon0p5.nc"))["P"]
    labels = region_classes(tc, p)
    seasonal = {"CT2019B": seasonalize_grid(ct["NEE"]), "CTE2020": seasonalize_grid(cte["NEE"])}
    ens = ensemble_grid(seasonal)
    return {
        "regridded TER": clm["TER"],
        "ensemble": ens["NEE"], "ensemble_n": ens["ensemble_n"],
        "trends": pixel_trends(ens["NEE"]).to_array(),
        "trends TRENDY": pixel_trends(seasonalize_grid(clm["NBP"])).to_array(),
        "zonal P/NoP": zonal_mean(ens["NEE"], labels["permafrost"]),
        "zonal TC bins": zonal_mean(seasonalize_grid(clm["GPP"]), labels["tc_bin"]),
    }


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  memory_limit="1GiB") as cluster, distributed.Client(cluster) as c:
        yield c


def test_lazy_pipeline_on_a_local_cluster_gives_the_in_memory_numbers(client):
    eager = pipeline(None)
    lazy = pipeline({"lat": 6, "lon": 12})  # 10 x 20 cells (1 degree), 20 x 40 (0.5 degree): several chunks each way
    assert all(v.chunks is not None for v in lazy.values())
    assert max(len(c) for c in lazy["trends"].chunks) > 1
    computed = dict(zip(lazy, client.compute(list(lazy.values()), sync=True)))
    for name, value in eager.items():
        got = computed[name]
        assert got.dims == value.dims, name
        if name.startswith("zonal"):  # sums across chunks: the order of additions differs
            np.testing.assert_allclose(got.values, value.values, rtol=1e-13, atol=1e-11, err_msg=name)
            np.testing.assert_array_equal(got["n_cells"].values, value["n_cells"].values)
        else:  # per-cell maths on smaller blocks: equal up to the last bits a kernel may change
            np.testing.assert_allclose(got.values, value.values, rtol=1e-12, atol=1e-12 * float(np.nanmax(np.abs(value.values))),
                                       equal_nan=True, err_msg=name)
    assert isinstance(computed["trends"], xr.DataArray)
