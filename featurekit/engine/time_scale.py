"""How times compare: every time index, cutoff and training window of a computation read as
integer *ticks* on one scale, so that "at or before the cutoff" is exact.

- Datetimes count units since the epoch (UTC for timezone-aware ones) in the finest unit any
  of them needs: a table held in nanoseconds, or a cutoff with a nanosecond part, makes the
  scale nanoseconds, and a row 1 ns after its cutoff is never counted. A table in a coarser
  unit is converted exactly (a multiplication); one whose times do not fit the finer unit
  (nanoseconds hold the years 1678 to 2261) is refused with the fix.
- Integer time indexes (steps) are their own ticks; float ones are mapped to integers in
  the same order (NaN being missing).
- A cutoff must have the type of the time indexes it is compared with: a datetime for
  datetimes, an integer for integer steps, a number for float ones. Naive and aware times
  never mix; aware ones in different zones compare as the instants they are.
"""

from __future__ import annotations

import datetime as dt
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import polars as pl

from featurekit.engine.durations import CalendarWindow, read_duration
from featurekit.entityset import EntitySet
from featurekit.errors import ComputeError

UNITS = ("ms", "us", "ns")  # coarse to fine
NANOSECONDS_PER = {"ms": 1_000_000, "us": 1_000, "ns": 1}
DATETIME, INTEGER, FLOAT = "datetime", "integer", "float"


@dataclass(frozen=True)
class TimeScale:
    """The type of an entity set's time indexes and the unit their ticks count."""

    kind: str  # DATETIME, INTEGER or FLOAT
    unit: str | None  # the datetime unit ticks count (None for numbers)
    aware: bool  # datetimes: timezone-aware
    columns: tuple[tuple[str, str], ...]  # (table, time index) the scale was read from

    def where(self) -> str:
        """The time indexes in words, for error messages."""
        named = ", ".join(f"{table}.{column}" for table, column in self.columns[:3])
        return named + (" ..." if len(self.columns) > 3 else "")

    def expected(self) -> str:
        """What a cutoff must be, in words."""
        if self.kind == DATETIME:
            zone = "timezone-aware" if self.aware else "naive (no timezone)"
            return f"a {zone} datetime, a pandas Timestamp or an ISO 8601 string such as '2021-06-01'"
        return "an integer step such as 3" if self.kind == INTEGER else "a number such as 3.5"

    def refine(self, unit: str | None) -> TimeScale:
        """This scale counting ``unit`` when that is finer than its own."""
        if self.kind != DATETIME or unit is None or UNITS.index(unit) <= UNITS.index(self.unit):
            return self
        return TimeScale(self.kind, unit, self.aware, self.columns)


def time_scale(entityset: EntitySet) -> TimeScale | None:
    """The scale of ``entityset``'s time indexes (None when no table has one); refused when
    they cannot be compared with one cutoff (datetimes beside numbers, naive beside aware)."""
    found: list[tuple[str, str, pl.DataType]] = [
        (table.name, table.time_index, table.frame.schema[table.time_index])
        for table in entityset.tables.values() if table.time_index is not None]
    if not found:
        return None
    datetimes = [item for item in found if isinstance(item[2], pl.Datetime)]
    numbers_ = [item for item in found if item[2].is_numeric()]
    if datetimes and numbers_:
        (t1, c1, d1), (t2, c2, d2) = datetimes[0], numbers_[0]
        raise ComputeError(
            f"table {t1!r}, column {c1!r} holds {d1} times but table {t2!r}, column {c2!r} holds "
            f"{d2} steps, and one cutoff cannot be compared with both. Fix: give every time "
            "index the same type (datetimes, or numbers)")
    columns = tuple((table, column) for table, column, _ in found)
    if numbers_:
        kind = FLOAT if any(dtype.is_float() for *_, dtype in numbers_) else INTEGER
        return TimeScale(kind, None, False, columns)
    aware = [(t, c) for t, c, d in datetimes if d.time_zone is not None]
    if aware and len(aware) < len(datetimes):
        naive = next((t, c) for t, c, d in datetimes if d.time_zone is None)
        raise ComputeError(
            f"table {aware[0][0]!r}, column {aware[0][1]!r} is timezone-aware but table "
            f"{naive[0]!r}, column {naive[1]!r} is naive, so their times cannot be compared. "
            f"Fix: give {naive[0]}.{naive[1]} a timezone (e.g. .dt.tz_localize('UTC')) or drop "
            f"it from {aware[0][0]}.{aware[0][1]}")
    unit = max((d.time_unit for *_, d in datetimes), key=UNITS.index)
    return TimeScale(DATETIME, unit, bool(aware), columns)


def required_scale(entityset: EntitySet) -> TimeScale:
    """The entity set's scale; when no table has a time index every row is static and a
    cutoff, read as a datetime, changes nothing (a scale of no columns)."""
    return time_scale(entityset) or TimeScale(DATETIME, "us", False, ())


