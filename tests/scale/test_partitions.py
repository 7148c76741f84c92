"""Partitioned computation gives the single-process matrix: every feature kind, with and
without cutoffs and training windows, on in-memory frames and on lazy parquet tables."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal as assert_polars_equal

import featurekit as fk
from featurekit.demo import RETAIL_KEYS, RETAIL_RELATIONSHIPS
from featurekit.demo_data import RETAIL_TYPES, retail_tables
from featurekit.scale import WholeTableWarning, plan_partitions, run_partition

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from diamond_data import RELATIONSHIPS, SCHEMA, diamond_tables  # noqa: E402

AGGREGATIONS = ["count", "sum", "mean", "std", "max", "min", "mode", "num_unique", "skew",
                "percent_true", "last", "first", "trend", "median", "date_first_event"]
TRANSFORMS = ["month", "weekday", "is_weekend", "absolute"]


def assert_same_matrix(single, parted, float_rtol: float = 0.0) -> None:
    """Frames equal in rows, order, index, names, dtypes and values; floats exactly unless
    ``float_rtol`` says otherwise (then everything else still exactly; the same bound
    applies absolutely, for values that cancel to about zero, such as a SKEW of 1e-16)."""
    if isinstance(single, pd.DataFrame):
        assert isinstance(parted, pd.DataFrame)
        assert list(parted.columns) == list(single.columns)
        assert (parted.dtypes == single.dtypes).all()
        pd.testing.assert_index_equal(parted.index, single.index, exact=True)
        floats = [c for c in single.columns if single[c].dtype.kind == "f"] if float_rtol else []
        others = [c for c in single.columns if c not in floats]
        pd.testing.assert_frame_equal(single[others], parted[others], check_exact=True)
        for column in floats:
            pd.testing.assert_series_equal(single[column], parted[column], check_exact=False,
                                           rtol=float_rtol, atol=float_rtol)
    else:
        assert_polars_equal(single, parted, check_exact=not float_rtol,
                            **({"rel_tol": float_rtol, "abs_tol": float_rtol} if float_rtol else {}))


@pytest.fixture(scope="module")
def retail() -> fk.EntitySet:
    es = fk.demo.load_retail(n_customers=60, seed=3)
    es.add_interesting_values(table="sessions", values={"device": ["mobile", "tablet"]})
    return es


def features_of(es: fk.EntitySet, target: str) -> list:
    """Every kind of feature, datetime outputs included (the planner only stacks on them)."""
    features = fk.plan(es, target=target, max_depth=2, agg_primitives=AGGREGATIONS,
                       trans_primitives=TRANSFORMS, where_primitives=["count", "sum"])
    dates = {f.inputs[0].unique_name: f.inputs[0] for f in features
             if f.name.startswith("MONTH(DATE_FIRST_EVENT")}
    if target == "sessions":
        birthday = fk.IdentityFeature("customers", "birthday", es["customers"].schemas["birthday"])
        dates["birthday"] = fk.DirectFeature(birthday, es.parent_relationships("sessions")[0])
    return features + list(dates.values())


def cutoff_frame(es: fk.EntitySet, target: str, per_instance: int, seed: int) -> pd.DataFrame:
    """Several cutoff rows per instance, in a shuffled order, with a label column."""
    rng = np.random.default_rng(seed)
    keys = es[target].frame[es[target].index].to_numpy()
    days = rng.integers(0, 900, len(keys) * per_instance)
    frame = pd.DataFrame({es[target].index: np.repeat(keys, per_instance),
                          "time": pd.Timestamp("2020-06-01") + pd.to_timedelta(days, unit="D"),
                          "label": rng.random(len(keys) * per_instance)})
    frame = frame.drop_duplicates([es[target].index, "time"])
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)


@pytest.mark.parametrize("target", ["customers", "sessions", "transactions"])
@pytest.mark.parametrize("partitions", [1, 3, 7])
def test_without_cutoffs_every_feature_kind(retail, target, partitions):
    features = features_of(retail, target)
    kinds = {type(node).__name__ for f in features for node in [f, *f.dependencies()]}
    assert {"AggregationFeature", "TransformFeature"} <= kinds
    assert "DirectFeature" in kinds or target == "customers"
    single = fk.compute(retail, features)
    parted = fk.compute(retail, features, partitions=partitions)
    assert_same_matrix(single, parted)


def test_categorical_datetime_and_where_outputs_are_among_those_compared(retail):
    features = features_of(retail, "sessions")
    matrix = fk.compute(retail, features, partitions=4)
    kinds = {str(dtype) for dtype in matrix.dtypes}
    assert "category" in kinds and any(k.startswith("datetime64") for k in kinds)
    assert any("WHERE" in c for c in matrix.columns)
    assert any(c.startswith("customers.") for c in matrix.columns)  # through a parent


@pytest.mark.parametrize("target", ["customers", "sessions"])
@pytest.mark.parametrize("window", [None, "90d"])
def test_one_cutoff_with_and_without_training_window(retail, target, window):
    features = features_of(retail, target)
    single = fk.compute(retail, features, cutoff_time="2021-05-01", training_window=window)
    parted = fk.compute(retail, features, cutoff_time="2021-05-01", training_window=window,
                        partitions=3)
    assert_same_matrix(single, parted)


@pytest.mark.parametrize("target", ["customers", "sessions"])
@pytest.mark.parametrize("window", [None, "120d"])
def test_cutoff_frame_with_several_rows_per_instance(retail, target, window):
    """Rows keep the frame's order and labels; floats agree to the last few bits only: the
    single process's own cumulative sums over a cutoff frame depend on the frame's other
    instances at that level (a partition holds fewer of them)."""
    features = features_of(retail, target)
    cutoffs = cutoff_frame(retail, target, per_instance=3, seed=11)
    single = fk.compute(retail, features, cutoff_time=cutoffs, training_window=window)
    parted = fk.compute(retail, features, cutoff_time=cutoffs, training_window=window,
                        partitions=4)
    assert_same_matrix(single, parted)
    assert parted["label"].tolist() == cutoffs["label"].tolist()


def test_every_cutoff_row_of_an_instance_stays_in_its_partition(retail):
    features = features_of(retail, "customers")[:10]
    cutoffs = cutoff_frame(retail, "customers", per_instance=4, seed=2)
    plan = plan_partitions(retail, features, cutoff_time=cutoffs, partitions=5)
    seen: dict[int, int] = {}
    for job in plan.jobs:
        for key in job.cutoff_rows["customer_id"].unique().to_list():
            assert seen.setdefault(key, job.number) == job.number
        assert job.cutoff_rows["customer_id"].is_in(job.instances.implode()).all()
    assert sum(job.rows for job in plan.jobs) == len(cutoffs)
    # instances in the index's sorted order, partition after partition
    order = pl.concat([job.instances for job in plan.jobs])
    assert order.is_sorted() and order.len() == retail["customers"].frame.height


def test_partitions_read_only_the_rows_their_instances_reach(retail):
    """An aggregation's partition holds the children of its instances and nothing more."""
    features = fk.plan(retail, target="customers", max_depth=2, agg_primitives=["sum"],
                       trans_primitives=[])
    plan = plan_partitions(retail, features, partitions=3)
    sessions = retail["sessions"].frame
    for job in plan.jobs:
        expected = sessions.filter(pl.col("customer_id").is_in(job.instances.implode()))
        assert job.tables["sessions"]["session_id"].sort().to_list() == \
            expected["session_id"].sort().to_list()
        assert set(job.tables["transactions"].columns) <= {
            "transaction_id", "session_id", "transaction_time", "product_id", "amount"}
    reached = sum(job.tables["transactions"].height for job in plan.jobs)
    assert reached == retail["transactions"].frame.filter(
        pl.col("session_id").is_in(sessions["session_id"].implode())).height


