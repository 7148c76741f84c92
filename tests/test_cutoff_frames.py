"""Per-instance cutoff times: each row of a cutoff frame is computed as of its own moment.

Checked three ways: against the single-cutoff engine run once per distinct moment, against
plain pandas on tables filtered per cutoff row, and as a property (rows after a cutoff never
move the features of that cutoff's rows)."""

from __future__ import annotations

import datetime as dt
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_point_in_time import disturb_after

import featurekit as fk
from featurekit.demo import retail_entityset
from featurekit.demo_data import retail_tables
from featurekit.engine.cutoffs import read_cutoffs
from featurekit.engine.per_cutoff import compute_per_cutoff

CATALOGUE = json.loads((Path(__file__).parent / "data" / "featuretools_reference.json").read_text())[
    "catalogue"]
TYPES = {"customers": {"birthday": "date_of_birth"}}


def random_cutoffs(es: fk.EntitySet, target: str, rows: int, seed: int) -> pd.DataFrame:
    """Instances drawn with repeats, each at one of a few moments spread over the data."""
    rng = np.random.default_rng(seed)
    index = es[target].index
    ids = rng.choice(es[target].frame[index].to_numpy(), size=rows)
    times = pd.Timestamp("2020-03-01") + pd.to_timedelta(rng.integers(0, 4, rows) * 97, unit="D")
    return pd.DataFrame({index: ids, "time": times}).drop_duplicates([index, "time"])


@pytest.mark.parametrize(("target", "catalogue", "window", "include"), [
    ("customers", True, None, True),
    ("customers", False, "90d", False),
    ("sessions", True, "120d", True),
    ("transactions", False, None, False),
    ("products", False, "60d", True),
])
def test_each_row_equals_the_single_cutoff_engine_at_its_moment(target, catalogue, window, include):
    es = fk.demo.load_retail(n_customers=25, seed=5, types=TYPES)
    features = fk.plan(es, target=target, max_depth=2, **(CATALOGUE if catalogue else {}))
    cutoffs = random_cutoffs(es, target, 30, seed=len(target))
    options = {"training_window": window, "include_cutoff_time": include, "return_type": "pandas"}
    matrix = fk.compute(es, features, cutoff_time=cutoffs, **options)
    assert len(matrix) == len(cutoffs)
    index = es[target].index
    assert list(matrix.index.names) == [index, "time"]
    for moment, rows in cutoffs.groupby("time"):
        single = fk.compute(es, features, cutoff_time=moment, **options)
        got = matrix.xs(moment, level="time").loc[rows[index]]
        pd.testing.assert_frame_equal(got, single.loc[rows[index]], check_categorical=False,
                                      check_dtype=False)


def test_one_moment_for_all_equals_the_single_cutoff_path(retail):
    features = fk.plan(retail, target="sessions", max_depth=2)
    moment = pd.Timestamp("2020-09-15 12:00")
    ids = retail["sessions"].frame["session_id"].to_list()
    frame = pd.DataFrame({"session_id": ids, "time": moment})
    per_row = fk.compute(retail, features, cutoff_time=frame).droplevel("time")
    single = fk.compute(retail, features, cutoff_time=moment)
    pd.testing.assert_frame_equal(per_row, single, check_categorical=False)


def test_sessions_target_matches_pandas_per_cutoff_row(tables):
    """Plain pandas, one cutoff row at a time: filter every table, then aggregate."""
    es = retail_entityset(tables)
    cutoffs = random_cutoffs(es, "sessions", 40, seed=11)
    window = pd.Timedelta(days=200)
    matrix = fk.dfs(es, target="sessions", cutoff_time=cutoffs, training_window="200d")[0]
    sessions, rows = tables["sessions"].set_index("session_id"), tables["transactions"]
    customers = tables["customers"].set_index("customer_id")
    for session_id, moment in cutoffs.itertuples(index=False):
        got = matrix.loc[(session_id, moment)]
        if sessions.loc[session_id, "session_start"] > moment:  # not created yet
            assert got.isna().all()
            continue
        events = rows[(rows.transaction_time <= moment) & (rows.transaction_time > moment - window)]
        own = events[events.session_id == session_id]
        assert got["COUNT(transactions)"] == len(own)
        np.testing.assert_allclose(got["SUM(transactions.amount)"], own.amount.sum())
        customer_id = sessions.loc[session_id, "customer_id"]
        if customers.loc[customer_id, "join_date"] > moment:
            assert pd.isna(got["customers.COUNT(sessions)"])
            continue
        known = sessions[sessions.session_start <= moment]  # the target's own table: no window
        siblings = known[known.customer_id == customer_id]
        assert got["customers.COUNT(sessions)"] == len(siblings)
        spent = events[events.session_id.isin(siblings.index)].amount
        np.testing.assert_allclose(got["customers.SUM(transactions.amount)"], spent.sum())
        expected_max = spent.max() if len(spent) else np.nan
        np.testing.assert_allclose(got["customers.MAX(transactions.amount)"], expected_max)


