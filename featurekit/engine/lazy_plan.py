"""Compile feature definitions into one lazy polars plan and run it once.

Per table, the plan is: the raw columns it needs, then one ``group_by().agg()`` per
relationship path carrying every aggregation over that path at once (joined back on the
table's index; aggregations with a kernel statistic, and those of one batch family over the
same inputs, are instead computed together in one pass over the path's rows), then one join
per parent for direct features, then transforms as ``with_columns`` in depth order. Child and parent frames are built the same way, for
exactly the features asked of them, so the recursion follows the feature tree and ends.
"""

from __future__ import annotations

import datetime as dt
import weakref
import zoneinfo
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import polars as pl

from featurekit._memory import release_freed_memory
from featurekit.entityset import EntitySet, Relationship, Table
from featurekit.errors import ComputeError, schema_error
from featurekit.feature import (
    AggregationFeature,
    DirectFeature,
    Feature,
    FeatureOutput,
    IdentityFeature,
    TransformFeature,
    inputs_fit,
)
from featurekit.primitives import ComputeContext, Segments, kernels
from featurekit.types import CATEGORY_TYPES, NUMERIC_TYPES, ColumnSchema

GROUP_KEY = "__featurekit_key"
PARALLEL_PATHS_MAX_ROWS = 3_000_000  # above this, paths run one after another to save memory
PARALLEL_PATHS_MIN_ROWS = 300_000  # below this, starting threads costs more than it saves


def output_columns(features: Sequence[Feature]) -> list[str]:
    """The matrix columns the features produce, multi-output features expanded."""
    return [name for feature in features for name in feature.output_names]


def widen_integers(frame: pl.DataFrame, names: Sequence[str]) -> pl.DataFrame:
    """``frame`` with its integer columns among ``names`` as Int64, as Featuretools gives
    them, whatever narrower type they were computed in (a date part takes a byte a row)."""
    schema = frame.schema
    narrow = [name for name in names if schema[name].is_integer() and schema[name] != pl.Int64]
    return frame.with_columns(pl.col(narrow).cast(pl.Int64)) if narrow else frame


def build_plan(entityset: EntitySet, features: Sequence[Feature],
               cutoff_time: dt.datetime | None = None,
               step: Callable[[str], None] | None = None) -> pl.LazyFrame:
    """The lazy plan for ``features`` (all on one table): the index column, then one column
    per feature output, one row per row of that table. ``step`` is told of each relationship
    path aggregated and each parent joined (a progress bar)."""
    if not features:
        raise ComputeError("no features to compute. Fix: pass the output of fk.plan or fk.load_features")
    targets = {f.table for f in features}
    if len(targets) > 1:
        raise ComputeError(f"features describe several tables {sorted(targets)}. "
                           "Fix: compute the features of one table at a time")
    target = entityset[features[0].table]  # checked against the entity set by compute
    builder = _PlanBuilder(entityset, _cutoff_literal(entityset, cutoff_time))
    if step is not None:
        builder.step = step
    frame = builder.frame(target.name, frozenset(features))
    return frame.select([target.index, *output_columns(features)])


def _no_step(label: str) -> None:
    """A step nobody watches."""


def _cutoff_literal(entityset: EntitySet, cutoff_time: dt.datetime | None) -> pl.Expr:
    """The moment time-relative features are computed as of (now, like Featuretools, when
    no cutoff is given); timezone-aware when the entity set's times are."""
    zones, index_zones = set(), set()
    for table in entityset.tables.values():
        for column, schema in table.schemas.items():
            dtype = table.frame.schema[column]
            if schema.logical_type == "datetime" and isinstance(dtype, pl.Datetime):
                zones.add(dtype.time_zone)
                if column == table.time_index:
                    index_zones.add(dtype.time_zone)
    moment = cutoff_time if cutoff_time is not None else dt.datetime.now()
    # The cutoff is compared with time indexes: their zone decides (a zoned column beside
    # naive time indexes leaves the cutoff naive).
    zone = next(iter((index_zones or zones) - {None}), None)
    if zone is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc).astimezone(zoneinfo.ZoneInfo(zone))
    elif zone is not None:  # the same instant, told in the data's zone
        moment = moment.astimezone(zoneinfo.ZoneInfo(zone))
    return pl.lit(moment, dtype=pl.Datetime("us", zone))


