"""``fk.compute(..., client=)`` on a real Dask cluster of processes: the matrix of one process
(and exactly the matrix of the same partitions computed here), an output folder written by
the workers, a worker killed in the middle of a run, a rerun that skips written parts, and
tasks that never run more at once than the workers' declared memory holds."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import cloudpickle
import numpy as np
import pandas as pd
import polars as pl
import pytest
from distributed import Client, LocalCluster
from polars.testing import assert_frame_equal as assert_polars_equal

import featurekit as fk
from featurekit.errors import ComputeError, FeaturekitError
from featurekit.scale import tasks
from featurekit.scale.cluster import worker_memory_per_task
from featurekit.scale.tasks import MEMORY_RESOURCE, map_on_client

sys.path.insert(0, str(Path(__file__).resolve().parent))
from worker_killer import WorkerKiller  # noqa: E402

cloudpickle.register_pickle_by_value(sys.modules[__name__])

AGGREGATIONS = ["count", "sum", "mean", "std", "max", "min", "mode", "num_unique", "last",
                "trend", "median"]
TRANSFORMS = ["month", "weekday", "is_weekend"]


@pytest.fixture(scope="module")
def client():
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                     memory_limit="1GiB")
        as cluster,
        Client(cluster) as dask_client,
    ):
        yield dask_client


@pytest.fixture(params=["rows in the task", "rows scattered"])
def rows_travel(request, monkeypatch) -> str:
    """Both ways a partition's rows reach its worker: inside the task (small jobs, Dask
    recomputes a lost one) or scattered straight to the worker (large jobs, featurekit
    sends a lost one again); the small test data takes the second way when the threshold
    is 0 bytes."""
    if request.param == "rows scattered":
        monkeypatch.setattr(tasks, "SCATTER_BYTES", 0)
    return request.param


@pytest.fixture(scope="module")
def retail() -> fk.EntitySet:
    es = fk.demo.load_retail(n_customers=80, seed=5)
    es.add_interesting_values(table="sessions", values={"device": ["mobile", "tablet"]})
    return es


def features_of(es: fk.EntitySet, target: str = "customers") -> list:
    return fk.plan(es, target=target, max_depth=2, agg_primitives=AGGREGATIONS,
                   trans_primitives=TRANSFORMS, where_primitives=["count"])


def cutoff_frame(es: fk.EntitySet, target: str, per_instance: int, seed: int) -> pd.DataFrame:
    """Several cutoff rows per instance, shuffled, with a label column."""
    rng = np.random.default_rng(seed)
    keys = es[target].frame[es[target].index].to_numpy()
    times = pd.to_datetime("2020-06-01") + pd.to_timedelta(
        rng.integers(0, 900, len(keys) * per_instance), unit="D")
    frame = pd.DataFrame({es[target].index: np.repeat(keys, per_instance),
                          "time": times, "label": rng.random(len(keys) * per_instance)})
    frame = frame.drop_duplicates([es[target].index, "time"])
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def assert_same(single: pd.DataFrame, other: pd.DataFrame, float_rtol: float = 0.0) -> None:
    """Same index, names, dtypes; values exactly (floats within ``float_rtol`` if given)."""
    assert list(other.columns) == list(single.columns)
    assert (other.dtypes == single.dtypes).all()
    pd.testing.assert_index_equal(other.index, single.index, exact=True)
    pd.testing.assert_frame_equal(other, single, check_exact=not float_rtol,
                                  **({"rtol": float_rtol, "atol": 0.0} if float_rtol else {}))


@pytest.mark.parametrize("target", ["customers", "sessions"])
def test_compute_on_the_cluster_equals_one_process(client, retail, target, capfd, rows_travel):
    features = features_of(retail, target)
    single = fk.compute(retail, features)
    on_cluster = fk.compute(retail, features, client=client, partitions=4)
    assert_same(single, on_cluster)
    assert any(str(dtype) == "category" for dtype in on_cluster.dtypes)
    assert "featurekit: Dask dashboard at http" in capfd.readouterr().err
    # "auto" partitions are sized from the workers' memory (1 GiB each, one thread): up to
    # Dask's pause fraction (0.8), less what the idle worker process holds (a few 100 MiB)
    assert 0.8 * 2**30 - 700 * 2**20 < worker_memory_per_task(client) < 0.8 * 2**30
    assert_same(single, fk.compute(retail, features, client=client))


@pytest.mark.parametrize("window", [None, "120d"])
def test_compute_with_a_cutoff_frame_on_the_cluster(client, retail, window, rows_travel):
    """The cluster gives exactly what the same partitions give here; the single process
    agrees to the last bits of floats (scale-core's rule for cutoff frames: its running sums
    over a cutoff frame see the frame's other instances)."""
    features = features_of(retail)
    cutoffs = cutoff_frame(retail, "customers", per_instance=3, seed=7)
    single = fk.compute(retail, features, cutoff_time=cutoffs, training_window=window)
    here = fk.compute(retail, features, cutoff_time=cutoffs, training_window=window, partitions=5)
    on_cluster = fk.compute(retail, features, cutoff_time=cutoffs, training_window=window,
                            partitions=5, client=client)
    assert_same(here, on_cluster)
    assert_same(single, on_cluster)
    assert on_cluster["label"].tolist() == cutoffs["label"].tolist()


def test_one_cutoff_moment_and_polars_on_the_cluster(client):
    es = fk.demo.load_retail(n_customers=50, seed=2, return_type="polars")
    features = features_of(es)
    single = fk.compute(es, features, cutoff_time="2021-03-01", training_window="60d")
    on_cluster = fk.compute(es, features, cutoff_time="2021-03-01", training_window="60d",
                            client=client, partitions=3)
    assert isinstance(on_cluster, pl.DataFrame)
    assert_polars_equal(on_cluster, single, check_exact=True)
    matrix, _ = fk.dfs(es, target="customers", max_depth=1, client=client, partitions=2)
    assert_polars_equal(matrix, fk.dfs(es, target="customers", max_depth=1)[0], check_exact=True)


def read_parts(folder: Path) -> list[pl.DataFrame]:
    return [pl.read_parquet(path) for path in sorted(folder.glob("part-*.parquet"))]


def test_output_folder_written_by_the_workers_equals_the_local_one(client, retail, tmp_path):
    features = features_of(retail)
    cutoffs = cutoff_frame(retail, "customers", per_instance=2, seed=3)
    local = fk.compute(retail, features, cutoff_time=cutoffs, partitions=4, output=tmp_path / "here")
    remote = fk.compute(retail, features, cutoff_time=cutoffs, partitions=4, client=client,
                        output=tmp_path / "cluster")
    assert remote == tmp_path / "cluster"
    assert sorted(p.name for p in remote.iterdir()) == sorted(p.name for p in local.iterdir())
    here, there = read_parts(local), read_parts(remote)
    assert len(there) == 4
    for a, b in zip(here, there, strict=True):
        assert_polars_equal(a, b, check_exact=True)
    single = pl.from_pandas(fk.compute(retail, features, cutoff_time=cutoffs).reset_index())
    stacked = pl.concat(there)
    assert stacked.height == single.height
    assert sorted(stacked["label"].to_list()) == sorted(single["label"].to_list())
    assert not [p for p in remote.iterdir() if p.name.startswith(".")]  # no temporary left


def test_a_killed_worker_and_a_rerun_still_give_the_whole_output(client, retail, tmp_path,
                                                                 rows_travel):
    features = features_of(retail)
    expected = read_parts(fk.compute(retail, features, partitions=24, output=tmp_path / "here"))
    client.wait_for_workers(2, timeout=180)
    folder = tmp_path / "cluster"
    killer = WorkerKiller(client)
    killer.start()
    fk.compute(retail, features, partitions=24, client=client, output=folder)
    killer.join()
    assert killer.killed is not None  # a worker died while the run went on
    got = read_parts(folder)
    assert len(got) == 24
    for a, b in zip(expected, got, strict=True):
        assert_polars_equal(a, b, check_exact=True)
    # a rerun computes only the parts that are missing (here: deleted) and keeps the others
    client.wait_for_workers(2, timeout=180)
    (folder / "part-00003.parquet").unlink()
    (folder / "part-00017.parquet").unlink()
    stamps = {p.name: p.stat().st_mtime_ns for p in folder.glob("part-*.parquet")}
    time.sleep(0.05)
    fk.compute(retail, features, partitions=24, client=client, output=folder)
    after = {p.name: p.stat().st_mtime_ns for p in folder.glob("part-*.parquet")}
    assert {name for name in after if name not in stamps} == {"part-00003.parquet",
                                                               "part-00017.parquet"}
    assert all(after[name] == stamp for name, stamp in stamps.items())
    for a, b in zip(expected, read_parts(folder), strict=True):
        assert_polars_equal(a, b, check_exact=True)
    # another call's folder is refused, not mixed
    with pytest.raises(ComputeError, match="another call"):
        fk.compute(retail, features[:5], partitions=24, client=client, output=folder)


def test_a_client_for_compute_without_dask_names_the_extra(retail, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(FeaturekitError, match=r"pip install 'featurekit\[dask\]'"):
        fk.compute(retail, features_of(retail)[:3], client=object())


def busy_interval(job: int) -> tuple[float, float]:
    start = time.monotonic()
    time.sleep(0.2)
    return start, time.monotonic()


def overlaps(intervals: list[tuple[float, float]]) -> int:
    ordered = sorted(intervals)
    return sum(1 for (_, end), (start, _) in zip(ordered, ordered[1:], strict=False)
               if start < end)


def test_declared_memory_bounds_the_tasks_a_worker_runs_at_once():
    """A worker with two threads but memory for one planned partition runs one at a time;
    with memory for two it runs two at once (the annotation, not luck, decides)."""
    with (
        LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=":0",
                     resources={MEMORY_RESOURCE: 1000})
        as cluster,
        Client(cluster) as own_client,
    ):
        one_at_a_time = map_on_client(own_client, busy_interval, lambda n: n, range(6),
                                      job_bytes=[600] * 6, verbose=False)
        assert overlaps(list(one_at_a_time.values())) == 0
        two_at_once = map_on_client(own_client, busy_interval, lambda n: n, range(6),
                                    job_bytes=[400] * 6, verbose=False)
        assert overlaps(list(two_at_once.values())) >= 2
        assert worker_memory_per_task(own_client) == 500
        # a job planned larger than any worker's memory still runs (capped, with a warning)
        with pytest.warns(UserWarning, match="more memory than the largest featurekit_memory"):
            assert len(map_on_client(own_client, busy_interval, lambda n: n, range(2),
                                     job_bytes=[5000, 10], verbose=False)) == 2


def spent_over_100(rows: pd.DataFrame) -> bool:
    return rows.amount.sum() > 100


@pytest.mark.parametrize("target", ["customers", "sessions"])
def test_make_labels_on_the_cluster_equals_one_process(client, retail, target, rows_travel):
    options = {"gap": "20d", "max_per_instance": 4}
    single = fk.make_labels(retail, target, spent_over_100, window="30d", **options)
    on_cluster = fk.make_labels(retail, target, spent_over_100, window="30d", client=client,
                                **options)
    assert len(single) > 0
    pd.testing.assert_frame_equal(on_cluster, single, check_exact=True)
    counted = fk.make_labels(retail, target, pl.len(), window="30d", label_name="rows",
                             client=client, partitions=3, **options)
    pd.testing.assert_frame_equal(
        counted, fk.make_labels(retail, target, pl.len(), window="30d", label_name="rows",
                                **options), check_exact=True)


def test_a_function_the_workers_cannot_import_is_refused_not_hung(client, retail, tmp_path,
                                                                    monkeypatch):
    """A labeling function from a module only the driver can import (the workers started
    before it existed) gets a clear error; the workers survive and keep computing."""
    (tmp_path / "driver_only_labels.py").write_text(
        "def spent(rows):\n    return rows.amount.sum() > 100\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import driver_only_labels

    with pytest.raises(FeaturekitError, match=r"a worker could not load the task's code: "
                       r"ModuleNotFoundError.*Fix: install the module"):
        fk.make_labels(retail, "customers", driver_only_labels.spent, window="30d",
                       client=client)
    sys.modules.pop("driver_only_labels", None)
    assert len(client.scheduler_info()["workers"]) == 2
    single = fk.make_labels(retail, "customers", spent_over_100, window="30d")
    pd.testing.assert_frame_equal(
        fk.make_labels(retail, "customers", spent_over_100, window="30d", client=client), single)
