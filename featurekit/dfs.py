"""The planner: walk the entity graph from the target and stack primitives into feature
definitions, following Featuretools 1.31's deep feature synthesis rules so that the same
entity set yields the same columns under the same names. No data is touched here."""

from __future__ import annotations

import fnmatch
import numbers
from collections.abc import Iterable, Sequence
from typing import Any

from featurekit.arguments import (
    check_count,
    check_items,
    check_names,
    check_names_by_table,
    check_text,
)
from featurekit.entityset import EntitySet, Relationship
from featurekit.errors import PlanError, schema_error
from featurekit.feature import (
    AggregationFeature,
    DirectFeature,
    Feature,
    FeatureOutput,
    IdentityFeature,
    TransformFeature,
)
from featurekit.primitives import (
    DEFAULT_AGGREGATIONS,
    DEFAULT_TRANSFORMS,
    AggregationPrimitive,
    Primitive,
    TransformPrimitive,
    get_primitive,
)
from featurekit.types import ColumnSchema

# Output types kept by default: numeric, categorical (category tag) and boolean features.
DEFAULT_RETURN_TYPES = (
    ColumnSchema(tags=frozenset({"numeric"})),
    ColumnSchema(tags=frozenset({"category"})),
    ColumnSchema("boolean"),
)
NUMERIC_FOREIGN_KEY = ColumnSchema(tags=frozenset({"foreign_key", "numeric"}))

PrimitiveSpec = str | Primitive | type[Primitive]


def plan(
    entityset: EntitySet,
    target: str,
    max_depth: int = 2,
    agg_primitives: Sequence[PrimitiveSpec] | None = None,
    trans_primitives: Sequence[PrimitiveSpec] | None = None,
    ignore_tables: Iterable[str] = (),
    ignore_columns: dict[str, Sequence[str]] | None = None,
    include: Sequence[str] | None = None,
    exclude: Sequence[str] = (),
    max_features: int | None = None,
    return_types: str | Sequence[ColumnSchema] | None = None,
) -> list[Feature]:
    """Return feature definitions for ``target`` without computing anything.

    ``include``/``exclude`` are glob patterns on feature names (``"*STD*"``); ``max_features``
    keeps the first n (shallowest first). ``return_types="all"`` keeps datetime and other
    non-model types too.

    Examples
    --------
    >>> import featurekit as fk
    >>> es = fk.demo.load_retail(n_customers=5)
    >>> names = [f.name for f in fk.plan(es, target="customers", max_depth=1)]
    >>> names[:3]
    ['zip_code', 'COUNT(sessions)', 'MODE(sessions.device)']
    """
    check_text("target", target)
    agg_primitives = check_items("agg_primitives", agg_primitives)
    trans_primitives = check_items("trans_primitives", trans_primitives)
    ignore_tables = check_names("ignore_tables", ignore_tables, optional=False)
    ignore_columns = check_names_by_table("ignore_columns", ignore_columns)
    include = check_names("include", include)
    exclude = check_names("exclude", exclude, optional=False)
    check_count("max_features", max_features, low=-1)  # -1: no limit, as in Featuretools
    return_types = _checked_return_types(return_types)
    if target not in entityset.tables:
        raise PlanError(f"target {target!r} is not a table of the entity set. "
                        f"Fix: use one of {sorted(entityset.tables)}")
    if max_depth is not None and (isinstance(max_depth, bool) or not isinstance(max_depth, numbers.Integral)
                                  or max_depth < 0):
        raise PlanError(f"max_depth must be a whole number, 0 or more, got {max_depth!r}. "
                        "Fix: pass e.g. max_depth=2")
    planner = _Planner(
        entityset,
        [get_primitive(p, "aggregation") for p in (agg_primitives if agg_primitives is not None
                                                   else DEFAULT_AGGREGATIONS)],
        [get_primitive(p, "transform") for p in (trans_primitives if trans_primitives is not None
                                                 else DEFAULT_TRANSFORMS)],
        set(ignore_tables),
        _check_ignore_columns(entityset, ignore_columns or {}),
    )
    for table in planner.ignore_tables:
        if table not in entityset.tables:
            raise PlanError(f"ignore_tables names unknown table {table!r}. "
                            f"Fix: use names from {sorted(entityset.tables)}")
    planner.run(entityset[target].name, max_depth)
    features = list(planner.features[target].values())
    index = entityset[target].index
    features = [f for f in features if not (isinstance(f, IdentityFeature) and f.column == index)]
    if not isinstance(return_types, str):  # "all" keeps every type
        allowed = tuple(return_types or DEFAULT_RETURN_TYPES)
        features = [f for f in features if any(f.schema.matches(t) for t in allowed)]
    features.sort(key=lambda f: f.depth)
    if include is not None:
        kept = [f for f in features if any(fnmatch.fnmatchcase(f.name, p) for p in include)]
        if not kept:
            examples = [f.name for f in features[:5]]
            raise PlanError(f"include={list(include)} matches none of the {len(features)} features "
                            f"planned for {target!r} (e.g. {examples}). Fix: patterns match whole "
                            "feature names, with * and ? as wildcards (e.g. '*amount*')")
        features = kept
    features = [f for f in features if not any(fnmatch.fnmatchcase(f.name, p) for p in exclude)]
    if max_features is not None and max_features >= 0:
        features = features[:max_features]
    return features


