"""numba kernels that compute many aggregations over all groups in one pass.

Used when the group keys are integers in a compact range (the usual case: parents' indexes),
so a group's slot is its key minus the smallest key. Moments (count, sum, mean, std, var,
min, max, skew) come from one pass plus one centred pass per value column; categorical counts
(mode, distinct count) from one pass over rows grouped by a counting sort. Otherwise callers fall back to polars.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable
from dataclasses import dataclass

import numba
import numpy as np
import polars as pl
import pyarrow as pa

MAX_CODES = 1 << 22  # distinct values a categorical kernel counts (one int32 scratch each)
CHUNK_ROWS = 1 << 20  # rows a group-by kernel converts at a time: bounds its temporary copies
MOMENT_STATS = frozenset({"rows", "count", "sum", "mean", "std", "var", "min", "max", "skew",
                          "true_count", "true_share"})
CATEGORY_STATS = frozenset({"mode", "nunique"})
ORDER_STATS = frozenset({"first", "last"})
# Inputs shorter than this go to a kernel's serial variant: waking numba's threads costs more
# than the work there (about a millisecond a call, tens of milliseconds on a busy machine),
# and compiling the parallel variant costs about a second per kernel, so a first DFS on small
# tables compiles no parallel kernel at all.
PARALLEL_ROWS = 1 << 17


class Threaded:
    """One kernel source compiled two ways, each on its first call (and cached on disk):
    serially, and with its ``prange`` loops spread over threads. ``on(rows)`` picks the
    variant for an input of that many rows; both give the same values (a slot's result never
    depends on the thread that computes it)."""

    def __init__(self, function: Callable) -> None:
        self.parallel = numba.njit(cache=True, nogil=True, parallel=True)(function)
        self.serial = numba.njit(cache=True, nogil=True)(_renamed(function, "_serial"))
        functools.update_wrapper(self, function)

    def on(self, rows: int) -> Callable:
        if rows >= PARALLEL_ROWS and numba.get_num_threads() > 1:
            return self.parallel
        return self.serial


def _renamed(function: Callable, suffix: str) -> Callable:
    """A copy of ``function`` under another qualified name: numba files cached kernels by
    name, and the serial variant must not share the parallel one's entry."""
    twin = types.FunctionType(function.__code__, function.__globals__, function.__name__ + suffix,
                              function.__defaults__, function.__closure__)
    twin.__qualname__ = function.__qualname__ + suffix
    twin.__module__ = function.__module__
    twin.__doc__ = function.__doc__
    return twin


def _read_only(array: np.ndarray) -> np.ndarray:
    """``array`` as a read-only view (no copy). numba types read-only and writable arrays
    apart and compiles a kernel once for each; polars hands out read-only views, our own
    arrays are writable, so the kernels' inputs go through this to compile only once."""
    if array.flags.writeable:
        array = array.view()
        array.flags.writeable = False
    return array


@numba.njit(parallel=True, cache=True)
def _touch_threads(values):
    total = 0.0
    for i in numba.prange(values.shape[0]):
        total += values[i]
    return total


@functools.cache
def concurrent_calls_are_safe() -> bool:
    """Whether two threads may run parallel kernels at once: numba's "omp" and "tbb"
    threading layers allow it, its fallback "workqueue" layer does not."""
    _touch_threads(np.zeros(2))  # the layer is chosen on the first parallel call
    return numba.threading_layer() in ("omp", "tbb")


@dataclass
class DenseKeys:
    """Group keys as slots 0..n_groups-1 (slot = key - low)."""

    slots: np.ndarray
    n_groups: int
    low: int
    _grouped: tuple[np.ndarray | None, np.ndarray] | None = None

    def __post_init__(self) -> None:
        self.slots = _read_only(self.slots)

    def keys(self, present: np.ndarray, dtype: pl.DataType) -> pl.Series:
        return pl.Series(np.flatnonzero(present) + self.low).cast(dtype)

    def grouped(self) -> tuple[np.ndarray | None, np.ndarray]:
        """Row numbers ordered by slot (None when the rows already come slot by slot, as a
        child table sorted by its parent key does) and each slot's start there; computed once."""
        if self._grouped is None:
            self._grouped = ((None, _slot_starts(self.slots, self.n_groups))
                             if _is_sorted(self.slots) else _rows_by_slot(self.slots, self.n_groups))
        return self._grouped

    def chunks(self) -> list[tuple[int, int, int, int]]:
        """Runs of whole slots ``(first slot, end slot, first row, end row)`` in slot order,
        each of about ``CHUNK_ROWS`` rows, so that a kernel's temporary copies of a column
        stay that size however long the column is."""
        _, starts = self.grouped()
        runs, first = [], 0
        while first < self.n_groups:
            end = int(np.searchsorted(starts, starts[first] + CHUNK_ROWS, side="right")) - 1
            end = min(max(end, first + 1), self.n_groups)
            runs.append((first, end, int(starts[first]), int(starts[end])))
            first = end
        return runs

    def rows_of(self, values: pl.Series, begin: int, end: int) -> pl.Series:
        """The values of rows ``begin:end`` in slot order (a view when no reordering is due)."""
        order, _ = self.grouped()
        if order is None:
            return values.slice(begin, end - begin)
        return values.gather(pl.Series(order[begin:end], dtype=pl.get_index_type()))


def dense_keys(keys: pl.Series) -> DenseKeys | None:
    """Slots for integer keys in a compact range, else None (the caller falls back)."""
    if not keys.dtype.is_integer() or keys.len() == 0 or keys.null_count():
        return None
    low, high = int(keys.min()), int(keys.max())
    span = high - low + 1
    if span > 4 * keys.len() + 1024:
        return None
    if keys.dtype == pl.Int32 and 0 <= low and high < 4 * keys.len() + 1024:
        # keys that are small non-negative Int32 already are slots: no copy (read-only view)
        return DenseKeys(keys.to_numpy(), high + 1, 0)
    slots = np.empty(keys.len(), np.int32 if span < 2**31 - 1 else np.int64)  # int32: half the memory
    _fill_offsets(keys.to_numpy(), low, slots)
    return DenseKeys(slots, span, low)


