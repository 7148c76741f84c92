"""OnlineFeatures gives what fk.compute gives for the same rows: at one cutoff per instance,
at "now", after appended rows and with rows given for one call; bad rows and ids are refused
with the table and column named; rows after a cutoff never move a feature."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import featurekit as fk
from featurekit.demo import retail_entityset
from featurekit.demo_data import retail_tables
from featurekit.errors import FeaturekitError, SchemaError
from featurekit.online import OnlineFeatures

N_CUSTOMERS = 30


@pytest.fixture(scope="module")
def retail_frames() -> dict[str, pd.DataFrame]:
    return retail_tables(N_CUSTOMERS, seed=3)


@pytest.fixture(scope="module")
def retail_es(retail_frames) -> fk.EntitySet:
    return retail_entityset(retail_frames)


@pytest.fixture(scope="module")
def default_features(retail_es) -> list:
    return fk.plan(retail_es, target="customers", max_depth=2)


def batch(tables: dict[str, pd.DataFrame], features, ids, cutoffs) -> pd.DataFrame:
    """fk.compute on an entity set built from ``tables``, one cutoff row per id."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        es = retail_entityset(tables)
    frame = pd.DataFrame({"customer_id": ids, "time": list(cutoffs)})
    return fk.compute(es, features, cutoff_time=frame)


def with_rows(tables: dict[str, pd.DataFrame], extra: dict[str, pd.DataFrame]) -> dict:
    return {name: pd.concat([frame, extra[name]], ignore_index=True) if name in extra else frame
            for name, frame in tables.items()}


def new_session(session_id: int, customer_id: int, start: str, transaction_ids, amounts,
                products=None, fraud=None) -> dict[str, pd.DataFrame]:
    """A session of ``customer_id`` with one transaction per amount, a minute apart."""
    count = len(amounts)
    start_time = pd.Timestamp(start)
    return {
        "sessions": pd.DataFrame({"session_id": [session_id], "customer_id": [customer_id],
                                  "device": ["tablet"], "session_start": [start_time]}),
        "transactions": pd.DataFrame({
            "transaction_id": list(transaction_ids), "session_id": [session_id] * count,
            "transaction_time": [start_time + pd.Timedelta(minutes=i + 1) for i in range(count)],
            "product_id": list(products) if products is not None else [1 + i % 50 for i in range(count)],
            "amount": list(amounts),
            "fraud": list(fraud) if fraud is not None else [i % 3 == 0 for i in range(count)]}),
    }


def test_matches_compute_at_one_cutoff_per_instance(retail_es, retail_frames, default_features):
    online = OnlineFeatures(retail_es, default_features)
    ids = [3, 1, 17, 29]
    cutoffs = ["2021-03-01", "2030-01-01", "2022-06-15 12:00", "2019-01-01"]  # one before joining
    got = online.compute(ids, cutoff_time=cutoffs)
    pd.testing.assert_frame_equal(got, batch(retail_frames, default_features, ids, cutoffs))
    one = online.compute([5], cutoff_time=pd.Timestamp("2022-01-01"))
    pd.testing.assert_frame_equal(one, batch(retail_frames, default_features, [5], [pd.Timestamp("2022-01-01")]))


def test_now_is_every_row_known(retail_es, retail_frames, default_features):
    """Without a cutoff: the values of fk.compute without one, typed as a matrix of those
    rows (the default set has no time-relative primitive, so a cutoff after every row gives
    the same matrix)."""
    online = OnlineFeatures(retail_es, default_features)
    got = online.compute([8, 2])
    assert list(got.index) == [8, 2] and got.index.name == "customer_id"
    whole = fk.compute(retail_es, default_features).loc[[8, 2]]
    pd.testing.assert_frame_equal(got.astype(object), whole.astype(object))
    late = batch(retail_frames, default_features, [8, 2], ["2100-01-01"] * 2).droplevel("time")
    pd.testing.assert_frame_equal(got, late)


def test_appended_rows_count_like_rows_of_the_tables(retail_es, retail_frames, default_features):
    online = OnlineFeatures(retail_es, default_features)
    extra = new_session(90_001, 4, "2024-05-01 10:00", [9_000_001, 9_000_002, 9_000_003],
                        [12.5, 300.0, 0.25])
    online.append("sessions", extra["sessions"])
    online.append("transactions", extra["transactions"])
    cutoffs = ["2024-05-01 10:02", "2030-01-01"]  # the first sees one of the new transactions
    for cutoff in cutoffs:
        got = online.compute([4, 6], cutoff_time=cutoff)
        expected = batch(with_rows(retail_frames, extra), default_features, [4, 6], [cutoff] * 2)
        pd.testing.assert_frame_equal(got, expected)
    assert len(retail_es["sessions"].frame) == len(retail_frames["sessions"])  # caller's set untouched


