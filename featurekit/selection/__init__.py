"""Feature selection: FRESH relevance with false-discovery control (tsfresh 0.21's
definitions), and pruning of single-value, highly-null, low-information and correlated columns.

Every function takes pandas or polars frames (or pyarrow tables, or 2-d arrays), ignores the
index, never reorders rows and hands back the input's kind.

>>> import numpy as np, pandas as pd
>>> import featurekit.selection as fks
>>> rng = np.random.default_rng(0)
>>> y = np.repeat([0, 1], 40)
>>> X = pd.DataFrame({"signal": y + rng.normal(0, 0.5, 80), "noise": rng.normal(0, 1, 80),
...                   "flat": np.ones(80)})
>>> fks.select_relevant(X, y).columns.tolist()
['signal']
"""

from featurekit.selection.imputation import impute, impute_ranges
from featurekit.selection.pruning import (
    Pruned,
    drop_correlated,
    drop_highly_null,
    drop_low_information,
    drop_single_value,
)
from featurekit.selection.relevance import (
    adjusted_p_values,
    fdr_control,
    relevance_table,
    select_relevant,
)

__all__ = [
    "Pruned", "adjusted_p_values", "drop_correlated", "drop_highly_null", "drop_low_information",
    "drop_single_value", "fdr_control", "impute", "impute_ranges", "relevance_table",
    "select_relevant",
]
