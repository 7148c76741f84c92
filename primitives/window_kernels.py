"""numba kernels of the window transforms: one statistic per row over a range of earlier rows
(rolling and expanding windows), and exponentially weighted moments.

Rows are in time order. Row ``i`` reads the rows ``starts[i]:stops[i]``; row ``j`` of that
range holds the value of row ``j - shift`` (a gap counted in rows moves values down, as
Featuretools does), missing when ``j - shift < 0``; the time of row ``j`` itself (its own).
"""

from __future__ import annotations

import numba
import numpy as np

MEAN, MAX, MIN, STD, COUNT, TREND, OUTLIERS = range(7)
STATISTICS = {"mean": MEAN, "max": MAX, "min": MIN, "std": STD, "count": COUNT, "trend": TREND,
              "outliers": OUTLIERS}


@numba.njit(cache=True)
def window_statistic(values, seconds, starts, stops, shift, check_starts, check_stops,
                     min_observations, min_rows, statistic):
    """``statistic`` of each row's window; missing (NaN) when the check range holds fewer than
    ``min_observations`` values, or the window fewer than ``min_rows`` rows."""
    n = starts.shape[0]
    out = np.full(n, np.nan)
    scratch = np.empty(values.shape[0])
    times = np.empty(values.shape[0])
    for i in range(n):
        observed = 0
        for j in range(check_starts[i], check_stops[i]):
            k = j - shift
            if k >= 0 and not np.isnan(values[k]):
                observed += 1
        if observed < min_observations or stops[i] - starts[i] < min_rows:
            continue
        m = 0
        for j in range(starts[i], stops[i]):
            k = j - shift
            if k >= 0 and not np.isnan(values[k]) and not np.isnan(seconds[j]):
                scratch[m] = values[k]
                times[m] = seconds[j]
                m += 1
        out[i] = _reduce(scratch[:m], times[:m], statistic)
    return out


SLIDING = frozenset({MEAN, MAX, MIN, STD, COUNT})


@numba.njit(cache=True)
def sliding_statistic(values, starts, stops, shift, check_starts, check_stops, min_observations,
                      min_rows, statistic):
    """``window_statistic`` for mean, extremes, deviation and count in one pass, for windows
    whose starts and stops never move back (rows in time order): values enter and leave
    running moments (Welford's, recomputed exactly once as many values have left as the window
    holds, so rounding cannot build up) and monotonic queues of candidates for the extremes, so
    a window of a year of rows costs about what a window of three does."""
    n = starts.shape[0]
    out = np.full(n, np.nan)
    size = values.shape[0] + max(shift, 0) + 1
    high_queue = np.empty(size, dtype=np.int64)
    low_queue = np.empty(size, dtype=np.int64)
    high_head = high_tail = low_head = low_tail = 0
    low = high = 0
    count = 0
    mean = spread = 0.0
    left = 0  # values removed since the moments were last recomputed exactly
    check_low = check_high = observed = 0
    for i in range(n):
        while check_high < check_stops[i]:
            k = check_high - shift
            observed += k >= 0 and not np.isnan(values[k])
            check_high += 1
        while check_low < check_starts[i]:
            k = check_low - shift
            observed -= k >= 0 and not np.isnan(values[k])
            check_low += 1
        while high < stops[i]:
            k = high - shift
            if k >= 0 and not np.isnan(values[k]):
                value = values[k]
                count += 1
                delta = value - mean
                mean += delta / count
                spread += delta * (value - mean)
                while high_tail > high_head and values[high_queue[high_tail - 1] - shift] <= value:
                    high_tail -= 1
                high_queue[high_tail] = high
                high_tail += 1
                while low_tail > low_head and values[low_queue[low_tail - 1] - shift] >= value:
                    low_tail -= 1
                low_queue[low_tail] = high
                low_tail += 1
            high += 1
        while low < starts[i]:
            k = low - shift
            if k >= 0 and not np.isnan(values[k]):
                value = values[k]
                count -= 1
                left += 1
                if count == 0:
                    mean = spread = 0.0
                else:
                    delta = value - mean
                    mean -= delta / count
                    spread -= delta * (value - mean)
            low += 1
        while high_tail > high_head and high_queue[high_head] < low:
            high_head += 1
        while low_tail > low_head and low_queue[low_head] < low:
            low_head += 1
        if left > count and statistic in (MEAN, STD):
            mean, spread = _exact_moments(values, low, high, shift)
            left = 0
        if observed < min_observations or stops[i] - starts[i] < min_rows:
            continue
        if statistic == COUNT:
            out[i] = count
        elif count == 0:
            continue
        elif statistic == MAX:
            out[i] = values[high_queue[high_head] - shift]
        elif statistic == MIN:
            out[i] = values[low_queue[low_head] - shift]
        elif values[high_queue[high_head] - shift] == values[low_queue[low_head] - shift]:
            out[i] = values[high_queue[high_head] - shift] if statistic == MEAN else (
                0.0 if count > 1 else np.nan)  # one value, repeated: exactly
        elif statistic == MEAN:
            out[i] = mean
        else:
            out[i] = np.sqrt(max(spread, 0.0) / (count - 1)) if count > 1 else np.nan
    return out


