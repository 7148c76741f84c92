"""Aggregation primitives: many child rows -> one value per parent row.

Values follow Featuretools 1.31's definitions (STD with ddof=1, bias-corrected SKEW, MODE ties
broken towards the smallest value as pandas does, COUNT and SUM 0 for a parent without rows).
"""

from __future__ import annotations

import math

import polars as pl
from featurekit.primitives.base import (
    ANY,
    BOOLEAN_IN,
    BOOLEAN_OUT,
    CATEGORY_IN,
    DOUBLE_IN,
    DOUBLE_OUT,
    INDEX_IN,
    INTEGER_IN,
    INTEGER_OUT,
    NUMERIC_IN,
    NUMERIC_OUT,
    TIME_INDEX_IN,
    AggregationPrimitive,
    is_whole,
)

NANOSECONDS = 1e-9
TIME_UNITS = {"years": 31540000, "months": 2628000, "days": 86400, "hours": 3600,
              "minutes": 60, "seconds": 1, "milliseconds": 0.001, "nanoseconds": 1e-9}


def _seconds(delta: pl.Expr) -> pl.Expr:
    return delta.dt.total_nanoseconds().cast(pl.Float64) * NANOSECONDS


def _nan_if(condition: pl.Expr, value: pl.Expr) -> pl.Expr:
    return pl.when(condition).then(pl.lit(None, dtype=pl.Float64)).otherwise(value)


def _stable_mean(values: pl.Expr) -> pl.Expr:
    """The mean, shifted by the minimum so that equal values have exactly their own mean
    (a plain float mean of n copies of v can land a rounding step away from v)."""
    lowest = values.min()
    return lowest + (values - lowest).mean()


class Count(AggregationPrimitive):
    """Number of child rows."""

    name = "count"
    input_types = ((INDEX_IN,),)
    return_type = INTEGER_OUT
    stack_on_self = False
    default_value = 0
    kernel_stat = "rows"

    def generate_name(self, base_names, path_name):
        return f"COUNT({path_name}{self.args_string()})"

    def aggregate_expr(self, inputs, context):
        return inputs[0].count()


class Sum(AggregationPrimitive):
    """Sum of the non-missing values (0 when there are none)."""

    name = "sum"
    input_types = ((NUMERIC_IN,),)
    return_type = NUMERIC_OUT
    stack_on_self = False
    stack_on_exclude = ("count",)
    default_value = 0
    kernel_stat = "sum"

    def aggregate_expr(self, inputs, context):
        return inputs[0].cast(pl.Float64).sum()


class Mean(AggregationPrimitive):
    """Mean of the non-missing values."""

    name = "mean"
    input_types = ((NUMERIC_IN,),)
    return_type = NUMERIC_OUT
    kernel_stat = "mean"

    def aggregate_expr(self, inputs, context):
        return inputs[0].cast(pl.Float64).mean()


class Std(AggregationPrimitive):
    """Sample standard deviation (ddof=1) of the non-missing values."""

    name = "std"
    input_types = ((NUMERIC_IN,),)
    return_type = NUMERIC_OUT
    stack_on_self = False
    kernel_stat = "std"

    def aggregate_expr(self, inputs, context):
        return inputs[0].cast(pl.Float64).std(ddof=1)


class Variance(AggregationPrimitive):
    """Sample variance (ddof=1) of the non-missing values, as Featuretools' VARIANCE."""

    name = "variance"
    input_types = ((NUMERIC_IN,),)
    return_type = DOUBLE_OUT
    stack_on_self = False
    kernel_stat = "var"

    def aggregate_expr(self, inputs, context):
        return inputs[0].cast(pl.Float64).var(ddof=1)


class Min(AggregationPrimitive):
    """Smallest non-missing value."""

    name = "min"
    input_types = ((NUMERIC_IN,),)
    return_type = NUMERIC_OUT
    stack_on_self = False
    kernel_stat = "min"

    def aggregate_expr(self, inputs, context):
        return inputs[0].min()  # exact on integers


