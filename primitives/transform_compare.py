"""Comparison and boolean transform primitives under Featuretools' names: equal / not equal
(any two columns), greater / less than (numbers, times, ordinals), their forms against a
constant, membership in a list, and the boolean operators AND, OR, NOT and products.

One rule for missing values: a comparison with a missing value is missing (a nullable
boolean), whatever the column's type; NaN counts as missing. AND and OR are missing when
either side is; ``multiply_boolean`` follows three-valued logic (False times missing is
False). Values of different kinds (a number and a text) are never equal.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any, ClassVar

import polars as pl
from featurekit.primitives.base import (
    ANY,
    BOOLEAN_IN,
    BOOLEAN_OUT,
    DATETIME_IN,
    NUMERIC_IN,
    NUMERIC_OUT,
    ColumnSchema,
    TransformPrimitive,
)
from featurekit.primitives.transform_numeric import is_number

ORDINAL_IN = ColumnSchema("ordinal")
ORDERED_PAIRS = ((NUMERIC_IN, NUMERIC_IN), (DATETIME_IN, DATETIME_IN), (ORDINAL_IN, ORDINAL_IN))


def _kind(dtype: pl.DataType) -> str:
    """What a value of ``dtype`` can be compared with: numbers (booleans count as 0 and 1, as
    in pandas), text (categorical or string), times, or only its own type."""
    if dtype.is_numeric() or dtype == pl.Boolean:
        return "number"
    if dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum):
        return "text"
    if isinstance(dtype, pl.Datetime):
        return "datetime"
    return str(dtype)


def _comparable(series: pl.Series) -> pl.Series:
    """The values as they compare: NaN missing, booleans as 0/1, categories as their text."""
    dtype = series.dtype
    if dtype == pl.Boolean:
        return series.cast(pl.Int8)
    if dtype.is_float():
        return series.fill_nan(None)
    if dtype == pl.Categorical or isinstance(dtype, pl.Enum):
        return series.cast(pl.String)
    return series


def _either_missing(left: pl.Series, right: pl.Series) -> pl.Series:
    return left.is_null() | right.is_null()


def _compare_columns(compare: Callable[[pl.Series, pl.Series], pl.Series], unlike: bool | None,
                     ordered: bool) -> Callable[[list[pl.Series]], pl.Series]:
    """A batch function comparing two columns: ``compare`` where their kinds agree, else
    ``unlike`` (None: missing) wherever both values are present. ``ordered`` comparisons
    need an order: ordinals held as text have none featurekit knows, so they are missing."""

    def run(columns: list[pl.Series]) -> pl.Series:
        left, right = columns
        same_kind = _kind(left.dtype) == _kind(right.dtype)
        if ordered and same_kind and _kind(left.dtype) == "text":
            same_kind, unlike_here = False, None
        else:
            unlike_here = unlike
        left, right = _comparable(left), _comparable(right)
        if same_kind:
            result = compare(left, right)
        else:
            result = pl.Series(left.name, [unlike_here] * left.len(), dtype=pl.Boolean)
        return pl.select(pl.when(_either_missing(left, right)).then(None)
                         .otherwise(result)).to_series().alias(left.name)

    return run


class _ColumnComparison(TransformPrimitive):
    """``a <symbol> b`` of two columns, missing where either is."""

    return_type = BOOLEAN_OUT
    symbol: ClassVar[str] = ""
    compare: ClassVar[Callable[[Any, Any], Any]]
    unlike: ClassVar[bool | None] = None  # the answer for values of different kinds
    needs_order: ClassVar[bool] = True

    def generate_name(self, base_names):
        return f"{base_names[0]} {self.symbol} {base_names[1]}"

    def transform_expr(self, inputs, context):
        run = _compare_columns(type(self).compare, self.unlike, self.needs_order)
        return pl.map_batches(inputs, run, return_dtype=pl.Boolean)


class Equal(_ColumnComparison):
    """Whether two columns hold the same value (any types; different kinds never equal)."""

    name = "equal"
    input_types = ((ANY, ANY),)
    commutative = True
    symbol = "="
    compare = operator.eq
    unlike = False
    needs_order = False


class NotEqual(_ColumnComparison):
    """Whether two columns hold different values (any types; different kinds always differ)."""

    name = "not_equal"
    input_types = ((ANY, ANY),)
    commutative = True
    symbol = "!="
    compare = operator.ne
    unlike = True
    needs_order = False


class GreaterThan(_ColumnComparison):
    """Whether the first value is greater than the second (numbers, times or ordinals)."""

    name = "greater_than"
    input_types = ORDERED_PAIRS
    symbol = ">"
    compare = operator.gt


class GreaterThanEqualTo(_ColumnComparison):
    """Whether the first value is greater than or equal to the second."""

    name = "greater_than_equal_to"
    input_types = ORDERED_PAIRS
    symbol = ">="
    compare = operator.ge


class LessThan(_ColumnComparison):
    """Whether the first value is less than the second (numbers, times or ordinals)."""

    name = "less_than"
    input_types = ORDERED_PAIRS
    symbol = "<"
    compare = operator.lt


class LessThanEqualTo(_ColumnComparison):
    """Whether the first value is less than or equal to the second."""

    name = "less_than_equal_to"
    input_types = ORDERED_PAIRS
    symbol = "<="
    compare = operator.le


# ---------------------------------------------------------------- against a constant


class _ScalarComparison(TransformPrimitive):
    """A numeric column compared with the constant ``value`` (default 0), named
    ``a <symbol> value``; missing where the column is."""

    input_types = ((NUMERIC_IN,),)
    return_type = BOOLEAN_OUT
    symbol: ClassVar[str] = ""
    compare: ClassVar[Callable[[Any, Any], Any]]

    @classmethod
    def default_params(cls):
        return {"value": 0}

    def check_params(self) -> None:
        if not is_number(self.value):
            self.refuse_param("value", "a number")

    def generate_name(self, base_names):
        return f"{base_names[0]} {self.symbol} {self.value}"

    def transform_expr(self, inputs, context):
        return type(self).compare(inputs[0].fill_nan(None), pl.lit(self.value))


class GreaterThanScalar(_ScalarComparison):
    """Whether the value is greater than ``value``."""

    name = "greater_than_scalar"
    symbol = ">"
    compare = operator.gt


class GreaterThanEqualToScalar(_ScalarComparison):
    """Whether the value is greater than or equal to ``value``."""

    name = "greater_than_equal_to_scalar"
    symbol = ">="
    compare = operator.ge


class LessThanScalar(_ScalarComparison):
    """Whether the value is less than ``value``."""

    name = "less_than_scalar"
    symbol = "<"
    compare = operator.lt


class LessThanEqualToScalar(_ScalarComparison):
    """Whether the value is less than or equal to ``value``."""

    name = "less_than_equal_to_scalar"
    symbol = "<="
    compare = operator.le


def _is_plain_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (bool, str)) or is_number(value)


class _ScalarEquality(TransformPrimitive):
    """A column of any type compared with the constant ``value`` (a number, text, boolean or
    None); a constant of another kind than the column is never equal; missing where the
    column is."""

    input_types = ((ANY,),)
    return_type = BOOLEAN_OUT
    symbol: ClassVar[str] = ""
    equal_answer: ClassVar[bool] = True

    @classmethod
    def default_params(cls):
        return {"value": None}

    def check_params(self) -> None:
        if not _is_plain_scalar(self.value):
            self.refuse_param("value", "None, a number, a text or a boolean")

    def generate_name(self, base_names):
        return f"{base_names[0]} {self.symbol} {self.value}"

    def transform_expr(self, inputs, context):
        value, equal_answer = self.value, self.equal_answer

        def run(series: pl.Series) -> pl.Series:
            values = _comparable(series)
            kind = _kind(series.dtype)
            same_kind = value is not None and (
                (kind == "number" and (is_number(value) or isinstance(value, bool)))
                or (kind == "text" and isinstance(value, str)))
            if same_kind:
                constant = int(value) if isinstance(value, bool) else value
                equal = values == constant
                return equal if equal_answer else ~equal
            return pl.Series(series.name, [not equal_answer] * series.len(), dtype=pl.Boolean
                             ).scatter(values.is_null().arg_true(), None)

        return inputs[0].map_batches(run, return_dtype=pl.Boolean)


class EqualScalar(_ScalarEquality):
    """Whether the value equals ``value``."""

    name = "equal_scalar"
    symbol = "="


class NotEqualScalar(_ScalarEquality):
    """Whether the value differs from ``value``."""

    name = "not_equal_scalar"
    symbol = "!="
    equal_answer = False


class IsIn(TransformPrimitive):
    """Whether the value is one of ``list_of_outputs``; a missing value is in the list only
    when the list holds None or NaN (never missing itself)."""

    name = "isin"
    input_types = ((ANY,),)
    return_type = BOOLEAN_OUT

    @classmethod
    def default_params(cls):
        return {"list_of_outputs": None}

    def check_params(self) -> None:
        given = self.list_of_outputs
        if given is None:
            return
        if isinstance(given, (str, bytes)) or not isinstance(given, (list, tuple)) or not all(
                _is_plain_scalar(item) for item in given):
            self.refuse_param("list_of_outputs", "None or a list of numbers, texts or booleans")
        self.params["list_of_outputs"] = tuple(given)  # hashable, equal whatever sequence

    def generate_name(self, base_names):
        shown = None if self.list_of_outputs is None else list(self.list_of_outputs)
        return f"{base_names[0]}.isin({shown})"

    def transform_expr(self, inputs, context):
        items = list(self.list_of_outputs or ())
        has_missing = any(item is None or (isinstance(item, float) and math.isnan(item))
                          for item in items)

        def run(series: pl.Series) -> pl.Series:
            kind = _kind(series.dtype)
            values = _comparable(series)
            if kind == "number":  # booleans as 0 and 1, on both sides, as pandas does
                wanted = [int(item) if isinstance(item, bool) else item for item in items
                          if (is_number(item) and not math.isnan(item)) or isinstance(item, bool)]
                if any(isinstance(item, float) for item in wanted):
                    values = values.cast(pl.Float64)
            elif kind == "text":
                wanted = [item for item in items if isinstance(item, str)]
            else:
                wanted = []
            found = (values.is_in(pl.Series(wanted, dtype=values.dtype).implode()) if wanted
                     else pl.Series(series.name, [False] * series.len(), dtype=pl.Boolean))
            return found.fill_null(False) | (values.is_null() if has_missing else False)

        return inputs[0].map_batches(run, return_dtype=pl.Boolean)


# ---------------------------------------------------------------- booleans


class _BooleanPair(TransformPrimitive):
    input_types = ((BOOLEAN_IN, BOOLEAN_IN),)
    return_type = BOOLEAN_OUT
    commutative = True


class And(_BooleanPair):
    """Whether both values are true; missing when either is missing."""

    name = "and"

    def generate_name(self, base_names):
        return f"AND({base_names[0]}, {base_names[1]})"

    def transform_expr(self, inputs, context):
        left, right = inputs
        return pl.when(left.is_null() | right.is_null()).then(None).otherwise(left & right)


class Or(_BooleanPair):
    """Whether either value is true; missing when either is missing."""

    name = "or"

    def generate_name(self, base_names):
        return f"OR({base_names[0]}, {base_names[1]})"

    def transform_expr(self, inputs, context):
        left, right = inputs
        return pl.when(left.is_null() | right.is_null()).then(None).otherwise(left | right)


class MultiplyBoolean(_BooleanPair):
    """Product of two booleans in three-valued logic: False if either is False, missing if
    the other is missing, else True."""

    name = "multiply_boolean"

    def generate_name(self, base_names):
        return f"{base_names[0]} * {base_names[1]}"

    def transform_expr(self, inputs, context):
        return inputs[0] & inputs[1]


class MultiplyNumericBoolean(TransformPrimitive):
    """A number times a boolean (1 or 0): the number where true, 0 where false, missing
    where either is missing."""

    name = "multiply_numeric_boolean"
    input_types = ((NUMERIC_IN, BOOLEAN_IN), (BOOLEAN_IN, NUMERIC_IN))
    return_type = NUMERIC_OUT
    commutative = True

    def generate_name(self, base_names):
        return f"{base_names[0]} * {base_names[1]}"

    def transform_expr(self, inputs, context):
        return inputs[0] * inputs[1]  # polars counts a boolean as 1 or 0, on either side


class Not(TransformPrimitive):
    """The negation of a boolean, named ``NOT(a)``; missing stays missing."""

    name = "not"
    input_types = ((BOOLEAN_IN,),)
    return_type = BOOLEAN_OUT

    def generate_name(self, base_names):
        return f"NOT({base_names[0]})"

    def transform_expr(self, inputs, context):
        return ~inputs[0]


COMPARE_TRANSFORM_PRIMITIVES: tuple[type[TransformPrimitive], ...] = (
    Equal, NotEqual, GreaterThan, GreaterThanEqualTo, LessThan, LessThanEqualTo,
    GreaterThanScalar, GreaterThanEqualToScalar, LessThanScalar, LessThanEqualToScalar,
    EqualScalar, NotEqualScalar, IsIn, And, Or, MultiplyBoolean, MultiplyNumericBoolean, Not,
)

__all__ = [cls.__name__ for cls in COMPARE_TRANSFORM_PRIMITIVES]
