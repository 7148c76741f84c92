"""``ab_test``: is the model better than the process it replaces, on the same test rows?
A paired bootstrap interval of the metric's difference and a paired test, in plain words."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from featurekit.arguments import check_count
from featurekit.automl._inputs import infer_task
from featurekit.errors import FeaturekitError

# metric -> (task, how each row's loss is read); lower loss is better
METRICS = {"accuracy": "classification", "error_rate": "classification",
           "mae": "regression", "mse": "regression", "rmse": "regression"}
EXACT_BELOW = 25  # McNemar: exact binomial test when fewer discordant pairs than this
_BOOTSTRAP_CELLS = 4_000_000  # resampled rows held in memory at once


@dataclass
class ABTestResult:
    """The comparison: each side's metric, the difference (positive: the model is better),
    its bootstrap confidence interval, the paired test and the verdict in words."""

    metric: str
    new_score: float
    current_score: float
    difference: float
    ci_low: float
    ci_high: float
    confidence: float
    test: str
    statistic: float
    p_value: float
    n: int
    verdict: str
    discordant: tuple[int, int] | None = None
    bootstrap: np.ndarray = field(default=None, repr=False)

    def __str__(self) -> str:
        return self.verdict


def ab_test(y_true: Any, new: Any, current: Any, metric: str | None = None, X: Any = None,
            n_boot: int = 2000, seed: int = 0, confidence: float = 0.95,
            task: str | None = None) -> ABTestResult:
    """Compare the model's predictions ``new`` with the current process ``current`` on the
    same rows.

    ``new`` is the model's predictions (or a fitted model, predicted on ``X``); ``current``
    is the current process's predictions, a rule (a function called on ``X``) or the name of
    a column of ``X``. ``metric`` is "accuracy" or "error_rate" (class labels; the default
    for classification) or "mae" (the default for regression), "mse", "rmse". The
    difference is oriented so that positive means the model is better (higher accuracy,
    lower error). Its ``confidence`` interval comes from ``n_boot`` paired bootstrap
    resamples of the rows (the same rows for both sides; ``seed`` fixes them). The paired
    test is McNemar's on the rows where exactly one side is right (exact binomial below 25
    such rows, else chi-squared with continuity correction) for labels, and Wilcoxon's
    signed-rank test on the rows' errors (absolute, or squared for mse/rmse) for numbers.
    The verdict says "better" or "worse" only when the interval excludes zero and the
    test's p-value is below 1 − ``confidence``; otherwise "no evidence of a difference".

    Examples
    --------
    >>> import numpy as np, featurekit as fk
    >>> y = np.tile([0, 1], 100)
    >>> model = y.copy(); model[:10] = 1 - model[:10]          # wrong on 10 rows
    >>> rule = np.ones_like(y)                                 # "everyone churns"
    >>> print(fk.automl.ab_test(y, model, rule, seed=0).verdict.split(",")[0])
    the model is better by 0.45 accuracy (0.95 vs 0.5)
    """
    who = "ab_test"
    check_count("n_boot", n_boot, low=100, optional=False)
    if isinstance(confidence, bool) or not isinstance(confidence, float | int) \
            or not 0.5 <= confidence < 1:
        raise FeaturekitError(f"{who}: confidence must be between 0.5 and 1, got {confidence!r}. "
                              "Fix: pass e.g. confidence=0.95")
    truth = _values(y_true, "y_true", None, who)
    if len(truth) == 0:
        raise FeaturekitError(f"{who}: y_true is empty. Fix: pass the test rows' true values")
    if hasattr(new, "predict") and not isinstance(new, pd.Series | pd.DataFrame | np.ndarray):
        if X is None:
            raise FeaturekitError(f"{who}: a model as `new` needs X to predict on. Fix: pass X=")
        new = new.predict(X)
    predicted = _values(new, "new", len(truth), who)
    if isinstance(current, str):
        if X is None or not hasattr(X, "columns") or current not in X.columns:
            raise FeaturekitError(f"{who}: current={current!r} names no column of X. Fix: pass X "
                                  "with that column, or the current predictions themselves")
        current = X[current]
    elif callable(current) and not hasattr(current, "__array__"):
        if X is None:
            raise FeaturekitError(f"{who}: a rule as `current` needs X to apply it to. Fix: pass X=")
        current = current(X)
    baseline = _values(current, "current", len(truth), who)
    _same_rows(y_true, {"new": new, "current": current}, who)
    if metric is None:
        task = infer_task(pd.Series(truth), task, who)
        metric = "accuracy" if task == "classification" else "mae"
    if metric not in METRICS:
        raise FeaturekitError(f"{who}: unknown metric {metric!r}. Fix: pass one of "
                              f"{sorted(METRICS)}")
    if METRICS[metric] == "classification":
        _check_labels(truth, predicted, "new", who)
        _check_labels(truth, baseline, "current", who)
        loss_new, loss_current = (predicted != truth).astype(float), (baseline != truth).astype(float)
    else:
        truth, predicted, baseline = (_numbers(v, name, who) for v, name in
                                      ((truth, "y_true"), (predicted, "new"),
                                       (baseline, "current")))
        power = 1 if metric == "mae" else 2
        loss_new = np.abs(predicted - truth) ** power
        loss_current = np.abs(baseline - truth) ** power
    score_new, score_current = _score(metric, loss_new), _score(metric, loss_current)
    difference = _better_by(metric, score_new, score_current)
    draws = _bootstrap(metric, loss_new, loss_current, n_boot, seed)
    tail = (1 - confidence) / 2
    low, high = (float(v) for v in np.quantile(draws, [tail, 1 - tail]))
    if METRICS[metric] == "classification":
        test, statistic, p_value, discordant = _mcnemar(loss_new, loss_current)
    else:
        test, statistic, p_value = _wilcoxon(loss_current, loss_new)
        discordant = None
    verdict = _verdict(metric, score_new, score_current, difference, low, high, confidence,
                       test, p_value)
    return ABTestResult(metric, score_new, score_current, difference, low, high, confidence,
                        test, statistic, p_value, len(truth), verdict, discordant, draws)


def _values(values: Any, name: str, length: int | None, who: str) -> np.ndarray:
    if isinstance(values, pd.DataFrame | pd.Series):
        if isinstance(values, pd.DataFrame):
            if values.shape[1] != 1:
                raise FeaturekitError(f"{who}: {name} has {values.shape[1]} columns. Fix: pass one "
                                      "value per row")
            values = values.iloc[:, 0]
        array = values.to_numpy()
    elif hasattr(values, "to_numpy"):  # polars
        array = values.to_numpy()
    else:
        array = np.asarray(values)
    if array.ndim != 1:
        raise FeaturekitError(f"{who}: {name} must be one value per row, got shape {array.shape}. "
                              "Fix: pass a 1-d array or Series (for probabilities, pick the "
                              "predicted label)")
    if length is not None and len(array) != length:
        raise FeaturekitError(f"{who}: y_true has {length} rows but {name} has {len(array)}. Fix: "
                              "predict on the same test rows, in the same order")
    if pd.isna(array).any():
        raise FeaturekitError(f"{who}: {name} has {int(pd.isna(array).sum())} missing values. "
                              "Fix: predict every row (a row left out would bias the comparison)")
    return array


def _same_rows(y_true: Any, others: dict[str, Any], who: str) -> None:
    """pandas inputs are matched by position; refuse indexes that say the rows differ."""
    if not isinstance(y_true, pd.Series | pd.DataFrame):
        return
    for name, values in others.items():
        if isinstance(values, pd.Series | pd.DataFrame) and not values.index.equals(y_true.index):
            raise FeaturekitError(f"{who}: {name}'s index differs from y_true's, so its rows may "
                                  "be others. Fix: align them (or pass .to_numpy() to match by "
                                  "position)")


def _check_labels(truth: np.ndarray, predicted: np.ndarray, name: str, who: str) -> None:
    """Labels, not probabilities: fractional numbers against whole-number or boolean labels
    are refused."""
    if predicted.dtype.kind == "f" and truth.dtype.kind in "biu" and \
            not np.all(np.equal(np.mod(predicted, 1), 0)):
        raise FeaturekitError(f"{who}: {name} holds fractional numbers, not class labels. Fix: "
                              "pass model.predict(X) (labels), not probabilities")


def _numbers(values: np.ndarray, name: str, who: str) -> np.ndarray:
    try:
        return values.astype(float)
    except (TypeError, ValueError):
        raise FeaturekitError(f"{who}: {name} must hold numbers for this metric. Fix: pass "
                              "metric='accuracy' for class labels") from None


def _score(metric: str, loss: np.ndarray) -> float:
    if metric == "accuracy":
        return float(1 - loss.mean())
    if metric == "rmse":
        return float(np.sqrt(loss.mean()))
    return float(loss.mean())


def _better_by(metric: str, new: Any, current: Any) -> Any:
    """How much better the model is: higher accuracy, lower error."""
    return new - current if metric == "accuracy" else current - new


def _bootstrap(metric: str, loss_new: np.ndarray, loss_current: np.ndarray, n_boot: int,
               seed: int) -> np.ndarray:
    """The difference on ``n_boot`` resamples of the rows (paired: one resample for both)."""
    rng = np.random.default_rng(seed)
    n = len(loss_new)
    chunk = max(1, _BOOTSTRAP_CELLS // n)
    draws = np.empty(n_boot)
    for start in range(0, n_boot, chunk):
        rows = rng.integers(0, n, size=(min(chunk, n_boot - start), n))
        mean_new, mean_current = loss_new[rows].mean(axis=1), loss_current[rows].mean(axis=1)
        if metric == "rmse":
            mean_new, mean_current = np.sqrt(mean_new), np.sqrt(mean_current)
        if metric == "accuracy":
            mean_new, mean_current = 1 - mean_new, 1 - mean_current
        draws[start:start + len(rows)] = _better_by(metric, mean_new, mean_current)
    return draws


def _mcnemar(loss_new: np.ndarray, loss_current: np.ndarray) -> tuple[str, float, float, tuple]:
    from scipy import stats

    only_new = int(np.sum((loss_new == 0) & (loss_current == 1)))
    only_current = int(np.sum((loss_new == 1) & (loss_current == 0)))
    discordant = only_new + only_current
    if discordant == 0:
        return "McNemar (exact binomial)", 0.0, 1.0, (only_new, only_current)
    if discordant < EXACT_BELOW:
        p_value = stats.binomtest(only_new, discordant, 0.5).pvalue
        return "McNemar (exact binomial)", float(only_new), float(p_value), (only_new, only_current)
    statistic = (abs(only_new - only_current) - 1) ** 2 / discordant
    return ("McNemar (chi-squared, continuity corrected)", float(statistic),
            float(stats.chi2.sf(statistic, 1)), (only_new, only_current))


def _wilcoxon(loss_current: np.ndarray, loss_new: np.ndarray) -> tuple[str, float, float]:
    from scipy import stats

    if np.all(loss_current == loss_new):
        return "Wilcoxon signed-rank", 0.0, 1.0
    found = stats.wilcoxon(loss_current, loss_new)
    return "Wilcoxon signed-rank", float(found.statistic), float(found.pvalue)


def _verdict(metric: str, new: float, current: float, difference: float, low: float,
             high: float, confidence: float, test: str, p_value: float) -> str:
    interval = f"{confidence:.0%} CI [{low:.4g}, {high:.4g}]"
    evidence = f"{test} p = {p_value:.3g}"
    shown = f"({new:.4g} vs {current:.4g})"
    if p_value < 1 - confidence and (low > 0 or high < 0):
        side = "better" if difference > 0 else "worse"
        return (f"the model is {side} by {abs(difference):.4g} {metric} {shown}, {interval}; "
                f"{evidence}")
    return (f"no evidence of a difference: {metric} {shown}, difference {difference:.4g}, "
            f"{interval}; {evidence}")
