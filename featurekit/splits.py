"""Split cutoff rows by time: train on the past, validate and test on the future.

Random splits of rows with cutoff times leak: a model trained on March rows and tested on
February rows has seen the future of its test set. Here every boundary is a moment, all rows
at one moment fall on the same side, and an optional ``gap`` (at least the label window)
drops the training rows whose labels would look into the validation or test period.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import polars as pl

from featurekit.arguments import check_count, check_text
from featurekit.engine.point_in_time import parse_window
from featurekit.errors import FeaturekitError


class TimeSplit(NamedTuple):
    """The rows of each part, in the order they came."""

    train: Any
    validation: Any
    test: Any


def time_split(cutoffs: Any, *, test_size: float | None = 0.2, validation_size: float = 0.0,
               test_start: Any = None, validation_start: Any = None, gap: Any = None,
               time_column: str = "time") -> TimeSplit:
    """Train / validation / test by time.

    Boundaries are given as moments (``test_start``, ``validation_start``) or as shares of the
    rows (``test_size``, ``validation_size``; rounded to a whole moment, since rows at one moment
    never straddle a boundary). Each part holds the rows with ``time`` in
    ``[its start, next start)``; with ``gap`` ("30d") a part also loses its rows within
    ``gap`` before the next part's start. ``cutoffs`` is a pandas or polars frame with a
    ``time_column`` (or, for pandas, an index level of that name, as ``fk.dfs`` returns);
    the parts are of the same kind. An empty part is allowed for validation only.

    Examples
    --------
    >>> import pandas as pd, featurekit as fk
    >>> rows = pd.DataFrame({"id": range(10), "time": pd.date_range("2021-01-01", periods=10)})
    >>> train, validation, test = fk.time_split(rows, test_size=0.3, gap="1d")
    >>> len(train), len(validation), len(test)
    (6, 0, 3)
    """
    check_text("time_column", time_column)
    for name, share in (("test_size", test_size), ("validation_size", validation_size)):
        if share is not None and (isinstance(share, bool) or not isinstance(share, numbers.Real)):
            raise FeaturekitError(f"{name} must be a share between 0 and 1, got {share!r}. "
                                  f"Fix: pass e.g. {name}=0.2")
    times = _times(cutoffs, time_column)
    order = np.sort(times)
    if test_start is None:
        if test_size is None or not 0 < test_size < 1:
            raise FeaturekitError(f"test_size must be between 0 and 1, got {test_size!r}. "
                                  "Fix: pass e.g. test_size=0.2, or test_start=<a moment>")
        test_start = _moment_at_share(order, 1 - test_size)
    else:
        test_start = _as_moment(test_start, "test_start")
    if validation_start is None and validation_size:
        if not 0 < validation_size < 1 or validation_size + (test_size or 0) >= 1:
            raise FeaturekitError(f"validation_size {validation_size!r} leaves no training rows. "
                                  "Fix: make validation_size + test_size smaller than 1")
        share_before_test = np.searchsorted(order, test_start) / len(order)
        validation_start = _moment_at_share(order, share_before_test - validation_size)
    elif validation_start is not None:
        validation_start = _as_moment(validation_start, "validation_start")
    else:
        validation_start = test_start
    if validation_start > test_start:
        raise FeaturekitError(f"validation_start {validation_start} is after test_start {test_start}. "
                              "Fix: validation comes before test")
    margin = np.timedelta64(parse_window(gap, "gap"), "us") if gap is not None else np.timedelta64(0, "us")
    train = times < validation_start - margin
    validation = (times >= validation_start) & (times < test_start - margin)
    test = times >= test_start
    parts = [_take(cutoffs, mask) for mask in (train, validation, test)]
    for name, mask in (("train", train), ("test", test)):
        if not mask.any():
            raise FeaturekitError(f"the {name} part is empty (times run from {order[0]} to {order[-1]}). "
                                  "Fix: move the boundary or make the gap smaller")
    return TimeSplit(*parts)


class CutoffTimeSplit:
    """A scikit-learn splitter for rows with cutoff times: ``n_splits`` folds, each testing on a
    later block of moments and training only on rows before it (minus ``gap``).

    Folds follow scikit-learn's ``TimeSeriesSplit`` (expanding training window), but over the
    rows' cutoff times rather than their positions, so rows need not be sorted and rows at
    one moment are never split. ``X`` (or ``groups``, if given) supplies the times: a
    ``time_column`` of a frame, a pandas index level of that name, or an array of times.

    Examples
    --------
    >>> import numpy as np, pandas as pd, featurekit as fk
    >>> rows = pd.DataFrame({"time": pd.date_range("2021-01-01", periods=8).repeat(2)})
    >>> folds = list(fk.CutoffTimeSplit(n_splits=3).split(rows))
    >>> [(len(train), len(test)) for train, test in folds]
    [(4, 4), (8, 4), (12, 4)]
    """

    def __init__(self, n_splits: int = 5, gap: Any = None, time_column: str = "time"):
        self.n_splits = n_splits
        self.gap = gap
        self.time_column = time_column

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        return self.n_splits

    def split(self, X: Any, y: Any = None, groups: Any = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield (train positions, test positions) per fold; every training time is before
        every test time of its fold (by more than ``gap``)."""
        check_count("n_splits", self.n_splits, low=2, optional=False)
        check_text("time_column", self.time_column)
        if self.n_splits < 2:
            raise FeaturekitError(f"n_splits must be at least 2, got {self.n_splits}. Fix: pass n_splits=2 or more")
        times = _times(groups if groups is not None else X, self.time_column)
        moments, rows_at = np.unique(times, return_counts=True)
        if len(moments) < self.n_splits + 1:
            raise FeaturekitError(f"{len(moments)} distinct cutoff times cannot make {self.n_splits} "
                                  "folds. Fix: lower n_splits")
        margin = np.timedelta64(parse_window(self.gap, "gap"), "us") if self.gap is not None else None
        edges = _block_starts(rows_at, self.n_splits)
        for fold, start in enumerate(edges):
            stop = edges[fold + 1] if fold + 1 < len(edges) else len(moments)
            first, after = moments[start], moments[stop] if stop < len(moments) else None
            test = times >= first if after is None else (times >= first) & (times < after)
            train = times < (first - margin if margin is not None else first)
            if not train.any():
                raise FeaturekitError(f"fold {fold} has no training rows once the gap is removed. "
                                      "Fix: make the gap smaller or use fewer folds")
            yield np.flatnonzero(train), np.flatnonzero(test)


