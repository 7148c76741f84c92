"""Labels with their cutoff times: slide over each instance's history and ask a question of
the rows that come after each cutoff ("will this customer spend more than 100 in the next 30
days?").

A label at cutoff ``c`` sees only the rows with ``c < time <= c + window``; features computed
with that cutoff (``include_cutoff_time=True``, the default) see only rows with
``time <= c``. The two never share a row, so a model trained on them cannot peek.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import polars as pl

from featurekit.arguments import check_callable, check_count, check_text
from featurekit.engine.lazy_plan import GROUP_KEY, attach_ancestor_key
from featurekit.engine.point_in_time import parse_window
from featurekit.entityset import EntitySet, Table
from featurekit.errors import FeaturekitError

WINDOW = "__featurekit_window"


def make_labels(
    entityset: EntitySet,
    target: str,
    labeling_function: Callable[[pd.DataFrame], Any] | pl.Expr,
    window: Any,
    *,
    table: str | None = None,
    gap: Any = None,
    min_data: Any = None,
    max_per_instance: int | None = None,
    end: Any = None,
    label_name: str | None = None,
    time_column: str = "time",
) -> pd.DataFrame:
    """Cutoff times with labels, one row per (instance, cutoff), ready for ``fk.dfs(cutoff_time=...)``.

    For each instance of ``target`` the first cutoff is its first row in ``table`` plus
    ``min_data``; the next ones follow every ``gap`` (default: ``window``, so label windows
    do not overlap). A cutoff is kept only while its whole label window ``(c, c + window]``
    lies before ``end`` (default: the last time in ``table``), so no label is cut short by
    the end of the data. ``labeling_function`` receives the instance's rows of ``table`` in
    the window (a pandas DataFrame sorted by time, possibly empty: "no purchase" is an
    answer) and returns the label; a polars expression (``pl.col("amount").sum() > 100``)
    is evaluated for all windows at once instead. ``table`` defaults to the time-indexed
    table farthest below ``target``.

    Examples
    --------
    >>> import featurekit as fk
    >>> es = fk.demo.load_retail(n_customers=5)
    >>> labels = fk.make_labels(es, "customers", lambda rows: rows.amount.sum() > 100, window="90d")
    >>> list(labels.columns)
    ['customer_id', 'time', 'label']
    >>> matrix, features = fk.dfs(es, target="customers", cutoff_time=labels)
    >>> len(matrix) == len(labels)
    True
    """
    check_text("target", target)
    check_callable("labeling_function", labeling_function, also=(pl.Expr,))
    check_text("table", table, optional=True)
    check_text("label_name", label_name, optional=True)
    check_text("time_column", time_column)
    check_count("max_per_instance", max_per_instance, low=1)
    entityset.require_checked("fk.make_labels")
    if target not in entityset.tables:
        raise FeaturekitError(f"target table {target!r} is not in the entity set. "
                              f"Fix: use one of {sorted(entityset.tables)}")
    source = entityset[table] if table is not None else _deepest_timed_table(entityset, target)
    if source.time_index is None:
        raise FeaturekitError(f"table {source.name!r} has no time index to slide over. "
                              "Fix: pass table=<a table with a time index>")
    if not isinstance(source.frame.schema[source.time_index], pl.Datetime):
        raise FeaturekitError(
            f"table {source.name!r}, column {source.time_index!r} holds numeric steps, and label "
            "windows are durations. Fix: label from a table whose time index holds datetimes, or "
            "build the cutoff frame yourself (the target's index and a 'time' column of steps)")
    if window is None:
        raise FeaturekitError("window is required. Fix: pass the label window, e.g. window='30d'")
    window_length = _duration(window, "window")
    step = _duration(gap, "gap") if gap is not None else window_length
    warm_up = _duration(min_data, "min_data", allow_zero=True) if min_data is not None else dt.timedelta(0)
    name = label_name or (getattr(labeling_function, "__name__", "label")
                          if not isinstance(labeling_function, pl.Expr) else "label")
    name = "label" if name == "<lambda>" else name
    target_table = entityset[target]
    events = _events_of_instances(entityset, target_table, source)
    time = source.time_index
    last = events[time].max() if end is None else _end_moment(end, events.schema[time])
    cutoffs = _cutoffs(events, target_table.index, time, window_length, step, warm_up, last,
                       max_per_instance)
    if isinstance(labeling_function, pl.Expr):
        labels = _label_by_expression(events, cutoffs, labeling_function, target_table.index, time,
                                      window_length, step)
    else:
        labels = _label_by_function(events, cutoffs, labeling_function, target_table.index, time,
                                    window_length, source.name)
    result = cutoffs.select(target_table.index, pl.col("__featurekit_cutoff").alias(time_column)).with_columns(
        pl.Series(name, labels) if not isinstance(labels, pl.Series) else labels.alias(name))
    return result.to_pandas()


def _end_moment(end: Any, dtype: pl.DataType) -> dt.datetime:
    """``end`` as a datetime comparable with the label table's times."""
    try:
        moment = pd.Timestamp(end) if not isinstance(end, bool | int | float) else pd.NaT
    except (ValueError, TypeError, OverflowError):
        moment = pd.NaT
    if moment is pd.NaT:
        raise FeaturekitError(f"end={end!r} is not a time. Fix: pass a datetime or an ISO 8601 "
                              "string such as '2021-12-31', or leave it out (the last row's time)")
    if (moment.tzinfo is not None) != (getattr(dtype, "time_zone", None) is not None):
        raise FeaturekitError(f"end={end!r} and the label table's times differ in having a time "
                              "zone. Fix: give end with a time zone exactly when the data has one")
    return moment.to_pydatetime()


