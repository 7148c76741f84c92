"""``compute`` and ``dfs``: run definitions against an entity set and hand back a matrix in
the caller's kind of frame."""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Sequence
from typing import Any

import polars as pl

from featurekit.arguments import check_flag, check_items, check_text, unknown_keywords
from featurekit.dfs import plan
from featurekit.engine.cutoffs import is_cutoff_frame, read_cutoffs
from featurekit.engine.lazy_plan import (
    _check_against_entityset,
    build_plan,
    output_columns,
    widen_integers,
)
from featurekit.engine.pandas_matrix import to_pandas_matrix
from featurekit.engine.per_cutoff import compute_per_cutoff
from featurekit.engine.point_in_time import as_of, known_eventually
from featurekit.engine.progress import Step, planned_steps, progress_bar
from featurekit.engine.time_scale import DATETIME, read_moment, required_scale
from featurekit.entityset import EntitySet
from featurekit.errors import ComputeError
from featurekit.feature import Feature
from featurekit.frames import FRAME_KINDS, from_polars
from featurekit.types import CATEGORY_TYPES


def compute(
    entityset: EntitySet,
    features: Sequence[Feature],
    return_type: str | None = None,
    cutoff_time: Any = None,
    training_window: Any = None,
    include_cutoff_time: bool = True,
    time_column: str = "time",
    cutoff_times: Any = None,
    verbose: bool | None = None,
) -> Any:
    """Compute feature definitions: one row per row of their table, indexed by its index.

    The result is pandas when the target table was given as pandas, polars when it came as
    polars, pyarrow for pyarrow (``return_type=`` overrides). Categorical features come back
    as pandas ``category`` columns.

    With ``cutoff_time`` a row of any table with a time index counts only if its time is
    at or before the cutoff (strictly before with ``include_cutoff_time=False``) and, with
    ``training_window`` ("30d", a timedelta), after cutoff - window (the window applies to
    the rows being aggregated, not to the target's own table or the tables it refers to);
    tables without a time index are static. An instance created after its cutoff keeps its
    row, with every feature missing. Time-relative primitives (AGE, TIME_SINCE_*) are
    measured to the cutoff, or to the current time when there is none.

    ``cutoff_time`` is one moment for every instance, or a frame with the target's index
    column and a ``time_column`` (default ``"time"``): one row per (instance, moment), the
    same instance possibly at many moments. The matrix then has one row per cutoff row, in
    the frame's order, indexed by (index, time); the frame's other columns (labels) follow
    the features. Transforms that look at other rows (PERCENTILE, CUM_SUM, DIFF, ...) are
    computed over every row known at each cutoff. ``cutoff_times=`` is the same argument
    under its plural name (Featuretools says ``cutoff_time``); pass one or the other.

    A row whose time index is missing is never known: it counts at no cutoff, and not
    without one either (``add_table`` reports how many there are). Times compare exactly at
    the finest precision of the data and the cutoffs (nanoseconds for pandas); a cutoff has
    the type of the time indexes (datetimes, or integer or float steps).

    Long computations draw a progress bar on standard error after a second, when it is a
    terminal; ``verbose=False`` never draws it, ``verbose=True`` always does.

    Examples
    --------
    >>> import featurekit as fk
    >>> es = fk.demo.load_retail(n_customers=3)
    >>> features = fk.plan(es, target="customers", agg_primitives=["count"], trans_primitives=[])
    >>> fk.compute(es, features)["COUNT(sessions)"].tolist()
    [15, 0, 10]
    """
    features = check_items("features", features, optional=False)
    check_flag("include_cutoff_time", include_cutoff_time)
    check_text("time_column", time_column)
    cutoff_time = _one_cutoff_argument(cutoff_time, cutoff_times)
    if return_type is not None and (not isinstance(return_type, str) or return_type not in FRAME_KINDS):
        raise ComputeError(f"unknown return_type {return_type!r}. Fix: use one of {FRAME_KINDS}")
    if not features:
        raise ComputeError("no features to compute. Fix: pass the output of fk.plan or fk.load_features")
    entityset.require_checked("fk.compute")
    _check_against_entityset(entityset, features)  # every path: tables, columns, types, duplicates
    with progress_bar(verbose, planned_steps(features), "featurekit compute") as step:
        if is_cutoff_frame(cutoff_time):
            return _compute_per_cutoff(entityset, features, return_type, cutoff_time, training_window,
                                       include_cutoff_time, time_column, step)
        return _compute_at_one_moment(entityset, features, return_type, cutoff_time, training_window,
                                      include_cutoff_time, step)


def _compute_at_one_moment(entityset: EntitySet, features: list[Feature], return_type: str | None,
                           cutoff_time: Any, training_window: Any, include_cutoff_time: bool,
                           step: Step) -> Any:
    """One row per row of the target, every one as of ``cutoff_time`` (or the end of the data)."""
    target = entityset[features[0].table]
    moment = None
    if cutoff_time is not None:
        data = as_of(entityset, cutoff_time, training_window, include_cutoff_time, target.name)
        moment = _time_relative_moment(entityset, cutoff_time)
    elif training_window is not None:
        raise ComputeError("training_window needs a cutoff_time. Fix: pass cutoff_time=...")
    else:  # as of the end of the data: a row without a time is never known
        data = known_eventually(entityset)
    result = build_plan(data, features, moment, step).collect(engine="in-memory")
    if data[target.name].frame.height < target.frame.height:
        # instances not yet created at the cutoff (or without a time): rows of missing values
        result = target.frame.select(target.index).join(result, on=target.index, how="left")
    if not result[target.index].is_sorted():  # a sort copies every column, even when not needed
        result = result.sort(target.index)
    return _hand_back(result, return_type or target.source_kind, [target.index], features)


