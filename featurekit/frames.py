"""One place for dataframe-library differences: read any supported input as polars, and hand
results back in the caller's kind (pandas, polars or pyarrow)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pyarrow as pa

from featurekit.errors import FeaturekitError, schema_error

FRAME_KINDS = ("pandas", "polars", "pyarrow")


def frame_kind(data: Any) -> str:
    """Name the library of ``data`` ("pandas", "polars", "pyarrow"); paths count as polars."""
    if isinstance(data, pd.DataFrame):
        return "pandas"
    if isinstance(data, (pl.DataFrame, pl.LazyFrame)):
        return "polars"
    if isinstance(data, pa.Table):
        return "pyarrow"
    if isinstance(data, (str, os.PathLike)):
        return "polars"
    raise FeaturekitError(
        f"unsupported table type {type(data).__name__}. Fix: pass a pandas or polars DataFrame, "
        "a pyarrow Table, or a path to a .parquet or .csv file"
    )


def to_polars(data: Any, table: str, index_name: str | None = None) -> pl.DataFrame:
    """Read ``data`` as a new polars DataFrame without touching the caller's object."""
    kind = frame_kind(data)
    if kind == "pandas":
        frame = data
        if index_name is not None and index_name not in frame.columns and frame.index.name == index_name:
            frame = frame.reset_index()
        return _from_pandas(frame, table)
    if kind == "pyarrow":
        return _read(lambda: pl.from_arrow(data), table, "the pyarrow table")
    if isinstance(data, pl.LazyFrame):
        return _read(data.collect, table, "the lazy frame")
    if isinstance(data, pl.DataFrame):
        return data.clone()
    path = Path(data)
    if not path.exists():
        raise FeaturekitError(f"table {table!r}: file {str(path)!r} does not exist. Fix: check the path")
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return _read(lambda: pl.read_parquet(path), table, repr(path.name))
    if suffix in (".csv", ".txt"):
        return _read(lambda: pl.read_csv(path, try_parse_dates=True), table, repr(path.name))
    raise FeaturekitError(
        f"table {table!r}: cannot read {path.name!r}. Fix: give a .parquet or .csv file, or a frame"
    )


_READ_ERRORS = (pl.exceptions.PolarsError, pa.ArrowException, OSError, ValueError, TypeError)


def _read(read: Callable[[], Any], table: str, what: str) -> pl.DataFrame:
    """Run a reader; its failure becomes a featurekit error naming the table."""
    try:
        frame = read()
    except _READ_ERRORS as error:
        raise FeaturekitError(f"table {table!r}: {what} cannot be read ({error}). Fix: check "
                              "that it is a well-formed table of supported column types") from None
    if not isinstance(frame, pl.DataFrame):  # e.g. pl.from_arrow of a single array
        raise FeaturekitError(f"table {table!r}: {what} is not a table. Fix: pass a table")
    return frame


def _from_pandas(frame: pd.DataFrame, table: str) -> pl.DataFrame:
    """pandas to polars, with object columns that arrow cannot hold named, not crashed on."""
    repeated = frame.columns[frame.columns.duplicated()].unique().tolist()
    if repeated:
        raise schema_error(table, str(repeated[0]), "the column name appears more than once",
                           "rename the repeated columns so that each name is unique")
    zoned = {column: _one_time_zone(frame[column], table, str(column))
             for column in frame.columns if frame[column].dtype == object}
    zoned = {column: series for column, series in zoned.items() if series is not None}
    if zoned:  # a shallow copy with those columns replaced; the caller's frame is untouched
        frame = frame.copy(deep=False)
        for column, series in zoned.items():
            frame[column] = series
    try:
        return pl.from_pandas(frame)
    except _READ_ERRORS:
        for column in frame.columns:
            try:
                pl.from_pandas(frame[[column]])
            except _READ_ERRORS:
                kinds = sorted({type(v).__name__ for v in frame[column].dropna().head(10_000)})
                raise schema_error(
                    table, str(column),
                    f"the column holds Python values of types {kinds} that no single column "
                    "type can hold",
                    "convert the column to one type first (e.g. .astype(str), pd.to_numeric "
                    "or pd.to_datetime), or drop it") from None
        raise


def _one_time_zone(column: pd.Series, table: str, name: str) -> pd.Series | None:
    """An object column of datetimes in several zones, as UTC (the same instants); None when
    it needs nothing. Aware and naive times mixed cannot be compared: refused."""
    present = column.notna().to_numpy()
    if not present.any() or not isinstance(column.iloc[int(present.argmax())], dt.datetime) \
            or pd.api.types.infer_dtype(column, skipna=True) != "datetime":
        return None  # looking at the first value spares a scan of object columns of strings
    times = column.dropna()
    aware = times.map(lambda value: getattr(value, "tzinfo", None) is not None).astype(bool)
    if aware.any() and not aware.all():
        raise schema_error(
            table, name,
            f"{int(aware.sum())} times carry a time zone and {int((~aware).sum())} do not, so "
            "they cannot be compared",
            "localize the naive times or convert the column with pd.to_datetime(..., utc=True)")
    if not aware.any() or times.map(lambda value: str(value.tzinfo)).nunique() == 1:
        return None
    try:
        return pd.to_datetime(column, utc=True)
    except (ValueError, OverflowError) as error:
        raise schema_error(table, name, f"times in several zones cannot be read ({error})",
                           "convert the column with pd.to_datetime(..., utc=True)") from None


def from_polars(frame: pl.DataFrame, kind: str, index: list[str]) -> Any:
    """Convert a result to ``kind``; pandas results are indexed by the ``index`` columns."""
    if kind == "polars":
        return frame
    if kind == "pyarrow":
        return frame.to_arrow()
    if kind == "pandas":
        # One block per column: numeric columns without missing values are handed over
        # without a copy, and a wide matrix is never consolidated into a second 2-D copy.
        result = frame.to_pandas(split_blocks=True)
        return result.set_index(index if len(index) > 1 else index[0])
    raise FeaturekitError(f"unknown return_type {kind!r}. Fix: use one of {FRAME_KINDS}")
