"""Kernel statistics of the batch engine (``featurekit.primitives.kernels``) for the few
groups of an online call, in numpy over rows laid out group by group: the same rules
(NaN is missing; infinities count in count, min and max and make sum and mean infinite or
NaN and the centred moments missing; sample variance; pandas' bias-corrected skew, 0 for
constant values; exact int64 sum, min and max of integers; mode ties to the smallest
value; PERCENT_TRUE over every row, a missing one counting as false)."""

from __future__ import annotations

import numpy as np

from featurekit.errors import ComputeError
from featurekit.online.columns import BOOLEAN, CODES, FLOAT, INTEGER, Col

MOMENTS = frozenset({"rows", "count", "sum", "mean", "std", "var", "min", "max", "skew",
                     "true_count", "true_share"})
CATEGORIES = frozenset({"mode", "nunique"})


class Groups:
    """Rows of one child table by the parent row (0..n_groups-1) they belong to."""

    def __init__(self, owners: np.ndarray, n_groups: int) -> None:
        if len(owners) > 1 and np.any(owners[1:] < owners[:-1]):
            self.order = np.argsort(owners, kind="stable")
            owners = owners[self.order]
        else:
            self.order = None
        self.n_groups = n_groups
        self.counts = np.bincount(owners, minlength=n_groups)
        self.present = self.counts > 0
        starts = np.concatenate([[0], np.cumsum(self.counts)[:-1]])
        self.starts = starts[self.present]  # reduceat over the groups with rows only
        self.owners = owners

    def laid_out(self, values: np.ndarray) -> np.ndarray:
        return values if self.order is None else values[self.order]

    def reduce(self, ufunc: np.ufunc, values: np.ndarray) -> np.ndarray:
        """``ufunc`` over each present group's values (one row per present group; columns
        of a 2-d block reduced side by side)."""
        return ufunc.reduceat(values, self.starts, axis=0) if len(values) else values[:0]

    def spread(self, present_values: np.ndarray, fill: object) -> np.ndarray:
        """Present groups' values in a per-group array, ``fill`` for the others."""
        if self.present.all():
            return present_values
        out = np.full((self.n_groups, *present_values.shape[1:]), fill,
                      dtype=present_values.dtype if fill is not np.nan else np.float64)
        out[self.present] = present_values
        return out


BLOCK = frozenset({"count", "sum", "mean", "std", "var", "min", "max", "skew"})


def moment_stats(stats: set[str], col: Col) -> set[str]:
    """The statistics of ``stats`` that ``col`` gets from float moments (``aggregate_block``):
    not counts of rows, categories, exact integer sums and extremes nor truth shares."""
    if col.kind not in (FLOAT, INTEGER, BOOLEAN):
        return set()
    rest = stats - CATEGORIES - {"rows"}
    if col.kind == BOOLEAN and rest <= {"true_count", "true_share"}:
        return set()
    if col.kind == INTEGER:
        rest = rest - {"sum", "min", "max"}
    return rest if rest <= BLOCK else set()


def aggregate_block(stats: set[str], cols: list[Col], groups: Groups) -> list[dict[str, Col]]:
    """Float moments of several columns at once, side by side in one 2-d block (one numpy
    call per step for all of them): per column, its statistics."""
    block = np.column_stack([_as_floats(col) for col in cols]) if cols else np.empty((0, 0))
    found = _moments(stats, block, groups)
    return [{stat: Col(FLOAT, np.ascontiguousarray(col.values[:, position]), None, None,
                       col.nan_is_value) for stat, col in found.items()}
            for position in range(len(cols))]


def aggregate(stats: set[str], col: Col, groups: Groups, column: str) -> dict[str, Col]:
    """Kernel statistics of ``col`` per group (the shared work done once); groups without
    rows are missing."""
    out: dict[str, Col] = {}
    if "rows" in stats:
        out["rows"] = Col(INTEGER, groups.counts.astype(np.int64),
                          None if groups.present.all() else ~groups.present)
    for stat in stats & CATEGORIES:
        out[stat] = _categories(stat, col, groups)
    rest = stats - CATEGORIES - {"rows"}
    if col.kind == BOOLEAN and rest and rest <= {"true_count", "true_share"}:
        truth = col.values if col.missing is None else col.values & ~col.missing
        true = groups.reduce(np.add, groups.laid_out(truth.astype(np.int64)))
        if "true_count" in rest:
            out["true_count"] = _ints(groups, true)
        if "true_share" in rest:
            out["true_share"] = _floats(groups, true / groups.counts[groups.present])
        return out
    if col.kind == INTEGER:
        for stat in rest & {"sum", "min", "max"}:
            out[stat] = _exact_integers(stat, col, groups, column)
        rest = rest - {"sum", "min", "max"}
    if rest:
        out.update(_moments(rest, _as_floats(col), groups))
    return out


