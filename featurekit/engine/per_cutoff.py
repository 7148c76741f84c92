"""Features of many instances, each as of its own cutoff time, in one pass.

Every frame here holds (row, cutoff) pairs instead of rows: the target's frame one pair per
distinct (instance, cutoff); a child's frame the child rows reachable from those pairs whose
time is known at the pair's cutoff, each carrying the row number of the pair it belongs to,
so aggregations group by a dense integer and the numba kernels apply. The target key is
thus propagated down every relationship path and filtered by time inside the plan, instead
of recomputing the entity set once per distinct cutoff (which scales with their number).

A row counts for a pair if its time is at or before the cutoff (strictly before with
``include_cutoff_time=False``) and, for event tables (neither the target nor a table it
refers to), after cutoff - training_window. Tables without a time index are static. These
are the rules of the single-cutoff view in ``point_in_time``: one cutoff for every
instance gives the same matrix either way (tested).
"""

from __future__ import annotations

import datetime as dt

import networkx as nx
import polars as pl

from featurekit.engine.cutoffs import CUT, CUTOFF
from featurekit.engine.lazy_plan import (
    GROUP_KEY,
    _close_over_table,
    _PlanBuilder,
    is_table_wide,
    output_columns,
)
from featurekit.entityset import EntitySet, Relationship, Table
from featurekit.feature import DirectFeature, Feature
from featurekit.primitives import ComputeContext, kernels

KEY = "__featurekit_pair_key"  # the table's index value of a pair
ROW = "__featurekit_pair_row"  # the pair's row number in its frame
OWNER = "__featurekit_owner"  # the row number of the parent pair a child row belongs to


class CutoffPlanBuilder(_PlanBuilder):
    """Builds frames of (row, cutoff) pairs for the features asked of a table."""

    def __init__(self, entityset: EntitySet, target: str, training_window: dt.timedelta | None,
                 include_cutoff_time: bool):
        super().__init__(entityset, pl.col(CUTOFF))
        self.window = training_window
        self.include = include_cutoff_time
        # The window limits event rows, not the target's own table nor what it refers to.
        self.entities = {target, *nx.descendants(entityset.graph.reverse(copy=False), target)}

    def pairs_frame(self, table_name: str, features: frozenset[Feature],
                    pairs: pl.DataFrame) -> pl.DataFrame:
        """The features of ``table_name`` for ``pairs`` (columns ``KEY``, ``CUT``, ``CUTOFF``;
        every pair known at its cutoff), one row per pair in the same order."""
        table = self.es[table_name]
        needed = _close_over_table(features)
        if any(is_table_wide(f) for f in needed):
            # A rank or running sum looks at every row known at the cutoff, not only the
            # rows asked for: compute those, then pick the pairs.
            everything = self._all_known(table, pairs.select(CUT, CUTOFF).unique(CUT))
            result = self.pairs_frame_of(table, needed, everything)
            return pairs.select(pl.col(KEY).alias(table.index), CUT).join(
                result, on=[table.index, CUT], how="left", maintain_order="left")
        return self.pairs_frame_of(table, needed, pairs)

    def pairs_frame_of(self, table: Table, needed: list[Feature], pairs: pl.DataFrame) -> pl.DataFrame:
        """Like ``pairs_frame``; ``pairs`` may already hold the table's raw columns (then it
        has no ``KEY``), and any column it has besides passes through."""
        base = _gather_rows(pairs, table, self._raw_columns(table, needed)) if KEY in pairs.columns else pairs
        plan = self._build(table, needed, base.with_row_index(ROW).lazy())
        return plan.sort(ROW).drop(ROW).collect(engine="in-memory")

    def _all_known(self, table: Table, cuts: pl.DataFrame) -> pl.DataFrame:
        rows = table.frame.select(pl.col(table.index).alias(KEY), *self._time_columns(table))
        return rows.join(cuts, how="cross").filter(self._known(table)).select(KEY, CUT, CUTOFF)

    def _time_columns(self, table: Table) -> list[pl.Expr]:
        return [pl.col(table.time_index)] if self._timed(table) else []

    def _timed(self, table: Table) -> bool:
        return table.time_index is not None and isinstance(table.frame.schema[table.time_index],
                                                           pl.Datetime)

    def _known(self, table: Table) -> pl.Expr:
        """Whether a row of ``table`` (its time column present) counts at its pair's cutoff."""
        if not self._timed(table):
            return pl.lit(True)
        time = pl.col(table.time_index)
        cutoff = pl.col(CUTOFF)
        known = (time <= cutoff) if self.include else (time < cutoff)
        if self.window is not None and table.name not in self.entities:
            known = known & (time > cutoff - self.window)
        return known

    # hooks of the row-per-row builder, answered for pairs

    def _context(self, table: Table, aggregating: bool = False) -> ComputeContext:
        time = pl.col(table.time_index) if table.time_index else None
        return ComputeContext(time=time, cutoff=pl.col(CUTOFF).first() if aggregating else pl.col(CUTOFF))

    def _row_key(self, table: Table) -> str:
        return ROW

    def _table_wide(self, expression: pl.Expr) -> pl.Expr:
        return expression.over(CUT)

    def _child_rows(self, frame: pl.LazyFrame, table: Table, path: tuple[Relationship, ...],
                    inputs: frozenset[Feature]) -> pl.LazyFrame:
        """Walk down the path from the frame's pairs, keeping the rows known at each cutoff;
        the last table's raw columns are picked up on the way when nothing table-wide needs
        its other rows."""
        reached = frame.select(pl.col(table.index).alias(KEY), CUT, CUTOFF,
                               pl.col(ROW).alias(OWNER)).collect(engine="in-memory")
        child = self.es[path[-1].child]
        needed = _close_over_table(inputs)
        fused = not any(is_table_wide(f) for f in needed)
        for step, relationship in enumerate(path):
            middle = self.es[relationship.child]
            columns = [middle.index, relationship.child_key, *([middle.time_index] if self._timed(middle) else [])]
            if fused and step == len(path) - 1:
                columns += self._raw_columns(middle, needed)
            rows = middle.frame.select(list(dict.fromkeys(columns)))
            reached = _with_parent_pairs(rows, relationship.child_key, reached).filter(self._known(middle))
            if step < len(path) - 1 or not fused:
                reached = reached.select(pl.col(middle.index).alias(KEY), CUT, CUTOFF, OWNER)
        if fused:
            values = self.pairs_frame_of(child, needed, reached)
        else:
            values = self.pairs_frame(child.name, inputs, reached.drop(OWNER)).with_columns(reached[OWNER])
        return values.rename({OWNER: GROUP_KEY}).lazy()

    def _join_direct(self, frame: pl.LazyFrame, relationship: Relationship,
                     group: list[DirectFeature]) -> pl.LazyFrame:
        parent = self.es[relationship.parent]
        asked = (frame.select(pl.col(relationship.child_key).alias(KEY), CUT, CUTOFF)
                 .drop_nulls(KEY).unique([KEY, CUT]).collect(engine="in-memory"))
        times = parent.frame.select(pl.col(parent.index).alias(KEY), *self._time_columns(parent))
        known = asked.join(times, on=KEY, how="inner").filter(self._known(parent)).select(KEY, CUT, CUTOFF)
        values = self.pairs_frame(parent.name, frozenset(f.base for f in group), known).select(
            pl.col(parent.index).alias("__parent"), pl.col(CUT).alias("__parent_cut"),
            *[pl.col(f.base.name).alias(f.name) for f in group])
        return frame.join(values.lazy(), left_on=[relationship.child_key, CUT],
                          right_on=["__parent", "__parent_cut"], how="left", maintain_order="left")


