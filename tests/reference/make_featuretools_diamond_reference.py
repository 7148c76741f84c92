"""Write Featuretools 1.31's feature matrices on two schemas with several paths to tests/data,
as the reference tests/test_diamond_schemas.py compares featurekit with:

- ``diamond``: a small TPC-H-like schema where ``lineitem`` reaches ``nation`` both through
  ``orders -> customer`` and through ``supplier``;
- ``flights``: ``flights`` refers to ``airports`` twice (origin and destination), and
  ``bookings`` hang below ``flights``, so ``airports`` reach ``bookings`` by two paths.

The input tables are generated here (deterministic, a few dozen rows each) and written next
to the matrices, so both libraries read the very same rows; the JSON file describes the
tables (index, time index, logical types), the relationships in order, and every run
(target, max_depth, cutoff) with its feature names in Featuretools' order.

Run in an environment with featuretools 1.31 and pandas 2.2 (not featurekit's own):
    python tests/reference/make_featuretools_diamond_reference.py
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import featuretools as ft
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from woodwork.logical_types import (
    Boolean,
    Categorical,
    Datetime,
    Double,
    Integer,
    LatLong,
    NaturalLanguage,
)

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data"
PREFIX = "featuretools_multipath"
LATE = pd.Timestamp("2030-01-01")  # after every row: all data used
# Woodwork's logical types by the type names featurekit takes in add_table(types=...)
WOODWORK = {"integer": Integer, "double": Double, "categorical": Categorical, "boolean": Boolean,
            "datetime": Datetime, "text": NaturalLanguage, "latlong": LatLong}
WORDS = np.array(["quick", "deposits", "sleep", "furiously", "final", "ideas", "haggle", "blithely",
                  "pending", "accounts"])


def _times(rng: np.random.Generator, start: str, days: int, size: int) -> np.ndarray:
    """Distinct-looking times: a random day and minute after ``start``."""
    minutes = rng.integers(0, days * 24 * 60, size)
    return (np.datetime64(start, "m") + minutes.astype("timedelta64[m]")).astype("datetime64[ns]")


def _with_missing(rng: np.random.Generator, values: np.ndarray, share: float) -> np.ndarray:
    values = values.astype(float)
    values[rng.random(values.shape[0]) < share] = np.nan
    return values


def _comments(rng: np.random.Generator, size: int) -> list[str]:
    return [" ".join(rng.choice(WORDS, rng.integers(1, 6))) for _ in range(size)]


def diamond_tables(seed: int = 13) -> dict[str, pd.DataFrame]:
    """region <- nation <- customer <- orders <- lineitem -> supplier -> nation."""
    rng = np.random.default_rng(seed)
    region = pd.DataFrame({"r_regionkey": np.arange(3), "r_name": ["AMERICA", "EUROPE", "ASIA"]})
    n_nation = 8
    nation = pd.DataFrame({
        "n_nationkey": np.arange(n_nation),
        "n_name": [f"NATION{i}" for i in range(n_nation)],
        "n_regionkey": np.arange(n_nation) % 3,
        "n_population": rng.normal(50.0, 20.0, n_nation).round(3),
    })
    n_customer = 30  # nation 7 has no customer; nation 6 no supplier
    customer = pd.DataFrame({
        "c_custkey": np.arange(1, n_customer + 1),
        "c_nationkey": rng.integers(0, 7, n_customer),
        "c_acctbal": _with_missing(rng, rng.normal(3000.0, 1500.0, n_customer).round(2), 0.1),
        "c_mktsegment": rng.choice(["AUTOMOBILE", "BUILDING", "FURNITURE", "MACHINERY"], n_customer),
        "c_active": rng.random(n_customer) < 0.7,
        "c_since": _times(rng, "2020-01-01", 900, n_customer),
    })
    n_supplier = 12
    supplier = pd.DataFrame({
        "s_suppkey": np.arange(1, n_supplier + 1),
        "s_nationkey": rng.choice([0, 1, 2, 3, 4, 5, 7], n_supplier),
        "s_acctbal": rng.normal(5000.0, 2500.0, n_supplier).round(2),
        "s_since": _times(rng, "2019-06-01", 600, n_supplier),
    })
    n_orders = 60
    orders = pd.DataFrame({
        "o_orderkey": np.arange(1, n_orders + 1),
        "o_custkey": rng.integers(1, n_customer - 3, n_orders),  # the last customers never order
        "o_totalprice": rng.gamma(2.0, 900.0, n_orders).round(2),
        "o_orderpriority": rng.choice(["1-URGENT", "2-HIGH", "3-MEDIUM", "4-LOW"], n_orders),
        "o_urgent": rng.random(n_orders) < 0.3,
        "o_orderdate": _times(rng, "2021-01-01", 700, n_orders),
    })
    n_lines = 150
    line_order = rng.integers(1, n_orders - 2, n_lines)  # the last orders have no line
    order_dates = orders.set_index("o_orderkey")["o_orderdate"]
    ship = order_dates.loc[line_order].to_numpy() + rng.integers(60, 60 * 24 * 40, n_lines).astype(
        "timedelta64[m]")
    lineitem = pd.DataFrame({
        "l_id": np.arange(1, n_lines + 1),
        "l_orderkey": line_order,
        "l_suppkey": rng.integers(1, n_supplier + 1, n_lines),
        "l_quantity": rng.integers(1, 50, n_lines),
        "l_extendedprice": rng.gamma(2.0, 400.0, n_lines).round(2),
        "l_discount": _with_missing(rng, rng.integers(0, 11, n_lines) / 100.0, 0.08),
        "l_returnflag": rng.choice(["A", "N", "R"], n_lines),
        "l_comment": _comments(rng, n_lines),
        "l_shipdate": ship.astype("datetime64[ns]"),
    })
    return {"region": region, "nation": nation, "customer": customer, "supplier": supplier,
            "orders": orders, "lineitem": lineitem}


DIAMOND = {
    "tables": {
        "region": {"index": "r_regionkey", "time_index": None,
                   "types": {"r_regionkey": "integer", "r_name": "categorical"}},
        "nation": {"index": "n_nationkey", "time_index": None,
                   "types": {"n_nationkey": "integer", "n_name": "categorical",
                             "n_regionkey": "integer", "n_population": "double"}},
        "customer": {"index": "c_custkey", "time_index": "c_since",
                     "types": {"c_custkey": "integer", "c_nationkey": "integer",
                               "c_acctbal": "double", "c_mktsegment": "categorical",
                               "c_active": "boolean", "c_since": "datetime"}},
        "supplier": {"index": "s_suppkey", "time_index": "s_since",
                     "types": {"s_suppkey": "integer", "s_nationkey": "integer",
                               "s_acctbal": "double", "s_since": "datetime"}},
        "orders": {"index": "o_orderkey", "time_index": "o_orderdate",
                   "types": {"o_orderkey": "integer", "o_custkey": "integer",
                             "o_totalprice": "double", "o_orderpriority": "categorical",
                             "o_urgent": "boolean", "o_orderdate": "datetime"}},
        "lineitem": {"index": "l_id", "time_index": "l_shipdate",
                     "types": {"l_id": "integer", "l_orderkey": "integer", "l_suppkey": "integer",
                               "l_quantity": "integer", "l_extendedprice": "double",
                               "l_discount": "double", "l_returnflag": "categorical",
                               "l_comment": "text", "l_shipdate": "datetime"}},
    },
    "relationships": [
        ["region", "r_regionkey", "nation", "n_regionkey"],
        ["nation", "n_nationkey", "customer", "c_nationkey"],
        ["nation", "n_nationkey", "supplier", "s_nationkey"],
        ["customer", "c_custkey", "orders", "o_custkey"],
        ["orders", "o_orderkey", "lineitem", "l_orderkey"],
        ["supplier", "s_suppkey", "lineitem", "l_suppkey"],
    ],
}


def flights_tables(seed: int = 31) -> dict[str, pd.DataFrame]:
    """airports <- flights (origin), airports <- flights (destination), airlines <- flights
    <- bookings."""
    rng = np.random.default_rng(seed)
    codes = ["ATL", "BOS", "DEN", "JFK", "LAX", "ORD", "SEA", "SFO", "MIA", "PHX"]
    n_airports = len(codes)
    airports = pd.DataFrame({
        "airport_id": codes,
        "city": rng.choice(["North", "South", "East", "West"], n_airports),
        "elevation": rng.integers(0, 2000, n_airports),
        "location": [[float(rng.uniform(25, 48)), float(rng.uniform(-122, -71))]
                     for _ in range(n_airports)],
    })
    airlines = pd.DataFrame({"airline_id": np.arange(1, 5),
                             "airline_name": ["Alpha", "Beta", "Gamma", "Delta"],
                             "fleet_size": [120.0, 45.0, 300.0, 8.0]})
    n_flights = 40
    origin = rng.integers(0, n_airports - 1, n_flights)  # PHX is never an origin
    destination = (origin + rng.integers(1, n_airports - 1, n_flights)) % (n_airports - 1)
    flights = pd.DataFrame({
        "flight_id": np.arange(1, n_flights + 1),
        "origin_airport_id": np.array(codes)[origin],
        "destination_airport_id": np.array(codes)[destination],
        "airline_id": rng.integers(1, 4, n_flights),  # airline 4 has no flight
        "distance": rng.uniform(200, 2600, n_flights).round(1),
        "dep_delay": _with_missing(rng, rng.normal(10, 25, n_flights).round(1), 0.1),
        "cancelled": rng.random(n_flights) < 0.15,
        "scheduled_departure": _times(rng, "2023-01-01", 300, n_flights),
    })
    n_bookings = 120
    booked_flight = rng.integers(1, n_flights - 2, n_bookings)  # the last flights: no booking
    departures = flights.set_index("flight_id")["scheduled_departure"]
    # booked before departure; a few bookings precede nothing (a child before its parent)
    booked_at = departures.loc[booked_flight].to_numpy() - rng.integers(
        60, 60 * 24 * 60, n_bookings).astype("timedelta64[m]")
    bookings = pd.DataFrame({
        "booking_id": np.arange(1, n_bookings + 1),
        "flight_id": booked_flight,
        "price": _with_missing(rng, rng.gamma(3.0, 90.0, n_bookings).round(2), 0.05),
        "cabin": rng.choice(["economy", "business", "first"], n_bookings, p=[0.7, 0.2, 0.1]),
        "checked_in": rng.random(n_bookings) < 0.5,
        "booked_at": booked_at.astype("datetime64[ns]"),
    })
    return {"airports": airports, "airlines": airlines, "flights": flights, "bookings": bookings}


FLIGHTS = {
    "tables": {
        "airports": {"index": "airport_id", "time_index": None,
                     "types": {"airport_id": "categorical", "city": "categorical",
                               "elevation": "integer", "location": "latlong"}},
        "airlines": {"index": "airline_id", "time_index": None,
                     "types": {"airline_id": "integer", "airline_name": "categorical",
                               "fleet_size": "double"}},
        "flights": {"index": "flight_id", "time_index": "scheduled_departure",
                    "types": {"flight_id": "integer", "origin_airport_id": "categorical",
                              "destination_airport_id": "categorical", "airline_id": "integer",
                              "distance": "double", "dep_delay": "double",
                              "cancelled": "boolean", "scheduled_departure": "datetime"}},
        "bookings": {"index": "booking_id", "time_index": "booked_at",
                     "types": {"booking_id": "integer", "flight_id": "integer",
                               "price": "double", "cabin": "categorical",
                               "checked_in": "boolean", "booked_at": "datetime"}},
    },
    "relationships": [
        ["airports", "airport_id", "flights", "origin_airport_id"],
        ["airports", "airport_id", "flights", "destination_airport_id"],
        ["airlines", "airline_id", "flights", "airline_id"],
        ["flights", "flight_id", "bookings", "flight_id"],
    ],
}


def cutoff_frame(index: str, keys, times: list[str]) -> pd.DataFrame:
    """Several cutoffs per instance: every key at every time (keys in order, then times)."""
    rows = [(key, pd.Timestamp(t)) for key in keys for t in times]
    return pd.DataFrame(rows, columns=[index, "time"])


# A deeper run, with fewer primitives to keep the matrix small: stacks over both paths.
DEEP = {"agg_primitives": ["count", "sum", "mean", "mode", "num_unique"], "trans_primitives": ["month"]}
# Each run: schema, target, max_depth, a cutoff (a time for all, or several per instance) and
# options for dfs besides (none: Featuretools' default primitives).
RUNS = {
    "diamond/region": ("diamond", "region", 2, str(LATE), {}),
    "diamond/nation": ("diamond", "nation", 2, str(LATE), {}),
    "diamond/nation_depth3": ("diamond", "nation", 3, str(LATE), DEEP),
    "diamond/customer": ("diamond", "customer", 2, str(LATE), {}),
    "diamond/supplier": ("diamond", "supplier", 2, str(LATE), {}),
    "diamond/orders": ("diamond", "orders", 2, str(LATE), {}),
    "diamond/lineitem": ("diamond", "lineitem", 2, str(LATE), {}),
    "diamond/nation_one_cutoff": ("diamond", "nation", 2, "2022-03-01 12:00:00", {}),
    "diamond/nation_cutoffs": ("diamond", "nation", 2,
                               ["2021-06-01", "2022-03-01 12:00:00", "2023-01-15"], {}),
    "diamond/customer_cutoffs": ("diamond", "customer", 2, ["2021-09-01", "2022-08-01"], {}),
    "diamond/lineitem_cutoffs": ("diamond", "lineitem", 2, ["2021-08-01", "2022-06-01"], {}),
    "flights/airports": ("flights", "airports", 2, str(LATE), {}),
    "flights/airlines": ("flights", "airlines", 2, str(LATE), {}),
    "flights/flights": ("flights", "flights", 2, str(LATE), {}),
    "flights/bookings": ("flights", "bookings", 2, str(LATE), {}),
    "flights/airports_cutoffs": ("flights", "airports", 2,
                                 ["2023-03-01", "2023-06-15 08:30:00", "2023-09-01"], {}),
    "flights/flights_cutoffs": ("flights", "flights", 2, ["2023-04-01", "2023-08-01"], {}),
}
SCHEMAS = {"diamond": (DIAMOND, diamond_tables), "flights": (FLIGHTS, flights_tables)}


def build_entityset(name: str, tables: dict[str, pd.DataFrame]) -> ft.EntitySet:
    description = SCHEMAS[name][0]
    es = ft.EntitySet(name)
    for table, spec in description["tables"].items():
        frame = tables[table].copy()
        if "location" in frame:
            frame["location"] = [tuple(v) for v in frame["location"]]
        es.add_dataframe(dataframe_name=table, dataframe=frame, index=spec["index"],
                         time_index=spec["time_index"],
                         logical_types={c: WOODWORK[t] for c, t in spec["types"].items()})
    for parent, parent_key, child, child_key in description["relationships"]:
        es.add_relationship(parent, parent_key, child, child_key)
    return es


def _write_small_parquet(matrix: pd.DataFrame, path: Path) -> None:
    """The matrix with its index as columns, without pandas' per-column metadata (most of
    the bytes of a wide, short file)."""
    table = pa.Table.from_pandas(matrix.reset_index(), preserve_index=False)
    pq.write_table(table.replace_schema_metadata(None), path, compression="zstd",
                   write_statistics=False, store_schema=False)


def main() -> None:
    warnings.filterwarnings("ignore")
    DATA.mkdir(exist_ok=True)
    tables = {name: make() for name, (_, make) in SCHEMAS.items()}
    for name, frames in tables.items():
        for table, frame in frames.items():
            frame.to_parquet(DATA / f"{PREFIX}_input_{name}_{table}.parquet", index=False)
    manifest = {}
    for key, (schema, target, depth, cutoff, options) in RUNS.items():
        es = build_entityset(schema, tables[schema])
        index = SCHEMAS[schema][0]["tables"][target]["index"]
        if isinstance(cutoff, list):
            cutoff_time = cutoff_frame(index, tables[schema][target][index], cutoff)
            cutoff_time["cutoff_moment"] = cutoff_time["time"]  # passed through to the matrix
        else:
            cutoff_time = pd.Timestamp(cutoff)
        matrix, features = ft.dfs(entityset=es, target_dataframe_name=target, max_depth=depth,
                                  cutoff_time=cutoff_time, **options)
        names = [name for f in features for name in f.get_feature_names()]
        if isinstance(cutoff, list):
            matrix = matrix.reset_index().rename(columns={"cutoff_moment": "time"})
            matrix = matrix.sort_values([index, "time"], kind="stable").set_index([index, "time"])
        matrix = matrix[names]
        for column in matrix.columns:
            if str(matrix[column].dtype) == "category":
                matrix[column] = matrix[column].astype(object).astype("string")
        out = DATA / f"{PREFIX}_{key.replace('/', '_')}.parquet"
        _write_small_parquet(matrix, out)
        manifest[key] = {"schema": schema, "target": target, "max_depth": depth,
                         "cutoff": cutoff, "options": options, "features": names}
        print(out.name, matrix.shape)
    (DATA / f"{PREFIX}_reference.json").write_text(json.dumps(
        {"featuretools": ft.__version__, "schemas": {k: v[0] for k, v in SCHEMAS.items()},
         "runs": manifest}, indent=1))


if __name__ == "__main__":
    main()
