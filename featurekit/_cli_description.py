"""The tables of ``featurekit dfs``: read from command-line flags and from a small JSON or YAML
description file, checked, then turned into an EntitySet.

A description file looks like this (paths relative to the file's own folder)::

    {"tables": {"customers": {"path": "customers.parquet", "index": "customer_id",
                              "time_index": "join_date", "types": {"zip_code": "categorical"}},
                "sessions": {"path": "sessions.csv", "index": "session_id"}},
     "relationships": ["customers.customer_id = sessions.customer_id"]}

A relationship is ``"parent.key = child.key"`` or ``{"parent": ..., "parent_key": ...,
"child": ..., "child_key": ...}``. Table names cannot contain a dot; column names may.
Nothing here imports the numeric stack until the EntitySet is built.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from featurekit.errors import FeaturekitError


class UsageError(FeaturekitError):
    """A command-line flag or description file that featurekit cannot use."""


@dataclass
class TableSpec:
    """One table: where its rows are and which columns are its keys."""

    name: str
    path: Path
    index: str
    time_index: str | None = None
    types: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RelationshipSpec:
    parent: str
    parent_key: str
    child: str
    child_key: str


@dataclass
class Description:
    tables: dict[str, TableSpec] = field(default_factory=dict)
    relationships: list[RelationshipSpec] = field(default_factory=list)


_TABLE_KEYS = {"path", "index", "time_index", "types"}
_TOP_KEYS = {"tables", "relationships"}
_OPTION = re.compile(r":(index|time_index)=")


def parse_table_flag(text: str) -> TableSpec:
    """``NAME=PATH:index=COLUMN[:time_index=COLUMN]`` (the path may itself contain colons)."""
    name, equals, rest = text.partition("=")
    if not equals or not name or not rest:
        raise UsageError(f"--table {text!r} is not NAME=PATH:index=COLUMN. "
                         "Fix: e.g. --table customers=customers.parquet:index=customer_id")
    pieces = _OPTION.split(rest)  # [path, key, value, key, value, ...]
    path, options = pieces[0], dict(zip(pieces[1::2], pieces[2::2], strict=True))
    if len(options) != (len(pieces) - 1) // 2:
        raise UsageError(f"--table {text!r} repeats an option. Fix: give index= and time_index= once")
    if not path or "index" not in options or not options["index"]:
        raise UsageError(f"--table {text!r} needs a path and :index=COLUMN. "
                         "Fix: e.g. --table customers=customers.parquet:index=customer_id")
    return TableSpec(_table_name(name, "--table"), Path(path), options["index"],
                     options.get("time_index") or None)


def parse_relationship_flag(text: str) -> RelationshipSpec:
    """``PARENT.KEY=CHILD.KEY``: the child's KEY refers to the parent's index KEY."""
    parent, equals, child = text.partition("=")
    if not equals:
        raise UsageError(f"relationship {text!r} is not PARENT.KEY=CHILD.KEY. "
                         "Fix: e.g. customers.customer_id=sessions.customer_id")
    parent_table, parent_key = _dotted(parent, text)
    child_table, child_key = _dotted(child, text)
    return RelationshipSpec(parent_table, parent_key, child_table, child_key)


def parse_type_flag(text: str) -> tuple[str, str, str]:
    """``TABLE.COLUMN=TYPE`` -> (table, column, logical type)."""
    column, equals, logical_type = text.rpartition("=")
    if not equals or not column or not logical_type.strip():
        raise UsageError(f"--type {text!r} is not TABLE.COLUMN=TYPE. "
                         "Fix: e.g. --type customers.zip_code=categorical")
    table, name = _dotted(column, text, what="TABLE.COLUMN=TYPE")
    return table, name, logical_type.strip()


def _dotted(text: str, whole: str, what: str = "PARENT.KEY=CHILD.KEY") -> tuple[str, str]:
    table, dot, column = text.strip().partition(".")
    if not dot or not table or not column:
        raise UsageError(f"{whole!r} is not {what}: {text.strip()!r} has no TABLE.COLUMN form. "
                         "Fix: name the table, a dot, then the column")
    return table, column


def _table_name(name: str, where: str) -> str:
    if not name or "." in name:
        raise UsageError(f"{where}: table name {name!r} must be non-empty and contain no dot. "
                         "Fix: rename the table (e.g. customers)")
    return name


def read_description(path: Path) -> Description:
    """Read a JSON (or, with PyYAML installed, YAML) description file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"cannot read the description file {str(path)!r}: {_reason(error)}. "
                         "Fix: check the path given to --schema") from None
    if path.suffix.lower() in (".yaml", ".yml"):
        data = _load_yaml(text, path)
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise UsageError(f"description file {str(path)!r} is not valid JSON ({error.msg} at "
                             f"line {error.lineno}, column {error.colno}). Fix: correct the file, "
                             "or name it .yaml/.yml if it is YAML") from None
    return _description_from(data, path)


def _load_yaml(text: str, path: Path) -> Any:
    try:
        import yaml
    except ImportError:
        raise UsageError(f"description file {str(path)!r} is YAML, which needs PyYAML. "
                         "Fix: pip install pyyaml, or write the description as JSON") from None
    try:
        return yaml.safe_load(text)  # safe_load: plain data only, never objects named by the file
    except yaml.YAMLError as error:
        raise UsageError(f"description file {str(path)!r} is not valid YAML "
                         f"({_reason(error)}). Fix: correct the file") from None


