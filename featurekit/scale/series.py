"""``fk.timeseries.extract`` over partitions of series ids, one after another or on Dask.

Series are independent (every window lies inside one series), so the ids are cut into
contiguous runs in their sorted order, of about the same number of rows each, and each
partition is extracted on its own:

- an in-memory frame is sliced on the driver, and each task receives only its ids' rows
  (a slice is made when its task is submitted, not all at once);
- a parquet (or CSV) path is read by each task itself, with an ``is_in`` filter on its ids
  that polars pushes down into the scan, so no process ever holds the whole table.

The parts are stacked in partition order; a kind missing from a partition's rows gets
missing values there, as the single-process extract gives ids without that kind. The result
equals the single-process result: rows, order, columns, dtypes and values.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
from tqdm.auto import tqdm

from featurekit.errors import FeaturekitError, SchemaError, schema_error
from featurekit.timeseries.inputs import TABLE, read_frame, value_columns
from featurekit.timeseries.settings import Settings, build_plan

#: Rows per partition with ``partitions="auto"`` (about 100 MB of input values and keys).
AUTO_ROWS = 4_000_000


@dataclass(frozen=True)
class ExtractOptions:
    """The keyword arguments every partition's ``extract`` call shares."""

    column_id: str
    column_sort: str | None
    column_kind: str | None
    column_value: str | None
    settings: Settings
    window: Any
    kind_settings: Mapping[str, Settings] | None
    duplicates: str
    n_jobs: int | None

    def run(self, frame: Any) -> pd.DataFrame | pl.DataFrame:
        """``extract`` of these rows, without the warning about kinds the rows lack (a
        partition may lack a kind; the driver warns once about the whole input's kinds)."""
        from featurekit.timeseries.extract import _extract, _kernel_threads

        with _kernel_threads(self.n_jobs):
            return _extract(
                frame, self.column_id, self.column_sort, self.column_kind, self.column_value,
                self.settings, self.window, self.kind_settings, self.duplicates,
                warn_unknown_kinds=False,
            )


@dataclass(frozen=True)
class ScanJob:
    """One partition of a parquet/CSV source: the path and the partition's ids."""

    path: str
    ids: pl.Series


def _scan(path: str) -> pl.LazyFrame:
    return pl.scan_csv(path) if Path(path).suffix == ".csv" else pl.scan_parquet(path)


@dataclass(frozen=True)
class ExtractTask:
    """What a worker runs for one partition: read its rows if they are a scan, extract."""

    options: ExtractOptions

    def rows(self, job: ScanJob) -> pl.LazyFrame:
        """A scan partition's rows: the ids filter is pushed into the parquet reader."""
        return _scan(job.path).filter(pl.col(self.options.column_id).is_in(job.ids.implode()))

    def __call__(self, job: Any) -> pd.DataFrame | pl.DataFrame:
        if isinstance(job, ScanJob):
            job = self.rows(job).collect()
        return self.options.run(job)


def _check_partitions(partitions: Any) -> None:
    if partitions is None or partitions == "auto":
        return
    if isinstance(partitions, bool) or not isinstance(partitions, int | np.integer) or partitions < 1:
        raise FeaturekitError(
            f"partitions must be a positive number of partitions or 'auto', got "
            f"{partitions!r}. Fix: pass e.g. partitions=8, or partitions='auto'"
        )


def _path_of(df: Any) -> str | None:
    """The path of a parquet/CSV source (checked to exist when it is a plain file name)."""
    if not isinstance(df, str | Path):
        return None
    text = str(df)
    plain = "://" not in text and not any(mark in text for mark in "*?[")
    if plain and not Path(text).exists():
        raise SchemaError(
            f"table {TABLE!r}: no file or folder at {text!r}. Fix: pass the path of an "
            "existing parquet or CSV file (or parquet dataset), or a DataFrame"
        )
    return text


def _key_column(frame: Any, column: str, argument: str) -> pl.Series:
    """One key column of an in-memory input as a polars series (as ``extract`` reads it)."""
    if isinstance(frame, pd.DataFrame):
        return read_frame(frame[[column]], {column: argument})[0][column]
    return frame[column]


def _id_counts(rows: pl.LazyFrame, column_id: str) -> pl.DataFrame:
    """Rows per id, in the ids' sorted order (the order of ``extract``'s result); rows
    without an id are refused with the single-process call's message."""
    counts = rows.group_by(column_id).len().collect(engine="streaming")
    column = counts[column_id]
    missing = column.is_null()
    if column.dtype.is_float():
        missing = missing | column.is_nan().fill_null(False)
    if missing.any():
        raise schema_error(
            TABLE, column_id,
            f"{int(counts.filter(missing)['len'].sum())} of {int(counts['len'].sum())} rows "
            "have a missing (null or NaN) column_id",
            "drop those rows or give them an id",
        )
    return counts.sort(column_id)


def cut(counts: np.ndarray, partitions: int) -> np.ndarray:
    """Boundaries (positions in the sorted ids, first 0, last len) of at most ``partitions``
    contiguous runs of ids with about the same number of rows each, none empty.

    >>> cut(np.array([5, 1, 1, 1, 5, 1]), 2).tolist()
    [0, 3, 6]
    """
    total = int(counts.sum())
    ends = np.cumsum(counts)
    targets = total * np.arange(1, partitions) / partitions
    inner = np.searchsorted(ends, targets, side="left") + 1
    return np.unique(np.concatenate([[0], np.clip(inner, 1, len(counts)), [len(counts)]]))


