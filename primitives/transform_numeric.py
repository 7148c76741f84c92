"""Numeric transform primitives under Featuretools' names: arithmetic between two columns or a
column and a constant, sign and elementary functions, and the ordered ones that look at the
previous rows (lagged value, change from the previous row, repeated value).

Arithmetic follows IEEE rules as numpy does (``x / 0`` is infinite, ``0 / 0`` NaN); modulo
follows Python's sign rule (the result takes the divisor's sign), infinite divisors included.
"""

from __future__ import annotations

import numbers
from typing import Any, ClassVar

import numpy as np
import polars as pl
from featurekit.primitives.base import (
    BOOLEAN_OUT,
    DOUBLE_OUT,
    NUMERIC_IN,
    NUMERIC_OUT,
    TIME_INDEX_IN,
    TransformPrimitive,
    is_whole,
)

FILL_METHODS = {"pad": "forward", "ffill": "forward", "backfill": "backward", "bfill": "backward"}


def is_number(value: Any) -> bool:
    """Whether ``value`` is a real number (a bool is not one here)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _modulo(columns: list[pl.Series]) -> pl.Series:
    dividend, divisor = columns
    if dividend.dtype.is_integer() and divisor.dtype.is_integer():
        return dividend % divisor  # exact; missing for a zero divisor
    left = dividend.cast(pl.Float64).fill_null(np.nan).to_numpy()
    right = divisor.cast(pl.Float64).fill_null(np.nan).to_numpy()
    with np.errstate(all="ignore"):
        return pl.Series(dividend.name, np.mod(left, right))


def _exact_divide(columns: list[pl.Series]) -> pl.Series:
    dividend, divisor = (c.cast(pl.Float64) for c in columns)
    with np.errstate(all="ignore"):
        quotient = np.divide(dividend.fill_null(np.nan).to_numpy(), divisor.fill_null(np.nan).to_numpy())
    missing = dividend.is_null() | divisor.is_null()
    return pl.Series(columns[0].name, quotient).scatter(missing.arg_true(), None)


def divide(dividend: pl.Expr, divisor: pl.Expr) -> pl.Expr:
    """IEEE division as numpy computes it, a correctly rounded quotient per row: polars
    divides a column by a constant through its reciprocal, an ulp off at times (a column by a
    column, or a constant by a column, it divides exactly)."""
    return pl.map_batches([dividend, divisor], _exact_divide, return_dtype=pl.Float64)


def floor_modulo(dividend: pl.Expr, divisor: pl.Expr) -> pl.Expr:
    """``dividend mod divisor`` with the divisor's sign, as numpy's ``mod`` computes it: the
    exact remainder (polars' float ``%`` rounds ``7.5 % 0.1`` to 0), the dividend itself for
    an infinite divisor of its sign; integers stay integers (missing for a zero divisor)."""
    return pl.map_batches([dividend, divisor], _modulo)


# ---------------------------------------------------------------- two columns


class _BinaryNumeric(TransformPrimitive):
    """``a <op> b`` of two numeric columns, named ``a <symbol> b``."""

    input_types = ((NUMERIC_IN, NUMERIC_IN),)
    return_type = NUMERIC_OUT
    symbol: ClassVar[str] = ""

    def generate_name(self, base_names):
        return f"{base_names[0]} {self.symbol} {base_names[1]}"

    def transform_expr(self, inputs, context):
        return self.operate(inputs[0], inputs[1])

    def operate(self, left: pl.Expr, right: pl.Expr) -> pl.Expr:
        raise NotImplementedError


class AddNumeric(_BinaryNumeric):
    """Sum of two numeric columns."""

    name = "add_numeric"
    symbol = "+"
    commutative = True

    def operate(self, left, right):
        return left + right


class SubtractNumeric(_BinaryNumeric):
    """First column minus the second; with ``commutative=True`` (the default, as in
    Featuretools) planning makes one of ``a - b`` and ``b - a``, the one in name order."""

    name = "subtract_numeric"
    symbol = "-"

    @classmethod
    def default_params(cls):
        return {"commutative": True}

    def check_params(self) -> None:
        if not isinstance(self.params["commutative"], bool):
            self.refuse_param("commutative", "True or False")

    @property
    def commutative(self) -> bool:  # type: ignore[override]
        return self.params["commutative"]

    def operate(self, left, right):
        return left - right


class MultiplyNumeric(_BinaryNumeric):
    """Product of two numeric columns."""

    name = "multiply_numeric"
    symbol = "*"
    commutative = True

    def operate(self, left, right):
        return left * right


class DivideNumeric(_BinaryNumeric):
    """First column divided by the second: infinite for a non-zero value over 0, NaN for
    0 / 0. Planning makes both ``a / b`` and ``b / a`` unless ``commutative=True``."""

    name = "divide_numeric"
    symbol = "/"

    @classmethod
    def default_params(cls):
        return {"commutative": False}

    def check_params(self) -> None:
        if not isinstance(self.params["commutative"], bool):
            self.refuse_param("commutative", "True or False")

    @property
    def commutative(self) -> bool:  # type: ignore[override]
        return self.params["commutative"]

    def operate(self, left, right):
        return left.cast(pl.Float64) / right.cast(pl.Float64)  # column by column: exact


class ModuloNumeric(_BinaryNumeric):
    """Remainder of the first column divided by the second, with the divisor's sign;
    missing (NaN) for a zero divisor."""

    name = "modulo_numeric"
    symbol = "%"

    def operate(self, left, right):
        return floor_modulo(left, right)


# ---------------------------------------------------------------- a column and a constant


class _Scalar(TransformPrimitive):
    """A numeric column combined with the constant ``value``; named ``a <symbol> value``, or
    ``value <symbol> a`` when the constant comes first."""

    input_types = ((NUMERIC_IN,),)
    return_type = NUMERIC_OUT
    symbol: ClassVar[str] = ""
    default_value: ClassVar[float] = 0
    constant_first: ClassVar[bool] = False

    @classmethod
    def default_params(cls):
        return {"value": cls.default_value}

    def check_params(self) -> None:
        if not is_number(self.value):
            self.refuse_param("value", "a number")

    def generate_name(self, base_names):
        if self.constant_first:
            return f"{self.value} {self.symbol} {base_names[0]}"
        return f"{base_names[0]} {self.symbol} {self.value}"

    def transform_expr(self, inputs, context):
        constant = pl.lit(self.value)
        if self.constant_first:
            return self.operate(constant, inputs[0])
        return self.operate(inputs[0], constant)

    def operate(self, left: pl.Expr, right: pl.Expr) -> pl.Expr:
        raise NotImplementedError


class AddNumericScalar(_Scalar):
    """The column plus ``value``."""

    name = "add_numeric_scalar"
    symbol = "+"

    def operate(self, left, right):
        return left + right


class SubtractNumericScalar(_Scalar):
    """The column minus ``value``."""

    name = "subtract_numeric_scalar"
    symbol = "-"

    def operate(self, left, right):
        return left - right


class ScalarSubtractNumericFeature(_Scalar):
    """``value`` minus the column."""

    name = "scalar_subtract_numeric_feature"
    symbol = "-"
    constant_first = True

    def operate(self, left, right):
        return left - right


class MultiplyNumericScalar(_Scalar):
    """The column times ``value``."""

    name = "multiply_numeric_scalar"
    symbol = "*"
    default_value = 1

    def operate(self, left, right):
        return left * right


class DivideNumericScalar(_Scalar):
    """The column divided by ``value`` (by 0: infinite, or NaN for a zero)."""

    name = "divide_numeric_scalar"
    symbol = "/"
    default_value = 1

    def operate(self, left, right):
        return divide(left, right)


class DivideByFeature(_Scalar):
    """``value`` divided by the column (infinite where the column is 0)."""

    name = "divide_by_feature"
    symbol = "/"
    default_value = 1
    constant_first = True

    def operate(self, left, right):
        return left.cast(pl.Float64) / right.cast(pl.Float64)  # exact


class ModuloNumericScalar(_Scalar):
    """Remainder of the column divided by ``value``, with the sign of ``value``."""

    name = "modulo_numeric_scalar"
    symbol = "%"
    default_value = 1

    def operate(self, left, right):
        return floor_modulo(left, right)


class ModuloByFeature(_Scalar):
    """Remainder of ``value`` divided by the column, with the column's sign."""

    name = "modulo_by_feature"
    symbol = "%"
    default_value = 1
    constant_first = True

    def operate(self, left, right):
        return floor_modulo(left, right)


# ---------------------------------------------------------------- one column, row by row


class Negate(TransformPrimitive):
    """The column with its sign changed, named ``-(a)``."""

    name = "negate"
    input_types = ((NUMERIC_IN,),)
    return_type = NUMERIC_OUT

    def generate_name(self, base_names):
        return f"-({base_names[0]})"

    def transform_expr(self, inputs, context):
        return -inputs[0]


class _Elementary(TransformPrimitive):
    """An elementary function of a numeric column, as a double (NaN outside its domain)."""

    input_types = ((NUMERIC_IN,),)
    return_type = DOUBLE_OUT

    def transform_expr(self, inputs, context):
        return self.apply(inputs[0].cast(pl.Float64))

    def apply(self, values: pl.Expr) -> pl.Expr:
        raise NotImplementedError


class NaturalLogarithm(_Elementary):
    """Natural logarithm: -inf at 0, NaN below 0."""

    name = "natural_logarithm"

    def apply(self, values):
        return values.log()


class SquareRoot(_Elementary):
    """Square root; NaN below 0."""

    name = "square_root"

    def apply(self, values):
        return values.sqrt()


class Sine(_Elementary):
    """Sine of an angle in radians."""

    name = "sine"

    def apply(self, values):
        return values.sin()


class Cosine(_Elementary):
    """Cosine of an angle in radians."""

    name = "cosine"

    def apply(self, values):
        return values.cos()


class Tangent(_Elementary):
    """Tangent of an angle in radians."""

    name = "tangent"

    def apply(self, values):
        return values.tan()


# ---------------------------------------------------------------- ordered: previous rows


class _Filled(TransformPrimitive):
    """Ordered transforms that first fill missing values from a neighbouring row
    (``pad``/``ffill``: the previous known value; ``backfill``/``bfill``: the next one known at
    the cutoff), at most ``limit`` in a row, as Featuretools does before comparing rows."""

    input_types = ((NUMERIC_IN,),)
    ordered = True
    method_param: ClassVar[str] = "fill_method"

    @classmethod
    def default_params(cls):
        return {cls.method_param: "pad", "limit": None}

    def check_params(self) -> None:
        if self.params[self.method_param] not in FILL_METHODS:
            self.refuse_param(self.method_param, f"one of {sorted(FILL_METHODS)}")
        if self.limit is not None and not is_whole(self.limit, 1):
            self.refuse_param("limit", "None or an integer of at least 1")

    def filled(self, values: pl.Expr) -> pl.Expr:
        strategy = FILL_METHODS[self.params[self.method_param]]
        return values.cast(pl.Float64).fill_nan(None).fill_null(strategy=strategy, limit=self.limit)


class AbsoluteDiff(_Filled):
    """Absolute difference from the previous row in time order, after filling missing values
    (``method``, ``limit``)."""

    name = "absolute_diff"
    return_type = NUMERIC_OUT
    method_param = "method"

    @classmethod
    def default_params(cls):
        return {"method": "ffill", "limit": None}

    def transform_expr(self, inputs, context):
        return self.filled(inputs[0]).diff().abs()


class PercentChange(_Filled):
    """Relative change from the value ``periods`` rows earlier in time order, after filling
    missing values (``fill_method``, ``limit``): ``x / previous - 1``."""

    name = "percent_change"
    return_type = DOUBLE_OUT

    @classmethod
    def default_params(cls):
        return {"periods": 1, "fill_method": "pad", "limit": None, "freq": None}

    def check_params(self) -> None:
        super().check_params()
        if not is_whole(self.periods, 0):  # a negative period would read later rows
            self.refuse_param("periods", "an integer of at least 0 (rows earlier in time)")
        if self.freq is not None:
            self.refuse_param("freq", "None (featurekit compares rows, not calendar periods)")

    def transform_expr(self, inputs, context):
        values = self.filled(inputs[0])
        return values / values.shift(int(self.periods)) - 1


class SameAsPrevious(_Filled):
    """Whether the value equals the previous row's in time order, after filling missing
    values (``fill_method``, ``limit``); False on the first row, missing where either value is
    still missing."""

    name = "same_as_previous"
    return_type = BOOLEAN_OUT

    def transform_expr(self, inputs, context):
        values = self.filled(inputs[0])
        first = pl.int_range(0, pl.len()) == 0
        return pl.when(first).then(False).otherwise(values == values.shift(1))


class NumericLag(TransformPrimitive):
    """The numeric value ``periods`` rows earlier in time order, ``fill_value`` where there is
    none (Featuretools' older form of ``lag``, with the time index as first input)."""

    name = "numeric_lag"
    input_types = ((TIME_INDEX_IN, NUMERIC_IN),)
    return_type = NUMERIC_OUT
    ordered = True

    @classmethod
    def default_params(cls):
        return {"periods": 1, "fill_value": None}

    def check_params(self) -> None:
        if not is_whole(self.periods, 0):  # a negative lag would read later rows: a leak
            self.refuse_param("periods", "an integer of at least 0 (rows earlier in time)")
        if self.fill_value is not None and not is_number(self.fill_value):
            self.refuse_param("fill_value", "None or a number")

    def transform_expr(self, inputs, context):
        values = inputs[1]
        if self.fill_value is None:
            return values.shift(int(self.periods))
        if isinstance(self.fill_value, float):
            values = values.cast(pl.Float64)
        return values.shift(int(self.periods), fill_value=self.fill_value)


NUMERIC_TRANSFORM_PRIMITIVES: tuple[type[TransformPrimitive], ...] = (
    AddNumeric, SubtractNumeric, MultiplyNumeric, DivideNumeric, ModuloNumeric,
    AddNumericScalar, SubtractNumericScalar, ScalarSubtractNumericFeature, MultiplyNumericScalar,
    DivideNumericScalar, DivideByFeature, ModuloNumericScalar, ModuloByFeature,
    Negate, NaturalLogarithm, SquareRoot, Sine, Cosine, Tangent,
    AbsoluteDiff, PercentChange, SameAsPrevious, NumericLag,
)

__all__ = [cls.__name__ for cls in NUMERIC_TRANSFORM_PRIMITIVES]
