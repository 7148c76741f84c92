"""Checks shared by the automl functions: the feature matrix and target, the task, the scorer
and the cross-validation folds, read once per call before any model is fitted."""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
import pandas as pd
import polars as pl

from featurekit.errors import FeaturekitError

TASKS = ("classification", "regression")
EXTRA = "pip install 'featurekit[automl]'"


def require(module: str, purpose: str, extra: str = "automl") -> Any:
    """Import an optional dependency, or raise an error naming the extra that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise FeaturekitError(f"{purpose} needs {module}, which is not installed. Fix: "
                              f"pip install 'featurekit[{extra}]'") from None


def read_matrix(X: Any, who: str, need_columns: bool = True) -> pd.DataFrame | Any:
    """``X`` as a pandas frame (polars is converted, pandas passed as is, never copied or
    changed); arrays are kept as they are. A matrix without rows is refused, and one
    without columns unless the model makes its own features (``need_columns=False``: a
    pipeline starting with featurekit's ``TimeSeriesFeatures`` takes ids in the index)."""
    if isinstance(X, pl.LazyFrame):
        X = X.collect()
    if isinstance(X, pl.DataFrame):
        X = X.to_pandas()
    if X is None:
        raise FeaturekitError(f"{who}: X is None. Fix: pass the feature matrix")
    shape = getattr(X, "shape", None)
    if shape is None:
        X = np.asarray(X)
        shape = X.shape
    if len(shape) != 2:
        raise FeaturekitError(f"{who}: X must be a table (rows x features), got shape {shape}. "
                              "Fix: pass a DataFrame or a 2-d array")
    if shape[0] == 0:
        raise FeaturekitError(f"{who}: X has no rows. Fix: pass a non-empty feature matrix")
    if shape[1] == 0 and need_columns:
        raise FeaturekitError(f"{who}: X has no columns. Fix: pass at least one feature")
    return X


def read_xy(X: Any, y: Any, who: str, need_columns: bool = True) -> tuple[Any, pd.Series]:
    """The matrix and target, checked: ``y`` may name a column of ``X`` (it is then taken out
    of the features); lengths must agree; a pandas ``y`` with a different index is refused
    rather than aligned silently; missing targets are refused with their count."""
    X = read_matrix(X, who, need_columns)
    if isinstance(y, str):
        if not isinstance(X, pd.DataFrame) or y not in X.columns:
            raise FeaturekitError(f"{who}: y={y!r} names no column of X. Fix: pass the target "
                                  "values, or the name of X's target column")
        X, y = X.drop(columns=[y]), X[y]
        if X.shape[1] == 0 and need_columns:
            raise FeaturekitError(f"{who}: X has no columns besides the target. Fix: pass features")
    if y is None:
        raise FeaturekitError(f"{who}: y is None. Fix: pass one target value per row of X")
    if isinstance(y, pl.Series):
        y = y.to_pandas()
    if isinstance(y, pd.DataFrame):
        if y.shape[1] != 1:
            raise FeaturekitError(f"{who}: y has {y.shape[1]} columns. Fix: pass one target column")
        y = y.iloc[:, 0]
    if not isinstance(y, pd.Series):
        values = np.asarray(y)
        if values.ndim != 1:
            raise FeaturekitError(f"{who}: y must be one value per row, got shape {values.shape}. "
                                  "Fix: pass a 1-d array or a Series")
        y = pd.Series(values, index=X.index if isinstance(X, pd.DataFrame) else None)
    if len(y) != X.shape[0]:
        raise FeaturekitError(f"{who}: X has {X.shape[0]} rows but y has {len(y)} values. Fix: "
                              "pass one target value per row of X, in the same order")
    if isinstance(X, pd.DataFrame) and not y.index.equals(X.index):
        raise FeaturekitError(f"{who}: y's index differs from X's index. Fix: pass y with X's "
                              "index (or y.to_numpy() to match by position)")
    missing = int(y.isna().sum())
    if missing:
        raise FeaturekitError(f"{who}: {missing} target values are missing. Fix: drop those rows "
                              "from X and y (rows are never dropped silently)")
    return X, y


def infer_task(y: pd.Series, task: str | None, who: str) -> str:
    """``task`` if given, else read from ``y``: booleans, categories, strings and numbers with
    exactly two distinct values are classification; other numbers are regression."""
    if task is not None:
        if task not in TASKS:
            raise FeaturekitError(f"{who}: task must be one of {TASKS}, got {task!r}. Fix: pass "
                                  "task='classification' or task='regression' (or None to infer)")
        chosen = task
    elif (pd.api.types.is_bool_dtype(y) or isinstance(y.dtype, pd.CategoricalDtype)
          or pd.api.types.is_object_dtype(y) or pd.api.types.is_string_dtype(y)):
        chosen = "classification"
    elif pd.api.types.is_numeric_dtype(y):
        chosen = "classification" if y.nunique() == 2 else "regression"
    else:
        raise FeaturekitError(f"{who}: cannot tell the task from a target of type {y.dtype}. "
                              "Fix: pass task='classification' or task='regression'")
    if chosen == "classification":
        classes = y.nunique()
        if classes < 2:
            raise FeaturekitError(f"{who}: the target has a single class ({y.iloc[0]!r}); there is "
                                  "nothing to classify. Fix: use labels with at least two classes "
                                  "(a longer period, or another threshold)")
    else:
        if not pd.api.types.is_numeric_dtype(y) or pd.api.types.is_bool_dtype(y):
            raise FeaturekitError(f"{who}: regression needs a numeric target, got {y.dtype}. "
                                  "Fix: pass task='classification' or a numeric target")
        if y.nunique() < 2:
            raise FeaturekitError(f"{who}: the target is constant ({y.iloc[0]!r}). Fix: pass a "
                                  "target that varies")
    return chosen


def default_scoring(task: str, y: pd.Series) -> str:
    """ROC AUC for two classes, balanced accuracy for more, negated RMSE for regression
    (scikit-learn's convention: higher is always better)."""
    if task == "regression":
        return "neg_root_mean_squared_error"
    return "roc_auc" if y.nunique() == 2 else "balanced_accuracy"


def read_scoring(scoring: Any, task: str, y: pd.Series, who: str) -> tuple[str, Any]:
    """(name, scorer) for ``scoring``: None (the task's default), a scikit-learn scorer name
    or a scorer callable ``scorer(estimator, X, y)``."""
    from sklearn.metrics import get_scorer, get_scorer_names

    if scoring is None:
        scoring = default_scoring(task, y)
    if isinstance(scoring, str):
        if scoring not in get_scorer_names():
            import difflib

            close = difflib.get_close_matches(scoring, get_scorer_names(), n=3)
            raise FeaturekitError(f"{who}: unknown scoring {scoring!r}"
                                  f"{f' (did you mean {close})' if close else ''}. Fix: pass a "
                                  "name from sklearn.metrics.get_scorer_names() or a scorer")
        return scoring, get_scorer(scoring)
    if callable(scoring):
        return getattr(scoring, "__name__", type(scoring).__name__), scoring
    raise FeaturekitError(f"{who}: scoring must be a scorer name or a callable, got {scoring!r}. "
                          "Fix: pass e.g. scoring='roc_auc'")


def read_folds(cv: Any, X: Any, y: pd.Series, who: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """The folds as (train positions, validation positions), computed once so every model
    and every candidate is validated on exactly the same rows. ``cv`` is a splitter (default
    ``fk.CutoffTimeSplit(5)``) or a list of (train, validation) pairs."""
    from featurekit.splits import CutoffTimeSplit

    if cv is None:
        cv = CutoffTimeSplit(5)
    if isinstance(cv, bool) or isinstance(cv, int | float):
        raise FeaturekitError(f"{who}: cv={cv!r} would make folds by row position, which leaks "
                              "the future into training. Fix: pass cv=fk.CutoffTimeSplit(n)")
    if hasattr(cv, "split"):
        folds = list(cv.split(X, y))
    else:
        try:
            folds = list(cv)
        except TypeError:
            raise FeaturekitError(f"{who}: cv must be a splitter or a list of (train, validation) "
                                  f"pairs, got {type(cv).__name__}. Fix: pass "
                                  "cv=fk.CutoffTimeSplit(5)") from None
    if not folds:
        raise FeaturekitError(f"{who}: cv made no folds. Fix: pass cv=fk.CutoffTimeSplit(5)")
    checked = []
    for number, fold in enumerate(folds):
        train, validation = (np.asarray(part) for part in fold)
        if len(train) == 0 or len(validation) == 0:
            raise FeaturekitError(f"{who}: fold {number} has an empty training or validation part. "
                                  "Fix: use fewer folds or a smaller gap")
        checked.append((train, validation))
    return checked


def take(X: Any, rows: np.ndarray) -> Any:
    """Rows of a frame or array by position."""
    return X.iloc[rows] if isinstance(X, pd.DataFrame | pd.Series) else np.asarray(X)[rows]


def error_text(error: BaseException) -> str:
    """One line naming an exception's type and message."""
    message = " ".join(str(error).split())
    if len(message) > 300:
        message = message[:297] + "..."
    return f"{type(error).__name__}: {message}"
