"""Lazy parquet tables: a table that stays on disk as a polars scan, validated without
loading it (schema from the parquet metadata, logical types from a bounded sample, keys and
times checked with streaming scans of only their columns), and read later by partitions
with predicate and projection pushdown."""

from __future__ import annotations

import glob
import os
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import polars as pl

from featurekit.coercion import INT64_MAX
from featurekit.errors import ComputeError, MissingTimeWarning, OrphanWarning, schema_error

SAMPLE_ROWS = 10_000  # rows read (the first ones, in file order) to infer logical types
PARQUET_SUFFIXES = (".parquet", ".pq")
_GLOB_CHARACTERS = set("*?[")


@dataclass(frozen=True)
class ParquetSource:
    """A table's parquet files, as stored and as the entity set types them."""

    paths: tuple[str, ...]
    stored: dict[str, pl.DataType]  # the files' types
    dtypes: dict[str, pl.DataType]  # the types the entity set gives the columns
    height: int
    row_bytes: dict[str, float]  # bytes per row of each column, measured on the sample
    stamps: tuple[tuple[str, int, int], ...]  # (path, size, modification time) of each file

    def _typed(self, frame: pl.LazyFrame, columns: list[str]) -> pl.LazyFrame:
        typed = []
        for column in columns:
            expression, changed = pl.col(column), False
            if self.dtypes[column] != self.stored[column]:
                expression, changed = expression.cast(self.dtypes[column]), True
            if self.dtypes[column].is_float():  # NaN is a missing value, as in eager tables
                expression, changed = expression.fill_nan(None), True
            if changed:
                typed.append(expression.alias(column))
        return frame.with_columns(typed) if typed else frame

    def scan(self, columns: list[str]) -> pl.LazyFrame:
        """The columns as a lazy frame, typed as the entity set types them."""
        return self._typed(pl.scan_parquet(list(self.paths)).select(columns), columns)

    def read(self, columns: list[str], index: str, keys: pl.Series | None,
             known: pl.Expr | None) -> pl.DataFrame:
        """The rows whose ``index`` is in ``keys`` (all when None) that ``known`` keeps, in
        file order: the key filter is pushed into the parquet reader, only ``columns`` read."""
        rows = pl.scan_parquet(list(self.paths)).select(columns)
        if keys is not None:
            rows = rows.filter(pl.col(index).is_in(keys.cast(self.stored[index]).implode()))
        rows = self._typed(rows, columns)
        if known is not None:
            rows = rows.filter(known)
        return rows.collect(engine="streaming")

    def bytes_per_row(self, columns: list[str]) -> float:
        return float(sum(self.row_bytes.get(c, 8.0) for c in columns))

    def identity(self) -> list:
        """What identifies the data (for an output directory's manifest)."""
        return [list(map(list, self.stamps)), {c: str(d) for c, d in self.dtypes.items()}]


def is_lazy(table: Any) -> bool:
    return getattr(table, "lazy", False)


def parquet_paths(table: str, data: Any) -> tuple[str, ...]:
    """The parquet files of ``data``: a file, a directory (its ``.parquet`` files, recursively,
    in name order) or a glob pattern; anything else is refused."""
    if isinstance(data, (list, tuple)) and data and all(isinstance(p, (str, os.PathLike)) for p in data):
        found = [str(p) for p in data]
    elif isinstance(data, (str, os.PathLike)):
        text = str(data)
        if _GLOB_CHARACTERS & set(text):
            found = sorted(glob.glob(text, recursive=True))
        elif Path(text).is_dir():
            found = sorted(str(p) for p in Path(text).rglob("*") if p.is_file()
                           and p.suffix.lower() in PARQUET_SUFFIXES)
        elif Path(text).exists():
            found = [text]
        else:
            raise schema_error(table, None, f"lazy=True: {text!r} does not exist",
                               "pass a parquet file, a directory of parquet files or a glob "
                               "such as 'data/transactions/*.parquet'")
    else:
        raise schema_error(table, None,
                           f"lazy=True needs parquet files, got a {type(data).__name__}",
                           "pass a parquet file, a directory or a glob; or add a frame "
                           "without lazy=True (it is in memory already)")
    if not found:
        raise schema_error(table, None, f"lazy=True: no parquet file matches {str(data)!r}",
                           "check the path or the glob pattern")
    other = [p for p in found if Path(p).suffix.lower() not in PARQUET_SUFFIXES]
    if other:
        raise schema_error(table, None,
                           f"lazy=True reads parquet files only, and {other[:3]} are not parquet",
                           "convert them to parquet, or add the table without lazy=True "
                           "(CSV is read into memory)")
    return tuple(found)


