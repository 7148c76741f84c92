"""The engine against plain pandas computations, and the properties it promises: missing stays
missing, results do not depend on input row order, saved features compute the same."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys

import numpy as np
import pandas as pd
import polars as pl
import pytest

import featurekit as fk
from featurekit.demo import retail_entityset
from featurekit.demo_data import retail_tables


def customer_transactions(tables) -> pd.DataFrame:
    return tables["transactions"].merge(tables["sessions"][["session_id", "customer_id"]], on="session_id")


def test_aggregations_match_pandas(tables, retail):
    matrix, _ = fk.dfs(retail, target="customers", max_depth=2)
    rows = customer_transactions(tables).groupby("customer_id")["amount"]
    expected = pd.DataFrame({
        "SUM(transactions.amount)": rows.sum(),
        "MEAN(transactions.amount)": rows.mean(),
        "STD(transactions.amount)": rows.std(ddof=1),
        "MAX(transactions.amount)": rows.max(),
        "SKEW(transactions.amount)": rows.skew(),
    })
    for column in expected:
        np.testing.assert_allclose(matrix.loc[expected.index, column], expected[column], rtol=1e-9,
                                   err_msg=column)
    per_session = tables["transactions"].groupby("session_id")["amount"].sum()
    sessions = tables["sessions"].assign(total=lambda s: s["session_id"].map(per_session).fillna(0))
    mean_of_sums = sessions.groupby("customer_id")["total"].mean()
    np.testing.assert_allclose(matrix.loc[mean_of_sums.index, "MEAN(sessions.SUM(transactions.amount))"],
                               mean_of_sums, rtol=1e-9)
    device_mode = tables["sessions"].groupby("customer_id")["device"].agg(lambda s: s.mode().iloc[0])
    assert (matrix.loc[device_mode.index, "MODE(sessions.device)"].astype(str) == device_mode).all()


def test_instances_without_children_get_zero_counts_and_missing_statistics(tables, retail):
    matrix, _ = fk.dfs(retail, target="customers")
    lonely = sorted(set(tables["customers"]["customer_id"]) - set(tables["sessions"]["customer_id"]))
    assert lonely, "the demo data should contain customers without sessions"
    row = matrix.loc[lonely[0]]
    assert row["COUNT(sessions)"] == 0 and row["SUM(transactions.amount)"] == 0
    for column in ["MEAN(transactions.amount)", "STD(transactions.amount)", "MAX(transactions.amount)",
                   "SKEW(transactions.amount)", "NUM_UNIQUE(sessions.device)"]:
        assert pd.isna(row[column]), column
    assert pd.isna(row["MODE(sessions.device)"])


def test_missing_values_stay_missing():
    parents = pd.DataFrame({"pid": [1, 2]})
    children = pd.DataFrame({"cid": [1, 2, 3], "pid": [1, 2, 2], "x": [np.nan, 1.0, np.nan]})
    es = (fk.EntitySet().add_table("p", parents, index="pid").add_table("c", children, index="cid")
          .add_relationship(parent="p", parent_key="pid", child="c", child_key="pid"))
    matrix, _ = fk.dfs(es, target="p", agg_primitives=["mean", "max", "sum"], trans_primitives=[])
    assert pd.isna(matrix.loc[1, "MEAN(c.x)"]) and pd.isna(matrix.loc[1, "MAX(c.x)"])
    assert matrix.loc[2, "MEAN(c.x)"] == 1.0


def test_results_do_not_depend_on_input_row_order(tables):
    expected, features = fk.dfs(retail_entityset(tables), target="customers",
                                agg_primitives=["mean", "mode", "first", "last", "n_most_common", "trend"],
                                trans_primitives=["cum_sum", "diff", "day"])
    shuffled = {name: frame.sample(frac=1.0, random_state=3) for name, frame in tables.items()}
    matrix = fk.compute(retail_entityset(shuffled), features)
    pd.testing.assert_frame_equal(matrix, expected)


def test_thread_count_does_not_change_results(tmp_path):
    script = (
        "import sys, featurekit as fk\n"
        "es = fk.demo.load_retail(60, seed=5)\n"
        "matrix, _ = fk.dfs(es, target='sessions', return_type='polars')\n"
        "matrix.write_parquet(sys.argv[1])\n"
    )
    outputs = []
    for threads in ("1", "2"):
        out = tmp_path / f"threads{threads}.parquet"
        env = {**os.environ, "POLARS_MAX_THREADS": threads, "NUMBA_NUM_THREADS": threads}
        subprocess.run([sys.executable, "-c", script, str(out)], check=True, env=env)
        outputs.append(pl.read_parquet(out))
    assert outputs[0].equals(outputs[1])


def test_saved_features_compute_the_same_on_a_new_entityset(tables, tmp_path):
    matrix, features = fk.dfs(retail_entityset(tables), target="customers")
    path = tmp_path / "features.json"
    fk.save_features(features, path)
    loaded = fk.load_features(path)
    assert [f.name for f in loaded] == [f.name for f in features]
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind
    same = fk.compute(retail_entityset(tables), loaded)
    pd.testing.assert_frame_equal(same, matrix)
    other = retail_tables(15, seed=99)
    fresh = fk.compute(retail_entityset(other), loaded)
    assert len(fresh) == 15 and list(fresh.columns) == list(matrix.columns)


def test_features_pickle_round_trip(retail):
    features = fk.plan(retail, target="customers")
    restored = pickle.loads(pickle.dumps(features))
    assert [f.name for f in restored] == [f.name for f in features]
    pd.testing.assert_frame_equal(fk.compute(retail, restored), fk.compute(retail, features))


def test_features_on_an_entityset_lacking_a_column_are_refused(tables, retail):
    features = fk.plan(retail, target="customers")
    poorer = {**tables, "transactions": tables["transactions"].drop(columns="amount")}
    with pytest.raises(fk.SchemaError, match="'transactions'.*'amount'.*Fix"):
        fk.compute(retail_entityset(poorer), features)


def test_include_exclude_and_max_features(retail):
    everything = fk.plan(retail, target="customers")
    only_std = fk.plan(retail, target="customers", include=["STD(*"])
    assert only_std and all(f.name.startswith("STD(") for f in only_std)
    without = fk.plan(retail, target="customers", exclude=["*SKEW*"])
    assert len(without) == len(everything) - sum("SKEW" in f.name for f in everything)
    assert [f.name for f in fk.plan(retail, target="customers", max_features=5)] == [
        f.name for f in everything[:5]]
    assert len(fk.plan(retail, target="customers", max_features=-1)) == len(everything)
    with pytest.raises(fk.PlanError, match=r"max_features=0.*Fix: pass max_features=None"):
        fk.plan(retail, target="customers", max_features=0)


def test_ignore_columns_and_tables(retail):
    names = [f.name for f in fk.plan(retail, target="customers", ignore_columns={"transactions": ["amount"]})]
    assert not any("amount" in n for n in names)
    names = [f.name for f in fk.plan(retail, target="customers", ignore_tables=["transactions"])]
    assert not any("transactions" in n for n in names) and "COUNT(sessions)" in names
    with pytest.raises(fk.FeaturekitError, match="'customers'.*'nope'"):
        fk.plan(retail, target="customers", ignore_columns={"customers": ["nope"]})


def test_n_most_common_outputs_and_time_features(tables, retail):
    import datetime as dt

    cutoff = dt.datetime(2030, 1, 1)
    matrix, _ = fk.dfs(retail, target="customers", agg_primitives=["n_most_common", "time_since_last"],
                       trans_primitives=[], cutoff_time=cutoff, max_depth=1)
    devices = tables["sessions"].groupby("customer_id")["device"].value_counts()
    for customer in matrix.index[:10]:
        if customer not in devices.index.get_level_values(0):
            assert pd.isna(matrix.loc[customer, "N_MOST_COMMON(sessions.device)[0]"])
            continue
        counts = devices.loc[customer]
        assert counts[matrix.loc[customer, "N_MOST_COMMON(sessions.device)[0]"]] == counts.max()
    last = tables["sessions"].groupby("customer_id")["session_start"].max()
    expected = (pd.Timestamp(cutoff) - last).dt.total_seconds()
    np.testing.assert_allclose(matrix.loc[last.index, "TIME_SINCE_LAST(sessions.session_start)"], expected)


def test_string_and_sparse_keys_take_the_join_path_and_agree_with_pandas():
    parents = pd.DataFrame({"pid": ["a", "b", "c"], "big": [10**12, 5, 3 * 10**12]})
    children = pd.DataFrame({"cid": [10**12, 7, 3, 2 * 10**12], "pid": ["a", "a", "b", None],
                             "x": [1.0, 2.0, 5.0, 7.0], "colour": ["red", "red", "blue", "red"]})
    grandchildren = pd.DataFrame({"gid": [1, 2, 3, 4], "cid": [10**12, 10**12, 7, 3],
                                  "y": [1.0, 3.0, 4.0, 8.0]})
    es = (fk.EntitySet().add_table("p", parents, index="pid").add_table("c", children, index="cid")
          .add_table("g", grandchildren, index="gid")
          .add_relationship(parent="p", parent_key="pid", child="c", child_key="pid")
          .add_relationship(parent="c", parent_key="cid", child="g", child_key="cid"))
    matrix, _ = fk.dfs(es, target="p", agg_primitives=["sum", "count", "mode"], trans_primitives=[])
    assert matrix.loc["a", "SUM(c.x)"] == 3.0 and matrix.loc["c", "COUNT(c)"] == 0
    assert matrix.loc["a", "SUM(g.y)"] == 8.0 and matrix.loc["b", "SUM(g.y)"] == 8.0
    assert matrix.loc["a", "MODE(c.colour)"] == "red" and pd.isna(matrix.loc["c", "MODE(c.colour)"])
    grand, _ = fk.dfs(es, target="g", agg_primitives=[], trans_primitives=[])
    assert grand.loc[4, "c.p.big"] == 5 and grand.loc[1, "c.p.big"] == 10**12


def test_paths_on_two_threads_give_what_one_after_another_gives(retail, monkeypatch):
    """A table's relationship paths may be computed concurrently; the matrix must not change."""
    from featurekit.engine import lazy_plan

    features = fk.plan(retail, target="customers", max_depth=2)
    cutoffs = pd.DataFrame({"customer_id": [1, 2, 2, 3], "time": pd.to_datetime(
        ["2020-06-01", "2020-06-01", "2021-03-01", "2021-09-01"])})
    calls = []
    concurrent = lazy_plan._PlanBuilder._join_paths_in_parallel
    monkeypatch.setattr(lazy_plan._PlanBuilder, "_join_paths_in_parallel",
                        lambda *args: calls.append(1) or concurrent(*args))
    monkeypatch.setattr(lazy_plan, "PARALLEL_PATHS_MIN_ROWS", 0)
    monkeypatch.setattr(lazy_plan, "PARALLEL_PATHS_MAX_ROWS", 10**9)
    together = fk.compute(retail, features), fk.compute(retail, features, cutoff_time=cutoffs)
    # numba's omp/tbb layers allow concurrent kernels (then the threads must have run)
    assert len(calls) >= 2 or not lazy_plan.kernels.concurrent_calls_are_safe()
    monkeypatch.setattr(lazy_plan, "PARALLEL_PATHS_MAX_ROWS", 0)
    calls.clear()
    apart = fk.compute(retail, features), fk.compute(retail, features, cutoff_time=cutoffs)
    assert not calls
    for one, other in zip(together, apart, strict=True):
        pd.testing.assert_frame_equal(one, other)


