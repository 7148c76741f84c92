"""docs/migration.md stays true: every featurekit function, method and keyword it names
exists, and its woodwork type names are accepted by add_table."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pandas as pd
import pytest

import featurekit as fk

PAGE = (Path(__file__).parent.parent / "docs" / "migration.md").read_text()


def featurekit_cells() -> list[str]:
    """The right-hand cells of the page's tables (headers and rules left out)."""
    cells = [line.split("|")[2].strip() for line in PAGE.splitlines()
             if line.startswith("| ") and line.count("|") >= 3]
    return [cell for cell in cells if not cell.startswith("featurekit") and set(cell) - {"-"}]


def test_every_fk_function_named_exists():
    names = set(re.findall(r"\bfk\.(\w+)", PAGE))
    assert {"dfs", "compute", "encode_features", "describe_feature", "graph_feature",
            "list_primitives", "save_features", "load_features", "EntitySet"} <= names
    for name in names:
        assert hasattr(fk, name), name


def test_every_entityset_method_named_exists():
    methods = set(re.findall(r"\bes\.(\w+)\(", "".join(featurekit_cells())))
    assert {"add_table", "add_relationship", "normalize", "plot", "add_interesting_values"} <= methods
    for method in methods:
        assert callable(getattr(fk.EntitySet, method)), method


def test_every_keyword_named_for_featurekit_exists():
    known = {*inspect.signature(fk.plan).parameters, *inspect.signature(fk.dfs).parameters,
             *inspect.signature(fk.compute).parameters,
             *inspect.signature(fk.EntitySet.add_table).parameters,
             *inspect.signature(fk.EntitySet.normalize).parameters,
             *inspect.signature(fk.encode_features).parameters,
             *inspect.signature(fk.describe_feature).parameters,
             *inspect.signature(fk.graph_feature).parameters,
             *inspect.signature(fk.load_features).parameters,
             *inspect.signature(fk.EntitySet.add_relationship).parameters,
             *inspect.signature(fk.EntitySet.plot).parameters,
             *inspect.signature(fk.EntitySet.add_interesting_values).parameters}
    for cell in featurekit_cells():
        if cell.strip().startswith("nothing") or "not supported" in cell:
            continue
        for span in re.findall(r"`([^`]*)`", cell):
            if span.startswith("pd."):
                continue
            for keyword in re.findall(r"\b(\w+)=", span):
                assert keyword in known, (keyword, cell)


@pytest.mark.parametrize("name", ["Double", "Integer", "IntegerNullable", "Boolean",
                                  "BooleanNullable", "Categorical", "Ordinal", "Datetime",
                                  "NaturalLanguage", "AgeFractional", "Unknown"])
def test_woodwork_type_names_are_accepted(name):
    values = {"Datetime": ["2021-01-01", "2021-01-02"], "Boolean": [True, False],
              "BooleanNullable": [True, None], "NaturalLanguage": ["a b", "c"]}.get(name, [1, 2])
    es = fk.EntitySet().add_table("t", pd.DataFrame({"id": [1, 2], "x": values}), index="id",
                                  types={"x": name})
    expected = {"naturallanguage": "text", "booleannullable": "boolean",
                "integernullable": "integer_nullable", "agefractional": "age_fractional"}
    assert es["t"].schemas["x"].logical_type == expected.get(name.lower(), name.lower())
