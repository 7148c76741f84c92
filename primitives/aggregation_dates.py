"""Aggregations over times: the first event, the span of events, distinct days, weeks and
months, and the time from the last True, False, largest or smallest value to the cutoff.

Names, defaults and values follow Featuretools 1.31's primitives of the same names. Calendar
parts are read in the column's own time zone (a visit at 00:30 in Paris is on that day).
"""

from __future__ import annotations

import polars as pl
from featurekit.primitives.aggregation_counts import INTEGER_STRICT_OUT, floats
from featurekit.primitives.base import (
    BOOLEAN_IN,
    DATETIME_IN,
    DOUBLE_OUT,
    NUMERIC_IN,
    TIME_INDEX_IN,
    AggregationPrimitive,
)

from featurekit.types import ColumnSchema

DATETIME_OUT = ColumnSchema("datetime")
DAYS_TO_MONDAY = 3  # day 0 of the epoch, 1970-01-01, is a Thursday


def _seconds(delta: pl.Expr) -> pl.Expr:
    """A duration in seconds (whole seconds stay exact)."""
    return delta.dt.total_nanoseconds().cast(pl.Float64) / 1e9


class DateFirstEvent(AggregationPrimitive):
    """Time of the first row that has one (rows in time order; a time index taken from a
    parent need not follow it)."""

    name = "date_first_event"
    input_types = ((TIME_INDEX_IN,),)
    return_type = DATETIME_OUT
    stack_on_self = False
    ordered = True

    def aggregate_expr(self, inputs, context):
        return inputs[0].drop_nulls().first()


class FirstLastTimeDelta(AggregationPrimitive):
    """Seconds from the first row's time to the last row's (rows in time order, so negative
    if times taken from a parent go back)."""

    name = "first_last_time_delta"
    input_types = ((TIME_INDEX_IN,),)
    return_type = DOUBLE_OUT
    stack_on_self = False
    default_value = 0
    ordered = True

    def aggregate_expr(self, inputs, context):
        times = inputs[0].drop_nulls()
        return _seconds(times.last() - times.first())


class _DistinctDates(AggregationPrimitive):
    """Number of distinct calendar values of the non-missing times."""

    input_types = ((DATETIME_IN,),)
    return_type = INTEGER_STRICT_OUT
    stack_on_self = False
    default_value = 0

    def calendar(self, times: pl.Expr) -> pl.Expr:
        raise NotImplementedError

    def aggregate_expr(self, inputs, context):
        return self.calendar(inputs[0]).drop_nulls().n_unique().cast(pl.Int64)


class NUniqueDays(_DistinctDates):
    """Number of distinct days."""

    name = "n_unique_days"

    def calendar(self, times):
        return times.dt.date()


class NUniqueDaysOfCalendarYear(_DistinctDates):
    """Number of distinct days of the year (month and day; 29 February is its own)."""

    name = "n_unique_days_of_calendar_year"

    def calendar(self, times):
        return times.dt.month().cast(pl.Int32) * 100 + times.dt.day().cast(pl.Int32)


class NUniqueDaysOfMonth(_DistinctDates):
    """Number of distinct days of the month (1 to 31)."""

    name = "n_unique_days_of_month"

    def calendar(self, times):
        return times.dt.day()


class NUniqueMonths(_DistinctDates):
    """Number of distinct months (of distinct years)."""

    name = "n_unique_months"

    def calendar(self, times):
        return times.dt.year().cast(pl.Int32) * 12 + times.dt.month().cast(pl.Int32)


class NUniqueWeeks(_DistinctDates):
    """Number of distinct weeks, Monday to Sunday."""

    name = "n_unique_weeks"

    def calendar(self, times):
        return (times.dt.date().cast(pl.Int32) + DAYS_TO_MONDAY) // 7


class _TimeSinceWhen(AggregationPrimitive):
    """Seconds from a chosen row's time to the cutoff. Rows missing the time or the value are
    left out; rows are taken in time order, which a time taken from a parent need not
    follow. With no such row the value is missing (Featuretools' default 0 then)."""

    return_type = DOUBLE_OUT
    stack_on_self = False
    default_value = 0
    uses_cutoff = True
    ordered = True

    def moment(self, time: pl.Expr, value: pl.Expr) -> pl.Expr:
        raise NotImplementedError

    def aggregate_expr(self, inputs, context):
        time, value = inputs
        return _seconds(context.cutoff - self.moment(time, value))


class TimeSinceLastTrue(_TimeSinceWhen):
    """Seconds from the last row whose value is True to the cutoff."""

    name = "time_since_last_true"
    input_types = ((TIME_INDEX_IN, BOOLEAN_IN),)

    def moment(self, time, value):
        return time.filter(time.is_not_null() & value.fill_null(False)).last()


class TimeSinceLastFalse(_TimeSinceWhen):
    """Seconds from the last row whose value is False to the cutoff."""

    name = "time_since_last_false"
    input_types = ((TIME_INDEX_IN, BOOLEAN_IN),)

    def moment(self, time, value):
        return time.filter(time.is_not_null() & ~value.fill_null(True)).last()


class _TimeSinceExtreme(_TimeSinceWhen):
    """Seconds from the first row holding the extreme value to the cutoff (Featuretools takes
    the first such row, despite the name)."""

    input_types = ((TIME_INDEX_IN, NUMERIC_IN),)

    def extreme(self, values: pl.Expr) -> pl.Expr:
        raise NotImplementedError

    def moment(self, time, value):
        value = floats(value)
        timed = time.is_not_null()
        return time.filter(timed & (value == self.extreme(value.filter(timed)))).first()


class TimeSinceLastMax(_TimeSinceExtreme):
    """Seconds from the first row holding the largest value to the cutoff."""

    name = "time_since_last_max"

    def extreme(self, values):
        return values.max()


class TimeSinceLastMin(_TimeSinceExtreme):
    """Seconds from the first row holding the smallest value to the cutoff."""

    name = "time_since_last_min"

    def extreme(self, values):
        return values.min()


DATE_AGGREGATIONS: tuple[type[AggregationPrimitive], ...] = (
    DateFirstEvent, FirstLastTimeDelta, NUniqueDays, NUniqueDaysOfCalendarYear,
    NUniqueDaysOfMonth, NUniqueMonths, NUniqueWeeks, TimeSinceLastFalse, TimeSinceLastMax,
    TimeSinceLastMin, TimeSinceLastTrue,
)

__all__ = [cls.__name__ for cls in DATE_AGGREGATIONS] + ["DATE_AGGREGATIONS"]
