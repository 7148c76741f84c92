"""How jobs travel to a real cluster of processes and back: large rows scattered straight to
their worker and sent again when that worker dies, frames packed as Arrow tables and
rebuilt exactly, and a run on a cluster without workers refused instead of hanging."""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from decimal import Decimal
from pathlib import Path

import cloudpickle
import numpy as np
import polars as pl
import pytest
from distributed import Client, LocalCluster
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal, assert_series_equal

from featurekit.errors import FeaturekitError
from featurekit.scale import tasks
from featurekit.scale.shipment import Shipment
from featurekit.scale.tasks import map_on_client

sys.path.insert(0, str(Path(__file__).resolve().parent))
from worker_killer import WorkerKiller  # noqa: E402

cloudpickle.register_pickle_by_value(sys.modules[__name__])


class ScatterCounter:
    """Counts the client's scatter calls and passes them on unchanged."""

    def __init__(self, client: Client) -> None:
        self.client, self.original, self.calls = client, client.scatter, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.original(*args, **kwargs)


def rows_of(number: int) -> pl.DataFrame:
    """A job of about 2.4 MB of rows whose answer is known."""
    values = np.arange(300_000, dtype=np.int64) * (number + 1)
    return pl.DataFrame({"number": np.full(300_000, number), "value": values})


def summed_slowly(rows: pl.DataFrame) -> tuple[int, int, int]:
    time.sleep(0.15)  # long enough for a kill to land while tasks run
    return int(rows["number"][0]), int(rows["value"].sum()), os.getpid()


def expected_sum(number: int) -> int:
    return int(np.arange(300_000, dtype=np.int64).sum()) * (number + 1)


def test_large_jobs_are_scattered_to_their_workers_and_come_back_whole(client, monkeypatch):
    counter = ScatterCounter(client)
    monkeypatch.setattr(client, "scatter", counter)
    numbers = list(range(8))
    results = map_on_client(client, summed_slowly, rows_of, numbers, verbose=False)
    assert counter.calls == len(numbers)  # 2.4 MB each: over SCATTER_BYTES, one scatter each
    assert [results[n][:2] for n in numbers] == [(n, expected_sum(n)) for n in numbers]
    assert len({results[n][2] for n in numbers}) == 2  # both workers computed


def test_small_jobs_travel_inside_their_tasks(client, monkeypatch):
    counter = ScatterCounter(client)
    monkeypatch.setattr(client, "scatter", counter)
    results = map_on_client(client, summed_slowly, lambda n: rows_of(n).head(10), [0, 1, 2],
                            verbose=False)
    assert counter.calls == 0
    assert [results[n][0] for n in range(3)] == [0, 1, 2]


def test_jobs_whose_worker_is_killed_are_sent_again_and_complete(client, monkeypatch):
    client.wait_for_workers(2, timeout=180)
    counter = ScatterCounter(client)
    monkeypatch.setattr(client, "scatter", counter)
    killer = WorkerKiller(client)
    killer.start()
    numbers = list(range(16))
    results = map_on_client(client, summed_slowly, rows_of, numbers, verbose=False)
    killer.join()
    assert killer.killed is not None  # the kill happened while the run went on
    assert counter.calls > len(numbers)  # the dead worker's jobs were scattered again
    assert [results[n][:2] for n in numbers] == [(n, expected_sum(n)) for n in numbers]
    assert killer.killed not in {results[n][2] for n in numbers}  # no result of the dead
    client.wait_for_workers(2, timeout=180)


def test_a_cluster_without_workers_is_refused_instead_of_waited_on(monkeypatch, capsys):
    monkeypatch.setattr(tasks, "NO_WORKERS_TIMEOUT", 1.5)
    with (
        LocalCluster(n_workers=0, processes=False, dashboard_address=":0") as cluster,
        Client(cluster) as empty,
    ):
        started = time.monotonic()
        with pytest.raises(FeaturekitError, match="no worker for .* Fix: start workers"):
            map_on_client(empty, summed_slowly, rows_of, [0, 1], verbose=False)
        assert time.monotonic() - started < 30
        assert not empty.processing()  # the waiting tasks were cancelled
    assert "the Dask cluster has no worker; waiting for one (at most 2 s)" in \
        capsys.readouterr().err


