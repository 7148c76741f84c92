"""``OnlineSeries``: tsfresh-compatible features of one new time series (or a few) in a few
milliseconds, with the names and values of :func:`featurekit.timeseries.extract`.

``extract`` checks and compiles its settings into a kernel plan on every call, which for the
"efficient" set (777 features of one kind) costs more than running the kernels over a
series of a hundred points. Here the plan is built once, on the first call, and every call
then runs the same checks of the data, the same sort and the same kernels as ``extract``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import polars as pl

from featurekit.timeseries.extract import (
    _assemble,
    _check_duplicates,
    _plans,
    _segments,
    _sorted,
    _warn_about_unknown_kinds,
)
from featurekit.timeseries.inputs import (
    TIME_COLUMN,
    check_keys,
    check_roles,
    check_values,
    read_frame,
    require,
    value_columns,
)
from featurekit.timeseries.kernels import run_plan
from featurekit.timeseries.settings import Settings
from featurekit.timeseries.windows import whole_series


class OnlineSeries:
    """Features of whole series as ``fk.timeseries.extract`` computes them, for serving.

    The arguments are ``extract``'s (``column_id``, ``column_sort``, ``column_kind``,
    ``column_value``, ``settings``, ``kind_settings``); windows and duplicate policies are
    left to ``extract``. ``compute(frame)`` takes the rows of one series (or of a few) in
    the form ``extract`` takes them and returns the frame ``extract`` returns for them (a
    pandas frame indexed by id for pandas input, polars for polars), equal value for value.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> online = OnlineSeries(column_id="id", column_sort="time", settings="minimal")
    >>> one = pd.DataFrame({"id": 7, "time": np.arange(100), "value": np.sin(np.arange(100))})
    >>> row = online.compute(one)
    >>> row.shape, float(row.loc[7, "value__length"])
    ((1, 10), 100.0)
    """

    def __init__(self, column_id: str, column_sort: str | None = None,
                 column_kind: str | None = None, column_value: str | None = None,
                 settings: Settings | None = "efficient",
                 kind_settings: Mapping[str, Settings] | None = None) -> None:
        self.column_id = column_id
        self.column_sort = column_sort
        self.column_kind = column_kind
        self.column_value = column_value
        self.settings = "efficient" if settings is None else settings
        self.kind_settings = kind_settings
        self._plans: dict[bool, dict] = {}  # with timestamps or not -> the kernel plans
        self._columns: pd.Index | None = None  # the last result's column names

    def compute(self, series: Any) -> Any:
        """The features of every series in ``series`` (one row per id, sorted by id)."""
        column_id, column_sort = self.column_id, self.column_sort
        column_kind, column_value = self.column_kind, self.column_value
        check_roles({"column_id": column_id, "column_sort": column_sort,
                     "column_kind": column_kind, "column_value": column_value})
        key_arguments = {"column_id": column_id, "column_sort": column_sort,
                         "column_kind": column_kind}
        frame, was_pandas = read_frame(series, {column: argument for argument, column
                                                in key_arguments.items() if column is not None})
        if was_pandas and hasattr(series.index, "as_unit") and series.index.dtype.kind == "M":
            frame = frame.with_columns(pl.Series(TIME_COLUMN, series.index.as_unit("ns").asi8))
        for column, argument in ((column_id, "column_id"), (column_sort, "column_sort"),
                                 (column_kind, "column_kind"), (column_value, "column_value")):
            require(frame, column, argument)
        values = value_columns(frame, column_id, column_sort, column_kind, column_value)
        check_values(frame, values)
        check_keys(frame, column_id, column_sort, column_kind)
        has_time = TIME_COLUMN in frame.columns
        plans = self._plans.get(has_time)
        if plans is None or has_time:  # timestamps: their checks read the data each time
            plans = self._plans[has_time] = _plans(frame, self.settings, self.kind_settings)
        keys = [column_id] + ([column_sort] if column_sort is not None else [])
        if column_kind is not None:
            kinds = [(str(kind), _sorted(frame.filter(pl.col(column_kind) == kind), keys, values),
                      values[0]) for kind in frame[column_kind].unique().sort().to_list()]
        else:
            ordered = _sorted(frame, keys, values)
            kinds = [(name, ordered, name) for name in values]
        if column_sort is not None:
            for kind, ordered, _ in (kinds if column_kind is not None else kinds[:1]):
                _check_duplicates(ordered, keys, kind if column_kind is not None else None)
        if self.kind_settings:
            _warn_about_unknown_kinds(self.kind_settings, [kind for kind, _, _ in kinds])
        parts = []
        for kind, ordered, value_column in kinds:
            plan = plans[kind] if kind in plans else plans[None]
            buffer, segment_ids, _, offsets = _segments(ordered, column_id, column_sort, value_column)
            starts, stops, chosen = whole_series(offsets)
            times = ordered[TIME_COLUMN].to_numpy() if TIME_COLUMN in ordered.columns else None
            matrix = run_plan(buffer, starts, stops, plan.codes, plan.parameters, times)
            names = [f"{kind}__{suffix}" for suffix in plan.suffixes]
            parts.append((pl.DataFrame({column_id: segment_ids.gather(chosen)}), names, matrix))
        if not parts:
            parts.append((pl.DataFrame({column_id: frame[column_id].head(0)}), [],
                          np.empty((0, 0))))
        return self._assemble(parts, was_pandas)

    def _assemble(self, parts: list, was_pandas: bool) -> Any:
        """``extract``'s result frame; for pandas with integer ids and one key frame, built
        straight from the ids and the matrix (arrow's conversion of the ids costs more than
        the kernels)."""
        keys = parts[0][0][self.column_id]
        if not (was_pandas and keys.dtype.is_integer() and not keys.null_count()
                and all(part[0][self.column_id].equals(keys) for part in parts[1:])):
            return _assemble(parts, was_pandas)
        names = [name for part in parts for name in part[1]]
        if self._columns is None or list(self._columns) != names:
            self._columns = pd.Index(names)
        matrix = parts[0][2] if len(parts) == 1 else np.hstack([part[2] for part in parts])
        return pd.DataFrame(matrix, index=pd.Index(keys.to_numpy(), name=self.column_id),
                            columns=self._columns, copy=False)
