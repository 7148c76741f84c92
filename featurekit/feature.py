"""Feature definitions: an immutable tree of identity, direct, aggregation and transform nodes
with stable Featuretools-style names (``MEAN(sessions.SUM(transactions.amount))``) and a JSON
round trip. Definitions hold no data; the engine computes them."""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from featurekit._atomic import atomic_path
from featurekit._version import __version__
from featurekit.entityset import Relationship
from featurekit.errors import FeaturekitError
from featurekit.primitives import (
    AggregationPrimitive,
    Primitive,
    TransformPrimitive,
    get_primitive,
)
from featurekit.types import ColumnSchema

FORMAT_VERSION = 1


class Feature:
    """Base of every feature node: the table it describes, its inputs, type and name."""

    kind = "feature"

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
            for child in feature.inputs:
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
    """A parent's feature copied onto each child row through a relationship."""

    kind = "direct"

    def __init__(self, base: Feature, relationship: Relationship):
        super().__init__(relationship.child, (base,), base.schema, f"{relationship.parent}.{base.name}")
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
    """A primitive applied to the rows of a child table reached through ``path``."""

    kind = "aggregation"
    _primitive: AggregationPrimitive

    def __init__(self, inputs: tuple[Feature, ...], primitive: AggregationPrimitive,
                 path: tuple[Relationship, ...]):
        name = primitive.generate_name([f.name for f in inputs], path[-1].child)
        super().__init__(path[0].parent, inputs, primitive, name)
        self.path = path

    @property
    def primitive(self) -> AggregationPrimitive:
        return self._primitive

    @property
    def child(self) -> str:
        return self.path[-1].child


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


# --------------------------------------------------------------------------- JSON
def _primitive_to_dict(primitive: Primitive) -> dict[str, Any]:
    cls = type(primitive)
    return {"name": primitive.name, "class": f"{cls.__module__}:{cls.__qualname__}",
            "params": primitive.params}


def _primitive_from_dict(data: dict[str, Any]) -> Primitive:
    module_name, _, qualname = data["class"].partition(":")
    try:
        target: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError):
        return type(get_primitive(data["name"]))(**data["params"])
    return target(**data["params"])


def features_to_dict(features: Iterable[Feature]) -> dict[str, Any]:
    """Serialize definitions (and everything they depend on) to plain JSON-able data."""
    features = list(features)
    nodes: dict[str, dict[str, Any]] = {}

    def add(feature: Feature) -> str:
        key = feature.unique_name
        if key in nodes:
            return key
        node: dict[str, Any] = {"kind": feature.kind, "table": feature.table,
                                "inputs": [add(f) for f in feature.inputs]}
        if isinstance(feature, IdentityFeature):
            node.update(column=feature.column, schema=feature.schema.to_dict())
        elif isinstance(feature, DirectFeature):
            node["relationship"] = feature.relationship.to_dict()
        elif isinstance(feature, AggregationFeature):
            node.update(primitive=_primitive_to_dict(feature.primitive),
                        path=[r.to_dict() for r in feature.path])
        elif isinstance(feature, TransformFeature):
            node["primitive"] = _primitive_to_dict(feature.primitive)
        elif isinstance(feature, FeatureOutput):
            node["position"] = feature.position
        nodes[key] = node
        return key

    roots = [add(f) for f in features]
    return {"featurekit_version": __version__, "format_version": FORMAT_VERSION,
            "features": roots, "nodes": nodes}


def features_from_dict(data: dict[str, Any]) -> list[Feature]:
    """Rebuild definitions written by :func:`features_to_dict`."""
    if data.get("format_version") != FORMAT_VERSION:
        raise FeaturekitError(f"feature file format {data.get('format_version')!r} is not supported. "
                              f"Fix: re-save the features with featurekit {__version__}")
    nodes = data["nodes"]
    built: dict[str, Feature] = {}

    def build(key: str) -> Feature:
        if key in built:
            return built[key]
        node = nodes[key]
        inputs = tuple(build(k) for k in node["inputs"])
        kind = node["kind"]
        if kind == "identity":
            feature: Feature = IdentityFeature(node["table"], node["column"],
                                               ColumnSchema.from_dict(node["schema"]))
        elif kind == "direct":
            feature = DirectFeature(inputs[0], Relationship(**node["relationship"]))
        elif kind == "aggregation":
            feature = AggregationFeature(inputs, _primitive_from_dict(node["primitive"]),
                                         tuple(Relationship(**r) for r in node["path"]))
        elif kind == "transform":
            feature = TransformFeature(inputs, _primitive_from_dict(node["primitive"]))
        elif kind == "output":
            feature = FeatureOutput(inputs[0], node["position"])
        else:
            raise FeaturekitError(f"unknown feature kind {kind!r} in saved features")
        built[key] = feature
        return feature

    return [build(k) for k in data["features"]]


def save_features(features: Iterable[Feature], path: str | os.PathLike) -> None:
    """Write definitions to a JSON file atomically (a crash never leaves half a file)."""
    text = json.dumps(features_to_dict(features), indent=1, default=str)
    with atomic_path(path) as temporary:
        temporary.write_text(text)


def load_features(path: str | os.PathLike) -> list[Feature]:
    """Read definitions written by :func:`save_features`."""
    return features_from_dict(json.loads(Path(path).read_text()))
