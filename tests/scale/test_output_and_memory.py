"""Output directories (atomic parts, manifest, rerun skips, another call refused), memory
planning (more partitions under a smaller limit) and the errors bad arguments get."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pandas as pd
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import featurekit as fk
import featurekit.scale.runner as runner
from featurekit.scale import plan_partitions
from featurekit.scale.memory import parse_memory_limit


@pytest.fixture(scope="module")
def retail() -> fk.EntitySet:
    return fk.demo.load_retail(n_customers=40, seed=5)


@pytest.fixture(scope="module")
def features(retail) -> list:
    return fk.plan(retail, target="customers", max_depth=2, agg_primitives=["count", "sum", "mode"],
                   trans_primitives=["month"])


def read_back(folder: Path) -> pl.DataFrame:
    return pl.read_parquet(sorted(folder.glob("part-*.parquet")))


def test_output_directory_reads_back_as_the_matrix(retail, features, tmp_path):
    folder = tmp_path / "matrix"
    returned = fk.compute(retail, features, partitions=3, output=str(folder))
    assert Path(returned) == folder
    assert sorted(p.name for p in folder.iterdir()) == [
        "manifest.json", "part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
    single = fk.compute(retail, features, return_type="polars")
    assert_frame_equal(read_back(folder), single)
    back = pd.read_parquet(folder / "part-00001.parquet")  # pandas reads a part as well
    assert list(back.columns) == single.columns


def test_output_with_a_cutoff_frame_holds_each_partitions_rows(retail, features, tmp_path):
    cutoffs = pd.DataFrame({"customer_id": [5, 1, 5, 30], "time": pd.to_datetime(
        ["2021-01-01", "2021-02-01", "2022-01-01", "2021-03-01"]), "label": [1, 2, 3, 4]})
    folder = tmp_path / "frame"
    fk.compute(retail, features, cutoff_time=cutoffs, partitions=2, output=folder)
    single = fk.compute(retail, features, cutoff_time=cutoffs, return_type="polars")
    # partition by partition (customers 1-20, then 21-40), the frame's order within each
    expected = single.with_row_index("position").sort(pl.col("customer_id") > 20, "position")
    assert_frame_equal(read_back(folder), expected.drop("position"))
    assert read_back(folder)["label"].to_list() == [1, 2, 3, 4]


def test_rerun_skips_written_partitions(retail, features, tmp_path, monkeypatch):
    folder = tmp_path / "out"
    fk.compute(retail, features, partitions=3, output=folder)
    stamps = {p.name: p.stat().st_mtime_ns for p in folder.glob("part-*")}
    calls = []
    monkeypatch.setattr(runner, "run_partition", lambda job: calls.append(job.number))
    fk.compute(retail, features, partitions=3, output=folder)
    assert calls == []
    assert stamps == {p.name: p.stat().st_mtime_ns for p in folder.glob("part-*")}


def test_a_crash_mid_run_leaves_no_half_file_and_the_rerun_completes(retail, features, tmp_path,
                                                                     monkeypatch):
    folder = tmp_path / "crash"
    original = pl.DataFrame.write_parquet
    written = []

    def failing_write(frame, target, *args, **kwargs):
        if len(written) == 2:  # the third part: half its bytes reach the disk, then a crash
            Path(target).write_bytes(b"PAR1" + b"\0" * 100)
            raise OSError("disk gone")
        written.append(target)
        return original(frame, target, *args, **kwargs)

    monkeypatch.setattr(pl.DataFrame, "write_parquet", failing_write)
    with pytest.raises(OSError, match="disk gone"):
        fk.compute(retail, features, partitions=4, output=folder)
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["manifest.json", "part-00000.parquet", "part-00001.parquet"]  # no temporary
    monkeypatch.setattr(pl.DataFrame, "write_parquet", original)
    ran = []
    real = runner.run_partition
    monkeypatch.setattr(runner, "run_partition", lambda job: ran.append(job.number) or real(job))
    fk.compute(retail, features, partitions=4, output=folder)
    assert ran == [2, 3]
    assert_frame_equal(read_back(folder), fk.compute(retail, features, return_type="polars"))


def test_another_call_into_the_same_directory_is_refused(retail, features, tmp_path):
    folder = tmp_path / "taken"
    fk.compute(retail, features, partitions=2, output=folder)
    with pytest.raises(fk.ComputeError, match="another call .*features differ"):
        fk.compute(retail, features[:-1], partitions=2, output=folder)
    with pytest.raises(fk.ComputeError, match="another call .*partitioning differ"):
        fk.compute(retail, features, partitions=3, output=folder)
    with pytest.raises(fk.ComputeError, match="another call .*data or arguments differ"):
        fk.compute(retail, features, partitions=2, output=folder, cutoff_time="2021-01-01")
    assert sorted(p.name for p in folder.glob("part-*")) == ["part-00000.parquet",
                                                             "part-00001.parquet"]


def test_output_refuses_a_file_and_parts_of_unknown_origin(retail, features, tmp_path):
    afile = tmp_path / "file.txt"
    afile.write_text("x")
    with pytest.raises(fk.ComputeError, match="is a file, not a directory"):
        fk.compute(retail, features, partitions=2, output=afile)
    stray = tmp_path / "stray"
    stray.mkdir()
    (stray / "part-00000.parquet").write_bytes(b"")
    with pytest.raises(fk.ComputeError, match="no manifest.json"):
        fk.compute(retail, features, partitions=2, output=stray)


def test_smaller_memory_limits_make_more_partitions(retail, features):
    counts = []
    for limit in (10**9, 5 * 10**5, 2 * 10**5, 10**5):
        plan = plan_partitions(retail, features, memory_limit=limit)
        counts.append(len(plan.jobs))
        if len(plan.jobs) < retail["customers"].frame.height:  # not yet one instance each
            assert all(plan.job_bytes(job) <= limit for job in plan.jobs)
    assert counts == sorted(counts) and counts[0] == 1 and counts[-1] > counts[1] > 1


def test_memory_limit_alone_partitions_automatically(retail, features):
    single = fk.compute(retail, features)
    parted = fk.compute(retail, features, memory_limit="300kB")
    pd.testing.assert_frame_equal(single, parted, check_exact=True)


@pytest.mark.parametrize(("text", "size"), [("2GiB", 2 * 2**30), ("2GB", 2 * 10**9), ("2G", 2 * 10**9),
                                            ("1.5 MiB", int(1.5 * 2**20)), ("512", 512), (4096, 4096),
                                            ("10kb", 10_000)])
def test_memory_limits_read_as_dask_writes_them(text, size):
    assert parse_memory_limit(text) == size


@pytest.mark.parametrize("value", ["lots", "2XB", "-5GB", 0, -1, True, None, "GiB", [1]])
def test_unreadable_memory_limits_are_refused(retail, features, value):
    with pytest.raises(fk.ComputeError, match="memory_limit=.* is not a size. Fix"):
        plan_partitions(retail, features, memory_limit=value) if value is not None \
            else parse_memory_limit(value)


@pytest.mark.parametrize("value", ["many", 0, -2, True, 2.5, "4"])
def test_unknown_partitions_values_are_refused(retail, features, value):
    with pytest.raises(fk.ComputeError, match=r"partitions=.* is not a choice. Fix: pass partitions='auto'"):
        fk.compute(retail, features, partitions=value)


def test_a_limit_below_the_tables_read_in_full_is_refused(retail):
    features = fk.plan(retail, target="transactions", max_depth=1, agg_primitives=[],
                       trans_primitives=["cum_sum"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(fk.ComputeError, match="below what every partition needs.*transactions"):
            plan_partitions(retail, features, memory_limit=1000)


def test_more_partitions_than_instances_gives_one_instance_each(retail, features):
    plan = plan_partitions(retail, features, partitions=1000)
    assert len(plan.jobs) == retail["customers"].frame.height
    assert all(job.instances.len() == 1 for job in plan.jobs)


def test_the_callers_frames_are_untouched(tables):
    es = fk.demo.retail_entityset(tables)
    before = {name: frame.copy() for name, frame in tables.items()}
    cutoffs = pd.DataFrame({"customer_id": [1, 2], "time": pd.to_datetime(["2021-01-01"] * 2)})
    kept = cutoffs.copy()
    fk.dfs(es, target="customers", cutoff_time=cutoffs, partitions=2)
    for name, frame in tables.items():
        pd.testing.assert_frame_equal(frame, before[name])
    pd.testing.assert_frame_equal(cutoffs, kept)
    assert os.environ.get("NUMBA_CACHE_DIR")  # the suite's cache (conftest), not the user's


def test_a_rerun_in_a_new_process_skips_the_written_parts(tmp_path, monkeypatch):
    """The manifest's fingerprint names the call, not the process: categorical codes and
    hash seeds of another run give the same one."""
    import subprocess
    import sys

    folder = tmp_path / "shared"
    script = (
        "import polars as pl, featurekit as fk\n"
        "pl.Series(['zz', 'yy'], dtype=pl.Categorical)  # other categorical codes first\n"
        "es = fk.demo.load_retail(n_customers=30, seed=1)\n"
        "features = fk.plan(es, target='customers', max_depth=1)\n"
        f"fk.compute(es, features, partitions=2, output={str(folder)!r})\n")
    subprocess.run([sys.executable, "-c", script], check=True, env={**os.environ,
                   "PYTHONPATH": str(Path(fk.__file__).resolve().parents[1])})
    es = fk.demo.load_retail(n_customers=30, seed=1)
    features = fk.plan(es, target="customers", max_depth=1)
    calls = []
    monkeypatch.setattr(runner, "run_partition", lambda job: calls.append(job.number))
    fk.compute(es, features, partitions=2, output=folder)
    assert calls == []
    assert_frame_equal(read_back(folder), fk.compute(es, features, return_type="polars"))


WRONG_KINDS = [0, -1, 1.5, float("nan"), float("inf"), "", "x", "2d", [], [1], {}, {"a": 1}, True,
               pd.Timestamp("2021-01-01"), object(), b"x", ("a",), pl.DataFrame(), pd.DataFrame()]


@pytest.mark.parametrize("value", WRONG_KINDS, ids=repr)
@pytest.mark.parametrize("argument", ["partitions", "memory_limit", "output"])
def test_wrong_kinds_of_arguments_get_featurekit_errors(retail, features, argument, value,
                                                        tmp_path, monkeypatch):
    """Every wrong kind of value is refused with a featurekit error (a number of bytes such as
    1.5 is a size, and any string a directory name, so those pass)."""
    monkeypatch.chdir(tmp_path)
    accepted = {"memory_limit": [1.5], "output": ["x", "2d"]}.get(argument, [])
    if any(value is good or isinstance(value, type(good)) and value == good for good in accepted):
        return
    with pytest.raises(fk.FeaturekitError):
        fk.compute(retail, features, **{argument: value})
    assert not any(tmp_path.iterdir())  # nothing written


def test_numpy_integers_are_counts_and_sizes(retail, features):
    import numpy as np

    assert len(plan_partitions(retail, features, partitions=np.int64(3)).jobs) == 3
    assert plan_partitions(retail, features, partitions=2, memory_limit=np.int64(10**9)).memory_limit == 10**9


def test_progress_counts_partitions_on_standard_error(retail, features, capsys, monkeypatch):
    import featurekit.engine.progress as progress

    monkeypatch.setattr(progress, "SHOW_AFTER_SECONDS", 0)
    fk.compute(retail, features, partitions=3, verbose=True)
    captured = capsys.readouterr()
    assert "featurekit partitions" in captured.err and "0/3 [" in captured.err  # 3 partitions
    assert captured.out == ""
    fk.compute(retail, features, partitions=3, verbose=False)
    assert capsys.readouterr().err == ""
