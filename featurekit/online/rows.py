"""The rows an online computation reads: each table held as parts (the historical rows,
the rows appended since, the rows of one call), each part with sorted-key lookups built
once, so that finding an instance's rows costs a binary search per key, not a scan."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from featurekit.engine.time_scale import TimeScale, ticks
from featurekit.entityset import Table

COMPACT_MIN_ROWS = 4096  # appended rows are merged into the historical part beyond this many
COMPACT_SHARE = 16  # ... and beyond this fraction of it (1/16)


class KeyLookup:
    """Row positions of the values of one column, by a stably sorted copy of its present
    values: ``rows_of(values)`` gives every row holding one of them (in the part's row
    order per value), in O(log n) a value plus the rows found."""

    def __init__(self, column: pl.Series) -> None:
        present = column.is_not_null()
        positions = np.arange(column.len(), dtype=np.int64)
        if column.null_count():
            positions = positions[present.to_numpy()]
            column = column.filter(present)
        values = _numbers(column)
        order = np.argsort(values, kind="stable")
        self.sorted = values[order]
        self.positions = positions[order]

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


@dataclass
class Part:
    """Some rows of one table, with lookups by column built on first use."""

    frame: pl.DataFrame
    lookups: dict[str, KeyLookup] = field(default_factory=dict)
    _times: tuple[np.ndarray, np.ndarray] | None = None
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
        return self._times

    def lookup(self, column: str) -> KeyLookup:
        found = self.lookups.get(column)
        if found is None:
            found = self.lookups[column] = KeyLookup(self.frame[column])
        return found


class TableRows:
    """The rows of one table: the historical part and the part appended since (merged into
    the first when it grows past a sixteenth of it, so lookups stay few and cheap)."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.parts = [Part(table.frame)]

    @property
    def height(self) -> int:
        return sum(part.frame.height for part in self.parts)

    def append(self, frame: pl.DataFrame) -> None:
        if frame.height == 0:
            return
        if len(self.parts) == 1:
            self.parts.append(Part(frame))
        else:
            self.parts[1] = Part(pl.concat([self.parts[1].frame, frame], how="vertical"))
        base, added = self.parts[0].frame, self.parts[1].frame
        if added.height > max(COMPACT_MIN_ROWS, base.height // COMPACT_SHARE):
            self.parts = [Part(pl.concat([base, added], how="vertical").rechunk())]

    def frame(self) -> pl.DataFrame:
        """Every row, historical first."""
        if len(self.parts) == 1:
            return self.parts[0].frame
        return pl.concat([part.frame for part in self.parts], how="vertical")
