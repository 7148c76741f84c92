"""``compute`` and ``dfs``: run definitions against an entity set and hand back a matrix in
the caller's kind of frame."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pandas as pd
import polars as pl

from featurekit.dfs import plan
from featurekit.engine.lazy_plan import build_plan, output_columns
from featurekit.entityset import EntitySet
from featurekit.errors import ComputeError
from featurekit.feature import Feature
from featurekit.frames import FRAME_KINDS, from_polars

CATEGORY_TYPES = ("categorical", "ordinal")


def compute(
    entityset: EntitySet,
    features: Sequence[Feature],
    return_type: str | None = None,
    cutoff_time: dt.datetime | None = None,
) -> Any:
    """Compute feature definitions: one row per row of their table, indexed by its index.

    The result is pandas when the target table was given as pandas, polars when it came as
    polars, pyarrow for pyarrow (``return_type=`` overrides). Categorical features come back
    as pandas ``category`` columns. Time-relative primitives (AGE, TIME_SINCE_*) use
    ``cutoff_time``, or the current time when it is None.

    Examples
    --------
    >>> import featurekit as fk
    >>> es = fk.demo.load_retail(n_customers=3)
    >>> features = fk.plan(es, target="customers", agg_primitives=["count"], trans_primitives=[])
    >>> fk.compute(es, features)["COUNT(sessions)"].tolist()
    [15, 0, 10]
    """
    features = list(features)
    if return_type is not None and return_type not in FRAME_KINDS:
        raise ComputeError(f"unknown return_type {return_type!r}. Fix: use one of {FRAME_KINDS}")
    if not features:
        raise ComputeError("no features to compute. Fix: pass the output of fk.plan or fk.load_features")
    target = entityset[features[0].table]
    result = build_plan(entityset, features, cutoff_time).collect(engine="in-memory")
    result = result.sort(target.index)
    kind = return_type or target.source_kind
    matrix = from_polars(result, kind, [target.index])
    if kind == "pandas":
        matrix = _pandas_types(matrix, result, features)
    return matrix


def _pandas_types(matrix: pd.DataFrame, result: pl.DataFrame, features: Sequence[Feature]) -> pd.DataFrame:
    """Categorical features as ``category`` columns (integer categories stay integers, even
    with missing values), as Featuretools returns them."""
    for feature in features:
        if feature.schema.logical_type in CATEGORY_TYPES:
            for name in feature.output_names:
                values = matrix[name]
                if result.schema[name].is_integer():
                    values = values.astype("Int64")
                matrix[name] = values.astype("category")
    return matrix


def dfs(
    entityset: EntitySet,
    target: str,
    max_depth: int = 2,
    return_type: str | None = None,
    cutoff_time: dt.datetime | None = None,
    features_only: bool = False,
    **plan_options: Any,
) -> tuple[Any, list[Feature]] | list[Feature]:
    """Plan and compute in one call; returns ``(matrix, features)``.

    ``plan_options`` are those of :func:`featurekit.plan` (``agg_primitives``,
    ``trans_primitives``, ``ignore_columns``, ``include``, ``exclude``, ``max_features``, ...).

    Examples
    --------
    >>> import featurekit as fk
    >>> es = fk.demo.load_retail(n_customers=4)
    >>> matrix, features = fk.dfs(es, target="customers", max_depth=2)
    >>> "MEAN(sessions.SUM(transactions.amount))" in matrix.columns
    True
    """
    features = plan(entityset, target=target, max_depth=max_depth, **plan_options)
    if features_only:
        return features
    return compute(entityset, features, return_type=return_type, cutoff_time=cutoff_time), features


__all__ = ["compute", "dfs", "output_columns"]