def make_lazy_table(name: str, data: Any, index: str, time_index: str | None,
                    types: dict[str, str] | None, errors: str, make_index: bool):
    """A ``LazyTable`` for ``add_table(..., lazy=True)``, validated without loading it."""
    from featurekit.entityset import (
        LazyTable,
        _check_column_names,
        _check_index,
        _check_overrides,
        _typed_columns,
    )

    if make_index:
        raise schema_error(name, index, "make_index=True needs the rows in memory",
                           "write the index column into the parquet files, or pass lazy=False")
    if errors != "raise":
        raise schema_error(name, None, "errors='coerce' needs the rows in memory",
                           "clean the values in the parquet files, or pass lazy=False")
    paths = parquet_paths(name, data)
    try:
        scan = pl.scan_parquet(list(paths))
        stored = dict(scan.collect_schema())
        sample = scan.head(SAMPLE_ROWS).collect()
    except (pl.exceptions.PolarsError, OSError) as error:
        raise schema_error(name, None, f"lazy=True could not read the parquet files: {error}",
                           "check that the files are parquet with one schema") from None
    _check_column_names(name, sample)
    if index not in stored:
        raise schema_error(name, index, "the index column is absent", f"pass index= one of {list(stored)}")
    if time_index is not None and time_index not in stored:
        raise schema_error(name, time_index, "the time index column is absent",
                           f"pass time_index= one of {list(stored)} or None")
    if types is not None and not isinstance(types, dict):
        raise schema_error(name, None, f"types= must be a dict, got {type(types).__name__}",
                           "pass types={'column': 'categorical'} or similar")
    overrides = _check_overrides(name, sample, time_index, {} if types is None else types)
    typed, schemas = _typed_columns(name, sample, index, time_index, overrides, "raise")
    for column in sample.columns:
        if typed[column].dtype != sample[column].dtype and not _cast_reproduces(sample[column], typed[column]):
            raise schema_error(
                name, column, f"the column is stored as {sample[column].dtype} and must be read "
                f"as {typed[column].dtype} by a conversion that is more than a cast",
                f"store it as {typed[column].dtype} in the parquet files, or add the table "
                "without lazy=True")
    _check_index(name, typed[index].head(0))  # its type; values are checked over every file
    schemas = _integers_with_missing_values(paths, scan, schemas, set(overrides), index)
    dtypes = dict(typed.schema)
    height = _check_keys_and_times(name, scan, index, time_index)
    row_bytes = {c: (typed[c].estimated_size() / typed.height if typed.height else 8.0)
                 for c in typed.columns}
    stamps = tuple((p, os.stat(p).st_size, os.stat(p).st_mtime_ns) for p in paths)
    source = ParquetSource(paths, stored, dtypes, height, row_bytes, stamps)
    return LazyTable(name, source, index, time_index, schemas)


def _integers_with_missing_values(paths: tuple[str, ...], scan: pl.LazyFrame, schemas: dict,
                                  given: set[str], index: str) -> dict:
    """Integer columns the sample saw complete, typed ``integer_nullable`` when any file has a
    missing value in them, as a loaded table would be: counted from the parquet footers'
    statistics (no data read), or by a streaming scan of the column where a footer lacks them."""
    from featurekit.types import INTEGER, INTEGER_NULLABLE, schema_of

    candidates = [c for c, schema in schemas.items()
                  if schema.logical_type == INTEGER and c not in given and c != index]
    if not candidates:
        return schemas
    import pyarrow.parquet as pq

    missing = dict.fromkeys(candidates, 0)
    unknown: set[str] = set()
    for path in paths:
        metadata = pq.ParquetFile(path).metadata
        positions = {metadata.schema.column(i).path: i for i in range(metadata.num_columns)}
        for column in candidates:
            for group in range(metadata.num_row_groups):
                if column not in positions:
                    unknown.add(column)
                    break
                statistics = metadata.row_group(group).column(positions[column]).statistics
                if statistics is None or not statistics.has_null_count:
                    unknown.add(column)
                    break
                missing[column] += statistics.null_count
    if unknown:
        counted = scan.select(pl.col(sorted(unknown)).null_count()).collect(engine="streaming")
        missing.update({column: int(counted[column][0]) for column in unknown})
    updated = dict(schemas)
    for column, count in missing.items():
        if count:
            extra = schemas[column].tags - schema_of(INTEGER).tags
            updated[column] = schema_of(INTEGER_NULLABLE, frozenset(extra))
    return updated


def _cast_reproduces(stored: pl.Series, typed: pl.Series) -> bool:
    """Whether a plain cast of the stored values gives the typed ones (on the sample)."""
    try:
        return stored.cast(typed.dtype).equals(typed, check_names=False, null_equal=True)
    except pl.exceptions.PolarsError:
        return False


