"""Data checks and explicit fixes: ``es.check()`` reports what is wrong or suspicious (a frame,
a readable print, an HTML page); ``dedupe``, ``parse_numbers``, ``parse_dates`` and
``drop_orphans`` fix what it names, on request only, each returning the cleaned data and a
report of every change. Nothing is dropped or coerced silently. ``replace_frames`` makes a new
entity set with tables you cleaned yourself (a unit converted, rows dropped)."""

from featurekit.prep.checks import check
from featurekit.prep.fixes import (
    dedupe,
    drop_orphans,
    parse_dates,
    parse_numbers,
    replace_frames,
)
from featurekit.prep.report import CheckReport, Finding

__all__ = ["CheckReport", "Finding", "check", "dedupe", "drop_orphans", "parse_dates",
           "parse_numbers", "replace_frames"]
