"""One place for dataframe-library differences: read any supported input as polars, and hand
results back in the caller's kind (pandas, polars or pyarrow)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pyarrow as pa

from featurekit.errors import FeaturekitError

FRAME_KINDS = ("pandas", "polars", "pyarrow")


def frame_kind(data: Any) -> str:
    """Name the library of ``data`` ("pandas", "polars", "pyarrow"); paths count as polars."""
    if isinstance(data, pd.DataFrame):
        return "pandas"
    if isinstance(data, (pl.DataFrame, pl.LazyFrame)):
        return "polars"
    if isinstance(data, pa.Table):
        return "pyarrow"
    if isinstance(data, (str, os.PathLike)):
        return "polars"
    raise FeaturekitError(
        f"unsupported table type {type(data).__name__}. Fix: pass a pandas or polars DataFrame, "
        "a pyarrow Table, or a path to a .parquet or .csv file"
    )


def to_polars(data: Any, table: str, index_name: str | None = None) -> pl.DataFrame:
    """Read ``data`` as a new polars DataFrame without touching the caller's object."""
    kind = frame_kind(data)
    if kind == "pandas":
        frame = data
        if index_name is not None and index_name not in frame.columns and frame.index.name == index_name:
            frame = frame.reset_index()
        return pl.from_pandas(frame)
    if kind == "pyarrow":
        return pl.from_arrow(data)
    if isinstance(data, pl.LazyFrame):
        return data.collect()
    if isinstance(data, pl.DataFrame):
        return data.clone()
    path = Path(data)
    if not path.exists():
        raise FeaturekitError(f"table {table!r}: file {str(path)!r} does not exist. Fix: check the path")
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return pl.read_parquet(path)
    if suffix in (".csv", ".txt"):
        return pl.read_csv(path, try_parse_dates=True)
    raise FeaturekitError(
        f"table {table!r}: cannot read {path.name!r}. Fix: give a .parquet or .csv file, or a frame"
    )


def from_polars(frame: pl.DataFrame, kind: str, index: list[str]) -> Any:
    """Convert a result to ``kind``; pandas results are indexed by the ``index`` columns."""
    if kind == "polars":
        return frame
    if kind == "pyarrow":
        return frame.to_arrow()
    if kind == "pandas":
        # One block per column: numeric columns without missing values are handed over
        # without a copy, and a wide matrix is never consolidated into a second 2-D copy.
        result = frame.to_pandas(split_blocks=True)
        return result.set_index(index if len(index) > 1 else index[0])
    raise FeaturekitError(f"unknown return_type {kind!r}. Fix: use one of {FRAME_KINDS}")
