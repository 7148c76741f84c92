"""Vectorized, tsfresh-compatible time-series feature extraction on numba kernels.

>>> import featurekit.timeseries as fkts
>>> fkts.Rolling(size=100, step=10)
Rolling(size=100, step=10)
"""

from featurekit.timeseries.extract import extract
from featurekit.timeseries.impute import impute
from featurekit.timeseries.settings import build_plan
from featurekit.timeseries.windows import Expanding, Rolling, Tumbling

__all__ = ["Expanding", "Rolling", "Tumbling", "build_plan", "extract", "impute"]