class Max(AggregationPrimitive):
    """Largest non-missing value."""

    name = "max"
    input_types = ((NUMERIC_IN,),)
    return_type = NUMERIC_OUT
    stack_on_self = False
    kernel_stat = "max"

    def aggregate_expr(self, inputs, context):
        return inputs[0].max()  # exact on integers


class Median(AggregationPrimitive):
    """Median of the non-missing values."""

    name = "median"
    input_types = ((NUMERIC_IN,),)
    return_type = NUMERIC_OUT

    def aggregate_expr(self, inputs, context):
        return inputs[0].cast(pl.Float64).median()


class Skew(AggregationPrimitive):
    """Bias-corrected sample skewness (pandas' ``Series.skew``); missing below 3 values,
    0 for constant values."""

    name = "skew"
    input_types = ((NUMERIC_IN,),)
    return_type = NUMERIC_OUT
    stack_on_self = False
    kernel_stat = "skew"

    def aggregate_expr(self, inputs, context):
        values = inputs[0].cast(pl.Float64)
        constant = values.min() == values.max()  # pandas (2.x) gives 0, not NaN, here
        return (pl.when(values.count() < 3).then(pl.lit(None, dtype=pl.Float64))
                .when(values.is_infinite().any()).then(float("nan"))
                .when(constant).then(0.0).otherwise(values.skew(bias=False)))


class Kurtosis(AggregationPrimitive):
    """Fisher kurtosis, biased (scipy's default). Where it is undefined (a missing value, a
    constant series, no rows) it is 0, Featuretools' default for this primitive."""

    name = "kurtosis"
    input_types = ((INTEGER_IN,), (DOUBLE_IN,))
    return_type = DOUBLE_OUT
    stack_on_self = False
    default_value = 0

    def aggregate_expr(self, inputs, context):
        values = inputs[0].cast(pl.Float64)
        return _nan_if(values.null_count() > 0, values.kurtosis(fisher=True, bias=True))


class Mode(AggregationPrimitive):
    """Most frequent non-missing value; ties go to the smallest value."""

    name = "mode"
    input_types = ((CATEGORY_IN,),)
    return_type = None
    kernel_stat = "mode"

    def aggregate_expr(self, inputs, context):
        return inputs[0].drop_nulls().mode().sort().first()


class NumUnique(AggregationPrimitive):
    """Number of distinct non-missing values."""

    name = "num_unique"
    input_types = ((CATEGORY_IN,),)
    return_type = INTEGER_OUT
    stack_on_self = False
    kernel_stat = "nunique"

    def aggregate_expr(self, inputs, context):
        return inputs[0].drop_nulls().n_unique()


class PercentTrue(AggregationPrimitive):
    """Share of rows that are True (missing counts as False)."""

    name = "percent_true"
    input_types = ((BOOLEAN_IN,),)
    return_type = DOUBLE_OUT
    kernel_stat = "true_share"

    def aggregate_expr(self, inputs, context):
        return inputs[0].fill_null(False).cast(pl.Float64).mean()


class NumTrue(AggregationPrimitive):
    """Number of rows that are True."""

    name = "num_true"
    input_types = ((BOOLEAN_IN,),)
    return_type = INTEGER_OUT
    default_value = 0
    kernel_stat = "true_count"

    def aggregate_expr(self, inputs, context):
        return inputs[0].cast(pl.Int64).sum()


class All(AggregationPrimitive):
    """True if every non-missing value is True."""

    name = "all"
    input_types = ((BOOLEAN_IN,),)
    return_type = BOOLEAN_OUT
    stack_on_self = False

    def aggregate_expr(self, inputs, context):
        return inputs[0].all()


