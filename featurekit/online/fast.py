"""The fastest online path: features computed over numpy arrays of the rows of one instance,
for plans made of identity columns, direct features, row-wise transforms of a table's own
columns (computed once per held part, since they never depend on the cutoff) and the
aggregations the batch engine computes with its kernel statistics (COUNT, SUM, MEAN, STD,
MIN, MAX, SKEW, MODE, NUM_UNIQUE, PERCENT_TRUE, NUM_TRUE, ...), which are computed by the
batch engine's own numba kernels (see ``aggregate``): no second implementation of them.

``array_feature`` tells which features it computes; a call meeting a case it does not
handle (a mode of booleans, an aggregation of datetimes) raises ``Unsupported`` and is
computed by the polars path of ``program`` instead.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import polars as pl

from featurekit.engine.lazy_plan import _cutoff_literal, split_by_where
from featurekit.entityset import EntitySet, Relationship, Table
from featurekit.feature import (
    AggregationFeature,
    DirectFeature,
    Feature,
    IdentityFeature,
    TransformFeature,
)
from featurekit.online.aggregate import CATEGORIES, MOMENTS, Groups, Unsupported, aggregate
from featurekit.online.columns import (
    BOOLEAN,
    CODES,
    FLOAT,
    INTEGER,
    OTHER,
    Coder,
    Col,
    concat,
    kind_of,
    to_col,
)
from featurekit.online.program import Moment, TablePlan
from featurekit.online.rows import Part
from featurekit.primitives import ComputeContext

Rows = list[tuple[Part, np.ndarray]]  # known rows of one table: positions in each part


def precomputable(feature: Feature) -> bool:
    """A row-wise transform of its table's own columns: the same for every cutoff."""
    if isinstance(feature, IdentityFeature):
        return True
    if not isinstance(feature, TransformFeature):
        return False
    primitive = feature.primitive
    return (primitive.row_wise and not primitive.ordered and not primitive.uses_cutoff
            and all(precomputable(f) for f in feature.inputs))


def array_feature(feature: Feature) -> bool:
    """Whether the numpy path computes ``feature``."""
    if precomputable(feature):
        return True
    if isinstance(feature, DirectFeature):
        return array_feature(feature.base)
    if isinstance(feature, AggregationFeature):
        stat = feature.primitive.kernel_stat
        return (stat in MOMENTS | CATEGORIES and len(feature.inputs) == 1
                and all(array_feature(f) for f in feature.sources))
    return False


class Columns:
    """How the numpy path makes columns of a part: raw columns, and row-wise transforms of
    them (``precomputable``: the same at any cutoff, so made once per part, for its rows
    only), categories as stable codes of one ``Coder`` per column. A new part's columns are
    made together, the transforms in one polars query."""

    def __init__(self, entityset: EntitySet, coders: dict,
                 transforms: dict[str, dict[str, TransformFeature]]) -> None:
        self.es = entityset
        self.coders = coders
        self.transforms = transforms  # table -> name -> transform feature (precomputed)
        self._cutoff = _cutoff_literal(entityset, None)

    def build(self, table: Table, part: Part, names: list[str]) -> dict[str, Col]:
        """The columns ``names`` of ``part``'s rows."""
        frame = part.frame
        series = {name: frame[name] for name in names if name in frame.columns}
        derived = [name for name in names if name not in series]
        if derived:
            made = frame.select([self._expression(table, name).alias(name) for name in derived])
            series.update({name: made[name] for name in derived})
        out = {}
        for name in names:
            values = series[name]
            coder = None
            if kind_of(values.dtype) == CODES:
                coder = self.coders.setdefault((table.name, name), Coder())
            out[name] = to_col(values, coder)
        return out

    def _expression(self, table: Table, name: str) -> pl.Expr:
        context = ComputeContext(time=pl.col(table.time_index) if table.time_index else None,
                                 cutoff=self._cutoff)

        def expression(node: Feature) -> pl.Expr:
            if isinstance(node, IdentityFeature):
                return pl.col(node.column)
            return node.primitive.transform_expr([expression(i) for i in node.inputs], context)

        return expression(self.transforms[table.name][name])