def _with_parent_pairs(rows: pl.DataFrame, key: str, pairs: pl.DataFrame) -> pl.DataFrame:
    """Each row once per pair of its parent (``rows[key] == pairs[KEY]``), with the pair's columns.

    When every parent has one pair and the keys are compact integers (one cutoff per
    instance, the common case) this is a positional gather instead of a hash join.
    """
    slots = kernels.dense_keys(pairs[KEY])
    if slots is None or not rows.schema[key].is_integer() or not kernels.all_distinct_slots(slots):
        return rows.join(pairs, left_on=key, right_on=KEY, how="inner")
    positions = kernels.parent_positions(slots, pairs.height, rows[key])
    if positions.null_count():
        known = positions.is_not_null()
        rows, positions = rows.filter(known), positions.filter(known)
    return pl.concat([rows, pairs.drop(KEY).select(pl.all().gather(positions))], how="horizontal")


def _gather_rows(pairs: pl.DataFrame, table: Table, columns: list[str]) -> pl.DataFrame:
    """The pairs with their rows' columns (index under its own name), numbered by ``ROW``."""
    source = table.frame.select(columns)
    slots = kernels.dense_keys(source[table.index])
    if slots is not None and pairs.schema[KEY].is_integer():
        positions = kernels.parent_positions(slots, source.height, pairs[KEY])
        rows = source.select(pl.all().gather(positions))
    else:
        rows = pairs.select(KEY).join(source, left_on=KEY, right_on=table.index, how="left",
                                      maintain_order="left", coalesce=False).drop(KEY)
    return pl.concat([rows, pairs.drop(KEY)], how="horizontal")


def compute_per_cutoff(entityset: EntitySet, features: list[Feature], pairs: pl.DataFrame,
                       training_window: dt.timedelta | None, include_cutoff_time: bool) -> pl.DataFrame:
    """The target's features for each (index, ``CUT``, ``CUTOFF``) row of ``pairs``: index,
    ``CUT``, then one column per feature output; instances created after their cutoff get
    missing values."""
    target = entityset[features[0].table]
    builder = CutoffPlanBuilder(entityset, target.name, training_window, include_cutoff_time)
    asked = pairs.rename({target.index: KEY})
    times = target.frame.select(pl.col(target.index).alias(KEY), *builder._time_columns(target))
    known = asked.join(times, on=KEY, how="inner", maintain_order="left")
    known = known.filter(builder._known(target)).select(KEY, CUT, CUTOFF)
    computed = builder.pairs_frame(target.name, frozenset(features), known)
    columns = output_columns(features)
    computed = computed.select(pl.col(target.index).alias("__instance"), pl.col(CUT).alias("__cut"),
                               *columns)
    return (pairs.select(target.index, CUT)
            .join(computed, left_on=[target.index, CUT], right_on=["__instance", "__cut"], how="left",
                  maintain_order="left"))
