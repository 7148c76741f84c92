"""Shared by the tests that compare featurekit with matrices Featuretools wrote (the scripts
in tests/reference/): building the entity set a reference JSON describes, its cutoffs, and
comparing a column of ours with Featuretools' column."""

from __future__ import annotations

import numpy as np
import pandas as pd

import featurekit as fk


def entityset_from(name: str, description: dict, tables: dict[str, pd.DataFrame]) -> fk.EntitySet:
    """The entity set of a reference description (tables with index, time index and the
    logical types Featuretools was given; relationships in the order they were added)."""
    es = fk.EntitySet(name)
    for table, spec in description["tables"].items():
        es.add_table(table, tables[table], index=spec["index"], time_index=spec["time_index"],
                     types=spec["types"])
    for parent, parent_key, child, child_key in description["relationships"]:
        es.add_relationship(parent=parent, parent_key=parent_key, child=child, child_key=child_key)
    return es


def cutoff_argument(run: dict, es: fk.EntitySet):
    """One moment for every instance, or every instance at each of several moments."""
    if not isinstance(run["cutoff"], list):
        return pd.Timestamp(run["cutoff"]).to_pydatetime()
    index = es[run["target"]].index
    keys = es[run["target"]].frame[index].to_list()
    return pd.DataFrame([(key, pd.Timestamp(t)) for key in keys for t in run["cutoff"]],
                        columns=[index, "time"])


def as_text(values: pd.Series) -> pd.Series:
    """Values as comparable text, numbers by value ("8.0" and "8" are one category)."""
    def text(value):
        if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
            return None
        try:
            return repr(float(value))
        except (TypeError, ValueError):
            return str(value)
    return values.astype(object).map(text)


def assert_same_values(ours: pd.Series, theirs: pd.Series, rtol: float) -> None:
    """Equal within ``rtol`` relative to the column's scale: a spread of equal values (STD,
    SKEW) is 0 exactly, and rounding noise of 1e-12 in either library where it is."""
    if pd.api.types.is_numeric_dtype(theirs) or pd.api.types.is_bool_dtype(theirs):
        expected = theirs.astype("float64").to_numpy()
        actual = ours.astype("float64").to_numpy()
        finite = np.abs(expected[np.isfinite(expected)])
        scale = max(1.0, float(finite.max())) if finite.size else 1.0
        np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale, equal_nan=True,
                                   err_msg=f"column {theirs.name!r}")
    else:
        expected, actual = as_text(theirs), as_text(ours)
        mismatched = expected.ne(actual) & ~(expected.isna() & actual.isna())
        assert not mismatched.any(), (
            f"column {theirs.name!r}: {int(mismatched.sum())} values differ, e.g. "
            f"{list(zip(actual[mismatched][:3], expected[mismatched][:3], strict=False))}")
