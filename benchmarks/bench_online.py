"""Latency of features for one instance at a fresh cutoff: ``OnlineFeatures.compute`` beside
``fk.compute`` on the same rows and Featuretools 1.31's ``calculate_feature_matrix`` for one
instance (issue 16, "Online speed").

    python benchmarks/bench_online.py                          # 10,000 customers, 1,000 calls
    python benchmarks/bench_online.py --calls 200 --peer-calls 5
    python benchmarks/bench_online.py --no-peer
    python benchmarks/bench_online.py --appends 500 --customers 1000   # appended rows only

The tables are ``fk.demo.load_retail(n_customers=--customers, seed=--seed)``; the features
the default DFS set of depth 2 on customers (82 features). Instances are the customers with
about 100 transactions (80 to 120), taken in turn; the cutoff is one moment after every row
(a fresh cutoff: everything known). Each tool first makes warm-up calls (not timed), then
every call is timed alone (``time.perf_counter``); the report gives p50, p95, p99 and the
mean in milliseconds and the calls per second on one thread. Before timing, the online
matrix of a few instances is checked equal to ``fk.compute``'s (``same values``).

Featuretools runs in its own interpreter (``--peer-python``, see ``bench_dfs.py``) on the very
same tables (``ft_peer.build_entityset``), with ``calculate_feature_matrix(features, es,
cutoff_time=<one row>)``: one call takes about a second, so it makes ``--peer-calls`` calls.

``--appends N`` measures something else, in this process and in seconds: N times, a new
session and 2 transactions of a held customer (taken in turn) are appended, then that
customer's features are computed at a cutoff after every row; it reports p50/p99/max of the
append and of the compute after it, beside the compute of the same customers before any
append, and checks the last matrix equal to ``fk.compute`` on the tables with every
appended row. Then it times the merge of every appended row into the held part.

Last, one new time series of 100 points with the "efficient" settings (777 features):
``OnlineSeries.compute`` beside ``fk.timeseries.extract`` (checked equal first).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from bench_dfs import DEFAULT_PEER_PYTHON, RESULT_MARKER, emit, peer_available, source_version

HERE = Path(__file__).resolve().parent
WARM_UP = 20


def latencies(call, arguments, calls: int) -> dict:
    """Time ``call(argument)`` once per call (arguments taken in turn) after a warm-up."""
    for position in range(min(WARM_UP, calls)):
        call(arguments[position % len(arguments)])
    times = []
    for position in range(calls):
        start = time.perf_counter()
        call(arguments[position % len(arguments)])
        times.append(time.perf_counter() - start)
    times.sort()

    def quantile(share: float) -> float:
        return times[min(len(times) - 1, int(round(share * (len(times) - 1))))] * 1e3

    return {"calls": calls, "p50_ms": quantile(0.50), "p95_ms": quantile(0.95),
            "p99_ms": quantile(0.99), "mean_ms": sum(times) / len(times) * 1e3,
            "calls_per_s": len(times) / sum(times)}


def instances_and_cutoff(transactions, sessions, n: int = 200):
    """Customers with 80 to 120 transactions (the first ``n``) and a moment after every row."""
    import pandas as pd

    per_customer = transactions.merge(sessions[["session_id", "customer_id"]], on="session_id")
    counts = per_customer.groupby("customer_id").size()
    chosen = counts[(counts >= 80) & (counts <= 120)].index[:n].tolist()
    cutoff = pd.Timestamp(transactions["transaction_time"].max()) + pd.Timedelta(days=1)
    return chosen, cutoff, float(counts.loc[chosen].mean())


def featurekit_worker(customers: int, seed: int, calls: int, batch_calls: int) -> dict:
    import pandas as pd

    import featurekit as fk
    from featurekit.demo_data import retail_tables
    from featurekit.online import OnlineFeatures

    tables = retail_tables(customers, seed=seed)
    ids, cutoff, child_rows = instances_and_cutoff(tables["transactions"], tables["sessions"])
    es = fk.demo.load_retail(n_customers=customers, seed=seed)
    features = fk.plan(es, target="customers", max_depth=2)
    start = time.perf_counter()
    online = OnlineFeatures(es, features)
    setup = time.perf_counter() - start

    def batch(instance):
        return fk.compute(es, features, cutoff_time=pd.DataFrame(
            {"customer_id": [instance], "time": [cutoff]}))

    def serve(instance):
        return online.compute([instance], cutoff_time=cutoff)

    start = time.perf_counter()
    serve(ids[0])  # the first call builds the lookups and arrays of the held tables
    first_call = time.perf_counter() - start
    for instance in ids[:5]:  # the figures are only worth quoting if the values agree
        pd.testing.assert_frame_equal(serve(instance), batch(instance))
    series_online, series_extract = series_latencies(calls)
    return {"series_online": series_online, "series_extract": series_extract,"tool": "featurekit", "features": len(features), "instances": len(ids),
            "child_rows": child_rows, "setup_s": setup, "first_call_s": first_call,
            "same_values": True,
            "online": latencies(serve, ids, calls),
            "compute": latencies(batch, ids, batch_calls),
            "slow_features": len(online.slow_features)}


def series_latencies(calls: int) -> tuple[dict, dict]:
    """One new series of 100 points, "efficient" settings (777 features): OnlineSeries
    beside fk.timeseries.extract, after checking that they agree."""
    import numpy as np
    import pandas as pd

    from featurekit.online import OnlineSeries
    from featurekit.timeseries import extract

    rng = np.random.default_rng(0)
    series = [pd.DataFrame({"id": i, "time": np.arange(100), "value": rng.normal(0, 1, 100).cumsum()})
              for i in range(20)]
    online = OnlineSeries(column_id="id", column_sort="time", settings="efficient")

    def batch(one):
        return extract(one, column_id="id", column_sort="time", settings="efficient")

    pd.testing.assert_frame_equal(online.compute(series[0]), batch(series[0]))
    return latencies(online.compute, series, calls), latencies(batch, series, max(calls // 10, 20))


def featuretools_worker(customers: int, seed: int, calls: int) -> dict:
    import featuretools as ft
    import pandas as pd
    from ft_peer import build_entityset, load_demo_data

    tables = load_demo_data().retail_tables(customers, seed=seed)
    ids, cutoff, child_rows = instances_and_cutoff(tables["transactions"], tables["sessions"])
    es = build_entityset(customers, seed)
    features = ft.dfs(entityset=es, target_dataframe_name="customers", max_depth=2,
                      features_only=True)

    def serve(instance):
        return ft.calculate_feature_matrix(features, es, cutoff_time=pd.DataFrame(
            {"customer_id": [instance], "time": [cutoff]}), n_jobs=1)

    return {"tool": f"featuretools {ft.__version__}", "features": len(features),
            "child_rows": child_rows, "online": latencies(serve, ids, calls)}


def append_latencies(customers: int, seed: int, appends: int) -> dict:
    """Append a session and 2 transactions of a held customer, then compute its features,
    ``appends`` times: the time of each append and of each compute after it."""
    import numpy as np
    import pandas as pd

    import featurekit as fk
    from featurekit.demo import retail_entityset
    from featurekit.demo_data import retail_tables
    from featurekit.online import OnlineFeatures

    tables = retail_tables(customers, seed=seed)
    ids, cutoff, child_rows = instances_and_cutoff(tables["transactions"], tables["sessions"])
    es = retail_entityset(tables)
    features = fk.plan(es, target="customers", max_depth=2)
    online = OnlineFeatures(es, features)
    start_time = pd.Timestamp(tables["transactions"]["transaction_time"].max())
    cutoff = start_time + pd.Timedelta(days=365)
    devices = tables["sessions"]["device"].astype(str).unique().tolist()
    session_id = int(tables["sessions"]["session_id"].max()) + 1
    transaction_id = int(tables["transactions"]["transaction_id"].max()) + 1
    for instance in ids[:20]:  # warm-up: the held tables' lookups and arrays are built
        online.compute([instance], cutoff_time=cutoff)
    before = latencies(lambda i: online.compute([i], cutoff_time=cutoff), ids, appends)
    added: dict[str, list] = {"sessions": [], "transactions": []}
    append_s, compute_s, again_s = [], [], []
    for n in range(appends):
        customer = ids[n % len(ids)]
        moment = start_time + pd.Timedelta(minutes=10 * (n + 1))
        session = pd.DataFrame({"session_id": [session_id], "customer_id": [customer],
                                "device": [devices[n % len(devices)] if n % 50 else f"new-{n}"],
                                "session_start": [moment]})
        bought = pd.DataFrame({
            "transaction_id": [transaction_id, transaction_id + 1],
            "session_id": [session_id, session_id],
            "transaction_time": [moment + pd.Timedelta(minutes=1), moment + pd.Timedelta(minutes=2)],
            "product_id": [1 + n % 50, 1 + (7 * n) % 50],
            "amount": [float(n % 97), np.nan if n % 10 == 0 else 5.0 + n % 13],
            "fraud": [n % 7 == 0, False]})
        session_id, transaction_id = session_id + 1, transaction_id + 2
        start = time.perf_counter()
        online.append("sessions", session)
        online.append("transactions", bought)
        middle = time.perf_counter()
        got = online.compute([customer], cutoff_time=cutoff)
        compute_s.append(time.perf_counter() - middle)
        append_s.append(middle - start)
        start = time.perf_counter()
        online.compute([customer], cutoff_time=cutoff)
        again_s.append(time.perf_counter() - start)
        added["sessions"].append(session)
        added["transactions"].append(bought)
    whole = {name: pd.concat([frame, *added.get(name, [])], ignore_index=True)
             for name, frame in tables.items()}
    expected = fk.compute(retail_entityset(whole), features, cutoff_time=pd.DataFrame(
        {"customer_id": [customer], "time": [cutoff]}))
    pd.testing.assert_frame_equal(got, expected)
    parts = {name: [p.frame.height for p in held.parts] for name, held in online.tables.items()}
    start = time.perf_counter()  # every appended row merged into the held part
    for held in online.tables.values():
        held.compact() if hasattr(held, "compact") else None
    compact_s = time.perf_counter() - start
    start = time.perf_counter()
    online.compute([customer], cutoff_time=cutoff)
    after_compact_s = time.perf_counter() - start
    for held in online.tables.values():  # the other way: a new part whose caches are remade
        held.parts = [type(held.parts[0])(held.frame())]
    start = time.perf_counter()
    online.compute([customer], cutoff_time=cutoff)
    rebuilt_s = time.perf_counter() - start
    return {"rebuilt_ms": rebuilt_s * 1e3, "customers": customers, "child_rows": child_rows, "appends": appends,
            "before": before, "append": _figures(append_s), "compute": _figures(compute_s), "again": _figures(again_s),
            "parts": parts, "compact_ms": compact_s * 1e3,
            "compute_after_compact_ms": after_compact_s * 1e3, "same_values": True}


def _figures(seconds: list[float]) -> dict:
    times = sorted(seconds)

    def quantile(share: float) -> float:
        return times[min(len(times) - 1, int(round(share * (len(times) - 1))))] * 1e3

    return {"calls": len(times), "p50_ms": quantile(0.50), "p95_ms": quantile(0.95),
            "p99_ms": quantile(0.99), "mean_ms": sum(times) / len(times) * 1e3,
            "calls_per_s": len(times) / sum(times), "max_ms": times[-1] * 1e3}


def append_report(result: dict) -> str:
    lines = [f"featurekit {source_version()}: {result['customers']:,} customers, instances with "
             f"{result['child_rows']:.0f} transactions on average; {result['appends']} appends of "
             "a session and 2 transactions of a held customer, each followed by its features",
             f"{'latency in ms':<44} {'p50':>9} {'p95':>9} {'p99':>9} {'mean':>9} {'calls/s':>9} "
             f"{'calls':>6}",
             row("compute, before any append", result["before"]),
             row("append (a session, then 2 transactions)", result["append"]),
             row("compute after each append", result["compute"]),
             row("the same compute again", result["again"]),
             f"max: append {result['append']['max_ms']:.2f} ms, compute after it "
             f"{result['compute']['max_ms']:.2f} ms; parts held (rows): {result['parts']}",
             f"merging every appended row into the held part: {result['compact_ms']:.2f} ms, "
             f"the compute after it {result['compute_after_compact_ms']:.2f} ms (a part made "
             f"anew instead: its first compute {result['rebuilt_ms']:.2f} ms); "
             f"last matrix equal to fk.compute: {result['same_values']}"]
    return "\n".join(lines)


def row(label: str, figures: dict) -> str:
    return (f"{label:<44} {figures['p50_ms']:>9.2f} {figures['p95_ms']:>9.2f} "
            f"{figures['p99_ms']:>9.2f} {figures['mean_ms']:>9.2f} {figures['calls_per_s']:>9.1f} "
            f"{figures['calls']:>6}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=1_000, help="online calls timed (1,000)")
    parser.add_argument("--batch-calls", type=int, default=200, help="fk.compute calls timed (200)")
    parser.add_argument("--peer-calls", type=int, default=20, help="Featuretools calls timed (20)")
    parser.add_argument("--peer-python", type=Path, default=DEFAULT_PEER_PYTHON)
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--appends", type=int, default=0,
                        help="only measure N appends of held customers' rows, each followed "
                             "by a compute (in this process; e.g. 500 with --customers 1000)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--worker", choices=["featurekit", "featuretools"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.appends:
        result = append_latencies(args.customers, args.seed, args.appends)
        print(append_report(result))
        if args.json:
            args.json.write_text(json.dumps(result, indent=2))
        return 0
    if args.worker == "featurekit":
        emit(featurekit_worker(args.customers, args.seed, args.calls, args.batch_calls))
        return 0
    if args.worker == "featuretools":
        emit(featuretools_worker(args.customers, args.seed, args.peer_calls))
        return 0
    common = ["--customers", str(args.customers), "--seed", str(args.seed)]
    results = {"featurekit": _child([sys.executable, str(Path(__file__)), "--worker", "featurekit",
                                     "--calls", str(args.calls), "--batch-calls",
                                     str(args.batch_calls), *common])}
    available, note = peer_available(None if args.no_peer else args.peer_python)
    if available:
        results["featuretools"] = _child([str(args.peer_python), str(Path(__file__)), "--worker",
                                          "featuretools", "--peer-calls", str(args.peer_calls),
                                          *common])
    fk_result = results["featurekit"]
    print(f"featurekit {source_version()}: {args.customers:,} customers, {fk_result['features']} "
          f"features, instances with {fk_result['child_rows']:.0f} transactions on average, "
          f"fresh cutoff; values equal to fk.compute: {fk_result['same_values']}; features left "
          f"to the batch engine: {fk_result['slow_features']}; set-up {fk_result['setup_s'] * 1e3:.0f} "
          f"ms, first call (builds the indexes) {fk_result['first_call_s'] * 1e3:.0f} ms")
    print(f"{'one instance, latency in ms':<44} {'p50':>9} {'p95':>9} {'p99':>9} {'mean':>9} "
          f"{'calls/s':>9} {'calls':>6}")
    print(row("OnlineFeatures.compute", fk_result["online"]))
    print(row("fk.compute (cutoff frame of one row)", fk_result["compute"]))
    if "featuretools" in results:
        print(row("featuretools calculate_feature_matrix", results["featuretools"]["online"]))
        ratio = results["featuretools"]["online"]["p50_ms"] / fk_result["online"]["p50_ms"]
        print(f"p50 speedup over Featuretools: {ratio:,.0f}x")
    else:
        print(note)
    print(row("one series of 100 points: OnlineSeries.compute", fk_result["series_online"]))
    print(row("one series of 100 points: extract", fk_result["series_extract"]))
    goal = fk_result["online"]["p50_ms"] < 2 and fk_result["online"]["p99_ms"] < 10
    print(f"goal p50 < 2 ms and p99 < 10 ms: {'met' if goal else 'NOT met'}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


def _child(command: list[str]) -> dict:
    process = subprocess.run(command, capture_output=True, text=True, cwd=HERE)
    for line in reversed(process.stdout.splitlines()):
        if line.startswith(RESULT_MARKER):
            return json.loads(line[len(RESULT_MARKER):])
    raise SystemExit(f"{command[1]} --worker failed:\n{process.stderr[-3000:]}")


if __name__ == "__main__":
    sys.exit(main())
