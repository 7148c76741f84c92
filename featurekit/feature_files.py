"""Saved feature definitions: written as JSON atomically, read back without trusting the file.

A features file is data people share, so reading one never imports or runs anything it
names. A primitive is taken from the registry (built-in and time-series primitives, and
custom primitives registered in this process), matched by its name and by its class's
``module:qualname``, or from a module the caller names in ``allow=``. Anything else in the
file that does not fit the format raises a FeatureFileError naming the file, the problem and
the fix; no KeyError, TypeError or JSON decoding error reaches the caller.
"""

from __future__ import annotations

import importlib
import itertools
import json
import numbers
import os
import sys
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from featurekit._atomic import atomic_path
from featurekit._version import __version__
from featurekit.arguments import check_items
from featurekit.entityset import Relationship
from featurekit.errors import FeatureFileError, FeaturekitError, PortabilityWarning
from featurekit.feature import (
    AggregationFeature,
    DirectFeature,
    Feature,
    FeatureOutput,
    IdentityFeature,
    TransformFeature,
    inputs_fit,
)
from featurekit.primitives import (
    AggregationPrimitive,
    Primitive,
    TransformPrimitive,
    class_identity,
    registered_class,
    registered_identity,
)
from featurekit.types import LOGICAL_TYPES, ColumnSchema

FORMAT_VERSION = 1
MAX_DEPTH = 100  # far beyond any planned feature; deeper files are refused before anything recurses

_TOP_LEVEL = ("format_version", "features", "nodes")
_RELATIONSHIP_KEYS = ("parent", "parent_key", "child", "child_key")
_FIELDS = {  # a node's keys besides "kind", "table" and "inputs"
    "identity": ("column", "schema"),
    "direct": ("relationship",),
    "aggregation": ("primitive", "path"),
    "transform": ("primitive",),
    "output": ("position",),
}
# Optional keys: how a direct or aggregation feature's name calls its path, written only where
# it differs from the table name (two relationships between the same tables, a diamond).
_OPTIONAL = {"direct": ("path_name",), "aggregation": ("path_name", "where")}  # where: the
# node of an aggregation's where clause (``COUNT(sessions WHERE device = mobile)``)
_INPUT_COUNTS = {"identity": (0, 0), "direct": (1, 1), "output": (1, 1), "transform": (1, None),
                 "aggregation": (0, None)}
_RESAVE = "save the features again with fk.save_features (the file is damaged or was edited)"
_NEVER = "featurekit never imports or runs what a features file names"


# --------------------------------------------------------------------------- writing
def features_to_dict(features: Iterable[Feature]) -> dict[str, Any]:
    """Serialize definitions (and everything they depend on) to plain JSON-able data.

    Warns (PortabilityWarning) for a primitive that another program cannot find by its
    module and name: one defined in ``__main__`` or inside a function.
    """
    return _to_dict(features, stacklevel=3)


