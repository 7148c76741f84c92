"""docs/guide/automl.md and the automl docstrings stay true: every example runs."""

from __future__ import annotations

import doctest
import importlib
import re
from pathlib import Path

import pytest

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "guide" / "automl.md"
BLOCKS = re.findall(r"```python\n(.*?)```", GUIDE.read_text(), flags=re.DOTALL)
MODULES = ["featurekit.automl.compare", "featurekit.automl.tune", "featurekit.automl.evaluate",
           "featurekit.automl.abtest", "featurekit.automl.models"]


def test_the_guide_has_examples():
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("number", range(len(BLOCKS)))
def test_each_guide_example_runs_on_its_own(number, capsys):
    exec(compile(BLOCKS[number], f"{GUIDE.name}[{number}]", "exec"), {"__name__": "__guide__"})
    assert capsys.readouterr().out.strip()  # every example prints what it found


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    failures, tried = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert tried > 0 and failures == 0
