"""Reading a serving request: new rows as the held tables' types, instances and their cutoff
times, each problem reported as a RequestError naming the field and the fix.

A request is plain JSON data::

    {"instances": [{"id": 7, "cutoff_time": "2024-03-01T12:00:00"}],
     "rows": {"sessions": [{"session_id": 9001, "customer_id": 7, ...}]},
     "keep_rows": true}

The checks here need only the tables' schemas; the checks against the held rows (unknown ids,
ids already held) are the service's, under its lock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import polars as pl

from featurekit.errors import FeaturekitError

TIME_HINT = "an ISO 8601 time such as '2024-03-01T12:00:00'"


class RequestError(FeaturekitError):
    """A request the server refuses: ``status`` (422 or 413), and per problem the field, what
    is wrong and the fix (the HTTP body lists them)."""

    def __init__(self, field_name: str, problem: str, fix: str, status: int = 422):
        self.status = status
        self.problems = [{"field": field_name, "problem": problem, "fix": fix}]
        super().__init__(f"{field_name}: {problem}. Fix: {fix}")


@dataclass
class Request:
    """A checked request: instance ids (the target index's type), their cutoffs (None, or
    one per instance, missing where not given) and new rows per table."""

    ids: pl.Series
    cutoffs: pl.Series | None
    rows: dict[str, pl.DataFrame] = field(default_factory=dict)
    keep_rows: bool = True
    return_features: bool = True


def _kind(dtype: pl.DataType) -> str:
    """How a request spells a value of ``dtype`` (for messages and the /schema page)."""
    if dtype == pl.Boolean:
        return "boolean"
    if dtype.is_integer():
        return "integer"
    if dtype.is_float() or dtype.is_decimal():
        return "number"
    if isinstance(dtype, pl.Datetime):
        return "time (ISO 8601 text)"
    if dtype == pl.Date:
        return "date (ISO 8601 text)"
    if isinstance(dtype, pl.Duration):
        return "duration in microseconds (integer)"
    if dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Categorical | pl.Enum):
        return "text"
    return "list" if isinstance(dtype, pl.List | pl.Array) else "object"


def _a(kind: str) -> str:
    return ("an " if kind[0] in "aeiou" else "a ") + kind


def kind_of(dtype: pl.DataType) -> str:
    return _kind(dtype)


_PYTHON_KINDS = {"integer": (int,), "number": (int, float), "boolean": (bool,), "text": (str,)}


def column_series(values: list[Any], dtype: pl.DataType, rows: str, column: str) -> pl.Series:
    """JSON values (one per row of ``rows``, e.g. "rows.sessions") as a series of ``dtype``
    named ``column``; a value of another kind, or a time that does not parse, is a
    RequestError naming the first such value's field (``rows[i].column``)."""
    wanted = _kind(dtype)
    temporal = isinstance(dtype, pl.Datetime) or dtype == pl.Date
    accepted = (str,) if temporal else _PYTHON_KINDS.get(wanted, (int,))
    try:
        raw = pl.Series(column, values, strict=True)
    except (pl.exceptions.PolarsError, TypeError, ValueError, OverflowError):
        raw = None
    if raw is None or not _compatible(wanted, raw.dtype, temporal):
        position = next(i for i, v in enumerate(values)  # the error path only
                        if v is not None and not (isinstance(v, accepted) and (
                            bool in accepted or not isinstance(v, bool))))
        value = values[position]
        raise RequestError(f"{rows}[{position}].{column}",
                           f"expected {_a(wanted)}, got {_a(_python_kind(value))} ({value!r})",
                           f"give {TIME_HINT}" if temporal else f"give {_a(wanted)}"
                           + (" in quotes" if wanted == "text" else ""))
    if raw.dtype == pl.Null:
        return raw.cast(dtype)
    if temporal:
        return _parse_times(raw, dtype, rows, column)
    try:
        return raw.cast(dtype, strict=True)
    except pl.exceptions.PolarsError:
        lost = raw.cast(dtype, strict=False).is_null() & raw.is_not_null()
        position = int(lost.arg_max())
        raise RequestError(f"{rows}[{position}].{column}",
                           f"value {raw[position]!r} does not fit the column's type {dtype}",
                           f"give {_a(wanted)} in the column's range") from None


def _compatible(wanted: str, given: pl.DataType, temporal: bool) -> bool:
    if given == pl.Null:
        return True
    if temporal:
        return given == pl.String
    have = _kind(given)
    return have == wanted or (wanted == "number" and have == "integer")


def _python_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "text"
    return "list" if isinstance(value, list) else "object"


