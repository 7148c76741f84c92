"""EntitySet: related tables with indexes, time indexes, logical types and parent-child
relationships, validated as they are added so that planning and computing can trust them."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import networkx as nx
import numpy as np
import polars as pl

from featurekit.coercion import (
    ACCEPTED,
    INT64_MAX,
    WHAT,
    Conversion,
    convert,
    is_present,
    parse_times,
)
from featurekit.errors import (
    CoercionWarning,
    MissingTimeWarning,
    OrphanWarning,
    SchemaError,
    schema_error,
)
from featurekit.frames import frame_kind, to_polars
from featurekit.types import (
    NUMERIC_TYPES,
    UNKNOWN,
    USER_TYPE_NAMES,
    ColumnSchema,
    infer_logical_type,
    normalize_user_type,
    schema_of,
    suggest_type_names,
)

ERRORS = ("raise", "coerce")  # add_table(errors=...): refuse values that do not parse, or
# make them missing with a warning
RESERVED_PREFIX = "__featurekit"  # the engine's working columns are named so
NESTED_TYPES = (pl.List, pl.Array, pl.Struct, pl.Object)


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


@dataclass(frozen=True)
class ColumnNote:
    """Why a column of an unchecked table is marked ``unknown``: its values do not all parse
    as its type (``count`` of them, e.g. ``examples``), or the type cannot read the column;
    or why it was read as text (a pandas column mixing strings and numbers)."""

    text: str
    count: int
    examples: tuple = ()
    refused: bool = True  # whether es.validate() refuses the column as it is

    def __str__(self) -> str:
        return self.text


@dataclass
class Table:
    """One table of an EntitySet: its rows (polars), keys and column schemas."""

    name: str
    frame: pl.DataFrame
    index: str
    time_index: str | None
    schemas: dict[str, ColumnSchema]
    source_kind: str
    # column -> values worth a where clause (``add_interesting_values``), most useful first
    interesting_values: dict[str, list] = field(default_factory=dict)
    # the types= overrides the table was added with, by column
    declared_types: dict[str, str] = field(default_factory=dict)
    # Added with validate=False: the frame is the data as given, not yet checked or converted;
    # ``errors`` is add_table's argument, kept for ``EntitySet.validate``.
    checked: bool = True
    errors: str = "raise"
    # column -> why it was marked "unknown" (values that do not parse as its type), when unchecked
    notes: dict[str, ColumnNote] = field(default_factory=dict)

    lazy = False  # a lazy parquet table (LazyTable) keeps its rows on disk

    @property
    def columns(self) -> list[str]:
        return list(self.frame.columns)

    def __repr__(self) -> str:
        unchecked = "" if self.checked else ", unchecked"
        return (f"Table({self.name!r}, rows={self.frame.height}, index={self.index!r}, "
                f"time_index={self.time_index!r}{unchecked})")


class LazyTable(Table):
    """A table whose rows stay in parquet files (``add_table(..., lazy=True)``): schemas and
    keys are known, the rows are read by partitions (see ``featurekit.scale.sources``)."""

    lazy = True

    def __init__(self, name: str, source: Any, index: str, time_index: str | None,
                 schemas: dict[str, ColumnSchema]) -> None:
        self.name, self.source, self.index, self.time_index = name, source, index, time_index
        self.schemas, self.source_kind, self.interesting_values = schemas, "polars", {}
        self.declared_types, self.notes = {}, {}  # checked on construction (validate=True)

    @property
    def frame(self) -> pl.DataFrame:
        from featurekit.scale.sources import lazy_table_error

        raise lazy_table_error(self.name)

    @frame.setter
    def frame(self, value: pl.DataFrame) -> None:
        from featurekit.scale.sources import lazy_table_error

        raise lazy_table_error(self.name)

    @property
    def columns(self) -> list[str]:
        return list(self.source.dtypes)

    def __repr__(self) -> str:
        return (f"LazyTable({self.name!r}, rows={self.source.height}, files="
                f"{len(self.source.paths)}, index={self.index!r}, time_index={self.time_index!r})")


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
        # edges parent -> child, one per relationship (keyed by the child key, attribute
        # "relationship"): two tables may be linked by several relationships
        self.graph = nx.MultiDiGraph()
        self._path_counts: dict[tuple[str, str], int] = {}  # count_paths, until a new relationship
        # Facts the engine derives from the data once (e.g. whether parents precede their
        # children), keyed so that a table's new frame never meets an old fact.
        self.derived_facts: dict[tuple, object] = {}
        # relationships added while a table they link was unchecked: their key checks wait
        # for ``validate``
        self.unchecked_relationships: list[Relationship] = []

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
        errors: str = "raise",
        make_index: bool = False,
        validate: bool = True,
        lazy: bool = False,
    ) -> EntitySet:
        """Add a table given as pandas, polars, pyarrow or a parquet/CSV path; returns self.

        ``types`` overrides inferred logical types, e.g. ``{"zip_code": "categorical"}``.
        Converting a column to its type never loses a value silently: a value that does not
        parse (``"abc"`` as a number, ``"soon"`` as a time, ``"maybe"`` as a boolean) raises a
        SchemaError with the count and examples; ``errors="coerce"`` makes such values missing
        and reports them in a ``CoercionWarning`` instead. Blank strings count as missing.

        The time index may hold datetimes, dates, date strings or numbers. A row without a
        time is kept but never counted, with or without cutoff times (a row with no time is
        never known); a ``MissingTimeWarning`` gives the count. A time index with no time at
        all is refused. NaN in a float column is a missing value, as in pandas.
        Keys must be scalar values; NaN is not a key, and unsigned keys above 2**63 - 1 are
        refused. Column names starting with ``__featurekit`` are reserved. The caller's data
        is copied, never modified.

        ``make_index=True`` adds the index column ``index`` (which the data must not have),
        numbering the rows 0, 1, 2, ... in their order, as Featuretools' ``make_index`` does.

        ``validate=False`` keeps faulty data for inspection: the table is stored as given
        (repeated keys, values that do not parse, missing times are neither refused nor
        converted; a column whose values do not all parse as its type is marked ``unknown``
        with a note). The entity set is then unchecked: ``es.check()`` reports what is wrong,
        :mod:`featurekit.prep` fixes it, and ``es.validate()`` runs these checks before
        ``fk.plan`` / ``fk.compute`` / ``fk.dfs`` accept it.

        ``lazy=True`` keeps a parquet file, a directory of parquet files or a glob on disk
        (see ``featurekit.scale.sources``): types are inferred from the first 10,000 rows
        (``types=`` wins), the index and time index are checked by streaming scans of their
        columns only, and computing reads only the rows and columns it needs.
        """
        if not isinstance(name, str) or not name:
            raise schema_error(str(name), None, "a table name must be a non-empty string",
                               "pass name='customers' or similar")
        if name in self.tables:
            raise schema_error(name, None, "a table of this name already exists",
                               "choose another name or build a new EntitySet")
        for argument, value in (("index", index), ("time_index", time_index)):
            if not isinstance(value, str) and not (argument == "time_index" and value is None):
                raise schema_error(name, None, f"{argument}= must name one column, got {value!r}",
                                   f"pass {argument}='column_name'")
        if not isinstance(errors, str) or errors not in ERRORS:
            raise schema_error(name, None, f"errors={errors!r} is not a choice",
                               f"pass errors= one of {list(ERRORS)}")
        if not isinstance(make_index, bool):
            raise schema_error(name, None, f"make_index must be True or False, got {make_index!r}",
                               "pass make_index=True to number the rows, or name an index column")
        if not isinstance(validate, bool):
            raise schema_error(name, None, f"validate must be True or False, got {validate!r}",
                               "pass validate=False to keep faulty data for es.check()")
        if not isinstance(lazy, bool):
            raise schema_error(name, None, f"lazy must be True or False, got {lazy!r}",
                               "pass lazy=True to keep parquet files on disk")
        if lazy and not validate:
            raise schema_error(name, None, "validate=False keeps data in memory for es.check(); "
                               "a lazy table stays on disk", "load the table (lazy=False) to "
                               "check it, or keep validate=True")
        if lazy:
            from featurekit.scale.sources import make_lazy_table

            self.tables[name] = make_lazy_table(name, data, index, time_index, types, errors,
                                                make_index)
            self.graph.add_node(name)
            return self
        kind = frame_kind(data)
        mixed: dict[str, ColumnNote] = {}
        if not validate and kind == "pandas":
            data, mixed = _mixed_columns_as_text(data)
        frame = to_polars(data, name, None if make_index else index)
        if make_index:
            if index in frame.columns:
                raise schema_error(name, index, "make_index=True would add this column, which the "
                                   "data already has", "pass make_index=False to use it as the "
                                   "index, or name a new index column")
            frame = frame.with_row_index(index).with_columns(pl.col(index).cast(pl.Int64))
        _check_column_names(name, frame)
        if index not in frame.columns:
            raise schema_error(name, index, "the index column is absent",
                               f"pass index= one of {frame.columns}")
        if time_index is not None and time_index not in frame.columns:
            raise schema_error(name, time_index, "the time index column is absent",
                               f"pass time_index= one of {frame.columns} or None")
        if types is not None and not isinstance(types, dict):
            raise schema_error(name, None, f"types= must be a dict, got {type(types).__name__}",
                               "pass types={'column': 'categorical'} or similar")
        types = {} if types is None else dict(types)
        overrides = _check_overrides(name, frame, time_index, types)
        if validate:
            table = _checked_table(name, frame, index, time_index, overrides, errors, kind)
        else:
            schemas, notes = _unchecked_schemas(name, frame, index, time_index, overrides)
            table = Table(name, frame, index, time_index, schemas, kind, checked=False,
                          errors=errors, notes={**mixed, **notes})
        table.declared_types = types
        self.tables[name] = table
        self.graph.add_node(name)
        return self

    # ------------------------------------------------------------- validation
    @property
    def checked(self) -> bool:
        """Whether every table and relationship passed add_table's and add_relationship's
        checks (False after ``add_table(..., validate=False)`` until ``validate()``)."""
        return not self.unchecked_relationships and all(t.checked for t in self.tables.values())

    def require_checked(self, action: str) -> None:
        """Raise a SchemaError naming the first unchecked table when the set is unchecked."""
        if self.checked:
            return
        names = [t.name for t in self.tables.values() if not t.checked]
        if not names:
            names = [self.unchecked_relationships[0].child]
        raise schema_error(
            names[0], None,
            f"the entity set holds unchecked tables {names} (added with validate=False), "
            f"which {action} cannot use",
            "run es.check() to see what is wrong, fix it with fk.prep (dedupe, parse_numbers, "
            "parse_dates, drop_orphans), then es.validate()")

    def validate(self) -> EntitySet:
        """Run add_table's and add_relationship's checks on every unchecked table and
        relationship; returns self, now checked. The first problem raises the usual
        SchemaError (orphans warn, or raise with ``strict=True``) and leaves the set as it was.

        >>> import pandas as pd, featurekit as fk
        >>> es = fk.EntitySet().add_table("t", pd.DataFrame({"id": [1, 1]}), "id", validate=False)
        >>> es.checked
        False
        >>> es.validate()
        Traceback (most recent call last):
        ...
        featurekit.errors.SchemaError: table 't', column 'id': the index has 2 rows with repeated values (e.g. [1]). Fix: deduplicate the table or choose a column whose values are unique
        """
        tables = dict(self.tables)
        for name, table in self.tables.items():
            if table.checked:
                continue
            overrides = _check_overrides(name, table.frame, table.time_index, table.declared_types)
            new = _checked_table(name, table.frame, table.index, table.time_index, overrides,
                                 table.errors, table.source_kind)
            new.declared_types = table.declared_types
            new.interesting_values = dict(table.interesting_values)
            for relationship in self.relationships:  # keep the foreign key tags
                if relationship.child == name:
                    key = relationship.child_key
                    new.schemas[key] = new.schemas[key].with_tags({"foreign_key"})
            tables[name] = new
        frames = {}
        for relationship in self.unchecked_relationships:
            parent, child = tables[relationship.parent], tables[relationship.child]
            child_frame = frames.get(child.name, child.frame)
            frames[child.name] = child_frame.with_columns(
                _checked_relationship_keys(relationship, child_frame, parent.frame))
        for relationship in self.unchecked_relationships:
            child_keys = frames[relationship.child][relationship.child_key]
            self._report_orphans(relationship, child_keys, tables[relationship.parent].frame)
        for name, frame in frames.items():
            tables[name] = replace(tables[name], frame=frame)
        self.tables = tables
        self.unchecked_relationships = []
        self.derived_facts.clear()
        return self

    def check(self, now: Any = None, pairs: Sequence[tuple[str, str]] | None = None) -> Any:
        """What is wrong or suspicious in the data, as a :class:`featurekit.prep.CheckReport`
        (a frame, a readable print and an HTML page); see :func:`featurekit.prep.check`.

        >>> import pandas as pd, featurekit as fk
        >>> es = fk.EntitySet().add_table("t", pd.DataFrame({"id": [1, 2], "x": ["5", "7"]}),
        ...                               index="id", validate=False)
        >>> es.check().frame[["check", "table", "column", "count"]].values.tolist()
        [['numbers_as_text', 't', 'x', 2]]
        """
        from featurekit.prep.checks import check

        return check(self, now=now, pairs=pairs)

    def normalize(self, base_table: str, new_table: str, index: str,
                  additional_columns: list[str] | None = None,
                  copy_columns: list[str] | None = None,
                  make_time_index: bool | str | None = None,
                  make_secondary_time_index: dict[str, list[str]] | None = None,
                  new_table_time_index: str | None = None) -> EntitySet:
        """Split a parent table out of a column (Featuretools' ``normalize_dataframe``);
        returns self. See :func:`featurekit.normalize.normalize`.

        >>> import pandas as pd, featurekit as fk
        >>> es = fk.EntitySet().add_table("orders", pd.DataFrame({"order": [1, 2], "shop": ["x", "x"]}),
        ...                                index="order")
        >>> es.normalize("orders", "shops", "shop")["shops"].frame.height
        1
        """
        from featurekit.normalize import normalize

        self.require_checked("es.normalize")
        return normalize(self, base_table, new_table, index, additional_columns, copy_columns,
                         make_time_index, make_secondary_time_index, new_table_time_index)

    def plot(self, to_file: str | None = None) -> Any:
        """Draw the tables (columns and types) and relationships; returns a drawing that shows
        inline in a notebook, written to ``to_file`` (``.svg`` or ``.png``) when given. Needs
        matplotlib (``pip install featurekit[plot]``).

        >>> import featurekit as fk
        >>> "transactions" in fk.demo.load_retail(n_customers=3).plot().svg
        True
        """
        from featurekit.plot import plot_entityset

        return plot_entityset(self, to_file)

    # ----------------------------------------------------------- relationships
    def add_relationship(self, parent: str, parent_key: str, child: str, child_key: str) -> EntitySet:
        """Declare that ``child.child_key`` refers to the index ``parent.parent_key``; returns self.

        Child rows whose key matches no parent are reported with their count (an
        ``OrphanWarning``, or an error when the EntitySet was built with ``strict=True``).
        A table may reach another by several paths (a diamond, or two keys into one parent:
        feature names then say which path they take); a relationship closing a cycle is refused.
        """
        for argument, value in (("parent", parent), ("parent_key", parent_key), ("child", child),
                                ("child_key", child_key)):
            if not isinstance(value, str):
                raise schema_error(str(child) if isinstance(child, str) else "?", None,
                                   f"add_relationship's {argument} must be a name, got {value!r}",
                                   f"pass {argument}='...' (a table or column name)")
        for table, column in ((parent, parent_key), (child, child_key)):
            if table not in self.tables:
                raise schema_error(table, column, "the relationship names an unknown table",
                                   f"add it with add_table first; known: {sorted(self.tables)}")
            if column not in self.tables[table].columns:
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
        self._check_graph_stays_acyclic(relationship)
        if parent_table.lazy or child_table.lazy:  # checked by streaming scans of the keys
            from featurekit.scale.sources import relate

            relate(self, relationship)
        elif parent_table.checked and child_table.checked:
            child_keys = _checked_relationship_keys(relationship, child_table.frame,
                                                    parent_table.frame)
            child_table.frame = child_table.frame.with_columns(child_keys)
            self._report_orphans(relationship, child_keys, parent_table.frame)
        else:  # keys as given: es.check() reports orphans, validate() checks the keys
            self.unchecked_relationships.append(relationship)
        schema = child_table.schemas[child_key]
        child_table.schemas[child_key] = schema.with_tags({"foreign_key"})
        self.relationships.append(relationship)
        self.graph.add_edge(parent, child, key=child_key, relationship=relationship)
        self._path_counts.clear()
        return self

    def _check_graph_stays_acyclic(self, relationship: Relationship) -> None:
        """A relationship may add a second path between two tables (a diamond, or a second key
        into the same parent), never a cycle: a table cannot be its own ancestor."""
        parent, child = relationship.parent, relationship.child
        if relationship in self.relationships:
            raise schema_error(child, relationship.child_key,
                               f"this relationship ({relationship}) was already added",
                               "add each relationship once")
        if not nx.has_path(self.graph, child, parent):
            return
        route = nx.shortest_path(self.graph, child, parent)
        raise schema_error(
            child, relationship.child_key,
            f"this relationship closes a cycle {[*route, child]} (each table the parent of the "
            "next)",
            "remove one relationship of the cycle; parent -> child links must form a hierarchy "
            "(a table may reach another by several paths, but never itself)",
        )

    def _report_orphans(self, relationship: Relationship, child_keys: pl.Series,
                        parent_frame: pl.DataFrame) -> None:
        child_keys = child_keys.drop_nulls()
        parent_keys = parent_frame[relationship.parent_key]
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

    def add_interesting_values(self, max_values: int = 5, verbose: bool = False,
                               table: str | None = None, values: dict | None = None,
                               dataframe_name: str | None = None) -> None:
        """Mark values of categorical columns worth a where clause: ``fk.dfs`` then adds
        aggregations over only the child rows with that value (``COUNT(sessions WHERE device
        = mobile)``, for the primitives in ``where_primitives``).

        Without ``values``, each categorical column (not an index or key) of ``table`` (every
        table when None) gets its most frequent values, at most ``max_values``, as
        Featuretools picks them (with 25 or more distinct values, only values held by more
        than 5% and less than 95% of the rows). ``values`` sets them instead:
        ``{column: [values]}`` with ``table=``, or ``{table: {column: [values]}}``.
        ``dataframe_name`` is Featuretools' name for ``table``.

        Examples
        --------
        >>> import featurekit as fk
        >>> es = fk.demo.load_retail(n_customers=5)
        >>> es.add_interesting_values(table="sessions", values={"device": ["mobile"]})
        >>> es["sessions"].interesting_values
        {'device': ['mobile']}
        """
        from featurekit.arguments import check_text
        from featurekit.interesting_values import add_interesting_values

        check_text("table", table, optional=True)
        check_text("dataframe_name", dataframe_name, optional=True)
        if dataframe_name is not None:
            if table is not None and table != dataframe_name:
                raise schema_error(table, None, "table= and dataframe_name= name different tables",
                                   "pass one of them (dataframe_name is Featuretools' name)")
            table = dataframe_name
        add_interesting_values(self, max_values, verbose, table, values)

    # --------------------------------------------------------------- sources
    # What from_database / from_directory read, inferred and left out (a SourceReport);
    # None for an entity set built table by table.
    source_report: Any = None

    @classmethod
    def from_database(cls, con: Any, tables: list[str] | None = None,
                      time_indexes: dict[str, str] | None = None,
                      types: dict[str, dict[str, str]] | None = None, validate: bool = True,
                      name: str | None = None, indexes: dict[str, str] | None = None,
                      schema: str | None = None) -> EntitySet:
        """Read a SQL database: each table (``tables=`` picks some, views included), its
        primary key as index, declared foreign keys as relationships, declared column types
        as logical types (dates stored as text are parsed).

        ``con`` is a SQLite file path or ``sqlite3`` connection (standard library), an
        SQLAlchemy URL, engine or connection (``pip install 'featurekit[sql]'``), or an ADBC
        DBAPI connection. ``time_indexes={"orders": "ordered_at"}`` names time indexes (none
        is guessed); ``types={"products": {"description": "text"}}`` overrides types;
        ``indexes=`` names the index of a table without a primary key (otherwise a column
        named ``<table>_id``, ``<singular>_id`` or ``id``, else numbered rows).
        ``validate=False`` keeps faulty data as it is, for ``es.check()``. Foreign keys
        featurekit cannot link (composite, not to the parent's index, a self-reference, one
        closing a cycle) are left out: ``es.source_report`` lists what was read, how each
        key was found, and what was left out and why.

        >>> import sqlite3, featurekit as fk
        >>> con = sqlite3.connect(":memory:")
        >>> _ = con.executescript("CREATE TABLE shops (shop_id INTEGER PRIMARY KEY);"
        ...     "CREATE TABLE sales (sale_id INTEGER PRIMARY KEY, sold_at DATETIME, "
        ...     "shop_id INTEGER REFERENCES shops (shop_id));"
        ...     "INSERT INTO shops VALUES (1); INSERT INTO sales VALUES (1, '2024-05-01', 1);")
        >>> es = fk.EntitySet.from_database(con, time_indexes={"sales": "sold_at"})
        >>> [str(r) for r in es.relationships], es["sales"].frame["sold_at"].dtype
        (['shops.shop_id <- sales.shop_id'], Datetime(time_unit='us', time_zone=None))
        """
        from featurekit.sources.database import from_database

        return from_database(con, tables, time_indexes, types, validate, name, indexes, schema)

    @classmethod
    def from_directory(cls, path: Any, indexes: dict[str, str] | None = None,
                       time_indexes: dict[str, str] | None = None,
                       relationships: list | None = None, infer_relationships: bool = True,
                       validate: bool = True, types: dict[str, dict[str, str]] | None = None,
                       name: str | None = None) -> EntitySet:
        """Read a folder of parquet / CSV files, one table per file (or per sub-folder of
        parts), named after the file.

        Indexes are given (``indexes={"orders": "order_no"}``) or found by name: a column
        ``<table>_id``, ``<singular>_id`` or ``id`` (a unique one first), else numbered
        rows. Relationships are given as ``(parent, parent_key, child, child_key)`` tuples, or
        inferred (``infer_relationships=True``): a child column named like a parent's index
        whose values are at least 90% that parent's keys. ``es.source_report.relationships``
        says what was inferred and why, and what was ambiguous or left out. Time indexes are
        only taken from ``time_indexes=``; ``validate=False`` keeps faulty data for
        ``es.check()``.

        >>> import tempfile, pathlib, pandas as pd, featurekit as fk
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> pd.DataFrame({"customer_id": [1, 2]}).to_parquet(folder / "customers.parquet")
        >>> pd.DataFrame({"order_id": [1, 2, 3], "customer_id": [1, 1, 2]}).to_csv(
        ...     folder / "orders.csv", index=False)
        >>> [str(r) for r in fk.EntitySet.from_directory(folder).relationships]
        ['customers.customer_id <- orders.customer_id']
        """
        from featurekit.sources.directory import from_directory

        return from_directory(path, indexes, time_indexes, relationships, infer_relationships,
                              validate, types, name)

    # --------------------------------------------------------------- queries
    def parent_relationships(self, table: str) -> list[Relationship]:
        """Relationships in which ``table`` is the child (its forward links), in added order."""
        return [r for r in self.relationships if r.child == table]

    def child_relationships(self, table: str) -> list[Relationship]:
        """Relationships in which ``table`` is the parent (its backward links), in added order."""
        return [r for r in self.relationships if r.parent == table]

    def has_twin(self, relationship: Relationship) -> bool:
        """Whether another relationship links the same child table to the same parent table
        (flights with an origin and a destination airport)."""
        return any(r != relationship and r.child == relationship.child
                   and r.parent == relationship.parent for r in self.relationships)

    def parent_name(self, relationship: Relationship) -> str:
        """The parent as seen from the child in feature names: the table's name, followed by
        the child key in brackets when the relationship has a twin (``airports[origin_id]``)."""
        if self.has_twin(relationship):
            return f"{relationship.parent}[{relationship.child_key}]"
        return relationship.parent

    def child_name(self, relationship: Relationship) -> str:
        """The child as seen from the parent in feature names: the table's name, followed by
        the child key in brackets when the relationship has a twin (``flights[origin_id]``)."""
        if self.has_twin(relationship):
            return f"{relationship.child}[{relationship.child_key}]"
        return relationship.child

    def path_name(self, path: Sequence[Relationship]) -> str:
        """How an aggregation over ``path`` (parent first) names the rows it reads: the last
        child's table name when that table reaches the first parent by this path only, else
        every step's child name joined by dots (``customer.orders.lineitem``)."""
        if self.count_paths(path[-1].child, path[0].parent) == 1:
            return path[-1].child
        return ".".join(self.child_name(r) for r in path)

    def paths_down(self, ancestor: str, descendant: str) -> list[tuple[Relationship, ...]]:
        """Every chain of relationships from ``ancestor`` down to ``descendant`` (parent
        first), in the order relationships were added; ``[()]`` when they are one table."""
        if ancestor == descendant:
            return [()]
        return [(r, *rest) for r in self.child_relationships(ancestor)
                for rest in self.paths_down(r.child, descendant)]

    def count_paths(self, child: str, ancestor: str) -> int:
        """How many chains of relationships lead from ``child`` up to ``ancestor`` (two
        relationships between the same tables make two chains); 0 when there is none."""
        key = (child, ancestor)
        if key not in self._path_counts:
            self._path_counts[key] = 1 if child == ancestor else sum(
                self.count_paths(r.parent, ancestor) for r in self.parent_relationships(child))
        return self._path_counts[key]


def _checked_table(name: str, frame: pl.DataFrame, index: str, time_index: str | None,
                   overrides: dict[str, tuple[str, frozenset[str]]], errors: str,
                   kind: str) -> Table:
    """add_table's checks and conversions: typed columns, a usable index, times reported."""
    frame, schemas = _typed_columns(name, frame, index, time_index, overrides, errors)
    _check_index(name, frame[index])
    frame = _nan_as_missing(frame)
    if time_index is not None:
        _report_missing_times(name, frame[time_index])
    return Table(name, frame, index, time_index, schemas, kind)


def _unchecked_schemas(name: str, frame: pl.DataFrame, index: str, time_index: str | None,
                       overrides: dict[str, tuple[str, frozenset[str]]],
                       ) -> tuple[dict[str, ColumnSchema], dict[str, ColumnNote]]:
    """Schemas for data kept as given: a column's type as add_table would read it, or
    ``unknown`` with a note when some of its values would not survive the conversion."""
    schemas: dict[str, ColumnSchema] = {}
    notes: dict[str, ColumnNote] = {}
    for column in frame.columns:
        original = frame[column]
        logical, extra = overrides.get(column, (None, frozenset()))
        try:
            if column == time_index:
                conversion = _time_index_conversion(name, original, logical)
            elif logical is not None:
                conversion = convert(original, logical, name, column)
            else:
                logical = infer_logical_type(original)
                conversion = _inferred_conversion(original, logical)
        except SchemaError as error:
            conversion = None
            note = ColumnNote(str(error), int(is_present(original).sum()))
        else:
            note = None
            if conversion.lost_count:
                what = WHAT.get(logical or "datetime", logical or "times")
                examples = conversion.examples(original)
                note = ColumnNote(f"{conversion.lost_count} values do not parse as {what} (e.g. "
                                  f"{examples})", conversion.lost_count, tuple(examples))
        roles = ({"index"} if column == index else set()) | (
            {"time_index"} if column == time_index else set())
        if note is not None:
            notes[column] = note
            schemas[column] = ColumnSchema(UNKNOWN, frozenset(roles))
            continue
        if logical is None or logical == "numeric" or column == time_index and \
                logical in NUMERIC_TYPES:
            logical = infer_logical_type(conversion.series)
        schemas[column] = (ColumnSchema(logical, frozenset({"index"})) if column == index
                           else schema_of(logical, frozenset(extra | roles)))
    return schemas, notes


def _mixed_columns_as_text(data: Any) -> tuple[Any, dict[str, ColumnNote]]:
    """A pandas frame whose object columns mix strings with numbers (a database column of
    numbers with some text) has those columns as text, each with a note; a shallow copy,
    the caller's frame untouched. Other columns are left to ``to_polars``."""
    import pandas as pd

    mixed = {}
    if data.columns.duplicated().any():  # to_polars names the repeated column
        return data, {}
    for column in data.columns:
        values = data[column]
        if values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) in (
                "mixed", "mixed-integer"):
            kinds = sorted({type(v).__name__ for v in values.dropna().head(10_000)})
            mixed[column] = (values.astype("string"), kinds)
    if not mixed:
        return data, {}
    data = data.copy(deep=False)
    notes = {}
    for column, (text, kinds) in mixed.items():
        data[column] = text
        notes[str(column)] = ColumnNote(
            f"values of several Python types ({', '.join(kinds)}) were read as text",
            int(text.notna().sum()), refused=False)
    return data, notes


