"""Window and calendar transforms, featurekit beside Featuretools, on one table of events.

    python benchmarks/bench_time_transforms.py                    # 100,000 events
    python benchmarks/bench_time_transforms.py --rows 1000000 --no-peer

Each tool runs in a child process on the same generated table (``--rows`` events over about
six years, a sorted time index, one numeric column) with ``max_depth=1``, no aggregations and
the transforms below: a window of rows, a window of seven days, an expanding mean, an
exponentially weighted mean and the federal-holiday flag. The first call (imports, JIT
compilation) is not timed; the median of ``--repeats`` calls is printed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

PEER = Path("/work/venvs/ft/bin/python")
SPECS = [("rolling_mean", {}), ("rolling_mean", {"window_length": "7d", "gap": 0}),
         ("expanding_mean", {}), ("exponential_weighted_average", {}), ("is_federal_holiday", {})]


def child(tool: str, rows: int, repeats: int) -> dict:
    import warnings

    import numpy as np
    import pandas as pd

    warnings.filterwarnings("ignore")
    rng = np.random.default_rng(0)
    seconds = np.sort(rng.integers(0, 2 * 10**8, rows))
    frame = pd.DataFrame({"id": np.arange(rows), "amount": rng.normal(size=rows),
                          "time": pd.Timestamp("2020-01-01") + pd.to_timedelta(seconds, unit="s")})
    if tool == "featurekit":
        from featurekit.primitives import get_primitive

        import featurekit as fk

        es = fk.EntitySet("bench")
        es.add_table("events", frame, index="id", time_index="time")
        primitives = [type(get_primitive(name))(**params) for name, params in SPECS]

        def run():
            return fk.dfs(es, target="events", max_depth=1, agg_primitives=[],
                          trans_primitives=primitives)[0]
    else:
        import featuretools as ft

        es = ft.EntitySet("bench")
        es.add_dataframe(dataframe_name="events", dataframe=frame, index="id", time_index="time")
        catalogue = ft.primitives.get_transform_primitives()
        primitives = [catalogue[name](**params) for name, params in SPECS]

        def run():
            return ft.dfs(entityset=es, target_dataframe_name="events", max_depth=1,
                          agg_primitives=[], trans_primitives=primitives, n_jobs=1)[0]
    matrix = run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return {"tool": tool, "rows": rows, "shape": list(matrix.shape),
            "median_s": sorted(times)[len(times) // 2]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--child", choices=["featurekit", "featuretools"])
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.rows, args.repeats)))
        return
    runs = [(sys.executable, "featurekit")]
    if not args.no_peer and PEER.exists():
        runs.append((str(PEER), "featuretools"))
    results = {}
    for python, tool in runs:
        out = subprocess.run([python, __file__, "--child", tool, "--rows", str(args.rows),
                              "--repeats", str(args.repeats)], capture_output=True, text=True,
                             check=True)
        results[tool] = json.loads(out.stdout.strip().splitlines()[-1])
        print(results[tool])
    if len(results) == 2:
        ratio = results["featuretools"]["median_s"] / results["featurekit"]["median_s"]
        print(f"featurekit is {ratio:.0f}x faster on {args.rows:,} rows")


if __name__ == "__main__":
    main()