@pytest.mark.parametrize("grouped", [True, False], ids=["rows-by-key", "rows-shuffled"])
def test_kernels_working_a_few_rows_at_a_time_agree_with_polars(grouped, monkeypatch):
    """Group-by kernels convert a column a chunk of slots at a time; with chunks of a few rows
    (many chunks, slots cut at chunk ends) they still match polars' own group_by."""
    from featurekit.primitives import kernels

    monkeypatch.setattr(kernels, "CHUNK_ROWS", 7)
    rng = np.random.default_rng(3)
    n = 400
    keys = np.sort(rng.integers(0, 60, n)) if grouped else rng.integers(0, 60, n)
    amount = rng.normal(size=n).round(2)
    frame = pl.DataFrame({
        "key": keys,
        "amount": pl.Series(amount).scatter(rng.choice(n, 40, replace=False), None),
        "count": pl.Series(rng.integers(-5, 5, n)).scatter(rng.choice(n, 30, replace=False), None),
        "word": pl.Series(rng.choice(["b", "a", "c", "d"], n)).scatter(rng.choice(n, 30, replace=False), None),
    }).with_columns(pl.col("word").cast(pl.Categorical).alias("category"))
    dense = kernels.dense_keys(frame["key"])
    assert len(dense.chunks()) > 10
    expected = frame.group_by("key").agg(
        pl.col("amount").sum().alias("sum"), pl.col("amount").mean().alias("mean"),
        pl.col("amount").std().alias("std"), pl.col("amount").max().alias("max"),
        pl.col("count").cast(pl.Float64).mean().alias("count_mean"),
        pl.col("word").drop_nulls().n_unique().alias("nunique"),
    ).sort("key")
    slots = expected["key"].to_numpy()
    moments = kernels.group_moments(dense, frame["amount"], {"sum", "mean", "std", "max"})
    for stat in ("sum", "mean", "std", "max"):
        np.testing.assert_allclose(moments[stat][slots], expected[stat].fill_null(np.nan).to_numpy(),
                                   rtol=1e-12, err_msg=stat)
    np.testing.assert_allclose(kernels.group_moments(dense, frame["count"], {"mean"})["mean"][slots],
                               expected["count_mean"].fill_null(np.nan).to_numpy(), rtol=1e-12)
    for column in ("word", "category"):
        counted = kernels.group_categories(dense, frame[column], {"mode", "nunique"})
        assert counted["nunique"].gather(slots).to_list() == expected["nunique"].to_list()
        for key, mode in zip(slots, counted["mode"].gather(slots).cast(pl.String), strict=True):
            words = frame.filter(pl.col("key") == key)["word"].drop_nulls().value_counts()
            top = words.filter(pl.col("count") == pl.col("count").max())["word"].sort()
            assert mode == (top[0] if top.len() else None), (column, key)


