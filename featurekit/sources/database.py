"""Read a SQL database into an EntitySet: tables, primary keys as indexes, declared foreign
keys as relationships, declared column types as logical types. SQLite through the standard
library is the default; SQLAlchemy URLs/engines and ADBC connections reach other databases."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd

from featurekit.entityset import EntitySet
from featurekit.errors import FeaturekitError, schema_error
from featurekit.sources.assemble import LinkPlan, TablePlan, assemble, check_table_options
from featurekit.sources.sql_types import logical_type_of

SQL_EXTRA = "pip install 'featurekit[sql]'"


@dataclass
class TableSchema:
    """What the database declares about one table."""

    name: str
    columns: dict[str, str | None]  # column -> declared type, in table order
    primary_key: list[str] = field(default_factory=list)
    # (child columns, parent table, parent columns; empty: the parent's primary key)
    foreign_keys: list[tuple[list[str], str, list[str]]] = field(default_factory=list)


@dataclass
class DatabaseSource:
    """A connection opened (or borrowed) for reading: its tables and views, a reader of one
    table's rows, and how to let go of it."""

    label: str
    tables: list[TableSchema]
    views: list[str]
    read: Callable[[str], pd.DataFrame]
    close: Callable[[], None]


def from_database(con: Any, tables: list[str] | None = None,
                  time_indexes: dict[str, str] | None = None,
                  types: dict[str, dict[str, str]] | None = None, validate: bool = True,
                  name: str | None = None, indexes: dict[str, str] | None = None,
                  schema: str | None = None) -> EntitySet:
    """Read the tables of a SQL database into a new EntitySet; see
    ``EntitySet.from_database``."""
    _check_arguments(tables, time_indexes, types, indexes, validate, name)
    source = open_source(con, schema)
    try:
        known = {table.name: table for table in source.tables}
        wanted = _wanted_tables(known, source.views, tables)
        for argument, given in (("time_indexes", time_indexes), ("types", types),
                                ("indexes", indexes)):
            unread = sorted(set(given or {}) - set(wanted))
            if unread:
                raise schema_error(unread[0], None, f"{argument}= names a table that is not "
                                   "read", f"use one of {wanted}, or name it in tables=")
        plans, links = [], []
        for table_name in wanted:
            data = source.read(table_name)
            table = known.get(table_name) or TableSchema(table_name, dict.fromkeys(data.columns))
            plans.append(_plan_table(table, data, time_indexes or {},
                                     (types or {}).get(table_name, {}),
                                     (indexes or {}).get(table_name)))
        index_of = {plan.name: plan.index for plan in plans}
        for table_name in wanted:
            links += _plan_links(known.get(table_name), known, index_of)
        left_out = [{"table": view, "reason": "a view; name it in tables= to read it"}
                    for view in source.views if view not in wanted]
        left_out += [{"table": table, "reason": "not named in tables="}
                     for table in known if table not in wanted]
    finally:
        source.close()
    return assemble(name or _default_name(source.label), source.label, plans, links, validate,
                    left_out)


# ------------------------------------------------------------------ connections
def open_source(con: Any, schema: str | None = None) -> DatabaseSource:
    """A DatabaseSource over a SQLite path, a sqlite3 connection, an SQLAlchemy URL, engine or
    connection, or an ADBC DBAPI connection."""
    if isinstance(con, sqlite3.Connection):
        return _sqlite_source(con, "a sqlite3 connection", close=lambda: None)
    if isinstance(con, str) and "://" in con:
        try:
            engine = _sqlalchemy().create_engine(con)
        except ImportError as error:  # the dialect's driver (psycopg, ...)
            raise FeaturekitError(f"from_database: the driver for {con.split('://')[0]!r} is "
                                  f"not installed ({error}). Fix: {SQL_EXTRA}, or install "
                                  "the database's driver") from None
        return _sqlalchemy_source(engine, schema, _safe_url(engine), close=engine.dispose)
    if isinstance(con, (str, os.PathLike)):
        path = Path(con)
        if not path.is_file():
            raise FeaturekitError(f"from_database: no SQLite file at {str(path)!r}. Fix: give "
                                  "the path of an existing database file, or an SQLAlchemy URL "
                                  "such as 'postgresql+psycopg://user@host/db'")
        connection = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True)
        return _sqlite_source(connection, f"SQLite file {path.name}", close=connection.close)
    module = type(con).__module__ or ""
    if module.startswith("sqlalchemy"):
        engine = getattr(con, "engine", con)
        return _sqlalchemy_source(con, schema, _safe_url(engine), close=lambda: None)
    if module.startswith("adbc_driver"):
        return _adbc_source(con, schema)
    raise FeaturekitError(
        f"from_database: cannot read from a {type(con).__name__}. Fix: pass a SQLite file path, "
        "a sqlite3 connection, an SQLAlchemy URL or engine, or an ADBC DBAPI connection")


