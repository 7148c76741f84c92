"""Building datasets: labels from the rows after each cutoff, and splits that never train on
a later cutoff than they validate on."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest
from sklearn.ensemble import RandomForestRegressor
from sklearn.model_selection import TimeSeriesSplit, cross_val_score

import featurekit as fk
from featurekit.demo import retail_entityset


def spent_by_customer(tables):
    rows = tables["transactions"].merge(tables["sessions"][["session_id", "customer_id"]], on="session_id")
    return rows.sort_values("transaction_time")


def test_labels_match_pandas_windows_after_each_cutoff(tables):
    es = retail_entityset(tables)
    window, gap, warm_up = pd.Timedelta(days=60), pd.Timedelta(days=45), pd.Timedelta(days=10)
    labels = fk.make_labels(es, "customers", lambda rows: rows.amount.sum(), window="60d", gap="45d",
                            min_data="10d", label_name="spend")
    rows = spent_by_customer(tables)
    end = rows.transaction_time.max()
    expected = []
    for customer_id, own in rows.groupby("customer_id"):
        moment = own.transaction_time.min() + warm_up
        while moment + window <= end:
            inside = own[(own.transaction_time > moment) & (own.transaction_time <= moment + window)]
            expected.append((customer_id, moment, inside.amount.sum()))
            moment += gap
    expected = pd.DataFrame(expected, columns=["customer_id", "time", "spend"])
    assert len(labels) == len(expected) > 50
    pd.testing.assert_frame_equal(labels.reset_index(drop=True), expected, check_dtype=False)


def test_an_expression_gives_the_function_labels_fast(retail):
    by_function = fk.make_labels(retail, "customers", lambda rows: len(rows) > 3, window="30d", gap="10d")
    by_expression = fk.make_labels(retail, "customers", pl.len() > 3, window="30d", gap="10d")
    assert len(by_function) > 100
    pd.testing.assert_frame_equal(by_function, by_expression)
    sessions = fk.make_labels(retail, "customers", pl.len(), window="90d", table="sessions",
                              max_per_instance=2)
    assert sessions.groupby("customer_id").size().max() == 2
    assert (sessions.label >= 0).all() and sessions.label.sum() > 0


def test_labels_feed_dfs_and_features_see_only_rows_up_to_the_cutoff(retail):
    labels = fk.make_labels(retail, "customers", lambda rows: rows.amount.sum(), window="30d")
    matrix, _ = fk.dfs(retail, target="customers", cutoff_time=labels, agg_primitives=["count"],
                       trans_primitives=[])
    assert (matrix["label"].to_numpy() == labels["label"].to_numpy()).all()
    sessions = retail["sessions"].frame.to_pandas()
    for (customer_id, moment), count in matrix["COUNT(sessions)"].head(30).items():
        own = sessions[sessions.customer_id == customer_id]
        assert count == (own.session_start <= moment).sum()


def test_labeling_mistakes_are_explained(retail):
    def failing(rows):
        if rows.empty:
            raise ValueError("nothing to see")
        return 1

    with pytest.raises(fk.FeaturekitError, match=r"instance \d+ at cutoff .*nothing to see"):
        fk.make_labels(retail, "customers", failing, window="1h")
    with pytest.raises(fk.FeaturekitError, match="window must be positive"):
        fk.make_labels(retail, "customers", pl.len(), window="-1d")
    with pytest.raises(fk.FeaturekitError, match="gap .* is not a duration"):
        fk.make_labels(retail, "customers", pl.len(), window="1d", gap="weekly")
    with pytest.raises(fk.FeaturekitError, match="not below 'sessions'"):
        fk.make_labels(retail, "sessions", pl.len(), window="1d", table="customers")
    with pytest.raises(fk.FeaturekitError, match="'shops' is not in the entity set"):
        fk.make_labels(retail, "shops", pl.len(), window="1d")


def frame_of_times(kind: str) -> object:
    rng = np.random.default_rng(3)
    times = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 100, 400), unit="D")
    frame = pd.DataFrame({"id": np.arange(400), "time": times})
    return pl.from_pandas(frame) if kind == "polars" else frame


@pytest.mark.parametrize("kind", ["pandas", "polars"])
def test_time_split_orders_parts_in_time_and_respects_the_gap(kind):
    frame = frame_of_times(kind)
    train, validation, test = fk.time_split(frame, test_size=0.2, validation_size=0.2, gap="7d")
    times = [pd.to_datetime(pd.Series(part["time"].to_numpy())) for part in (train, validation, test)]
    assert times[0].max() + pd.Timedelta(days=7) < times[1].min()
    assert times[1].max() + pd.Timedelta(days=7) < times[2].min()
    every = pd.to_datetime(pd.Series(frame["time"].to_numpy()))
    in_gap_before_test = ((every < times[2].min()) & (every >= times[2].min() - pd.Timedelta(days=7))).sum()
    assert abs(len(test) - 80) <= 12  # shares are rounded to whole days
    assert abs(len(validation) + in_gap_before_test - 80) <= 12  # the gap comes out of validation
    lost = len(frame) - sum(len(p) for p in (train, validation, test))
    assert lost > in_gap_before_test > 0  # the gaps dropped rows rather than moving them
    assert type(train) is type(frame)


def test_time_split_by_moments_and_on_a_matrix_index(retail):
    cutoffs = fk.make_labels(retail, "customers", pl.len(), window="30d")
    matrix, _ = fk.dfs(retail, target="customers", cutoff_time=cutoffs, agg_primitives=["count"],
                       trans_primitives=[])
    train, _, test = fk.time_split(matrix, test_start="2021-06-01")
    assert train.index.get_level_values("time").max() < pd.Timestamp("2021-06-01")
    assert test.index.get_level_values("time").min() >= pd.Timestamp("2021-06-01")
    assert len(train) + len(test) == len(matrix)
    with pytest.raises(fk.FeaturekitError, match="test part is empty"):
        fk.time_split(matrix, test_start="2030-01-01")
    with pytest.raises(fk.FeaturekitError, match="no time column"):
        fk.time_split(matrix, time_column="when")


def test_splitter_matches_time_series_split_on_distinct_sorted_times():
    frame = pd.DataFrame({"time": pd.date_range("2021-01-01", periods=24, freq="D")})
    ours = list(fk.CutoffTimeSplit(n_splits=5).split(frame))
    reference = list(TimeSeriesSplit(n_splits=5).split(frame))
    assert len(ours) == 5
    for (train, test), (train_ref, test_ref) in zip(ours, reference, strict=True):
        assert train.tolist() == train_ref.tolist() and test.tolist() == test_ref.tolist()


def test_splitter_never_trains_on_a_later_cutoff_and_works_in_cross_validation(retail):
    cutoffs = fk.make_labels(retail, "customers", lambda rows: rows.amount.sum(), window="30d", gap="15d")
    matrix, _ = fk.dfs(retail, target="customers", cutoff_time=cutoffs)
    shuffled = matrix.sample(frac=1.0, random_state=0)  # rows need not be sorted
    times = shuffled.index.get_level_values("time")
    splitter = fk.CutoffTimeSplit(n_splits=4, gap="30d")
    for train, test in splitter.split(shuffled):
        assert len(train) and len(test)
        assert times[train].max() + pd.Timedelta(days=30) < times[test].min()
    features = shuffled.drop(columns="label").select_dtypes("number").fillna(0)
    scores = cross_val_score(RandomForestRegressor(n_estimators=10, random_state=0), features,
                             shuffled["label"], cv=splitter)
    assert len(scores) == 4 and np.isfinite(scores).all()
    with pytest.raises(fk.FeaturekitError, match="cannot make 4 folds"):
        list(splitter.split(pd.DataFrame({"time": pd.date_range("2021-01-01", periods=3)})))
