"""``es.check()``: find what is wrong or suspicious in an entity set's data, each finding with
its table, column, count and an example row. Every check is a few polars expressions over
whole columns, so a million rows take about a second. Nothing here changes the data: :mod:`featurekit.prep.fixes` does, on request."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from featurekit.coercion import is_present
from featurekit.entityset import EntitySet, Relationship, Table
from featurekit.errors import FeaturekitError, schema_error
from featurekit.prep.formats import (
    LEADING_ZERO,
    date_values,
    is_text,
    looks_like_dates,
    mostly_numbers,
    read_numbers,
    stripped_text,
)
from featurekit.prep.report import CheckReport, Finding
from featurekit.types import CATEGORY_TYPES, NUMERIC_TYPES, normalize_user_type

PARSED_SHARE = 0.9  # a text column is read as numbers (or dates) when this share parses
# Unit words dropped from column names before comparing scales across tables
# (``amount_cents`` is compared with ``amount``).
UNIT_SUFFIXES = ("_cents", "_cent", "_dollars", "_usd", "_eur", "_gbp", "_pence", "_in_cents",
                 "_kg", "_g", "_grams", "_mm", "_cm", "_m", "_km", "_ms", "_s", "_seconds")
SCALE_MIN_POWER = 2  # medians 100x apart or more ...
SCALE_TOLERANCE = 2.0  # ... within a factor 2 of a power of ten (50-200x, 500-2000x, ...)


@dataclass
class _Column:
    """What the checks learnt about one column: its values as numbers or times, if any."""

    numbers: pl.Series | None = None  # Float64, one per row (text columns parsed)
    times: pl.Series | None = None  # Datetime, one per row (text columns parsed)
    from_text: bool = False


@dataclass
class _TableFacts:
    columns: dict[str, _Column] = field(default_factory=dict)


def check(entityset: EntitySet, now: Any = None,
          pairs: Sequence[tuple[str, str]] | None = None) -> CheckReport:
    """Check every table and relationship of ``entityset``; returns a CheckReport.

    Checks: duplicate rows (equal in every column), duplicate keys, orphans
    per relationship, missing values per column, numbers stored as text, numbers written
    with currency signs, decimal commas or thousands separators, dates in several formats,
    values that parse as nothing, units or scales that differ between two columns of the
    same name in two tables (or the ``pairs`` given as ``("table.column", "table.column")``),
    rows dated after ``now`` (default: the current time) and child rows dated before their
    parent row.

    >>> import pandas as pd, featurekit as fk
    >>> es = fk.EntitySet().add_table("t", pd.DataFrame({"id": [1, 1], "x": ["$5", "7"]}),
    ...                               index="id", validate=False)
    >>> fk.prep.check(es).frame[["check", "column", "count"]].values.tolist()
    [['duplicate_keys', 'id', 1], ['numbers_as_text', 'x', 2], ['currency_signs', 'x', 1]]
    """
    if not isinstance(entityset, EntitySet):
        raise FeaturekitError(f"check needs an EntitySet, got {type(entityset).__name__}. "
                              "Fix: build one with fk.EntitySet().add_table(...)")
    moment = _moment(now)
    pairs = _checked_pairs(entityset, pairs)
    keys = _key_columns(entityset)
    findings: list[Finding] = []
    facts: dict[str, _TableFacts] = {}
    for table in entityset.tables.values():
        facts[table.name] = _TableFacts()
        findings += _duplicates(table)
        findings += _nulls(table)
        for column in table.columns:
            if column in keys[table.name] and column != table.time_index:
                continue
            found, learnt = _column_formats(table, column)
            findings += found
            facts[table.name].columns[column] = learnt
        findings += _type_notes(table, facts[table.name])
        findings += _future(table, facts[table.name], moment)
    for relationship in entityset.relationships:
        findings += _orphans(entityset, relationship)
        findings += _before_parent(entityset, relationship, facts)
    findings += _scales(entityset, facts, keys, pairs)
    return CheckReport(findings, entityset.name, moment)


# ------------------------------------------------------------------ arguments
def _moment(now: Any) -> dt.datetime:
    if now is None:
        return dt.datetime.now().replace(microsecond=0)
    if isinstance(now, str):
        try:
            return dt.datetime.fromisoformat(now)
        except ValueError:
            pass
    elif isinstance(now, dt.datetime):
        return now
    elif isinstance(now, dt.date):
        return dt.datetime.combine(now, dt.time())
    else:
        try:
            import pandas as pd

            if isinstance(now, pd.Timestamp):
                return now.to_pydatetime()
        except ImportError:  # pragma: no cover - pandas is a dependency
            pass
    raise FeaturekitError(f"now= must be a datetime, a date or an ISO 8601 string, got {now!r}. "
                          "Fix: pass e.g. now='2024-06-30'")


def _checked_pairs(entityset: EntitySet, pairs: Any) -> list[tuple[tuple[str, str], ...]]:
    if pairs is None:
        return []
    if isinstance(pairs, (str, bytes)) or not isinstance(pairs, Sequence):
        raise FeaturekitError(f"pairs= must be a list of ('table.column', 'table.column') pairs, "
                              f"got {pairs!r}. Fix: pass e.g. pairs=[('orders.total', "
                              "'refunds.total_cents')]")
    checked = []
    for pair in pairs:
        if isinstance(pair, (str, bytes)) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise FeaturekitError(f"each of pairs= is two 'table.column' names, got {pair!r}. "
                                  "Fix: pass e.g. ('orders.total', 'refunds.total_cents')")
        names = []
        for name in pair:
            table, _, column = str(name).partition(".")
            if table not in entityset.tables:
                raise schema_error(table, None, f"pairs= names {name!r}, and there is no such "
                                   "table", f"use one of {sorted(entityset.tables)}")
            if column not in entityset[table].columns:
                raise schema_error(table, column, f"pairs= names {name!r}, and the table has no "
                                   "such column", f"use one of {entityset[table].columns}")
            names.append((table, column))
        checked.append(tuple(names))
    return checked


def _key_columns(entityset: EntitySet) -> dict[str, set[str]]:
    """Index, time index and foreign keys of each table: not values to parse or compare."""
    keys = {name: {t.index} | ({t.time_index} if t.time_index else set())
            for name, t in entityset.tables.items()}
    for relationship in entityset.relationships:
        keys[relationship.child].add(relationship.child_key)
    return keys


# ------------------------------------------------------------------ helpers
def _example(frame: pl.DataFrame, mask: pl.Series | pl.Expr) -> dict:
    """The first row where ``mask`` holds, as a dict (empty when none)."""
    rows = frame.filter(mask).head(1).to_dicts()
    return rows[0] if rows else {}


def _finding(check_name: str, severity: str, table: str, column: str | None, count: int,
             message: str, example_row: dict, fix: str, examples: Sequence = ()) -> Finding:
    return Finding(check_name, severity, table, column, int(count), message,
                   [str(value) for value in examples], example_row, fix)


# ------------------------------------------------------------------ rows and keys
def _hashable_columns(frame: pl.DataFrame) -> list[str]:
    return [name for name, dtype in frame.schema.items() if dtype != pl.Object]


def _repeated_rows(frame: pl.DataFrame, columns: list[str]) -> pl.Series:
    """Rows equal to an earlier row in ``columns``. Equal rows hash equally, so when no two
    row hashes repeat (the usual case) no row repeats; otherwise rows are compared exactly."""
    hashes = frame.select(pl.struct(columns).hash(seed=0)).to_series()
    if hashes.is_unique().all():
        return pl.repeat(False, frame.height, eager=True)
    return ~frame.select(pl.struct(columns).is_first_distinct()).to_series()


def _duplicates(table: Table) -> list[Finding]:
    frame, findings = table.frame, []
    columns = _hashable_columns(frame)
    if frame.height > 1:
        repeated = _repeated_rows(frame, columns)
        count = int(repeated.sum())
        if count:
            findings.append(_finding(
                "duplicate_rows", "warning", table.name, None, count,
                f"{count} rows repeat an earlier row in every column", _example(frame, repeated),
                f"fk.prep.dedupe(es, table={table.name!r})"))
    keys = frame[table.index]
    if keys.dtype != pl.Object and frame.height > 1:
        repeated = ~keys.is_first_distinct() & keys.is_not_null()
        count = int(repeated.sum())
        if count:
            values = keys.filter(repeated).unique(maintain_order=True)
            findings.append(_finding(
                "duplicate_keys", "error", table.name, table.index, count,
                f"{count} rows repeat the key of an earlier row ({values.len()} distinct keys)",
                _example(frame, repeated),
                f"fk.prep.dedupe(es, table={table.name!r}, subset=[{table.index!r}], "
                "keep='first' or 'last'" + (" or 'latest'" if table.time_index else "") + ")",
                values.head(5).to_list()))
    return findings


def _nulls(table: Table) -> list[Finding]:
    frame = table.frame
    missing = {name: ~is_present(frame[name]) for name in frame.columns
               if frame.schema[name] != pl.Object}
    findings = []
    for column, mask in missing.items():
        count = int(mask.sum())
        if not count:
            continue
        if column == table.index:
            severity, fix = "error", "drop those rows or give them keys: every row needs a key"
        elif column == table.time_index:
            severity = "warning"
            fix = "fill the times, or drop those rows: a row without a time is never counted"
        else:
            severity = "info"
            fix = ("nothing if missing has a meaning (featurekit keeps missing values missing, "
                   "never zero); otherwise fill them at the source")
        findings.append(_finding("nulls", severity, table.name, column, count,
                                 f"{count} of {frame.height} values are missing (null, NaN or "
                                 "blank)", _example(frame, mask), fix))
    return findings


def _aligned_keys(child: pl.Series, parent: pl.Series) -> tuple[pl.Series, pl.Series]:
    """Child and parent keys in one comparable dtype (numbers as floats, else strings)."""
    if child.dtype == parent.dtype:
        return child, parent
    if child.dtype.is_numeric() and parent.dtype.is_numeric():
        return child.cast(pl.Float64), parent.cast(pl.Float64)
    return stripped_text(child), stripped_text(parent)


def _orphans(entityset: EntitySet, relationship: Relationship) -> list[Finding]:
    child = entityset[relationship.child].frame
    parent = entityset[relationship.parent].frame
    keys, parent_keys = _aligned_keys(child[relationship.child_key],
                                      parent[relationship.parent_key])
    present = keys.is_not_null()
    if keys.dtype.is_float():
        present = present & ~keys.is_nan()
    orphan = present & ~keys.is_in(parent_keys.drop_nulls().implode())
    count = int(orphan.sum())
    if not count:
        return []
    missing = child[relationship.child_key].filter(orphan).unique(maintain_order=True)
    return [_finding(
        "orphans", "warning", relationship.child, relationship.child_key, count,
        f"{count} rows refer to no row of {relationship.parent!r} ({missing.len()} distinct "
        f"keys); they would take part in no feature of {relationship.parent!r}",
        _example(child, orphan),
        f"fk.prep.drop_orphans(es, table={relationship.child!r}), or add the missing "
        f"{relationship.parent!r} rows", missing.head(5).to_list())]


# ------------------------------------------------------------------ text formats
def _column_formats(table: Table, column: str) -> tuple[list[Finding], _Column]:
    """Numbers and dates hidden in a column: read them, and report how they are written."""
    series = table.frame[column]
    dtype = series.dtype
    if dtype == pl.Date or isinstance(dtype, pl.Datetime):
        return [], _Column(times=series.cast(pl.Datetime("us")) if dtype == pl.Date else series)
    if dtype.is_numeric() and dtype != pl.Boolean:
        if column == table.time_index:
            return [], _Column()
        return [], _Column(numbers=series.cast(pl.Float64))
    if not is_text(dtype):
        return [], _Column()
    text = stripped_text(series)
    present = text.len() - text.null_count()
    if present == 0:
        return [], _Column()
    declared = _declared_type(table.declared_types.get(column))
    if column != table.time_index:
        read = _read_numbers(text, present, declared)
        if read is not None:
            return _number_findings(table, column, read, present)
    read = _read_dates(text, present)
    if read is not None:
        return _date_findings(table, column, read)
    return [], _Column()


def _read_numbers(text: pl.Series, present: int, declared: str | None) -> pl.DataFrame | None:
    """Each value's number and how it is written (one row per row), when the column holds
    numbers: at least PARSED_SHARE of its values parse, and none is a code with a leading
    zero (``02116``) unless its declared type is numeric; a column declared as categories
    never."""
    if present == 0 or declared in CATEGORY_TYPES or not mostly_numbers(text):
        return None
    read = read_numbers(text)
    parsed = int(read["value"].is_not_null().sum())
    if parsed < PARSED_SHARE * present or (declared not in NUMERIC_TYPES
                                           and text.str.contains(LEADING_ZERO).any()):
        return None
    return read


def _read_dates(text: pl.Series, present: int) -> pl.DataFrame | None:
    """Each value's time and format (one row per row), when at least PARSED_SHARE of the
    values parse as dates; a first look at a sample spares columns of words the full parse."""
    if present == 0 or not looks_like_dates(text):
        return None
    read = pl.concat([pl.DataFrame({"text": text}), date_values(text)], how="horizontal")
    if read["value"].is_not_null().sum() < PARSED_SHARE * present:
        return None
    return read


def reads_as_numbers(series: pl.Series, declared: Any = None) -> bool:
    """Whether a text column holds numbers, by the rule ``check`` uses."""
    if not is_text(series.dtype):
        return False
    text = stripped_text(series)
    present = text.len() - text.null_count()
    return _read_numbers(text, present, _declared_type(declared)) is not None


def reads_as_dates(series: pl.Series) -> bool:
    """Whether a text column holds dates, by the rule ``check`` uses."""
    if not is_text(series.dtype):
        return False
    text = stripped_text(series)
    return _read_dates(text, text.len() - text.null_count()) is not None


def _declared_type(type_name: Any) -> str | None:
    """The logical type a column was given in add_table's types=, if any."""
    if type_name is None:
        return None
    try:
        return normalize_user_type(type_name)[0]
    except (KeyError, TypeError):
        return None


