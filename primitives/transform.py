"""Transform primitives: one value per row, computed from the same row (datetime parts, text
lengths, absolute values) or, for the ordered ones, from the rows before it in time order."""

from __future__ import annotations

import polars as pl
from featurekit.primitives.base import (
    ANY,
    BOOLEAN_IN,
    BOOLEAN_OUT,
    CATEGORY_IN,
    DATETIME_IN,
    INTEGER_OUT,
    LATLONG_IN,
    NUMERIC_IN,
    NUMERIC_OUT,
    ORDINAL_OUT,
    TEXT_IN,
    TIME_INDEX_IN,
    ColumnSchema,
    TransformPrimitive,
    is_whole,
)

FOREIGN_KEY_IN = ColumnSchema(tags=frozenset({"foreign_key"}))
DATE_OF_BIRTH_IN = ColumnSchema("datetime", frozenset({"date_of_birth"}))


class _DatetimePart(TransformPrimitive):
    input_types = ((DATETIME_IN,),)
    return_type = ORDINAL_OUT

    def transform_expr(self, inputs, context):
        # polars' own narrow integers (Int8 for a day): a long child table's date parts take a
        # byte a row until aggregated; the matrix holds them as Int64 (see output_exprs)
        return self.part(inputs[0])

    def part(self, value: pl.Expr) -> pl.Expr:
        raise NotImplementedError


class Year(_DatetimePart):
    """Calendar year."""

    name = "year"

    def part(self, value):
        return value.dt.year()


class Month(_DatetimePart):
    """Month of the year, 1-12."""

    name = "month"

    def part(self, value):
        return value.dt.month()


class Day(_DatetimePart):
    """Day of the month, 1-31."""

    name = "day"

    def part(self, value):
        return value.dt.day()


class Weekday(_DatetimePart):
    """Day of the week, Monday=0 ... Sunday=6 (pandas' convention)."""

    name = "weekday"

    def part(self, value):
        return value.dt.weekday() - 1


class Hour(_DatetimePart):
    """Hour of the day, 0-23."""

    name = "hour"

    def part(self, value):
        return value.dt.hour()


class Minute(_DatetimePart):
    """Minute of the hour, 0-59."""

    name = "minute"

    def part(self, value):
        return value.dt.minute()


class Second(_DatetimePart):
    """Second of the minute, 0-59."""

    name = "second"

    def part(self, value):
        return value.dt.second()


class Week(_DatetimePart):
    """ISO 8601 week number, 1-53."""

    name = "week"

    def part(self, value):
        return value.dt.week()


class Quarter(_DatetimePart):
    """Quarter of the year, 1-4."""

    name = "quarter"

    def part(self, value):
        return value.dt.quarter()


class DayOfYear(_DatetimePart):
    """Day of the year, 1-366."""

    name = "day_of_year"

    def part(self, value):
        return value.dt.ordinal_day()


class IsWeekend(TransformPrimitive):
    """True on Saturdays and Sundays; missing for a missing time (Featuretools says False)."""

    name = "is_weekend"
    input_types = ((DATETIME_IN,),)
    return_type = BOOLEAN_OUT

    def transform_expr(self, inputs, context):
        return inputs[0].dt.weekday() >= 6


class Age(TransformPrimitive):
    """Age in years (whole days / 365) at the cutoff time, from a date of birth."""

    name = "age"
    input_types = ((DATE_OF_BIRTH_IN,),)
    return_type = ColumnSchema("age_fractional", frozenset({"numeric"}))
    uses_cutoff = True

    def transform_expr(self, inputs, context):
        days = (context.cutoff - inputs[0]).dt.total_days()
        return days.cast(pl.Float64) / 365


class NumCharacters(TransformPrimitive):
    """Number of characters in a text."""

    name = "num_characters"
    input_types = ((TEXT_IN,),)
    return_type = INTEGER_OUT

    def transform_expr(self, inputs, context):
        return inputs[0].str.len_chars().cast(pl.Int64)


class NumWords(TransformPrimitive):
    """Number of words: pieces between spaces, tabs and newlines that are not only punctuation."""

    name = "num_words"
    input_types = ((TEXT_IN,),)
    return_type = INTEGER_OUT

    def transform_expr(self, inputs, context):
        words = inputs[0].str.replace_all(r"[\t\n]", " ").str.split(" ")
        has_letters = pl.element().str.replace_all(r"^[[:punct:]]+|[[:punct:]]+$", "").str.len_chars() > 0
        return words.list.eval(has_letters).list.sum().cast(pl.Int64)


class Absolute(TransformPrimitive):
    """Absolute value."""

    name = "absolute"
    input_types = ((NUMERIC_IN,),)
    return_type = NUMERIC_OUT

    def transform_expr(self, inputs, context):
        return inputs[0].abs()


class IsNull(TransformPrimitive):
    """True where the value is missing."""

    name = "is_null"
    input_types = ((ANY,),)
    return_type = BOOLEAN_OUT

    def transform_expr(self, inputs, context):
        return inputs[0].is_null()


class EqualScalar(TransformPrimitive):
    """True where the value equals ``value`` (false where it is missing): the where clauses
    of aggregations, named ``device = mobile`` as in Featuretools."""

    name = "equal_scalar"
    input_types = ((ANY,),)
    return_type = BOOLEAN_OUT

    @classmethod
    def default_params(cls):
        return {"value": None}

    def check_params(self) -> None:
        if not (self.value is None or isinstance(self.value, (str, bool, int, float))):
            self.refuse_param("value", "a string, number or boolean")

    def generate_name(self, base_names: list[str]) -> str:
        return f"{base_names[0]} = {self.value}"

    def transform_expr(self, inputs, context):
        if self.value is None:  # nothing equals a missing value
            return inputs[0].is_null() & pl.lit(False)
        if isinstance(self.value, str):  # categories held as text, categorical or enum
            return (inputs[0].cast(pl.String) == self.value).fill_null(False)
        return (inputs[0] == self.value).fill_null(False)