def _parse_times(text: pl.Series, dtype: pl.DataType, rows: str, column: str) -> pl.Series:
    """ISO 8601 strings as ``dtype`` (a datetime keeps the column's unit and time zone)."""
    aware = isinstance(dtype, pl.Datetime) and dtype.time_zone is not None
    if isinstance(dtype, pl.Datetime):  # the usual case, ISO text of one form: polars parses
        try:
            parsed = text.str.to_datetime(time_unit=dtype.time_unit, strict=True)
        except pl.exceptions.PolarsError:
            parsed = None
        if parsed is not None and (parsed.dtype.time_zone is not None) == aware:
            if aware:
                parsed = parsed.dt.convert_time_zone(dtype.time_zone)
            return parsed.alias(column).cast(dtype)
    values = pd.Series(text.to_list(), dtype=object)
    try:
        parsed = pd.to_datetime(values, format="ISO8601", errors="coerce", utc=aware)
    except (ValueError, TypeError):  # offsets mixed with naive times
        raise RequestError(f"{rows}.{column}", "times with and without a UTC offset",
                           f"give {TIME_HINT} " + ("with" if aware else "without") +
                           " an offset") from None
    if not aware and isinstance(parsed.dtype, pd.DatetimeTZDtype):
        position = int(text.is_not_null().arg_max())
        raise RequestError(f"{rows}[{position}].{column}", f"{text[position]!r} has a UTC "
                           "offset but the column's times have none",
                           f"give {TIME_HINT} without an offset")
    bad = parsed.isna().to_numpy() & text.is_not_null().to_numpy()
    if bad.any():
        position = int(np.argmax(bad))
        raise RequestError(f"{rows}[{position}].{column}", f"{text[position]!r} is not a time",
                           f"give {TIME_HINT}")
    series = pl.Series(column, parsed)
    if aware:
        series = series.dt.convert_time_zone(dtype.time_zone)
    return series.cast(dtype)


def frame_of(records: Any, schema: dict[str, pl.DataType], where: str) -> pl.DataFrame:
    """A list of JSON objects, each with every column of ``schema`` and no other, as a
    frame of those types."""
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise RequestError(where, "expected a list of objects (one per row)",
                           "send [{\"column\": value, ...}, ...]")
    expected = set(schema)
    for position, record in enumerate(records):  # keys only: a set comparison per row
        if record.keys() != expected:
            missing = sorted(expected - record.keys())
            if missing:
                raise RequestError(f"{where}[{position}].{missing[0]}", "missing column",
                                   f"give every row all columns {list(schema)} (null for an "
                                   "unknown value)")
            extra = sorted(record.keys() - expected)
            raise RequestError(f"{where}[{position}].{extra[0]}", "unknown column",
                               f"send only the columns {list(schema)}")
    return pl.DataFrame([column_series([r[c] for r in records], dtype, where, c)
                         for c, dtype in schema.items()])


def read_instances(instances: Any, key_dtype: pl.DataType, time_dtype: pl.DataType | None
                   ) -> tuple[pl.Series, pl.Series | None]:
    """Instance ids and their cutoffs (None when no instance gives one)."""
    if not isinstance(instances, list) or not instances:
        raise RequestError("instances", "expected a non-empty list",
                           "send [{\"id\": ...}, ...] naming the instances to compute")
    allowed = {"id", "cutoff_time"}
    for position, instance in enumerate(instances):
        if not isinstance(instance, dict) or "id" not in instance:
            raise RequestError(f"instances[{position}].id", "missing",
                               "give each instance its id: {\"id\": ...}")
        extra = sorted(instance.keys() - allowed)
        if extra:
            raise RequestError(f"instances[{position}].{extra[0]}", "unknown field",
                               f"use only {sorted(allowed)}")
    ids = column_series([i["id"] for i in instances], key_dtype, "instances", "id")
    if ids.null_count():
        position = ids.is_null().arg_max()
        raise RequestError(f"instances[{position}].id", "null", "give the instance's id")
    cutoffs = None
    given = [i.get("cutoff_time") for i in instances]
    if any(value is not None for value in given):
        if time_dtype is None:
            raise RequestError("instances.cutoff_time", "the tables have no time index, so a "
                               "cutoff time means nothing", "leave cutoff_time out")
        if time_dtype.is_numeric():
            cutoffs = column_series(given, pl.Float64 if time_dtype.is_float() else time_dtype,
                                    "instances", "cutoff_time")
        else:
            cutoffs = column_series(given, time_dtype, "instances", "cutoff_time")
    return ids, cutoffs