def _check_against_entityset(entityset: EntitySet, features: Iterable[Feature]) -> None:
    """Fail early, naming table and column, when definitions do not fit the entity set: a
    table, column or relationship missing, a column whose type changed since the features
    were planned (a numeric column now categorical would make SUM 0), a primitive whose
    inputs no longer have the types it takes, or two features giving one column."""
    features = list(features)
    for position, feature in enumerate(features):
        if not isinstance(feature, Feature):
            raise ComputeError(f"features[{position}] is {feature!r}, not a feature definition. "
                               "Fix: pass the output of fk.plan, fk.dfs or fk.load_features")
    current: dict[int, ColumnSchema] = {}  # id(node) -> the node's type on this entity set
    routes: dict[str, tuple[Feature, tuple[Relationship, ...]]] = {}  # unique name -> route
    for node, root in _nodes_inputs_first(features):
        if node.table not in entityset.tables:
            raise ComputeError(f"feature {node.name!r} needs table {node.table!r}, which the entity "
                               f"set lacks. Fix: add it (tables: {sorted(entityset.tables)})")
        if isinstance(node, IdentityFeature) and node.column not in entityset[node.table].columns:
            raise schema_error(node.table, node.column, f"feature {node.name!r} needs this column",
                               "add the column or plan features again for this entity set")
        relationships = (node.relationship,) if isinstance(node, DirectFeature) else (
            node.path if isinstance(node, AggregationFeature) else ())
        for relationship in relationships:
            if relationship not in entityset.relationships:
                raise schema_error(relationship.child, relationship.child_key,
                                   f"feature {node.name!r} needs relationship {relationship}",
                                   "add it with add_relationship")
        if relationships:
            _check_one_route_per_name(entityset, node, relationships, routes)
        current[id(node)] = _current_schema(entityset, node, root, current)
    _check_distinct_columns(entityset, features)


def _check_one_route_per_name(entityset: EntitySet, node: Feature,
                              route: tuple[Relationship, ...],
                              routes: dict[str, tuple[Feature, tuple[Relationship, ...]]]) -> None:
    """Two features of one name must go the same way: the engine names columns by feature
    name, so features through two relationships between the same tables (or two paths of a
    diamond) must be told apart by their names, as ``fk.plan`` names them."""
    other, other_route = routes.setdefault(node.unique_name, (node, route))
    if other_route == route:
        return

    def path_name(feature: Feature, path: tuple[Relationship, ...]) -> str:
        return (entityset.parent_name(path[0]) if isinstance(feature, DirectFeature)
                else entityset.path_name(path))

    raise ComputeError(
        f"two features are both named {node.name!r} on table {node.table!r}, one through "
        f"{' / '.join(map(str, other_route))} and one through {' / '.join(map(str, route))}. "
        f"Fix: name each after its path ({path_name(other, other_route)!r} and "
        f"{path_name(node, route)!r}): build them with fk.plan, or pass path_name= to "
        "DirectFeature / AggregationFeature")


def _nodes_inputs_first(features: Sequence[Feature]) -> list[tuple[Feature, Feature]]:
    """Every node of the features' trees once (by identity, so a raw column named like a
    feature is not mistaken for it), inputs before the nodes using them, with the first
    requested feature it serves."""
    seen: set[int] = set()
    ordered: list[tuple[Feature, Feature]] = []
    for root in features:
        stack: list[tuple[Feature, bool]] = [(root, False)]
        while stack:
            node, inputs_done = stack.pop()
            if inputs_done:
                ordered.append((node, root))
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((child, False) for child in reversed(node.sources))
    return ordered


# Kinds of data a saved feature may meet under another logical type: numbers of any width,
# and categories of any kind (an ordinal, a postal or country code); a primitive that needs
# the exact type (one_digit_postal_code) is still checked against its inputs.
_TYPE_FAMILIES = {**dict.fromkeys(NUMERIC_TYPES, "numeric"),
                  **dict.fromkeys(CATEGORY_TYPES, "categorical")}