def _checked_return_types(return_types: Any) -> str | list[ColumnSchema] | None:
    """None (numeric, categorical and boolean), "all", or a list of column schemas."""
    if return_types is None or (isinstance(return_types, str) and return_types == "all"):
        return return_types
    given = check_items("return_types", return_types)
    wrong = [t for t in given if not isinstance(t, ColumnSchema)]
    if wrong:
        raise PlanError(f"return_types takes 'all' or column schemas, got {wrong[:3]!r}. Fix: pass "
                        "return_types='all', or leave it out for numeric, categorical and boolean")
    return given


def _check_ignore_columns(entityset: EntitySet, ignore: dict[str, Sequence[str]]) -> dict[str, set[str]]:
    checked: dict[str, set[str]] = {}
    for table, columns in ignore.items():
        if table not in entityset.tables:
            raise PlanError(f"ignore_columns names unknown table {table!r}. "
                            f"Fix: use names from {sorted(entityset.tables)}")
        for column in columns:
            if column not in entityset[table].columns:
                raise schema_error(table, column, "ignore_columns names an absent column",
                                   f"use one of {entityset[table].columns}")
        checked[table] = set(columns)
    return checked


class _Planner:
    """Deep feature synthesis state: features found so far, per table, in insertion order."""

    def __init__(self, entityset: EntitySet, agg_primitives: list[AggregationPrimitive],
                 trans_primitives: list[TransformPrimitive], ignore_tables: set[str],
                 ignore_columns: dict[str, set[str]]):
        self.es = entityset
        self.agg_primitives = sorted(agg_primitives, key=lambda p: p.name)
        # Featuretools orders transforms of one name by their arguments; aggregations of one
        # name keep the order given (the tsfresh settings' order, for its calculators)
        self.trans_primitives = sorted(trans_primitives, key=lambda p: p.name + p.args_string())
        self.ignore_tables = ignore_tables
        self.ignore_columns = ignore_columns
        self.features: dict[str, dict[str, Feature]] = {}

    # ---------------------------------------------------------------- walk
    def run(self, table: str, max_depth: int | None) -> None:
        if max_depth is not None and max_depth < 0:
            return
        self.features[table] = {}
        self._add_identity_features(table)
        child_depth = None if max_depth is None else max_depth - 1
        for relationship in self.es.child_relationships(table):
            if relationship.child not in self.features and relationship.child not in self.ignore_tables:
                self.run(relationship.child, child_depth)
        for child, path in self._deep_children(table):
            if child not in self.ignore_tables:
                self._add_aggregations(table, child, path, max_depth)
        self._add_transforms(table, max_depth, require_direct_input=False)
        for relationship in self.es.parent_relationships(table):
            if relationship.parent not in self.features and relationship.parent not in self.ignore_tables:
                self.run(relationship.parent, child_depth)
        for relationship in self.es.parent_relationships(table):
            if relationship.parent not in self.ignore_tables:
                self._add_direct_features(relationship, max_depth)
        self._add_transforms(table, max_depth, require_direct_input=True)

    def _deep_children(self, table: str, prefix: tuple[Relationship, ...] = ()):
        for relationship in self.es.child_relationships(table):
            path = (*prefix, relationship)
            yield relationship.child, path
            yield from self._deep_children(relationship.child, path)

    def _add(self, feature: Feature) -> None:
        found = self.features[feature.table]
        if not isinstance(feature, IdentityFeature):
            for name in dict.fromkeys([feature.name, *feature.output_names]):
                column = found.get(f"{feature.table}: {name}")
                if isinstance(column, IdentityFeature):
                    raise _name_clash(column, feature)
        found.setdefault(feature.unique_name, feature)

    # ---------------------------------------------------------- feature kinds
    def _add_identity_features(self, table: str) -> None:
        schemas = self.es[table].schemas
        for column in self.es[table].columns:
            if column not in self.ignore_columns.get(table, ()):
                self._add(IdentityFeature(table, column, schemas[column]))

    def _add_aggregations(self, parent: str, child: str, path: tuple[Relationship, ...],
                          max_depth: int | None) -> None:
        input_depth = None if max_depth is None else max_depth - 1

        def allowed(feature: Feature) -> bool:
            direct_of_parent = isinstance(feature, DirectFeature) and feature.relationship.parent == parent
            return not direct_of_parent and not self._is_path_key(path, feature)

        path_name = self.es.path_name(path)
        for primitive in self.agg_primitives:
            for inputs in self._matching_inputs(child, input_depth, primitive, allowed):
                if _can_stack(primitive, inputs):
                    self._add(AggregationFeature(inputs, primitive, path, path_name))

    def _add_transforms(self, table: str, max_depth: int | None, require_direct_input: bool) -> None:
        input_depth = None if max_depth is None else max_depth - 1
        new_features = []
        for primitive in self.trans_primitives:
            matches = self._matching_inputs(table, input_depth, primitive, _not_a_transform,
                                            require_direct_input)
            for inputs in matches:
                if _can_stack(primitive, inputs):
                    new_features.append(TransformFeature(inputs, primitive))
        for feature in new_features:
            self._add(feature)

    def _add_direct_features(self, relationship: Relationship, max_depth: int | None) -> None:
        path_name = self.es.parent_name(relationship)
        for feature in self._features_by_type(relationship.parent, max_depth, None):
            if not self._is_path_key((relationship,), feature):
                self._add(DirectFeature(feature, relationship, path_name))

    def _is_path_key(self, path: Iterable[Relationship], feature: Feature) -> bool:
        """True for an identity feature that is a key of one of the path's relationships,
        those with a twin aside (Featuretools' rule: ``MODE(flights[origin_id].origin_id)``
        is a feature; see README, "Schemas with several paths")."""
        if not isinstance(feature, IdentityFeature):
            return False
        return any(
            ((feature.table == r.child and feature.column == r.child_key)
             or (feature.table == r.parent and feature.column == r.parent_key))
            and not self.es.has_twin(r)
            for r in path
        )

    # ---------------------------------------------------------------- matching
    def _features_by_type(self, table: str, max_depth: int | None,
                          schemas: Sequence[ColumnSchema] | None) -> list[Feature]:
        if (max_depth is not None and max_depth < 0) or table not in self.features:
            return []
        found: list[Feature] = []
        for feature in self.features[table].values():
            outputs = ([feature[i] for i in range(feature.number_output_features)]
                       if feature.number_output_features > 1 else [feature])
            found.extend(outputs)
        if max_depth is not None:
            found = [f for f in found if f.depth <= max_depth]
        if schemas is not None:
            found = [f for f in found if any(f.schema.matches(s) for s in schemas)]
        return found

    def _matching_inputs(self, table: str, max_depth: int | None, primitive: Primitive,
                         keep: Any, require_direct_input: bool = False) -> list[tuple[Feature, ...]]:
        matches: list[tuple[Feature, ...]] = []
        for signature in primitive.input_types:
            candidates = [f for f in self._features_by_type(table, max_depth, signature) if keep(f)]
            if candidates:
                matches.extend(_match(signature, candidates, primitive.commutative, require_direct_input))
        if require_direct_input:
            matches = [m for m in matches if not _all_direct_through_same_relationship(m)]
        matches = [m for m in matches if not any(f.schema.matches(NUMERIC_FOREIGN_KEY) for f in m)]
        unique = {tuple(f.unique_name for f in m): m for m in matches}
        return [unique[key] for key in sorted(unique)]


