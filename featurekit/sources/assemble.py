"""Build an EntitySet from tables read by a source, with keys and relationships chosen
beforehand, and record in a SourceReport what was added, left out and why."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import pandas as pd
import polars as pl

from featurekit.entityset import EntitySet
from featurekit.errors import FeaturekitError, SchemaError
from featurekit.sources.report import (
    COLUMN_COLUMNS,
    RELATIONSHIP_COLUMNS,
    TABLE_COLUMNS,
    SourceReport,
)


@dataclass
class TablePlan:
    """A table to add: its data, its index (None: number the rows in ``made_index``), where
    the index came from, and the types to pass to add_table."""

    name: str
    data: Any
    index: str | None
    index_from: str
    time_index: str | None = None
    types: dict[str, str] = field(default_factory=dict)
    declared: dict[str, str] = field(default_factory=dict)  # column -> declared type
    notes: dict[str, str] = field(default_factory=dict)  # column -> how it was read
    made_index: str | None = None


@dataclass
class LinkPlan:
    """A relationship to add (status "pending"), or one already decided against."""

    parent: str
    parent_key: str
    child: str
    child_key: str
    found_by: str
    status: str = "pending"
    reason: str = ""
    key_share: float | None = None


def assemble(name: str, source: str, tables: list[TablePlan], links: list[LinkPlan],
             validate: bool, left_out_tables: list[dict] | None = None) -> EntitySet:
    """Add the planned tables, then the pending relationships in order; a relationship that
    cannot be added (its parent key is not the parent's index, it points at its own table or
    closes a cycle) is left out with the reason. Returns the EntitySet with
    ``source_report`` set."""
    entityset = EntitySet(name)
    table_rows = []
    for plan in tables:
        _add_table(entityset, plan, validate)
        frame = entityset[plan.name].frame
        table_rows.append({"table": plan.name, "rows": frame.height, "columns": frame.width,
                           "index": entityset[plan.name].index, "index_from": plan.index_from,
                           "time_index": plan.time_index, "status": "read", "reason": ""})
    for row in left_out_tables or []:
        table_rows.append({**dict.fromkeys(TABLE_COLUMNS), **row, "status": "left out"})
    link_rows = [_add_link(entityset, link, validate) for link in links]
    column_rows = [{"table": plan.name, "column": column,
                    "declared_type": plan.declared.get(column),
                    "logical_type": schema.logical_type, "note": plan.notes.get(column, "")}
                   for plan in tables
                   for column, schema in entityset[plan.name].schemas.items()]
    notes = []
    if len(tables) > 1 and not links:
        notes.append("no relationship was declared or found: the tables are not linked; "
                     "add them with es.add_relationship(parent, parent_key, child, child_key)")
    entityset.source_report = SourceReport(
        source, pd.DataFrame(table_rows, columns=TABLE_COLUMNS),
        pd.DataFrame(link_rows, columns=RELATIONSHIP_COLUMNS),
        pd.DataFrame(column_rows, columns=COLUMN_COLUMNS), notes)
    return entityset


def _add_table(entityset: EntitySet, plan: TablePlan, validate: bool) -> None:
    arguments: dict[str, Any] = {"time_index": plan.time_index, "types": plan.types or None}
    if plan.index is None:
        arguments.update(index=plan.made_index, make_index=True)
    else:
        arguments["index"] = plan.index
    if not validate:
        if "validate" not in inspect.signature(entityset.add_table).parameters:
            raise FeaturekitError("validate=False needs EntitySet.add_table(validate=...), which "
                                  "this featurekit does not have. Fix: pass validate=True")
        arguments["validate"] = False
    try:
        entityset.add_table(plan.name, plan.data, **arguments)
    except SchemaError as error:
        index_note = ("" if plan.index_from in ("primary key", "given") else
                      f"The index was chosen because {plan.index_from}; indexes= chooses "
                      "another. ")
        raise type(error)(f"{error}. {index_note}Or pass validate=False to read the tables as "
                          "they are and list every problem with es.check()") from None


def _add_link(entityset: EntitySet, link: LinkPlan, validate: bool) -> dict:
    row = {column: getattr(link, column, None) for column in RELATIONSHIP_COLUMNS}
    if link.status != "pending":
        return row
    if link.parent not in entityset or link.child not in entityset:
        missing = link.parent if link.parent not in entityset else link.child
        return {**row, "status": "left out", "reason": f"table {missing!r} was not read"}
    if link.found_by == "given":  # asked for by name: what cannot be added is an error
        entityset.add_relationship(link.parent, link.parent_key, link.child, link.child_key)
        return _added(entityset, link, row)
    parent_index = entityset[link.parent].index
    if link.parent_key != parent_index:
        return {**row, "status": "left out",
                "reason": f"it refers to {link.parent}.{link.parent_key}, which is not the "
                          f"parent's index ({parent_index}); featurekit links a child column to "
                          "its parent's index"}
    if link.parent == link.child:
        return {**row, "status": "left out",
                "reason": "it refers to its own table (a self-reference); featurekit's "
                          "relationships link two tables: model the hierarchy as a separate "
                          "table if you need it"}
    if nx.has_path(entityset.graph, link.child, link.parent):
        route = nx.shortest_path(entityset.graph, link.child, link.parent)
        return {**row, "status": "left out",
                "reason": f"it would close a cycle {[*route, link.child]}; relationships must "
                          "form a hierarchy, and the ones read before it were kept"}
    try:
        entityset.add_relationship(link.parent, link.parent_key, link.child, link.child_key)
    except SchemaError as error:
        if validate:
            raise
        return {**row, "status": "left out", "reason": str(error)}
    return _added(entityset, link, row)


def _added(entityset: EntitySet, link: LinkPlan, row: dict) -> dict:
    present = entityset[link.child].frame[link.child_key].drop_nulls()
    parent_keys = entityset[link.parent].frame[link.parent_key]
    found = count_found(present, parent_keys)
    row.update(status="added", orphans=present.len() - found)
    if row["key_share"] is None:
        row["key_share"] = found / present.len() if present.len() else 1.0
    return row


def count_found(keys: pl.Series, parent_keys: pl.Series) -> int:
    """How many of ``keys`` (present values) are among ``parent_keys``."""
    if keys.len() == 0:
        return 0
    if keys.dtype != parent_keys.dtype:
        keys, parent_keys = keys.cast(pl.String), parent_keys.cast(pl.String)
    return int(keys.is_in(parent_keys.implode()).sum())


def check_table_options(caller: str, indexes: Any, time_indexes: Any, types: Any,
                        **flags: Any) -> None:
    """The options both readers take, checked the same way: ``indexes`` and
    ``time_indexes`` map table names to column names, ``types`` maps table names to
    ``{column: type}``, and each of ``flags`` is True or False."""
    for argument, value in (("indexes", indexes), ("time_indexes", time_indexes)):
        if value is not None and not (isinstance(value, dict) and all(
                isinstance(key, str) and isinstance(column, str)
                for key, column in value.items())):
            raise FeaturekitError(f"{caller}: {argument}= must map table names to column "
                                  f"names, got {value!r}. Fix: pass "
                                  f"{argument}={{'orders': 'column'}}")
    if types is not None and not (isinstance(types, dict)
                                  and all(isinstance(value, dict) for value in types.values())):
        raise FeaturekitError(f"{caller}: types= must map table names to {{column: type}}, "
                              f"got {types!r}. Fix: pass types={{'orders': {{'note': 'text'}}}}")
    for argument, value in flags.items():
        if not isinstance(value, bool):
            raise FeaturekitError(f"{caller}: {argument} must be True or False, got "
                                  f"{value!r}. Fix: pass {argument}=True or False")