def _check_keys_and_times(name: str, scan: pl.LazyFrame, index: str, time_index: str | None) -> int:
    """One streaming pass over the key columns: index present and distinct, time index not
    empty (missing times reported with their count). Returns the row count."""
    columns = [pl.len().alias("rows"), pl.col(index).null_count().alias("index_missing"),
               pl.col(index).n_unique().alias("distinct")]
    dtype = scan.collect_schema()[index]
    if dtype.is_float():
        columns.append(pl.col(index).is_nan().sum().alias("index_nan"))
    if dtype == pl.UInt64:
        columns.append((pl.col(index) > INT64_MAX).sum().alias("index_too_large"))
    if time_index is not None:
        columns.append(pl.col(time_index).null_count().alias("time_missing"))
    counts = scan.select(columns).collect(engine="streaming").row(0, named=True)
    rows = int(counts["rows"])
    if counts.get("index_nan"):
        raise schema_error(name, index, f"the index holds {counts['index_nan']} NaN values, and "
                           "NaN is not a key", "drop those rows")
    if counts.get("index_too_large"):
        raise schema_error(name, index, f"the index holds {counts['index_too_large']} unsigned "
                           "values above 2**63 - 1, which featurekit cannot hold as keys",
                           "store the keys as strings or as signed 64-bit integers")
    if counts["index_missing"]:
        raise schema_error(name, index, f"the index has {counts['index_missing']} missing values",
                           "drop or fill those rows; every row needs its own key")
    distinct = int(counts["distinct"])
    if distinct < rows:
        repeated = (scan.select(index).group_by(index).len().filter(pl.col("len") > 1)
                    .collect(engine="streaming"))
        examples = repeated[index].head(5).to_list()
        raise schema_error(
            name, index,
            f"the index has {int(repeated['len'].sum())} rows with repeated values (e.g. {examples})",
            "deduplicate the table or choose a column whose values are unique")
    if time_index is not None:
        missing = int(counts["time_missing"])
        if rows and missing == rows:
            raise schema_error(name, time_index, "the time index holds no time at all",
                               "pass time_index=None if the table has no times, or fill the times")
        if missing:
            warnings.warn(
                f"table {name!r}, time index {time_index!r}: {missing} of {rows} rows have no "
                "time. They are kept but never counted by any feature, with or without cutoff "
                "times (a row with no time is never known). Fix: fill the times, or drop those "
                "rows", MissingTimeWarning, stacklevel=4)
    return rows


def _keys(table: Any, column: str) -> pl.LazyFrame:
    if is_lazy(table):
        return table.source.scan([column])
    return table.frame.lazy().select(column)


def relate(entityset: Any, relationship: Any) -> None:
    """``add_relationship`` where a lazy table takes part: key types checked on the schemas,
    orphans counted by a streaming anti-join of the two key columns."""
    from featurekit.entityset import _align_key_dtype, _key_family

    parent = entityset.tables[relationship.parent]
    child = entityset.tables[relationship.child]
    parent_dtype = _dtypes(parent)[relationship.parent_key]
    child_dtype = _dtypes(child)[relationship.child_key]
    if child_dtype != parent_dtype:
        families = {_key_family(child_dtype), _key_family(parent_dtype)}
        if len(families) != 1 and not families <= {"integer", "float"}:
            raise schema_error(
                relationship.child, relationship.child_key,
                f"key type {child_dtype} cannot match parent key {relationship.parent}."
                f"{relationship.parent_key} of type {parent_dtype}",
                f"cast {relationship.child}.{relationship.child_key} to {parent_dtype} before "
                "adding the table")
        if is_lazy(child):
            lossy = (child.source.scan([relationship.child_key])
                     .select((pl.col(relationship.child_key).cast(parent_dtype, strict=False)
                              .is_null() & pl.col(relationship.child_key).is_not_null()).sum())
                     .collect(engine="streaming").item())
            if lossy:
                raise schema_error(
                    relationship.child, relationship.child_key,
                    f"{lossy} keys of type {child_dtype} do not fit the parent key's {parent_dtype}",
                    f"store {relationship.child}.{relationship.child_key} as {parent_dtype}")
            child.source = replace(child.source, dtypes={**child.source.dtypes,
                                                         relationship.child_key: parent_dtype})
        else:
            child.frame = child.frame.with_columns(_align_key_dtype(
                child.frame[relationship.child_key], pl.Series(dtype=parent_dtype), relationship))
    orphans = (_keys(child, relationship.child_key).drop_nulls()
               .join(_keys(parent, relationship.parent_key), left_on=relationship.child_key,
                     right_on=relationship.parent_key, how="anti")
               .select(pl.len()).collect(engine="streaming").item())
    if orphans:
        if entityset.strict:
            raise schema_error(relationship.child, relationship.child_key,
                               f"{orphans} rows refer to no row of {relationship.parent!r}",
                               "add the missing parents or drop those rows (strict=True)")
        warnings.warn(
            f"table {relationship.child!r}, column {relationship.child_key!r}: {orphans} rows "
            f"refer to no row of {relationship.parent!r}; they take part in no feature of "
            f"{relationship.parent!r}. Fix: add the missing parents or drop those rows",
            OrphanWarning, stacklevel=4)


def _dtypes(table: Any) -> dict[str, pl.DataType]:
    return table.source.dtypes if is_lazy(table) else dict(table.frame.schema)


def lazy_table_error(name: str) -> ComputeError:
    return ComputeError(
        f"table {name!r} is a lazy parquet table (added with lazy=True): its rows are not in "
        "memory, and this step needs all of them. Fix: compute with fk.compute / fk.dfs (they "
        "read the columns they need, or partition by partition with partitions=...), or add "
        "the table without lazy=True to load it")
