"""Time-series calculators inside deep feature synthesis beside the extractor on the same series.

    python benchmarks/bench_dfs_timeseries.py                      # 10,000 customers, efficient
    python benchmarks/bench_dfs_timeseries.py --customers 1000 --settings minimal --repeats 3

On ``fk.demo.load_retail(n_customers=N)``, times (1) ``fk.compute`` of
``timeseries_primitives(settings)`` over each customer's transactions (planning not timed)
and (2) ``fk.timeseries.extract`` with the same settings on the same series (each customer's
non-missing amounts in (transaction_time, transaction_id) order; building it not timed).
One warm-up call each (numba compilation, thread pools), then the median of ``--repeats``.
Run it with ``PYTHONPATH`` pointing at the tree to measure, to compare two checkouts.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import polars as pl
from featurekit.primitives import timeseries_primitives

import featurekit as fk


def median_seconds(call, repeats: int) -> float:
    call()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--settings", default="efficient")
    parser.add_argument("--repeats", type=int, default=3)
    arguments = parser.parse_args()
    load = os.getloadavg()[0]

    es = fk.demo.load_retail(n_customers=arguments.customers)
    features = fk.plan(es, target="customers", agg_primitives=timeseries_primitives(arguments.settings),
                       trans_primitives=[], max_depth=2, include=["*(transactions.amount*"],
                       exclude=["*sessions.*"])
    series = (es["transactions"].frame.join(es["sessions"].frame.select("session_id", "customer_id"),
                                            on="session_id")
              .sort("transaction_time", "transaction_id").drop_nulls("amount")
              .filter(pl.col("amount").is_not_nan())
              .with_columns(pl.int_range(pl.len()).over("customer_id").alias("position"))
              .select("customer_id", "position", "amount"))

    dfs = median_seconds(lambda: fk.compute(es, features), arguments.repeats)
    extract = median_seconds(lambda: fk.timeseries.extract(
        series, column_id="customer_id", column_sort="position", settings=arguments.settings),
        arguments.repeats)
    print(f"featurekit {fk.__file__}")
    print(f"{arguments.customers} customers, {series.height} transactions, {len(features)} features "
          f"({arguments.settings}); load average at start: {load:.2f}")
    print(f"fk.compute (DFS)      {dfs:7.2f} s")
    print(f"fk.timeseries.extract {extract:7.2f} s")
    print(f"ratio                 {dfs / extract:7.2f}")


if __name__ == "__main__":
    main()
