"""How numbers and dates written as text are read: each value's format (plain, currency sign,
decimal comma, thousands separators; ISO 8601, day/month/year, ...) and its value, as polars
expressions over whole columns. Shared by the check report and the fixes, so
that what ``check`` counts is exactly what ``parse_numbers`` / ``parse_dates`` change."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

# ------------------------------------------------------------------------ numbers
CURRENCY_SIGNS = "$€£¥₹₽₩"
CURRENCY_CODES = ("USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "INR", "CNY")
_CODES = "|".join(CURRENCY_CODES)
_CURRENCY = rf"(?i)[{CURRENCY_SIGNS}]|^(?:{_CODES})\s*|\s*(?:{_CODES})$"
_GROUPED_BY_SPACES = r"^[+-]?\d{1,3}(?:[ '\u00a0\u202f]\d{3})+(?:[.,]\d+)?$"
_GROUPED_BY_COMMAS = r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$"  # 1,234 / 1,234.5
_GROUPED_BY_DOTS = r"^[+-]?\d{1,3}(?:\.\d{3})+,\d+$"  # 1.234,5
_DECIMAL_COMMA = r"^[+-]?\d*,\d+$"  # 12,5 / ,5 (but 1,234 is a thousands separator)
LEADING_ZERO = r"^[+-]?0\d"  # 02116: a code, not a number

# Each value gets the first kind that applies (a currency sign wins over its other marks).
NUMBER_KINDS = ("plain", "currency_sign", "decimal_comma", "thousands_separator", "unparsed")


def number_values(text: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(value as Float64, kind) of stripped, non-blank strings; unparsed values get a null
    value and the kind "unparsed", missing values a null kind."""
    plain = text.cast(pl.Float64, strict=False)
    currency = text.str.contains(_CURRENCY)
    body = text.str.replace_all(_CURRENCY, "").str.strip_chars()
    spaced = body.str.contains(_GROUPED_BY_SPACES)
    body = pl.when(spaced).then(body.str.replace_all(r"[ '\u00a0\u202f]", "")).otherwise(body)
    commas = body.str.contains(_GROUPED_BY_COMMAS)
    dots_then_comma = body.str.contains(_GROUPED_BY_DOTS)
    decimal_comma = dots_then_comma | (body.str.contains(_DECIMAL_COMMA) & ~commas)
    number = (pl.when(commas).then(body.str.replace_all(",", ""))
              .when(decimal_comma).then(body.str.replace_all(r"\.", "").str.replace(",", "."))
              .otherwise(body))
    parsed = number.cast(pl.Float64, strict=False)
    value = pl.when(plain.is_not_null()).then(plain).otherwise(parsed)
    kind = (pl.when(text.is_null()).then(pl.lit(None, dtype=pl.String))
            .when(plain.is_not_null()).then(pl.lit("plain"))
            .when(parsed.is_null()).then(pl.lit("unparsed"))
            .when(currency).then(pl.lit("currency_sign"))
            .when(decimal_comma).then(pl.lit("decimal_comma"))
            .when(commas | spaced).then(pl.lit("thousands_separator"))
            .otherwise(pl.lit("plain")))
    return value, kind


def read_numbers(text: pl.Series) -> pl.DataFrame:
    """``number_values`` of a column of stripped text, one row per row (``text``, ``value``,
    ``kind``); a column of plain numbers is read in one cast."""
    plain = text.cast(pl.Float64, strict=False)
    frame = pl.DataFrame({"text": text})
    if plain.null_count() == text.null_count():
        return frame.with_columns(plain.alias("value"), pl.when(pl.col("text").is_not_null())
                                  .then(pl.lit("plain")).alias("kind"))
    value, kind = number_values(pl.col("text"))
    return frame.with_columns(value.alias("value"), kind.alias("kind"))


def mostly_numbers(text: pl.Series, sample: int = 1000) -> bool:
    """Whether at least half of the first present values read as numbers (a first look)."""
    values = text.drop_nulls().head(sample)
    return values.len() > 0 and bool(
        (read_numbers(values)["kind"] != "unparsed").mean() >= 0.5)


# ------------------------------------------------------------------------ dates
# (family, strptime format), tried in this order; "day/month/year" and "month/day/year" are
# told apart per column (see ``slash_order``).
_ISO = "ISO 8601"
DATE_FORMATS: tuple[tuple[str, str], ...] = (
    (_ISO, "%Y-%m-%d"), (_ISO, "%Y-%m-%d %H:%M:%S%.f"), (_ISO, "%Y-%m-%dT%H:%M:%S%.f"),
    (_ISO, "%Y-%m-%d %H:%M"), (_ISO, "%Y-%m-%dT%H:%M"),
    ("year/month/day", "%Y/%m/%d"), ("year/month/day", "%Y/%m/%d %H:%M:%S%.f"),
    ("year/month/day", "%Y/%m/%d %H:%M"),
    ("day/month/year", "%d/%m/%Y"), ("day/month/year", "%d/%m/%Y %H:%M:%S%.f"),
    ("day/month/year", "%d/%m/%Y %H:%M"),
    ("month/day/year", "%m/%d/%Y"), ("month/day/year", "%m/%d/%Y %H:%M:%S%.f"),
    ("month/day/year", "%m/%d/%Y %H:%M"),
    ("day.month.year", "%d.%m.%Y"), ("day.month.year", "%d.%m.%Y %H:%M:%S%.f"),
    ("day.month.year", "%d.%m.%Y %H:%M"),
    ("day-month-year", "%d-%m-%Y"), ("day-month-year", "%d-%m-%Y %H:%M:%S%.f"),
    ("day monthname year", "%d %b %Y"), ("day monthname year", "%d %B %Y"),
    ("monthname day, year", "%b %d, %Y"), ("monthname day, year", "%B %d, %Y"),
)
# A cheap first look: which family a value may belong to, so each is parsed by few formats.
_FAMILY_SHAPES = {
    _ISO: r"^\d{4}-\d{1,2}-\d{1,2}",
    "year/month/day": r"^\d{4}/\d{1,2}/\d{1,2}",
    "day/month/year": r"^\d{1,2}/\d{1,2}/\d{4}",
    "month/day/year": r"^\d{1,2}/\d{1,2}/\d{4}",
    "day.month.year": r"^\d{1,2}\.\d{1,2}\.\d{4}",
    "day-month-year": r"^\d{1,2}-\d{1,2}-\d{4}",
    "day monthname year": r"^\d{1,2} [A-Za-z]{3}",
    "monthname day, year": r"^[A-Za-z]{3,9} \d{1,2}, \d{4}",
}
_SLASHED = "day/month/year", "month/day/year"


