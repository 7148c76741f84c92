"""Exceptions raised by featurekit: every message names the table, the column and the fix."""

from __future__ import annotations


class FeaturekitError(ValueError):
    """Base class of every error featurekit raises on bad input."""


class SchemaError(FeaturekitError):
    """A table, column, key or relationship does not fit the entity set's rules."""


class PlanError(FeaturekitError):
    """A planning request cannot be satisfied (unknown target, primitive or option)."""


class ComputeError(FeaturekitError):
    """Feature definitions cannot be computed against the given entity set."""


class FeatureFileError(FeaturekitError):
    """A features file (or the dict read from one) cannot be loaded: unreadable, not the
    format ``save_features`` writes, or naming a primitive that is not allowed; or a features
    file cannot be written."""


class PortabilityWarning(UserWarning):
    """Saved features name a primitive that another program cannot find by its module and
    name (defined in ``__main__`` or inside a function)."""


class OrphanWarning(UserWarning):
    """Child rows whose key matches no parent row (they join to nothing)."""


class CoercionWarning(UserWarning):
    """Values that did not parse as their column's type became missing (``errors="coerce"``)."""


class CacheWarning(UserWarning):
    """numba's cache directory cannot be written: kernels are compiled again in every process."""


class MissingTimeWarning(UserWarning):
    """Rows without a time index value: kept, but never counted when cutoff times are given."""


def schema_error(table: str, column: str | None, problem: str, fix: str) -> SchemaError:
    """Build a SchemaError whose text always carries table, column and the fix."""
    where = f"table {table!r}" + (f", column {column!r}" if column is not None else "")
    return SchemaError(f"{where}: {problem}. Fix: {fix}")


class SelectionError(FeaturekitError):
    """A feature matrix or target cannot be used for selection (misaligned, missing values, ...)."""


class NoRelevantFeaturesError(SelectionError):
    """Selection was asked for the relevant features and none passed the false-discovery control."""


class NoRelevantFeaturesWarning(UserWarning):
    """No feature passed the false-discovery control; the message says which setting to change."""