def _to_dict(features: Iterable[Feature], stacklevel: int) -> dict[str, Any]:
    features = check_items("features", features, optional=False)
    strangers = [f for f in features if not isinstance(f, Feature)]
    if strangers:
        raise FeatureFileError(f"features holds {len(strangers)} item(s) that are not features (e.g. "
                               f"{strangers[0]!r}). Fix: save what fk.plan or fk.dfs returned")
    nodes: dict[str, dict[str, Any]] = {}
    classes: dict[str, type] = {}

    def add(feature: Feature) -> str:
        key = feature.unique_name
        if key in nodes:
            return key
        node: dict[str, Any] = {"kind": feature.kind, "table": feature.table,
                                "inputs": [add(f) for f in feature.inputs]}
        if feature.where is not None:
            node["where"] = add(feature.where)
        if isinstance(feature, IdentityFeature):
            node.update(column=feature.column, schema=feature.schema.to_dict())
        elif isinstance(feature, DirectFeature):
            node["relationship"] = feature.relationship.to_dict()
            if feature.path_name != feature.relationship.parent:
                node["path_name"] = feature.path_name
        elif isinstance(feature, AggregationFeature):
            node.update(primitive=_primitive_to_dict(feature.primitive),
                        path=[r.to_dict() for r in feature.path])
            if feature.path_name != feature.path[-1].child:
                node["path_name"] = feature.path_name
        elif isinstance(feature, TransformFeature):
            node["primitive"] = _primitive_to_dict(feature.primitive)
        elif isinstance(feature, FeatureOutput):
            node["position"] = feature.position
        if feature.primitive is not None:
            classes.setdefault(class_identity(type(feature.primitive)), type(feature.primitive))
        nodes[key] = node
        return key

    roots = [add(f) for f in features]
    for cls in classes.values():
        problem = _unportable(cls)
        if problem is not None:
            warnings.warn(
                f"primitive {cls.name!r} is saved as {class_identity(cls)!r}, which no other "
                f"program can load: {problem}. Fix: define it in a module on the import path "
                "(say my_primitives.py), import it from there, and save the features again; a "
                "program loading the file imports that module first (or passes "
                "allow=['my_primitives'] to fk.load_features)",
                PortabilityWarning, stacklevel=stacklevel)
    return {"featurekit_version": __version__, "format_version": FORMAT_VERSION,
            "features": roots, "nodes": nodes}


def _primitive_to_dict(primitive: Primitive) -> dict[str, Any]:
    return {"name": primitive.name, "class": class_identity(type(primitive)),
            "params": dict(primitive.params)}


def _unportable(cls: type) -> str | None:
    """Why a program other than this one could not find ``cls`` by module and name, or None."""
    if cls.__module__ == "__main__":
        return "it is defined in __main__ (the script or notebook being run)"
    if "<locals>" in cls.__qualname__:
        return "it is defined inside a function"
    module = sys.modules.get(cls.__module__)
    if module is None or _static_lookup(module, cls.__qualname__) is not cls:
        return f"module {cls.__module__!r} does not hold it under the name {cls.__qualname__!r}"
    return None


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise FeatureFileError(
        f"a primitive parameter holds {value!r} (a {type(value).__name__}), which a features "
        "file cannot hold. Fix: give primitive parameters as numbers, strings, booleans, None "
        "or lists of them")


def save_features(features: Iterable[Feature], path: str | os.PathLike) -> None:
    """Write definitions to a JSON file atomically (a crash never leaves half a file), with
    the permissions any new file of the user gets."""
    if not isinstance(path, (str, os.PathLike)):
        raise FeatureFileError(f"save_features takes the path to write, got a {type(path).__name__}. "
                               "Fix: pass a path such as 'features.json'")
    text = json.dumps(_to_dict(features, stacklevel=3), indent=1, default=_json_default)
    try:
        with atomic_path(path) as temporary:
            temporary.write_text(text, encoding="utf-8")
    except OSError as problem:
        raise FeatureFileError(f"features file {os.fspath(path)!r} cannot be written "
                               f"({problem.strerror or problem}). Fix: pass a path in an existing, "
                               "writable folder") from None