def test_matrix_is_the_same_when_kernels_work_a_few_rows_at_a_time(retail, monkeypatch):
    from featurekit.primitives import kernels

    features = fk.plan(retail, target="customers", max_depth=2)
    whole = fk.compute(retail, features)
    monkeypatch.setattr(kernels, "CHUNK_ROWS", 5)
    pd.testing.assert_frame_equal(fk.compute(retail, features), whole)


def test_integer_features_come_back_as_int64_whatever_they_were_computed_in(retail):
    """Date parts are computed in polars' narrow integers (a byte a row over a long child
    table); the matrix holds every integer feature as Int64, as Featuretools does."""
    matrix, _ = fk.dfs(retail, target="sessions", max_depth=2, return_type="polars")
    integers = {name: dtype for name, dtype in matrix.schema.items() if dtype.is_integer()}
    assert "DAY(session_start)" in integers and "customers.YEAR(join_date)" in integers
    assert set(integers.values()) == {pl.Int64}


def test_mode_and_distinct_count_of_narrow_integers_spanning_their_whole_range():
    from featurekit.primitives import kernels

    values = pl.Series([-128, 127, 127, None, 0, -128, -128], dtype=pl.Int8)
    keys = kernels.dense_keys(pl.Series([0, 0, 0, 0, 1, 1, 1]))
    counted = kernels.group_categories(keys, values, {"mode", "nunique"})
    assert counted["mode"].to_list() == [127, -128]
    assert counted["nunique"].to_list() == [2, 2]


