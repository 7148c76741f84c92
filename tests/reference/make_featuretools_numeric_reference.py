"""Write Featuretools 1.31's feature matrices for its numeric, boolean and comparison transform
primitives to tests/data, as the reference tests/test_featuretools_numeric_transforms.py
compares featurekit with.

Two small tables (customers <- orders) hold missing values, zeros, negative numbers,
infinities, repeated values, nullable booleans and a categorical column; they are written
next to the matrices so both libraries read the same rows. The JSON file describes the
tables and every run (target, depth, primitives with their parameters, cutoff, columns left
out) with its feature names in Featuretools' order.

Featuretools' ``equal`` / ``not_equal`` fail on a categorical column beside a boolean column
with missing values ("boolean value of NA is ambiguous"), so the runs with them leave the
nullable boolean out.

Run in an environment with featuretools 1.31 and pandas 2.2 (not featurekit's own):
    python tests/reference/make_featuretools_numeric_reference.py
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import featuretools as ft
import numpy as np
import pandas as pd
from woodwork.logical_types import (
    Boolean,
    BooleanNullable,
    Categorical,
    Datetime,
    Double,
    Integer,
    IntegerNullable,
)

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data"
PREFIX = "featuretools_numeric"
WOODWORK = {"integer": Integer, "integer_nullable": IntegerNullable, "double": Double,
            "categorical": Categorical, "boolean": Boolean, "boolean_nullable": BooleanNullable,
            "datetime": Datetime}
# featurekit's name for each type: it has one boolean type, missing values allowed
FEATUREKIT_TYPE = {"boolean_nullable": "boolean"}


def tables(seed: int = 31) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n_customers = 8
    customers = pd.DataFrame({
        "customer_id": np.arange(1, n_customers + 1),
        "signup": pd.to_datetime("2021-01-01") + pd.to_timedelta(
            rng.integers(0, 58, n_customers), unit="D"),  # before any order
        "credit": [1500.0, np.nan, 0.0, -250.5, 3000.0, np.inf, 10.25, 0.0],
        "visits": rng.integers(0, 20, n_customers),
        "tier": pd.Categorical(["gold", "silver", None, "gold", "bronze", "silver", "gold", None]),
        "active": [True, False, True, True, False, True, False, True],
    })
    n_orders = 40
    special = [0.0, np.nan, -3.5, np.inf, -np.inf, 12.0, 12.0, np.nan, np.nan, 0.0]
    amount = rng.normal(20.0, 15.0, n_orders).round(2)
    amount[rng.choice(n_orders, len(special), replace=False)] = special
    amount[20:23] = 7.5  # a run of equal values
    quantity = pd.array(rng.integers(-2, 6, n_orders), dtype="Int64")
    quantity[rng.choice(n_orders, 5, replace=False)] = pd.NA
    discount = rng.choice([0.0, 0.1, 0.25, 0.5, 1.0, -0.1, np.nan], n_orders)
    gift = pd.array(rng.choice([True, False], n_orders), dtype="boolean")
    gift[rng.choice(n_orders, 6, replace=False)] = pd.NA
    times = pd.to_datetime("2021-03-01") + pd.to_timedelta(
        np.sort(rng.integers(0, 400 * 24, n_orders)), unit="h")
    times = times.to_numpy()
    times[11] = times[10]  # two orders at one moment: order by index
    order = rng.permutation(n_orders)  # rows not in time order: both libraries sort
    orders = pd.DataFrame({
        "order_id": np.arange(100, 100 + n_orders),
        "customer_id": rng.integers(1, n_customers, n_orders),  # the last customer never orders
        "ordered_at": times,
        "amount": amount,
        "quantity": quantity,
        "discount": discount,
        "gift": gift,
        "rush": rng.random(n_orders) < 0.4,
        "channel": pd.Categorical(rng.choice(["web", "store", "phone", None], n_orders)),
    }).iloc[order].reset_index(drop=True)
    return {"customers": customers, "orders": orders}


SCHEMA = {
    "customers": {"index": "customer_id", "time_index": "signup",
                  "types": {"customer_id": "integer", "signup": "datetime", "credit": "double",
                            "visits": "integer", "tier": "categorical", "active": "boolean"}},
    "orders": {"index": "order_id", "time_index": "ordered_at",
               "types": {"order_id": "integer", "customer_id": "integer",
                         "ordered_at": "datetime", "amount": "double",
                         "quantity": "integer_nullable", "discount": "double",
                         "gift": "boolean_nullable", "rush": "boolean",
                         "channel": "categorical"}},
}
RELATIONSHIPS = [["customers", "customer_id", "orders", "customer_id"]]

ARITHMETIC = ["add_numeric", "subtract_numeric", "multiply_numeric", "divide_numeric",
              "modulo_numeric", "negate", "natural_logarithm", "square_root", "sine", "cosine",
              "tangent"]
DEFAULT_SCALARS = ["add_numeric_scalar", "subtract_numeric_scalar",
                   "scalar_subtract_numeric_feature", "multiply_numeric_scalar",
                   "divide_numeric_scalar", "divide_by_feature", "modulo_numeric_scalar",
                   "modulo_by_feature", "greater_than_scalar", "greater_than_equal_to_scalar",
                   "less_than_scalar", "less_than_equal_to_scalar"]
ORDERS = ["greater_than", "greater_than_equal_to", "less_than", "less_than_equal_to"]
BOOLEANS = ["and", "or", "not", "multiply_boolean", "multiply_numeric_boolean", "isin"]
EQUALITY = ["equal", "not_equal", "equal_scalar", "not_equal_scalar"]
ORDERED = ["percent_change", "same_as_previous", "absolute_diff", "numeric_lag"]
SCALARS_SET = [
    ["add_numeric_scalar", {"value": 2.5}], ["subtract_numeric_scalar", {"value": -3}],
    ["scalar_subtract_numeric_feature", {"value": 10}], ["multiply_numeric_scalar", {"value": -2}],
    ["divide_numeric_scalar", {"value": 0}], ["divide_by_feature", {"value": 5}],
    ["modulo_numeric_scalar", {"value": -3}], ["modulo_by_feature", {"value": 7}],
    ["greater_than_scalar", {"value": 1.5}], ["greater_than_equal_to_scalar", {"value": 12}],
    ["less_than_scalar", {"value": -1}], ["less_than_equal_to_scalar", {"value": 0.5}],
    ["equal_scalar", {"value": "web"}], ["not_equal_scalar", {"value": 0}],
    ["isin", {"list_of_outputs": ["web", 0, 12.0, True]}],
]
ORDERED_SET = [
    ["percent_change", {"periods": 2, "fill_method": "bfill", "limit": 1}],
    ["same_as_previous", {"fill_method": "backfill", "limit": 2}],
    ["absolute_diff", {"method": "bfill"}],
    ["numeric_lag", {"periods": 3, "fill_value": 0}],
]
WITHOUT_NULLABLE_BOOLEAN = {"orders": ["gift"]}

RUNS = {
    "arithmetic": {"target": "orders", "max_depth": 1, "trans": ARITHMETIC + ORDERS},
    "default_scalars": {"target": "orders", "max_depth": 1, "trans": DEFAULT_SCALARS},
    "booleans": {"target": "orders", "max_depth": 1, "trans": BOOLEANS},
    "equality": {"target": "orders", "max_depth": 1, "trans": EQUALITY,
                 "ignore_columns": WITHOUT_NULLABLE_BOOLEAN},
    "scalars_set": {"target": "orders", "max_depth": 1, "trans": SCALARS_SET},
    "ordered": {"target": "orders", "max_depth": 1, "trans": ORDERED},
    "ordered_set": {"target": "orders", "max_depth": 1, "trans": ORDERED_SET},
    "ordered_cutoff": {"target": "orders", "max_depth": 1, "trans": ORDERED + ORDERED_SET,
                       "cutoff": "2021-09-15"},
    "customers_depth2": {
        "target": "customers", "max_depth": 2, "agg": ["sum", "percent_true"],
        "trans": ["divide_numeric", "greater_than", "and", "not", "multiply_numeric_boolean",
                  "percent_change", "same_as_previous"]},
    "customers_cutoffs": {
        "target": "customers", "max_depth": 2, "agg": ["sum", "percent_true"],
        "trans": ["subtract_numeric", "less_than_equal_to", "or", "multiply_boolean",
                  "percent_change", "numeric_lag", ["greater_than_scalar", {"value": 10}]],
        "cutoff": ["2021-02-01", "2021-12-01", "2022-05-01"]},
    # integers modulo integers, zeros among the divisors
    "customers_modulo": {"target": "customers", "max_depth": 2, "agg": ["sum", "count"],
                         "trans": ["modulo_numeric"]},
    # each order at its own moment (plus 12 hours): Featuretools computes an ordered transform
    # over the orders that share a cutoff moment only
    "ordered_own_cutoffs": {"target": "orders", "max_depth": 1, "trans": ORDERED,
                            "cutoff": {"own_time_plus_hours": 12}},
}


def entityset(frames: dict[str, pd.DataFrame]) -> ft.EntitySet:
    es = ft.EntitySet("numeric")
    for name, spec in SCHEMA.items():
        es.add_dataframe(dataframe_name=name, dataframe=frames[name].copy(), index=spec["index"],
                         time_index=spec["time_index"],
                         logical_types={c: WOODWORK[t] for c, t in spec["types"].items()})
    for parent, parent_key, child, child_key in RELATIONSHIPS:
        es.add_relationship(parent, parent_key, child, child_key)
    return es


def primitive(spec):
    if isinstance(spec, str):
        return spec
    name, params = spec
    return ft.primitives.get_transform_primitives()[name](**params)


def cutoff_time(run: dict, frames: dict[str, pd.DataFrame]):
    cutoff = run.get("cutoff")
    if cutoff is None:
        return None
    index = SCHEMA[run["target"]]["index"]
    if isinstance(cutoff, dict):
        frame = frames[run["target"]]
        times = frame[SCHEMA[run["target"]]["time_index"]] + pd.Timedelta(
            hours=cutoff["own_time_plus_hours"])
        return pd.DataFrame({index: frame[index], "time": times, "cutoff_moment": times})
    if not isinstance(cutoff, list):
        return pd.Timestamp(cutoff)
    keys = frames[run["target"]][index].to_list()
    frame = pd.DataFrame([(key, pd.Timestamp(t)) for t in cutoff for key in keys],
                         columns=[index, "time"])
    frame["cutoff_moment"] = frame["time"]  # passed through to the matrix
    return frame


def main() -> None:
    frames = tables()
    for name, frame in frames.items():
        frame.to_parquet(DATA / f"{PREFIX}_input_{name}.parquet", index=False, compression="zstd")
    reference = {
        "tables": {name: {**spec, "types": {c: FEATUREKIT_TYPE.get(t, t)
                                            for c, t in spec["types"].items()}}
                   for name, spec in SCHEMA.items()},
        "relationships": RELATIONSHIPS,
        "runs": {},
    }
    for key, run in RUNS.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # NumericLag's deprecation, pandas' fillna
            matrix, features = ft.dfs(
                entityset=entityset(frames), target_dataframe_name=run["target"],
                max_depth=run["max_depth"], agg_primitives=run.get("agg", []),
                trans_primitives=[primitive(p) for p in run["trans"]],
                ignore_columns=run.get("ignore_columns"),
                cutoff_time=cutoff_time(run, frames))
        matrix = matrix.reset_index().rename(columns={"cutoff_moment": "time"})
        matrix.to_parquet(DATA / f"{PREFIX}_{key}.parquet", index=False, compression="zstd")
        reference["runs"][key] = {**run, "features": [f.get_name() for f in features]}
    (DATA / f"{PREFIX}_reference.json").write_text(json.dumps(reference, indent=1) + "\n")


if __name__ == "__main__":
    main()
