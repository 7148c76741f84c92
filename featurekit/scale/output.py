"""An output directory written partition by partition: ``part-00000.parquet``, ... each
appearing whole or not at all (atomic rename), and a manifest naming the call, so that a
rerun of the same call skips the partitions written and another call is refused."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import polars as pl

from featurekit._atomic import atomic_path
from featurekit._version import __version__
from featurekit.errors import ComputeError

MANIFEST = "manifest.json"


def part_name(number: int) -> str:
    return f"part-{number:05d}.parquet"


def fingerprint(plan: Any) -> str:
    """A digest of the call: features, target, cutoffs, time arguments, partitioning and the
    data (in-memory tables by their rows, lazy tables by their files)."""
    from featurekit.scale.partitions import describe_tables

    described = dict(plan.call)
    if plan.entityset is not None:
        described["tables"] = describe_tables(plan.entityset)
    described["kind"] = plan.kind
    text = json.dumps(described, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


def _manifest(plan: Any) -> dict[str, Any]:
    if not hasattr(plan, "_fingerprint"):
        plan._fingerprint = fingerprint(plan)
    return {"featurekit": __version__, "fingerprint": plan._fingerprint,
            "features": [name for f in plan.features for name in f.output_names],
            "index": plan.index, "partitions": len(plan.jobs),
            "rows": [job.rows for job in plan.jobs],
            "files": [part_name(job.number) for job in plan.jobs]}


def check_output(output_dir: Any) -> Path:
    """``output`` as a path: a non-empty string or path-like, else a ComputeError."""
    if isinstance(output_dir, bytes) or not isinstance(output_dir, (str, os.PathLike)) or \
            not str(os.fspath(output_dir)).strip():
        raise ComputeError(f"output={output_dir!r} is not a directory path. Fix: pass the "
                           "directory to write the partitions to, e.g. output='features/'")
    return Path(output_dir)


def check_manifest(output_dir: str | os.PathLike, plan: Any) -> None:
    """Refuse a directory holding another call's partitions (or parts without a manifest)."""
    folder = check_output(output_dir)
    if folder.exists() and not folder.is_dir():
        raise ComputeError(f"output={str(folder)!r} is a file, not a directory. Fix: pass a "
                           "directory path for the partitions")
    path = folder / MANIFEST
    if not path.exists():
        strays = sorted(p.name for p in folder.glob("part-*.parquet")) if folder.exists() else []
        if strays:
            raise ComputeError(
                f"output directory {str(folder)!r} holds {strays[:3]} but no {MANIFEST}, so "
                "which call wrote them is unknown. Fix: choose an empty directory, or delete them")
        return
    try:
        written = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ComputeError(f"output directory {str(folder)!r}: {MANIFEST} cannot be read "
                           f"({error}). Fix: choose another directory, or delete it") from None
    expected = _manifest(plan)
    if written.get("fingerprint") != expected["fingerprint"]:
        changed = ("features" if written.get("features") != expected["features"] else
                   "partitioning" if written.get("rows") != expected["rows"] else
                   "data or arguments")
        raise ComputeError(
            f"output directory {str(folder)!r} holds the partitions of another call (its "
            f"{changed} differ), and mixing them would give a wrong matrix. Fix: write to "
            "another directory, or delete this one to recompute")


def write_manifest(output_dir: str | os.PathLike, plan: Any) -> Path:
    """Write the manifest (atomically) naming the call, its features and its partitions."""
    path = Path(output_dir) / MANIFEST
    with atomic_path(path) as temporary:
        temporary.write_text(json.dumps(_manifest(plan), indent=1))
    return path


def done_partitions(output_dir: str | os.PathLike, plan: Any) -> set[int]:
    """The partitions of ``plan`` an earlier run of the same call wrote (the manifest must
    match: call ``check_manifest`` first)."""
    folder = Path(output_dir)
    if not (folder / MANIFEST).exists():
        return set()
    return {job.number for job in plan.jobs if (folder / part_name(job.number)).is_file()}


def write_partition(frame: pl.DataFrame, output_dir: str | os.PathLike, number: int) -> Path:
    """Write one partition's slice as ``part-NNNNN.parquet``: whole, or not at all. ``frame``
    is ``job.as_written(run_partition(job))`` (see ``compute_and_write``)."""
    path = Path(output_dir) / part_name(number)
    with atomic_path(path) as temporary:
        frame.write_parquet(temporary)
    return path


def compute_and_write(job: Any, output_dir: str | os.PathLike) -> Path:
    """Compute one job and write its part where it runs (a worker): the file's path."""
    from featurekit.scale.partitions import run_partition

    return write_partition(job.as_written(run_partition(job)), output_dir, job.number)
