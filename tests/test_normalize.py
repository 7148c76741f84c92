"""EntitySet.normalize equals Featuretools 1.31's normalize_dataframe on the same rows (the
reference was written by tests/reference/make_featuretools_encode_reference.py), and
add_table(make_index=True) numbers the rows as Featuretools does."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import featurekit as fk

DATA = Path(__file__).parent / "data"
REFERENCE = json.loads((DATA / "featuretools_encode_reference.json").read_text())["normalize"]
ORDERS = pd.read_parquet(DATA / "featuretools_encode_normalize_input.parquet")


def orders_entityset(orders: pd.DataFrame = ORDERS) -> fk.EntitySet:
    return fk.EntitySet("shop").add_table("orders", orders, index="order_id", time_index="ordered_at",
                                          types={"city": "categorical"})


def featurekit_options(options: dict) -> dict:
    options = dict(options)
    if "new_dataframe_time_index" in options:
        options["new_table_time_index"] = options.pop("new_dataframe_time_index")
    return options


def as_compared(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    frame = frame.sort_values(key).reset_index(drop=True)
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.CategoricalDtype) or frame[column].dtype == object:
            frame[column] = frame[column].astype(str)
    return frame


@pytest.mark.parametrize("run", sorted(REFERENCE))
def test_new_and_base_tables_equal_featuretools(run):
    expected = REFERENCE[run]
    before = ORDERS.copy()
    es = orders_entityset().normalize("orders", "customers", "customer",
                                      **featurekit_options(expected["options"]))
    pd.testing.assert_frame_equal(ORDERS, before)  # the caller's frame is untouched
    new, base = es["customers"], es["orders"]
    assert new.columns == expected["new_columns"]
    assert new.time_index == expected["new_time_index"]
    assert base.columns == expected["base_columns"]
    ft_new = pd.read_parquet(DATA / f"featuretools_encode_normalize_{run}_new.parquet")
    ft_base = pd.read_parquet(DATA / f"featuretools_encode_normalize_{run}_base.parquet")
    pd.testing.assert_frame_equal(as_compared(new.frame.to_pandas(), "customer"),
                                  as_compared(ft_new, "customer"), check_dtype=False)
    pd.testing.assert_frame_equal(as_compared(base.frame.to_pandas(), "order_id"),
                                  as_compared(ft_base, "order_id"), check_dtype=False)
    relationship = es.relationships[-1]
    assert (relationship.parent, relationship.child, relationship.child_key) == (
        "customers", "orders", "customer")
    assert "foreign_key" in base.schemas["customer"].tags


def test_dfs_runs_on_a_normalized_table():
    es = orders_entityset().normalize("orders", "customers", "customer", additional_columns=["city"])
    matrix, _ = fk.dfs(es, target="customers", agg_primitives=["count", "sum"], trans_primitives=[])
    counts = ORDERS.dropna(subset=["customer"]).groupby("customer").size()
    np.testing.assert_array_equal(matrix.loc[counts.index, "COUNT(orders)"], counts.to_numpy())


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 6)), min_size=1, max_size=30))
def test_each_key_takes_its_earliest_row(rows):
    """Property: the new table's time and moved column come from the key's earliest row
    (then the smallest index), written here with plain pandas."""
    orders = pd.DataFrame({"order_id": np.arange(len(rows)), "key": [k for k, _ in rows],
                           "ordered_at": pd.Timestamp("2024-01-01")
                           + pd.to_timedelta([d for _, d in rows], unit="D")})
    orders["label"] = [f"v{i}" for i in range(len(rows))]
    es = fk.EntitySet().add_table("orders", orders, index="order_id", time_index="ordered_at")
    es.normalize("orders", "keys", "key", additional_columns=["label"])
    first = orders.sort_values(["ordered_at", "order_id"]).drop_duplicates("key").set_index("key")
    got = es["keys"].frame.to_pandas().set_index("key").sort_index()
    assert got.index.tolist() == sorted(first.index)
    assert got["label"].tolist() == first.sort_index()["label"].tolist()
    assert got["first_orders_time"].tolist() == first.sort_index()["ordered_at"].tolist()


@pytest.mark.parametrize(("arguments", "message"), [
    ({"index": "absent"}, "the new table's index must be a column"),
    ({"index": "order_id"}, "cannot be the base table's index"),
    ({"index": "customer", "additional_columns": ["ordered_at"]}, "time index cannot move"),
    ({"index": "customer", "additional_columns": ["city", "city"]}, "names this column twice"),
    ({"index": "customer", "additional_columns": "city"}, "takes a list of names"),
    ({"index": "customer", "copy_columns": ["nope"]}, "names an absent column"),
    ({"index": "customer", "make_time_index": "signup"}, "neither moves nor is copied"),
    ({"index": "customer", "make_secondary_time_index": {"signup": []}}, "no secondary time index"),
    ({"index": "customer", "new_table": "orders"}, "already exists"),
])
def test_bad_arguments_get_featurekit_errors(arguments, message):
    es = orders_entityset()
    arguments = {"new_table": "customers", **arguments}
    with pytest.raises(fk.FeaturekitError, match=message):
        es.normalize("orders", **arguments)


def test_make_index_numbers_the_rows_from_zero():
    data = pd.DataFrame({"value": [3.0, 1.0, 2.0]}, index=[10, 20, 30])
    before = data.copy()
    es = fk.EntitySet().add_table("t", data, index="row", make_index=True)
    assert es["t"].columns == ["row", "value"]
    assert es["t"].frame["row"].to_list() == [0, 1, 2]
    assert es["t"].frame["value"].to_list() == [3.0, 1.0, 2.0]
    pd.testing.assert_frame_equal(data, before)
    es.add_table("p", pl.DataFrame({"x": ["a", "b"]}), index="id", make_index=True)
    assert es["p"].frame["id"].to_list() == [0, 1]
    with pytest.raises(fk.SchemaError, match="already has"):
        fk.EntitySet().add_table("t", data, index="value", make_index=True)
    with pytest.raises(fk.SchemaError, match="make_index must be True or False"):
        fk.EntitySet().add_table("t", data, index="row", make_index="yes")


def test_make_index_matches_featuretools_rule():
    """Featuretools: the new index column comes first and counts 0..n-1 (facts of
    add_dataframe(make_index=True)); dfs then sees one row per input row."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        es = fk.EntitySet().add_table("t", ORDERS.drop(columns=["order_id"]), index="id",
                                      time_index="ordered_at", make_index=True)
    assert es["t"].columns[0] == "id"
    assert es["t"].frame["id"].to_list() == list(range(len(ORDERS)))