@numba.njit(cache=True)
def _exact_moments(values, low, high, shift):
    """Mean and sum of squared deviations of the values of rows ``low:high``, two passes."""
    total = 0.0
    count = 0
    for j in range(low, high):
        k = j - shift
        if k >= 0 and not np.isnan(values[k]):
            total += values[k]
            count += 1
    if count == 0:
        return 0.0, 0.0
    mean = total / count
    spread = 0.0
    for j in range(low, high):
        k = j - shift
        if k >= 0 and not np.isnan(values[k]):
            spread += (values[k] - mean) * (values[k] - mean)
    return mean, spread


@numba.njit(cache=True)
def expanding_statistic(values, seconds, shift, min_observations, statistic):
    """``statistic`` of every value up to ``shift`` rows before each row, in one pass (running
    count, sum, extremes, and Welford's centred moments for the deviation and the slope)."""
    n = values.shape[0]
    out = np.full(n, np.nan)
    count = 0
    total = 0.0
    largest = -np.inf
    smallest = np.inf
    mean = 0.0
    spread = 0.0
    pairs = 0
    mean_x = 0.0
    mean_y = 0.0
    spread_x = 0.0
    moment_xy = 0.0
    dividend = 0.0
    for i in range(n):
        k = i - shift
        if k >= 0 and not np.isnan(values[k]):
            value = values[k]
            count += 1
            total += value
            largest = max(largest, value)
            smallest = min(smallest, value)
            delta = value - mean
            mean += delta / count
            spread += delta * (value - mean)
            if not np.isnan(seconds[i]):
                if pairs == 0:
                    dividend = _time_dividend(seconds[i])
                x = seconds[i] / dividend
                pairs += 1
                delta_x = x - mean_x
                mean_x += delta_x / pairs
                mean_y += (value - mean_y) / pairs
                spread_x += delta_x * (x - mean_x)
                moment_xy += delta_x * (value - mean_y)
        if count < min_observations:
            continue
        if statistic == COUNT:
            out[i] = count
        elif count == 0:
            continue
        elif statistic == MEAN:
            out[i] = total / count
        elif statistic == MAX:
            out[i] = largest
        elif statistic == MIN:
            out[i] = smallest
        elif statistic == STD:
            out[i] = np.sqrt(spread / (count - 1)) if count > 1 else np.nan
        elif statistic == TREND and pairs > 2:
            out[i] = 0.0 if spread_x == 0.0 else moment_xy / spread_x
    return out


@numba.njit(cache=True)
def _time_dividend(seconds):
    """Days, hours, minutes or seconds: the largest unit the time is a whole number of."""
    first = np.trunc(seconds)
    for unit in (86400.0, 3600.0, 60.0):
        ratio = first / unit
        if np.round(ratio) == ratio:
            return unit
    return 1.0


