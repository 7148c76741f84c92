"""Aggregations that count values: above or below a threshold, inside or outside a range or a
band of standard deviations, equal to the extreme or the median, duplicated or distinct.

Names, parameters, defaults and values follow Featuretools 1.31's primitives of the same
names. Counts of categories look only at the values a parent's rows hold (Featuretools also
counts every other category of the column, with zero rows; see README, "Choices we made").
"""

from __future__ import annotations

import math
import numbers

import polars as pl
from featurekit.primitives.base import (
    BOOLEAN_OUT,
    CATEGORY_IN,
    CATEGORY_OUT,
    DOUBLE_OUT,
    INTEGER_IN,
    INTEGER_OUT,
    NUMERIC_IN,
    NUMERIC_OUT,
    AggregationPrimitive,
    is_whole,
)

# Featuretools' Integer (never missing) as a return type: what its count primitives declare,
# and what MAX_CONSECUTIVE_* and others take as input when stacking.
INTEGER_STRICT_OUT = INTEGER_IN


def is_number(value) -> bool:
    """Whether ``value`` is a real number (not a bool)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def floats(values: pl.Expr) -> pl.Expr:
    """Values as floats, NaN read as missing (pandas' rule, which Featuretools follows)."""
    return values.cast(pl.Float64).fill_nan(None)


def missing_if(condition: pl.Expr, value: pl.Expr) -> pl.Expr:
    return pl.when(condition).then(None).otherwise(value)


class _SkipNa(AggregationPrimitive):
    """A primitive with Featuretools' ``skipna``: True ignores missing values, False makes any
    missing value give a missing result (or count as a value, for counts of values)."""

    @classmethod
    def default_params(cls):
        return {"skipna": True}

    def check_params(self) -> None:
        if not isinstance(self.skipna, bool):
            self.refuse_param("skipna", "True or False")

    def without_missing(self, values: pl.Expr) -> pl.Expr:
        return values.drop_nulls() if self.skipna else values

    def missing_unless_skipped(self, values: pl.Expr, result: pl.Expr) -> pl.Expr:
        return result if self.skipna else missing_if(values.null_count() > 0, result)


class AverageCountPerUnique(_SkipNa):
    """Average number of rows per distinct value (missing is a value when skipna=False)."""

    name = "average_count_per_unique"
    input_types = ((CATEGORY_IN,),)
    return_type = DOUBLE_OUT
    default_value = 0

    def aggregate_expr(self, inputs, context):
        values = self.without_missing(inputs[0])
        return missing_if(values.len() == 0, values.len().cast(pl.Float64) / values.n_unique())


class _Threshold(AggregationPrimitive):
    input_types = ((NUMERIC_IN,),)
    return_type = INTEGER_STRICT_OUT
    stack_on_self = False
    default_value = 0

    @classmethod
    def default_params(cls):
        return {"threshold": 10}

    def check_params(self) -> None:
        if not is_number(self.threshold):
            self.refuse_param("threshold", "a number")


class CountGreaterThan(_Threshold):
    """Number of values strictly greater than ``threshold``."""

    name = "count_greater_than"

    def aggregate_expr(self, inputs, context):
        return (floats(inputs[0]) > self.threshold).sum().cast(pl.Int64)


class CountLessThan(_Threshold):
    """Number of values strictly less than ``threshold``."""

    name = "count_less_than"

    def aggregate_expr(self, inputs, context):
        return (floats(inputs[0]) < self.threshold).sum().cast(pl.Int64)


class _NthStd(AggregationPrimitive):
    input_types = ((NUMERIC_IN,),)
    return_type = INTEGER_STRICT_OUT
    stack_on_self = False
    default_value = 0

    @classmethod
    def default_params(cls):
        return {"n": 1}

    def check_params(self) -> None:
        if not (is_number(self.n) and self.n >= 0):
            self.refuse_param("n", "a number of at least 0")

    def distance_and_band(self, values: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
        """Each value's distance from the mean, and n population standard deviations (the
        two-pass formula pandas uses, so that values on the band's edge land as there)."""
        values = floats(values)
        mean = values.sum() / values.count()
        spread = ((values - mean) ** 2).sum() / values.count()
        return (values - mean).abs(), spread.sqrt() * self.n


class CountInsideNthSTD(_NthStd):
    """Number of values within ``n`` population standard deviations of the mean."""

    name = "count_inside_nth_std"

    def aggregate_expr(self, inputs, context):
        distance, band = self.distance_and_band(inputs[0])
        return (distance <= band).sum().cast(pl.Int64)


class CountOutsideNthSTD(_NthStd):
    """Number of values more than ``n`` population standard deviations from the mean."""

    name = "count_outside_nth_std"

    def aggregate_expr(self, inputs, context):
        distance, band = self.distance_and_band(inputs[0])
        return (distance > band).sum().cast(pl.Int64)


class _Range(AggregationPrimitive):
    input_types = ((NUMERIC_IN,),)
    return_type = INTEGER_OUT
    stack_on_self = False
    default_value = 0

    @classmethod
    def default_params(cls):
        return {"lower": 0, "upper": 1, "skipna": True}

    def check_params(self) -> None:
        for bound in ("lower", "upper"):
            if not is_number(self.params[bound]) or math.isnan(self.params[bound]):
                self.refuse_param(bound, "a number")
        if not isinstance(self.skipna, bool):
            self.refuse_param("skipna", "True or False")

    def count(self, values: pl.Expr, inside: bool) -> pl.Expr:
        values = floats(values)
        within = (values >= self.lower) & (values <= self.upper)
        counted = (within if inside else (values < self.lower) | (values > self.upper)).sum()
        counted = counted.cast(pl.Int64)
        return counted if self.skipna else missing_if(values.null_count() > 0, counted)


class CountInsideRange(_Range):
    """Number of values from ``lower`` to ``upper`` (both included); with skipna=False,
    missing if any value is."""

    name = "count_inside_range"

    def aggregate_expr(self, inputs, context):
        return self.count(inputs[0], inside=True)


class CountOutsideRange(_Range):
    """Number of values below ``lower`` or above ``upper``; with skipna=False, missing if any
    value is."""

    name = "count_outside_range"

    def aggregate_expr(self, inputs, context):
        return self.count(inputs[0], inside=False)


class HasNoDuplicates(_SkipNa):
    """True if no value appears twice (two missing values are a duplicate when
    skipna=False)."""

    name = "has_no_duplicates"
    input_types = ((CATEGORY_IN,), (NUMERIC_IN,))
    return_type = BOOLEAN_OUT
    stack_on_self = False
    default_value = True

    def aggregate_expr(self, inputs, context):
        values = self.without_missing(inputs[0])
        return values.n_unique() == values.len()


class IsUnique(AggregationPrimitive):
    """True if every value, missing included, appears once."""

    name = "is_unique"
    input_types = ((CATEGORY_IN,),)
    return_type = BOOLEAN_OUT
    stack_on_self = False
    default_value = False

    def aggregate_expr(self, inputs, context):
        return inputs[0].n_unique() == inputs[0].len()


class _CountOfValue(_SkipNa):
    """How many values equal a statistic of the values (missing when it is)."""

    input_types = ((NUMERIC_IN,),)

    def statistic(self, values: pl.Expr) -> pl.Expr:
        raise NotImplementedError

    def aggregate_expr(self, inputs, context):
        values = inputs[0]  # not cast: integers beyond 2**53 stay exact
        target = self.statistic(values)
        counted = missing_if(target.is_null(), (values == target).sum().cast(pl.Int64))
        return self.missing_unless_skipped(values, counted)


class MaxCount(_CountOfValue):
    """Number of times the largest value occurs."""

    name = "max_count"
    return_type = NUMERIC_OUT

    def statistic(self, values):
        return values.max()


class MinCount(_CountOfValue):
    """Number of times the smallest value occurs."""

    name = "min_count"
    return_type = INTEGER_OUT

    def statistic(self, values):
        return values.min()


class MedianCount(_CountOfValue):
    """Number of values equal to the median."""

    name = "median_count"
    return_type = INTEGER_OUT
    stack_on_self = False
    default_value = 0

    def statistic(self, values):
        return values.median()


class MaxMinDelta(_SkipNa):
    """Largest value minus smallest value."""

    name = "max_min_delta"
    input_types = ((NUMERIC_IN,),)
    return_type = NUMERIC_OUT
    stack_on_self = False
    default_value = 0

    def aggregate_expr(self, inputs, context):
        values = inputs[0]  # not cast: integers beyond 2**53 stay exact
        return self.missing_unless_skipped(values, values.max() - values.min())


class NMostCommonFrequency(_SkipNa):
    """Row counts of the ``n`` most frequent values, largest first (missing when there are
    fewer values; missing is a value when skipna=False)."""

    name = "n_most_common_frequency"
    input_types = ((CATEGORY_IN,),)
    return_type = CATEGORY_OUT

    @classmethod
    def default_params(cls):
        return {"n": 3, "skipna": True}

    def check_params(self) -> None:
        if not is_whole(self.n, 1):
            self.refuse_param("n", "an integer of at least 1")
        super().check_params()

    @property
    def number_output_features(self) -> int:  # type: ignore[override]
        return int(self.n)

    def aggregate_expr(self, inputs, context):
        values = self.without_missing(inputs[0])
        counts = values.sort().rle().struct.field("len").cast(pl.Int64).sort(descending=True)
        if self.n == 1:
            return counts.first()
        return pl.concat_list([counts.get(i, null_on_oob=True) for i in range(int(self.n))])


class PercentUnique(_SkipNa):
    """Distinct values over rows (missing rows count; a missing value counts as one more
    distinct value when skipna=False)."""

    name = "percent_unique"
    input_types = ((CATEGORY_IN,),)
    return_type = DOUBLE_OUT
    default_value = 0

    def aggregate_expr(self, inputs, context):
        distinct = self.without_missing(inputs[0]).n_unique()
        return missing_if(inputs[0].len() == 0, distinct.cast(pl.Float64) / inputs[0].len())


COUNT_AGGREGATIONS: tuple[type[AggregationPrimitive], ...] = (
    AverageCountPerUnique, CountGreaterThan, CountInsideNthSTD, CountInsideRange, CountLessThan,
    CountOutsideNthSTD, CountOutsideRange, HasNoDuplicates, IsUnique, MaxCount, MaxMinDelta,
    MedianCount, MinCount, NMostCommonFrequency, PercentUnique,
)

__all__ = [cls.__name__ for cls in COUNT_AGGREGATIONS] + ["COUNT_AGGREGATIONS"]