def _as_floats(col: Col) -> np.ndarray:
    if col.kind == FLOAT:
        return col.values
    if col.kind in (INTEGER, BOOLEAN):
        values = col.values.astype(np.float64)
        if col.missing is not None:
            values[col.missing] = np.nan
        return values
    # counting rows of a column that is not numeric: only whether each value is missing
    missing = col.values < 0 if col.kind == CODES else np.zeros(len(col), bool)
    return np.where(missing, np.nan, 0.0)


def _ints(groups: Groups, present_values: np.ndarray) -> Col:
    values = groups.spread(present_values.astype(np.int64), 0)
    return Col(INTEGER, values, None if groups.present.all() else ~groups.present)


def _floats(groups: Groups, present_values: np.ndarray, nan_is_value: bool = False) -> Col:
    return Col(FLOAT, groups.spread(present_values.astype(np.float64), np.nan), None, None,
               nan_is_value)


def _exact_integers(stat: str, col: Col, groups: Groups, column: str) -> Col:
    values = groups.laid_out(col.values)
    valid = np.ones(len(values), bool) if col.missing is None else ~groups.laid_out(col.missing)
    if stat == "sum":
        total = groups.reduce(np.add, np.where(valid, values, 0))
        approx = groups.reduce(np.add, np.where(valid, values, 0).astype(np.float64))
        if np.any(np.abs(approx) > 9.2e18):
            raise ComputeError(f"the SUM of integer column {column!r} exceeds the int64 range. Fix: "
                               f"give the column the type 'double' (types={{{column!r}: 'double'}}) "
                               "to sum it in floats")
        return _ints(groups, total)
    limits = np.iinfo(np.int64)
    if stat == "min":
        found = groups.reduce(np.minimum, np.where(valid, values, limits.max))
    else:
        found = groups.reduce(np.maximum, np.where(valid, values, limits.min))
    have = groups.reduce(np.add, valid.astype(np.int64)) > 0
    out = _ints(groups, found)
    missing = np.zeros(groups.n_groups, bool) if out.missing is None else out.missing.copy()
    missing[np.flatnonzero(groups.present)[~have]] = True
    return Col(INTEGER, out.values, missing if missing.any() else None)


