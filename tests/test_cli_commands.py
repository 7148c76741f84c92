"""``featurekit dfs`` and ``featurekit extract`` on parquet and CSV files written here give the
same matrix as the Python calls on the same data; bad files and flags end with one line on
stderr and exit code 2; ``--help`` answers without the numeric stack and documents defaults."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import featurekit as fk
from featurekit.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("numpy", "polars", "pandas", "numba", "pyarrow", "sklearn", "scipy")


def retail(seed: int = 3) -> dict[str, pd.DataFrame]:
    """Two related tables with a datetime, a category, a missing value and a parentless order."""
    rng = np.random.default_rng(seed)
    customers = pd.DataFrame({
        "customer_id": np.arange(1, 7),
        "signed_up": pd.to_datetime("2021-01-01") + pd.to_timedelta(rng.integers(0, 90, 6), "D"),
        "region": rng.choice(["north", "south", "east"], 6),
        "age": [31.0, np.nan, 45.0, 22.0, 38.0, 50.0],
    })
    orders = pd.DataFrame({
        "order_id": np.arange(100, 140),
        "customer_id": rng.integers(1, 6, 40),  # customer 6 has no orders
        "ordered_at": pd.to_datetime("2021-04-01") + pd.to_timedelta(rng.integers(0, 2000, 40), "h"),
        "amount": rng.gamma(2.0, 30.0, 40).round(2),
        "channel": rng.choice(["web", "shop"], 40),
    })
    return {"customers": customers, "orders": orders}


TABLE_FLAGS = ["--table", "customers={customers}:index=customer_id:time_index=signed_up",
               "--table", "orders={orders}:index=order_id:time_index=ordered_at",
               "--relationship", "customers.customer_id=orders.customer_id",
               "--type", "customers.region=categorical", "--type", "orders.channel=categorical"]


def write_tables(folder: Path, suffix: str) -> dict[str, Path]:
    paths = {}
    for name, frame in retail().items():
        paths[name] = folder / f"{name}.{suffix}"
        frame.to_parquet(paths[name]) if suffix == "parquet" else frame.to_csv(paths[name], index=False)
    return paths


def python_entityset(tables: dict) -> fk.EntitySet:
    """The same entity set built in Python, without the command line's code."""
    es = fk.EntitySet("shop")
    es.add_table("customers", tables["customers"], index="customer_id", time_index="signed_up",
                 types={"region": "categorical"})
    es.add_table("orders", tables["orders"], index="order_id", time_index="ordered_at",
                 types={"channel": "categorical"})
    es.add_relationship(parent="customers", parent_key="customer_id", child="orders",
                        child_key="customer_id")
    return es


def flags(paths: dict[str, Path]) -> list[str]:
    return [flag.format(**paths) for flag in TABLE_FLAGS]


def run(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The real command in a new process (``python -m featurekit``)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "featurekit", *argv], capture_output=True,
                          text=True, env=env, cwd=cwd)


# -- dfs --------------------------------------------------------------------------------------


def test_dfs_on_parquet_tables_matches_fk_dfs(tmp_path):
    paths = write_tables(tmp_path, "parquet")
    out = tmp_path / "out" / "features.parquet"
    done = run("dfs", *flags(paths), "--target", "customers", "--out", str(out))
    assert done.returncode == 0, done.stderr
    expected, features = fk.dfs(python_entityset(retail()), target="customers", max_depth=2,
                                return_type="polars")
    assert f"6 rows x {len(features)} features" in done.stdout
    assert_frame_equal(pl.read_parquet(out), expected)
    assert "MEAN(orders.amount)" in expected.columns  # the comparison covers real aggregates
    means = retail()["orders"].groupby("customer_id")["amount"].mean()
    got = pl.read_parquet(out).select("customer_id", "MEAN(orders.amount)").to_pandas()
    assert np.allclose(got.set_index("customer_id")["MEAN(orders.amount)"].reindex(means.index),
                       means)


