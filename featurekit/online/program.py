"""The online polars path (used when the numpy path of ``fast`` does not cover every
feature): one instance's features computed from its own rows only, by the primitives' own
polars expressions over frames of a few hundred rows, in the batch engine's order
(aggregations per path, direct features per parent, transforms by depth) and with its rules (a kernel statistic's exact integers and missing values, defaults for parents
without rows, where clauses, rows in time order for ordered primitives, a row counts when
its time is at or before the cutoff). No lazy plan, no scan of a whole table.

Features this path does not compute (a transform that looks at the table's other rows, a
batch family of aggregations) are listed by ``slow_features`` and computed by the batch
engine on the gathered rows instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from featurekit.engine.lazy_plan import (
    GROUP_KEY,
    _checked_integer_sums,
    _close_over_table,
    _finish_aggregations,
    _kernel_dtype,
    _kernel_expr,
    group_by_kind,
    is_table_wide,
    split_by_where,
)
from featurekit.entityset import EntitySet, Relationship, Table
from featurekit.feature import (
    AggregationFeature,
    DirectFeature,
    Feature,
    IdentityFeature,
    TransformFeature,
)
from featurekit.online.rows import Part, key_values
from featurekit.primitives import ComputeContext

PARENT = "__featurekit_parent"
NAN_FREE = "__featurekit_nan_free_"  # a float input of kernel statistics, NaN as missing


def fast_feature(feature: Feature) -> bool:
    """Whether the online path computes ``feature`` (and every feature it reads) itself."""
    if isinstance(feature, TransformFeature) and is_table_wide(feature):
        return False
    if isinstance(feature, AggregationFeature) and feature.primitive.batch_family is not None:
        return False
    return all(fast_feature(source) for source in feature.sources)


@dataclass
class TablePlan:
    """What to compute on rows of one table: its raw columns, then aggregations per path,
    direct features per parent, transforms by depth (the batch engine's order)."""

    table: Table
    columns: list[str]
    paths: list[tuple[tuple[Relationship, ...], list[AggregationFeature], TablePlan]] = field(default_factory=list)
    parents: list[tuple[Relationship, list[DirectFeature], TablePlan]] = field(default_factory=list)
    transforms: list[list[TransformFeature]] = field(default_factory=list)
    memo: dict = field(default_factory=dict)  # what the numpy path derives from the plan, once


def table_plan(entityset: EntitySet, table_name: str, features: Sequence[Feature]) -> TablePlan:
    """The plan for ``features`` of one table and, recursively, for what they read."""
    table = entityset[table_name]
    needed = _close_over_table(features)
    columns = [table.index, *([table.time_index] if table.time_index else []),
               *[r.child_key for r in entityset.parent_relationships(table_name)],
               *[f.column for f in needed if isinstance(f, IdentityFeature)]]
    plan = TablePlan(table, list(dict.fromkeys(columns)))
    by_path, by_parent = group_by_kind(needed)
    for path, group in by_path.items():
        inputs = list(dict.fromkeys(f for feature in group for f in feature.sources))
        plan.paths.append((path, group, table_plan(entityset, path[-1].child, inputs)))
    for relationship, group in by_parent.items():
        bases = list(dict.fromkeys(f.base for f in group))
        plan.parents.append((relationship, group, table_plan(entityset, relationship.parent, bases)))
    transforms = [f for f in needed if isinstance(f, TransformFeature)]
    plan.transforms = [[f for f in transforms if f.depth == depth]
                       for depth in sorted({f.depth for f in transforms})]
    return plan


class Moment:
    """One instance's cutoff: which rows of a part are known (time at or before it, or
    before it without ``include``; after ``floor``, the training window's start, for event
    tables; a row without a time never), and the literal time-relative primitives measure
    to. ``ticks`` and ``floor`` are in the unit of ``Part.times`` (``ticks`` None: now,
    every row with a time)."""

    def __init__(self, cutoff_ticks: int | float | None, literal: pl.Expr, scale,
                 include: bool = True, floor: int | float | None = None,
                 unwindowed: frozenset[str] = frozenset()) -> None:
        self.ticks = cutoff_ticks
        self.literal = literal
        self.scale = scale
        self.include = include
        self.floor = floor
        self.unwindowed = unwindowed  # the target and the tables it refers to

    def known(self, table: Table, part: Part, positions: np.ndarray) -> np.ndarray:
        if table.time_index is None or not len(positions):
            return positions
        ticks, present = part.times(table.time_index, self.scale)
        keep = present[positions]
        if self.ticks is not None:
            times = ticks[positions]
            keep = keep & ((times <= self.ticks) if self.include else (times < self.ticks))
            if self.floor is not None and table.name not in self.unwindowed:
                keep = keep & (times > self.floor)
        return positions if keep.all() else positions[keep]


class Runner:
    """Computes plans over the rows held for one call (its parts per table)."""

    def __init__(self, entityset: EntitySet, parts: dict[str, list[Part]], moment: Moment) -> None:
        self.es = entityset
        self.parts = parts
        self.moment = moment

    def rows(self, table: Table, column: str, values: np.ndarray, columns: list[str]) -> pl.DataFrame:
        """``columns`` of the known rows of ``table`` whose ``column`` is one of ``values``."""
        chunks = []
        for part in self.parts[table.name]:
            positions = self.moment.known(table, part, part.lookup(column).rows_of(values))
            if len(positions):
                chunks.append(part.frame.select(columns)[positions])
        if not chunks:
            return self.parts[table.name][0].frame.select(columns).clear()
        return chunks[0] if len(chunks) == 1 else pl.concat(chunks, how="vertical")

    def run(self, plan: TablePlan, frame: pl.DataFrame) -> pl.DataFrame:
        """``frame`` (the plan's raw columns, rows known at the cutoff) with its features."""
        table = plan.table
        for path, group, child_plan in plan.paths:
            frame = self._aggregate(frame, table, path, group, child_plan)
        for relationship, group, parent_plan in plan.parents:
            frame = self._direct(frame, relationship, group, parent_plan)
        if plan.transforms:
            context = ComputeContext(time=pl.col(table.time_index) if table.time_index else None,
                                     cutoff=self.moment.literal)
            for level in plan.transforms:
                frame = frame.with_columns([
                    f.primitive.transform_expr([pl.col(i.name) for i in f.inputs], context).alias(f.name)
                    for f in level])
        return frame

    def _child_rows(self, frame: pl.DataFrame, table: Table, path: tuple[Relationship, ...],
                    child_plan: TablePlan) -> pl.DataFrame:
        """The known rows of the path's last table with their features, each carrying in
        ``GROUP_KEY`` the index of the ``frame`` row it belongs to."""
        single = frame.height == 1  # one owner: every row reached is its own, no join
        owners = frame.select(pl.col(table.index).alias(PARENT), pl.col(table.index).alias(GROUP_KEY))
        for step, relationship in enumerate(path):
            child = self.es[relationship.child]
            last = step == len(path) - 1
            columns = child_plan.columns if last else [child.index, relationship.child_key]
            columns = list(dict.fromkeys([*columns, relationship.child_key]))
            reached = self.rows(child, relationship.child_key, key_values(owners[PARENT]), columns)
            if single:
                reached = reached.with_columns(pl.repeat(frame[table.index][0], reached.height,
                                                         dtype=owners.schema[GROUP_KEY],
                                                         eager=True).alias(GROUP_KEY))
            else:
                reached = reached.join(owners, left_on=relationship.child_key, right_on=PARENT,
                                       how="inner", maintain_order="left")
            if not last:
                owners = reached.select(pl.col(child.index).alias(PARENT), GROUP_KEY)
        keys = reached[GROUP_KEY]
        return self.run(child_plan, reached.drop(GROUP_KEY)).with_columns(keys)

    def _aggregate(self, frame: pl.DataFrame, table: Table, path: tuple[Relationship, ...],
                   group: list[AggregationFeature], child_plan: TablePlan) -> pl.DataFrame:
        child = self.es[path[-1].child]
        rows = self._child_rows(frame, table, path, child_plan)
        if any(f.primitive.ordered for f in group):
            rows = rows.sort([c for c in (child.time_index, child.index) if c], nulls_last=True)
        context = ComputeContext(time=pl.col(child.time_index) if child.time_index else None,
                                 cutoff=self.moment.literal)
        for where, subgroup in split_by_where(group).values():
            subset = rows if where is None else rows.filter(pl.col(where.name).fill_null(False))
            frame = self._join_aggregations(frame, table, subset, subgroup, context)
        return _finish_aggregations(frame, group)

    def _join_aggregations(self, frame: pl.DataFrame, table: Table, rows: pl.DataFrame,
                           group: list[AggregationFeature], context: ComputeContext) -> pl.DataFrame:
        schema = rows.schema
        expressions, kernel_floats, nan_free = [], [], {}
        for feature in group:
            stat = feature.primitive.kernel_stat
            if stat and len(feature.inputs) == 1:
                # the kernels' rules: NaN is missing in the input, and in a result (but a sum)
                column = feature.inputs[0].name
                if schema[column].is_float():
                    column = nan_free.setdefault(column, f"{NAN_FREE}{len(nan_free)}")
                expressions.append(_kernel_expression(feature, column, schema, context))
                dtype = _kernel_dtype(feature, schema[feature.inputs[0].name])
                if dtype == pl.Float64 and stat != "sum":
                    kernel_floats.append(feature.name)
            else:
                expressions.append(feature.primitive.aggregate_expr(
                    [pl.col(f.name) for f in feature.inputs], context).alias(feature.name))
        if nan_free:
            rows = rows.with_columns(pl.col(c).fill_nan(None).alias(a) for c, a in nan_free.items())
        if frame.height == 1:
            computed = rows.select(expressions)
            if rows.height == 0:  # no rows: missing, as a parent absent from a group-by
                computed = computed.clear(1)
            computed = _exact_sums(computed, group, schema)
            computed = computed.with_columns(_kernel_types(group, schema, kernel_floats))
            return pl.concat([frame, computed], how="horizontal")
        computed = rows.group_by(GROUP_KEY).agg(expressions)
        computed = _exact_sums(computed, group, schema)
        computed = computed.with_columns(_kernel_types(group, schema, kernel_floats))
        return frame.join(computed, left_on=table.index, right_on=GROUP_KEY, how="left",
                          maintain_order="left")

    def _direct(self, frame: pl.DataFrame, relationship: Relationship, group: list[DirectFeature],
                parent_plan: TablePlan) -> pl.DataFrame:
        parent = self.es[relationship.parent]
        keys = frame[relationship.child_key].drop_nulls().unique()
        rows = self.rows(parent, parent.index, key_values(keys), parent_plan.columns)
        values = self.run(parent_plan, rows).select(
            pl.col(parent.index).alias(PARENT), *[pl.col(f.base.name).alias(f.name) for f in group])
        return frame.join(values, left_on=relationship.child_key, right_on=PARENT, how="left",
                          maintain_order="left")


def _exact_sums(computed: pl.DataFrame, group: list[AggregationFeature],
                schema: pl.Schema) -> pl.DataFrame:
    """Integer sums (Int128) checked against the int64 range, as the batch engine checks them."""
    if any(dtype == pl.Int128 for dtype in computed.schema.values()):
        return _checked_integer_sums(computed, group, schema)
    return computed


def _kernel_expression(feature: AggregationFeature, column: str, schema: pl.Schema,
                       context: ComputeContext) -> pl.Expr:
    """``_kernel_expr`` of the batch engine, reading ``column`` (the input without NaN)."""
    source = feature.inputs[0].name
    if schema[source].is_integer() and feature.primitive.kernel_stat in ("sum", "min", "max"):
        return _kernel_expr(feature, schema, context)
    return feature.primitive.aggregate_expr([pl.col(column)], context).alias(feature.name)


def _kernel_types(group: list[AggregationFeature], schema: pl.Schema,
                  kernel_floats: list[str]) -> list[pl.Expr]:
    """Kernel statistics in the dtypes the kernels give, float results NaN-free."""
    expressions = []
    for feature in group:
        if feature.primitive.kernel_stat and len(feature.inputs) == 1:
            dtype = _kernel_dtype(feature, schema[feature.inputs[0].name])
            expression = pl.col(feature.name).cast(dtype)
            if feature.name in kernel_floats:
                expression = expression.fill_nan(None)
            expressions.append(expression)
    return expressions