def test_rows_keep_their_order_labels_and_repeats(retail):
    features = fk.plan(retail, target="customers", agg_primitives=["count", "sum"], trans_primitives=[])
    everyone = retail["customers"].frame["join_date"].max()  # every customer exists from here
    frame = pl.DataFrame({
        "customer_id": [3, 1, 3, 2],
        "time": [everyone + dt.timedelta(days=200), everyone, everyone + dt.timedelta(days=1),
                 everyone],
        "label": [True, False, False, True],
    })
    original = frame.clone()
    matrix = fk.compute(retail, features, cutoff_time=frame, return_type="polars")
    assert matrix.columns[:2] == ["customer_id", "time"] and matrix.columns[-1] == "label"
    assert matrix["customer_id"].to_list() == [3, 1, 3, 2]
    assert matrix["label"].to_list() == [True, False, False, True]
    counts = matrix["COUNT(sessions)"].to_list()
    assert counts[0] >= counts[2]  # the same customer, later, has at least as many sessions
    assert frame.equals(original)


def test_instance_created_after_its_cutoff_gets_missing_features(retail):
    features = fk.plan(retail, target="customers", max_depth=1)
    joined = retail["customers"].frame.sort("join_date")
    late = joined["customer_id"][-1]
    moment = joined["join_date"][-1] - dt.timedelta(seconds=1)
    matrix = fk.compute(retail, features, cutoff_time=pd.DataFrame({"customer_id": [late], "time": [moment]}))
    assert len(matrix) == 1 and matrix.isna().all().all()


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), position=st.floats(0.1, 0.9),
       table=st.sampled_from(["customers", "sessions", "transactions"]),
       window=st.sampled_from([None, "150d"]))
def test_rows_after_a_cutoff_never_move_its_rows(seed, position, table, window):
    rng = np.random.default_rng(seed)
    tables = retail_tables(8, seed=seed)
    times = tables["transactions"]["transaction_time"]
    moment = (times.min() + (times.max() - times.min()) * position).floor("s")
    es = retail_entityset(tables, types=TYPES)
    for target in ("customers", "sessions"):
        features = fk.plan(es, target=target, max_depth=2, **(CATALOGUE if target == "customers" else {}))
        cutoffs = random_cutoffs(es, target, 24, seed=seed)
        cutoffs.loc[cutoffs.index[::3], "time"] = moment  # some rows exactly at the moment
        cutoffs = cutoffs.drop_duplicates([es[target].index, "time"])
        before = compute(tables, features, cutoffs, window)
        disturbed = disturb_after(tables, moment, rng, table)
        kept = cutoffs[cutoffs[es[target].index].isin(disturbed[target][es[target].index])]
        after = compute(disturbed, features, kept, window)
        early = kept[kept.time <= moment].set_index([es[target].index, "time"]).index
        assert len(early)
        pd.testing.assert_frame_equal(after.loc[early], before.loc[early], check_categorical=False)


def compute(tables, features, cutoffs, window):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fk.OrphanWarning)  # parents deleted after the moment
        es = retail_entityset(tables, types=TYPES)
    return fk.compute(es, features, cutoff_time=cutoffs, training_window=window)


