"""Scale out: partitions of target instances (or of series ids) computed one at a time (out of
core on one machine) or mapped on a Dask cluster, and lazy parquet tables that stay on disk.

``fk.compute(..., partitions=..., memory_limit=..., output=..., client=...)`` and
``fk.timeseries.extract(..., partitions=..., client=...)`` are the entry points; the names
below are the pieces a distributed runner maps (see ``docs/guide/scale.md``).

Names load on first use (PEP 562): a Dask worker unpickling a featurekit task imports only
what that task needs, so polars starts after its thread pool was sized for the worker.
"""

from __future__ import annotations

_ATTRIBUTES = {
    "check_manifest": "featurekit.scale.output", "done_partitions": "featurekit.scale.output",
    "write_manifest": "featurekit.scale.output", "write_partition": "featurekit.scale.output",
    "PartitionJob": "featurekit.scale.partitions", "PartitionPlan": "featurekit.scale.partitions",
    "WholeTableWarning": "featurekit.scale.partitions",
    "plan_partitions": "featurekit.scale.partitions",
    "run_partition": "featurekit.scale.partitions",
    "run_jobs_on_client": "featurekit.scale.cluster",
    "MEMORY_RESOURCE": "featurekit.scale.cluster",
}


def __getattr__(name: str) -> object:
    """Load a public name on first use, then keep it as a plain attribute."""
    import importlib

    if name not in _ATTRIBUTES:
        raise AttributeError(f"module 'featurekit.scale' has no attribute {name!r}")
    value = getattr(importlib.import_module(_ATTRIBUTES[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_ATTRIBUTES})


__all__ = sorted(_ATTRIBUTES)
