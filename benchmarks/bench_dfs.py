"""Speed and peak memory of deep feature synthesis: featurekit's ``fk.dfs`` beside Featuretools
1.31's ``ft.dfs`` on the very same retail tables, each measurement in a fresh child process.

    python benchmarks/bench_dfs.py                                 # 1,000 and 10,000 customers
    python benchmarks/bench_dfs.py --customers 100000 --peer-repeats 1
    python benchmarks/bench_dfs.py --customers 1000 --no-peer

This module is both the driver and featurekit's worker (``--worker``). Its top level imports
only the standard library, because the Featuretools worker (``ft_peer.py``) runs in another
interpreter without featurekit and borrows the measuring protocol from here
(:func:`measure_calls`). See benchmarks/README.md for what each column means.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
# An interpreter with featuretools 1.31: $FEATURETOOLS_PYTHON, else the first that exists.
_PEER_CANDIDATES = [os.environ.get("FEATURETOOLS_PYTHON", ""), "/work/venvs/ft/bin/python",
                    "/work/venv-ft/bin/python"]
DEFAULT_PEER_PYTHON = next((Path(path) for path in _PEER_CANDIDATES if path and Path(path).exists()),
                           Path("/work/venvs/ft/bin/python"))
RESULT_MARKER = "BENCH_RESULT "
MIB = 1024 * 1024
MEMORY_BUDGET_INPUT_FACTOR = 1.5  # issue 2: peak under 1.5 x input tables + output


# --- measuring protocol (standard library only; shared with ft_peer.py) ---------------------

def resident_bytes() -> int:
    """Current resident set size of this process (Linux /proc; 0 where unavailable)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def peak_resident_bytes() -> int:
    """RSS high-water mark of this process: ``getrusage(RUSAGE_SELF).ru_maxrss``."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB on Linux


def reset_peak_resident() -> bool:
    """Lower the high-water mark to the current RSS (Linux: ``echo 5 > /proc/self/clear_refs``),
    so that a later peak belongs to what ran after the reset. False where unsupported."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return peak_resident_bytes() <= resident_bytes() + 4 * MIB


def measure_calls(load: Callable[[], Any], call: Callable[[Any], Any],
                  describe: Callable[[Any, Any], dict], repeats: int) -> dict:
    """Load once, then time ``call(loaded)``: one cold first call, then ``repeats`` warm calls.

    Peak memory is an RSS high-water mark minus the RSS before the calls, so the loaded input
    tables are not counted. The cold peak is taken above the RSS right after loading and
    includes one-time costs (lazy imports, JIT compilation, thread pools); what the cold call
    leaves behind is ``retained_bytes``; the warm peak is taken above the RSS before the warm
    calls, i.e. one call's working memory. Where the mark cannot be reset, one mark covers
    loading and every call, above the RSS after loading.
    ``describe(loaded, result)`` summarises the cold call's result outside any timing.
    """
    gc.collect()
    resident_before_load = resident_bytes()
    loaded = load()
    gc.collect()
    can_reset = reset_peak_resident()
    resident_loaded = resident_bytes()  # read after the reset: the mark never starts below it
    started = time.perf_counter()
    result = call(loaded)
    cold_seconds = time.perf_counter() - started
    cold_peak = peak_resident_bytes() - resident_loaded
    summary = describe(loaded, result)
    result = None
    gc.collect()

    if can_reset:
        reset_peak_resident()
    resident_warm = resident_bytes()  # what the cold call left behind: lazy imports, JIT code
    seconds = []
    for _ in range(repeats):
        result = None  # free the previous matrix before computing the next
        gc.collect()
        started = time.perf_counter()
        result = call(loaded)
        seconds.append(time.perf_counter() - started)
    warm_peak = peak_resident_bytes() - (resident_warm if can_reset else resident_loaded)
    return {
        **summary,
        "cold_seconds": cold_seconds,
        "seconds": seconds,
        "median_seconds": statistics.median(seconds) if seconds else None,
        "cold_peak_bytes": cold_peak,
        "warm_peak_bytes": warm_peak,
        "retained_bytes": resident_warm - resident_loaded,
        "loaded_bytes": resident_loaded - resident_before_load,
        "peak_method": "per phase (clear_refs)" if can_reset else "whole process",
        "python": platform.python_version(),
    }


