"""Serving latency: ``featurekit serve`` under a bounded load on 127.0.0.1, beside
Featuretools 1.31's ``calculate_feature_matrix`` for one instance on the same retail tables.

    python benchmarks/bench_serving.py                          # 1,000 customers, 500 requests
    python benchmarks/bench_serving.py --customers 10000 --requests 2000 --rate 100
    python benchmarks/bench_serving.py --no-peer --json serving.json

The driver fits a pipeline (DFS with the default primitives, max_depth=2, one-hot encoding,
a logistic regression) on ``fk.demo.load_retail(n_customers)``, saves it with
``fk.deploy.save``, starts ``featurekit serve`` in a child process and sends exactly
``--requests`` requests per scenario at ``--rate`` requests per second (an open load: each
leaves at its scheduled moment whether or not earlier ones were answered), then the same
requests back to back, then stops the server. Latency is measured by the client around each
HTTP call, so it includes any wait in the server's queue. The load comes from ``loadgen.py``
(raw HTTP on asyncio streams, in a process of its own), whose latency counts from each
request's due moment.
The Featuretools side (``--peer-worker``, run by the interpreter of ``--peer-python``) builds
the same tables with ``ft_peer.py`` and times ``calculate_feature_matrix`` for one customer at
a time at the same kind of cutoff. Its top level imports only the standard library, so both
interpreters can run it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
_PEER_CANDIDATES = [os.environ.get("FEATURETOOLS_PYTHON", ""), "/work/venvs/ft/bin/python",
                    "/work/venv-ft/bin/python"]
DEFAULT_PEER_PYTHON = next((Path(path) for path in _PEER_CANDIDATES if path and Path(path).exists()),
                           Path("/work/venvs/ft/bin/python"))
RESULT_MARKER = "BENCH_RESULT "
WARMUP = 30  # requests sent before measuring (first calls compile numba kernels)


def percentiles(seconds: list[float]) -> dict[str, float]:
    """p50/p95/p99 and mean in milliseconds (nearest-rank percentiles)."""
    ordered = sorted(seconds)

    def rank(q: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))] * 1e3

    return {"p50_ms": rank(0.50), "p95_ms": rank(0.95), "p99_ms": rank(0.99),
            "mean_ms": statistics.fmean(ordered) * 1e3, "count": len(ordered)}


# --- featurekit: fit, save, serve, load test --------------------------------------------------

def fit_and_save(customers: int, seed: int, folder: Path) -> dict:
    import warnings

    import numpy as np
    import pandas as pd
    from sklearn.compose import make_column_selector, make_column_transformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    import featurekit as fk
    from featurekit.sklearn import DeepFeatureSynthesis

    entityset = fk.demo.load_retail(n_customers=customers, seed=seed)
    ids = entityset["customers"].frame["customer_id"].to_list()
    sessions = entityset["sessions"].frame.group_by("customer_id").len().to_pandas()
    counts = sessions.set_index("customer_id")["len"].reindex(ids, fill_value=0).to_numpy()
    pipeline = make_pipeline(
        DeepFeatureSynthesis(entityset, "customers", max_depth=2),
        make_column_transformer((OneHotEncoder(handle_unknown="ignore"),
                                 make_column_selector(dtype_include="category")),
                                remainder=SimpleImputer()),
        LogisticRegression(max_iter=500))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipeline.fit(pd.DataFrame({"customer_id": ids}), (counts > np.median(counts)).astype(int))
    fk.deploy.save(pipeline, folder)
    times = entityset["transactions"].frame["transaction_time"]
    child_rows = int(entityset["transactions"].frame.height / customers)
    return {"features": len(pipeline[0].features_), "ids": ids, "latest": str(times.max()),
            "tables": {n: t.frame.height for n, t in entityset.tables.items()},
            "transactions_per_customer": child_rows}


def start_server(folder: Path, port: int) -> subprocess.Popen:
    import httpx

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen([sys.executable, "-m", "featurekit", "serve", str(folder),
                                "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while True:
        if process.poll() is not None:
            raise SystemExit(f"featurekit serve exited: {process.stderr.read()}")
        try:
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
            return process
        except httpx.TransportError:
            if time.monotonic() > deadline:
                process.kill()
                raise SystemExit("featurekit serve did not answer within 120 s") from None
            time.sleep(0.2)


def load_test(port: int, bodies: list[tuple[str, dict]], rate: float | None) -> dict:
    """Send each (path, body) with ``loadgen.py`` in a process of its own and time its
    answer; every answer must be 200. With ``rate`` the load is open: request n is due at
    n / rate and its latency counts from that moment, whether or not the ones before it were
    answered (up to 32 connections), so a slow answer shows as latency instead of slowing
    the schedule; ``late_sends`` counts requests that left more than 1 ms after their due
    moment. Without ``rate``, back to back on one connection. Returns latency percentiles
    and throughput."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as file:
        json.dump(bodies, file)
    try:
        command = [sys.executable, str(HERE / "loadgen.py"), "--port", str(port),
                   "--requests", file.name] + ([] if rate is None else ["--rate", str(rate)])
        done = subprocess.run(command, capture_output=True, text=True, check=True)
    finally:
        os.unlink(file.name)
    result = json.loads(done.stdout)
    for number, status in enumerate(result["statuses"]):
        if status != 200:
            raise SystemExit(f"request {number} got {status}")
    return {**percentiles(result["latencies"]),
            "throughput_per_s": len(bodies) / result["elapsed"], "late_sends": result["late"]}


