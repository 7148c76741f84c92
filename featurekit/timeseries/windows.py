"""Window specifications for the extractor: (start, stop) row bounds over one sorted buffer.

A window never copies data: it is a pair of indices into the values buffer that holds every
series back to back. ``bounds`` turns a window specification and the segment offsets of the
series into arrays of starts and stops (stop exclusive) plus, for each window, the series it
belongs to and the buffer index of its last row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from featurekit.errors import FeaturekitError


def _positive(name: str, value: int, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise FeaturekitError(
            f"window {name} must be an integer number of rows >= {minimum}, got {value!r}. "
            "Fix: pass a row count such as 100 (durations are not supported yet)."
        )
    return int(value)


@dataclass(frozen=True)
class Rolling:
    """Windows of ``size`` rows ending every ``step`` rows; only full windows are emitted.

    The first window of a series covers its rows 0..size-1, the next ends ``step`` rows later.

    >>> Rolling(size=3, step=2).bounds(np.array([0, 6]))[0].tolist()
    [0, 2]
    """

    size: int
    step: int = 1

    def __post_init__(self) -> None:
        _positive("size", self.size)
        _positive("step", self.step)

    def _for_series(self, length: int) -> tuple[np.ndarray, np.ndarray]:
        ends = np.arange(self.size, length + 1, self.step, dtype=np.int64)
        return ends - self.size, ends

    def bounds(self, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Starts, stops and series number of every window over the given segment offsets."""
        return _collect(self, offsets)


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

    def _for_series(self, length: int) -> tuple[np.ndarray, np.ndarray]:
        ends = np.arange(self.min_size, length + 1, self.step, dtype=np.int64)
        return np.zeros_like(ends), ends

    def bounds(self, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Starts, stops and series number of every window over the given segment offsets."""
        return _collect(self, offsets)


@dataclass(frozen=True)
class Tumbling:
    """Consecutive, non-overlapping windows of ``size`` rows; the last one may be shorter.

    Every row belongs to exactly one window.

    >>> Tumbling(size=2).bounds(np.array([0, 5]))[1].tolist()
    [2, 4, 5]
    """

    size: int

    def __post_init__(self) -> None:
        _positive("size", self.size)

    def _for_series(self, length: int) -> tuple[np.ndarray, np.ndarray]:
        starts = np.arange(0, length, self.size, dtype=np.int64)
        return starts, np.minimum(starts + self.size, length)

    def bounds(self, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Starts, stops and series number of every window over the given segment offsets."""
        return _collect(self, offsets)


Window = Rolling | Expanding | Tumbling


def _collect(
    window: Rolling | Expanding | Tumbling, offsets: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    starts, stops, series = [], [], []
    for number in range(len(offsets) - 1):
        begin = int(offsets[number])
        local_starts, local_stops = window._for_series(int(offsets[number + 1]) - begin)
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