class Any(AggregationPrimitive):
    """True if any value is True."""

    name = "any"
    input_types = ((BOOLEAN_IN,),)
    return_type = BOOLEAN_OUT
    stack_on_self = False

    def aggregate_expr(self, inputs, context):
        return inputs[0].any()


class First(AggregationPrimitive):
    """Value of the earliest row (by time index, then index)."""

    name = "first"
    input_types = ((ANY,),)
    stack_on_self = False
    ordered = True
    order_stat = "first"

    def aggregate_expr(self, inputs, context):
        return inputs[0].first()


class Last(AggregationPrimitive):
    """Value of the latest row (by time index, then index)."""

    name = "last"
    input_types = ((ANY,),)
    stack_on_self = False
    ordered = True
    order_stat = "last"

    def aggregate_expr(self, inputs, context):
        return inputs[0].last()


class Entropy(AggregationPrimitive):
    """Shannon entropy (natural log by default) of the value distribution, missing included."""

    name = "entropy"
    input_types = ((CATEGORY_IN,),)
    return_type = NUMERIC_OUT
    stack_on_self = False

    @classmethod
    def default_params(cls):
        return {"dropna": False, "base": None}

    def check_params(self) -> None:
        if not isinstance(self.dropna, bool):
            self.refuse_param("dropna", "True or False")
        base = self.base
        if base is not None and (isinstance(base, bool) or not isinstance(base, int | float)
                                 or not (base > 0 and base != 1 and math.isfinite(base))):
            self.refuse_param("base", "None (natural log) or a positive number other than 1")

    def aggregate_expr(self, inputs, context):
        values = inputs[0].drop_nulls() if self.dropna else inputs[0]
        # Run lengths of the sorted values are the counts; summing them largest first makes
        # equal distributions give bit-identical entropies (as scipy over value_counts does).
        counts = values.sort().rle().struct.field("len").cast(pl.Float64).sort(descending=True)
        share = counts / counts.sum()
        entropy = -(share * share.log()).sum()
        return entropy / pl.lit(self.base).log() if self.base else entropy


class Trend(AggregationPrimitive):
    """Least-squares slope of a value against time (Featuretools' time scaling); missing
    with fewer than 3 complete rows, 0 when all times are equal."""

    name = "trend"
    input_types = ((NUMERIC_IN, TIME_INDEX_IN),)
    return_type = NUMERIC_OUT
    ordered = True

    def aggregate_expr(self, inputs, context):
        value, time = inputs
        complete = value.is_not_null() & time.is_not_null()
        y = value.filter(complete).cast(pl.Float64)
        seconds = time.filter(complete).dt.epoch("ns").cast(pl.Float64) * NANOSECONDS
        first = seconds.first().floor()
        dividend = (
            pl.when((first / 86400).round() == first / 86400).then(86400.0)
            .when((first / 3600).round() == first / 3600).then(3600.0)
            .when((first / 60).round() == first / 60).then(60.0)
            .otherwise(1.0)
        )
        x = seconds / dividend
        x_centered, y_centered = x - x.mean(), y - y.mean()
        slope = (x_centered * y_centered).sum() / (x_centered * x_centered).sum()
        return (
            pl.when(y.len() <= 2).then(pl.lit(None, dtype=pl.Float64))
            .when(x.n_unique() == 1).then(0.0)
            .otherwise(slope)
        )


class _TimeUnitAggregation(AggregationPrimitive):
    @classmethod
    def default_params(cls):
        return {"unit": "seconds"}

    def check_params(self) -> None:
        if self.unit not in TIME_UNITS:
            self.refuse_param("unit", f"one of {sorted(TIME_UNITS)}")

    def in_unit(self, seconds: pl.Expr) -> pl.Expr:
        return seconds / TIME_UNITS[self.unit]


class TimeSinceFirst(_TimeUnitAggregation):
    """Time from the earliest row to the cutoff time."""

    name = "time_since_first"
    input_types = ((TIME_INDEX_IN,),)
    return_type = DOUBLE_OUT
    ordered = True
    uses_cutoff = True

    def aggregate_expr(self, inputs, context):
        return self.in_unit(_seconds(context.cutoff - inputs[0].min()))


