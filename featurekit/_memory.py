"""Hand freed memory back to the operating system between the large steps of a computation.

numpy and numba allocate through the C library's malloc. glibc keeps freed blocks below its
(self-raising) mmap threshold for reuse, so after a step over millions of rows the process
would go on holding that step's temporaries and the next step's peak would sit on top of
them. ``malloc_trim`` returns those pages; elsewhere this is a no-op.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys

LARGE_STEP_ROWS = 1_000_000  # below this, a step's temporaries are too small to matter


@functools.cache
def _malloc_trim():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim
    except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
        return None


def release_freed_memory(rows: int) -> None:
    """After a step over ``rows`` rows, give the C heap's free pages back (glibc only)."""
    if rows >= LARGE_STEP_ROWS and (trim := _malloc_trim()) is not None:
        trim(0)