def _checked_relationship_keys(relationship: Relationship, child: pl.DataFrame,
                               parent: pl.DataFrame) -> pl.Series:
    """The child's keys, checked and cast to the parent key's type."""
    keys = child[relationship.child_key]
    _check_key_values(relationship.child, relationship.child_key, keys, "foreign key")
    return _align_key_dtype(keys, parent[relationship.parent_key], relationship)


def _check_column_names(table: str, frame: pl.DataFrame) -> None:
    for column in frame.columns:
        if column.startswith(RESERVED_PREFIX):
            raise schema_error(table, column,
                               f"names starting with {RESERVED_PREFIX!r} are reserved for "
                               "featurekit's own working columns",
                               "rename the column before adding the table")


def _check_overrides(table: str, frame: pl.DataFrame, time_index: str | None,
                     types: dict[str, str]) -> dict[str, tuple[str, frozenset[str]]]:
    """The type overrides as (logical type, extra tags), checked against the table."""
    overrides = {}
    for column, type_name in types.items():
        if column not in frame.columns:
            raise schema_error(table, column, "a type override names a column the table lacks",
                               f"use one of {frame.columns} in types=")
        try:
            overrides[column] = normalize_user_type(type_name)
        except (KeyError, TypeError):
            close = suggest_type_names(type_name)
            hint = (f"did you mean {' or '.join(map(repr, close))}? Accepted: "
                    if close else "use one of ")
            raise schema_error(table, column, f"unknown logical type {type_name!r}",
                               f"{hint}{list(USER_TYPE_NAMES)} (or woodwork's names such "
                               "as 'Double', 'IntegerNullable', 'NaturalLanguage')") from None
        if column == time_index and not (overrides[column][0] == "datetime"
                                         or overrides[column][0] in NUMERIC_TYPES):
            raise schema_error(table, column,
                               f"the time index cannot be of type {type_name!r}",
                               "type it as 'datetime' or a numeric type, or pass another "
                               "time_index")
    return overrides


