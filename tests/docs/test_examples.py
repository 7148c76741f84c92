"""Every Python code block of README.md and of the documentation pages (docs/**/*.md) runs as
written. The blocks of one page run in order in one namespace, as a reader pasting them into
one notebook would, and nothing is given beforehand: each page builds the data it uses (from
``fk.demo`` or frames of its own). Pages are found by a glob when the tests are collected, so a
page added later is checked without touching this file."""

from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# A fenced block whose language is Python, at any indentation (inside a list item, say); the
# closing fence sits at the opening fence's indentation.
FENCE = re.compile(r"^(?P<indent>[ \t]*)```[ \t]*(?:python3?|py)\b[^\n]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$",
                   flags=re.S | re.M)
GUIDES = ROOT / "docs" / "guide"


def python_blocks(text: str) -> list[str]:
    """The Python blocks of a markdown text, in order, dedented to column 0."""
    return [textwrap.dedent(match["body"]) for match in FENCE.finditer(text)]


def documentation_pages() -> list[Path]:
    """README.md and every markdown page under docs/, the generated reference included."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]


def pages_with_examples() -> list[Path]:
    return [page for page in documentation_pages() if python_blocks(page.read_text())]


def test_blocks_are_found_at_any_indentation_and_in_order():
    text = ("Intro\n\n```python\na = 1\n```\n\n- a step:\n\n    ```python\n    b = a + 1\n"
            "    ```\n\n```bash\nnot python\n```\n\n```py\nc = b\n```\n")
    assert python_blocks(text) == ["a = 1\n", "b = a + 1\n", "c = b\n"]


def test_the_pages_have_examples():
    found = {page.relative_to(ROOT).as_posix() for page in pages_with_examples()}
    assert {"README.md", "docs/index.md", "docs/getting-started.md"} <= found
    assert len(python_blocks((ROOT / "README.md").read_text())) >= 8


@pytest.mark.parametrize("guide", sorted(GUIDES.glob("*.md")), ids=lambda page: page.name)
def test_every_guide_page_shows_runnable_code(guide):
    assert python_blocks(guide.read_text()), f"{guide.name} has no ```python example"


@pytest.mark.parametrize("page", pages_with_examples(),
                         ids=lambda page: page.relative_to(ROOT).as_posix())
def test_every_python_block_runs_in_order(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # blocks write files (features.json, drawings, parquet)
    monkeypatch.setattr(sys, "path", list(sys.path))  # a page may add its folder; undone after
    modules_before = set(sys.modules)
    name = page.relative_to(ROOT).as_posix()
    namespace: dict[str, object] = {"__name__": "docs_example"}
    try:
        for number, block in enumerate(python_blocks(page.read_text()), start=1):
            try:
                exec(compile(block, f"{name} python block {number}", "exec"), namespace)
            except Exception as error:  # name the page and the block that failed
                raise AssertionError(f"{name}: python block {number} failed: {error!r}\n"
                                     f"{block}") from error
    finally:
        for module in set(sys.modules) - modules_before:  # modules the page wrote itself
            if str(getattr(sys.modules[module], "__file__", None) or "").startswith(str(tmp_path)):
                del sys.modules[module]
