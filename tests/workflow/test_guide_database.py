"""docs/guide/database.md: every python block runs on its own (each builds its data), and the
type-mapping table printed there is the one from_database applies."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

from featurekit.sources.sql_types import mapping_markdown

PAGE = Path(__file__).resolve().parents[2] / "docs" / "guide" / "database.md"
TEXT = PAGE.read_text()
BLOCKS = re.findall(r"^```python\n(.*?)^```", TEXT, flags=re.S | re.M)


def test_the_page_has_examples():
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize("number", range(len(BLOCKS)))
def test_each_python_block_runs_alone(number, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(BLOCKS[number], f"database.md python block {number + 1}", "exec"), {})
    assert capsys.readouterr().out  # every example shows something


def test_the_mapping_table_is_the_code_s():
    assert mapping_markdown() in TEXT
