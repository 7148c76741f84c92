"""``tune``: hyperparameter search (grid, random or Bayesian) on time-ordered folds, with
featurekit's own pipeline steps searchable like any other."""

from __future__ import annotations

import numbers
import re
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from featurekit.arguments import check_count
from featurekit.automl._inputs import (
    infer_task,
    read_folds,
    read_scoring,
    read_xy,
    require,
)
from featurekit.automl.compare import cross_score
from featurekit.errors import FeaturekitError

METHODS = ("grid", "random", "bayes")


class TuneResult:
    """What ``tune`` found: ``best_params_``, ``best_score_`` (mean over the folds),
    ``best_estimator_`` (refitted on all rows), ``results_`` (one row per candidate, best
    first), ``method``, ``scoring``, ``folds_`` (the (train, validation) positions used) and
    ``search_`` (scikit-learn's search object, or optuna's study)."""

    def __init__(self, best_params_: dict, best_score_: float, best_estimator_: Any,
                 results_: pd.DataFrame, method: str, scoring: str,
                 folds_: list[tuple[np.ndarray, np.ndarray]], search_: Any):
        self.best_params_ = best_params_
        self.best_score_ = best_score_
        self.best_estimator_ = best_estimator_
        self.results_ = results_
        self.method = method
        self.scoring = scoring
        self.folds_ = folds_
        self.search_ = search_

    def predict(self, X: Any) -> Any:
        """The refitted best estimator's predictions."""
        return self.best_estimator_.predict(X)

    def predict_proba(self, X: Any) -> Any:
        """The refitted best estimator's class probabilities."""
        return self.best_estimator_.predict_proba(X)

    def __repr__(self) -> str:
        return (f"TuneResult(method={self.method!r}, {self.scoring}={self.best_score_:.4g}, "
                f"best_params_={self.best_params_!r}, candidates={len(self.results_)})")


def tune(estimator: Any, space: Any, X: Any, y: Any, method: str = "grid", n_iter: int = 20,
         cv: Any = None, scoring: Any = None, task: str | None = None, random_state: int = 0,
         n_jobs: int | None = None) -> TuneResult:
    """Search the hyperparameters of ``estimator`` (a model or a Pipeline) on time-ordered
    folds and refit the best candidate on all rows.

    ``space`` maps parameter names (``"model__max_depth"``, and featurekit's own steps:
    ``"deepfeaturesynthesis__max_depth"``, ``"relevantfeatures__fdr_level"``,
    ``"timeseriesfeatures__settings"``) to a list of values, a range ``(low, high)`` (integers
    if both ends are, ``(low, high, "log")`` on a log scale), a scipy distribution (random)
    or an optuna distribution (bayes). ``method`` is "grid" (every combination of lists;
    scikit-learn's ``GridSearchCV``; a list of dicts is allowed), "random" (``n_iter``
    draws; ``RandomizedSearchCV``) or "bayes" (``n_iter`` trials of optuna's TPE sampler,
    needs ``pip install 'featurekit[automl]'``). All three use the same folds, computed once
    from ``cv`` (default ``fk.CutoffTimeSplit(5)``: validation always later than training),
    and the same ``scoring`` (default as in :func:`compare_models`). A candidate that fails
    gets a missing score and its error in ``results_``; if all fail, the error is raised.
    ``n_jobs`` runs grid and random candidates in parallel (scikit-learn's searches);
    Bayesian trials run one after the other, each learning from the ones before.

    Examples
    --------
    >>> import numpy as np, pandas as pd, featurekit as fk
    >>> from sklearn.linear_model import Ridge
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"a": rng.normal(size=80)},
    ...                  index=pd.Index(pd.date_range("2021-01-01", periods=80), name="time"))
    >>> y = 3 * X["a"] + rng.normal(0, 0.1, 80)
    >>> found = fk.automl.tune(Ridge(), {"alpha": [0.01, 100.0]}, X, y, cv=fk.CutoffTimeSplit(3))
    >>> found.best_params_
    {'alpha': 0.01}
    """
    who = "tune"
    if method not in METHODS:
        raise FeaturekitError(f"{who}: unknown method {method!r}. Fix: pass method='grid', "
                              "'random' or 'bayes'")
    check_count("n_iter", n_iter, low=1, optional=False)
    if not (hasattr(estimator, "fit") and hasattr(estimator, "get_params")):
        raise FeaturekitError(f"{who}: estimator must be a scikit-learn estimator or Pipeline, "
                              f"got {type(estimator).__name__}. Fix: pass e.g. a Pipeline")
    X, y = read_xy(X, y, who, need_columns=False)
    task = infer_task(y, task, who)
    scoring_name, scorer = read_scoring(scoring, task, y, who)
    spaces = _read_space(space, estimator, method, who)
    folds = read_folds(cv, X, y, who)
    if method == "bayes":
        return _bayes(estimator, spaces[0], X, y, folds, scorer, scoring_name, n_iter,
                      random_state)
    return _sklearn_search(estimator, spaces, X, y, folds, scorer, scoring_name, method, n_iter,
                           random_state, n_jobs)