_NUMBER_KINDS = {
    "currency_sign": ("currency_signs", "carry a currency sign"),
    "decimal_comma": ("decimal_commas", "use a decimal comma"),
    "thousands_separator": ("thousands_separators", "use thousands separators"),
}


def _examples(read: pl.DataFrame, mask: pl.Series, limit: int = 3) -> list:
    return read["text"].filter(mask).unique(maintain_order=True).head(limit).to_list()


def _number_findings(table: Table, column: str, read: pl.DataFrame,
                     present: int) -> tuple[list[Finding], _Column]:
    frame = table.frame
    fix = f"fk.prep.parse_numbers(es, table={table.name!r}, columns=[{column!r}])"
    stored = read["text"].is_not_null()
    examples = _examples(read, stored)
    findings = [_finding(
        "numbers_as_text", "warning", table.name, column, present,
        f"{present} numbers are stored as text (e.g. {examples})",
        _example(frame, stored), fix, examples)]
    for kind, (name, words) in _NUMBER_KINDS.items():
        of_kind = (read["kind"] == kind).fill_null(False)
        count = int(of_kind.sum())
        if count:
            examples = _examples(read, of_kind)
            findings.append(_finding(name, "warning", table.name, column, count,
                                     f"{count} values {words} (e.g. {examples})",
                                     _example(frame, of_kind), fix, examples))
    findings += _unparsed(table, column, read, (read["kind"] == "unparsed").fill_null(False),
                          "number", "correct them at the source; parse_numbers would leave "
                          "them missing (and say so)")
    return findings, _Column(numbers=read["value"], from_text=True)