def _current_schema(entityset: EntitySet, node: Feature, root: Feature,
                    current: dict[int, ColumnSchema]) -> ColumnSchema:
    """The type ``node`` has on this entity set (its inputs' already known), after checking
    that a column keeps the kind of type it was planned with and that every primitive still
    takes its inputs."""
    if isinstance(node, IdentityFeature):
        now = entityset[node.table].schemas[node.column]
        saved = node.schema
        if saved.logical_type is not None and (_TYPE_FAMILIES.get(saved.logical_type, saved.logical_type)
                                               != _TYPE_FAMILIES.get(now.logical_type or "", now.logical_type)):
            raise schema_error(
                node.table, node.column,
                f"feature {root.name!r} was planned when this column was {_describe(saved)}, and it "
                f"is {_describe(now)} in this entity set; its values would be computed from "
                "data of another kind",
                f"give the column its old type (types={{{node.column!r}: {saved.logical_type!r}}} "
                f"when adding table {node.table!r}) or plan the features again for this entity set")
        return now
    inputs = [current[id(child)] for child in node.inputs]
    primitive = node.primitive
    if primitive is None:  # direct features and outputs keep their base's type
        return inputs[0]
    if not inputs_fit(primitive, inputs):
        described = ", ".join(f"{child.name!r} is {_describe(now)} (planned as {_describe(child.schema)})"
                              for child, now in zip(node.inputs, inputs, strict=True))
        takes = " or ".join("(" + ", ".join(_describe(s) for s in signature) + ")"
                            for signature in primitive.input_types)
        raise ComputeError(
            f"feature {root.name!r} needs {primitive.display_name} of {node.name!r}, but in this "
            f"entity set {described}, and {primitive.display_name} takes {takes}. Fix: give the "
            "columns their old types with types= when adding the tables, or plan the features "
            "again for this entity set")
    return primitive.output_schema(inputs)


def _describe(schema: ColumnSchema) -> str:
    words = [schema.logical_type or "any type", *sorted(schema.tags)]
    return " ".join(words)


def _check_distinct_columns(entityset: EntitySet, features: Sequence[Feature]) -> None:
    """Each requested feature once, each output column name once, none named like the index."""
    counts = Counter((type(f), f.unique_name) for f in features)
    repeated = [f.name for f in dict.fromkeys(features) if counts[type(f), f.unique_name] > 1]
    if repeated:
        raise ComputeError(f"features {repeated} are listed more than once; a matrix has one column "
                           "per feature. Fix: pass each feature once, e.g. "
                           "features = list(dict.fromkeys(features))")
    makers: dict[str, Feature] = {}
    index = entityset[features[0].table].index if features else None
    for feature in features:
        for name in feature.output_names:
            if name == index:
                raise ComputeError(f"feature {feature.name!r} gives a column named like {index!r}, the "
                                   f"index of table {feature.table!r}, which indexes the matrix. Fix: "
                                   "leave it out of the features, or rename that column")
            other = makers.setdefault(name, feature)
            if other is not feature:
                raise ComputeError(
                    f"features {other.name!r} ({other.kind}) and {feature.name!r} ({feature.kind}) both give "
                    f"the column {name!r}. Fix: keep one of them; if one is a raw column named like "
                    "a feature, rename that column")


