"""Pruning: drop columns that cannot help a model (one value, mostly missing, one value almost
everywhere) and one of every highly correlated pair. Each function returns the kept frame and
what it dropped, with the reason, so nothing disappears unexplained."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import polars as pl

from featurekit.errors import SelectionError
from featurekit.selection._inputs import BOOLEAN, NUMERIC, missing_counts, read_matrix


class Pruned(NamedTuple):
    """The input without the dropped columns (same kind, rows untouched), and a mapping
    ``{column: why it was dropped}`` in the input's column order."""

    frame: Any
    dropped: dict[str, str]


def _finish(matrix, dropped: dict[str, str]) -> Pruned:
    ordered = {name: dropped[name] for name in matrix.names if name in dropped}
    return Pruned(matrix.subset([n for n in matrix.names if n not in dropped]), ordered)


def _check_fraction(name: str, value: float) -> None:
    if not (isinstance(value, int | float) and 0 <= value <= 1):
        raise SelectionError(f"{name} must be a fraction between 0 and 1, got {value!r}")


def _present(frame: pl.DataFrame, name: str) -> pl.Series:
    """The column without null, NaN and infinite entries (-0.0 counted as 0.0)."""
    column = frame[name]
    if column.dtype.is_float():
        column = column.filter(column.is_finite()) + 0.0
    return column.drop_nulls()


def drop_single_value(X: Any, count_missing_as_value: bool = False) -> Pruned:
    """Drop columns with at most one distinct value among their present entries (a column
    of one value and missing entries counts as two values with ``count_missing_as_value``).

    >>> import pandas as pd
    >>> X = pd.DataFrame({"a": [1, 2, 3], "b": [5, 5, 5], "c": [None, None, None]})
    >>> kept, dropped = drop_single_value(X)
    >>> kept.columns.tolist(), dropped
    (['a'], {'b': 'single value 5', 'c': 'no values (all missing)'})
    """
    matrix = read_matrix(X)
    missing = missing_counts(matrix.frame)
    dropped = {}
    for name in matrix.names:
        present = _present(matrix.frame, name)
        distinct = present.unique()
        values = len(distinct) + (1 if count_missing_as_value and missing[name] else 0)
        if len(distinct) == 0 and values <= 1:
            dropped[name] = "no values (all missing)"
        elif values <= 1:
            dropped[name] = f"single value {distinct[0]!r}"
    return _finish(matrix, dropped)


def drop_highly_null(X: Any, max_null_fraction: float = 0.95) -> Pruned:
    """Drop columns whose share of missing entries (null, NaN or infinite) is above
    ``max_null_fraction``.

    >>> import polars as pl
    >>> X = pl.DataFrame({"a": [1.0, None, 3.0, 4.0], "b": [None, None, None, 1.0]})
    >>> kept, dropped = drop_highly_null(X, max_null_fraction=0.5)
    >>> kept.columns, dropped
    (['a'], {'b': '3 of 4 rows missing (75%), more than 50%'})
    """
    _check_fraction("max_null_fraction", max_null_fraction)
    matrix = read_matrix(X)
    rows = matrix.frame.height
    dropped = {}
    for name, count in missing_counts(matrix.frame).items():
        if rows and count / rows > max_null_fraction:
            dropped[name] = (f"{count} of {rows} rows missing ({count / rows:.0%}), more than "
                             f"{max_null_fraction:.0%}")
    return _finish(matrix, dropped)


def drop_low_information(X: Any, max_share: float = 0.95) -> Pruned:
    """Drop near-constant columns: those where one value fills more than ``max_share`` of the
    present entries (this includes single-value and all-missing columns).

    >>> import pandas as pd
    >>> X = pd.DataFrame({"a": [0, 0, 0, 0, 0, 0, 0, 0, 0, 1], "b": range(10)})
    >>> drop_low_information(X, max_share=0.8).dropped
    {'a': 'value 0 fills 9 of 10 present rows (90%), more than 80%'}
    """
    _check_fraction("max_share", max_share)
    matrix = read_matrix(X)
    dropped = {}
    for name in matrix.names:
        present = _present(matrix.frame, name)
        if len(present) == 0:
            dropped[name] = "no values (all missing)"
            continue
        counts = present.value_counts(sort=True)
        value, count = counts.row(0)
        if count / len(present) > max_share:
            dropped[name] = (f"value {value!r} fills {count} of {len(present)} present rows "
                             f"({count / len(present):.0%}), more than {max_share:.0%}")
    return _finish(matrix, dropped)