def emit(result: dict) -> None:
    """Hand a worker's result to the driver: one marked JSON line on stdout."""
    print(RESULT_MARKER + json.dumps(result), flush=True)


# --- featurekit worker ------------------------------------------------------------------------

def featurekit_worker(customers: int, target: str, repeats: int, seed: int) -> dict:
    import polars as pl

    import featurekit as fk

    def load():
        return fk.demo.load_retail(n_customers=customers, seed=seed)

    def call(entityset):
        return fk.dfs(entityset, target=target, max_depth=2)

    def describe(entityset, result):
        matrix, _ = result
        return {
            "tool": f"featurekit {fk.__version__} (polars {pl.__version__})",
            "table_rows": {name: table.frame.height for name, table in entityset.tables.items()},
            "input_bytes": sum(table.frame.estimated_size() for table in entityset.tables.values()),
            "output_bytes": pl.from_pandas(matrix.reset_index()).estimated_size(),
            "output_rows": len(matrix),
            "columns": [str(column) for column in matrix.columns],
        }

    return measure_calls(load, call, describe, repeats)


# --- driver -----------------------------------------------------------------------------------

def run_child(command: list[str]) -> dict:
    """Run one measurement in a fresh interpreter and read back its marked result."""
    process = subprocess.run(command, capture_output=True, text=True, cwd=HERE)
    for line in reversed(process.stdout.splitlines()):
        if line.startswith(RESULT_MARKER):
            return json.loads(line[len(RESULT_MARKER):])
    text = re.sub(r"\x1b\[[0-9;]*m", "", process.stderr or process.stdout)  # colour codes
    tail = "\n".join([line for line in text.splitlines() if line.strip()][-8:])
    return {"error": f"exit status {process.returncode}: {tail}"}


def peer_available(peer_python: Path | None) -> tuple[bool, str]:
    if peer_python is None:
        return False, "Featuretools peer skipped (--no-peer)."
    if not peer_python.exists():
        return False, (f"Featuretools peer skipped: {peer_python} does not exist. "
                       "Pass --peer-python PATH to an interpreter with featuretools 1.31.")
    probe = subprocess.run([str(peer_python), "-c", "import featuretools"], capture_output=True,
                           text=True)
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["?"])[-1]
        return False, f"Featuretools peer skipped: {peer_python} cannot import featuretools ({last})."
    return True, ""