# ----------------------------------------------------------------------------- cutoffs

def read_moment(scale: TimeScale, value: Any, what: str = "cutoff_time") -> pl.Series:
    """One cutoff as a one-value series of the scale's type (datetimes keep their precision)."""
    if scale.kind != DATETIME:
        if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
            raise _wrong_type(scale, what, repr(value))
        if isinstance(value, float | np.floating) and not np.isfinite(value):
            raise ComputeError(f"{what} {value!r} is not a time. Fix: pass {scale.expected()}")
        return read_moments(scale, pl.Series(what, [value]), what)
    if isinstance(value, bool | np.bool_ | numbers.Number):
        raise _wrong_type(scale, what, repr(value))
    if isinstance(value, str):
        try:
            value = pd.Timestamp(value)
        except (ValueError, TypeError):
            raise ComputeError(f"{what} {value!r} does not parse as a time. Fix: pass "
                               f"{scale.expected()}") from None
    if isinstance(value, dt.date | np.datetime64) and not isinstance(value, pd.Timestamp):
        value = pd.Timestamp(value)
    if not isinstance(value, pd.Timestamp) or value is pd.NaT:
        raise _wrong_type(scale, what, repr(value))
    series = pl.Series(what, pd.Series([value]))  # a pandas Timestamp keeps its nanoseconds
    return read_moments(scale, series, what)


def read_moments(scale: TimeScale, times: pl.Series, what: str) -> pl.Series:
    """A column of cutoffs as the scale's type; missing ones and the wrong type refused."""
    if scale.kind == DATETIME:
        times = _as_datetimes(scale, times, what)
    elif times.dtype.is_integer() or times.dtype.is_float():
        if times.dtype.is_float():
            times = times.fill_nan(None)
        if scale.kind == INTEGER and times.dtype.is_float():
            whole = times.drop_nulls()
            broken = whole.filter(whole.round(0) != whole)
            if broken.len():
                raise ComputeError(
                    f"{what} holds steps that are not whole numbers (e.g. {broken.head(3).to_list()}) "
                    f"but the time indexes {scale.where()} hold integer steps. Fix: pass "
                    f"{scale.expected()}")
            times = times.cast(pl.Int64)
    else:
        raise _wrong_type(scale, what, f"values of type {times.dtype}")
    if times.null_count():
        raise ComputeError(f"{what} has {times.null_count()} missing times. Fix: drop those rows "
                           "or give them a time")
    return times


def _as_datetimes(scale: TimeScale, times: pl.Series, what: str) -> pl.Series:
    if times.dtype == pl.String:
        times = _parse_times(scale, times, what)
    if times.dtype == pl.Date:
        times = times.cast(pl.Datetime("us"))
    if not isinstance(times.dtype, pl.Datetime):
        raise _wrong_type(scale, what, f"values of type {times.dtype}")
    aware = times.dtype.time_zone is not None
    if aware != scale.aware and scale.columns:
        table, column = scale.columns[0]
        raise ComputeError(
            f"{what} is {'timezone-aware' if aware else 'naive'} but table {table!r}, column "
            f"{column!r} is {'naive' if aware else 'timezone-aware'}. Fix: give cutoff times "
            f"{'without' if aware else 'with'} a timezone")
    return times


def _parse_times(scale: TimeScale, text: pl.Series, what: str) -> pl.Series:
    """Strings as datetimes (polars' ISO 8601 parser, then pandas' for other spellings);
    any value that parses as neither is refused, with examples."""
    try:
        return text.str.to_datetime(time_unit="ns")
    except pl.exceptions.PolarsError:
        pass
    parsed = pd.to_datetime(pd.Series(text.to_list(), dtype=object), errors="coerce", format="mixed")
    bad = text.filter(pl.Series(parsed.isna().to_numpy()) & text.is_not_null())
    if bad.len():
        raise ComputeError(f"{what} holds {bad.len()} value(s) that do not parse as times "
                           f"(e.g. {bad.head(3).to_list()}). Fix: pass {scale.expected()}")
    return pl.Series(text.name, parsed)


def _wrong_type(scale: TimeScale, what: str, given: str) -> ComputeError:
    words = {DATETIME: "datetimes", INTEGER: "integer steps", FLOAT: "numbers"}[scale.kind]
    return ComputeError(f"{what} is {given}, but the time indexes it is compared with "
                        f"({scale.where()}) hold {words}. Fix: pass {scale.expected()}")


def needed_unit(times: pl.Series) -> str | None:
    """The coarsest datetime unit that holds every value of ``times`` exactly."""
    if not isinstance(times.dtype, pl.Datetime) or times.len() == 0:
        return None
    physical = times.to_physical().drop_nulls()
    per_nanosecond = NANOSECONDS_PER[times.dtype.time_unit]
    for unit in UNITS:
        step = NANOSECONDS_PER[unit] // per_nanosecond if NANOSECONDS_PER[unit] >= per_nanosecond else 0
        if step >= 1 and (physical % step == 0).all():
            return unit
    return times.dtype.time_unit


