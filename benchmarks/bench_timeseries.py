"""Benchmark: featurekit's time-series extractor against tsfresh and tsfresh-rs, same data, same run.

    python3 benchmarks/bench_timeseries.py [--series 100] [--length 1000] [--settings efficient]
    python3 benchmarks/bench_timeseries.py --rolling [--length 1000000]

featurekit runs in this process (first call and the median of repeated calls). When the
tsfresh virtualenv exists (``$TSFRESH_VENV``, ``/work/venvs/tsfresh`` or ``/work/venv-tsfresh``), tsfresh and
tsfresh-rs run on the very same rows in a subprocess of that venv, and the ratios are printed.
``--rolling`` instead times rolling windows (1,000 rows, step 100) over one long series and
reports the growth of peak memory next to the sizes of input and output (featurekit only).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

PEER_SCRIPT = r"""
import json, statistics, sys, time, warnings
import pandas as pd
warnings.simplefilter("ignore")
path, settings, repeats, libraries = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
frame = pd.read_parquet(path)
timings = {}
for library in libraries.split(","):
    module = __import__(library)
    parameters = {
        "minimal": module.feature_extraction.MinimalFCParameters,
        "efficient": module.feature_extraction.EfficientFCParameters,
        "comprehensive": module.feature_extraction.ComprehensiveFCParameters,
    }[settings]()
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = module.extract_features(
            frame, column_id="id", column_sort="time", default_fc_parameters=parameters,
            disable_progressbar=True,
        )  # each library's default n_jobs: all cores, like featurekit
        runs.append(time.perf_counter() - start)
    timings[library] = {"median": statistics.median(runs), "runs": runs, "columns": result.shape[1]}
print(json.dumps(timings))
"""


def make_data(series: int, length: int, seed: int = 0) -> pd.DataFrame:
    """``series`` random walks of ``length`` points in tsfresh's long layout."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "id": np.repeat(np.arange(series), length),
            "time": np.tile(np.arange(length), series),
            "value": np.cumsum(rng.normal(size=(series, length)), axis=1).ravel(),
        }
    )


def time_featurekit(frame: pd.DataFrame, settings: str, repeats: int) -> dict[str, float]:
    """First-call and median times of featurekit on ``frame``, measured in this process."""
    start = time.perf_counter()
    import featurekit.timeseries as fkts

    imported = time.perf_counter() - start
    start = time.perf_counter()
    result = fkts.extract(frame, column_id="id", column_sort="time", settings=settings)
    first = time.perf_counter() - start
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        fkts.extract(frame, column_id="id", column_sort="time", settings=settings)
        runs.append(time.perf_counter() - start)
    return {
        "import": imported,
        "first": first,
        "median": statistics.median(runs),
        "columns": result.shape[1],
    }


def time_peers(frame: pd.DataFrame, settings: str, repeats: int, peers: str) -> dict | None:
    """tsfresh and tsfresh-rs timings from the tsfresh venv, or None if it is absent."""
    candidates = [os.environ.get("TSFRESH_VENV", ""), "/work/venvs/tsfresh", "/work/venv-tsfresh"]
    venv = next((Path(path) for path in candidates if path and Path(path).exists()),
                Path("/work/venvs/tsfresh"))
    python = venv / "bin" / "python"
    if not python.exists():
        return None
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "series.parquet"
        frame.to_parquet(path)
        completed = subprocess.run(
            [str(python), "-c", PEER_SCRIPT, str(path), settings, str(repeats), peers],
            capture_output=True,
            text=True,
            check=True,
        )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def rolling(length: int, settings: str) -> None:
    """Rolling windows over one series: time, and peak memory against input and output."""
    import featurekit.timeseries as fkts

    frame = make_data(1, length)
    window = fkts.Rolling(size=1000, step=100)
    fkts.extract(
        frame.iloc[:5000], column_id="id", column_sort="time", settings=settings, window=window
    )
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    result = fkts.extract(
        frame, column_id="id", column_sort="time", settings=settings, window=window
    )
    elapsed = time.perf_counter() - start
    growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - before
    input_mb = frame.memory_usage(deep=True).sum() / 2**20
    output_mb = result.memory_usage(deep=True).sum() / 2**20
    print(
        f"rolling 1000/100 over {length} points, {settings}: {elapsed:.2f} s, {len(result)} windows; "
        f"peak memory grew {growth:.0f} MiB (input {input_mb:.0f} MiB, output {output_mb:.0f} MiB)"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=100)
    parser.add_argument("--length", type=int, default=1000)
    parser.add_argument("--settings", default="efficient")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--peer-repeats", type=int, default=3)
    parser.add_argument("--rolling", action="store_true")
    parser.add_argument("--peers", default="tsfresh,tsfresh_rs", help="comma-separated")
    arguments = parser.parse_args(argv)
    if arguments.rolling:
        rolling(arguments.length if arguments.length != 1000 else 1_000_000, arguments.settings)
        return

    frame = make_data(arguments.series, arguments.length)
    print(
        f"{arguments.series} series x {arguments.length} points, {arguments.settings} preset, "
        f"{os.cpu_count()} cores, python {sys.version.split()[0]}"
    )
    ours = time_featurekit(frame, arguments.settings, arguments.repeats)
    print(
        f"featurekit  : median {ours['median']:.3f} s over {arguments.repeats} runs "
        f"(first call {ours['first']:.3f} s, import {ours['import']:.3f} s), "
        f"{ours['columns']} columns"
    )
    peers = time_peers(frame, arguments.settings, arguments.peer_repeats, arguments.peers)
    if peers is None:
        print("tsfresh venv not found; peers skipped")
        return
    for library, timing in peers.items():
        print(
            f"{library:<12}: median {timing['median']:.3f} s over {len(timing['runs'])} runs, "
            f"{timing['columns']} columns; featurekit is {timing['median'] / ours['median']:.1f}x faster"
        )


if __name__ == "__main__":
    main()
