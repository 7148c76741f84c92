"""Logical types and semantic tags: what a column means, which decides which primitives apply.

The vocabulary mirrors woodwork's as Featuretools uses it, so planning rules carry over:
a column has one logical type and a set of semantic tags ("numeric", "category",
"index", "foreign_key", "time_index", "date_of_birth").
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

NUMERIC = "numeric"  # a number of unspecified kind (what most aggregations return)
INTEGER = "integer"
INTEGER_NULLABLE = "integer_nullable"
DOUBLE = "double"
AGE_FRACTIONAL = "age_fractional"
NUMERIC_TYPES = frozenset({NUMERIC, INTEGER, INTEGER_NULLABLE, DOUBLE, AGE_FRACTIONAL})
BOOLEAN = "boolean"
CATEGORICAL = "categorical"
ORDINAL = "ordinal"
DATETIME = "datetime"
TIMEDELTA = "timedelta"
TEXT = "text"
LATLONG = "latlong"
UNKNOWN = "unknown"

LOGICAL_TYPES = (NUMERIC, INTEGER, INTEGER_NULLABLE, DOUBLE, AGE_FRACTIONAL, BOOLEAN, CATEGORICAL,
                 ORDINAL, DATETIME, TIMEDELTA, TEXT, LATLONG, UNKNOWN)

# Type names a user may pass in ``types=``; "date_of_birth" is a datetime with that tag.
USER_TYPE_NAMES = (*LOGICAL_TYPES, "date_of_birth", "id")

# Tags every column of a logical type carries unless it is an index.
STANDARD_TAGS: dict[str, frozenset[str]] = {
    **{name: frozenset({"numeric"}) for name in NUMERIC_TYPES},
    CATEGORICAL: frozenset({"category"}),
    ORDINAL: frozenset({"category"}),
}

ROLE_TAGS = frozenset({"index", "foreign_key", "time_index"})


@dataclass(frozen=True)
class ColumnSchema:
    """A column's logical type and semantic tags (also used as a primitive's input pattern)."""

    logical_type: str | None = None
    tags: frozenset[str] = field(default_factory=frozenset)

    def matches(self, pattern: ColumnSchema) -> bool:
        """True if this column satisfies ``pattern`` (same logical type if set, tags a superset)."""
        if pattern.logical_type is not None and pattern.logical_type != self.logical_type:
            return False
        return pattern.tags <= self.tags

    def with_tags(self, add: set[str] | frozenset[str] = frozenset(), remove=frozenset()):
        return ColumnSchema(self.logical_type, (self.tags | frozenset(add)) - frozenset(remove))

    def without_roles(self) -> ColumnSchema:
        """The schema a derived value keeps: logical type, its standard tags, no key roles."""
        standard = STANDARD_TAGS.get(self.logical_type or "", frozenset())
        return ColumnSchema(self.logical_type, (self.tags - ROLE_TAGS) | standard)

    @property
    def is_numeric(self) -> bool:
        return "numeric" in self.tags or self.logical_type in NUMERIC_TYPES

    def to_dict(self) -> dict:
        return {"logical_type": self.logical_type, "tags": sorted(self.tags)}

    @classmethod
    def from_dict(cls, data: dict) -> ColumnSchema:
        return cls(data["logical_type"], frozenset(data["tags"]))


def schema_of(logical_type: str, extra_tags: frozenset[str] = frozenset()) -> ColumnSchema:
    """The schema of a column of ``logical_type`` with its standard tags plus ``extra_tags``."""
    return ColumnSchema(logical_type, STANDARD_TAGS.get(logical_type, frozenset()) | extra_tags)


def normalize_user_type(name: str) -> tuple[str, frozenset[str]]:
    """Map a user's type name to (logical type, extra tags); raises KeyError when unknown."""
    key = name.lower().replace("-", "_")
    aliases = {"float": DOUBLE, "int": INTEGER, "bool": BOOLEAN,
               "category": CATEGORICAL, "string": TEXT, "natural_language": TEXT, "id": CATEGORICAL,
               # woodwork's class names as Featuretools users write them (NaturalLanguage, ...)
               "naturallanguage": TEXT, "integernullable": INTEGER_NULLABLE,
               "booleannullable": BOOLEAN, "agefractional": AGE_FRACTIONAL}
    if key == "date_of_birth":
        return DATETIME, frozenset({"date_of_birth"})
    key = aliases.get(key, key)
    if key not in LOGICAL_TYPES:
        raise KeyError(name)
    return key, frozenset()


def infer_logical_type(series: pl.Series) -> str:
    """Infer a logical type from a polars column's dtype (strings become categorical)."""
    dtype = series.dtype
    if dtype == pl.Boolean:
        return BOOLEAN
    if dtype.is_integer():
        return INTEGER_NULLABLE if series.null_count() else INTEGER
    if dtype.is_numeric():
        return DOUBLE
    if dtype in (pl.Date,) or isinstance(dtype, pl.Datetime):
        return DATETIME
    if isinstance(dtype, pl.Duration):
        return TIMEDELTA
    if dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum):
        return CATEGORICAL
    if isinstance(dtype, (pl.List, pl.Array)) and dtype.inner.is_numeric():
        return LATLONG  # lists of numbers; other nested values have no primitives
    return UNKNOWN
