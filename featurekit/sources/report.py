"""What a source reader did: the tables and relationships it read, how it found each key,
and what it left out and why, as frames a user can filter and a text they can read."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

TABLE_COLUMNS = ("table", "rows", "columns", "index", "index_from", "time_index", "status",
                 "reason")
RELATIONSHIP_COLUMNS = ("parent", "parent_key", "child", "child_key", "found_by", "status",
                        "reason", "key_share", "orphans")
COLUMN_COLUMNS = ("table", "column", "declared_type", "logical_type", "note")
STATUSES = ("read", "added", "left out", "ambiguous")


@dataclass
class SourceReport:
    """What ``EntitySet.from_database`` / ``from_directory`` read (``es.source_report``).

    ``tables``: one row per table found (rows, index and where it came from, status "read" or
    "left out" with the reason). ``relationships``: one row per relationship declared, given
    or considered (status "added", "left out" or "ambiguous", the reason, the share of child
    keys found among the parent's keys and the orphan count). ``columns``: each column's
    declared type and the logical type it got, with a note when it was read specially.
    ``notes``: remarks on the source as a whole (e.g. no relationship found).
    """

    source: str
    tables: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=TABLE_COLUMNS))
    relationships: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=RELATIONSHIP_COLUMNS))
    columns: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=COLUMN_COLUMNS))
    notes: list[str] = field(default_factory=list)  # what concerns the source as a whole

    @property
    def left_out(self) -> pd.DataFrame:
        """Everything not taken as found (tables and relationships left out or ambiguous),
        one row each: kind, name, status, reason."""
        tables = self.tables[self.tables["status"] != "read"]
        links = self.relationships[~self.relationships["status"].isin(["added"])]
        rows = [{"kind": "table", "name": row.table, "status": row.status, "reason": row.reason}
                for row in tables.itertuples()]
        rows += [{"kind": "relationship", "name": _link_name(row), "status": row.status,
                  "reason": row.reason} for row in links.itertuples()]
        return pd.DataFrame(rows, columns=["kind", "name", "status", "reason"])

    def __str__(self) -> str:
        read = self.tables[self.tables["status"] == "read"]
        added = self.relationships[self.relationships["status"] == "added"]
        lines = [f"Read from {self.source}: {len(read)} tables, {len(added)} relationships"]
        for row in read.itertuples():
            time = f", time index {row.time_index}" if isinstance(row.time_index, str) else ""
            lines.append(f"  table {row.table}: {row.rows} rows, {row.columns} columns, "
                         f"index {row.index} ({row.index_from}){time}")
        for row in added.itertuples():
            orphans = f", {row.orphans} orphans" if row.orphans else ""
            lines.append(f"  relationship {_link_name(row)} ({row.found_by}{orphans})")
        notes = self.columns[self.columns["note"].astype(bool)]
        for row in notes.itertuples():
            lines.append(f"  column {row.table}.{row.column}: {row.note}")
        lines += [f"Note: {note}" for note in self.notes]
        left = self.left_out
        if len(left):
            lines.append(f"Left out or ambiguous ({len(left)}):")
            lines += [f"  {row.kind} {row.name}: {row.status}, {row.reason}"
                      for row in left.itertuples()]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        parts = [f"<h4>Read from {self.source}</h4>"]
        for title, frame in (("Tables", self.tables), ("Relationships", self.relationships),
                             ("Columns", self.columns)):
            parts.append(f"<h5>{title}</h5>" + frame.to_html(index=False))
        return "".join(parts)


def _link_name(row) -> str:
    return f"{row.parent}.{row.parent_key} <- {row.child}.{row.child_key}"