def _moments(stats: set[str], values: np.ndarray, groups: Groups) -> dict[str, Col]:
    x = groups.laid_out(values)
    valid = ~np.isnan(x)
    out: dict[str, Col] = {}
    count = groups.reduce(np.add, valid.astype(np.int64))
    if "count" in stats:
        out["count"] = _floats(groups, count.astype(np.float64))
    if stats & {"min", "max", "skew"}:
        low = groups.reduce(np.minimum, np.where(valid, x, np.inf))
        high = groups.reduce(np.maximum, np.where(valid, x, -np.inf))
        if "min" in stats:
            out["min"] = _floats(groups, np.where(count > 0, low, np.nan))
        if "max" in stats:
            out["max"] = _floats(groups, np.where(count > 0, high, np.nan))
    if stats & {"true_count", "true_share"}:  # of numbers read as 0/1 (NaN: no value)
        total = groups.reduce(np.add, np.where(valid, x, 0.0))
        if "true_count" in stats:
            out["true_count"] = _ints(groups, total.astype(np.int64))
        if "true_share" in stats:
            out["true_share"] = _floats(groups, total / groups.counts[groups.present])
    if not stats & {"sum", "mean", "var", "std", "skew"}:
        return out
    finite = np.isfinite(x)
    total = groups.reduce(np.add, np.where(finite, x, 0.0))
    n_finite = groups.reduce(np.add, finite.astype(np.int64))
    infinite = n_finite < count
    if infinite.any():
        above = groups.reduce(np.add, (x == np.inf).astype(np.int64)) > 0
        below = groups.reduce(np.add, (x == -np.inf).astype(np.int64)) > 0
        signed = np.where(above & below, np.nan, np.where(above, np.inf, -np.inf))
    else:
        signed = total
    if "sum" in stats:
        out["sum"] = _floats(groups, np.where(infinite, signed, total), nan_is_value=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(n_finite > 0, total / np.maximum(n_finite, 1), np.nan)
    mean = np.where(infinite, signed, mean)
    if "mean" in stats:
        out["mean"] = _floats(groups, mean)
    if not stats & {"var", "std", "skew"}:
        return out
    centre = np.repeat(np.where(infinite, 0.0, mean), groups.counts[groups.present], axis=0)
    deviation = np.where(finite, x - centre, 0.0)
    square = deviation * deviation
    m2 = np.where(infinite, np.nan, groups.reduce(np.add, square))
    with np.errstate(all="ignore"):
        variance = np.where(count > 1, m2 / (count - 1.0), np.nan)
        if "var" in stats:
            out["var"] = _floats(groups, variance)
        if "std" in stats:
            out["std"] = _floats(groups, np.sqrt(variance))
        if "skew" in stats:
            m3 = np.where(infinite, np.nan, groups.reduce(np.add, square * deviation))
            n = count.astype(np.float64)
            skew = (n * np.sqrt(n - 1.0) / (n - 2.0)) * (m3 / m2 ** 1.5)
            skew = np.where(low == high, 0.0, skew)
            out["skew"] = _floats(groups, np.where((count < 3) | np.isnan(m2), np.nan, skew))
    return out


def _one_mode(col: Col, distinct: np.ndarray, counts: np.ndarray) -> Col:
    """The mode of one group's values (sorted distinct values and their counts)."""
    found = len(distinct) > 0
    value = distinct[int(np.argmax(counts))] if found else None  # the first maximum: smallest
    if col.kind == CODES:
        return Col(CODES, np.array([value if found else -1], dtype=col.values.dtype), None, col.names)
    if col.kind == FLOAT:
        return Col(FLOAT, np.array([value if found else np.nan]))
    return Col(col.kind, np.array([value if found else 0], dtype=col.values.dtype),
               None if found else np.ones(1, bool))


def _categories(stat: str, col: Col, groups: Groups) -> Col:
    """Distinct count and mode (the most frequent value, the smallest on ties) per group."""
    values = groups.laid_out(col.values)
    owners = groups.owners
    if col.kind == CODES:
        valid = values >= 0
    elif col.kind == FLOAT:
        valid = ~np.isnan(values)
    else:
        valid = np.ones(len(values), bool) if col.missing is None else ~groups.laid_out(col.missing)
    values, owners = values[valid], owners[valid]
    if groups.n_groups == 1:  # one parent: a sorted count of its values
        distinct, counts = np.unique(values, return_counts=True)
        if stat == "nunique":
            return Col(INTEGER, np.array([len(distinct)], np.int64),
                       None if groups.present.all() else ~groups.present)
        return _one_mode(col, distinct, counts)
    order = np.lexsort((values, owners))
    values, owners = values[order], owners[order]
    if len(values):
        starts = np.flatnonzero(np.concatenate([[True], (owners[1:] != owners[:-1])
                                                | (values[1:] != values[:-1])]))
    else:
        starts = np.empty(0, np.int64)
    run_owner = owners[starts]
    if stat == "nunique":
        distinct = np.bincount(run_owner, minlength=groups.n_groups).astype(np.int64)
        return Col(INTEGER, distinct, None if groups.present.all() else ~groups.present)
    lengths = np.diff(np.append(starts, len(values)))
    best = np.lexsort((values[starts], -lengths, run_owner))  # per group: longest, then smallest
    first = np.concatenate([[True], run_owner[best][1:] != run_owner[best][:-1]]) if len(best) else best.astype(bool)
    chosen = best[first]
    has = np.zeros(groups.n_groups, bool)
    has[run_owner[chosen]] = True
    if col.kind == CODES:
        modes = np.full(groups.n_groups, -1, dtype=col.values.dtype)
        modes[run_owner[chosen]] = values[starts][chosen]
        return Col(CODES, modes, None, col.names)
    if col.kind == FLOAT:
        modes = np.full(groups.n_groups, np.nan)
        modes[run_owner[chosen]] = values[starts][chosen]
        return Col(FLOAT, modes)
    modes = np.zeros(groups.n_groups, dtype=col.values.dtype)
    modes[run_owner[chosen]] = values[starts][chosen]
    return Col(col.kind, modes, None if has.all() else ~has)
