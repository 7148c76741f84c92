"""compare_models: every model scored on the same time-ordered folds, failures kept as rows,
featurekit's category columns taken as they come, and validation always after training."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest
from automl_data import TimeProbe, fitted_then_validated, matrix, roc_auc
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator, ClassifierMixin, clone

import featurekit as fk
from featurekit.errors import FeaturekitError


class Broken(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        raise ValueError("boom: this model cannot fit")


def test_default_models_rank_by_mean_fold_score_and_take_categories():
    X, y = matrix()
    table = fk.automl.compare_models(X, y, cv=fk.CutoffTimeSplit(4))
    names = set(fk.automl.default_models("classification"))
    assert set(table["model"]) == names and {"lightgbm", "hist_gradient_boosting"} <= names
    assert table["error"].isna().all(), table[["model", "error"]]
    assert table["rank"].tolist() == list(range(1, len(table) + 1))
    assert table["mean_score"].is_monotonic_decreasing
    for _, row in table.iterrows():
        assert len(row["fold_scores"]) == 4
        assert row["mean_score"] == pytest.approx(np.mean(row["fold_scores"]))
        assert row["std_score"] == pytest.approx(np.std(row["fold_scores"]))
        assert row["fit_time"] > 0
    scores = table.set_index("model")["mean_score"]
    assert scores["baseline"] == pytest.approx(0.5)
    # the segment category carries signal: models that read it beat the baseline clearly
    for name in ("logistic_regression", "hist_gradient_boosting", "lightgbm", "random_forest"):
        assert scores[name] > 0.8, (name, scores[name])
    assert table.attrs["task"] == "classification" and table.attrs["scoring"] == "roc_auc"


def test_fold_scores_match_an_independent_computation():
    X, y = matrix(seed=1)
    table = fk.automl.compare_models(X, y, models=["logistic_regression"],
                                     cv=fk.CutoffTimeSplit(3, gap="7D"))
    model = fk.automl.default_models("classification")["logistic_regression"]
    expected = []
    for train, validation in fk.CutoffTimeSplit(3, gap="7D").split(X):
        fitted = clone(model).fit(X.iloc[train], y.iloc[train])
        expected.append(roc_auc(y.iloc[validation].to_numpy(),
                                fitted.predict_proba(X.iloc[validation])[:, 1]))
    assert table["fold_scores"].iloc[0] == pytest.approx(expected, abs=1e-12)


def test_a_failing_model_gets_a_row_with_its_error_and_the_others_are_kept():
    X, y = matrix()
    models = {"broken": Broken(), **{name: model for name, model in
                                     fk.automl.default_models("classification").items()
                                     if name in ("baseline", "random_forest")}}
    table = fk.automl.compare_models(X, y, models=models, cv=fk.CutoffTimeSplit(3))
    broken = table.set_index("model").loc["broken"]
    assert np.isnan(broken["mean_score"]) and broken["rank"] == 3
    assert broken["error"] == "fold 0: ValueError: boom: this model cannot fit"
    assert table.set_index("model").loc[["baseline", "random_forest"], "mean_score"].notna().all()


def test_task_is_read_from_the_target():
    X, y = matrix(task="regression")
    table = fk.automl.compare_models(X, y, models=["baseline", "ridge"], cv=fk.CutoffTimeSplit(3))
    assert table.attrs["task"] == "regression"
    assert table.attrs["scoring"] == "neg_root_mean_squared_error"
    assert table["model"].tolist() == ["ridge", "baseline"]
    # two distinct numbers are classes; strings are classes; task= overrides
    X2, labels = matrix(seed=3)
    as_numbers = labels.astype(int)
    assert fk.automl.compare_models(X2, as_numbers, models=["baseline"],
                                    cv=fk.CutoffTimeSplit(3)).attrs["task"] == "classification"
    words = labels.map({True: "churn", False: "stay"})
    table = fk.automl.compare_models(X2, words, models=["baseline"], cv=fk.CutoffTimeSplit(3))
    assert table.attrs["task"] == "classification"
    table = fk.automl.compare_models(X2, as_numbers, models=["baseline"], task="regression",
                                     cv=fk.CutoffTimeSplit(3))
    assert table.attrs["scoring"] == "neg_root_mean_squared_error"


def test_more_than_two_classes_are_scored_by_balanced_accuracy():
    X, _ = matrix(n_times=20, per_time=8, seed=8)
    y = pd.Series(np.digitize(X["signal"], [-0.5, 0.5]), index=X.index).map(
        {0: "low", 1: "mid", 2: "high"})
    table = fk.automl.compare_models(X, y, models=["baseline", "logistic_regression"],
                                     cv=fk.CutoffTimeSplit(3))
    assert table.attrs["scoring"] == "balanced_accuracy"
    scores = table.set_index("model")["mean_score"]
    assert scores["baseline"] == pytest.approx(1 / 3) and scores["logistic_regression"] > 0.7


def test_polars_input_and_a_target_column_by_name():
    X, y = matrix(seed=2)
    frame = X.assign(label=y).reset_index()
    table = fk.automl.compare_models(pl.from_pandas(frame).drop("customer_id"), "label",
                                     models=["hist_gradient_boosting"], cv=fk.CutoffTimeSplit(3))
    assert table["error"].iloc[0] is not None and "time" in table["error"].iloc[0]
    X_polars = pl.from_pandas(X.reset_index(drop=True))
    folds = list(fk.CutoffTimeSplit(3).split(X))
    table = fk.automl.compare_models(X_polars, y.to_numpy(), models=["hist_gradient_boosting"],
                                     cv=folds)
    assert table["mean_score"].iloc[0] > 0.8


def test_validation_rows_are_always_later_than_training_rows_plus_gap():
    X, y = matrix(n_times=30, per_time=5)
    TimeProbe.log.clear()
    fk.automl.compare_models(X, y, models={"probe": TimeProbe()},
                             cv=fk.CutoffTimeSplit(4, gap="14D"))
    pairs = fitted_then_validated(TimeProbe.log)
    assert len(pairs) == 4
    for training, validation in pairs:
        assert validation.min() > training.max() + np.timedelta64(14, "D")


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 60), min_size=30, max_size=80), st.integers(2, 4),
       st.integers(0, 5))
def test_no_validation_time_at_or_before_a_training_time_plus_gap(days, n_splits, gap_days):
    times = pd.Timestamp("2022-01-01") + pd.to_timedelta(np.asarray(days), unit="D")
    index = pd.MultiIndex.from_arrays([np.arange(len(days)), times], names=["id", "time"])
    X = pd.DataFrame({"a": np.arange(len(days), dtype=float)}, index=index)
    y = pd.Series(np.arange(len(days)) % 2 == 0, index=index)
    cv = fk.CutoffTimeSplit(n_splits, gap=f"{gap_days}d")
    try:
        folds = list(cv.split(X))
    except FeaturekitError:
        return  # too few distinct times for these folds: the splitter says so
    if any(y.iloc[training].nunique() < 2 for training, _ in folds):
        return  # a fold that trains on one class fails (a report row), so it is never validated
    expected = len(folds)
    TimeProbe.log.clear()
    fk.automl.compare_models(X, y, models={"probe": TimeProbe()}, cv=cv, scoring="accuracy")
    pairs = fitted_then_validated(TimeProbe.log)
    assert len(pairs) == expected
    for training, validation in pairs:
        assert validation.min() > training.max() + np.timedelta64(gap_days, "D")


@pytest.mark.parametrize("call, message", [
    (lambda X, y: fk.automl.compare_models(X, y.map(lambda _: True)), "single class"),
    (lambda X, y: fk.automl.compare_models(X.iloc[:0], y.iloc[:0]), "no rows"),
    (lambda X, y: fk.automl.compare_models(X[[]], y), "no columns"),
    (lambda X, y: fk.automl.compare_models(X, y.iloc[:-3]), "but y has"),
    (lambda X, y: fk.automl.compare_models(X, y.reset_index(drop=True)), "index differs"),
    (lambda X, y: fk.automl.compare_models(X, y, models=["svm"]), "unknown models"),
    (lambda X, y: fk.automl.compare_models(X, y, models="fast"), "not known"),
    (lambda X, y: fk.automl.compare_models(X, y, cv=5), "leaks"),
    (lambda X, y: fk.automl.compare_models(X, y, scoring="auc"), "unknown scoring"),
    (lambda X, y: fk.automl.compare_models(X, y, task="ranking"), "task must be"),
    (lambda X, y: fk.automl.compare_models(X, y.where(y.index.get_level_values(0) > 3)),
     "missing"),
])
def test_bad_input_gets_a_clear_error(call, message):
    X, y = matrix(n_times=10, per_time=4)
    with pytest.raises(FeaturekitError, match=message):
        call(X, y)


def test_the_callers_frames_are_not_changed():
    X, y = matrix(n_times=12, per_time=5)
    before_X, before_y = X.copy(), y.copy()
    fk.automl.compare_models(X, y, models=["logistic_regression", "lightgbm"],
                             cv=fk.CutoffTimeSplit(3))
    pd.testing.assert_frame_equal(X, before_X)
    pd.testing.assert_series_equal(y, before_y)


def test_prepare_columns_learns_categories_on_the_training_rows():
    train = pd.DataFrame({"c": pd.Categorical(["a", "b", "a", "c"]), "n": [1.0, np.inf, None, 2],
                          "b": pd.array([True, None, False, True], dtype="boolean")})
    prepare = fk.automl.PrepareColumns(max_categories=2).fit(train)
    assert prepare.categories_ == {"c": ["a", "b"]} or prepare.categories_ == {"c": ["a", "c"]}
    later = pd.DataFrame({"c": pd.Categorical(["a", "z", None]), "n": [1.0, 2.0, -np.inf],
                          "b": pd.array([None, True, False], dtype="boolean")})
    out = prepare.transform(later)
    assert list(out["c"].cat.categories) == prepare.categories_["c"]
    assert out["c"].isna().tolist() == [False, True, True]
    np.testing.assert_array_equal(out["n"].to_numpy(), [1.0, 2.0, np.nan])
    np.testing.assert_array_equal(out["b"].to_numpy(), [np.nan, 1.0, 0.0])
    with pytest.raises(FeaturekitError, match="hold times"):
        fk.automl.PrepareColumns().fit(pd.DataFrame({"t": pd.date_range("2021", periods=3)}))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "c", "d"])), min_size=1,
                max_size=30),
       st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "c", "d", "e"])), min_size=1,
                max_size=30),
       st.one_of(st.none(), st.integers(1, 4)), st.booleans())
def test_prepare_columns_maps_every_value_to_a_learned_category_or_missing(train, later, top,
                                                                           as_category):
    def frame(values):
        column = pd.Series(values, dtype="object")
        return pd.DataFrame({"c": column.astype("category") if as_category else column})

    fitted_on, applied_to = frame(train), frame(later)
    before = applied_to.copy()
    prepare = fk.automl.PrepareColumns(max_categories=top).fit(fitted_on)
    counts = pd.Series([v for v in train if v is not None], dtype="object").value_counts()
    learned = prepare.categories_["c"]
    assert len(learned) == min(len(counts), top or len(counts))
    # the kept categories are the most frequent ones (ties may go either way)
    left_out = counts.drop(learned)
    assert all(counts[value] >= (left_out.max() if len(left_out) else 0) for value in learned)
    out = prepare.transform(applied_to)["c"]
    assert list(out.cat.categories) == sorted(learned)
    expected = [value if value in learned else None for value in later]
    assert [None if pd.isna(v) else v for v in out.astype(object)] == expected
    pd.testing.assert_frame_equal(applied_to, before)
