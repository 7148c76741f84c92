"""What the data looked like at a moment: every table with a time index cut to the rows whose
time is at or before the cutoff (and after cutoff - training_window). Computing on that view
makes leakage impossible by construction, at every depth of stacking.

This is the single-cutoff case: one moment for all instances. Per-instance cutoff times
are computed by ``per_cutoff`` under the same rules.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import networkx as nx
import pandas as pd
import polars as pl

from featurekit.entityset import EntitySet, Table
from featurekit.errors import FeaturekitError


def parse_window(window: Any, what: str = "training_window") -> dt.timedelta | None:
    """``"30d"``, ``"12h"``, a pandas or datetime timedelta, or None; must be positive.
    ``what`` names the argument in error messages."""
    if window is None:
        return None
    if isinstance(window, str):  # "30d" as users write it (pandas now wants "30D")
        window = re.sub(r"^\s*(-?[\d.]+)\s*d(ays?)?\s*$", r"\1D", window)
    try:
        delta = pd.Timedelta(window).to_pytimedelta()
    except (ValueError, TypeError):
        raise FeaturekitError(f"{what} {window!r} is not a duration. "
                              "Fix: pass e.g. '30d', '12h' or a datetime.timedelta") from None
    if delta <= dt.timedelta(0):
        raise FeaturekitError(f"{what} must be positive, got {window!r}. "
                              "Fix: pass a positive duration such as '30d'")
    return delta


def training_window_of(entityset: EntitySet, training_window: Any) -> dt.timedelta | None:
    """The window as a timedelta, refused when no table has a time index to apply it to."""
    window = parse_window(training_window)
    timed = [t for t in entityset.tables.values() if t.time_index is not None]
    if window is not None and not timed:
        raise FeaturekitError("training_window needs tables with a time index, and none has one. "
                              "Fix: pass time_index= to add_table, or drop training_window")
    return window


def as_of(entityset: EntitySet, cutoff: dt.datetime, training_window: Any = None,
          include_cutoff_time: bool = True, target: str | None = None) -> EntitySet:
    """A view of ``entityset`` holding only the rows known at ``cutoff``; the original is untouched.

    The window limits the event rows that get aggregated; it does not apply to the target's
    own table nor to the tables it refers to (its parents, their parents): an instance and
    what it belongs to exist from their creation on, however long ago that was.
    """
    entities = {target, *nx.descendants(entityset.graph.reverse(copy=False), target)} if target else set()
    window = training_window_of(entityset, training_window)

    def keep(name: str, table: Table) -> pl.Expr:
        time = pl.col(table.time_index)
        moment = _literal(cutoff, table.frame.schema[table.time_index])
        known = (time <= moment) if include_cutoff_time else (time < moment)
        return known & (time > moment - window) if window is not None and name not in entities else known

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
        timed = table.time_index is not None and isinstance(table.frame.schema[table.time_index], pl.Datetime)
        selected = keep(name, table) if timed else None
        if selected is None:
            view.tables[name] = table
            continue
        shallow = copy.copy(table)
        shallow.frame = table.frame.filter(selected)
        view.tables[name] = shallow
    return view


def _literal(moment: dt.datetime, dtype: pl.Datetime) -> pl.Expr:
    """The cutoff as a literal comparable with a column of ``dtype``; naive and aware times
    do not mix silently."""
    aware = moment.tzinfo is not None
    if aware != (dtype.time_zone is not None):
        raise FeaturekitError(
            f"the cutoff time {moment} is {'timezone-aware' if aware else 'naive'} but the time "
            f"index is {'naive' if aware else 'timezone-aware'}. Fix: give the cutoff "
            f"{'without' if aware else 'with'} a timezone")
    return pl.lit(moment).cast(dtype)
