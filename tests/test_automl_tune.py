"""tune: grid, random and Bayesian searches over the same time-ordered folds, featurekit's
own pipeline steps searched for real, validation always after training."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest
from automl_data import TimeProbe, fitted_then_validated, matrix, roc_auc
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

import featurekit as fk
from featurekit.automl import PrepareColumns
from featurekit.errors import FeaturekitError
from featurekit.sklearn import DeepFeatureSynthesis


def numeric_pipeline() -> Pipeline:
    return Pipeline([("prepare", PrepareColumns()),
                     ("model", HistGradientBoostingClassifier(max_iter=20, random_state=0))])


def hand_scores(estimator, params, X, y, folds) -> list[float]:
    scores = []
    for train, validation in folds:
        fitted = clone(estimator).set_params(**params).fit(X.iloc[train], y.iloc[train])
        scores.append(roc_auc(y.iloc[validation].to_numpy(),
                              fitted.predict_proba(X.iloc[validation])[:, 1]))
    return scores


@pytest.mark.parametrize("method", ["grid", "random", "bayes"])
def test_each_method_scores_candidates_on_the_same_folds(method):
    X, y = matrix(seed=4)
    space = {"model__learning_rate": [0.02, 0.3] if method == "grid" else (0.01, 0.5, "log"),
             "model__max_depth": [2, 3]}
    found = fk.automl.tune(numeric_pipeline(), space, X, y, method=method, n_iter=3,
                           cv=fk.CutoffTimeSplit(3, gap="7D"))
    expected_folds = list(fk.CutoffTimeSplit(3, gap="7D").split(X))
    assert len(found.folds_) == 3
    for (train, validation), (train2, validation2) in zip(found.folds_, expected_folds, strict=True):
        np.testing.assert_array_equal(train, train2)
        np.testing.assert_array_equal(validation, validation2)
    table = found.results_
    assert len(table) == (4 if method == "grid" else 3)
    assert table["mean_score"].is_monotonic_decreasing and table["error"].isna().all()
    assert found.best_score_ == table["mean_score"].max()
    assert found.best_params_ == table["params"].iloc[0]
    if method != "grid":
        assert 0.01 <= found.best_params_["model__learning_rate"] <= 0.5
    # the best candidate's score is what a hand-written loop over the same folds gives
    by_hand = hand_scores(numeric_pipeline(), found.best_params_, X, y, expected_folds)
    assert table["fold_scores"].iloc[0] == pytest.approx(by_hand, abs=1e-12)
    assert found.best_score_ == pytest.approx(np.mean(by_hand), abs=1e-12)
    # refitted on every row with the best parameters
    model = found.best_estimator_
    assert model.get_params()["model__max_depth"] == found.best_params_["model__max_depth"]
    assert model["model"].n_iter_ > 0 and len(model.predict(X)) == len(X)
    assert found.method == method and found.scoring == "roc_auc"


def test_bayes_is_reproducible_with_its_seed():
    X, y = matrix(seed=5)
    model = Pipeline([("prepare", PrepareColumns()), ("C", LogisticRegression())])
    space = {"C__C": (1e-3, 10.0, "log")}
    first = fk.automl.tune(model, space, X[["signal", "flag"]], y, method="bayes", n_iter=4,
                           cv=fk.CutoffTimeSplit(3), random_state=3)
    again = fk.automl.tune(model, space, X[["signal", "flag"]], y, method="bayes", n_iter=4,
                           cv=fk.CutoffTimeSplit(3), random_state=3)
    assert first.results_["params"].tolist() == again.results_["params"].tolist()
    assert first.search_.__class__.__name__ == "Study"


def test_searching_featurekit_steps_for_real(retail):
    labels = fk.make_labels(retail, "customers", pl.col("amount").sum() > 60, window="30d")
    X, y = labels[["customer_id", "time"]], labels["label"]
    pipeline = Pipeline([
        ("deepfeaturesynthesis", DeepFeatureSynthesis(
            retail, "customers", cutoff_time_column="time", agg_primitives=["count", "sum", "mean"],
            trans_primitives=[], training_window="60d")),
        ("prepare", PrepareColumns()),
        ("model", HistGradientBoostingClassifier(max_iter=15, random_state=0)),
    ])
    cv = fk.CutoffTimeSplit(3, gap="30d")
    found = fk.automl.tune(pipeline, {"deepfeaturesynthesis__max_depth": [1, 2]},
                           X, y, method="grid", cv=cv)
    assert len(found.results_) == 2 and found.results_["mean_score"].notna().all()
    times = X["time"].to_numpy()
    for train, validation in found.folds_:  # every fold actually used is later than training
        assert times[validation].min() > times[train].max() + np.timedelta64(30, "D")
    by_hand = hand_scores(pipeline, found.best_params_, X, y, found.folds_)
    assert found.results_["fold_scores"].iloc[0] == pytest.approx(by_hand, abs=1e-12)
    depth = found.best_params_["deepfeaturesynthesis__max_depth"]
    assert found.best_estimator_["deepfeaturesynthesis"].max_depth == depth
    deeper = [f for f in found.best_estimator_["deepfeaturesynthesis"].feature_names_ if "." in f
              and f.count("(") > 1]
    assert bool(deeper) == (depth == 2)


def test_searching_time_series_settings_and_fdr_level():
    from featurekit.sklearn import RelevantFeatures, TimeSeriesFeatures

    series, labels = fk.demo.load_labelled_series(n_per_class=12)
    binary = labels == labels.iloc[0]
    X = pd.DataFrame(index=binary.index)
    pipeline = Pipeline([
        ("timeseriesfeatures", TimeSeriesFeatures(series, column_id="id", column_sort="time",
                                                  impute=True)),
        ("relevantfeatures", RelevantFeatures(on_empty="warn")),
        ("model", LogisticRegression(max_iter=500)),
    ])
    order = np.arange(len(X))
    folds = [(order[order % 3 != k], order[order % 3 == k]) for k in range(3)]
    found = fk.automl.tune(pipeline, {"timeseriesfeatures__settings": [{"mean": None},
                                                                       {"maximum": None,
                                                                        "standard_deviation": None}],
                                      "relevantfeatures__fdr_level": [0.05, 0.5]},
                           X, binary, method="bayes", n_iter=3, cv=folds)
    assert len(found.results_) == 3
    assert found.best_params_["timeseriesfeatures__settings"] in (
        {"mean": None}, {"maximum": None, "standard_deviation": None})
    names = found.best_estimator_["timeseriesfeatures"].get_feature_names_out()
    assert all("__" in name for name in names)


@pytest.mark.parametrize("method", ["grid", "random", "bayes"])
def test_validation_rows_are_always_later_than_training_rows_plus_gap(method):
    X, y = matrix(n_times=25, per_time=4)
    TimeProbe.log.clear()
    space = {"shift": [0.3, 0.6]} if method == "grid" else {"shift": (0.2, 0.8)}
    found = fk.automl.tune(TimeProbe(), space, X, y, method=method, n_iter=3,
                           cv=fk.CutoffTimeSplit(4, gap="21D"), scoring="accuracy")
    pairs = fitted_then_validated(TimeProbe.log)
    assert len(pairs) == len(found.results_) * 4  # every candidate on every fold
    for training, validation in pairs:
        assert validation.min() > training.max() + np.timedelta64(21, "D")


def test_a_failing_candidate_is_reported_and_the_others_kept():
    X, y = matrix(seed=6)
    model = Pipeline([("prepare", PrepareColumns()), ("model", LogisticRegression())])
    found = fk.automl.tune(model, {"model__C": [1.0, -1.0]}, X[["signal"]], y,
                           cv=fk.CutoffTimeSplit(3))
    assert found.best_params_ == {"model__C": 1.0}
    failed = found.results_.iloc[1]
    assert np.isnan(failed["mean_score"])
    assert failed["error"].startswith("failed on some fold: InvalidParameterError: The 'C' ")
    found = fk.automl.tune(model, {"model__C": [1.0, -1.0]}, X[["signal"]], y, method="bayes",
                           n_iter=4, cv=fk.CutoffTimeSplit(3))
    failed = found.results_[found.results_["param_model__C"] == -1.0]
    assert found.best_params_ == {"model__C": 1.0} and failed["mean_score"].isna().all()
    assert failed["error"].str.startswith("fold 0: InvalidParameterError").all()
    with pytest.raises(FeaturekitError, match="every candidate failed"):
        fk.automl.tune(model, {"model__C": [-1.0, -2.0]}, X[["signal"]], y,
                       cv=fk.CutoffTimeSplit(3))


@pytest.mark.parametrize("kwargs, message", [
    ({"method": "annealing"}, "unknown method"),
    ({"space": {"model__depth": [1]}}, "not parameters"),
    ({"space": {"model__C": (1.0, 2.0)}}, "grid search needs a list"),
    ({"space": {"model__C": (2.0, 1.0)}, "method": "random"}, "low < high"),
    ({"space": {}}, "non-empty dict"),
    ({"space": {"model__C": []}}, "no values"),
    ({"n_iter": 0, "method": "random"}, "n_iter"),
    ({"y": "label"}, "names no column"),
    ({"y": np.zeros(40, dtype=bool)}, "single class"),
])
def test_bad_input_gets_a_clear_error(kwargs, message):
    X, y = matrix(n_times=10, per_time=4)
    model = Pipeline([("prepare", PrepareColumns()), ("model", LogisticRegression())])
    arguments = {"estimator": model, "space": {"model__C": [1.0]}, "X": X, "y": y, **kwargs}
    with pytest.raises(FeaturekitError, match=message):
        fk.automl.tune(**arguments)


def test_a_missing_optional_dependency_names_the_extra(monkeypatch):
    import sys

    X, y = matrix(n_times=10, per_time=4)
    monkeypatch.setitem(sys.modules, "optuna", None)  # as if optuna were not installed
    with pytest.raises(FeaturekitError, match=r"pip install 'featurekit\[automl\]'"):
        fk.automl.tune(LogisticRegression(), {"C": (0.1, 1.0)}, X[["signal"]], y,
                       method="bayes", cv=fk.CutoffTimeSplit(3))
    report = fk.automl.evaluate(LogisticRegression().fit(X[["signal"]], y), X[["signal"]], y,
                                permutation=False)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(FeaturekitError, match=r"matplotlib.*featurekit\[automl\]"):
        report.save_figures("unused")
