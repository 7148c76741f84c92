"""Every online path gives fk.compute's matrix on random data: the numpy path (kernel
statistics, direct features, row-wise transforms), the polars path (the primitives' own
expressions: ordered, time-relative and other aggregations, where clauses) and the batch
path on the gathered rows (transforms over a whole table), for random instances, cutoffs
and tables with missing values, infinities, missing keys and rows without a time."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

import featurekit as fk
from featurekit.demo import retail_entityset
from featurekit.online import OnlineFeatures
from featurekit.online.fast import array_feature

AGGREGATIONS = ["count", "sum", "mean", "std", "min", "max", "skew", "mode", "num_unique",
                "percent_true", "num_true", "first", "last", "trend", "time_since_last",
                "median", "any"]
TRANSFORMS = ["day", "month", "weekday", "year", "num_words", "num_characters", "is_weekend",
              "percentile"]
START = pd.Timestamp("2021-01-01")


def random_tables(seed: int) -> dict[str, pd.DataFrame]:
    """Small retail tables with the awkward cases: missing values of every kind, +-inf,
    constant groups, customers without sessions, sessions without transactions, a
    transaction without a time and one whose session key is missing."""
    rng = np.random.default_rng(seed)
    n_customers, n_sessions, n_transactions = 8, 30, 150
    days = lambda n: START + pd.to_timedelta(rng.integers(0, 400 * 24, n), unit="h")  # noqa: E731
    customers = pd.DataFrame({
        "customer_id": np.arange(1, n_customers + 1),
        "zip_code": pd.array(rng.choice(["02116", "10001", None], n_customers), dtype="string"),
        "join_date": days(n_customers) - pd.Timedelta(days=200),
        "birthday": pd.to_datetime("1960-01-01") + pd.to_timedelta(rng.integers(0, 15000, n_customers), unit="D"),
    })
    sessions = pd.DataFrame({
        "session_id": np.arange(1, n_sessions + 1),
        "customer_id": rng.integers(1, n_customers, n_sessions),  # the last customer has none
        "device": pd.array(rng.choice(["mobile", "desktop", "tablet", None], n_sessions), dtype="string"),
        "session_start": days(n_sessions),
    })
    amount = np.round(rng.normal(50, 30, n_transactions), 2)
    amount[rng.random(n_transactions) < 0.1] = np.nan
    if rng.random() < 0.3:
        amount[rng.integers(0, n_transactions)] = np.inf
    if rng.random() < 0.3:
        amount[rng.integers(0, n_transactions)] = -np.inf
    if rng.random() < 0.5:
        amount[:10] = 7.0  # a constant stretch: skew 0, std 0
    session_of = rng.integers(1, n_sessions - 2, n_transactions).astype(float)  # some without
    session_of[rng.integers(0, n_transactions)] = np.nan
    fraud = pd.array(rng.random(n_transactions) < 0.2, dtype="boolean")
    fraud[rng.random(n_transactions) < 0.1] = pd.NA
    times = days(n_transactions).to_series().reset_index(drop=True)
    times[rng.integers(0, n_transactions)] = pd.NaT
    transactions = pd.DataFrame({
        "transaction_id": np.arange(1, n_transactions + 1),
        "session_id": pd.array(session_of, dtype="Int64"),
        "transaction_time": times,
        "product_id": rng.integers(1, 6, n_transactions),
        "amount": amount,
        "fraud": fraud,
    })
    products = pd.DataFrame({
        "product_id": np.arange(1, 6),
        "brand": ["A", "B", "A", None, "C"],
        "description": ["red cotton shirt", "mug", None, "blue mug item", ""],
    })
    return {"customers": customers, "sessions": sessions, "transactions": transactions,
            "products": products}


def entityset(seed: int) -> fk.EntitySet:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # rows without a time, a missing key: counted, reported
        es = retail_entityset(random_tables(seed))
    es.add_interesting_values(table="sessions", values={"device": ["mobile", "tablet"]})
    return es


def forced(online: OnlineFeatures, path: str) -> OnlineFeatures:
    """``online`` made to take one path (the others are tested on the same calls)."""
    if path in ("expressions", "batch"):
        online._arrays = False
    if path == "batch":
        online._fast = None
    return online


def expected(es: fk.EntitySet, features, ids, cutoffs) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if cutoffs is None:
            matrix = fk.compute(es, features).loc[list(ids)]
            late = fk.compute(es, features, cutoff_time=pd.DataFrame(
                {es[features[0].table].index: ids, "time": [pd.Timestamp("2100-01-01")] * len(ids)}))
            return matrix, late.droplevel("time")
        frame = pd.DataFrame({es[features[0].table].index: ids, "time": cutoffs})
        return fk.compute(es, features, cutoff_time=frame), None


def check(online: OnlineFeatures, es: fk.EntitySet, features, ids, cutoffs) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = online.compute(ids, cutoff_time=cutoffs)
    want, late = expected(es, features, ids, cutoffs)
    if cutoffs is None:  # now: fk.compute's values, typed as a matrix of these rows
        pd.testing.assert_frame_equal(got.astype(object), want.astype(object), check_exact=False)
        if not any(f.primitive is not None and f.primitive.uses_cutoff for f in features):
            pd.testing.assert_frame_equal(got, late)
        return
    pd.testing.assert_frame_equal(got, want)


def plan(es: fk.EntitySet, target: str, numpy_only: bool) -> list:
    features = fk.plan(es, target=target, max_depth=2, agg_primitives=AGGREGATIONS,
                       trans_primitives=TRANSFORMS, where_primitives=["count", "sum"])
    if numpy_only:
        features = [f for f in features if array_feature(f)]
    return features


@pytest.mark.parametrize("target", ["customers", "sessions", "transactions"])
def test_numpy_path_covers_the_kernel_statistics_of_the_default_set(target):
    es = entityset(0)
    features = plan(es, target, numpy_only=True)
    primitives = {f.root_primitive().name for f in features if f.root_primitive() is not None}
    if target == "customers":
        assert {"count", "sum", "mean", "std", "min", "max", "skew", "mode", "num_unique",
                "percent_true", "num_true", "day", "month", "weekday", "year"} <= primitives
    if target == "transactions":  # a parent's text, through a direct feature
        assert {"num_words", "num_characters", "is_weekend"} <= primitives
    online = OnlineFeatures(es, features)
    assert online._arrays and not online.slow_features
    ids = list(es[target].frame[es[target].index].head(4))
    check(online, es, features, ids, [START + pd.Timedelta(days=d) for d in (30, 150, 260, 600)])


@settings(max_examples=10, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(seed=st.integers(0, 10_000), target=st.sampled_from(["customers", "sessions"]),
       path=st.sampled_from(["numpy", "expressions", "batch"]), numpy_only=st.booleans(),
       picks=st.lists(st.integers(0, 10_000), min_size=1, max_size=3, unique=True),
       days=st.lists(st.integers(-60, 500), min_size=3, max_size=3), now=st.booleans())
def test_every_path_matches_compute_on_random_data(seed, target, path, numpy_only, picks, days, now):
    es = entityset(seed)
    features = plan(es, target, numpy_only)
    online = forced(OnlineFeatures(es, features), path)
    index = es[target].frame[es[target].index]
    ids = list(dict.fromkeys(int(index[p % index.len()]) for p in picks))
    cutoffs = None if now else [START + pd.Timedelta(days=d, hours=7) for d in days[:len(ids)]]
    check(online, es, features, ids, cutoffs)


def test_transforms_over_a_whole_table_go_to_the_batch_engine():
    es = entityset(1)
    features = plan(es, "transactions", numpy_only=False)
    online = OnlineFeatures(es, features)
    slow = {f.name for f in online.slow_features}
    assert "PERCENTILE(amount)" in slow and not online._arrays
    assert all("PERCENTILE" in name for name in slow)
    check(online, es, features, [3, 40, 77], [START + pd.Timedelta(days=d) for d in (100, 200, 390)])


@settings(max_examples=8, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(seed=st.integers(0, 10_000), path=st.sampled_from(["numpy", "expressions", "batch"]),
       window=st.sampled_from([None, "30d", "120d", "2mo"]), include=st.booleans(),
       picks=st.lists(st.integers(0, 10_000), min_size=1, max_size=3, unique=True),
       days=st.lists(st.integers(0, 400), min_size=3, max_size=3))
def test_training_window_and_strict_cutoffs_match_compute(seed, path, window, include, picks, days):
    """Rows older than the window drop out of event tables only; with
    include_cutoff_time=False a row at the very cutoff does not count either."""
    es = entityset(seed)
    features = plan(es, "customers", numpy_only=path == "numpy")
    online = forced(OnlineFeatures(es, features, training_window=window,
                                   include_cutoff_time=include), path)
    index = es["customers"].frame["customer_id"]
    ids = list(dict.fromkeys(int(index[p % index.len()]) for p in picks))
    times = es["sessions"].frame["session_start"].to_list()
    # some cutoffs fall exactly on a session's start: inclusivity decides whether it counts
    cutoffs = [times[d % len(times)] if d % 2 else START + pd.Timedelta(days=d) for d in days[:len(ids)]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = online.compute(ids, cutoff_time=cutoffs)
        want = fk.compute(es, features, cutoff_time=pd.DataFrame({"customer_id": ids, "time": cutoffs}),
                          training_window=window, include_cutoff_time=include)
    pd.testing.assert_frame_equal(got, want)


def test_a_window_needs_a_cutoff():
    es = entityset(2)
    online = OnlineFeatures(es, plan(es, "customers", numpy_only=True), training_window="30d")
    with pytest.raises(fk.ComputeError, match="training_window needs a cutoff_time"):
        online.compute([1])
    with pytest.raises(fk.FeaturekitError, match="training_window"):
        OnlineFeatures(es, plan(es, "customers", numpy_only=True), training_window=30)