class _PlanBuilder:
    """Builds (and caches) the lazy frame of a table for a set of its features."""

    def __init__(self, entityset: EntitySet, cutoff: pl.Expr):
        self.es = entityset
        self.cutoff = cutoff
        self.step: Callable[[str], None] = _no_step  # told of each path and parent done
        # Weak: a table's frame lives while some plan still needs it, so the rows of one
        # relationship path are freed before the next path's are built.
        self.cache: weakref.WeakValueDictionary = weakref.WeakValueDictionary()

    def frame(self, table_name: str, features: frozenset[Feature]) -> pl.LazyFrame:
        key = (table_name, frozenset(f.unique_name for f in features))
        frame = self.cache.get(key)
        if frame is None:
            table = self.es[table_name]
            needed = _close_over_table(features)
            plan = self._build(table, needed, table.frame.lazy().select(self._raw_columns(table, needed)))
            # Collected once and reused by every consumer: polars does not share subplans
            # across batch-kernel steps, and recomputing them doubled the time of a whole plan.
            frame = plan.collect(engine="in-memory").lazy()
            self.cache[key] = frame
        return frame

    def _raw_columns(self, table: Table, needed: list[Feature]) -> list[str]:
        """The table's columns a frame starts from: index, time index, keys, identity inputs."""
        keys = [table.index]
        if table.time_index:
            keys.append(table.time_index)
        keys += [r.child_key for r in self.es.parent_relationships(table.name)]
        keys += [f.column for f in needed if isinstance(f, IdentityFeature)]
        return list(dict.fromkeys(keys))

    def _context(self, table: Table, aggregating: bool = False) -> ComputeContext:
        time = pl.col(table.time_index) if table.time_index else None
        return ComputeContext(time=time, cutoff=self.cutoff)

    def _row_key(self, table: Table) -> str:
        """The column that tells a frame's rows apart (aggregations are joined back on it)."""
        return table.index

    def _child_rows(self, frame: pl.LazyFrame, table: Table, path: tuple[Relationship, ...],
                    inputs: frozenset[Feature]) -> pl.LazyFrame:
        """The rows of the path's last table with the features in ``inputs``, each carrying
        in ``GROUP_KEY`` the row key of the ``frame`` row it belongs to."""
        rows = self.frame(path[-1].child, inputs)
        return attach_ancestor_key(self.es, rows, path)

    def _table_wide(self, expression: pl.Expr) -> pl.Expr:
        """A transform that looks at other rows of its table (ranks, running sums)."""
        return expression

    def _build(self, table: Table, needed: list[Feature], frame: pl.LazyFrame) -> pl.LazyFrame:
        """``frame`` (the raw columns) with aggregations, direct features and transforms added."""
        by_path, by_parent = group_by_kind(needed)
        if len(by_path) > 1 and self._paths_in_parallel(by_path):
            frame = self._join_paths_in_parallel(frame, table, by_path)
        else:
            # each path collected before the next is built; the longest (the most rows, in
            # the usual case) first, while the frame holds no other path's columns yet
            for path, group in sorted(by_path.items(), key=lambda item: -len(item[0])):
                frame = _collected(self._join_aggregations(frame, table, path, group))
                release_freed_memory(self.es[path[-1].child].frame.height)
                self.step(f"{table.name} <- {path[-1].child}")
        for relationship, group in by_parent.items():
            frame = _collected(self._join_direct(frame, relationship, group))
            self.step(f"{table.name} -> {relationship.parent}")
        return self._add_transforms(frame, table, [f for f in needed if isinstance(f, TransformFeature)])

    def _paths_in_parallel(self, by_path: dict[tuple[Relationship, ...], list]) -> bool:
        """Whether to compute a table's relationship paths on two threads at once: only when
        numba's threading layer is safe for concurrent calls and the tables involved are
        small enough that holding two paths' rows at once does not matter for memory, yet
        large enough to repay starting the threads (and their kernels' thread teams)."""
        tables = {r.child for path in by_path for r in path}
        largest = max(self.es[name].frame.height for name in tables)
        return (PARALLEL_PATHS_MIN_ROWS <= largest <= PARALLEL_PATHS_MAX_ROWS
                and kernels.concurrent_calls_are_safe())

    def _join_paths_in_parallel(self, frame: pl.LazyFrame, table: Table,
                                by_path: dict[tuple[Relationship, ...], list]) -> pl.LazyFrame:
        """Each path's aggregations computed on its own thread (polars and the numba kernels
        release the GIL), then joined on the row key in path order: the same columns in the
        same order as one path after another, whatever the threads do."""
        base = _collected(frame)
        known = set(base.collect_schema().names())
        key = self._row_key(table)
        state = self._thread_state()

        def aggregate(item: tuple[tuple[Relationship, ...], list[AggregationFeature]]) -> pl.DataFrame:
            path, group = item
            self._adopt_thread_state(state)
            joined = self._join_aggregations(base, table, path, group).collect(engine="in-memory")
            self.step(f"{table.name} <- {path[-1].child}")
            return joined.select(key, *[c for c in joined.columns if c not in known])

        with ThreadPoolExecutor(max_workers=2) as pool:
            parts = list(pool.map(aggregate, by_path.items()))
        for part in parts:
            base = base.join(part.lazy(), on=key, how="left", maintain_order="left")
        return _collected(base)

    def _thread_state(self) -> object:
        """What a worker thread must know of the frame being built (nothing here)."""
        return None

    def _adopt_thread_state(self, state: object) -> None:
        """Take on ``_thread_state()`` of the thread that started this one."""

    def _join_aggregations(self, frame: pl.LazyFrame, table: Table, path: tuple[Relationship, ...],
                           group: list[AggregationFeature]) -> pl.LazyFrame:
        """The path's aggregations joined onto ``frame``: the child rows are built once, with
        every where clause's column, and each where clause aggregates only the rows it holds
        for (a filter), as Featuretools computes ``COUNT(sessions WHERE device = mobile)``."""
        child = self.es[path[-1].child]
        by_where = split_by_where(group)
        inputs = frozenset(f for feature in group for f in feature.sources)
        rows = self._child_rows(frame, table, path, inputs)
        if any(f.primitive.ordered for f in group):
            rows = rows.sort([c for c in (child.time_index, child.index) if c], nulls_last=True)
        if len(by_where) > 1:  # read by each where clause: built once
            rows = _collected(rows)
        for where, subgroup in by_where.values():
            subset = rows if where is None else rows.filter(pl.col(where.name).fill_null(False))
            frame = self._aggregate_rows(frame, table, child, subset, subgroup)
        return _finish_aggregations(frame, group)

    def _aggregate_rows(self, frame: pl.LazyFrame, table: Table, child: Table, rows: pl.LazyFrame,
                        group: list[AggregationFeature]) -> pl.LazyFrame:
        """``frame`` with the aggregations of ``rows`` (child rows carrying ``GROUP_KEY``)."""
        context = self._context(child, aggregating=True)
        row_key = self._row_key(table)
        by_kernel = [f for f in group if f.primitive.kernel_stat and len(f.inputs) == 1]
        if by_kernel:
            frame = _attach(frame, row_key, _kernel_batch(rows, by_kernel, context))
        by_kernel_names = {f.unique_name for f in by_kernel}
        batches: dict[tuple, list[AggregationFeature]] = defaultdict(list)
        for feature in group:
            family = feature.primitive.batch_family
            if family is not None and feature.unique_name not in by_kernel_names:
                batches[family, tuple(f.name for f in feature.inputs)].append(feature)
        for batch in batches.values():
            frame = _attach(frame, row_key, _segment_batch(rows, batch))
        routed = by_kernel_names | {
            f.unique_name for batch in batches.values() for f in batch}
        expressions = [
            feature.primitive.aggregate_expr([pl.col(f.name) for f in feature.inputs], context)
            .alias(feature.name)
            for feature in group if feature.unique_name not in routed
        ]
        if expressions:
            frame = _attach(frame, row_key, rows.group_by(GROUP_KEY).agg(expressions))
        return frame

    def _join_direct(self, frame: pl.LazyFrame, relationship: Relationship,
                     group: list[DirectFeature]) -> pl.LazyFrame:
        parent = self.es[relationship.parent]
        bases = frozenset(f.base for f in group)
        values = self.frame(parent.name, bases).select(
            pl.col(parent.index), *[pl.col(f.base.name).alias(f.name) for f in group]).collect()
        return _join_on_index(frame, relationship.child_key, values, parent.index)

    def _add_transforms(self, frame: pl.LazyFrame, table: Table,
                        transforms: list[TransformFeature]) -> pl.LazyFrame:
        if not transforms:
            return frame
        if any(f.primitive.ordered for f in transforms):
            frame = frame.sort([c for c in (table.time_index, table.index) if c], nulls_last=True)
        context = self._context(table)
        for depth in sorted({f.depth for f in transforms}):
            level = [f for f in transforms if f.depth == depth]
            frame = frame.with_columns([
                self._transform_expr(f, context).alias(f.name) for f in level
            ])
        return frame


    def _transform_expr(self, feature: TransformFeature, context: ComputeContext) -> pl.Expr:
        expression = feature.primitive.transform_expr([pl.col(i.name) for i in feature.inputs], context)
        return self._table_wide(expression) if is_table_wide(feature) else expression


