"""Aggregations over the order of a parent's rows (by time, then index): runs of equal
conditions, monotonicity, peaks, zero crossings, and what happened since the last True or
False.

Names, parameters, defaults and values follow Featuretools 1.31's primitives of the same
names. Runs are read from polars' run-length encoding, one pass per parent.
"""

from __future__ import annotations

import polars as pl
from featurekit.primitives.aggregation_counts import (
    INTEGER_STRICT_OUT,
    _SkipNa,
    floats,
    missing_if,
)
from featurekit.primitives.base import (
    BOOLEAN_IN,
    BOOLEAN_OUT,
    INTEGER_OUT,
    NUMERIC_IN,
    AggregationPrimitive,
)

from featurekit.types import ColumnSchema


def longest_true_run(condition: pl.Expr) -> pl.Expr:
    """Length of the longest run of consecutive True (0 if none); a missing value ends a run."""
    runs = condition.rle()
    return (runs.struct.field("len").filter(runs.struct.field("value"))
            .max().fill_null(0).cast(pl.Int64))


def trailing_true(condition: pl.Expr) -> pl.Expr:
    """Number of True at the end, after the last False."""
    return condition.cast(pl.Int64).reverse().cum_prod().sum()


class _Ordered(AggregationPrimitive):
    stack_on_self = False
    ordered = True


class IsMonotonicallyIncreasing(_Ordered):
    """True if each non-missing value is at least the one before it."""

    name = "is_monotonically_increasing"
    input_types = ((NUMERIC_IN,),)
    return_type = BOOLEAN_OUT
    default_value = False

    def aggregate_expr(self, inputs, context):
        values = floats(inputs[0]).drop_nulls()
        return (values >= values.shift(1)).all()


class IsMonotonicallyDecreasing(_Ordered):
    """True if each non-missing value is at most the one before it."""

    name = "is_monotonically_decreasing"
    input_types = ((NUMERIC_IN,),)
    return_type = BOOLEAN_OUT
    default_value = False

    def aggregate_expr(self, inputs, context):
        values = floats(inputs[0]).drop_nulls()
        return (values <= values.shift(1)).all()


class MaxConsecutiveTrue(_Ordered):
    """Longest run of consecutive True values."""

    name = "max_consecutive_true"
    input_types = ((BOOLEAN_IN,),)
    return_type = INTEGER_STRICT_OUT
    default_value = 0

    def aggregate_expr(self, inputs, context):
        return longest_true_run(inputs[0])


class MaxConsecutiveFalse(_Ordered):
    """Longest run of consecutive False values."""

    name = "max_consecutive_false"
    input_types = ((BOOLEAN_IN,),)
    return_type = INTEGER_STRICT_OUT
    default_value = 0

    def aggregate_expr(self, inputs, context):
        return longest_true_run(~inputs[0])


class _SignRun(_SkipNa):
    """Longest run of values meeting a condition; skipna=True drops missing values first,
    skipna=False lets a missing value end a run."""

    # Featuretools asks for the logical type alone (no numeric tag), so an integer index
    # column qualifies too.
    input_types = ((ColumnSchema("integer"),), (ColumnSchema("double"),))
    return_type = INTEGER_STRICT_OUT
    stack_on_self = False
    default_value = 0
    ordered = True

    def condition(self, values: pl.Expr) -> pl.Expr:
        raise NotImplementedError

    def aggregate_expr(self, inputs, context):
        return longest_true_run(self.condition(self.without_missing(floats(inputs[0]))))


class MaxConsecutiveNegatives(_SignRun):
    """Longest run of consecutive values below 0."""

    name = "max_consecutive_negatives"

    def condition(self, values):
        return values < 0


class MaxConsecutivePositives(_SignRun):
    """Longest run of consecutive values above 0."""

    name = "max_consecutive_positives"

    def condition(self, values):
        return values > 0


class MaxConsecutiveZeros(_SignRun):
    """Longest run of consecutive values equal to 0."""

    name = "max_consecutive_zeros"

    def condition(self, values):
        return values == 0


class _MeanRun(_SkipNa):
    """Longest run of consecutive non-missing values on one side of their mean; missing when
    there is no value, or with skipna=False when any value is missing."""

    input_types = ((NUMERIC_IN,),)
    return_type = INTEGER_OUT
    stack_on_self = False
    default_value = 0
    ordered = True

    def side(self, values: pl.Expr, mean: pl.Expr) -> pl.Expr:
        raise NotImplementedError

    def aggregate_expr(self, inputs, context):
        values = floats(inputs[0])
        present = values.drop_nulls()
        longest = longest_true_run(self.side(present, present.sum() / present.count()))
        return self.missing_unless_skipped(values, missing_if(present.len() == 0, longest))


class NumConsecutiveGreaterMean(_MeanRun):
    """Longest run of consecutive values strictly above the mean."""

    name = "num_consecutive_greater_mean"

    def side(self, values, mean):
        return values > mean


class NumConsecutiveLessMean(_MeanRun):
    """Longest run of consecutive values strictly below the mean."""

    name = "num_consecutive_less_mean"

    def side(self, values, mean):
        return values < mean


class NumFalseSinceLastTrue(_Ordered):
    """Number of False values after the last True (missing if there is no True)."""

    name = "num_false_since_last_true"
    input_types = ((BOOLEAN_IN,),)
    return_type = INTEGER_OUT
    default_value = 0

    def aggregate_expr(self, inputs, context):
        values = inputs[0].drop_nulls()
        return missing_if(~values.any(), trailing_true(~values))


class NumTrueSinceLastFalse(_Ordered):
    """Number of True values after the last False (missing if there is no False)."""

    name = "num_true_since_last_false"
    input_types = ((BOOLEAN_IN,),)
    return_type = INTEGER_OUT
    default_value = 0

    def aggregate_expr(self, inputs, context):
        values = inputs[0].drop_nulls()
        return missing_if(values.all(), trailing_true(values))


class NumPeaks(_Ordered):
    """Number of local maxima: values (or flat runs of equal values) higher than both
    neighbours, as scipy's ``find_peaks`` counts them; a missing neighbour is not lower."""

    name = "num_peaks"
    input_types = ((NUMERIC_IN,),)
    return_type = INTEGER_STRICT_OUT
    default_value = 0

    def aggregate_expr(self, inputs, context):
        levels = floats(inputs[0]).rle().struct.field("value")
        peak = (levels > levels.shift(1)) & (levels > levels.shift(-1))
        return peak.sum().cast(pl.Int64)


class NumZeroCrossings(AggregationPrimitive):
    """Number of sign changes between consecutive non-zero, non-missing values."""

    name = "num_zero_crossings"
    input_types = ((NUMERIC_IN,),)
    return_type = INTEGER_STRICT_OUT
    ordered = True

    def aggregate_expr(self, inputs, context):
        values = floats(inputs[0])
        signs = values.filter(values != 0).sign()
        return (signs != signs.shift(1)).sum().cast(pl.Int64)


RUN_AGGREGATIONS: tuple[type[AggregationPrimitive], ...] = (
    IsMonotonicallyDecreasing, IsMonotonicallyIncreasing, MaxConsecutiveFalse,
    MaxConsecutiveNegatives, MaxConsecutivePositives, MaxConsecutiveTrue, MaxConsecutiveZeros,
    NumConsecutiveGreaterMean, NumConsecutiveLessMean, NumFalseSinceLastTrue, NumPeaks,
    NumTrueSinceLastFalse, NumZeroCrossings,
)

__all__ = [cls.__name__ for cls in RUN_AGGREGATIONS] + ["RUN_AGGREGATIONS"]