def _read_space(space: Any, estimator: Any, method: str, who: str) -> list[dict[str, Any]]:
    """The space as a list of {parameter: values} dicts, every name checked against the
    estimator's parameters and every range turned into the method's own form."""
    spaces = list(space) if isinstance(space, Sequence) and not isinstance(space, str) else [space]
    if not spaces or not all(isinstance(part, Mapping) and part for part in spaces):
        raise FeaturekitError(f"{who}: space must be a non-empty dict of parameter -> values"
                              f"{' (or a list of them)' if method == 'grid' else ''}, got "
                              f"{space!r}. Fix: pass e.g. {{'model__max_depth': [3, 5]}}")
    if len(spaces) > 1 and method != "grid":
        raise FeaturekitError(f"{who}: a list of spaces works with method='grid' only. Fix: "
                              "pass one dict")
    known = estimator.get_params(deep=True)
    result = []
    for part in spaces:
        unknown = [name for name in part if name not in known]
        if unknown:
            import difflib

            close = difflib.get_close_matches(unknown[0], list(known), n=3)
            raise FeaturekitError(f"{who}: {unknown} are not parameters of the estimator"
                                  f"{f' (did you mean {close})' if close else ''}. Fix: name "
                                  "them as estimator.get_params() does, e.g. 'step__param'")
        result.append({name: _values(name, values, method, who) for name, values in part.items()})
    return result


def _values(name: str, values: Any, method: str, who: str) -> Any:
    """One parameter's values in the form ``method`` takes."""
    if isinstance(values, tuple):
        low, high, *scale = values
        log = scale == ["log"]
        if len(values) not in (2, 3) or (scale and not log) or not all(
                isinstance(end, numbers.Real) and not isinstance(end, bool) for end in (low, high)) \
                or not low < high:
            raise FeaturekitError(f"{who}: the range for {name!r} must be (low, high) or (low, high, "
                                  f"'log') with low < high, got {values!r}. Fix: e.g. (1, 10)")
        if method == "grid":
            raise FeaturekitError(f"{who}: grid search needs a list of values for {name!r}, got "
                                  f"the range {values!r}. Fix: pass a list, or method='random' "
                                  "or 'bayes'")
        integers = all(isinstance(end, numbers.Integral) for end in (low, high))
        if method == "bayes":
            return ("int" if integers else "float", low, high, log)
        from scipy import stats

        if log:
            return stats.loguniform(low, high)
        return stats.randint(low, high + 1) if integers else stats.uniform(low, high - low)
    if isinstance(values, list | np.ndarray | range):
        choices = list(values)
        if not choices:
            raise FeaturekitError(f"{who}: no values for {name!r}. Fix: pass at least one")
        return ("choice", choices) if method == "bayes" else choices
    if method == "random" and hasattr(values, "rvs"):
        return values
    if method == "bayes" and type(values).__module__.startswith("optuna.distributions"):
        return ("optuna", values)
    raise FeaturekitError(f"{who}: the values for {name!r} must be a list or a range (low, high)"
                          f", got {type(values).__name__}. Fix: pass e.g. [1, 2, 3]")


def _sklearn_search(estimator: Any, spaces: list[dict], X: Any, y: pd.Series, folds: list,
                    scorer: Any, scoring_name: str, method: str, n_iter: int,
                    random_state: int, n_jobs: int | None) -> TuneResult:
    from sklearn.model_selection import GridSearchCV, RandomizedSearchCV

    if method == "grid":
        search = GridSearchCV(estimator, spaces if len(spaces) > 1 else spaces[0],
                              scoring=scorer, cv=folds, refit=False, error_score=np.nan,
                              n_jobs=n_jobs)
    else:
        search = RandomizedSearchCV(estimator, spaces[0], n_iter=n_iter, scoring=scorer,
                                    cv=folds, refit=False, error_score=np.nan, n_jobs=n_jobs,
                                    random_state=random_state)
    failures: list[str] = []
    with warnings.catch_warnings(record=True) as raised:
        warnings.simplefilter("always")
        try:
            search.fit(X, y)
        except ValueError as error:  # scikit-learn's own "all the fits failed"
            if "fits failed" not in str(error):
                raise
            raise FeaturekitError(f"tune: every candidate failed ({_last_error(str(error))}). "
                                  "Fix: check the space and the estimator (fk.automl."
                                  "compare_models shows each model's error)") from None
    for caught in raised:
        if caught.category.__name__ == "FitFailedWarning":
            failures.append(_last_error(str(caught.message)))
        elif "test scores are non-finite" not in str(caught.message):  # reported per row
            warnings.warn_explicit(caught.message, caught.category, caught.filename,
                                   caught.lineno)
    results = search.cv_results_
    scores = np.column_stack([results[f"split{i}_test_score"] for i in range(len(folds))])
    failed_note = f"failed on some fold: {failures[0]}" if failures else "score undefined (NaN)"
    rows = [{"params": params, "mean_score": float(mean) if np.isfinite(mean) else np.nan,
             "std_score": float(std) if np.isfinite(mean) else np.nan,
             "fold_scores": scores[i].tolist(), "fit_time": float(fit) * len(folds),
             "error": None if np.isfinite(mean) else failed_note}
            for i, (params, mean, std, fit) in enumerate(zip(
                results["params"], results["mean_test_score"], results["std_test_score"],
                results["mean_fit_time"], strict=True))]
    return _finish(estimator, rows, X, y, method, scoring_name, folds, search)


