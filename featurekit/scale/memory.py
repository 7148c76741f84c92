"""Memory sizes for partition planning: read ``memory_limit`` ("2GiB", "500MB", bytes) and
choose the local default (half the memory available when the call starts)."""

from __future__ import annotations

import numbers
import os
import re
from typing import Any

import numpy as np

from featurekit.errors import ComputeError

ENGINE_FACTOR = 4  # a partition's peak: its rows and matrix, the engine's working copies
SAMPLE_INSTANCES = 1000  # instances whose reach is measured to size partitions
LOCAL_SHARE = 0.5  # the local runner's default limit: this share of the available memory

_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9,
          "gb": 10**9, "t": 10**12, "tb": 10**12, "kib": 2**10, "mib": 2**20, "gib": 2**30,
          "tib": 2**40, "ki": 2**10, "mi": 2**20, "gi": 2**30, "ti": 2**40}
_SIZE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([a-zA-Z]*)\s*$")


def parse_memory_limit(value: Any) -> int:
    """``value`` in bytes: an integer, or a size with a unit as Dask writes them ("2GiB" is
    2 * 2**30, "2GB" and "2G" are 2 * 10**9)."""
    if isinstance(value, (bool, np.bool_)):
        raise _unreadable(value)
    if isinstance(value, numbers.Integral):
        if value <= 0:
            raise _unreadable(value)
        return int(value)
    if isinstance(value, numbers.Real) and 1 <= value < float("inf"):
        return int(value)
    if not isinstance(value, str):
        raise _unreadable(value)
    match = _SIZE.match(value)
    if match is None or match.group(2).lower() not in _UNITS:
        raise _unreadable(value)
    size = int(float(match.group(1)) * _UNITS[match.group(2).lower()])
    if size <= 0:
        raise _unreadable(value)
    return size


def _unreadable(value: Any) -> ComputeError:
    return ComputeError(f"memory_limit={value!r} is not a size. Fix: pass a number of bytes or a "
                        "size with a unit, e.g. memory_limit='2GiB' or '500MB'")


def available_memory() -> int:
    """Bytes of memory available now (psutil when installed, else the operating system)."""
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except ImportError:  # pragma: no cover - psutil is usually present
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return 4 * 2**30


def default_memory_limit() -> int:
    """The local runner's default ``memory_limit``: half of the memory available now."""
    return max(1, int(available_memory() * LOCAL_SHARE))