@dataclass
class RankedKeys(DenseKeys):
    """Integer keys spread too wide for slots by value: a key's slot is its rank among the
    distinct keys (``values`` holds them in slot order)."""

    values: np.ndarray | None = None

    def keys(self, present: np.ndarray, dtype: pl.DataType) -> pl.Series:
        return pl.Series(self.values[present]).cast(dtype)


def group_slots(keys: pl.Series) -> DenseKeys | None:
    """Slots for any integer keys without nulls: ``dense_keys`` when their range is compact,
    else by rank among the distinct keys (a sort); None for other keys. With slots, a
    group's statistics come from the kernels over its own rows in their order, whatever
    other groups the frame holds (a partition and a whole frame give the same bits)."""
    found = dense_keys(keys)
    if found is not None or not keys.dtype.is_integer() or keys.len() == 0 \
            or keys.null_count():
        return found
    distinct, slots = np.unique(keys.to_numpy(), return_inverse=True)
    return RankedKeys(slots.astype(np.int64, copy=False), len(distinct), 0, values=distinct)


def _fill_offsets(keys: np.ndarray, low: int, out: np.ndarray) -> None:
    """``out[:] = keys - low`` computed in 64 bits whatever the key type (int8 keys would
    wrap in their own type), written into ``out`` without a temporary of the whole column."""
    wide = np.uint64 if keys.dtype == np.uint64 else np.int64
    np.subtract(keys, low, out=out, dtype=wide, casting="unsafe")


@numba.njit(cache=True, nogil=True)
def _true_counts(slots, truth, n_groups):
    rows = np.zeros(n_groups, np.int64)
    true = np.zeros(n_groups, np.int64)
    for row in range(slots.shape[0]):
        rows[slots[row]] += 1
        if truth[row] == 1:
            true[slots[row]] += 1
    return rows, true


@Threaded
def _segment_moments(values, starts, rows, count, total, mean, low, high, m2, m3):
    """Moments per slot, written into the output arrays, from values laid out slot by slot:
    each segment is read twice while it is in cache (sums, then centred powers), instead of
    scattering over all slots. NaN is missing; infinities count as values (in count, min
    and max) but stay out of the running sums, then decide sum and mean as IEEE arithmetic
    would (+inf, -inf, or NaN when both occur) and make the centred moments NaN."""
    for slot in numba.prange(starts.shape[0] - 1):  # slots are independent: same result on any thread count
        begin, end = starts[slot], starts[slot + 1]
        rows[slot] = end - begin
        finite, above, below, acc, lo, hi = 0, 0, 0, 0.0, np.inf, -np.inf
        for position in range(begin, end):
            value = values[position]
            if not np.isnan(value):
                lo = min(lo, value)
                hi = max(hi, value)
                if value == np.inf:
                    above += 1
                elif value == -np.inf:
                    below += 1
                else:
                    finite += 1
                    acc += value
        count[slot], low[slot], high[slot] = finite + above + below, lo, hi
        total[slot], mean[slot], m2[slot], m3[slot] = acc, np.nan, 0.0, 0.0
        if above or below:
            total[slot] = np.nan if above and below else (np.inf if above else -np.inf)
            mean[slot], m2[slot], m3[slot] = total[slot], np.nan, np.nan
        elif finite > 0:
            centre = acc / finite
            mean[slot] = centre
            s2, s3 = 0.0, 0.0
            for position in range(begin, end):
                value = values[position]
                if not np.isnan(value):
                    deviation = value - centre
                    square = deviation * deviation
                    s2 += square
                    s3 += square * deviation
            m2[slot], m3[slot] = s2, s3


@numba.njit(cache=True, nogil=True, inline="always")
def _wraps(acc, value):
    """Whether ``acc + value`` leaves the int64 range, asked before adding (LLVM may assume
    that a signed sum never wraps, so a check after the fact can be optimised away)."""
    top, bottom = np.iinfo(np.int64).max, np.iinfo(np.int64).min
    return (value > 0 and acc > top - value) or (value < 0 and acc < bottom - value)


@Threaded
def _segment_integers(values, valid, starts, total, low, high, overflow):
    """Exact integer sum, min and max per slot (int64; ``overflow`` marks sums beyond it),
    from values laid out slot by slot; ``valid`` is 0 where a value is missing."""
    for slot in numba.prange(starts.shape[0] - 1):
        acc, wrapped = np.int64(0), False
        lo, hi = np.iinfo(np.int64).max, np.iinfo(np.int64).min
        for position in range(starts[slot], starts[slot + 1]):
            if valid[position]:
                value = values[position]
                wrapped = wrapped or _wraps(acc, value)
                acc += value
                lo = min(lo, value)
                hi = max(hi, value)
        total[slot], low[slot], high[slot], overflow[slot] = acc, lo, hi, wrapped


INTEGER_STATS = frozenset({"sum", "min", "max"})  # exact in int64 for integer columns