def test_a_parents_aggregation_reads_its_children_outside_the_partition(retail):
    """customers.SUM(sessions...) of a session needs its customer's other sessions too."""
    features = [f for f in features_of(retail, "sessions") if f.name.startswith("customers.")]
    assert any("(" in f.name for f in features)
    single = fk.compute(retail, features)
    assert_same_matrix(single, fk.compute(retail, features, partitions=6))


def test_table_wide_transforms_warn_once_and_read_the_whole_table(retail):
    features = fk.plan(retail, target="transactions", max_depth=1, agg_primitives=[],
                       trans_primitives=["cum_sum", "percentile", "month"])
    wide = [f.name for f in features if f.name.startswith(("CUM_SUM", "PERCENTILE"))]
    assert wide
    single = fk.compute(retail, features, return_type="polars")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        parted = fk.compute(retail, features, return_type="polars", partitions=3)
    whole = [w for w in caught if issubclass(w.category, WholeTableWarning)]
    assert len(whole) == 1 and "'transactions'" in str(whole[0].message)
    assert all(name in str(whole[0].message) for name in wide)
    assert_same_matrix(single, parted)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # one partition: nothing is read more than once
        assert_same_matrix(single, fk.compute(retail, features, return_type="polars", partitions=1))


def test_dfs_passes_partitions_through(retail):
    single, features = fk.dfs(retail, target="customers", max_depth=1)
    parted, same = fk.dfs(retail, target="customers", max_depth=1, partitions=2)
    assert [f.name for f in same] == [f.name for f in features]
    assert_same_matrix(single, parted)