def _sqlite_source(connection: sqlite3.Connection, label: str,
                   close: Callable[[], None]) -> DatabaseSource:
    """Tables, keys and declared types from SQLite's own catalogue (``PRAGMA``s)."""
    try:
        listed = connection.execute(
            "SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view') "
            "AND name NOT LIKE 'sqlite_%' ORDER BY rowid").fetchall()
    except sqlite3.DatabaseError as error:
        close()
        raise FeaturekitError(f"from_database: {label} cannot be read as SQLite ({error}). "
                              "Fix: check that it is a SQLite database") from None
    tables = []
    for table_name, kind in listed:
        if kind != "table":
            continue
        info = connection.execute("SELECT name, type, pk FROM pragma_table_info(?)",
                                  (table_name,)).fetchall()
        keys = connection.execute(
            'SELECT id, "table", "from", "to" FROM pragma_foreign_key_list(?) ORDER BY id, seq',
            (table_name,)).fetchall()
        grouped: dict[int, tuple[list[str], str, list[str]]] = {}
        for number, parent, child_column, parent_column in keys:
            entry = grouped.setdefault(number, ([], parent, []))
            entry[0].append(child_column)
            if parent_column is not None:
                entry[2].append(parent_column)
        tables.append(TableSchema(
            table_name, {column: declared or None for column, declared, _ in info},
            [column for column, _, order in sorted(info, key=lambda row: row[2]) if order],
            list(grouped.values())))
    views = [table_name for table_name, kind in listed if kind == "view"]
    return DatabaseSource(label, tables, views,
                          lambda table: pd.read_sql_query(f"SELECT * FROM {_quote(table)}",
                                                          connection), close)


def _sqlalchemy():
    try:
        import sqlalchemy
    except ImportError:
        raise FeaturekitError("from_database: an SQLAlchemy URL or engine needs SQLAlchemy. "
                              f"Fix: {SQL_EXTRA}") from None
    return sqlalchemy


def _sqlalchemy_source(connectable: Any, schema: str | None, label: str,
                       close: Callable[[], None]) -> DatabaseSource:
    """Tables, keys and declared types from SQLAlchemy's inspector (any dialect)."""
    sa = _sqlalchemy()
    try:
        inspector = sa.inspect(connectable)
        dialect = inspector.dialect
        names = inspector.get_table_names(schema=schema)
        views = inspector.get_view_names(schema=schema)
        tables = []
        for table_name in names:
            columns = {column["name"]: _compiled(column["type"], dialect)
                       for column in inspector.get_columns(table_name, schema=schema)}
            primary = inspector.get_pk_constraint(table_name, schema=schema)
            foreign = [(list(key["constrained_columns"]), key["referred_table"],
                        list(key["referred_columns"] or []))
                       for key in inspector.get_foreign_keys(table_name, schema=schema)
                       if key.get("referred_schema") in (None, schema)]
            tables.append(TableSchema(table_name, columns,
                                      list(primary.get("constrained_columns") or []), foreign))
    except sa.exc.SQLAlchemyError as error:
        close()
        raise FeaturekitError(f"from_database: cannot read the catalogue of {label} "
                              f"({error}). Fix: check the URL, the server and the "
                              "permissions") from None
    preparer = dialect.identifier_preparer
    prefix = f"{preparer.quote_schema(schema)}." if schema else ""

    def read(table: str) -> pd.DataFrame:
        query = sa.text(f"SELECT * FROM {prefix}{preparer.quote(table)}")
        if isinstance(connectable, sa.engine.Engine):
            with connectable.connect() as connection:
                return pd.read_sql_query(query, connection)
        return pd.read_sql_query(query, connectable)

    return DatabaseSource(label, tables, views, read, close)


def _compiled(column_type: Any, dialect: Any) -> str:
    """A column type as the database spells it (``VARCHAR(10)``), else its class name."""
    try:
        return column_type.compile(dialect=dialect)
    except Exception:  # types some dialects cannot print (NullType)
        return type(column_type).__name__.upper()


