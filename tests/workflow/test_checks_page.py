"""The guide page docs/guide/checks.md: every python block runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[2] / "docs" / "guide" / "checks.md"
BLOCKS = re.findall(r"```python\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.S)


def test_the_page_has_examples():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("number", range(len(BLOCKS)))
def test_each_python_block_runs(number, capsys):
    exec(compile(BLOCKS[number], f"{PAGE.name} block {number}", "exec"), {"__name__": "page"})
    assert capsys.readouterr().out  # each block prints what it shows
