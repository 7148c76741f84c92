"""Partitions of target instances: plan them (how many, which instances, which rows each
reads), compute one (a pure function a worker can run) and put the parts back together
into the matrix a single process would give.

Instances go to partitions in the target index's sorted order; with a cutoff frame every
cutoff row of an instance goes with it, and ``assemble`` restores the frame's row order.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from featurekit.arguments import check_flag, check_items, check_text
from featurekit.engine.api import _hand_back, matrix_at_one_moment, matrix_per_cutoff
from featurekit.engine.cutoffs import is_cutoff_frame, read_cutoffs
from featurekit.engine.lazy_plan import _check_against_entityset, output_columns
from featurekit.engine.time_scale import DATETIME, read_moment, required_scale
from featurekit.entityset import EntitySet, Relationship
from featurekit.errors import ComputeError
from featurekit.feature import Feature
from featurekit.frames import FRAME_KINDS, to_polars
from featurekit.scale.memory import (
    ENGINE_FACTOR,
    SAMPLE_INSTANCES,
    default_memory_limit,
    parse_memory_limit,
)
from featurekit.scale.reach import (
    ReachPlan,
    TableMeta,
    partition_entityset,
    plan_reach,
    reach_keys,
    table_meta,
)
from featurekit.scale.sources import ParquetSource, is_lazy

POSITION = "__featurekit_position"  # a cutoff row's place in the caller's frame


class WholeTableWarning(UserWarning):
    """Every partition reads a table in full (a transform looks at all of its rows)."""


@dataclass(frozen=True, eq=False)
class PartitionContext:
    """What every job of a plan shares: the features, the master schemas, the relationships,
    the lazy tables' parquet sources and the call's time arguments (no rows)."""

    name: str
    features: tuple[Feature, ...]
    metas: dict[str, TableMeta]
    relationships: tuple[Relationship, ...]
    columns: dict[str, list[str]]
    sources: dict[str, ParquetSource]
    cutoff_time: Any
    training_window: Any
    include_cutoff_time: bool
    time_column: str
    per_cutoff: bool
    reach: ReachPlan | None = None  # set when each job finds its rows where it runs
    frames: dict[str, pl.DataFrame] = field(default_factory=dict)  # in-memory tables, then too


@dataclass(frozen=True, eq=False)
class PartitionJob:
    """Everything one task needs to compute one partition; picklable and small: a lazy
    table is its parquet source (in ``context``) and the keys of the rows to read, an
    in-memory table is the partition's own rows (the whole table only when a transform
    reads all of it). When every table is lazy, ``tables`` is None: the job finds its keys
    where it runs (the walk scans only key columns), so planning reads no table's rows."""

    number: int
    instances: pl.Series
    tables: dict[str, pl.DataFrame | pl.Series | None] | None  # rows, or a lazy table's keys
    cutoff_rows: pl.DataFrame | None
    latest: Any  # the partition's latest cutoff (epoch microseconds or a number), or None
    planned_bytes: int
    context: PartitionContext = field(repr=False)

    @property
    def rows(self) -> int:
        """How many matrix rows the job gives."""
        return self.cutoff_rows.height if self.cutoff_rows is not None else self.instances.len()

    def as_written(self, part: pl.DataFrame) -> pl.DataFrame:
        """The job's part (``run_partition``'s result) as an output directory holds it: the
        matrix's rows in polars, integer features widened as the matrix has them."""
        context = self.context
        index = [context.metas[context.features[0].table].index]
        if context.per_cutoff:
            index.append(context.time_column)
        return _hand_back(part, "polars", index, list(context.features))


@dataclass
class PartitionPlan:
    """The jobs of one call, in order, and how to put their parts together."""

    jobs: list[PartitionJob]
    kind: str
    index: list[str]
    features: list[Feature]
    memory_limit: int
    call: dict[str, Any]  # what identifies the call, for an output directory's manifest
    whole_tables: dict[str, list[str]]
    entityset: EntitySet | None = field(default=None, repr=False)  # the master (driver only)

    def assemble(self, parts: Sequence[pl.DataFrame]) -> Any:
        """The matrix from the parts (in job order), identical to single-process fk.compute
        (rows, order, names, dtypes, values, caller's frame kind, index)."""
        if len(parts) != len(self.jobs):
            raise ComputeError(f"assemble got {len(parts)} parts for {len(self.jobs)} partitions. "
                               "Fix: pass one part per job, in job order")
        result = pl.concat(list(parts), how="vertical", rechunk=True) if len(parts) > 1 else parts[0]
        if self.jobs[0].cutoff_rows is not None:
            positions = pl.concat([job.cutoff_rows[POSITION] for job in self.jobs])
            result = result.gather(positions.arg_sort())
        return _hand_back(result, self.kind, self.index, self.features)

    def job_bytes(self, job: PartitionJob) -> int:
        """The planned peak memory of one job, in bytes."""
        return job.planned_bytes


