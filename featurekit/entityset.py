"""EntitySet: related tables with indexes, time indexes, logical types and parent-child
relationships, validated as they are added so that planning and computing can trust them."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numba
import numpy as np
import polars as pl

from featurekit import _numba_cache  # noqa: F401  (numba's cache directory, before the kernel)
from featurekit.errors import OrphanWarning, schema_error
from featurekit.frames import frame_kind, to_polars
from featurekit.types import (
    USER_TYPE_NAMES,
    ColumnSchema,
    infer_logical_type,
    normalize_user_type,
    schema_of,
)


@dataclass(frozen=True)
class Relationship:
    """``child.child_key`` refers to ``parent.parent_key`` (the parent's index)."""

    parent: str
    parent_key: str
    child: str
    child_key: str

    def to_dict(self) -> dict[str, str]:
        return {"parent": self.parent, "parent_key": self.parent_key,
                "child": self.child, "child_key": self.child_key}

    def __str__(self) -> str:
        return f"{self.parent}.{self.parent_key} <- {self.child}.{self.child_key}"


@dataclass
class Table:
    """One table of an EntitySet: its rows (polars), keys and column schemas."""

    name: str
    frame: pl.DataFrame
    index: str
    time_index: str | None
    schemas: dict[str, ColumnSchema]
    source_kind: str

    @property
    def columns(self) -> list[str]:
        return list(self.frame.columns)

    def __repr__(self) -> str:
        return (f"Table({self.name!r}, rows={self.frame.height}, index={self.index!r}, "
                f"time_index={self.time_index!r})")


class EntitySet:
    """Related tables, described once and validated on construction.

    Examples
    --------
    >>> import pandas as pd, featurekit as fk
    >>> es = fk.EntitySet("shop")
    >>> _ = es.add_table("customers", pd.DataFrame({"id": [1, 2]}), index="id")
    >>> _ = es.add_table("orders", pd.DataFrame({"order": [1, 2, 3], "id": [1, 1, 2],
    ...                                          "total": [5.0, 7.0, 1.5]}), index="order")
    >>> _ = es.add_relationship(parent="customers", parent_key="id", child="orders", child_key="id")
    >>> sorted(es.tables)
    ['customers', 'orders']
    """

    def __init__(self, name: str = "entityset", strict: bool = False) -> None:
        self.name = name
        self.strict = strict
        self.tables: dict[str, Table] = {}
        self.relationships: list[Relationship] = []
        self.graph = nx.DiGraph()  # edges parent -> child, attribute "relationship"
        # Facts the engine derives from the data once (e.g. whether parents precede their
        # children), keyed so that a table's new frame never meets an old fact.
        self.derived_facts: dict[tuple, object] = {}

    def __getitem__(self, name: str) -> Table:
        if name not in self.tables:
            raise schema_error(name, None, "no such table in the entity set",
                               f"use one of {sorted(self.tables)} or add it with add_table")
        return self.tables[name]

    def __contains__(self, name: str) -> bool:
        return name in self.tables

    def __repr__(self) -> str:
        lines = [f"EntitySet({self.name!r})"]
        lines += [f"  {table!r}" for table in self.tables.values()]
        lines += [f"  {rel}" for rel in self.relationships]
        return "\n".join(lines)

    # ------------------------------------------------------------------ tables
    def add_table(
        self,
        name: str,
        data: Any,
        index: str,
        time_index: str | None = None,
        types: dict[str, str] | None = None,
    ) -> EntitySet:
        """Add a table given as pandas, polars, pyarrow or a parquet/CSV path; returns self.

        ``types`` overrides inferred logical types, e.g. ``{"zip_code": "categorical"}``.
        The caller's data is copied, never modified.
        """
        if not isinstance(name, str) or not name:
            raise schema_error(str(name), None, "a table name must be a non-empty string",
                               "pass name='customers' or similar")
        if name in self.tables:
            raise schema_error(name, None, "a table of this name already exists",
                               "choose another name or build a new EntitySet")
        kind = frame_kind(data)
        frame = to_polars(data, name, index)
        if index not in frame.columns:
            raise schema_error(name, index, "the index column is absent",
                               f"pass index= one of {frame.columns}")
        self._check_unique_index(name, frame, index)
        if time_index is not None:
            if time_index not in frame.columns:
                raise schema_error(name, time_index, "the time index column is absent",
                                   f"pass time_index= one of {frame.columns} or None")
            frame = frame.with_columns(_parse_time(frame[time_index], name, time_index))
        schemas = self._column_schemas(name, frame, index, time_index, types or {})
        frame = _nan_as_missing(_cast_to_schemas(frame, schemas))
        self.tables[name] = Table(name, frame, index, time_index, schemas, kind)
        self.graph.add_node(name)
        return self

    @staticmethod
    def _check_unique_index(name: str, frame: pl.DataFrame, index: str) -> None:
        keys = frame[index]
        if keys.null_count():
            raise schema_error(name, index, f"the index has {keys.null_count()} missing values",
                               "drop or fill those rows; every row needs its own key")
        if _all_distinct(keys):
            return
        duplicated = keys.is_duplicated()
        if duplicated.any():
            examples = keys.filter(duplicated).unique().head(5).to_list()
            raise schema_error(
                name, index,
                f"the index has {int(duplicated.sum())} rows with repeated values (e.g. {examples})",
                "deduplicate the table or choose a column whose values are unique",
            )

    @staticmethod
    def _column_schemas(name, frame, index, time_index, types) -> dict[str, ColumnSchema]:
        for column, type_name in types.items():
            if column not in frame.columns:
                raise schema_error(name, column, "a type override names a column the table lacks",
                                   f"use one of {frame.columns} in types=")
            try:
                normalize_user_type(type_name)
            except KeyError:
                raise schema_error(name, column, f"unknown logical type {type_name!r}",
                                   f"use one of {list(USER_TYPE_NAMES)}") from None
        schemas = {}
        for column in frame.columns:
            if column in types:
                logical, extra = normalize_user_type(types[column])
                if logical == "numeric":  # a number: which kind the data says
                    numbers = frame[column].cast(pl.Float64, strict=False) if not \
                        frame[column].dtype.is_numeric() else frame[column]
                    logical = infer_logical_type(numbers)
            else:
                logical, extra = infer_logical_type(frame[column]), frozenset()
            if column == index:
                schemas[column] = ColumnSchema(logical, frozenset({"index"}))
            else:
                tags = extra | ({"time_index"} if column == time_index else frozenset())
                schemas[column] = schema_of(logical, frozenset(tags))
        return schemas

    # ----------------------------------------------------------- relationships
    def add_relationship(self, parent: str, parent_key: str, child: str, child_key: str) -> EntitySet:
        """Declare that ``child.child_key`` refers to the index ``parent.parent_key``; returns self.

        Child rows whose key matches no parent are reported with their count (an
        ``OrphanWarning``, or an error when the EntitySet was built with ``strict=True``).
        """
        for table, column in ((parent, parent_key), (child, child_key)):
            if table not in self.tables:
                raise schema_error(table, column, "the relationship names an unknown table",
                                   f"add it with add_table first; known: {sorted(self.tables)}")
            if column not in self.tables[table].frame.columns:
                raise schema_error(table, column, "the relationship names an absent column",
                                   f"use one of {self.tables[table].columns}")
        parent_table, child_table = self.tables[parent], self.tables[child]
        if parent_table.index != parent_key:
            raise schema_error(parent, parent_key, "a relationship's parent key must be the parent's index",
                               f"use parent_key={parent_table.index!r}")
        if parent == child:
            raise schema_error(child, child_key, "a table cannot be its own parent",
                               "model the hierarchy with a separate parent table")
        relationship = Relationship(parent, parent_key, child, child_key)
        self._check_graph_stays_unambiguous(relationship)
        child_keys = _align_key_dtype(child_table.frame[child_key], parent_table.frame[parent_key],
                                      relationship)
        child_table.frame = child_table.frame.with_columns(child_keys)
        schema = child_table.schemas[child_key]
        child_table.schemas[child_key] = schema.with_tags({"foreign_key"})
        self._report_orphans(relationship)
        self.relationships.append(relationship)
        self.graph.add_edge(parent, child, relationship=relationship)
        return self

    def _check_graph_stays_unambiguous(self, relationship: Relationship) -> None:
        parent, child = relationship.parent, relationship.child
        if self.graph.has_edge(parent, child):
            existing = self.graph.edges[parent, child]["relationship"]
            raise schema_error(
                child, relationship.child_key,
                f"{child!r} already refers to {parent!r} through {existing.child_key!r}, so a second "
                "relationship would make paths between them ambiguous",
                "keep one relationship and copy the parent's columns you need for the other key "
                "into a separate parent table (e.g. 'origin_airports' and 'destination_airports')",
            )
        trial = self.graph.copy()
        trial.add_edge(parent, child)
        if not nx.is_directed_acyclic_graph(trial):
            cycle = nx.find_cycle(trial, source=parent)
            raise schema_error(
                child, relationship.child_key,
                f"this relationship closes a cycle {[edge[0] for edge in cycle]}",
                "remove one relationship of the cycle; parent -> child links must form a hierarchy",
            )
        for ancestor in trial.nodes:
            for descendant in nx.descendants(trial, ancestor):
                paths = list(nx.all_simple_paths(trial, ancestor, descendant))
                if len(paths) > 1:
                    raise schema_error(
                        child, relationship.child_key,
                        f"{descendant!r} would reach {ancestor!r} by {len(paths)} paths "
                        f"({' and '.join(' -> '.join(reversed(p)) for p in paths)}), so features "
                        "aggregating one over the other would be ambiguous",
                        "drop the shortcut relationship (features still reach the parent through "
                        "the longer path) or copy the parent into a second table",
                    )

    def _report_orphans(self, relationship: Relationship) -> None:
        child_keys = self.tables[relationship.child].frame[relationship.child_key].drop_nulls()
        parent_keys = self.tables[relationship.parent].frame[relationship.parent_key]
        orphans = int((~child_keys.is_in(parent_keys.implode())).sum())
        if not orphans:
            return
        message = (f"table {relationship.child!r}, column {relationship.child_key!r}: {orphans} rows "
                   f"refer to no row of {relationship.parent!r}; they take part in no feature of "
                   f"{relationship.parent!r}. Fix: add the missing parents or drop those rows")
        if self.strict:
            raise schema_error(relationship.child, relationship.child_key,
                               f"{orphans} rows refer to no row of {relationship.parent!r}",
                               "add the missing parents or drop those rows (strict=True)")
        warnings.warn(message, OrphanWarning, stacklevel=3)

    # --------------------------------------------------------------- queries
    def parent_relationships(self, table: str) -> list[Relationship]:
        """Relationships in which ``table`` is the child (its forward links), in added order."""
        return [r for r in self.relationships if r.child == table]

    def child_relationships(self, table: str) -> list[Relationship]:
        """Relationships in which ``table`` is the parent (its backward links), in added order."""
        return [r for r in self.relationships if r.parent == table]


def _parse_time(column: pl.Series, table: str, name: str) -> pl.Series:
    """Return the time index as Datetime (or numeric, kept as is); raise when unparseable."""
    dtype = column.dtype
    if isinstance(dtype, pl.Datetime) or dtype.is_numeric():
        return column
    if dtype == pl.Date:
        return column.cast(pl.Datetime("us"))
    if dtype == pl.String:
        try:
            return column.str.to_datetime(strict=True)
        except Exception:  # noqa: BLE001 - polars raises several types for bad strings
            parsed = column.str.to_datetime(strict=False)
            bad = column.filter(parsed.is_null() & column.is_not_null()).head(3).to_list()
            raise schema_error(table, name, f"the time index cannot be parsed as times (e.g. {bad})",
                               "convert it to datetimes (ISO 8601 strings work) or numbers") from None
    raise schema_error(table, name, f"the time index has type {dtype}, which is not a time",
                       "pass datetimes, ISO 8601 strings or numbers")


def _cast_to_schemas(frame: pl.DataFrame, schemas: dict[str, ColumnSchema]) -> pl.DataFrame:
    """Cast columns whose declared logical type needs another physical type."""
    casts = []
    for column, schema in schemas.items():
        dtype = frame[column].dtype
        if schema.logical_type == "datetime" and dtype == pl.Date:
            casts.append(pl.col(column).cast(pl.Datetime("us")))
        elif schema.logical_type == "datetime" and dtype == pl.String:
            casts.append(pl.col(column).str.to_datetime(strict=False))
        elif schema.is_numeric and not dtype.is_numeric():
            casts.append(pl.col(column).cast(pl.Float64, strict=False))
        elif schema.logical_type == "boolean" and dtype != pl.Boolean:
            casts.append(pl.col(column).cast(pl.Boolean, strict=False))
        elif schema.logical_type == "text" and dtype == pl.Categorical:
            casts.append(pl.col(column).cast(pl.String))
        elif schema.logical_type == "categorical" and dtype == pl.String:
            # Held as codes: a quarter of the memory, and joins and counts work on integers.
            casts.append(pl.col(column).cast(pl.Categorical))
    return frame.with_columns(casts) if casts else frame


def _nan_as_missing(frame: pl.DataFrame) -> pl.DataFrame:
    """Float NaN read as a missing value, as pandas reads it: one meaning of "missing" in
    every primitive and path (polars would otherwise treat NaN as a number)."""
    floats = [name for name, dtype in frame.schema.items() if dtype.is_float()
              and frame[name].is_nan().any()]
    return frame.with_columns(pl.col(floats).fill_nan(None)) if floats else frame


def _key_family(dtype: pl.DataType) -> str:
    if dtype.is_integer():
        return "integer"
    if dtype.is_float():
        return "float"
    if dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum):
        return "string"
    return str(dtype)


