"""Faults on a real cluster of processes: a worker killed in the middle of a run is survived
(Dask recomputes its tasks) and the results are complete, in order and equal."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import cloudpickle
import numpy as np
import pandas as pd

from featurekit.scale.tasks import map_on_client, tasks_in_flight
from featurekit.timeseries import extract

sys.path.insert(0, str(Path(__file__).resolve().parent))
from worker_killer import WorkerKiller  # noqa: E402

cloudpickle.register_pickle_by_value(sys.modules[__name__])


def slow_square(number: int) -> tuple[int, int]:
    """A task of known length (so the kill lands while tasks run) and known answer."""
    time.sleep(0.15)
    return number * number, os.getpid()


def test_a_worker_killed_in_the_middle_of_a_run_is_survived(client):
    killer = WorkerKiller(client)
    killer.start()
    numbers = list(range(30))
    results = map_on_client(client, slow_square, lambda number: number, numbers, verbose=False)
    killer.join()
    assert killer.killed is not None  # the kill happened while the run went on
    assert sorted(results) == numbers
    assert [results[n][0] for n in numbers] == [n * n for n in numbers]
    assert killer.killed not in client.run(os.getpid).values()  # a new process replaced it
    client.wait_for_workers(2, timeout=180)  # the nanny restarts the killed worker


def test_extract_survives_a_killed_worker_and_equals_one_process(client):
    rng = np.random.default_rng(1)
    rows = 60_000
    frame = pd.DataFrame({"id": rng.integers(0, 3000, rows), "time": np.arange(rows),
                          "value": rng.normal(size=rows)})
    arguments = dict(column_id="id", column_sort="time", settings="efficient")
    alone = extract(frame, **arguments)
    client.wait_for_workers(2, timeout=180)
    killer = WorkerKiller(client)
    killer.start()
    on_cluster = extract(frame, **arguments, client=client, partitions=40)
    killer.join()
    assert killer.killed is not None
    pd.testing.assert_frame_equal(on_cluster, alone, check_exact=True)
    client.wait_for_workers(2, timeout=180)


def test_tasks_in_flight_follow_threads_and_memory(client):
    info = client.scheduler_info(n_workers=-1)["workers"].values()
    threads = sum(w["nthreads"] for w in info)
    smallest_limit = min(w["memory_limit"] for w in info)
    assert tasks_in_flight(client, None) == (threads, False)
    assert tasks_in_flight(client, 1) == (threads, False)
    # a partition larger than any worker's memory still runs, one per worker
    assert tasks_in_flight(client, smallest_limit * 10) == (len(info), False)
