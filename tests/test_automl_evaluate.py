"""evaluate: every metric equals a plain numpy computation, figures render to PNG files with
the expected titles, and the HTML report stands alone."""

from __future__ import annotations

import base64
import re

import numpy as np
import pandas as pd
import pytest
from automl_data import matrix, roc_auc
from sklearn.linear_model import LinearRegression, LogisticRegression

import featurekit as fk
from featurekit.errors import FeaturekitError

PNG = b"\x89PNG\r\n\x1a\n"


def binary_case():
    X, y = matrix(n_times=30, per_time=10, seed=11)
    train = X.index.get_level_values("time") < X.index.get_level_values("time")[200]
    model = fk.automl.default_models("classification")["logistic_regression"]
    model.fit(X[train], y[train])
    return model, X[~train], y[~train]


def test_classification_metrics_equal_numpy():
    model, X, y = binary_case()
    report = fk.automl.evaluate(model, X, y, n_repeats=3)
    truth = y.to_numpy()
    score = model.predict_proba(X)[:, 1]
    predicted = model.predict(X)
    # average precision: mean of the precision at each positive, ranked by score (no ties)
    order = np.argsort(-score)
    hits = truth[order].astype(float)
    precision_at = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    average_precision = np.sum(precision_at * hits) / hits.sum()
    clipped = np.clip(score, 1e-15, 1 - 1e-15)
    expected = {
        "roc_auc": roc_auc(truth, score),
        "pr_auc": average_precision,
        "log_loss": -np.mean(truth * np.log(clipped) + (1 - truth) * np.log(1 - clipped)),
        "accuracy": np.mean(predicted == truth),
        "brier": np.mean((score - truth) ** 2),
        "positive_rate": truth.mean(),
    }
    assert list(report.metrics) == list(expected)
    for name, value in expected.items():
        assert report.metrics[name] == pytest.approx(value, rel=1e-9), name
    counts = [[np.sum((truth == a) & (predicted == b)) for b in (False, True)] for a in (False, True)]
    assert report.confusion_matrix.to_numpy().tolist() == counts
    # calibration: ten equal-width bins of the score
    bins = np.floor(score * 10).clip(0, 9)
    calibration = report.calibration
    assert calibration["count"].sum() == len(y)
    for _, row in calibration.iterrows():
        inside = bins == round(row["bin_low"] * 10)
        assert row["count"] == inside.sum()
        assert row["mean_predicted"] == pytest.approx(score[inside].mean())
        assert row["fraction_positive"] == pytest.approx(truth[inside].mean())
    # the signal and the segment matter, the noise does not
    top = report.permutation_importance["feature"].iloc[:2].tolist()
    assert set(top) == {"signal", "segment"}
    noise = report.permutation_importance.set_index("feature").loc["noise", "importance_mean"]
    assert abs(noise) < 0.02
    assert report.importance.attrs["kind"] == "|coef_|"
    names = model[:-1].get_feature_names_out()
    by_name = dict(zip(names, np.abs(model[-1].coef_[0]), strict=True))
    assert dict(zip(report.importance["feature"], report.importance["importance"],
                    strict=True)) == pytest.approx(by_name)
    assert report.importance["importance"].is_monotonic_decreasing
    assert by_name["signal"] > by_name["noise"]


def test_regression_metrics_and_residuals_equal_numpy():
    X, y = matrix(n_times=20, per_time=10, seed=12, task="regression")
    model = fk.automl.default_models("regression")["ridge"].fit(X.iloc[:150], y.iloc[:150])
    report = fk.automl.evaluate(model, X.iloc[150:], y.iloc[150:], permutation=False)
    truth, predicted = y.iloc[150:].to_numpy(), model.predict(X.iloc[150:])
    residual = truth - predicted
    assert report.metrics["mae"] == pytest.approx(np.mean(np.abs(residual)))
    assert report.metrics["rmse"] == pytest.approx(np.sqrt(np.mean(residual ** 2)))
    assert report.metrics["r2"] == pytest.approx(
        1 - np.sum(residual ** 2) / np.sum((truth - truth.mean()) ** 2))
    assert report.residuals["mean"] == pytest.approx(residual.mean())
    assert report.residuals["q50"] == pytest.approx(np.median(residual))
    assert report.residuals["max"] == pytest.approx(residual.max())
    assert report.permutation_importance is None and report.confusion_matrix is None