@pytest.mark.parametrize("kind", ["polars", "pyarrow"])
def test_the_callers_frame_kind_comes_back(retail, kind):
    features = features_of(retail, "customers")
    single = fk.compute(retail, features, return_type=kind)
    parted = fk.compute(retail, features, return_type=kind, partitions=3)
    if kind == "pyarrow":
        assert parted.equals(single) and parted.schema == single.schema
    else:
        assert_same_matrix(single, parted)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(partitions=st.integers(1, 70), customers=st.integers(1, 25), per_instance=st.integers(0, 3))
def test_any_partition_count_gives_the_same_matrix(partitions, customers, per_instance):
    es = fk.demo.load_retail(n_customers=customers, seed=customers)
    features = fk.plan(es, target="customers", max_depth=2, agg_primitives=["count", "sum", "mode", "last"],
                       trans_primitives=["month"])
    cutoffs = cutoff_frame(es, "customers", per_instance, seed=partitions) if per_instance else None
    single = fk.compute(es, features, cutoff_time=cutoffs)
    parted = fk.compute(es, features, cutoff_time=cutoffs, partitions=partitions)
    assert_same_matrix(single, parted)


# ----------------------------------------------------------------- the diamond schema

@pytest.fixture(scope="module")
def diamond() -> fk.EntitySet:
    tables = diamond_tables(orders=300, seed=5)
    es = fk.EntitySet("diamond")
    for name, (index, time_index, types) in SCHEMA.items():
        es.add_table(name, tables[name], index=index, time_index=time_index, types=types)
    for parent, parent_key, child, child_key in RELATIONSHIPS:
        es.add_relationship(parent, parent_key, child, child_key)
    return es


@pytest.mark.parametrize("target", ["nation", "customer", "lineitem"])
@pytest.mark.parametrize("cutoff", [None, "1995-01-01"])
def test_diamond_two_paths_and_parents_of_parents(diamond, target, cutoff):
    """Also with transforms reading whole tables and, for customers, a cutoff frame."""
    features = fk.plan(diamond, target=target, max_depth=2 if target != "lineitem" else 4,
                       agg_primitives=["count", "sum", "mean", "mode"],
                       trans_primitives=["month"], max_features=400)
    if target == "lineitem":  # direct features through several parents
        assert any(f.name.startswith("orders.customer.nation.") for f in features)
    if target == "nation":
        assert any("customer.orders.lineitem" in f.name for f in features)
    single = fk.compute(diamond, features, cutoff_time=cutoff)
    assert_same_matrix(single, fk.compute(diamond, features, cutoff_time=cutoff, partitions=3))