def group_by_kind(needed: Iterable[Feature]
                  ) -> tuple[dict[tuple[Relationship, ...], list[AggregationFeature]],
                             dict[Relationship, list[DirectFeature]]]:
    """A table's aggregations by their path and its direct features by their relationship."""
    by_path: dict[tuple[Relationship, ...], list[AggregationFeature]] = defaultdict(list)
    by_parent: dict[Relationship, list[DirectFeature]] = defaultdict(list)
    for feature in needed:
        if isinstance(feature, AggregationFeature):
            by_path[feature.path].append(feature)
        elif isinstance(feature, DirectFeature):
            by_parent[feature.relationship].append(feature)
    return by_path, by_parent


def split_by_where(group: list[AggregationFeature]
                   ) -> dict[str | None, tuple[Feature | None, list[AggregationFeature]]]:
    """The aggregations by where clause (None: none), in the order they come."""
    split: dict[str | None, tuple[Feature | None, list[AggregationFeature]]] = {}
    for feature in group:
        key = None if feature.where is None else feature.where.unique_name
        split.setdefault(key, (feature.where, []))[1].append(feature)
    return split


def attach_ancestor_key(entityset: EntitySet, rows: pl.LazyFrame,
                        path: tuple[Relationship, ...]) -> pl.LazyFrame:
    """Give each row of the path's last table, in ``GROUP_KEY``, the key of the path's first
    parent (walking up the path); rows that reach no such parent are left out. A key walked
    up to is held as Int32 when its values fit, half the memory over a long table."""
    top = entityset[path[0].child].frame[path[0].child_key]
    key_type = top.dtype
    if len(path) > 1 and top.dtype.is_integer() and top.len() and (
            np.iinfo(np.int32).min <= (top.min() or 0) and (top.max() or 0) <= np.iinfo(np.int32).max):
        key_type = pl.Int32

    def walk(batch: pl.DataFrame) -> pl.DataFrame:
        key = batch[path[-1].child_key]
        for relationship in reversed(path[:-1]):
            middle = entityset[relationship.child]
            keys_up = middle.frame[relationship.child_key]
            key = _key_of_parent(key, middle.frame[middle.index],
                                 keys_up.cast(key_type) if relationship is path[0] else keys_up)
        batch = batch.with_columns(key.alias(GROUP_KEY))
        return batch.filter(key.is_not_null()) if key.null_count() else batch

    return rows.map_batches(walk, schema={**rows.collect_schema(), GROUP_KEY: key_type})