def test_dfs_on_csv_tables_matches_fk_dfs_on_the_same_files(tmp_path, capsys):
    paths = write_tables(tmp_path, "csv")
    out = tmp_path / "features.parquet"
    argv = ["dfs", *flags(paths), "--target", "customers", "--max-depth", "1",
            "--agg-primitives", "count,sum,mean,mode", "--trans-primitives", "month,weekday",
            "--out", str(out)]
    assert main(argv) == 0
    es = python_entityset({name: str(path) for name, path in paths.items()})
    expected, _ = fk.dfs(es, target="customers", max_depth=1, return_type="polars",
                         agg_primitives=["count", "sum", "mean", "mode"],
                         trans_primitives=["month", "weekday"])
    assert_frame_equal(pl.read_parquet(out), expected)
    assert "MODE(orders.channel)" in expected.columns and "MONTH(signed_up)" in expected.columns


def test_dfs_with_a_cutoff_times_file_matches_fk_compute(tmp_path, capsys):
    paths = write_tables(tmp_path, "parquet")
    cutoffs = pd.DataFrame({"customer_id": [1, 2, 2, 5],
                            "time": pd.to_datetime(["2021-05-01", "2021-05-01", "2021-07-01",
                                                    "2021-06-15"]),
                            "churned": [True, False, True, False]})
    cutoffs.to_csv(tmp_path / "cutoffs.csv", index=False)
    out = tmp_path / "features.parquet"
    assert main(["dfs", *flags(paths), "--target", "customers", "--cutoff-times",
                 str(tmp_path / "cutoffs.csv"), "--training-window", "40d",
                 "--save-features", str(tmp_path / "features.json"), "--out", str(out)]) == 0
    es = python_entityset(retail())
    features = fk.load_features(tmp_path / "features.json")
    expected = fk.compute(es, features, cutoff_time=pl.read_csv(tmp_path / "cutoffs.csv",
                                                                try_parse_dates=True),
                          training_window="40d", return_type="polars")
    written = pl.read_parquet(out)
    assert_frame_equal(written, expected)
    assert written["churned"].to_list() == [True, False, True, False]  # labels pass through
    # an order after its row's cutoff never counts: recount by hand
    orders = retail()["orders"]
    for row in cutoffs.itertuples():
        known = orders[(orders.customer_id == row.customer_id) & (orders.ordered_at <= row.time)
                       & (orders.ordered_at > row.time - pd.Timedelta("40D"))]
        got = written.filter((pl.col("customer_id") == row.customer_id)
                             & (pl.col("time") == row.time))["COUNT(orders)"].item()
        assert got == len(known)


def test_dfs_from_a_json_description_equals_dfs_from_flags(tmp_path, capsys):
    paths = write_tables(tmp_path, "parquet")
    (tmp_path / "data").mkdir()
    description = {
        "tables": {
            "customers": {"path": "../customers.parquet", "index": "customer_id",
                          "time_index": "signed_up", "types": {"region": "categorical"}},
            "orders": {"path": str(paths["orders"]), "index": "order_id",
                       "time_index": "ordered_at", "types": {"channel": "categorical"}},
        },
        "relationships": [{"parent": "customers", "parent_key": "customer_id",
                           "child": "orders", "child_key": "customer_id"}],
    }
    schema = tmp_path / "data" / "shop.json"  # relative paths are read from the file's folder
    schema.write_text(json.dumps(description))
    assert main(["dfs", "--schema", str(schema), "--target", "orders",
                 "--out", str(tmp_path / "a.parquet")]) == 0
    assert main(["dfs", *flags(paths), "--target", "orders",
                 "--out", str(tmp_path / "b.parquet")]) == 0
    expected, _ = fk.dfs(python_entityset(retail()), target="orders", return_type="polars")
    assert_frame_equal(pl.read_parquet(tmp_path / "a.parquet"), expected)
    assert_frame_equal(pl.read_parquet(tmp_path / "b.parquet"), expected)


