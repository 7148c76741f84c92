"""Explicit imputation for feature matrices, as tsfresh's ``impute`` does it: per numeric
column, -inf becomes the smallest finite value, +inf the largest and NaN/null the median; a
column without any finite value becomes 0. Nothing is imputed unless asked for."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from featurekit.selection._inputs import NUMERIC, read_matrix


def impute_ranges(X: Any) -> dict[str, tuple[float, float, float]]:
    """``{column: (smallest, largest, median)}`` of the finite values of each numeric column
    (zeros when a column has none): what :func:`impute` fills with, learned once (e.g. on a
    training fold) and applied to other rows later.

    >>> import pandas as pd
    >>> impute_ranges(pd.DataFrame({"a": [1.0, float("inf"), 3.0, 10.0]}))
    {'a': (1.0, 10.0, 3.0)}
    """
    matrix = read_matrix(X)
    numeric = [n for n in matrix.names if matrix.column_kinds[n] == NUMERIC]
    if not numeric or matrix.frame.height == 0:
        return {name: (0.0, 0.0, 0.0) for name in numeric}
    finite = [pl.when(pl.col(n).cast(pl.Float64).is_finite()).then(pl.col(n).cast(pl.Float64))
              for n in numeric]
    stats = matrix.frame.select(
        [f.min().alias(f"{i}_min") for i, f in enumerate(finite)]
        + [f.max().alias(f"{i}_max") for i, f in enumerate(finite)]
        + [f.median().alias(f"{i}_median") for i, f in enumerate(finite)]).row(0)
    count = len(numeric)
    return {name: tuple(0.0 if stats[k * count + i] is None else float(stats[k * count + i])
                        for k in range(3))
            for i, name in enumerate(numeric)}


def impute(X: Any, ranges: dict[str, tuple[float, float, float]] | None = None) -> Any:
    """A copy of ``X`` (same kind) whose numeric columns hold no NaN, null or infinite value:
    -inf -> smallest, +inf -> largest, missing -> median of the column's finite values, or of
    ``ranges`` when given (see :func:`impute_ranges`); imputed columns become float64.

    >>> import numpy as np, pandas as pd
    >>> X = pd.DataFrame({"a": [1.0, np.nan, 3.0, -np.inf, np.inf], "b": [np.nan] * 5})
    >>> impute(X)
         a    b
    0  1.0  0.0
    1  2.0  0.0
    2  3.0  0.0
    3  1.0  0.0
    4  3.0  0.0
    """
    matrix = read_matrix(X)
    ranges = impute_ranges(X) if ranges is None else ranges
    expressions = []
    for name in matrix.names:
        if name not in ranges or matrix.column_kinds[name] != NUMERIC:
            continue
        smallest, largest, median = ranges[name]
        value = pl.col(name).cast(pl.Float64)
        expressions.append(
            pl.when(value == np.inf).then(pl.lit(largest))
            .when(value == -np.inf).then(pl.lit(smallest))
            .when(value.is_null() | value.is_nan()).then(pl.lit(median))
            .otherwise(value).alias(name))
    frame = matrix.frame.with_columns(expressions) if expressions else matrix.frame
    if matrix.kind == "pandas":
        result = frame.to_pandas()
        result.columns = matrix.labels
        result.index = matrix.original.index
        return result
    if matrix.kind == "numpy":
        return frame.to_numpy()
    return frame.to_arrow() if matrix.kind == "pyarrow" else frame
