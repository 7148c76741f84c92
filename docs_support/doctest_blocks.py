"""A griffe extension for the API reference: doctests written in a docstring's prose (outside
an "Examples" section, which the numpy-style parser already shows as code) become fenced
``pycon`` blocks, so the site shows them as highlighted code rather than as quoted text."""

from __future__ import annotations

import re
from typing import Any

import griffe

SECTION_RULE = re.compile(r"^\s*-{3,}\s*$")


def fence_doctests(text: str) -> str:
    """``text`` with every run of doctest lines outside an Examples section fenced."""
    lines = text.splitlines()
    out: list[str] = []
    in_examples = False
    number = 0
    while number < len(lines):
        line = lines[number]
        if number + 1 < len(lines) and SECTION_RULE.match(lines[number + 1]) and line.strip():
            in_examples = line.strip().lower() == "examples"
        if not in_examples and line.lstrip().startswith(">>>"):
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}```pycon")
            while number < len(lines) and lines[number].strip():
                out.append(lines[number])
                number += 1
            out.append(f"{indent}```")
            continue
        out.append(line)
        number += 1
    return "\n".join(out)


class DoctestBlocks(griffe.Extension):
    """Fences prose doctests of every object the API reference loads."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = fence_doctests(obj.docstring.value)
