"""One cutoff time for every instance: rows after the cutoff never move a feature, at any
depth, for any primitive; a plain pandas computation on pre-filtered tables agrees."""

from __future__ import annotations

import datetime as dt
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import featurekit as fk
from featurekit.demo import retail_entityset
from featurekit.demo_data import retail_tables

CATALOGUE = json.loads((Path(__file__).parent / "data" / "featuretools_reference.json").read_text())[
    "catalogue"]
TIME_INDEX = {"customers": "join_date", "sessions": "session_start", "transactions": "transaction_time"}
KEYS = {"customers": "customer_id", "sessions": "session_id", "transactions": "transaction_id"}


def compute_at(tables, features, cutoff, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fk.OrphanWarning)  # deleted parents after the cutoff
        es = retail_entityset(tables, types={"customers": {"birthday": "date_of_birth"}})
    return fk.compute(es, features, cutoff_time=cutoff, **options)


def disturb_after(tables, cutoff, rng, table):
    """Change, delete and add rows of ``table`` whose time is after ``cutoff``."""
    frame = tables[table].copy()
    time = TIME_INDEX[table]
    later = frame[time] > cutoff
    if not later.any():
        return tables
    chosen = frame.index[later]
    changed = rng.choice(chosen, size=max(1, len(chosen) // 2), replace=False)
    for column in frame.columns:
        if column in (KEYS[table], "customer_id", "session_id", "product_id", time):
            continue
        if pd.api.types.is_float_dtype(frame[column]):
            frame.loc[changed, column] = rng.normal(500, 300, len(changed))
        elif pd.api.types.is_bool_dtype(frame[column]):
            frame.loc[changed, column] = ~frame.loc[changed, column]
        elif pd.api.types.is_datetime64_any_dtype(frame[column]):
            frame.loc[changed, column] = pd.Timestamp("1999-12-31")
        else:
            frame.loc[changed, column] = frame[column].iloc[0]
    frame.loc[changed, time] = cutoff + pd.to_timedelta(rng.integers(1, 10**6, len(changed)), unit="s")
    dropped = rng.choice(chosen, size=len(chosen) // 3, replace=False)
    added = frame.loc[rng.choice(chosen, size=3)].copy()
    added[KEYS[table]] = frame[KEYS[table]].max() + 1 + np.arange(3)
    added[time] = cutoff + pd.Timedelta(days=3)
    frame = pd.concat([frame.drop(index=dropped), added], ignore_index=True)
    return {**tables, table: frame}


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), position=st.floats(0.05, 0.95),
       table=st.sampled_from(["customers", "sessions", "transactions"]),
       include=st.booleans(), window=st.sampled_from([None, "90d", "400d"]))
def test_rows_after_cutoff_never_change_features(seed, position, table, include, window):
    rng = np.random.default_rng(seed)
    tables = retail_tables(8, seed=seed)
    times = tables["transactions"]["transaction_time"]
    cutoff = (times.min() + (times.max() - times.min()) * position).floor("s")
    es = retail_entityset(tables, types={"customers": {"birthday": "date_of_birth"}})
    options = {"training_window": window, "include_cutoff_time": include}
    for target, catalogue in (("customers", CATALOGUE), ("sessions", {})):
        features = fk.plan(es, target=target, max_depth=2, **catalogue)
        before = compute_at(tables, features, cutoff, **options)
        after = compute_at(disturb_after(tables, cutoff, rng, table), features, cutoff, **options)
        kept = before.index.intersection(after.index)  # a deleted instance has no row
        assert len(kept) >= len(before) - len(before) // 2
        pd.testing.assert_frame_equal(after.loc[kept], before.loc[kept], check_categorical=False)


def test_filtered_sums_match_pandas_on_prefiltered_tables(tables):
    cutoff = pd.Timestamp("2020-10-01")
    window = pd.Timedelta(days=120)
    es = retail_entityset(tables)
    matrix, _ = fk.dfs(es, target="customers", cutoff_time=cutoff, training_window="120d")
    sessions = tables["sessions"]
    sessions = sessions[(sessions.session_start <= cutoff) & (sessions.session_start > cutoff - window)]
    rows = tables["transactions"]
    rows = rows[(rows.transaction_time <= cutoff) & (rows.transaction_time > cutoff - window)]
    rows = rows.merge(sessions[["session_id", "customer_id"]], on="session_id")
    customers = tables["customers"].set_index("customer_id")
    known = customers.index[customers.join_date <= cutoff]  # the window does not drop instances
    expected_sum = rows.groupby("customer_id")["amount"].sum().reindex(known, fill_value=0.0)
    np.testing.assert_allclose(matrix.loc[known, "SUM(transactions.amount)"], expected_sum)
    expected_count = sessions.groupby("customer_id").size().reindex(known, fill_value=0)
    assert (matrix.loc[known, "COUNT(sessions)"] == expected_count).all()
    not_yet = customers.index[customers.join_date > cutoff]
    assert len(not_yet) and matrix.loc[not_yet].isna().all().all()


def test_cutoff_bad_input(retail):
    features = fk.plan(retail, target="customers", max_depth=1)
    with pytest.raises(fk.FeaturekitError, match="positive"):
        fk.compute(retail, features, cutoff_time="2021-01-01", training_window="-3d")
    with pytest.raises(fk.FeaturekitError, match="not a duration"):
        fk.compute(retail, features, cutoff_time="2021-01-01", training_window="soon")
    with pytest.raises(fk.FeaturekitError, match="needs a cutoff_time"):
        fk.compute(retail, features, training_window="3d")
    with pytest.raises(fk.FeaturekitError, match="not parse as a time"):
        fk.compute(retail, features, cutoff_time="yesterday-ish")
    aware = dt.datetime(2021, 1, 1, tzinfo=dt.timezone.utc)
    with pytest.raises(fk.FeaturekitError, match="timezone-aware.*naive"):
        fk.compute(retail, features, cutoff_time=aware)