class ArrayRunner:
    """Computes plans in numpy over the parts held for one call."""

    def __init__(self, entityset: EntitySet, parts: dict[str, list[Part]],
                 columns: Columns) -> None:
        self.es = entityset
        self.parts = parts
        self.columns = columns
        self.moment: Moment | None = None

    # ------------------------------------------------------------- columns
    def _part_col(self, table: Table, part: Part, name: str) -> Col:
        found = part.arrays.get(name)
        if found is None:
            found = part.arrays[name] = self.columns.build(table, part, [name])[name]
        return found

    def column(self, table: Table, rows: Rows, name: str) -> Col:
        """``name`` for the rows (categories as codes into their values sorted)."""
        taken = [self._part_col(table, part, name).take(positions) for part, positions in rows]
        if not taken:
            return self._empty(table, name)
        return self._ranked(table, name, concat(taken))

    def _ranked(self, table: Table, name: str, col: Col) -> Col:
        if col.kind != CODES:
            return col
        return self.columns.coders[table.name, name].rank(col)

    def _empty(self, table: Table, name: str) -> Col:
        part = self.parts[table.name][0]
        return self._ranked(table, name, self._part_col(table, part, name).take(np.empty(0, np.int64)))

    def keys(self, rows: Rows, column: str) -> tuple[np.ndarray, np.ndarray | None]:
        values, missing = [], []
        for part, positions in rows:
            array, absent = part.key_array(column)
            values.append(array[positions])
            missing.append(absent[positions] if absent is not None else np.zeros(len(positions), bool))
        if not values:
            return np.empty(0, np.int64), None
        joined_missing = np.concatenate(missing)
        return np.concatenate(values), joined_missing if joined_missing.any() else None

    def rows_where(self, table: Table, column: str, values: np.ndarray) -> Rows:
        """The known rows of ``table`` whose ``column`` is one of ``values``."""
        found = []
        for part in self.parts[table.name]:
            positions = self.moment.known(table, part, part.lookup(column).rows_of(values))
            if len(positions):
                found.append((part, positions))
        return found

    # ----------------------------------------------------------- compute
    def run(self, plan: TablePlan, rows: Rows, wanted: Iterable[str]) -> dict[str, Col]:
        """The columns ``wanted`` (features of the plan's table) for ``rows``."""
        table = plan.table
        out: dict[str, Col] = {}
        count = sum(len(p) for _, p in rows)
        for path, group, child_plan in plan.paths:
            out.update(self._aggregate(plan, table, rows, count, path, group, child_plan))
        for relationship, group, parent_plan in plan.parents:
            out.update(self._direct(rows, relationship, group, parent_plan))
        for name in wanted:
            if name not in out:
                out[name] = self.column(table, rows, name)
        return out

    def _aggregate(self, plan: TablePlan, table: Table, rows: Rows, count: int,
                   path: tuple[Relationship, ...], group: list[AggregationFeature],
                   child_plan: TablePlan) -> dict[str, Col]:
        owner_keys, _ = self.keys(rows, table.index)
        owner_ids = np.arange(count)
        reached: Rows = []
        for step, relationship in enumerate(path):
            child = self.es[relationship.child]
            order = np.argsort(owner_keys, kind="stable")
            sorted_keys = owner_keys[order]
            reached = self.rows_where(child, relationship.child_key, np.unique(owner_keys))
            child_keys, _ = self.keys(reached, relationship.child_key)
            at = np.searchsorted(sorted_keys, child_keys) if len(sorted_keys) else child_keys[:0]
            owner_ids = owner_ids[order][at] if len(at) else np.empty(0, np.int64)
            if step < len(path) - 1:
                owner_keys, _ = self.keys(reached, child.index)
        inputs, splits = _layout(plan, path, group)
        values = self.run(child_plan, reached, inputs)
        results: dict[str, Col] = {}
        for where, subgroup, wanted in splits:
            owners, selected = owner_ids, None
            if where is not None:
                flag = values[where.name]
                if flag.kind != BOOLEAN:
                    raise Unsupported("a where clause that is not boolean")
                selected = flag.values if flag.missing is None else flag.values & ~flag.missing
                owners = owner_ids[selected]
            groups = Groups(owners, count)
            computed: dict[tuple[str, str], Col] = {}
            for source, stats in wanted.items():
                col = values[source] if selected is None else values[source].take(selected)
                if col.kind == OTHER or (col.kind == BOOLEAN and stats & CATEGORIES):
                    raise Unsupported(f"{sorted(stats)} of {col.kind} values")
                for stat, result in aggregate(stats, col, groups, source).items():
                    computed[source, stat] = result
            for feature in subgroup:
                result = computed[feature.inputs[0].name, feature.primitive.kernel_stat]
                results[feature.name] = _with_default(feature, result, groups)
        return results

    def _direct(self, rows: Rows, relationship: Relationship, group: list[DirectFeature],
                parent_plan: TablePlan) -> dict[str, Col]:
        parent = self.es[relationship.parent]
        child_keys, missing = self.keys(rows, relationship.child_key)
        wanted = np.unique(child_keys if missing is None else child_keys[~missing])
        parent_rows = self.rows_where(parent, parent.index, wanted)
        bases = list(dict.fromkeys(f.base.name for f in group))
        values = self.run(parent_plan, parent_rows, bases)
        parent_keys, _ = self.keys(parent_rows, parent.index)
        order = np.argsort(parent_keys, kind="stable")
        sorted_keys = parent_keys[order]
        at = np.minimum(np.searchsorted(sorted_keys, child_keys), max(len(sorted_keys) - 1, 0))
        found = (sorted_keys[at] == child_keys) if len(sorted_keys) else np.zeros(len(child_keys), bool)
        if missing is not None:
            found &= ~missing
        positions = order[at] if len(order) else np.zeros(len(child_keys), np.int64)
        return {f.name: _take_or_missing(values[f.base.name], positions, found) for f in group}


