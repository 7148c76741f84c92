"""Read a column as the physical type its logical type needs, and find the present values that
would become missing on the way, so that add_table can refuse them (or, with
``errors="coerce"``, make them missing and say how many). Nothing here decides or warns."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from featurekit.errors import schema_error
from featurekit.types import (
    AGE_FRACTIONAL,
    BOOLEAN,
    CATEGORICAL,
    CODE_TYPES,
    DATETIME,
    DOUBLE,
    INTEGER,
    INTEGER_NULLABLE,
    LATLONG,
    NUMERIC,
    ORDINAL,
    STRING_TYPES,
    TIMEDELTA,
    UNKNOWN,
)

TRUE_SPELLINGS = ("true", "t", "yes", "y", "1")
FALSE_SPELLINGS = ("false", "f", "no", "n", "0")
BOOLEAN_SPELLINGS = dict.fromkeys(TRUE_SPELLINGS, True) | dict.fromkeys(FALSE_SPELLINGS, False)
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
NANOSECOND_RANGE = "1677-09-22 and 2262-04-11"  # what 64-bit nanoseconds since 1970 can hold
# A clock time followed by Z or an offset: "...T10:00:00Z", "... 10:00+01:00", "...10:00-0500".
_ZONE_SUFFIX = r"(?i)\d:\d{2}(:\d{2}(\.\d*)?)?\s*(z|[+-]\d{2}(:?\d{2})?)$"
_SUBMICROSECOND = r"\.\d{7}"
_NESTED = (pl.List, pl.Array, pl.Struct, pl.Object)

# What each logical type reads, for messages: "3 values do not parse as {WHAT[...]}".
WHAT = {NUMERIC: "numbers", DOUBLE: "numbers", AGE_FRACTIONAL: "numbers",
        INTEGER: "integers", INTEGER_NULLABLE: "integers", BOOLEAN: "booleans",
        DATETIME: "times", LATLONG: "(latitude, longitude) pairs"}
ACCEPTED = {
    "numbers": "decimal numbers such as 1, -2.5, 3e-4, nan or inf",
    "integers": "whole numbers such as 7 or -12 within 64 bits",
    "booleans": f"true/false spellings ({'/'.join(TRUE_SPELLINGS)} and "
                f"{'/'.join(FALSE_SPELLINGS)}, any case), 1/0 as numbers",
    "times": "one date format, ISO 8601 being the safest (2024-01-31 or 2024-01-31T12:00:00)",
    "(latitude, longitude) pairs": "lists of exactly two numbers",
}


@dataclass(frozen=True)
class Conversion:
    """A converted column and the present input values that did not survive the conversion."""

    series: pl.Series
    lost: pl.Series | None = None  # boolean mask: present before, missing after (None: none)

    @property
    def lost_count(self) -> int:
        return 0 if self.lost is None else int(self.lost.sum())

    def examples(self, original: pl.Series, limit: int = 5) -> list:
        """Up to ``limit`` distinct values, as given, that did not survive."""
        if self.lost is None:
            return []
        return original.filter(self.lost).unique(maintain_order=True).head(limit).to_list()


def convert(series: pl.Series, logical: str, table: str, column: str) -> Conversion:
    """Read ``series`` as ``logical`` requires; raise a SchemaError when its type cannot be."""
    dtype = series.dtype
    if dtype == pl.Null:  # every value missing: any type holds that
        target = _NULL_TARGETS.get(logical)
        return _lossless(series.cast(target) if target is not None else series)
    if logical in (NUMERIC, DOUBLE, AGE_FRACTIONAL):
        return _numbers(series, table, column, logical)
    if logical in (INTEGER, INTEGER_NULLABLE):
        return _integers(series, table, column)
    if logical == BOOLEAN:
        return _booleans(series, table, column)
    if logical == DATETIME:
        return _times(series, table, column)
    if logical in (CATEGORICAL, ORDINAL):
        return _categories(series, table, column, logical)
    if logical in STRING_TYPES:
        return _text(series, table, column, logical)
    if logical in CODE_TYPES:
        return _codes(series, table, column, logical)
    if logical == LATLONG:
        return _latlongs(series, table, column)
    if logical == TIMEDELTA:
        if isinstance(dtype, pl.Duration):
            return _lossless(series)
        raise _refused(table, column, dtype, logical,
                       "convert it to durations first (pd.to_timedelta or pl.duration)")
    if logical == UNKNOWN:
        return _lossless(series)
    raise AssertionError(f"no conversion for logical type {logical!r}")  # types.py lists them all


def parse_times(series: pl.Series, table: str, column: str) -> Conversion:
    """Times from strings (or categories of strings), dates or datetimes."""
    if series.dtype == pl.Null:
        return _lossless(series.cast(pl.Datetime("us")))
    return _times(series, table, column)


def is_present(series: pl.Series) -> pl.Series:
    """Which values carry something: not null, not NaN, and for strings not blank."""
    dtype = series.dtype
    if dtype == pl.Null:
        return series.is_not_null()
    if dtype.is_float():
        return series.is_not_null() & ~series.is_nan().fill_null(False)
    if _is_stringlike(dtype):
        return _strings(series).is_not_null()
    return series.is_not_null()


# ------------------------------------------------------------------------ per type
_NULL_TARGETS = {NUMERIC: pl.Float64, DOUBLE: pl.Float64, AGE_FRACTIONAL: pl.Float64,
                 INTEGER: pl.Int64, INTEGER_NULLABLE: pl.Int64, BOOLEAN: pl.Boolean,
                 DATETIME: pl.Datetime("us"), CATEGORICAL: pl.Categorical,
                 ORDINAL: pl.Categorical, TIMEDELTA: pl.Duration("us"),
                 **dict.fromkeys(STRING_TYPES, pl.String), **dict.fromkeys(CODE_TYPES, pl.Categorical)}


def _numbers(series: pl.Series, table: str, column: str, logical: str) -> Conversion:
    dtype = series.dtype
    if dtype.is_numeric():
        return _lossless(series)
    if dtype == pl.Boolean:
        return _lossless(series.cast(pl.Float64 if logical != NUMERIC else pl.Int64))
    if _is_stringlike(dtype):
        return _checked(series, _strings(series).cast(pl.Float64, strict=False))
    raise _refused(table, column, dtype, logical,
                   "convert it to numbers yourself (e.g. epoch seconds for times) or choose "
                   "another type")


def _integers(series: pl.Series, table: str, column: str) -> Conversion:
    dtype = series.dtype
    if dtype.is_integer():
        return _lossless(series)
    if dtype == pl.Boolean:
        return _lossless(series.cast(pl.Int64))
    if dtype.is_float():
        whole = (series.is_finite() & (series == series.floor())
                 & (series >= float(INT64_MIN)) & (series < float(2**63)))
        converted = pl.select(pl.when(whole).then(series).otherwise(None).cast(pl.Int64)).to_series()
        return _checked(series, converted.alias(series.name))
    if _is_stringlike(dtype):
        return _checked(series, _strings(series).cast(pl.Int64, strict=False))
    raise _refused(table, column, dtype, INTEGER, "convert it to integers yourself or choose "
                   "another type")


def _booleans(series: pl.Series, table: str, column: str) -> Conversion:
    dtype = series.dtype
    if dtype == pl.Boolean:
        return _lossless(series)
    if dtype.is_numeric():
        truth = pl.select(pl.when(series == 1).then(True).when(series == 0).then(False)
                          .otherwise(None)).to_series()
        return _checked(series, truth.alias(series.name))
    if _is_stringlike(dtype):
        words = _strings(series).str.to_lowercase()
        truth = words.replace_strict(BOOLEAN_SPELLINGS, default=None, return_dtype=pl.Boolean)
        return _checked(series, truth)
    raise _refused(table, column, dtype, BOOLEAN, "convert it to True/False yourself or choose "
                   "another type")


def _times(series: pl.Series, table: str, column: str) -> Conversion:
    dtype = series.dtype
    if isinstance(dtype, pl.Datetime):
        return _lossless(series)
    if dtype == pl.Date:
        return _lossless(series.cast(pl.Datetime("us")))
    if not _is_stringlike(dtype):
        raise _refused(table, column, dtype, DATETIME,
                       "pass datetimes, dates or date strings (numbers have no unit: convert "
                       "them with pd.to_datetime(..., unit='s') or similar)")
    raw = series.cast(pl.String) if dtype != pl.String else series
    unit = "ns" if raw.str.contains(_SUBMICROSECOND).any() else "us"
    parsed, text = _to_datetime(raw, unit), raw
    if parsed.null_count() == raw.null_count():  # the usual case: every time parsed at once
        lost = None
    else:  # blanks, spaces, mixed zones or values that are no time: find which
        text = _strings(series)
        _check_one_kind_of_zone(text, table, column)
        parsed = _to_datetime(text, unit)
        lost = text.is_not_null() & parsed.is_null()
    if unit == "ns":  # 64-bit nanoseconds overflow silently outside their range: check
        micro = _to_datetime(text, "us")
        agrees = (parsed.dt.cast_time_unit("us") == micro) | (parsed.is_null() & micro.is_null())
        if not agrees.fill_null(False).all():
            raise schema_error(table, column,
                               "times given to the nanosecond must lie between "
                               f"{NANOSECOND_RANGE}, and some do not",
                               "round them to microseconds (6 decimals) or correct the dates")
    return Conversion(parsed.alias(series.name), lost)


def _check_one_kind_of_zone(text: pl.Series, table: str, column: str) -> None:
    """Times with an offset and times without one cannot be ordered together: refuse."""
    present = text.drop_nulls()
    zoned = present.str.contains(_ZONE_SUFFIX)
    if 0 < int(zoned.sum()) < present.len():
        raise schema_error(
            table, column,
            f"{int(zoned.sum())} times carry a time zone or offset and {int((~zoned).sum())} do "
            f"not (e.g. {present.filter(zoned).head(1).to_list()} and "
            f"{present.filter(~zoned).head(1).to_list()}), so they cannot be compared",
            "give every time an offset (e.g. +00:00) or none, or convert the column with "
            "pd.to_datetime(..., utc=True) before adding it")


def _to_datetime(text: pl.Series, unit: str) -> pl.Series:
    try:
        return text.str.to_datetime(time_unit=unit, strict=False)
    except pl.exceptions.PolarsError:  # no value gave polars a format to infer: none parses
        return pl.repeat(None, text.len(), dtype=pl.Datetime(unit), eager=True).alias(text.name)


def _categories(series: pl.Series, table: str, column: str, logical: str) -> Conversion:
    dtype = series.dtype
    if dtype == pl.String:  # held as codes: a quarter of the memory, joins and counts on integers
        return _lossless(series.cast(pl.Categorical))
    if isinstance(dtype, _NESTED) or dtype == pl.Binary or isinstance(dtype, pl.Duration):
        raise _refused(table, column, dtype, logical,
                       "turn each value into one string or number first (e.g. join a list "
                       "into a string), or leave the column out")
    return _lossless(series)


def _text(series: pl.Series, table: str, column: str, logical: str) -> Conversion:
    dtype = series.dtype
    if dtype == pl.String:
        return _lossless(series)
    if isinstance(dtype, _NESTED) or dtype == pl.Binary:
        raise _refused(table, column, dtype, logical, "turn each value into one string first, "
                       "or leave the column out")
    return _lossless(series.cast(pl.String))  # every scalar has one exact spelling


def _codes(series: pl.Series, table: str, column: str, logical: str) -> Conversion:
    """Codes (postal, country, ...) as categories of strings: 2345 and 2345.0 both read "2345",
    so that a code's prefix is the same whichever way the column was loaded."""
    dtype = series.dtype
    if dtype.is_float():
        series = series.fill_nan(None)  # NaN is a missing code, as in pandas
        whole = series.is_finite() & (series == series.floor())
        if not whole.fill_null(True).all():
            raise schema_error(table, column, f"a {logical} column holds numbers that are not "
                               f"whole (e.g. {series.filter(~whole.fill_null(True)).head(3).to_list()})",
                               "give the codes as strings (they may start with 0)")
        series = series.cast(pl.Int64)
    if dtype.is_numeric() or dtype == pl.Boolean:
        series = series.cast(pl.String)
    return _categories(series, table, column, logical)