def _date_findings(table: Table, column: str,
                   read: pl.DataFrame) -> tuple[list[Finding], _Column]:
    frame, findings = table.frame, []
    fix = f"fk.prep.parse_dates(es, table={table.name!r}, columns=[{column!r}])"
    families = (read.drop_nulls("family").group_by("family")
                .agg(pl.len().alias("len"), pl.col("text").first())
                .sort(["len", "family"], descending=[True, False]))
    if families.height > 1:
        main = families["family"][0]
        other = (read["family"] != main).fill_null(False)
        count = int(other.sum())
        described = ", ".join(f"{f} ({n}, e.g. {t!r})" for f, n, t in families.iter_rows())
        findings.append(_finding(
            "mixed_date_formats", "warning", table.name, column, count,
            f"dates are written in {families.height} formats: {described}; {count} are not "
            f"in the most common one ({main})", _example(frame, other), fix,
            families["text"][1:].to_list()))
    findings += _unparsed(table, column, read, read["value"].is_null() & read["text"].is_not_null(),
                          "date", "correct them at the source, or give parse_dates their "
                          "formats=; values that still do not parse are left missing (and "
                          "counted)")
    return findings, _Column(times=read["value"], from_text=True)


def _unparsed(table: Table, column: str, read: pl.DataFrame, unparsed: pl.Series, noun: str,
              fix: str) -> list[Finding]:
    """The error finding for the values of a column of numbers (or dates) that are none."""
    count = int(unparsed.sum())
    if not count:
        return []
    examples = _examples(read, unparsed, 5)
    return [_finding(f"unparseable_{noun}s", "error", table.name, column, count,
                     f"{count} values of a column of {noun}s are no {noun} (e.g. {examples})",
                     _example(table.frame, unparsed), fix, examples)]


