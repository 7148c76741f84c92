"""Reach: which rows of each table a set of target instances needs, and the small entity set
built from only those rows.

The walk follows the feature trees: an aggregation walks down its relationship path with
semi-joins on the keys (``is_in``), a direct feature reads the parents its rows refer to, a
parent's own features get the rows they need in turn, and a transform that reads its whole
table (a rank, a running sum) needs every row of that table. Only key columns are read
while walking; the tables' other columns are read once the keys are known (projection: the
columns the features read, plus keys and time index).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import polars as pl

from featurekit.engine.lazy_plan import _close_over_table, group_by_kind, is_table_wide
from featurekit.entityset import EntitySet, Relationship, Table
from featurekit.feature import Feature, IdentityFeature

# table -> (columns) -> the table's rows as a lazy frame, typed as the entity set types them
Scan = Callable[[str, list[str]], pl.LazyFrame]


@dataclass(frozen=True)
class TableMeta:
    """What a partition's entity set keeps of a master table: keys and schemas, no rows."""

    name: str
    index: str
    time_index: str | None
    schemas: dict[str, Any]
    source_kind: str
    interesting_values: dict[str, list]
    dtypes: dict[str, pl.DataType]


@dataclass(frozen=True)
class ReachPlan:
    """What the features read, independent of which instances: per table the columns
    (projection) and the tables every partition reads in full (with the features that
    make it so)."""

    target: str
    columns: dict[str, list[str]]
    whole: dict[str, list[str]]


def table_meta(table: Table, dtypes: dict[str, pl.DataType]) -> TableMeta:
    return TableMeta(table.name, table.index, table.time_index, dict(table.schemas),
                     table.source_kind, dict(table.interesting_values), dict(dtypes))


def plan_reach(entityset: EntitySet, features: list[Feature],
               dtypes: dict[str, dict[str, pl.DataType]]) -> ReachPlan:
    """The columns each table contributes and the tables read in full, for ``features``."""
    target = features[0].table
    columns: dict[str, dict[str, None]] = defaultdict(dict)
    whole: dict[str, dict[str, None]] = defaultdict(dict)

    def raw(table_name: str, needed: list[Feature]) -> None:
        table = entityset[table_name]
        keys = [table.index, *([table.time_index] if table.time_index else []),
                *[r.child_key for r in entityset.parent_relationships(table_name)],
                *[f.column for f in needed if isinstance(f, IdentityFeature)],
                # a zoned datetime column decides the zone of time-relative features
                *[c for c, d in dtypes[table_name].items()
                  if isinstance(d, pl.Datetime) and d.time_zone is not None]]
        columns[table_name].update(dict.fromkeys(keys))

    def visit(table_name: str, features_here: Iterable[Feature]) -> None:
        needed = _close_over_table(features_here)
        raw(table_name, needed)
        for feature in needed:
            if is_table_wide(feature):
                whole[table_name][feature.name] = None
        by_path, by_parent = group_by_kind(needed)
        for path, group in by_path.items():
            for relationship in path:
                raw(relationship.child, [])
            visit(path[-1].child, [f for feature in group for f in feature.sources])
        for relationship, group in by_parent.items():
            visit(relationship.parent, [f.base for f in group])

    visit(target, features)
    return ReachPlan(target, {t: list(c) for t, c in columns.items()},
                     {t: list(names) for t, names in whole.items()})