def _typed_columns(table: str, frame: pl.DataFrame, index: str, time_index: str | None,
                   overrides: dict[str, tuple[str, frozenset[str]]],
                   errors: str) -> tuple[pl.DataFrame, dict[str, ColumnSchema]]:
    """Each column converted to its logical type, and its schema; values that would be lost
    raise (errors="raise") or become missing with a CoercionWarning (errors="coerce")."""
    converted: list[pl.Series] = []
    schemas: dict[str, ColumnSchema] = {}
    for column in frame.columns:
        original = frame[column]
        logical, extra = overrides.get(column, (None, frozenset()))
        if column == time_index:
            conversion = _time_index_conversion(table, original, logical)
        elif logical is not None:
            conversion = convert(original, logical, table, column)
        else:
            logical = infer_logical_type(original)
            conversion = _inferred_conversion(original, logical)
        _settle(table, column, original, conversion, logical, errors, column == time_index)
        series = conversion.series
        if logical is None or logical == "numeric" or column == time_index and \
                logical in NUMERIC_TYPES:  # a number (or a time): which kind the data says
            logical = infer_logical_type(series)
        if series is not original:
            converted.append(series)
        if column == index:
            schemas[column] = ColumnSchema(logical, frozenset({"index"}))
        else:
            tags = extra | ({"time_index"} if column == time_index else frozenset())
            schemas[column] = schema_of(logical, frozenset(tags))
    return (frame.with_columns(converted) if converted else frame), schemas