def group_moments(keys: DenseKeys, values: pl.Series, stats: set[str]) -> dict[str, np.ndarray | pl.Series]:
    """Requested moment statistics per slot (NaN where undefined); ``rows`` counts all rows.
    The values are converted a chunk of slots at a time, so a float copy of a long integer
    column (or one with missing values) never exists whole. Sum, min and max of an integer
    column are exact integers (series, missing where a slot has no value)."""
    if values.dtype == pl.Boolean and stats <= {"rows", "true_count", "true_share"}:
        truth = (values.fill_null(False) if values.null_count() else values).to_numpy().view(np.uint8)
        return true_counts(keys.slots, truth, keys.n_groups, stats)
    _, starts = keys.grouped()
    exact = stats & INTEGER_STATS if _is_integer(values) else set()
    floats = stats - exact
    moments, integers = _moment_arrays(keys.n_groups), _integer_arrays(keys.n_groups)
    for first, end, begin, stop in keys.chunks():
        part = keys.rows_of(values, begin, stop)
        bounds = starts[first:end + 1] - begin
        _run_moments(_as_numbers(part, stats), _integers(part) if exact else None, bounds,
                     [m[first:end] for m in moments], [m[first:end] for m in integers])
    result = _moment_stats(floats, *moments)
    result.update(_integer_stats(exact, moments[1], *integers, values.name))
    return result


def laid_out_moments(numbers: np.ndarray, starts: np.ndarray, stats: set[str],
                     integers: tuple[np.ndarray, np.ndarray] | None = None,
                     column: str = "value") -> tuple[dict[str, np.ndarray], np.ndarray]:
    """``group_moments`` over values already laid out slot by slot (``starts``: each slot's
    first position, then the end), as arrays: ``numbers`` float64 with NaN for missing; with
    ``integers`` (int64 values, uint8 1 where present) sum, min and max are exact int64.
    Returns the statistics and, per slot, whether it has no value (where an exact min or max
    is missing). The same kernels and rules as ``group_moments``, for callers (the online
    path) that hold a few groups as arrays."""
    n_groups = len(starts) - 1
    moments, ints = _moment_arrays(n_groups), _integer_arrays(n_groups)
    exact = stats & INTEGER_STATS if integers is not None else set()
    _run_moments(numbers, integers if exact else None, starts, moments, ints)
    result = _moment_stats(stats - exact, *moments)
    sums, empty = _exact_stats(exact, moments[1], *ints, column)
    result.update(sums)
    return result, empty


def _moment_arrays(n_groups: int) -> list[np.ndarray]:
    """Outputs of ``_segment_moments``: rows, count, total, mean, low, high, m2, m3."""
    return [np.empty(n_groups, np.int64), np.empty(n_groups, np.int64),
            *(np.empty(n_groups) for _ in range(6))]


def _integer_arrays(n_groups: int) -> list[np.ndarray]:
    """Outputs of ``_segment_integers``: total, low, high, overflow."""
    return [np.empty(n_groups, np.int64) for _ in range(3)] + [np.empty(n_groups, np.bool_)]


def _run_moments(numbers: np.ndarray, integers: tuple[np.ndarray, np.ndarray] | None,
                 starts: np.ndarray, moments: list[np.ndarray], ints: list[np.ndarray]) -> None:
    """The moment kernel (counts tell which slots have values) and, for exact integer
    statistics, the integer kernel, over values laid out slot by slot."""
    rows = len(numbers)
    _segment_moments.on(rows)(_read_only(np.ascontiguousarray(numbers)), starts, *moments)
    if integers is not None:
        _segment_integers.on(rows)(*integers, starts, *ints)