def _block_starts(rows_at: np.ndarray, n_splits: int) -> list[int]:
    """Where each test block starts among the sorted moments: ``n_splits + 1`` blocks holding
    about equal numbers of rows (the first only trains), none of them empty."""
    share_through = np.cumsum(rows_at) / rows_at.sum()
    starts, previous = [], 0
    for fold in range(n_splits):
        start = int(np.searchsorted(share_through, (fold + 1) / (n_splits + 1), side="left")) + 1
        start = min(max(start, previous + 1), len(rows_at) - n_splits + fold)
        starts.append(start)
        previous = start
    return starts


def _times(data: Any, column: str) -> np.ndarray:
    """The cutoff times of ``data`` as datetime64[us] (timezone-aware ones in UTC)."""
    if isinstance(data, pl.LazyFrame):
        data = data.collect()
    if isinstance(data, pl.DataFrame):
        if column not in data.columns:
            raise FeaturekitError(f"no time column {column!r} among {data.columns}. Fix: pass time_column=")
        series = data[column]
        if series.dtype == pl.String:
            try:
                series = series.str.to_datetime(time_unit="us")
            except pl.exceptions.PolarsError:
                raise FeaturekitError(f"the cutoff times in {column!r} do not parse as times. "
                                      "Fix: give datetimes or ISO 8601 strings") from None
        if isinstance(series.dtype, pl.Datetime) and series.dtype.time_zone is not None:
            series = series.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        values = series.to_numpy()
    elif isinstance(data, pd.DataFrame):
        if column in data.columns:
            values = data[column]
        elif column in (data.index.names or []):
            values = data.index.get_level_values(column)
        else:
            raise FeaturekitError(f"no time column or index level {column!r} among {list(data.columns)}. "
                                  "Fix: pass time_column=")
        if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            raise FeaturekitError(f"the cutoff times in {column!r} are numbers, not datetimes. Fix: "
                                  "split rows whose cutoff times are datetimes")
        try:
            values = pd.DatetimeIndex(pd.to_datetime(values))
        except (ValueError, TypeError) as error:
            raise FeaturekitError(f"the cutoff times in {column!r} do not parse as times ({error}). "
                                  "Fix: give datetimes or ISO 8601 strings") from None
        if values.tz is not None:
            values = values.tz_convert("UTC").tz_localize(None)
        values = np.asarray(values)
    else:
        raw = np.asarray(data)
        if raw.dtype.kind in "biuf":  # pandas would read numbers as nanoseconds since 1970
            raise FeaturekitError("the cutoff times given are numbers, not datetimes. Fix: pass "
                                  "datetimes, or a frame with a datetime time column")
        values = np.asarray(pd.to_datetime(raw))
    if not np.issubdtype(np.asarray(values).dtype, np.datetime64):
        raise FeaturekitError(f"the cutoff times in {column!r} are not datetimes. Fix: split rows "
                              "whose cutoff times are datetimes (numeric steps are not split here)")
    values = values.astype("datetime64[us]")
    if np.isnat(values).any():
        raise FeaturekitError(f"{int(np.isnat(values).sum())} cutoff times are missing in {column!r}. "
                              "Fix: drop those rows")
    if len(values) == 0:
        raise FeaturekitError("there are no rows to split. Fix: pass a non-empty frame")
    return values


def _moment_at_share(order: np.ndarray, share: float) -> np.datetime64:
    position = min(max(int(round(share * len(order))), 1), len(order) - 1)
    return order[position]


def _as_moment(value: Any, what: str) -> np.datetime64:
    try:
        moment = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise FeaturekitError(f"{what} {value!r} is not a time. Fix: pass a datetime or ISO 8601 string") from None
    if moment.tz is not None:
        moment = moment.tz_convert("UTC").tz_localize(None)
    return np.datetime64(moment.to_datetime64(), "us")


def _take(data: Any, mask: np.ndarray) -> Any:
    if isinstance(data, pl.LazyFrame):
        data = data.collect()
    if isinstance(data, pl.DataFrame):
        return data.filter(pl.Series(mask))
    if isinstance(data, pd.DataFrame):
        return data[mask]
    return np.asarray(data)[mask]


__all__ = ["CutoffTimeSplit", "TimeSplit", "time_split"]
