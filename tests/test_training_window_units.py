"""training_window as Featuretools users write it: "2 days", "3 weeks", "1 month", "1 year",
pd.DateOffset(months=1). Months are calendar months back from each cutoff (clamped to the
end of a shorter month, as dateutil's relativedelta and pandas' DateOffset do)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import featurekit as fk
from featurekit.demo import retail_entityset
from featurekit.demo_data import retail_tables
from featurekit.engine.durations import CalendarWindow, read_duration


@pytest.mark.parametrize(("text", "expected"), [
    # Featuretools' reading of its spellings (a fact of featuretools.utils.wrangle)
    ("2 days", pd.Timedelta(days=2)), ("1 day", pd.Timedelta(days=1)), ("2d", pd.Timedelta(days=2)),
    ("30d", pd.Timedelta(days=30)), ("3 weeks", pd.Timedelta(weeks=3)), ("1w", pd.Timedelta(weeks=1)),
    ("12 hours", pd.Timedelta(hours=12)), ("12h", pd.Timedelta(hours=12)),
    ("2m", pd.Timedelta(minutes=2)), ("1 Minute", pd.Timedelta(minutes=1)),
    ("10 seconds", pd.Timedelta(seconds=10)), ("5ms", pd.Timedelta(milliseconds=5)),
    ("1 month", CalendarWindow(1)), ("2 Months", CalendarWindow(2)), ("3mo", CalendarWindow(3)),
    ("1 year", CalendarWindow(12)), ("1Y", CalendarWindow(12)),
    ("90min", pd.Timedelta(minutes=90)), ("1 days 02:00:00", pd.Timedelta(hours=26)),
])
def test_spellings(text, expected):
    assert read_duration(text, "training_window", calendar=True) == expected


def test_offsets_and_timedeltas():
    assert read_duration(pd.DateOffset(months=2), "w", calendar=True) == CalendarWindow(2)
    assert read_duration(pd.DateOffset(years=1), "w", calendar=True) == CalendarWindow(12)
    assert read_duration(pd.DateOffset(days=3), "w", calendar=True) == pd.Timedelta(days=3)
    assert read_duration(dt.timedelta(hours=1), "w") == pd.Timedelta(hours=1)


@pytest.mark.parametrize(("value", "message"), [
    ("1.5 months", "not a whole number of months"), ("3 observations", "counts observations"),
    ("soon", "is not a duration"), ("0 months", "must be positive"), (3, "bare number"),
    (pd.DateOffset(months=1, days=2), "mixes months"),
])
def test_bad_windows(value, message):
    with pytest.raises(fk.FeaturekitError, match=message):
        read_duration(value, "training_window", calendar=True)


def test_months_are_refused_where_a_fixed_length_is_needed():
    with pytest.raises(fk.FeaturekitError, match="calendar months"):
        read_duration("1 month", "gap")


@pytest.fixture(scope="module")
def retail():
    return retail_tables(15), retail_entityset(retail_tables(15))


def sessions_in_window(sessions: pd.DataFrame, cutoff: pd.Timestamp, start: pd.Timestamp) -> pd.Series:
    """COUNT(sessions) per customer over (start, cutoff], with plain pandas."""
    inside = sessions[(sessions.session_start > start) & (sessions.session_start <= cutoff)]
    return inside.groupby("customer_id").size()


@settings(max_examples=15, deadline=None)
@given(day=st.integers(0, 900), months=st.integers(1, 14))
def test_month_windows_reach_back_calendar_months(retail, day, months):
    """Property: with one cutoff, COUNT(sessions) over "<n> months" counts the sessions after
    cutoff - DateOffset(months=n), at or before the cutoff."""
    tables, es = retail
    features = fk.plan(es, target="customers", agg_primitives=["count"], trans_primitives=[],
                       max_depth=1)
    cutoff = pd.Timestamp("2020-01-31") + pd.Timedelta(days=day)
    matrix = fk.compute(es, features, cutoff_time=cutoff.to_pydatetime(),
                        training_window=f"{months} months")
    expected = sessions_in_window(tables["sessions"], cutoff, cutoff - pd.DateOffset(months=months))
    counts = matrix["COUNT(sessions)"].reindex(expected.index)
    assert counts.tolist() == expected.tolist()
    # customers with no session in the window count 0; those not yet joined are missing
    customers = tables["customers"].set_index("customer_id")
    joined = customers.index[customers.join_date <= cutoff]
    others = matrix.index.difference(expected.index)
    assert (matrix.loc[others.intersection(joined), "COUNT(sessions)"] == 0).all()
    assert matrix.loc[others.difference(joined), "COUNT(sessions)"].isna().all()


def test_month_windows_per_cutoff_row(retail):
    """With a cutoff frame each row's window starts its own number of days back: March 31
    minus a month is February 28 (clamped), July 15 minus a month is June 15."""
    tables, es = retail
    features = fk.plan(es, target="customers", agg_primitives=["count"], trans_primitives=[],
                       max_depth=1)
    cutoffs = pd.DataFrame({"customer_id": [1, 2, 3, 1],
                            "time": pd.to_datetime(["2021-03-31", "2021-07-15", "2020-12-31",
                                                    "2022-01-31"])})
    matrix = fk.compute(es, features, cutoff_time=cutoffs, training_window="1 month")
    for (customer, time), count in matrix["COUNT(sessions)"].items():
        expected = sessions_in_window(tables["sessions"], time, time - pd.DateOffset(months=1))
        assert count == expected.get(customer, 0), (customer, time)
    one_cutoff = fk.compute(es, features, cutoff_time=dt.datetime(2021, 3, 31),
                            training_window=pd.DateOffset(months=1))
    fixed = fk.compute(es, features, cutoff_time=dt.datetime(2021, 3, 31), training_window="31 days")
    pd.testing.assert_frame_equal(one_cutoff, fixed)  # 2021-02-28 .. 2021-03-31


def test_dfs_takes_featuretools_spellings(retail):
    _, es = retail
    matrix, _ = fk.dfs(es, target="customers", agg_primitives=["count"], trans_primitives=[],
                       max_depth=1, cutoff_time=dt.datetime(2021, 6, 1), training_window="2 weeks")
    reference, _ = fk.dfs(es, target="customers", agg_primitives=["count"], trans_primitives=[],
                          max_depth=1, cutoff_time=dt.datetime(2021, 6, 1), training_window="14d")
    pd.testing.assert_frame_equal(matrix, reference)
