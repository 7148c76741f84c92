"""The online path: features of one instance (or a few) at a fresh cutoff, from tables held
in memory, in milliseconds and with the batch engine's values (:class:`OnlineFeatures`)."""

from featurekit.online.features import OnlineFeatures

__all__ = ["OnlineFeatures"]
