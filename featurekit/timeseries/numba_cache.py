"""Keep numba's on-disk cache of the window kernel in step with the calculators it inlines.

numba decides whether a cached kernel is still valid from the modification time and size of
the file that defines the kernel, and from the kernel's own bytecode. The window kernel in
``kernels.py`` compiles in the calculators of ``primitives/timeseries.py``, a different file,
so an edited calculator would keep running its old cached machine code. Here the kernel's
cache is tied to a hash of every source file it depends on: when the hash differs from the
one stored beside the cache, the kernels' cache indexes are emptied (numba's own ``flush``)
and numba compiles afresh on the next call.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

STAMP_SUFFIX = ".sources.sha256"


def sources_digest(sources: Iterable[str | os.PathLike[str]]) -> str:
    """SHA-256 over the contents of ``sources``, in the given order."""
    digest = hashlib.sha256()
    for source in sources:
        digest.update(Path(source).read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def forget_stale_kernels(dispatchers: Sequence[Any], sources: Sequence[str | os.PathLike[str]],
                         stamp_name: str) -> bool:
    """Empty the cache indexes of ``dispatchers`` (``@njit(cache=True)`` functions) if
    ``sources`` changed since their cache was written; returns True when it did.

    Call it at import time of the module defining the dispatchers, before their first call.
    The stamp ``<stamp_name>.sources.sha256`` lives in numba's cache directory for that
    module. A cache that cannot be read or written (read-only install, no cache directory)
    is left to numba, which then simply compiles.
    """
    try:
        cache_directory = Path(dispatchers[0]._cache._cache_path)
        stamp = cache_directory / f"{stamp_name}{STAMP_SUFFIX}"
        digest = sources_digest(sources)
        if stamp.is_file() and stamp.read_text().strip() == digest:
            return False
        for dispatcher in dispatchers:
            dispatcher._cache.flush()
        cache_directory.mkdir(parents=True, exist_ok=True)
        temporary = stamp.with_name(f"{stamp.name}.{os.getpid()}")
        temporary.write_text(digest + "\n")
        os.replace(temporary, stamp)  # atomic: a concurrent reader sees old or new, not half
        return True
    except (OSError, AttributeError):
        return False
