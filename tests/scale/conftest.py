"""The cluster the scale tests share per module: a real LocalCluster of 2 worker processes
with one thread each (a module needing other workers starts its own)."""

from __future__ import annotations

import pytest
from distributed import Client, LocalCluster


@pytest.fixture(scope="module")
def client():
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
        as cluster,
        Client(cluster) as dask_client,
    ):
        yield dask_client