def _latlongs(series: pl.Series, table: str, column: str) -> Conversion:
    dtype = series.dtype
    if isinstance(dtype, (pl.List, pl.Array)) and dtype.inner.is_numeric():
        values = series if isinstance(dtype, pl.List) else series.cast(pl.List(dtype.inner))
        pair = (values.list.len() == 2) & (values.list.eval(pl.element().is_not_null()).list.all())
        kept = pl.select(pl.when(pair.fill_null(False)).then(values).otherwise(None)).to_series()
        return _checked(series, kept.alias(series.name))
    raise _refused(table, column, dtype, LATLONG, "give each value as a list of two numbers "
                   "[latitude, longitude]")


# ------------------------------------------------------------------------ helpers
def _is_stringlike(dtype: pl.DataType) -> bool:
    return dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum)


def _strings(series: pl.Series) -> pl.Series:
    """The values as stripped strings; blank ones are missing."""
    text = series.cast(pl.String) if series.dtype != pl.String else series
    text = text.str.strip_chars()
    return pl.select(pl.when(text.str.len_bytes() > 0).then(text)).to_series().alias(series.name)


def _lossless(series: pl.Series) -> Conversion:
    return Conversion(series)


def _checked(original: pl.Series, converted: pl.Series) -> Conversion:
    lost = is_present(original) & converted.is_null()
    return Conversion(converted, lost)


def _refused(table: str, column: str, dtype: pl.DataType, logical: str, fix: str):
    return schema_error(table, column, f"a column of type {dtype} cannot be read as {logical}", fix)
