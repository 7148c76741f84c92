"""The engine: the only part of featurekit that touches data."""

from featurekit.engine.api import compute, dfs

__all__ = ["compute", "dfs"]
