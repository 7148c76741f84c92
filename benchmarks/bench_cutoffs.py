"""Per-instance cutoff times: featurekit's ``fk.dfs(cutoff_time=frame)`` beside Featuretools
1.31's ``ft.dfs(cutoff_time=frame)`` on the very same tables and cutoffs, each measurement in a
fresh child process (issue 3's benchmark).

    python benchmarks/bench_cutoffs.py                        # the three scenarios below
    python benchmarks/bench_cutoffs.py --scenarios 1k-seconds --peer-repeats 1
    python benchmarks/bench_cutoffs.py --no-peer

Scenarios (``--scenarios``), each on ``load_retail`` with its seed:

- ``1k-seconds``: 1,000 customers, one cutoff each at one-second resolution (~1,000 distinct).
- ``10k-days``: 10,000 customers, one cutoff each on a day of the last year (~365 distinct).
- ``10k-x10``: 10,000 customers, ten cutoffs each on days of the last year (100,000 rows);
  Featuretools runs it only with ``--peer-x10`` (it takes minutes).

Cutoffs come from :func:`cutoff_frame` (numpy + pandas only, so both interpreters build the
same frame). The measuring protocol (cold first call, median of warm calls, peak RSS above the
loaded tables) is bench_dfs.py's; see benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from bench_dfs import (
    DEFAULT_PEER_PYTHON,
    MIB,
    emit,
    measure_calls,
    mib,
    peer_available,
    run_child,
    seconds_text,
    source_version,
)

HERE = Path(__file__).resolve().parent
SCENARIOS = {  # customers, cutoffs per customer, resolution
    "1k-seconds": (1_000, 1, "s"),
    "10k-days": (10_000, 1, "D"),
    "10k-x10": (10_000, 10, "D"),
}
GOALS = {"1k-seconds": "1000x faster", "10k-days": "200x faster",
         "10k-x10": "well under 1 s, work < 2x input"}


def cutoff_frame(customers, scenario: str, seed: int):
    """Cutoffs of one scenario for a customers table (pandas): each customer at ``per``
    moments drawn uniformly over the last 365 days before the last join date + 1 year."""
    import numpy as np
    import pandas as pd

    _, per, unit = SCENARIOS[scenario]
    rng = np.random.default_rng(seed + 1)
    end = pd.Timestamp(customers["join_date"].max()) + pd.Timedelta(days=365)
    start = end - pd.Timedelta(days=365)
    ids = np.repeat(customers["customer_id"].to_numpy(), per)
    offsets = pd.to_timedelta(rng.random(len(ids)) * 365 * 86_400, unit="s")
    times = (start + offsets).floor(unit)
    frame = pd.DataFrame({"customer_id": ids, "time": times})
    return frame.drop_duplicates(["customer_id", "time"]).reset_index(drop=True)


def featurekit_worker(scenario: str, repeats: int, seed: int) -> dict:
    import polars as pl

    import featurekit as fk

    customers = SCENARIOS[scenario][0]

    def load():
        es = fk.demo.load_retail(n_customers=customers, seed=seed)
        return es, cutoff_frame(es["customers"].frame.to_pandas(), scenario, seed)

    def call(loaded):
        es, cutoffs = loaded
        return fk.dfs(es, target="customers", max_depth=2, cutoff_time=cutoffs)

    def describe(loaded, result):
        es, cutoffs = loaded
        matrix, _ = result
        return {
            "tool": f"featurekit {fk.__version__} (polars {pl.__version__})",
            "cutoff_rows": len(cutoffs), "distinct_times": int(cutoffs["time"].nunique()),
            "input_bytes": sum(table.frame.estimated_size() for table in es.tables.values()),
            "output_bytes": int(matrix.memory_usage(deep=True).sum()),
            "output_rows": len(matrix), "columns": [str(c) for c in matrix.columns],
        }

    return measure_calls(load, call, describe, repeats)


def featuretools_worker(scenario: str, repeats: int, seed: int) -> dict:
    import featuretools as ft
    import pandas as pd
    from ft_peer import build_entityset

    customers = SCENARIOS[scenario][0]

    def load():
        es = build_entityset(customers, seed)
        return es, cutoff_frame(es["customers"], scenario, seed)

    def call(loaded):
        es, cutoffs = loaded
        return ft.dfs(entityset=es, target_dataframe_name="customers", max_depth=2, n_jobs=1,
                      cutoff_time=cutoffs)

    def describe(loaded, result):
        es, cutoffs = loaded
        matrix, _ = result
        return {
            "tool": f"featuretools {ft.__version__} (pandas {pd.__version__})",
            "cutoff_rows": len(cutoffs), "distinct_times": int(cutoffs["time"].nunique()),
            "input_bytes": int(sum(f.memory_usage(deep=True).sum() for f in es.dataframes)),
            "output_bytes": int(matrix.memory_usage(deep=True).sum()),
            "output_rows": len(matrix), "columns": [str(c) for c in matrix.columns],
        }

    return measure_calls(load, call, describe, repeats)


def report(rows: list[dict], args: argparse.Namespace, note: str) -> bool:
    print(f"\n{source_version()}; {os.cpu_count()} cores; seed {args.seed}; max_depth 2, default "
          f"primitives; load average (1 min) at start {args.load:.2f}, at end {os.getloadavg()[0]:.2f}")
    print(f"featurekit: cold first call + median of {args.repeats}; Featuretools (n_jobs=1): cold "
          f"first call + median of {args.peer_repeats}. Times in seconds, memory in MiB.")
    if note:
        print(note)
    header = (f"{'scenario':<11} {'rows':>7} {'times':>6} {'fk cold':>8} {'fk med':>8} {'ft med':>8} "
              f"{'speedup':>8} {'input':>7} {'output':>7} {'fk peak':>8} {'work/in':>8} {'goal':<30}")
    print("\n" + header + "\n" + "-" * len(header))
    ok = True
    for row in rows:
        ours, peer = row["ours"], row["peer"]
        if "error" in ours:
            print(f"{row['scenario']:<11} featurekit failed: {ours['error']}")
            ok = False
            continue
        peer_ok = peer is not None and "error" not in peer
        if peer is not None and not peer_ok:
            print(f"{row['scenario']:<11} Featuretools failed: {peer['error']}")
        speedup = f"{peer['median_seconds'] / ours['median_seconds']:.0f}x" if peer_ok else "-"
        if peer_ok and (set(peer["columns"]) != set(ours["columns"]) or peer["output_rows"] != ours["output_rows"]):
            print(f"  {row['scenario']}: columns or rows differ from Featuretools'")
            ok = False
        peak = max(ours["cold_peak_bytes"], ours["warm_peak_bytes"])
        print(f"{row['scenario']:<11} {ours['output_rows']:>7} {ours['distinct_times']:>6} "
              f"{seconds_text(ours['cold_seconds']):>8} {seconds_text(ours['median_seconds']):>8} "
              f"{seconds_text(peer['median_seconds']) if peer_ok else '-':>8} {speedup:>8} "
              f"{mib(ours['input_bytes']):>7} {mib(ours['output_bytes']):>7} {mib(peak):>8} "
              f"{(peak - ours['output_bytes']) / ours['input_bytes']:>8.2f} {GOALS[row['scenario']]:<30}")
    print(f"\nfk peak: the larger of the cold and warm RSS peaks above the loaded tables (includes "
          f"the output matrix and, cold, one-time costs); work/in: (fk peak - output) / input, the "
          f"working memory against the tables; input: polars estimated_size of the tables "
          f"({MIB} bytes a MiB).")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenarios", nargs="+", default=list(SCENARIOS), choices=list(SCENARIOS))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--peer-repeats", type=int, default=1)
    parser.add_argument("--peer-python", type=Path,
                        default=DEFAULT_PEER_PYTHON)
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--peer-x10", action="store_true", help="also run Featuretools on 10k-x10")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--worker", choices=["featurekit", "featuretools"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        import warnings

        warnings.filterwarnings("ignore")
        work = featurekit_worker if args.worker == "featurekit" else featuretools_worker
        emit(work(args.scenarios[0], args.repeats if args.worker == "featurekit" else args.peer_repeats,
                  args.seed))
        return 0
    args.load = os.getloadavg()[0]
    available, note = peer_available(None if args.no_peer else args.peer_python)
    rows = []
    for scenario in args.scenarios:
        common = [str(HERE / "bench_cutoffs.py"), "--scenarios", scenario, "--seed", str(args.seed),
                  "--repeats", str(args.repeats), "--peer-repeats", str(args.peer_repeats)]
        print(f"measuring {scenario} ...", file=sys.stderr, flush=True)
        ours = run_child([sys.executable, *common, "--worker", "featurekit"])
        peer = None
        if available and (scenario != "10k-x10" or args.peer_x10):
            peer = run_child([str(args.peer_python), *common, "--worker", "featuretools"])
        rows.append({"scenario": scenario, "ours": ours, "peer": peer})
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0 if report(rows, args, note) else 1


if __name__ == "__main__":
    sys.exit(main())
