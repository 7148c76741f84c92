"""Partitions as tasks on a Dask distributed cluster: featurekit schedules nothing itself.

Tasks are submitted a bounded number at a time (each holds its partition's rows, so all at
once could fill the driver's and the workers' memory), retried by Dask when they fail or
their worker dies, and gathered back in partition order.

Memory per task: start the workers with the resource ``featurekit_memory`` (bytes), e.g.
``dask worker ... --resources featurekit_memory=4e9`` or
``LocalCluster(resources={"featurekit_memory": 4e9})``, and every task carries the planned
bytes of its partition as a Dask resource annotation, so a worker never runs more tasks at
once than their planned memory fits. Without that resource, featurekit keeps at most as many
tasks in flight as the workers' memory limits hold (planned bytes of the largest partition
against each worker's limit, and never more than its threads).
"""

from __future__ import annotations

import sys
import uuid
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from featurekit.errors import FeaturekitError
from featurekit.scale.optional import check_client

#: The worker resource that holds bytes of memory for featurekit's tasks.
MEMORY_RESOURCE = "featurekit_memory"
#: How often Dask retries a task that raised an unexpected error (a killed worker's tasks are
#: recomputed by the scheduler on its own, up to ``distributed.scheduler.allowed-failures``).
RETRIES = 2
#: With ``partitions="auto"`` on a cluster, at least this many partitions per worker thread
#: (every worker busy; a partition has a fixed cost, so small data is not cut finer).
AUTO_PER_THREAD = 1


@dataclass(frozen=True)
class Refused:
    """A task's answer when the input was refused (a featurekit error): returned, not raised,
    so that Dask does not retry what would fail again; the driver raises it."""

    error: FeaturekitError


@dataclass(frozen=True)
class Packed:
    """A job pickled once on the driver: the scheduler and the task graph hold its bytes,
    not its frames (measured: a third less time for tasks carrying 20 MB of rows each, as
    the frames are not unpickled and pickled again on the way to the worker)."""

    data: bytes

    @classmethod
    def of(cls, job: Any) -> Packed:
        import cloudpickle

        return cls(cloudpickle.dumps(job, protocol=5))

    def unpack(self) -> Any:
        import pickle

        return pickle.loads(self.data)


def _run_task(function: Any, job: Any) -> Any:
    """What a worker runs: ``function(job)`` on its share of the cores; a featurekit error
    comes back as a value. Both arrive packed by cloudpickle on the driver, so that a function
    defined in ``__main__`` (a notebook, a script) or in a module registered with
    ``cloudpickle.register_pickle_by_value`` travels by value; one that must be imported and
    cannot be (its module is not installed on the workers) is refused, never retried."""
    from featurekit.scale.threads import run_with_task_threads

    try:
        function = function.unpack() if isinstance(function, Packed) else function
        job = job.unpack() if isinstance(job, Packed) else job
    except (ImportError, AttributeError) as error:
        return Refused(FeaturekitError(
            f"a worker could not load the task's code: {type(error).__name__}: {error}. Fix: "
            "install the module that defines your function (a labeling function, a custom "
            "primitive) on the workers, or define it in the notebook or script that calls "
            "featurekit"))
    try:
        return run_with_task_threads(function, job)
    except FeaturekitError as error:
        return Refused(error)


def _show(verbose: bool | None) -> bool:
    if verbose is not None:
        return bool(verbose)
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def announce_dashboard(client: Any, verbose: bool | None) -> None:
    """One line on standard error with the link to the cluster's dashboard."""
    if verbose is False:
        return
    link = getattr(client, "dashboard_link", None)
    if link:
        print(f"featurekit: Dask dashboard at {link}", file=sys.stderr, flush=True)