FRAMES = st.sampled_from([
    pl.DataFrame({"i": [1, None, 3], "f": [0.5, float("nan"), None], "b": [True, None, False]}),
    pl.DataFrame({"s": ["a", None, "ccc"], "bin": [b"x", None, b"\x00"]}),
    pl.DataFrame({"t": [dt.datetime(2020, 1, 1, 12), None, dt.datetime(1969, 7, 20)]})
    .with_columns(pl.col("t").dt.cast_time_unit("ns").alias("ns"),
                  pl.col("t").dt.replace_time_zone("Asia/Kolkata").alias("tz"),
                  pl.col("t").dt.date().alias("d"), (pl.col("t") - pl.col("t")).alias("dur")),
    pl.DataFrame({"u8": pl.Series([1, 255], dtype=pl.UInt8),
                  "i16": pl.Series([-3, 7], dtype=pl.Int16),
                  "f32": pl.Series([1.5, -2.25], dtype=pl.Float32)}),
    pl.DataFrame({"c": ["x", "y", "x"]}, schema={"c": pl.Categorical}),
    pl.DataFrame({"e": ["lo", "hi"]}, schema={"e": pl.Enum(["lo", "hi"])}),
    pl.DataFrame({"l": [[1, 2], None, []], "st": [{"a": 1}, {"a": None}, None]}),
    pl.DataFrame({"dec": [Decimal("1.10"), None]}, schema={"dec": pl.Decimal(10, 2)}),
    pl.DataFrame({"n": [None, None]}),
    pl.DataFrame(schema={"empty": pl.Int64, "s": pl.String}),
])


@settings(max_examples=40, deadline=None)
@given(frames=st.lists(FRAMES, min_size=1, max_size=4))
def test_a_shipment_rebuilds_every_frame_and_series_exactly(frames):
    packed = {"frames": frames, "series": [f.to_series(0) for f in frames if f.width],
              "same": frames[0], "again": frames[0], "number": 7}
    shipment = Shipment.of(packed)
    back = cloudpickle.loads(cloudpickle.dumps(shipment)).unpack()
    for original, rebuilt in zip(frames, back["frames"], strict=True):
        assert rebuilt.schema == original.schema
        assert_frame_equal(rebuilt, original, check_exact=True)
    for original, rebuilt in zip(packed["series"], back["series"], strict=True):
        assert_series_equal(rebuilt, original, check_exact=True)
    assert back["same"] is back["again"]  # one frame held twice is one frame again
    assert back["number"] == 7


def test_plain_frames_travel_beside_the_bytes_and_others_inside_them():
    plain = pl.DataFrame({"x": np.arange(100_000), "y": np.linspace(0, 1, 100_000)})
    nested = pl.DataFrame({"l": [[1, 2]] * 1000})
    shipment = Shipment.of({"plain": plain, "column": plain["y"], "nested": nested})
    assert len(shipment.tables) == 2  # the frame and the series, as Arrow tables
    assert len(shipment.data) < 100_000 < plain.estimated_size()  # lists stay in the bytes
    back = shipment.unpack()
    assert_frame_equal(back["plain"], plain, check_exact=True)
    assert_frame_equal(back["nested"], nested, check_exact=True)


def test_a_function_defined_here_travels_by_value():
    offset = 5
    shipment = Shipment.of(lambda frame: frame["x"].sum() + offset)
    assert shipment.unpack()(pl.DataFrame({"x": [1, 2]})) == 8


def test_rows_pass_through_the_scheduler_unless_the_workers_can_be_reached(client):
    assert tasks.sends_directly(client)  # a LocalCluster: every worker on this machine
    with Client(client.scheduler.address, direct_to_workers=False) as through_scheduler:
        assert not tasks.sends_directly(through_scheduler)
        numbers = list(range(4))
        results = map_on_client(through_scheduler, summed_slowly, rows_of, numbers,
                                verbose=False)
        assert [results[n][:2] for n in numbers] == [(n, expected_sum(n)) for n in numbers]
    assert not tasks._on_this_machine("tcp://10.0.0.7:8786")
    assert tasks._on_this_machine("tcp://[::1]:8786") and tasks._on_this_machine("inproc://x/1")


def test_a_job_that_cannot_be_pickled_is_refused_by_name(client):
    import threading

    with pytest.raises(FeaturekitError, match="a partition's job cannot be sent to the Dask "
                                              "workers: TypeError.* Fix: keep objects"):
        map_on_client(client, len, lambda n: [threading.Lock()], [0], verbose=False)


def test_rows_no_worker_can_receive_end_in_an_error_naming_the_cause(client, monkeypatch):
    def unreachable(*args, **kwargs):  # a fault injected into Dask's scatter: every send fails
        raise OSError("connection refused")

    monkeypatch.setattr(client, "scatter", unreachable)
    with pytest.raises(FeaturekitError, match="could not be sent to any worker: 4 attempts "
                                              "failed, the last with OSError: connection "
                                              "refused"):
        map_on_client(client, summed_slowly, rows_of, [0, 1], verbose=False)
    monkeypatch.undo()
    assert map_on_client(client, summed_slowly, rows_of, [3], verbose=False)[3][:2] == (
        3, expected_sum(3))