def _last_error(message: str) -> str:
    """The exception line of scikit-learn's fit-failure summary (the end of a traceback)."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    errors = [line for line in lines if re.match(r"^[\w.]*(Error|Exception)\b.*:", line)]
    if not errors:
        return lines[-1] if lines else message
    name, rest = errors[-1].split(":", 1)
    return f"{name.rsplit('.', 1)[-1]}:{rest}"


def _bayes(estimator: Any, space: dict, X: Any, y: pd.Series, folds: list, scorer: Any,
           scoring_name: str, n_iter: int, random_state: int) -> TuneResult:
    optuna = require("optuna", "tune(method='bayes')")
    rows: list[dict] = []

    def objective(trial: Any) -> float:
        params = {name: _suggest(trial, name, spec) for name, spec in space.items()}
        scored = cross_score(clone(estimator).set_params(**params), X, y, folds, scorer)
        rows.append({"params": params, "mean_score": scored.mean, "std_score": scored.std,
                     "fold_scores": scored.scores, "fit_time": scored.fit_time,
                     "error": scored.error})
        return scored.mean if np.isfinite(scored.mean) else float("nan")

    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        study = optuna.create_study(direction="maximize",
                                    sampler=optuna.samplers.TPESampler(seed=random_state))
        study.optimize(objective, n_trials=n_iter)
    finally:
        optuna.logging.set_verbosity(level)
    return _finish(estimator, rows, X, y, "bayes", scoring_name, folds, study)


def _suggest(trial: Any, name: str, spec: tuple) -> Any:
    """One trial's value of a parameter (choices by position, so any value can be a choice)."""
    kind = spec[0]
    if kind == "choice":
        return spec[1][trial.suggest_categorical(name, list(range(len(spec[1]))))]
    if kind == "int":
        return trial.suggest_int(name, spec[1], spec[2], log=spec[3])
    if kind == "float":
        return trial.suggest_float(name, spec[1], spec[2], log=spec[3])
    distribution = spec[1]
    if type(distribution).__name__ == "CategoricalDistribution":
        return trial.suggest_categorical(name, distribution.choices)
    if type(distribution).__name__ == "IntDistribution":
        return trial.suggest_int(name, distribution.low, distribution.high, step=distribution.step,
                                 log=distribution.log)
    return trial.suggest_float(name, distribution.low, distribution.high, step=distribution.step,
                               log=distribution.log)


def _finish(estimator: Any, rows: list[dict], X: Any, y: pd.Series, method: str,
            scoring_name: str, folds: list, search: Any) -> TuneResult:
    """Rank the candidates, refit the best on all rows and wrap up."""
    table = pd.DataFrame(rows, columns=["params", "mean_score", "std_score", "fold_scores",
                                        "fit_time", "error"])
    names = list(dict.fromkeys(name for params in table["params"] for name in params))
    for name in names:
        table[f"param_{name}"] = [params.get(name) for params in table["params"]]
    table = table.sort_values("mean_score", ascending=False, na_position="last", kind="stable")
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    table = table.reset_index(drop=True)
    if table.empty or not np.isfinite(table["mean_score"].iloc[0]):
        reason = table["error"].dropna().iloc[0] if table["error"].notna().any() else "no candidate"
        raise FeaturekitError(f"tune: every candidate failed ({reason}). Fix: check the space "
                              "and the estimator on one fold first (fk.automl.compare_models "
                              "shows each model's error)")
    best = table["params"].iloc[0]
    fitted = clone(estimator).set_params(**best).fit(X, y)
    return TuneResult(dict(best), float(table["mean_score"].iloc[0]), fitted, table, method,
                      scoring_name, folds, search)