def test_diamond_with_a_cutoff_frame_and_whole_table_transforms(diamond):
    features = fk.plan(diamond, target="customer", max_depth=2,
                       trans_primitives=["month", "cum_sum", "percentile"])
    keys = diamond["customer"].frame["c_custkey"].to_numpy()
    days = np.random.default_rng(1).integers(0, 2000, 2 * len(keys))
    cutoffs = pd.DataFrame({"c_custkey": np.repeat(keys, 2),
                            "time": pd.Timestamp("1993-01-01") + pd.to_timedelta(days, unit="D")})
    cutoffs = cutoffs.drop_duplicates(["c_custkey", "time"])
    single = fk.compute(diamond, features, cutoff_time=cutoffs, training_window="400d")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WholeTableWarning)
        parted = fk.compute(diamond, features, cutoff_time=cutoffs, training_window="400d",
                            partitions=3)
    assert_same_matrix(single, parted)


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31), share=st.floats(0.05, 0.95),
       window=st.sampled_from([None, "400d"]), sweep=st.booleans())
def test_an_instances_features_never_depend_on_the_others_asked_with_it(diamond, seed, share,
                                                                        window, sweep):
    """Leave any instances out of a cutoff frame: the rows left are bit for bit the rows of
    the whole frame (what makes partitions equal the single call), on the diamond schema,
    with whole-table transforms, and whether aggregations sweep or walk down."""
    features = fk.plan(diamond, target="customer", max_depth=2,
                       trans_primitives=["month", "cum_sum", "percentile"])
    keys = diamond["customer"].frame["c_custkey"].to_numpy()
    rng = np.random.default_rng(seed)
    cutoffs = pd.DataFrame({"c_custkey": np.repeat(keys, 3), "time": pd.Timestamp(
        "1993-01-01") + pd.to_timedelta(rng.integers(0, 2000, 3 * len(keys)), unit="D")})
    cutoffs = cutoffs.drop_duplicates(["c_custkey", "time"]).reset_index(drop=True)
    kept = rng.random(len(cutoffs)) < share
    kept[rng.integers(len(kept))] = True
    arguments = dict(training_window=window, sweep=sweep)
    whole = compute_per_cutoff_matrix(diamond, features, cutoffs, **arguments)
    some = compute_per_cutoff_matrix(diamond, features, cutoffs[kept], **arguments)
    assert_same_matrix(whole.filter(pl.Series(kept)), some)


def compute_per_cutoff_matrix(es: fk.EntitySet, features: list, cutoffs: pd.DataFrame,
                              training_window: str | None, sweep: bool) -> pl.DataFrame:
    """The per-cutoff engine's matrix as polars, sweeping (or not) as told."""
    from featurekit.engine import per_cutoff

    original = per_cutoff.CutoffPlanBuilder._should_sweep
    per_cutoff.CutoffPlanBuilder._should_sweep = lambda self: sweep
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", WholeTableWarning)
            return fk.compute(es, features, cutoff_time=cutoffs,
                              training_window=training_window, return_type="polars")
    finally:
        per_cutoff.CutoffPlanBuilder._should_sweep = original


# ------------------------------------------------------------------ lazy parquet tables

def write_dataset(frame: pd.DataFrame, folder: Path, files: int) -> Path:
    folder.mkdir(parents=True)
    rows = pl.from_pandas(frame)
    size = rows.height // files + 1
    for number in range(files):
        rows.slice(number * size, size).write_parquet(folder / f"chunk-{number}.parquet")
    return folder