def test_multiclass_metrics():
    X, y = matrix(n_times=20, per_time=10, seed=13)
    classes = pd.Series(np.where(X["signal"] > 0.5, "high", np.where(X["signal"] < -0.5, "low",
                                                                      "mid")), index=X.index)
    model = LogisticRegression().fit(X[["signal"]].iloc[:150], classes.iloc[:150])
    report = fk.automl.evaluate(model, X[["signal"]].iloc[150:], classes.iloc[150:],
                                permutation=False)
    truth, predicted = classes.iloc[150:].to_numpy(), model.predict(X[["signal"]].iloc[150:])
    assert report.metrics["accuracy"] == pytest.approx(np.mean(truth == predicted))
    recalls = [np.mean(predicted[truth == c] == c) for c in np.unique(truth)]
    assert report.metrics["balanced_accuracy"] == pytest.approx(np.mean(recalls))
    assert report.confusion_matrix.to_numpy().sum() == len(truth)
    assert list(report.confusion_matrix.index) == ["high", "low", "mid"]
    assert "Confusion matrix" in report.figures and "ROC curve" not in report.figures


def test_figures_render_to_png_files_with_their_titles(tmp_path):
    model, X, y = binary_case()
    report = fk.automl.evaluate(model, X, y, n_repeats=2)
    expected = {"ROC curve", "Precision-recall curve", "Calibration curve", "Confusion matrix",
                "Feature importance (model)", "Permutation importance (test set)"}
    assert set(report.figures) == expected
    for title, figure in report.figures.items():
        assert figure.axes[0].get_title() == title
    paths = report.save_figures(tmp_path / "figures")
    assert len(paths) == len(expected)
    for path in paths:
        content = path.read_bytes()
        assert content.startswith(PNG) and len(content) > 5000
    X_r, y_r = matrix(n_times=10, per_time=10, seed=14, task="regression")
    regression = fk.automl.evaluate(
        LinearRegression().fit(X_r[["signal"]], y_r), X_r[["signal"]], y_r, n_repeats=2)
    assert set(regression.figures) == {"Residuals vs predicted", "Residual distribution",
                                       "Predicted vs actual", "Feature importance (model)",
                                       "Permutation importance (test set)"}
    for title, figure in regression.figures.items():
        assert figure.axes[0].get_title() == title
    for path in regression.save_figures(tmp_path / "regression"):
        assert path.read_bytes().startswith(PNG)


def test_html_report_is_one_self_contained_file(tmp_path):
    model, X, y = binary_case()
    report = fk.automl.evaluate(model, X, y, n_repeats=2)
    path = report.to_html(tmp_path / "report.html")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]
    page = path.read_text()
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == len(report.figures)
    assert all(base64.b64decode(image).startswith(PNG) for image in images)
    assert not re.search(r'(src|href)="(?!data:)', page)  # nothing outside the file
    assert f"{report.metrics['roc_auc']:.4g}" in page and "Confusion matrix" in page
    shown = report._repr_html_()  # a notebook shows the same tables and figures
    assert shown.count("<img") == len(report.figures)
    assert shown.split("<h2>Confusion matrix</h2>")[0] in page


@pytest.mark.parametrize("change, message", [
    (lambda X, y: (X, y.map(lambda _: True)), "single class"),
    (lambda X, y: (X.iloc[:0], y.iloc[:0]), "no rows"),
    (lambda X, y: (X, y.iloc[:-1]), "but y has"),
    (lambda X, y: (X, y.map({True: "yes", False: "no"})), "never saw"),
])
def test_bad_input_gets_a_clear_error(change, message):
    model, X, y = binary_case()
    X, y = change(X, y)
    with pytest.raises(FeaturekitError, match=message):
        fk.automl.evaluate(model, X, y, permutation=False)


def test_tune_results_are_evaluated_through_their_best_estimator():
    X, y = matrix(n_times=20, per_time=8, seed=15)
    found = fk.automl.tune(LogisticRegression(), {"C": [0.1, 1.0]}, X[["signal"]], y,
                           cv=fk.CutoffTimeSplit(3))
    report = fk.automl.evaluate(found, X[["signal"]], y, permutation=False)
    direct = fk.automl.evaluate(found.best_estimator_, X[["signal"]], y, permutation=False)
    assert report.metrics == direct.metrics