# --------------------------------------------------------------------------- reading
def load_features(path: str | os.PathLike, allow: Iterable[str] | str | None = None) -> list[Feature]:
    """Read definitions written by :func:`save_features`.

    Nothing the file names is imported or run: each primitive must be registered in this
    process (built-in ones; custom ones once the module defining them is imported), with the
    same class the file records, or live in a module listed in ``allow`` (a module name or
    a package prefix, e.g. ``allow=["my_package"]``), which is then imported and must hold a
    primitive class. Anything else raises a FeatureFileError naming the file and the fix.
    """
    allowed = _allowed_modules(allow)
    if not isinstance(path, (str, os.PathLike)):
        raise FeatureFileError(f"load_features takes the path of a features file, got a "
                               f"{type(path).__name__}. Fix: pass the path fk.save_features wrote")
    source = f"features file {os.fspath(path)!r}"
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FeatureFileError(f"{source} does not exist. Fix: check the path (files are written "
                               "by fk.save_features)") from None
    except UnicodeDecodeError:
        raise FeatureFileError(f"{source} is not UTF-8 text, so not a features file (JSON). "
                               "Fix: pass a file written by fk.save_features") from None
    except OSError as problem:
        raise FeatureFileError(f"{source} cannot be read ({problem.strerror or problem}). "
                               "Fix: pass the path of a readable file written by fk.save_features"
                               ) from None
    if not text.strip():
        raise FeatureFileError(f"{source} is empty. Fix: {_RESAVE}")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as problem:
        if problem.pos >= len(text.rstrip()) or problem.msg.startswith("Unterminated string"):
            what = "ends before its JSON is complete (the file looks cut off)"
        else:
            what = f"is not valid JSON ({problem.msg}: line {problem.lineno}, column {problem.colno})"
        raise FeatureFileError(f"{source} {what}. Fix: {_RESAVE}") from None
    except RecursionError:
        raise FeatureFileError(f"{source} nests its JSON too deeply to be a features file. "
                               f"Fix: {_RESAVE}") from None
    except ValueError as problem:  # a number of more digits than Python reads
        raise FeatureFileError(f"{source} cannot be read as JSON ({problem}). Fix: {_RESAVE}") from None
    return _Reader(data, allowed, source).features()


def features_from_dict(data: dict[str, Any], allow: Iterable[str] | str | None = None) -> list[Feature]:
    """Rebuild definitions written by :func:`features_to_dict`, under the rules of
    :func:`load_features` (``allow`` included)."""
    return _Reader(data, _allowed_modules(allow), "saved features").features()


def _allowed_modules(allow: Iterable[str] | str | None) -> tuple[str, ...]:
    if allow is None:
        return ()
    entries = [allow] if isinstance(allow, str) else allow
    try:
        entries = list(entries)
    except TypeError:
        raise FeatureFileError(f"allow= takes module names, got {allow!r}. "
                               "Fix: pass a list such as allow=['my_package']") from None
    for entry in entries:
        if not (isinstance(entry, str) and _dotted(entry)):
            raise FeatureFileError(f"allow= holds {entry!r}, which is not a module name. "
                                   "Fix: pass module or package names such as allow=['my_package']")
    return tuple(entries)


