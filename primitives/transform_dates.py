"""Calendar transforms under Featuretools' names: holidays (from the ``holidays`` package),
month / quarter / year boundaries, parts of the day and season, and the time to the cutoff.

Date parts of a time-zone-aware column are read in that column's zone (the wall clock of the
row). A missing time gives a missing value, where Featuretools says False for some of these.
"""

from __future__ import annotations

import functools

import numpy as np
import polars as pl
from featurekit.primitives.base import (
    BOOLEAN_OUT,
    CATEGORY_OUT,
    DATETIME_IN,
    DOUBLE_OUT,
    NUMERIC_OUT,
    ColumnSchema,
    TransformPrimitive,
    is_whole,
)

# Featuretools asks the holidays package for these years (its calendar table)
HOLIDAY_YEARS = range(1950, 2075)
# Names Featuretools maps onto a country and a subdivision of the holidays package
_SUBDIVISIONS = {"ENGLAND": ("GB", "ENGLAND"), "NORTHERNIRELAND": ("GB", "NORTHERNIRELAND"),
                 "PORTUGALEXT": ("PT", "Ext"), "PTE": ("PT", "Ext"), "SCOTLAND": ("GB", "SCOTLAND"),
                 "UK": ("GB", "UK"), "WALES": ("GB", "WALES")}
DAYS_IN_MONTH_OUT = ColumnSchema("ordinal", frozenset({"category"}))
TIMEDELTA_OUT = ColumnSchema("timedelta")
_EPOCH_DAY = np.datetime64("1970-01-01", "D")


