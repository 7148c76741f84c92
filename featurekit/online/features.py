"""``OnlineFeatures``: features of a few instances at a fresh cutoff, in milliseconds, from
tables held in memory and indexed once, with the batch engine's values."""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import polars as pl

from featurekit.arguments import check_flag, check_items
from featurekit.engine.api import _hand_back, compute
from featurekit.engine.lazy_plan import _check_against_entityset, _cutoff_literal, output_columns
from featurekit.engine.time_scale import (
    DATETIME,
    read_moments,
    required_scale,
    ticks,
    window_floors,
    window_ticks,
)
from featurekit.entityset import EntitySet
from featurekit.errors import ComputeError, FeaturekitError
from featurekit.feature import Feature
from featurekit.frames import to_polars
from featurekit.online.columns import concat
from featurekit.online.fast import ArrayRunner, Columns, Unsupported, array_feature
from featurekit.online.new_rows import read_new_rows
from featurekit.online.output import hand_back
from featurekit.online.program import Moment, Runner, TablePlan, fast_feature, table_plan
from featurekit.online.reach import gather
from featurekit.online.rows import KeyLookup, Part, TableRows, key_values


class OnlineFeatures:
    """Serve features of one instance (or a few) from tables held in memory.

    Made once per entity set and feature list (``fk.plan``'s output, or ``fk.load_features``
    of a saved list), it keeps the tables' rows and finds an instance's rows by binary search
    over sorted keys (built on first use), instead of scanning whole tables as a batch does.

    ``compute(ids, cutoff_time=None, rows=None)`` returns exactly what :func:`featurekit.compute`
    returns for the same rows (the same columns, dtypes and values) with a cutoff frame of
    one row per instance::

        fk.compute(entityset_with_those_rows, features,
                   cutoff_time=pd.DataFrame({index: ids, "time": cutoffs}),
                   training_window=training_window, include_cutoff_time=include_cutoff_time)

    - ``ids``: one id or a sequence of distinct ids of the target table (held, appended or in
      ``rows``); an unknown id is an error naming it.
    - ``cutoff_time``: one moment for every id, one per id, or None for *now*: every row
      known (a row without a time never is, as in the batch engine), time-relative
      primitives (AGE, TIME_SINCE...) measured to the current time; the values of
      ``fk.compute(entityset, features)`` for those instances, indexed by the instance
      alone. A cutoff gives the (index, "time") index of a cutoff frame's matrix.
    - ``rows``: ``{table: frame}`` of rows for this call only (a new customer, its session,
      the transactions of a basket), checked like ``append``'s; parents may come with their
      children.
    - An instance not yet created at its cutoff keeps its row, with every feature missing.

    ``append(table, rows)`` adds rows for every later call, checked as
    ``EntitySet.add_table`` checks a table (the table's columns, values that parse as their
    types), with indexes that must be new and keys that must name rows already held (append
    parents before their children); nothing is added when a check fails. The entity set
    given is never modified: appended rows live in this object. Calls are not meant to run
    concurrently with ``append`` (serve from one thread, or guard ``append`` with a lock).

    How features are computed (every path equals the batch engine, tested on random data):
    identity columns, direct features, row-wise transforms of a table's own columns (made
    once per held table: no cutoff changes them) and the aggregations the batch engine
    computes with kernel statistics (COUNT, SUM, MEAN, STD, VAR, MIN, MAX, SKEW, MODE,
    NUM_UNIQUE, PERCENT_TRUE, NUM_TRUE: the default DFS set) run over numpy arrays of the
    instance's rows, by the batch engine's own numba kernels; when a feature list has others (ordered or time-relative aggregations, ...), they
    run as the primitives' own polars expressions over those rows; transforms that read a
    whole table (PERCENTILE, CUM_SUM, ...) and batch families of aggregations go to the batch
    engine on the gathered rows (``slow_features`` lists them), which is slower.

    ``training_window`` and ``include_cutoff_time`` are those of :func:`featurekit.compute`:
    event rows older than the window, and with ``include_cutoff_time=False`` rows at the
    cutoff itself, do not count (a window needs a cutoff).

    Examples
    --------
    >>> import pandas as pd, featurekit as fk
    >>> es = fk.demo.load_retail(n_customers=50)
    >>> features = fk.plan(es, target="customers", max_depth=2)
    >>> online = OnlineFeatures(es, features)
    >>> online.append("sessions", pd.DataFrame({
    ...     "session_id": [10_000], "customer_id": [3], "device": ["mobile"],
    ...     "session_start": [pd.Timestamp("2030-01-01 12:00")]}))
    >>> online.append("transactions", pd.DataFrame({
    ...     "transaction_id": [10_000_000], "session_id": [10_000],
    ...     "transaction_time": [pd.Timestamp("2030-01-01 12:05")], "product_id": [7],
    ...     "amount": [99.5], "fraud": [False]}))
    >>> row = online.compute([3], cutoff_time="2030-01-02")
    >>> row.index.names
    FrozenList(['customer_id', 'time'])
    >>> float(row["MAX(transactions.amount)"].iloc[0]) >= 99.5
    True
    >>> online.compute([3])["COUNT(sessions)"].tolist() == row["COUNT(sessions)"].tolist()
    True
    """

    def __init__(self, entityset: EntitySet, features: Sequence[Feature],
                 training_window: Any = None, include_cutoff_time: bool = True) -> None:
        if not isinstance(entityset, EntitySet):
            raise FeaturekitError(f"entityset must be an EntitySet, got {type(entityset).__name__}. "
                                  "Fix: pass the entity set the features were planned on")
        features = check_items("features", features, optional=False)
        if not features:
            raise ComputeError("no features to compute. Fix: pass the output of fk.plan or "
                               "fk.load_features")
        _check_against_entityset(entityset, features)
        targets = sorted({f.table for f in features})
        if len(targets) > 1:
            raise ComputeError(f"features describe several tables {targets}. Fix: serve the "
                               "features of one table per OnlineFeatures")
        self.entityset = entityset
        self.features = list(features)
        self.target = entityset[targets[0]]
        self.names = output_columns(self.features)
        self.tables = {name: TableRows(table) for name, table in entityset.tables.items()}
        self._order = list(nx.topological_sort(entityset.graph))  # parents before children
        check_flag("include_cutoff_time", include_cutoff_time)
        self.training_window = training_window
        self.include_cutoff_time = include_cutoff_time
        self._scale = required_scale(entityset)
        # rows are compared with cutoffs in nanoseconds: exact for any cutoff's precision
        self._ticks_scale = self._scale.refine("ns")
        self._window = window_ticks(self._ticks_scale, training_window)
        # the window limits event rows, not the target's own table nor the tables it refers to
        self._unwindowed = frozenset({self.target.name, *nx.descendants(
            entityset.graph.reverse(copy=False), self.target.name)})
        fast = [f for f in self.features if fast_feature(f)]
        self._slow = [f for f in self.features if not fast_feature(f)]
        self._fast = table_plan(entityset, self.target.name, fast) if fast else None
        self._fast_names = output_columns(fast)
        # the numpy path, when it computes every feature
        self._arrays = all(array_feature(f) for f in self.features)
        self._coders: dict = {}
        self._moment_cache: dict[tuple, pl.Series] = {}
        self._tick_cache: dict[Any, int] = {}  # a cutoff -> its ticks
        self._transforms: dict[str, dict[str, Feature]] = defaultdict(dict)
        self._columns = Columns(entityset, self._coders, self._transforms)
        if self._arrays:
            _collect_transforms(self._fast, self._transforms)
            for name, held in self.tables.items():  # appended rows: their columns alone
                held.build = functools.partial(self._columns.build, entityset[name])
        for part in self.tables[self.target.name].parts:
            part.lookup(self.target.index)

    @property
    def slow_features(self) -> list[Feature]:
        """The features the fast path leaves to the batch engine (on the gathered rows): those
        reading a transform that looks at the table's other rows (ranks, running sums) or a
        batch family of aggregations (the time-series calculators)."""
        return list(self._slow)

    def __repr__(self) -> str:
        rows = ", ".join(f"{name}={held.height}" for name, held in self.tables.items())
        return f"OnlineFeatures({self.target.name!r}, features={len(self.features)}, {rows})"

    # -------------------------------------------------------------- rows
    def append(self, table: str, rows: Any) -> None:
        """Add ``rows`` (pandas, polars or pyarrow, every column of the table) to ``table``
        for every later call. They are checked as ``add_table`` checks a table (values that
        do not parse are refused), their indexes must be new and their keys must name rows
        already held (append parents before their children); nothing is added on error.
        The rows' lookups and arrays are made for them alone and joined to those held
        (``TableRows``): an append costs about its own rows, and no later call rebuilds
        what was built for the rows held before."""
        frame = read_new_rows(self.entityset, table, rows, self._held_lookups({}))
        self.tables[table].append(frame)

    def _held_lookups(self, call: dict[str, Part]):
        def lookups(table: str, column: str) -> list[KeyLookup]:
            parts = [*self.tables[table].parts, *([call[table]] if table in call else [])]
            return [part.lookup(column) for part in parts]
        return lookups

    def _call_parts(self, rows: Any) -> dict[str, Part]:
        """The rows given to one call, read parents first (a new customer, its sessions, their
        transactions may come together)."""
        if rows is None:
            return {}
        if not isinstance(rows, dict):
            raise FeaturekitError(f"rows must be a dict {{table: frame}}, got {type(rows).__name__}. "
                                  "Fix: pass rows={'transactions': new_transactions}")
        unknown = sorted(set(map(str, rows)) - set(self.entityset.tables))
        if unknown:
            raise FeaturekitError(f"rows names unknown table(s) {unknown}. Fix: use tables of the "
                                  f"entity set: {sorted(self.entityset.tables)}")
        call: dict[str, Part] = {}
        for table in self._order:
            if table in rows:
                call[table] = Part(read_new_rows(self.entityset, table, rows[table],
                                                 self._held_lookups(call)))
        return call

    # ----------------------------------------------------------- compute
    def compute(self, ids: Any, cutoff_time: Any = None, rows: dict[str, Any] | None = None) -> Any:
        """Features of the instances ``ids`` (one id or a sequence) of the target table.

        ``cutoff_time``: None (now: every row known), one moment for every id, or a sequence
        of moments, one per id. ``rows``: ``{table: frame}`` of rows for this call only (new
        instances, or new child rows of held ones), checked like ``append``'s.

        Returns the frame ``fk.compute`` returns for those rows: with a cutoff, one row per
        id in the order given, indexed by (index, "time") ("cutoff_time" when a feature is
        named "time"); without one, indexed by the index, in the order given.
        """
        call = self._call_parts(rows)
        parts = {name: [*held.parts, *([call[name]] if name in call else [])]
                 for name, held in self.tables.items()}
        id_values = self._read_ids(ids, parts)
        cutoffs = self._read_cutoffs(cutoff_time, len(id_values))
        if cutoffs is None and self.training_window is not None:
            raise ComputeError("a training_window needs a cutoff_time: the window ends at the "
                               "cutoff. Fix: pass cutoff_time= (e.g. the current time)")
        time_column = "time" if "time" not in self.names else "cutoff_time"
        frame = None if cutoffs is None else self._cutoff_frame(id_values, cutoffs, time_column)
        if self._arrays:
            try:
                fast = self._compute_arrays(parts, id_values, frame, time_column)
            except Unsupported:
                fast = None
            if fast is not None:
                return fast
        if self._fast is not None:
            fast = self._compute_fast(parts, id_values, frame, time_column)
            if fast is not None:
                return fast
        return self._compute_batch(parts, id_values, self.features, frame, time_column)

    def _compute_batch(self, parts: dict[str, list[Part]], id_values: pl.Series,
                       features: list[Feature], frame: pl.DataFrame | None, time_column: str,
                       return_type: str | None = None) -> Any:
        """The batch engine on the rows the features read (the reference the fast path equals)."""
        target = self.target
        target_rows = tuple(part.lookup(target.index).rows_of(key_values(id_values))
                            for part in parts[target.name])
        small = gather(self.entityset, parts, features, target_rows)
        if frame is None:  # the instances' rows of the matrix, typed as a matrix of them
            matrix = compute(small, features, return_type="polars")
            matrix = id_values.to_frame(target.index).join(matrix, on=target.index, how="left",
                                                           maintain_order="left")
            if return_type == "polars":
                return matrix
            return _hand_back(matrix, return_type or target.source_kind, [target.index], features)
        return compute(small, features, cutoff_time=frame, time_column=time_column,
                       return_type=return_type, training_window=self.training_window,
                       include_cutoff_time=self.include_cutoff_time)

    def _cutoff_frame(self, id_values: pl.Series, cutoffs: list, time_column: str) -> pl.DataFrame:
        """The cutoff rows as ``fk.compute`` reads a cutoff frame: ids, then moments of the
        entity set's time type (a value that is no time is refused there). One moment for
        every id is read once and remembered (a server asks for the same moments often)."""
        first = cutoffs[0]
        if all(c is first for c in cutoffs) and isinstance(first, (str, pd.Timestamp, dt.datetime)):
            key = (type(first), first, time_column)
            moment = self._moment_cache.get(key)
            if moment is None:
                if len(self._moment_cache) > 1024:
                    self._moment_cache.clear()
                moment = self._moment_cache[key] = self._read_moments([first], time_column)
            times = moment if len(cutoffs) == 1 else moment.gather([0] * len(cutoffs))
        else:
            times = self._read_moments(cutoffs, time_column)
        return pl.DataFrame([id_values, times])

    def _read_moments(self, cutoffs: list, time_column: str) -> pl.Series:
        frame = to_polars(pd.DataFrame({time_column: cutoffs}), "cutoff_time")
        return read_moments(self._scale, frame[time_column], f"the cutoff_time column {time_column!r}")

    def _compute_fast(self, parts: dict[str, list[Part]], id_values: pl.Series,
                      frame: pl.DataFrame | None, time_column: str) -> Any:
        """The features by the fast path (see ``program``); None when an instance does not
        exist yet at its cutoff (the batch engine gives its row of missing values)."""
        target = self.target
        plan = self._fast
        rows = []
        try:
            moments = self._moments(frame, time_column, id_values.len())
            for position, moment in enumerate(moments):
                runner = Runner(self.entityset, parts, moment)
                row = runner.rows(target, target.index, key_values(id_values.slice(position, 1)),
                                  plan.columns)
                if row.height == 0:
                    return None
                rows.append(runner.run(plan, row).select(self._fast_names))
        except ComputeError:  # times beyond the nanosecond range: the batch engine says so
            return None
        computed = rows[0] if len(rows) == 1 else pl.concat(rows, how="vertical_relaxed")
        keys = [target.index] if frame is None else [target.index, time_column]
        columns = [id_values.to_frame(target.index) if frame is None else frame.select(keys), computed]
        if self._slow:
            slow = self._compute_batch(parts, id_values, self._slow, frame, time_column, "polars")
            columns.append(slow.select(output_columns(self._slow)))
        result = pl.concat(columns, how="horizontal").select(*keys, *self.names)
        return _hand_back(result, target.source_kind, keys, self.features)

    def _compute_arrays(self, parts: dict[str, list[Part]], id_values: pl.Series,
                        frame: pl.DataFrame | None, time_column: str) -> Any:
        """The features by the numpy path (see ``fast``); None when an instance does not
        exist yet at its cutoff (the batch engine gives its row of missing values)."""
        target = self.target
        runner = ArrayRunner(self.entityset, parts, self._columns)
        try:
            moments = self._moments(frame, time_column, id_values.len())
        except ComputeError:
            return None
        per_instance = []
        for position, moment in enumerate(moments):
            runner.moment = moment
            rows = runner.rows_where(target, target.index, key_values(id_values.slice(position, 1)))
            if not rows:
                return None
            per_instance.append(runner.run(self._fast, rows, self.names))
        cols = {}
        for name in self.names:
            found = [instance[name] for instance in per_instance]
            if any(c.names is not found[0].names for c in found):
                raise Unsupported("codes of two versions of a category table")
            cols[name] = concat(found)
        keys = [id_values] if frame is None else [frame[target.index], frame[time_column]]
        return hand_back(target.source_kind, keys, self.features, cols)

    def _moments(self, frame: pl.DataFrame | None, time_column: str, count: int) -> list[Moment]:
        """One ``Moment`` per instance: its cutoff (now when there is none)."""
        if frame is None:
            return [Moment(None, _cutoff_literal(self.entityset, None), self._ticks_scale)] * count
        moments = frame[time_column]
        values = moments.to_list()
        if any(value not in self._tick_cache for value in values):
            if len(self._tick_cache) > 1024:
                self._tick_cache.clear()
            found = ticks(self._ticks_scale, moments, "cutoff_time").to_list()
            self._tick_cache.update(zip(values, found, strict=True))
        cut = [self._tick_cache[value] for value in values]
        floors = [None] * count
        if self._window is not None:
            floors = window_floors(self._ticks_scale, moments, pl.Series(cut, dtype=pl.Int64),
                                   self._window).to_list()
        datetimes = self._scale.kind == DATETIME
        now = None if datetimes else _cutoff_literal(self.entityset, None)
        return [Moment(cut[i], pl.lit(moments.slice(i, 1)).first() if datetimes else now,
                       self._ticks_scale, self.include_cutoff_time, floors[i], self._unwindowed)
                for i in range(count)]

    def _read_ids(self, ids: Any, parts: dict[str, list[Part]]) -> pl.Series:
        """The ids as a series of the index's type, each known, none repeated."""
        target = self.target
        if isinstance(ids, (str, bytes)) or not hasattr(ids, "__len__"):
            ids = [ids]
        try:
            series = pl.Series(target.index, list(ids)).cast(target.frame.schema[target.index],
                                                            strict=True)
        except (pl.exceptions.PolarsError, TypeError, ValueError, OverflowError):
            raise FeaturekitError(
                f"ids must be values of {target.name!r}'s index {target.index!r} "
                f"({target.frame.schema[target.index]}), got {list(ids)[:3]!r}. Fix: pass ids of "
                "that type") from None
        if series.len() == 0 or series.null_count():
            raise FeaturekitError(f"ids must name at least one instance of {target.name!r}, none "
                                  "missing. Fix: pass e.g. compute([42])")
        if series.len() > 1 and series.n_unique() < series.len():
            raise FeaturekitError(f"ids repeat instance(s) {series.filter(series.is_duplicated()).unique().head(3).to_list()}."
                                  " Fix: pass each instance once")
        values = key_values(series)
        known = np.zeros(len(values), bool)
        for part in parts[target.name]:
            known |= part.lookup(target.index).contains(values)
        if not known.all():
            raise FeaturekitError(
                f"table {target.name!r} holds no instance {values[~known][:3].tolist()}. Fix: "
                f"append it first, or pass its row in rows={{{target.name!r}: ...}}")
        return series

    def _read_cutoffs(self, cutoff_time: Any, count: int) -> list | None:
        if cutoff_time is None:
            return None
        if isinstance(cutoff_time, (str, bytes, dt.date, np.datetime64, pd.Timestamp)) or \
                not hasattr(cutoff_time, "__len__"):
            return [cutoff_time] * count
        if hasattr(cutoff_time, "columns"):
            raise FeaturekitError("cutoff_time is one moment, or one moment per id, not a frame. "
                                  "Fix: pass cutoff_time=frame['time'] with ids=frame[index]")
        moments = list(cutoff_time)
        if len(moments) != count:
            raise FeaturekitError(f"cutoff_time gives {len(moments)} moments for {count} ids. Fix: "
                                  "pass one moment, or one per id")
        return moments


def _collect_transforms(plan: TablePlan, found: dict[str, dict[str, Feature]]) -> None:
    """Every transform of the plan and of the plans under it, by table and name."""
    for level in plan.transforms:
        for feature in level:
            found[plan.table.name][feature.name] = feature
    for *_, below in (*plan.paths, *plan.parents):
        _collect_transforms(below, found)