def _description_from(data: Any, path: Path) -> Description:
    where = f"description file {str(path)!r}"
    if not isinstance(data, dict) or not isinstance(data.get("tables"), dict) or not data["tables"]:
        raise UsageError(f"{where} must hold an object with a non-empty \"tables\" object. "
                         "Fix: see 'featurekit dfs --help' for the format")
    _no_unknown_keys(data, _TOP_KEYS, where)
    description = Description()
    for name, entry in data["tables"].items():
        table_where = f"{where}, table {name!r}"
        if not isinstance(entry, dict):
            raise UsageError(f"{table_where} must be an object with path and index. "
                             "Fix: e.g. {\"path\": \"customers.parquet\", \"index\": \"customer_id\"}")
        _no_unknown_keys(entry, _TABLE_KEYS, table_where)
        for key in ("path", "index"):
            if not isinstance(entry.get(key), str) or not entry[key]:
                raise UsageError(f"{table_where} has no {key!r} (a non-empty string). "
                                 f"Fix: add \"{key}\"")
        time_index = entry.get("time_index")
        if time_index is not None and not isinstance(time_index, str):
            raise UsageError(f"{table_where}: time_index must be a column name or null. "
                             "Fix: give the name of the time column")
        types = entry.get("types") or {}
        if not isinstance(types, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in types.items()):
            raise UsageError(f"{table_where}: types must map column names to type names. "
                             "Fix: e.g. {\"zip_code\": \"categorical\"}")
        table_path = Path(entry["path"])
        if not table_path.is_absolute():
            table_path = path.parent / table_path
        description.tables[_table_name(str(name), where)] = TableSpec(
            str(name), table_path, entry["index"], time_index, dict(types))
    relationships = data.get("relationships") or []
    if not isinstance(relationships, list):
        raise UsageError(f"{where}: relationships must be a list. "
                         "Fix: e.g. [\"customers.customer_id = sessions.customer_id\"]")
    for entry in relationships:
        description.relationships.append(_relationship_from(entry, where))
    return description


def _relationship_from(entry: Any, where: str) -> RelationshipSpec:
    if isinstance(entry, str):
        return parse_relationship_flag(entry)
    keys = ("parent", "parent_key", "child", "child_key")
    if isinstance(entry, dict) and set(entry) == set(keys) and all(
            isinstance(entry[k], str) and entry[k] for k in keys):
        return RelationshipSpec(*(entry[k] for k in keys))
    raise UsageError(f"{where}: relationship {entry!r} is neither \"parent.key = child.key\" nor "
                     "an object with parent, parent_key, child and child_key. Fix: use one of them")


def _no_unknown_keys(entry: dict, allowed: set[str], where: str) -> None:
    unknown = sorted(set(map(str, entry)) - allowed)
    if unknown:
        raise UsageError(f"{where} has unknown keys {unknown}. Fix: use only {sorted(allowed)}")


def combine(description: Description | None, tables: Iterable[TableSpec],
            relationships: Iterable[RelationshipSpec],
            types: Iterable[tuple[str, str, str]]) -> Description:
    """The description file's tables and relationships, plus those given as flags."""
    combined = Description(dict(description.tables) if description else {},
                           list(description.relationships) if description else [])
    for table in tables:
        if table.name in combined.tables:
            raise UsageError(f"table {table.name!r} is given twice. Fix: give each table once")
        combined.tables[table.name] = table
    combined.relationships.extend(relationships)
    for table, column, logical_type in types:
        if table not in combined.tables:
            raise UsageError(f"--type names table {table!r}, which is not given. "
                             f"Fix: use one of {sorted(combined.tables)}")
        combined.tables[table].types[column] = logical_type
    if not combined.tables:
        raise UsageError("no tables given. Fix: pass --schema FILE or one --table per table")
    return combined


def build_entityset(description: Description, strict: bool = False,
                    on_step: Callable[[str], None] = lambda what: None) -> Any:
    """The EntitySet described: each file read as ``fk.EntitySet.add_table`` reads a path.
    ``on_step`` hears of each step (a progress bar)."""
    from featurekit.entityset import EntitySet

    entityset = EntitySet("featurekit", strict=strict)
    for table in description.tables.values():
        on_step(f"reading {table.name}")
        entityset.add_table(table.name, read_table(table.path, table.name), index=table.index,
                            time_index=table.time_index, types=table.types or None)
    on_step("relating tables")
    for relationship in description.relationships:
        entityset.add_relationship(parent=relationship.parent, parent_key=relationship.parent_key,
                                   child=relationship.child, child_key=relationship.child_key)
    return entityset


def read_table(path: Path, name: str, what: str | None = None) -> Any:
    """A parquet or CSV file as a polars frame (the rule of ``EntitySet.add_table``); a file
    that cannot be read gives a UsageError naming ``what`` (default: the table) and the file,
    not a reader's traceback."""
    import polars as pl

    from featurekit.frames import to_polars

    what = what or f"table {name!r}"
    if path.is_dir():
        raise UsageError(f"{what}: {str(path)!r} is a folder. Fix: give a .parquet or .csv file")
    try:
        return to_polars(str(path), name)
    except FeaturekitError:
        raise
    except (OSError, pl.exceptions.PolarsError, ValueError, RuntimeError) as error:
        raise UsageError(f"{what}: cannot read {str(path)!r} ({_reason(error)}). "
                         "Fix: give a valid .parquet or .csv file") from None


def _reason(error: BaseException) -> str:
    """The first line of an exception's message (readers write whole paragraphs)."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
