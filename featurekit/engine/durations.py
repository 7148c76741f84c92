"""Durations as users write them: ``"30d"``, ``"12h"``, Featuretools' ``"2 days"``,
``"1 month"``, ``"3 weeks"``, timedeltas, and pandas ``DateOffset(months=1)``.

Days and smaller units are fixed lengths. Months and years are calendar units: a training
window of ``"1 month"`` reaches back to the same day of the previous month from each cutoff
(the last day of a shorter month when that day does not exist, as Featuretools' relativedelta
does), so it spans 28 to 31 days depending on the cutoff."""

from __future__ import annotations

import datetime as dt
import numbers
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from featurekit.errors import FeaturekitError

# Featuretools' unit words (after making them plural and lower case) -> its unit codes
_WORDS = {"milliseconds": "ms", "seconds": "s", "minutes": "m", "hours": "h", "days": "d",
          "weeks": "w", "months": "mo", "years": "Y", "observations": "o"}
_FIXED = {"ms": "ms", "s": "s", "m": "min", "h": "h", "d": "D", "w": "W"}  # -> pandas unit
_SPELLED = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]+)\s*$")
_EXAMPLES = "'30d', '12h', '2 days', '1 month', a datetime.timedelta or pd.DateOffset(months=1)"


@dataclass(frozen=True)
class CalendarWindow:
    """A whole number of calendar months (a year is 12), subtracted from each cutoff."""

    months: int

    def __str__(self) -> str:
        return f"{self.months} month{'s' if self.months != 1 else ''}"


def read_duration(value: Any, what: str, calendar: bool = False) -> pd.Timedelta | CalendarWindow | None:
    """``value`` as a positive fixed duration, or (``calendar=True``) a CalendarWindow for
    months and years; None stays None. ``what`` names the argument in error messages."""
    if value is None:
        return None
    if isinstance(value, bool) or isinstance(value, numbers.Number):
        raise FeaturekitError(f"{what} {value!r} is a bare number, not a duration. "
                              f"Fix: pass e.g. {_EXAMPLES}")
    if isinstance(value, pd.DateOffset):
        duration = _from_offset(value, what)
    elif isinstance(value, str):
        duration = _from_text(value, what)
    elif isinstance(value, dt.timedelta | np.timedelta64):
        duration = pd.Timedelta(value)
    else:
        raise FeaturekitError(f"{what} {value!r} is not a duration. Fix: pass e.g. {_EXAMPLES}")
    if isinstance(duration, CalendarWindow):
        if not calendar:
            raise FeaturekitError(f"{what} {value!r} is in calendar months, whose length varies; "
                                  f"{what} takes a fixed length. Fix: pass days, e.g. '30d'")
        if duration.months <= 0:
            raise FeaturekitError(f"{what} must be positive, got {value!r}. Fix: pass e.g. '1 month'")
        return duration
    if duration is pd.NaT or duration <= pd.Timedelta(0):
        raise FeaturekitError(f"{what} must be positive, got {value!r}. Fix: pass a positive "
                              "duration such as '30d'")
    return duration


def _from_text(text: str, what: str) -> pd.Timedelta | CalendarWindow:
    spelled = _SPELLED.match(text)
    if spelled:
        number, unit = spelled.groups()
        code = _unit_code(unit)
        if code == "o":
            raise FeaturekitError(f"{what} {text!r} counts observations; featurekit's windows are "
                                  "lengths of time. Fix: pass a duration such as '30d'")
        if code in ("mo", "Y"):
            months = float(number) * (12 if code == "Y" else 1)
            if months != int(months):
                raise FeaturekitError(f"{what} {text!r} is not a whole number of months. "
                                      "Fix: pass whole months, or days such as '45d'")
            return CalendarWindow(int(months))
        if code in _FIXED:
            return pd.Timedelta(float(number), _FIXED[code])
    text = re.sub(r"^\s*(-?[\d.]+)\s*d(ays?)?\s*$", r"\1D", text)  # "-3d": pandas wants "D"
    try:  # anything else pandas reads: "1 days 02:00:00", "90min", "1D"
        duration = pd.Timedelta(text)
    except (ValueError, TypeError, OverflowError):
        duration = pd.NaT
    if duration is pd.NaT:  # pandas reads "" as NaT
        raise FeaturekitError(f"{what} {text!r} is not a duration. Fix: pass e.g. {_EXAMPLES}")
    return duration


def _unit_code(unit: str) -> str:
    """Featuretools' reading of a unit: "day", "Days" and "d" are days, "m" is minutes,
    "mo" months, "Y" years (one-letter units keep their case)."""
    if len(unit) > 2 and not unit.endswith("s"):
        unit = unit + "s"
    if len(unit) > 1:
        unit = unit.lower()
    if unit == "D":  # pandas' day
        return "d"
    return _WORDS.get(unit, unit)


def _from_offset(offset: pd.DateOffset, what: str) -> pd.Timedelta | CalendarWindow:
    keywords = dict(getattr(offset, "kwds", {}))
    if type(offset) is not pd.DateOffset or not keywords:
        try:
            return pd.Timedelta(offset)
        except (ValueError, TypeError):
            raise FeaturekitError(f"{what} {offset!r} is not a fixed duration nor whole months. "
                                  f"Fix: pass e.g. {_EXAMPLES}") from None
    months = keywords.pop("months", 0) + 12 * keywords.pop("years", 0)
    if months and keywords:
        raise FeaturekitError(f"{what} {offset!r} mixes months with other units. Fix: pass "
                              "months alone (pd.DateOffset(months=2)) or a fixed duration")
    if months:
        return CalendarWindow(int(months))
    try:
        return pd.Timedelta(**keywords)
    except (ValueError, TypeError):
        raise FeaturekitError(f"{what} {offset!r} is not a duration. Fix: pass e.g. "
                              f"{_EXAMPLES}") from None


__all__ = ["CalendarWindow", "read_duration"]