def scenarios(info: dict, requests: int) -> dict[str, list[tuple[str, dict]]]:
    """Request bodies: one held customer per request at a fresh cutoff (just after the
    latest row, a new moment each time), and one held customer sending a new session with
    two transactions that the server keeps."""
    import pandas as pd

    ids, latest = info["ids"], pd.Timestamp(info["latest"])
    fresh = [("/predict", {"instances": [{"id": ids[n % len(ids)], "cutoff_time": (
        latest + pd.Timedelta(seconds=n + 1)).isoformat()}], "return_features": False})
        for n in range(requests)]
    appended = []
    for n in range(requests):
        moment = latest + pd.Timedelta(minutes=n + 1)
        session, customer = 10**9 + n, ids[(7 * n) % len(ids)]
        appended.append(("/predict", {"instances": [{"id": customer}], "return_features": False,
                                      "rows": {"sessions": [{
                                          "session_id": session, "customer_id": customer,
                                          "device": "mobile", "session_start": moment.isoformat()}],
                                          "transactions": [{
                                              "transaction_id": 10**10 + 2 * n + k,
                                              "session_id": session,
                                              "transaction_time": (moment + pd.Timedelta(
                                                  seconds=10 * (k + 1))).isoformat(),
                                              "product_id": 1 + k, "amount": 10.0 + k,
                                              "fraud": False} for k in range(2)]}}))
    features = [("/features", {"instances": body["instances"]}) for _, body in fresh]
    return {"/features: held customer, fresh cutoff": features,
            "/predict: held customer, fresh cutoff": fresh,
            "/predict: + new session, 2 transactions (kept)": appended}


def _later(body: dict, shift: int) -> dict:
    """``body`` with its cutoff ``shift`` seconds later (a moment not asked for before)."""
    import pandas as pd

    instances = [{**i, "cutoff_time": (pd.Timestamp(i["cutoff_time"]) + pd.Timedelta(
        seconds=shift)).isoformat()} for i in body["instances"]]
    return {**body, "instances": instances}


def in_process(folder: Path, bodies: dict[str, list[tuple[str, dict]]]) -> dict:
    """The same /features requests without HTTP, after the server stopped: the service's
    own work (checks, online features, JSON values), and OnlineFeatures.compute alone."""
    from featurekit.deploy import Service

    service = Service(folder)
    sequence = [body for _, body in bodies["/features: held customer, fresh cutoff"]]
    requests = [service.read(body) for body in sequence]
    results = {}
    for name, call in (
            ("in-process Service.features (no HTTP)", lambda n: service.features(sequence[n])),
            ("in-process OnlineFeatures.compute",
             lambda n: service.online.compute(requests[n].ids, cutoff_time=requests[n].cutoffs))):
        for n in range(WARMUP):
            call(n)
        seconds = []
        begin = time.perf_counter()
        for n in range(WARMUP, len(sequence)):
            start = time.perf_counter()
            call(n)
            seconds.append(time.perf_counter() - start)
        results[name] = {**percentiles(seconds), "late_sends": 0,
                         "throughput_per_s": len(seconds) / (time.perf_counter() - begin)}
    return results


def featurekit_side(customers: int, seed: int, requests: int, rate: float, port: int) -> dict:

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "pipeline"
        info = fit_and_save(customers, seed, folder)
        server = start_server(folder, port)
        try:
            bodies = scenarios(info, requests + WARMUP)
            results = {}
            for name, sequence in bodies.items():
                load_test(port, sequence[:WARMUP], None)  # warm-up, not measured
                results[name] = load_test(port, sequence[WARMUP:], rate)
            for name in ("/features: held customer, fresh cutoff",
                         "/predict: held customer, fresh cutoff"):
                results[name + ", back to back"] = load_test(
                    port, [(path, _later(body, requests)) for path, body in
                           bodies[name][WARMUP:]], None)
        finally:
            server.terminate()
            server.wait(timeout=30)
        results.update(in_process(folder, scenarios(info, requests + WARMUP)))
    return {"features": info["features"], "tables": info["tables"], "latest": info["latest"],
            "transactions_per_customer": info["transactions_per_customer"], "results": results}


