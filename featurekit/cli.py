"""``featurekit`` on the command line: ``featurekit demo`` runs the main job on embedded data."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import polars as pl
from tqdm import tqdm


def write_parquet_atomically(frame: pl.DataFrame, path: Path) -> None:
    """Write to a temporary file beside ``path`` and rename it: never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        frame.write_parquet(temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def run_demo(customers: int, out: Path, target: str, max_depth: int, seed: int) -> dict:
    """Build the retail entity set, plan, compute and write the matrix; return a summary."""
    import featurekit as fk

    steps = ["load tables", "plan features", "compute matrix", "write parquet"]
    timings: dict[str, float] = {}
    show = customers >= 10_000 and sys.stderr.isatty()
    with tqdm(total=len(steps), desc="featurekit demo", disable=not show, unit="step") as bar:
        started = time.perf_counter()
        entityset = fk.demo.load_retail(n_customers=customers, seed=seed, return_type="polars")
        timings["load"] = time.perf_counter() - started
        bar.update()
        started = time.perf_counter()
        features = fk.plan(entityset, target=target, max_depth=max_depth)
        timings["plan"] = time.perf_counter() - started
        bar.update()
        started = time.perf_counter()
        matrix = fk.compute(entityset, features, return_type="polars")
        timings["compute"] = time.perf_counter() - started
        bar.update()
        write_parquet_atomically(matrix, out)
        bar.update()
    return {"rows": matrix.height, "features": matrix.width - 1, "timings": timings,
            "out": out, "tables": {n: t.frame.height for n, t in entityset.tables.items()}}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="featurekit", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="deep feature synthesis on the embedded retail data")
    demo.add_argument("--customers", type=int, default=1000, help="number of customers (default 1000)")
    demo.add_argument("--out", type=Path, default=Path("featurekit_demo_features.parquet"),
                      help="where to write the feature matrix (parquet)")
    demo.add_argument("--target", default="customers",
                      choices=["customers", "sessions", "transactions", "products"])
    demo.add_argument("--max-depth", type=int, default=2)
    demo.add_argument("--seed", type=int, default=0)
    commands.add_parser("primitives", help="print the primitive reference (markdown)")
    arguments = parser.parse_args(argv)
    if arguments.command == "primitives":
        from featurekit.primitives import primitives_markdown

        print(primitives_markdown(), end="")
        return 0
    if arguments.customers < 1:
        parser.error("--customers must be at least 1")
    summary = run_demo(arguments.customers, arguments.out, arguments.target,
                       arguments.max_depth, arguments.seed)
    tables = ", ".join(f"{name} {rows:,}" for name, rows in summary["tables"].items())
    timings = summary["timings"]
    print(f"tables: {tables}")
    print(f"matrix: {summary['rows']:,} rows x {summary['features']} features -> {summary['out']}")
    print(f"seconds: load {timings['load']:.2f}, plan {timings['plan']:.3f}, "
          f"compute {timings['compute']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
