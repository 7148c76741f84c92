"""Jobs run as Dask tasks, a bounded number at a time, and their results gathered back.

A job whose rows are large (``SCATTER_BYTES`` of Arrow tables or more) is scattered to the
worker chosen for it, and its task is pinned there: the scheduler never unpickles the rows,
and the first partition starts computing while the next is still on its way. The rows go
straight from the driver to the worker (one hop) when the client may reach the workers
(see ``sends_directly``), else through the scheduler. Scattered rows die with their worker, so
when a worker dies featurekit sends the lost jobs again, to the workers left (up to
``LOST_WORKER_RETRIES`` times per job). A smaller job travels inside its task, and Dask
itself recomputes it elsewhere when its worker dies.

A run refuses to wait forever: when the cluster has had no worker for
``NO_WORKERS_TIMEOUT`` seconds, the remaining tasks are cancelled and a FeaturekitError
says so.
"""

from __future__ import annotations

import itertools
import sys
import time
import uuid
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from tqdm.auto import tqdm

from featurekit.errors import FeaturekitError
from featurekit.scale.optional import check_client
from featurekit.scale.shipment import Shipment

#: The worker resource that holds bytes of memory for featurekit's tasks.
MEMORY_RESOURCE = "featurekit_memory"
#: How often Dask retries a task that raised an unexpected error (a killed worker's tasks are
#: recomputed by the scheduler on its own, up to ``distributed.scheduler.allowed-failures``).
RETRIES = 2
#: Jobs with at least this many bytes of rows are scattered straight to their worker.
SCATTER_BYTES = 2**20
#: How often a scattered job is sent again after its worker died before it finished.
LOST_WORKER_RETRIES = 3
#: Seconds a run waits on a cluster without any worker before it gives up.
NO_WORKERS_TIMEOUT = 60.0


@dataclass(frozen=True)
class Refused:
    """A task's answer when the input was refused (a featurekit error): returned, not raised,
    so that Dask does not retry what would fail again; the driver raises it."""

    error: FeaturekitError


def _run_task(function: Any, job: Any) -> Any:
    """What a worker runs: ``function(job)`` on its share of the cores, the result packed as
    a :class:`Shipment`; a featurekit error comes back as a value. Both arrive packed by
    cloudpickle on the driver, so that a function defined in ``__main__`` (a notebook, a
    script) or in a module registered with ``cloudpickle.register_pickle_by_value`` travels
    by value; one that must be imported and cannot be (its module is not installed on the
    workers) is refused, never retried."""
    from featurekit.scale.threads import run_with_task_threads

    try:
        function = function.unpack() if isinstance(function, Shipment) else function
        job = job.unpack() if isinstance(job, Shipment) else job
    except (ImportError, AttributeError) as error:
        return Refused(FeaturekitError(
            f"a worker could not load the task's code: {type(error).__name__}: {error}. Fix: "
            "install the module that defines your function (a labeling function, a custom "
            "primitive) on the workers, or define it in the notebook or script that calls "
            "featurekit"))
    try:
        return Shipment.of(run_with_task_threads(function, job))
    except FeaturekitError as error:
        return Refused(error)


def _packed(obj: Any, what: str) -> Shipment:
    """``obj`` packed for the workers, or a FeaturekitError saying what could not be."""
    try:
        return Shipment.of(obj)
    except Exception as error:  # noqa: BLE001 - pickling raises many kinds
        raise FeaturekitError(
            f"{what} cannot be sent to the Dask workers: {type(error).__name__}: {error}. "
            "Fix: keep objects that cannot be pickled (locks, open files, connections) out "
            "of custom primitives and labeling functions, or compute without client=") \
            from error


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


