"""numba kernels that compute many aggregations over all groups in one pass.

Used when the group keys are integers in a compact range (the usual case: parents' indexes),
so a group's slot is its key minus the smallest key. Moments (count, sum, mean, std, var,
min, max, skew) come from one pass plus one centred pass per value column; categorical counts
(mode, distinct count) from one dense count table. Otherwise callers fall back to polars.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
import polars as pl

MAX_DENSE_CELLS = 20_000_000  # groups x distinct values counted in one dense table
MOMENT_STATS = frozenset({"rows", "count", "sum", "mean", "std", "var", "min", "max", "skew",
                          "true_count", "true_share"})
CATEGORY_STATS = frozenset({"mode", "nunique"})


@dataclass(frozen=True)
class DenseKeys:
    """Group keys as slots 0..n_groups-1 (slot = key - low)."""

    slots: np.ndarray
    n_groups: int
    low: int

    def keys(self, present: np.ndarray, dtype: pl.DataType) -> pl.Series:
        return pl.Series(np.flatnonzero(present) + self.low).cast(dtype)


def dense_keys(keys: pl.Series) -> DenseKeys | None:
    """Slots for integer keys in a compact range, else None (the caller falls back)."""
    if not keys.dtype.is_integer() or keys.len() == 0 or keys.null_count():
        return None
    low, high = int(keys.min()), int(keys.max())
    span = high - low + 1
    if span > 4 * keys.len() + 1024:
        return None
    return DenseKeys((keys - low).cast(pl.Int64).to_numpy(), span, low)


@numba.njit(cache=True)
def _moments(slots, values, n_groups):
    rows = np.zeros(n_groups, np.int64)
    count = np.zeros(n_groups, np.int64)
    total = np.zeros(n_groups, np.float64)
    low = np.full(n_groups, np.inf)
    high = np.full(n_groups, -np.inf)
    for row in range(slots.shape[0]):
        slot = slots[row]
        rows[slot] += 1
        value = values[row]
        if not np.isnan(value):
            count[slot] += 1
            total[slot] += value
            if value < low[slot]:
                low[slot] = value
            if value > high[slot]:
                high[slot] = value
    mean = np.full(n_groups, np.nan)
    for slot in range(n_groups):
        if count[slot] > 0:
            mean[slot] = total[slot] / count[slot]
    m2 = np.zeros(n_groups, np.float64)
    m3 = np.zeros(n_groups, np.float64)
    for row in range(slots.shape[0]):
        value = values[row]
        if not np.isnan(value):
            slot = slots[row]
            centred = value - mean[slot]
            square = centred * centred
            m2[slot] += square
            m3[slot] += square * centred
    return rows, count, total, mean, low, high, m2, m3


def group_moments(keys: DenseKeys, values: pl.Series, stats: set[str]) -> dict[str, np.ndarray]:
    """Requested moment statistics per slot (NaN where undefined); ``rows`` counts all rows."""
    if values.dtype == pl.Boolean:
        numbers = values.cast(pl.Float64).to_numpy()
    else:
        numbers = values.cast(pl.Float64).fill_null(np.nan).to_numpy()
    rows, count, total, mean, low, high, m2, m3 = _moments(keys.slots, numbers, keys.n_groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        out: dict[str, np.ndarray] = {"rows": rows.astype(np.float64), "count": count.astype(np.float64),
                                      "sum": total, "mean": mean}
        out["min"] = np.where(count > 0, low, np.nan)
        out["max"] = np.where(count > 0, high, np.nan)
        variance = np.where(count > 1, m2 / (count - 1), np.nan)
        out["var"], out["std"] = variance, np.sqrt(variance)
        n = count.astype(np.float64)
        skew = (n * np.sqrt(n - 1) / (n - 2)) * (m3 / m2 ** 1.5)
        skew = np.where(low == high, 0.0, skew)  # constant values: 0, as pandas
        out["skew"] = np.where(count < 3, np.nan, skew)
        out["true_count"] = total
        out["true_share"] = total / rows
    return {name: out[name] for name in stats}


@numba.njit(cache=True)
def _category_counts(slots, codes, n_groups, n_codes):
    counts = np.zeros(n_groups * n_codes, np.int32)
    for row in range(slots.shape[0]):
        code = codes[row]
        if code >= 0:
            counts[slots[row] * n_codes + code] += 1
    modes = np.full(n_groups, -1, np.int64)
    distinct = np.zeros(n_groups, np.int64)
    for slot in range(n_groups):
        best = 0
        start = slot * n_codes
        for code in range(n_codes):
            seen = counts[start + code]
            if seen > 0:
                distinct[slot] += 1
            if seen > best:
                best = seen
                modes[slot] = code
    return modes, distinct


def _value_codes(values: pl.Series) -> tuple[np.ndarray, pl.Series] | None:
    """Codes ordered like the values (so the smallest code is the smallest value) and the
    code -> value table; None when there are too many distinct values."""
    if values.dtype.is_integer():
        present = values.drop_nulls()
        if present.len() == 0:
            return np.full(values.len(), -1, np.int64), values.head(0)
        low, high = int(present.min()), int(present.max())
        if high - low < 1 << 16:
            codes = (values - low).fill_null(-1).cast(pl.Int64).to_numpy()
            return codes, pl.int_range(low, high + 1, eager=True).cast(values.dtype)
    distinct = values.drop_nulls().unique().sort()
    if distinct.len() > 1 << 16:
        return None
    lookup = pl.int_range(0, distinct.len(), eager=True, dtype=pl.Int64)
    codes = values.replace_strict(distinct, lookup, default=-1, return_dtype=pl.Int64).to_numpy()
    return codes, distinct


def group_categories(keys: DenseKeys, values: pl.Series, stats: set[str]) -> dict[str, pl.Series] | None:
    """Mode (ties: smallest value) and distinct count per slot; None when too wide."""
    coded = _value_codes(values)
    if coded is None or keys.n_groups * max(coded[1].len(), 1) > MAX_DENSE_CELLS:
        return None
    codes, table = coded
    modes, distinct = _category_counts(keys.slots, codes, keys.n_groups, max(table.len(), 1))
    out: dict[str, pl.Series] = {"nunique": pl.Series(distinct)}
    if "mode" in stats:
        found = modes >= 0
        gathered = table.gather(np.where(found, modes, 0)) if table.len() else pl.Series(
            [None] * keys.n_groups, dtype=values.dtype)
        out["mode"] = gathered.set(pl.Series(~found), None) if table.len() else gathered
    return {name: out[name] for name in stats}
