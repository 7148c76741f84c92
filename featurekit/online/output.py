"""The fast path's columns handed back as ``fk.compute`` hands back a matrix: pandas with
categorical features as ``category`` (their present values sorted), integers as int64 (as
float64 with NaN when one is missing), floats as float64; or polars / pyarrow through the
batch engine's own conversion."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import polars as pl

from featurekit.engine.api import _hand_back
from featurekit.feature import Feature
from featurekit.online.columns import BOOLEAN, CODES, FLOAT, INTEGER, Col
from featurekit.types import CATEGORY_TYPES

_DTYPES: dict[tuple, pd.CategoricalDtype] = {}  # categories seen -> their dtype (made once)
_COLUMNS: dict[int, tuple[pd.Index, object]] = {}  # a feature list's column index (made once)


def hand_back(kind: str, keys: list[pl.Series], features: Sequence[Feature],
              cols: dict[str, Col]) -> Any:
    """The matrix: ``keys`` (index, and cutoff time) as its index, one column per output."""
    categorical = {name for f in features if f.schema.logical_type in CATEGORY_TYPES
                   for name in f.output_names}
    names = [name for f in features for name in f.output_names]
    if kind == "pandas" and all(_pandas_ready(cols[n], n in categorical) for n in names):
        arrays = [_categorical(cols[n]) if n in categorical else _numbers(cols[n]) for n in names]
        columns = _COLUMNS.get(id(features))
        if columns is None or list(columns[0]) != names:
            columns = _COLUMNS[id(features)] = (pd.Index(names), features)
        return _frame(arrays, columns[0], _index(keys))
    result = pl.DataFrame([*keys, *[_series(cols[n], n) for n in names]])
    return _hand_back(result, kind, [key.name for key in keys], features)


def _index(keys: list[pl.Series]) -> pd.Index:
    """The matrix's index as ``to_pandas_matrix`` makes it (a MultiIndex for two keys)."""
    arrays = [_pandas_values(key) for key in keys]
    if len(arrays) == 1:
        return pd.Index(arrays[0], name=keys[0].name)
    levels, codes = [], []
    for values in arrays:
        code, level = pd.factorize(values, sort=True)
        levels.append(level)
        codes.append(code)
    return pd.MultiIndex(levels=levels, codes=codes, names=[key.name for key in keys],
                         verify_integrity=False)


def _pandas_values(key: pl.Series) -> object:
    """A key column as pandas would hold it: numpy for integers and naive datetimes (no
    copy through arrow), pandas' own conversion otherwise."""
    dtype = key.dtype
    if (dtype.is_integer() and not key.null_count()) or (
            isinstance(dtype, pl.Datetime) and dtype.time_zone is None and not key.null_count()):
        return key.to_numpy()
    return key.to_pandas()


def _pandas_ready(col: Col, categorical: bool) -> bool:
    if categorical:
        return col.kind in (CODES, INTEGER)
    return col.kind in (FLOAT, INTEGER)


def _numbers(col: Col) -> np.ndarray:
    if col.kind == FLOAT:
        return col.values.copy()
    if col.missing is None:
        return col.values.astype(np.int64)
    values = col.values.astype(np.float64)
    values[col.missing] = np.nan
    return values


def _categorical(col: Col) -> pd.Categorical:
    if len(col) == 1:  # one instance: its value is the only category
        return _one_categorical(col)
    if col.kind == CODES:
        present = np.unique(col.values[col.values >= 0])
        labels: tuple = tuple(col.names[present].tolist())
        codes = np.searchsorted(present, col.values).astype(np.int32)
        codes[col.values < 0] = -1
        key = ("text", labels)
    else:
        valid = col.values if col.missing is None else col.values[~col.missing]
        present = np.unique(valid)
        codes = np.searchsorted(present, col.values).astype(np.int32)
        if col.missing is not None:
            codes[col.missing] = -1
        labels = tuple(present.tolist())
        key = ("int", labels)
    dtype = _DTYPES.get(key)
    if dtype is None:
        if len(_DTYPES) > 100_000:
            _DTYPES.clear()
        categories = (pd.Index(list(labels)) if key[0] == "text"
                      else pd.Index(np.array(labels, dtype=np.int64)))
        dtype = _DTYPES[key] = pd.CategoricalDtype(categories)
    return pd.Categorical.from_codes(codes, dtype=dtype, validate=False)


def _one_categorical(col: Col) -> pd.Categorical:
    value = col.values[0]
    if (col.kind == CODES and value < 0) or (col.missing is not None and col.missing[0]):
        key: tuple = ("text" if col.kind == CODES else "int", ())
        codes = np.array([-1], np.int8)
    else:
        key = ("text", (col.names[value],)) if col.kind == CODES else ("int", (int(value),))
        codes = np.zeros(1, np.int8)
    dtype = _DTYPES.get(key)
    if dtype is None:
        if len(_DTYPES) > 100_000:
            _DTYPES.clear()
        categories = (pd.Index(list(key[1])) if key[0] == "text"
                      else pd.Index(np.array(key[1], dtype=np.int64)))
        dtype = _DTYPES[key] = pd.CategoricalDtype(categories)
    return pd.Categorical.from_codes(codes, dtype=dtype, validate=False)


def _frame(arrays: list, columns: pd.Index, index: pd.Index) -> pd.DataFrame:
    """A frame of one block per column, without pandas' per-column checks."""
    try:  # numbered columns, then named: pandas reads text column names once instead of per block
        frame = pd.DataFrame._from_arrays(arrays, columns=pd.RangeIndex(len(columns)), index=index,
                                          verify_integrity=False)
        frame.columns = columns
        return frame
    except (AttributeError, TypeError):  # a pandas without the private constructor
        frame = pd.DataFrame(dict(zip(columns, arrays, strict=True)), copy=False)
        frame.index = index
        return frame


def _series(col: Col, name: str) -> pl.Series:
    """A column as the batch engine's polars frame holds it (NaN missing, but a sum's)."""
    if col.kind == FLOAT:
        return pl.Series(name, col.values, nan_to_null=not col.nan_is_value)
    if col.kind == CODES:
        values = np.where(col.values >= 0, col.values, 0)
        text = pl.Series(name, col.names[values].tolist() if len(col.names) else [None] * len(values),
                         dtype=pl.String)
        return text.scatter(np.flatnonzero(col.values < 0), None).cast(pl.Categorical)
    series = pl.Series(name, col.values)
    if col.kind == BOOLEAN or col.kind == INTEGER:
        return series.scatter(np.flatnonzero(col.missing), None) if col.missing is not None else series
    return series
