"""Feature definitions: an immutable tree of identity, direct, aggregation and transform nodes
with stable Featuretools-style names (``MEAN(sessions.SUM(transactions.amount))``). Definitions
hold no data; the engine computes them, :mod:`featurekit.feature_files` saves and loads them."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from featurekit.entityset import Relationship
from featurekit.errors import FeaturekitError
from featurekit.primitives import AggregationPrimitive, Primitive, TransformPrimitive
from featurekit.types import ColumnSchema


class Feature:
    """Base of every feature node: the table it describes, its inputs, type and name."""

    kind = "feature"
    where: Feature | None = None  # the row filter of an aggregation (``COUNT(s WHERE x = a)``)

    def __init__(self, table: str, inputs: tuple[Feature, ...], schema: ColumnSchema, name: str):
        self.table = table
        self.inputs = inputs
        self.schema = schema
        self.name = name
        self.depth = 0 if not inputs else 1 + max(f.depth for f in inputs)

    @property
    def unique_name(self) -> str:
        return f"{self.table}: {self.name}"

    @property
    def sources(self) -> tuple[Feature, ...]:
        """Every feature this one reads: its inputs, then its where clause if it has one."""
        return self.inputs if self.where is None else (*self.inputs, self.where)

    def equals(self, value: Any) -> TransformFeature:
        """A boolean feature, true where this one equals ``value`` (Featuretools' ``feature ==
        value``): named ``device = mobile``, the where clause of an aggregation."""
        from featurekit.primitives import EqualScalar

        return TransformFeature((self,), EqualScalar(value=value))

    @property
    def number_output_features(self) -> int:
        return 1

    @property
    def output_names(self) -> list[str]:
        return [self.name]

    @property
    def primitive(self) -> Primitive | None:
        return None

    def root_primitive(self) -> Primitive | None:
        """The primitive that made this value, looking through direct features."""
        return self.primitive

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Feature) and self.unique_name == other.unique_name

    def __hash__(self) -> int:
        return hash(self.unique_name)

    def __repr__(self) -> str:
        return f"<Feature: {self.name} on {self.table}>"

    def __getitem__(self, position: int) -> FeatureOutput:
        if self.number_output_features == 1:
            raise FeaturekitError(f"feature {self.name!r} has one output; it cannot be indexed")
        return FeatureOutput(self, position)

    def dependencies(self) -> list[Feature]:
        """Every feature this one needs, deepest first, each once."""
        seen: dict[str, Feature] = {}

        def visit(feature: Feature) -> None:
            for child in feature.sources:
                if child.unique_name not in seen:
                    visit(child)
                    seen[child.unique_name] = child

        visit(self)
        return list(seen.values())


class IdentityFeature(Feature):
    """A column of a table, as it is."""

    kind = "identity"

    def __init__(self, table: str, column: str, schema: ColumnSchema):
        super().__init__(table, (), schema, column)
        self.column = column


class DirectFeature(Feature):
    """A parent's feature copied onto each child row through a relationship.

    ``path_name`` is how the name calls the parent: its table name (the default) or, when
    two relationships link the same tables, the one ``EntitySet.parent_name`` gives
    (``airports[origin_id].city``)."""

    kind = "direct"

    def __init__(self, base: Feature, relationship: Relationship, path_name: str | None = None):
        self.path_name = path_name or relationship.parent
        super().__init__(relationship.child, (base,), base.schema, f"{self.path_name}.{base.name}")
        self.relationship = relationship

    @property
    def base(self) -> Feature:
        return self.inputs[0]

    def root_primitive(self) -> Primitive | None:
        return self.base.root_primitive()

    @property
    def number_output_features(self) -> int:
        return self.base.number_output_features


class _PrimitiveFeature(Feature):
    """A feature made by a primitive: its outputs are the primitive's."""

    def __init__(self, table: str, inputs: tuple[Feature, ...], primitive: Primitive, name: str):
        super().__init__(table, tuple(inputs), primitive.output_schema([f.schema for f in inputs]), name)
        self._primitive = primitive

    @property
    def primitive(self) -> Primitive:
        return self._primitive

    @property
    def number_output_features(self) -> int:
        return self._primitive.number_output_features

    @property
    def output_names(self) -> list[str]:
        return self._primitive.output_names(self.name)