def test_freed_heap_is_handed_back_after_large_steps_on_glibc():
    """On glibc the engine trims the C heap after each step over a million rows; the call is
    looked up once and must be found there (elsewhere it is skipped, never an error)."""
    import platform

    from featurekit import _memory

    if sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc":
        assert callable(_memory._malloc_trim())
    assert _memory.release_freed_memory(_memory.LARGE_STEP_ROWS) is None
    assert _memory.release_freed_memory(0) is None


@pytest.mark.parametrize("column", [
    pl.Series(["b", None, "a", "c", "a", None], dtype=pl.Categorical),
    pl.Series(["z", "x", None, "y"], dtype=pl.Enum(["z", "y", "x"])),  # declared order is not sorted
    pl.Series([30, None, -4, 30, 7], dtype=pl.Int8),
    pl.Series([None, None], dtype=pl.Int64),
    pl.Series([10**12, None, 5, -(10**12), 10**12]),  # keys too spread for a lookup table
    pl.Series(["q", "p", None, "q"]),
    pl.Series([True, None, False]),
])
def test_categorical_features_reach_pandas_with_their_present_values_sorted(column):
    """What ``astype("category")`` of the same values gives: the categories are the present
    values sorted (integers kept integers), each row keeps its value, missing stays missing."""
    from featurekit.engine.pandas_matrix import to_pandas_matrix

    values = column.to_list()
    frame = pl.DataFrame([pl.Series("id", range(column.len())), column.alias("feature")])
    categorical = to_pandas_matrix(frame, ["id"], ["feature"], [])["feature"]
    assert list(categorical.cat.categories) == sorted({v for v in values if v is not None})
    assert categorical.isna().tolist() == [v is None for v in values]
    assert [None if pd.isna(v) else v for v in categorical.astype(object)] == values


