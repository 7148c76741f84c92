"""Deep feature synthesis on a seven-table schema with diamonds (benchmarks/diamond_data.py):
featurekit's ``fk.dfs`` beside Featuretools 1.31's ``ft.dfs``, same tables, each measurement in
a fresh child process, with bench_dfs.py's protocol (one cold call, then the median of warm
calls).

    python benchmarks/bench_dfs_diamond.py                       # 10,000 and 100,000 orders
    python benchmarks/bench_dfs_diamond.py --orders 20000 --targets customer nation --no-peer

The top level imports only the standard library and the data module: the Featuretools worker
(``--peer-worker``) runs in an interpreter with featuretools and without featurekit.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from bench_dfs import (
    DEFAULT_PEER_PYTHON,
    column_check,
    emit,
    measure_calls,
    peer_available,
    run_child,
    seconds_text,
    source_version,
)
from diamond_data import RELATIONSHIPS, SCHEMA, diamond_tables

HERE = Path(__file__).resolve().parent


def featurekit_worker(orders: int, target: str, repeats: int, seed: int) -> dict:
    import polars as pl

    import featurekit as fk

    def load():
        tables = diamond_tables(orders, seed)
        entityset = fk.EntitySet("tpch")
        for name, (index, time_index, types) in SCHEMA.items():
            entityset.add_table(name, tables[name], index=index, time_index=time_index,
                                types=types)
        for parent, parent_key, child, child_key in RELATIONSHIPS:
            entityset.add_relationship(parent=parent, parent_key=parent_key, child=child,
                                       child_key=child_key)
        return entityset

    def call(entityset):
        return fk.dfs(entityset, target=target, max_depth=2)

    def describe(entityset, result):
        matrix, _ = result
        return {"tool": f"featurekit {fk.__version__} (polars {pl.__version__})",
                "table_rows": {name: table.frame.height
                               for name, table in entityset.tables.items()},
                "output_rows": len(matrix),
                "columns": [str(column) for column in matrix.columns]}

    return measure_calls(load, call, describe, repeats)


def featuretools_worker(orders: int, target: str, repeats: int, seed: int) -> dict:
    import featuretools as ft
    import pandas as pd
    from woodwork.logical_types import Categorical, Datetime, Double, Integer

    woodwork = {"categorical": Categorical, "double": Double, "integer": Integer,
                "datetime": Datetime}

    def load():
        tables = diamond_tables(orders, seed)
        entityset = ft.EntitySet("tpch")
        for name, (index, time_index, types) in SCHEMA.items():
            logical = {column: woodwork[kind] for column, kind in types.items() if kind != "id"}
            entityset.add_dataframe(dataframe_name=name, dataframe=tables[name], index=index,
                                    time_index=time_index, logical_types=logical)
        for parent, parent_key, child, child_key in RELATIONSHIPS:
            entityset.add_relationship(parent, parent_key, child, child_key)
        return entityset

    def call(entityset):
        return ft.dfs(entityset=entityset, target_dataframe_name=target, max_depth=2, n_jobs=1)

    def describe(entityset, result):
        matrix, _ = result
        return {"tool": f"featuretools {ft.__version__} (pandas {pd.__version__})",
                "table_rows": {frame.ww.name: len(frame) for frame in entityset.dataframes},
                "output_rows": len(matrix),
                "columns": [str(column) for column in matrix.columns]}

    return measure_calls(load, call, describe, repeats)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, nargs="+", default=[10_000, 100_000],
                        help="sizes in orders, about 4 line items each (default: 10000 100000)")
    parser.add_argument("--targets", nargs="+", default=["customer", "nation"],
                        help="target tables (default: customer nation)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--peer-repeats", type=int, default=3)
    parser.add_argument("--peer-python", type=Path, default=DEFAULT_PEER_PYTHON)
    parser.add_argument("--no-peer", action="store_true", help="measure featurekit only")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--peer-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.peer_repeats < 1 or min(args.orders) < 1:
        parser.error("--repeats, --peer-repeats and --orders must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    job = (args.orders[0], args.targets[0], args.seed)
    if args.worker:
        emit(featurekit_worker(job[0], job[1], args.repeats, job[2]))
        return 0
    if args.peer_worker:
        emit(featuretools_worker(job[0], job[1], args.peer_repeats, job[2]))
        return 0
    load_at_start, source = os.getloadavg()[0], source_version()
    use_peer, peer_note = peer_available(None if args.no_peer else args.peer_python)
    rows, ok = [], True
    for orders in args.orders:
        for target in args.targets:
            common = ["--orders", str(orders), "--targets", target, "--seed", str(args.seed),
                      "--repeats", str(args.repeats), "--peer-repeats", str(args.peer_repeats)]
            print(f"featurekit   {orders} orders, target {target} ...", file=sys.stderr,
                  flush=True)
            ours = run_child([sys.executable, str(HERE / "bench_dfs_diamond.py"), "--worker",
                              *common])
            peer = None
            if use_peer:
                print(f"Featuretools {orders} orders, target {target} ...", file=sys.stderr,
                      flush=True)
                peer = run_child([str(args.peer_python), str(HERE / "bench_dfs_diamond.py"),
                                  "--peer-worker", *common])
            rows.append((orders, target, ours, peer))
    print(f"\n{source}; load average (1 min) at start {load_at_start:.2f}, at end "
          f"{os.getloadavg()[0]:.2f}; max_depth 2, default primitives; seed {args.seed}")
    if peer_note:
        print(peer_note)
    print(f"featurekit: cold call + median of {args.repeats}; Featuretools (n_jobs=1): cold call "
          f"+ median of {args.peer_repeats}. Times in seconds.\n")
    header = (f"{'orders':>8} {'target':<9} {'lineitems':>9} {'features':>12} {'fk cold':>8} "
              f"{'fk med':>8} {'ft cold':>8} {'ft med':>8} {'speedup':>8}")
    print(header + "\n" + "-" * len(header))
    problems = []
    for orders, target, ours, peer in rows:
        for tool, result in (("featurekit", ours), ("Featuretools", peer)):
            if result is not None and "error" in result:
                problems.append(f"{tool} {orders} {target}: {result['error']}")
        features, differences = column_check(ours, peer)
        problems += [f"{orders} {target}: {text}" for text in differences[:10]]
        cells = []
        for result in (ours, peer):
            good = result is not None and "error" not in result
            cells += ([seconds_text(result["cold_seconds"]), seconds_text(result["median_seconds"])]
                      if good else ["-", "-"])
        speedup = "-"
        if "error" not in ours and peer is not None and "error" not in peer:
            speedup = f"{peer['median_seconds'] / ours['median_seconds']:.0f}x"
        lines = ours.get("table_rows", {}).get("lineitem", "-")
        print(f"{orders:>8} {target:<9} {lines:>9} {features:>12} "
              + " ".join(f"{cell:>8}" for cell in cells) + f" {speedup:>8}")
    if problems:
        ok = False
        print("\nProblems:\n" + "\n".join("  " + text for text in problems))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
