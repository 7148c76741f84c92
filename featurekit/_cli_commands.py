"""What the ``featurekit`` commands do once their flags are parsed: ``demo``, ``dfs`` and
``extract`` read files, call the library and write the result atomically, with a step-level
progress bar. The library is imported inside each command, never at module import."""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SETTINGS = ("minimal", "efficient", "comprehensive")


class _Steps:
    """A step-level progress bar (tqdm on stderr, only when it is a terminal): ``step(what)``
    starts a step and counts the one before it as done."""

    def __init__(self, total: int, title: str, quiet: bool) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=total, desc=title, unit="step", file=sys.stderr,
                        disable=quiet or not sys.stderr.isatty(), leave=False)
        self.running = False

    def step(self, what: str) -> None:
        if self.running:
            self.bar.update()
        self.running = True
        self.bar.set_postfix_str(what, refresh=True)

    def close(self) -> None:
        self.bar.close()


@contextlib.contextmanager
def warnings_as_lines(command: str) -> Iterator[None]:
    """Warnings (orphan rows, ...) printed as one plain line each on stderr."""

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        print(f"featurekit {command}: warning: {one_line(str(message))}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


def write_parquet_atomically(frame: Any, path: Path) -> None:
    """Write a polars frame to ``path`` whole or not at all (see ``featurekit._atomic``)."""
    from featurekit._atomic import atomic_path

    with atomic_path(path) as temporary:
        frame.write_parquet(temporary)


def run_demo(customers: int, out: Path, target: str, max_depth: int, seed: int,
             save_tables: Path | None = None) -> dict:
    """Build the retail entity set, plan, compute and write the matrix; return a summary."""
    import featurekit as fk

    steps = ["load tables", "plan features", "compute matrix", "write parquet"]
    timings: dict[str, float] = {}
    progress = _Steps(len(steps) + (save_tables is not None), "featurekit demo",
                      quiet=customers < 10_000)
    try:
        progress.step("loading tables")
        started = time.perf_counter()
        entityset = fk.demo.load_retail(n_customers=customers, seed=seed, return_type="polars")
        timings["load"] = time.perf_counter() - started
        if save_tables is not None:
            progress.step("saving tables")
            _save_retail_tables(entityset, save_tables)
        progress.step("planning")
        started = time.perf_counter()
        features = fk.plan(entityset, target=target, max_depth=max_depth)
        timings["plan"] = time.perf_counter() - started
        progress.step(f"computing {len(features)} features")
        started = time.perf_counter()
        matrix = fk.compute(entityset, features, return_type="polars")
        timings["compute"] = time.perf_counter() - started
        progress.step("writing")
        write_parquet_atomically(matrix, out)
    finally:
        progress.close()
    return {"rows": matrix.height, "features": matrix.width - 1, "timings": timings,
            "out": out, "tables": {n: t.frame.height for n, t in entityset.tables.items()}}


def _save_retail_tables(entityset: Any, folder: Path) -> None:
    """The demo's tables as parquet files plus ``retail.json``, their description."""
    import json

    from featurekit._atomic import atomic_path
    from featurekit.demo import RETAIL_KEYS, RETAIL_RELATIONSHIPS
    from featurekit.demo_data import RETAIL_TYPES

    tables = {}
    for name, (index, time_index) in RETAIL_KEYS.items():
        write_parquet_atomically(entityset[name].frame, folder / f"{name}.parquet")
        tables[name] = {"path": f"{name}.parquet", "index": index, "time_index": time_index,
                        "types": dict(RETAIL_TYPES[name])}
    relationships = [f"{parent}.{parent_key} = {child}.{child_key}"
                     for parent, parent_key, child, child_key in RETAIL_RELATIONSHIPS]
    with atomic_path(folder / "retail.json") as temporary:
        temporary.write_text(json.dumps({"tables": tables, "relationships": relationships},
                                        indent=2) + "\n")


def demo(arguments: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if arguments.customers < 1:
        parser.error("--customers must be at least 1")
    summary = run_demo(arguments.customers, arguments.out, arguments.target,
                       arguments.max_depth, arguments.seed, arguments.save_tables)
    tables = ", ".join(f"{name} {rows:,}" for name, rows in summary["tables"].items())
    timings = summary["timings"]
    print(f"tables: {tables}")
    if arguments.save_tables is not None:
        print(f"tables written to {arguments.save_tables}/ (described in "
              f"{arguments.save_tables / 'retail.json'})")
    print(f"matrix: {summary['rows']:,} rows x {summary['features']} features -> {summary['out']}")
    print(f"seconds: load {timings['load']:.2f}, plan {timings['plan']:.3f}, "
          f"compute {timings['compute']:.3f}")
    return 0


def dfs(arguments: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from featurekit import _cli_description as spec

    description = spec.read_description(arguments.schema) if arguments.schema else None
    description = spec.combine(description, arguments.tables, arguments.relationships,
                               arguments.types)
    progress = _Steps(len(description.tables) + 5, "featurekit dfs", arguments.quiet)
    try:
        entityset = spec.build_entityset(description, strict=arguments.strict,
                                         on_step=progress.step)
        cutoff = arguments.cutoff_time
        if arguments.cutoff_times is not None:
            progress.step("reading cutoff times")
            cutoff = spec.read_table(arguments.cutoff_times, "cutoff_time",
                                         "the --cutoff-times file")
        progress.step("planning")
        from featurekit.dfs import plan

        features = plan(entityset, target=arguments.target, max_depth=arguments.max_depth,
                        agg_primitives=arguments.agg_primitives,
                        trans_primitives=arguments.trans_primitives,
                        include=arguments.include, exclude=arguments.exclude or (),
                        max_features=arguments.max_features)
        progress.step(f"computing {len(features)} features")
        from featurekit.engine import compute

        matrix = compute(entityset, features, return_type="polars", cutoff_time=cutoff,
                         training_window=arguments.training_window,
                         time_column=arguments.time_column)
        progress.step("writing")
        write_parquet_atomically(matrix, arguments.out)
        if arguments.save_features is not None:
            from featurekit.feature import save_features

            save_features(features, arguments.save_features)
    finally:
        progress.close()
    if not arguments.quiet:
        print(f"matrix: {matrix.height:,} rows x {len(features)} features -> {arguments.out}")
    return 0


def extract(arguments: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from featurekit import _cli_description as spec

    _distinct_columns(arguments)
    settings = _settings(arguments.settings)
    window = _window(arguments)
    progress = _Steps(3, "featurekit extract", arguments.quiet)
    try:
        progress.step(f"reading {arguments.input.name}")
        frame = spec.read_table(arguments.input, "time series", "the input file")
        progress.step("extracting")
        from featurekit.timeseries import extract

        result = extract(frame, column_id=arguments.id, column_sort=arguments.sort,
                         column_kind=arguments.kind, column_value=arguments.value,
                         settings=settings, window=window, duplicates=arguments.duplicates,
                         n_jobs=arguments.jobs)
        progress.step("writing")
        write_parquet_atomically(result, arguments.out)
    finally:
        progress.close()
    if not arguments.quiet:
        keys = 1 + (window is not None)
        print(f"features: {result.height:,} rows x {result.width - keys} features "
              f"-> {arguments.out}")
    return 0


def _distinct_columns(arguments: argparse.Namespace) -> None:
    """--id, --sort, --kind and --value name four different columns."""
    from featurekit._cli_description import UsageError

    roles = {"--id": arguments.id, "--sort": arguments.sort, "--kind": arguments.kind,
             "--value": arguments.value}
    named: dict[str, str] = {}
    for flag, column in roles.items():
        if column is None:
            continue
        if column in named:
            raise UsageError(f"{named[column]} and {flag} both name column {column!r}. "
                             "Fix: give each role its own column")
        named[column] = flag


def _settings(value: str) -> Any:
    """A preset name, or the calculators of a JSON settings file."""
    import json

    from featurekit._cli_description import UsageError

    if value in SETTINGS:
        return value
    path = Path(value)
    if path.suffix.lower() != ".json":
        raise UsageError(f"--settings {value!r} is neither a preset nor a .json file. "
                         f"Fix: use one of {', '.join(SETTINGS)} or a JSON settings file")
    try:
        settings = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UsageError(f"--settings: cannot read {value!r} as JSON ({one_line(str(error))}). "
                         "Fix: give a JSON object {calculator: [parameter objects] or null}"
                         ) from None
    if not isinstance(settings, dict):
        raise UsageError(f"--settings: {value!r} holds a {type(settings).__name__}, not an "
                         "object. Fix: write {\"mean\": null, \"quantile\": [{\"q\": 0.9}]}")
    return settings


def _window(arguments: argparse.Namespace) -> Any:
    """The window flags as a Rolling, Expanding or Tumbling window (None: whole series)."""
    from featurekit._cli_description import UsageError

    if arguments.tumbling is not None and arguments.step is not None:
        raise UsageError("--step does not apply to --tumbling windows (they never overlap). "
                         "Fix: drop --step, or use --rolling SIZE --step N")
    if arguments.step is not None and arguments.rolling is None and arguments.expanding is None:
        raise UsageError("--step needs a window. Fix: add --rolling SIZE or --expanding MIN_ROWS")
    step = 1 if arguments.step is None else arguments.step
    if arguments.rolling is None and arguments.expanding is None and arguments.tumbling is None:
        return None
    from featurekit.timeseries import Expanding, Rolling, Tumbling

    if arguments.rolling is not None:
        return Rolling(size=_size(arguments.rolling), step=step)
    if arguments.expanding is not None:
        return Expanding(min_size=arguments.expanding, step=step)
    return Tumbling(size=_size(arguments.tumbling))


def _size(text: str) -> int | str:
    """A window size: a row count ("100") or a duration ("7d")."""
    return int(text) if text.strip().lstrip("-").isdigit() else text


def one_line(text: str) -> str:
    return " ".join(text.split())


def serve(arguments: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from featurekit.deploy.app import serve as run

    for flag, value, least in (("--port", arguments.port, 0), ("--workers", arguments.workers, 1),
                               ("--max-rows", arguments.max_rows, 1),
                               ("--max-bytes", arguments.max_bytes, 1)):
        if value < least:
            parser.error(f"{flag} must be at least {least}")
    run(arguments.path, host=arguments.host, port=arguments.port, workers=arguments.workers,
        max_rows=arguments.max_rows, max_bytes=arguments.max_bytes)
    return 0


COMMANDS = {"demo": demo, "dfs": dfs, "extract": extract, "serve": serve}