def correlation_matrix(frame: pl.DataFrame, names: list[str], method: str) -> np.ndarray:
    """Pearson (or Spearman: Pearson of average ranks) correlations of ``names``, each pair
    over the rows where both are present (like pandas' ``DataFrame.corr``)."""
    values = frame.select(pl.col(names).cast(pl.Float64)).to_numpy()
    present = np.isfinite(values)
    if method == "spearman":
        ranked = np.full(values.shape, np.nan)
        for j in range(values.shape[1]):
            column = values[present[:, j], j]
            ranked[present[:, j], j] = pl.Series(column).rank("average").to_numpy()
        values = ranked
    weights = present.astype(float)
    filled = np.where(present, values, 0.0)
    pairs = weights.T @ weights  # rows where both i and j are present
    sums = filled.T @ weights  # sum of i over rows where j is present
    squares = (filled**2).T @ weights
    products = filled.T @ filled
    with np.errstate(invalid="ignore", divide="ignore"):
        covariance = products - sums * sums.T / pairs
        variance_i = squares - sums**2 / pairs
        correlation = covariance / np.sqrt(variance_i * variance_i.T)
    return np.clip(correlation, -1.0, 1.0)


def drop_correlated(X: Any, y: Any = None, threshold: float = 0.95, method: str = "pearson",
                    **relevance_options: Any) -> Pruned:
    """Drop one column of every pair whose absolute correlation is above ``threshold``.

    Columns are visited from the most to the least preferred and a column is kept unless it
    is too correlated with one already kept. Without ``y`` the preference is ``X``'s column
    order (the first of a pair stays); with ``y`` it is relevance (lowest p-value of
    :func:`featurekit.selection.relevance_table`, which ``relevance_options`` are passed to),
    so the more relevant column of a pair stays. Numeric and boolean columns take part;
    categorical ones are kept as they are.

    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> a = rng.normal(size=50)
    >>> X = pd.DataFrame({"a": a, "a_again": 2 * a + 1e-3 * rng.normal(size=50),
    ...                   "b": rng.normal(size=50)})
    >>> drop_correlated(X).dropped
    {'a_again': "correlated with 'a' (r = 1.000)"}
    """
    if method not in ("pearson", "spearman"):
        raise SelectionError(f"method must be 'pearson' or 'spearman', got {method!r}")
    _check_fraction("threshold", threshold)
    matrix = read_matrix(X)
    candidates = [n for n in matrix.names if matrix.column_kinds[n] in (NUMERIC, BOOLEAN)]
    if y is not None:
        from featurekit.selection.relevance import relevance_table

        table = relevance_table(matrix.original, y, **relevance_options)
        table = table.to_pandas() if isinstance(table, pl.DataFrame) else table
        p_columns = [c for c in table.columns if c.startswith("p_value")]
        best = table[p_columns].min(axis=1, skipna=True).fillna(np.inf)
        rank = dict(zip(table["feature"], best, strict=True))
        order = sorted(range(len(candidates)), key=lambda i: (rank[candidates[i]], i))
    else:
        order = list(range(len(candidates)))
    correlation = correlation_matrix(matrix.frame, candidates, method) if candidates else None
    kept: list[int] = []
    dropped = {}
    for i in order:
        partner = next((k for k in kept if abs(correlation[i, k]) > threshold), None)
        if partner is None:
            kept.append(i)
        else:
            dropped[candidates[i]] = (f"correlated with {candidates[partner]!r} "
                                      f"(r = {correlation[i, partner]:.3f})")
    return _finish(matrix, dropped)
