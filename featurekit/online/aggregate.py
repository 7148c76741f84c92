"""Kernel statistics for the few groups of an online call, computed by the batch engine's own
kernels (``featurekit.primitives.kernels``: ``laid_out_moments``, ``laid_out_categories``,
``true_counts``, the array-level entry points of ``group_moments`` and ``group_categories``),
so a statistic has one implementation and one set of rules. This module only lays the rows
out group by group and turns the kernels' arrays into the online ``Col`` objects (groups
without rows are missing)."""

from __future__ import annotations

import numpy as np

from featurekit.online.columns import BOOLEAN, CODES, FLOAT, INTEGER, Col
from featurekit.primitives.kernels import (
    CATEGORY_STATS,
    INTEGER_STATS,
    MOMENT_STATS,
    DenseKeys,
    array_codes,
    laid_out_categories,
    laid_out_moments,
    true_counts,
)

MOMENTS = MOMENT_STATS
CATEGORIES = CATEGORY_STATS
TRUTH = frozenset({"true_count", "true_share"})


class Unsupported(Exception):
    """A case the numpy path does not compute; the caller uses the polars path."""


class Groups:
    """Rows of one child table by the parent row (0..n_groups-1) they belong to: the batch
    kernels' ``DenseKeys`` (slots = owners, low 0) and their slot-by-slot layout."""

    def __init__(self, owners: np.ndarray, n_groups: int) -> None:
        self.keys = DenseKeys(owners.astype(np.int32), n_groups, 0)
        self.order, self.starts = self.keys.grouped()
        self.n_groups = n_groups
        self.counts = np.diff(self.starts)
        self.present = self.counts > 0
        self.absent = None if self.present.all() else ~self.present

    def laid_out(self, values: np.ndarray) -> np.ndarray:
        return values if self.order is None else values[self.order]


def aggregate(stats: set[str], col: Col, groups: Groups, column: str) -> dict[str, Col]:
    """Kernel statistics of ``col`` per group (one kernel call per column for all its
    moments); groups without rows are missing."""
    out: dict[str, Col] = {}
    if "rows" in stats:
        out["rows"] = Col(INTEGER, groups.counts.astype(np.int64), groups.absent)
    if stats & CATEGORIES:
        out.update(_categories(stats & CATEGORIES, col, groups))
    rest = stats - CATEGORIES - {"rows"}
    if not rest:
        return out
    if col.kind == BOOLEAN and rest <= TRUTH:
        truth = col.values if col.missing is None else col.values & ~col.missing
        found = true_counts(groups.keys.slots, np.ascontiguousarray(truth).view(np.uint8),
                            groups.n_groups, rest)
        empty = ~groups.present
    else:
        integers = _exact_input(col, groups) if col.kind == INTEGER and rest & INTEGER_STATS else None
        found, empty = laid_out_moments(groups.laid_out(_as_floats(col)), groups.starts, rest,
                                        integers, column)
    exact = rest & INTEGER_STATS if col.kind == INTEGER else set()
    for stat, values in found.items():
        out[stat] = _adapt(stat, values, stat in exact, empty, groups)
    return out


def _exact_input(col: Col, groups: Groups) -> tuple[np.ndarray, np.ndarray]:
    """An integer column laid out for the exact kernel: int64 values (read-only, as the batch
    engine hands them over, so the kernel is compiled once) and uint8 1 where present."""
    values = np.ascontiguousarray(groups.laid_out(col.values), dtype=np.int64).view()
    values.flags.writeable = False
    valid = np.ones(len(col), np.uint8) if col.missing is None else (~col.missing).view(np.uint8)
    return values, np.ascontiguousarray(groups.laid_out(valid))


def _adapt(stat: str, values: np.ndarray, exact: bool, empty: np.ndarray, groups: Groups) -> Col:
    """A kernel's per-group array as a ``Col``: counts of true values and exact integers keep
    their type (missing without rows; a min or max also without values); floats are NaN for
    groups without rows (a sum's NaN from +inf and -inf is a value)."""
    if exact or stat == "true_count":
        missing = empty if exact and stat != "sum" else ~groups.present
        return Col(INTEGER, values.astype(np.int64, copy=False), missing if missing.any() else None)
    values = values.astype(np.float64, copy=True)
    if groups.absent is not None:
        values[groups.absent] = np.nan
    return Col(FLOAT, values, None, None, stat == "sum")


def _as_floats(col: Col) -> np.ndarray:
    """Values as float64 with NaN for missing (the kernels' input); for counting rows of a
    column that is not numeric, only whether each value is missing."""
    if col.kind == FLOAT:
        return col.values
    if col.kind in (INTEGER, BOOLEAN):
        values = col.values.astype(np.float64)
        if col.missing is not None:
            values[col.missing] = np.nan
        return values
    missing = col.values < 0 if col.kind == CODES else np.zeros(len(col), bool)
    return np.where(missing, np.nan, 0.0)


def _categories(stats: set[str], col: Col, groups: Groups) -> dict[str, Col]:
    """Distinct count and mode (the most frequent value, the smallest on ties) per group, by
    the batch kernel over codes ordered like the values (categories are codes already)."""
    if col.kind == CODES:
        codes, table, n_codes = col.values, None, len(col.names)
    else:
        codes, table = array_codes(col.values, col.missing)
        n_codes = len(table)
    modes, distinct = laid_out_categories(groups.laid_out(codes), groups.starts, n_codes)
    out: dict[str, Col] = {}
    if "nunique" in stats:
        out["nunique"] = Col(INTEGER, distinct, groups.absent)
    if "mode" in stats:
        found = modes >= 0
        if col.kind == CODES:
            out["mode"] = Col(CODES, modes.astype(col.values.dtype), None, col.names)
        elif col.kind == FLOAT:
            picked = table[np.where(found, modes, 0)] if len(table) else np.zeros(len(modes))
            out["mode"] = Col(FLOAT, np.where(found, picked, np.nan).astype(np.float64))
        else:
            picked = table[np.where(found, modes, 0)] if len(table) else np.zeros(len(modes))
            out["mode"] = Col(col.kind, picked.astype(col.values.dtype),
                              None if found.all() else ~found)
    return out
