"""Dask distributed is an optional dependency: import it, or say which extra installs it."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from featurekit.errors import FeaturekitError

INSTALL = "pip install 'featurekit[dask]'"


def import_distributed() -> ModuleType:
    """The ``distributed`` module, or a featurekit error naming the extra that installs it."""
    try:
        import distributed
    except ImportError as error:
        raise FeaturekitError(
            "client= runs featurekit on Dask distributed, which is not installed "
            f"({error}). Fix: {INSTALL}, or leave client out to compute in this process"
        ) from None
    return distributed


def check_client(client: Any) -> Any:
    """``client`` as a ``distributed.Client``; anything else is refused with the fix."""
    distributed = import_distributed()
    if not isinstance(client, distributed.Client):
        raise FeaturekitError(
            f"client must be a dask.distributed.Client, got {type(client).__name__}. Fix: pass "
            "Client(LocalCluster(...)) or Client('tcp://scheduler:8786'), or leave client out"
        )
    if client.status not in ("running", "connecting", "newly-created"):
        raise FeaturekitError(
            f"the Dask client is {client.status}. Fix: pass an open client (the call ran "
            "after client.close() or outside its 'with' block)"
        )
    return client