def plan_partitions(entityset: EntitySet, features: Sequence[Feature], *, cutoff_time: Any = None,
                    training_window: Any = None, include_cutoff_time: bool = True,
                    time_column: str = "time", partitions: Any = "auto",
                    memory_limit: Any = None, return_type: str | None = None,
                    rows_when_run: bool = False) -> PartitionPlan:
    """Split the target's instances into partitions and find the rows each one reads.

    ``partitions``: "auto" (as many as keep a partition's planned peak memory under
    ``memory_limit``, measured on a sample of instances), or a number of partitions.
    ``memory_limit``: bytes or a size such as "2GiB"; default: half the memory available
    now. A partition's planned peak is ``ENGINE_FACTOR`` times the bytes of the rows it
    reads plus its matrix.

    ``rows_when_run=True`` (for a runner in this process) makes each job find its rows when
    it runs, from the in-memory tables themselves: one partition's rows in memory at a
    time, but such jobs refer to whole tables and are not for shipping to workers. Jobs of
    an entity set of lazy tables only always find their rows where they run.
    """
    features = check_items("features", features, optional=False)
    if not features:
        raise ComputeError("no features to compute. Fix: pass the output of fk.plan or fk.load_features")
    check_flag("include_cutoff_time", include_cutoff_time)
    check_text("time_column", time_column)
    if return_type is not None and (not isinstance(return_type, str) or return_type not in FRAME_KINDS):
        raise ComputeError(f"unknown return_type {return_type!r}. Fix: use one of {FRAME_KINDS}")
    count = _partition_count_argument(partitions)
    limit = parse_memory_limit(memory_limit) if memory_limit is not None else default_memory_limit()
    _check_against_entityset(entityset, features)
    target = entityset[features[0].table]
    dtypes = {name: _dtypes(table) for name, table in entityset.tables.items()}
    reach = plan_reach(entityset, features, dtypes)
    metas = {name: table_meta(table, dtypes[name]) for name, table in entityset.tables.items()}
    sources = {name: table.source for name, table in entityset.tables.items() if is_lazy(table)}
    scan = _scanner(entityset)
    target_rows = scan(target.name, [c for c in (target.index, target.time_index) if c]).collect()
    instances = target_rows[target.index].sort()
    skeleton = _skeleton(entityset, metas, target.name, target_rows)
    per_cutoff = is_cutoff_frame(cutoff_time)
    cutoff_rows, latest_of = None, None
    if per_cutoff:
        cutoff_rows = _read_cutoff_rows(cutoff_time, skeleton, target.name, time_column)
    elif cutoff_time is not None:
        scale = required_scale(skeleton)
        latest_of = _moment_bound(scale, read_moment(scale, cutoff_time)[0])
    elif training_window is not None:
        raise ComputeError("training_window needs a cutoff_time. Fix: pass cutoff_time=...")
    on_workers = rows_when_run or len(sources) == len(entityset.tables)
    in_memory = ({name: table.frame for name, table in entityset.tables.items()
                  if not is_lazy(table)} if on_workers else {})
    context = PartitionContext(
        entityset.name, tuple(features), metas, tuple(entityset.relationships), reach.columns,
        sources, None if per_cutoff else cutoff_time, training_window, include_cutoff_time,
        time_column, per_cutoff, reach if on_workers else None, in_memory)
    scale = required_scale(skeleton)

    def latest(rows: pl.DataFrame | None) -> Any:
        if rows is None:
            return latest_of
        if rows.height == 0:
            return None
        return _moment_bound(scale, rows["__featurekit_moment"].max())

    def known_by(bound: Any):
        return _known_by(metas, target.name, bound)

    exact = count is not None and not on_workers  # each job's rows are found here: measure them
    per_instance, fixed = (0.0, 0) if exact else _measure(
        entityset, reach, features, instances, cutoff_rows, scan,
        lambda rows: known_by(latest(rows)), target.index)
    if count is None:
        room = limit - fixed
        if room <= 0:
            raise ComputeError(
                f"memory_limit {limit} bytes is below what every partition needs anyway "
                f"(about {fixed} bytes: tables read in full {sorted(reach.whole)}). Fix: raise "
                "memory_limit, or leave out the features that read those tables in full")
        count = max(1, math.ceil(instances.len() * per_instance / room))
    count = max(1, min(count, instances.len()))
    if count > 1:
        _warn_whole_tables(reach)
    bounds = [round(i * instances.len() / count) for i in range(count + 1)]
    jobs = []
    for number in range(count):
        chunk = instances.slice(bounds[number], bounds[number + 1] - bounds[number])
        rows = None
        if cutoff_rows is not None:
            rows = cutoff_rows.filter(pl.col(target.index).is_in(chunk.implode()))
        bound = latest(rows)
        tables = None
        if not on_workers:
            keys = reach_keys(entityset, reach, features, chunk, scan, known_by(bound))
            tables = {name: (found if name in sources else
                             _rows_of(entityset[name], reach.columns[name], found,
                                      known_by(bound)(name)))
                      for name, found in keys.items()}
        job_rows = rows.drop("__featurekit_moment") if rows is not None else None
        planned = (_planned_bytes(entityset, reach, features, tables,
                                  rows.height if rows is not None else chunk.len())
                   if exact else int(fixed + per_instance * chunk.len()))
        jobs.append(PartitionJob(number, chunk, tables, job_rows, bound, planned, context))
    index = [target.index, time_column] if per_cutoff else [target.index]
    fingerprint = {"features": [f.unique_name for f in features], "target": target.name,
                   "cutoff": _describe_cutoff(cutoff_time, cutoff_rows),
                   "training_window": repr(training_window),
                   "include_cutoff_time": include_cutoff_time, "time_column": time_column,
                   "partitions": [[job.instances.len(), job.rows] for job in jobs]}
    return PartitionPlan(jobs, return_type or target.source_kind, index, list(features), limit,
                         fingerprint, reach.whole, entityset)