def true_counts(slots: np.ndarray, truth: np.ndarray, n_groups: int, stats: set[str]) -> dict[str, np.ndarray]:
    """Rows, true values (``truth`` uint8, a missing value given as 0: false) and their share
    of all rows per slot: PERCENT_TRUE and NUM_TRUE of a boolean column."""
    rows, true = _true_counts(slots, truth, n_groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = {"rows": rows, "true_count": true, "true_share": true / rows}
    return {name: out[name] for name in stats}


def _is_integer(values: pl.Series) -> bool:
    """Whether a column's sum, min and max are computed as exact integers."""
    return values.dtype.is_integer()


def _integers(values: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """An integer column as int64 and whether each value is present (1) or missing (0)."""
    if values.dtype == pl.UInt64 and values.len() and (values.max() or 0) > np.iinfo(np.int64).max:
        from featurekit.errors import ComputeError

        raise ComputeError(f"column {values.name!r} holds integers above 2**63 - 1, beyond int64. "
                           f"Fix: give it the type 'double' (types={{{values.name!r}: 'double'}})")
    numbers, valid = numbers_and_validity(values)
    return _read_only(numbers.astype(np.int64, copy=False)), valid.view(np.uint8)


def _exact_stats(stats, count, total, low, high, overflow, column: str
                 ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Exact integer sums (0 without values), minima and maxima, and the slots without
    values (where a minimum or maximum is missing)."""
    empty = count == 0
    if not stats:
        return {}, empty
    if "sum" in stats and overflow.any():
        from featurekit.errors import ComputeError

        raise ComputeError(f"the SUM of integer column {column!r} exceeds the int64 range for "
                           f"{int(overflow.sum())} group(s). Fix: give the column the type "
                           f"'double' (types={{{column!r}: 'double'}}) to sum it in floats")
    out = {"sum": total, "min": low, "max": high}
    return {name: out[name] for name in stats}, empty


def _integer_stats(stats, count, total, low, high, overflow, column: str) -> dict[str, object]:
    """``_exact_stats`` with minima and maxima as series, missing where a slot has no value."""
    found, empty = _exact_stats(stats, count, total, low, high, overflow, column)
    return {name: masked_series(values, empty) if name != "sum" else values
            for name, values in found.items()}


def _as_numbers(values: pl.Series, stats: set[str]) -> np.ndarray:
    """Values as float64 with NaN for missing; for counting rows of a column that is not
    numeric (an index of text ids), only whether each value is missing."""
    if values.dtype == pl.Boolean and stats <= {"rows", "true_count", "true_share"}:
        return values.fill_null(False).cast(pl.Float64).to_numpy()
    if not (values.dtype.is_numeric() or values.dtype == pl.Boolean):
        return np.where(values.is_null().to_numpy(), np.nan, 0.0)
    return values.cast(pl.Float64).to_numpy()  # missing values become NaN


def _moment_stats(stats, rows, count, total, mean, low, high, m2, m3) -> dict[str, np.ndarray]:
    """The requested statistics from per-group moments (NaN where undefined)."""
    variance = functools.cache(lambda: _variance(count, m2))  # once for both var and std
    derived = {
        "rows": lambda: rows,  # counts stay integers: no float copy to cast back
        "count": lambda: count.astype(np.float64),
        "sum": lambda: total,
        "mean": lambda: mean,
        "min": lambda: np.where(count > 0, low, np.nan),
        "max": lambda: np.where(count > 0, high, np.nan),
        "var": lambda: variance(),
        "std": lambda: np.sqrt(variance()),
        "skew": lambda: _skew(count, m2, m3, low, high),
        "true_count": lambda: total.astype(np.int64),
        "true_share": lambda: total / rows,
    }
    with np.errstate(divide="ignore", invalid="ignore"):
        return {name: derived[name]() for name in stats}


def _variance(count: np.ndarray, m2: np.ndarray) -> np.ndarray:
    """Sample variance (ddof 1); missing below two values. (numpy, not numba: one line per
    group costs little, and a kernel fewer to compile on first use.)"""
    with np.errstate(all="ignore"):
        return np.where(count > 1, m2 / (count - 1.0), np.nan)


def _skew(count: np.ndarray, m2: np.ndarray, m3: np.ndarray, low: np.ndarray,
          high: np.ndarray) -> np.ndarray:
    """pandas' bias-corrected skewness; 0 for constant values, missing below 3 values or
    with an infinite value (its centred moments are NaN)."""
    n = count.astype(np.float64)
    with np.errstate(all="ignore"):  # the groups where this overflows or divides by 0 are masked
        value = (n * np.sqrt(n - 1.0) / (n - 2.0)) * (m3 / m2 ** 1.5)
    value = np.where(low == high, 0.0, value)
    return np.where((count < 3) | np.isnan(m2), np.nan, value)


@numba.njit(cache=True, nogil=True)
def _slot_starts(slots, n_groups):
    """Where each slot's rows start once laid out slot by slot (a count, then a running sum)."""
    starts = np.zeros(n_groups + 1, np.int64)
    for row in range(slots.shape[0]):
        starts[slots[row] + 1] += 1
    for slot in range(n_groups):
        starts[slot + 1] += starts[slot]
    return starts


@numba.njit(cache=True, nogil=True)
def _rows_by_slot(slots, n_groups):
    """Row numbers grouped by slot (a counting sort) and each slot's start in that order."""
    starts = _slot_starts(slots, n_groups)
    filled = starts[:-1].copy()
    order = np.empty(slots.shape[0], np.int32)
    for row in range(slots.shape[0]):
        order[filled[slots[row]]] = row
        filled[slots[row]] += 1
    return order, starts


def _is_sorted(slots: np.ndarray) -> bool:
    return bool(np.all(slots[1:] >= slots[:-1]))


@Threaded
def _category_counts(codes_by_slot, starts, n_codes, n_runs, modes, distinct):
    """Mode (smallest code on ties; -1 when none) and distinct count per slot, written into
    ``modes`` and ``distinct``, from codes laid out slot by slot, in O(rows) time with one
    scratch count per code, reset per group. Runs of slots go to the threads, each with its
    own scratch; a slot's result does not depend on which thread counts it."""
    n_groups = starts.shape[0] - 1
    modes[:] = -1
    distinct[:] = 0
    for run in numba.prange(n_runs):
        scratch = np.zeros(n_codes, np.int32)
        for slot in range(run * n_groups // n_runs, (run + 1) * n_groups // n_runs):
            begin, end = starts[slot], starts[slot + 1]
            for position in range(begin, end):
                code = codes_by_slot[position]
                if code >= 0:
                    if scratch[code] == 0:
                        distinct[slot] += 1
                    scratch[code] += 1
            best = 0
            for position in range(begin, end):
                code = codes_by_slot[position]
                if code >= 0:
                    seen = scratch[code]
                    if seen > best or (seen == best and code < modes[slot]):
                        best = seen
                        modes[slot] = code
            for position in range(begin, end):
                code = codes_by_slot[position]
                if code >= 0:
                    scratch[code] = 0


def _value_codes(values: pl.Series) -> tuple[np.ndarray, pl.Series] | None:
    """Codes ordered like the values (so the smallest code is the smallest value) and the
    code -> value table; None when there are too many distinct values."""
    coder = _value_coder(values)
    if coder is None:
        return None
    encode, table = coder
    return encode(values), table


def _value_coder(values: pl.Series) -> tuple[Callable[[pl.Series], np.ndarray], pl.Series] | None:
    """A function from values (all of them or a part) to int32 codes, -1 for missing, and the
    code -> value table, built from the whole column; None when there are too many values."""
    if values.dtype.is_integer():
        low, high = values.min(), values.max()
        if low is None:
            return (lambda part: np.full(part.len(), -1, np.int32)), values.head(0)
        if high - low < MAX_CODES:
            return ((lambda part: _integer_codes(part, low)),
                    pl.int_range(low, high + 1, eager=True).cast(values.dtype))
    if values.dtype == pl.Categorical:
        return _categorical_coder(values)
    distinct = values.unique().drop_nulls().sort()
    if distinct.len() > MAX_CODES:
        return None
    if values.dtype == pl.String:
        enum = pl.Enum(distinct.to_list())
        return ((lambda part: part.cast(enum).to_physical().cast(pl.Int32).fill_null(-1).to_numpy()),
                distinct)
    numbered = pl.int_range(0, distinct.len(), eager=True, dtype=pl.Int32)
    return ((lambda part: part.replace_strict(distinct, numbered, default=-1,
                                              return_dtype=pl.Int32).to_numpy()), distinct)


def _integer_codes(part: pl.Series, low: int) -> np.ndarray:
    """Integer values as codes ``value - low`` (int32; -1 for missing), in one pass when no
    value is missing (the column is read in place)."""
    if part.null_count() or part.dtype == pl.UInt64:  # numba would subtract UInt64 in floats
        return (part.cast(pl.Int64) - low).fill_null(-1).cast(pl.Int32).to_numpy()
    codes = np.empty(part.len(), np.int32)
    _fill_offsets(part.to_numpy(), low, codes)
    return codes


def _categorical_coder(values: pl.Series) -> tuple[Callable[[pl.Series], np.ndarray], pl.Series] | None:
    """Codes in the order of the category names, from polars' physical codes."""
    present = values.unique().drop_nulls()
    if present.len() > MAX_CODES:
        return None
    if present.len() == 0:
        return (lambda part: np.full(part.len(), -1, np.int32)), present
    names = present.sort()  # lexical order of the names, like the strings they stand for
    rank_of_physical = np.full(int(names.to_physical().max()) + 1, -1, np.int32)
    rank_of_physical[names.to_physical().to_numpy()] = np.arange(names.len(), dtype=np.int32)

    def encode(part: pl.Series) -> np.ndarray:
        codes = rank_of_physical[part.to_physical().fill_null(0).cast(pl.Int64).to_numpy()]
        if part.null_count():
            codes = np.where(part.is_null().to_numpy(), -1, codes)
        return codes

    return encode, names


def group_categories(keys: DenseKeys, values: pl.Series, stats: set[str]) -> dict[str, pl.Series] | None:
    """Mode (ties: smallest value) and distinct count per slot; None when too wide. Codes are
    made a chunk of slots at a time, against one code table for the whole column."""
    coder = _value_coder(values)
    if coder is None:
        return None
    encode, table = coder
    _, starts = keys.grouped()
    modes, distinct = np.empty(keys.n_groups, np.int64), np.empty(keys.n_groups, np.int64)
    for first, end, begin, stop in keys.chunks():
        laid_out_categories(encode(keys.rows_of(values, begin, stop)), starts[first:end + 1] - begin,
                            table.len(), modes[first:end], distinct[first:end])
    return _category_stats(stats, modes, distinct, table, values.dtype)


def laid_out_categories(codes: np.ndarray, starts: np.ndarray, n_codes: int,
                        modes: np.ndarray | None = None, distinct: np.ndarray | None = None
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Mode code (the smallest on ties; -1 without values) and distinct count per slot, from
    int32 codes (-1 missing) laid out slot by slot and ordered like their values: the kernel
    of ``group_categories``, for callers holding codes already (the online path)."""
    n_groups = len(starts) - 1
    modes = np.empty(n_groups, np.int64) if modes is None else modes
    distinct = np.empty(n_groups, np.int64) if distinct is None else distinct
    kernel = _category_counts.on(len(codes))
    runs = 1 if kernel is _category_counts.serial else max(1, min(numba.get_num_threads(),
                                                                   n_groups // 1024))
    kernel(_read_only(np.ascontiguousarray(codes, dtype=np.int32)), starts, max(n_codes, 1), runs,
           modes, distinct)
    return modes, distinct


def array_codes(values: np.ndarray, missing: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The codes ``group_categories`` gives a column (int32, ordered like the values, -1 for a
    missing value: NaN or where ``missing``) and the code -> value table, for the few rows a
    caller holds as a numpy array (one sort; no polars round trip)."""
    valid = ~np.isnan(values) if values.dtype.kind == "f" else np.ones(len(values), bool)
    if missing is not None:
        valid &= ~missing
    table, inverse = np.unique(values[valid], return_inverse=True)
    codes = np.full(len(values), -1, np.int32)
    codes[valid] = inverse
    return codes, table


def masked_series(values: np.ndarray, missing: np.ndarray) -> pl.Series:
    """``values`` as a polars Series without a copy, missing where ``missing`` is true (an
    arrow validity mask over the numpy buffer)."""
    return pl.from_arrow(pa.array(values, mask=missing)) if missing.any() else pl.Series(values)


NUMPY_GATHER_MIN_ROWS = 1 << 16  # below this, one polars call costs less than numpy's per-column steps


def gather_rows(frame: pl.DataFrame, positions: pl.Series) -> pl.DataFrame:
    """``frame``'s rows at ``positions`` (missing where a position is). For long gathers the
    numbers go through numpy, so the result is numpy's memory, given back to the system when
    dropped, where polars' allocator would keep a freed copy (and a later pandas copy beside it)."""
    if positions.len() < NUMPY_GATHER_MIN_ROWS:
        return frame.select(pl.all().gather(positions))
    missing = positions.is_null().to_numpy() if positions.null_count() else None
    at = (positions.fill_null(0) if missing is not None else positions).to_numpy()
    return pl.DataFrame([_gather_column(frame[name], positions, at, missing) for name in frame.columns])


def _gather_column(column: pl.Series, positions: pl.Series, at: np.ndarray,
                   missing: np.ndarray | None) -> pl.Series:
    if not (column.dtype.is_integer() or column.dtype.is_float()):
        return column.gather(positions)
    if column.null_count():
        values, valid = numbers_and_validity(column)
        missing = ~valid[at] if missing is None else missing | ~valid[at]
    else:
        values = column.to_numpy()  # a view
    gathered = values[at]
    return (pl.Series(gathered) if missing is None else masked_series(gathered, missing)).alias(column.name)


def numbers_and_validity(column: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """A numeric column's values (a read-only view of its buffer, whatever lies under a
    missing value) and whether each is present."""
    if not column.null_count():
        return column.to_numpy(), np.ones(column.len(), dtype=bool)
    arrow = column.to_arrow()
    width = np.dtype(arrow.type.to_pandas_dtype())
    values = np.frombuffer(arrow.buffers()[1], dtype=width, count=len(arrow), offset=arrow.offset * width.itemsize)
    if arrow.buffers()[0] is None:
        return values, np.ones(len(arrow), dtype=bool)
    bits = np.unpackbits(np.frombuffer(arrow.buffers()[0], dtype=np.uint8), bitorder="little")
    return values, bits[arrow.offset:arrow.offset + len(arrow)].astype(bool)


def _category_stats(stats, modes, distinct, table, dtype) -> dict[str, pl.Series]:
    """Mode values (missing where a group has none) and distinct counts from their codes;
    numeric modes are picked in numpy and marked missing by a validity mask (no copies)."""
    out: dict[str, pl.Series] = {"nunique": pl.Series(distinct)}
    if "mode" in stats:
        found = modes >= 0
        if not table.len():
            out["mode"] = pl.Series([None] * len(modes), dtype=dtype)
        elif table.dtype.is_numeric() and not table.null_count():
            out["mode"] = masked_series(table.to_numpy()[np.where(found, modes, 0)], ~found)
        else:
            out["mode"] = table.gather(np.where(found, modes, 0)).set(pl.Series(~found), None)
    return {name: out[name] for name in stats}


@Threaded
def _positions(keys, valid, row_of_slot, low, missing):
    """Row of the parent whose index equals each key (``missing`` where none)."""
    n_slots = row_of_slot.shape[0]
    out = np.empty(keys.shape[0], row_of_slot.dtype)
    for i in numba.prange(keys.shape[0]):
        offset = keys[i] - low
        if valid[i] and 0 <= offset < n_slots:
            out[i] = row_of_slot[offset]
        else:
            out[i] = missing
    return out


def parent_positions(parent_keys: DenseKeys, parent_rows: int, child_keys: pl.Series) -> pl.Series:
    """For each child key, the row number of its parent (missing where there is none), in
    polars' row-index type so that gathering with it needs no conversion."""
    index_type = np.uint64 if pl.get_index_type() == pl.UInt64 else np.uint32
    missing = np.iinfo(index_type).max  # never a row number: polars' tables stay below it
    row_of_slot = np.full(parent_keys.n_groups, missing, dtype=index_type)
    row_of_slot[parent_keys.slots] = np.arange(parent_rows, dtype=index_type)
    valid = child_keys.is_not_null().to_numpy()
    if child_keys.dtype == pl.UInt64:  # numba would subtract in floats
        child_keys = child_keys.cast(pl.Int64)
    keys = _read_only((child_keys.fill_null(0) if child_keys.null_count() else child_keys).to_numpy())
    positions = _positions.on(len(keys))(keys, valid, row_of_slot, parent_keys.low, missing)
    absent = np.flatnonzero(positions == missing)
    series = pl.Series(positions)  # wraps the array: no copy
    return series.scatter(absent, None) if absent.size else series


def all_distinct_slots(keys: DenseKeys) -> bool:
    """Whether no two keys share a slot (each key appears once)."""
    return _no_repeats(keys.slots, keys.n_groups)


@numba.njit(cache=True, nogil=True)
def _no_repeats(slots, n_groups):
    seen = np.zeros(n_groups, np.bool_)
    for slot in slots:
        if seen[slot]:
            return False
        seen[slot] = True
    return True


# --- as-of sweeps: statistics of every prefix that a cutoff asks for ---------------------------

@Threaded
def _sweep_moments(values, order, times, starts, pair_times, pair_starts, pair_order, inclusive):
    """Moments of each slot's rows up to each of its cutoffs, in one pass per slot.

    Rows are read through ``order``, slot by slot in time order (``starts`` delimits the
    slots; no reordered copy of the values is made), and so are the pairs (``pair_starts``;
    ``pair_order`` gives each one's output position). Running sums
    are updated row by row (Welford/Pébay for the centred powers), so many cutoffs on one
    slot cost one pass over its rows, not one per cutoff. Infinities are counted apart, as
    in ``_segment_moments``. Slots run in parallel; a slot's result does not depend on the
    thread count.
    """
    n_pairs = pair_times.shape[0]
    rows = np.zeros(n_pairs, np.int64)
    count = np.zeros(n_pairs, np.int64)
    total = np.zeros(n_pairs, np.float64)
    mean = np.full(n_pairs, np.nan)
    low = np.full(n_pairs, np.inf)
    high = np.full(n_pairs, -np.inf)
    m2 = np.zeros(n_pairs, np.float64)
    m3 = np.zeros(n_pairs, np.float64)
    for slot in numba.prange(pair_starts.shape[0] - 1):
        position, end = starts[slot], starts[slot + 1]
        n, above, below, acc, centre, s2, s3, lo, hi = 0, 0, 0, 0.0, 0.0, 0.0, 0.0, np.inf, -np.inf
        for k in range(pair_starts[slot], pair_starts[slot + 1]):
            cutoff = pair_times[k]
            while position < end and (times[position] <= cutoff if inclusive else times[position] < cutoff):
                value = values[order[position]]
                if not np.isnan(value):
                    lo = min(lo, value)
                    hi = max(hi, value)
                    if value == np.inf:
                        above += 1
                    elif value == -np.inf:
                        below += 1
                    else:
                        before = n
                        n += 1
                        acc += value
                        delta = value - centre
                        step = delta / n
                        term = delta * step * before
                        centre += step
                        s3 += term * step * (n - 2) - 3.0 * step * s2
                        s2 += term
                position += 1
            out = pair_order[k]
            rows[out] = position - starts[slot]
            count[out], total[out], low[out], high[out], m2[out], m3[out] = n + above + below, acc, lo, hi, s2, s3
            if above or below:
                total[out] = np.nan if above and below else (np.inf if above else -np.inf)
                mean[out], m2[out], m3[out] = total[out], np.nan, np.nan
            elif n > 0:
                # the plain sum over the count, as the group-by kernel computes it: the
                # running centre drifts when large values cancel (0, -1e150, 1e150: not 0)
                mean[out] = acc / n
    return rows, count, total, mean, low, high, m2, m3


@Threaded
def _sweep_integers(values, valid, order, times, starts, pair_times, pair_starts, pair_order, inclusive):
    """Exact integer sum, min and max of each slot's rows up to each of its cutoffs, with
    the number of values and whether the sum left the int64 range."""
    n_pairs = pair_times.shape[0]
    count = np.zeros(n_pairs, np.int64)
    total = np.zeros(n_pairs, np.int64)
    low = np.zeros(n_pairs, np.int64)
    high = np.zeros(n_pairs, np.int64)
    overflow = np.zeros(n_pairs, np.bool_)
    for slot in numba.prange(pair_starts.shape[0] - 1):
        position, end = starts[slot], starts[slot + 1]
        n, acc, wrapped = 0, np.int64(0), False
        lo, hi = np.iinfo(np.int64).max, np.iinfo(np.int64).min
        for k in range(pair_starts[slot], pair_starts[slot + 1]):
            cutoff = pair_times[k]
            while position < end and (times[position] <= cutoff if inclusive else times[position] < cutoff):
                row = order[position]
                if valid[row]:
                    value = values[row]
                    wrapped = wrapped or _wraps(acc, value)
                    acc += value
                    lo = min(lo, value)
                    hi = max(hi, value)
                    n += 1
                position += 1
            out = pair_order[k]
            count[out], total[out], low[out], high[out], overflow[out] = n, acc, lo, hi, wrapped
    return count, total, low, high, overflow


@Threaded
def _sweep_categories(codes, order, times, starts, pair_times, pair_starts, pair_order, inclusive,
                      n_codes, n_runs):
    """Mode (smallest code on ties) and distinct count (-1 without rows) of each slot's rows
    up to each cutoff.

    Counts only grow along a slot, so the running mode stays the smallest code among those
    with the highest count when each increment is compared with it. Runs of slots go to the
    threads, each with its own scratch counts.
    """
    n_pairs = pair_times.shape[0]
    n_slots = pair_starts.shape[0] - 1
    modes = np.full(n_pairs, -1, np.int64)
    distinct = np.zeros(n_pairs, np.int64)
    for run in numba.prange(n_runs):
        scratch = np.zeros(n_codes, np.int32)
        for slot in range(run * n_slots // n_runs, (run + 1) * n_slots // n_runs):
            begin, end = starts[slot], starts[slot + 1]
            position, best, mode, seen = begin, 0, -1, 0
            for k in range(pair_starts[slot], pair_starts[slot + 1]):
                cutoff = pair_times[k]
                while position < end and (times[position] <= cutoff if inclusive else times[position] < cutoff):
                    code = codes[order[position]]
                    if code >= 0:
                        if scratch[code] == 0:
                            seen += 1
                        scratch[code] += 1
                        tally = scratch[code]
                        if tally > best or (tally == best and code < mode):
                            best, mode = tally, code
                    position += 1
                # no rows at all: no distinct count either (missing, as for a parent without rows)
                modes[pair_order[k]], distinct[pair_order[k]] = mode, seen if position > begin else -1
            for row in range(begin, position):
                if codes[order[row]] >= 0:
                    scratch[codes[order[row]]] = 0
    return modes, distinct


@Threaded
def _sort_slots_by_time(order, times, starts):
    """Within each slot's run of ``order``, order the rows by time: an insertion sort in
    place for the short runs a parent usually has (nearly free on runs already in order),
    a merge sort for long ones. Slots are independent, so they are shared among threads."""
    out = order.astype(np.int64)
    for slot in numba.prange(starts.shape[0] - 1):
        begin, end = starts[slot], starts[slot + 1]
        if end - begin > 64:
            run = out[begin:end].copy()
            out[begin:end] = run[np.argsort(times[run], kind="mergesort")]
            continue
        for position in range(begin + 1, end):
            row = out[position]
            moment = times[row]
            back = position - 1
            while back >= begin and times[out[back]] > moment:
                out[back + 1] = out[back]
                back -= 1
            out[back + 1] = row
    return out


@dataclass
class AsOfLayout:
    """Rows laid out by slot in time order, and cutoff pairs sorted by (slot, time)."""

    order: np.ndarray  # row numbers in layout order
    times: np.ndarray  # their times (int64)
    starts: np.ndarray  # each slot's first position, and the end
    pair_times: np.ndarray  # the cutoffs, laid out the same way
    pair_starts: np.ndarray
    pair_order: np.ndarray  # output position of each laid-out pair
    inclusive: bool

    @property
    def rows(self) -> int:
        """The work of a sweep, rows and pairs, which decides whether it runs on threads."""
        return len(self.order) + len(self.pair_order)


def as_of_layout(row_slots: np.ndarray, row_times: np.ndarray, n_slots: int, pair_slots: np.ndarray,
                 pair_times: np.ndarray, inclusive: bool) -> AsOfLayout:
    """Lay rows out for the sweeps: by slot (counting sort), then by time within a slot."""
    by_slot, starts = _rows_by_slot(row_slots, n_slots)
    order = _sort_slots_by_time.on(len(by_slot))(by_slot, row_times, starts)
    pairs_by_slot, pair_starts = _rows_by_slot(pair_slots, n_slots)
    pair_order = _sort_slots_by_time.on(len(pairs_by_slot))(pairs_by_slot, pair_times, pair_starts)
    return AsOfLayout(order, row_times[order], starts, pair_times[pair_order], pair_starts, pair_order,
                      inclusive)


def as_of_moments(layout: AsOfLayout, values: pl.Series, stats: set[str]) -> dict[str, np.ndarray | pl.Series]:
    """``group_moments`` for each cutoff pair: statistics of its slot's rows up to its time
    (sum, min and max of an integer column exact, as there)."""
    exact = stats & INTEGER_STATS if _is_integer(values) else set()
    result: dict[str, np.ndarray | pl.Series] = {}
    if stats - exact:
        rows, count, total, mean, low, high, m2, m3 = _sweep_moments.on(layout.rows)(
            _read_only(_as_numbers(values, stats)), layout.order, layout.times, layout.starts,
            layout.pair_times, layout.pair_starts, layout.pair_order, layout.inclusive)
        result = _moment_stats(stats - exact, rows, count, total, mean, low, high, m2, m3)
    if exact:
        numbers, valid = _integers(values)
        count, *integers = _sweep_integers.on(layout.rows)(
            numbers, valid, layout.order, layout.times, layout.starts, layout.pair_times,
            layout.pair_starts, layout.pair_order, layout.inclusive)
        result.update(_integer_stats(exact, count, *integers, values.name))
    return result


@Threaded
def _sweep_extremes(own_times, ranks, order, times, starts, pair_times, pair_starts, pair_order, inclusive):
    """For each pair, the rows with the smallest and the largest (own time, rank) among its
    slot's rows known by its cutoff (-1 where none). Rows enter in the order they become
    known, which need not be their own time's order (a row waits for its path)."""
    n_pairs = pair_times.shape[0]
    first = np.full(n_pairs, -1, np.int64)
    last = np.full(n_pairs, -1, np.int64)
    for slot in numba.prange(pair_starts.shape[0] - 1):
        position, end = starts[slot], starts[slot + 1]
        low, high = -1, -1
        for k in range(pair_starts[slot], pair_starts[slot + 1]):
            cutoff = pair_times[k]
            while position < end and (times[position] <= cutoff if inclusive else times[position] < cutoff):
                row = order[position]
                key = (own_times[row], ranks[row])
                if low < 0 or key < (own_times[low], ranks[low]):
                    low = row
                if high < 0 or key > (own_times[high], ranks[high]):
                    high = row
                position += 1
            out = pair_order[k]
            first[out], last[out] = low, high
    return first, last


def as_of_extremes(layout: AsOfLayout, own_times: np.ndarray, ranks: np.ndarray) -> dict[str, np.ndarray]:
    """``first`` and ``last``: for each cutoff pair, the row number of its slot's earliest and
    latest row known by then, by (``own_times``, ``ranks``); -1 where none is."""
    first, last = _sweep_extremes.on(layout.rows)(own_times, ranks, layout.order, layout.times, layout.starts,
                                  layout.pair_times, layout.pair_starts, layout.pair_order, layout.inclusive)
    return {"first": first, "last": last}


def as_of_categories(layout: AsOfLayout, values: pl.Series, stats: set[str]) -> dict[str, pl.Series] | None:
    """``group_categories`` for each cutoff pair; None when there are too many values."""
    coded = _value_codes(values)
    if coded is None:
        return None
    codes, table = coded
    n_slots = layout.pair_starts.shape[0] - 1
    kernel = _sweep_categories.on(layout.rows)
    runs = 1 if kernel is _sweep_categories.serial else max(1, min(numba.get_num_threads(), n_slots // 1024))
    modes, distinct = kernel(_read_only(codes), layout.order, layout.times, layout.starts,
                                        layout.pair_times, layout.pair_starts, layout.pair_order,
                                        layout.inclusive, max(table.len(), 1), runs)
    counted = _category_stats(stats, modes, distinct, table, values.dtype)
    if "nunique" in counted:
        counted["nunique"] = pl.Series(np.where(distinct >= 0, distinct, np.nan)).fill_nan(None).cast(pl.Int64)
    return counted


@numba.njit(cache=True, nogil=True)
def _reach_known(keys, key_valid, times, time_valid, row_of_slot, low, pair_cutoffs, inclusive,
                 pair_floors, windowed, check_time):
    """Child rows whose parent has a pair and whose time is known at that pair's cutoff."""
    n = keys.shape[0]
    children = np.empty(n, np.int64)
    pairs = np.empty(n, np.int64)
    found = 0
    for row in range(n):
        if not key_valid[row]:
            continue
        offset = keys[row] - low
        if offset < 0 or offset >= row_of_slot.shape[0]:
            continue
        pair = row_of_slot[offset]
        if pair < 0:
            continue
        if check_time:
            if not time_valid[row]:
                continue
            cutoff, moment = pair_cutoffs[pair], times[row]
            if moment > cutoff or (moment == cutoff and not inclusive):
                continue
            if windowed and moment <= pair_floors[pair]:
                continue
        children[found] = row
        pairs[found] = pair
        found += 1
    return children[:found], pairs[:found]


def reach_known(pair_keys: DenseKeys, n_pairs: int, child_keys: pl.Series, child_times: pl.Series | None,
                pair_cutoffs: np.ndarray, inclusive: bool,
                pair_floors: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Match child rows to their parent's only pair, keeping those known at its cutoff
    (times and cutoffs as int64 ticks; with ``pair_floors``, rows at or below their pair's
    floor, outside its training window, are dropped too). Returns (child row numbers, pair
    row numbers)."""
    row_of_slot = np.full(pair_keys.n_groups, -1, dtype=np.int64)
    row_of_slot[pair_keys.slots] = np.arange(n_pairs)
    keys, key_valid = numbers_and_validity(child_keys)
    keys = keys.astype(np.int64, copy=False)  # one compiled kernel for every key type
    if child_times is None:
        times, time_valid = np.zeros(1, np.int64), np.ones(1, np.bool_)
    else:
        times, time_valid = numbers_and_validity(child_times)
    windowed = pair_floors is not None
    floors = pair_floors.astype(np.int64, copy=False) if windowed else np.zeros(1, np.int64)
    return _reach_known(keys, key_valid, times.astype(np.int64, copy=False), time_valid, row_of_slot,
                        pair_keys.low, pair_cutoffs.astype(np.int64, copy=False), inclusive, floors,
                        windowed, child_times is not None)
