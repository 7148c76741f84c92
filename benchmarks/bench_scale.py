"""Partitioned computation on a Dask LocalCluster beside one process: time, peak memory of
every worker, and the same matrix.

    python benchmarks/bench_scale.py memory   --customers 100000           # target (a)
    python benchmarks/bench_scale.py disk     --customers 1000000 --worker-memory 4GiB  # (b)
    python benchmarks/bench_scale.py overhead --customers 10000            # target (c)

- ``memory``: the tables in memory, ``fk.dfs(target="customers", max_depth=2)`` defaults;
  one process, then ``client=`` on a LocalCluster of ``--workers`` workers (one thread,
  ``--worker-memory`` each, default 1GiB). Both matrices are compared exactly.
- ``disk``: the tables stay parquet datasets (``add_table(..., lazy=True)``); the cluster
  writes the matrix into an output folder, out of core. With ``--check`` (small sizes) the
  matrix read back is compared with one process on the tables in memory.
- ``overhead``: as ``memory``, reported as the ratio cluster / one process.

The dataset is written by ``make_scale_dataset.py`` into ``--data`` (default a folder per
size under the system's temporary folder) unless it is there already. One process runs in a
fresh child process (its peak is the child's RSS high-water mark); the workers' RSS is
sampled every 50 ms with psutil while the cluster computes (a restarted worker's new process
is sampled too). Times are wall-clock seconds of one call, after one warm-up call on a
small dataset in every process (imports and compiled kernels are not counted); with
``--repeat N`` (default 5 for ``overhead``, 1 otherwise) the call is made N times and the
median is reported, beside every time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

MiB = 2**20


def _warm_up() -> None:
    """Import and compile once in this process, on a tiny entity set."""
    import featurekit as fk

    es = fk.demo.load_retail(n_customers=30, return_type="polars")
    fk.dfs(es, target="customers", max_depth=2, verbose=False)
    fk.dfs(es, target="customers", max_depth=2, verbose=False, partitions=2)


def _single_process(data: str, lazy: bool, result: str,
                    repeat: int = 1) -> tuple[list[float], int, int]:
    """One process: (seconds of each of ``repeat`` calls, peak RSS, RSS after the warm-up,
    in bytes); the matrix goes to ``result`` (parquet)."""
    from make_scale_dataset import load_entityset

    import featurekit as fk

    _warm_up()
    idle = _rss()
    es = load_entityset(Path(data), lazy=lazy)
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        matrix, _ = fk.dfs(es, target="customers", max_depth=2, return_type="polars",
                           verbose=False)
        seconds.append(time.perf_counter() - started)
    matrix.write_parquet(result)
    return seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, idle


def _rss() -> int:
    import psutil

    return psutil.Process().memory_info().rss


class WorkerMemory(threading.Thread):
    """Samples the RSS of every worker process of a client until stopped; keeps each
    worker's peak (by worker name, so a restarted process adds to the same worker)."""

    def __init__(self, client, every: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.client, self.every = client, every
        self.peaks: dict[str, int] = {}
        self.stopped = threading.Event()

    def _processes(self):
        import psutil

        pids = self.client.run(os.getpid)
        names = {address: info.get("name", address) for address, info in
                 self.client.scheduler_info(n_workers=-1)["workers"].items()}
        return {str(names.get(address, address)): psutil.Process(pid)
                for address, pid in pids.items()}

    def run(self) -> None:
        import psutil

        processes = self._processes()
        while not self.stopped.is_set():
            for name, process in list(processes.items()):
                try:
                    rss = process.memory_info().rss
                except psutil.Error:  # the worker died: find its replacement
                    try:
                        processes = self._processes()
                    except Exception:  # noqa: BLE001 - the cluster is restarting it
                        pass
                    break
                self.peaks[name] = max(self.peaks.get(name, 0), rss)
            self.stopped.wait(self.every)

    def stop(self) -> dict[str, int]:
        self.stopped.set()
        self.join()
        return self.peaks


def _cluster(workers: int, worker_memory: str):
    import dask
    from distributed import Client, LocalCluster

    # polars' pool must be sized before the workers import it: one thread per worker
    with dask.config.set({"distributed.nanny.pre-spawn-environ.POLARS_MAX_THREADS": 1}):
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               memory_limit=worker_memory, dashboard_address=":0")
    return cluster, Client(cluster)


def _median(times: list[float]) -> float:
    import statistics

    return round(statistics.median(times), 3)


