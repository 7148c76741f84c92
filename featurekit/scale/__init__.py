"""Scale out: partitions of target instances computed one at a time (out of core on one
machine) or mapped on a Dask cluster, and lazy parquet tables that stay on disk.

``fk.compute(..., partitions=..., memory_limit=..., output=...)`` is the entry point; the
names below are the pieces a distributed runner maps (see ``docs/guide/scale.md``).
"""

from featurekit.scale.output import check_manifest, done_partitions, write_manifest, write_partition
from featurekit.scale.partitions import (
    PartitionJob,
    PartitionPlan,
    WholeTableWarning,
    plan_partitions,
    run_partition,
)

__all__ = ["PartitionJob", "PartitionPlan", "WholeTableWarning", "check_manifest",
           "done_partitions", "plan_partitions", "run_partition", "write_manifest",
           "write_partition"]