def _time_index_conversion(table: str, series: pl.Series, logical: str | None) -> Conversion:
    """A time index as Datetime, or as numbers (integer steps or float times) kept as given."""
    dtype = series.dtype
    if logical in NUMERIC_TYPES:
        conversion = convert(series, logical, table, series.name)
    elif dtype.is_numeric() and logical is None:
        conversion = Conversion(series)
    elif dtype == pl.Boolean or isinstance(dtype, (pl.Duration, *NESTED_TYPES)) or \
            dtype == pl.Binary:
        raise schema_error(table, series.name,
                           f"the time index has type {dtype}, which is not a time",
                           "pass datetimes, dates, date strings or numbers, or another time_index")
    else:
        conversion = parse_times(series, table, series.name)
    times = conversion.series
    if times.dtype.is_float() and times.is_nan().any():  # NaN is a missing time, as in pandas
        times = times.fill_nan(None)
        conversion = Conversion(times, conversion.lost)
    return conversion


def _inferred_conversion(series: pl.Series, logical: str) -> Conversion:
    """Columns without an override keep their values; only the storage changes (lossless)."""
    if logical == "categorical" and series.dtype == pl.String:
        return Conversion(series.cast(pl.Categorical))  # codes: a quarter of the memory
    if logical == "datetime" and series.dtype == pl.Date:
        return Conversion(series.cast(pl.Datetime("us")))
    return Conversion(series)


