"""``make_labels`` partition by partition: each partition reads its instances' rows along
the one path down to the labelled table (semi-joins on the keys), labels them with the
single-process code, and the parts are stacked in index order. The end of the data (the
default ``end``) is found once, by a streaming scan over every instance's rows."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import polars as pl

from featurekit.entityset import EntitySet, Table
from featurekit.errors import FeaturekitError
from featurekit.scale.memory import ENGINE_FACTOR, default_memory_limit, parse_memory_limit
from featurekit.scale.partitions import _dtypes, _partition_count_argument, _scanner
from featurekit.scale.reach import partition_entityset, table_meta


def labels_in_partitions(entityset: EntitySet, target: Table, source: Table,
                         labeling_function: Callable[[pd.DataFrame], Any] | pl.Expr,
                         window: dt.timedelta, step: dt.timedelta, warm_up: dt.timedelta,
                         max_per_instance: int | None, name: str, time_column: str, end: Any,
                         partitions: Any, memory_limit: Any, client: Any = None,
                         verbose: bool | None = None) -> pl.DataFrame:
    """The rows of ``make_labels``, computed partition by partition (see the module); with
    ``client``, each partition's rows are read on the driver when its task is submitted and
    labelled on a Dask worker."""
    from featurekit.labels import label_rows

    count = _partition_count_argument("auto" if partitions is None else partitions)
    if client is not None:
        from featurekit.scale.cluster import worker_memory_per_task
        from featurekit.scale.optional import check_client

        check_client(client)
        if memory_limit is None:
            memory_limit = worker_memory_per_task(client)
    paths = entityset.paths_down(target.name, source.name)
    if len(paths) != 1:  # the single-process code names the problem
        label_rows(entityset, target, source, labeling_function, window, step, warm_up,
                   max_per_instance, name, time_column, end)
    path = paths[0]
    scan = _scanner(entityset)
    dtypes = {table: _dtypes(entityset[table]) for table in entityset.tables}
    metas = {table: table_meta(entityset[table], dtypes[table]) for table in entityset.tables}
    columns = _path_columns(entityset, path, source)
    instances = scan(target.name, [target.index]).collect()[target.index].sort()
    last = None
    if end is None:
        reached = (_reached(scan, path, columns, target.index, [source.time_index]) if path
                   else scan(source.name, [source.time_index]))
        last = reached.select(pl.col(source.time_index).max()).collect(engine="streaming").item()
    if count is None:
        limit = parse_memory_limit(memory_limit) if memory_limit is not None else default_memory_limit()
        total = sum(_table_bytes(entityset[table], columns[table]) for table in columns)
        count = max(1, math.ceil(ENGINE_FACTOR * total / limit))
        if client is not None:
            from featurekit.scale.cluster import AUTO_PER_THREAD, total_threads

            count = max(count, AUTO_PER_THREAD * total_threads(client))
    count = max(1, min(count, instances.len()))
    bounds = [round(i * instances.len() / count) for i in range(count + 1)]

    def partition_rows(number: int) -> dict[str, pl.DataFrame]:
        """The rows one partition labels: its instances and their rows down the path."""
        chunk = instances.slice(bounds[number], bounds[number + 1] - bounds[number])
        frames = {table: pl.DataFrame(schema={c: meta.dtypes[c] for c in (meta.index, meta.time_index) if c})
                  for table, meta in metas.items()}
        frames[target.name] = scan(target.name, columns[target.name]).filter(
            pl.col(target.index).is_in(chunk.implode())).collect()
        keys = chunk
        for relationship in path:
            child = entityset[relationship.child]
            rows = scan(child.name, columns[child.name]).filter(
                pl.col(relationship.child_key).is_in(keys.implode())).collect(engine="streaming")
            frames[child.name] = rows
            keys = rows[child.index]
        return frames

    task = _LabelTask(entityset.name, metas, tuple(entityset.relationships), target.name,
                      source.name, labeling_function, window, step, warm_up, max_per_instance,
                      name, time_column, end, last)
    if client is None:
        parts = [task(partition_rows(number)) for number in range(count)]
    else:
        from featurekit.scale.tasks import map_on_client

        done = map_on_client(client, task, partition_rows, range(count), verbose=verbose,
                             description="label partitions")
        parts = [done[number] for number in range(count)]
    if not parts:
        raise FeaturekitError(f"table {target.name!r} has no instances to label. Fix: add rows")
    return pl.concat(parts, how="vertical_relaxed", rechunk=True)


@dataclass(frozen=True)
class _LabelTask:
    """Labels one partition's rows (a task on a worker, or a call here)."""

    name: str
    metas: dict[str, Any]
    relationships: tuple[Any, ...]
    target: str
    source: str
    labeling_function: Any
    window: dt.timedelta
    step: dt.timedelta
    warm_up: dt.timedelta
    max_per_instance: int | None
    label_name: str
    time_column: str
    end: Any
    last: Any

    def __call__(self, frames: dict[str, pl.DataFrame]) -> pl.DataFrame:
        from featurekit.labels import label_rows

        part = partition_entityset(self.name, self.metas, list(self.relationships), frames)
        return label_rows(part, part[self.target], part[self.source], self.labeling_function,
                          self.window, self.step, self.warm_up, self.max_per_instance,
                          self.label_name, self.time_column, self.end, self.last)


def _path_columns(entityset: EntitySet, path, source: Table) -> dict[str, list[str]]:
    """The columns read along the path: keys, and every column of the labelled table."""
    columns = {path[0].parent: [entityset[path[0].parent].index]} if path else {}
    if not path:
        return {source.name: list(source.columns)}
    for position, relationship in enumerate(path):
        child = entityset[relationship.child]
        if child.name == source.name:
            columns[child.name] = list(child.columns)
        else:
            below = path[position + 1].parent_key if position + 1 < len(path) else None
            columns[child.name] = list(dict.fromkeys(
                [child.index, relationship.child_key, *([below] if below else [])]))
    return columns


def _reached(scan, path, columns, index: str, wanted: list[str]) -> pl.LazyFrame:
    """The labelled table's rows (``wanted`` columns) that reach an instance, as a lazy
    semi-join chain down the path."""
    level = scan(path[0].parent, [index])
    rows = level
    for relationship in path:
        child_columns = columns[relationship.child]
        rows = scan(relationship.child, child_columns).join(
            level.select(pl.col(relationship.parent_key)), left_on=relationship.child_key,
            right_on=relationship.parent_key, how="semi")
        level = rows.select(pl.col(child_columns[0]).alias(
            _next_parent_key(path, relationship)))
    return rows.select(wanted)


def _next_parent_key(path, relationship) -> str:
    position = path.index(relationship)
    return path[position + 1].parent_key if position + 1 < len(path) else "__featurekit_done"


def _table_bytes(table: Table, columns: list[str]) -> int:
    if table.lazy:
        return int(table.source.bytes_per_row(columns) * table.source.height)
    return int(table.frame.select(columns).estimated_size())
