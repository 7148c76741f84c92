"""What travels between the driver and the workers: an object pickled once by cloudpickle,
with its polars frames and series set aside as Arrow tables.

Dask moves Arrow tables without copying them into the message (their buffers travel as
frames of their own), while a large ``bytes`` object, or a polars frame pickled into one, is
copied on every hop. Measured on a LocalCluster of 2 workers, two tasks carrying 18.6 MB of
rows each: 0.05-0.06 s with the rows as Arrow tables, 0.14-0.19 s with them pickled into
bytes (``benchmarks/README.md``).
"""

from __future__ import annotations

import io
import pickle
from dataclasses import dataclass
from functools import cache
from typing import Any

import polars as pl

#: dtypes that go to Arrow and back unchanged (others stay inside the pickled bytes)
_SAFE = (pl.Boolean, pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16, pl.UInt32,
         pl.UInt64, pl.Float32, pl.Float64, pl.String, pl.Date, pl.Datetime, pl.Duration,
         pl.Time, pl.Null, pl.Binary, pl.Categorical, pl.Enum)


def _travels_as_arrow(dtypes: Any) -> bool:
    return all(isinstance(dtype, _SAFE) or dtype in _SAFE for dtype in dtypes)


@cache
def _pickler_class() -> type:
    import cloudpickle

    class _SetAside(cloudpickle.CloudPickler):
        """cloudpickle, with every polars frame or series of plain dtypes replaced by a
        reference to an Arrow table kept beside the bytes."""

        def __init__(self, file: io.BytesIO, tables: list[Any]) -> None:
            super().__init__(file, protocol=5)
            self.tables = tables
            self.placed: dict[int, tuple[str, int]] = {}  # id of a frame -> its reference

        def persistent_id(self, obj: Any) -> Any:
            if isinstance(obj, pl.DataFrame):
                kind, dtypes = "frame", obj.dtypes
            elif isinstance(obj, pl.Series):
                kind, dtypes = "series", [obj.dtype]
            else:
                return None
            if id(obj) in self.placed:
                return self.placed[id(obj)]
            if not _travels_as_arrow(dtypes):
                return None
            self.tables.append(obj.to_arrow() if kind == "frame" else obj.to_frame().to_arrow())
            self.placed[id(obj)] = (kind, len(self.tables) - 1)
            return self.placed[id(obj)]

    return _SetAside


class _Unpickler(pickle.Unpickler):
    """Puts the frames and series set aside back in their places."""

    def __init__(self, file: io.BytesIO, tables: list[Any]) -> None:
        super().__init__(file)
        self.tables = tables
        self.rebuilt: dict[int, Any] = {}  # a frame held twice comes back as one frame

    def persistent_load(self, pid: Any) -> Any:
        kind, position = pid
        if position not in self.rebuilt:
            frame = pl.from_arrow(self.tables[position])
            self.rebuilt[position] = frame.to_series(0) if kind == "series" else frame
        return self.rebuilt[position]


@dataclass(frozen=True)
class Shipment:
    """An object packed on one side for the other: ``data`` is its pickle (cloudpickle, so
    that functions from a notebook travel by value) without its frames, ``tables`` the
    frames as Arrow tables. Dask's scheduler holds the bytes and tables, never the frames."""

    data: bytes
    tables: tuple[Any, ...] = ()

    @classmethod
    def of(cls, obj: Any) -> Shipment:
        """Pack ``obj`` (any picklable object)."""
        tables: list[Any] = []
        buffer = io.BytesIO()
        _pickler_class()(buffer, tables).dump(obj)
        return cls(buffer.getvalue(), tuple(tables))

    def unpack(self) -> Any:
        """The object packed, its frames rebuilt from the Arrow tables (without copying
        plain numeric columns)."""
        return _Unpickler(io.BytesIO(self.data), list(self.tables)).load()