# --- Featuretools: calculate_feature_matrix for one instance ----------------------------------

def peer_worker(customers: int, seed: int, instances: int, latest: str) -> dict:
    import warnings

    warnings.filterwarnings("ignore")
    sys.path.insert(0, str(HERE))
    import featuretools as ft
    import pandas as pd
    from ft_peer import build_entityset

    entityset = build_entityset(customers, seed)
    features = ft.dfs(entityset=entityset, target_dataframe_name="customers", max_depth=2,
                      features_only=True)
    ids = entityset["customers"]["customer_id"].tolist()
    moment = pd.Timestamp(latest)

    def one(n: int) -> float:
        cutoff = pd.DataFrame({"customer_id": [ids[n % len(ids)]],
                               "time": [moment + pd.Timedelta(seconds=n + 1)]})
        start = time.perf_counter()
        ft.calculate_feature_matrix(features, entityset, cutoff_time=cutoff, n_jobs=1)
        return time.perf_counter() - start

    one(0)  # warm-up
    seconds = [one(n) for n in range(1, instances + 1)]
    return {"tool": f"featuretools {ft.__version__}", "features": len(features),
            **percentiles(seconds), "throughput_per_s": len(seconds) / sum(seconds)}


def peer_side(python: Path, customers: int, seed: int, instances: int, latest: str) -> dict:
    done = subprocess.run([str(python), str(Path(__file__).resolve()), "--peer-worker",
                           "--customers", str(customers), "--seed", str(seed),
                           "--peer-instances", str(instances), "--latest", latest],
                          capture_output=True, text=True)
    for line in done.stdout.splitlines():
        if line.startswith(RESULT_MARKER):
            return json.loads(line[len(RESULT_MARKER):])
    raise SystemExit(f"the Featuretools worker failed: {done.stderr[-2000:]}")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def report(ours: dict, peer: dict | None, customers: int, rate: float) -> str:
    lines = [f"{customers:,} customers ({ours['tables']['transactions']:,} transactions, about "
             f"{ours['transactions_per_customer']} per customer); featurekit: "
             f"{ours['features']} features" + (f", Featuretools: {peer['features']} features"
                                               if peer else ""),
             "", f"{'scenario':<66} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>8} "
                 f"{'n':>5} {'late':>5}"]
    for name, row in ours["results"].items():
        paced = "" if "back to back" in name or "in-process" in name else f" @ {rate:g}/s"
        where = "" if "in-process" in name else "serve "
        lines.append(f"{(where + name + paced)[:66]:<66} {row['p50_ms']:>8.2f} "
                     f"{row['p95_ms']:>8.2f} {row['p99_ms']:>8.2f} "
                     f"{row['throughput_per_s']:>8.1f} {row['count']:>5} {row['late_sends']:>5}")
    if peer:
        lines.append(f"{(peer['tool'] + ' calculate_feature_matrix, 1 instance')[:66]:<66} "
                     f"{peer['p50_ms']:>8.2f} {peer['p95_ms']:>8.2f} {peer['p99_ms']:>8.2f} "
                     f"{peer['throughput_per_s']:>8.1f} {peer['count']:>5} {'-':>5}")
        ratio = peer["p50_ms"] / ours["results"]["/features: held customer, fresh cutoff"]["p50_ms"]
        lines += ["", f"median latency, Featuretools in-process / featurekit /features over "
                      f"HTTP: {ratio:,.0f}x"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--requests", type=int, default=500,
                        help="measured requests per scenario (after 30 warm-up requests)")
    parser.add_argument("--rate", type=float, default=100.0, help="requests per second")
    parser.add_argument("--peer-instances", type=int, default=20,
                        help="Featuretools calls, one instance each")
    parser.add_argument("--peer-python", type=Path, default=DEFAULT_PEER_PYTHON)
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    parser.add_argument("--peer-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--latest", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.peer_worker:
        result = peer_worker(args.customers, args.seed, args.peer_instances, args.latest)
        print(RESULT_MARKER + json.dumps(result), flush=True)
        return 0
    ours = featurekit_side(args.customers, args.seed, args.requests, args.rate, free_port())
    peer = None
    if not args.no_peer:
        if args.peer_python.exists():
            peer = peer_side(args.peer_python, args.customers, args.seed, args.peer_instances,
                             ours["latest"])
        else:
            print(f"(no Featuretools interpreter at {args.peer_python}; peer skipped)")
    print(report(ours, peer, args.customers, args.rate))
    if args.json:
        args.json.write_text(json.dumps({"featurekit": ours, "featuretools": peer}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
