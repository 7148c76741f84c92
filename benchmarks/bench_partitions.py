"""Partitioned against single-process compute on the retail demo (one process, one run of
each after a warm-up): the cost of reading each partition's rows and computing it apart.

    python benchmarks/bench_partitions.py --customers 20000 --partitions 4
"""

from __future__ import annotations

import argparse
import time
import warnings

import pandas as pd

import featurekit as fk


def timed(*args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    result = fk.compute(*args, **kwargs)
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    arguments = parser.parse_args()
    es = fk.demo.load_retail(n_customers=arguments.customers)
    features = fk.plan(es, target="customers", max_depth=2)
    cutoffs = fk.make_labels(es, "customers", lambda rows: rows.amount.sum() > 100, window="180d",
                             max_per_instance=2)
    rows = {name: table.frame.height for name, table in es.tables.items()}
    print(f"retail demo {rows}, {len(features)} features, {len(cutoffs)} cutoff rows")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fk.compute(es, features, partitions=arguments.partitions)  # warm-up: numba compiles
        fk.compute(es, features, cutoff_time=cutoffs)
    for label, cutoff in (("no cutoff", None), ("cutoff frame", cutoffs)):
        single_times, parted_times = [], []
        for _ in range(arguments.repeats):  # alternate, best of each
            seconds, single = timed(es, features, cutoff_time=cutoff)
            single_times.append(seconds)
            seconds, parted = timed(es, features, cutoff_time=cutoff,
                                    partitions=arguments.partitions)
            parted_times.append(seconds)
        pd.testing.assert_frame_equal(single, parted, check_exact=False, rtol=1e-12)
        best_single, best_parted = min(single_times), min(parted_times)
        print(f"{label}: single {best_single:.3f} s, {arguments.partitions} partitions "
              f"{best_parted:.3f} s, ratio {best_parted / best_single:.2f}")


if __name__ == "__main__":
    main()