@pytest.mark.parametrize(("frame", "message"), [
    (pd.DataFrame({"id": [1], "time": ["2021-01-01"]}), "no column 'customer_id'"),
    (pd.DataFrame({"customer_id": [1], "when": ["2021-01-01"]}), "no time column 'time'"),
    (pd.DataFrame({"customer_id": [1, 10**6], "time": ["2021-01-01"] * 2}), "1 instance.*does not have"),
    (pd.DataFrame({"customer_id": [1], "time": ["early next week"]}), "not parse"),
    (pd.DataFrame({"customer_id": [1], "time": [None]}, dtype="datetime64[ns]"), "missing times"),
    (pd.DataFrame({"customer_id": [1, 1], "time": ["2021-01-01"] * 2}), "repeats 1"),
    (pd.DataFrame({"customer_id": ["a"], "time": ["2021-01-01"]}), "cannot match"),
    (pd.DataFrame({"customer_id": [1], "time": [pd.Timestamp("2021-01-01", tz="UTC")]}), "timezone-aware"),
    (pd.DataFrame({"customer_id": [1], "time": ["2021-01-01"], "COUNT(sessions)": [1]}), "names of features"),
])
def test_bad_cutoff_frames_are_named_and_explained(retail, frame, message):
    features = fk.plan(retail, target="customers", max_depth=1)
    copy = frame.copy()
    with pytest.raises(fk.FeaturekitError, match=message):
        fk.compute(retail, features, cutoff_time=frame)
    pd.testing.assert_frame_equal(frame, copy)


def test_the_plural_spelling_cutoff_times_is_the_same_argument(retail):
    """The issue's own call, ``cutoff_times=`` with a label and a window, gives what
    ``cutoff_time=`` gives, in dfs and in compute; both at once is refused."""
    cutoffs = pd.DataFrame({"customer_id": [1, 2, 1], "label": [True, False, True],
                            "time": pd.to_datetime(["2021-05-01", "2021-06-01", "2021-09-01"])})
    matrix, features = fk.dfs(retail, target="customers", max_depth=2, cutoff_times=cutoffs,
                              training_window="30d")
    expected = fk.compute(retail, features, cutoff_time=cutoffs, training_window="30d")
    pd.testing.assert_frame_equal(matrix, expected)
    pd.testing.assert_frame_equal(fk.compute(retail, features, cutoff_times=cutoffs, training_window="30d"),
                                  expected)
    assert matrix["label"].tolist() == [True, False, True]
    with pytest.raises(fk.FeaturekitError, match="both cutoff_time and cutoff_times"):
        fk.compute(retail, features, cutoff_time=cutoffs, cutoff_times=cutoffs)


def test_time_column_is_configurable_and_windows_are_checked(retail):
    features = fk.plan(retail, target="customers", agg_primitives=["count"], trans_primitives=[])
    frame = pd.DataFrame({"customer_id": [1, 2], "as_of": ["2020-05-01", "2021-05-01"]})
    matrix = fk.compute(retail, features, cutoff_time=frame, time_column="as_of")
    assert list(matrix.index.names) == ["customer_id", "as_of"]
    with pytest.raises(fk.FeaturekitError, match="positive"):
        fk.compute(retail, features, cutoff_time=frame, time_column="as_of", training_window="0d")


@pytest.mark.parametrize("include", [True, False])
def test_sweeping_prefixes_equals_walking_rows_down(include):
    """Many cutoffs per instance: running statistics read off at each cutoff (the sweep) give
    what joining every row to every cutoff and filtering gives. Some transactions are moved
    before their session, so a parent is not always known when its child is; some have
    no time at all, so they never count; some share their neighbour's time, so FIRST and
    LAST fall back on the index."""
    tables = retail_tables(30, seed=2)
    rows = tables["transactions"].copy()
    early = rows.index[::7]
    rows.loc[early, "transaction_time"] -= pd.Timedelta(days=400)
    rows.loc[rows.index[3::11], "transaction_time"] = pd.NaT
    tied = rows.index[5::6]
    rows.loc[tied, "transaction_time"] = rows["transaction_time"].shift(1).loc[tied]
    tables["transactions"] = rows
    es = retail_entityset(tables, types=TYPES)
    owners = rows.merge(tables["sessions"][["session_id", "customer_id"]], on="session_id")
    for target, catalogue in (("customers", CATALOGUE), ("sessions", {}), ("products", {})):
        features = fk.plan(es, target=target, max_depth=2, **catalogue)
        index = es[target].index
        at_rows = owners.dropna().sample(60, random_state=1)[[index, "transaction_time"]]  # exactly at a row
        frame = pd.concat([random_cutoffs(es, target, 60, seed=4),
                           at_rows.rename(columns={"transaction_time": "time"})]).drop_duplicates([index, "time"])
        cutoffs = read_cutoffs(frame, es, es[target], "time")
        swept = compute_per_cutoff(es, features, cutoffs.pairs, None, include, sweep=True)
        walked = compute_per_cutoff(es, features, cutoffs.pairs, None, include, sweep=False)
        assert swept.height == walked.height == cutoffs.pairs.height
        pd.testing.assert_frame_equal(swept.to_pandas(), walked.to_pandas(), check_exact=False,
                                      rtol=1e-9, atol=1e-12)


