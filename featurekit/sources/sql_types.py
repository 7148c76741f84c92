"""Declared SQL column types mapped to featurekit's logical types (one table, used by
``from_database`` and printed in the guide), read the way SQLite reads a declared type."""

from __future__ import annotations

import re

# (test on the declared type in upper case without its parameters, logical type, what it
# covers) in the order they are tried: the first match decides. ``None`` keeps the column as
# read and lets add_table infer its type from the values.
SQL_TYPE_RULES: tuple[tuple[str, str | None, str], ...] = (
    (r"^(BOOL|BOOLEAN|BIT)$", "boolean", "BOOLEAN, BOOL, BIT (0/1 or true/false)"),
    (r"^(DATE|DATETIME|SMALLDATETIME|DATETIME2|DATETIMEOFFSET)$|^TIMESTAMP", "datetime",
     "DATE, DATETIME, TIMESTAMP (with or without time zone); text is parsed"),
    (r"^INTERVAL", "timedelta", "INTERVAL"),
    (r"INT|SERIAL", "integer",
     "any name containing INT (INTEGER, BIGINT, SMALLINT, ...), SERIAL; integer_nullable "
     "when values are missing"),
    (r"CHAR|CLOB|TEXT|STRING|UUID|ENUM|CITEXT", "categorical",
     "CHAR, VARCHAR, TEXT, CLOB, UUID, ENUM (pass types= for free text: 'text')"),
    (r"REAL|FLOA|DOUB|NUMERIC|DECIMAL|MONEY|NUMBER", "double",
     "REAL, FLOAT, DOUBLE, NUMERIC, DECIMAL, MONEY (decimals read as floats)"),
)
AS_READ = "anything else (BLOB, BYTEA, JSON, TIME, no declared type): kept as read, type inferred"


def logical_type_of(declared: str | None) -> str | None:
    """The logical type for a declared SQL type, or None to keep the column as read.

    >>> logical_type_of("VARCHAR(10)"), logical_type_of("timestamp with time zone")
    ('categorical', 'datetime')
    >>> logical_type_of("BIGINT"), logical_type_of("NUMERIC(10, 2)"), logical_type_of("BLOB")
    ('integer', 'double', None)
    """
    if not declared:
        return None
    name = re.sub(r"\(.*?\)", "", str(declared)).strip().upper()
    for pattern, logical, _ in SQL_TYPE_RULES:
        if re.search(pattern, name):
            return logical
    return None


def mapping_markdown() -> str:
    """The mapping as a Markdown table (the guide prints it)."""
    lines = ["| declared SQL type | logical type |", "|---|---|"]
    lines += [f"| {covers} | `{logical}` |" for _, logical, covers in SQL_TYPE_RULES]
    lines.append(f"| {AS_READ} | inferred |")
    return "\n".join(lines)