def _duration(value: Any, what: str, allow_zero: bool = False) -> dt.timedelta:
    zero = (isinstance(value, int | float) and not isinstance(value, bool) and value == 0) or (
        isinstance(value, str) and value.strip() in ("0", "0d"))
    if allow_zero and zero:
        return dt.timedelta(0)
    return parse_window(value, what)


def _deepest_timed_table(entityset: EntitySet, target: str) -> Table:
    """The time-indexed table farthest below ``target`` (its most granular events)."""
    depths = nx.single_source_shortest_path_length(entityset.graph, target)
    timed = {name: depth for name, depth in depths.items() if entityset[name].time_index is not None}
    if not timed:
        raise FeaturekitError(f"no table at or below {target!r} has a time index. "
                              "Fix: pass table=<a table with a time index>")
    deepest = max(timed.values())
    choices = sorted(name for name, depth in timed.items() if depth == deepest)
    if len(choices) > 1:
        raise FeaturekitError(f"tables {choices} are equally far below {target!r}. "
                              "Fix: pass table=<the one to label from>")
    return entityset[choices[0]]


def _events_of_instances(entityset: EntitySet, target: Table, source: Table) -> pl.DataFrame:
    """The rows of ``source`` with the target instance each belongs to (in the target's index
    column), sorted by (instance, time); rows of no instance or without a time are left out."""
    paths = entityset.paths_down(target.name, source.name)
    if not paths:
        raise FeaturekitError(f"table {source.name!r} is not below {target.name!r} in the entity set. "
                              f"Fix: label from a table below {target.name!r}")
    if len(paths) > 1:
        routes = " and ".join(entityset.path_name(p) for p in paths)
        raise FeaturekitError(
            f"table {source.name!r} reaches {target.name!r} by {len(paths)} paths ({routes}), so "
            f"which rows belong to an instance of {target.name!r} is ambiguous. Fix: label from "
            f"a table below {target.name!r} that reaches it by one path (table=...)")
    path = paths[0]
    rows = source.frame.lazy()
    rows = (attach_ancestor_key(entityset, rows, path) if path
            else rows.with_columns(pl.col(target.index).alias(GROUP_KEY)))
    time = source.time_index
    rows = rows.filter(pl.col(time).is_not_null())
    rows = rows.drop(target.index, strict=False).rename({GROUP_KEY: target.index})
    return rows.with_columns(pl.col(target.index).cast(target.frame.schema[target.index])).sort(
        [target.index, time]).collect()


