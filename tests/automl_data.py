"""Small feature matrices shaped like featurekit's (indexed by (id, time), with missing
numbers, booleans and category columns) and an estimator that records which rows it saw."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin


def matrix(n_times: int = 40, per_time: int = 8, seed: int = 0,
           task: str = "classification") -> tuple[pd.DataFrame, pd.Series]:
    """``X`` with a numeric signal, a segment category that matters, a noise column with
    missing values and a flag; ``y`` a boolean (or a number for regression)."""
    rng = np.random.default_rng(seed)
    n = n_times * per_time
    times = np.repeat(pd.date_range("2021-01-01", periods=n_times, freq="7D"), per_time)
    index = pd.MultiIndex.from_arrays([np.arange(n), times], names=["customer_id", "time"])
    signal = rng.normal(size=n)
    segment = rng.choice(["retail", "web", "wholesale"], size=n)
    effect = pd.Series(segment).map({"retail": 0.0, "web": 1.5, "wholesale": -1.5}).to_numpy()
    noise = rng.normal(size=n)
    noise[rng.random(n) < 0.2] = np.nan
    X = pd.DataFrame({"signal": signal, "noise": noise,
                      "segment": pd.Categorical(segment),
                      "flag": rng.random(n) < 0.5}, index=index)
    latent = 1.5 * signal + effect
    if task == "regression":
        y = pd.Series(latent * 10 + rng.normal(0, 1, n), index=index, name="target")
    else:
        y = pd.Series(latent + rng.logistic(0, 0.5, n) > 0, index=index, name="label")
    return X, y


def roc_auc(positive: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC as the share of (positive, negative) pairs ordered right (ties count half)."""
    positive = np.asarray(positive, dtype=bool)
    above = score[positive][:, None] - score[~positive][None, :]
    return float(np.mean((above > 0) + 0.5 * (above == 0)))


class TimeProbe(ClassifierMixin, BaseEstimator):
    """A classifier that records the cutoff times of the rows it is fitted on and asked to
    predict, in order (``TimeProbe.log``; clones share it), and predicts ``shift``."""

    log: list[tuple[str, np.ndarray]] = []

    def __init__(self, shift: float = 0.5):
        self.shift = shift

    def fit(self, X, y):
        TimeProbe.log.append(("fit", np.asarray(X.index.get_level_values("time"))))
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        TimeProbe.log.append(("predict", np.asarray(X.index.get_level_values("time"))))
        share = np.clip(self.shift + 0.01 * np.arange(len(X)) % 0.3, 0, 1)
        return np.column_stack([1 - share, share])

    def predict(self, X):
        return self.classes_[(self.predict_proba(X)[:, 1] > 0.5).astype(int)]


def fitted_then_validated(log: list[tuple[str, np.ndarray]]) -> list[tuple[np.ndarray, np.ndarray]]:
    """(training times, validation times) for every prediction, paired with the fit before it
    (a final refit on all rows, never validated, has no pair)."""
    pairs, training = [], None
    for kind, times in log:
        if kind == "fit":
            training = times
        elif training is not None:
            pairs.append((training, times))
    return pairs