def test_rows_of_one_call_count_for_that_call_only(retail_es, retail_frames, default_features):
    online = OnlineFeatures(retail_es, default_features)
    customer = pd.DataFrame({"customer_id": [500], "zip_code": ["10001"],
                             "join_date": [pd.Timestamp("2024-01-01")],
                             "birthday": [pd.Timestamp("1990-02-03")]})
    extra = {"customers": customer, **new_session(90_002, 500, "2024-02-01", [9_100_001, 9_100_002],
                                                   [5.0, 7.5])}
    given_rows = {name: frame.copy() for name, frame in extra.items()}
    got = online.compute([500, 7], cutoff_time="2024-03-01", rows=extra)
    expected = batch(with_rows(retail_frames, extra), default_features, [500, 7], ["2024-03-01"] * 2)
    pd.testing.assert_frame_equal(got, expected)
    for name, frame in extra.items():  # the caller's frames are not modified
        pd.testing.assert_frame_equal(frame, given_rows[name])
    with pytest.raises(FeaturekitError, match="holds no instance"):
        online.compute([500], cutoff_time="2024-03-01")
    before = batch(retail_frames, default_features, [7], ["2024-03-01"])
    pd.testing.assert_frame_equal(online.compute([7], cutoff_time="2024-03-01"), before)


def test_bad_rows_are_refused_naming_table_and_column(retail_es, default_features):
    online = OnlineFeatures(retail_es, default_features)
    good = new_session(90_003, 2, "2024-01-01", [9_200_001], [1.0])
    with pytest.raises(SchemaError, match="'transactions'.*refer to no row of 'sessions'"):
        online.append("transactions", good["transactions"])
    with pytest.raises(SchemaError, match="repeat an index already held"):
        online.append("sessions", good["sessions"].assign(session_id=1))
    with pytest.raises(SchemaError, match=r"lack column\(s\) \['device'\]"):
        online.append("sessions", good["sessions"].drop(columns="device"))
    with pytest.raises(SchemaError, match=r"column\(s\) \['colour'\] that the table does not have"):
        online.append("sessions", good["sessions"].assign(colour="red"))
    with pytest.raises(SchemaError, match="'session_start'"):
        online.append("sessions", good["sessions"].assign(session_start="not a time"))
    with pytest.raises(SchemaError, match="'amount'"):
        online.compute([2], rows={"sessions": good["sessions"],
                                  "transactions": good["transactions"].assign(amount="lots")})
    with pytest.raises(SchemaError, match="no such table"):
        online.append("orders", good["sessions"])
    online.append("sessions", good["sessions"])  # nothing was added by the refused calls
    online.append("transactions", good["transactions"])


def test_bad_ids_and_cutoffs_are_refused(retail_es, default_features):
    online = OnlineFeatures(retail_es, default_features)
    with pytest.raises(FeaturekitError, match=r"holds no instance \[999\]"):
        online.compute([1, 999])
    with pytest.raises(FeaturekitError, match="repeat"):
        online.compute([1, 1])
    with pytest.raises(FeaturekitError, match="'customer_id'"):
        online.compute(["abc"])
    with pytest.raises(FeaturekitError, match="2 moments for 3 ids"):
        online.compute([1, 2, 3], cutoff_time=["2022-01-01", "2022-01-02"])
    with pytest.raises(FeaturekitError, match="cutoff_time"):
        online.compute([1], cutoff_time="tomorrow-ish")
    with pytest.raises(FeaturekitError, match="rows must be a dict"):
        online.compute([1], rows=[1, 2])


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(customer=st.integers(1, N_CUSTOMERS), cutoff_day=st.integers(0, 1500),
       amounts=st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=6),
       later_days=st.integers(0, 400))
def test_rows_after_the_cutoff_never_move_a_feature(retail_es, default_features, customer,
                                                    cutoff_day, amounts, later_days):
    """New sessions and transactions dated after the cutoff leave every feature as it was."""
    online = OnlineFeatures(retail_es, default_features)
    cutoff = pd.Timestamp("2020-01-01") + pd.Timedelta(days=cutoff_day)
    before = online.compute([customer], cutoff_time=cutoff)
    start = cutoff + pd.Timedelta(days=later_days, seconds=1)
    extra = new_session(95_000, customer, str(start), range(9_500_000, 9_500_000 + len(amounts)), amounts)
    after = online.compute([customer], cutoff_time=cutoff, rows=extra)
    pd.testing.assert_frame_equal(before, after)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(customers=st.lists(st.integers(1, N_CUSTOMERS), min_size=1, max_size=3, unique=True),
       cutoff_days=st.lists(st.integers(0, 1500), min_size=3, max_size=3),
       amounts=st.lists(st.one_of(st.floats(-1e3, 1e3, allow_nan=False), st.just(np.nan)),
                        min_size=0, max_size=5),
       session_day=st.integers(0, 1500))