@pytest.fixture(scope="module")
def retail_on_disk(tmp_path_factory) -> tuple[fk.EntitySet, fk.EntitySet]:
    """The same retail tables in memory and as lazy parquet datasets of several files."""
    tables = retail_tables(50, seed=9)
    root = tmp_path_factory.mktemp("retail")
    eager, lazy = fk.EntitySet("retail"), fk.EntitySet("retail")
    for name, frame in tables.items():
        index, time_index = RETAIL_KEYS[name]
        folder = write_dataset(frame, root / name, files=3)
        eager.add_table(name, pl.from_pandas(frame), index=index, time_index=time_index,
                        types=RETAIL_TYPES[name])
        source = str(folder / "*.parquet") if name == "sessions" else str(folder)  # glob or dir
        lazy.add_table(name, source, index=index, time_index=time_index,
                       types=RETAIL_TYPES[name], lazy=True)
    for relationship in RETAIL_RELATIONSHIPS:
        eager.add_relationship(*relationship)
        lazy.add_relationship(*relationship)
    return eager, lazy


def test_lazy_tables_keep_the_schemas_of_loaded_ones(retail_on_disk):
    eager, lazy = retail_on_disk
    for name in eager.tables:
        assert lazy[name].schemas == eager[name].schemas
        assert lazy[name].columns == eager[name].columns
    assert [f.name for f in fk.plan(lazy, target="customers")] == \
        [f.name for f in fk.plan(eager, target="customers")]


@pytest.mark.parametrize("target", ["customers", "transactions"])
def test_lazy_tables_without_partitions_load_the_columns_they_need(retail_on_disk, target):
    eager, lazy = retail_on_disk
    features = features_of(eager, target)
    assert_same_matrix(fk.compute(eager, features), fk.compute(lazy, features))


@pytest.mark.parametrize("target", ["customers", "sessions"])
@pytest.mark.parametrize("cutoff", [None, "2021-01-01", "frame"])
def test_lazy_tables_in_partitions(retail_on_disk, target, cutoff):
    eager, lazy = retail_on_disk
    features = features_of(eager, target)
    cutoffs = cutoff_frame(eager, target, 2, seed=4) if cutoff == "frame" else cutoff
    single = fk.compute(eager, features, cutoff_time=cutoffs, training_window="200d" if cutoffs is not None else None)
    parted = fk.compute(lazy, features, cutoff_time=cutoffs, partitions=3,
                        training_window="200d" if cutoffs is not None else None)
    assert_same_matrix(single, parted)


def test_lazy_partitions_read_parquet_keys_not_rows(retail_on_disk):
    """Every table lazy: a job holds its instances only and walks the parquet keys where it
    runs. Some tables in memory: the job holds their rows and the lazy tables' keys."""
    eager, lazy = retail_on_disk
    features = features_of(eager, "customers")
    plan = plan_partitions(lazy, features, partitions=2)
    assert all(job.tables is None for job in plan.jobs)
    assert_same_matrix(plan.assemble([run_partition(job) for job in plan.jobs]),
                       fk.compute(eager, features))
    mixed = fk.EntitySet("retail")
    for name in ("customers", "sessions", "transactions", "products"):
        table = (eager if name == "customers" else lazy)[name]
        source = table.frame if name == "customers" else list(table.source.paths)
        mixed.add_table(name, source, index=table.index, time_index=table.time_index,
                        types={c: s.logical_type for c, s in table.schemas.items() if c != table.index},
                        lazy=name != "customers")
    for relationship in RETAIL_RELATIONSHIPS:
        mixed.add_relationship(*relationship)
    plan = plan_partitions(mixed, features, partitions=2)
    for job in plan.jobs:
        assert isinstance(job.tables["customers"], pl.DataFrame)
        assert isinstance(job.tables["transactions"], pl.Series)
        expected = eager["sessions"].frame.filter(pl.col("customer_id").is_in(job.instances.implode()))
        assert sorted(job.tables["sessions"].to_list()) == sorted(expected["session_id"].to_list())
    assert_same_matrix(plan.assemble([run_partition(job) for job in plan.jobs]),
                       fk.compute(eager, features))