class _Walk:
    """One partition's walk: the index keys each table must provide (None: every row)."""

    def __init__(self, entityset: EntitySet, plan: ReachPlan, scan: Scan,
                 known_by: Callable[[str], pl.Expr | None]):
        self.es = entityset
        self.plan = plan
        self.scan = scan
        self.known_by = known_by  # table -> a filter on rows no cutoff of the partition sees
        # table -> the key sets found for it (each distinct already), or None for every row
        self.found: dict[str, dict[int, pl.Series] | None] = {}
        # (table, column, wanted, id(values)) -> (values, result): a path walked again from
        # the same keys (a child's own aggregations) is not scanned twice
        self.memo: dict[tuple, tuple[pl.Series | None, pl.Series | None]] = {}

    def add(self, table: str, keys: pl.Series | None) -> None:
        if table in self.found and self.found[table] is None:
            return
        if keys is None or table in self.plan.whole:
            self.found[table] = None
        else:
            self.found.setdefault(table, {})[id(keys)] = keys

    @property
    def keys(self) -> dict[str, pl.Series | None]:
        """Each table's keys: one set as found, several joined once."""
        joined: dict[str, pl.Series | None] = {}
        for table, sets in self.found.items():
            if sets is None:
                joined[table] = None
            elif len(sets) == 1:
                joined[table] = next(iter(sets.values()))
            else:
                joined[table] = pl.concat(list(sets.values())).unique()
        return joined

    def rows_where(self, table_name: str, column: str, values: pl.Series | None,
                   wanted: str) -> pl.Series | None:
        """``wanted`` of the rows of ``table_name`` whose ``column`` is in ``values`` (every
        row when None) and which some cutoff of the partition may see; None for all rows."""
        table = self.es[table_name]
        known = self.known_by(table_name)
        if values is None and known is None:
            return None
        key = (table_name, column, wanted, id(values))
        if key in self.memo:
            return self.memo[key][1]
        needs = list(dict.fromkeys([wanted, column, *([table.time_index] if known is not None else [])]))
        rows = self.scan(table_name, needs)
        if values is not None:
            rows = rows.filter(pl.col(column).is_in(values.implode()))
        if known is not None:
            rows = rows.filter(known)
        result = rows.select(wanted).collect(engine="streaming").to_series()
        self.memo[key] = (values, result)
        return result

    def visit(self, table_name: str, features_here: Iterable[Feature],
              keys: pl.Series | None) -> None:
        if table_name in self.plan.whole:
            keys = None
        self.add(table_name, keys)
        needed = _close_over_table(features_here)
        by_path, by_parent = group_by_kind(needed)
        for path, group in by_path.items():
            reached = keys
            for relationship in path:
                child = self.es[relationship.child]
                reached = self.rows_where(child.name, relationship.child_key, reached, child.index)
                self.add(child.name, reached)
            self.visit(path[-1].child, [f for feature in group for f in feature.sources], reached)
        table = self.es[table_name]
        for relationship, group in by_parent.items():
            parents = None
            if keys is not None:
                parents = (self.scan(table_name, [table.index, relationship.child_key])
                           .filter(pl.col(table.index).is_in(keys.implode()))
                           .select(pl.col(relationship.child_key).drop_nulls().unique())
                           .collect(engine="streaming").to_series())
            self.visit(relationship.parent, [f.base for f in group], parents)


def reach_keys(entityset: EntitySet, plan: ReachPlan, features: list[Feature],
               instances: pl.Series, scan: Scan,
               known_by: Callable[[str], pl.Expr | None]) -> dict[str, pl.Series | None]:
    """For each table the partition reads, the index keys of its rows (None: all rows).
    ``instances`` are the partition's target keys; ``known_by(table)`` filters out rows no
    cutoff of the partition can see (None: keep all). Tables absent are not read at all."""
    walk = _Walk(entityset, plan, scan, known_by)
    walk.visit(plan.target, features, instances)
    return walk.keys


def partition_entityset(name: str, metas: dict[str, TableMeta], relationships: list[Relationship],
                        frames: dict[str, pl.DataFrame]) -> EntitySet:
    """An entity set over the given rows with the master's schemas: no inference, no
    validation, no warnings (the master was validated once)."""
    entityset = EntitySet(name)
    for table_name, meta in metas.items():
        frame = frames[table_name]
        schemas = {column: meta.schemas[column] for column in frame.columns}
        entityset.tables[table_name] = Table(table_name, frame, meta.index, meta.time_index,
                                             schemas, meta.source_kind,
                                             dict(meta.interesting_values))
        entityset.graph.add_node(table_name)
    for relationship in relationships:
        entityset.relationships.append(relationship)
        entityset.graph.add_edge(relationship.parent, relationship.child,
                                 key=relationship.child_key, relationship=relationship)
    return entityset