# ------------------------------------------------------------------------------- ticks

def ticks(scale: TimeScale, times: pl.Series, where: str) -> pl.Series:
    """``times`` (a time index or cutoffs) as Int64 ticks of the scale; missing stays missing."""
    if scale.kind == DATETIME:
        try:
            return times.cast(pl.Datetime(scale.unit, times.dtype.time_zone)).to_physical().alias(times.name)
        except pl.exceptions.PolarsError:
            raise ComputeError(
                f"{where}: times outside the range of {scale.unit} datetimes (years 1678 to 2261 "
                "for nanoseconds) cannot be compared with the other times at that precision. "
                "Fix: give every time index and cutoff the same unit, e.g. cast to "
                "pl.Datetime('us')") from None
    if scale.kind == INTEGER:
        if times.dtype == pl.UInt64 and times.len() and (times.max() or 0) > np.iinfo(np.int64).max:
            raise ComputeError(f"{where}: steps above 2**63 - 1 cannot be compared. "
                               "Fix: rebase the steps to start near 0")
        return times.cast(pl.Int64)
    return float_ticks(times.cast(pl.Float64))


def ticks_expr(scale: TimeScale, column: str) -> pl.Expr:
    """``ticks`` of a column, as an expression (elementwise)."""
    if scale.kind == DATETIME:
        return pl.col(column).map_batches(lambda s: ticks(scale, s, f"column {column!r}"),
                                          return_dtype=pl.Int64, is_elementwise=True)
    if scale.kind == INTEGER:
        return pl.col(column).cast(pl.Int64)
    return pl.col(column).map_batches(lambda s: float_ticks(s.cast(pl.Float64)),
                                      return_dtype=pl.Int64, is_elementwise=True)


def float_ticks(values: pl.Series) -> pl.Series:
    """Floats mapped to Int64 in the same order (-0.0 and 0.0 alike; NaN and null missing)."""
    numbers_ = values.fill_nan(None)
    missing = numbers_.is_null().to_numpy()
    raw = (numbers_.fill_null(0.0).to_numpy() + 0.0).view(np.int64)  # + 0.0 turns -0.0 into 0.0
    mapped = np.where(raw >= 0, raw, raw ^ np.int64(0x7FFFFFFFFFFFFFFF))
    series = pl.Series(values.name, mapped)
    return series.scatter(np.flatnonzero(missing), None) if missing.any() else series


def window_ticks(scale: TimeScale, window: Any,
                 what: str = "training_window") -> int | float | CalendarWindow | None:
    """A training window in the scale's ticks (datetimes: a duration such as "30d", or a
    CalendarWindow for months and years; numeric time indexes: a positive number of steps);
    None when no window is given."""
    if window is None:
        return None
    if not scale.columns:
        raise ComputeError(f"{what} needs tables with a time index, and none has one. "
                           "Fix: pass time_index= to add_table, or drop the window")
    if scale.kind != DATETIME:
        if isinstance(window, bool) or not isinstance(window, numbers.Real) or not window > 0:
            raise ComputeError(f"{what} {window!r} is not a positive number of steps, which the "
                               f"numeric time indexes {scale.where()} need. Fix: pass e.g. "
                               f"{what}=10")
        if scale.kind == INTEGER and int(window) != window:
            raise ComputeError(f"{what} {window!r} is not a whole number of steps. Fix: pass an integer")
        return int(window) if scale.kind == INTEGER else float(window)
    delta = read_duration(window, what, calendar=True)
    if isinstance(delta, CalendarWindow):  # its floors depend on each cutoff's date
        return delta
    return delta.value // NANOSECONDS_PER[scale.unit]


def window_unit(window: Any) -> str | None:
    """The datetime unit a duration needs to be held exactly (None for no window or numbers)."""
    if window is None or isinstance(window, numbers.Real):
        return None
    delta = read_duration(window, "training_window", calendar=True)
    if isinstance(delta, CalendarWindow):
        return None  # months back from a cutoff: as precise as the cutoff
    nanoseconds = delta.value
    return next(unit for unit in UNITS if nanoseconds % NANOSECONDS_PER[unit] == 0)


def window_floors(scale: TimeScale, cutoffs: pl.Series, cutoff_ticks: pl.Series,
                  window: int | float | CalendarWindow | None) -> pl.Series | None:
    """Per cutoff, the ticks at or below which a row falls out of the training window
    (calendar months: the cutoff moved back that many months, in its own time zone)."""
    if window is None:
        return None
    if isinstance(window, CalendarWindow):
        return ticks(scale, cutoffs.dt.offset_by(f"-{window.months}mo"), "training_window")
    if scale.kind == FLOAT:
        return float_ticks(cutoffs.cast(pl.Float64) - window)
    return cutoff_ticks - window
