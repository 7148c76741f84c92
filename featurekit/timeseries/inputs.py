"""Read and check the input of ``extract``: one polars frame whose id, sort, kind and value
columns are distinct, present and typed, and whose keys are never missing.

Every problem is reported as a featurekit error naming the argument, the column, the count
of rows concerned and the fix, before any sorting or kernel work.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl

from featurekit.errors import FeaturekitError, SchemaError, schema_error

TABLE = "time series"
# A pandas DatetimeIndex travels with the rows under this name: like tsfresh, featurekit
# computes time-aware calculators (linear_trend_timewise) only from such an index.
TIME_COLUMN = "__featurekit_index_time__"

#: What each key argument holds, for the messages.
ROLES = {
    "column_id": "the id of the series a row belongs to",
    "column_sort": "the order of the rows within a series (a time or a step)",
    "column_kind": "the kind (variable) a row measures",
    "column_value": "the measured value",
}


def check_roles(arguments: Mapping[str, Any]) -> None:
    """Each of column_id, column_sort, column_kind and column_value names its own column."""
    first_argument: dict[Any, str] = {}
    for argument, column in arguments.items():
        if column is None:
            continue
        if not isinstance(column, str | int) or isinstance(column, bool):
            raise FeaturekitError(f"{argument} must name a column, got {column!r}. "
                                  f"Fix: pass {argument}='<column name>'")
        if column in first_argument:
            earlier = first_argument[column]
            raise FeaturekitError(
                f"{argument}={column!r} names the same column as {earlier}. Fix: give each "
                f"argument its own column: {earlier} is {ROLES[earlier]}, {argument} is "
                f"{ROLES[argument]}"
                + (
                    "; leave column_sort out to keep each series' rows in their given order"
                    if {argument, earlier} == {"column_id", "column_sort"}
                    else ""
                )
            )
        first_argument[column] = argument


def read_frame(df: Any, keys: Mapping[str, str]) -> tuple[pl.DataFrame, bool]:
    """The input as a polars frame (never the caller's object) and whether it was pandas.

    ``keys`` maps the key columns (id, sort, kind) to their argument names; every other
    column may hold values. A pandas object column that holds numbers only (integers beyond
    64 bits included) is read as float, as tsfresh reads values; one whose values have no
    common type raises an error naming it.
    """
    if isinstance(df, pd.DataFrame):
        return _from_pandas(df, keys), True
    if isinstance(df, pl.LazyFrame):
        return df.collect(), False
    if isinstance(df, pl.DataFrame):
        return df, False
    if isinstance(df, str | Path):
        path = Path(df)
        plain = "://" not in str(df) and not any(mark in str(df) for mark in "*?[")
        if plain and not path.is_file():
            raise SchemaError(
                f"table {TABLE!r}: no file at {str(path)!r}. Fix: pass the path of an "
                "existing parquet or CSV file, or a DataFrame"
            )
        if path.suffix == ".csv":
            return pl.read_csv(path), False
        return pl.read_parquet(path), False
    try:
        import pyarrow as pa

        if isinstance(df, pa.Table):
            return pl.from_arrow(df), False  # type: ignore[return-value]
    except ImportError:  # pragma: no cover - pyarrow is a dependency
        pass
    raise SchemaError(
        f"table {TABLE!r}: cannot read a {type(df).__name__}. "
        "Fix: pass a pandas or polars DataFrame, a pyarrow Table or a parquet/CSV path."
    )


_CONVERSION_ERRORS = (OverflowError, TypeError, ValueError, pl.exceptions.PolarsError)


def _conversion_errors() -> tuple[type[BaseException], ...]:
    import pyarrow as pa

    return (*_CONVERSION_ERRORS, pa.ArrowException)


def _from_pandas(df: pd.DataFrame, keys: Mapping[str, str]) -> pl.DataFrame:
    errors = _conversion_errors()
    try:
        return pl.from_pandas(df, include_index=False)
    except errors:
        pass  # find the column polars cannot hold and say why
    columns = []
    for name in df.columns:
        try:
            columns.append(pl.from_pandas(df[name]).alias(str(name)))
        except errors:
            columns.append(_read_mixed(df[name], str(name), keys.get(name)))
    return pl.DataFrame(columns)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def _read_mixed(column: pd.Series, name: str, argument: str | None) -> pl.Series:
    """A pandas column polars cannot read as is: numbers only in a value column become
    float (as tsfresh casts values); anything else is an error naming the column."""
    present = column.dropna()
    if argument is None and all(_is_number(value) for value in present):
        return pl.Series(name, column.astype(np.float64).to_numpy())
    types = sorted({type(value).__name__ for value in present})
    huge = any(isinstance(value, int) and abs(value) >= 2**63 for value in present)
    problem = (
        f"the {argument or 'value'} column holds values that fit no single column type "
        f"(Python types {types}"
        + (", integers beyond the 64-bit range" if huge else "")
        + ")"
    )
    if argument == "column_id":
        fix = f"cast the ids to one type first, e.g. df[{name!r}] = df[{name!r}].astype(str)"
    elif argument is not None:
        fix = f"cast {argument} {name!r} to one type first (numbers or datetimes)"
    else:
        fix = f"cast the values to float first; text such as {_first_text(present)} is no number"
    raise schema_error(TABLE, name, problem, fix)


def _first_text(values: pd.Series) -> str:
    for value in values:
        if not _is_number(value):
            return repr(value)
    return "this"


def require(frame: pl.DataFrame, column: str | None, argument: str) -> None:
    """``column`` (the value of ``argument``) is a column of ``frame``."""
    if column is not None and column not in frame.columns:
        raise schema_error(
            TABLE,
            column,
            f"the {argument} column is missing (columns are {frame.columns})",
            f"pass the name of an existing column as {argument}",
        )


def value_columns(
    frame: pl.DataFrame,
    column_id: str,
    column_sort: str | None,
    column_kind: str | None,
    column_value: str | None,
) -> list[str]:
    """The value columns: one for long input, every other column for wide input."""
    if column_value is not None:
        return [column_value]
    reserved = {column_id, column_sort, column_kind, TIME_COLUMN} - {None}
    others = [name for name in frame.columns if name not in reserved]
    if column_kind is not None and len(others) != 1:
        raise schema_error(
            TABLE,
            None,
            f"with column_kind={column_kind!r} there must be exactly one value column, "
            f"found {others}",
            "pass column_value",
        )
    if not others:
        raise schema_error(TABLE, None, "there is no value column", "add a numeric value column")
    return others


def _missing(series: pl.Series) -> int:
    """Nulls, and NaNs in a float column."""
    count = series.null_count()
    if series.dtype.is_float():
        count += int(series.is_nan().sum())
    return count


def check_values(frame: pl.DataFrame, columns: list[str]) -> None:
    """Values are numbers (or booleans) and none is missing, as tsfresh requires."""
    for name in columns:
        dtype = frame.schema[name]
        if not (dtype.is_numeric() or dtype == pl.Boolean):
            raise schema_error(
                TABLE, name, f"values must be numeric, found {dtype}", "cast the column to float"
            )
        missing = _missing(frame[name].cast(pl.Float64))
        if missing:
            raise schema_error(
                TABLE,
                name,
                f"{missing} missing (null/NaN) values",
                "impute or drop them first (tsfresh refuses them too)",
            )


def check_keys(
    frame: pl.DataFrame, column_id: str, column_sort: str | None, column_kind: str | None
) -> None:
    """No row lacks its id, its sort value or its kind (null, or NaN in a float column):
    such a row has no series, no place in its series or no kind."""
    fixes = {
        "column_id": "drop those rows or give them an id",
        "column_sort": (
            "drop those rows or fill their sort values (a row without one has no place in "
            "its series, and a time-based window no time to measure from)"
        ),
        "column_kind": "drop those rows or name their kind",
    }
    for argument, column in (
        ("column_id", column_id),
        ("column_sort", column_sort),
        ("column_kind", column_kind),
    ):
        if column is None:
            continue
        missing = _missing(frame[column])
        if missing:
            raise schema_error(
                TABLE,
                column,
                f"{missing} of {frame.height} rows have a missing (null or NaN) {argument}",
                fixes[argument],
            )
