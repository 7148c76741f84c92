"""Times compare exactly: a row one nanosecond after its cutoff never counts, integer and float
steps are times too, a cutoff must have the type of the time indexes, and a row without a
time is never known, in every path (one moment, one cutoff per instance, several swept)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import featurekit as fk
from featurekit.engine.cutoffs import read_cutoffs
from featurekit.engine.per_cutoff import compute_per_cutoff

BASE = pd.Timestamp("2021-03-01 12:00:00")
AGGREGATIONS = ["count", "sum", "max"]


def two_level(sessions: pd.DataFrame, events: pd.DataFrame, customers: pd.DataFrame) -> fk.EntitySet:
    """customers <- sessions <- events, every table timed."""
    es = fk.EntitySet("exact")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # rows without a time are reported; tested apart
        es.add_table("customers", customers, index="customer_id", time_index="joined")
        es.add_table("sessions", sessions, index="session_id", time_index="start")
        es.add_table("events", events, index="event_id", time_index="time")
    es.add_relationship(parent="customers", parent_key="customer_id", child="sessions",
                        child_key="customer_id")
    es.add_relationship(parent="sessions", parent_key="session_id", child="events", child_key="session_id")
    return es


def oracle(customers, sessions, events, cutoffs, include=True, window=None):
    """COUNT, SUM and MAX of each cutoff row's events, in plain pandas with exact comparisons:
    an event counts when it and its session are known at the cutoff (and, with a window, both
    fall inside it: the window limits every table below the target)."""
    rows = []
    for customer, moment in cutoffs[["customer_id", "time"]].itertuples(index=False):
        def known(times, moment=moment):
            inside = (times <= moment) if include else (times < moment)
            return inside & times.notna()

        mine = sessions[(sessions.customer_id == customer) & known(sessions.start)]
        picked = events[events.session_id.isin(mine.session_id) & known(events.time)]
        if window is not None:  # it limits every event table: sessions and events
            recent = mine[mine.start > moment - window]
            picked = picked[(picked.time > moment - window) & picked.session_id.isin(recent.session_id)]
        joined = customers.loc[customers.customer_id == customer, "joined"].iloc[0]
        if not known(pd.Series([joined])).iloc[0]:
            rows.append((None, None, None))
            continue
        amounts = picked.amount.dropna()
        rows.append((len(picked), float(amounts.sum()), float(amounts.max()) if len(amounts) else np.nan))
    return pd.DataFrame(rows, columns=["COUNT(events)", "SUM(events.amount)", "MAX(events.amount)"])


def ns_tables(rng: np.random.Generator, n_customers: int = 4, n_sessions: int = 8, n_events: int = 40):
    """Tables whose times sit a few nanoseconds around BASE and its neighbours."""
    offsets = lambda size: pd.to_timedelta(rng.integers(-3, 4, size), unit="ns") + pd.to_timedelta(  # noqa: E731
        rng.integers(0, 2, size), unit="s")
    customers = pd.DataFrame({"customer_id": np.arange(n_customers),
                              "joined": BASE - pd.Timedelta(days=1)})
    sessions = pd.DataFrame({"session_id": np.arange(n_sessions),
                             "customer_id": rng.integers(0, n_customers, n_sessions),
                             "start": BASE + offsets(n_sessions)})
    events = pd.DataFrame({"event_id": np.arange(n_events),
                           "session_id": rng.integers(0, n_sessions, n_events),
                           "amount": rng.normal(10, 3, n_events).round(2),
                           "time": BASE + offsets(n_events)})
    return customers, sessions, events


def assert_matches(matrix: pd.DataFrame, expected: pd.DataFrame) -> None:
    for column in expected.columns:
        got = pd.to_numeric(matrix[column].reset_index(drop=True), errors="coerce").astype(float)
        want = pd.to_numeric(expected[column], errors="coerce").astype(float)
        np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-12, equal_nan=True,
                                   err_msg=column)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), include=st.booleans(), sweep=st.sampled_from([True, False]),
       window_ns=st.sampled_from([None, 2, 1_000_000_003]))
def test_rows_a_few_nanoseconds_from_their_cutoff_count_exactly(seed, include, sweep, window_ns):
    """Per-instance cutoffs a few nanoseconds from the rows: every count, sum and max equals
    plain pandas with exact nanosecond comparisons, swept or walked, with or without window."""
    rng = np.random.default_rng(seed)
    customers, sessions, events = ns_tables(rng)
    es = two_level(sessions, events, customers)
    moments = BASE + pd.to_timedelta(rng.integers(-3, 4, 6), unit="ns") + pd.to_timedelta(
        rng.integers(0, 2, 6), unit="s")
    cutoffs = pd.DataFrame({"customer_id": rng.integers(0, 4, 6), "time": moments}).drop_duplicates(
        ["customer_id", "time"]).reset_index(drop=True)
    features = fk.plan(es, target="customers", agg_primitives=AGGREGATIONS, trans_primitives=[],
                       include=["COUNT(events)", "SUM(events.amount)", "MAX(events.amount)"])
    window = pd.Timedelta(window_ns, unit="ns") if window_ns else None
    if sweep and window is None:
        read = read_cutoffs(cutoffs, es, es["customers"], "time")
        computed = compute_per_cutoff(es, features, read.pairs, None, include, sweep=True).to_pandas()
    else:
        computed = fk.compute(es, features, cutoff_time=cutoffs, include_cutoff_time=include,
                              training_window=window)
    assert_matches(computed, oracle(customers, sessions, events, cutoffs, include, window))


@pytest.mark.parametrize("include", [True, False])
def test_one_moment_for_everyone_compares_in_nanoseconds(include):
    rng = np.random.default_rng(3)
    customers, sessions, events = ns_tables(rng)
    es = two_level(sessions, events, customers)
    features = fk.plan(es, target="customers", agg_primitives=AGGREGATIONS, trans_primitives=[],
                       include=["COUNT(events)", "SUM(events.amount)", "MAX(events.amount)"])
    for moment in (BASE, BASE + pd.Timedelta(1, unit="ns"), BASE - pd.Timedelta(2, unit="ns")):
        matrix = fk.compute(es, features, cutoff_time=moment, include_cutoff_time=include)
        cutoffs = pd.DataFrame({"customer_id": customers.customer_id, "time": moment})
        assert_matches(matrix, oracle(customers, sessions, events, cutoffs, include))


def test_a_row_500_ns_after_the_cutoff_is_not_counted_by_any_path():
    customers = pd.DataFrame({"customer_id": [1, 2], "joined": pd.Timestamp("2020-01-01")})
    sessions = pd.DataFrame({"session_id": [1, 2], "customer_id": [1, 2],
                             "start": pd.Timestamp("2020-01-01")})
    late = pd.Timestamp("2020-01-02") + pd.Timedelta(500, unit="ns")
    events = pd.DataFrame({"event_id": [1, 2, 3], "session_id": [1, 1, 2], "amount": [1.0, 10.0, 5.0],
                           "time": [pd.Timestamp("2020-01-02"), late, pd.Timestamp("2020-01-02")]})
    es = two_level(sessions, events, customers)
    features = fk.plan(es, target="customers", agg_primitives=["count"], trans_primitives=[],
                       include=["COUNT(events)"])
    moment = pd.Timestamp("2020-01-02")
    one = fk.compute(es, features, cutoff_time=moment)["COUNT(events)"].tolist()
    frame = pd.DataFrame({"customer_id": [1, 2], "time": [moment, moment]})
    walked = fk.compute(es, features, cutoff_time=frame)["COUNT(events)"].tolist()
    several = pd.DataFrame({"customer_id": [1, 1, 2], "time": [moment, late, moment]})
    swept = fk.compute(es, features, cutoff_time=several)["COUNT(events)"].tolist()
    assert one == walked == [1, 1]
    assert swept == [1, 2, 1]  # at the row's own moment it counts


def test_times_in_microseconds_meet_nanosecond_cutoffs_exactly():
    """A polars table in microseconds and pandas cutoffs in nanoseconds: the cutoff's
    nanoseconds are not truncated away (a row at 12:00:00.000001 is after 12:00:00.000000500)."""
    import polars as pl

    customers = pl.DataFrame({"customer_id": [1], "joined": [BASE.to_pydatetime()]})
    sessions = pl.DataFrame({"session_id": [1], "customer_id": [1], "start": [BASE.to_pydatetime()]})
    events = pl.DataFrame({"event_id": [1, 2], "session_id": [1, 1], "amount": [1.0, 2.0],
                           "time": [BASE.to_pydatetime(), (BASE + pd.Timedelta(1, unit="us")).to_pydatetime()]})
    es = two_level(sessions, events, customers)
    features = fk.plan(es, target="customers", agg_primitives=["count"], trans_primitives=[],
                       include=["COUNT(events)"])
    for offset, expected in ((500, 1), (999, 1), (1000, 2)):
        moment = BASE + pd.Timedelta(offset, unit="ns")
        frame = pd.DataFrame({"customer_id": [1], "time": [moment]})
        assert fk.compute(es, features, cutoff_time=frame)["COUNT(events)"].to_list() == [expected]
        assert fk.compute(es, features, cutoff_time=moment)["COUNT(events)"].to_list() == [expected]


# ------------------------------------------------------------------ numeric steps as times

def stepped(kind: str) -> tuple[fk.EntitySet, pd.DataFrame]:
    steps = [1, 2, 3, 4, 1, 5] if kind == "integer" else [0.5, 1.5, 2.25, 4.0, 1.0, 5.5]
    events = pd.DataFrame({"event_id": range(6), "customer_id": [1, 1, 1, 1, 2, 2],
                           "amount": [1.0, 2.0, 4.0, 8.0, 16.0, 32.0], "step": steps})
    es = fk.EntitySet("steps")
    es.add_table("customers", pd.DataFrame({"customer_id": [1, 2]}), index="customer_id")
    es.add_table("events", events, index="event_id", time_index="step")
    es.add_relationship(parent="customers", parent_key="customer_id", child="events", child_key="customer_id")
    return es, events


@pytest.mark.parametrize("kind", ["integer", "float"])
def test_numeric_time_indexes_are_times(kind):
    es, events = stepped(kind)
    features = fk.plan(es, target="customers", agg_primitives=["sum"], trans_primitives=[])
    moments = [2, 3, 5] if kind == "integer" else [1.5, 2.0, 4.0]
    for moment in moments:
        for include in (True, False):
            known = (events.step <= moment) if include else (events.step < moment)
            expected = events[known].groupby("customer_id").amount.sum().reindex([1, 2], fill_value=0.0)
            scalar = fk.compute(es, features, cutoff_time=moment, include_cutoff_time=include)
            assert scalar["SUM(events.amount)"].tolist() == expected.tolist()
    cutoffs = pd.DataFrame({"customer_id": [1, 1, 2, 1], "time": [moments[0], moments[2], moments[1], moments[1]]})
    matrix = fk.compute(es, features, cutoff_time=cutoffs)
    expected = [events[(events.customer_id == c) & (events.step <= t)].amount.sum()
                for c, t in cutoffs.itertuples(index=False)]
    assert matrix["SUM(events.amount)"].tolist() == expected
    windowed = fk.compute(es, features, cutoff_time=cutoffs, training_window=2)
    expected = [events[(events.customer_id == c) & (events.step <= t) & (events.step > t - 2)].amount.sum()
                for c, t in cutoffs.itertuples(index=False)]
    assert windowed["SUM(events.amount)"].tolist() == expected


@pytest.mark.parametrize("kind, cutoff, window, message", [
    ("integer", 3.5, None, "not whole numbers"),
    ("integer", "2020-01-01", None, "hold integer steps"),
    ("integer", pd.Timestamp("2020-01-01"), None, "hold integer steps"),
    ("integer", True, None, "hold integer steps"),
    ("integer", 3, "30d", "positive number of steps"),
    ("integer", 3, 1.5, "whole number of steps"),
    ("float", "soon", None, "hold numbers"),
    ("float", float("nan"), None, "not a time"),
    ("datetime", 2020, None, "hold datetimes"),
    ("datetime", 3.5, None, "hold datetimes"),
    ("datetime", "early next week", None, "does not parse"),
    ("datetime", pd.Timestamp("2021-01-01", tz="UTC"), None, "table 'events', column 'step'"),
    ("datetime", "2021-01-01", "", "not a duration"),
    ("datetime", "2021-01-01", 3, "not a duration"),
    ("datetime", "2021-01-01", "-1d", "positive"),
])
def test_a_cutoff_must_have_the_type_of_the_time_index(kind, cutoff, window, message):
    if kind == "datetime":
        events = pd.DataFrame({"event_id": [1], "customer_id": [1], "amount": [1.0],
                               "step": pd.to_datetime(["2021-01-01"])})
        es = fk.EntitySet("dated")
        es.add_table("customers", pd.DataFrame({"customer_id": [1, 2]}), index="customer_id")
        es.add_table("events", events, index="event_id", time_index="step")
        es.add_relationship(parent="customers", parent_key="customer_id", child="events",
                            child_key="customer_id")
    else:
        es, _ = stepped(kind)
    features = fk.plan(es, target="customers", agg_primitives=["sum"], trans_primitives=[])
    with pytest.raises(fk.FeaturekitError, match=message):
        fk.compute(es, features, cutoff_time=cutoff, training_window=window)
    frame = pd.DataFrame({"customer_id": [1], "time": [cutoff]})
    if not isinstance(cutoff, bool) and window is None and cutoff == cutoff:
        with pytest.raises(fk.FeaturekitError):
            fk.compute(es, features, cutoff_time=frame)


def test_datetimes_beside_numeric_steps_are_refused_naming_both():
    es, _ = stepped("integer")
    es.add_table("visits", pd.DataFrame({"visit_id": [1], "customer_id": [1],
                                         "at": pd.to_datetime(["2021-01-01"])}), index="visit_id",
                 time_index="at")
    es.add_relationship(parent="customers", parent_key="customer_id", child="visits", child_key="customer_id")
    features = fk.plan(es, target="customers", agg_primitives=["count"], trans_primitives=[])
    with pytest.raises(fk.FeaturekitError, match=r"visits.*'at'.*events.*'step'|events.*visits"):
        fk.compute(es, features, cutoff_time=3)


def test_naive_beside_aware_tables_names_the_table_and_column():
    es = fk.EntitySet("zones")
    es.add_table("customers", pd.DataFrame({"customer_id": [1], "joined": pd.to_datetime(["2020-01-01"])}),
                 index="customer_id", time_index="joined")
    es.add_table("events", pd.DataFrame({"event_id": [1], "customer_id": [1],
                                         "time": pd.to_datetime(["2020-01-02"]).tz_localize("UTC")}),
                 index="event_id", time_index="time")
    es.add_relationship(parent="customers", parent_key="customer_id", child="events", child_key="customer_id")
    features = fk.plan(es, target="customers", agg_primitives=["count"], trans_primitives=[])
    with pytest.raises(fk.FeaturekitError, match=r"table 'events', column 'time' is timezone-aware but "
                                                 r"table 'customers', column 'joined' is naive"):
        fk.compute(es, features, cutoff_time="2020-06-01")


def test_aware_cutoffs_in_another_zone_compare_as_instants():
    times = pd.to_datetime(["2020-01-01 10:00", "2020-01-01 12:00"]).tz_localize("UTC")
    es = fk.EntitySet("zones")
    es.add_table("customers", pd.DataFrame({"customer_id": [1]}), index="customer_id")
    es.add_table("events", pd.DataFrame({"event_id": [1, 2], "customer_id": [1, 1], "time": times}),
                 index="event_id", time_index="time")
    es.add_relationship(parent="customers", parent_key="customer_id", child="events", child_key="customer_id")
    features = fk.plan(es, target="customers", agg_primitives=["count"], trans_primitives=[])
    paris = pd.Timestamp("2020-01-01 12:30", tz="Europe/Paris")  # 11:30 UTC
    assert fk.compute(es, features, cutoff_time=paris)["COUNT(events)"].tolist() == [1]
    frame = pd.DataFrame({"customer_id": [1], "time": [paris]})
    assert fk.compute(es, features, cutoff_time=frame)["COUNT(events)"].tolist() == [1]


# ---------------------------------------------------------------- rows without a time

def test_rows_without_a_time_are_never_known_in_any_path():
    customers = pd.DataFrame({"customer_id": [1, 2], "joined": pd.to_datetime(["2020-01-01"] * 2)})
    sessions = pd.DataFrame({"session_id": [1, 2, 3], "customer_id": [1, 1, 2],
                             "start": pd.to_datetime(["2020-01-02", None, "2020-01-02"])})
    events = pd.DataFrame({"event_id": range(6), "session_id": [1, 1, 2, 3, 3, 1],
                           "amount": [1.0, 2.0, 4.0, 8.0, 16.0, 32.0],
                           "time": pd.to_datetime(["2020-01-02", "2020-01-03", "2020-01-03",
                                                   None, "2020-01-04", "2020-01-05"])})
    es = two_level(sessions, events, customers)
    features = fk.plan(es, target="customers", agg_primitives=["count", "sum"], trans_primitives=[],
                       include=["COUNT(events)", "SUM(events.amount)", "COUNT(sessions)"])
    # session 2 has no time (so neither do its events); event 3 has none of its own
    end = pd.Timestamp("2030-01-01")
    expected_count, expected_sum = [3, 1], [35.0, 16.0]
    no_cutoff = fk.compute(es, features)
    one_moment = fk.compute(es, features, cutoff_time=end)
    walked = fk.compute(es, features, cutoff_time=pd.DataFrame({"customer_id": [1, 2], "time": [end, end]}))
    swept = fk.compute(es, features, cutoff_time=pd.DataFrame(
        {"customer_id": [1, 1, 2, 2], "time": [end, end - pd.Timedelta(days=1)] * 2}))
    for matrix in (no_cutoff, one_moment, walked):
        assert matrix["COUNT(events)"].tolist() == expected_count
        assert matrix["SUM(events.amount)"].tolist() == expected_sum
        assert matrix["COUNT(sessions)"].tolist() == [1, 1]
    assert swept["COUNT(events)"].tolist() == [3, 3, 1, 1]
    assert swept["COUNT(sessions)"].tolist() == [1, 1, 1, 1]


def test_an_instance_without_a_time_keeps_its_row_with_missing_features():
    customers = pd.DataFrame({"customer_id": [1, 2], "joined": pd.to_datetime(["2020-01-01", None])})
    events = pd.DataFrame({"event_id": [1, 2], "customer_id": [1, 2], "amount": [1.0, 2.0],
                           "time": pd.to_datetime(["2020-01-02", "2020-01-02"])})
    es = fk.EntitySet("x")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        es.add_table("customers", customers, index="customer_id", time_index="joined")
    es.add_table("events", events, index="event_id", time_index="time")
    es.add_relationship(parent="customers", parent_key="customer_id", child="events", child_key="customer_id")
    features = fk.plan(es, target="customers", agg_primitives=["sum"], trans_primitives=[])
    for matrix in (fk.compute(es, features), fk.compute(es, features, cutoff_time="2021-01-01")):
        assert matrix.index.tolist() == [1, 2]
        assert matrix["SUM(events.amount)"].iloc[0] == 1.0
        assert pd.isna(matrix["SUM(events.amount)"].iloc[1])
