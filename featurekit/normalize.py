"""``EntitySet.normalize``: split a parent table out of a column of an existing table, as
Featuretools' ``normalize_dataframe`` does (one row per distinct value, the columns that
belong to it moved or copied, its time index the first time the value was seen)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

from featurekit.arguments import check_names
from featurekit.errors import schema_error
from featurekit.types import ColumnSchema

if TYPE_CHECKING:
    from featurekit.entityset import EntitySet


def normalize(
    entityset: EntitySet,
    base_table: str,
    new_table: str,
    index: str,
    additional_columns: list[str] | None = None,
    copy_columns: list[str] | None = None,
    make_time_index: bool | str | None = None,
    make_secondary_time_index: dict[str, list[str]] | None = None,
    new_table_time_index: str | None = None,
) -> EntitySet:
    """Add ``new_table`` with one row per distinct present value of ``base_table.index`` and
    relate it to ``base_table`` through that column; returns the entity set.

    Each row of the new table is the one where its key was first seen: the earliest by the
    base table's time index (then by its index), or the first in row order when the base
    table has none; rows without a key make no parent. ``additional_columns`` move to the
    new table, ``copy_columns`` are copied. ``make_time_index`` (default: True when the
    base table has a time index) gives the new table a time index: True takes the base
    table's time index, named ``new_table_time_index`` or ``first_<base_table>_time``; a
    column name takes that column (which must be moved or copied). The caller's frames are
    never modified; the entity set's base table loses the moved columns.

    Examples
    --------
    >>> import pandas as pd, featurekit as fk
    >>> orders = pd.DataFrame({"order": [1, 2, 3], "customer": ["a", "b", "a"],
    ...                        "city": ["oslo", "rome", "oslo"],
    ...                        "time": pd.to_datetime(["2024-01-03", "2024-01-01", "2024-01-02"])})
    >>> es = fk.EntitySet().add_table("orders", orders, index="order", time_index="time")
    >>> es = es.normalize("orders", "customers", "customer", additional_columns=["city"])
    >>> es["customers"].frame.rows()
    [('b', 'rome', datetime.datetime(2024, 1, 1, 0, 0)), ('a', 'oslo', datetime.datetime(2024, 1, 2, 0, 0))]
    >>> es["orders"].columns
    ['order', 'customer', 'time']
    """
    base = entityset[base_table]
    additional = _column_list(base_table, "additional_columns", additional_columns)
    copied = _column_list(base_table, "copy_columns", copy_columns)
    _check_new_table(entityset, base, new_table, index, additional, copied)
    if make_secondary_time_index is not None:
        raise schema_error(base_table, None,
                           "featurekit has no secondary time index (make_secondary_time_index)",
                           "leave make_secondary_time_index=None; a value known only later "
                           "belongs in a child table with its own time index")
    if new_table_time_index is not None and not isinstance(new_table_time_index, str):
        raise schema_error(new_table, None, f"new_table_time_index must be a column name, got "
                           f"{new_table_time_index!r}", "pass e.g. new_table_time_index='first_seen'")
    source, time_index = _time_index_source(base, new_table, additional, copied, make_time_index,
                                            new_table_time_index)
    if time_index is not None and time_index == index:
        raise schema_error(new_table, index, "the new table's time index and index would be one column",
                           "pass new_table_time_index= another name")
    selected = [index, *additional, *copied]
    if source is not None and source not in selected:
        selected.append(source)
    rows = base.frame.filter(pl.col(index).is_not_null())
    if base.time_index is not None:  # first seen: earliest time, then smallest index
        rows = rows.sort([base.time_index, base.index], nulls_last=True, maintain_order=True)
    rows = rows.unique(subset=[index], keep="first", maintain_order=True).select(selected)
    schemas = {column: base.schemas[column].without_roles() for column in selected}
    if source is not None and time_index != source:
        rows = rows.rename({source: time_index})
        schemas[time_index] = schemas.pop(source)
    schemas[index] = ColumnSchema(schemas[index].logical_type, frozenset({"index"}))
    if time_index is not None:
        schemas[time_index] = schemas[time_index].with_tags({"time_index"})
    from featurekit.entityset import Table

    entityset.tables[new_table] = Table(new_table, rows, index, time_index,
                                        {column: schemas[column] for column in rows.columns},
                                        base.source_kind)
    entityset.graph.add_node(new_table)
    base.frame = base.frame.drop(additional)
    for column in additional:
        del base.schemas[column]
    entityset.add_relationship(parent=new_table, parent_key=index, child=base_table, child_key=index)
    return entityset


def _column_list(table: str, argument: str, value: Any) -> list[str]:
    names = check_names(argument, value) or []
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise schema_error(table, repeated[0], f"{argument} names this column twice",
                           f"name each column once in {argument}")
    return names


def _check_new_table(entityset: EntitySet, base: Any, new_table: str, index: str,
                     additional: list[str], copied: list[str]) -> None:
    if not isinstance(new_table, str) or not new_table:
        raise schema_error(str(new_table), None, "the new table needs a name (a non-empty string)",
                           "pass new_table='customers' or similar")
    if new_table in entityset.tables:
        raise schema_error(new_table, None, "a table of this name already exists",
                           "choose another name for the new table")
    if not isinstance(index, str) or index not in base.frame.columns:
        raise schema_error(base.name, str(index), "the new table's index must be a column of the "
                           "base table", f"pass index= one of {base.columns}")
    if index == base.index:
        raise schema_error(base.name, index, "the new table's index cannot be the base table's index",
                           "pass the column whose values name the new table's rows")
    for argument, names in (("additional_columns", additional), ("copy_columns", copied)):
        for column in names:
            if column not in base.frame.columns:
                raise schema_error(base.name, column, f"{argument} names an absent column",
                                   f"use columns of {base.columns}")
            if column == index:
                raise schema_error(base.name, column, f"{argument} names the new table's index",
                                   f"leave {column!r} out of {argument}; it becomes the index")
    both = sorted(set(additional) & set(copied))
    if both:
        raise schema_error(base.name, both[0], "a column is both moved and copied",
                           "name it in additional_columns or in copy_columns, not both")
    keys = {r.child_key for r in entityset.parent_relationships(base.name)}
    for column in additional:
        if column in (base.index, base.time_index):
            role = "index" if column == base.index else "time index"
            raise schema_error(base.name, column, f"the base table's {role} cannot move to the "
                               "new table", "name it in copy_columns instead")
        if column in keys:
            raise schema_error(base.name, column, "a column that refers to another table cannot "
                               "move", "name it in copy_columns instead")


def _time_index_source(base: Any, new_table: str, additional: list[str], copied: list[str],
                       make_time_index: bool | str | None,
                       new_table_time_index: str | None) -> tuple[str | None, str | None]:
    """The base column the new time index comes from, and its name in the new table."""
    if make_time_index is None:
        make_time_index = base.time_index is not None
    if isinstance(make_time_index, str):
        if make_time_index not in base.frame.columns:
            raise schema_error(base.name, make_time_index, "make_time_index names an absent column",
                               f"use one of {base.columns}, or True for the base time index")
        if make_time_index not in additional + copied:
            raise schema_error(base.name, make_time_index, "make_time_index names a column that "
                               "neither moves nor is copied",
                               "name it in additional_columns or copy_columns too")
        if base.schemas[make_time_index].logical_type != "datetime" and \
                not base.schemas[make_time_index].is_numeric:
            raise schema_error(base.name, make_time_index, "a time index must hold times or numbers",
                               "choose a datetime column")
        return make_time_index, make_time_index
    if not isinstance(make_time_index, bool):
        raise schema_error(base.name, None, f"make_time_index must be True, False, None or a "
                           f"column name, got {make_time_index!r}", "pass make_time_index=True")
    if not make_time_index:
        return None, None
    if base.time_index is None:
        raise schema_error(base.name, None, "make_time_index=True needs a base table with a time "
                           "index", "pass make_time_index='a datetime column' or False")
    return base.time_index, new_table_time_index or f"first_{base.name}_time"


__all__ = ["normalize"]