def test_random_instances_cutoffs_and_rows_match_compute(retail_es, retail_frames, default_features,
                                                         customers, cutoff_days, amounts, session_day):
    online = OnlineFeatures(retail_es, default_features)
    start = pd.Timestamp("2020-01-01") + pd.Timedelta(days=session_day)
    extra = new_session(96_000, customers[0], str(start),
                        range(9_600_000, 9_600_000 + len(amounts)), amounts)
    cutoffs = [pd.Timestamp("2020-01-01") + pd.Timedelta(days=d) for d in cutoff_days[:len(customers)]]
    got = online.compute(customers, cutoff_time=cutoffs, rows=extra)
    expected = batch(with_rows(retail_frames, extra), default_features, customers, cutoffs)
    pd.testing.assert_frame_equal(got, expected)


@pytest.mark.parametrize("module", ["featurekit.online.features", "featurekit.online.series"])
def test_docstring_examples_run(module):
    import doctest
    import importlib

    failures, tried = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert tried and not failures


def test_an_instance_without_rows_yet_has_the_batch_dtypes(retail_es, retail_frames, default_features):
    """Categorical features that are all missing keep the category dtypes of fk.compute."""
    online = OnlineFeatures(retail_es, default_features)
    for customer, cutoff in ((1, "2000-01-01"), (2, "2020-09-01")):  # before joining; no sessions
        got = online.compute([customer], cutoff_time=cutoff)
        pd.testing.assert_frame_equal(got, batch(retail_frames, default_features, [customer], [cutoff]))


@pytest.mark.parametrize("kind", ["polars", "pyarrow"])
def test_polars_and_arrow_tables_get_the_batch_matrix_of_their_kind(kind):
    import polars as pl
    from polars.testing import assert_frame_equal

    es = fk.demo.load_retail(n_customers=25, seed=4, return_type="polars")
    if kind == "pyarrow":
        for table in es.tables.values():
            table.source_kind = "pyarrow"  # as if the tables had been given as arrow tables
    features = fk.plan(es, target="customers", max_depth=2)
    online = OnlineFeatures(es, features)
    ids, cutoffs = [4, 2, 9], ["2021-05-01", "2030-01-01", "2019-01-01"]
    got = online.compute(ids, cutoff_time=cutoffs)
    want = fk.compute(es, features, cutoff_time=pd.DataFrame({"customer_id": ids, "time": cutoffs}))
    if kind == "pyarrow":
        got, want = pl.from_arrow(got), pl.from_arrow(want)
    assert_frame_equal(got, want)
    now = online.compute([4, 2])
    whole = fk.compute(es, features)
    whole = pl.from_arrow(whole) if kind == "pyarrow" else whole
    now = pl.from_arrow(now) if kind == "pyarrow" else now
    expected = pl.DataFrame({"customer_id": [4, 2]}).join(whole, on="customer_id", how="left",
                                                          maintain_order="left")
    assert_frame_equal(now, expected)


def test_appended_rows_are_merged_into_the_held_rows_when_many(retail_es, retail_frames,
                                                               default_features, monkeypatch):
    """Past a share of the held rows, appended rows join them (one lookup per table again);
    the features do not change."""
    from featurekit.online import rows as held_rows

    monkeypatch.setattr(held_rows, "COMPACT_MIN_ROWS", 2)
    monkeypatch.setattr(held_rows, "COMPACT_SHARE", 10**9)
    online = OnlineFeatures(retail_es, default_features)
    extra = [new_session(97_000 + i, 3, f"2024-0{i + 1}-01", [9_700_000 + 10 * i, 9_700_001 + 10 * i],
                         [1.5 * i, -2.0]) for i in range(4)]
    for rows in extra:
        online.append("sessions", rows["sessions"])
        online.append("transactions", rows["transactions"])
    held = online.tables["sessions"].parts
    assert held[0].frame.height > len(retail_frames["sessions"]) and len(held) <= 2  # merged
    merged = {name: pd.concat([r[name] for r in extra], ignore_index=True) for name in extra[0]}
    got = online.compute([3], cutoff_time="2024-12-01")
    pd.testing.assert_frame_equal(got, batch(with_rows(retail_frames, merged), default_features, [3],
                                             ["2024-12-01"]))