def _settle(table: str, column: str, original: pl.Series, conversion: Conversion,
            logical: str | None, errors: str, is_time_index: bool) -> None:
    """Refuse a conversion that loses values, or let it through with a CoercionWarning."""
    lost = conversion.lost_count
    if not lost:
        return
    what = WHAT.get(logical or "datetime", logical or "times")
    present = int(is_present(original).sum())
    problem = (f"{lost} of {present} values {'of the time index ' if is_time_index else ''}"
               f"do not parse as {what} (e.g. {conversion.examples(original)}); accepted: "
               f"{ACCEPTED.get(what, what)}")
    if errors == "raise":
        other = ("give the times in one format, or numbers (typed with types=)" if is_time_index
                 else "choose another type in types=")
        raise schema_error(table, column, problem,
                           f"correct or remove those values, {other}, or pass errors='coerce' "
                           "to make them missing (with a warning)")
    warnings.warn(f"table {table!r}, column {column!r}: {problem}. They became missing "
                  "(errors='coerce')", CoercionWarning, stacklevel=5)


def _check_index(table: str, keys: pl.Series) -> None:
    """An index holds one scalar, present, distinct value per row."""
    if isinstance(keys.dtype, NESTED_TYPES) or keys.dtype in (pl.Binary, pl.Null):
        raise schema_error(table, keys.name, f"an index of type {keys.dtype} cannot be a key",
                           "use a column of integers or strings as the index")
    if keys.null_count():
        raise schema_error(table, keys.name, f"the index has {keys.null_count()} missing values",
                           "drop or fill those rows; every row needs its own key")
    _check_key_values(table, keys.name, keys, "index")
    if _all_distinct(keys):
        return
    duplicated = keys.is_duplicated()
    if duplicated.any():
        examples = keys.filter(duplicated).unique().head(5).to_list()
        raise schema_error(
            table, keys.name,
            f"the index has {int(duplicated.sum())} rows with repeated values (e.g. {examples})",
            "deduplicate the table or choose a column whose values are unique",
        )


