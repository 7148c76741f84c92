"""``compare_models``: several models on the same time-ordered folds, ranked by score."""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from sklearn.base import clone

from featurekit.automl._inputs import (
    error_text,
    infer_task,
    read_folds,
    read_scoring,
    read_xy,
    take,
)
from featurekit.automl.models import default_models
from featurekit.errors import FeaturekitError

TABLE_COLUMNS = ["rank", "model", "mean_score", "std_score", "fold_scores", "fit_time",
                 "score_time", "error", "warnings"]


def compare_models(X: Any, y: Any, cv: Any = None, models: Any = "default", scoring: Any = None,
                   task: str | None = None, random_state: int = 0) -> pd.DataFrame:
    """Score several models with default hyperparameters on the same time-ordered folds and
    rank them; returns a pandas frame, best model first.

    ``cv`` defaults to ``fk.CutoffTimeSplit(5)``: every validation fold is later in time than
    its training rows (pass ``fk.CutoffTimeSplit(5, gap="30d")`` when labels look 30 days
    ahead). ``models`` is "default" (see :func:`default_models`), a list of those names, or
    a dict {name: estimator}. ``task`` is read from ``y`` when not given: booleans,
    categories, strings and numbers with two distinct values are classification, other
    numbers regression. ``scoring`` is a scikit-learn scorer name or callable; by default
    ROC AUC (two classes), balanced accuracy (more classes) or negated RMSE (regression),
    always higher-is-better. ``y`` may name a column of ``X``.

    Columns: ``rank``, ``model``, ``mean_score`` and ``std_score`` over the folds,
    ``fold_scores`` (one per fold), ``fit_time`` and ``score_time`` (seconds, all folds),
    ``error`` (why a model failed: it keeps a row with missing scores, the others are
    kept) and ``warnings`` (distinct warnings raised while fitting). ``attrs`` holds the
    ``task``, the ``scoring`` name and ``n_folds``.

    Examples
    --------
    >>> import numpy as np, pandas as pd, featurekit as fk
    >>> rng = np.random.default_rng(0)
    >>> times = pd.date_range("2021-01-01", periods=120, freq="D")
    >>> X = pd.DataFrame({"signal": rng.normal(size=120), "noise": rng.normal(size=120)},
    ...                  index=pd.Index(times, name="time"))
    >>> y = X["signal"] + rng.normal(0, 0.5, 120) > 0
    >>> table = fk.automl.compare_models(X, y, models=["baseline", "logistic_regression"])
    >>> table["model"].tolist()
    ['logistic_regression', 'baseline']
    """
    who = "compare_models"
    X, y = read_xy(X, y, who, need_columns=not isinstance(models, Mapping))
    task = infer_task(y, task, who)
    scoring_name, scorer = read_scoring(scoring, task, y, who)
    candidates = _read_models(models, task, random_state, who)
    folds = read_folds(cv, X, y, who)
    rows = [_score_model(name, model, X, y, folds, scorer) for name, model in candidates.items()]
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS[1:])
    table = table.sort_values("mean_score", ascending=False, na_position="last", kind="stable")
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    table = table.reset_index(drop=True)
    # small values only: pandas copies attrs deeply on every operation on the table
    table.attrs.update(task=task, scoring=scoring_name, n_folds=len(folds))
    return table


def _read_models(models: Any, task: str, random_state: int, who: str) -> dict[str, Any]:
    catalogue = default_models(task, random_state=random_state)
    if isinstance(models, str):
        if models != "default":
            raise FeaturekitError(f"{who}: models={models!r} is not known. Fix: pass 'default', "
                                  f"a list of {sorted(catalogue)}, or a dict {{name: estimator}}")
        return catalogue
    if isinstance(models, Mapping):
        chosen = dict(models)
    elif isinstance(models, Sequence):
        unknown = [name for name in models if not isinstance(name, str) or name not in catalogue]
        if unknown:
            raise FeaturekitError(f"{who}: unknown models {unknown} for {task}. Fix: choose among "
                                  f"{sorted(catalogue)}, or pass a dict {{name: estimator}}")
        chosen = {name: catalogue[name] for name in models}
    else:
        raise FeaturekitError(f"{who}: models must be 'default', a list of names or a dict, got "
                              f"{type(models).__name__}. Fix: pass e.g. models=['random_forest']")
    if not chosen:
        raise FeaturekitError(f"{who}: no models to compare. Fix: pass at least one")
    for name, model in chosen.items():
        if not (hasattr(model, "fit") and hasattr(model, "get_params")):
            raise FeaturekitError(f"{who}: model {name!r} is not a scikit-learn estimator "
                                  f"({type(model).__name__}). Fix: pass estimators with fit")
    return chosen


def _score_model(name: str, model: Any, X: Any, y: pd.Series,
                 folds: list[tuple[np.ndarray, np.ndarray]], scorer: Any) -> list:
    """One row of the table: the model fitted and scored on each fold, or why it failed."""
    scored = cross_score(model, X, y, folds, scorer)
    return [name, scored.mean, scored.std, scored.scores, scored.fit_time, scored.score_time,
            scored.error, scored.warnings]


class CrossScore(NamedTuple):
    """One model's scores over the folds (mean and std missing when it failed)."""

    mean: float
    std: float
    scores: list[float]
    fit_time: float
    score_time: float
    error: str | None
    warnings: list[str]


def cross_score(model: Any, X: Any, y: pd.Series, folds: list[tuple[np.ndarray, np.ndarray]],
                scorer: Any) -> CrossScore:
    """A clone of ``model`` fitted on each fold's training rows and scored on its validation
    rows; the first failure stops the model and is kept as its error (type and message)."""
    scores, fit_time, score_time, caught = [], 0.0, 0.0, []
    for number, (train, validation) in enumerate(folds):
        try:
            with warnings.catch_warnings(record=True) as raised:
                warnings.simplefilter("always")
                started = time.perf_counter()
                fitted = clone(model).fit(take(X, train), take(y, train))
                fit_time += time.perf_counter() - started
                started = time.perf_counter()
                scores.append(float(scorer(fitted, take(X, validation), take(y, validation))))
                score_time += time.perf_counter() - started
            caught += [f"{w.category.__name__}: {str(w.message).splitlines()[0][:200]}"
                       for w in raised]
        except Exception as error:  # noqa: BLE001 - a failing model is reported, not fatal
            return CrossScore(np.nan, np.nan, scores, fit_time, score_time,
                              f"fold {number}: {error_text(error)}", _distinct(caught))
    values = np.asarray(scores)
    if np.isnan(values).any():
        bad = int(np.flatnonzero(np.isnan(values))[0])
        return CrossScore(np.nan, np.nan, scores, fit_time, score_time,
                          f"fold {bad}: the score is undefined (NaN), e.g. a validation fold "
                          "with one class; use fewer folds or another scoring", _distinct(caught))
    return CrossScore(float(values.mean()), float(values.std()), scores, fit_time, score_time,
                      None, _distinct(caught))


def _distinct(messages: list[str]) -> list[str]:
    return list(dict.fromkeys(messages))