def _key_of_parent(child_keys: pl.Series, parent_index: pl.Series, parent_keys: pl.Series) -> pl.Series:
    """For each child key, ``parent_keys`` of the parent row it names (missing where none)."""
    return of_parents(child_keys, parent_index, [parent_keys])[0]


def of_parents(child_keys: pl.Series, parent_index: pl.Series, columns: list[pl.Series]) -> list[pl.Series]:
    """For each child key, the values of ``columns`` (aligned with ``parent_index``) at the
    parent row it names (missing where none). A compact integer index is matched by position;
    values are then gathered through numpy, whose large arrays go back to the system as soon
    as they are dropped."""
    values = pl.DataFrame([c.alias(f"__{i}") for i, c in enumerate(columns)])  # names may repeat
    slots = kernels.dense_keys(parent_index)
    if slots is None or not child_keys.dtype.is_integer():
        gathered = child_keys.to_frame("__featurekit_child").join(values.with_columns(parent_index.alias("__featurekit_child")),
                                                       on="__featurekit_child", how="left", maintain_order="left")
    else:
        gathered = kernels.gather_rows(values, kernels.parent_positions(slots, parent_index.len(), child_keys))
    return [gathered[f"__{i}"].alias(c.name) for i, c in enumerate(columns)]


def kernel_results(features: list[AggregationFeature], rows: pl.DataFrame, moments, categories
                   ) -> dict[tuple[str, str], object] | None:
    """Every (input column, kernel statistic) the features ask for, one call per column and
    kind: ``moments(values, stats)`` and ``categories(values, stats)`` are the group-by or the
    as-of kernels. None when a column has too many distinct values to count."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for feature in features:
        wanted[feature.inputs[0].name].add(feature.primitive.kernel_stat)
    results: dict[tuple[str, str], object] = {}
    for column, stats in wanted.items():
        if stats & kernels.MOMENT_STATS:
            computed = moments(rows[column], stats & kernels.MOMENT_STATS)
            results.update({(column, stat): values for stat, values in computed.items()})
        if stats & kernels.CATEGORY_STATS:
            counted = categories(rows[column], stats & kernels.CATEGORY_STATS)
            if counted is None:
                return None
            results.update({(column, stat): values for stat, values in counted.items()})
    return results


def _finish_aggregations(frame: pl.LazyFrame, group: list[AggregationFeature]) -> pl.LazyFrame:
    """Split multi-output aggregations into their columns and put in primitives' defaults."""
    finish = []
    for feature in group:
        if feature.number_output_features > 1:
            finish += [pl.col(feature.name).list.get(i, null_on_oob=True).alias(name)
                       for i, name in enumerate(feature.output_names)]
        elif feature.primitive.default_value is not None:
            # Featuretools' rule: a primitive's default stands in wherever it yields no
            # value (a parent without rows; KURTOSIS of missing data).
            finish.append(pl.col(feature.name).fill_nan(None).fill_null(
                feature.primitive.default_value) if feature.schema.logical_type == "double"
                else pl.col(feature.name).fill_null(feature.primitive.default_value))
    if finish:
        frame = frame.with_columns(finish)
    multi = [f.name for f in group if f.number_output_features > 1]
    return frame.drop(multi)


def is_table_wide(feature: Feature) -> bool:
    """Whether a transform's value for a row depends on the table's other rows."""
    return isinstance(feature, TransformFeature) and (
        feature.primitive.ordered or not feature.primitive.row_wise)


