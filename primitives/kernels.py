"""numba kernels for aggregations that polars expressions compute slowly per group.

Each works on whole columns at once (group keys + values) and returns one row per group, so
the engine can run it as a single batch step inside its lazy plan.
"""

from __future__ import annotations

import numba
import numpy as np
import polars as pl

MAX_DENSE_CELLS = 20_000_000  # groups x distinct values counted in one dense table


@numba.njit(cache=True)
def _dense_mode(groups: np.ndarray, codes: np.ndarray, n_groups: int, n_codes: int) -> np.ndarray:
    """Most frequent code per group (the smallest code on ties); -1 for a group without codes."""
    counts = np.zeros(n_groups * n_codes, np.int32)
    for row in range(groups.shape[0]):
        code = codes[row]
        if code >= 0:
            counts[groups[row] * n_codes + code] += 1
    modes = np.full(n_groups, -1, np.int64)
    for group in range(n_groups):
        best = 0
        start = group * n_codes
        for code in range(n_codes):
            if counts[start + code] > best:
                best = counts[start + code]
                modes[group] = code
    return modes


def _dense_group_ids(keys: pl.Series) -> tuple[np.ndarray, int, int] | None:
    """Keys as 0..n-1 offsets when they are integers in a compact range, else None."""
    if not keys.dtype.is_integer() or keys.len() == 0 or keys.null_count():
        return None
    low, high = int(keys.min()), int(keys.max())
    span = high - low + 1
    if span > 4 * keys.len() + 1024:
        return None
    return (keys - low).cast(pl.Int64).to_numpy(), span, low


def _value_codes(values: pl.Series) -> tuple[np.ndarray, pl.Series] | None:
    """Values as codes whose order is the values' order, plus the code -> value table."""
    distinct = values.drop_nulls().unique().sort()
    if values.dtype.is_integer() and distinct.len():
        low, high = int(distinct[0]), int(distinct[-1])
        if high - low < 1 << 16:
            codes = (values - low).fill_null(-1).cast(pl.Int64).to_numpy()
            return codes, pl.int_range(low, high + 1, eager=True).cast(values.dtype)
    if distinct.len() > 1 << 16:
        return None
    lookup = pl.int_range(0, distinct.len(), eager=True, dtype=pl.Int64)
    codes = values.replace_strict(distinct, lookup, default=-1, return_dtype=pl.Int64).to_numpy()
    return codes, distinct


def group_mode(frame: pl.DataFrame, key: str, value: str, output: str) -> pl.DataFrame:
    """One row per key with the most frequent non-missing ``value`` (ties: smallest value)."""
    groups = _dense_group_ids(frame[key])
    coded = _value_codes(frame[value]) if groups is not None else None
    if groups is None or coded is None or groups[1] * max(coded[1].len(), 1) > MAX_DENSE_CELLS:
        return frame.group_by(key).agg(
            pl.col(value).drop_nulls().mode().sort().first().alias(output))
    group_ids, n_groups, low = groups
    codes, table = coded
    modes = _dense_mode(group_ids, codes, n_groups, max(table.len(), 1))
    present = modes >= 0
    return pl.DataFrame({
        key: (np.arange(n_groups, dtype=np.int64)[present] + low),
        output: table.gather(modes[present]) if table.len() else table,
    }).with_columns(pl.col(key).cast(frame.schema[key]))