class AggregationFeature(_PrimitiveFeature):
    """A primitive applied to the rows of a child table reached through ``path``.

    ``path_name`` is how the name calls those rows: the child's table name (the default) or,
    when the child reaches the parent by several paths, the one ``EntitySet.path_name`` gives
    (``SUM(customer.orders.lineitem.price)``, ``COUNT(flights[origin_id])``)."""

    kind = "aggregation"
    _primitive: AggregationPrimitive

    def __init__(self, inputs: tuple[Feature, ...], primitive: AggregationPrimitive,
                 path: tuple[Relationship, ...], path_name: str | None = None,
                 where: Feature | None = None):
        self.path_name = path_name or path[-1].child
        name = primitive.generate_name([f.name for f in inputs], self.path_name)
        if where is not None:
            _check_where(where, path, name)
            name = _with_where(name, primitive, where.name)
        super().__init__(path[0].parent, inputs, primitive, name)
        self.path = path
        self.where = where
        if where is not None:  # the where clause counts in the depth, as in Featuretools
            self.depth = max(self.depth, where.depth + 1)

    @property
    def primitive(self) -> AggregationPrimitive:
        return self._primitive

    @property
    def child(self) -> str:
        return self.path[-1].child


def _with_where(name: str, primitive: AggregationPrimitive, where_name: str) -> str:
    """``name`` with `` WHERE <where_name>`` before the primitive's arguments and closing
    bracket, where Featuretools puts it (``SUM(t.amount WHERE device = mobile, n=2)``)."""
    tail = primitive.args_string() + ")"
    if name.endswith(tail):
        return f"{name[:-len(tail)]} WHERE {where_name}{tail}"
    return f"{name} WHERE {where_name}"


def _check_where(where: Any, path: tuple[Relationship, ...], name: str) -> None:
    """A where clause is a boolean feature of the rows aggregated."""
    if not isinstance(where, Feature):
        raise FeaturekitError(f"where= of {name!r} must be a feature, got {where!r}. Fix: pass "
                              "e.g. where=fk.Feature-of-the-child.equals('mobile')")
    if where.table != path[-1].child:
        raise FeaturekitError(f"where clause {where.name!r} of {name!r} describes table "
                              f"{where.table!r}, not {path[-1].child!r}, the rows aggregated. Fix: "
                              f"build it from a feature of {path[-1].child!r}")
    if where.schema.logical_type != "boolean":
        raise FeaturekitError(f"where clause {where.name!r} of {name!r} is not boolean. Fix: "
                              "compare it to a value, e.g. feature.equals('mobile')")


class TransformFeature(_PrimitiveFeature):
    """A primitive applied row by row to features of the same table."""

    kind = "transform"
    _primitive: TransformPrimitive

    def __init__(self, inputs: tuple[Feature, ...], primitive: TransformPrimitive):
        super().__init__(inputs[0].table, inputs, primitive,
                         primitive.generate_name([f.name for f in inputs]))

    @property
    def primitive(self) -> TransformPrimitive:
        return self._primitive


class FeatureOutput(Feature):
    """One output of a multi-output feature, e.g. ``N_MOST_COMMON(t.x)[0]``."""

    kind = "output"

    def __init__(self, base: Feature, position: int):
        if not 0 <= position < base.number_output_features:
            raise FeaturekitError(f"feature {base.name!r} has outputs 0..{base.number_output_features - 1}")
        super().__init__(base.table, (base,), base.schema, base.output_names[position])
        self.position = position  # depth is the base's plus one, as in Featuretools

    def root_primitive(self) -> Primitive | None:
        return self.inputs[0].root_primitive()


def inputs_fit(primitive: Primitive, schemas: Sequence[ColumnSchema]) -> bool:
    """True when ``schemas`` (the inputs' types, in order) match one of the primitive's input
    signatures, in any order for a commutative primitive."""
    if not primitive.input_types:
        return True
    for signature in primitive.input_types:
        if len(signature) != len(schemas):
            continue
        orders = itertools.permutations(schemas) if primitive.commutative else (schemas,)
        if any(all(s.matches(p) for s, p in zip(order, signature, strict=True)) for order in orders):
            return True
    return False


_FILES = ("FORMAT_VERSION", "features_from_dict", "features_to_dict", "load_features", "save_features")


def __getattr__(name: str) -> Any:
    """The JSON round trip lives in :mod:`featurekit.feature_files`; its names stay
    importable from here."""
    if name in _FILES:
        from featurekit import feature_files

        return getattr(feature_files, name)
    raise AttributeError(f"module 'featurekit.feature' has no attribute {name!r}")
