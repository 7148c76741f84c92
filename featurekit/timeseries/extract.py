"""``extract``: tsfresh-compatible feature extraction from long or wide time-series frames.

The input is validated, sorted once by (kind, id, sort) into a contiguous float64 buffer
with segment offsets, cut into windows (index pairs, never copies) and handed to the numba
kernel. Frames of either library come in; the output follows the input's library.

Values must be finite or infinite numbers: NaN raises an error, as in tsfresh (impute or
drop missing values first); infinities are passed to the calculators unchanged.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
from tqdm import tqdm

from featurekit.errors import FeaturekitError, schema_error
from featurekit.primitives import timeseries as catalogue
from featurekit.timeseries.inputs import (
    TABLE,
    TIME_COLUMN,
    check_keys,
    check_roles,
    check_values,
    read_frame,
    require,
    value_columns,
)
from featurekit.timeseries.kernels import run_plan
from featurekit.timeseries.settings import Plan, Settings, build_plan
from featurekit.timeseries.windows import Expanding, Rolling, Tumbling, whole_series

WINDOW_END = "window_end"


DUPLICATE_POLICIES = ("raise", "mean", "median", "sum", "min", "max", "first", "last")


def _check_duplicates(ordered: pl.DataFrame, keys: list[str], kind: str | None) -> None:
    """Raise if (id, sort) pairs repeat; ``ordered`` is sorted by ``keys``, so repeats are
    adjacent and found in one linear pass without a hash table."""
    repeats = None
    for key in keys:
        same = ordered[key].eq_missing(ordered[key].shift(1)).fill_null(False)
        repeats = same if repeats is None else repeats & same
    extra_rows = int(repeats.sum()) if repeats is not None else 0
    if extra_rows:
        pairs = int((repeats & ~repeats.shift(1).fill_null(False)).sum())
        where = f" in kind {kind!r}" if kind is not None else ""
        raise schema_error(
            TABLE,
            keys[-1],
            f"{pairs} duplicate ({', '.join(keys)}) pairs{where} "
            f"({pairs + extra_rows} rows involved)",
            "pass duplicates='mean' (or 'median', 'sum', 'min', 'max', 'first', 'last') "
            "to aggregate them, or deduplicate the frame first",
        )


def _segments(
    frame: pl.DataFrame, column_id: str, column_sort: str | None, value: str
) -> tuple[np.ndarray, pl.Series, np.ndarray | None, np.ndarray]:
    """Values buffer, id per segment, sort value per row and segment offsets (sorted frame)."""
    ids = frame[column_id]
    buffer = frame[value].cast(pl.Float64).to_numpy()
    boundaries = np.flatnonzero(ids.ne_missing(ids.shift(1)).fill_null(True).to_numpy())
    offsets = np.append(boundaries, frame.height).astype(np.int64)
    sort_values = frame[column_sort].to_numpy() if column_sort is not None else None
    return (
        np.ascontiguousarray(buffer, dtype=np.float64),
        ids.gather(boundaries),
        sort_values,
        offsets,
    )


def extract(
    df: Any,
    column_id: str,
    column_sort: str | None = None,
    column_kind: str | None = None,
    column_value: str | None = None,
    settings: Settings | None = None,
    window: Rolling | Expanding | Tumbling | None = None,
    kind_settings: Mapping[str, Settings] | None = None,
    duplicates: str = "raise",
    *,
    default_fc_parameters: Settings | None = None,
    kind_to_fc_parameters: Mapping[str, Settings] | None = None,
    n_jobs: int | None = None,
    impute_function: Callable[[pd.DataFrame], Any] | None = None,
    disable_progressbar: bool = False,
    show_warnings: bool = False,
    chunksize: int | None = None,
    profile: bool = False,
    profiling_filename: str | None = None,
    profiling_sorting: str | None = None,
    distributor: Any = None,
    pivot: bool = True,
    client: Any = None,
    partitions: int | str | None = None,
) -> pd.DataFrame | pl.DataFrame:
    """Extract tsfresh's features for every id (and window), named as tsfresh names them.

    ``df`` is long (``column_kind`` and ``column_value``) or wide (every column other than
    id and sort is a kind). ``settings`` is "minimal", "efficient" (the default),
    "comprehensive" or a dict ``{calculator: [parameter dicts] or None}``;
    ``kind_settings`` overrides it per kind.
    Without ``window`` there is one row per id; with one, one row per (id, window end),
    where the end is the sort value (or the row number) of the window's last row.
    Repeated (id, sort) pairs raise an error unless ``duplicates`` names how to aggregate
    their values ("mean", "median", "sum", "min", "max", "first" or "last").

    tsfresh's ``extract_features`` keywords are accepted, so a tsfresh call runs unchanged:

    - ``default_fc_parameters`` and ``kind_to_fc_parameters`` are tsfresh's names for
      ``settings`` and ``kind_settings``, with tsfresh's rule that a kind missing from
      ``kind_to_fc_parameters`` gets no features when no default settings are given. Passing
      both names of the same thing is an error.
    - ``n_jobs`` limits the kernel's threads (0 or 1: one thread; None or -1: all).
    - ``impute_function`` is called on the (pandas) result, as tsfresh does, e.g. with
      :func:`featurekit.timeseries.impute`.
    - ``disable_progressbar=True`` hides the progress bar over windows, which otherwise
      appears on a terminal (stderr) when the work lasts more than two seconds.
    - ``show_warnings`` and ``chunksize`` are accepted and have no effect (no warning to
      hide, no chunking); so are ``profiling_filename`` and ``profiling_sorting`` (used by
      tsfresh only when profiling).
    - ``profile=True``, a ``distributor`` and ``pivot=False`` raise an error: use a profiler
      of your own, partition the ids yourself (e.g. with Dask) or melt the result.

    Partitions of series ids (see the guide page on scale):

    - ``partitions`` (a count, or "auto") extracts the ids in that many contiguous runs, one
      after another; ``df`` may then be a parquet path (file, glob or dataset folder) that is
      read one partition's ids at a time, so a table larger than memory fits.
    - ``client`` (a ``dask.distributed.Client``) runs the partitions as tasks on its
      cluster (``partitions`` defaults to "auto" then); needs ``pip install 'featurekit[dask]'``.

    The result is the one a single call on the whole input gives.

    One difference: with neither settings name given, featurekit extracts the "efficient"
    preset, tsfresh the comprehensive one; pass ``default_fc_parameters="comprehensive"``
    (or tsfresh's ``ComprehensiveFCParameters()``) for tsfresh's default.

    >>> import pandas as pd
    >>> frame = pd.DataFrame({"id": [1, 1, 1], "time": [0, 1, 2], "value": [1.0, 2.0, 4.0]})
    >>> extract(frame, column_id="id", column_sort="time", settings={"mean": None})
    ... # doctest: +NORMALIZE_WHITESPACE
        value__mean
    id
    1      2.333333
    >>> extract(frame, column_id="id", column_sort="time",
    ...         default_fc_parameters={"maximum": None}, disable_progressbar=True)
    ... # doctest: +NORMALIZE_WHITESPACE
        value__maximum
    id
    1              4.0
    """
    _refuse_unsupported(profile, distributor, pivot)
    settings, kind_settings = _settings_from_either_name(
        settings, kind_settings, default_fc_parameters, kind_to_fc_parameters
    )
    if not isinstance(column_id, str | int):
        raise FeaturekitError(
            f"column_id must name a column, got a {type(column_id).__name__}. Fix: pass the "
            "settings by keyword (default_fc_parameters=...), not in tsfresh's argument "
            "positions"
        )
    # accepted for tsfresh's callers; the profiling names matter only with profile=True
    del show_warnings, chunksize, profiling_filename, profiling_sorting
    if client is not None or partitions is not None:
        from featurekit.scale.series import ExtractOptions, extract_partitioned

        options = ExtractOptions(column_id, column_sort, column_kind, column_value, settings,
                                 window, kind_settings, duplicates, n_jobs)
        result = extract_partitioned(df, options, client=client, partitions=partitions,
                                     verbose=False if disable_progressbar else None)
    else:
        with _kernel_threads(n_jobs), _progress_bar(disable_progressbar) as progress:
            result = _extract(
                df, column_id, column_sort, column_kind, column_value, settings, window,
                kind_settings, duplicates, progress,
            )
    if impute_function is not None and not callable(impute_function):
        raise FeaturekitError(f"impute_function must be a function, got {impute_function!r}. "
                              "Fix: pass e.g. impute_function=fk.timeseries.impute")
    if impute_function is not None:
        keys = [column_id]
        if window is not None:
            keys.append(column_sort if column_sort is not None else WINDOW_END)
        result = _impute_with(impute_function, result, keys)
    return result


#: Seconds of work before the progress bar shows (tqdm's ``delay``): short calls stay quiet.
PROGRESS_DELAY = 2.0


def _on_terminal() -> bool:
    """Whether stderr is a terminal (a progress bar in a log file or a pipe is noise)."""
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


@contextmanager
def _progress_bar(disabled: bool) -> Iterator[tqdm | None]:
    """A tqdm bar over windows, or None when disabled or stderr is not a terminal."""
    if disabled or not _on_terminal():
        yield None
        return
    bar = tqdm(total=0, unit=" windows", desc="featurekit", delay=PROGRESS_DELAY,
               file=sys.stderr, leave=False)
    try:
        yield bar
    finally:
        bar.close()


def _refuse_unsupported(profile: bool, distributor: Any, pivot: bool) -> None:
    """tsfresh keywords whose behaviour featurekit does not offer: an error saying what to do."""
    if profile:
        raise FeaturekitError(
            "profile=True is tsfresh's own profiler; featurekit has none. Fix: leave profile "
            "out and run the call under cProfile (python -m cProfile) instead"
        )
    if distributor is not None:
        raise FeaturekitError(
            "featurekit runs its kernel on threads and takes no distributor. Fix: leave "
            "distributor out; to spread work over machines, pass a Dask client "
            "(client=Client(...)), which runs partitions of the ids as tasks"
        )
    if pivot is not True:
        raise FeaturekitError(
            "pivot=False (tsfresh's list of (id, name, value) rows) is not offered. Fix: leave "
            "pivot out and melt the returned frame if you need the long form"
        )


def _settings_from_either_name(
    settings: Settings | None,
    kind_settings: Mapping[str, Settings] | None,
    default_fc_parameters: Settings | None,
    kind_to_fc_parameters: Mapping[str, Settings] | None,
) -> tuple[Settings, Mapping[str, Settings] | None]:
    """Our names or tsfresh's, never both, with tsfresh's rule for kinds without settings."""
    if settings is not None and default_fc_parameters is not None:
        raise FeaturekitError(
            "settings and default_fc_parameters both give the default settings. Fix: pass "
            "one of them (default_fc_parameters is tsfresh's name for settings)"
        )
    if kind_settings is not None and kind_to_fc_parameters is not None:
        raise FeaturekitError(
            "kind_settings and kind_to_fc_parameters both give the per-kind settings. Fix: "
            "pass one of them (kind_to_fc_parameters is tsfresh's name for kind_settings)"
        )
    chosen = settings if settings is not None else default_fc_parameters
    per_kind = kind_settings if kind_settings is not None else kind_to_fc_parameters
    if per_kind is not None and not isinstance(per_kind, Mapping):
        raise FeaturekitError(
            f"per-kind settings must be a dict {{kind: settings}}, got "
            f"{type(per_kind).__name__}. Fix: pass e.g. {{'temperature': 'minimal'}}"
        )
    if chosen is None:
        # tsfresh: with only per-kind settings, the kinds they do not name get no features.
        chosen = {} if per_kind is not None else "efficient"
    return chosen, per_kind


@contextmanager
def _kernel_threads(n_jobs: int | None) -> Iterator[None]:
    """Run the kernel on at most ``n_jobs`` threads (tsfresh's processes become threads)."""
    if n_jobs is not None and (isinstance(n_jobs, bool) or not isinstance(n_jobs, int | np.integer)):
        raise FeaturekitError(
            f"n_jobs must be an integer, got {n_jobs!r}. Fix: pass 0 or 1 for one thread, "
            "a count, or -1 for all"
        )
    if n_jobs is None or n_jobs < 0:
        yield
        return
    import numba

    previous = numba.get_num_threads()
    numba.set_num_threads(max(1, min(int(n_jobs), numba.config.NUMBA_NUM_THREADS)))
    try:
        yield
    finally:
        numba.set_num_threads(previous)


def _impute_with(
    impute_function: Callable[[pd.DataFrame], Any],
    result: pd.DataFrame | pl.DataFrame,
    keys: list[str],
) -> pd.DataFrame | pl.DataFrame:
    """Apply a tsfresh-style imputer (it edits a pandas frame in place, or returns one);
    a polars result goes through pandas, indexed by its key columns, and comes back."""
    if isinstance(result, pd.DataFrame):
        returned = impute_function(result)
        return returned if isinstance(returned, pd.DataFrame) else result
    as_pandas = result.to_pandas().set_index(keys)
    returned = impute_function(as_pandas)
    imputed = returned if isinstance(returned, pd.DataFrame) else as_pandas
    return pl.from_pandas(imputed.reset_index())


def _extract(
    df: Any,
    column_id: str,
    column_sort: str | None,
    column_kind: str | None,
    column_value: str | None,
    settings: Settings,
    window: Rolling | Expanding | Tumbling | None,
    kind_settings: Mapping[str, Settings] | None,
    duplicates: str,
    progress: tqdm | None = None,
    warn_unknown_kinds: bool = True,
) -> pd.DataFrame | pl.DataFrame:
    check_roles(
        {
            "column_id": column_id,
            "column_sort": column_sort,
            "column_kind": column_kind,
            "column_value": column_value,
        }
    )
    if window is not None and not isinstance(window, Rolling | Expanding | Tumbling):
        raise FeaturekitError(
            f"window must be fk.timeseries.Rolling, Expanding or Tumbling, got "
            f"{type(window).__name__}. Fix: pass e.g. window=Rolling(size=100, step=10)"
        )
    if duplicates not in DUPLICATE_POLICIES:
        raise schema_error(
            TABLE,
            None,
            f"unknown duplicates policy {duplicates!r}",
            f"use one of {DUPLICATE_POLICIES}",
        )
    key_arguments = {"column_id": column_id, "column_sort": column_sort, "column_kind": column_kind}
    frame, was_pandas = read_frame(
        df, {column: argument for argument, column in key_arguments.items() if column is not None}
    )
    if was_pandas and isinstance(df.index, pd.DatetimeIndex):
        frame = frame.with_columns(pl.Series(TIME_COLUMN, df.index.as_unit("ns").asi8))
    require(frame, column_id, "column_id")
    require(frame, column_sort, "column_sort")
    require(frame, column_kind, "column_kind")
    require(frame, column_value, "column_value")
    values = value_columns(frame, column_id, column_sort, column_kind, column_value)
    check_values(frame, values)
    check_keys(frame, column_id, column_sort, column_kind)
    # Every settings object is checked once, before any data is sorted or a kernel runs.
    plans = _plans(frame, settings, kind_settings)

    keys = [column_id] + ([column_sort] if column_sort is not None else [])
    if column_sort is not None:
        duplicate_keys = ([column_kind] if column_kind is not None else []) + keys
        if duplicates != "raise":
            frame = frame.group_by(duplicate_keys, maintain_order=True).agg(
                getattr(pl.col(name), duplicates)() for name in values
            )

    # (kind name, that kind's rows sorted by (id, sort), its value column); a wide frame is
    # sorted once and shared by all its kinds.
    kinds: list[tuple[str, pl.DataFrame, str]]
    if column_kind is not None:
        kind_names = frame[column_kind].unique().sort().to_list()
        kinds = [
            (str(kind), _sorted(frame.filter(pl.col(column_kind) == kind), keys, values), values[0])
            for kind in kind_names
        ]
    else:
        ordered = _sorted(frame, keys, values)
        kinds = [(name, ordered, name) for name in values]
    if column_sort is not None and duplicates == "raise":
        checked = kinds if column_kind is not None else kinds[:1]
        for kind, ordered, _ in checked:
            _check_duplicates(ordered, keys, kind if column_kind is not None else None)

    if kind_settings and warn_unknown_kinds:
        _warn_about_unknown_kinds(kind_settings, [kind for kind, _, _ in kinds])
    parts: list[tuple[pl.DataFrame, list[str], np.ndarray]] = []
    for kind, ordered, value_column in kinds:
        has_time = TIME_COLUMN in ordered.columns
        plan = plans[kind] if kind in plans else plans[None]
        buffer, segment_ids, sort_values, offsets = _segments(
            ordered, column_id, column_sort, value_column
        )
        if window is None:
            starts, stops, series = whole_series(offsets)
        else:
            starts, stops, series = window.bounds(offsets, _sort_times(ordered, column_sort))
        times = ordered[TIME_COLUMN].to_numpy() if has_time else None
        if progress is not None and starts.shape[0] and plan.codes.shape[0]:
            progress.total += int(starts.shape[0])
            progress.refresh()
        matrix = run_plan(buffer, starts, stops, plan.codes, plan.parameters, times,
                          None if progress is None else progress.update)
        key_columns = {column_id: segment_ids.gather(series)}
        if window is not None:
            end_name = column_sort if column_sort is not None else WINDOW_END
            if sort_values is not None:
                key_columns[end_name] = pl.Series(end_name, sort_values[stops - 1])
            else:
                key_columns[end_name] = pl.Series(end_name, stops - 1 - offsets[series])
        names = [f"{kind}__{suffix}" for suffix in plan.suffixes]
        parts.append((pl.DataFrame(key_columns), names, matrix))
    if not parts:  # a long frame without rows has no kinds, hence no feature columns
        parts.append((_empty_keys(frame, column_id, column_sort, window), [], np.empty((0, 0))))
    return _assemble(parts, was_pandas)


def _plans(
    frame: pl.DataFrame, settings: Settings, kind_settings: Mapping[str, Settings] | None
) -> dict[str | None, Plan]:
    """The kernel plan of the default settings (key None) and of every kind's own settings,
    each validated once; calculators needing timestamps only with a DatetimeIndex."""
    has_time = TIME_COLUMN in frame.columns
    plans: dict[str | None, Plan] = {None: build_plan(settings, has_time=has_time)}
    for kind, own in (kind_settings or {}).items():
        plans[str(kind)] = build_plan(own, has_time=has_time)
    if has_time and any(
        (plan.codes == code).any() for plan in plans.values() for code in _TIMED_CODES
    ):
        missing = frame[TIME_COLUMN].eq(np.iinfo(np.int64).min).sum()
        if missing:
            raise schema_error(
                TABLE,
                None,
                f"{missing} rows have a missing time (NaT) in the DatetimeIndex, which "
                "time-aware calculators such as linear_trend_timewise read",
                "drop those rows, or reset the index to leave those calculators out",
            )
    return plans


def _empty_keys(
    frame: pl.DataFrame,
    column_id: str,
    column_sort: str | None,
    window: Rolling | Expanding | Tumbling | None,
) -> pl.DataFrame:
    """The key columns of a result without rows, typed as the input's keys."""
    keys = {column_id: frame[column_id].head(0)}
    if window is not None:
        end = column_sort if column_sort is not None else WINDOW_END
        keys[end] = frame[column_sort].head(0) if column_sort else pl.Series(end, [], pl.Int64)
    return pl.DataFrame(keys)


def _warn_about_unknown_kinds(kind_settings: Mapping[str, Settings], kinds: list[str]) -> None:
    """Per-kind settings for kinds the frame lacks are ignored (as tsfresh does), with a
    warning: usually a misspelt kind, sometimes a partition without that kind's rows."""
    unknown = sorted(str(kind) for kind in kind_settings if str(kind) not in kinds)
    if unknown:
        warnings.warn(
            f"per-kind settings name kinds the input does not have: {unknown} "
            f"(its kinds are {kinds}); they are ignored. Fix: check the spelling of the kinds",
            UserWarning,
            stacklevel=4,
        )


def _sort_times(ordered: pl.DataFrame, column_sort: str | None) -> np.ndarray | None:
    """The sort column as int64 nanoseconds if it holds dates or datetimes, else None."""
    if column_sort is None:
        return None
    dtype = ordered.schema[column_sort]
    if not (dtype == pl.Date or isinstance(dtype, pl.Datetime)):
        return None
    stamps = ordered[column_sort].cast(pl.Datetime("ns")).dt.replace_time_zone(None)
    return stamps.to_physical().to_numpy()


def _sorted(frame: pl.DataFrame, keys: list[str], values: list[str]) -> pl.DataFrame:
    """The rows sorted by (id, sort); without a sort column, by id in their given order."""
    extra = [TIME_COLUMN] if TIME_COLUMN in frame.columns else []
    return frame.select([*keys, *values, *extra]).sort(keys, maintain_order=True)


#: Kernel codes of the calculators that read the timestamps of a DatetimeIndex.
_TIMED_CODES = tuple(
    calculator.code for calculator in catalogue.CALCULATORS if calculator.needs_time
)


def _assemble(
    parts: list[tuple[pl.DataFrame, list[str], np.ndarray]], was_pandas: bool
) -> pd.DataFrame | pl.DataFrame:
    """One frame from each kind's (keys, column names, values); joined only if keys differ."""
    key_frame = parts[0][0]
    join_keys = key_frame.columns
    if all(part[0].equals(key_frame) for part in parts[1:]):
        names = [name for part in parts for name in part[1]]
        matrix = parts[0][2] if len(parts) == 1 else np.hstack([part[2] for part in parts])
        if was_pandas:
            keys = key_frame.to_pandas()
            if len(join_keys) == 1:
                index = pd.Index(keys[join_keys[0]], name=join_keys[0])
            else:
                index = pd.MultiIndex.from_frame(keys)
            return pd.DataFrame(matrix, index=index, columns=names, copy=False)
        return key_frame.hstack(pl.from_numpy(matrix, schema=names, orient="row"))
    frames = [
        part[0].hstack(pl.from_numpy(part[2], schema=part[1], orient="row")) for part in parts
    ]
    result = frames[0]
    for other in frames[1:]:
        result = result.join(other, on=join_keys, how="full", coalesce=True, nulls_equal=True)
    result = result.sort(join_keys)
    if not was_pandas:
        return result
    return result.to_pandas().set_index(join_keys)