def run_partition(job: PartitionJob) -> pl.DataFrame:
    """One partition's slice of the matrix, as polars (index column(s), features, the
    cutoff frame's other columns): reads the partition's rows, builds its entity set with
    the master's schemas, and computes with the same engine as a single process."""
    context = job.context
    tables = job.tables if job.tables is not None else _walk_here(job)
    known = _known_by(context.metas, context.features[0].table, job.latest)
    frames = {}
    for name, meta in context.metas.items():
        columns = context.columns.get(name, [c for c in (meta.index, meta.time_index) if c])
        held = tables.get(name, _NOT_READ)
        if held is _NOT_READ:
            frames[name] = pl.DataFrame(schema={c: meta.dtypes[c] for c in columns})
        elif name in context.sources:
            frames[name] = context.sources[name].read(columns, meta.index, held, known(name))
        elif isinstance(held, pl.DataFrame):
            frames[name] = held
        else:  # the keys of an in-memory table the context holds (rows found when run)
            frames[name] = _select_rows(context.frames[name], columns, meta.index, held,
                                        known(name))
    entityset = partition_entityset(context.name, context.metas, list(context.relationships), frames)
    features = list(context.features)
    target = context.metas[features[0].table]
    if context.per_cutoff:
        rows = job.cutoff_rows.drop(POSITION)
        return matrix_per_cutoff(entityset, features, rows, context.training_window,
                                 context.include_cutoff_time, context.time_column, _quiet)
    result = matrix_at_one_moment(entityset, features, context.cutoff_time, context.training_window,
                                  context.include_cutoff_time, _quiet)
    if result.height != job.instances.len():
        result = result.filter(pl.col(target.index).is_in(job.instances.implode()))
    return result


_NOT_READ = object()


def _walk_here(job: PartitionJob) -> dict[str, pl.Series | None]:
    """The keys of the rows a job of lazy tables reads, found by walking its parquet key
    columns where the job runs."""
    context = job.context
    frames = {name: pl.DataFrame(schema={c: meta.dtypes[c] for c in (meta.index, meta.time_index) if c})
              for name, meta in context.metas.items()}
    skeleton = partition_entityset(context.name, context.metas, list(context.relationships), frames)

    def scan(name: str, columns: list[str]) -> pl.LazyFrame:
        if name in context.sources:
            return context.sources[name].scan(columns)
        return context.frames[name].lazy().select(columns)

    target = context.features[0].table
    return reach_keys(skeleton, context.reach, list(context.features), job.instances, scan,
                      _known_by(context.metas, target, job.latest))


def _known_by(metas: dict[str, TableMeta], target: str, bound: Any):
    """table -> a filter keeping the rows some cutoff at or before ``bound`` may see (None:
    keep every row: no cutoff, no time index, or the target's own instances)."""
    def known(table_name: str) -> pl.Expr | None:
        meta = metas[table_name]
        if bound is None or meta.time_index is None or table_name == target:
            return None
        return _not_after(pl.col(meta.time_index), meta.dtypes[meta.time_index], bound)
    return known


