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

import threading
from collections.abc import Callable
from typing import Any

import networkx as nx
import numpy as np
import polars as pl

from featurekit.engine.cutoffs import CUT, CUTOFF
from featurekit.engine.lazy_plan import (
    GROUP_KEY,
    _close_over_table,
    _cutoff_literal,
    _finish_aggregations,
    _join_on_index,
    _kernel_dtype,
    _PlanBuilder,
    _present_groups,
    is_table_wide,
    kernel_results,
    of_parents,
    output_columns,
    split_by_where,
)
from featurekit.engine.point_in_time import known_eventually
from featurekit.engine.time_scale import (
    DATETIME,
    TimeScale,
    needed_unit,
    required_scale,
    ticks,
    ticks_expr,
    window_floors,
    window_ticks,
    window_unit,
)
from featurekit.entityset import EntitySet, Relationship, Table
from featurekit.feature import (
    AggregationFeature,
    DirectFeature,
    Feature,
    FeatureOutput,
    IdentityFeature,
    TransformFeature,
)
from featurekit.primitives import ComputeContext, kernels

KEY = "__featurekit_pair_key"  # the table's index value of a pair
ROW = "__featurekit_pair_row"  # the pair's row number in its frame
OWNER = "__featurekit_owner"  # the row number of the parent pair a child row belongs to
PATH_TIME = "__featurekit_path_time"  # the latest time of the rows on a child row's path
SETTLED = "__featurekit_settled"  # from when on a row's feature values stop changing
OWN_TIME = "__featurekit_own_time"  # a child row's own time (FIRST and LAST order by it)
INDEX_RANK = "__featurekit_index_rank"  # a child row's place in index order (ties of time)
TICKS = "__featurekit_cutoff_ticks"  # a pair's cutoff in the time scale's ticks
FLOOR = "__featurekit_window_floor"  # ticks at or below which a row is outside the window
NEVER = np.iinfo(np.int64).min  # the ticks of a static row: known at every cutoff


