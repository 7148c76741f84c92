"""Window transforms under Featuretools' names: rolling and expanding statistics over the rows
before each row in time order, exponentially weighted moments, the Savitzky-Golay filter, the
time since the last true / false flag and the rate of change.

``window_length`` is a number of rows or a fixed length of time ("7d", "12h"); ``gap`` skips
that many rows (the values move down, as Featuretools does) or that much time before the
window ends; ``min_periods`` is the fewest values a window needs. With cutoff times the rows
are those known at each cutoff, so a later row never moves a value.
"""

from __future__ import annotations

import functools
import numbers

import numpy as np
import polars as pl
from featurekit.primitives import window_kernels as kernels
from featurekit.primitives.base import (
    BOOLEAN_IN,
    DOUBLE_OUT,
    INTEGER_OUT,
    NUMERIC_IN,
    NUMERIC_OUT,
    TIME_INDEX_IN,
    TransformPrimitive,
    is_whole,
)

_LAST = np.iinfo(np.int64).max  # a missing time sorts after every other


def offset_nanoseconds(length: object) -> int | None:
    """Nanoseconds of a fixed-length offset alias ("7d", "90min"), None if it is not one."""
    import warnings

    import pandas as pd

    with warnings.catch_warnings():  # aliases pandas has renamed ("d", "H") mean the same
        warnings.simplefilter("ignore")
        try:
            return int(pd.Timedelta(length).value)
        except (ValueError, TypeError):
            pass
        try:
            return int(pd.tseries.frequencies.to_offset(length).nanos)
        except (ValueError, TypeError):
            return None