def load_needed_columns(entityset: EntitySet, features: list[Feature]) -> EntitySet:
    """An in-memory entity set holding every row of the columns ``features`` read (index,
    time index, keys, the columns of identity features) of each table they touch; lazy
    tables are read from parquet, in-memory ones are not copied. Other tables keep only
    their index and time index."""
    dtypes = {name: _dtypes(table) for name, table in entityset.tables.items()}
    reach = plan_reach(entityset, features, dtypes)
    metas = {name: table_meta(table, dtypes[name]) for name, table in entityset.tables.items()}
    frames = {}
    for name, table in entityset.tables.items():
        columns = reach.columns.get(name, [c for c in (table.index, table.time_index) if c])
        frames[name] = (table.source.read(columns, table.index, None, None) if is_lazy(table)
                        else table.frame.select(columns))
    return partition_entityset(entityset.name, metas, list(entityset.relationships), frames)


def _quiet(label: str) -> None:
    """A step nobody watches (partitions report progress per partition)."""


def _partition_count_argument(partitions: Any) -> int | None:
    """None for "auto", else the number of partitions asked for."""
    if isinstance(partitions, str) and partitions == "auto":
        return None
    if isinstance(partitions, (bool, np.bool_)) or not isinstance(partitions, numbers.Integral) \
            or partitions < 1:
        raise ComputeError(f"partitions={partitions!r} is not a choice. Fix: pass "
                           "partitions='auto' (sized by memory_limit), a number of partitions "
                           "(1 or more), or None for one process without partitions")
    return int(partitions)


def _dtypes(table) -> dict[str, pl.DataType]:
    return dict(table.source.dtypes) if is_lazy(table) else dict(table.frame.schema)


def _scanner(entityset: EntitySet):
    """table, columns -> the table's columns as a lazy frame (parquet scan or in-memory)."""
    def scan(name: str, columns: list[str]) -> pl.LazyFrame:
        table = entityset[name]
        if is_lazy(table):
            return table.source.scan(columns)
        return table.frame.lazy().select(columns)
    return scan


def _skeleton(entityset: EntitySet, metas: dict[str, TableMeta], target: str,
              target_rows: pl.DataFrame) -> EntitySet:
    """An entity set of the master's schemas holding no rows but the target's index: enough
    to read cutoffs (time scale, known instances) for lazy and in-memory tables alike."""
    frames = {name: pl.DataFrame(schema={c: meta.dtypes[c] for c in (meta.index, meta.time_index)
                                         if c}) for name, meta in metas.items()}
    frames[target] = target_rows
    return partition_entityset(entityset.name, metas, list(entityset.relationships), frames)


def _read_cutoff_rows(cutoff_time: Any, skeleton: EntitySet, target: str,
                      time_column: str) -> pl.DataFrame:
    """The caller's cutoff rows as polars, checked once, with their positions and moments."""
    table = skeleton[target]
    frame = to_polars(cutoff_time, "cutoff_time", table.index)
    checked = read_cutoffs(frame, skeleton, table, time_column)  # refuses bad frames early
    return frame.with_columns(checked.rows[table.index],
                              checked.rows[time_column].alias("__featurekit_moment"),
                              pl.int_range(pl.len(), dtype=pl.Int64).alias(POSITION))


def _moment_bound(scale, moment: Any) -> Any:
    """A cutoff as a bound rows are compared with: microseconds since the epoch (rounded up,
    so that no row at the cutoff is lost) for datetimes, the number itself for steps."""
    if moment is None:
        return None
    if scale.kind != DATETIME:
        return moment
    series = pl.Series([moment])
    if isinstance(series.dtype, pl.Datetime) and series.dtype.time_unit == "ns":
        return int(math.ceil(series.dt.epoch("ns")[0] / 1000))
    return int(series.dt.epoch("us")[0])


_PER_MICROSECOND = {"ns": 1000, "us": 1, "ms": 1 / 1000}


def _not_after(time: pl.Expr, dtype: pl.DataType, bound: Any) -> pl.Expr:
    """Rows some cutoff at or before ``bound`` may see (a superset: pruning never loses one).
    A datetime column is compared with a literal of its own type, which a parquet reader can
    check against its row groups' statistics."""
    if isinstance(dtype, pl.Datetime):
        ticks = math.ceil(bound * _PER_MICROSECOND[dtype.time_unit])
        return time <= pl.lit(ticks, dtype=pl.Int64).cast(dtype)
    if isinstance(dtype, pl.Date):
        return time.dt.epoch("us") <= bound
    return time <= bound


