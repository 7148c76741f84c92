"""The transforms ``encode_features`` makes: one boolean per frequent value of a categorical
feature, and one for the values outside them, so that an encoding learnt on one matrix is
computed again, unchanged, on new data by ``fk.compute``."""

from __future__ import annotations

import numbers
from typing import Any

from featurekit.primitives.base import ANY, BOOLEAN_OUT, TransformPrimitive


def _plain(value: Any) -> Any:
    """A category value as a JSON-able Python scalar (a numpy integer becomes an int)."""
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, str | bool | numbers.Integral | numbers.Real):
        return value
    return str(value)


class OneHot(TransformPrimitive):
    """True where the value equals ``value``, False elsewhere (missing included; with
    ``value=None``, True exactly where the value is missing); named ``device = mobile`` as in
    Featuretools' encode_features."""

    name = "one_hot"
    input_types = ((ANY,),)
    return_type = BOOLEAN_OUT
    stack_on_self = False

    @classmethod
    def default_params(cls) -> dict[str, Any]:
        return {"value": None}

    def check_params(self) -> None:
        if self.params["value"] is not None:
            self.params["value"] = _plain(self.params["value"])

    def generate_name(self, base_names: list[str]) -> str:
        return f"{base_names[0]} = {self.params['value']}"

    def transform_expr(self, inputs, context):
        import polars as pl

        column = inputs[0]
        value = self.params["value"]
        if value is None:
            return column.is_null()
        if isinstance(value, str):  # categories compare as their text
            column = column.cast(pl.String)
        return (column == value).fill_null(False)


class OneHotUnknown(TransformPrimitive):
    """True where the value is missing or none of ``values`` (the encoded ones); named
    ``device is unknown`` as in Featuretools' encode_features."""

    name = "one_hot_unknown"
    input_types = ((ANY,),)
    return_type = BOOLEAN_OUT
    stack_on_self = False

    @classmethod
    def default_params(cls) -> dict[str, Any]:
        return {"values": ()}

    def check_params(self) -> None:
        values = self.params["values"]
        if isinstance(values, str | bytes) or not hasattr(values, "__iter__"):
            self.refuse_param("values", "a list of the encoded category values")
        self.params["values"] = tuple(_plain(value) for value in values)

    def generate_name(self, base_names: list[str]) -> str:
        return f"{base_names[0]} is unknown"

    def transform_expr(self, inputs, context):
        import polars as pl

        column, values = inputs[0], list(self.params["values"])
        if not values:  # nothing encoded: every value is unknown
            return column.is_null() | column.is_not_null()
        if any(isinstance(value, str) for value in values):
            column = column.cast(pl.String)
            values = [str(value) for value in values]
        return ~column.is_in(values).fill_null(False)


ENCODING_PRIMITIVES = (OneHot, OneHotUnknown)

__all__ = ["OneHot", "OneHotUnknown"]