def _type_notes(table: Table, facts: _TableFacts) -> list[Finding]:
    """Columns an unchecked table marked unknown that the format checks did not explain."""
    findings = []
    for column, note in table.notes.items():
        learnt = facts.columns.get(column)
        if learnt is not None and learnt.from_text:
            continue  # reported value by value as numbers or dates
        mask = is_present(table.frame[column])
        if note.examples:
            mask = mask & table.frame[column].cast(pl.String, strict=False).is_in(
                [str(e) for e in note.examples])
        if note.refused:
            findings.append(_finding(
                "type_errors", "error", table.name, column, note.count, note.text,
                _example(table.frame, mask),
                "correct those values, choose another type in types=, or convert the column "
                "yourself; es.validate() refuses them", note.examples))
        else:
            findings.append(_finding(
                "mixed_types", "warning", table.name, column, note.count, note.text,
                _example(table.frame, mask), "convert the column to one type at the source "
                "(or with fk.prep.parse_numbers / parse_dates)", note.examples))
    return findings


# ------------------------------------------------------------------ times
def _future(table: Table, facts: _TableFacts, moment: dt.datetime) -> list[Finding]:
    findings = []
    for column, learnt in facts.columns.items():
        times = learnt.times
        if times is None:
            continue
        limit = moment
        if getattr(times.dtype, "time_zone", None) is not None:  # compared in UTC
            times = times.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
            if moment.tzinfo is not None:
                limit = moment.astimezone(dt.timezone.utc).replace(tzinfo=None)
        elif moment.tzinfo is not None:
            limit = moment.replace(tzinfo=None)
        late = (times > limit).fill_null(False)
        count = int(late.sum())
        if count:
            findings.append(_finding(
                "future_dates", "warning", table.name, column, count,
                f"{count} rows are dated after {moment.isoformat(sep=' ')} (latest "
                f"{times.max()})", _example(table.frame, late),
                "check the source's clock, time zone or date format; correct or drop those rows"))
    return findings