def _rows_of(table, columns: list[str], keys: pl.Series | None, known: pl.Expr | None) -> pl.DataFrame:
    """An in-memory table's rows for a partition (see ``_select_rows``)."""
    return _select_rows(table.frame, columns, table.index, keys, known)


def _select_rows(frame: pl.DataFrame, columns: list[str], index: str, keys: pl.Series | None,
                 known: pl.Expr | None) -> pl.DataFrame:
    """The projected columns of the rows whose ``index`` is in ``keys`` (every row when
    None) and which some cutoff may see, in the table's order."""
    frame = frame.select(columns)
    if keys is None and known is None:
        return frame
    rows = frame.lazy()
    if keys is not None:
        rows = rows.filter(pl.col(index).is_in(keys.implode()))
    if known is not None:
        rows = rows.filter(known)
    return rows.collect()


def _measure(entityset: EntitySet, reach: ReachPlan, features: list[Feature], instances: pl.Series,
             cutoff_rows: pl.DataFrame | None, scan, known_for, index: str) -> tuple[float, int]:
    """Bytes per instance (rows reached and matrix, times ``ENGINE_FACTOR``) measured on an
    evenly spread sample of instances, and the bytes every partition needs whatever its
    size (tables read in full)."""
    if instances.len() == 0:
        return 0.0, 0
    step = max(1, instances.len() // SAMPLE_INSTANCES)
    sample = instances.gather_every(step)
    rows = None
    if cutoff_rows is not None:
        rows = cutoff_rows.filter(pl.col(index).is_in(sample.implode()))
    keys = reach_keys(entityset, reach, features, sample, scan, known_for(rows))
    reached, fixed = 0.0, 0
    for name, found in keys.items():
        width = _bytes_per_row(entityset[name], reach.columns[name])
        if found is None:
            fixed += int(width * _height(entityset[name]))
        else:
            reached += width * found.len()
    matrix = _matrix_bytes(rows.height if rows is not None else sample.len(), features)
    return ENGINE_FACTOR * (reached + matrix) / sample.len(), ENGINE_FACTOR * fixed


def _planned_bytes(entityset: EntitySet, reach: ReachPlan, features: list[Feature],
                   tables: dict[str, Any], matrix_rows: int) -> int:
    """A job's planned peak from the rows it holds (as ``_measure`` estimates it from a
    sample): ``ENGINE_FACTOR`` times its rows' bytes and its matrix."""
    held = 0.0
    for name, found in tables.items():
        if isinstance(found, pl.DataFrame):
            held += found.estimated_size()
        else:  # a lazy table's keys (None: every row)
            width = _bytes_per_row(entityset[name], reach.columns[name])
            held += width * (_height(entityset[name]) if found is None else found.len())
    return int(ENGINE_FACTOR * (held + _matrix_bytes(matrix_rows, features)))


def _matrix_bytes(rows: int, features: list[Feature]) -> int:
    """The bytes of a matrix of ``rows`` rows: 8 per feature column, index and time."""
    return rows * (len(output_columns(features)) + 2) * 8


def _bytes_per_row(table, columns: list[str]) -> float:
    if is_lazy(table):
        return table.source.bytes_per_row(columns)
    height = table.frame.height
    return table.frame.select(columns).estimated_size() / height if height else 0.0


def _height(table) -> int:
    return table.source.height if is_lazy(table) else table.frame.height


def _warn_whole_tables(reach: ReachPlan) -> None:
    for name, names in reach.whole.items():
        warnings.warn(
            f"every partition reads table {name!r} in full: features {names} look at all of "
            "its rows (ranks, running values). Fix: leave them out to read only the rows each "
            "partition needs, or accept reading the table once per partition",
            WholeTableWarning, stacklevel=3)


def _describe_cutoff(cutoff_time: Any, cutoff_rows: pl.DataFrame | None) -> Any:
    if cutoff_rows is not None:
        return [cutoff_rows.height, int(cutoff_rows.hash_rows().sum())]
    return repr(cutoff_time)


def describe_tables(entityset: EntitySet) -> dict[str, Any]:
    """What identifies the data: lazy tables by their files, in-memory ones by their rows."""
    described = {}
    for name, table in entityset.tables.items():
        if is_lazy(table):
            described[name] = table.source.identity()
        else:
            described[name] = [table.frame.height, int(table.frame.hash_rows().sum()),
                               {c: str(d) for c, d in table.frame.schema.items()}]
    return described
