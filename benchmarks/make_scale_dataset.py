"""Write the retail tables of N customers as a partitioned parquet dataset, chunk by chunk.

    python benchmarks/make_scale_dataset.py --customers 100000 --out /tmp/retail-100k
    python benchmarks/make_scale_dataset.py --customers 1000000 --out /tmp/retail-1m

The folder gets one sub-folder per table (``customers/``, ``sessions/``, ``transactions/``,
``products/``) of ``part-NNNNN.parquet`` files and a ``dataset.json`` with the row counts.
The tables have the shape of ``fk.demo.load_retail`` (about 10 sessions per customer and
10 transactions per session, so N customers give about 100 N transactions); each chunk of
``--chunk`` customers is generated and written on its own, so memory stays that of one chunk
however large N is. The data is generated, never committed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from featurekit.demo import RETAIL_KEYS, RETAIL_RELATIONSHIPS  # noqa: E402
from featurekit.demo_data import RETAIL_TYPES, retail_tables  # noqa: E402

TABLES = ("customers", "sessions", "transactions", "products")


def write_dataset(folder: Path, customers: int, chunk: int = 50_000, seed: int = 0,
                  sessions_per_customer: int = 10, transactions_per_session: int = 10) -> dict:
    """Write the dataset into a new or empty folder; returns the row count of every table."""
    if folder.exists() and any(folder.iterdir()):
        raise SystemExit(f"{folder} is not empty: choose a new folder (stale parts would mix in)")
    for name in TABLES:
        (folder / name).mkdir(parents=True, exist_ok=True)
    offsets = {"customer_id": 0, "session_id": 0, "transaction_id": 0}
    counts = dict.fromkeys(TABLES, 0)
    for number, start in enumerate(range(0, customers, chunk)):
        size = min(chunk, customers - start)
        tables = {name: pl.from_pandas(frame) for name, frame in retail_tables(
            size, seed=seed * 1_000_003 + number, sessions_per_customer=sessions_per_customer,
            transactions_per_session=transactions_per_session).items()}
        shift = {key: pl.col(key) + offset for key, offset in offsets.items()}
        tables["customers"] = tables["customers"].with_columns(shift["customer_id"])
        tables["sessions"] = tables["sessions"].with_columns(shift["session_id"],
                                                             shift["customer_id"])
        tables["transactions"] = tables["transactions"].with_columns(shift["transaction_id"],
                                                                     shift["session_id"])
        if number == 0:  # one product table for every chunk (product ids are 1..50 in each)
            tables["products"].write_parquet(folder / "products" / "part-00000.parquet")
            counts["products"] = tables["products"].height
        for name in ("customers", "sessions", "transactions"):
            tables[name].write_parquet(folder / name / f"part-{number:05d}.parquet")
            counts[name] += tables[name].height
        offsets = {"customer_id": offsets["customer_id"] + size,
                   "session_id": offsets["session_id"] + tables["sessions"].height,
                   "transaction_id": offsets["transaction_id"] + tables["transactions"].height}
    (folder / "dataset.json").write_text(json.dumps({"rows": counts, "seed": seed}, indent=1))
    return counts


def load_entityset(folder: Path, lazy: bool):
    """The dataset as an EntitySet: lazy parquet tables (out of core) or read into memory."""
    import featurekit as fk

    es = fk.EntitySet("retail")
    for name in TABLES:
        index, time_index = RETAIL_KEYS[name]
        if lazy:
            es.add_table(name, str(folder / name), index=index, time_index=time_index,
                         types=RETAIL_TYPES[name], lazy=True)
        else:
            es.add_table(name, pl.read_parquet(folder / name / "*.parquet"), index=index,
                         time_index=time_index, types=RETAIL_TYPES[name])
    for relationship in RETAIL_RELATIONSHIPS:
        es.add_relationship(*relationship)
    return es


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--out", type=Path, required=True, help="folder to write (created)")
    parser.add_argument("--chunk", type=int, default=50_000, help="customers per parquet file")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sessions-per-customer", type=int, default=10, help="mean")
    parser.add_argument("--transactions-per-session", type=int, default=10,
                        help="mean (11 gives over 100 M transactions for 1 M customers)")
    arguments = parser.parse_args()
    started = time.perf_counter()
    counts = write_dataset(arguments.out, arguments.customers, arguments.chunk, arguments.seed,
                           sessions_per_customer=arguments.sessions_per_customer,
                           transactions_per_session=arguments.transactions_per_session)
    print(f"wrote {counts} to {arguments.out} in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
