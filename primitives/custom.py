"""The extension point: turn a plain function into a primitive with a decorator.

The function either maps numpy arrays to a value (aggregation) or to an array of the same
length (transform), or, with ``polars=True``, maps polars expressions to an expression. The
decorator returns a primitive *class* that takes the function's place in its module, so it
stays importable and picklable (for parallel runs) and can be stacked like a built-in.

Examples
--------
>>> import numpy as np
>>> from featurekit.primitives import aggregation
>>> @aggregation(input_types=["numeric"], return_type="numeric")
... def value_range(values: np.ndarray) -> float:
...     return float(np.nanmax(values) - np.nanmin(values))
>>> value_range().generate_name(["amount"], "transactions")
'VALUE_RANGE(transactions.amount)'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import polars as pl
from featurekit.primitives.base import (
    AggregationPrimitive,
    ColumnSchema,
    Primitive,
    TransformPrimitive,
)

from featurekit.errors import PlanError
from featurekit.types import (
    CODE_TYPES,
    STRING_TYPES,
    normalize_user_type,
    schema_of,
    suggest_type_names,
)

_SCHEMAS = {
    "any": ColumnSchema(),
    "numeric": ColumnSchema(None, frozenset({"numeric"})),
    "category": ColumnSchema(tags=frozenset({"category"})),
    "categorical": ColumnSchema(tags=frozenset({"category"})),
    "boolean": ColumnSchema("boolean"),
    "datetime": ColumnSchema("datetime"),
    "time_index": ColumnSchema("datetime", frozenset({"time_index"})),
    "index": ColumnSchema(tags=frozenset({"index"})),
    "text": ColumnSchema("text"),
    "latlong": ColumnSchema("latlong"),
    # postal codes, e-mail addresses, URLs, ...: by their logical type names
    **{name: schema_of(name) for name in (*STRING_TYPES[1:], *CODE_TYPES)},
}


def schema_from_spec(spec: str | ColumnSchema, *, as_input: bool) -> ColumnSchema:
    """Read "numeric", "category", "boolean", ... as a ColumnSchema."""
    if isinstance(spec, ColumnSchema):
        return spec
    key = spec.lower() if isinstance(spec, str) else spec
    if key not in _SCHEMAS:
        try:  # a logical type by any accepted spelling: "Double", "NaturalLanguage", ...
            logical, tags = normalize_user_type(spec)
        except (KeyError, TypeError):
            close = suggest_type_names(spec)
            hint = f"did you mean {' or '.join(map(repr, close))}? Or use" if close else "use"
            raise PlanError(f"unknown type {spec!r} in a primitive declaration. "
                            f"Fix: {hint} one of {sorted(_SCHEMAS)} or a logical type "
                            "name") from None
        return schema_of(logical, tags)
    schema = _SCHEMAS[key]
    if as_input and key == "numeric":
        return ColumnSchema(tags=frozenset({"numeric"}))
    if not as_input and key in ("category", "categorical"):
        return ColumnSchema("categorical", frozenset({"category"}))
    return schema


def _to_numpy(series: pl.Series) -> np.ndarray:
    if series.dtype.is_numeric():
        return series.cast(pl.Float64).to_numpy()
    return series.to_numpy()


def _make_class(base: type[Primitive], function: Callable, name: str | None,
                input_types: Sequence[str | ColumnSchema], return_type: str | ColumnSchema | None,
                polars: bool, options: dict[str, Any]) -> type[Primitive]:
    primitive_name = name or function.__name__
    attributes: dict[str, Any] = {
        "name": primitive_name,
        "input_types": (tuple(schema_from_spec(t, as_input=True) for t in input_types),),
        "return_type": None if return_type is None else schema_from_spec(return_type, as_input=False),
        "description": (function.__doc__ or "").strip().split("\n")[0],
        "function": staticmethod(function),
        "__doc__": function.__doc__,
        "__module__": function.__module__,
        "__qualname__": function.__qualname__,
        "uses_polars": polars,
        **options,
    }
    cls = type(function.__name__, (base,), attributes)
    from featurekit.primitives import register

    register(cls)
    return cls


def aggregation(input_types: Sequence[str | ColumnSchema], return_type: str | ColumnSchema | None = None,
                *, name: str | None = None, polars: bool = False, default_value: Any = None,
                stack_on_self: bool = True, ordered: bool = False) -> Callable[[Callable], type]:
    """Decorate ``f(*arrays) -> value`` (or ``f(*exprs) -> expr`` with ``polars=True``)."""
    def wrap(function: Callable) -> type:
        return _make_class(CustomAggregation, function, name, input_types, return_type, polars,
                           {"default_value": default_value, "stack_on_self": stack_on_self,
                            "ordered": ordered})
    return wrap


def transform(input_types: Sequence[str | ColumnSchema], return_type: str | ColumnSchema | None = None,
              *, name: str | None = None, polars: bool = False, ordered: bool = False,
              row_wise: bool = True) -> Callable[[Callable], type]:
    """Decorate ``f(*arrays) -> array`` (or ``f(*exprs) -> expr`` with ``polars=True``).

    ``row_wise=False`` declares that a row's value depends on other rows of the column (a
    z-score, a rank): with cutoff times it is then computed over every row known at each
    cutoff rather than over the rows of the instances being computed.
    """
    def wrap(function: Callable) -> type:
        return _make_class(CustomTransform, function, name, input_types, return_type, polars,
                           {"ordered": ordered, "row_wise": row_wise})
    return wrap


class CustomAggregation(AggregationPrimitive):
    """Base of decorated aggregation functions."""

    uses_polars = False

    def aggregate_expr(self, inputs, context):
        if self.uses_polars:
            return self.function(*inputs)
        function = self.function
        dtype = _polars_dtype(self.return_type)
        return pl.map_groups(
            inputs,
            lambda columns: function(*(_to_numpy(c) for c in columns)),
            return_dtype=dtype,
            returns_scalar=True,
        )


class CustomTransform(TransformPrimitive):
    """Base of decorated transform functions."""

    uses_polars = False

    def transform_expr(self, inputs, context):
        if self.uses_polars:
            return self.function(*inputs)
        function = self.function
        dtype = _polars_dtype(self.return_type)
        return pl.map_batches(
            inputs,
            lambda columns: pl.Series(np.asarray(function(*(_to_numpy(c) for c in columns)))),
            return_dtype=dtype,
        )


def _polars_dtype(schema: ColumnSchema | None) -> pl.DataType | None:
    if schema is None:
        return None
    if schema.is_numeric:
        return pl.Float64
    return {"boolean": pl.Boolean}.get(schema.logical_type or "")
