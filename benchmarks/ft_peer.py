"""The Featuretools side of bench_dfs.py: time ``ft.dfs`` on the very same retail tables.

Runs in an interpreter with featuretools 1.31 and pandas 2.2, which has no featurekit: the
tables come from featurekit/demo_data.py loaded by file path (plain numpy + pandas, same seed,
same rows) and get the same explicit logical types (featurekit.demo_data.RETAIL_TYPES), as
tests/reference/make_featuretools_reference.py does. The measuring protocol is bench_dfs's.

    /work/venv-ft/bin/python benchmarks/ft_peer.py --customers 1000 --targets customers
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import warnings
from pathlib import Path

from bench_dfs import emit, measure_calls

DEMO_DATA = Path(__file__).resolve().parent.parent / "featurekit" / "demo_data.py"
KEYS = {"customers": ("customer_id", "join_date"), "sessions": ("session_id", "session_start"),
        "transactions": ("transaction_id", "transaction_time"), "products": ("product_id", None)}
RELATIONSHIPS = (
    ("customers", "customer_id", "sessions", "customer_id"),
    ("sessions", "session_id", "transactions", "session_id"),
    ("products", "product_id", "transactions", "product_id"),
)


def load_demo_data():
    """featurekit/demo_data.py as a module, without importing featurekit."""
    spec = importlib.util.spec_from_file_location("demo_data", DEMO_DATA)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_entityset(customers: int, seed: int):
    import featuretools as ft
    from woodwork.logical_types import Boolean, Categorical, NaturalLanguage

    demo = load_demo_data()
    logical_types = {"categorical": Categorical, "text": NaturalLanguage, "boolean": Boolean}
    tables = demo.retail_tables(customers, seed=seed)
    entityset = ft.EntitySet("retail")
    for name, (index, time_index) in KEYS.items():
        types = {column: logical_types[kind]
                 for column, kind in demo.RETAIL_TYPES[name].items()}
        entityset.add_dataframe(dataframe_name=name, dataframe=tables.pop(name), index=index,
                                time_index=time_index, logical_types=types)
    for parent, parent_key, child, child_key in RELATIONSHIPS:
        entityset.add_relationship(parent, parent_key, child, child_key)
    return entityset


def featuretools_worker(customers: int, target: str, repeats: int, seed: int) -> dict:
    import featuretools as ft
    import pandas as pd

    def load():
        return build_entityset(customers, seed)

    def call(entityset):
        return ft.dfs(entityset=entityset, target_dataframe_name=target, max_depth=2, n_jobs=1)

    def describe(entityset, result):
        matrix, _ = result
        return {
            "tool": f"featuretools {ft.__version__} (pandas {pd.__version__})",
            "table_rows": {frame.ww.name: len(frame) for frame in entityset.dataframes},
            "input_bytes": int(sum(frame.memory_usage(deep=True).sum()
                                   for frame in entityset.dataframes)),
            "output_bytes": int(matrix.memory_usage(deep=True).sum()),
            "output_rows": len(matrix),
            "columns": [str(column) for column in matrix.columns],
        }

    return measure_calls(load, call, describe, repeats)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, required=True)
    parser.add_argument("--targets", required=True, help="one target table")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")  # Featuretools' and woodwork's deprecation chatter
    emit(featuretools_worker(args.customers, args.targets, args.repeats, args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
