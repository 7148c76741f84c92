"""Read a cutoff-time frame: which instance is computed as of which moment.

A cutoff frame has the target's index column and a time column (``"time"`` unless told
otherwise); any other column (a label) passes through to the feature matrix. One instance
may appear with many times. Every mistake is reported with the column and the fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from featurekit.engine.time_scale import read_moments, required_scale
from featurekit.entityset import EntitySet, Table
from featurekit.errors import FeaturekitError
from featurekit.frames import to_polars

INTERNAL_PREFIX = "__featurekit"  # the engine's own column names start so
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
    internal = [c for c in frame.columns if c.startswith(INTERNAL_PREFIX)]
    if internal:
        raise FeaturekitError(
            f"the cutoff_time frame has column(s) {internal}, whose names featurekit keeps for "
            f"itself (they start with {INTERNAL_PREFIX!r}). Fix: rename them")
    scale = required_scale(entityset)
    frame = frame.with_columns(_instance_ids(frame[target.index], target),
                               read_moments(scale, frame[time_column],
                                            f"the cutoff_time column {time_column!r}"))
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
