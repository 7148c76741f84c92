"""The featurekit vocabulary: aggregation, transform and time-series primitives."""
