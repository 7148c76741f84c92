"""New rows for an online entity set, read and checked as ``EntitySet.add_table`` reads a
table (types converted, values that do not parse refused), plus the checks a growing table
needs: the table's columns, indexes not already held, keys naming parents that exist."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import polars as pl

from featurekit.entityset import EntitySet, Table
from featurekit.errors import schema_error
from featurekit.frames import to_polars
from featurekit.online.rows import KeyLookup, key_values


def read_new_rows(entityset: EntitySet, table_name: str, data: Any,
                  lookups: Callable[[str, str], Sequence[KeyLookup]]) -> pl.DataFrame:
    """``data`` as rows of table ``table_name``: its columns in the table's order and types.
    ``lookups(table, column)`` gives the lookups of the rows already held (and those of this
    call), against which the indexes must be new and the foreign keys must be known."""
    if not isinstance(table_name, str) or table_name not in entityset.tables:
        raise schema_error(str(table_name), None, "no such table in the entity set",
                           f"use one of {sorted(entityset.tables)}")
    table = entityset[table_name]
    frame = to_polars(data, table_name, table.index)
    missing = [c for c in table.columns if c not in frame.columns]
    if missing:
        raise schema_error(table_name, missing[0], f"the new rows lack column(s) {missing}",
                           f"give every column of the table: {table.columns}")
    extra = [c for c in frame.columns if c not in table.schemas]
    if extra:
        raise schema_error(table_name, extra[0], f"the new rows have column(s) {extra} that the "
                           "table does not have", f"drop them; the table's columns are {table.columns}")
    frame = _typed_like(table, frame.select(table.columns))
    if frame.height:
        _check_new_indexes(table, frame, lookups(table_name, table.index))
        for relationship in entityset.parent_relationships(table_name):
            _check_known_parents(table_name, relationship.child_key, relationship.parent,
                                 frame[relationship.child_key],
                                 lookups(relationship.parent, relationship.parent_key))
    return frame


def _typed_like(table: Table, frame: pl.DataFrame) -> pl.DataFrame:
    """The rows converted as ``add_table`` converts a table with the table's logical types
    (the same errors for values that do not parse), then stored in the table's own dtypes."""
    scratch = EntitySet("new rows")
    types = {column: schema.logical_type for column, schema in table.schemas.items()
             if schema.logical_type is not None and column != table.time_index}
    scratch.add_table(table.name, frame, index=table.index, time_index=table.time_index,
                      types=types)
    converted = scratch[table.name].frame
    wanted = table.frame.schema
    casts = []
    for column in table.columns:
        if converted.schema[column] == wanted[column]:
            continue
        try:
            casts.append(converted[column].cast(wanted[column], strict=True))
        except pl.exceptions.PolarsError:
            raise schema_error(table.name, column,
                               f"the new rows hold {converted.schema[column]} values, which do not "
                               f"convert to the table's {wanted[column]}",
                               f"give values of the column's type ({table.schemas[column].logical_type})"
                               ) from None
    return converted.with_columns(casts) if casts else converted


def _check_new_indexes(table: Table, frame: pl.DataFrame, held: Sequence[KeyLookup]) -> None:
    values = key_values(frame[table.index])
    taken = np.zeros(len(values), bool)
    for lookup in held:
        taken |= lookup.contains(values)
    if taken.any():
        examples = values[taken][:3].tolist()
        raise schema_error(table.name, table.index,
                           f"{int(taken.sum())} new row(s) repeat an index already held "
                           f"(e.g. {examples})", "give new rows new index values")


def _check_known_parents(table: str, column: str, parent: str, keys: pl.Series,
                         held: Sequence[KeyLookup]) -> None:
    values = key_values(keys)
    known = np.zeros(len(values), bool)
    for lookup in held:
        known |= lookup.contains(values)
    if not known.all():
        examples = np.unique(values[~known])[:3].tolist()
        raise schema_error(table, column,
                           f"{int((~known).sum())} new row(s) refer to no row of {parent!r} "
                           f"(e.g. {examples})",
                           f"add those {parent!r} rows first (or in the same call's rows)")