def _close_over_table(features: Iterable[Feature]) -> list[Feature]:
    """The features plus every same-table feature they are computed from, inputs first."""
    ordered: dict[str, Feature] = {}

    def visit(feature: Feature) -> None:
        if feature.unique_name in ordered:
            return
        if isinstance(feature, (TransformFeature, FeatureOutput)):
            for source in feature.inputs:
                visit(source)
        ordered[feature.unique_name] = feature

    for feature in features:
        visit(feature)
    return [f for f in ordered.values() if not isinstance(f, FeatureOutput)]


def _kernel_batch(rows: pl.LazyFrame, features: list[AggregationFeature],
                  context: ComputeContext) -> pl.LazyFrame:
    """Aggregations with a kernel statistic, all computed in one batch step of the plan:
    numba passes over group slots (any integer keys: ``kernels.group_slots``), or polars
    expressions for other keys. With slots a group's statistics depend on its own rows
    only, so a partition of the instances gives the bits of the whole computation."""
    inputs = list(dict.fromkeys(f.inputs[0].name for f in features))
    selected = rows.select([GROUP_KEY, *inputs])
    schema = selected.collect_schema()
    output_schema = {GROUP_KEY: schema[GROUP_KEY]}
    for feature in features:
        output_schema[feature.name] = _kernel_dtype(feature, schema[feature.inputs[0].name])

    def by_expressions(batch: pl.DataFrame) -> pl.DataFrame:
        computed = batch.group_by(GROUP_KEY).agg([_kernel_expr(f, schema, context) for f in features])
        return _checked_integer_sums(computed, features, schema)

    def run(batch: pl.DataFrame) -> pl.DataFrame:
        keys = kernels.group_slots(batch[GROUP_KEY])
        if keys is None:
            return by_expressions(batch).cast(output_schema)
        results = kernel_results(
            features, batch, lambda values, stats: kernels.group_moments(keys, values, stats),
            lambda values, stats: kernels.group_categories(keys, values, stats))
        if results is None:
            return by_expressions(batch).cast(output_schema)
        present = np.diff(keys.grouped()[1]) > 0  # slots with rows (no pass over the rows)
        keep = None if present.all() else present
        columns = [keys.keys(present, schema[GROUP_KEY]).alias(GROUP_KEY)]
        uses = Counter((f.inputs[0].name, f.primitive.kernel_stat) for f in features)
        for feature in features:
            result = (feature.inputs[0].name, feature.primitive.kernel_stat)
            uses[result] -= 1  # each result is dropped after its last use: one copy at a time
            values = results[result] if uses[result] else results.pop(result)
            columns.append(_present_groups(values, keep, feature.primitive.kernel_stat).alias(feature.name))
            del values
        result = pl.DataFrame(columns)
        return result if result.schema == output_schema else result.cast(output_schema)

    return selected.map_batches(run, schema=output_schema)


def _present_groups(values: np.ndarray | pl.Series, keep: np.ndarray | None,
                    stat: str | None = None) -> pl.Series:
    """A kernel's per-slot result for the slots in ``keep`` (all when None), NaN as missing
    (except for a sum, which is never missing: its NaN is +inf plus -inf, a value).
    Numeric results stay numpy arrays until polars wraps them (no copy): numpy's large blocks
    go back to the system when dropped, where copies made by polars would linger in its
    allocator."""
    if isinstance(values, pl.Series):
        return values if keep is None else values.filter(pl.Series(keep))
    kept = values if keep is None else values[keep]
    if kept.dtype.kind != "f" or stat == "sum":
        return pl.Series(kept)
    if kept.shape[0] < kernels.NUMPY_GATHER_MIN_ROWS:  # a small copy costs less than a mask
        return pl.Series(kept, nan_to_null=True)
    return kernels.masked_series(kept, np.isnan(kept))


def _segment_batch(rows: pl.LazyFrame, features: list[AggregationFeature]) -> pl.LazyFrame:
    """Aggregations of one batch family over the same inputs, computed by a single
    ``aggregate_segments`` call: the rows are laid out parent by parent (a stable sort by
    ``GROUP_KEY``, so each parent's rows keep the order they come in), one column per feature."""
    inputs = [f.name for f in features[0].inputs]
    laid_out = (rows.select(GROUP_KEY, *inputs).collect(engine="in-memory")
                .sort(GROUP_KEY, maintain_order=True))
    keys = laid_out[GROUP_KEY]
    starts = np.flatnonzero(keys.ne_missing(keys.shift(1)).fill_null(True).to_numpy())
    stops = np.append(starts[1:], laid_out.height) if laid_out.height else starts
    segments = Segments(tuple(laid_out[name] for name in inputs),
                        starts.astype(np.int64), stops.astype(np.int64))
    primitive = features[0].primitive
    values = type(primitive).aggregate_segments([f.primitive for f in features], segments)
    columns = [keys.gather(starts)] + [v.alias(f.name) for f, v in zip(features, values, strict=True)]
    return pl.DataFrame(columns).lazy()