def test_dfs_from_a_yaml_description(tmp_path, capsys):
    paths = write_tables(tmp_path, "parquet")
    (tmp_path / "shop.yaml").write_text(
        "tables:\n"
        "  customers: {path: customers.parquet, index: customer_id, time_index: signed_up,\n"
        "              types: {region: categorical}}\n"
        "  orders:\n"
        "    path: orders.parquet\n    index: order_id\n    time_index: ordered_at\n"
        "    types: {channel: categorical}\n"
        "relationships:\n  - customers.customer_id = orders.customer_id\n")
    assert main(["dfs", "--schema", str(tmp_path / "shop.yaml"), "--target", "customers",
                 "--out", str(tmp_path / "m.parquet")]) == 0
    expected, _ = fk.dfs(python_entityset(retail()), target="customers", return_type="polars")
    assert_frame_equal(pl.read_parquet(tmp_path / "m.parquet"), expected)
    assert paths  # the tables the description names


def test_yaml_without_pyyaml_says_to_install_it_or_use_json(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "yaml", None)  # import yaml now raises ImportError
    (tmp_path / "shop.yml").write_text("tables: {}\n")
    assert main(["dfs", "--schema", str(tmp_path / "shop.yml"), "--target", "customers",
                 "--out", str(tmp_path / "m.parquet")]) == 2
    error = capsys.readouterr().err
    assert "PyYAML" in error and "pip install pyyaml" in error and "JSON" in error


def test_orphan_rows_are_a_warning_line_or_an_error_with_strict(tmp_path, capsys):
    paths = write_tables(tmp_path, "parquet")
    orders = retail()["orders"]
    orders.loc[:2, "customer_id"] = 99
    orders.to_parquet(paths["orders"])
    argv = ["dfs", *flags(paths), "--target", "customers", "--out", str(tmp_path / "m.parquet")]
    assert main(argv) == 0
    error = capsys.readouterr().err
    assert error.startswith("featurekit dfs: warning: ") and "3" in error
    assert len(error.strip().splitlines()) == 1
    assert main([*argv[:-2], "--strict", "--out", str(tmp_path / "n.parquet")]) == 2
    assert capsys.readouterr().err.startswith("featurekit dfs: error: ")
    assert not (tmp_path / "n.parquet").exists()


# -- extract ----------------------------------------------------------------------------------


def series(seed: int = 5) -> pd.DataFrame:
    """Long form: ids x kinds x times, values without missing ones."""
    rng = np.random.default_rng(seed)
    rows = [(sensor, kind, step, float(rng.normal(10 * (kind == "heat"), 1)))
            for sensor in ("a", "b", "c") for kind in ("heat", "hum") for step in range(12)]
    frame = pd.DataFrame(rows, columns=["sensor", "channel", "step", "reading"])
    return frame.sample(frac=1.0, random_state=1).reset_index(drop=True)  # unsorted on disk


@pytest.mark.parametrize("suffix", ["parquet", "csv"])
def test_extract_matches_fk_timeseries_extract(tmp_path, suffix):
    frame = series()
    source = tmp_path / f"series.{suffix}"
    frame.to_parquet(source) if suffix == "parquet" else frame.to_csv(source, index=False)
    out = tmp_path / "features.parquet"
    done = run("extract", str(source), "--id", "sensor", "--sort", "step", "--kind", "channel",
               "--value", "reading", "--settings", "minimal", "--out", str(out))
    assert done.returncode == 0, done.stderr
    expected = fk.timeseries.extract(frame, column_id="sensor", column_sort="step",
                                     column_kind="channel", column_value="reading",
                                     settings="minimal")
    written = pl.read_parquet(out).to_pandas().set_index("sensor")
    pd.testing.assert_frame_equal(written, expected, check_names=False, check_index_type=False)
    # an independent oracle for two columns
    by_hand = frame[frame.channel == "heat"].groupby("sensor")["reading"]
    assert np.allclose(written["heat__mean"], by_hand.mean().loc[written.index])
    assert np.allclose(written["heat__maximum"], by_hand.max().loc[written.index])