def tasks_in_flight(client: Any, largest_job_bytes: int | None) -> tuple[int, bool]:
    """How many tasks to keep submitted at once, and whether the workers declare
    ``featurekit_memory`` (then Dask itself keeps each worker within its memory)."""
    workers = list(client.scheduler_info(n_workers=-1)["workers"].values())
    declared = any(MEMORY_RESOURCE in (w.get("resources") or {}) for w in workers)
    slots = 0
    for worker in workers:
        threads = max(1, int(worker.get("nthreads") or 1))
        if declared:
            memory = (worker.get("resources") or {}).get(MEMORY_RESOURCE, 0)
        else:
            memory = worker.get("memory_limit") or 0
        if largest_job_bytes and memory:
            threads = min(threads, max(int(memory // largest_job_bytes), 0 if declared else 1))
        slots += threads
    return max(1, slots), declared


def _resource_bytes(client: Any, job_bytes: Sequence[int]) -> list[int]:
    """Each job's memory annotation, capped at the largest declared worker resource (a task
    asking more than any worker has would never be scheduled), with a warning when capped."""
    workers = client.scheduler_info(n_workers=-1)["workers"].values()
    largest = max(
        ((w.get("resources") or {}).get(MEMORY_RESOURCE, 0) for w in workers), default=0
    )
    capped = [min(int(b), int(largest)) if largest else int(b) for b in job_bytes]
    over = sum(1 for b in job_bytes if largest and b > largest)
    if over:
        warnings.warn(
            f"{over} partitions are planned to need more memory than the largest "
            f"{MEMORY_RESOURCE} a worker declares ({int(largest):,} bytes); they run one at a "
            "time on the largest workers. Fix: pass a smaller memory_limit (more partitions)",
            UserWarning,
            stacklevel=3,
        )
    return capped


def map_on_client(
    client: Any,
    function: Callable[[Any], Any],
    make_job: Callable[[int], Any],
    numbers: Sequence[int],
    *,
    job_bytes: Sequence[int] | None = None,
    verbose: bool | None = None,
    description: str = "partitions",
) -> dict[int, Any]:
    """``function(make_job(number))`` for every number, as Dask tasks; returns
    ``{number: result}``. Jobs are built only when submitted (at most as many at once as
    :func:`tasks_in_flight` allows); a featurekit error from a task is raised here, after the
    remaining tasks are cancelled."""
    check_client(client)
    distributed = sys.modules["distributed"]
    from featurekit.scale.threads import size_worker_threads

    size_worker_threads(client)
    numbers = list(numbers)
    sizes = list(job_bytes) if job_bytes is not None else None
    limit, declared = tasks_in_flight(client, max(sizes) if sizes else None)
    resources = _resource_bytes(client, sizes) if (declared and sizes) else None
    call = uuid.uuid4().hex[:12]
    announce_dashboard(client, verbose)

    packed_function = Packed.of(function)  # once: every task holds the same bytes
    pending = iter(range(len(numbers)))
    running: dict[Any, int] = {}
    results: dict[int, Any] = {}

    def submit_next(queue: Any) -> bool:
        position = next(pending, None)
        if position is None:
            return False
        number = numbers[position]
        with warnings.catch_warnings():
            # a task carries its partition's rows by design (in flight: a bounded few)
            warnings.filterwarnings("ignore", message="Sending large graph")
            future = client.submit(
                _run_task, packed_function, Packed.of(make_job(number)),
                key=f"featurekit-{description}-{call}-{number}",
                resources=None if resources is None else {MEMORY_RESOURCE: resources[position]},
                retries=RETRIES, pure=False, priority=-position,
            )
        running[future] = number
        queue.add(future)
        return True

    queue = distributed.as_completed([], with_results=False)
    for _ in range(limit):
        if not submit_next(queue):
            break
    bar = tqdm(total=len(numbers), desc=f"featurekit {description}", unit="partition",
               disable=not _show(verbose), leave=False, file=sys.stderr, dynamic_ncols=True)
    try:
        for future in queue:
            number = running.pop(future)
            result = future.result()
            future.release()
            if isinstance(result, Refused):
                raise result.error
            results[number] = result
            bar.update()
            submit_next(queue)
    finally:
        bar.close()
        if running:
            client.cancel(list(running))
    return results


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