def run(scenario: str, customers: int, workers: int, worker_memory: str, data: Path,
        check: bool, repeat: int = 1) -> dict:
    import polars as pl
    from make_scale_dataset import load_entityset, write_dataset

    import featurekit as fk

    if not (data / "dataset.json").exists():
        print(f"writing the dataset of {customers:,} customers into {data} ...", flush=True)
        write_dataset(data, customers)
    rows = json.loads((data / "dataset.json").read_text())["rows"]
    report: dict = {"scenario": scenario, "customers": rows["customers"],
                    "transactions": rows["transactions"], "workers": workers,
                    "worker_memory": worker_memory}
    lazy = scenario == "disk"
    scratch = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    if scenario != "disk" or check:
        with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
            seconds, peak, idle = pool.submit(_single_process, str(data), False,
                                              str(scratch / "single.parquet"), repeat).result()
        report["single_seconds"] = _median(seconds)
        if repeat > 1:
            report["single_each"] = [round(t, 3) for t in seconds]
        report["single_idle_mib"], report["single_peak_mib"] = idle // MiB, peak // MiB
    _warm_up()
    cluster, client = _cluster(workers, worker_memory)
    try:
        client.run(_warm_up)
        tiny = fk.demo.load_retail(n_customers=30, return_type="polars")
        fk.dfs(tiny, target="customers", max_depth=2, verbose=False, client=client)
        idle = client.run(_rss)
        report["worker_idle_mib"] = sorted(rss // MiB for rss in idle.values())
        es = load_entityset(data, lazy=lazy)
        features = fk.plan(es, target="customers", max_depth=2)
        sampler = WorkerMemory(client)
        sampler.start()
        seconds = []
        for number in range(repeat):
            started = time.perf_counter()
            output = scratch / f"matrix-{number}" if lazy else None
            matrix = fk.compute(es, features, client=client, return_type="polars",
                                output=output, verbose=False)
            seconds.append(time.perf_counter() - started)
        report["cluster_seconds"] = _median(seconds)
        if repeat > 1:
            report["cluster_each"] = [round(t, 3) for t in seconds]
        peaks = sampler.stop()
        report["worker_peak_mib"] = {name: rss // MiB for name, rss in sorted(peaks.items())}
        limit = client.scheduler_info(n_workers=-1)["workers"]
        report["worker_limit_mib"] = min(w["memory_limit"] for w in limit.values()) // MiB
        report["under_limit"] = all(rss // MiB <= report["worker_limit_mib"]
                                    for rss in peaks.values())
        if lazy:
            parts = sorted(Path(matrix).glob("part-*.parquet"))
            report["partitions"] = len(parts)
            matrix = pl.concat([pl.read_parquet(p) for p in parts]) if check else None
        if matrix is not None:
            single = pl.read_parquet(scratch / "single.parquet")
            report["same_matrix"] = single.equals(matrix.select(single.columns)) and \
                single.columns == matrix.columns
            report["matrix_shape"] = list(matrix.shape)
        if "single_seconds" in report:
            report["cluster_over_single"] = round(report["cluster_seconds"]
                                                  / report["single_seconds"], 2)
    finally:
        client.close()
        cluster.close()
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", choices=["memory", "disk", "overhead"])
    parser.add_argument("--customers", type=int, default=None,
                        help="default: 100,000 (memory), 1,000,000 (disk), 10,000 (overhead)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-memory", default=None, help="default 1GiB, 4GiB for disk")
    parser.add_argument("--data", type=Path, default=None, help="dataset folder (reused)")
    parser.add_argument("--check", action="store_true",
                        help="disk: compare with one process on the tables in memory")
    parser.add_argument("--repeat", type=int, default=None,
                        help="calls to time (the median is reported); default 5 for "
                             "overhead, 1 otherwise")
    parser.add_argument("--json", type=Path, default=None, help="also write the report here")
    arguments = parser.parse_args()
    customers = arguments.customers or {"memory": 100_000, "disk": 1_000_000,
                                        "overhead": 10_000}[arguments.scenario]
    memory = arguments.worker_memory or ("4GiB" if arguments.scenario == "disk" else "1GiB")
    data = arguments.data or Path(tempfile.gettempdir()) / f"featurekit-retail-{customers}"
    repeat = arguments.repeat or (5 if arguments.scenario == "overhead" else 1)
    report = run(arguments.scenario, customers, arguments.workers, memory, data,
                 arguments.check, repeat)
    text = json.dumps(report, indent=1)
    print(text)
    if arguments.json:
        arguments.json.write_text(text)
    if report.get("same_matrix") is False or report.get("under_limit") is False:
        sys.exit(1)


if __name__ == "__main__":
    main()
