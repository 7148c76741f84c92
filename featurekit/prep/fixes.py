"""The fixes ``es.check()`` proposes, run only on request: remove repeated rows, read numbers and
dates written as text, drop rows whose parent is missing. Each takes an EntitySet or a frame,
returns the cleaned copy (the caller's objects are never changed) and a change report, a
frame with one row per change: table, column, what, count, examples."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa

from featurekit.entityset import EntitySet
from featurekit.errors import FeaturekitError, schema_error
from featurekit.frames import frame_kind, to_polars
from featurekit.prep.checks import _aligned_keys, _key_columns, reads_as_dates, reads_as_numbers
from featurekit.prep.formats import (
    date_values,
    is_text,
    read_numbers,
    slash_order,
    stripped_text,
)
from featurekit.types import ROLE_TAGS, ColumnSchema, infer_logical_type, schema_of

KEEP = ("first", "last", "latest")
REPORT_COLUMNS = ["table", "column", "what", "count", "examples"]
_ROW = "__featurekit_row"


def _report(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=REPORT_COLUMNS)
    frame["count"] = frame["count"].astype("int64")
    return frame


def _change(table: str | None, column: str | None, what: str, count: int,
            examples: Sequence = ()) -> dict:
    return {"table": table, "column": column, "what": what, "count": int(count),
            "examples": [_plain(value) for value in list(examples)[:5]]}


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


# ------------------------------------------------------------------ inputs and outputs
def _target(function: str, data: Any, table: Any) -> tuple[EntitySet | None, list[str]]:
    """The entity set and the tables to fix, or (None, []) for a frame."""
    if isinstance(data, EntitySet):
        if table is None:
            return data, list(data.tables)
        if not isinstance(table, str) or table not in data.tables:
            raise schema_error(str(table), None, f"{function}: no such table in the entity set",
                               f"pass table= one of {sorted(data.tables)}, or None for all")
        return data, [table]
    frame_kind(data)  # a clear error for what is neither a frame nor an entity set
    if table is not None:
        raise FeaturekitError(f"{function}: table= names a table of an EntitySet, and a frame "
                              f"was given. Fix: leave table= out for a frame")
    return None, []


def _columns_argument(function: str, argument: str, value: Any, columns: Sequence[str],
                      table: str | None) -> list[str] | None:
    if value is None:
        return None
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, Sequence) or not all(isinstance(n, str) for n in names) \
            or not names:
        raise FeaturekitError(f"{function}: {argument}= must be a column name or a list of them, "
                              f"got {value!r}. Fix: pass e.g. {argument}=['amount']")
    for name in names:
        if name not in columns:
            raise schema_error(table or "frame", name, f"{function}: {argument}= names an "
                               "absent column", f"use some of {list(columns)}")
    return list(names)


def _rows_kept(data: Any, kept: np.ndarray) -> Any:
    """``data`` (a frame of any kind) without the rows where ``kept`` is False, as a copy."""
    if isinstance(data, pd.DataFrame):
        return data.iloc[np.flatnonzero(kept)].copy()
    if isinstance(data, pa.Table):
        return data.filter(pa.array(kept))
    return to_polars(data, "frame").filter(pl.Series(kept))


def _columns_replaced(data: Any, columns: dict[str, pl.Series]) -> Any:
    """A copy of ``data`` (a frame of any kind) with ``columns`` replaced."""
    if isinstance(data, pd.DataFrame):
        out = data.copy()
        for name, series in columns.items():
            out[name] = pd.Series(series.to_pandas().to_numpy(), index=data.index, name=name)
        return out
    if isinstance(data, pa.Table):
        for name, series in columns.items():
            data = data.set_column(data.schema.get_field_index(name), name, series.to_arrow())
        return data
    return to_polars(data, "frame").with_columns(list(columns.values()))


def replace_frames(entityset: EntitySet, frames: dict[str, pl.DataFrame]) -> EntitySet:
    """A new entity set: ``entityset``'s tables with ``frames`` (polars) in place of theirs,
    for fixes of your own. A column whose dtype changed gets the type read from its new
    values (keeping its key roles) and loses its note; nothing of the old entity set is
    shared that could be changed. The tables keep their checked state: after changing a
    checked table's keys, run ``check()``.

    >>> import polars as pl, featurekit as fk
    >>> es = fk.demo.load_retail(n_customers=3, return_type="polars")
    >>> products = es["products"].frame.with_columns(pl.col("brand").cast(pl.String) + "!")
    >>> fk.prep.replace_frames(es, {"products": products})["products"].frame["brand"][0]
    'A!'
    """
    for name, frame in frames.items():
        if name not in entityset.tables:
            raise schema_error(str(name), None, "replace_frames: no such table",
                               f"use one of {sorted(entityset.tables)}")
        if not isinstance(frame, pl.DataFrame):
            raise schema_error(name, None, f"replace_frames takes polars frames, got "
                               f"{type(frame).__name__}", "pass pl.from_pandas(frame) or the "
                               "table's .frame changed with polars expressions")
        missing = [c for c in entityset[name].columns if c not in frame.columns]
        if missing:
            raise schema_error(name, missing[0], "replace_frames: the new frame lacks this "
                               "column", "keep every column of the table (change values, "
                               "not the columns)")
    new = EntitySet(entityset.name, strict=entityset.strict)
    for name, table in entityset.tables.items():
        schemas, notes = dict(table.schemas), dict(table.notes)
        frame = frames.get(name, table.frame)
        if name in frames:
            for column in frame.columns:
                known = column in table.frame.columns
                if known and frame[column].dtype == table.frame[column].dtype:
                    continue
                logical = infer_logical_type(frame[column])
                roles = table.schemas[column].tags & ROLE_TAGS if known else frozenset()
                schemas[column] = (ColumnSchema(logical, frozenset({"index"}))
                                   if column == table.index else schema_of(logical, roles))
                notes.pop(column, None)
        new.tables[name] = replace(table, frame=frame, schemas=schemas, notes=notes,
                                   declared_types=dict(table.declared_types),
                                   interesting_values=dict(table.interesting_values))
        new.graph.add_node(name)
    new.relationships = list(entityset.relationships)
    new.unchecked_relationships = list(entityset.unchecked_relationships)
    for relationship in entityset.relationships:
        new.graph.add_edge(relationship.parent, relationship.child, key=relationship.child_key,
                           relationship=relationship)
    return new


# ------------------------------------------------------------------ dedupe
def dedupe(data: Any, table: str | None = None, subset: Sequence[str] | str | None = None,
           keep: str = "first", time_column: str | None = None) -> tuple[Any, pd.DataFrame]:
    """Remove rows that repeat an earlier row; returns ``(cleaned, report)``.

    Rows repeat when they are equal in ``subset`` (default: every column, as ``check``
    counts duplicate rows; ``subset=[index]`` removes repeated keys).
    ``keep`` chooses the row kept in each group: ``"first"`` or ``"last"`` in row order, or
    ``"latest"``: the one with the latest time in ``time_column`` (default: the table's time
    index; ties and missing times go to the later row, missing times count as earliest).
    With an entity set and ``table=None``, every table is deduplicated.

    >>> import pandas as pd, featurekit as fk
    >>> orders = pd.DataFrame({"id": [1, 1, 2], "total": [5, 6, 7]})
    >>> cleaned, report = fk.prep.dedupe(orders, subset=["id"], keep="last")
    >>> cleaned["total"].tolist(), report["count"].tolist()
    ([6, 7], [1])
    """
    entityset, tables = _target("dedupe", data, table)
    if not isinstance(keep, str) or keep not in KEEP:
        raise FeaturekitError(f"dedupe: keep={keep!r} is not a choice. Fix: pass keep= one of "
                              f"{list(KEEP)}")
    if time_column is not None and not isinstance(time_column, str):
        raise FeaturekitError(f"dedupe: time_column= must name a column, got {time_column!r}. "
                              "Fix: pass e.g. time_column='updated_at'")
    if entityset is None:
        frame = to_polars(data, "frame")
        kept, change = _dedupe_frame(frame, None, None, subset, keep, time_column)
        return _rows_kept(data, kept), _report([change] if change else [])
    frames, changes = {}, []
    for name in tables:
        t = entityset[name]
        kept, change = _dedupe_frame(t.frame, name, t.index, subset, keep,
                                     time_column or t.time_index)
        if change:
            frames[name] = t.frame.filter(pl.Series(kept))
            changes.append(change)
    return replace_frames(entityset, frames), _report(changes)


def _dedupe_frame(frame: pl.DataFrame, table: str | None, index: str | None, subset: Any,
                  keep: str, time_column: str | None) -> tuple[np.ndarray, dict | None]:
    columns = _columns_argument("dedupe", "subset", subset, frame.columns, table)
    if columns is None:
        columns = [c for c in frame.columns if frame.schema[c] != pl.Object]
    if not columns or frame.height < 2:
        return np.ones(frame.height, dtype=bool), None
    rows = frame.select(columns).with_row_index(_ROW)
    if keep == "latest":
        if time_column is None:
            raise schema_error(table or "frame", None, "dedupe: keep='latest' needs times",
                               "pass time_column= (a table without a time index), or keep="
                               "'first' / 'last'")
        if time_column not in frame.columns:
            raise schema_error(table or "frame", time_column, "dedupe: time_column= names an "
                               "absent column", f"use one of {frame.columns}")
        times = _sortable_times(frame[time_column], table, time_column)
        best = (rows.with_columns(times.alias("__featurekit_time"))
                .sort(["__featurekit_time", _ROW], nulls_last=False)
                .group_by(columns).agg(pl.col(_ROW).last()))[_ROW]
        kept = rows[_ROW].is_in(best.implode()).to_numpy()
    else:
        struct = frame.select(pl.struct(columns).alias("key")).to_series()
        kept = (struct.is_first_distinct() if keep == "first" else struct.is_last_distinct())
        kept = kept.to_numpy()
    removed = int((~kept).sum())
    if not removed:
        return kept, None
    shown = index if index is not None else columns[0]
    examples = frame.filter(pl.Series(~kept))[shown].head(5).to_list()
    described = "every column" if subset is None else f"{columns}"
    return kept, _change(table, None if subset is None else ", ".join(columns),
                         f"removed rows equal to another row in {described} (keep={keep!r}; "
                         f"examples: their {shown!r})", removed, examples)


def _sortable_times(series: pl.Series, table: str | None, column: str) -> pl.Series:
    """Times (or numbers) to order rows by; text is read as dates."""
    dtype = series.dtype
    if dtype.is_numeric() or dtype == pl.Date or isinstance(dtype, pl.Datetime):
        return series
    if is_text(dtype):
        return date_values(stripped_text(series))["value"]
    raise schema_error(table or "frame", column, f"dedupe: a column of type {dtype} cannot "
                       "order rows by time", "pass time_column= a column of times or numbers")


# ------------------------------------------------------------------ numbers and dates
_NUMBER_CHANGES = {
    "plain": "read a number stored as text",
    "currency_sign": "removed a currency sign",
    "decimal_comma": "read a decimal comma as the decimal point",
    "thousands_separator": "removed thousands separators",
}


def parse_numbers(data: Any, table: str | None = None,
                  columns: Sequence[str] | str | None = None) -> tuple[Any, pd.DataFrame]:
    """Read numbers written as text (``"12.5"``, ``"$12.50"``, ``"12,50"``, ``"1,234.5"``,
    ``"1.234,5"``, ``"1 234"``) as Float64; returns ``(cleaned, report)``.

    ``columns`` defaults to the text columns ``check`` reads as numbers (at least 90% of the
    values parse, no code with a leading zero such as ``"02116"``). A comma followed by
    exactly three digits (``"1,234"``) is a thousands separator; any other single comma is a
    decimal comma. A value that still does not parse becomes missing, never zero, and the
    report gives its count and examples.

    >>> import pandas as pd, featurekit as fk
    >>> prices = pd.DataFrame({"price": ["$12.50", "7,25", "1,200", "n/a"]})
    >>> cleaned, report = fk.prep.parse_numbers(prices, columns=["price"])
    >>> cleaned["price"].tolist()[:3], report["what"].tolist()[-1]
    ([12.5, 7.25, 1200.0], 'did not parse: left missing')
    """
    return _parse_text("parse_numbers", data, table, columns, _numbers_of,
                       lambda series, t: reads_as_numbers(
                           series, t.declared_types.get(series.name) if t else None),
                       lambda entityset, name: _key_columns(entityset)[name])


def parse_dates(data: Any, table: str | None = None, columns: Sequence[str] | str | None = None,
                formats: Sequence[str] | str | None = None) -> tuple[Any, pd.DataFrame]:
    """Read dates written as text in one or several formats as Datetime; returns
    ``(cleaned, report)``.

    Without ``formats``, each value is read by the first known format it fits: ISO 8601
    (``2024-01-31``, ``2024-01-31 10:00:00``, ``...T10:00:00.5``), ``2024/01/31``,
    ``31/01/2024`` or ``01/31/2024``, ``31.01.2024``, ``31-01-2024``, ``31 Jan 2024``,
    ``Jan 31, 2024``. Whether ``n/n/yyyy`` is day or month first is decided per column: month
    first only when more values must be month first (a second number above 12) than day
    first; the report counts the values that were ambiguous. ``formats`` (strptime codes such
    as ``"%d/%m/%Y"``) are tried in the given order instead. ``columns`` defaults to the text
    columns ``check`` reads as dates. Values that do not parse become missing and are
    counted in the report.

    >>> import pandas as pd, featurekit as fk
    >>> visits = pd.DataFrame({"day": ["2024-01-31", "31/01/2024", "13/02/2024"]})
    >>> cleaned, report = fk.prep.parse_dates(visits)
    >>> cleaned["day"].dt.strftime("%Y-%m-%d").tolist()
    ['2024-01-31', '2024-01-31', '2024-02-13']
    """
    if formats is not None:
        formats = [formats] if isinstance(formats, str) else formats
        if not isinstance(formats, Sequence) or not formats or not all(
                isinstance(f, str) and "%" in f for f in formats):
            raise FeaturekitError(f"parse_dates: formats= must be strptime formats such as "
                                  f"'%d/%m/%Y', got {formats!r}. Fix: pass e.g. "
                                  "formats=['%Y-%m-%d', '%d/%m/%Y']")
        formats = list(formats)

    def read(series: pl.Series, table_name: str | None) -> tuple[pl.Series, list[dict]]:
        return _dates_of(series, table_name, formats)

    def keys(entityset: EntitySet, name: str) -> set[str]:  # the time index is parsed too
        return {r.child_key for r in entityset.relationships if r.child == name} | {
            entityset[name].index}

    return _parse_text("parse_dates", data, table, columns, read,
                       lambda series, t: reads_as_dates(series), keys)


def _parse_text(function: str, data: Any, table: str | None, columns: Any, read: Any,
                reads_as: Any, skip_of: Any) -> tuple[Any, pd.DataFrame]:
    """What parse_numbers and parse_dates share: parse the text columns of one frame, or of
    the tables of an entity set, with ``read``; ``reads_as(series, table or None)`` picks
    the columns when none are named, ``skip_of(entityset, table)`` the keys never picked."""
    entityset, tables = _target(function, data, table)
    if entityset is None:
        frame = to_polars(data, "frame")
        names = _text_columns(function, frame, None, columns, lambda s: reads_as(s, None))
        parsed, changes = _parse_columns(frame, None, names, read)
        return _columns_replaced(data, parsed), _report(changes)
    frames, changes = {}, []
    for name, wanted in _columns_by_table(function, entityset, tables, columns):
        t = entityset[name]
        names = _text_columns(function, t.frame, name, wanted, lambda s, t=t: reads_as(s, t),
                              skip=skip_of(entityset, name) if wanted is None else set())
        parsed, found = _parse_columns(t.frame, name, names, read)
        if parsed:
            frames[name] = t.frame.with_columns(list(parsed.values()))
        changes += found
    return replace_frames(entityset, frames), _report(changes)


def _columns_by_table(function: str, entityset: EntitySet, tables: list[str],
                      columns: Any) -> list[tuple[str, Any]]:
    """Each table with the columns to parse in it: with several tables, a column named in
    ``columns`` applies to the tables that have it (and must be in one of them)."""
    if columns is None or len(tables) == 1:
        return [(name, columns) for name in tables]
    names = _columns_argument(function, "columns", columns,
                              sorted({c for t in tables for c in entityset[t].columns}), None)
    return [(t, [c for c in names if c in entityset[t].columns]) for t in tables
            if any(c in entityset[t].columns for c in names)]


def _text_columns(function: str, frame: pl.DataFrame, table: str | None, columns: Any,
                  reads: Any, skip: set[str] = frozenset()) -> list[str]:
    """The columns to parse: those given (each must be text, or already parsed), or the text
    columns that ``reads`` accepts."""
    names = _columns_argument(function, "columns", columns, frame.columns, table)
    if names is None:
        return [c for c in frame.columns if c not in skip and reads(frame[c])]
    return names


def _parse_columns(frame: pl.DataFrame, table: str | None, names: list[str], read: Any
                   ) -> tuple[dict[str, pl.Series], list[dict]]:
    parsed, changes = {}, []
    for name in names:
        series = frame[name]
        if not is_text(series.dtype):
            kind = "numbers" if read is _numbers_of else "times"
            wanted = (series.dtype.is_numeric() if read is _numbers_of
                      else series.dtype == pl.Date or isinstance(series.dtype, pl.Datetime))
            if wanted:
                changes.append(_change(table, name, f"already {kind}: unchanged", 0))
                continue
            raise schema_error(table or "frame", name, f"a column of type {series.dtype} "
                               f"holds no text to read as {kind}",
                               "name only text columns in columns=")
        values, found = read(series, table)
        parsed[name] = values.alias(name)
        changes += found
    return parsed, changes


def _counted(read: pl.DataFrame, mask: pl.Series) -> tuple[int, list]:
    """How many rows ``mask`` holds, and up to five of their distinct texts."""
    mask = mask.fill_null(False)
    return int(mask.sum()), read["text"].filter(mask).unique(maintain_order=True).head(5).to_list()


def _numbers_of(series: pl.Series, table: str | None) -> tuple[pl.Series, list[dict]]:
    read = read_numbers(stripped_text(series))
    changes = []
    for kind_name, what in [*_NUMBER_CHANGES.items(), ("unparsed", "did not parse: left missing")]:
        count, examples = _counted(read, read["kind"] == kind_name)
        if count:
            changes.append(_change(table, series.name, what, count, examples))
    return read["value"], changes


def _dates_of(series: pl.Series, table: str | None, formats: list[str] | None
              ) -> tuple[pl.Series, list[dict]]:
    text = stripped_text(series)
    read = pl.concat([pl.DataFrame({"text": text}), date_values(text, formats)],
                     how="horizontal")
    changes = []
    families = (read.drop_nulls("family").group_by("family").len()
                .sort(["len", "family"], descending=[True, False]))
    for family, _ in families.iter_rows():
        count, examples = _counted(read, read["family"] == family)
        changes.append(_change(table, series.name, f"read as {family}", count, examples))
    if formats is None:
        order, ambiguous = slash_order(text)
        if ambiguous:
            count, examples = _counted(read, (read["family"] == order) & read["text"].str.contains(
                r"^(0?[1-9]|1[0-2])/(0?[1-9]|1[0-2])/"))
            changes.append(_change(table, series.name, f"day and month both 12 or less: read "
                                   f"as {order} like the rest of the column", count, examples))
    count, examples = _counted(read, read["value"].is_null() & read["text"].is_not_null())
    if count:
        changes.append(_change(table, series.name, "did not parse: left missing", count,
                               examples))
    return read["value"], changes


# ------------------------------------------------------------------ orphans
def drop_orphans(data: Any, table: str | None = None, key: str | None = None,
                 parent_keys: Any = None) -> tuple[Any, pd.DataFrame]:
    """Drop child rows whose key matches no parent row; returns ``(cleaned, report)``.

    With an entity set: the rows of ``table`` (every child table when None) whose foreign
    key, present, matches no row of the parent. Tables are cleaned parents first, so rows
    whose parent was itself dropped as an orphan go too (the report counts each table).
    Rows with a missing key have no parent to miss and stay. With a frame: ``key`` names the
    column and ``parent_keys`` holds the parent's keys.

    >>> import pandas as pd, featurekit as fk
    >>> orders = pd.DataFrame({"order": [1, 2, 3], "customer": [10, 11, 99]})
    >>> cleaned, report = fk.prep.drop_orphans(orders, key="customer", parent_keys=[10, 11])
    >>> cleaned["order"].tolist(), report["count"].tolist()
    ([1, 2], [1])
    """
    entityset, tables = _target("drop_orphans", data, table)
    if entityset is None:
        frame = to_polars(data, "frame")
        if not isinstance(key, str) or key not in frame.columns:
            raise schema_error("frame", str(key), "drop_orphans: key= must name the frame's "
                               "foreign key column", f"pass key= one of {frame.columns} and "
                               "parent_keys= the parent's keys")
        if parent_keys is None or isinstance(parent_keys, (str, bytes)):
            raise FeaturekitError("drop_orphans: parent_keys= must hold the parent's keys (a "
                                  "list, array or Series). Fix: pass parent_keys=parents['id']")
        parents = pl.Series(list(parent_keys) if not isinstance(parent_keys, pl.Series)
                            else parent_keys)
        orphan = _orphan_mask(frame[key], parents)
        change = _orphan_change(None, key, "the parent keys", frame[key], orphan)
        return _rows_kept(data, ~orphan), _report([change] if change else [])
    if key is not None or parent_keys is not None:
        raise FeaturekitError("drop_orphans: key= and parent_keys= are for a frame; an entity "
                              "set's relationships name them. Fix: pass table= only")
    if table is not None and not entityset.parent_relationships(table):
        raise schema_error(table, None, "drop_orphans: the table has no parent",
                           "name a child table of a relationship")
    order = list(nx.topological_sort(entityset.graph))
    frames: dict[str, pl.DataFrame] = {}
    changes = []
    relationships = sorted(entityset.relationships, key=lambda r: order.index(r.child))
    for relationship in relationships:
        if relationship.child not in tables:
            continue
        child = frames.get(relationship.child, entityset[relationship.child].frame)
        parent = frames.get(relationship.parent, entityset[relationship.parent].frame)
        keys = child[relationship.child_key]
        orphan = _orphan_mask(keys, parent[relationship.parent_key])
        change = _orphan_change(relationship.child, relationship.child_key,
                                repr(relationship.parent), keys, orphan)
        if change:
            frames[relationship.child] = child.filter(~orphan)
            changes.append(change)
    return replace_frames(entityset, frames), _report(changes)


def _orphan_mask(keys: pl.Series, parent_keys: pl.Series) -> pl.Series:
    keys, parent_keys = _aligned_keys(keys, parent_keys)
    present = keys.is_not_null()
    if keys.dtype.is_float():
        present = present & ~keys.is_nan()
    return present & ~keys.is_in(parent_keys.drop_nulls().implode())


def _orphan_change(table: str | None, column: str, parents: str, keys: pl.Series,
                   orphan: pl.Series) -> dict | None:
    count = int(orphan.sum())
    if not count:
        return None
    examples = keys.filter(orphan).unique(maintain_order=True).head(5).to_list()
    return _change(table, column, f"removed rows whose {column!r} matches no key of {parents}",
                   count, examples)
