"""The online path: features of one instance (or a few) at a fresh cutoff, from tables held
in memory, in milliseconds and with the batch engine's values (:class:`OnlineFeatures`);
tsfresh-compatible features of one new time series (:class:`OnlineSeries`)."""

from featurekit.online.features import OnlineFeatures
from featurekit.online.series import OnlineSeries

__all__ = ["OnlineFeatures", "OnlineSeries"]
