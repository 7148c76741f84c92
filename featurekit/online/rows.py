"""The rows an online computation reads: each table held as parts (the historical rows,
the rows appended since, the rows of one call), each part with sorted-key lookups built
once, so that finding an instance's rows costs a binary search per key, not a scan.

Appended rows never make a part rebuild what it has built: every cache of a part (lookups,
key arrays, times, the numpy path's columns) is built for the new rows alone and joined to
the cache of the rows it had (``Part.merged``), a lookup by merging sorted arrays."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from featurekit.engine.time_scale import TimeScale, ticks
from featurekit.entityset import Table
from featurekit.online.columns import concat

COMPACT_MIN_ROWS = 4096  # appended rows are merged into the historical part beyond this many
COMPACT_SHARE = 1  # ... and beyond this fraction of it (all of it: it is the largest level)
SMALL_PART = 1024  # an appended part this small takes the next appended rows in


class KeyLookup:
    """Row positions of the values of one column, by a stably sorted copy of its present
    values: ``rows_of(values)`` gives every row holding one of them (in the part's row
    order per value), in O(log n) a value plus the rows found."""

    def __init__(self, column: pl.Series) -> None:
        positions = np.arange(column.len(), dtype=np.int64)
        if column.null_count():
            present = column.is_not_null()
            positions = positions[present.to_numpy()]
            column = column.filter(present)
        values = _numbers(column)
        order = np.argsort(values, kind="stable")
        self.sorted = values[order]
        self.positions = positions[order]

    @classmethod
    def merged(cls, first: KeyLookup, second: KeyLookup, offset: int) -> KeyLookup:
        """The lookup of two parts' rows one after the other (``second``'s positions move by
        ``offset``, the first part's height): a merge of the sorted arrays, no new sort; a
        value's rows keep their order, the first part's first."""
        into = np.searchsorted(first.sorted, second.sorted, "right") + np.arange(len(second.sorted))
        kept = np.ones(len(first.sorted) + len(second.sorted), bool)
        kept[into] = False
        joined = cls.__new__(cls)
        joined.sorted = np.empty(len(kept), np.result_type(first.sorted, second.sorted))
        joined.sorted[into] = second.sorted
        joined.sorted[kept] = first.sorted
        joined.positions = np.empty(len(kept), np.int64)
        joined.positions[into] = second.positions + offset
        joined.positions[kept] = first.positions
        return joined

    def rows_of(self, values: np.ndarray) -> np.ndarray:
        """Positions (ascending) of the rows whose value is one of ``values``."""
        if not len(values) or not len(self.sorted):
            return np.empty(0, np.int64)
        if len(values) == 1:  # the usual online case: one key, one contiguous run
            left = int(np.searchsorted(self.sorted, values[0], "left"))
            right = int(np.searchsorted(self.sorted, values[0], "right"))
            return np.sort(self.positions[left:right])
        left = np.searchsorted(self.sorted, values, "left")
        right = np.searchsorted(self.sorted, values, "right")
        lengths = right - left
        total = int(lengths.sum())
        if not total:
            return np.empty(0, np.int64)
        ends = np.cumsum(lengths)
        at = np.arange(total) - np.repeat(ends - lengths, lengths) + np.repeat(left, lengths)
        return np.unique(self.positions[at])

    def contains(self, values: np.ndarray) -> np.ndarray:
        """Whether each of ``values`` occurs in the column."""
        if not len(self.sorted):
            return np.zeros(len(values), bool)
        at = np.minimum(np.searchsorted(self.sorted, values, "left"), len(self.sorted) - 1)
        return self.sorted[at] == values


def _numbers(column: pl.Series) -> np.ndarray:
    """A key column as a numpy array that sorts like the keys (int64 for integers)."""
    if column.dtype.is_integer():
        return column.cast(pl.Int64).to_numpy()
    if isinstance(column.dtype, (pl.Categorical, pl.Enum)):
        column = column.cast(pl.String)
    values = column.to_numpy()
    return values.astype(str) if values.dtype == object else values


def key_values(column: pl.Series) -> np.ndarray:
    """Values of a key column in the form ``KeyLookup`` compares (missing ones left out)."""
    return _numbers(column.drop_nulls()) if column.null_count() else _numbers(column)


Build = Callable[["Part", list[str]], dict]  # the numpy path's columns ``names`` of a part


@dataclass
class Part:
    """Some rows of one table, with lookups by column built on first use."""

    frame: pl.DataFrame
    lookups: dict[str, KeyLookup] = field(default_factory=dict)
    _times: tuple[np.ndarray, np.ndarray] | None = None
    _times_of: tuple[str, TimeScale] | None = None
    arrays: dict = field(default_factory=dict)  # the fast path's columns of this part (numpy)
    keys: dict[str, tuple[np.ndarray, np.ndarray | None]] = field(default_factory=dict)

    def key_array(self, column: str) -> tuple[np.ndarray, np.ndarray | None]:
        """A key column in ``key_values``' form for every row (missing ones filled) and
        where it is missing (None: nowhere), built once."""
        found = self.keys.get(column)
        if found is None:
            series = self.frame[column]
            missing = series.is_null().to_numpy() if series.null_count() else None
            if missing is not None:
                series = series.fill_null(series.drop_nulls().head(1).item() if
                                          series.len() > series.null_count() else 0)
            found = self.keys[column] = (_numbers(series), missing)
        return found

    def times(self, column: str, scale: TimeScale) -> tuple[np.ndarray, np.ndarray]:
        """The time index as ticks of ``scale`` and whether each row has a time, built once."""
        if self._times is None:
            series = self.frame[column]
            present = series.is_not_null().to_numpy()
            values = ticks(scale, series, f"column {column!r}")
            self._times = (values.fill_null(0).to_numpy(), present)
            self._times_of = (column, scale)
        return self._times

    def lookup(self, column: str) -> KeyLookup:
        found = self.lookups.get(column)
        if found is None:
            found = self.lookups[column] = KeyLookup(self.frame[column])
        return found

    def build_like(self, others: list[Part], build: Build | None) -> None:
        """Build for this part's rows every cache one of ``others`` has (so that it joins
        them without anything rebuilt later); the numpy path's columns by ``build``."""
        for other in others:
            for column in other.lookups:
                self.lookup(column)
            for column in other.keys:
                self.key_array(column)
            if other._times_of is not None:
                self.times(*other._times_of)
        if build is not None:
            wanted = list(dict.fromkeys(name for other in others for name in other.arrays
                                        if name not in self.arrays))
            if wanted:
                self.arrays.update(build(self, wanted))

    @classmethod
    def merged(cls, first: Part, second: Part, build: Build | None, rechunk: bool = True) -> Part:
        """One part of both parts' rows, each cache joined from theirs (the part without
        one builds it for its own rows first): numpy copies, nothing sorted or read again
        from the frames. The numpy path's columns are dropped without ``build``. Without
        ``rechunk`` the frame keeps the chunks of both (no copy of the first's rows)."""
        first.build_like([second], build)
        second.build_like([first], build)
        part = cls(pl.concat([first.frame, second.frame], how="vertical", rechunk=rechunk))
        offset = first.frame.height
        part.lookups = {column: KeyLookup.merged(found, second.lookups[column], offset)
                        for column, found in first.lookups.items()}
        for column, (values, missing) in first.keys.items():
            more, more_missing = second.keys[column]
            part.keys[column] = (np.concatenate([values, more]), _joined_flags(
                missing, more_missing, len(values), len(more)))
        if first._times is not None:
            part._times = (np.concatenate([first._times[0], second._times[0]]),
                           np.concatenate([first._times[1], second._times[1]]))
            part._times_of = first._times_of
        if build is not None:
            part.arrays = {name: concat([col, second.arrays[name]])
                           for name, col in first.arrays.items()}
        return part