def _match(signature: Sequence[ColumnSchema], features: list[Feature], commutative: bool,
           require_direct_input: bool) -> list[tuple[Feature, ...]]:
    first = [f for f in features if f.schema.matches(signature[0])]
    if len(signature) == 1:
        return [(f,) for f in first if not require_direct_input or isinstance(f, DirectFeature)]
    combos: dict[Any, tuple[Feature, ...]] = {}
    for feature in first:
        rest = [f for f in features if f.unique_name != feature.unique_name]
        still_required = require_direct_input and not isinstance(feature, DirectFeature)
        for tail in _match(signature[1:], rest, commutative, still_required):
            combo = (feature, *tail)
            if commutative:
                combo = tuple(sorted(combo, key=lambda f: f.name.lower()))
                combos[frozenset(f.unique_name for f in combo)] = combo
            else:
                combos[tuple(f.unique_name for f in combo)] = combo
    return list(combos.values())


def _name_clash(column: IdentityFeature, feature: Feature) -> PlanError:
    """A raw column carries the name of a feature the planner makes on the same table: the
    matrix (and every feature stacked on it) could not tell them apart."""
    made = {"aggregation": "an aggregation", "transform": "a transform",
            "direct": "a direct feature from a parent table"}.get(feature.kind, "a feature")
    return PlanError(
        f"table {column.table!r}, column {column.column!r}: the column has the name of "
        f"{made} that planning makes on {column.table!r} ({feature.name!r}, from "
        f"{', '.join(repr(f.name) for f in feature.inputs)}), so the column and that feature "
        f"would share one name. Fix: rename the column, or leave it out of planning with "
        f"ignore_columns={{{column.table!r}: [{column.column!r}]}}"
    )


def _not_a_transform(feature: Feature) -> bool:
    return not isinstance(feature.root_primitive(), TransformPrimitive)


def _all_direct_through_same_relationship(inputs: tuple[Feature, ...]) -> bool:
    first = inputs[0]
    return all(isinstance(f, DirectFeature) and isinstance(first, DirectFeature)
               and f.relationship == first.relationship for f in inputs)


def _from_multi_output(feature: Feature) -> bool:
    """True for a multi-output feature, one of its outputs, or a direct copy of either."""
    while isinstance(feature, DirectFeature):
        feature = feature.base
    return isinstance(feature, FeatureOutput) or feature.number_output_features > 1


def _can_stack(primitive: Primitive, inputs: tuple[Feature, ...]) -> bool:
    for feature in inputs:
        below = feature.root_primitive()
        if _from_multi_output(feature):
            return False
        if below is None:
            continue
        if not primitive.stack_on_self and type(below) is type(primitive):
            return False
        if below.name in primitive.stack_on_exclude:
            return False
    return True