def _is_count(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


class _WindowParams(TransformPrimitive):
    """Checks of ``window_length``, ``gap`` and ``min_periods`` shared by the window family."""

    ordered = True
    flexible_params = ("window_length", "gap")  # rows (a number) or time ("7d")

    def check_params(self) -> None:
        length = self.params.get("window_length")
        if "window_length" in self.params:
            if _is_count(length):
                if length <= 0:
                    self.refuse_param("window_length", "a number of rows of at least 1, or a "
                                      "fixed length of time such as '7d'")
            elif not isinstance(length, str) or not offset_nanoseconds(length):
                self.refuse_param("window_length", "a number of rows, or a fixed length of "
                                  "time such as '7d' or '12h' (not 'M': months vary)")
        gap = self.gap
        if isinstance(gap, str):
            if "window_length" not in self.params:
                self.refuse_param("gap", "a number of rows (a gap of time needs a window of time)")
            if not isinstance(length, str):
                self.refuse_param("gap", "a number of rows when window_length is a number of rows")
            if offset_nanoseconds(gap) is None:
                self.refuse_param("gap", "a number of rows, or a fixed length of time such as '1d'")
        elif not is_whole(gap, 0):
            self.refuse_param("gap", "a number of rows of at least 0, or a length of time")
        if not is_whole(self.min_periods, 0):
            self.refuse_param("min_periods", "a number of values of at least 0")
        if _is_count(length) and self.min_periods > length:
            self.refuse_param("min_periods", f"at most window_length={length}")


class _Rolling(_WindowParams):
    input_types = ((TIME_INDEX_IN, NUMERIC_IN),)
    return_type = DOUBLE_OUT
    statistic = ""

    @classmethod
    def default_params(cls):
        return {"window_length": 3, "gap": 1, "min_periods": 1}

    def transform_expr(self, inputs, context):
        compute = functools.partial(rolling_values, self.statistic, self.window_length, self.gap,
                                    self.min_periods)
        return pl.struct(inputs[0].alias("time"), inputs[1].cast(pl.Float64).alias("value")
                         ).map_batches(compute, return_dtype=pl.Float64)


def _epoch_nanoseconds(times: pl.Series) -> np.ndarray:
    """Times as int64 nanoseconds since 1970 (UTC), a missing one as the largest int64."""
    return times.dt.epoch("ns").fill_null(_LAST).to_numpy()


def _window_ranges(nanos: np.ndarray, window_length, gap):
    """Each row's window rows, value shift, range checked for ``min_periods`` and fewest rows
    (see window_kernels); rows are in time order, missing times last."""
    n = nanos.shape[0]
    positions = np.arange(n, dtype=np.int64)
    stops = positions + 1
    if _is_count(window_length):
        starts = np.maximum(positions - window_length + 1, 0)
        return starts, stops, int(gap), starts, stops, 0
    length = offset_nanoseconds(window_length)
    if not isinstance(gap, str):
        starts = np.searchsorted(nanos, nanos - length, side="right").astype(np.int64)
        return starts, stops, int(gap), starts, stops, 0
    skip = offset_nanoseconds(gap) or 0
    check_starts = np.searchsorted(nanos, nanos - length - skip, side="right").astype(np.int64)
    ends = np.searchsorted(nanos, nanos - skip, side="right").astype(np.int64)
    ends = np.clip(ends, check_starts, stops)
    return check_starts, ends, 0, check_starts, stops, 1


def rolling_values(statistic: str, window_length, gap, min_periods: int, batch: pl.Series) -> pl.Series:
    """A rolling ``statistic`` of the batch's values (struct of time and value) per row."""
    times, values = batch.struct.field("time"), batch.struct.field("value")
    nanos = _epoch_nanoseconds(times)
    if isinstance(window_length, str) and nanos.shape[0] and np.any(np.diff(nanos) < 0):
        from featurekit.errors import ComputeError

        raise ComputeError(
            f"primitive 'rolling_{statistic}': a window of time ({window_length!r}) needs its time "
            "input in the order of the table's rows, and this one is not (a parent's time, "
            "say). Fix: give the table's own time index, or a number of rows as window_length")
    starts, stops, shift, check_starts, check_stops, min_rows = _window_ranges(nanos, window_length, gap)
    if statistic == "count":  # rows, not values: every row counts
        values = pl.Series(np.ones(values.len()))
    data = values.fill_null(np.nan).to_numpy().astype(np.float64)
    seconds = np.where(nanos == _LAST, np.nan, nanos.astype(np.float64) * 1e-9)
    code = kernels.STATISTICS[statistic]
    if code in kernels.SLIDING:
        out = kernels.sliding_statistic(data, starts, stops, shift, check_starts, check_stops,
                                        min_periods, max(min_periods, min_rows), code)
    else:
        out = kernels.window_statistic(data, seconds, starts, stops, shift, check_starts,
                                       check_stops, min_periods, max(min_periods, min_rows), code)
    if statistic == "count" and not isinstance(gap, str):
        out[: gap if not min_periods else min_periods - 1 + gap] = np.nan
    if isinstance(window_length, str):
        out[nanos == _LAST] = np.nan  # a row without a time has no window of time
    return pl.Series(out)


class RollingMean(_Rolling):
    """Mean of the values in the window before each row (rows or time, after ``gap``)."""

    name = "rolling_mean"
    statistic = "mean"

    @classmethod
    def default_params(cls):
        return {"window_length": 3, "gap": 1, "min_periods": 0}


class RollingMax(_Rolling):
    """Largest value in the window before each row."""

    name = "rolling_max"
    statistic = "max"


class RollingMin(_Rolling):
    """Smallest value in the window before each row."""

    name = "rolling_min"
    statistic = "min"


class RollingStd(_Rolling):
    """Sample standard deviation of the values in the window before each row."""

    name = "rolling_std"
    statistic = "std"


class RollingTrend(_Rolling):
    """Least-squares slope of the values against time in the window before each row."""

    name = "rolling_trend"
    statistic = "trend"

    @classmethod
    def default_params(cls):
        return {"window_length": 3, "gap": 1, "min_periods": 0}


class RollingOutlierCount(_Rolling):
    """Values of the window beyond 1.5 interquartile ranges from the quartiles."""

    name = "rolling_outlier_count"
    statistic = "outliers"

    @classmethod
    def default_params(cls):
        return {"window_length": 3, "gap": 1, "min_periods": 0}


class RollingCount(_Rolling):
    """Rows in the window before each row; missing for the first ``gap`` (+ ``min_periods``
    - 1) rows, as Featuretools does."""

    name = "rolling_count"
    input_types = ((TIME_INDEX_IN,),)
    statistic = "count"

    @classmethod
    def default_params(cls):
        return {"window_length": 3, "gap": 1, "min_periods": 0}

    def transform_expr(self, inputs, context):
        return super().transform_expr([inputs[0], pl.lit(1.0)], context)


class _Expanding(_WindowParams):
    input_types = ((TIME_INDEX_IN, NUMERIC_IN),)
    return_type = DOUBLE_OUT
    statistic = ""

    @classmethod
    def default_params(cls):
        return {"gap": 1, "min_periods": 1}

    def transform_expr(self, inputs, context):
        compute = functools.partial(expanding_values, self.statistic, self.gap, self.min_periods)
        return pl.struct(inputs[0].alias("time"), inputs[1].cast(pl.Float64).alias("value")
                         ).map_batches(compute, return_dtype=pl.Float64)


def expanding_values(statistic: str, gap: int, min_periods: int, batch: pl.Series) -> pl.Series:
    """An expanding ``statistic`` per row: over every row up to ``gap`` rows before it."""
    times, values = batch.struct.field("time"), batch.struct.field("value")
    nanos = _epoch_nanoseconds(times)
    data = values.fill_null(np.nan).to_numpy().astype(np.float64)
    seconds = np.where(nanos == _LAST, np.nan, nanos.astype(np.float64) * 1e-9)
    out = kernels.expanding_statistic(data, seconds, int(gap), min_periods,
                                      kernels.STATISTICS[statistic])
    if statistic == "count":
        out[: max(gap + min_periods - 1, 0)] = np.nan
    return pl.Series(out)


class ExpandingMean(_Expanding):
    """Mean of every value up to ``gap`` rows before each row."""

    name = "expanding_mean"
    statistic = "mean"


class ExpandingMax(_Expanding):
    """Largest value up to ``gap`` rows before each row."""

    name = "expanding_max"
    return_type = NUMERIC_OUT
    statistic = "max"


class ExpandingMin(_Expanding):
    """Smallest value up to ``gap`` rows before each row."""

    name = "expanding_min"
    return_type = NUMERIC_OUT
    statistic = "min"


class ExpandingStd(_Expanding):
    """Sample standard deviation of every value up to ``gap`` rows before each row."""

    name = "expanding_std"
    statistic = "std"


class ExpandingTrend(_Expanding):
    """Least-squares slope against time of every value up to ``gap`` rows before each row."""

    name = "expanding_trend"
    statistic = "trend"


class ExpandingCount(_Expanding):
    """Rows with a time up to ``gap`` rows before each row; missing for the first ``gap`` +
    ``min_periods`` - 1 rows, as Featuretools does."""

    name = "expanding_count"
    input_types = ((TIME_INDEX_IN,),)
    return_type = INTEGER_OUT
    statistic = "count"

    def transform_expr(self, inputs, context):
        present = pl.when(inputs[0].is_not_null()).then(1.0)
        return super().transform_expr([inputs[0], present], context).fill_nan(None).cast(pl.Int64)


class _Exponential(TransformPrimitive):
    input_types = ((NUMERIC_IN,),)
    return_type = DOUBLE_OUT
    ordered = True
    variance = False

    @classmethod
    def default_params(cls):
        return {"com": None, "span": None, "halflife": None, "alpha": None, "ignore_na": False}

    def check_params(self) -> None:
        given = [k for k in ("com", "span", "halflife", "alpha") if self.params[k] is not None]
        if not given:  # Featuretools' default: com=0.5 (so it shows in the name)
            self.params["com"] = 0.5
            given = ["com"]
        if len(given) > 1:
            self.refuse_param(given[1], f"left out: {given[0]} already sets the decay")
        key = given[0]
        value = self.params[key]
        limits = {"com": (0.0, True), "span": (1.0, True), "halflife": (0.0, False),
                  "alpha": (0.0, False)}
        low, closed = limits[key]
        if (not isinstance(value, numbers.Real) or isinstance(value, bool)
                or not (value >= low if closed else value > low) or (key == "alpha" and value > 1)):
            self.refuse_param(key, {"com": "a number >= 0", "span": "a number >= 1",
                                    "halflife": "a number > 0", "alpha": "a number in (0, 1]"}[key])
        if not isinstance(self.ignore_na, bool):
            self.refuse_param("ignore_na", "True or False")

    def alpha_value(self) -> float:
        if self.com is not None:
            return 1.0 / (1.0 + self.com)
        if self.span is not None:
            return 2.0 / (self.span + 1.0)
        if self.halflife is not None:
            return 1.0 - np.exp(np.log(0.5) / self.halflife)
        return float(self.alpha)

    def transform_expr(self, inputs, context):
        compute = functools.partial(_exponential, self.alpha_value(), self.ignore_na, self.variance,
                                    self.name == "exponential_weighted_std")
        return inputs[0].cast(pl.Float64).map_batches(compute, return_dtype=pl.Float64)


def _exponential(alpha: float, ignore_missing: bool, variance: bool, root: bool,
                 values: pl.Series) -> pl.Series:
    out = kernels.exponential_moments(values.fill_null(np.nan).to_numpy().astype(np.float64),
                                      alpha, ignore_missing, variance)
    return pl.Series(np.sqrt(np.maximum(out, 0.0)) if root else out)


class ExponentialWeightedAverage(_Exponential):
    """Exponentially weighted mean of the values so far in time order (decay from ``com``,
    ``span``, ``halflife`` or ``alpha``; ``com=0.5`` when none is given)."""

    name = "exponential_weighted_average"


class ExponentialWeightedVariance(_Exponential):
    """Exponentially weighted (unbiased) variance of the values so far in time order."""

    name = "exponential_weighted_variance"
    variance = True


class ExponentialWeightedStd(_Exponential):
    """Exponentially weighted standard deviation of the values so far in time order."""

    name = "exponential_weighted_std"
    variance = True


class SavgolFilter(TransformPrimitive):
    """Savitzky-Golay smoothing of the column in time order (scipy's ``savgol_filter``);
    columns under 20 rows come back unchanged; missing values are interpolated first."""

    name = "savgol_filter"
    input_types = ((NUMERIC_IN,),)
    return_type = DOUBLE_OUT
    ordered = True
    row_wise = False

    @classmethod
    def default_params(cls):
        return {"window_length": None, "polyorder": None, "deriv": 0, "delta": 1.0,
                "mode": "interp", "cval": 0.0}

    def check_params(self) -> None:
        from scipy.signal import savgol_coeffs

        if (self.window_length is None) != (self.polyorder is None):
            self.refuse_param("window_length" if self.window_length is None else "polyorder",
                              "given together with the other of window_length and polyorder")
        if self.mode not in ("mirror", "constant", "nearest", "interp", "wrap"):
            self.refuse_param("mode", "'mirror', 'constant', 'nearest', 'interp' or 'wrap'")
        if self.window_length is not None:
            try:
                savgol_coeffs(self.window_length, self.polyorder, deriv=self.deriv, delta=self.delta)
            except (ValueError, TypeError) as error:
                self.refuse_param("window_length", f"a window scipy accepts ({error})")

    def transform_expr(self, inputs, context):
        return inputs[0].cast(pl.Float64).map_batches(self._smooth, return_dtype=pl.Float64)

    def _smooth(self, values: pl.Series) -> pl.Series:
        from scipy.signal import savgol_filter

        data = values.fill_null(np.nan).to_numpy().astype(np.float64)
        n = data.shape[0]
        if n < 20:
            return pl.Series(data)
        missing = np.isnan(data)
        if missing.all():
            return pl.Series(data)
        if missing.any():
            known = np.flatnonzero(~missing)
            data[missing] = np.interp(np.flatnonzero(missing), known, data[known])
        window, order = self.window_length, self.polyorder
        if window is None:
            window, order = n // 10 * 2 + 1, 3
        if self.mode == "interp" and window > n:
            from featurekit.errors import ComputeError

            raise ComputeError(f"primitive 'savgol_filter': window_length={window} is longer than "
                               f"the {n} rows. Fix: pass a shorter window_length or another mode")
        return pl.Series(savgol_filter(data, window_length=window, polyorder=order,
                                       deriv=self.deriv, delta=self.delta, mode=self.mode,
                                       cval=self.cval))


class _TimeSinceLast(TransformPrimitive):
    input_types = ((TIME_INDEX_IN, BOOLEAN_IN),)
    return_type = DOUBLE_OUT
    ordered = True
    flag = True

    def transform_expr(self, inputs, context):
        time, flag = inputs
        hit = flag if self.flag else ~flag
        last = pl.when(hit.fill_null(False)).then(time).forward_fill()
        seconds = (time - last).dt.total_nanoseconds().cast(pl.Float64) * 1e-9
        return pl.when(flag.is_not_null().any()).then(seconds)


class CumulativeTimeSinceLastTrue(_TimeSinceLast):
    """Seconds since the latest row (this one included) whose flag is true."""

    name = "cumulative_time_since_last_true"


class CumulativeTimeSinceLastFalse(_TimeSinceLast):
    """Seconds since the latest row (this one included) whose flag is false."""

    name = "cumulative_time_since_last_false"
    flag = False


class RateOfChange(TransformPrimitive):
    """Change of the value per second since the previous row in time order."""

    name = "rate_of_change"
    input_types = ((NUMERIC_IN, TIME_INDEX_IN),)
    return_type = DOUBLE_OUT
    ordered = True

    def transform_expr(self, inputs, context):
        value, time = inputs
        seconds = time.diff().dt.total_nanoseconds().cast(pl.Float64) * 1e-9
        return value.cast(pl.Float64).diff() / seconds


WINDOW_PRIMITIVES: tuple[type[TransformPrimitive], ...] = (
    CumulativeTimeSinceLastFalse, CumulativeTimeSinceLastTrue, ExpandingCount, ExpandingMax,
    ExpandingMean, ExpandingMin, ExpandingStd, ExpandingTrend, ExponentialWeightedAverage,
    ExponentialWeightedStd, ExponentialWeightedVariance, RateOfChange, RollingCount, RollingMax,
    RollingMean, RollingMin, RollingOutlierCount, RollingStd, RollingTrend, SavgolFilter,
)

__all__ = [
    "CumulativeTimeSinceLastFalse", "CumulativeTimeSinceLastTrue", "ExpandingCount",
    "ExpandingMax", "ExpandingMean", "ExpandingMin", "ExpandingStd", "ExpandingTrend",
    "ExponentialWeightedAverage", "ExponentialWeightedStd", "ExponentialWeightedVariance",
    "RateOfChange", "RollingCount", "RollingMax", "RollingMean", "RollingMin",
    "RollingOutlierCount", "RollingStd", "RollingTrend", "SavgolFilter", "WINDOW_PRIMITIVES",
]
