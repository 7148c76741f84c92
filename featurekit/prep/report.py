"""The check report: findings as a frame, as readable text and as one self-contained HTML page
(also shown inline in notebooks)."""

from __future__ import annotations

import datetime as dt
import html
import os
from collections.abc import Sequence
from dataclasses import astuple, dataclass, fields
from pathlib import Path
from typing import Any

import pandas as pd

SEVERITIES = ("error", "warning", "info")  # error: es.validate() would refuse the data


@dataclass(frozen=True)
class Finding:
    """One thing wrong or suspicious: which check, where, how many rows, an example, the fix."""

    check: str
    severity: str
    table: str
    column: str | None
    count: int
    message: str
    example_values: list
    example_row: dict
    fix: str


COLUMNS = tuple(f.name for f in fields(Finding))


class CheckReport:
    """What ``es.check()`` found: ``.frame`` (one row per finding), ``print(report)``,
    ``.to_html(path)``; empty when nothing was found.

    >>> import featurekit as fk
    >>> report = fk.demo.load_retail(n_customers=5).check()
    >>> report.count("nulls", table="transactions", column="amount") > 0
    True
    """

    def __init__(self, findings: Sequence[Finding], entityset: str = "entityset",
                 now: dt.datetime | None = None) -> None:
        order = {name: i for i, name in enumerate(SEVERITIES)}
        self.findings = sorted(findings, key=lambda f: order[f.severity])
        self.entityset = entityset
        self.now = now
        self.frame = pd.DataFrame([astuple(f) for f in self.findings] or None,
                                  columns=list(COLUMNS))
        self.frame["count"] = self.frame["count"].astype("int64")
        self.frame["column"] = self.frame["column"].astype(object).where(
            self.frame["column"].notna(), None)

    def __len__(self) -> int:
        return len(self.findings)

    @property
    def empty(self) -> bool:
        return not self.findings

    def count(self, check: str, table: str | None = None, column: str | None = None) -> int:
        """The rows a check found, summed over its findings (in one table / column if given)."""
        return sum(f.count for f in self.findings if f.check == check
                   and (table is None or f.table == table)
                   and (column is None or f.column == column))

    def summary(self) -> str:
        counts = {s: sum(f.severity == s for f in self.findings) for s in SEVERITIES}
        if self.empty:
            return f"Data check of {self.entityset!r}: nothing found"
        return (f"Data check of {self.entityset!r}: {len(self)} findings ({counts['error']} "
                f"errors, {counts['warning']} warnings, {counts['info']} notes)")

    def __str__(self) -> str:
        lines = [self.summary()]
        for f in self.findings:
            where = f.table + (f".{f.column}" if f.column else "")
            lines.append(f"- [{f.severity}] {where}: {f.check}, {f.count} rows. {f.message}")
            if f.example_row:
                lines.append(f"    example row: {_row_text(f.example_row)}")
            lines.append(f"    fix: {f.fix}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<CheckReport {self.summary()}>"

    def _repr_html_(self) -> str:
        return _fragment(self)

    def to_html(self, path: str | os.PathLike[str] | None = None) -> str:
        """One self-contained HTML page (styles inline, no scripts); written to ``path`` when
        given (whole or not at all). Returns the page."""
        page = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                f"<title>{html.escape(self.summary())}</title><style>{_STYLE}</style></head>"
                f"<body>{_fragment(self)}</body></html>\n")
        if path is not None:
            from featurekit._atomic import atomic_path

            with atomic_path(path) as temporary:
                Path(temporary).write_text(page, encoding="utf-8")
        return page


def _value_text(value: Any, limit: int = 40) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _row_text(row: dict, limit: int = 8) -> str:
    items = [f"{k}={_value_text(v)}" for k, v in list(row.items())[:limit]]
    return "{" + ", ".join(items) + (", …" if len(row) > limit else "") + "}"


_STYLE = (
    ".fk-check{font-family:system-ui,sans-serif;font-size:14px}"
    ".fk-check table{border-collapse:collapse}"
    ".fk-check td,.fk-check th{border:1px solid #ccc;padding:4px 8px;text-align:left;"
    "vertical-align:top}"
    ".fk-check .error{background:#fde2e1}.fk-check .warning{background:#fff4d6}"
    ".fk-check .info{background:#eef4fb}.fk-check code{font-size:12px}"
)


def _fragment(report: CheckReport) -> str:
    escape = html.escape
    when = f" (future means after {report.now.isoformat(sep=' ')})" if report.now else ""
    parts = [f"<div class=\"fk-check\"><style>{_STYLE}</style>",
             f"<h3>{escape(report.summary())}</h3><p>{escape(when.strip(' ()'))}</p>"]
    if report.empty:
        return "".join(parts) + "</div>"
    parts.append("<table><tr><th>severity</th><th>check</th><th>table</th><th>column</th>"
                 "<th>count</th><th>what</th><th>example row</th><th>fix</th></tr>")
    for f in report.findings:
        parts.append(
            f"<tr class=\"{escape(f.severity)}\"><td>{escape(f.severity)}</td>"
            f"<td>{escape(f.check)}</td><td>{escape(f.table)}</td>"
            f"<td>{escape(f.column or '')}</td><td>{f.count}</td><td>{escape(f.message)}</td>"
            f"<td><code>{escape(_row_text(f.example_row))}</code></td>"
            f"<td><code>{escape(f.fix)}</code></td></tr>")
    return "".join(parts) + "</table></div>"
