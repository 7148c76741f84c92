"""Same columns, same names, same values as Featuretools 1.31 on the same tables.

The reference matrices were written by tests/reference/make_featuretools_reference.py,
which runs Featuretools itself on the retail demo tables.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import featurekit as fk
from featurekit.demo import load_retail

DATA = Path(__file__).parent / "data"
REFERENCE = json.loads((DATA / "featuretools_reference.json").read_text())
CUTOFF = pd.Timestamp(REFERENCE["cutoff"]).to_pydatetime()
RUNS = sorted(REFERENCE["features"])


@pytest.fixture(scope="module")
def retail():
    """The reference's entity sets: defaults as is, the catalogue run with a date of birth."""
    n_customers = REFERENCE["n_customers"]
    return {
        "defaults": load_retail(n_customers),
        "catalogue": load_retail(n_customers, types={"customers": {"birthday": "date_of_birth"}}),
    }


def compute_like_featuretools(retail, key):
    run, target = key.split("/")
    options = REFERENCE["catalogue"] if run == "catalogue" else {}
    return fk.dfs(retail[run], target=target, max_depth=2, cutoff_time=CUTOFF, **options)


def as_text(values: pd.Series) -> pd.Series:
    """Values as comparable text: numbers by value (Featuretools turns some integer
    categories into floats: "8.0" and "8" are the same category)."""
    def text(value):
        if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
            return None
        try:
            number = float(value)
        except (TypeError, ValueError):
            return str(value)
        return repr(number)
    return values.astype(object).map(text)


def rows_to_parent_keys(es, table: str, path) -> pd.Series:
    """For each row of the path's last child, the key of the path's first parent."""
    child = es[path[-1].child].frame.to_pandas().set_index(es[path[-1].child].index)
    keys = child[path[-1].child_key]
    for relationship in reversed(path[:-1]):
        middle = es[relationship.child].frame.to_pandas().set_index(es[relationship.child].index)
        keys = keys.map(middle[relationship.child_key])
    return keys


def aggregated_rows(es, aggregation) -> pd.DataFrame:
    """The child rows an aggregation feature reads: its parent key and input value each."""
    source = aggregation.inputs[0]
    values = fk.compute(es, [source], cutoff_time=CUTOFF)[source.name]
    keys = rows_to_parent_keys(es, aggregation.table, aggregation.path)
    return pd.DataFrame({"key": keys, "value": values.loc[keys.index]})


def most_common_counts(es, feature) -> tuple[pd.Series, pd.Series]:
    """(count of each (parent key, value) pair, target row -> parent key) for an output of
    N_MOST_COMMON, possibly copied down through direct features."""
    target_rows = es[feature.table].frame.to_pandas().set_index(es[feature.table].index)
    row_keys = pd.Series(target_rows.index, index=target_rows.index)
    while feature.kind == "direct":
        parent_rows = es[feature.table].frame.to_pandas().set_index(es[feature.table].index)
        row_keys = row_keys.map(parent_rows[feature.relationship.child_key])
        feature = feature.base
    rows = aggregated_rows(es, feature.inputs[0])
    counts = pd.DataFrame({"key": rows["key"], "value": as_text(rows["value"])}).value_counts()
    return counts, row_keys


def assert_exact_count_against_mean(es, feature, ours: pd.Series, theirs: pd.Series) -> None:
    """COUNT_ABOVE/BELOW_MEAN: where Featuretools differs, it is because pandas' float mean of
    equal values is not exactly that value; there ours must equal the exact count."""
    rows = aggregated_rows(es, feature)
    above = feature.primitive.name == "count_above_mean"
    for key in ours.index[~np.isclose(ours.astype(float), theirs.astype(float), equal_nan=True)]:
        values = [Fraction(v) for v in rows.loc[rows["key"] == key, "value"].dropna()]
        mean = sum(values) / len(values)
        exact = sum((v > mean) if above else (v < mean) for v in values)
        assert ours[key] == exact, (feature.name, key, ours[key], exact)


def assert_same_most_common(es, feature, ours: pd.Series, theirs: pd.Series) -> None:
    """N_MOST_COMMON: Featuretools orders equal counts as pandas' unstable sort leaves them,
    so each position is compared by the count of the value chosen, not by the value."""
    counts, row_keys = most_common_counts(es, feature)
    mine, reference = as_text(ours), as_text(theirs)
    for row in ours.index:
        if mine[row] is None or reference[row] is None:
            assert mine[row] is reference[row], (feature.name, row)
        else:
            key = row_keys[row]
            assert counts.get((key, mine[row]), 0) == counts.get((key, reference[row]), 0), (
                feature.name, row, mine[row], reference[row])


# Deliberate differences, documented in the primitives: missing stays missing.
MISSING_STAYS_MISSING = {
    "IS_WEEKEND": False,  # Featuretools answers False for a missing time
}


def assert_same_values(ours: pd.Series, theirs: pd.Series) -> None:
    for prefix, their_value in MISSING_STAYS_MISSING.items():
        if str(theirs.name).startswith(prefix + "("):
            missing = ours.isna().to_numpy()
            assert (theirs[missing] == their_value).all()
            ours, theirs = ours[~missing], theirs[~missing]
    if pd.api.types.is_numeric_dtype(theirs) or pd.api.types.is_bool_dtype(theirs):
        expected = theirs.astype("float64").to_numpy()
        actual = ours.astype("float64").to_numpy()
        np.testing.assert_allclose(actual, expected, rtol=1e-7, atol=1e-9, equal_nan=True,
                                   err_msg=f"column {theirs.name!r}")
    else:
        expected, actual = as_text(theirs), as_text(ours)
        mismatched = expected.ne(actual) & ~(expected.isna() & actual.isna())
        assert not mismatched.any(), (
            f"column {theirs.name!r}: {int(mismatched.sum())} values differ, e.g. "
            f"{list(zip(actual[mismatched][:3], expected[mismatched][:3], strict=False))}")


@pytest.mark.parametrize("key", RUNS)
def test_same_feature_names_in_the_same_order(retail, key):
    _, features = compute_like_featuretools(retail, key)
    names = [name for f in features for name in f.output_names]
    assert names == REFERENCE["features"][key]


@pytest.mark.parametrize("key", RUNS)
def test_same_values(retail, key):
    matrix, features = compute_like_featuretools(retail, key)
    run, target = key.split("/")
    reference = pd.read_parquet(DATA / f"featuretools_{run}_{target}.parquet")
    matrix = matrix.loc[reference.index]
    outputs = {name: f for f in features for name in f.output_names}
    for column in reference.columns:
        if "N_MOST_COMMON(" in column and column.endswith("]"):
            feature = outputs[column]
            piece = feature if feature.kind != "aggregation" else feature[int(column[-2])]
            assert_same_most_common(retail[run], piece, matrix[column], reference[column])
        elif outputs[column].kind == "aggregation" and outputs[column].primitive.name in (
                "count_above_mean", "count_below_mean"):
            assert_exact_count_against_mean(retail[run], outputs[column], matrix[column],
                                            reference[column])
        else:
            assert_same_values(matrix[column], reference[column])