def _joined_flags(first: np.ndarray | None, second: np.ndarray | None, n_first: int,
                  n_second: int) -> np.ndarray | None:
    if first is None and second is None:
        return None
    return np.concatenate([first if first is not None else np.zeros(n_first, bool),
                           second if second is not None else np.zeros(n_second, bool)])


class TableRows:
    """The rows of one table: the historical part, then the parts appended since.

    Appended rows go to parts of geometric sizes, log-structured: a new batch is a part of
    its own, joined to the part before it while that one is smaller than ``SMALL_PART`` rows
    or than twice the new one, so each part is at least twice the next, there are
    O(log n) parts (a few binary searches per lookup) and a row is copied O(log n) times.
    The historical part is the largest level: appended rows are merged into it only when
    they outnumber it (and ``COMPACT_MIN_ROWS``). Every merge joins the parts' caches
    (``Part.merged``), so a growing table never rebuilds a cache. Why not merge into the
    historical part early: that merge copies every cached array of the held rows (about
    100 ms for a million transactions, measured by ``bench_online.py --appends``), a spike
    that would come back every sixteenth of the held rows; a few more parts cost a few
    microseconds a lookup. ``build`` (set by the online path) makes the numpy path's
    columns of new rows."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.parts = [Part(table.frame)]
        self.build: Build | None = None

    @property
    def height(self) -> int:
        return sum(part.frame.height for part in self.parts)

    def append(self, frame: pl.DataFrame) -> None:
        if frame.height == 0:
            return
        part = Part(frame)
        part.build_like(self.parts, self.build)
        parts = [*self.parts, part]
        while len(parts) > 2 and parts[-2].frame.height < max(SMALL_PART, 2 * parts[-1].frame.height):
            parts[-2:] = [Part.merged(parts[-2], parts[-1], self.build)]
        self.parts = parts
        base = self.parts[0].frame.height
        if self.height - base > max(COMPACT_MIN_ROWS, base // COMPACT_SHARE):
            self.compact()

    def compact(self) -> None:
        """Merge every appended row into the historical part (its caches joined, not rebuilt)."""
        while len(self.parts) > 1:
            last = Part.merged(self.parts[-2], self.parts[-1], self.build,
                               rechunk=len(self.parts) > 2)
            self.parts[-2:] = [last]

    def frame(self) -> pl.DataFrame:
        """Every row, historical first."""
        if len(self.parts) == 1:
            return self.parts[0].frame
        return pl.concat([part.frame for part in self.parts], how="vertical")