class CutoffPlanBuilder(_PlanBuilder):
    """Builds frames of (row, cutoff) pairs for the features asked of a table."""

    def __init__(self, entityset: EntitySet, target: str, scale: TimeScale,
                 training_window: int | float | None, include_cutoff_time: bool,
                 sweep: bool | None = None):
        # time-relative primitives (AGE, TIME_SINCE) measure to a datetime cutoff; with
        # numeric time indexes (steps) they measure to now, as without cutoffs
        moment = pl.col(CUTOFF) if scale.kind == DATETIME else _cutoff_literal(entityset, None)
        super().__init__(entityset, moment)
        self.scale = scale
        self.window = training_window  # in ticks of the scale
        self.include = include_cutoff_time
        # the columns every pair carries: its cutoff, as a moment and as ticks
        self.moment_columns = [CUT, CUTOFF, TICKS, *([FLOOR] if training_window is not None else [])]
        self.sweep = sweep  # None: sweep where a row has several cutoffs; True/False: always/never
        # Features no cutoff can change (columns of static tables, row-wise transforms of
        # them) are computed once per row, as without cutoffs.
        self.static = _PlanBuilder(entityset, moment)
        # Features whose value for a row stops changing once every row they read is known
        # (SUM(transactions.amount) of a session): their final values, computed once.
        self.final = _PlanBuilder(known_eventually(entityset), moment)
        # Per frame being built, innermost last: does a row come at several cutoffs? One
        # stack per thread, since a table's paths may be computed on two threads.
        self._stacks = threading.local()
        self.epochs: dict[str, pl.Series] = {}
        # The window limits event rows, not the target's own table nor what it refers to.
        self.entities = {target, *nx.descendants(entityset.graph.reverse(copy=False), target)}

    def pairs_frame(self, table_name: str, features: frozenset[Feature],
                    pairs: pl.DataFrame) -> pl.DataFrame:
        """The features of ``table_name`` for ``pairs`` (columns ``KEY`` and ``moment_columns``;
        every pair known at its cutoff), one row per pair in the same order."""
        table = self.es[table_name]
        needed = _close_over_table(features)
        if any(is_table_wide(f) for f in needed):
            # A rank or running sum looks at every row known at the cutoff, not only the
            # rows asked for: compute those, then pick the pairs.
            everything = self._all_known(table, pairs.select(self.moment_columns).unique(CUT))
            result = self.pairs_frame_of(table, needed, everything)
            return pairs.select(pl.col(KEY).alias(table.index), CUT).join(
                result, on=[table.index, CUT], how="left", maintain_order="left")
        return self.pairs_frame_of(table, needed, pairs)

    def pairs_frame_of(self, table: Table, needed: list[Feature], pairs: pl.DataFrame) -> pl.DataFrame:
        """Like ``pairs_frame``; ``pairs`` may already hold the table's raw columns (then it
        has no ``KEY``), and any column it has besides passes through."""
        base = _gather_rows(pairs, table, self._raw_columns(table, needed)) if KEY in pairs.columns else pairs
        keys = base[table.index]
        slots = kernels.dense_keys(keys)
        self.several_cutoffs.append(not kernels.all_distinct_slots(slots) if slots is not None
                                    else keys.n_unique() < keys.len())
        try:
            built = self._build(table, needed, base.with_row_index(ROW).lazy()).collect(engine="in-memory")
            if not built[ROW].is_sorted():  # a sort copies every column
                built = built.sort(ROW)
            return built.drop(ROW)
        finally:
            self.several_cutoffs.pop()

    @property
    def several_cutoffs(self) -> list[bool]:
        if not hasattr(self._stacks, "frames"):
            self._stacks.frames = []
        return self._stacks.frames

    def _thread_state(self) -> list[bool]:
        return list(self.several_cutoffs)

    def _adopt_thread_state(self, state: list[bool]) -> None:
        self._stacks.frames = list(state)

    def _all_known(self, table: Table, cuts: pl.DataFrame) -> pl.DataFrame:
        rows = table.frame.select(pl.col(table.index).alias(KEY), *self._time_columns(table))
        return rows.join(cuts, how="cross").filter(self._known(table)).select(KEY, *self.moment_columns)

    def _time_columns(self, table: Table) -> list[pl.Expr]:
        return [pl.col(table.time_index)] if self._timed(table) else []

    def _timed(self, table: Table) -> bool:
        return table.time_index is not None

    def _windowed(self, table: Table) -> bool:
        """Whether the training window limits ``table``'s rows (event tables only)."""
        return self.window is not None and table.name not in self.entities

    def _known(self, table: Table) -> pl.Expr:
        """Whether a row of ``table`` (its time column present) counts at its pair's cutoff;
        a row without a time never does."""
        if not self._timed(table):
            return pl.lit(True)
        time = ticks_expr(self.scale, table.time_index)
        cutoff = pl.col(TICKS)
        known = (time <= cutoff) if self.include else (time < cutoff)
        if self._windowed(table):
            known = known & (time > pl.col(FLOOR))
        return known.fill_null(False)

    # hooks of the row-per-row builder, answered for pairs

    def _context(self, table: Table, aggregating: bool = False) -> ComputeContext:
        time = pl.col(table.time_index) if table.time_index else None
        per_pair = self.scale.kind == DATETIME  # else a literal: now
        return ComputeContext(time=time, cutoff=self.cutoff.first() if aggregating and per_pair else self.cutoff)

    def _row_key(self, table: Table) -> str:
        return ROW

    def _table_wide(self, expression: pl.Expr) -> pl.Expr:
        return expression.over(CUT)

    def _child_rows(self, frame: pl.LazyFrame, table: Table, path: tuple[Relationship, ...],
                    inputs: frozenset[Feature]) -> pl.LazyFrame:
        """Walk down the path from the frame's pairs, keeping the rows known at each cutoff;
        the last table's raw columns are picked up on the way when nothing table-wide needs
        its other rows."""
        reached = frame.select(pl.col(table.index).alias(KEY), *self.moment_columns,
                               pl.col(ROW).alias(OWNER)).collect(engine="in-memory")
        child = self.es[path[-1].child]
        needed = _close_over_table(inputs)
        fused = not any(is_table_wide(f) for f in needed)
        for step, relationship in enumerate(path):
            middle = self.es[relationship.child]
            columns = [middle.index, relationship.child_key, *([middle.time_index] if self._timed(middle) else [])]
            if fused and step == len(path) - 1:
                columns += self._raw_columns(middle, needed)
            reached = self._reach(middle, relationship.child_key, list(dict.fromkeys(columns)), reached)
            if step < len(path) - 1 or not fused:
                reached = reached.select(pl.col(middle.index).alias(KEY), *self.moment_columns, OWNER)
        if fused:
            values = self.pairs_frame_of(child, needed, reached)
        else:
            values = self.pairs_frame(child.name, inputs, reached.drop(OWNER)).with_columns(reached[OWNER])
        return values.rename({OWNER: GROUP_KEY}).lazy()

    def _reach(self, table: Table, key: str, columns: list[str], pairs: pl.DataFrame) -> pl.DataFrame:
        """The rows of ``table`` (its ``columns``) whose ``key`` names a pair's row and whose
        time is known at that pair's cutoff, each with the pair's columns (``KEY`` aside).

        When every parent has one pair and the keys are compact integers (one cutoff per
        instance, the common case) one numba pass matches and filters, instead of a hash join.
        """
        slots = kernels.dense_keys(pairs[KEY])
        if (slots is None or not table.frame.schema[key].is_integer()
                or not kernels.all_distinct_slots(slots)):
            return (table.frame.select(columns).join(pairs, left_on=key, right_on=KEY, how="inner",
                                                     maintain_order="left_right")
                    .filter(self._known(table)))
        times = self._epochs(table) if self._timed(table) else None
        floors = pairs[FLOOR].to_numpy() if self._windowed(table) else None
        children, owners = kernels.reach_known(slots, pairs.height, table.frame[key], times,
                                               pairs[TICKS].to_numpy(), self.include, floors)
        return pl.concat([kernels.gather_rows(table.frame.select(columns), pl.Series(children)),
                          pairs.select(pl.exclude(KEY).gather(owners))], how="horizontal")

    def _join_aggregations(self, frame: pl.LazyFrame, table: Table, path: tuple[Relationship, ...],
                           group: list[AggregationFeature]) -> pl.LazyFrame:
        """Aggregations a sweep can answer go through one (see ``_sweep``); the rest walk down."""
        swept = [f for f in group if self._sweepable(f)] if self._should_sweep() else []
        if not swept:
            return super()._join_aggregations(frame, table, path, group)
        # the child rows once, with every where clause's column; each clause sweeps its own
        ordered = any(f.primitive.order_stat for f in swept)
        rows = self._rows_with_path_time(path, frozenset(f for s in swept for f in s.sources),
                                         with_order=ordered)
        done: list[AggregationFeature] = []
        for where, subgroup in split_by_where(swept).values():
            joined = self._sweep(frame, table, path, subgroup, rows, where)
            if joined is None:  # too many distinct values: walked down with the rest
                continue
            frame = _finish_aggregations(joined, subgroup)
            done += subgroup
        rest = [f for f in group if f not in done]
        return super()._join_aggregations(frame, table, path, rest) if rest else frame

    def _paths_in_parallel(self, by_path: dict[tuple[Relationship, ...], list]) -> bool:
        # Sweeps are memory-bound: two at once held both working sets (a third more memory
        # at 10,000 customers x 10 cutoffs) and were no faster on 2 cores.
        return not self._should_sweep() and super()._paths_in_parallel(by_path)

    def _should_sweep(self) -> bool:
        # Several cutoffs for one row: walking down would copy its children once per cutoff.
        return self.several_cutoffs[-1] if self.sweep is None else self.sweep

    def _sweepable(self, feature: AggregationFeature) -> bool:
        """Statistics of the rows up to a moment, of child values that settle (see
        ``_settles``), without a window (a window's far end would drop rows a running
        minimum cannot forget)."""
        return (self.window is None and len(feature.inputs) == 1 and self._settles(feature.inputs[0])
                and (feature.where is None or self._settles(feature.where))
                and _stat(feature) in kernels.MOMENT_STATS | kernels.CATEGORY_STATS | kernels.ORDER_STATS)

    def _settles(self, feature: Feature) -> bool:
        """Whether a feature's value for a row is the same at every cutoff from some moment
        on (the row's settle time, once every row it reads is known) and unknown before the
        row is: static features, and aggregations of settling values without a window or
        the cutoff itself, like SUM(transactions.amount) of a session."""
        if self._is_static(feature):
            return True
        if isinstance(feature, AggregationFeature):
            return (self.window is None and not feature.primitive.uses_cutoff
                    and all(self._settles(f) for f in feature.sources))
        return _passed_on(feature, self._settles)

    def _is_static(self, feature: Feature) -> bool:
        """Whether a feature's value for a row is the same at every cutoff (given the row)."""
        if isinstance(feature, IdentityFeature):
            return True
        if isinstance(feature, DirectFeature):
            return self._parent_known_with_child(feature.relationship) and self._is_static(feature.base)
        return _passed_on(feature, self._is_static)

    def _parent_known_with_child(self, relationship: Relationship) -> bool:
        """Whether a child row's parent is known at every cutoff the child row is: true for
        a static parent, and for a timed one (outside a training window) whose rows all come
        no later than their children, as a session comes before its transactions (checked on
        the data, once)."""
        parent = self.es[relationship.parent]
        if not self._timed(parent):
            return True
        if self.window is not None and parent.name not in self.entities:
            return False
        child = self.es[relationship.child]
        if not self._timed(child):
            return False
        key = ("parent precedes children", relationship, id(parent.frame), id(child.frame))
        if key not in self.es.derived_facts:
            times = parent.frame.select(pl.col(parent.index), self._epochs(parent).alias("__featurekit_parent_time"))
            rows = _join_on_index(child.frame.lazy().select(relationship.child_key,
                                                            self._epochs(child).alias("__featurekit_child_time")),
                                  relationship.child_key, times, parent.index)
            late = rows.filter(pl.col(relationship.child_key).is_not_null() & pl.col("__featurekit_child_time").is_not_null()
                               & (pl.col("__featurekit_parent_time").is_null()
                                  | (pl.col("__featurekit_parent_time") > pl.col("__featurekit_child_time"))))
            self.es.derived_facts[key] = late.select(pl.len()).collect()["len"][0] == 0
        return self.es.derived_facts[key]

    def _sweep(self, frame: pl.LazyFrame, table: Table, path: tuple[Relationship, ...],
               group: list[AggregationFeature], rows: pl.DataFrame,
               where: Feature | None) -> pl.LazyFrame | None:
        """Sweep each parent's child rows once in time order, reading off the statistics at
        each of the parent's cutoffs: no child row is copied per cutoff.

        A child row counts at a cutoff when every row on its path (itself and the rows
        between it and the parent) is known by then, i.e. when the latest of their times is.
        A child value that is itself an aggregation (a session's SUM of transactions) enters
        with its final value once that is settled; the few cutoffs that fall while one of
        their parent's child rows is known but not yet settled are computed by walking down.
        None when a column has too many distinct values to count (the caller walks instead).
        ``rows``: ``_rows_with_path_time`` of the features' inputs and ``where`` clause (the
        group's, shared by all of it), of which only those the clause holds for are swept.
        """
        slots = kernels.dense_keys(table.frame[table.index])
        ordered = [f for f in group if f.primitive.order_stat]
        if where is not None:
            rows = rows.filter(pl.col(where.name).fill_null(False))
        whole = frame.collect(engine="in-memory")
        pairs = whole.select(table.index, TICKS, ROW)
        if slots is None:  # not compact integers: number the parent's keys
            numbering = table.frame.select(pl.col(table.index), pl.int_range(pl.len()).alias("__featurekit_slot"))
            pairs = pairs.join(numbering, on=table.index, how="left", maintain_order="left")
            rows = rows.join(numbering.rename({table.index: OWNER}), on=OWNER, how="inner")
            pair_slots, row_slots = pairs["__featurekit_slot"], rows["__featurekit_slot"]
        else:
            pair_slots = kernels.parent_positions(slots, table.frame.height, pairs[table.index])
            row_slots = kernels.parent_positions(slots, table.frame.height, rows[OWNER])
            if row_slots.null_count():
                rows, row_slots = rows.filter(row_slots.is_not_null()), row_slots.drop_nulls()
        pair_slots = pair_slots.cast(pl.Int64).to_numpy()
        row_slots = row_slots.cast(pl.Int64).to_numpy()
        pair_times = pairs[TICKS].to_numpy()
        settling = SETTLED in rows.columns
        layout = kernels.as_of_layout(row_slots, rows[SETTLED if settling else PATH_TIME].to_numpy(),
                                      table.frame.height, pair_slots, pair_times, self.include)
        results = kernel_results(
            [f for f in group if f not in ordered], rows,
            lambda values, stats: kernels.as_of_moments(layout, values, stats),
            lambda values, stats: kernels.as_of_categories(layout, values, stats))
        if results is None:  # too many distinct values to count in scratch memory
            return None
        if ordered:
            extremes = kernels.as_of_extremes(layout, rows[OWN_TIME].to_numpy(), rows[INDEX_RANK].to_numpy())
            for feature in ordered:
                at = extremes[feature.primitive.order_stat]
                positions = kernels.masked_series(np.where(at >= 0, at, 0), at < 0)
                source = feature.inputs[0].name
                results[source, feature.primitive.order_stat] = kernels.gather_rows(rows.select(source),
                                                                                    positions)[source]
        if settling:
            unsettled = self._unsettled_pairs(rows, row_slots, table.frame.height, pair_slots, pair_times)
            if unsettled.any():
                walked = _PlanBuilder._join_aggregations(
                    self, whole.lazy().filter(pl.Series(unsettled)), table, path, group)
                _overwrite(results, group, whole[ROW], walked.collect(engine="in-memory"))
        computed = []
        for feature in group:
            source = feature.inputs[0].name
            values = _present_groups(results[source, _stat(feature)], None, _stat(feature))
            computed.append(values.alias(feature.name).cast(_kernel_dtype(feature, rows.schema[source])))
        # the columns are in the frame's row order: set beside it, no join
        return pl.concat([whole, pl.DataFrame(computed)], how="horizontal").lazy()

    def _unsettled_pairs(self, rows: pl.DataFrame, row_slots: np.ndarray, n_slots: int,
                         pair_slots: np.ndarray, pair_times: np.ndarray) -> np.ndarray:
        """Which pairs have, at their cutoff, a child row already known (``PATH_TIME``) whose
        values are not yet final (``SETTLED``): the latest settle time among the rows known
        by the cutoff lies after it."""
        pending = (rows[SETTLED] > rows[PATH_TIME]).to_numpy()
        if not pending.any():
            return np.zeros(pair_slots.shape[0], dtype=bool)
        layout = kernels.as_of_layout(row_slots[pending], rows[PATH_TIME].to_numpy()[pending], n_slots,
                                      pair_slots, pair_times, self.include)
        # epoch microseconds are below 2**53: exact as floats
        latest = kernels.as_of_moments(layout, rows[SETTLED].filter(pl.Series(pending)).cast(pl.Float64),
                                       {"max"})["max"]
        with np.errstate(invalid="ignore"):
            return (latest > pair_times) if self.include else (latest >= pair_times)

    def _rows_with_path_time(self, path: tuple[Relationship, ...], inputs: frozenset[Feature],
                             with_order: bool = False) -> pl.DataFrame:
        """The settling ``inputs`` of the path's last table (one column each), the key of the
        path's first parent (``OWNER``) and the latest time of the rows along the path
        (``PATH_TIME``, microseconds: from then on the row counts). When an input is not
        static, its final values, and from when on they are final (``SETTLED``); with
        ``with_order``, each row's own time and rank by index (``OWN_TIME``, ``INDEX_RANK``).
        Rows with a missing time or no parent are left out (a filter copies every column:
        only then)."""
        child = self.es[path[-1].child]
        static = all(self._is_static(f) for f in inputs)
        if static:
            values = self.static.frame(child.name, inputs)
        else:
            values = _join_on_index(self.final.frame(child.name, inputs), child.index,
                                    self._settle_times(child, inputs), child.index)
        values = values.collect(engine="in-memory")
        owner = values[path[-1].child_key]
        own_time = path_time = self._epoch_series(child, values)
        for relationship in reversed(path[:-1]):
            middle = self.es[relationship.child]
            if self._timed(middle):
                owner, time = of_parents(owner, middle.frame[middle.index],
                                         [middle.frame[relationship.child_key], self._epochs(middle)])
                # a row counts once the latest row on its path is known; never if one never is
                path_time = pl.select(pl.when(path_time.is_not_null() & time.is_not_null())
                                      .then(pl.max_horizontal(path_time, time))).to_series()
            else:
                owner = of_parents(owner, middle.frame[middle.index], [middle.frame[relationship.child_key]])[0]
        columns = [owner.alias(OWNER), path_time.alias(PATH_TIME)]
        if with_order:
            columns += [own_time.alias(OWN_TIME),
                        values[child.index].rank("ordinal").cast(pl.Int64).alias(INDEX_RANK)]
        if not static:
            columns.append(pl.select(pl.max_horizontal(path_time, values[SETTLED])).to_series().alias(SETTLED))
        rows = pl.DataFrame([*columns, *[values[f.name] for f in inputs]])
        if owner.null_count() or path_time.null_count():
            rows = rows.filter(pl.col(OWNER).is_not_null() & pl.col(PATH_TIME).is_not_null())
        return rows

    def _epoch_series(self, table: Table, frame: pl.DataFrame) -> pl.Series:
        """``_epoch`` of the rows of ``frame`` (rows of ``table``)."""
        if self._timed(table):
            return ticks(self.scale, frame[table.time_index], f"table {table.name!r}, column "
                         f"{table.time_index!r}")
        return pl.Series(np.full(frame.height, NEVER, dtype=np.int64))

    def _settle_times(self, table: Table, features: frozenset[Feature]) -> pl.DataFrame:
        """For each row of ``table`` (its index), from when on ``features`` stop changing
        (``SETTLED``): the latest time of the row and of the rows their aggregations read."""
        settled = table.frame.select(pl.col(table.index), self._epoch(table).alias(SETTLED))
        reads: dict[tuple[Relationship, ...], set[Feature]] = {}
        for feature in _close_over_table(features):
            if isinstance(feature, AggregationFeature):
                reads.setdefault(feature.path, set()).update(
                    f for f in feature.sources if not self._is_static(f))
        for path, inputs in reads.items():
            rows = self._rows_with_path_time(path, frozenset(inputs))
            latest = rows.group_by(OWNER).agg(pl.col(SETTLED if inputs else PATH_TIME).max().alias("__featurekit_latest"))
            settled = _join_on_index(settled.lazy(), table.index, latest, OWNER).select(
                table.index, pl.max_horizontal(SETTLED, "__featurekit_latest").alias(SETTLED)).collect(engine="in-memory")
        return settled

    def _epochs(self, table: Table) -> pl.Series:
        """A timed table's times in ticks of the scale, computed once per builder (walks
        down several paths reach the same table)."""
        if table.name not in self.epochs:
            self.epochs[table.name] = self._epoch_series(table, table.frame)
        return self.epochs[table.name]

    def _epoch(self, table: Table) -> pl.Expr:
        """A row's time in ticks; the smallest integer when the table is static."""
        if not self._timed(table):
            return pl.lit(NEVER, dtype=pl.Int64)
        return ticks_expr(self.scale, table.time_index)

    def _join_direct(self, frame: pl.LazyFrame, relationship: Relationship,
                     group: list[DirectFeature]) -> pl.LazyFrame:
        parent = self.es[relationship.parent]
        if all(self._is_static(f) for f in group):  # the same at every cutoff: join by key alone
            return _PlanBuilder._join_direct(self.static, frame, relationship, group)
        asked = (frame.select(pl.col(relationship.child_key).alias(KEY), *self.moment_columns)
                 .drop_nulls(KEY).unique([KEY, CUT]).collect(engine="in-memory"))
        times = parent.frame.select(pl.col(parent.index).alias(KEY), *self._time_columns(parent))
        known = (asked.join(times, on=KEY, how="inner").filter(self._known(parent))
                 .select(KEY, *self.moment_columns))
        values = self.pairs_frame(parent.name, frozenset(f.base for f in group), known).select(
            pl.col(parent.index).alias("__featurekit_parent"), pl.col(CUT).alias("__featurekit_parent_cut"),
            *[pl.col(f.base.name).alias(f.name) for f in group])
        return frame.join(values.lazy(), left_on=[relationship.child_key, CUT],
                          right_on=["__featurekit_parent", "__featurekit_parent_cut"], how="left", maintain_order="left")




