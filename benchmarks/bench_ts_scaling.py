"""Benchmark: how each time-series calculator's time grows with the length of one series.

    python3 benchmarks/bench_ts_scaling.py [--lengths 10000 100000 1000000] [--budget 20]
        [--only sample_entropy approximate_entropy]
    python3 benchmarks/bench_ts_scaling.py --targets


Every calculator of the comprehensive preset (with its whole parameter grid) runs alone on
one random walk of each length; the growth exponent between two lengths is
log(time ratio) / log(length ratio): about 1 for linear work, 2 for quadratic. A calculator
whose estimated time at the next length exceeds ``--budget`` seconds is not run there.
Times are the best of ``--repeats`` calls after a warm-up call, so compilation is excluded.
``--targets`` instead times the long-series targets, each in a fresh process (which loads
the cached kernel) with its peak resident memory: ten series of 100,000 points with the
comprehensive settings, and one series of 10,000,000 points with the efficient settings.
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
import time

import numpy as np
import pandas as pd


def series_frame(length: int, seed: int = 0) -> pd.DataFrame:
    """One random walk of ``length`` points in the long layout."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {"id": np.zeros(length, dtype=np.int64), "value": np.cumsum(rng.normal(size=length))}
    )


def best_time(extract, frame: pd.DataFrame, settings: dict, repeats: int) -> float:
    """Best wall time of ``repeats`` extractions of ``settings`` on ``frame``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        extract(frame, column_id="id", settings=settings, disable_progressbar=True)
        times.append(time.perf_counter() - start)
    return min(times)


TARGET_SCRIPT = r"""
import sys, time, resource
import numpy as np, pandas as pd
import featurekit.timeseries as fkts
series, length, settings = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rng = np.random.default_rng(0)
frame = pd.DataFrame({
    "id": np.repeat(np.arange(series), length),
    "value": np.cumsum(rng.normal(size=(series, length)), axis=1).ravel(),
})
fkts.extract(frame.iloc[:200], column_id="id", settings=settings)  # load the cached kernel
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
start = time.perf_counter()
result = fkts.extract(frame, column_id="id", settings=settings, disable_progressbar=True)
elapsed = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
print(f"{elapsed:.1f} {peak:.2f} {before:.2f} {result.shape[1]} {int(np.isnan(result.to_numpy(dtype=float)).sum())}")
"""


def targets() -> None:
    """The long-series targets, each in a fresh process: time and peak memory."""
    for series, length, settings in ((10, 100_000, "comprehensive"), (1, 10_000_000, "efficient")):
        completed = subprocess.run(
            [sys.executable, "-c", TARGET_SCRIPT, str(series), str(length), settings],
            capture_output=True,
            text=True,
            check=True,
        )
        elapsed, peak, before, columns, missing = completed.stdout.split()
        print(
            f"{series} x {length:,} points, {settings}: {elapsed} s, peak RSS {peak} GiB "
            f"({before} GiB before the call), {columns} columns, {missing} missing values",
            flush=True,
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--budget", type=float, default=20.0, help="seconds per call at most")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", nargs="*", help="calculator names (default: all)")
    parser.add_argument("--targets", action="store_true", help="the long-series targets")
    arguments = parser.parse_args(argv)
    if arguments.targets:
        targets()
        return

    from featurekit.primitives import timeseries as calc

    import featurekit.timeseries as fkts

    preset = calc.preset("comprehensive")
    names = arguments.only or sorted(preset)
    frames = {length: series_frame(length) for length in arguments.lengths}
    fkts.extract(frames[arguments.lengths[0]].iloc[:100], column_id="id", settings="comprehensive")
    header = " ".join(f"{length:>10}" for length in arguments.lengths)
    print(f"{'calculator':<56}{header}  exponents")
    slow = []
    for name in names:
        settings = {name: preset[name]}
        times: list[float] = []
        for index, length in enumerate(arguments.lengths):
            if times:
                previous = arguments.lengths[index - 1]
                growth = max(exponents(times, arguments.lengths)[-1:] or [1.0])
                estimate = times[-1] * (length / previous) ** growth
                if estimate > arguments.budget:
                    break
            times.append(best_time(fkts.extract, frames[length], settings, arguments.repeats))
        growth = exponents(times, arguments.lengths)
        cells = " ".join(f"{t:>10.4f}" for t in times) + " " * 11 * (
            len(arguments.lengths) - len(times)
        )
        shown = " ".join(f"{g:.2f}" for g in growth)
        print(f"{name:<56}{cells}  {shown}", flush=True)
        # below a millisecond the exponent measures overhead, not the calculator
        if growth and growth[-1] > 1.3 and times[-1] > 0.01:
            slow.append(name)
    print("growing faster than n log n:", ", ".join(slow) or "none")


def exponents(times: list[float], lengths: list[int]) -> list[float]:
    """Growth exponent between each pair of consecutive measured lengths."""
    return [
        math.log(times[i + 1] / times[i]) / math.log(lengths[i + 1] / lengths[i])
        for i in range(len(times) - 1)
    ]


if __name__ == "__main__":
    main()
