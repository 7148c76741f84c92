"""Reading a feature matrix and a target for selection: one polars view of ``X`` whatever its
kind, the target as a numpy array, and every bad-input check with a message that names the
columns and the fix. The rest of ``featurekit.selection`` never branches on the frame type."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa

from featurekit.errors import SelectionError

NUMERIC = "numeric"
BOOLEAN = "boolean"
CATEGORICAL = "categorical"
SHOWN = 5  # columns named in a message before "and n more"


@dataclass(frozen=True)
class Matrix:
    """A feature matrix read for selection.

    ``frame`` is a polars copy (the caller's object is never touched), ``labels`` the caller's
    column labels in order (``frame`` uses ``str(label)``), ``kind`` the input's library
    ("pandas", "polars", "pyarrow" or "numpy") and ``column_kinds`` numeric, boolean or
    categorical per column (None for types selection cannot test, e.g. datetimes).
    """

    frame: pl.DataFrame
    labels: list[Any]
    kind: str
    column_kinds: dict[str, str | None]
    original: Any

    @property
    def names(self) -> list[str]:
        return self.frame.columns

    def subset(self, names: list[str]) -> Any:
        """The caller's ``X`` with only ``names`` (in X's column order), in the caller's kind."""
        keep = set(names)
        positions = [i for i, name in enumerate(self.names) if name in keep]
        if self.kind == "pandas":
            return self.original.iloc[:, positions].copy()
        if self.kind == "numpy":
            return np.asarray(self.original)[:, positions]
        selected = self.frame.select([self.names[i] for i in positions])
        return selected.to_arrow() if self.kind == "pyarrow" else selected


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def name_list(names: list[str], details: dict[str, Any] | None = None) -> str:
    """'a', 'b' (3 rows), ... and 4 more: a short, readable list for an error message."""
    shown = [repr(name) + (f" ({details[name]})" if details else "") for name in names[:SHOWN]]
    more = f" and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
    return ", ".join(shown) + more


def column_kind(dtype: pl.DataType) -> str | None:
    if dtype.is_numeric() or dtype == pl.Null:
        return NUMERIC
    if dtype == pl.Boolean:
        return BOOLEAN
    if dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum | pl.Categorical):
        return CATEGORICAL
    return None


def read_matrix(X: Any) -> Matrix:
    """Read ``X`` (pandas, polars, pyarrow or a 2-d array) without copying the caller's object."""
    if isinstance(X, pd.DataFrame):
        labels = list(X.columns)
        names = [str(label) for label in labels]
        if len(set(names)) != len(names):
            repeated = sorted({name for name in names if names.count(name) > 1})
            raise SelectionError(f"X has repeated column names: {name_list(repeated)}. "
                                 "Fix: give every feature a unique name")
        frame = pl.from_pandas(X.set_axis(names, axis=1), include_index=False)
        kind = "pandas"
    elif isinstance(X, pl.LazyFrame | pl.DataFrame):
        frame = X.collect() if isinstance(X, pl.LazyFrame) else X
        labels = list(frame.columns)
        kind = "polars"
    elif isinstance(X, pa.Table):
        frame = pl.from_arrow(X)
        labels = list(frame.columns)
        kind = "pyarrow"
    else:
        array = np.asarray(X)
        if array.ndim != 2:
            raise SelectionError(f"X must be two-dimensional (rows x features), got shape "
                                 f"{array.shape}. Fix: pass a DataFrame or a 2-d array")
        labels = [f"x{i}" for i in range(array.shape[1])]
        frame = pl.DataFrame({name: array[:, i] for i, name in enumerate(labels)})
        kind = "numpy"
    kinds = {name: column_kind(dtype) for name, dtype in frame.schema.items()}
    return Matrix(frame, labels, kind, kinds, X)


def require_testable(matrix: Matrix) -> None:
    """Every column must be numeric, boolean or categorical, and have neither NaN nor inf."""
    if matrix.frame.width == 0:
        raise SelectionError("X has 0 feature(s): there is nothing to select from. "
                             "Fix: pass a matrix with at least one column")
    if matrix.frame.height < 2:
        raise SelectionError(f"X has {_plural(matrix.frame.height, 'row')} (n_samples = "
                             f"{matrix.frame.height}); the tests need at least two. Fix: pass more rows")
    untestable = [name for name, kind in matrix.column_kinds.items() if kind is None]
    if untestable:
        types = {name: str(matrix.frame.schema[name]) for name in untestable}
        raise SelectionError(
            f"X has columns that are neither numeric, boolean nor categorical: "
            f"{name_list(untestable, types)}. Fix: convert them (e.g. a date to its day of year) "
            "or drop them")
    counts = missing_counts(matrix.frame)
    bad = {name: count for name, count in counts.items() if count}
    if bad:
        details = {name: f"{count} of {matrix.frame.height} rows" for name, count in bad.items()}
        raise SelectionError(
            f"X has missing (NaN/null) or infinite values in {_plural(len(bad), 'column')}: "
            f"{name_list(list(bad), details)}. The FRESH tests need complete columns. Fix: impute "
            "them (featurekit.selection.impute, or TimeSeriesFeatures(impute=True)) or drop them "
            "(featurekit.selection.drop_highly_null)")