def slash_order(text: pl.Series) -> tuple[str, int]:
    """Whether n/n/yyyy dates are day first or month first in this column, and how many were
    ambiguous (both numbers 12 or less). Month first only when some value must be (a second
    number above 12) and more values must be month first than day first."""
    frame = pl.DataFrame({"text": text}).filter(pl.col("text").str.contains(
        _FAMILY_SHAPES["day/month/year"]))
    parts = frame.select(pl.col("text").str.extract(r"^(\d{1,2})/", 1).cast(pl.Int32).alias("a"),
                         pl.col("text").str.extract(r"^\d{1,2}/(\d{1,2})/", 1).cast(pl.Int32)
                         .alias("b"))
    day_first = int(((parts["a"] > 12) & (parts["b"] <= 12)).sum())
    month_first = int(((parts["b"] > 12) & (parts["a"] <= 12)).sum())
    ambiguous = int(((parts["a"] <= 12) & (parts["b"] <= 12)).sum())
    return ("month/day/year" if month_first > day_first else "day/month/year"), ambiguous


def _by_fit(formats: list[str], candidates: pl.Series) -> list[str]:
    """The formats ordered by how many of the first values they read, best first, so that a
    column in one format is parsed in one pass."""
    if len(formats) < 2 or candidates.len() == 0:
        return formats
    sample = candidates.head(200)
    fits = [int(sample.str.to_datetime(f, strict=False, time_unit="us").is_not_null().sum())
            for f in formats]
    return [f for _, f in sorted(zip(fits, formats, strict=True), key=lambda pair: -pair[0])]


def date_values(text: pl.Series, formats: Sequence[str] | None = None) -> pl.DataFrame:
    """Each stripped, non-blank string as a Datetime("us") ``value`` with its ``family``
    (null when it does not parse). With ``formats``, those are tried in order (the family is
    the format); without, the known formats, n/n/yyyy read in the column's order."""
    frame = pl.DataFrame({"text": text})
    if formats is not None:
        values = [pl.col("text").str.to_datetime(f, strict=False, time_unit="us") for f in formats]
        family = pl.coalesce([pl.when(v.is_not_null()).then(pl.lit(f))
                              for v, f in zip(values, formats, strict=True)])
        return frame.select(pl.coalesce(values).alias("value"), family.alias("family"))
    order, _ = slash_order(text)
    families = [f for f in dict.fromkeys(family for family, _ in DATE_FORMATS)
                if f not in _SLASHED or f == order]
    value = pl.repeat(None, text.len(), dtype=pl.Datetime("us"), eager=True)
    family = pl.repeat(None, text.len(), dtype=pl.String, eager=True)
    pending = text.is_not_null()
    for name in families:  # each value is parsed only by the formats of the family it looks like
        rows = (pending & text.str.contains(_FAMILY_SHAPES[name])).arg_true()
        if rows.len() == 0:
            continue
        candidates = text.gather(rows)
        for format_ in _by_fit([f for fam, f in DATE_FORMATS if fam == name], candidates):
            parsed = candidates.str.to_datetime(format_, strict=False, time_unit="us")
            read = parsed.is_not_null()
            if read.any():
                value = value.scatter(rows.filter(read), parsed.filter(read))
                family = family.scatter(rows.filter(read), name)
                rows, candidates = rows.filter(~read), candidates.filter(~read)
            if rows.len() == 0:
                break
        pending = pending & value.is_null()
    return pl.DataFrame({"value": value, "family": family})


def looks_like_dates(text: pl.Series, sample: int = 1000) -> bool:
    """Whether most of the first present values have the shape of a known date format."""
    values = text.drop_nulls().head(sample)
    if values.len() == 0:
        return False
    shaped = pl.repeat(False, values.len(), eager=True)
    for shape in _FAMILY_SHAPES.values():
        shaped = shaped | values.str.contains(shape)
    return bool(shaped.mean() >= 0.5)


def stripped_text(series: pl.Series) -> pl.Series:
    """A text column's values stripped, blanks as missing (other dtypes as strings)."""
    text = series.cast(pl.String) if series.dtype != pl.String else series
    text = text.str.strip_chars()
    return pl.select(pl.when(text.str.len_bytes() > 0).then(text)).to_series().alias(series.name)


def is_text(dtype: pl.DataType) -> bool:
    return dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum)