def _passed_on(feature: Feature, holds: Callable[[Feature], bool]) -> bool:
    """Whether a row-wise transform, or one output of a feature, has a property (``holds``)
    because its inputs have it; False for other kinds of feature."""
    if isinstance(feature, TransformFeature):
        primitive = feature.primitive
        return (primitive.row_wise and not primitive.ordered and not primitive.uses_cutoff
                and all(holds(f) for f in feature.inputs))
    if isinstance(feature, FeatureOutput):
        return holds(feature.inputs[0])
    return False


def _stat(feature: AggregationFeature) -> str | None:
    """The statistic a sweep reads off for ``feature`` (a kernel statistic, first or last)."""
    return feature.primitive.kernel_stat or feature.primitive.order_stat


def _overwrite(results: dict[tuple[str, str], Any], group: list[AggregationFeature],
               rows: pl.Series, patch: pl.DataFrame) -> None:
    """Put ``patch``'s values into the kernel ``results`` the features of ``group`` are read
    from, at the positions of its ``ROW`` numbers among ``rows``; numpy results are written
    in place."""
    where = np.empty(rows.len(), dtype=np.int64)
    where[rows.to_numpy()] = np.arange(rows.len())
    positions = where[patch[ROW].to_numpy()]
    for feature in group:
        key = (feature.inputs[0].name, _stat(feature))
        values, current = patch[feature.name], results[key]
        if isinstance(current, np.ndarray):
            current[positions] = (values.cast(pl.Float64).fill_null(np.nan) if current.dtype.kind == "f"
                                  else values).to_numpy()
        else:
            results[key] = current.scatter(positions, values.cast(current.dtype))


