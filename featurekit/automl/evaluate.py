"""``evaluate``: the metrics, tables and importances a data scientist reads for a fitted
model on a held-out test set (the figures and the HTML page are in ``report.py``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from featurekit.arguments import check_count, check_flag
from featurekit.automl._inputs import infer_task, read_scoring, read_xy
from featurekit.automl.report import EvaluationReport
from featurekit.errors import FeaturekitError

CALIBRATION_BINS = 10


def evaluate(model: Any, X_test: Any, y_test: Any, task: str | None = None,
             permutation: bool = True, n_repeats: int = 5, random_state: int = 0) -> EvaluationReport:
    """Evaluate a fitted ``model`` (an estimator, a Pipeline or a ``tune`` result) on a test set.

    Classification: ROC AUC, PR AUC (average precision), log loss, accuracy, Brier score, the
    confusion matrix and a calibration table (10 equal-width bins of the predicted
    probability of the positive class, ``model.classes_[1]``); for more than two classes,
    accuracy, balanced accuracy, log loss, one-vs-rest ROC AUC and the confusion matrix.
    Regression: MAE, RMSE, R² and a summary of the residuals (actual − predicted). Both: the
    model's own feature importance (``feature_importances_`` or absolute ``coef_``) when it
    has one, and permutation importance on the test set (``n_repeats`` shuffles of each
    column of ``X_test``; ``permutation=False`` skips it). ``report.figures`` draws the plots
    (matplotlib), ``report.to_html(path)`` writes one self-contained page.

    Examples
    --------
    >>> import numpy as np, pandas as pd, featurekit as fk
    >>> from sklearn.linear_model import LinearRegression
    >>> X = pd.DataFrame({"a": np.arange(20.0)})
    >>> model = LinearRegression().fit(X, 2 * X["a"])
    >>> y_test = 2 * X["a"] + np.tile([0.5, -0.5], 10)     # off by 0.5 on every row
    >>> report = fk.automl.evaluate(model, X, y_test, permutation=False)
    >>> round(report.metrics["mae"], 3)
    0.5
    """
    who = "evaluate"
    estimator = getattr(model, "best_estimator_", model)
    if not hasattr(estimator, "predict"):
        raise FeaturekitError(f"{who}: model must be a fitted estimator, got "
                              f"{type(model).__name__}. Fix: pass a fitted model or pipeline")
    check_flag("permutation", permutation)
    check_count("n_repeats", n_repeats, low=1, optional=False)
    X_test, y_test = read_xy(X_test, y_test, who)
    if task is None and hasattr(estimator, "predict_proba") and hasattr(estimator, "classes_"):
        task = "classification"
    task = infer_task(y_test, task, who)
    predicted = np.asarray(estimator.predict(X_test))
    if task == "classification":
        content = _classification(estimator, X_test, y_test, predicted)
    else:
        content = _regression(y_test, predicted)
    content["importance"] = _model_importance(estimator, X_test)
    if permutation:
        from sklearn.inspection import permutation_importance

        scoring_name, scorer = read_scoring(None, task, y_test, who)
        found = permutation_importance(estimator, X_test, y_test, scoring=scorer,
                                       n_repeats=n_repeats, random_state=random_state)
        names = [str(c) for c in X_test.columns] if isinstance(X_test, pd.DataFrame) else \
            [f"x{i}" for i in range(X_test.shape[1])]
        content["permutation_importance"] = pd.DataFrame(
            {"feature": names, "importance_mean": found.importances_mean,
             "importance_std": found.importances_std}).sort_values(
            "importance_mean", ascending=False, kind="stable").reset_index(drop=True)
        content["permutation_importance"].attrs["scoring"] = scoring_name
    return EvaluationReport(task=task, n_rows=len(y_test), **content)


def _classification(estimator: Any, X: Any, y: pd.Series, predicted: np.ndarray) -> dict:
    from sklearn import metrics

    classes = np.asarray(getattr(estimator, "classes_", np.unique(y)))
    unseen = sorted(set(pd.unique(y)) - set(classes.tolist()), key=str)
    if unseen:
        raise FeaturekitError(f"evaluate: the test target has classes the model never saw: "
                              f"{unseen[:5]}. Fix: train on data with every class")
    if not hasattr(estimator, "predict_proba"):
        raise FeaturekitError("evaluate: the model has no predict_proba, so ROC AUC, log loss "
                              "and calibration cannot be computed. Fix: use a classifier with "
                              "probabilities (e.g. SVC(probability=True))")
    probabilities = np.asarray(estimator.predict_proba(X))
    truth = y.to_numpy()
    matrix = metrics.confusion_matrix(truth, predicted, labels=classes)
    confusion = pd.DataFrame(matrix, index=pd.Index(classes, name="actual"),
                             columns=pd.Index(classes, name="predicted"))
    result: dict[str, Any] = {"confusion_matrix": confusion, "classes": classes.tolist()}
    values = {"accuracy": float(np.mean(predicted == truth)),
              "log_loss": float(metrics.log_loss(truth, probabilities, labels=classes))}
    if len(classes) == 2:
        positive = truth == classes[1]
        score = probabilities[:, 1]
        values["roc_auc"] = float(metrics.roc_auc_score(positive, score))
        values["pr_auc"] = float(metrics.average_precision_score(positive, score))
        values["brier"] = float(np.mean((score - positive) ** 2))
        values["positive_rate"] = float(positive.mean())
        false_positive, true_positive, _ = metrics.roc_curve(positive, score)
        precision, recall, _ = metrics.precision_recall_curve(positive, score)
        result["curves"] = {"roc": (false_positive, true_positive), "pr": (recall, precision)}
        result["calibration"] = _calibration(positive, score)
    else:
        values["balanced_accuracy"] = float(metrics.balanced_accuracy_score(truth, predicted))
        present = np.isin(classes, truth)
        if present.all():
            values["roc_auc_ovr"] = float(metrics.roc_auc_score(truth, probabilities,
                                                                multi_class="ovr",
                                                                labels=classes))
    order = ["roc_auc", "pr_auc", "roc_auc_ovr", "log_loss", "accuracy", "balanced_accuracy",
             "brier", "positive_rate"]
    result["metrics"] = {name: values[name] for name in order if name in values}
    return result


def _calibration(positive: np.ndarray, score: np.ndarray) -> pd.DataFrame:
    """Predicted probability against observed frequency in equal-width bins (empty bins
    left out), with each bin's row count."""
    bins = np.minimum((score * CALIBRATION_BINS).astype(int), CALIBRATION_BINS - 1)
    counts = np.bincount(bins, minlength=CALIBRATION_BINS)
    predicted = np.bincount(bins, weights=score, minlength=CALIBRATION_BINS)
    observed = np.bincount(bins, weights=positive.astype(float), minlength=CALIBRATION_BINS)
    used = counts > 0
    edges = np.arange(CALIBRATION_BINS) / CALIBRATION_BINS
    return pd.DataFrame({"bin_low": edges[used], "bin_high": edges[used] + 1 / CALIBRATION_BINS,
                         "mean_predicted": predicted[used] / counts[used],
                         "fraction_positive": observed[used] / counts[used],
                         "count": counts[used]})


