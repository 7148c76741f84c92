"""Partitions as tasks on a Dask distributed cluster: featurekit schedules nothing itself.

Tasks are submitted a bounded number at a time (each holds its partition's rows, so all at
once could fill the driver's and the workers' memory), retried when they fail or their
worker dies, and gathered back in partition order (:mod:`featurekit.scale.tasks`).

Memory per task: start the workers with the resource ``featurekit_memory`` (bytes), e.g.
``dask worker ... --resources featurekit_memory=4e9`` or
``LocalCluster(resources={"featurekit_memory": 4e9})``, and every task carries the planned
bytes of its partition as a Dask resource annotation, so a worker never runs more tasks at
once than their planned memory fits. Without that resource, featurekit keeps at most as many
tasks in flight as the workers' memory limits hold (planned bytes of the largest partition
against each worker's limit, and never more than its threads).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from featurekit.scale.optional import check_client
from featurekit.scale.tasks import MEMORY_RESOURCE, map_on_client

#: With ``partitions="auto"`` on a cluster, at least this many partitions per worker thread
#: (every worker busy; a partition has a fixed cost, so small data is not cut finer).
AUTO_PER_THREAD = 1


def total_threads(client: Any) -> int:
    """The threads of every worker of the cluster."""
    workers = client.scheduler_info(n_workers=-1)["workers"].values()
    return sum(max(1, int(w.get("nthreads") or 1)) for w in workers)


def worker_memory_per_task(client: Any) -> int | None:
    """The default ``memory_limit`` of a partition on ``client``: the smallest worker's
    memory shared by its threads, None when no worker has a limit. A declared
    ``featurekit_memory`` resource is taken whole; a Dask memory limit only up to the
    fraction at which Dask pauses the worker (``distributed.worker.memory.pause``, 0.8),
    less what the worker's process holds already (about 300 MiB of Python, polars, numba
    and Dask when idle), so that a partition planned at its share never pauses it."""
    from dask import config

    pause = config.get("distributed.worker.memory.pause", 0.8) or 1.0
    shares = []
    for worker in client.scheduler_info(n_workers=-1)["workers"].values():
        threads = max(1, int(worker.get("nthreads") or 1))
        declared = (worker.get("resources") or {}).get(MEMORY_RESOURCE)
        if declared:
            shares.append(int(declared) // threads)
        elif worker.get("memory_limit"):
            limit = int(worker["memory_limit"])
            held = int((worker.get("metrics") or {}).get("memory") or 0)
            shares.append(max(int(limit * pause) - held, limit // 10) // threads)
    return min(shares) if shares else None


def run_jobs_on_client(client: Any, plan: Any, output: Any = None,
                       verbose: bool | None = None) -> list[Any] | None:
    """Compute every job of a :class:`featurekit.scale.partitions.PartitionPlan` on the
    cluster; the parts in job order, or with ``output`` (a folder) None once every partition
    is written there (atomically, by the worker that computed it; partitions written by an
    earlier run of the same call are skipped, another call's folder is refused)."""
    from featurekit.scale.partitions import run_partition

    jobs = list(plan.jobs)
    by_number = {job.number: job for job in jobs}
    sizes = {job.number: int(plan.job_bytes(job)) for job in jobs}
    if output is None:
        numbers = [job.number for job in jobs]
        parts = map_on_client(
            client, run_partition, by_number.__getitem__, numbers,
            job_bytes=[sizes[n] for n in numbers], verbose=verbose,
        )
        return [parts[job.number] for job in jobs]
    from featurekit.scale.output import (
        check_manifest,
        check_output,
        done_partitions,
        write_manifest,
    )

    folder = check_output(output)
    check_manifest(folder, plan)
    done = done_partitions(folder, plan)
    write_manifest(folder, plan)
    numbers = [job.number for job in jobs if job.number not in done]
    map_on_client(
        client, _PartitionWriter(str(folder.resolve())), by_number.__getitem__, numbers,
        job_bytes=[sizes[n] for n in numbers], verbose=verbose,
    )
    return None


@dataclass(frozen=True)
class _PartitionWriter:
    """A task that computes one partition and writes it into ``folder`` (atomic rename), as
    the local runner writes it; returns the written path, so only a name travels back."""

    folder: str

    def __call__(self, job: Any) -> str:
        from featurekit.scale.output import compute_and_write

        return str(compute_and_write(job, self.folder))


def compute_on_client(client: Any, entityset: Any, features: Any, *, partitions: Any = None,
                      memory_limit: Any = None, output: Any = None,
                      verbose: bool | None = None, **call: Any) -> Any:
    """``fk.compute`` with ``client=``: plan the partitions on the driver (sized by the
    workers' memory unless ``memory_limit`` is given), compute them on the cluster and
    assemble the matrix, or return the output folder."""
    check_client(client)
    from featurekit.scale.partitions import plan_partitions

    if memory_limit is None:
        memory_limit = worker_memory_per_task(client)
    automatic = partitions is None or partitions == "auto"
    # "auto" on a cluster: at least AUTO_PER_THREAD partitions per worker thread, more if
    # memory asks for more (then planned again, by memory alone)
    plan = plan_partitions(entityset, features, memory_limit=memory_limit, partitions=(
        AUTO_PER_THREAD * total_threads(client) if automatic else partitions), **call)
    if automatic and max(plan.job_bytes(job) for job in plan.jobs) > plan.memory_limit:
        plan = plan_partitions(entityset, features, partitions="auto",
                               memory_limit=memory_limit, **call)
    parts = run_jobs_on_client(client, plan, output, verbose)
    return Path(output) if output is not None else plan.assemble(parts)