def _times_of(entityset: EntitySet, table: str, facts: dict[str, _TableFacts]) -> pl.Series | None:
    time_index = entityset[table].time_index
    if time_index is None:
        return None
    learnt = facts[table].columns.get(time_index)
    if learnt is not None and learnt.times is not None:
        return learnt.times
    series = entityset[table].frame[time_index]
    return series if series.dtype.is_numeric() else None


def _before_parent(entityset: EntitySet, relationship: Relationship,
                   facts: dict[str, _TableFacts]) -> list[Finding]:
    child_times = _times_of(entityset, relationship.child, facts)
    parent_times = _times_of(entityset, relationship.parent, facts)
    if child_times is None or parent_times is None or \
            child_times.dtype.is_numeric() != parent_times.dtype.is_numeric():
        return []
    child = entityset[relationship.child].frame
    parent = entityset[relationship.parent].frame
    keys, parent_keys = _aligned_keys(child[relationship.child_key],
                                      parent[relationship.parent_key])
    if child_times.dtype.is_numeric():
        child_times, parent_times = child_times.cast(pl.Float64), parent_times.cast(pl.Float64)
    elif child_times.dtype != parent_times.dtype:
        if getattr(child_times.dtype, "time_zone", None) != getattr(parent_times.dtype,
                                                                    "time_zone", None):
            return []
        child_times = child_times.cast(pl.Datetime("us"))
        parent_times = parent_times.cast(pl.Datetime("us"))
    parents = (pl.DataFrame({"key": parent_keys, "parent_time": parent_times})
               .drop_nulls("key").unique("key", keep="first", maintain_order=True))
    joined = pl.DataFrame({"key": keys, "time": child_times}).join(
        parents, on="key", how="left", maintain_order="left")
    early = (joined["time"] < joined["parent_time"]).fill_null(False)
    count = int(early.sum())
    if not count:
        return []
    parent_time_name = entityset[relationship.parent].time_index
    return [_finding(
        "before_parent", "warning", relationship.child, entityset[relationship.child].time_index,
        count, f"{count} rows are dated before their {relationship.parent!r} row's "
        f"{parent_time_name!r} (a child event before its parent's creation)",
        _example(child, early),
        "check both times (time zone, date format) and the key; a feature of the parent never "
        "sees a child row before the parent's own time")]