class CumSum(TransformPrimitive):
    """Running sum in time order (missing rows stay missing)."""

    name = "cum_sum"
    input_types = ((NUMERIC_IN,),)
    return_type = NUMERIC_OUT
    ordered = True

    def transform_expr(self, inputs, context):
        return inputs[0].cast(pl.Float64).cum_sum()


class CumCount(TransformPrimitive):
    """Running row count in time order, 1, 2, 3, ..."""

    name = "cum_count"
    input_types = ((FOREIGN_KEY_IN,), (CATEGORY_IN,))
    return_type = INTEGER_OUT
    ordered = True

    def transform_expr(self, inputs, context):
        return pl.int_range(1, pl.len() + 1, dtype=pl.Int64)


class CumMean(TransformPrimitive):
    """Running sum divided by the running row count, in time order."""

    name = "cum_mean"
    input_types = ((NUMERIC_IN,),)
    return_type = NUMERIC_OUT
    ordered = True

    def transform_expr(self, inputs, context):
        return inputs[0].cast(pl.Float64).cum_sum() / pl.int_range(1, pl.len() + 1)


class CumMin(TransformPrimitive):
    """Running minimum in time order."""

    name = "cum_min"
    input_types = ((NUMERIC_IN,),)
    return_type = NUMERIC_OUT
    ordered = True

    def transform_expr(self, inputs, context):
        return inputs[0].cast(pl.Float64).cum_min()


class CumMax(TransformPrimitive):
    """Running maximum in time order."""

    name = "cum_max"
    input_types = ((NUMERIC_IN,),)
    return_type = NUMERIC_OUT
    ordered = True

    def transform_expr(self, inputs, context):
        return inputs[0].cast(pl.Float64).cum_max()


class Diff(TransformPrimitive):
    """Difference from the previous row in time order."""

    name = "diff"
    input_types = ((NUMERIC_IN,),)
    return_type = NUMERIC_OUT
    ordered = True

    def transform_expr(self, inputs, context):
        return inputs[0].cast(pl.Float64).diff()


class TimeSincePrevious(TransformPrimitive):
    """Seconds (or ``unit``) since the previous row's time."""

    name = "time_since_previous"
    input_types = ((TIME_INDEX_IN,),)
    return_type = NUMERIC_OUT
    ordered = True

    @classmethod
    def default_params(cls):
        return {"unit": "seconds"}

    def check_params(self) -> None:
        from featurekit.primitives.aggregation import TIME_UNITS

        if self.unit not in TIME_UNITS:
            self.refuse_param("unit", f"one of {sorted(TIME_UNITS)}")

    def transform_expr(self, inputs, context):
        from featurekit.primitives.aggregation import TIME_UNITS

        seconds = inputs[0].diff().dt.total_nanoseconds().cast(pl.Float64) * 1e-9
        return seconds / TIME_UNITS[self.unit]


class Percentile(TransformPrimitive):
    """Percentile rank among the table's rows (average rank / non-missing count)."""

    name = "percentile"
    input_types = ((NUMERIC_IN,),)
    return_type = NUMERIC_OUT
    row_wise = False

    def transform_expr(self, inputs, context):
        return inputs[0].rank("average") / inputs[0].count()


class Haversine(TransformPrimitive):
    """Great-circle distance between two (latitude, longitude) points, in miles or kilometers."""

    name = "haversine"
    input_types = ((LATLONG_IN, LATLONG_IN),)
    return_type = NUMERIC_OUT
    commutative = True

    @classmethod
    def default_params(cls):
        return {"unit": "miles"}

    def check_params(self) -> None:
        if self.unit not in ("miles", "kilometers"):
            self.refuse_param("unit", "'miles' or 'kilometers'")

    def transform_expr(self, inputs, context):
        radius = 6371.0088 if self.unit == "kilometers" else 3958.7613
        lat1, lon1 = (inputs[0].list.get(i).cast(pl.Float64).radians() for i in (0, 1))
        lat2, lon2 = (inputs[1].list.get(i).cast(pl.Float64).radians() for i in (0, 1))
        a = ((lat2 - lat1) / 2).sin() ** 2 + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2).sin() ** 2
        return radius * 2 * a.sqrt().arcsin()


class Lag(TransformPrimitive):
    """The value ``periods`` rows earlier in time order."""

    name = "lag"
    input_types = (
        (CATEGORY_IN, TIME_INDEX_IN),
        (NUMERIC_IN, TIME_INDEX_IN),
        (BOOLEAN_IN, TIME_INDEX_IN),
    )
    ordered = True

    @classmethod
    def default_params(cls):
        return {"periods": 1}

    def check_params(self) -> None:
        if not is_whole(self.periods, 0):  # a negative lag would read later rows: a leak
            self.refuse_param("periods", "an integer of at least 0 (rows earlier in time)")

    def transform_expr(self, inputs, context):
        return inputs[0].shift(int(self.periods))


TRANSFORM_PRIMITIVES: tuple[type[TransformPrimitive], ...] = (
    Year, Month, Day, Weekday, Hour, Minute, Second, Week, Quarter, DayOfYear, IsWeekend, Age,
    NumCharacters, NumWords, Absolute, IsNull, EqualScalar, CumSum, CumCount, CumMean, CumMin, CumMax, Diff,
    TimeSincePrevious, Percentile, Haversine, Lag,
)

DEFAULT_TRANSFORMS: tuple[str, ...] = (
    "age", "day", "year", "month", "weekday", "haversine", "num_words", "num_characters",
)