def _gather_rows(pairs: pl.DataFrame, table: Table, columns: list[str]) -> pl.DataFrame:
    """The pairs with their rows' columns (index under its own name), numbered by ``ROW``."""
    slots = kernels.dense_keys(table.frame[table.index])
    if slots is not None and pairs.schema[KEY].is_integer():
        positions = kernels.parent_positions(slots, table.frame.height, pairs[KEY])
        rows = kernels.gather_rows(table.frame.select(columns), positions)
    else:
        rows = pairs.select(KEY).join(table.frame.select(columns), left_on=KEY, right_on=table.index,
                                      how="left", maintain_order="left", coalesce=False).drop(KEY)
    return pl.concat([rows, pairs.select(pl.exclude(KEY))], how="horizontal")


def compute_per_cutoff(entityset: EntitySet, features: list[Feature], pairs: pl.DataFrame,
                       training_window: object, include_cutoff_time: bool,
                       sweep: bool | None = None,
                       step: Callable[[str], None] | None = None) -> pl.DataFrame:
    """The target's features for each (index, ``CUT``, ``CUTOFF``) row of ``pairs``: index,
    ``CUT``, then one column per feature output; instances created after their cutoff get
    missing values. Times compare as ticks of the entity set's time scale, refined to the
    precision of the cutoffs and of ``training_window`` (see ``time_scale``)."""
    target = entityset[features[0].table]
    scale = required_scale(entityset).refine(needed_unit(pairs[CUTOFF])).refine(window_unit(training_window))
    window = window_ticks(scale, training_window)
    cut_ticks = ticks(scale, pairs[CUTOFF], "cutoff_time").alias(TICKS)
    floors = window_floors(scale, pairs[CUTOFF], cut_ticks, window)
    builder = CutoffPlanBuilder(entityset, target.name, scale, window, include_cutoff_time, sweep)
    if step is not None:
        builder.step = step
    asked = pairs.rename({target.index: KEY}).with_columns(
        cut_ticks, *([floors.alias(FLOOR)] if floors is not None else [])).with_row_index("__featurekit_pair")
    times = target.frame.select(pl.col(target.index).alias(KEY), *builder._time_columns(target))
    known = asked.join(times, on=KEY, how="inner", maintain_order="left")
    known = known.filter(builder._known(target)).select("__featurekit_pair", KEY, *builder.moment_columns)
    computed = builder.pairs_frame(target.name, frozenset(features), known.drop("__featurekit_pair"))
    computed = computed.select(output_columns(features))
    if known.height < pairs.height:  # pairs of instances not yet created: rows of nulls
        at = np.full(pairs.height, -1, dtype=np.int64)
        at[known["__featurekit_pair"].to_numpy()] = np.arange(known.height)
        computed = computed.select(pl.all().gather(pl.Series(at).replace(-1, None)))
    # the rest in the pairs' order: set beside them, no join (a join copies every column)
    return pl.concat([pairs.select(target.index, CUT), computed], how="horizontal")