def test_tables_without_time_index_are_static_and_refuse_a_window():
    customers = pd.DataFrame({"customer_id": [1, 2], "region": ["n", "s"]})
    orders = pd.DataFrame({"order_id": [10, 11, 12], "customer_id": [1, 1, 2], "amount": [5.0, 7.0, 1.0]})
    es = fk.EntitySet("static")
    es.add_table("customers", customers, index="customer_id")
    es.add_table("orders", orders, index="order_id")
    es.add_relationship(parent="customers", parent_key="customer_id", child="orders", child_key="customer_id")
    features = fk.plan(es, target="customers", agg_primitives=["sum"], trans_primitives=[])
    frame = pd.DataFrame({"customer_id": [1, 1, 2], "time": ["1990-01-01", "2030-01-01", "1990-01-01"]})
    matrix = fk.compute(es, features, cutoff_time=frame)
    assert matrix["SUM(orders.amount)"].tolist() == [12.0, 12.0, 1.0]  # no time: every row counts
    with pytest.raises(fk.FeaturekitError, match="training_window needs tables with a time index"):
        fk.compute(es, features, cutoff_time=frame, training_window="30d")


def text_ids_in_utc() -> fk.EntitySet:
    """The retail tables with text ids (no compact integer keys) and timezone-aware times."""
    tables = retail_tables(20, seed=1)
    for name, column, prefix in (("customers", "customer_id", "c"), ("sessions", "customer_id", "c"),
                                 ("sessions", "session_id", "s"), ("transactions", "session_id", "s")):
        tables[name][column] = prefix + tables[name][column].astype(str)
    for name, column in (("customers", "join_date"), ("sessions", "session_start"),
                         ("transactions", "transaction_time")):
        tables[name][column] = tables[name][column].dt.tz_localize("UTC")
    return retail_entityset(tables)


def test_text_ids_and_aware_times_take_the_general_paths():
    es = text_ids_in_utc()
    for target in ("customers", "sessions"):
        features = fk.plan(es, target=target, max_depth=2)
        index = es[target].index
        rng = np.random.default_rng(0)
        frame = pd.DataFrame({
            index: rng.choice(es[target].frame[index].cast(str).to_list(), 40),
            "time": pd.Timestamp("2021-01-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 5, 40) * 60, unit="D"),
        }).drop_duplicates()
        matrix = fk.compute(es, features, cutoff_time=frame)  # several cutoffs per id: sweeps too
        for moment, rows in frame.groupby("time"):
            single = fk.compute(es, features, cutoff_time=moment)
            pd.testing.assert_frame_equal(matrix.xs(moment, level="time").loc[rows[index]],
                                          single.loc[rows[index]], check_categorical=False, check_dtype=False)
    labels = fk.make_labels(es, "customers", lambda rows: rows.amount.sum(), window="60d")
    by_expression = fk.make_labels(es, "customers", pl.col("amount").sum(), window="60d")
    np.testing.assert_allclose(labels["label"], by_expression["label"])
    assert str(labels["time"].dt.tz) == "UTC"
    train, _, test = fk.time_split(labels, test_size=0.25)
    assert train["time"].max() < test["time"].min()