@functools.lru_cache(maxsize=32)
def holiday_calendar(country: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """The country's holidays of 1950-2074 as (days since 1970, sorted; names): the calendar
    Featuretools reads. Raises ValueError for a country the holidays package does not know."""
    import warnings

    import holidays

    code, subdivision = _SUBDIVISIONS.get(country.upper(), (country, None))
    try:
        with warnings.catch_warnings():  # old subdivision names ("UK") still answer
            warnings.simplefilter("ignore", DeprecationWarning)
            holidays.country_holidays(country=code, subdiv=subdivision)
            calendar = getattr(holidays, country)(years=HOLIDAY_YEARS)
    except (NotImplementedError, AttributeError, KeyError) as error:
        raise ValueError(f"the holidays package has no calendar for it ({error})") from None
    items = sorted(calendar.items())
    days = np.array([np.datetime64(day, "D") for day, _ in items]) - _EPOCH_DAY
    return days.astype(np.int64), tuple(name for _, name in items)


def _epoch_days(value: pl.Expr) -> pl.Expr:
    """The row's calendar day (in its own zone) as days since 1970."""
    return value.dt.date().cast(pl.Int32).cast(pl.Int64)


class _CountryPrimitive(TransformPrimitive):
    input_types = ((DATETIME_IN,),)

    @classmethod
    def default_params(cls):
        return {"country": "US"}

    def check_params(self) -> None:
        _check_country(self)


def _check_country(primitive: TransformPrimitive) -> None:
    """Refuse a ``country`` the holidays package has no calendar for, naming the primitive."""
    allowed = "a country code of the holidays package, such as 'US', 'Canada' or 'UK'"
    if not isinstance(primitive.country, str):
        primitive.refuse_param("country", allowed)
    try:
        holiday_calendar(primitive.country)
    except ValueError as error:
        primitive.refuse_param("country", f"{allowed}; {error}")


class DateToHoliday(_CountryPrimitive):
    """Name of the holiday on the row's day, missing on other days."""

    name = "date_to_holiday"
    return_type = CATEGORY_OUT

    def transform_expr(self, inputs, context):
        days, names = holiday_calendar(self.country)
        return _epoch_days(inputs[0]).replace_strict(
            list(days), list(names), default=None, return_dtype=pl.String).cast(pl.Categorical)


class IsFederalHoliday(_CountryPrimitive):
    """True on a public holiday of ``country``."""

    name = "is_federal_holiday"
    return_type = BOOLEAN_OUT

    def transform_expr(self, inputs, context):
        days, _ = holiday_calendar(self.country)
        return _epoch_days(inputs[0]).is_in(pl.Series(days, dtype=pl.Int64).implode())


class DistanceToHoliday(TransformPrimitive):
    """Days from the row's day to the nearest ``holiday`` (negative when it was before), missing
    when none falls within 365 days."""

    name = "distance_to_holiday"
    input_types = ((DATETIME_IN,),)
    return_type = NUMERIC_OUT

    @classmethod
    def default_params(cls):
        return {"holiday": "New Year's Day", "country": "US"}

    def check_params(self) -> None:
        _check_country(self)
        _, names = holiday_calendar(self.country)
        if self.holiday not in set(names):
            self.refuse_param("holiday", f"one of {sorted(set(names))}")

    def transform_expr(self, inputs, context):
        days, names = holiday_calendar(self.country)
        wanted = days[np.array(names) == self.holiday]
        return _epoch_days(inputs[0]).map_batches(
            functools.partial(_nearest_distance, wanted), return_dtype=pl.Float64)


def _nearest_distance(holidays: np.ndarray, days: pl.Series) -> pl.Series:
    """Signed days from each day to the nearest of the sorted ``holidays`` (the earlier one on a
    tie), missing beyond 365 days or for a missing day."""
    values = days.to_numpy().astype(np.float64)
    known = ~np.isnan(values)
    out = np.full(values.shape[0], np.nan)
    if holidays.size and known.any():
        day = values[known].astype(np.int64)
        after = np.clip(np.searchsorted(holidays, day, side="left"), 0, holidays.size - 1)
        before = np.clip(np.searchsorted(holidays, day, side="right") - 1, 0, holidays.size - 1)
        forward, backward = holidays[after] - day, holidays[before] - day
        forward = np.where(forward >= 0, forward, np.iinfo(np.int64).max // 2)
        backward = np.where(backward <= 0, backward, np.iinfo(np.int64).min // 2)
        nearest = np.where(np.abs(forward) < np.abs(backward), forward, backward).astype(np.float64)
        nearest[np.abs(nearest) > 365] = np.nan
        out[known] = nearest
    return pl.Series(days.name, out)


class DateToTimeZone(TransformPrimitive):
    """The time zone of the column ("America/New_York"), missing for times without one."""

    name = "date_to_time_zone"
    input_types = ((DATETIME_IN,),)
    return_type = CATEGORY_OUT

    def transform_expr(self, inputs, context):
        return inputs[0].map_batches(_zone_of, return_dtype=pl.String).cast(pl.Categorical)


def _zone_of(times: pl.Series) -> pl.Series:
    zone = getattr(times.dtype, "time_zone", None)
    values = pl.Series(times.name, [zone], dtype=pl.String).extend_constant(zone, times.len() - 1)
    return values.set(times.is_null(), None) if zone is not None else values


class DaysInMonth(TransformPrimitive):
    """Number of days in the row's month, 28-31."""

    name = "days_in_month"
    input_types = ((DATETIME_IN,),)
    return_type = DAYS_IN_MONTH_OUT

    def transform_expr(self, inputs, context):
        return inputs[0].dt.month_end().dt.day()


def week_of_month(value: pl.Expr) -> pl.Expr:
    """Week of the month counted from day 1, a new week starting each Sunday (1-6)."""
    day = value.dt.day().cast(pl.Int32)
    first_weekday = (value.dt.weekday().cast(pl.Int32) + 35 - day) % 7  # Monday = 0
    shifted = pl.when(first_weekday == 6).then(day).otherwise(day + first_weekday + 1)
    return (shifted.cast(pl.Float64) / 7.0).ceil()


class NthWeekOfMonth(TransformPrimitive):
    """Week of the month, 1-6: week 1 starts on day 1, each Sunday starts the next."""

    name = "nth_week_of_month"
    input_types = ((DATETIME_IN,),)
    return_type = DOUBLE_OUT

    def transform_expr(self, inputs, context):
        return week_of_month(inputs[0])


class _Flag(TransformPrimitive):
    input_types = ((DATETIME_IN,),)
    return_type = BOOLEAN_OUT


class IsFirstWeekOfMonth(_Flag):
    """True in the first week of the month (day 1 up to the first Saturday)."""

    name = "is_first_week_of_month"

    def transform_expr(self, inputs, context):
        return week_of_month(inputs[0]) == 1.0


class IsLeapYear(_Flag):
    """True in a leap year."""

    name = "is_leap_year"

    def transform_expr(self, inputs, context):
        return inputs[0].dt.is_leap_year()


class IsLunchTime(_Flag):
    """True during the hour ``lunch_hour`` (24-hour clock)."""

    name = "is_lunch_time"

    @classmethod
    def default_params(cls):
        return {"lunch_hour": 12}

    def check_params(self) -> None:
        if not is_whole(self.lunch_hour, 0) or self.lunch_hour > 23:
            self.refuse_param("lunch_hour", "an hour from 0 to 23")

    def transform_expr(self, inputs, context):
        return inputs[0].dt.hour() == self.lunch_hour


class IsWorkingHours(_Flag):
    """True from ``start_hour`` to ``end_hour`` included (hours of a 24-hour clock)."""

    name = "is_working_hours"

    @classmethod
    def default_params(cls):
        return {"start_hour": 8, "end_hour": 18}

    def check_params(self) -> None:
        for hour in ("start_hour", "end_hour"):
            if not is_whole(self.params[hour], 0) or self.params[hour] > 23:
                self.refuse_param(hour, "an hour from 0 to 23")

    def transform_expr(self, inputs, context):
        hour = inputs[0].dt.hour()
        return (hour >= self.start_hour) & (hour <= self.end_hour)


class IsMonthEnd(_Flag):
    """True on the last day of a month."""

    name = "is_month_end"

    def transform_expr(self, inputs, context):
        return inputs[0].dt.day() == inputs[0].dt.month_end().dt.day()


class IsMonthStart(_Flag):
    """True on the first day of a month."""

    name = "is_month_start"

    def transform_expr(self, inputs, context):
        return inputs[0].dt.day() == 1


class IsQuarterEnd(_Flag):
    """True on the last day of March, June, September and December."""

    name = "is_quarter_end"

    def transform_expr(self, inputs, context):
        value = inputs[0]
        return (value.dt.month() % 3 == 0) & (value.dt.day() == value.dt.month_end().dt.day())


class IsQuarterStart(_Flag):
    """True on the first day of January, April, July and October."""

    name = "is_quarter_start"

    def transform_expr(self, inputs, context):
        return (inputs[0].dt.month() % 3 == 1) & (inputs[0].dt.day() == 1)


class IsYearEnd(_Flag):
    """True on December 31."""

    name = "is_year_end"

    def transform_expr(self, inputs, context):
        return (inputs[0].dt.month() == 12) & (inputs[0].dt.day() == 31)


class IsYearStart(_Flag):
    """True on January 1."""

    name = "is_year_start"

    def transform_expr(self, inputs, context):
        return (inputs[0].dt.month() == 1) & (inputs[0].dt.day() == 1)


_PARTS_OF_DAY = {**dict.fromkeys([4, 5], "dawn"), **dict.fromkeys([6, 7], "early morning"),
                 **dict.fromkeys([8, 9, 10], "late morning"), **dict.fromkeys([11, 12, 13], "noon"),
                 **dict.fromkeys([14, 15, 16], "afternoon"), **dict.fromkeys([17, 18, 19], "evening"),
                 **dict.fromkeys([20, 21, 22], "night"), **dict.fromkeys([23, 0, 1, 2, 3], "midnight")}


class PartOfDay(TransformPrimitive):
    """Part of the day by the hour: dawn (4-5), early morning (6-7), late morning (8-10), noon
    (11-13), afternoon (14-16), evening (17-19), night (20-22), midnight (23-3)."""

    name = "part_of_day"
    input_types = ((DATETIME_IN,),)
    return_type = CATEGORY_OUT

    def transform_expr(self, inputs, context):
        return inputs[0].dt.hour().replace_strict(
            list(_PARTS_OF_DAY), list(_PARTS_OF_DAY.values()), return_dtype=pl.String
        ).cast(pl.Categorical)


class Season(TransformPrimitive):
    """Northern-hemisphere season by the date: winter from December 21, spring from March 21,
    summer from June 21, fall from September 23."""

    name = "season"
    input_types = ((DATETIME_IN,),)
    return_type = CATEGORY_OUT

    def transform_expr(self, inputs, context):
        day = inputs[0].dt.month().cast(pl.Int32) * 100 + inputs[0].dt.day().cast(pl.Int32)
        season = (pl.when(day < 321).then(pl.lit("winter")).when(day < 621).then(pl.lit("spring"))
                  .when(day < 923).then(pl.lit("summer")).when(day < 1221).then(pl.lit("fall"))
                  .otherwise(pl.lit("winter")))
        return pl.when(day.is_not_null()).then(season).cast(pl.Categorical)


class TimeSince(TransformPrimitive):
    """Time from the value to the cutoff time, in ``unit`` (seconds by default)."""

    name = "time_since"
    input_types = ((DATETIME_IN,),)
    return_type = NUMERIC_OUT
    uses_cutoff = True

    @classmethod
    def default_params(cls):
        return {"unit": "seconds"}

    def check_params(self) -> None:
        from featurekit.primitives.aggregation import TIME_UNITS

        if not isinstance(self.unit, str) or self.unit.lower() not in TIME_UNITS:
            self.refuse_param("unit", f"one of {sorted(TIME_UNITS)}")

    def transform_expr(self, inputs, context):
        from featurekit.primitives.aggregation import TIME_UNITS

        # instants on one clock: an aware time by its instant, a naive one (value or cutoff)
        # read as UTC, as featurekit reads naive cutoffs next to aware data
        nanoseconds = context.cutoff.dt.epoch("ns") - inputs[0].dt.epoch("ns")
        return nanoseconds.cast(pl.Float64) * 1e-9 / TIME_UNITS[self.unit.lower()]


class DiffDatetime(TransformPrimitive):
    """Time between a row's datetime and the previous row's, in time order (the values first
    moved down ``periods`` rows, as Featuretools does)."""

    name = "diff_datetime"
    input_types = ((DATETIME_IN,),)
    return_type = TIMEDELTA_OUT
    ordered = True

    @classmethod
    def default_params(cls):
        return {"periods": 0}

    def check_params(self) -> None:
        if not is_whole(self.periods, 0):
            self.refuse_param("periods", "an integer of at least 0 (rows earlier in time)")

    def transform_expr(self, inputs, context):
        return inputs[0].shift(int(self.periods)).diff()


DATE_PRIMITIVES: tuple[type[TransformPrimitive], ...] = (
    DateToHoliday, DateToTimeZone, DaysInMonth, DiffDatetime, DistanceToHoliday,
    IsFederalHoliday, IsFirstWeekOfMonth, IsLeapYear, IsLunchTime, IsMonthEnd, IsMonthStart,
    IsQuarterEnd, IsQuarterStart, IsWorkingHours, IsYearEnd, IsYearStart, NthWeekOfMonth,
    PartOfDay, Season, TimeSince,
)

__all__ = [
    "DateToHoliday", "DateToTimeZone", "DaysInMonth", "DiffDatetime", "DistanceToHoliday",
    "IsFederalHoliday", "IsFirstWeekOfMonth", "IsLeapYear", "IsLunchTime", "IsMonthEnd",
    "IsMonthStart", "IsQuarterEnd", "IsQuarterStart", "IsWorkingHours", "IsYearEnd", "IsYearStart",
    "NthWeekOfMonth", "PartOfDay", "Season", "TimeSince", "DATE_PRIMITIVES",
]