def _partition_count(partitions: Any, rows: int, ids: int, client: Any) -> int:
    """The number of partitions: as given, or "auto": by rows, and with a client at least
    ``AUTO_PER_THREAD`` per worker thread; never more than there are ids."""
    if partitions not in (None, "auto"):
        return max(1, min(int(partitions), ids))
    count = math.ceil(rows / AUTO_ROWS)
    if client is not None:
        from featurekit.scale.cluster import AUTO_PER_THREAD, total_threads

        count = max(count, AUTO_PER_THREAD * total_threads(client))
    return max(1, min(count, ids))


def _kinds(source: Any, path: str | None, options: ExtractOptions, empty: Any) -> list[str]:
    """The kinds of the whole input in ``extract``'s order."""
    if options.column_kind is None:
        frame, _ = read_frame(empty, {})
        return value_columns(frame, options.column_id, options.column_sort, None,
                             options.column_value)
    kind = options.column_kind
    if path is not None:
        values = _scan(path).select(pl.col(kind).unique().sort()).collect()[kind]
    else:
        values = _key_column(source, kind, "column_kind").unique().sort()
    return [str(value) for value in values.to_list()]


def _feature_names(kinds: list[str], options: ExtractOptions, has_time: bool) -> list[str]:
    """Every feature column of the whole input, in ``extract``'s order."""
    own = {str(kind): value for kind, value in (options.kind_settings or {}).items()}
    return [
        f"{kind}__{suffix}"
        for kind in kinds
        for suffix in build_plan(own.get(kind, options.settings), has_time=has_time).suffixes
    ]


def _stack(parts: list[Any], names: list[str], empty: Any) -> pd.DataFrame | pl.DataFrame:
    """The parts one under the other, with every feature column in ``extract``'s order."""
    filled = [part for part in parts if len(part)] or parts[:1] or [empty]
    if isinstance(empty, pd.DataFrame):
        stacked = filled[0] if len(filled) == 1 else pd.concat(filled, axis=0, sort=False)
        if list(stacked.columns) != names:
            stacked = stacked.reindex(columns=pd.Index(names))
        return stacked
    keys = [name for name in empty.columns if name not in set(names)]
    stacked = pl.concat(filled, how="diagonal_relaxed") if len(filled) > 1 else filled[0]
    missing = [name for name in names if name not in stacked.columns]
    if missing:
        stacked = stacked.with_columns(pl.lit(None, pl.Float64).alias(name) for name in missing)
    return stacked.select([*keys, *names])


def extract_partitioned(
    df: Any, options: ExtractOptions, *, client: Any, partitions: Any, verbose: bool | None
) -> pd.DataFrame | pl.DataFrame:
    """``extract`` of ``df`` computed partition by partition (on ``client`` if given)."""
    _check_partitions(partitions)
    if client is not None:
        from featurekit.scale.optional import check_client

        check_client(client)
    path = _path_of(df)
    if path is not None:
        source: Any = None
        empty_input: Any = _scan(path).head(0).collect()
    else:
        source = df.collect() if isinstance(df, pl.LazyFrame) else df
        if not isinstance(source, pd.DataFrame | pl.DataFrame):
            source, _ = read_frame(source, {})
        empty_input = source.iloc[:0] if isinstance(source, pd.DataFrame) else source.head(0)
    # the whole call is checked once, on no rows: columns, roles, settings, window, policy
    empty = options.run(empty_input)
    has_time = isinstance(empty_input, pd.DataFrame) and isinstance(
        empty_input.index, pd.DatetimeIndex
    )
    kinds = _kinds(source, path, options, empty_input)
    if options.kind_settings:
        from featurekit.timeseries.extract import _warn_about_unknown_kinds

        _warn_about_unknown_kinds(options.kind_settings, kinds)
    names = _feature_names(kinds, options, has_time)

    column_id = options.column_id
    if path is not None:
        ids = None
        counts = _id_counts(_scan(path), column_id)
    else:
        ids = _key_column(source, column_id, "column_id")
        counts = _id_counts(pl.LazyFrame({column_id: ids}), column_id)
    if counts.height == 0:
        return empty
    count = _partition_count(partitions, int(counts["len"].sum()), counts.height, client)
    bounds = cut(counts["len"].to_numpy(), count)
    sorted_ids = counts[column_id]
    del counts

    if path is not None:
        def make_job(number: int) -> Any:
            start, stop = int(bounds[number]), int(bounds[number + 1])
            return ScanJob(path, sorted_ids.slice(start, stop - start))
    else:
        numbers_of_ids = pl.DataFrame(
            {column_id: sorted_ids,
             "__partition": np.repeat(np.arange(len(bounds) - 1), np.diff(bounds))}
        )
        row_partition = (
            pl.DataFrame({column_id: ids})
            .join(numbers_of_ids, on=column_id, how="left", maintain_order="left")
            ["__partition"].to_numpy()
        )
        rows_in_order = np.argsort(row_partition, kind="stable")
        row_bounds = np.concatenate([[0], np.cumsum(np.bincount(row_partition,
                                                                minlength=len(bounds) - 1))])
        del row_partition, numbers_of_ids

        def make_job(number: int) -> Any:
            rows = rows_in_order[row_bounds[number] : row_bounds[number + 1]]
            return source.iloc[rows] if isinstance(source, pd.DataFrame) else source[rows]

    del ids
    task = ExtractTask(options)
    numbers = list(range(len(bounds) - 1))
    if client is not None:
        from featurekit.scale.tasks import map_on_client

        results = map_on_client(client, task, make_job, numbers, verbose=verbose,
                                description="series partitions")
    else:
        results = {}
        show = verbose if verbose is not None else sys.stderr.isatty()
        with tqdm(total=len(numbers), desc="featurekit series partitions", unit="partition",
                  disable=not show, leave=False, file=sys.stderr) as bar:
            for number in numbers:
                results[number] = task(make_job(number))
                bar.update()
    return _stack([results[number] for number in numbers], names, empty)