def _kernel_expr(feature: AggregationFeature, schema: pl.Schema, context: ComputeContext) -> pl.Expr:
    """The polars expression of a kernel statistic: the primitive's own, except that an
    integer column's sum, min and max stay exact integers (a sum in Int128, checked after)."""
    column = feature.inputs[0].name
    stat = feature.primitive.kernel_stat
    if schema[column].is_integer() and stat in kernels.INTEGER_STATS:
        values = pl.col(column)
        exact = {"sum": values.cast(pl.Int128).sum(), "min": values.min(), "max": values.max()}
        return exact[stat].alias(feature.name)
    return feature.primitive.aggregate_expr([pl.col(column)], context).alias(feature.name)


def _checked_integer_sums(computed: pl.DataFrame, features: list[AggregationFeature],
                          schema: pl.Schema) -> pl.DataFrame:
    """``computed`` with its Int128 sums of integer columns as Int64; a sum beyond int64 is
    an error, never a wrapped value."""
    limit = np.iinfo(np.int64)
    for feature in features:
        if computed.schema[feature.name] != pl.Int128:
            continue
        sums = computed[feature.name]
        outside = int(((sums < limit.min) | (sums > limit.max)).sum())
        if outside:
            column = feature.inputs[0].name
            raise ComputeError(f"the SUM of integer column {column!r} exceeds the int64 range for "
                               f"{outside} group(s). Fix: give the column the type 'double' "
                               f"(types={{{column!r}: 'double'}}) to sum it in floats")
    return computed


def _kernel_dtype(feature: AggregationFeature, input_dtype: pl.DataType) -> pl.DataType:
    stat = feature.primitive.kernel_stat or feature.primitive.order_stat
    if stat in ("mode", "first", "last"):  # a value of the input itself
        return input_dtype
    if stat in kernels.INTEGER_STATS and input_dtype.is_integer():  # exact, as integers
        return pl.Int64
    if stat in ("rows", "nunique", "true_count"):
        return pl.Int64
    return pl.Float64


def _attach(frame: pl.LazyFrame, row_key: str, computed: pl.LazyFrame) -> pl.LazyFrame:
    """``frame`` with the columns of ``computed`` (one row per ``GROUP_KEY``), matched on
    ``row_key``: added beside the frame's columns, which a join would have copied."""
    computed = computed.collect(engine="in-memory")
    key_type = frame.collect_schema()[row_key]
    if computed.schema[GROUP_KEY] != key_type:  # a key held narrower on the way up
        computed = computed.with_columns(pl.col(GROUP_KEY).cast(key_type))
    return _join_on_index(frame, row_key, computed, GROUP_KEY)


def _join_on_index(frame: pl.LazyFrame, key: str, parent: pl.DataFrame, index: str) -> pl.LazyFrame:
    """Left-join ``parent``'s other columns onto ``frame`` by ``frame[key] == parent[index]``.

    When the parent's index is a compact integer range this is a positional gather (a row
    number per index slot), several times cheaper than a hash join on millions of rows.
    """
    slots = kernels.dense_keys(parent[index])
    if slots is None or not frame.collect_schema()[key].is_integer():
        return frame.join(parent.lazy(), left_on=key, right_on=index, how="left")
    values = parent.drop(index)

    def gather(batch: pl.DataFrame) -> pl.DataFrame:
        if values.height == 0:
            return pl.concat([batch, values.clear(batch.height)], how="horizontal")
        positions = kernels.parent_positions(slots, parent.height, batch[key])
        if values.height == batch.height and not positions.null_count() and np.array_equal(
                positions.to_numpy(), np.arange(batch.height)):  # row for row already
            return pl.concat([batch, values], how="horizontal")
        return pl.concat([batch, kernels.gather_rows(values, positions)], how="horizontal")

    schema = {**frame.collect_schema(), **values.schema}
    return frame.map_batches(gather, schema=schema)


def _collected(frame: pl.LazyFrame) -> pl.LazyFrame:
    return frame.collect(engine="in-memory").lazy()