def missing_counts(frame: pl.DataFrame) -> dict[str, int]:
    """Per column, the rows that are null, NaN or infinite (what no test can rank)."""
    if frame.width == 0:
        return {}
    expressions = []
    for name, dtype in frame.schema.items():
        column = pl.col(name)
        bad = column.is_null()
        if dtype.is_float():
            bad = bad | column.is_nan() | column.is_infinite()
        expressions.append(bad.sum().alias(name))
    row = frame.select(expressions).row(0)
    return dict(zip(frame.columns, row, strict=True))


@dataclass(frozen=True)
class Target:
    """``y`` as a numpy array; ``numeric_dtype`` is its kind when it is a number ("f", "i",
    "u" or "b") and None for labels (strings, categories, objects)."""

    values: np.ndarray
    numeric_dtype: str | None


def read_target(y: Any, X: Any, n_rows: int) -> Target:
    """Read ``y`` and check that it lines up with ``X`` row for row (never reindexing)."""
    if y is None:
        raise SelectionError("selection requires y to be passed, but the target y is None. "
                             "Fix: pass the target (one value per row of X)")
    if isinstance(y, pd.DataFrame | pl.DataFrame):
        if y.shape[1] != 1:
            raise SelectionError(f"y must be one column, got a frame of {y.shape[1]} columns. "
                                 "Fix: pass the target column, e.g. y['label']")
        y = y.iloc[:, 0] if isinstance(y, pd.DataFrame) else y.to_series()
    if isinstance(y, pd.Series):
        if isinstance(X, pd.DataFrame) and len(y) == len(X) and not y.index.equals(X.index):
            same_labels = y.index.sort_values().equals(X.index.sort_values()) if (
                y.index.is_unique and X.index.is_unique) else False
            hint = ("y has X's index labels in another order. Fix: y = y.loc[X.index]"
                    if same_labels else "Fix: align them first, e.g. y = y.loc[X.index]")
            raise SelectionError(f"the index of y does not match the index of X (rows are matched "
                                 f"by position, never reindexed silently). {hint}")
        numeric = y.dtype.kind if y.dtype.kind in "fiub" and not isinstance(
            y.dtype, pd.CategoricalDtype) else None
        if numeric is not None:
            values = y.to_numpy(dtype=float, na_value=np.nan) if y.hasnans else y.to_numpy()
        else:
            values = y.to_numpy(dtype=object, na_value=None)
    elif isinstance(y, pl.Series):
        dtype = y.dtype
        numeric = ("f" if dtype.is_float() else "u" if dtype.is_unsigned_integer()
                   else "i" if dtype.is_integer() else "b" if dtype == pl.Boolean else None)
        values = y.to_numpy() if numeric and not y.null_count() else y.to_list()
        values = np.asarray(values, dtype=object if numeric is None or y.null_count() else None)
        if numeric is not None and y.null_count():
            values = np.array([np.nan if v is None else v for v in values], dtype=float)
            numeric = "f"
    else:
        values = np.asarray(y)
        if values.ndim == 2 and values.shape[1] == 1:
            values = values[:, 0]
        if values.ndim != 1:
            raise SelectionError(f"y should be a 1d array (one value per row of X), got shape "
                                 f"{values.shape}. Fix: pass a Series or a 1-d array")
        numeric = values.dtype.kind if values.dtype.kind in "fiub" else None
        if numeric is None:
            values = values.astype(object)
    if len(values) != n_rows:
        raise SelectionError(f"y has {len(values)} values but X has {n_rows} rows. "
                             "Fix: pass one target value per row of X, in X's row order")
    missing = _missing_target(values)
    if missing.any():
        rows = np.flatnonzero(missing)
        shown = ", ".join(map(str, rows[:SHOWN])) + (" ..." if len(rows) > SHOWN else "")
        raise SelectionError(f"y has {_plural(len(rows), 'missing value')} (NaN, None or inf) at "
                             f"rows "
                             f"{shown}. Fix: drop those rows from X and y, or fill them")
    return Target(values, numeric)


def _missing_target(values: np.ndarray) -> np.ndarray:
    if values.dtype.kind == "f":
        return ~np.isfinite(values)
    if values.dtype.kind == "O":
        return np.array([v is None or (isinstance(v, float) and np.isnan(v)) for v in values],
                        dtype=bool)
    return np.zeros(len(values), dtype=bool)