# ------------------------------------------------------------------ scales
def _unit_free(name: str) -> str:
    lowered = name.lower()
    for suffix in UNIT_SUFFIXES:
        if lowered.endswith(suffix) and len(lowered) > len(suffix):
            return lowered[: -len(suffix)]
    return lowered


def _scale(numbers: pl.Series) -> float | None:
    """The median of the absolute non-zero values: the column's usual size."""
    values = numbers.drop_nulls()
    if values.dtype.is_float():
        values = values.filter(values.is_finite())
    values = values.abs().filter(values != 0)
    return float(values.median()) if values.len() else None


def _scales(entityset: EntitySet, facts: dict[str, _TableFacts], keys: dict[str, set[str]],
            pairs: list[tuple[tuple[str, str], ...]]) -> list[Finding]:
    columns = {(table, column): learnt.numbers for table, table_facts in facts.items()
               for column, learnt in table_facts.columns.items()
               if learnt.numbers is not None and column not in keys[table]}
    candidates = list(pairs)
    names = sorted(columns)
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            if first[0] != second[0] and _unit_free(first[1]) == _unit_free(second[1]):
                candidates.append((first, second))
    findings, seen = [], set()
    for first, second in candidates:
        if (first, second) in seen or first == second:
            continue
        seen.add((first, second))
        numbers = {}
        for name in (first, second):
            learnt = facts[name[0]].columns.get(name[1])
            numbers[name] = learnt.numbers if learnt is not None else None
        if any(values is None for values in numbers.values()):
            continue
        sizes = {name: _scale(values) for name, values in numbers.items()}
        if any(size is None for size in sizes.values()):
            continue
        large, small = sorted(sizes, key=sizes.get, reverse=True)
        ratio = sizes[large] / sizes[small]
        power = round(math.log10(ratio))
        if power < SCALE_MIN_POWER or not (10**power / SCALE_TOLERANCE <= ratio
                                           <= 10**power * SCALE_TOLERANCE):
            continue
        values = numbers[large]
        count = int(values.is_not_null().sum())
        findings.append(_finding(
            "scale_mismatch", "warning", large[0], large[1], count,
            f"the median size of {large[0]}.{large[1]} ({sizes[large]:g}) is about "
            f"{10**power:,} times that of {small[0]}.{small[1]} ({sizes[small]:g}): the same "
            f"quantity in another unit (cents against whole units?)",
            _example(entityset[large[0]].frame, values.is_not_null()),
            f"divide {large[0]}.{large[1]} by {10**power:,} (or multiply "
            f"{small[0]}.{small[1]}) so that both use one unit"))
    return findings
