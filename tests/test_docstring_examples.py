"""Every public example in a docstring runs and prints what it says."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "featurekit", "featurekit.entityset", "featurekit.dfs", "featurekit.engine.api",
    "featurekit.demo", "featurekit.primitives", "featurekit.primitives.custom", "featurekit.labels",
    "featurekit.splits",
    "featurekit.selection", "featurekit.selection.relevance", "featurekit.selection.pruning",
    "featurekit.selection.imputation", "featurekit.sklearn",
    "featurekit.timeseries", "featurekit.timeseries.extract", "featurekit.timeseries.impute",
    "featurekit.primitives.timeseries_aggregation", "featurekit._atomic",
    "featurekit.encode", "featurekit.describe", "featurekit.normalize", "featurekit.plot",
    "featurekit.primitive_table",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