class _Reader:
    """Rebuilds the definitions of one file, checking every field before it is used."""

    def __init__(self, data: Any, allow: tuple[str, ...], source: str):
        self.data = data
        self.allow = allow
        self.source = source
        self.nodes: dict[str, Any] = {}
        self.built: dict[str, Feature] = {}

    def error(self, problem: str, fix: str = _RESAVE) -> FeatureFileError:
        return FeatureFileError(f"{self.source}: {problem}. Fix: {fix}")

    def features(self) -> list[Feature]:
        roots = self._top_level()
        return [self._build(key) for key in roots]

    # ------------------------------------------------------------ structure
    def _top_level(self) -> list[str]:
        data = self.data
        if not isinstance(data, dict):
            raise self.error(f"holds a JSON {_json_kind(data)}, not the object fk.save_features "
                             "writes", "pass a file written by fk.save_features")
        if "format_version" not in data:
            raise self.error("has no 'format_version', so it was not written by fk.save_features",
                             "pass a file written by fk.save_features")
        version = data["format_version"]
        if type(version) is not int or version != FORMAT_VERSION:
            raise self.error(f"has format_version {version!r}; this featurekit reads format "
                             f"{FORMAT_VERSION}", f"save the features again with featurekit {__version__}")
        self._keys("the file", data, _TOP_LEVEL, optional=("featurekit_version",))
        roots, nodes = data["features"], data["nodes"]
        if not (isinstance(roots, list) and all(isinstance(k, str) for k in roots)):
            raise self.error(f"'features' is {_short(roots)}; it must be a list of node names")
        if not isinstance(nodes, dict):
            raise self.error(f"'nodes' is {_short(nodes)}; it must be an object of nodes by name")
        self.nodes = nodes
        return roots

    def _keys(self, where: str, value: dict, required: Iterable[str],
              optional: Iterable[str] = ()) -> None:
        missing = [k for k in required if k not in value]
        extra = sorted(set(value) - set(required) - set(optional))
        if missing or extra:
            problems = ([f"lacks {missing}"] if missing else []) + ([f"has unknown {extra}"] if extra else [])
            raise self.error(f"{where} {' and '.join(problems)} (expected keys "
                             f"{sorted([*required, *optional])})")

    def _build(self, root: str) -> Feature:
        """The feature of node ``root``, its inputs first, without recursion (a file may hold
        a chain of any length) and refusing cycles."""
        stack: list[tuple[str, str | None, bool]] = [(root, None, False)]
        open_nodes: set[str] = set()
        while stack:
            key, referrer, inputs_built = stack.pop()
            if inputs_built:
                open_nodes.discard(key)
                self.built[key] = self._make(key, self.nodes[key])
                continue
            if key in self.built:
                continue
            if key in open_nodes:
                raise self.error(f"node {key!r} is an input of itself (reached again from node "
                                 f"{referrer!r}): the node references form a cycle")
            node = self._node(key, referrer)
            open_nodes.add(key)
            stack.append((key, referrer, True))
            sources = [*node["inputs"], *([node["where"]] if "where" in node else [])]
            stack.extend((k, key, False) for k in reversed(sources) if k not in self.built)
        return self.built[root]

    def _node(self, key: str, referrer: str | None) -> dict[str, Any]:
        """The node ``key`` after checking its kind, keys, table and inputs."""
        if key not in self.nodes:
            where = "'features' lists" if referrer is None else f"node {referrer!r} has input"
            raise self.error(f"{where} {key!r}, which is not among the file's nodes")
        node = self.nodes[key]
        if not isinstance(node, dict):
            raise self.error(f"node {key!r} is {_short(node)}, not an object")
        kind = node.get("kind")
        if not isinstance(kind, str) or kind not in _FIELDS:
            raise self.error(f"node {key!r} has kind {_short(kind)}; the kinds are {sorted(_FIELDS)}")
        self._keys(f"node {key!r}", node, ("kind", "table", "inputs", *_FIELDS[kind]),
                   _OPTIONAL.get(kind, ()))
        self._text(key, "table", node["table"])
        inputs = node["inputs"]
        if not (isinstance(inputs, list) and all(isinstance(k, str) for k in inputs)):
            raise self.error(f"node {key!r} has 'inputs' {_short(inputs)}; it must be a list of "
                             "node names")
        if "where" in node and not (isinstance(node["where"], str) and node["where"]):
            raise self.error(f"node {key!r} has 'where' {_short(node['where'])}; it must be the "
                             "name of a node")
        low, high = _INPUT_COUNTS[kind]
        if len(inputs) < low or (high is not None and len(inputs) > high):
            wanted = f"{low}" if low == high else f"at least {low}"
            raise self.error(f"node {key!r} of kind {kind!r} has {len(inputs)} inputs; it takes {wanted}")
        return node

    def _make(self, key: str, node: dict[str, Any]) -> Feature:
        try:
            feature = self._make_checked(key, node)
        except FeatureFileError:
            raise
        except FeaturekitError as problem:  # a primitive refusing a parameter: its own words
            raise FeatureFileError(f"{self.source}, node {key!r}: {problem}") from None
        except Exception as problem:  # a primitive's constructor failing on a parameter value
            raise self.error(f"node {key!r} cannot be rebuilt ({type(problem).__name__}: "
                             f"{problem})") from None
        if feature.depth > MAX_DEPTH:
            raise self.error(f"node {key!r} stacks {feature.depth} features deep; featurekit "
                             f"reads at most {MAX_DEPTH}")
        if feature.table != node["table"]:
            raise self.error(f"node {key!r} says table {node['table']!r}, but its definition "
                             f"describes table {feature.table!r}")
        return feature

    def _make_checked(self, key: str, node: dict[str, Any]) -> Feature:
        inputs = tuple(self.built[k] for k in node["inputs"])
        kind = node["kind"]
        if kind == "identity":
            return IdentityFeature(node["table"], self._text(key, "column", node["column"]),
                                   self._schema(key, node["schema"]))
        if kind == "direct":
            relationship = self._relationship(key, "relationship", node["relationship"])
            if inputs[0].table != relationship.parent:
                raise self.error(f"node {key!r} copies a feature of table {inputs[0].table!r} "
                                 f"through a relationship whose parent is {relationship.parent!r}")
            return DirectFeature(inputs[0], relationship, self._path_name(key, node))
        if kind == "output":
            return self._output(key, inputs[0], node["position"])
        if kind == "aggregation":
            path = self._path(key, node["path"])
            primitive = self._primitive(key, node["primitive"], AggregationPrimitive)
            elsewhere = [f.name for f in inputs if f.table != path[-1].child]
            if elsewhere:
                raise self.error(f"node {key!r} aggregates {elsewhere}, which are not features of "
                                 f"{path[-1].child!r}, the table its path ends at")
            self._fits(key, primitive, inputs)
            where = self.built[node["where"]] if "where" in node else None
            return AggregationFeature(inputs, primitive, path, self._path_name(key, node), where)
        primitive = self._primitive(key, node["primitive"], TransformPrimitive)
        tables = sorted({f.table for f in inputs})
        if len(tables) > 1:
            raise self.error(f"node {key!r} transforms features of several tables {tables}")
        self._fits(key, primitive, inputs)
        return TransformFeature(inputs, primitive)

    # ------------------------------------------------------------ fields
    def _text(self, key: str, field: str, value: Any) -> str:
        if not (isinstance(value, str) and value):
            raise self.error(f"node {key!r} has {field!r} {_short(value)}; it must be a non-empty string")
        return value

    def _schema(self, key: str, value: Any) -> ColumnSchema:
        if not isinstance(value, dict):
            raise self.error(f"node {key!r} has 'schema' {_short(value)}; a schema is an object "
                             "with 'logical_type' and 'tags'")
        self._keys(f"the schema of node {key!r}", value, ("logical_type", "tags"))
        logical_type, tags = value["logical_type"], value["tags"]
        if logical_type is not None and not (isinstance(logical_type, str) and logical_type in LOGICAL_TYPES):
            raise self.error(f"node {key!r} has logical type {_short(logical_type)}; the logical "
                             f"types are {list(LOGICAL_TYPES)}")
        if not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
            raise self.error(f"node {key!r} has schema tags {_short(tags)}; they must be a list of strings")
        return ColumnSchema(logical_type, frozenset(tags))

    def _relationship(self, key: str, field: str, value: Any) -> Relationship:
        if not isinstance(value, dict):
            raise self.error(f"node {key!r} has {field} {_short(value)}; a relationship is an "
                             f"object with {list(_RELATIONSHIP_KEYS)}")
        self._keys(f"a relationship of node {key!r}", value, _RELATIONSHIP_KEYS)
        for name in _RELATIONSHIP_KEYS:
            self._text(key, f"{field}.{name}", value[name])
        return Relationship(**value)

    def _path_name(self, key: str, node: dict[str, Any]) -> str | None:
        """The node's ``path_name``, checked; None (the table name) when the file has none."""
        return self._text(key, "path_name", node["path_name"]) if "path_name" in node else None

    def _path(self, key: str, value: Any) -> tuple[Relationship, ...]:
        if not (isinstance(value, list) and value):
            raise self.error(f"node {key!r} has 'path' {_short(value)}; it must be a non-empty "
                             "list of relationships")
        path = tuple(self._relationship(key, "path", item) for item in value)
        for before, after in itertools.pairwise(path):
            if before.child != after.parent:
                raise self.error(f"node {key!r} has a path that breaks between {before.child!r} "
                                 f"and {after.parent!r}")
        return path

    def _output(self, key: str, base: Feature, position: Any) -> Feature:
        if type(position) is not int:
            raise self.error(f"node {key!r} has 'position' {_short(position)}; it must be an integer")
        outputs = base.number_output_features
        if not 0 <= position < outputs:
            raise self.error(f"node {key!r} takes output {position} of {base.name!r}, which has "
                             f"{outputs} output(s)")
        return FeatureOutput(base, position)

    def _fits(self, key: str, primitive: Primitive, inputs: tuple[Feature, ...]) -> None:
        if not inputs_fit(primitive, [f.schema for f in inputs]):
            described = [f"{f.name} ({_describe(f.schema)})" for f in inputs]
            raise self.error(f"node {key!r} applies {primitive.name!r} to {described}, which do "
                             f"not fit its input types")

    # ------------------------------------------------------------ primitives
    def _primitive(self, key: str, value: Any, base: type[Primitive]) -> Primitive:
        if not isinstance(value, dict):
            raise self.error(f"node {key!r} has 'primitive' {_short(value)}; it must be an object "
                             "with 'name', 'class' and 'params'")
        self._keys(f"the primitive of node {key!r}", value, ("name", "class", "params"))
        name = self._text(key, "primitive.name", value["name"])
        identity = self._text(key, "primitive.class", value["class"])
        module, colon, qualname = identity.partition(":")
        if not (colon and module and qualname):
            raise self.error(f"node {key!r} names primitive {name!r} of class {identity!r}, "
                             "which is not of the form 'module:Class'")
        params = self._params(key, name, value["params"])
        cls = registered_class(name, identity)
        if cls is None and _allowed(module, self.allow):
            cls = self._allowed_class(key, name, identity, module, qualname)
        if cls is None:
            raise self._refusal(key, name, identity, module, qualname)
        if not issubclass(cls, base):
            kind = "an aggregation" if issubclass(cls, AggregationPrimitive) else "a transform"
            raise self.error(f"node {key!r} is a {_node_kind(base)} feature, but its primitive "
                             f"{name!r} is {kind} primitive")
        self._param_kinds(key, cls, params)
        return cls(**params)

    def _params(self, key: str, name: str, params: Any) -> dict[str, Any]:
        """Parameters as JSON scalars or lists of them: nothing that builds an object."""
        if not isinstance(params, dict):
            raise self.error(f"node {key!r}: primitive {name!r} has 'params' {_short(params)}; "
                             "they must be an object of parameter values")
        for param, value in params.items():
            if not (isinstance(param, str) and _plain(value)):
                raise self.error(f"node {key!r}: parameter {param!r} of primitive {name!r} is "
                                 f"{_short(value)}; parameters are numbers, strings, booleans, "
                                 "null or lists of them")
        return dict(params)

    def _param_kinds(self, key: str, cls: type[Primitive], params: dict[str, Any]) -> None:
        defaults = cls.default_params()
        for param, value in params.items():
            default = defaults.get(param)
            if value is None or default is None or param in cls.flexible_params:
                continue  # an unknown name, or a value of another kind, the primitive checks
            if _value_kind(value) != _value_kind(default):
                raise self.error(f"node {key!r}: parameter {param!r} of primitive {cls.name!r} is "
                                 f"{_short(value)}, a {_value_kind(value)}; it takes a "
                                 f"{_value_kind(default)} (default {default!r})")

    def _allowed_class(self, key: str, name: str, identity: str, module: str,
                       qualname: str) -> type[Primitive]:
        """The class ``identity`` from a module the caller allowed, imported by the caller's
        decision; refused unless it is a primitive class of the recorded name."""
        if not _dotted(qualname):
            raise self.error(f"node {key!r} names primitive {name!r} of class {identity!r}, "
                             "which is not of the form 'module:Class'")
        try:
            loaded = importlib.import_module(module)
        except Exception as problem:
            raise self.error(f"node {key!r} names primitive {name!r} of class {identity!r}; "
                             f"the allowed module {module!r} cannot be imported "
                             f"({type(problem).__name__}: {problem})",
                             "install that module or put it on the import path") from problem
        found = _static_lookup(loaded, qualname)
        if not (isinstance(found, type) and issubclass(found, Primitive)):
            what = "nothing" if found is None else f"a {type(found).__name__}"
            raise self.error(f"node {key!r} names primitive {name!r} of class {identity!r}, which is "
                             f"{what}, not a featurekit primitive class: refused",
                             "a features file may only name primitive classes")
        if found.name != name:
            raise self.error(f"node {key!r} names primitive {name!r}, but class {identity!r} is "
                             f"primitive {found.name!r}")
        return found

    def _refusal(self, key: str, name: str, identity: str, module: str,
                 qualname: str) -> FeatureFileError:
        """Why the primitive is not loaded, and what would make it load."""
        where = f"node {key!r} names primitive {name!r} of class {identity!r}"
        allow = f"allow=[{module!r}]"
        if module == "__main__":
            return self.error(
                f"{where}, which was defined in the script or notebook that saved the features "
                "('__main__') and is not registered here",
                "move its definition to a module on the import path (say my_primitives.py), "
                "import that module before fk.load_features (its decorator registers the "
                "primitive), and save the features again so that the file names that module")
        if "<locals>" in qualname:
            return self.error(f"{where}, which was defined inside a function and is not "
                              "registered here", "define it at module level, import that module "
                              "before loading, and save the features again")
        loaded = sys.modules.get(module)
        found = None if loaded is None else _static_lookup(loaded, qualname)
        if isinstance(found, type) and issubclass(found, Primitive) and found.name != name:
            return self.error(f"{where}, but that class is primitive {found.name!r}: refused",
                              "correct the name, or save the features again")
        if isinstance(found, type) and issubclass(found, Primitive):
            return self.error(f"{where}; that class is defined in this process but not registered",
                              "register it before loading (decorate the class with "
                              f"@featurekit.primitives.register) or pass {allow}")
        if found is not None:
            return self.error(f"{where}, which is not a featurekit primitive: refused ({_NEVER})",
                              "load only files whose primitives are registered, or pass allow= "
                              "with the module of a primitive class")
        other = registered_identity(name)
        if other is not None:
            return self.error(
                f"{where}, but the primitive registered as {name!r} is class {other!r}: refused "
                f"({_NEVER})", f"if the file is right, import the module that defines {identity!r} "
                f"before loading, or pass {allow}; otherwise do not load the file")
        return self.error(f"{where}, which is not registered in this process ({_NEVER})",
                          f"import the module that defines it (import {module}) before "
                          f"fk.load_features, or pass {allow} to let fk.load_features import it")