def test_steps_needing_a_lazy_tables_rows_say_so(retail_on_disk):
    _, lazy = retail_on_disk
    with pytest.raises(fk.ComputeError, match="'sessions' is a lazy parquet table.*lazy=True"):
        lazy.add_interesting_values(table="sessions")
    with pytest.raises(fk.ComputeError, match="'transactions' is a lazy parquet table"):
        lazy.normalize("transactions", "brands", "product_id")
    with pytest.raises(fk.ComputeError, match="lazy parquet table"):
        lazy["customers"].frame  # noqa: B018


def test_jobs_travel_by_pickle_and_hold_only_their_rows(retail):
    """What a worker receives: a job pickled on its own, computed there, gives its part."""
    import pickle

    features = features_of(retail, "customers")
    cutoffs = cutoff_frame(retail, "customers", per_instance=2, seed=5)
    plan = plan_partitions(retail, features, cutoff_time=cutoffs, partitions=3)
    parts = [run_partition(pickle.loads(pickle.dumps(job))) for job in plan.jobs]
    assert_same_matrix(fk.compute(retail, features, cutoff_time=cutoffs), plan.assemble(parts))
    for job in plan.jobs:  # a partition's rows, not the whole table
        assert job.tables["transactions"].height < retail["transactions"].frame.height
        assert plan.job_bytes(job) > 0


def retimed(kind: str) -> fk.EntitySet:
    """The retail tables with timezone-aware times, or with integer day steps."""
    tables = retail_tables(40, seed=4)
    for frame in tables.values():
        for column in frame.columns:
            if str(frame[column].dtype).startswith("datetime64"):
                frame[column] = (frame[column].dt.tz_localize("UTC").dt.tz_convert("America/New_York")
                                 if kind == "zoned" else frame[column].astype("int64") // 86_400 // 10**9)
    return fk.demo.retail_entityset(tables)


@pytest.mark.parametrize("kind", ["zoned", "steps"])
def test_zoned_times_and_numeric_steps(kind):
    es = retimed(kind)
    features = fk.plan(es, target="customers", max_depth=2)
    moment = pd.Timestamp("2021-05-01", tz="UTC") if kind == "zoned" else 18_900
    window = "100d" if kind == "zoned" else 100
    single = fk.compute(es, features, cutoff_time=moment, training_window=window)
    assert_same_matrix(single, fk.compute(es, features, cutoff_time=moment, training_window=window,
                                          partitions=3))
    keys = es["customers"].frame["customer_id"].to_numpy()
    start = pd.Timestamp("2021-01-01", tz="UTC") if kind == "zoned" else 18_600
    step = pd.Timedelta(days=200) if kind == "zoned" else 200
    cutoffs = pd.DataFrame({"customer_id": np.repeat(keys, 2),
                            "time": [start + step * (i % 2) for i in range(2 * len(keys))]})
    assert_same_matrix(fk.compute(es, features, cutoff_time=cutoffs),
                       fk.compute(es, features, cutoff_time=cutoffs, partitions=3))


def test_cutoff_time_itself_excluded(retail):
    """include_cutoff_time=False: rows at the cutoff count in neither computation."""
    features = features_of(retail, "customers")
    moment = retail["transactions"].frame["transaction_time"].sort()[500]  # a row's own time
    cutoffs = pd.DataFrame({"customer_id": [1, 2, 3, 30], "time": [moment] * 4})
    for cutoff in (moment, cutoffs):
        single = fk.compute(retail, features, cutoff_time=cutoff, include_cutoff_time=False)
        parted = fk.compute(retail, features, cutoff_time=cutoff, include_cutoff_time=False,
                            partitions=2)
        assert_same_matrix(single, parted)
