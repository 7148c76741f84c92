"""Arguments of plan, dfs and compute: every wrong one gets a featurekit error naming it and
the fix; the progress bar shows on long work when asked and never with ``verbose=False``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import featurekit as fk
from featurekit.engine import progress


@pytest.mark.parametrize("depth", ["2", 1.5, -2, True, "deep"])  # -1: no limit
def test_max_depth_must_be_a_whole_number(retail, depth):
    with pytest.raises(fk.PlanError, match="max_depth must be a whole number"):
        fk.dfs(retail, target="customers", max_depth=depth)


def test_max_depth_takes_numpy_integers(retail):
    assert fk.plan(retail, target="customers", max_depth=np.int64(1)) == fk.plan(
        retail, target="customers", max_depth=1)


def test_an_include_filter_that_matches_nothing_names_the_patterns(retail):
    with pytest.raises(fk.PlanError, match=r"include=\['NOPE\*'\] matches none of the .* features "
                                           r"planned for 'customers' \(e.g. \["):
        fk.dfs(retail, target="customers", include=["NOPE*"])
    with pytest.raises(fk.FeaturekitError, match="include takes a list of names"):
        fk.plan(retail, target="customers", include="COUNT*")


@pytest.mark.parametrize("window", ["", "soon", "0d", "-2h", 7, True])
def test_training_window_must_be_a_positive_duration(retail, window):
    with pytest.raises(fk.FeaturekitError, match="training_window"):
        fk.dfs(retail, target="customers", cutoff_time="2021-06-01", training_window=window)


def test_a_cutoff_time_column_named_like_a_feature_is_refused_with_the_fix():
    customers = pd.DataFrame({"customer_id": [1, 2], "time": [3.0, 4.0],
                              "joined": pd.to_datetime(["2020-01-01"] * 2)})
    es = fk.EntitySet("clash")
    es.add_table("customers", customers, index="customer_id", time_index="joined")
    features = fk.plan(es, target="customers", trans_primitives=[])
    assert "time" in [f.name for f in features]
    cutoffs = pd.DataFrame({"customer_id": [1], "time": pd.to_datetime(["2021-01-01"])})
    with pytest.raises(fk.ComputeError, match=r"time column 'time' has the name of a feature .* "
                                              r"time_column='cutoff_time'"):
        fk.compute(es, features, cutoff_time=cutoffs)
    renamed = cutoffs.rename(columns={"time": "cutoff_time"})
    matrix = fk.compute(es, features, cutoff_time=renamed, time_column="cutoff_time")
    assert matrix["time"].tolist() == [3.0]


def test_cutoff_columns_with_internal_names_are_refused(retail):
    features = fk.plan(retail, target="customers", max_depth=1)
    cutoffs = pd.DataFrame({"customer_id": [1], "time": pd.to_datetime(["2021-01-01"]),
                            "__featurekit_cut": [1]})
    with pytest.raises(fk.FeaturekitError, match=r"\['__featurekit_cut'\].*Fix: rename them"):
        fk.compute(retail, features, cutoff_time=cutoffs)


def test_the_progress_bar_shows_when_asked_and_never_when_silenced(retail, capsys, monkeypatch):
    monkeypatch.setattr(progress, "SHOW_AFTER_SECONDS", 0)
    features = fk.plan(retail, target="customers", max_depth=2)
    expected = fk.compute(retail, features, verbose=False)
    assert capsys.readouterr().err == ""
    shown = fk.compute(retail, features, verbose=True)
    err = capsys.readouterr().err
    assert "featurekit compute" in err and "step" in err
    pd.testing.assert_frame_equal(shown, expected)
    fk.compute(retail, features)  # not a terminal: no bar by default
    assert "featurekit compute" not in capsys.readouterr().err
    with pytest.raises(fk.ComputeError, match="verbose must be True, False or None"):
        fk.compute(retail, features, verbose="yes")
    _, dfs_features = fk.dfs(retail, target="customers", verbose=True, max_depth=1)
    assert "featurekit compute" in capsys.readouterr().err


def test_planned_steps_count_paths_and_parents(retail):
    features = fk.plan(retail, target="customers", max_depth=2)
    # customers <- sessions, customers <- sessions <- transactions, sessions <- transactions,
    # transactions -> products ... each once
    assert 3 <= progress.planned_steps(features) <= 8


@pytest.mark.parametrize("name, params, parameter", [
    ("n_most_common", {"n": 0}, "n"), ("n_most_common", {"n": -1}, "n"),
    ("n_most_common", {"n": 1.5}, "n"), ("n_most_common", {"n": True}, "n"),
    ("n_most_common", {"n": "3"}, "n"),
    ("time_since_first", {"unit": "fortnights"}, "unit"),
    ("time_since_last", {"unit": None}, "unit"),
    ("avg_time_between", {"unit": "parsecs"}, "unit"),
    ("time_since_previous", {"unit": "eons"}, "unit"),
    ("haversine", {"unit": "leagues"}, "unit"),
    ("lag", {"periods": -1}, "periods"), ("lag", {"periods": 1.5}, "periods"),
    ("entropy", {"base": 1}, "base"), ("entropy", {"base": -2}, "base"),
    ("entropy", {"base": "e"}, "base"), ("entropy", {"base": float("inf")}, "base"),
    ("entropy", {"dropna": "yes"}, "dropna"),
])
def test_primitive_parameters_are_checked_when_the_primitive_is_made(name, params, parameter):
    cls = type(fk.primitives.get_primitive(name))
    with pytest.raises(fk.PlanError, match=rf"primitive '{name}': parameter {parameter}=.* must be"):
        cls(**params)


def test_every_builtin_primitive_accepts_its_own_defaults():
    for row in fk.primitives.list_primitives(include_custom=False):
        primitive = fk.primitives.get_primitive(row["name"])
        assert type(primitive)(**primitive.params) == primitive


def test_n_most_common_of_one_is_one_column_of_the_most_frequent_value(retail, tables):
    from featurekit.primitives.aggregation import NMostCommon

    matrix, features = fk.dfs(retail, target="customers", agg_primitives=[NMostCommon(n=1)],
                              trans_primitives=[], max_depth=1)
    column = "N_MOST_COMMON(sessions.device, n=1)"
    assert [f.name for f in features] == ["zip_code", column]
    sessions = tables["sessions"].sort_values(["session_start", "session_id"])
    for customer, rows in sessions.groupby("customer_id"):
        counts = rows.device.value_counts(sort=False)  # first appearance order on ties
        expected = counts.index[counts.argmax()]
        assert matrix.loc[customer, column] == expected
