"""What the data looked like at a moment: every table with a time index cut to the rows whose
time is at or before the cutoff (and after cutoff - training_window). Computing on that view
makes leakage impossible by construction, at every depth of stacking.

This is the single-cutoff case: one moment for all instances. Per-instance cutoff times
are computed by ``per_cutoff`` under the same rules.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import networkx as nx
import pandas as pd
import polars as pl

from featurekit.engine.durations import read_duration
from featurekit.engine.time_scale import (
    needed_unit,
    read_moment,
    required_scale,
    ticks,
    ticks_expr,
    window_floors,
    window_ticks,
    window_unit,
)
from featurekit.entityset import EntitySet, Table


def parse_window(window: Any, what: str = "training_window") -> pd.Timedelta | None:
    """``"30d"``, ``"12h"``, ``"2 days"``, a pandas or datetime timedelta, or None; must be
    positive (a ``pd.Timedelta``, which keeps nanoseconds and compares with
    ``datetime.timedelta``). Calendar months are refused here: they are no fixed length
    (``training_window`` takes them, see ``durations``). ``what`` names the argument."""
    return read_duration(window, what)


def as_of(entityset: EntitySet, cutoff: Any, training_window: Any = None,
          include_cutoff_time: bool = True, target: str | None = None) -> EntitySet:
    """A view of ``entityset`` holding only the rows known at ``cutoff``; the original is untouched.

    Times compare exactly at the finest precision of the data and the cutoff (see
    ``time_scale``); a row without a time is never known. The window limits the event rows
    that get aggregated; it does not apply to the target's own table nor to the tables it
    refers to (its parents, their parents): an instance and what it belongs to exist from
    their creation on, however long ago that was.
    """
    entities = {target, *nx.descendants(entityset.graph.reverse(copy=False), target)} if target else set()
    scale = required_scale(entityset)
    moment = read_moment(scale, cutoff)
    scale = scale.refine(needed_unit(moment)).refine(window_unit(training_window))
    cut = ticks(scale, moment, "cutoff_time")
    window = window_ticks(scale, training_window)
    floors = window_floors(scale, moment, cut, window)

    def keep(name: str, table: Table) -> pl.Expr:
        time = ticks_expr(scale, table.time_index)
        known = (time <= cut[0]) if include_cutoff_time else (time < cut[0])
        return known & (time > floors[0]) if floors is not None and name not in entities else known

    return _timed_rows_view(entityset, keep)


def known_eventually(entityset: EntitySet) -> EntitySet:
    """A view of ``entityset`` without the rows no cutoff ever sees: those of a timed table
    whose time is missing. What it computes is what a cutoff after every row would see."""
    return _timed_rows_view(entityset, lambda name, table: (
        pl.col(table.time_index).is_not_null() if table.frame[table.time_index].null_count() else None))


def _timed_rows_view(entityset: EntitySet, keep: Callable[[str, Table], pl.Expr | None]) -> EntitySet:
    """A view of ``entityset`` whose timed tables hold the rows ``keep(name, table)`` selects
    (all of them, and no copy, where it gives None); the original is untouched."""
    view = copy.copy(entityset)
    view.tables = {}
    for name, table in entityset.tables.items():
        selected = keep(name, table) if table.time_index is not None else None
        if selected is None:
            view.tables[name] = table
            continue
        shallow = copy.copy(table)
        shallow.frame = table.frame.filter(selected)
        view.tables[name] = shallow
    return view
