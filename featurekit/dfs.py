"""The planner: walk the entity graph from the target and stack primitives into feature
definitions, following Featuretools 1.31's deep feature synthesis rules so that the same
entity set yields the same columns under the same names. No data is touched here."""

from __future__ import annotations

import fnmatch
import numbers
from collections import defaultdict
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
from featurekit.primitive_options import (
    PlanOptions,
    feature_dependencies,
    filter_matches,
    plan_options,
    skips_table,
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
DEFAULT_WHERE_PRIMITIVES = ("count",)  # Featuretools' default where_primitives

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
    where_primitives: Sequence[PrimitiveSpec] | None = None,
    where_stacking_limit: int = 1,
    seed_features: Sequence[Feature] | None = None,
    drop_contains: Sequence[str] | None = None,
    drop_exact: Sequence[str] | None = None,
    primitive_options: dict | None = None,
    ignore_dataframes: Iterable[str] | None = None,
) -> list[Feature]:
    """Return feature definitions for ``target`` without computing anything.

    ``include``/``exclude`` are glob patterns on feature names (``"*STD*"``); ``max_features``
    keeps the first n (shallowest first). ``return_types="all"`` keeps datetime and other
    non-model types too.

    Featuretools' planning controls, with its names and meaning:

    - ``where_primitives`` (default ``["count"]``): aggregations also computed over only the
      child rows where a column (or a parent's column) has one of its interesting values
      (``EntitySet.add_interesting_values``): ``COUNT(sessions WHERE device = mobile)``. They
      must be among ``agg_primitives`` too. ``where_stacking_limit`` (1): how many where
      aggregations a feature's inputs may already hold for it to get where clauses.
    - ``seed_features``: features you built, planned from as if found (their depth counts
      as 0 for stacking), e.g. ``fk.AggregationFeature(..., where=device.equals("mobile"))``.
    - ``drop_contains`` / ``drop_exact``: drop features whose name contains one of these
      strings / is one of them (before ``max_features``).
    - ``primitive_options``: ``{primitive or tuple of primitives: {option: value}}`` (or a
      list of such dicts, one per input) with options ``include_dataframes``,
      ``ignore_dataframes`` (lists of tables), ``include_columns`` and ``ignore_columns``
      (``{table: [columns]}``): which tables and columns that primitive may read.
    - ``ignore_dataframes``: Featuretools' name for ``ignore_tables``.

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
    if max_features == 0:  # Featuretools reads 0 as "no limit"; taken literally it keeps nothing
        raise PlanError("max_features=0 is ambiguous: it would keep no feature, and Featuretools "
                        "reads it as no limit. Fix: pass max_features=None (or -1) for no limit, "
                        "or a positive count")
    return_types = _checked_return_types(return_types)
    where_primitives = check_items("where_primitives", where_primitives)
    check_count("where_stacking_limit", where_stacking_limit, optional=False)
    seed_features = _checked_seeds(entityset, seed_features)
    drop_contains = check_names("drop_contains", drop_contains) or []
    drop_exact = set(check_names("drop_exact", drop_exact) or [])
    ignore_tables = [*ignore_tables, *(check_names("ignore_dataframes", ignore_dataframes) or [])]
    entityset.require_checked("fk.plan")
    if target not in entityset.tables:
        raise PlanError(f"target {target!r} is not a table of the entity set. "
                        f"Fix: use one of {sorted(entityset.tables)}")
    if target in ignore_tables:
        raise PlanError(f"the target {target!r} is among the ignored tables. Fix: leave it out "
                        "of ignore_tables / ignore_dataframes")
    if isinstance(max_depth, numbers.Integral) and not isinstance(max_depth, bool) and max_depth == -1:
        max_depth = None  # Featuretools' spelling of no limit
    if max_depth is not None and (isinstance(max_depth, bool) or not isinstance(max_depth, numbers.Integral)
                                  or max_depth < 0):
        raise PlanError(f"max_depth must be a whole number, 0 or more (-1 or None: no limit), got "
                        f"{max_depth!r}. Fix: pass e.g. max_depth=2")
    for table in ignore_tables:
        if table not in entityset.tables:
            raise PlanError(f"ignore_tables names unknown table {table!r}. "
                            f"Fix: use names from {sorted(entityset.tables)}")
    aggregations = [get_primitive(p, "aggregation") for p in (
        agg_primitives if agg_primitives is not None else DEFAULT_AGGREGATIONS)]
    transforms = [get_primitive(p, "transform") for p in (
        trans_primitives if trans_primitives is not None else DEFAULT_TRANSFORMS)]
    wheres = [get_primitive(p, "aggregation") for p in (
        where_primitives if where_primitives is not None else DEFAULT_WHERE_PRIMITIVES)]
    options = plan_options(entityset, [*transforms, *aggregations, *wheres], primitive_options,
                           set(ignore_tables), _check_ignore_columns(entityset, ignore_columns or {}))
    planner = _Planner(entityset, aggregations, transforms, options, wheres,
                       where_stacking_limit, seed_features)
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
    features = [f for f in features if f.name not in drop_exact
                and not any(part in f.name for part in drop_contains)]
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


def _checked_seeds(entityset: EntitySet, seeds: Any) -> list[Feature]:
    """Seed features: feature definitions of tables of the entity set, in name order (as
    Featuretools takes them)."""
    seeds = check_items("seed_features", seeds) or []
    for position, seed in enumerate(seeds):
        if not isinstance(seed, Feature):
            raise PlanError(f"seed_features[{position}] is {seed!r}, not a feature definition. "
                            "Fix: pass features from fk.plan, or built with fk.IdentityFeature, "
                            "fk.AggregationFeature, fk.TransformFeature, ...")
        if seed.table not in entityset.tables:
            raise PlanError(f"seed feature {seed.name!r} describes table {seed.table!r}, which the "
                            f"entity set lacks. Fix: use tables from {sorted(entityset.tables)}")
    return sorted(dict.fromkeys(seeds), key=lambda f: f.unique_name)


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
                 trans_primitives: list[TransformPrimitive], options: PlanOptions,
                 where_primitives: list[AggregationPrimitive] = (), where_stacking_limit: int = 1,
                 seed_features: Sequence[Feature] = ()):
        self.es = entityset
        self.agg_primitives = sorted(agg_primitives, key=lambda p: p.name)
        # Featuretools' order: by name, then by the parameters as the feature names show them
        # (aggregations of one name keep the order given: a tsfresh setting's order)
        self.trans_primitives = sorted(trans_primitives, key=lambda p: p.name + p.args_string())
        self.options = options
        self.ignore_tables = options.ignore_tables
        self.ignore_columns = options.ignore_columns
        self.where_primitives = list(where_primitives)
        self.where_stacking_limit = where_stacking_limit
        self.seeds = list(seed_features)
        self.seed_names = {f.unique_name for f in self.seeds}
        self.depths: dict[str, int] = {}  # unique name -> depth, seeds counting as 0
        self.features: dict[str, dict[str, Feature]] = {}
        # table -> its where clauses (``device = mobile``), from interesting values, in order
        self.where_clauses: dict[str, dict[str, Feature]] = defaultdict(dict)

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
        self._add_where_clauses(table)

    def _add_where_clauses(self, table: str) -> None:
        """``column = value`` for each interesting value of the table's columns and of the
        parents' columns copied onto it (Featuretools' where clauses)."""
        for feature in self.features[table].values():
            base = feature.base if isinstance(feature, DirectFeature) else feature
            if not isinstance(base, IdentityFeature):
                continue
            for value in self.es[base.table].interesting_values.get(base.column, ()):
                clause = feature.equals(value)
                self.where_clauses[table].setdefault(clause.unique_name, clause)

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
        for seed in self.seeds:
            if seed.table == table:
                self.features[table].setdefault(seed.unique_name, seed)

    def _add_aggregations(self, parent: str, child: str, path: tuple[Relationship, ...],
                          max_depth: int | None) -> None:
        input_depth = None if max_depth is None else max_depth - 1

        def allowed(feature: Feature) -> bool:
            direct_of_parent = isinstance(feature, DirectFeature) and feature.relationship.parent == parent
            return not direct_of_parent and not self._is_path_key(path, feature)

        path_name = self.es.path_name(path)
        wheres = list(self.where_clauses[child].values())
        for primitive in self.agg_primitives:
            options = self.options.of(primitive)
            if skips_table(options, child):
                continue
            with_where = any(isinstance(primitive, type(w)) for w in self.where_primitives)
            for inputs in self._matching_inputs(child, input_depth, primitive, allowed):
                if not _can_stack(primitive, inputs):
                    continue
                self._add(AggregationFeature(inputs, primitive, path, path_name))
                if not with_where or _where_count(inputs) >= self.where_stacking_limit:
                    continue
                read = {f.unique_name for f in inputs}
                for where in wheres:
                    if not any(f.unique_name in read for f in where.inputs):
                        self._add(AggregationFeature(inputs, primitive, path, path_name, where))

    def _add_transforms(self, table: str, max_depth: int | None, require_direct_input: bool) -> None:
        input_depth = None if max_depth is None else max_depth - 1
        new_features = []
        for primitive in self.trans_primitives:
            if skips_table(self.options.of(primitive), table):
                continue
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
            found = [f for f in found if self._depth(f) <= max_depth]
        if schemas is not None:
            found = [f for f in found if any(f.schema.matches(s) for s in schemas)]
        return found

    def _depth(self, feature: Feature) -> int:
        """A feature's depth for stacking: seed features (and what they read) count as 0."""
        if not self.seeds:
            return feature.depth
        depth = self.depths.get(feature.unique_name)
        if depth is None:
            depth = 0 if (feature.unique_name in self.seed_names or not feature.sources) else (
                1 + max(self._depth(f) for f in feature.sources))
            self.depths[feature.unique_name] = depth
        return depth

    def _matching_inputs(self, table: str, max_depth: int | None, primitive: Primitive,
                         keep: Any, require_direct_input: bool = False) -> list[tuple[Feature, ...]]:
        matches: list[tuple[Feature, ...]] = []
        for signature in primitive.input_types:
            candidates = [f for f in self._features_by_type(table, max_depth, signature) if keep(f)]
            if candidates:
                matches.extend(_match(signature, candidates, primitive.commutative, require_direct_input))
        if require_direct_input:
            matches = [m for m in matches if not _all_direct_through_same_relationship(m)]
        matches = filter_matches(matches, self.options.of(primitive), primitive.commutative)
        return [m for m in matches if not any(f.schema.matches(NUMERIC_FOREIGN_KEY) for f in m)]


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


def _where_count(inputs: tuple[Feature, ...]) -> int:
    """How many where aggregations the inputs are or read, counted as Featuretools counts
    them for ``where_stacking_limit`` (along every way they are read)."""
    return sum(isinstance(f, AggregationFeature) and f.where is not None
               for feature in inputs for f in [feature, *feature_dependencies(feature)])


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
