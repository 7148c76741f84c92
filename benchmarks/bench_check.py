"""es.check() and the fk.prep fixes on the retail demo: a checked entity set, and the same
tables kept as text (times and amounts as strings, as a database export gives them).

    python benchmarks/bench_check.py                 # 10,000 customers (~1,000,000 transactions)
    python benchmarks/bench_check.py --customers 1000 --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import time

import polars as pl

import featurekit as fk
from featurekit.demo import RETAIL_KEYS, RETAIL_RELATIONSHIPS
from featurekit.demo_data import retail_tables


def as_text(n_customers: int) -> fk.EntitySet:
    """The retail tables with every time and the amounts stored as text, unchecked."""
    tables = {name: pl.from_pandas(frame) for name, frame in retail_tables(n_customers).items()}
    es = fk.EntitySet("text")
    for name, (index, time_index) in RETAIL_KEYS.items():
        frame = tables[name]
        frame = frame.with_columns([pl.col(c).dt.strftime("%Y-%m-%d %H:%M:%S")
                                    for c, d in frame.schema.items() if isinstance(d, pl.Datetime)])
        if name == "transactions":
            frame = frame.with_columns(pl.col("amount").cast(pl.String))
        es.add_table(name, frame, index, time_index=time_index, validate=False)
    for relationship in RETAIL_RELATIONSHIPS:
        es.add_relationship(*relationship)
    return es


def median_seconds(run, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    checked = fk.demo.load_retail(n_customers=args.customers)
    text = as_text(args.customers)
    rows = text["transactions"].frame.height
    print(f"{args.customers} customers, {rows} transactions; median of {args.repeats} runs")
    for label, run in [
        ("check, checked entity set", lambda: checked.check()),
        ("check, tables as text", lambda: text.check()),
        ("dedupe, every table", lambda: fk.prep.dedupe(text)),
        ("parse_numbers, every table", lambda: fk.prep.parse_numbers(text)),
        ("parse_dates, every table", lambda: fk.prep.parse_dates(text)),
        ("drop_orphans, every table", lambda: fk.prep.drop_orphans(text)),
    ]:
        print(f"{label:30s} {median_seconds(run, args.repeats):7.2f} s")


if __name__ == "__main__":
    main()
