"""Window specifications for the extractor: (start, stop) row bounds over one sorted buffer.

A window never copies data: it is a pair of indices into the values buffer that holds every
series back to back. ``bounds`` turns a window specification and the segment offsets of the
series into arrays of starts and stops (stop exclusive) plus, for each window, the series it
belongs to.

Sizes are row counts, or for ``Rolling`` and ``Tumbling`` also durations ("7d", "12h",
"30min", a ``datetime.timedelta``...) over a datetime sort column; then ``bounds`` needs the
timestamps (int64 nanoseconds, aligned with the buffer).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from featurekit.errors import FeaturekitError

Size = int | str | dt.timedelta | np.timedelta64 | pd.Timedelta


def _positive(name: str, value: int, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise FeaturekitError(
            f"window {name} must be an integer number of rows >= {minimum}, got {value!r}. "
            "Fix: pass a row count such as 100."
        )
    return int(value)


def _duration_ns(name: str, value: Size) -> int | None:
    """The duration in nanoseconds, or None if ``value`` is a row count."""
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        _positive(name, value)
        return None
    nanoseconds = None
    if isinstance(value, str):
        nanoseconds = _parse_duration(value)
    elif isinstance(value, dt.timedelta | np.timedelta64 | pd.Timedelta):
        nanoseconds = pd.Timedelta(value).value
    if nanoseconds is not None and nanoseconds > 0:
        return int(nanoseconds)
    raise FeaturekitError(
        f"window {name} must be a positive row count or duration, got {value!r}. "
        "Fix: pass e.g. 100 (rows) or '7d' / '12h' / '30min' (with a datetime sort column)."
    )


_UNIT_NS = {
    "w": 7 * 86_400 * 10**9,
    "d": 86_400 * 10**9,
    "h": 3_600 * 10**9,
    "m": 60 * 10**9,
    "min": 60 * 10**9,
    "s": 10**9,
    "ms": 10**6,
    "us": 10**3,
    "ns": 1,
}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(w|d|h|min|ms|us|ns|m|s)")


def _parse_duration(text: str) -> int | None:
    """Nanoseconds in a duration such as "7d", "12h", "1h30m" or "250ms"; None if malformed."""
    compact = text.replace(" ", "").lower()
    parts = _DURATION_PART.findall(compact)
    if not parts or "".join(number + unit for number, unit in parts) != compact:
        return None
    return int(sum(float(number) * _UNIT_NS[unit] for number, unit in parts))


def _need_times(window: object, times: np.ndarray | None) -> np.ndarray:
    if times is None:
        raise FeaturekitError(
            f"{window!r} is measured in time, which needs a datetime sort column. "
            "Fix: pass column_sort naming a datetime column, or give the size in rows."
        )
    return times


@dataclass(frozen=True)
class Rolling:
    """Rolling windows ending every ``step`` rows.

    With ``size`` in rows, a window holds ``size`` rows and only full windows are emitted
    (the first covers rows 0..size-1). With ``size`` a duration, the window ending at a row
    holds the rows whose timestamp lies in (end - size, end], so early windows are shorter.

    >>> Rolling(size=3, step=2).bounds(np.array([0, 6]))[0].tolist()
    [0, 2]
    """

    size: Size
    step: int = 1

    def __post_init__(self) -> None:
        _duration_ns("size", self.size)
        _positive("step", self.step)

    def bounds(
        self, offsets: np.ndarray, times: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Starts, stops and series number of every window over the given segment offsets."""
        duration = _duration_ns("size", self.size)
        if duration is None:

            def rows(begin: int, length: int) -> tuple[np.ndarray, np.ndarray]:
                ends = np.arange(self.size, length + 1, self.step, dtype=np.int64)
                return ends - self.size, ends

            return _collect(rows, offsets)
        stamps = _need_times(self, times)

        def timed(begin: int, length: int) -> tuple[np.ndarray, np.ndarray]:
            local = stamps[begin : begin + length]
            last_rows = np.arange(0, length, self.step, dtype=np.int64)
            starts = np.searchsorted(local, local[last_rows] - duration, side="right")
            return starts.astype(np.int64), last_rows + 1

        return _collect(timed, offsets)


@dataclass(frozen=True)
class Expanding:
    """Windows from the start of the series to every ``step``-th row, at least ``min_size`` rows.

    >>> Expanding(min_size=2).bounds(np.array([0, 3]))[1].tolist()
    [2, 3]
    """

    min_size: int = 1
    step: int = 1

    def __post_init__(self) -> None:
        _positive("min_size", self.min_size)
        _positive("step", self.step)

    def bounds(
        self, offsets: np.ndarray, times: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Starts, stops and series number of every window over the given segment offsets."""

        def rows(begin: int, length: int) -> tuple[np.ndarray, np.ndarray]:
            ends = np.arange(self.min_size, length + 1, self.step, dtype=np.int64)
            return np.zeros_like(ends), ends

        return _collect(rows, offsets)


@dataclass(frozen=True)
class Tumbling:
    """Consecutive, non-overlapping windows; every row belongs to exactly one.

    With ``size`` in rows, windows of ``size`` rows (the last one may be shorter). With
    ``size`` a duration, the rows of each period [k * size, (k + 1) * size) counted from the
    Unix epoch (so "1d" gives calendar days in UTC); periods without rows give no window.

    >>> Tumbling(size=2).bounds(np.array([0, 5]))[1].tolist()
    [2, 4, 5]
    """

    size: Size

    def __post_init__(self) -> None:
        _duration_ns("size", self.size)

    def bounds(
        self, offsets: np.ndarray, times: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Starts, stops and series number of every window over the given segment offsets."""
        duration = _duration_ns("size", self.size)
        if duration is None:

            def rows(begin: int, length: int) -> tuple[np.ndarray, np.ndarray]:
                starts = np.arange(0, length, self.size, dtype=np.int64)
                return starts, np.minimum(starts + self.size, length)

            return _collect(rows, offsets)
        stamps = _need_times(self, times)

        def timed(begin: int, length: int) -> tuple[np.ndarray, np.ndarray]:
            periods = np.floor_divide(stamps[begin : begin + length], duration)
            starts = np.flatnonzero(np.diff(periods, prepend=periods[:1] - 1)).astype(np.int64)
            return starts, np.append(starts[1:], length).astype(np.int64)

        return _collect(timed, offsets)


Window = Rolling | Expanding | Tumbling


def _collect(per_series, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Apply ``per_series(begin, length) -> (local starts, local stops)`` to every series."""
    starts, stops, series = [], [], []
    for number in range(len(offsets) - 1):
        begin = int(offsets[number])
        local_starts, local_stops = per_series(begin, int(offsets[number + 1]) - begin)
        starts.append(local_starts + begin)
        stops.append(local_stops + begin)
        series.append(np.full(len(local_starts), number, dtype=np.int64))
    if not starts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    return np.concatenate(starts), np.concatenate(stops), np.concatenate(series)


def whole_series(offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One window per series, covering all of it."""
    offsets = np.asarray(offsets, dtype=np.int64)
    return offsets[:-1].copy(), offsets[1:].copy(), np.arange(len(offsets) - 1, dtype=np.int64)