def worker_slots(client: Any, largest_job_bytes: int | None) -> tuple[dict[str, int], bool]:
    """How many tasks each worker may run at once (its threads, fewer when its memory holds
    fewer of the largest job), and whether the workers declare ``featurekit_memory`` (then
    Dask itself keeps each worker within its memory)."""
    workers = client.scheduler_info(n_workers=-1)["workers"]
    declared = any(MEMORY_RESOURCE in (w.get("resources") or {}) for w in workers.values())
    slots = {}
    for address, worker in workers.items():
        threads = max(1, int(worker.get("nthreads") or 1))
        if declared:
            memory = (worker.get("resources") or {}).get(MEMORY_RESOURCE, 0)
        else:
            memory = worker.get("memory_limit") or 0
        if largest_job_bytes and memory:
            threads = min(threads, max(int(memory // largest_job_bytes), 0 if declared else 1))
        slots[address] = threads
    return slots, declared


def tasks_in_flight(client: Any, largest_job_bytes: int | None) -> tuple[int, bool]:
    """How many tasks to keep submitted at once, and whether the workers declare
    ``featurekit_memory`` (see :func:`worker_slots`)."""
    slots, declared = worker_slots(client, largest_job_bytes)
    return max(1, sum(slots.values())), declared


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
            stacklevel=4,
        )
    return capped


def sends_directly(client: Any) -> bool:
    """Whether rows go from this process straight to the workers: as the client says
    (``Client(direct_to_workers=...)``), else when every worker is on this machine (a
    LocalCluster), where they always can. Otherwise they pass through the scheduler, as Dask
    does by default: a cluster behind a gateway may not let the client reach its workers."""
    chosen = getattr(client, "direct_to_workers", None)
    if chosen is not None:
        return bool(chosen)
    workers = client.scheduler_info(n_workers=-1)["workers"]
    return bool(workers) and all(_on_this_machine(address) for address in workers)


def _on_this_machine(address: str) -> bool:
    host = address.split("://", 1)[-1].rsplit(":", 1)[0].strip("[]")
    return host in ("127.0.0.1", "localhost", "::1") or address.startswith("inproc://")


@dataclass
class _Task:
    """One job in flight: its position, where its rows were scattered (None: inside the
    task), and how often it was sent again after losing its worker."""

    position: int
    worker: str | None
    resent: int = 0
    rows: Any = None  # the scattered rows' future, held until the task is done


class _Run:
    """The state of one :func:`map_on_client` call."""

    def __init__(self, client: Any, function: Any, make_job: Callable[[int], Any],
                 numbers: list[int], sizes: list[int] | None, description: str) -> None:
        self.client, self.make_job, self.numbers = client, make_job, numbers
        self.largest = max(sizes) if sizes else None
        self.slots, declared = worker_slots(client, self.largest)
        self.limit = max(1, sum(self.slots.values()))
        self.resources = _resource_bytes(client, sizes) if (declared and sizes) else None
        self.function = _packed(function, "the function of the tasks")  # once for every task
        self.call = f"featurekit-{description}-{uuid.uuid4().hex[:12]}"
        self.pending = iter(range(len(numbers)))
        self.running: dict[Any, _Task] = {}
        self.busy: dict[str, int] = {}  # worker -> scattered tasks running there
        self.direct = sends_directly(client)
        self.send_error: Exception | None = None

    def submit_next(self) -> bool:
        """Submit the next job, if any is left."""
        return self.submit_batch(1) > 0

    def submit_batch(self, count: int) -> int:
        """Submit up to ``count`` more jobs; their rows are sent to their workers at the same
        time (the first one starts computing while the others are still on their way)."""
        batch = []
        for position in itertools.islice(self.pending, count):
            job = _packed(self.make_job(self.numbers[position]), "a partition's job")
            batch.append((self._place(_Task(position, None), job), job))
        if len(batch) > 1 and any(task.worker for task, _ in batch):
            with ThreadPoolExecutor(len(batch)) as pool:
                sent = list(pool.map(lambda item: self._send_or_none(*item), batch))
        else:
            sent = [self._send_or_none(task, job) for task, job in batch]
        for (task, job), future in zip(batch, sent, strict=True):
            if future is None:  # its worker left while the rows were on their way
                self.forget_worker(task)
                future = self._send_with_retries(task, job)
            self.running[future] = task
        return len(batch)

    def _place(self, task: _Task, job: Shipment) -> _Task:
        """Choose the worker of a job whose rows are scattered (the one with the most free
        slots); a small job, or any job while the cluster has no worker, is left to the
        scheduler (its task carries its rows)."""
        task.worker = None
        if not self.slots:
            self.refresh_workers()
        if self.slots and sum(table.nbytes for table in job.tables) >= SCATTER_BYTES:
            task.worker = max(self.slots, key=lambda w: (self.slots[w] - self.busy.get(w, 0), w))
            self.busy[task.worker] = self.busy.get(task.worker, 0) + 1
        return task

    def forget_worker(self, task: _Task) -> None:
        """The task's worker is gone (or its rows are): free its slot, look again."""
        if task.worker is not None:
            self.busy[task.worker] = max(0, self.busy.get(task.worker, 0) - 1)
        self.refresh_workers()

    def refresh_workers(self) -> None:
        self.slots, _ = worker_slots(self.client, self.largest)
        self.busy = {w: n for w, n in self.busy.items() if w in self.slots}

    def _send(self, task: _Task, job: Shipment) -> Any:
        """Submit the job's task (its rows scattered first to the task's worker, if any)."""
        number = self.numbers[task.position]
        options: dict[str, Any] = dict(
            key=f"{self.call}-{number}" + (f"-{task.resent}" if task.resent else ""),
            resources=(None if self.resources is None
                       else {MEMORY_RESOURCE: self.resources[task.position]}),
            retries=RETRIES, pure=False, priority=-task.position)
        if task.worker is None:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="Sending large graph")
                return self.client.submit(_run_task, self.function, job, **options)
        [task.rows] = self.client.scatter([job], workers=[task.worker], direct=self.direct,
                                          hash=False)
        return self.client.submit(_run_task, self.function, task.rows, workers=[task.worker],
                                  **options)

    def _send_or_none(self, task: _Task, job: Shipment) -> Any:
        try:
            return self._send(task, job)
        except Exception as error:  # noqa: BLE001 - the worker left while receiving: None
            if task.worker is None:
                raise
            self.send_error = error  # named if no worker takes the job in the end
            return None

    def _send_with_retries(self, task: _Task, job: Shipment) -> Any:
        """Send a job to a newly chosen worker, choosing again while workers leave."""
        for attempt in range(LOST_WORKER_RETRIES + 1):
            future = self._send_or_none(self._place(task, job), job)
            if future is not None:
                return future
            if attempt == LOST_WORKER_RETRIES:
                break
            self.forget_worker(task)
        error = self.send_error
        raise FeaturekitError(
            f"partition {self.numbers[task.position]} could not be sent to any worker: "
            f"{LOST_WORKER_RETRIES + 1} attempts failed, the last with {type(error).__name__}: "
            f"{error}. Fix: check that the workers are alive and reachable (their logs, "
            "memory limits), then call again") from error

    def finished(self, future: Any) -> tuple[int, Any] | None:
        """(number, result) of a finished task, or None when its job was sent again because
        its scattered rows were lost with their worker."""
        distributed = sys.modules["distributed"]
        task = self.running.pop(future)
        try:
            result = future.result()
        except distributed.client.FutureCancelledError:
            if task.worker is None or task.resent >= LOST_WORKER_RETRIES:
                raise
            self.forget_worker(task)
            task.resent += 1
            task.rows = None
            job = _packed(self.make_job(self.numbers[task.position]), "a partition's job")
            self.running[self._send_with_retries(task, job)] = task
            return None
        if task.worker is not None:
            self.busy[task.worker] = max(0, self.busy.get(task.worker, 0) - 1)
        future.release()
        task.rows = None
        if isinstance(result, Refused):
            raise result.error
        return self.numbers[task.position], result.unpack()

    def wait_for_one(self) -> list[Any]:
        """The tasks finished now, waiting for at least one; raises when the cluster has had
        no worker for ``NO_WORKERS_TIMEOUT`` seconds."""
        distributed = sys.modules["distributed"]
        without_workers_since = None
        while True:
            try:
                done, _ = distributed.wait(list(self.running), timeout=1.0,
                                           return_when="FIRST_COMPLETED")
                return list(done)
            except distributed.client.FuturesCancelledError:  # lost: their result() says so
                return [future for future in self.running if future.status != "pending"]
            except TimeoutError:  # none finished within the second: are there workers?
                pass
            if self.client.scheduler_info(n_workers=-1)["workers"]:
                without_workers_since = None
                continue
            if without_workers_since is None:
                without_workers_since = time.monotonic()
                print("featurekit: the Dask cluster has no worker; waiting for one (at most "
                      f"{NO_WORKERS_TIMEOUT:.0f} s)", file=sys.stderr, flush=True)
            waited = time.monotonic() - without_workers_since
            if waited >= NO_WORKERS_TIMEOUT:
                raise FeaturekitError(
                    f"the Dask cluster has had no worker for {waited:.0f} s while "
                    f"{len(self.running)} featurekit tasks waited; they are cancelled. Fix: "
                    "start workers for the scheduler (or check why they died: the workers' "
                    "logs, their memory limit), then call again")


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
    from featurekit.scale.threads import size_worker_threads

    size_worker_threads(client)
    run = _Run(client, function, make_job, list(numbers),
               list(job_bytes) if job_bytes is not None else None, description)
    announce_dashboard(client, verbose)
    results: dict[int, Any] = {}
    bar = tqdm(total=len(run.numbers), desc=f"featurekit {description}", unit="partition",
               disable=not _show(verbose), leave=False, file=sys.stderr, dynamic_ncols=True)
    try:
        run.submit_batch(run.limit)
        while run.running:
            for future in run.wait_for_one():
                answer = run.finished(future)
                if answer is None:
                    continue
                results[answer[0]] = answer[1]
                bar.update()
                run.submit_next()
    finally:
        bar.close()
        if run.running:
            client.cancel(list(run.running))
    return results