def _safe_url(engine: Any) -> str:
    url = getattr(engine, "url", None)
    return f"database {url.render_as_string(hide_password=True)}" if url is not None else \
        "an SQLAlchemy connection"


def _adbc_source(connection: Any, schema: str | None) -> DatabaseSource:
    """Tables, keys and declared types from ADBC's ``get_objects`` (any ADBC driver)."""
    catalog = _current(connection, "adbc_current_catalog")
    schema = schema if schema is not None else _current(connection, "adbc_current_db_schema")
    objects = connection.adbc_get_objects(depth="all", catalog_filter=catalog,
                                          db_schema_filter=schema).read_all().to_pylist()
    tables, views = [], []
    for found_catalog in objects:
        for found_schema in found_catalog["catalog_db_schemas"] or []:
            for table in found_schema["db_schema_tables"] or []:
                kind = (table["table_type"] or "").lower()
                if "view" in kind:
                    views.append(table["table_name"])
                    continue
                if kind not in ("table", "base table"):
                    continue
                tables.append(_adbc_table(table))
    vendor = connection.adbc_get_info().get("vendor_name", "ADBC")

    def read(table: str) -> pd.DataFrame:
        prefix = f"{_quote(schema)}." if schema else ""
        return pd.read_sql_query(f"SELECT * FROM {prefix}{_quote(table)}", connection)

    return DatabaseSource(f"{vendor} through ADBC", tables, views, read, lambda: None)


def _adbc_table(table: dict) -> TableSchema:
    columns = {column["column_name"]: column.get("xdbc_type_name")
               for column in sorted(table["table_columns"] or [],
                                    key=lambda column: column["ordinal_position"] or 0)}
    primary, foreign = [], []
    for constraint in table["table_constraints"] or []:
        names = list(constraint["constraint_column_names"] or [])
        if constraint["constraint_type"] == "PRIMARY KEY":
            primary = names
        elif constraint["constraint_type"] == "FOREIGN KEY":
            usage = constraint["constraint_column_usage"] or []
            parents = {entry["fk_table"] for entry in usage}
            foreign.append((names, parents.pop() if len(parents) == 1 else "?",
                            [entry["fk_column_name"] for entry in usage]))
    return TableSchema(table["table_name"], columns, primary, foreign)


def _current(connection: Any, attribute: str) -> str | None:
    try:
        return getattr(connection, attribute)
    except Exception:  # drivers without the option
        return None


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _default_name(label: str) -> str:
    return label.split()[-1].rsplit("/", 1)[-1].split(".")[0] or "database"


# ------------------------------------------------------------------ planning
def _check_arguments(tables: Any, time_indexes: Any, types: Any, indexes: Any, validate: Any,
                     name: Any) -> None:
    if tables is not None and (isinstance(tables, str) or not all(
            isinstance(table, str) for table in tables)):
        raise FeaturekitError(f"from_database: tables= must be a list of table names, got "
                              f"{tables!r}. Fix: pass tables=['customers', 'orders'] or None")
    check_table_options("from_database", indexes, time_indexes, types, validate=validate)
    if name is not None and not isinstance(name, str):
        raise FeaturekitError(f"from_database: name= must be a string, got {name!r}")


def _wanted_tables(known: dict[str, TableSchema], views: list[str],
                   tables: list[str] | None) -> list[str]:
    if tables is None:
        if not known:
            raise FeaturekitError("from_database: the database has no tables. Fix: check the "
                                  "path or URL (and schema=)")
        return list(known)
    unknown = [table for table in tables if table not in known and table not in views]
    if unknown:
        raise schema_error(unknown[0], None, "no such table or view in the database",
                           f"name one of {sorted([*known, *views])} in tables=")
    return list(dict.fromkeys(tables))


