"""Read a folder of parquet / CSV files (a small data lake) into an EntitySet: one table per
file or per sub-folder of parts, indexes given or found by name, relationships given or
inferred from matching key names, with a report of what was inferred, why, and what was
ambiguous."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import polars as pl

from featurekit.entityset import EntitySet, Relationship
from featurekit.errors import FeaturekitError, schema_error
from featurekit.frames import to_polars
from featurekit.sources.assemble import (
    LinkPlan,
    TablePlan,
    assemble,
    check_table_options,
    count_found,
)
from featurekit.sources.database import key_by_name, singular

PARQUET = (".parquet", ".pq")
CSV = (".csv",)
KEY_SHARE = 0.9  # an inferred relationship needs at least this share of child keys in the parent


def from_directory(path: str | os.PathLike[str], indexes: dict[str, str] | None = None,
                   time_indexes: dict[str, str] | None = None,
                   relationships: list | None = None, infer_relationships: bool = True,
                   validate: bool = True, types: dict[str, dict[str, str]] | None = None,
                   name: str | None = None) -> EntitySet:
    """Read every parquet / CSV file of a folder as a table; see
    ``EntitySet.from_directory``."""
    folder = Path(path)
    if not folder.is_dir():
        raise FeaturekitError(f"from_directory: {str(folder)!r} is not a folder. Fix: give the "
                              "folder that holds one parquet or CSV file (or sub-folder of "
                              "parquet parts) per table")
    check_table_options("from_directory", indexes, time_indexes, types,
                        validate=validate, infer_relationships=infer_relationships)
    found, left_out = _table_files(folder)
    if not found:
        raise FeaturekitError(f"from_directory: {str(folder)!r} holds no parquet or CSV file. "
                              "Fix: give the folder of the tables' files")
    for argument, given in (("indexes", indexes), ("time_indexes", time_indexes),
                            ("types", types)):
        unknown = sorted(set(given or {}) - set(found))
        if unknown:
            raise schema_error(unknown[0], None, f"{argument}= names a table the folder lacks",
                               f"use one of {sorted(found)}")
    frames = {table: _read(table, files) for table, files in found.items()}
    plans = [_plan_table(table, frame, (indexes or {}).get(table),
                         (time_indexes or {}).get(table), (types or {}).get(table, {}))
             for table, frame in frames.items()]
    index_of = {plan.name: plan.index for plan in plans}
    if relationships is not None:
        links = [_given_link(item, frames) for item in relationships]
    elif infer_relationships:
        links = infer_links(frames, index_of)
    else:
        links = []
    return assemble(name or folder.resolve().name or "directory", f"folder {folder.name}",
                    plans, links, validate, left_out)


def _table_files(folder: Path) -> tuple[dict[str, list[Path]], list[dict]]:
    """Table name -> its files (one file, or a sub-folder's parts); other entries, left out
    with the reason. Hidden entries (``.x``, ``_SUCCESS``) are skipped."""
    found: dict[str, list[Path]] = {}
    left_out = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith((".", "_")):
            continue
        if entry.is_dir():
            parts = sorted(part for part in entry.rglob("*") if part.is_file()
                           and not part.name.startswith((".", "_"))
                           and part.suffix.lower() in PARQUET + CSV)
            kinds = {part.suffix.lower() in PARQUET for part in parts}
            if not parts:
                left_out.append({"table": entry.name,
                                 "reason": "a sub-folder without parquet or CSV parts"})
                continue
            if len(kinds) > 1:
                raise schema_error(entry.name, None, "the sub-folder mixes parquet and CSV "
                                   "parts", "keep one kind of file per table")
            table = entry.name
        elif entry.suffix.lower() in PARQUET + CSV:
            parts, table = [entry], entry.stem
        else:
            left_out.append({"table": entry.name, "reason": "not a parquet or CSV file"})
            continue
        if table in found:
            raise schema_error(table, None, f"two entries of the folder make the same table "
                               f"({found[table][0].name} and {parts[0].name})",
                               "keep one file or sub-folder per table name")
        found[table] = parts
    return found, left_out


def _read(table: str, files: list[Path]) -> pl.DataFrame:
    if len(files) == 1:
        return to_polars(files[0], table)
    frames = [to_polars(part, table) for part in files]
    try:
        return pl.concat(frames, how="diagonal_relaxed")
    except pl.exceptions.PolarsError as error:
        raise schema_error(table, None, f"its {len(files)} parts do not stack ({error})",
                           "give every part the same columns and types") from None


def _plan_table(table: str, frame: pl.DataFrame, given: str | None, time_index: str | None,
                types: dict[str, str]) -> TablePlan:
    for role, column in (("index", given), ("time index", time_index)):
        if column is not None and column not in frame.columns:
            raise schema_error(table, column, f"the {role} given is not a column",
                               f"use one of {frame.columns}")
    plan = TablePlan(table, frame, given, "given", time_index, dict(types))
    if given is not None:
        return plan
    candidates = [column for column in (f"{table}_id", f"{singular(table)}_id", "id")
                  if column in frame.columns]
    unique = [column for column in candidates if frame[column].null_count() == 0
              and frame[column].n_unique() == frame.height]
    if unique:
        plan.index = unique[0]
        plan.index_from = f"inferred: {unique[0]!r} is named like this table's key and unique"
    elif candidates:
        column = key_by_name(table, frame.columns)
        repeated = frame.height - frame[column].n_unique()
        plan.index = column
        plan.index_from = (f"inferred: {column!r} is named like this table's key, but has "
                           f"{repeated} repeated or missing values")
    else:
        plan.made_index = _free_name(f"{table}_row", frame.columns)
        plan.index_from = (f"no column named {table}_id, {singular(table)}_id or id: rows "
                           f"numbered in {plan.made_index!r}")
    return plan


def _free_name(name: str, taken: list[str]) -> str:
    candidate, number = name, 2
    while candidate in taken:
        candidate, number = f"{name}_{number}", number + 1
    return candidate


def _given_link(item: Any, frames: dict[str, pl.DataFrame]) -> LinkPlan:
    """A relationship given as (parent, parent_key, child, child_key), a dict of those four
    names, or a Relationship."""
    if isinstance(item, Relationship):
        parts = (item.parent, item.parent_key, item.child, item.child_key)
    elif isinstance(item, dict):
        parts = tuple(item.get(key) for key in ("parent", "parent_key", "child", "child_key"))
    else:
        parts = tuple(item) if isinstance(item, (tuple, list)) else ()
    if len(parts) != 4 or not all(isinstance(part, str) for part in parts):
        raise FeaturekitError(f"from_directory: a relationship must be (parent, parent_key, "
                              f"child, child_key), got {item!r}. Fix: pass relationships="
                              "[('customers', 'customer_id', 'orders', 'customer_id')]")
    for table, column in ((parts[0], parts[1]), (parts[2], parts[3])):
        if table not in frames:
            raise schema_error(table, column, "a relationship names a table the folder lacks",
                               f"use one of {sorted(frames)}")
        if column not in frames[table].columns:
            raise schema_error(table, column, "a relationship names an absent column",
                               f"use one of {frames[table].columns}")
    return LinkPlan(*parts, found_by="given")


def infer_links(frames: dict[str, pl.DataFrame],
                index_of: dict[str, str | None]) -> list[LinkPlan]:
    """Relationships from matching key names: a child column named like a parent's index
    (``customer_id``; or ``<parent>_id`` / ``<singular>_id`` when the parent's index is
    ``id``) whose present values are at least ``KEY_SHARE`` parent keys. A column matching
    several parents is ambiguous (none added); two tables sharing one index name are a
    one-to-one pair whose direction is not inferred."""
    links: list[LinkPlan] = []
    for child, frame in frames.items():
        for column in frame.columns:
            if column == index_of[child]:
                shared = [parent for parent, index in index_of.items()
                          if parent != child and index == column]
                links += [LinkPlan(parent, column, child, column, "inferred", "ambiguous",
                                   f"both tables are indexed by {column!r} (one to one): give "
                                   "the direction with relationships=")
                          for parent in shared if parent < child]
                continue
            parents = [parent for parent, index in index_of.items() if parent != child
                       and index is not None and _names_match(column, parent, index)]
            candidates = [_candidate(frames, parent, index_of[parent], child, column)
                          for parent in parents]
            good = [link for link in candidates if link.status == "pending"]
            if len(good) > 1:
                for link in good:
                    link.status = "ambiguous"
                    link.reason = (f"{column!r} matches the keys of {len(good)} tables "
                                   f"({', '.join(sorted(g.parent for g in good))}): name the "
                                   "parent with relationships=")
            links += candidates
    return links


def _names_match(column: str, parent: str, index: str) -> bool:
    if column == index:
        return True
    return index == "id" and column in (f"{parent}_id", f"{singular(parent)}_id")


def _candidate(frames: dict[str, pl.DataFrame], parent: str, parent_key: str, child: str,
               column: str) -> LinkPlan:
    keys, parent_keys = frames[child][column].drop_nulls(), frames[parent][parent_key]
    link = LinkPlan(parent, parent_key, child, column, "inferred")
    if _family(keys.dtype) != _family(parent_keys.dtype):
        link.status = "left out"
        link.reason = (f"the names match but the types differ ({keys.dtype} and "
                       f"{parent_keys.dtype}): cast one and pass relationships=")
        return link
    found = count_found(keys, parent_keys)
    share = found / keys.len() if keys.len() else 0.0
    link.key_share = share
    if keys.len() == 0 or share < KEY_SHARE:
        link.status = "left out"
        link.reason = (f"the names match but only {found} of {keys.len()} values "
                       f"({share:.0%}) are keys of {parent!r} (an inferred relationship needs "
                       f"{KEY_SHARE:.0%})")
    else:
        link.reason = (f"{column!r} names the index of {parent!r}, and {found} of "
                       f"{keys.len()} values ({share:.1%}) are its keys")
    return link


def _family(dtype: pl.DataType) -> str:
    if dtype.is_numeric():
        return "number"
    if dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum):
        return "text"
    return str(dtype)
