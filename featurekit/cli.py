"""The ``featurekit`` command: ``demo``, ``dfs`` and ``extract`` on parquet/CSV files, and
``primitives``. Parsing the command line imports nothing heavy, so ``--help`` and
``--version`` answer at once; each command imports what it needs when it runs."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from featurekit._cli_commands import COMMANDS, SETTINGS, one_line, warnings_as_lines
from featurekit._version import __version__

DESCRIPTION = "Automated feature engineering on relational and time-series data."
EPILOG = "Run 'featurekit COMMAND --help' for the options of a command."

DFS_DESCRIPTION = """\
Deep feature synthesis on your own tables: one row per row of the target table (or per row
of the cutoff times file), one column per feature, written to a parquet file.

Tables come from --table flags, from a description file (--schema), or both:

  --table NAME=PATH:index=COLUMN[:time_index=COLUMN]
  --relationship PARENT.KEY=CHILD.KEY   (CHILD's KEY refers to PARENT's index KEY)
  --type TABLE.COLUMN=TYPE              (a logical type: categorical, numeric, datetime, ...)

A description file is JSON (or YAML, with PyYAML installed); its paths are relative to the
file's folder:

  {"tables": {"customers": {"path": "customers.parquet", "index": "customer_id",
                            "time_index": "join_date", "types": {"zip_code": "categorical"}},
              "sessions": {"path": "sessions.csv", "index": "session_id",
                           "time_index": "session_start"}},
   "relationships": ["customers.customer_id = sessions.customer_id"]}

