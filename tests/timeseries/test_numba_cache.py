"""An edited calculator reaches the cached kernel that inlines it, in a fresh process.

Two toy pairs of modules mirror kernels.py and primitives/timeseries.py: a cached kernel
calling a cached helper from another file. One pair registers the helper's file with
``forget_stale_kernels``, the other does not. After the helper is edited, a new process must
see the new helper through the watched kernel; the unwatched one shows the stale code that
numba alone keeps serving (the problem being fixed).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

HELPER = """from numba import njit


@njit(cache=True)
def value():
    return {value}
"""

KERNEL = """from numba import njit

import {helper} as helper


@njit(cache=True)
def kernel():
    return helper.value() + 0.5
"""

WATCH = """
from featurekit.timeseries.numba_cache import forget_stale_kernels

forget_stale_kernels((kernel,), (__file__, helper.__file__), "kernel")
"""


def write_helpers(directory: Path, value: float, stamp_seconds: int) -> None:
    for name in ("helper_watched", "helper_plain"):
        path = directory / f"{name}.py"
        path.write_text(HELPER.format(value=value))
        os.utime(path, (stamp_seconds, stamp_seconds))  # same size: only the time differs


def run_kernels(directory: Path) -> list[float]:
    code = "import kernel_watched, kernel_plain; print(kernel_watched.kernel(), kernel_plain.kernel())"
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(directory), str(ROOT)])}
    environment.pop("NUMBA_CACHE_DIR", None)
    environment.pop("NUMBA_DISABLE_JIT", None)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=directory, env=environment,
        capture_output=True, text=True, check=True,
    )
    return [float(word) for word in done.stdout.split()]


def test_editing_an_inlined_helper_recompiles_the_watched_kernel_in_a_new_process(tmp_path):
    write_helpers(tmp_path, 1.0, 1_700_000_000)
    (tmp_path / "kernel_watched.py").write_text(KERNEL.format(helper="helper_watched") + WATCH)
    (tmp_path / "kernel_plain.py").write_text(KERNEL.format(helper="helper_plain"))
    assert run_kernels(tmp_path) == [1.5, 1.5]
    assert (tmp_path / "__pycache__" / "kernel.sources.sha256").is_file()

    write_helpers(tmp_path, 2.0, 1_700_000_100)
    watched, plain = run_kernels(tmp_path)
    assert watched == 2.5
    assert plain == 1.5  # numba by itself keeps the stale kernel: the case being guarded