def test_extract_with_rolling_windows_and_a_settings_file(tmp_path, capsys):
    frame = series()
    frame.to_parquet(tmp_path / "series.parquet")
    (tmp_path / "settings.json").write_text(json.dumps({"mean": None, "quantile": [{"q": 0.9}]}))
    out = tmp_path / "rolling.parquet"
    assert main(["extract", str(tmp_path / "series.parquet"), "--id", "sensor", "--sort", "step",
                 "--kind", "channel", "--value", "reading", "--settings",
                 str(tmp_path / "settings.json"), "--rolling", "4", "--step", "3",
                 "--out", str(out)]) == 0
    expected = fk.timeseries.extract(pl.from_pandas(frame), column_id="sensor", column_sort="step",
                                     column_kind="channel", column_value="reading",
                                     settings={"mean": None, "quantile": [{"q": 0.9}]},
                                     window=fk.Rolling(size=4, step=3))
    written = pl.read_parquet(out)
    assert_frame_equal(written, expected)
    # windows of 4 rows ending every 3 rows: steps 3, 6, 9 per sensor; check one mean by hand
    assert written.filter(pl.col("sensor") == "b")["step"].to_list() == [3, 6, 9]
    heat_b = frame[(frame.sensor == "b") & (frame.channel == "heat")].sort_values("step")
    window_mean = heat_b[heat_b.step.between(3, 6)]["reading"].mean()
    got = written.filter((pl.col("sensor") == "b") & (pl.col("step") == 6))["heat__mean"].item()
    assert got == pytest.approx(window_mean)


# -- bad input --------------------------------------------------------------------------------


def bad_cases(tmp_path: Path) -> list[tuple[list[str], str]]:
    paths = write_tables(tmp_path, "parquet")
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 not really")
    (tmp_path / "broken.json").write_text('{"tables": {"customers": ')
    (tmp_path / "typo.json").write_text(json.dumps(
        {"tables": {"customers": {"path": str(paths["customers"]), "indx": "customer_id"}}}))
    (tmp_path / "list.json").write_text("[1, 2]")
    (tmp_path / "settings.json").write_text("[]")
    good = flags(paths)
    out = ["--out", str(tmp_path / "never.parquet")]
    series().to_parquet(tmp_path / "series.parquet")
    extract = ["extract", str(tmp_path / "series.parquet"), "--id", "sensor", "--sort", "step",
               "--kind", "channel", "--value", "reading", *out]
    return [
        (["dfs", "--target", "customers", *out], "no tables given"),
        (["dfs", "--table", "customers", "--target", "customers", *out], "NAME=PATH:index=COLUMN"),
        (["dfs", "--table", "customers=customers.parquet", "--target", "customers", *out],
         ":index=COLUMN"),
        (["dfs", "--table", f"c={tmp_path}/none.parquet:index=id", "--target", "c", *out],
         "does not exist"),
        (["dfs", "--table", f"c={tmp_path / 'broken.parquet'}:index=id", "--target", "c", *out],
         "cannot be read"),
        (["dfs", "--table", f"c={tmp_path}:index=id", "--target", "c", *out], "is a folder"),
        (["dfs", "--table", f"c={tmp_path / 'x.xlsx'}:index=id", "--target", "c", *out],
         "x.xlsx"),
        (["dfs", *good, "--target", "nowhere", *out], "'nowhere' is not a table"),
        (["dfs", *good, "--relationship", "customers.customer_id", "--target", "customers", *out],
         "PARENT.KEY=CHILD.KEY"),
        (["dfs", *good, "--type", "shops.x=numeric", "--target", "customers", *out],
         "'shops'"),
        (["dfs", *good, "--target", "customers", "--agg-primitives", "meen", *out], "'meen'"),
        (["dfs", *good, "--target", "customers", "--max-depth", "two", *out], "--max-depth"),
        (["dfs", *good, "--target", "customers", "--cutoff-time", "whenever", *out], "whenever"),
        (["dfs", *good, "--target", "customers", "--cutoff-times",
          str(tmp_path / "missing.csv"), *out], "missing.csv"),
        (["dfs", "--schema", str(tmp_path / "nothing.json"), "--target", "c", *out],
         "nothing.json"),
        (["dfs", "--schema", str(tmp_path / "broken.json"), "--target", "c", *out],
         "not valid JSON"),
        (["dfs", "--schema", str(tmp_path / "typo.json"), "--target", "c", *out], "'indx'"),
        (["dfs", "--schema", str(tmp_path / "list.json"), "--target", "c", *out], '"tables"'),
        (["dfs", *good, *good[:2], "--target", "customers", *out], "given twice"),
        (["dfs", *good, "--target", "customers", "--out", str(tmp_path)], "folder"),
        (["extract", str(tmp_path / "nothing.csv"), "--id", "a", *out], "does not exist"),
        ([*extract, "--settings", "fancy"], "'fancy'"),
        ([*extract, "--settings", str(tmp_path / "settings.json")], "not an object"),
        ([*extract, "--tumbling", "3", "--step", "2"], "--step"),
        ([*extract, "--step", "2"], "--step needs a window"),
        ([*extract, "--rolling", "0"], "size"),
        ([*extract, "--rolling", "3", "--expanding", "2"], "not allowed with"),
        ([*extract[:-6], "--value", "nope", *out], "'nope'"),
        ([*extract[:2], "--id", "sensor", "--sort", "sensor", *extract[6:]], "sensor"),
    ]


