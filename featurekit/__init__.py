"""featurekit: automated feature engineering on relational and time-series data.

Examples
--------
>>> import featurekit as fk
>>> es = fk.demo.load_retail(n_customers=20)
>>> matrix, features = fk.dfs(es, target="customers", max_depth=2)
>>> matrix.shape[0]
20

Everything loads on first use (PEP 562): ``import featurekit`` imports neither numpy nor
polars nor numba, so the ``featurekit`` command answers ``--help`` at once. Every public
submodule is an attribute (``fk.selection``, ``fk.timeseries``, ``fk.sklearn``, ...).
"""

import sys as _sys
import types as _types

from featurekit import _source_checkout  # noqa: F401  (maps a checkout's primitives/, lazily)
from featurekit._version import __version__

# public name -> the module that defines it; loaded on first access
_ATTRIBUTES = {
    "EntitySet": "featurekit.entityset", "Relationship": "featurekit.entityset",
    "plan": "featurekit.dfs", "compute": "featurekit.engine",
    "ComputeError": "featurekit.errors", "FeaturekitError": "featurekit.errors",
    "OrphanWarning": "featurekit.errors", "PlanError": "featurekit.errors",
    "SchemaError": "featurekit.errors", "FeatureFileError": "featurekit.errors",
    "PortabilityWarning": "featurekit.errors", "CoercionWarning": "featurekit.errors",
    "MissingTimeWarning": "featurekit.errors", "CacheWarning": "featurekit.errors",
    "Feature": "featurekit.feature", "load_features": "featurekit.feature",
    "IdentityFeature": "featurekit.feature", "DirectFeature": "featurekit.feature",
    "AggregationFeature": "featurekit.feature", "TransformFeature": "featurekit.feature",
    "save_features": "featurekit.feature",
    "make_labels": "featurekit.labels",
    "encode_features": "featurekit.encode", "list_primitives": "featurekit.primitive_table",
    "describe_feature": "featurekit.describe", "graph_feature": "featurekit.plot",
    "CutoffTimeSplit": "featurekit.splits", "TimeSplit": "featurekit.splits",
    "time_split": "featurekit.splits",
    "Expanding": "featurekit.timeseries", "Rolling": "featurekit.timeseries",
    "Tumbling": "featurekit.timeseries",
}
# public submodules, each an attribute (``featurekit.dfs`` the module is ``fk.plan``'s home:
# the name ``fk.dfs`` is the function, as it always was)
_SUBMODULES = (
    "arguments", "automl", "cli", "coercion", "demo", "demo_data", "deploy", "describe",
    "encode", "engine",
    "entityset", "errors", "feature", "feature_files", "frames", "interesting_values", "labels",
    "normalize", "online", "plot", "prep", "primitive_options", "primitive_table",
    "primitives", "scale", "selection", "sklearn", "sources", "splits", "timeseries", "types",
)


def __getattr__(name: str) -> object:
    """Load a public name or submodule on first use, then keep it as a plain attribute."""
    import importlib

    if name in _ATTRIBUTES:
        value = getattr(importlib.import_module(_ATTRIBUTES[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"featurekit.{name}")
    else:
        raise AttributeError(f"module 'featurekit' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_ATTRIBUTES, *_SUBMODULES, "dfs"})


class _Featurekit(_types.ModuleType):
    """The package's module type: ``fk.dfs`` stays the function ``featurekit.engine.dfs``
    even after the planner module ``featurekit.dfs`` is imported (the import system would
    otherwise set the package attribute ``dfs`` to that module)."""

    @property
    def dfs(self) -> object:
        from featurekit.engine import dfs

        return dfs

    @dfs.setter
    def dfs(self, value: object) -> None:
        """The import system's assignment of the planner module; the function keeps the name."""


_sys.modules[__name__].__class__ = _Featurekit

__all__ = [
    "AggregationFeature", "DirectFeature", "IdentityFeature", "TransformFeature",
    "ComputeError", "CutoffTimeSplit", "EntitySet", "Expanding", "Feature", "FeatureFileError",
    "FeaturekitError", "PortabilityWarning", "CoercionWarning", "MissingTimeWarning", "CacheWarning",
    "OrphanWarning", "PlanError", "Relationship", "Rolling", "SchemaError", "TimeSplit",
    "Tumbling", "__version__", "compute", "demo", "describe_feature", "dfs", "encode_features", "graph_feature", "list_primitives", "load_features", "make_labels", "plan",
    "primitives", "save_features", "time_split", "timeseries",
]
