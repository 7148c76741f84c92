"""featurekit: automated feature engineering on relational and time-series data."""

from featurekit.errors import FeaturekitError, OrphanWarning, PlanError, SchemaError

__version__ = "0.1.0"

__all__ = ["FeaturekitError", "OrphanWarning", "PlanError", "SchemaError", "__version__"]