def _regression(y: pd.Series, predicted: np.ndarray) -> dict:
    truth = y.to_numpy(dtype=float)
    predicted = predicted.astype(float)
    residuals = truth - predicted
    total = np.sum((truth - truth.mean()) ** 2)
    values = {"mae": float(np.mean(np.abs(residuals))),
              "rmse": float(np.sqrt(np.mean(residuals ** 2))),
              "r2": float(1 - np.sum(residuals ** 2) / total) if total > 0 else float("nan")}
    summary = pd.Series({"mean": residuals.mean(), "std": residuals.std(ddof=1),
                         "min": residuals.min(),
                         **{f"q{int(q * 100):02d}": np.quantile(residuals, q)
                            for q in (0.05, 0.25, 0.5, 0.75, 0.95)},
                         "max": residuals.max(),
                         "median_absolute": np.median(np.abs(residuals))}, name="residual")
    return {"metrics": values, "residuals": summary,
            "predictions": pd.DataFrame({"actual": truth, "predicted": predicted,
                                         "residual": residuals})}


def _model_importance(estimator: Any, X: Any) -> pd.DataFrame | None:
    """The final model's own importance (impurity-based, or absolute coefficients) by
    the names of the columns it was fitted on; None when it has none."""
    final = estimator[-1] if hasattr(estimator, "steps") else estimator
    if hasattr(final, "feature_importances_"):
        values, kind = np.asarray(final.feature_importances_, dtype=float), "feature_importances_"
    elif hasattr(final, "coef_"):
        coefficients = np.atleast_2d(np.asarray(final.coef_, dtype=float))
        values, kind = np.abs(coefficients).mean(axis=0), "|coef_|"
    else:
        return None
    names = None
    if hasattr(estimator, "steps") and len(estimator.steps) > 1:
        try:
            names = list(estimator[:-1].get_feature_names_out())
        except (AttributeError, ValueError, TypeError):
            names = None
    if names is None:
        names = list(getattr(final, "feature_names_in_", [])) or None
    if names is None or len(names) != len(values):
        names = [f"x{i}" for i in range(len(values))]
    frame = pd.DataFrame({"feature": [str(n) for n in names], "importance": values})
    frame = frame.sort_values("importance", ascending=False, kind="stable").reset_index(drop=True)
    frame.attrs["kind"] = kind
    return frame