def test_the_pandas_matrix_is_the_callers_to_write_to(retail):
    """Every column of a pandas matrix takes assignments, with and without cutoff times
    (zero-copy arrow columns would be read-only), and writing leaves the entity set alone."""
    features = fk.plan(retail, target="customers", max_depth=2)
    cutoffs = pd.DataFrame({"customer_id": [1, 2, 2], "time": pd.to_datetime(["2021-06-01", "2021-01-01", "2022-01-01"])})
    before = retail["transactions"].frame.clone()
    for matrix in (fk.compute(retail, features), fk.compute(retail, features, cutoff_time=cutoffs)):
        for position, name in enumerate(matrix.columns):
            value = matrix[name].dropna().iloc[0] if matrix[name].notna().any() else matrix[name].iloc[0]
            matrix.iloc[-1, position] = value
            assert matrix[name].iloc[-1] == value or pd.isna(value), name
    assert retail["transactions"].frame.equals(before)


@pytest.mark.parametrize("rows", [40, 70_000])  # one polars call, then numpy column by column
def test_gathering_rows_is_polars_gather(rows):
    """Missing values of a column and missing positions both give missing values; a column
    sliced off another (an offset into its buffers) is read from the right place."""
    from featurekit.primitives.kernels import gather_rows

    rng = np.random.default_rng(3)
    raw = pl.Series(rng.integers(0, 100, rows + 10))
    frame = pl.DataFrame({"text": raw.cast(pl.String), "truth": raw > 50, **{
        str(dtype): raw.cast(dtype) for dtype in (pl.Float64, pl.Float32, pl.Int8, pl.Int64, pl.UInt32)}})
    frame = pl.DataFrame([frame[name].scatter([2, 7, 11], None) for name in frame.columns]).slice(5, rows)
    positions = pl.Series(rng.integers(0, rows, rows + 20), dtype=pl.get_index_type()).scatter([0, 9], None)
    gathered = gather_rows(frame, positions)
    assert gathered.schema == frame.schema
    assert gathered.to_dict(as_series=False) == frame.select(pl.all().gather(positions)).to_dict(as_series=False)


def test_small_inputs_run_on_one_thread_and_give_what_all_threads_give(retail, monkeypatch):
    """Kernels on fewer than PARALLEL_ROWS rows take their serial variant; the matrix is the
    same whichever variant each kernel runs, with and without cutoff times."""
    import numba
    from featurekit.primitives import kernels

    before = numba.get_num_threads()
    features = fk.plan(retail, target="customers", max_depth=2)
    cutoffs = pd.DataFrame({"customer_id": retail.tables["customers"].frame["customer_id"][:40],
                            "time": pd.Timestamp("2021-06-01")})
    monkeypatch.setattr(kernels, "PARALLEL_ROWS", 1 << 62)
    serial = [fk.compute(retail, features), fk.compute(retail, features, cutoff_time=cutoffs)]
    monkeypatch.setattr(kernels, "PARALLEL_ROWS", 0)
    parallel = [fk.compute(retail, features), fk.compute(retail, features, cutoff_time=cutoffs)]
    for one, other in zip(serial, parallel, strict=True):
        pd.testing.assert_frame_equal(one, other)
    assert numba.get_num_threads() == before
