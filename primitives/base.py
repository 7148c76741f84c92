"""What a primitive is: declared input types, return type, name template and stacking rules in
one place, plus how to compute it (a polars expression, or a numpy function for custom ones).

Primitives know nothing of the planner or the engine: the planner reads the metadata, the
engine calls ``aggregate_expr`` / ``transform_expr`` with polars expressions and a context, or,
for aggregations of one ``batch_family``, ``aggregate_segments`` with the rows laid out parent by
parent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import polars as pl

from featurekit.types import ColumnSchema

# Input patterns used across the catalogue.
ANY = ColumnSchema()
NUMERIC_IN = ColumnSchema(tags=frozenset({"numeric"}))
CATEGORY_IN = ColumnSchema(tags=frozenset({"category"}))
BOOLEAN_IN = ColumnSchema("boolean")
DATETIME_IN = ColumnSchema("datetime")
TIME_INDEX_IN = ColumnSchema("datetime", frozenset({"time_index"}))
INDEX_IN = ColumnSchema(tags=frozenset({"index"}))
TEXT_IN = ColumnSchema("text")
LATLONG_IN = ColumnSchema("latlong")

NUMERIC_OUT = ColumnSchema(None, frozenset({"numeric"}))
INTEGER_OUT = ColumnSchema("integer_nullable", frozenset({"numeric"}))
DOUBLE_OUT = ColumnSchema("double", frozenset({"numeric"}))
INTEGER_IN = ColumnSchema("integer", frozenset({"numeric"}))
DOUBLE_IN = ColumnSchema("double", frozenset({"numeric"}))
CATEGORY_OUT = ColumnSchema("categorical", frozenset({"category"}))
ORDINAL_OUT = ColumnSchema("ordinal", frozenset({"category"}))
BOOLEAN_OUT = ColumnSchema("boolean")


@dataclass(frozen=True)
class ComputeContext:
    """What an expression may refer to besides its inputs.

    ``time``: the rows' time index (None when the table has none); ``cutoff``: the time the
    features are computed as of; rows arrive sorted by (time index, index) for aggregations
    and transforms marked ``ordered``.
    """

    time: pl.Expr | None
    cutoff: pl.Expr


@dataclass(frozen=True)
class Segments:
    """Child rows laid out parent by parent, for ``aggregate_segments``.

    ``columns``: one series per input of the primitives, in their input order; the rows of
    parent ``i`` are ``starts[i]:stops[i]`` (never empty), in the order of the child's time
    index (then its index) when the primitives are ``ordered``.
    """

    columns: tuple[pl.Series, ...]
    starts: np.ndarray
    stops: np.ndarray


class Primitive:
    """Base of every primitive. Subclasses set the class attributes and one compute method."""

    name: ClassVar[str] = ""
    input_types: ClassVar[tuple[tuple[ColumnSchema, ...], ...]] = ()
    return_type: ClassVar[ColumnSchema | None] = None  # None: the first input's type
    stack_on_self: ClassVar[bool] = True
    stack_on_exclude: ClassVar[tuple[str, ...]] = ()
    number_output_features: ClassVar[int] = 1
    commutative: ClassVar[bool] = False
    ordered: ClassVar[bool] = False  # needs rows in time order
    uses_cutoff: ClassVar[bool] = False  # value depends on the cutoff time
    description: ClassVar[str] = ""
    # Parameters that take values of more than one kind (a window of rows or of time): saved
    # features do not hold them to their default's kind; ``check_params`` checks them.
    flexible_params: ClassVar[tuple[str, ...]] = ()

    def __init__(self, **params: Any) -> None:
        defaults = self.default_params()
        unknown = set(params) - set(defaults)
        if unknown:
            from featurekit.errors import PlanError

            raise PlanError(f"primitive {self.name!r} has no parameter(s) {sorted(unknown)}. "
                            f"Fix: use {sorted(defaults) or 'no parameters'}")
        self.params = {**defaults, **params}
        self.check_params()

    def check_params(self) -> None:
        """Refuse parameter values the primitive cannot compute with (``refuse_param``);
        called once when the primitive is made, before any data is read."""

    def refuse_param(self, name: str, allowed: str) -> None:
        """Raise the error for parameter ``name``: its value, what is allowed and the fix."""
        from featurekit.errors import PlanError

        raise PlanError(f"primitive {self.name!r}: parameter {name}={self.params[name]!r} is not "
                        f"allowed; it must be {allowed}. Fix: pass {name}= {allowed}, or leave "
                        f"the default {self.default_params()[name]!r}")

    @classmethod
    def default_params(cls) -> dict[str, Any]:
        return {}

    def __getattr__(self, item: str) -> Any:
        params = self.__dict__.get("params", {})
        if item in params:
            return params[item]
        raise AttributeError(item)

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.params == other.params  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__qualname__, tuple(sorted(self.params.items(), key=str))))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}({args})"

    def __reduce__(self):
        return (_rebuild_primitive, (type(self), self.params))

    # ------------------------------------------------------------ naming
    @property
    def display_name(self) -> str:
        return self.name.upper()

    def args_string(self) -> str:
        """Parameters that differ from the defaults, as ", key=value" (Featuretools' style)."""
        defaults = self.default_params()
        changed = [(k, v) for k, v in self.params.items() if defaults.get(k) != v]
        return "".join(f", {k}={v}" for k, v in changed)

    def output_schema(self, inputs: list[ColumnSchema]) -> ColumnSchema:
        if self.return_type is not None:
            return self.return_type
        return inputs[0].without_roles()

    def output_names(self, name: str) -> list[str]:
        if self.number_output_features == 1:
            return [name]
        return [f"{name}[{i}]" for i in range(self.number_output_features)]


class AggregationPrimitive(Primitive):
    """Many child rows -> one value per parent row."""

    default_value: ClassVar[Any] = None  # the value for a parent with no child rows

    def generate_name(self, base_names: list[str], path_name: str) -> str:
        return f"{self.display_name}({path_name}.{', '.join(base_names)}{self.args_string()})"

    # The statistic of featurekit.primitives.kernels that equals this primitive ("sum",
    # "mode", ...), letting the engine compute it with others in one pass; None: expression.
    kernel_stat: ClassVar[str | None] = None

    # "first" or "last": the value of the earliest or latest row (by time, then index), which
    # many cutoffs of one parent read off one sweep over its rows in time order. None: other.
    order_stat: ClassVar[str | None] = None

    # Aggregations of one family over the same inputs and path are computed together, by one
    # ``aggregate_segments`` call (shared work: one sort, one FFT per parent) instead of one
    # expression each. Every primitive of a family must share that method. None: expression.
    batch_family: ClassVar[str | None] = None

    @classmethod
    def aggregate_segments(cls, primitives: Sequence[AggregationPrimitive],
                           segments: Segments) -> list[pl.Series]:
        """The values of ``primitives`` (all of this family, same inputs), one series each
        with one value per parent of ``segments``; equal to ``aggregate_expr``'s values."""
        raise NotImplementedError

    def aggregate_expr(self, inputs: list[pl.Expr], context: ComputeContext) -> pl.Expr:
        """A polars expression valid inside ``group_by(...).agg(...)``."""
        raise NotImplementedError


class TransformPrimitive(Primitive):
    """One value per row, from values of the same row (or of the rows before it, if ordered)."""

    # False when a row's value depends on the table's other rows (a rank, a z-score). With
    # cutoff times such a transform is computed over every row known at each cutoff.
    row_wise: ClassVar[bool] = True

    def generate_name(self, base_names: list[str]) -> str:
        return f"{self.display_name}({', '.join(base_names)}{self.args_string()})"

    def transform_expr(self, inputs: list[pl.Expr], context: ComputeContext) -> pl.Expr:
        """A polars expression over whole columns, used in ``with_columns``."""
        raise NotImplementedError


def is_whole(value: Any, low: int) -> bool:
    """Whether ``value`` is an integer (not a bool) of at least ``low``."""
    import numbers

    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= low


def _rebuild_primitive(cls: type, params: dict[str, Any]) -> Primitive:
    return cls(**params)
