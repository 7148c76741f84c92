"""Read a cutoff-time frame: which instance is computed as of which moment.

A cutoff frame has the target's index column and a time column (``"time"`` unless told
otherwise); any other column (a label) passes through to the feature matrix. One instance
may appear with many times. Every mistake is reported with the column and the fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from featurekit.entityset import EntitySet, Table
from featurekit.errors import FeaturekitError
from featurekit.frames import to_polars

CUT = "__featurekit_cut"  # the position of a row's cutoff among the distinct cutoffs
CUTOFF = "__featurekit_cutoff"  # the cutoff moment itself


@dataclass(frozen=True)
class CutoffTimes:
    """The caller's cutoff rows (their order kept) and the instance/moment pairs to compute.

    ``rows`` holds the index column, the time column, the pass-through columns and ``CUT``;
    ``pairs`` holds each (instance, cutoff) as (index, ``CUT``, ``CUTOFF``), row for row with
    ``rows`` (a frame naming one instance twice at one moment is refused).
    """

    rows: pl.DataFrame
    pairs: pl.DataFrame
    index: str
    time_column: str
    extra_columns: list[str]


def is_cutoff_frame(cutoff_time: Any) -> bool:
    """Whether ``cutoff_time`` is a frame of per-instance cutoffs rather than one moment."""
    return hasattr(cutoff_time, "columns") or isinstance(cutoff_time, pl.LazyFrame)


def read_cutoffs(cutoff_time: Any, entityset: EntitySet, target: Table,
                 time_column: str = "time") -> CutoffTimes:
    """Validate a cutoff frame against the target table and number its distinct moments."""
    frame = to_polars(cutoff_time, "cutoff_time", target.index)
    if target.index not in frame.columns:
        raise FeaturekitError(
            f"the cutoff_time frame has no column {target.index!r} (the index of target table "
            f"{target.name!r}); it has {frame.columns}. Fix: name the instance column "
            f"{target.index!r}")
    if time_column not in frame.columns:
        raise FeaturekitError(
            f"the cutoff_time frame has no time column {time_column!r}; it has {frame.columns}. "
            f"Fix: name the column {time_column!r} or pass time_column=<its name>")
    if time_column == target.index:
        raise FeaturekitError(f"time_column {time_column!r} is the index of {target.name!r}. "
                              "Fix: give the cutoff times their own column")
    zone = _time_zone(entityset)
    frame = frame.with_columns(_instance_ids(frame[target.index], target),
                               _moments(frame[time_column], time_column, zone))
    _check_known_instances(frame[target.index], target)
    _check_no_duplicates(frame, target.index, time_column)
    # moments numbered in time order; pairs are the rows themselves, (instance, time) being unique
    rows = frame.with_columns((pl.col(time_column).rank("dense") - 1).cast(pl.Int32).alias(CUT))
    pairs = rows.select(target.index, CUT, pl.col(time_column).alias(CUTOFF))
    extras = [c for c in frame.columns if c not in (target.index, time_column)]
    return CutoffTimes(rows, pairs, target.index, time_column, extras)


def _instance_ids(ids: pl.Series, target: Table) -> pl.Series:
    dtype = target.frame.schema[target.index]
    if ids.null_count():
        raise FeaturekitError(f"the cutoff_time column {target.index!r} has {ids.null_count()} missing "
                              "instance ids. Fix: drop those rows")
    try:
        return ids.cast(dtype, strict=True)
    except pl.exceptions.PolarsError:
        raise FeaturekitError(
            f"the cutoff_time column {target.index!r} holds {ids.dtype} values, which cannot match "
            f"the {dtype} index of table {target.name!r}. Fix: give ids of the index's type") from None


def _moments(times: pl.Series, column: str, zone: str | None) -> pl.Series:
    """The cutoff column as datetimes: parsed from strings, checked against the entity set's
    time zone (naive and aware times never mix silently)."""
    if times.dtype == pl.String:
        try:
            times = times.str.to_datetime(time_unit="us")
        except pl.exceptions.PolarsError:
            raise FeaturekitError(f"the cutoff_time column {column!r} holds text that does not parse "
                                  "as times. Fix: give datetimes or ISO 8601 strings") from None
    if times.dtype == pl.Date:
        times = times.cast(pl.Datetime("us"))
    if not isinstance(times.dtype, pl.Datetime):
        raise FeaturekitError(f"the cutoff_time column {column!r} holds {times.dtype}, not times. "
                              "Fix: give datetimes or ISO 8601 strings")
    if times.null_count():
        raise FeaturekitError(f"the cutoff_time column {column!r} has {times.null_count()} missing "
                              "times. Fix: drop those rows or give them a time")
    aware = times.dtype.time_zone is not None
    if aware != (zone is not None):
        raise FeaturekitError(
            f"the cutoff_time column {column!r} is {'timezone-aware' if aware else 'naive'} but the "
            f"entity set's times are {'naive' if aware else 'timezone-aware'}. Fix: give cutoff "
            f"times {'without' if aware else 'with'} a timezone")
    if aware:
        times = times.dt.convert_time_zone(zone)
    return times.cast(pl.Datetime("us", zone)).alias(column)


def _time_zone(entityset: EntitySet) -> str | None:
    """The entity set's time zone (None when its times are naive)."""
    for table in entityset.tables.values():
        if table.time_index is not None:
            dtype = table.frame.schema[table.time_index]
            if isinstance(dtype, pl.Datetime):
                return dtype.time_zone
    return None


def _check_known_instances(ids: pl.Series, target: Table) -> None:
    unknown = ids.filter(~ids.is_in(target.frame[target.index].implode())).unique(maintain_order=True)
    if unknown.len():
        raise FeaturekitError(
            f"the cutoff_time frame names {unknown.len()} instance(s) that table {target.name!r} "
            f"does not have (e.g. {unknown.head(3).to_list()}). Fix: drop them, or add them to "
            f"{target.name!r}")


def _check_no_duplicates(frame: pl.DataFrame, index: str, time_column: str) -> None:
    repeated = frame.height - frame.select(index, time_column).n_unique()
    if repeated:
        raise FeaturekitError(
            f"the cutoff_time frame repeats {repeated} ({index}, {time_column}) pair(s); each "
            "instance and moment gives one row. Fix: drop the duplicates (e.g. "
            f"cutoffs.drop_duplicates([{index!r}, {time_column!r}]))")