def _align_key_dtype(child_key: pl.Series, parent_key: pl.Series, rel: Relationship) -> pl.Series:
    """Cast the child key to the parent key's dtype when the values can match; raise otherwise."""
    child_family, parent_family = _key_family(child_key.dtype), _key_family(parent_key.dtype)
    if child_key.dtype == parent_key.dtype:
        return child_key
    numeric = {"integer", "float"}
    if child_family == parent_family or {child_family, parent_family} <= numeric:
        cast = child_key.cast(parent_key.dtype, strict=False)
        lost = int(cast.is_null().sum() - child_key.is_null().sum())
        if child_family == "float" and parent_family == "integer":
            lost += int((cast.cast(pl.Float64) != child_key.cast(pl.Float64)).sum())
        if lost == 0:
            return cast
    raise schema_error(
        rel.child, rel.child_key,
        f"key type {child_key.dtype} cannot match parent key {rel.parent}.{rel.parent_key} "
        f"of type {parent_key.dtype}",
        f"cast {rel.child}.{rel.child_key} to {parent_key.dtype} before adding the table",
    )


def _all_distinct(keys: pl.Series) -> bool:
    """Whether no value repeats, without a hash table over millions of keys when they are
    sorted or compact integers (the usual index): a diff or a byte per possible value."""
    if keys.len() < 2:
        return True
    if keys.dtype.is_integer():
        if keys.is_sorted():
            return _strictly_increasing(keys.to_numpy())
        low, high = int(keys.min()), int(keys.max())
        if high - low < 4 * keys.len() + 1024:
            seen = np.bincount((keys - low).to_numpy(), minlength=high - low + 1)
            return bool(seen.max() <= 1)
    return keys.n_unique() == keys.len()


@numba.njit(cache=True)
def _strictly_increasing(values: np.ndarray) -> bool:
    for i in range(1, values.shape[0]):
        if values[i] == values[i - 1]:
            return False
    return True
