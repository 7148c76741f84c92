"""``fk.timeseries.extract`` over partitions of series ids, in this process and on a real
Dask cluster of processes: the result is the single-process result, exactly."""

from __future__ import annotations

import os
import sys
import warnings

import cloudpickle
import numpy as np
import pandas as pd
import polars as pl
import pytest
from distributed import Client, LocalCluster
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import featurekit as fk
from featurekit.errors import FeaturekitError, SchemaError
from featurekit.scale import threads
from featurekit.scale.series import ExtractOptions, ExtractTask, ScanJob, cut
from featurekit.scale.tasks import map_on_client
from featurekit.timeseries import Expanding, Rolling, Tumbling, extract

# the probes below run on the workers, which cannot import this test module by name
cloudpickle.register_pickle_by_value(sys.modules[__name__])

CALCULATORS = {
    "mean": None, "standard_deviation": None, "maximum": None, "length": None,
    "autocorrelation": [{"lag": 1}, {"lag": 3}], "fft_coefficient": [{"coeff": 1, "attr": "abs"}],
    "quantile": [{"q": 0.2}], "linear_trend": [{"attr": "slope"}],
}


def long_frame(seed: int = 3, ids: int = 40, rows: int = 1500) -> pd.DataFrame:
    """Long input whose later ids lack kind "b" (so some partitions lack a kind) and whose
    ids are not in sorted order."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "id": rng.permutation(np.repeat(np.arange(ids) * 7 % 101, rows // ids)),
        "time": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**6, rows // ids * ids), unit="min"),
        "kind": rng.choice(["a", "b", "c"], rows // ids * ids),
        "value": rng.normal(size=rows // ids * ids),
    })
    frame = frame[~((frame["id"] > 60) & (frame["kind"] == "b"))]
    return frame.drop_duplicates(["id", "kind", "time"]).reset_index(drop=True)


def wide_frame(seed: int = 5) -> pl.DataFrame:
    long = long_frame(seed)
    return pl.from_pandas(long[long["kind"] == "a"][["id", "time", "value"]]).with_columns(
        (pl.col("value") * 2).alias("doubled"))


def test_extract_on_the_cluster_equals_one_process_for_long_input(client, capfd):
    frame = long_frame()
    arguments = dict(column_id="id", column_sort="time", column_kind="kind", column_value="value",
                     settings=CALCULATORS)
    alone = extract(frame, **arguments)
    on_cluster = extract(frame, **arguments, client=client, partitions=6)
    assert set(alone.columns) == set(on_cluster.columns) and alone.shape[0] == 40
    assert on_cluster.isna().any().any()  # ids without kind "b" have missing "b" features
    pd.testing.assert_frame_equal(on_cluster, alone, check_exact=True)
    assert "featurekit: Dask dashboard at http" in capfd.readouterr().err
    pd.testing.assert_frame_equal(frame, long_frame())  # the caller's frame is untouched


@pytest.mark.parametrize(
    "window", [None, Rolling(size=5, step=3), Rolling(size="2d", step=4), Expanding(min_size=3, step=5),
               Tumbling(size="5d")],
    ids=repr,
)
def test_extract_on_the_cluster_equals_one_process_for_windows(client, window):
    frame = wide_frame()
    arguments = dict(column_id="id", column_sort="time", settings=CALCULATORS, window=window)
    alone = extract(frame, **arguments)
    on_cluster = extract(frame, **arguments, client=client)  # partitions="auto"
    assert alone.height > 40 or window is None
    assert on_cluster.schema == alone.schema
    assert on_cluster.equals(alone)


def test_extract_reads_each_partition_of_a_parquet_file_on_its_worker(client, tmp_path):
    frame = long_frame(seed=11)
    path = tmp_path / "series.parquet"
    frame.to_parquet(path, row_group_size=200)
    arguments = dict(column_id="id", column_sort="time", column_kind="kind", column_value="value",
                     settings=CALCULATORS, kind_settings={"c": {"minimum": None}})
    alone = extract(str(path), **arguments)
    on_cluster = extract(str(path), **arguments, client=client, partitions=4)
    assert isinstance(on_cluster, pl.DataFrame)
    assert on_cluster.equals(alone)
    # a task's scan carries its ids as a filter inside the parquet reader (pushdown)
    task = ExtractTask(ExtractOptions("id", "time", "kind", "value", CALCULATORS, None, None,
                                      "raise", None))
    ids = pl.Series("id", [7, 14])
    plan = task.rows(ScanJob(str(path), ids)).explain()
    assert "is_in" in plan[plan.index("SCAN"):]  # inside the scan, not a FILTER above it
    rows = task.rows(ScanJob(str(path), ids)).collect()
    assert sorted(set(rows["id"].to_list())) == [7, 14]
    assert rows.height == int(frame["id"].isin([7, 14]).sum())


def test_impute_and_tsfresh_keywords_apply_to_the_whole_result(client):
    frame = long_frame(seed=2)
    arguments = dict(column_id="id", column_sort="time", column_kind="kind", column_value="value",
                     default_fc_parameters=CALCULATORS, impute_function=fk.timeseries.impute,
                     n_jobs=1, disable_progressbar=True)
    alone = extract(frame, **arguments)
    on_cluster = extract(frame, **arguments, client=client)
    assert not on_cluster.isna().any().any()
    pd.testing.assert_frame_equal(on_cluster, alone, check_exact=True)


def test_settings_for_a_kind_no_row_has_warn_once_on_the_driver(client):
    frame = long_frame(seed=6)
    arguments = dict(column_id="id", column_sort="time", column_kind="kind", column_value="value",
                     settings="minimal", kind_settings={"b": {"maximum": None}})
    with warnings.catch_warnings():  # "b" is in the input, though not in every partition
        warnings.simplefilter("error")
        extract(frame, **arguments, partitions=8)
    with pytest.warns(UserWarning, match=r"kinds the input does not have: \['nope'\]") as caught:
        extract(frame, **{**arguments, "kind_settings": {"nope": "minimal"}}, client=client)
    assert len([w for w in caught if "does not have" in str(w.message)]) == 1


def test_bad_input_on_the_cluster_raises_the_featurekit_error_at_once(client):
    frame = long_frame(seed=4)
    frame.loc[frame.index[-1], "value"] = np.nan  # in one partition only
    with pytest.raises(SchemaError, match="missing .null/NaN. values"):
        extract(frame, column_id="id", column_sort="time", column_kind="kind",
                column_value="value", settings="minimal", client=client, partitions=5)
    with pytest.raises(SchemaError, match="column_value column is missing"):
        extract(frame, column_id="id", column_sort="time", column_kind="kind",
                column_value="nope", client=client)
    frame.loc[frame.index[:3], "id"] = np.nan
    with pytest.raises(SchemaError, match="3 of .* rows have a missing .null or NaN. column_id"):
        extract(frame, column_id="id", column_sort="time", column_kind="kind",
                column_value="value", client=client)


@pytest.mark.parametrize("partitions", [0, -2, 1.5, "many", True])
def test_partitions_must_be_a_positive_count_or_auto(partitions):
    with pytest.raises(FeaturekitError, match="partitions must be a positive number"):
        extract(long_frame(), column_id="id", column_sort="time", column_kind="kind",
                column_value="value", partitions=partitions)


def test_a_client_without_dask_installed_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed now fails
    with pytest.raises(FeaturekitError, match=r"pip install 'featurekit\[dask\]'"):
        extract(long_frame(), column_id="id", column_sort="time", column_kind="kind",
                column_value="value", client=object())


def test_a_client_must_be_a_dask_client():
    with pytest.raises(FeaturekitError, match="client must be a dask.distributed.Client"):
        extract(long_frame(), column_id="id", column_sort="time", column_kind="kind",
                column_value="value", client="tcp://localhost:8786")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lengths=st.lists(st.integers(1, 12), min_size=1, max_size=12),
    kinds=st.lists(st.sampled_from(["x", "y", "z"]), min_size=1, max_size=3, unique=True),
    partitions=st.integers(1, 15),
    window=st.sampled_from([None, Rolling(size=2), Expanding(min_size=2, step=2), Tumbling(size=3)]),
    polars_input=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_partitions_one_after_another_equal_one_call(lengths, kinds, partitions, window,
                                                     polars_input, seed):
    """Any split of any ids (each with its own kinds and length) gives the one-call result."""
    rng = np.random.default_rng(seed)
    pieces = []
    for number, length in enumerate(lengths):
        own = [kind for kind in kinds if rng.random() < 0.7] or kinds[:1]
        for kind in own:
            pieces.append(pd.DataFrame({"id": f"s{(number * 37) % 13}-{number}", "step": np.arange(length),
                                        "kind": kind, "value": rng.normal(size=length)}))
    frame = pd.concat(pieces).sample(frac=1.0, random_state=seed).reset_index(drop=True)
    data = pl.from_pandas(frame) if polars_input else frame
    arguments = dict(column_id="id", column_sort="step", column_kind="kind", column_value="value",
                     settings={"mean": None, "maximum": None, "autocorrelation": [{"lag": 1}]},
                     window=window)
    alone = extract(data, **arguments)
    partitioned = extract(data, **arguments, partitions=partitions)
    if polars_input:
        assert partitioned.schema == alone.schema
        assert partitioned.equals(alone)
    else:
        pd.testing.assert_frame_equal(partitioned, alone, check_exact=True)


def test_cut_balances_rows_and_never_leaves_a_partition_empty():
    counts = np.array([1, 1, 1, 50, 1, 1, 1, 1])
    bounds = cut(counts, 3)
    assert bounds[0] == 0 and bounds[-1] == len(counts)
    assert np.all(np.diff(bounds) > 0)
    assert cut(counts, 100).tolist() == list(range(len(counts) + 1))
    assert cut(np.array([4, 4, 4, 4]), 2).tolist() == [0, 2, 4]


def thread_counts(job):
    """What a featurekit task sees on its worker: numba's threads and polars' pool."""
    import numba
    import polars

    return numba.get_num_threads(), polars.thread_pool_size(), os.environ.get("POLARS_MAX_THREADS")


def test_tasks_use_only_the_cores_their_worker_owns(client):
    counts = map_on_client(client, thread_counts, lambda number: number, [0, 1, 2, 3],
                           verbose=False)
    assert set(counts.values()) == {(1, 1, "1")}
    assert client.run(lambda: __import__("numba").get_num_threads())  # numba restored after


def import_polars(dask_worker=None):
    import polars

    return polars.thread_pool_size()


def test_a_worker_whose_polars_pool_is_too_large_draws_one_warning(monkeypatch):
    # the workers inherit POLARS_MAX_THREADS=3 (a user's setting, which featurekit keeps)
    # and import polars before featurekit runs: 3 threads for a worker that owns 1 core
    monkeypatch.setenv("POLARS_MAX_THREADS", "3")  # removed again after the test
    with (
        LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0")
        as cluster,
        Client(cluster) as own_client,
    ):
        assert set(own_client.run(import_polars).values()) == {3}
        with pytest.warns(threads.OversubscriptionWarning, match="pre-spawn-environ"):
            threads.size_worker_threads(own_client)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            threads.size_worker_threads(own_client)  # once per cluster