class TimeSinceLast(_TimeUnitAggregation):
    """Time from the latest row to the cutoff time."""

    name = "time_since_last"
    input_types = ((TIME_INDEX_IN,),)
    return_type = DOUBLE_OUT
    ordered = True
    uses_cutoff = True

    def aggregate_expr(self, inputs, context):
        return self.in_unit(_seconds(context.cutoff - inputs[0].max()))


class AvgTimeBetween(_TimeUnitAggregation):
    """Average time between consecutive rows: (last - first) / (n - 1)."""

    name = "avg_time_between"
    input_types = ((TIME_INDEX_IN,),)
    return_type = DOUBLE_OUT

    def aggregate_expr(self, inputs, context):
        times = inputs[0].drop_nulls()
        span = _seconds(times.max() - times.min())
        return _nan_if(times.len() < 2, self.in_unit(span / (times.len() - 1).cast(pl.Float64)))


class CountAboveMean(AggregationPrimitive):
    """Number of values strictly above the mean."""

    name = "count_above_mean"
    input_types = ((NUMERIC_IN,),)
    return_type = INTEGER_OUT
    stack_on_self = False

    def aggregate_expr(self, inputs, context):
        values = inputs[0].cast(pl.Float64)
        return _nan_if(values.count() == 0, (values > _stable_mean(values)).sum().cast(pl.Float64))


class CountBelowMean(AggregationPrimitive):
    """Number of values strictly below the mean."""

    name = "count_below_mean"
    input_types = ((NUMERIC_IN,),)
    return_type = INTEGER_OUT
    stack_on_self = False

    def aggregate_expr(self, inputs, context):
        values = inputs[0].cast(pl.Float64)
        return _nan_if(values.count() == 0, (values < _stable_mean(values)).sum().cast(pl.Float64))


class NMostCommon(AggregationPrimitive):
    """The n most frequent values, most frequent first (ties: the value seen first)."""

    name = "n_most_common"
    input_types = ((CATEGORY_IN,),)
    ordered = True

    @classmethod
    def default_params(cls):
        return {"n": 3}

    def check_params(self) -> None:
        if not is_whole(self.n, 1):
            self.refuse_param("n", "an integer of at least 1")

    @property
    def number_output_features(self) -> int:  # type: ignore[override]
        return int(self.n)

    def aggregate_expr(self, inputs, context):
        # Repeatedly take the mode that appears first in time order and drop it: most frequent
        # first, ties in order of first appearance (pandas' value_counts order, which
        # Featuretools inherits). A sort_by over run-length counts would be the obvious form,
        # but polars 2.1 panics on it inside group_by.
        remaining = inputs[0].drop_nulls()
        picks = []
        for _ in range(int(self.n)):
            pick = remaining.filter(remaining.is_in(remaining.mode().implode())).first()
            picks.append(pick)
            remaining = remaining.filter(remaining != pick)
        return picks[0] if len(picks) == 1 else pl.concat_list(picks)  # one output: a value


AGGREGATION_PRIMITIVES: tuple[type[AggregationPrimitive], ...] = (
    Count, Sum, Mean, Std, Variance, Min, Max, Median, Skew, Kurtosis, Mode, NumUnique,
    PercentTrue, NumTrue, All, Any, First, Last, Entropy, Trend, TimeSinceFirst, TimeSinceLast,
    AvgTimeBetween, CountAboveMean, CountBelowMean, NMostCommon,
)

DEFAULT_AGGREGATIONS: tuple[str, ...] = (
    "sum", "std", "max", "skew", "min", "mean", "count", "percent_true", "num_unique", "mode",
)

__all__ = [cls.__name__ for cls in AGGREGATION_PRIMITIVES] + ["DEFAULT_AGGREGATIONS"]
