"""A TPC-H-like schema of seven tables with diamonds, for benchmarks/bench_dfs_diamond.py.

    region <- nation <- customer <- orders <- lineitem -> supplier -> nation
                                              lineitem -> part

``lineitem`` reaches ``nation`` through ``orders -> customer`` and through ``supplier``: the
two paths Featuretools and featurekit both name with the path in the feature name. Plain numpy
and pandas only, because the Featuretools side runs in an interpreter without featurekit; the
same seed gives the very same rows in both. Sizes follow TPC-H's ratios from ``orders``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Table -> (index, time index or None, {column: type name}); the type names are featurekit's
# (``add_table(types=...)``); bench_dfs_diamond maps them to woodwork's for Featuretools.
SCHEMA: dict[str, tuple[str, str | None, dict[str, str]]] = {
    "region": ("r_regionkey", None, {"r_name": "categorical"}),
    "nation": ("n_nationkey", None, {"n_name": "categorical"}),
    "customer": ("c_custkey", "c_since", {
        "c_acctbal": "double", "c_mktsegment": "categorical",
        "c_since": "datetime"}),
    "supplier": ("s_suppkey", "s_since", {
        "s_acctbal": "double", "s_since": "datetime"}),
    "part": ("p_partkey", None, {
        "p_brand": "categorical", "p_container": "categorical", "p_size": "integer",
        "p_retailprice": "double"}),
    "orders": ("o_orderkey", "o_orderdate", {
        "o_orderstatus": "categorical", "o_totalprice": "double",
        "o_orderpriority": "categorical", "o_orderdate": "datetime"}),
    "lineitem": ("l_id", "l_shipdate", {
        "l_quantity": "integer",
        "l_extendedprice": "double", "l_discount": "double", "l_tax": "double",
        "l_returnflag": "categorical", "l_shipmode": "categorical", "l_shipdate": "datetime",
        "l_receiptdate": "datetime"}),
}

# (parent, parent key, child, child key), in the order both libraries add them.
RELATIONSHIPS = (
    ("region", "r_regionkey", "nation", "n_regionkey"),
    ("nation", "n_nationkey", "customer", "c_nationkey"),
    ("nation", "n_nationkey", "supplier", "s_nationkey"),
    ("customer", "c_custkey", "orders", "o_custkey"),
    ("orders", "o_orderkey", "lineitem", "l_orderkey"),
    ("supplier", "s_suppkey", "lineitem", "l_suppkey"),
    ("part", "p_partkey", "lineitem", "l_partkey"),
)


def _days_after(rng: np.random.Generator, start: str, days: int, size: int) -> np.ndarray:
    minutes = rng.integers(0, days * 24 * 60, size)
    return (np.datetime64(start, "m") + minutes.astype("timedelta64[m]")).astype("datetime64[ns]")


def diamond_tables(orders: int, seed: int = 0) -> dict[str, pd.DataFrame]:
    """The seven tables for ``orders`` orders (about 4 line items each), deterministic."""
    rng = np.random.default_rng(seed)
    n_customer = max(orders // 10, 10)
    n_supplier = max(orders // 150, 10)
    n_part = max(orders // 8, 10)
    n_lines = orders * 4
    region = pd.DataFrame({"r_regionkey": np.arange(5),
                           "r_name": ["AFRICA", "AMERICA", "ASIA", "EUROPE", "MIDDLE EAST"]})
    nation = pd.DataFrame({"n_nationkey": np.arange(25),
                           "n_name": [f"NATION{i:02d}" for i in range(25)],
                           "n_regionkey": np.arange(25) % 5})
    customer = pd.DataFrame({
        "c_custkey": np.arange(1, n_customer + 1),
        "c_nationkey": rng.integers(0, 25, n_customer),
        "c_acctbal": rng.normal(4500.0, 3000.0, n_customer).round(2),
        "c_mktsegment": rng.choice(["AUTOMOBILE", "BUILDING", "FURNITURE", "HOUSEHOLD",
                                    "MACHINERY"], n_customer),
        "c_since": _days_after(rng, "1990-01-01", 1500, n_customer),
    })
    supplier = pd.DataFrame({
        "s_suppkey": np.arange(1, n_supplier + 1),
        "s_nationkey": rng.integers(0, 25, n_supplier),
        "s_acctbal": rng.normal(4500.0, 3000.0, n_supplier).round(2),
        "s_since": _days_after(rng, "1990-01-01", 1000, n_supplier),
    })
    part = pd.DataFrame({
        "p_partkey": np.arange(1, n_part + 1),
        "p_brand": rng.choice([f"Brand#{i}{j}" for i in range(1, 6) for j in range(1, 6)], n_part),
        "p_container": rng.choice(["SM CASE", "LG BOX", "MED BAG", "JUMBO PKG", "WRAP JAR"],
                                  n_part),
        "p_size": rng.integers(1, 51, n_part),
        "p_retailprice": rng.uniform(900.0, 2100.0, n_part).round(2),
    })
    order_dates = _days_after(rng, "1994-01-01", 2400, orders)
    orders_frame = pd.DataFrame({
        "o_orderkey": np.arange(1, orders + 1),
        "o_custkey": rng.integers(1, n_customer + 1, orders),
        "o_orderstatus": rng.choice(["F", "O", "P"], orders, p=[0.49, 0.49, 0.02]),
        "o_totalprice": rng.gamma(2.0, 75000.0, orders).round(2),
        "o_orderpriority": rng.choice(["1-URGENT", "2-HIGH", "3-MEDIUM", "4-NOT SPECIFIED",
                                       "5-LOW"], orders),
        "o_orderdate": order_dates,
    })
    line_order = rng.integers(1, orders + 1, n_lines)
    ship = order_dates[line_order - 1] + rng.integers(1, 121 * 24 * 60, n_lines).astype(
        "timedelta64[m]")
    receipt = ship + rng.integers(1, 30 * 24 * 60, n_lines).astype("timedelta64[m]")
    lineitem = pd.DataFrame({
        "l_id": np.arange(1, n_lines + 1),
        "l_orderkey": line_order,
        "l_partkey": rng.integers(1, n_part + 1, n_lines),
        "l_suppkey": rng.integers(1, n_supplier + 1, n_lines),
        "l_quantity": rng.integers(1, 51, n_lines),
        "l_extendedprice": rng.uniform(900.0, 105000.0, n_lines).round(2),
        "l_discount": rng.integers(0, 11, n_lines) / 100.0,
        "l_tax": rng.integers(0, 9, n_lines) / 100.0,
        "l_returnflag": rng.choice(["A", "N", "R"], n_lines),
        "l_shipmode": rng.choice(["AIR", "FOB", "MAIL", "RAIL", "REG AIR", "SHIP", "TRUCK"],
                                 n_lines),
        "l_shipdate": ship.astype("datetime64[ns]"),
        "l_receiptdate": receipt.astype("datetime64[ns]"),
    })
    return {"region": region, "nation": nation, "customer": customer, "supplier": supplier,
            "part": part, "orders": orders_frame, "lineitem": lineitem}
