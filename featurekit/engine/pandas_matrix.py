"""The feature matrix handed to a pandas user: one writable numpy column per feature,
categorical features as ``category`` with their present values sorted, built one column at
a time so the matrix is never held twice.

Arrow's own conversion hands numeric columns without missing values over without a copy,
which leaves them read-only (``df.loc[i, c] = v`` then fails); a user owns the matrix and
may write to it, so every column here is pandas' own memory.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import polars as pl

from featurekit.primitives import kernels


def to_pandas_matrix(result: pl.DataFrame, index: Sequence[str], categorical: Sequence[str],
                     widen: Sequence[str]) -> pd.DataFrame:
    """``result`` as pandas, indexed by ``index`` (a MultiIndex for several columns):
    ``categorical`` columns become ``category`` (integer categories stay integers, even with
    missing values), integer columns among ``widen`` become int64, as Featuretools returns
    them; integers with missing values become float64 with NaN, as pandas holds them.

    ``result`` is emptied on the way (each column dropped in place as soon as pandas has its
    copy): it must be a frame of the engine's own, not the caller's.
    """
    keys = [result[name].to_pandas() for name in index]
    for name in index:
        result.drop_in_place(name)
    categories = sorted_categories(result, categorical)
    widened = set(widen)
    columns: dict[str, object] = {}
    for name in list(result.columns):
        column = result.drop_in_place(name)
        if name in categories:
            codes, values = categories.pop(name)
            labels = pd.Index(values.to_numpy() if values.dtype.is_numeric() else values.to_list())
            columns[name] = pd.Categorical.from_codes(codes, categories=labels, validate=False)
        else:
            columns[name] = writable_column(column, np.int64 if name in widened else None)
        del column
    matrix = pd.DataFrame(columns, copy=False)  # one block per column: nothing consolidated
    matrix.index = (pd.MultiIndex.from_arrays(keys, names=list(index)) if len(keys) > 1
                    else pd.Index(keys[0], name=index[0]))
    return matrix


def writable_column(column: pl.Series, integer_type: type | None = None) -> object:
    """A column as pandas holds it, in memory of its own: numbers as numpy (missing as NaN,
    integers with missing values as float64), other types through polars' conversion, copied.
    ``integer_type`` widens integers without missing values."""
    dtype = column.dtype
    if not (dtype.is_integer() or dtype.is_float()):
        return pd.Series(column.to_pandas(), copy=True).array
    if not column.null_count():
        values = column.to_numpy()  # a view: the copy below is pandas' own
        return values.astype(integer_type or values.dtype) if dtype.is_integer() else values.copy()
    raw, valid = kernels.numbers_and_validity(column)
    numbers = raw.astype(np.float64 if dtype.is_integer() else raw.dtype)
    numbers[~valid] = np.nan
    return numbers


def sorted_categories(frame: pl.DataFrame, names: Sequence[str]) -> dict[str, tuple[np.ndarray, pl.Series]]:
    """For each categorical feature of ``names``: its codes (int32, -1 for missing) and the
    values they stand for, those present sorted (as text for categoricals, as integers for
    integers), as pandas orders the categories of ``astype("category")``. Two polars passes
    cover every column: the few distinct values, then each row's code looked up by its key
    (a categorical's physical id) rather than found by ranking every row's text."""
    schema = frame.schema

    def coded(name: str) -> bool:
        return isinstance(schema[name], (pl.Categorical, pl.Enum))

    def label(values: pl.Expr, name: str) -> pl.Expr:  # what the categories hold
        if coded(name):
            return values.cast(pl.String)
        return values.cast(pl.Int64) if schema[name].is_integer() else values

    def key(values: pl.Expr, name: str) -> pl.Expr:  # what a row is looked up by
        return values.to_physical() if coded(name) else values

    # one order of the distinct values for both the labels and the keys sorted by them
    present = frame.select([
        expression for name in names for values in [pl.col(name).unique(maintain_order=True).drop_nulls()]
        for expression in (label(values, name).sort().implode().alias(name),
                           key(values, name).sort_by(label(values, name)).implode().alias(f"{name} keys"))])
    seen = [name for name in names if present[name][0].len()]
    codes = frame.select([
        key(pl.col(name), name).replace_strict(
            present[f"{name} keys"][0], pl.int_range(present[name][0].len(), dtype=pl.Int32, eager=True),
            return_dtype=pl.Int32).fill_null(pl.lit(-1, pl.Int32))
        for name in seen])
    return {name: (codes[name].to_numpy(writable=True) if name in codes.columns
                   else np.full(frame.height, -1, dtype=np.int32), present[name][0]) for name in names}
