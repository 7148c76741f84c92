"""Columns of the online fast path as numpy arrays: floats with NaN for missing, integers
and booleans with a mask of missing values, categories as codes (-1 missing). A part's
cached codes are stable (the order values were first seen, so appended rows never change
them); the rows of a call are ranked into codes of the values in sorted order, so a code's
order is its value's order (a mode's ties go to the smallest value, as in the batch
kernels)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

FLOAT, INTEGER, BOOLEAN, CODES, OTHER = "f", "i", "b", "c", "o"


@dataclass
class Col:
    """One column's values for some rows: ``values`` and, for integers and booleans, the
    rows where it is missing (None: none); ``names`` maps codes to values (CODES only)."""

    kind: str
    values: np.ndarray
    missing: np.ndarray | None = None
    names: np.ndarray | None = None
    nan_is_value: bool = False  # a sum's NaN (+inf plus -inf) is a value, not a missing one

    def take(self, positions: np.ndarray) -> Col:
        return Col(self.kind, self.values[positions],
                   None if self.missing is None else self.missing[positions], self.names,
                   self.nan_is_value)

    def __len__(self) -> int:
        return len(self.values)


def concat(cols: list[Col]) -> Col:
    """Rows of several parts one after another (their codes share one coder)."""
    if len(cols) == 1:
        return cols[0]
    first = cols[-1]
    missing = None
    if any(c.missing is not None for c in cols):
        missing = np.concatenate([c.missing if c.missing is not None else np.zeros(len(c), bool)
                                  for c in cols])
    return Col(first.kind, np.concatenate([c.values for c in cols]), missing, first.names,
               first.nan_is_value)


def kind_of(dtype: pl.DataType) -> str:
    if dtype.is_float():
        return FLOAT
    if dtype.is_integer() and dtype != pl.UInt64:
        return INTEGER
    if dtype == pl.Boolean:
        return BOOLEAN
    if isinstance(dtype, (pl.Categorical, pl.Enum)) or dtype == pl.String:
        return CODES
    return OTHER


class Coder:
    """The values of a categorical column over every part, numbered in the order they were
    first seen: a part's codes never change when a later part brings a new value, so arrays
    cached for held rows stay valid as rows are appended. ``ranked`` turns such codes into
    the codes the kernels and the output read, positions in the values sorted (a code's order
    is its value's order); ``version`` grows with each new value."""

    def __init__(self) -> None:
        self.names = np.empty(0, dtype=object)  # by code, in the order first seen
        self.version = 0
        self._enum: pl.Enum | None = None
        self._ranked: tuple[int, np.ndarray, np.ndarray] | None = None

    def encode(self, series: pl.Series) -> np.ndarray:
        """Stable codes of ``series`` (-1 missing), learning the values it brings."""
        text = series.cast(pl.String)
        coded = None if self._enum is None else text.cast(self._enum, strict=False)
        if (coded.null_count() if coded is not None else text.len()) > text.null_count():
            seen = text.drop_nulls().unique(maintain_order=True)
            if self._enum is not None:  # the values the enum does not know
                seen = seen.filter(seen.cast(self._enum, strict=False).is_null())
            self.names = np.concatenate([self.names, np.array(seen.to_list(), dtype=object)])
            self.version += 1
            self._enum = pl.Enum(self.names.tolist())
            coded = text.cast(self._enum)
        if coded is None:  # nothing but missing values, no value known yet
            return np.full(series.len(), -1, np.int32)
        physical = coded.to_physical()
        if not physical.null_count():
            return physical.to_numpy().astype(np.int32)
        values = physical.to_numpy()  # floats, NaN where missing
        return np.where(np.isnan(values), -1, values).astype(np.int32)

    def ranked(self) -> tuple[np.ndarray, np.ndarray]:
        """The values sorted, and for each stable code (then -1, missing) its position among
        them (-1 for -1): made once per version."""
        if self._ranked is None or self._ranked[0] != self.version:
            order = np.argsort(self.names.astype(str), kind="stable")
            ranks = np.empty(len(self.names) + 1, np.int32)
            ranks[order] = np.arange(len(self.names), dtype=np.int32)
            ranks[-1] = -1
            self._ranked = (self.version, self.names[order], ranks)
        return self._ranked[1], self._ranked[2]

    def rank(self, col: Col) -> Col:
        """A column of stable codes as codes into the sorted values."""
        names, ranks = self.ranked()
        return Col(CODES, ranks[col.values], None, names)


def to_col(series: pl.Series, coder: Coder | None = None) -> Col:
    """A polars column as a ``Col`` (categories through ``coder``)."""
    kind = kind_of(series.dtype)
    if kind == FLOAT:
        return Col(FLOAT, series.cast(pl.Float64).to_numpy())  # a missing value is NaN
    if kind in (INTEGER, BOOLEAN):
        missing = series.is_null().to_numpy() if series.null_count() else None
        filled = series.fill_null(0 if kind == INTEGER else False) if missing is not None else series
        values = filled.cast(pl.Int64).to_numpy() if kind == INTEGER else filled.to_numpy()
        return Col(kind, values, missing)
    if kind == CODES and coder is not None:  # stable codes: ``Coder.rank`` sorts them
        return Col(CODES, coder.encode(series), None, None)
    return Col(OTHER, series.to_numpy())