def test_bad_files_and_flags_exit_2_with_one_line(tmp_path, capsys):
    for argv, expected in bad_cases(tmp_path):
        try:
            code = main(argv)
        except SystemExit as stop:  # argparse's own usage errors
            code = stop.code
        error = capsys.readouterr().err
        last = error.strip().splitlines()[-1] if error.strip() else ""
        assert code == 2, (argv, error)
        assert "Traceback" not in error, argv
        assert re.match(r"featurekit( (dfs|extract))?: error: ", last), (argv, error)
        assert expected in last, (argv, last)
        if not last.startswith("featurekit: error: argument") and "usage:" not in error:
            assert len(error.strip().splitlines()) == 1, (argv, error)
        assert not (tmp_path / "never.parquet").exists()
        assert not [p for p in tmp_path.glob(".*.tmp")]


def test_bad_input_in_a_real_process_has_no_traceback(tmp_path):
    (tmp_path / "broken.csv").write_bytes(b"\xff\xfe\x00garbage\n\x00,,\n")
    done = run("dfs", "--table", f"t={tmp_path / 'broken.csv'}:index=id", "--target", "t",
               "--out", str(tmp_path / "m.parquet"))
    assert done.returncode == 2
    assert done.stderr.startswith("featurekit dfs: error: ") and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


# -- help and version -------------------------------------------------------------------------


def test_help_and_version_answer_without_the_numeric_stack():
    code = f"""
import contextlib, io, json, sys
from featurekit.cli import main
texts = {{}}
for argv in (["--help"], ["--version"], ["demo", "--help"], ["dfs", "--help"],
             ["extract", "--help"], ["primitives", "--help"]):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            main(argv)
        except SystemExit as stop:
            assert stop.code == 0, argv
    texts[" ".join(argv)] = out.getvalue()
print(json.dumps({{"heavy": [m for m in {HEAVY!r} if m in sys.modules], "texts": texts}}))
"""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True,
                                       text=True, check=True, env=env).stdout)
    assert result["heavy"] == []
    texts = result["texts"]
    from featurekit._version import __version__

    assert texts["--version"].strip() == f"featurekit {__version__}"
    for argv, text in texts.items():
        assert "`" not in text, argv  # no reStructuredText markup
        assert "usage: featurekit" in text or argv == "--version"
    assert "--save-tables" in texts["demo --help"] and "--cutoff-times" in texts["dfs --help"]