@numba.njit(cache=True)
def _reduce(values, seconds, statistic):
    m = values.shape[0]
    if statistic == COUNT:
        return float(m)
    if m == 0:
        return np.nan
    if statistic == MEAN:
        return values.sum() / m
    if statistic == MAX:
        return values.max()
    if statistic == MIN:
        return values.min()
    if statistic == STD:
        if m < 2:
            return np.nan
        centred = values - values.sum() / m
        return np.sqrt((centred * centred).sum() / (m - 1))
    if statistic == TREND:
        return _trend(values, seconds)
    return float(outlier_count(values))


@numba.njit(cache=True)
def _trend(values, seconds):
    """Least-squares slope of the values against time in days, hours, minutes or seconds (the
    unit the first time is a whole number of); missing under 3 points, 0 for one time."""
    m = values.shape[0]
    if m <= 2:
        return np.nan
    x = seconds / _time_dividend(seconds[0])
    x = x - x.sum() / m
    y = values - values.sum() / m
    if np.all(x == x[0]):
        return 0.0
    return (x * y).sum() / (x * x).sum()


@numba.njit(cache=True)
def _quantile(ordered, q):
    """Linear-interpolation quantile of sorted values."""
    position = q * (ordered.shape[0] - 1)
    low = int(np.floor(position))
    high = min(low + 1, ordered.shape[0] - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@numba.njit(cache=True)
def outlier_count(values):
    """Values outside the box-plot whiskers: 1.5 interquartile ranges beyond the quartiles
    (linear-interpolation quantiles), the whiskers rounded to 5 decimals as Woodwork does."""
    ordered = np.sort(values)
    n = ordered.shape[0]
    low_value, high_value = ordered[0], ordered[n - 1]
    q1, q3 = _quantile(ordered, 0.25), _quantile(ordered, 0.75)
    low_bound, high_bound = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
    low_bound = np.round(max(low_bound, low_value), 5)
    high_bound = np.round(min(high_bound, high_value), 5)
    count = 0
    if low_bound > low_value:
        for v in ordered:
            count += v < low_bound
    if high_bound < high_value:
        for v in ordered:
            count += v > high_bound
    return count


@numba.njit(cache=True)
def exponential_moments(values, alpha, ignore_missing, variance):
    """Exponentially weighted mean (``variance`` False) or unbiased variance of each prefix,
    with weights (1 - alpha)^age normalised to sum 1 (pandas' ``adjust=True``). A missing value
    ages the weights unless ``ignore_missing``. Missing until the first value (the variance:
    until two)."""
    n = values.shape[0]
    out = np.full(n, np.nan)
    decay = 1.0 - alpha
    mean = np.nan
    spread = 0.0  # weighted variance (biased) of the values seen so far
    weight = 1.0  # weight of the old values relative to a new one
    total_weight = 1.0
    total_weight2 = 1.0
    seen = 0
    for i in range(n):
        value = values[i]
        observed = not np.isnan(value)
        seen += observed
        if np.isnan(mean):
            if observed:
                mean, spread, weight, total_weight, total_weight2 = value, 0.0, 1.0, 1.0, 1.0
        elif observed or not ignore_missing:
            weight *= decay
            total_weight *= decay
            total_weight2 *= decay * decay
            if observed:
                old = mean
                if mean != value:
                    mean = (weight * old + value) / (weight + 1.0)
                spread = (weight * (spread + (old - mean) * (old - mean))
                          + (value - mean) * (value - mean)) / (weight + 1.0)
                total_weight += 1.0
                total_weight2 += 1.0
                weight += 1.0
        if seen == 0:
            continue
        if not variance:
            out[i] = mean
        else:
            denominator = total_weight * total_weight - total_weight2
            if denominator > 0:
                out[i] = total_weight * total_weight / denominator * spread
    return out
