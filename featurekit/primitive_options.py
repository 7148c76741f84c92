"""Per-primitive options of the planner, in Featuretools' ``primitive_options`` form: which
tables and columns each primitive may read (``include_dataframes``, ``ignore_dataframes``,
``include_columns``, ``ignore_columns``), for all its inputs or one dict per input, keyed by
a primitive name, class, instance or a tuple of them. Global ``ignore_tables`` /
``ignore_columns`` are folded in the way Featuretools folds them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import permutations
from typing import Any

from featurekit.entityset import EntitySet
from featurekit.errors import PlanError
from featurekit.feature import Feature, IdentityFeature
from featurekit.primitives import Primitive, get_primitive

TABLE_OPTIONS = ("include_dataframes", "ignore_dataframes")
COLUMN_OPTIONS = ("include_columns", "ignore_columns")
GROUPBY_OPTIONS = ("include_groupby_dataframes", "ignore_groupby_dataframes",
                   "include_groupby_columns", "ignore_groupby_columns")


@dataclass
class Option:
    """What one primitive (or one of its inputs) may read. None: the option was not given."""

    ignore_dataframes: set[str] = field(default_factory=set)
    ignore_columns: dict[str, set[str]] = field(default_factory=dict)
    include_dataframes: set[str] | None = None
    include_columns: dict[str, set[str]] | None = None


@dataclass
class PlanOptions:
    """Options by primitive name, and the global ignores left once primitives' includes are
    taken out of them."""

    by_primitive: dict[str, list[Option]]
    ignore_tables: set[str]
    ignore_columns: dict[str, set[str]]

    def of(self, primitive: Primitive) -> list[Option]:
        return self.by_primitive[primitive.name]


def plan_options(entityset: EntitySet, primitives: Iterable[Primitive], given: Any,
                 ignore_tables: set[str], ignore_columns: dict[str, set[str]]) -> PlanOptions:
    """``given`` (``primitive_options``) checked and merged with the global ignores."""
    flat = _flattened(entityset, given)
    global_tables = set(ignore_tables)
    global_columns = {table: set(columns) for table, columns in ignore_columns.items()}
    by_primitive: dict[str, list[Option]] = {}
    for primitive in primitives:
        if primitive.name in by_primitive:
            continue
        options = flat.get(primitive.name)
        if options is None:
            by_primitive[primitive.name] = [Option(set(ignore_tables), dict(ignore_columns))]
            continue
        included = set().union(*[(o.include_dataframes or set()) | set(o.include_columns or {})
                                 for o in options])
        global_tables -= included
        for option in options:
            for table, columns in (option.include_columns or {}).items():
                if table in global_columns:
                    global_columns[table] = global_columns[table] - columns
            option.ignore_dataframes |= ignore_tables - included
        for table, columns in ignore_columns.items():
            for option in options:
                if table in option.ignore_columns:
                    option.ignore_columns[table] = option.ignore_columns[table] | columns
                elif table not in included:
                    option.ignore_columns[table] = set(columns)
        by_primitive[primitive.name] = options
    unused = sorted(set(flat) - set(by_primitive))
    if unused:
        raise PlanError(f"primitive_options names primitive(s) {unused}, which this plan does not "
                        "use. Fix: add them to agg_primitives, trans_primitives or "
                        "where_primitives, or leave their options out")
    return PlanOptions(by_primitive, global_tables, global_columns)


def _flattened(entityset: EntitySet, given: Any) -> dict[str, list[Option]]:
    if given is None:
        return {}
    if not isinstance(given, Mapping):
        raise PlanError(f"primitive_options takes a dict from primitive to options, got "
                        f"{type(given).__name__}. Fix: pass e.g. primitive_options={{'mean': "
                        "{'ignore_dataframes': ['sessions']}}")
    flat: dict[str, list[Option]] = {}
    for keys, options in given.items():
        keys = keys if isinstance(keys, tuple) else (keys,)
        primitives = [_primitive(key) for key in keys]
        for primitive in primitives:
            if isinstance(options, list):
                inputs = {len(signature) for signature in primitive.input_types}
                if len(options) not in inputs:
                    raise PlanError(
                        f"primitive_options[{primitive.name!r}] gives {len(options)} option dicts, "
                        f"one per input, but {primitive.name!r} takes {sorted(inputs)} input(s). "
                        "Fix: give one dict per input, or a single dict for all inputs")
            if primitive.name in flat:
                raise PlanError(f"primitive_options gives options for primitive {primitive.name!r} "
                                "more than once. Fix: merge them into one entry")
            listed = options if isinstance(options, list) else [options]
            flat[primitive.name] = [_option(entityset, primitive.name, o) for o in listed]
    return flat


def _primitive(key: Any) -> Primitive:
    if isinstance(key, str | Primitive) or (isinstance(key, type) and issubclass(key, Primitive)):
        return get_primitive(key)
    raise PlanError(f"primitive_options has key {key!r}; keys are primitive names, classes, "
                    "instances or tuples of them. Fix: use e.g. 'mean' or ('mean', 'sum')")


def _option(entityset: EntitySet, primitive: str, given: Any) -> Option:
    """One option dict checked: known keys, known tables and columns, lists of names."""
    where = f"primitive_options[{primitive!r}]"
    if not isinstance(given, Mapping):
        raise PlanError(f"{where} must be a dict (or a list of dicts, one per input), got "
                        f"{type(given).__name__}. Fix: pass e.g. {{'ignore_dataframes': ['sessions']}}")
    option = Option()
    for key, value in given.items():
        if key in GROUPBY_OPTIONS:
            raise PlanError(f"{where} has {key!r}, an option of Featuretools' groupby transforms, "
                            "which featurekit does not plan. Fix: leave it out")
        if key in TABLE_OPTIONS:
            tables = _tables(entityset, where, key, value)
            setattr(option, key, tables)
        elif key in COLUMN_OPTIONS:
            if not isinstance(value, Mapping):
                raise PlanError(f"{where}[{key!r}] takes a dict from table to a list of columns, "
                                f"got {type(value).__name__}. Fix: pass e.g. {{'sessions': ['device']}}")
            columns = {}
            for table, names in value.items():
                _tables(entityset, where, key, [table])
                if isinstance(names, str) or not isinstance(names, list | tuple | set):
                    raise PlanError(f"{where}[{key!r}][{table!r}] takes a list of columns, got "
                                    f"{names!r}. Fix: pass e.g. [{names!r}]")
                absent = [c for c in names if c not in entityset[table].columns]
                if absent:
                    raise PlanError(f"{where}[{key!r}] names column(s) {absent} absent from table "
                                    f"{table!r}. Fix: use columns of {entityset[table].columns}")
                columns[table] = set(names)
            setattr(option, key, columns)
        else:
            raise PlanError(f"{where} has unknown option {key!r}. Fix: use "
                            f"{[*TABLE_OPTIONS, *COLUMN_OPTIONS]}")
    return option


def _tables(entityset: EntitySet, where: str, key: str, value: Any) -> set[str]:
    if isinstance(value, str) or not isinstance(value, list | tuple | set):
        raise PlanError(f"{where}[{key!r}] takes a list of table names, got {value!r}. "
                        f"Fix: pass e.g. [{value!r}]")
    unknown = [t for t in value if t not in entityset.tables]
    if unknown:
        raise PlanError(f"{where}[{key!r}] names unknown table(s) {unknown}. Fix: use names "
                        f"from {sorted(entityset.tables)}")
    return set(value)


def skips_table(options: list[Option], table: str) -> bool:
    """Whether the options keep the primitive off ``table`` altogether."""
    def skips(option: Option) -> bool:
        if option.include_columns is not None and table in option.include_columns:
            return False
        if option.include_dataframes is not None:
            return table not in option.include_dataframes
        return table in option.ignore_dataframes

    return any(skips(option) for option in options)


def filter_matches(matches: list[tuple[Feature, ...]], options: list[Option],
                   commutative: bool) -> list[tuple[Feature, ...]]:
    """The input combinations the options allow (per input when there is one option per
    input; a commutative primitive's inputs may be reordered to fit)."""
    def allowed(match: tuple[Feature, ...]) -> bool:
        if len(options) > 1:
            return all(_reads_allowed(f, o) for f, o in zip(match, options, strict=False))
        return all(_reads_allowed(f, options[0]) for f in match)

    kept: dict[tuple[str, ...], tuple[Feature, ...]] = {}
    for match in matches:
        if allowed(match):
            kept[tuple(f.unique_name for f in match)] = match
        elif commutative:
            for order in permutations(match):
                if allowed(order):
                    kept[tuple(f.unique_name for f in order)] = order
                    break
    return [kept[key] for key in sorted(kept)]


def _reads_allowed(feature: Feature, option: Option) -> bool:
    """Featuretools' rule, read in the order it reads a feature's dependencies: an identity
    feature must be an included column (when its table lists some) and not an ignored one;
    the first dependency's table decides include_dataframes / ignore_dataframes."""
    for source in [*feature_dependencies(feature), feature]:
        if isinstance(source, IdentityFeature):
            if option.include_columns is not None and source.table in option.include_columns:
                if source.column in option.include_columns[source.table]:
                    continue
                return False
            if source.column in option.ignore_columns.get(source.table, ()):
                return False
        if option.include_dataframes is not None:
            return source.table in option.include_dataframes
        if source.table in option.ignore_dataframes:
            return False
    return True


def feature_dependencies(feature: Feature) -> list[Feature]:
    """Every feature ``feature`` reads, in Featuretools' order: its own sources, then each
    one's dependencies in turn."""
    found = list(feature.sources)
    for source in list(found):
        found.extend(feature_dependencies(source))
    return found