def _plan_table(table: TableSchema, data: pd.DataFrame, time_indexes: dict[str, str],
                user_types: dict[str, str], given_index: str | None) -> TablePlan:
    """The index (given, primary key, named like a key, or numbered rows), the logical
    types from the declared types, and columns read specially."""
    data, notes = _readable(data, table)
    time_index = time_indexes.get(table.name)
    for role, column in (("index", given_index), ("time index", time_index)):
        if column is not None and column not in data.columns:
            raise schema_error(table.name, column, f"the {role} given is not a column",
                               f"use one of {list(data.columns)}")
    plan = TablePlan(table.name, data, None, "", time_index, declared=dict(table.columns),
                     notes=notes)
    if given_index is not None:
        plan.index, plan.index_from = given_index, "given"
    elif len(table.primary_key) == 1:
        plan.index, plan.index_from = table.primary_key[0], "primary key"
    else:
        plan.made_index = _new_column(f"{table.name}_row", data.columns)
        named = key_by_name(table.name, list(data.columns))
        if len(table.primary_key) > 1:
            plan.index_from = (f"composite primary key ({', '.join(table.primary_key)}): "
                               f"featurekit indexes one column, so rows are numbered in "
                               f"{plan.made_index!r} and the key columns kept")
        elif named is not None:
            plan.index, plan.made_index = named, None
            plan.index_from = f"no primary key declared; {named!r} is named like this table's key"
        else:
            plan.index_from = (f"no primary key declared and no column named like a key: rows "
                               f"numbered in {plan.made_index!r}")
    foreign = {column for columns, _, _ in table.foreign_keys for column in columns}
    for column, declared in table.columns.items():
        logical = logical_type_of(declared)
        is_key = column == plan.index or column in foreign
        if column in user_types or logical is None or is_key and data[column].notna().any():
            continue  # keys keep the type they are read with, unless nothing says what it is
        if column == time_index and logical not in ("datetime", "integer", "double"):
            continue
        if logical == "categorical" and data[column].notna().any() and \
                pd.api.types.is_string_dtype(data[column]):
            continue  # text is read as categories anyway; with validate=False it stays text
        if logical == "integer" and data[column].isna().any():
            logical = "integer_nullable"
        plan.types[column] = logical
    plan.types.update(user_types)
    return plan


def _readable(data: pd.DataFrame, table: TableSchema) -> tuple[pd.DataFrame, dict[str, str]]:
    """Columns a frame cannot hold as read: numbers and text in one column (SQLite allows it)
    become text; decimals become floats. Returns the frame (a copy if changed) and notes."""
    notes: dict[str, str] = {}
    changed: dict[str, pd.Series] = {}
    for column in [name for name, dtype in data.dtypes.items() if dtype == "object"]:
        values = data[column]
        kind = pd.api.types.infer_dtype(values, skipna=True)
        if kind == "decimal":
            changed[column] = values.astype("float64")
            notes[column] = "decimals read as floats"
        elif kind in ("mixed", "mixed-integer"):
            numbers = pd.to_numeric(values, errors="coerce")
            text = int((values.notna() & numbers.isna()).sum())
            changed[column] = values.where(values.isna(), values.astype(str))
            notes[column] = (f"numbers and text in one column: read as text ({text} values "
                             "are not numbers)")
    if changed:
        data = data.assign(**changed)
    return data, notes


def key_by_name(table: str, columns: list[str]) -> str | None:
    """The column named like ``table``'s key: ``<table>_id``, ``<singular>_id`` or ``id``."""
    for candidate in (f"{table}_id", f"{singular(table)}_id", "id"):
        if candidate in columns:
            return candidate
    return None


def singular(word: str) -> str:
    """A plural table name made singular by the common English endings (``categories`` ->
    ``category``, ``boxes`` -> ``box``, ``orders`` -> ``order``)."""
    lowered = word.lower()
    if lowered.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if lowered.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if lowered.endswith("s") and not lowered.endswith("ss"):
        return word[:-1]
    return word


def _new_column(name: str, taken: Any) -> str:
    candidate, number = name, 2
    while candidate in set(taken):
        candidate, number = f"{name}_{number}", number + 1
    return candidate


def _plan_links(table: TableSchema | None, known: dict[str, TableSchema],
                index_of: dict[str, str | None]) -> list[LinkPlan]:
    """One LinkPlan per declared foreign key of ``table``; composite keys and keys into
    tables without a one-column index are left out with the reason."""
    if table is None:
        return []
    links = []
    for child_columns, parent, parent_columns in table.foreign_keys:
        if not parent_columns and parent in known:
            parent_columns = known[parent].primary_key
        link = LinkPlan(parent, ", ".join(parent_columns) or "?", table.name,
                        ", ".join(child_columns), "declared foreign key")
        if not parent_columns:
            link.status, link.reason = "left out", (
                f"it names no column of {parent!r}, and {parent!r} declares no primary key")
        elif len(child_columns) != 1 or len(parent_columns) != 1:
            link.status, link.reason = "left out", (
                "a composite foreign key; featurekit links one child column to its parent's "
                "one-column index")
        elif parent not in index_of:
            link.status = "left out"
            link.reason = (f"table {parent!r} was not read (name it in tables=)" if parent in known
                           else f"table {parent!r} is not in the database")
        links.append(link)
    return links