def test_every_option_says_its_default_or_that_it_is_required():
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, type(parser._subparsers._group_actions[0])))
    checked = 0
    for name, command in [("featurekit", parser), *commands.choices.items()]:
        formatter = command._get_formatter()
        for action in command._actions:
            if not action.option_strings or action.dest in ("help", "version"):
                continue
            text = formatter._expand_help(action) if action.help else ""
            assert "(default" in text or "required" in text, (name, action.option_strings, text)
            checked += 1
    assert checked > 30


def test_the_top_level_help_lists_every_command(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    for command in ("demo", "dfs", "extract", "primitives"):
        assert re.search(rf"^\s+{command}\b", text, re.MULTILINE), command


# -- README -----------------------------------------------------------------------------------


def readme_commands() -> list[str]:
    """The shell commands of README's "Command line" section, continuation lines joined."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Command line", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, re.DOTALL)
    assert blocks, "README's Command line section has no bash block"
    joined = "\n".join(blocks).replace("\\\n", " ")
    return [line.strip() for line in joined.splitlines() if line.strip() and not line.startswith("#")]


def test_readme_command_line_examples_run_as_written(tmp_path):
    commands = readme_commands()
    assert any(c.startswith("featurekit dfs") for c in commands)
    assert any(c.startswith("featurekit extract") for c in commands)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    for command in commands:
        if command.startswith("featurekit "):
            command = f"{sys.executable} -m featurekit {command[len('featurekit '):]}"
        elif command.startswith("python "):
            command = f"{sys.executable} {command[len('python '):]}"
        done = subprocess.run(command, shell=True, cwd=tmp_path, env=env, capture_output=True,
                              text=True)
        assert done.returncode == 0, (command, done.stderr)
    outputs = [p for p in tmp_path.iterdir() if p.suffix == ".parquet"]
    assert outputs and all(pl.read_parquet(p).height > 0 for p in outputs)


def test_an_unexpected_error_is_one_line_with_exit_1_unless_traceback_is_asked(
        tmp_path, monkeypatch, capsys):
    from featurekit import cli

    def broken(arguments, parser):
        raise RuntimeError("kernel fell over\nsecond line")

    monkeypatch.setitem(cli.COMMANDS, "dfs", broken)
    argv = ["dfs", "--table", "t=t.csv:index=id", "--target", "t", "--out", "m.parquet"]
    assert main(argv) == 1
    error = capsys.readouterr().err
    assert error.startswith("featurekit dfs: unexpected error: RuntimeError: kernel fell over")
    assert len(error.strip().splitlines()) == 1 and "--traceback" in error
    with pytest.raises(RuntimeError, match="kernel fell over"):
        main(["--traceback", *argv])


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("quiet", [False, True])
def test_progress_bar_on_a_terminal_only_and_never_with_quiet(tmp_path, monkeypatch, capsys, quiet):
    paths = write_tables(tmp_path, "parquet")
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    argv = ["dfs", *flags(paths), "--target", "customers", "--out", str(tmp_path / "m.parquet")]
    assert main(argv + ["--quiet"] * quiet) == 0
    shown = terminal.getvalue()
    assert ("featurekit dfs" in shown and "computing" in shown) is not quiet
    assert ("matrix: 6 rows" in capsys.readouterr().out) is not quiet


def test_no_progress_bar_when_stderr_is_not_a_terminal(tmp_path, capsys):
    paths = write_tables(tmp_path, "parquet")
    assert main(["dfs", *flags(paths), "--target", "customers",
                 "--out", str(tmp_path / "m.parquet")]) == 0
    assert capsys.readouterr().err == ""
