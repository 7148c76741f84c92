"""featurekit: automated feature engineering on relational and time-series data.

Examples
--------
>>> import featurekit as fk
>>> es = fk.demo.load_retail(n_customers=20)
>>> matrix, features = fk.dfs(es, target="customers", max_depth=2)
>>> matrix.shape[0]
20
"""

from featurekit import _numba_cache, _source_checkout, demo, primitives  # noqa: F401  (before the kernels)
from featurekit.dfs import plan
from featurekit.engine import compute, dfs
from featurekit.entityset import EntitySet, Relationship
from featurekit.errors import (
    CoercionWarning,
    ComputeError,
    FeaturekitError,
    MissingTimeWarning,
    OrphanWarning,
    PlanError,
    SchemaError,
)
from featurekit.feature import Feature, load_features, save_features
from featurekit.labels import make_labels
from featurekit.splits import CutoffTimeSplit, TimeSplit, time_split

__version__ = "0.1.0"

_LAZY = {"timeseries": None, "Rolling": "Rolling", "Expanding": "Expanding", "Tumbling": "Tumbling"}


def __getattr__(name: str):
    """``fk.timeseries`` and its windows load on first use (they bring numba kernels)."""
    if name in _LAZY:
        import importlib

        module = importlib.import_module("featurekit.timeseries")
        return module if _LAZY[name] is None else getattr(module, _LAZY[name])
    raise AttributeError(f"module 'featurekit' has no attribute {name!r}")


__all__ = [
    "CoercionWarning", "MissingTimeWarning",
    "ComputeError", "CutoffTimeSplit", "EntitySet", "Expanding", "Rolling", "Tumbling", "Feature", "FeaturekitError", "OrphanWarning", "PlanError",
    "Relationship", "SchemaError", "__version__", "compute", "demo", "dfs", "load_features", "plan",
    "make_labels", "primitives", "save_features", "timeseries", "TimeSplit", "time_split",
]