def _check_key_values(table: str, column: str, keys: pl.Series, role: str) -> None:
    """NaN is no key (it equals nothing), and the kernels index keys as signed 64-bit integers."""
    if keys.dtype.is_float():
        nans = int(keys.is_nan().sum())
        if nans:
            raise schema_error(
                table, column, f"the {role} holds {nans} NaN values, and NaN is not a key",
                "drop those rows" if role == "index" else
                "write a missing key as null (e.g. pl.col(...).fill_nan(None)) for rows "
                "without a parent, or drop those rows")
    if keys.dtype == pl.UInt64 and keys.len() and (keys.max() or 0) > INT64_MAX:
        too_large = int((keys > INT64_MAX).sum())
        raise schema_error(
            table, column,
            f"the {role} holds {too_large} unsigned values above 2**63 - 1 "
            f"(e.g. {keys.filter(keys > INT64_MAX).head(3).to_list()}), which featurekit cannot "
            "hold as keys",
            "cast the keys to strings (pl.col(...).cast(pl.String)) or subtract a base so that "
            "they fit in a signed 64-bit integer, in every table that holds them")


def _report_missing_times(table: str, times: pl.Series) -> None:
    missing = times.null_count()
    if missing and missing == times.len():
        raise schema_error(table, times.name, "the time index holds no time at all",
                           "pass time_index=None if the table has no times, or fill the times")
    if missing:
        warnings.warn(
            f"table {table!r}, time index {times.name!r}: {missing} of {times.len()} rows have no "
            "time. They are kept but never counted by any feature, with or without cutoff "
            "times (a row with no time is never known). Fix: fill the times, or drop those "
            "rows", MissingTimeWarning, stacklevel=4)


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


def _strictly_increasing(values: np.ndarray) -> bool:
    """Whether sorted values never repeat (numpy: no kernel to compile on first use)."""
    return bool(np.all(values[1:] != values[:-1]))
