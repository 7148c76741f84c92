"""FRESH relevance: one hypothesis test per feature against the target, then false-discovery
control over all of them, with tsfresh 0.21's definitions (``calculate_relevance_table``).

The test depends on the feature's type (how many distinct values it has) and the task:

================  ==========================  ===============================
feature           classification (per class)  regression
================  ==========================  ===============================
real (3+ values)  Mann-Whitney U (or KS)      Kendall's tau (asymptotic)
binary (2)        Fisher's exact              Kolmogorov-Smirnov
categorical (3+)  chi-squared contingency     Kruskal-Wallis H
constant (1)      not tested, never relevant  not tested, never relevant
================  ==========================  ===============================

Categorical features with three or more categories are featurekit's extension (tsfresh has
no test for them). Classification runs one test per class against the rest; a feature is
relevant when it is relevant for any class, or, with ``multiclass=True``, for at least
``n_significant`` classes. The tests themselves are scipy's.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
from scipy import stats

from featurekit.errors import NoRelevantFeaturesError, NoRelevantFeaturesWarning, SelectionError
from featurekit.selection._inputs import (
    BOOLEAN,
    CATEGORICAL,
    Matrix,
    Target,
    read_matrix,
    read_target,
    require_testable,
)

ML_TASKS = ("auto", "classification", "regression")
REAL_FEATURE_TESTS = ("mann", "smir")
ON_EMPTY = ("raise", "warn")
EXACT_MANN_WHITNEY_MAX = 8  # scipy's "auto" method is exact below this group size (without ties)

CONSTANT, BINARY, REAL, MANY_CATEGORIES = "constant", "binary", "real", "categorical"


def relevance_table(
    X: Any,
    y: Any,
    ml_task: str = "auto",
    fdr_level: float = 0.05,
    hypotheses_independent: bool = False,
    multiclass: bool = False,
    n_significant: int = 1,
    test_for_binary_target_real_feature: str = "mann",
) -> pd.DataFrame | pl.DataFrame:
    """One row per feature of ``X``: its type, p-value against ``y`` and whether it is relevant.

    ``X`` is a pandas or polars frame (or pyarrow table, or 2-d array) of numeric, boolean or
    categorical columns without missing values; ``y`` has one value per row, matched by
    position (a pandas ``y`` must carry ``X``'s index). ``ml_task="auto"`` means classification
    for integer, boolean and label targets and regression for floats. Relevance is decided by
    Benjamini-Yekutieli false-discovery control at ``fdr_level`` (Benjamini-Hochberg with
    ``hypotheses_independent=True``). With ``multiclass=True`` the table has ``p_value_<class>``
    and ``relevant_<class>`` columns and ``n_significant``; a feature is relevant for at least
    ``n_significant`` classes. Rows come most relevant first; constant features last.

    The result is a pandas frame indexed by feature name for pandas (and array) input, like
    tsfresh's, and a polars frame for polars input. When no feature passes, a
    ``NoRelevantFeaturesWarning`` names the ``fdr_level`` that would let the best one through.

    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 50)
    >>> X = pd.DataFrame({"signal": y + rng.normal(0, 0.5, 100), "noise": rng.normal(0, 1, 100)})
    >>> table = relevance_table(X, y)
    >>> table[["type", "relevant"]]
              type  relevant
    feature
    signal    real      True
    noise     real     False
    >>> bool(table.loc["signal", "p_value"] < 1e-10)
    True
    """
    matrix = read_matrix(X)
    require_testable(matrix)
    target = read_target(y, X, matrix.frame.height)
    table, _ = _relevance(matrix, target, ml_task, fdr_level, hypotheses_independent,
                          multiclass, n_significant, test_for_binary_target_real_feature)
    return _as_output(table, matrix.kind)


def select_relevant(
    X: Any,
    y: Any,
    ml_task: str = "auto",
    fdr_level: float = 0.05,
    hypotheses_independent: bool = False,
    multiclass: bool = False,
    n_significant: int = 1,
    test_for_binary_target_real_feature: str = "mann",
    on_empty: str = "raise",
) -> Any:
    """``X`` with only its relevant columns (in ``X``'s column and row order, same kind).

    Options are those of :func:`relevance_table`. When no feature is relevant it raises
    ``NoRelevantFeaturesError`` naming the ``fdr_level`` that would let the best feature
    through; ``on_empty="warn"`` returns the empty selection with a warning instead.

    >>> import numpy as np, polars as pl
    >>> rng = np.random.default_rng(1)
    >>> y = np.repeat(["a", "b", "c"], 30)
    >>> X = pl.DataFrame({"a_high": (y == "a") + rng.normal(0, 0.3, 90),
    ...                   "noise": rng.normal(0, 1, 90)})
    >>> select_relevant(X, y).columns
    ['a_high']
    """
    if on_empty not in ON_EMPTY:
        raise SelectionError(f"on_empty must be one of {ON_EMPTY}, got {on_empty!r}")
    matrix = read_matrix(X)
    require_testable(matrix)
    target = read_target(y, X, matrix.frame.height)
    table, message = _relevance(matrix, target, ml_task, fdr_level, hypotheses_independent,
                                multiclass, n_significant, test_for_binary_target_real_feature,
                                warn=False)
    if message is not None:
        if on_empty == "raise":
            raise NoRelevantFeaturesError(message + " (or pass on_empty='warn' to get the empty "
                                          "selection)")
        warnings.warn(message, NoRelevantFeaturesWarning, stacklevel=2)
    return matrix.subset(table.loc[table["relevant"], "feature"].tolist())


def infer_ml_task(target: Target) -> str:
    """Classification for integer, boolean and label targets, regression for floats."""
    return "regression" if target.numeric_dtype == "f" else "classification"


def feature_types(matrix: Matrix) -> dict[str, str]:
    """constant, binary, real or categorical per column, from its number of distinct values
    (-0.0 and 0.0 count as one value, as in tsfresh)."""
    frame = matrix.frame
    if frame.width == 0:
        return {}
    expressions = [((pl.col(name) + 0.0) if dtype.is_float() else pl.col(name)).n_unique()
                   .alias(name) for name, dtype in frame.schema.items()]
    counts = frame.select(expressions).row(0, named=True)
    types = {}
    for name, count in counts.items():
        if count <= 1:
            types[name] = CONSTANT
        elif count == 2:
            types[name] = BINARY
        else:
            types[name] = MANY_CATEGORIES if matrix.column_kinds[name] == CATEGORICAL else REAL
    return types


def _check_options(target: Target, ml_task: str, fdr_level: float, multiclass: bool,
                   n_significant: int, real_test: str) -> tuple[str, list[Any]]:
    if ml_task not in ML_TASKS:
        raise SelectionError(f"ml_task must be one of {ML_TASKS}, got {ml_task!r}")
    if not (isinstance(fdr_level, int | float) and 0 < fdr_level <= 1):
        raise SelectionError(f"fdr_level must be a number in (0, 1], got {fdr_level!r}. "
                             "Fix: pass e.g. fdr_level=0.05")
    if real_test not in REAL_FEATURE_TESTS:
        raise SelectionError(f"test_for_binary_target_real_feature must be one of "
                             f"{REAL_FEATURE_TESTS}, got {real_test!r}")
    task = infer_ml_task(target) if ml_task == "auto" else ml_task
    values = target.values
    if task == "regression":
        if target.numeric_dtype is None:
            example = next(iter(values), None)
            raise SelectionError(f"regression needs a numeric y, got labels such as {example!r}. "
                                 "Fix: pass ml_task='classification', or a numeric target")
        if multiclass:
            raise SelectionError("multiclass=True needs a classification task. Fix: pass "
                                 "ml_task='classification' or multiclass=False")
        if np.all(values == values[0]):
            raise SelectionError(f"y is constant (every value is {values[0]!r}): no feature can "
                                 "be related to it. Fix: check the target column")
        return task, []
    labels = list(pd.unique(pd.Series(values, dtype=object if target.numeric_dtype is None
                                      else None)))
    if len(labels) < 2:
        raise SelectionError(f"y has one class ({labels[0]!r}); classification needs at least "
                             "two classes (1 class found). Fix: check the target column")
    if multiclass and not (isinstance(n_significant, int) and 1 <= n_significant <= len(labels)):
        raise SelectionError(f"n_significant must be between 1 and the number of classes "
                             f"({len(labels)}), got {n_significant!r}")
    return task, labels


def _relevance(matrix: Matrix, target: Target, ml_task: str, fdr_level: float,
               independent: bool, multiclass: bool, n_significant: int, real_test: str,
               warn: bool = True) -> tuple[pd.DataFrame, str | None]:
    """The relevance table (pandas, indexed by feature) and, when nothing is relevant, why."""
    task, labels = _check_options(target, ml_task, fdr_level, multiclass, n_significant,
                                  real_test)
    if multiclass and len(labels) <= 2:
        warnings.warn(f"y has {len(labels)} classes: binary selection is used "
                      "(multiclass=False)", UserWarning, stacklevel=3)
        multiclass = False
    types = feature_types(matrix)
    tested = [name for name in matrix.names if types[name] != CONSTANT]
    p_values = _p_values(matrix, target, task, labels, types, tested, real_test)
    relevant = {label: fdr_control(p, fdr_level, independent) for label, p in p_values.items()}
    adjusted = {label: adjusted_p_values(p, independent) for label, p in p_values.items()}

    index = pd.Index(tested + [name for name in matrix.names if types[name] == CONSTANT],
                     name="feature")
    padding = len(index) - len(tested)
    table = pd.DataFrame({"feature": index.to_numpy(), "type": [types[n] for n in index]},
                         index=index)

    def pad(values: np.ndarray, fill: Any) -> np.ndarray:
        return np.concatenate([values, np.full(padding, fill, dtype=values.dtype)])

    if multiclass:
        for label in labels:
            table[f"p_value_{label}"] = pad(p_values[label], np.nan)
            table[f"relevant_{label}"] = pad(relevant[label], False)
        hits = np.sum([relevant[label] for label in labels], axis=0).astype(np.int64)
        table["n_significant"] = pad(hits, 0)
        table["relevant"] = table["n_significant"] >= n_significant
        best = np.min([p_values[label] for label in labels], axis=0)
        order = np.lexsort((np.arange(len(tested)), best, -hits))
        needed = np.sort(np.array([adjusted[label] for label in labels]), axis=0)
        needed_level = needed[n_significant - 1].min() if len(tested) else np.nan
    else:
        keys = list(p_values)
        table["p_value"] = pad(np.min([p_values[k] for k in keys], axis=0), np.nan)
        table["relevant"] = pad(np.any([relevant[k] for k in keys], axis=0), False)
        order = np.argsort(table["p_value"].to_numpy()[: len(tested)], kind="stable")
        needed_level = np.min([adjusted[k] for k in keys]) if len(tested) else np.nan
    table = table.iloc[np.concatenate([order, np.arange(len(tested), len(index))])]

    message = None
    if not table["relevant"].any():
        message = _nothing_relevant(task, fdr_level, multiclass, n_significant, independent,
                                    needed_level, table, len(tested))
        if warn:
            warnings.warn(message, NoRelevantFeaturesWarning, stacklevel=3)
    return table, message


def _nothing_relevant(task: str, fdr_level: float, multiclass: bool, n_significant: int,
                      independent: bool, needed_level: float, table: pd.DataFrame,
                      n_tested: int) -> str:
    if n_tested == 0:
        return (f"no feature is relevant for {task}: every feature of X is constant. "
                "Fix: add features that vary")
    best = table["feature"].iloc[0]
    procedure = "Benjamini-Hochberg" if independent else "Benjamini-Yekutieli"
    passes = (f"passes from fdr_level {needed_level:.3g}" if needed_level < 1 else
              "would pass only at fdr_level 1 (the data show no evidence)")
    text = (f"no feature is relevant for {task} at fdr_level={fdr_level} ({procedure}"
            + (f", relevant for at least n_significant={n_significant} classes" if multiclass
               else "") + f"); the most relevant feature, {best!r}, {passes}. Fix: raise "
            "fdr_level")
    if multiclass:
        text += " or lower n_significant"
    if not independent:
        text += (", pass hypotheses_independent=True if the features are independent "
                 "(Benjamini-Hochberg is less strict)")
    return text + ", or add more informative features or rows"


def _p_values(matrix: Matrix, target: Target, task: str, labels: list[Any],
              types: dict[str, str], tested: list[str], real_test: str) -> dict[Any, np.ndarray]:
    """p-values of the tested features in ``tested`` order: one array per class (one-vs-rest)
    for classification (a single one for two classes: both directions give the same test),
    one array under the key None for regression."""
    frame = matrix.frame
    real = [name for name in tested if types[name] == REAL]
    binary = [name for name in tested if types[name] == BINARY]
    many = [name for name in tested if types[name] == MANY_CATEGORIES]
    real_values = (frame.select(pl.col(real).cast(pl.Float64)).to_numpy()
                   if real else np.empty((frame.height, 0)))
    indicator = _binary_indicators(frame, binary, matrix.column_kinds)
    codes = [frame[name].cast(pl.String).to_numpy() for name in many]
    position = {name: i for i, name in enumerate(tested)}

    def assemble(real_p: np.ndarray, binary_p: np.ndarray, many_p: np.ndarray) -> np.ndarray:
        out = np.empty(len(tested))
        for names, values in ((real, real_p), (binary, binary_p), (many, many_p)):
            out[[position[n] for n in names]] = values
        return out

    if task == "regression":
        y = target.values.astype(float)
        real_p = np.array([stats.kendalltau(real_values[:, j], y, method="asymptotic").pvalue
                           for j in range(len(real))])
        binary_p = np.array([stats.ks_2samp(y[indicator[:, j]], y[~indicator[:, j]]).pvalue
                             for j in range(len(binary))])
        many_p = np.array([stats.kruskal(*[y[c == level] for level in np.unique(c)]).pvalue
                           for c in codes])
        return {None: assemble(real_p, binary_p, many_p)}

    result = {}
    for label in (labels[:1] if len(labels) == 2 else labels):
        in_class = target.values == label
        real_p = _binary_target_real_feature(real_values, in_class, real_test)
        binary_p = _fisher(indicator, in_class)
        many_p = np.array([stats.chi2_contingency(pd.crosstab(in_class, c).to_numpy()).pvalue
                           for c in codes])
        result[label] = assemble(real_p, binary_p, many_p)
    return result


def _binary_indicators(frame: pl.DataFrame, binary: list[str],
                       column_kinds: dict[str, str | None]) -> np.ndarray:
    """For each two-valued column, whether a row holds the larger of its two values."""
    columns = []
    for name in binary:
        column = frame[name]
        if column_kinds[name] == BOOLEAN:
            columns.append(column.to_numpy().astype(bool))
        elif column_kinds[name] == CATEGORICAL:
            text = column.cast(pl.String)
            columns.append((text == text.unique().sort()[1]).to_numpy())
        else:
            values = column.cast(pl.Float64).to_numpy()
            columns.append(values == values.max())
    return np.column_stack(columns) if columns else np.empty((frame.height, 0), dtype=bool)


def _binary_target_real_feature(values: np.ndarray, in_class: np.ndarray, test: str) -> np.ndarray:
    inside, outside = values[in_class], values[~in_class]
    if values.shape[1] == 0:
        return np.empty(0)
    if test == "smir":
        return np.array([stats.ks_2samp(inside[:, j], outside[:, j]).pvalue
                         for j in range(values.shape[1])])
    if min(len(inside), len(outside)) > EXACT_MANN_WHITNEY_MAX:  # asymptotic for every column
        return np.asarray(stats.mannwhitneyu(inside, outside, use_continuity=True,
                                             alternative="two-sided", axis=0).pvalue, dtype=float)
    # small groups: scipy chooses exact or asymptotic per column (by its ties)
    return np.array([stats.mannwhitneyu(inside[:, j], outside[:, j], use_continuity=True,
                                        alternative="two-sided").pvalue
                     for j in range(values.shape[1])])


def _fisher(indicator: np.ndarray, in_class: np.ndarray) -> np.ndarray:
    if indicator.shape[1] == 0:
        return np.empty(0)
    high = indicator.astype(np.int64)
    in_high = in_class.astype(np.int64) @ high
    out_high = (~in_class).astype(np.int64) @ high
    in_low = in_class.sum() - in_high
    out_low = (~in_class).sum() - out_high
    return np.array([stats.fisher_exact([[in_high[j], in_low[j]], [out_high[j], out_low[j]]],
                                        alternative="two-sided").pvalue
                     for j in range(indicator.shape[1])])


def _fdr_factors(count: int, independent: bool) -> np.ndarray:
    """Step-up thresholds per rank, divided by fdr_level: k/m (BH), k/(m * sum 1/i) (BY)."""
    factors = np.arange(1, count + 1) / float(count)
    if not independent:
        factors = factors / np.sum(1.0 / np.arange(1, count + 1))
    return factors


def fdr_control(p_values: np.ndarray, fdr_level: float, independent: bool = False) -> np.ndarray:
    """Which hypotheses the Benjamini-Yekutieli step-up procedure rejects (Benjamini-Hochberg
    when ``independent``): every p-value up to the largest rank k with p_(k) <= k/m * level
    (/ sum 1/i for BY).

    >>> fdr_control(np.array([0.001, 0.2, 0.012, 0.04]), 0.05, independent=True).tolist()
    [True, False, True, False]
    """
    count = len(p_values)
    rejected = np.zeros(count, dtype=bool)
    if count == 0:
        return rejected
    order = np.argsort(p_values)
    passes = p_values[order] <= _fdr_factors(count, independent) * fdr_level
    if passes.any():
        rejected[order[: np.flatnonzero(passes)[-1] + 1]] = True
    return rejected


def adjusted_p_values(p_values: np.ndarray, independent: bool = False) -> np.ndarray:
    """The smallest fdr_level at which each hypothesis is rejected (BY or BH adjusted p)."""
    count = len(p_values)
    if count == 0:
        return np.empty(0)
    order = np.argsort(p_values)
    raw = p_values[order] / _fdr_factors(count, independent)
    adjusted = np.empty(count)
    adjusted[order] = np.minimum(np.minimum.accumulate(raw[::-1])[::-1], 1.0)
    return adjusted


def _as_output(table: pd.DataFrame, kind: str) -> pd.DataFrame | pl.DataFrame:
    if kind == "polars":
        return pl.from_pandas(table.reset_index(drop=True))
    return table
