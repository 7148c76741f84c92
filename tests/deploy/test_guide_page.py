"""Every Python block of docs/guide/deployment.md runs on its own (each builds its own data),
and prints what the page says it shows."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

PAGE = (Path(__file__).resolve().parents[2] / "docs" / "guide" / "deployment.md").read_text()
BLOCKS = re.findall(r"^```python\n(.*?)^```", PAGE, flags=re.S | re.M)
# what each block's printed output must hold, in order
EXPECTED = [
    ["['features', 'manifest.json', 'manifest.sha256', 'pipeline.skops', 'tables']"],
    ["manifest.json does not match its SHA-256", "Fix: save the pipeline again"],
    ["ok\n"],
    ["'field': 'instances[0].id'", "'field': 'instances[0].cutoff_time'",
     "'field': 'rows.sessions[0].customer_id'", "413 ", "limit of 100", "ok\n"],
]


def test_the_page_has_the_blocks_checked_here():
    assert len(BLOCKS) == len(EXPECTED)


@pytest.mark.parametrize("number", range(len(EXPECTED)))
def test_each_python_block_runs_alone(number, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(BLOCKS[number], f"deployment.md python block {number + 1}", "exec"), {})
    for words in EXPECTED[number]:
        assert words in printed.getvalue(), (words, printed.getvalue())


def test_the_serving_block_shows_predictions_and_kept_rows(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(BLOCKS[2], "deployment.md python block 3", "exec"), {})
    lines = printed.getvalue().splitlines()
    served, direct = lines[1].split("] [")  # the server's prediction, then the pipeline's
    assert served.lstrip("[") == direct.rstrip("]")
    count_after, largest = lines[2].split()
    assert float(largest) >= 120.0
    assert int(lines[3]) == int(count_after) - 1  # the cutoff leaves out the new session
