"""featurekit: automated feature engineering on relational and time-series data.

Examples
--------
>>> import featurekit as fk
>>> es = fk.demo.load_retail(n_customers=20)
>>> matrix, features = fk.dfs(es, target="customers", max_depth=2)
>>> matrix.shape[0]
20
"""



def _map_primitives_in_a_source_checkout() -> None:
    """Load ``featurekit.primitives`` from the ``primitives/`` directory beside this package.

    A wheel holds ``featurekit/primitives/`` and needs nothing here. In a source tree (a
    checkout on ``PYTHONPATH``, a git worktree, an editable install) the vocabulary lives in
    the top-level ``primitives/`` directory that the build maps to ``featurekit.primitives``;
    it is loaded from the same tree as this file, never from another checkout.
    """
    import importlib.machinery
    import importlib.util
    import sys
    from pathlib import Path

    name = "featurekit.primitives"
    if name in sys.modules or importlib.machinery.PathFinder.find_spec(name, __path__):
        return
    package = Path(__file__).resolve().parent.parent / "primitives"
    if not (package / "__init__.py").is_file():
        return
    spec = importlib.util.spec_from_file_location(
        name, package / "__init__.py", submodule_search_locations=[str(package)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)


_map_primitives_in_a_source_checkout()

from featurekit import demo, primitives  # noqa: E402
from featurekit.dfs import plan  # noqa: E402
from featurekit.engine import compute, dfs  # noqa: E402
from featurekit.entityset import EntitySet, Relationship  # noqa: E402
from featurekit.errors import (  # noqa: E402
    ComputeError,
    FeaturekitError,
    OrphanWarning,
    PlanError,
    SchemaError,
)
from featurekit.feature import Feature, load_features, save_features  # noqa: E402

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
    "ComputeError", "EntitySet", "Expanding", "Rolling", "Tumbling", "Feature", "FeaturekitError", "OrphanWarning", "PlanError",
    "Relationship", "SchemaError", "__version__", "compute", "demo", "dfs", "load_features", "plan",
    "primitives", "save_features", "timeseries",
]