# --------------------------------------------------------------------------- helpers
def _dotted(name: str) -> bool:
    """True for ``package.module`` made of identifiers."""
    return bool(name) and all(part.isidentifier() for part in name.split("."))


def _allowed(module: str, allow: tuple[str, ...]) -> bool:
    return any(module == prefix or module.startswith(prefix + ".") for prefix in allow)


def _static_lookup(owner: Any, qualname: str) -> Any:
    """The object at ``qualname`` inside ``owner``, read from namespaces only (no attribute
    hook runs), or None."""
    target = owner
    for part in qualname.split("."):
        try:
            namespace = vars(target)
        except TypeError:
            return None
        if part not in namespace:
            return None
        target = namespace[part]
    return target


def _plain(value: Any) -> bool:
    """True for JSON scalars and (nested) lists of them; no objects."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, (list, tuple)):
            pending.extend(item)
        elif not (item is None or isinstance(item, (bool, int, float, str))):
            return False
    return True


def _value_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, numbers.Real):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "list"
    return type(value).__name__


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if value is None:
        return "null"
    return {"dict": "object", "str": "string"}.get(type(value).__name__, _value_kind(value))


def _short(value: Any) -> str:
    """A value for a message, cut to 60 characters."""
    text = repr(value)
    return f"{text[:57]}..." if len(text) > 60 else text


def _describe(schema: ColumnSchema) -> str:
    return " ".join([schema.logical_type or "any", *sorted(schema.tags)])


def _node_kind(base: type[Primitive]) -> str:
    return "aggregation" if base is AggregationPrimitive else "transform"