CSV columns get the types polars infers (dates included); parquet keeps its own."""

DFS_EPILOG = """\
examples:
  featurekit demo --customers 200 --save-tables retail
  featurekit dfs --schema retail/retail.json --target customers --out features.parquet
  featurekit dfs --table customers=customers.csv:index=customer_id \\
      --table orders=orders.csv:index=order_id:time_index=ordered_at \\
      --relationship customers.customer_id=orders.customer_id \\
      --target customers --cutoff-times cutoffs.csv --out features.parquet"""

EXTRACT_DESCRIPTION = """\
Time-series features (tsfresh's names and values) from a parquet/CSV file in long form: one
row per (id, time[, kind]) with the value in --value; without --kind and --value every
column other than --id and --sort is a series of its own. Output: one row per id, or with a
window one row per (id, window end), written to a parquet file."""

EXTRACT_EPILOG = """\
examples:
  featurekit extract readings.parquet --id sensor --sort time --kind channel --value reading \\
      --settings minimal --out sensor_features.parquet
  featurekit extract readings.csv --id sensor --sort time --value reading \\
      --rolling 100 --step 10 --out rolling.parquet"""

DUPLICATES = ("raise", "mean", "median", "sum", "min", "max", "first", "last")
EXIT_BAD_INPUT = 2  # as argparse exits on a usage error
EXIT_UNEXPECTED = 1


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Descriptions as written; every option with a value shows its default. Options whose
    default is "not given" (None) say what that means in their own help text."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if "(default" in (action.help or "") or action.default is None or action.required or isinstance(
                action, argparse._StoreTrueAction | argparse._VersionAction | argparse._HelpAction):
            return action.help or ""
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    """The whole command line; building it imports nothing beyond the standard library."""
    parser = argparse.ArgumentParser(prog="featurekit", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=_HelpFormatter)
    parser.add_argument("--version", action="version", version=f"featurekit {__version__}",
                        help="print featurekit's version and exit")
    parser.add_argument("--traceback", action="store_true",
                        help="on an unexpected error, show the whole traceback (default: one "
                             "line naming the error)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                     title="commands")
    _add_demo(commands)
    _add_dfs(commands)
    _add_extract(commands)
    _add_serve(commands)
    commands.add_parser("primitives", help="print the primitive reference (markdown)",
                        description="Print the reference table of every built-in primitive "
                                    "(markdown), as in docs/primitives.md.",
                        formatter_class=_HelpFormatter)
    return parser


def _add_demo(commands: Any) -> None:
    demo = commands.add_parser(
        "demo", help="deep feature synthesis on the embedded retail data",
        description="Deep feature synthesis on deterministic retail data (customers <- sessions\n"
                    "<- transactions -> products), written to a parquet file.",
        formatter_class=_HelpFormatter)
    demo.add_argument("--customers", type=int, default=1000, help="number of customers")
    demo.add_argument("--out", type=Path, default=Path("featurekit_demo_features.parquet"),
                      metavar="FILE",
                      help="where to write the feature matrix (parquet)")
    demo.add_argument("--target", default="customers",
                      choices=["customers", "sessions", "transactions", "products"],
                      help="the table to compute features for")
    demo.add_argument("--max-depth", type=int, default=2, help="how deep features stack")
    demo.add_argument("--seed", type=int, default=0, help="seed of the generated data")
    demo.add_argument("--save-tables", type=Path, metavar="FOLDER",
                      help="also write the four tables as parquet files and their description "
                           "retail.json into FOLDER, ready for 'featurekit dfs --schema' "
                           "(default: not written)")


def _add_dfs(commands: Any) -> None:
    from featurekit import _cli_description as spec

    dfs = commands.add_parser("dfs", help="deep feature synthesis on your own parquet/CSV tables",
                              description=DFS_DESCRIPTION, epilog=DFS_EPILOG,
                              formatter_class=_HelpFormatter)
    tables = dfs.add_argument_group("tables")
    tables.add_argument("--schema", type=Path, metavar="FILE",
                        help="a JSON or YAML description of tables and relationships "
                             "(default: none; tables come from --table)")
    tables.add_argument("--table", dest="tables", action="append", default=[],
                        type=_flag(spec.parse_table_flag), metavar="NAME=PATH:index=COL",
                        help="a table: its name, its parquet/CSV file, its index column and "
                             "optionally :time_index=COLUMN; repeat for each table "
                             "(default: none)")
    tables.add_argument("--relationship", dest="relationships", action="append", default=[],
                        type=_flag(spec.parse_relationship_flag), metavar="PARENT.KEY=CHILD.KEY",
                        help="a parent-child relationship; repeat for each (default: none)")
    tables.add_argument("--type", dest="types", action="append", default=[],
                        type=_flag(spec.parse_type_flag), metavar="TABLE.COLUMN=TYPE",
                        help="a logical type overriding the inferred one; repeat for each "
                             "(default: inferred)")
    tables.add_argument("--strict", action="store_true",
                        help="refuse child rows whose key matches no parent (default: warn "
                             "with their count)")
    features = dfs.add_argument_group("features")
    features.add_argument("--target", required=True,
                          help="the table to compute features for (required)")
    features.add_argument("--max-depth", type=int, default=2, help="how deep features stack")
    features.add_argument("--agg-primitives", type=_names, metavar="NAMES",
                          help="comma-separated aggregation primitives, e.g. count,mean,max; "
                               "an empty string for none (default: featurekit's default set, "
                               "see 'featurekit primitives')")
    features.add_argument("--trans-primitives", type=_names, metavar="NAMES",
                          help="comma-separated transform primitives, e.g. month,weekday; an "
                               "empty string for none (default: featurekit's default set)")
    features.add_argument("--include", type=_names, metavar="PATTERNS",
                          help="comma-separated glob patterns: keep only features whose name "
                               "matches one (default: keep all)")
    features.add_argument("--exclude", type=_names, metavar="PATTERNS",
                          help="comma-separated glob patterns: drop features whose name "
                               "matches one (default: drop none)")
    features.add_argument("--max-features", type=int, metavar="N",
                          help="keep the first N features, shallowest first (default: all)")
    cutoffs = dfs.add_argument_group("point in time")
    moment = cutoffs.add_mutually_exclusive_group()
    moment.add_argument("--cutoff-times", type=Path, metavar="FILE",
                        help="a parquet/CSV file with the target's index column and a time "
                             "column: each row is computed with only the data known at its "
                             "time; other columns (labels) are copied to the output "
                             "(default: none, all data counts)")
    moment.add_argument("--cutoff-time", metavar="TIME",
                        help="one cutoff for every row, e.g. 2020-06-01 (default: none)")
    cutoffs.add_argument("--time-column", default="time",
                         help="the time column of the --cutoff-times file")
    cutoffs.add_argument("--training-window", metavar="DURATION",
                         help="with a cutoff, count only rows newer than cutoff - DURATION, "
                              "e.g. 30d (default: no limit)")
    output = dfs.add_argument_group("output")
    output.add_argument("--out", type=Path, required=True, metavar="FILE",
                        help="the parquet file to write (required; replaced atomically)")
    output.add_argument("--save-features", type=Path, metavar="FILE",
                        help="also save the feature definitions as JSON, for fk.load_features "
                             "(default: not saved)")
    output.add_argument("--quiet", action="store_true",
                        help="no progress bar and no summary (default: a progress bar on a "
                             "terminal and a summary line)")


def _add_extract(commands: Any) -> None:
    extract = commands.add_parser("extract", help="time-series features from a parquet/CSV file",
                                  description=EXTRACT_DESCRIPTION, epilog=EXTRACT_EPILOG,
                                  formatter_class=_HelpFormatter)
    extract.add_argument("input", type=Path, metavar="INPUT",
                         help="the parquet/CSV file with the series")
    extract.add_argument("--id", required=True, help="the column naming each series (required)")
    extract.add_argument("--sort", help="the column that orders each series: times or numbers "
                                        "(default: the file's row order)")
    extract.add_argument("--kind", help="the column naming the kind of each value, for several "
                                        "series per id (default: one kind per value column)")
    extract.add_argument("--value", help="the value column (default: every column other than "
                                         "--id, --sort and --kind)")
    extract.add_argument("--settings", default="efficient", metavar="PRESET|FILE",
                         help=f"calculators to run: one of {', '.join(SETTINGS)}, or a JSON file "
                              "{calculator: [parameter objects] or null}")
    extract.add_argument("--duplicates", default="raise", choices=DUPLICATES,
                         help="what to do with repeated (id, sort) pairs: refuse, or aggregate "
                              "their values")
    windows = extract.add_argument_group("windows (default: the whole series)")
    window = windows.add_mutually_exclusive_group()
    window.add_argument("--rolling", metavar="SIZE",
                        help="rolling windows of SIZE rows, or of a duration such as 7d or 12h "
                             "over a datetime --sort (default: none)")
    window.add_argument("--expanding", type=int, metavar="MIN_ROWS",
                        help="windows from each series' start, at least MIN_ROWS long "
                             "(default: none)")
    window.add_argument("--tumbling", metavar="SIZE",
                        help="consecutive windows of SIZE rows or of a duration (default: none)")
    windows.add_argument("--step", type=int,
                         help="a rolling or expanding window ends every STEP rows (default: 1)")
    output = extract.add_argument_group("output")
    output.add_argument("--jobs", type=int,
                        help="threads for the kernel: 1 for one, -1 for all (default: all)")
    output.add_argument("--out", type=Path, required=True, metavar="FILE",
                        help="the parquet file to write (required; replaced atomically)")
    output.add_argument("--quiet", action="store_true",
                        help="no progress bar and no summary (default: a progress bar on a "
                             "terminal and a summary line)")


SERVE_DESCRIPTION = """\
Serve a pipeline saved with fk.deploy.save over HTTP (FastAPI on uvicorn; needs
pip install 'featurekit[serve]'): POST /features and POST /predict for instances held or sent
with their new rows, GET /health, GET /schema (what a request holds), OpenAPI pages at /docs.
The server holds the saved tables in memory and keeps the rows requests send."""

SERVE_EPILOG = """\
examples:
  featurekit serve churn_model --port 8000
  curl -s localhost:8000/predict -H 'content-type: application/json' \\
      -d '{"instances": [{"id": 3, "cutoff_time": "2024-03-01T00:00:00"}]}'"""


# featurekit.deploy.service's defaults, written here so that parsing imports nothing heavy
# (tests/deploy/test_cli_serve.py checks they agree)
MAX_ROWS, MAX_BYTES = 10_000, 5_000_000


def _add_serve(commands: Any) -> None:
    serve = commands.add_parser("serve", help="serve a saved pipeline's features and predictions "
                                              "over HTTP",
                                description=SERVE_DESCRIPTION, epilog=SERVE_EPILOG,
                                formatter_class=_HelpFormatter)
    serve.add_argument("path", type=Path, metavar="PATH",
                       help="the directory fk.deploy.save wrote")
    serve.add_argument("--host", default="127.0.0.1",
                       help="the address to listen on (0.0.0.0 for every interface)")
    serve.add_argument("--port", type=int, default=8000, help="the port to listen on")
    serve.add_argument("--workers", type=int, default=1,
                       help="worker processes; each holds its own copy of the tables, so rows a "
                            "request keeps are seen by its worker only")
    serve.add_argument("--max-rows", type=int, default=MAX_ROWS,
                       help="rows plus instances one request may send (more: 413)")
    serve.add_argument("--max-bytes", type=int, default=MAX_BYTES,
                       help="the largest request body in bytes (larger: 413)")


def _flag(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """An argparse type from a parser raising UsageError: argparse reports it as a usage error."""
    from featurekit._cli_description import UsageError

    def converted(text: str) -> Any:
        try:
            return parse(text)
        except UsageError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    converted.__name__ = parse.__name__
    return converted


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]




def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; bad input exits with code 2 and one line on stderr, an
    unexpected error with code 1 and one line (``--traceback`` shows it whole)."""
    parser = build_parser()
    arguments = parser.parse_args(argv)
    if arguments.command == "primitives":
        from featurekit.primitives import primitives_markdown

        print(primitives_markdown(), end="")
        return 0
    from featurekit.errors import FeaturekitError

    try:
        with warnings_as_lines(arguments.command):
            return COMMANDS[arguments.command](arguments, parser)
    except (FeaturekitError, OSError) as error:
        message = str(error) if isinstance(error, FeaturekitError) else _os_error(error)
        print(f"featurekit {arguments.command}: error: {one_line(message)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as error:
        if arguments.traceback:
            raise
        print(f"featurekit {arguments.command}: unexpected error: {type(error).__name__}: "
              f"{one_line(str(error))[:500]} (run 'featurekit --traceback {arguments.command} "
              "...' for the traceback, and please report it)", file=sys.stderr)
        return EXIT_UNEXPECTED


def _os_error(error: OSError) -> str:
    where = f" {str(error.filename)!r}" if error.filename else ""
    return f"cannot use{where}: {error.strerror or error}. Fix: check the path and its permissions"


if __name__ == "__main__":
    raise SystemExit(main())