def _cutoffs(events: pl.DataFrame, index: str, time: str, window: dt.timedelta, step: dt.timedelta,
             warm_up: dt.timedelta, last: dt.datetime, limit: int | None) -> pl.DataFrame:
    """Each instance's cutoffs: first row + warm-up, then every step, while the window fits."""
    first = events.group_by(index, maintain_order=True).agg(pl.col(time).min().alias("__featurekit_first"))
    first = first.with_columns((pl.col("__featurekit_first") + warm_up).alias("__featurekit_start"))
    latest = pl.lit(last).cast(events.schema[time]) - window
    count = ((latest - pl.col("__featurekit_start")).dt.total_microseconds() // int(step / dt.timedelta(microseconds=1)) + 1)
    first = first.with_columns(count.clip(lower_bound=0).alias("__featurekit_count"))
    if limit is not None:
        first = first.with_columns(pl.col("__featurekit_count").clip(upper_bound=limit))
    first = first.filter(pl.col("__featurekit_count") > 0)
    return (first.with_columns(pl.int_ranges(0, pl.col("__featurekit_count")).alias(WINDOW)).explode(WINDOW)
            .with_columns((pl.col("__featurekit_start") + pl.duration(microseconds=pl.col(WINDOW)
                                                            * int(step / dt.timedelta(microseconds=1))))
                          .alias("__featurekit_cutoff"))
            .select(index, WINDOW, "__featurekit_cutoff", "__featurekit_start"))


def _label_by_function(events: pl.DataFrame, cutoffs: pl.DataFrame, function: Callable, index: str,
                       time: str, window: dt.timedelta, table: str) -> list[Any]:
    """Call the function on each window's rows, sliced from one sorted pandas frame."""
    rows = events.drop(index).to_pandas()
    sizes = events.group_by(index, maintain_order=True).len()
    lengths = sizes["len"].cast(pl.Int64).to_numpy()
    stops = np.cumsum(lengths)
    segment_of = dict(zip(sizes[index].to_list(), zip(stops - lengths, stops, strict=True), strict=True))
    times = events[time].dt.epoch("us").to_numpy()
    span = int(window / dt.timedelta(microseconds=1))
    moments = cutoffs["__featurekit_cutoff"].dt.epoch("us").to_numpy()
    labels = []
    for (owner, moment), micro in zip(cutoffs.select(index, "__featurekit_cutoff").iter_rows(), moments, strict=True):
        start, stop = segment_of[owner]
        low, high = start + np.searchsorted(times[start:stop], [micro, micro + span], side="right")
        window_rows = rows.iloc[low:high]
        try:
            labels.append(function(window_rows))
        except Exception as error:
            raise FeaturekitError(
                f"the labeling function failed for instance {owner!r} at cutoff {moment} (rows of "
                f"{table!r} in ({moment}, {moment + window}]): {type(error).__name__}: {error}. "
                "Fix: make it handle that window (it may be empty)") from error
    return labels


def _label_by_expression(events: pl.DataFrame, cutoffs: pl.DataFrame, expression: pl.Expr, index: str,
                         time: str, window: dt.timedelta, step: dt.timedelta) -> pl.Series:
    """Evaluate a polars expression per window in one group_by: each row joins only the windows
    that contain it (at most window / step + 1 of them), never every window of its instance."""
    micro = int(step / dt.timedelta(microseconds=1))
    starts = cutoffs.group_by(index).agg(pl.col("__featurekit_start").first(), pl.col(WINDOW).max().alias("__featurekit_last"))
    rows = events.join(starts, on=index, how="inner")
    since = (pl.col(time) - pl.col("__featurekit_start")).dt.total_microseconds()
    span = int(window / dt.timedelta(microseconds=1))
    # window k holds the row when start + k*step < t <= start + k*step + window
    low = (-((span - since) // micro)).clip(lower_bound=0)  # ceil((since - span) / step)
    high = pl.min_horizontal((since - 1) // micro, pl.col("__featurekit_last"))
    rows = (rows.with_columns(pl.int_ranges(low, high + 1).alias(WINDOW)).explode(WINDOW)
            .drop_nulls(WINDOW))
    try:
        computed = rows.group_by(index, WINDOW).agg(expression.alias("__featurekit_label"))
        empty = events.clear().select(expression.alias("__featurekit_label"))
    except pl.exceptions.PolarsError as error:
        raise FeaturekitError(f"the labeling expression failed: {error}. Fix: check its column names "
                              f"({events.columns})") from None
    labels = cutoffs.join(computed, on=[index, WINDOW], how="left", maintain_order="left")["__featurekit_label"]
    if empty.height == 1 and empty["__featurekit_label"][0] is not None:  # what an empty window gives
        labels = labels.fill_null(empty["__featurekit_label"][0])
    return labels