def _layout(plan: TablePlan, path: tuple[Relationship, ...], group: list[AggregationFeature]
            ) -> tuple[list[str], list[tuple]]:
    """A path's inputs and, per where clause, its features and the statistics wanted of
    each input column: derived from the plan once."""
    found = plan.memo.get(path)
    if found is None:
        inputs = list(dict.fromkeys(f.name for feature in group for f in feature.sources))
        splits = []
        for where, subgroup in split_by_where(group).values():
            wanted: dict[str, set[str]] = {}
            for feature in subgroup:
                wanted.setdefault(feature.inputs[0].name, set()).add(feature.primitive.kernel_stat)
            splits.append((where, subgroup, wanted))
        found = plan.memo[path] = (inputs, splits)
    return found


def _take_or_missing(col: Col, positions: np.ndarray, found: np.ndarray) -> Col:
    if not len(col):
        return _all_missing(col, len(positions))
    taken = col.take(positions)
    if found.all():
        return taken
    values = taken.values.copy()
    if col.kind == FLOAT:
        values[~found] = np.nan
        return Col(FLOAT, values, None, None, col.nan_is_value)
    if col.kind == CODES:
        values[~found] = -1
        return Col(CODES, values, None, col.names)
    missing = ~found if taken.missing is None else taken.missing | ~found
    return Col(col.kind, values, missing, col.names)


def _all_missing(col: Col, count: int) -> Col:
    if col.kind == FLOAT:
        return Col(FLOAT, np.full(count, np.nan))
    if col.kind == CODES:
        return Col(CODES, np.full(count, -1, np.int32), None, col.names)
    return Col(col.kind, np.zeros(count, dtype=col.values.dtype), np.ones(count, bool), col.names)


def _with_default(feature: AggregationFeature, col: Col, groups: Groups) -> Col:
    """A primitive's default where it gives no value, as the batch engine puts it in: for a
    parent without rows, and for any missing value (NaN too, for a double result)."""
    default = feature.primitive.default_value
    if default is None:
        return col
    values = col.values.copy()
    if col.kind == FLOAT:
        if col.nan_is_value and feature.schema.logical_type != "double":
            values[~groups.present] = default
        else:
            values[np.isnan(values)] = default
        return Col(FLOAT, values, None, None, col.nan_is_value)
    if col.kind == INTEGER and col.missing is not None:
        values[col.missing] = default
        return Col(INTEGER, values)
    return col
