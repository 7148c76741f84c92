"""Thread pools sized to the cores a Dask worker owns, so that workers sharing a machine never
oversubscribe it.

- polars has one thread pool per process, sized once when polars is first imported (from
  ``POLARS_MAX_THREADS``). A worker plugin sets that variable to the worker's thread count
  before any featurekit task imports polars in the worker process; if polars was imported
  there first with a larger pool (a script's imports run again in each spawned worker), the
  driver warns once per cluster and names the fix (``distributed.nanny.pre-spawn-environ``).
- numba's thread count is set per calling thread: each task runs its kernels on the worker's
  cores divided by the tasks the worker is running at that moment (one each when every
  worker thread runs a task, all of them when a task runs alone).
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from distributed import get_worker
from distributed.diagnostics.plugin import WorkerPlugin

POLARS_THREADS = "POLARS_MAX_THREADS"
PLUGIN_NAME = "featurekit-threads"


class OversubscriptionWarning(UserWarning):
    """A worker process runs polars on more threads than the cores its workers own."""


class PolarsThreads(WorkerPlugin):
    """Sets ``POLARS_MAX_THREADS`` to the worker's thread count in its process, if polars is
    not imported there yet and the variable is not set already (a user's value is kept)."""

    idempotent = True
    name = PLUGIN_NAME

    def setup(self, worker: Any) -> None:
        if "polars" not in sys.modules and POLARS_THREADS not in os.environ:
            os.environ[POLARS_THREADS] = str(max(1, int(worker.state.nthreads)))


def _pool_report(dask_worker: Any) -> tuple[int, int, int | None]:
    """(process id, the worker's threads, polars' pool size if polars is imported)."""
    polars = sys.modules.get("polars")
    pool = int(polars.thread_pool_size()) if polars is not None else None
    return os.getpid(), int(dask_worker.state.nthreads), pool


#: schedulers whose workers were already warned about
_WARNED: set[str] = set()
#: scheduler -> the workers already checked there (a call on the same workers asks nothing)
_CHECKED: dict[str, frozenset[str]] = {}


def size_worker_threads(client: Any) -> None:
    """Register the polars plugin on every worker (present and future) and warn once per
    cluster when a worker process runs polars on more threads than its workers own. Done
    once per set of workers: a later call on the same workers costs no round trip to them."""
    info = client.scheduler_info(n_workers=-1)
    scheduler = str(info.get("id") or client.scheduler.address)  # a new cluster, a new id
    workers = frozenset(info["workers"])
    if workers <= _CHECKED.get(scheduler, frozenset()):
        return
    client.register_plugin(PolarsThreads(), name=PLUGIN_NAME)
    threads_per_process: dict[int, int] = {}
    pools: dict[int, int | None] = {}
    for pid, threads, pool in client.run(_pool_report).values():
        threads_per_process[pid] = threads_per_process.get(pid, 0) + threads
        pools[pid] = pool
    crowded = {pid: (pool, threads_per_process[pid]) for pid, pool in pools.items()
               if pool is not None and pool > threads_per_process[pid]}
    _CHECKED[scheduler] = _CHECKED.get(scheduler, frozenset()) | workers
    if not crowded or scheduler in _WARNED:
        return
    _WARNED.add(scheduler)
    pool, owned = next(iter(crowded.values()))
    warnings.warn(
        f"{len(crowded)} Dask worker processes run polars on more threads than their workers "
        f"own (e.g. {pool} threads for {owned} cores): polars was imported there before "
        "featurekit could size its pool (a script's own imports run again in each worker "
        "process it spawns), so tasks may oversubscribe the machine. Fix: set "
        f"{POLARS_THREADS} before the workers start: dask.config.set({{'distributed.nanny."
        f"pre-spawn-environ.{POLARS_THREADS}': {owned}}}) around LocalCluster(...), or "
        f"{POLARS_THREADS}={owned} in the environment of 'dask worker'",
        OversubscriptionWarning,
        stacklevel=3,
    )


def cores_per_task(worker: Any) -> int:
    """The worker's cores divided by the tasks it is running now (this one included)."""
    running = max(1, int(worker.state.executing_count))
    return max(1, int(worker.state.nthreads) // running)


@contextmanager
def task_threads() -> Iterator[int]:
    """Inside a Dask task: numba's threads for this thread set to the task's share of the
    worker's cores, restored afterwards. Yields that count (outside a worker: unchanged)."""
    import numba

    try:
        worker = get_worker()
    except ValueError:  # not on a worker
        yield numba.get_num_threads()
        return
    threads = min(cores_per_task(worker), numba.config.NUMBA_NUM_THREADS)
    previous = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        yield threads
    finally:
        numba.set_num_threads(previous)


def run_with_task_threads(function: Callable[[Any], Any], job: Any) -> Any:
    """``function(job)`` with numba's threads sized for this task."""
    with task_threads():
        return function(job)
