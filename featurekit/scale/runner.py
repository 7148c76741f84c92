"""The local runner: a plan's partitions computed one after another in this process (out of
core: one partition's rows in memory at a time), with a progress bar over partitions and,
with ``output=``, each part written to the directory as soon as it is done."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import polars as pl

from featurekit._memory import release_freed_memory
from featurekit.engine.progress import progress_bar
from featurekit.scale.output import (
    check_manifest,
    check_output,
    done_partitions,
    write_manifest,
    write_partition,
)
from featurekit.scale.partitions import PartitionPlan, run_partition


def run_locally(plan: PartitionPlan, output: str | os.PathLike | None = None,
                verbose: bool | None = None) -> Any:
    """Run every job of ``plan`` here, in order. Without ``output`` returns the matrix (as
    ``fk.compute`` would); with it writes ``part-NNNNN.parquet`` files and a manifest, skips
    the parts an earlier run of the same call wrote, and returns the directory's path."""
    if output is not None:
        output = check_output(output)
        check_manifest(output, plan)
        done = done_partitions(output, plan)
        write_manifest(output, plan)
    parts: list[pl.DataFrame] = []
    with progress_bar(verbose, len(plan.jobs), "featurekit partitions") as step:
        for job in plan.jobs:
            if output is not None and job.number in done:
                step(f"partition {job.number} (written before)")
                continue
            part = run_partition(job)
            if output is not None:
                write_partition(job.as_written(part), output, job.number)
                del part
                release_freed_memory(job.rows)
            else:
                parts.append(part)
            step(f"partition {job.number}")
    if output is not None:
        return Path(output)
    return plan.assemble(parts)
