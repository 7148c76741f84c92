"""Interesting values: the few values of a categorical column worth a where clause
(``COUNT(sessions WHERE device = mobile)``), chosen from the data as Featuretools 1.31 chooses
them, or given by the user. They are kept on the table and read by the planner."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import polars as pl

from featurekit.arguments import check_count, check_flag, check_text
from featurekit.errors import schema_error

if TYPE_CHECKING:
    from featurekit.entityset import EntitySet, Table

LOGGER = logging.getLogger("featurekit")
FEW_VALUES = 25  # below this many distinct values, the most frequent ones are taken as they come
SHARE_LOW, SHARE_HIGH = 0.05, 0.95  # else a value must hold a share of rows strictly between


def add_interesting_values(entityset: EntitySet, max_values: int = 5, verbose: bool = False,
                           table: str | None = None, values: Mapping | None = None) -> None:
    """Find (or set, with ``values``) the interesting values of ``table``'s columns, or of
    every table's; see ``EntitySet.add_interesting_values``."""
    check_count("max_values", max_values, optional=False)
    check_flag("verbose", verbose)
    check_text("table", table, optional=True)
    names = [entityset[table].name] if table is not None else list(entityset.tables)
    if values is not None:
        given = _given_values(entityset, table, values)
        for name, columns in given.items():
            entityset[name].interesting_values.update(columns)
        return
    for name in names:
        found = _found_values(entityset[name], max_values)
        for column, chosen in found.items():
            if verbose:
                LOGGER.info("table %r, column %r: interesting values %s", name, column, chosen)
            entityset[name].interesting_values[column] = chosen


def _given_values(entityset: EntitySet, table: str | None, values: Any) -> dict[str, dict[str, list]]:
    """``values`` checked: {column: [values]} for ``table``, or {table: {column: [values]}}."""
    if not isinstance(values, Mapping):
        raise schema_error(table or "?", None, f"values= takes a dict, got {type(values).__name__}",
                           "pass values={'device': ['mobile', 'desktop']} with table='sessions'")
    by_table = {table: values} if table is not None else values
    checked: dict[str, dict[str, list]] = {}
    for name, columns in by_table.items():
        if not isinstance(name, str) or name not in entityset.tables:
            raise schema_error(str(name), None, "values= names a table the entity set lacks",
                               f"use one of {sorted(entityset.tables)}, or pass table= and "
                               "values={column: [values]}")
        if not isinstance(columns, Mapping):
            raise schema_error(name, None, f"values= gives {type(columns).__name__} for the table",
                               "pass {column: [values]} for each table")
        for column, chosen in columns.items():
            if column not in entityset[name].columns:
                raise schema_error(name, str(column), "values= names an absent column",
                                   f"use one of {entityset[name].columns}")
            if isinstance(chosen, (str, bytes)) or not hasattr(chosen, "__iter__"):
                raise schema_error(name, column, f"values= gives {chosen!r}, not a list",
                                   f"pass a list, e.g. {{{column!r}: [{chosen!r}]}}")
            chosen = list(chosen)
            wrong = [v for v in chosen if not isinstance(v, (str, bool, int, float))]
            if wrong:
                raise schema_error(name, column, f"interesting values must be strings, numbers "
                                   f"or booleans, got {wrong[:3]!r}", "pass plain values")
            _check_value_kinds(entityset[name], column, chosen)
            checked.setdefault(name, {})[column] = chosen
    return checked


def _check_value_kinds(table: Table, column: str, chosen: list) -> None:
    """Values of the column's kind: text for a text or categorical column, numbers for a
    numeric one, booleans for a boolean one (a where clause compares values as they are)."""
    dtype = table.frame.schema[column]
    if dtype in (pl.String, pl.Categorical, pl.Enum):
        kind, fits = "text", lambda v: isinstance(v, str)
    elif dtype == pl.Boolean:
        kind, fits = "booleans", lambda v: isinstance(v, bool)
    elif dtype.is_numeric():
        kind, fits = "numbers", lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)
    else:
        return
    wrong = [v for v in chosen if not fits(v)]
    if wrong:
        raise schema_error(table.name, column, f"the column holds {kind}, and values= gives "
                           f"{wrong[:3]!r}", f"pass {kind}, e.g. {[str(v) for v in wrong[:1]]!r}"
                           if kind == "text" else f"pass {kind}")


def _found_values(table: Table, max_values: int) -> dict[str, list]:
    """Per categorical column (neither index nor key): the most frequent values, most frequent
    first (ties in sorted order, as pandas orders a category column's counts), at most
    ``max_values``. With 25 or more distinct values, only those holding more than 5% and
    less than 95% of the rows (missing values counted in the rows) are taken, stopping at the
    first that does not."""
    found: dict[str, list] = {}
    rows = table.frame.height
    for column, schema in table.schemas.items():
        if "category" not in schema.tags or column == table.index or "foreign_key" in schema.tags:
            continue
        counts = (table.frame.select(pl.col(column).cast(pl.String) if table.frame.schema[column]
                                     in (pl.Categorical, pl.Enum) else pl.col(column))
                  .drop_nulls().group_by(column).len()
                  .sort(["len", column], descending=[True, False]).head(max(FEW_VALUES, max_values)))
        chosen = []
        for value, count in counts.head(max_values).iter_rows():
            if counts.height >= FEW_VALUES and not SHARE_LOW < count / rows < SHARE_HIGH:
                break
            chosen.append(value)
        if chosen:
            found[column] = chosen
    return found
