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
# Codes: categories spelled as strings (woodwork tags them "category", so counts and modes apply).
POSTAL_CODE = "postal_code"
COUNTRY_CODE = "country_code"
SUB_REGION_CODE = "sub_region_code"
CURRENCY_CODE = "currency_code"
CODE_TYPES = (POSTAL_CODE, COUNTRY_CODE, SUB_REGION_CODE, CURRENCY_CODE)
# Strings with a structure some primitives read (a domain, a first name); no tags, like text.
EMAIL_ADDRESS = "email_address"
URL = "url"
PERSON_FULL_NAME = "person_full_name"
IP_ADDRESS = "ip_address"
PHONE_NUMBER = "phone_number"
FILEPATH = "filepath"
ADDRESS = "address"
STRING_TYPES = (TEXT, EMAIL_ADDRESS, URL, PERSON_FULL_NAME, IP_ADDRESS, PHONE_NUMBER, FILEPATH,
                ADDRESS)
# Logical types whose values are categories (a pandas matrix holds them as ``category``).
CATEGORY_TYPES = frozenset({CATEGORICAL, ORDINAL, *CODE_TYPES})

LOGICAL_TYPES = (NUMERIC, INTEGER, INTEGER_NULLABLE, DOUBLE, AGE_FRACTIONAL, BOOLEAN, CATEGORICAL,
                 ORDINAL, DATETIME, TIMEDELTA, TEXT, LATLONG, UNKNOWN, *CODE_TYPES,
                 *STRING_TYPES[1:])

# Type names a user may pass in ``types=``; "date_of_birth" is a datetime with that tag.
USER_TYPE_NAMES = (*LOGICAL_TYPES, "date_of_birth", "id")

# Tags every column of a logical type carries unless it is an index.
STANDARD_TAGS: dict[str, frozenset[str]] = {
    **{name: frozenset({"numeric"}) for name in NUMERIC_TYPES},
    **{name: frozenset({"category"}) for name in CATEGORY_TYPES},
}

# Other spellings of a type, compared without case, spaces, "_" or "-" (see ``_compact``):
# short Python-ish names and woodwork's logical types as Featuretools users write them
# ("Double", "IntegerNullable", "NaturalLanguage", "LatLong", "BooleanNullable", ...).
TYPE_ALIASES: dict[str, str] = {
    "float": DOUBLE, "int": INTEGER, "bool": BOOLEAN, "category": CATEGORICAL, "string": TEXT,
    "id": CATEGORICAL, "natural_language": TEXT, "boolean_nullable": BOOLEAN,
    "lat_long": LATLONG, "age": INTEGER, "age_nullable": INTEGER_NULLABLE,
}
# Woodwork's class names, which are the Featuretools spellings of the types above.
WOODWORK_NAMES = (
    "Address", "Age", "AgeFractional", "AgeNullable", "Boolean", "BooleanNullable", "Categorical",
    "CountryCode", "CurrencyCode", "Datetime", "Double", "EmailAddress", "Filepath", "IPAddress",
    "Integer", "IntegerNullable", "LatLong", "NaturalLanguage", "Ordinal", "PersonFullName",
    "PhoneNumber", "PostalCode", "SubRegionCode", "Timedelta", "URL", "Unknown",
)

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


def _compact(name: str) -> str:
    """A type name without case, spaces, "_" or "-": "IntegerNullable" == "integer_nullable"."""
    return "".join(ch for ch in name.lower() if ch.isalnum())


_BY_COMPACT: dict[str, str] = {
    **{_compact(alias): target for alias, target in TYPE_ALIASES.items()},
    **{_compact(name): name for name in LOGICAL_TYPES},
}


def type_name_of(spec: object) -> str:
    """The name of a type given as a string, or as a woodwork logical type class or instance
    (read from its ``type_string``, so woodwork need not be installed); TypeError otherwise."""
    if isinstance(spec, str):
        return spec
    type_string = getattr(spec, "type_string", None)
    if isinstance(type_string, str):
        return type_string
    raise TypeError(spec)


def normalize_user_type(name: object) -> tuple[str, frozenset[str]]:
    """Map a user's type name (featurekit's, an alias or a woodwork name in any case, or a
    woodwork type) to (logical type, extra tags); raises KeyError when unknown."""
    key = _compact(type_name_of(name))
    if key == "dateofbirth":
        return DATETIME, frozenset({"date_of_birth"})
    if key not in _BY_COMPACT:
        raise KeyError(name)
    return _BY_COMPACT[key], frozenset()


def suggest_type_names(name: object) -> list[str]:
    """Up to three accepted type names close to ``name``, for a did-you-mean."""
    import difflib

    text = name if isinstance(name, str) else repr(name)
    # answer in the user's style: woodwork's CamelCase to "PostCode", ours to "post_code"
    styles = (USER_TYPE_NAMES, WOODWORK_NAMES) if text.lower() != text else (WOODWORK_NAMES,
                                                                              USER_TYPE_NAMES)
    spellings = {_compact(known): known for style in styles for known in style}
    close = difflib.get_close_matches(_compact(text), list(spellings), n=3, cutoff=0.6)
    return [spellings[key] for key in close]


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