def _compute_per_cutoff(entityset: EntitySet, features: list[Feature], return_type: str | None,
                        cutoff_time: Any, training_window: Any, include_cutoff_time: bool,
                        time_column: str, step: Step) -> Any:
    """One row per row of a cutoff frame, each computed as of its own cutoff."""
    target = entityset[features[0].table]
    cutoffs = read_cutoffs(cutoff_time, entityset, target, time_column)
    names = output_columns(features)
    clashing = sorted(set(cutoffs.extra_columns) & set(names))
    if clashing:
        raise ComputeError(f"the cutoff_time frame's columns {clashing} have the names of features. "
                           "Fix: rename those columns of the cutoff frame")
    if time_column in names:
        raise ComputeError(
            f"the cutoff_time frame's time column {time_column!r} has the name of a feature (a "
            f"column of table {target.name!r}), and the matrix needs both. Fix: rename the "
            f"cutoff frame's column (e.g. to 'cutoff_time') and pass time_column='cutoff_time'")
    computed = compute_per_cutoff(entityset, features, cutoffs.pairs, training_window,
                                  include_cutoff_time, step=step)
    # the pairs are the cutoff rows, in their order: the features go beside them, no join
    result = pl.concat([cutoffs.rows.select(target.index, time_column), computed.select(names),
                        cutoffs.rows.select(cutoffs.extra_columns)], how="horizontal")
    del computed
    return _hand_back(result, return_type or target.source_kind, [target.index, time_column], features)


def _one_cutoff_argument(cutoff_time: Any, cutoff_times: Any) -> Any:
    """``cutoff_time`` or its plural spelling ``cutoff_times``; never both."""
    if cutoff_times is None:
        return cutoff_time
    if cutoff_time is not None:
        raise ComputeError("both cutoff_time and cutoff_times were given; they name the same "
                           "argument. Fix: pass one of them")
    return cutoff_times


def _time_relative_moment(entityset: EntitySet, cutoff_time: Any) -> dt.datetime | None:
    """The moment time-relative primitives (AGE, TIME_SINCE) measure to: the cutoff when the
    time indexes hold datetimes; None (now) when they hold numeric steps."""
    scale = required_scale(entityset)
    if scale.kind != DATETIME:
        return None
    return read_moment(scale, cutoff_time)[0]


def _hand_back(result: pl.DataFrame, kind: str, index: list[str], features: Sequence[Feature]) -> Any:
    """The matrix in the caller's kind of frame, integer features as Int64; pandas ones
    indexed, with categorical features as ``category`` columns (see ``to_pandas_matrix``,
    which empties ``result``: it must be a frame of the engine's own)."""
    names = output_columns(features)
    if kind != "pandas":
        return from_polars(widen_integers(result, names), kind, index)
    categorical = [name for feature in features if feature.schema.logical_type in CATEGORY_TYPES
                   for name in feature.output_names]
    listed = set(categorical)
    return to_pandas_matrix(result, index, categorical, [name for name in names if name not in listed])


def dfs(
    entityset: EntitySet,
    target: str,
    max_depth: int = 2,
    return_type: str | None = None,
    cutoff_time: Any = None,
    training_window: Any = None,
    include_cutoff_time: bool = True,
    time_column: str = "time",
    features_only: bool = False,
    cutoff_times: Any = None,
    verbose: bool | None = None,
    **plan_options: Any,
) -> tuple[Any, list[Feature]] | list[Feature]:
    """Plan and compute in one call; returns ``(matrix, features)``.

    ``cutoff_time`` (or ``cutoff_times``), ``training_window``, ``verbose`` and the rest are those of
    :func:`featurekit.compute`. ``plan_options`` are those of :func:`featurekit.plan` (``agg_primitives``,
    ``trans_primitives``, ``ignore_columns``, ``include``, ``exclude``, ``max_features``, ...),
    among them Featuretools' planning controls under its names:

    - ``where_primitives`` (default ``["count"]``): aggregations also made over only the child
      rows where a column has one of its interesting values (``es.add_interesting_values()``),
      ``COUNT(sessions WHERE device = mobile)``; ``where_stacking_limit`` (1) caps how many
      where aggregations a feature's inputs may hold.
    - ``seed_features``: features you built, stacked on as if found.
    - ``drop_contains`` / ``drop_exact``: drop features whose name contains / is one of these.
    - ``primitive_options``: ``{"mean": {"ignore_dataframes": ["transactions"]}, ("sum", "max"):
      {"include_columns": {"transactions": ["amount"]}}}``, one dict per primitive (or a list,
      one per input) with ``include_dataframes``, ``ignore_dataframes``, ``include_columns``,
      ``ignore_columns``.
    - ``ignore_dataframes`` (``ignore_tables``), ``ignore_columns``, ``max_features``.

    Where features are computed leak-free under cutoff times, like every aggregation.

    Examples
    --------
    >>> import featurekit as fk
    >>> es = fk.demo.load_retail(n_customers=4)
    >>> matrix, features = fk.dfs(es, target="customers", max_depth=2)
    >>> "MEAN(sessions.SUM(transactions.amount))" in matrix.columns
    True
    """
    unknown_keywords("dfs", set(plan_options) - set(inspect.signature(plan).parameters), [
        *inspect.signature(plan).parameters, *inspect.signature(dfs).parameters])
    check_flag("features_only", features_only)
    features = plan(entityset, target=target, max_depth=max_depth, **plan_options)
    if features_only:
        return features
    matrix = compute(entityset, features, return_type=return_type, cutoff_time=cutoff_time,
                     training_window=training_window, include_cutoff_time=include_cutoff_time,
                     time_column=time_column, cutoff_times=cutoff_times, verbose=verbose)
    return matrix, features


__all__ = ["compute", "dfs", "output_columns"]
