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
    "featurekit.automl.compare", "featurekit.automl.tune", "featurekit.automl.evaluate",
    "featurekit.automl.abtest", "featurekit.automl.models",
]


@pytest.fixture(autouse=True)
def _registry_as_before():
    """Custom primitives an example registers (``value_range``, ...) leave with it: a later
    test defining its own primitive of that name must not find the example's."""
    from featurekit import primitives

    def custom(cls) -> bool:  # built-ins may register on first need (the tsfresh catalogue)
        return not cls.__module__.startswith("featurekit.primitives.")

    names = dict(primitives._REGISTRY)
    yield
    for name, cls in list(primitives._REGISTRY.items()):
        if custom(cls) and names.get(name) is not cls:
            del primitives._REGISTRY[name]
            if name in names:
                primitives._REGISTRY[name] = names[name]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
