"""Custom primitives defined at module level, as users do (importable, hence picklable)."""

from __future__ import annotations

import numpy as np
import polars as pl
from featurekit.primitives import AggregationPrimitive, aggregation, register, transform
from featurekit.primitives.base import NUMERIC_IN, NUMERIC_OUT


@aggregation(input_types=["numeric"], return_type="numeric")
def value_range(values: np.ndarray) -> float:
    """Largest minus smallest non-missing value."""
    finite = values[~np.isnan(values)]
    return float(finite.max() - finite.min()) if finite.size else float("nan")


@aggregation(input_types=["numeric"], return_type="numeric", polars=True, name="mean_abs")
def mean_absolute(values: pl.Expr) -> pl.Expr:
    """Mean of absolute values, as a polars expression."""
    return values.abs().mean()


@transform(input_types=["numeric"], return_type="numeric")
def doubled(values: np.ndarray) -> np.ndarray:
    """Twice the value."""
    return values * 2


@register  # findable by name, and loadable from saved features
class SecondLargest(AggregationPrimitive):
    """The second largest value (class form)."""

    name = "second_largest"
    input_types = ((NUMERIC_IN,),)
    return_type = NUMERIC_OUT
    stack_on_self = False

    def aggregate_expr(self, inputs, context):
        return inputs[0].drop_nulls().sort(descending=True).get(1, null_on_oob=True)