def source_version() -> str:
    """The featurekit commit measured (of the checkout the imported package comes from, which
    may not be this script's), and whether its code had uncommitted changes."""
    import featurekit

    repository = Path(featurekit.__file__).resolve().parents[1]
    try:
        commit = subprocess.run(["git", "-C", str(repository), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, check=True).stdout.strip()
        changed = subprocess.run(["git", "-C", str(repository), "status", "--porcelain", "--",
                                  "featurekit", "primitives"],
                                 capture_output=True, text=True, check=True).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return "featurekit source: not a git checkout"
    state = f"{len(changed)} uncommitted file(s) in featurekit/ and primitives/" if changed else "clean"
    return f"featurekit source: commit {commit}, {state}"


def mib(value: float | None) -> str:
    return "-" if value is None else f"{value / MIB:.1f}"


def seconds_text(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def column_check(ours: dict, peer: dict | None) -> tuple[str, list[str]]:
    """Feature column counts, ``82/82 same`` when both produce the same names."""
    if "error" in ours:
        return ("-" if peer is None or "error" in peer else f"-/{len(peer['columns'])}"), []
    if peer is None or "error" in peer:
        return str(len(ours["columns"])), []
    mine, theirs = set(ours["columns"]), set(peer["columns"])
    text = f"{len(mine)}/{len(theirs)}"
    if mine == theirs and len(ours["columns"]) == len(peer["columns"]):
        return text + " same", []
    problems = [f"only featurekit: {name}" for name in sorted(mine - theirs)]
    problems += [f"only Featuretools: {name}" for name in sorted(theirs - mine)]
    return text + " DIFFER", problems or ["same names, different column counts (duplicates)"]


def print_report(rows: list[dict], args: argparse.Namespace, peer_note: str) -> bool:
    """Print the two compact tables; return True when every check passed."""
    first = next((row["ours"] for row in rows if "error" not in row["ours"]), {})
    peer_tool = next((row["peer"]["tool"] for row in rows
                      if row["peer"] and "error" not in row["peer"]), None)
    print(f"\n{first.get('tool', 'featurekit')} vs {peer_tool or 'no peer'}; python "
          f"{first.get('python', '?')}; {os.cpu_count()} cores; seed {args.seed}; max_depth 2, "
          f"default primitives")
    source_now = source_version()
    print(args.source_at_start if source_now == args.source_at_start else
          f"{args.source_at_start} at the start; CHANGED during the run to: {source_now}")
    load_now = os.getloadavg()[0]
    print(f"load average (1 min) at start {args.load_at_start:.2f}, at end {load_now:.2f}: other "
          "work on the machine slows both sides")
    peer_runs = (f"; Featuretools (n_jobs=1): cold first call + median of {args.peer_repeats}"
                 if peer_tool else "")
    print(f"featurekit: cold first call + median of {args.repeats}{peer_runs}. Times in seconds.")
    if peer_note:
        print(peer_note)

    ok = True
    notes = []
    header = (f"{'customers':>9} {'target':<9} {'rows':>8} {'features':>12} {'fk cold':>8} "
              f"{'fk med':>8} {'ft cold':>8} {'ft med':>8} {'fk/ft':>7} {'speedup':>8}")
    print("\nTime\n" + header + "\n" + "-" * len(header))
    for row in rows:
        ours, peer = row["ours"], row["peer"]
        where = f"{row['customers']} {row['target']}"
        ours_ok = "error" not in ours
        peer_ok = peer is not None and "error" not in peer
        if not ours_ok:
            notes.append(f"featurekit {where}: {ours['error']}")
        if peer is not None and not peer_ok:
            notes.append(f"Featuretools {where}: {peer['error']}")
        ok = ok and ours_ok and (peer is None or peer_ok)
        features, problems = column_check(ours, peer)
        notes += [f"{where}: {problem}" for problem in problems[:10]]
        if ours_ok and peer_ok and peer["table_rows"] != ours["table_rows"]:
            problems.append("rows")
            notes.append(f"{where}: table rows differ {ours['table_rows']} vs {peer['table_rows']}")
        ok = ok and not problems
        ratio = speedup = "-"
        if ours_ok and peer_ok and peer["median_seconds"] and ours["median_seconds"]:
            ratio = f"{ours['median_seconds'] / peer['median_seconds']:.4f}"
            speedup = f"{peer['median_seconds'] / ours['median_seconds']:.1f}x"
        source = ours if ours_ok else peer if peer_ok else {}
        fk_cold, fk_median = ((seconds_text(ours["cold_seconds"]), seconds_text(ours["median_seconds"]))
                              if ours_ok else ("failed", "failed"))
        ft_cold, ft_median = ((seconds_text(peer["cold_seconds"]), seconds_text(peer["median_seconds"]))
                              if peer_ok else ("-", "-") if peer is None else ("failed", "failed"))
        print(f"{row['customers']:>9} {row['target']:<9} {source.get('output_rows', '-'):>8} "
              f"{features:>12} {fk_cold:>8} {fk_median:>8} {ft_cold:>8} {ft_median:>8} "
              f"{ratio:>7} {speedup:>8}")

    header = (f"{'customers':>9} {'target':<9} {'input':>7} {'output':>7} {'fk cold':>8} "
              f"{'fk kept':>8} {'fk warm':>8} {'bud cold':>8} {'bud warm':>8} {'ft input':>8} "
              f"{'ft out':>7} {'ft cold':>8} {'ft warm':>8}")
    print("\nMemory, MiB (input/output: in-memory size of the tables and the matrix; cold: peak "
          "RSS of the\nfirst call above the loaded tables; kept: RSS the first call left behind; "
          "warm: peak RSS of a later call)\n" + header + "\n" + "-" * len(header))
    for row in rows:
        ours, peer = row["ours"], row["peer"]
        mine = ["failed"] + ["-"] * 6
        if "error" not in ours:
            allowed = MEMORY_BUDGET_INPUT_FACTOR * ours["input_bytes"] + ours["output_bytes"]
            mine = [mib(ours[key]) for key in ("input_bytes", "output_bytes", "cold_peak_bytes",
                                               "retained_bytes", "warm_peak_bytes")]
            mine += [f"{(ours['input_bytes'] + ours[key]) / allowed:.2f}"
                     for key in ("cold_peak_bytes", "warm_peak_bytes")]
        theirs = ["-"] * 4
        if peer is not None and "error" not in peer:
            theirs = [mib(peer["input_bytes"]), mib(peer["output_bytes"]),
                      mib(peer["cold_peak_bytes"]), mib(peer["warm_peak_bytes"])]
        widths = (7, 7, 8, 8, 8, 8, 8, 8, 7, 8, 8)
        cells = " ".join(f"{text:>{width}}" for text, width in zip(mine + theirs, widths, strict=True))
        print(f"{row['customers']:>9} {row['target']:<9} {cells}")
    print(f"bud = (input + peak) / ({MEMORY_BUDGET_INPUT_FACTOR} x input + output): at most 1.00 "
          f"meets issue 2's memory target. Peaks measured {first.get('peak_method', '?')}.")
    if notes:
        print("\nProblems:")
        for note in notes:
            print("  " + note)
    return ok


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, nargs="+", default=[1_000, 10_000],
                        help="retail sizes in customers (default: 1000 10000)")
    parser.add_argument("--targets", nargs="+", default=["customers", "sessions"],
                        help="target tables (default: customers sessions)")
    parser.add_argument("--repeats", type=int, default=5,
                        help="featurekit timed runs after the cold call (default 5)")
    parser.add_argument("--peer-repeats", type=int, default=3,
                        help="Featuretools timed runs after the cold call (default 3)")
    parser.add_argument("--peer-python", type=Path,
                        default=DEFAULT_PEER_PYTHON,
                        help=f"interpreter with featuretools 1.31 (default: {DEFAULT_PEER_PYTHON} "
                             "if it exists)")
    parser.add_argument("--no-peer", action="store_true", help="measure featurekit only")
    parser.add_argument("--seed", type=int, default=0, help="seed of the retail tables (default 0)")
    parser.add_argument("--json", type=Path, help="also write every measurement to this file")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.peer_repeats < 1:
        parser.error("--repeats and --peer-repeats must be at least 1")
    if min(args.customers) < 1:
        parser.error("--customers must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        emit(featurekit_worker(args.customers[0], args.targets[0], args.repeats, args.seed))
        return 0

    args.load_at_start = os.getloadavg()[0]
    args.source_at_start = source_version()
    peer_python = None if args.no_peer else args.peer_python
    use_peer, peer_note = peer_available(peer_python)
    if peer_note:
        print(peer_note, file=sys.stderr)
    rows = []
    for customers in args.customers:
        for target in args.targets:
            common = ["--customers", str(customers), "--targets", target, "--seed", str(args.seed)]
            print(f"featurekit  {customers} customers, target {target} ...", file=sys.stderr,
                  flush=True)
            ours = run_child([sys.executable, str(HERE / "bench_dfs.py"), "--worker",
                              "--repeats", str(args.repeats), *common])
            peer = None
            if use_peer:
                print(f"Featuretools {customers} customers, target {target} ...", file=sys.stderr,
                      flush=True)
                peer = run_child([str(peer_python), str(HERE / "ft_peer.py"),
                                  "--repeats", str(args.peer_repeats), *common])
            rows.append({"customers": customers, "target": target, "ours": ours, "peer": peer})
    ok = print_report(rows, args, peer_note)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
