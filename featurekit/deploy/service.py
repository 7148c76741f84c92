"""The serving state behind the HTTP API: a loaded pipeline, the historical tables it holds
(growing with the rows requests send) and the online feature path, used under one lock.

``Service`` works in-process too (no HTTP): ``Service(path).predict({...})``.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl

from featurekit.deploy._manifest import DeploymentError
from featurekit.deploy.requests import (
    Request,
    RequestError,
    frame_of,
    kind_of,
    read_instances,
)
from featurekit.online.rows import key_values

MAX_ROWS = 10_000  # rows and instances in one request, beyond which it is refused with 413
MAX_BYTES = 5_000_000  # request body size, beyond which it is refused with 413


class Service:
    """A saved pipeline ready to answer feature and prediction requests.

    ``path`` is a directory written by ``fk.deploy.save`` whose pipeline starts with a
    DeepFeatureSynthesis step. ``max_rows`` bounds the rows plus instances of one request.
    """

    def __init__(self, path: str | os.PathLike, max_rows: int = MAX_ROWS,
                 max_bytes: int = MAX_BYTES, trusted: tuple[str, ...] = ()):
        from featurekit.arguments import check_count
        from featurekit.deploy.store import load_parts
        from featurekit.engine.lazy_plan import output_columns
        from featurekit.engine.time_scale import time_scale
        from featurekit.online import OnlineFeatures

        check_count("max_rows", max_rows, low=1, optional=False)
        check_count("max_bytes", max_bytes, low=1, optional=False)
        parts = load_parts(path, trusted=trusted)
        self.path = Path(path)
        self.pipeline = parts["pipeline"]
        self.manifest = parts["manifest"]
        first_name, first = self.pipeline.steps[0]
        if parts["dfs_step"] != first_name:
            raise DeploymentError(f"saved pipeline {str(path)!r}: serving computes features from "
                                  "the held tables, so the pipeline's first step must be "
                                  f"DeepFeatureSynthesis (it is {type(first).__name__}). Fix: put "
                                  "the DeepFeatureSynthesis step first")
        self.dfs = first
        self.entityset = parts["entityset"]
        self.definitions = self.dfs.features_
        self.feature_names = output_columns(self.definitions)
        own = [c for c in getattr(self.dfs, "feature_names_in_", [])
               if c not in (self.dfs._index_name(), self.dfs.cutoff_time_column)]
        if own:
            raise DeploymentError(f"saved pipeline {str(path)!r}: its X had columns besides the "
                                  f"ids and cutoff times ({own}), which a request cannot send. "
                                  "Fix: fit the pipeline on ids (and cutoff times) only")
        if self.dfs.training_window is not None:
            raise DeploymentError("serving does not apply DeepFeatureSynthesis' training_window "
                                  "yet. Fix: fit without training_window to serve the pipeline")
        self.target = self.dfs.target
        self.key = self.entityset[self.target].index
        scale = time_scale(self.entityset)
        self.time_dtype = None if scale is None else self._time_dtype()
        self.max_rows = max_rows
        self.max_bytes = max_bytes
        self.online = OnlineFeatures(self.entityset, self.definitions)
        self.lock = threading.Lock()
        self._warm_up()
        self.requests_served = 0

    def _warm_up(self) -> None:
        """Compute one held instance once and build the lookups that check new rows' ids, so
        that the first request does not pay for them and for loading the compiled kernels
        (about a second, and 30 ms more for the first request with rows at 10,000
        customers); then move everything held out of the garbage collector's way (shorter
        pauses under load)."""
        ids = self.entityset[self.target].frame[self.key]
        if ids.len():
            self.online.compute(ids.head(1).to_list())
        for name, table in self.entityset.tables.items():  # what checks new rows' ids
            for part in self.online.tables[name].parts:
                part.lookup(table.index)
        import gc

        gc.collect()
        gc.freeze()  # what is held now is never garbage: later collections skip it

    # ------------------------------------------------------------------ description
    def _time_dtype(self) -> pl.DataType:
        for table in self.entityset.tables.values():
            if table.time_index is not None:
                return table.frame.schema[table.time_index]
        raise AssertionError("a time scale without a time index")

    def _schemas(self) -> dict[str, dict[str, pl.DataType]]:
        if not hasattr(self, "_table_schemas"):
            self._table_schemas = {name: dict(table.frame.schema)
                                   for name, table in self.entityset.tables.items()}
        return self._table_schemas

    def schema(self) -> dict[str, Any]:
        """What a request must contain: the target and its id, the cutoff time's form, and
        per table the columns every new row needs (kind and logical type) and its keys."""
        tables = {}
        for name, table in self.entityset.tables.items():
            tables[name] = {
                "index": table.index, "time_index": table.time_index,
                "parents": {r.child_key: r.parent for r in self.entityset.parent_relationships(name)},
                "columns": {c: {"kind": kind_of(d), "logical_type": table.schemas[c].logical_type,
                                "nullable": c != table.index and c != table.time_index
                                and c not in {r.child_key for r in
                                              self.entityset.parent_relationships(name)}}
                            for c, d in table.frame.schema.items()},
            }
        return {
            "target": self.target, "id": {"column": self.key, "kind": kind_of(
                self.entityset[self.target].frame.schema[self.key])},
            "cutoff_time": None if self.time_dtype is None else kind_of(self.time_dtype),
            "tables": tables, "feature_names": self.feature_names,
            "prediction": self._prediction_kind(), "max_rows": self.max_rows,
            "max_bytes": self.max_bytes,
        }

    def _prediction_kind(self) -> dict[str, Any]:
        model = self.pipeline.steps[-1][1]
        classes = getattr(model, "classes_", None)
        return {"model": type(model).__name__,
                "classes": None if classes is None else _plain(np.asarray(classes)),
                "probabilities": hasattr(self.pipeline, "predict_proba")}

    # ------------------------------------------------------------------ requests
    def read(self, body: Any) -> Request:
        """Check a request's shape and types (no held data is touched)."""
        if not isinstance(body, dict):
            raise RequestError("body", "expected a JSON object",
                               'send {"instances": [{"id": ...}], "rows": {...}}')
        known = {"instances", "rows", "keep_rows", "return_features"}
        extra = sorted(body.keys() - known)
        if extra:
            raise RequestError(extra[0] or '""', "unknown field", f"use only {sorted(known)}")
        rows = body.get("rows") or {}
        if not isinstance(rows, dict):
            raise RequestError("rows", "expected an object {table: [rows]}",
                               'send {"sessions": [{...}], ...}')
        instances = body.get("instances")
        count = (len(instances) if isinstance(instances, list) else 0) + sum(
            len(r) if isinstance(r, list) else 0 for r in rows.values())
        if count > self.max_rows:
            raise RequestError("rows", f"{count} rows and instances, more than the limit of "
                               f"{self.max_rows}", "split the request", status=413)
        for flag in ("keep_rows", "return_features"):
            if not isinstance(body.get(flag, True), bool):
                raise RequestError(flag, f"expected true or false, got {body[flag]!r}",
                                   f"send \"{flag}\": true or false")
        key_dtype = self.entityset[self.target].frame.schema[self.key]
        ids, cutoffs = read_instances(body.get("instances"), key_dtype, self.time_dtype)
        ids = ids.alias(self.key)
        schemas = self._schemas()
        frames = {}
        for table, records in rows.items():
            if table not in schemas:
                raise RequestError(f"rows.{table}", "no such table",
                                   f"send rows of {sorted(schemas)}")
            frames[table] = frame_of(records, schemas[table], f"rows.{table}")
            self._check_required(table, frames[table])
        return Request(ids, cutoffs, frames, body.get("keep_rows", True),
                       body.get("return_features", True))

    def _check_required(self, table: str, frame: pl.DataFrame) -> None:
        """Index, foreign keys and time index of new rows must be present."""
        held = self.entityset[table]
        required = [held.index, *(r.child_key for r in self.entityset.parent_relationships(table))]
        if held.time_index is not None:
            required.append(held.time_index)
        for column in required:
            if frame[column].null_count():
                position = int(frame[column].is_null().arg_max())
                raise RequestError(f"rows.{table}[{position}].{column}", "null",
                                   "give every new row its id, its parents' ids and its time")
        repeated = frame[held.index].is_duplicated()
        if repeated.any():
            position = int(repeated.arg_max())
            raise RequestError(f"rows.{table}[{position}].{held.index}",
                               f"id {frame[held.index][position]!r} appears twice in the request",
                               "give each new row its own id")

    def _held(self, table: str, values: pl.Series) -> np.ndarray:
        """Whether each of ``values`` is the id of a row ``table`` holds (missing: no), by
        the online path's sorted lookups: a binary search per value, no copy of the ids."""
        found = np.zeros(values.len(), dtype=bool)
        present = values.is_not_null().to_numpy()
        if not present.any():
            return found
        numbers = key_values(values)
        index = self.entityset[table].index
        hit = np.zeros(len(numbers), dtype=bool)
        for part in self.online.tables[table].parts:
            hit |= part.lookup(index).contains(numbers)
        found[present] = hit
        return found

    def _check_against_held(self, request: Request) -> None:
        """Under the lock: new ids are new, keys refer to held or sent rows, instances exist."""
        sent = {table: frame[self.entityset[table].index] for table, frame in request.rows.items()}

        def known(table: str, values: pl.Series) -> np.ndarray:
            held = self._held(table, values)
            if table in sent:
                ids = sent[table].cast(values.dtype, strict=False)  # a key's type may differ
                held |= values.is_in(ids.implode()).fill_null(False).to_numpy()
            return held

        for table, frame in request.rows.items():
            index = self.entityset[table].index
            clash = self._held(table, frame[index])
            if clash.any():
                position = int(clash.argmax())
                raise RequestError(f"rows.{table}[{position}].{index}",
                                   f"id {frame[index][position]!r} is already held",
                                   "send only new rows (a held row cannot be changed)")
            for relationship in self.entityset.parent_relationships(table):
                keys = frame[relationship.child_key]
                unknown = ~known(relationship.parent, keys)
                if unknown.any():
                    position = int(unknown.argmax())
                    raise RequestError(
                        f"rows.{table}[{position}].{relationship.child_key}",
                        f"unknown {relationship.parent} id {keys[position]!r}",
                        f"send the {relationship.parent} row in rows.{relationship.parent}, or "
                        f"use the id of a held {relationship.parent} row")
        unknown = ~known(self.target, request.ids)
        if unknown.any():
            position = int(unknown.argmax())
            raise RequestError(f"instances[{position}].id",
                               f"unknown {self.target} id {request.ids[position]!r}",
                               f"send its row in rows.{self.target}, or use a held id "
                               f"(GET /schema lists the tables)")

    def _parents_first(self, tables: list[str]) -> list[str]:
        import networkx as nx

        order = list(nx.topological_sort(self.entityset.graph))
        return sorted(tables, key=order.index)

    def compute(self, request: Request) -> pd.DataFrame:
        """The features of the request's instances, as DeepFeatureSynthesis.transform gives
        them (a pandas frame, one row per instance in order); appends the rows it keeps."""
        with self.lock:
            self._check_against_held(request)
            rows = request.rows or None  # for this call only, unless they are kept
            if request.keep_rows and rows:
                for table in self._parents_first(list(rows)):
                    frame = rows[table]
                    if frame.height:
                        self.online.append(table, frame)
                rows = None
            matrix = self._online(request, rows)
            self.requests_served += 1
        return matrix

    def _online(self, request: Request, rows: dict[str, pl.DataFrame] | None) -> pd.DataFrame:
        """The online path's features, one row per instance in the request's order. One call
        when it can; instances without a cutoff, and an id asked for again (at another
        cutoff), go to calls of their own (the online path takes each id once per call)."""
        ids, cutoffs = request.ids, request.cutoffs
        if (cutoffs is None or not cutoffs.null_count()) and (
                ids.len() == 1 or ids.n_unique() == ids.len()):  # the usual case: one call
            return self._online_call(ids, cutoffs, rows)
        timed = (pl.repeat(False, ids.len(), eager=True) if cutoffs is None
                 else cutoffs.is_not_null())
        groups = pl.DataFrame({"id": ids, "timed": timed}).select(
            group=pl.col("timed").cast(pl.Int64) + 2 * pl.int_range(pl.len()).over("id"))
        group = groups["group"].to_numpy()
        if (group == group[0]).all():
            return self._online_call(ids, cutoffs if timed[0] else None, rows)
        parts, positions = [], []
        for number in np.unique(group):
            chosen = np.flatnonzero(group == number)
            subset = pl.Series(chosen)
            parts.append(self._online_call(ids.gather(subset), cutoffs.gather(subset)
                                           if number % 2 else None, rows))
            positions.append(chosen)
        order = np.argsort(np.concatenate(positions), kind="stable")
        return pd.concat(parts, ignore_index=True).iloc[order].reset_index(drop=True)

    def _online_call(self, ids: pl.Series, cutoffs: pl.Series | None,
                     rows: dict[str, pl.DataFrame] | None) -> pd.DataFrame:
        return _as_pandas(self.online.compute(ids, cutoff_time=cutoffs, rows=rows),
                          self.feature_names)

    def features(self, body: Any) -> dict[str, Any]:
        """POST /features: the features of each instance, with their names."""
        return self._answer_one("features", body)

    def predict(self, body: Any) -> dict[str, Any]:
        """POST /predict: the model's prediction per instance (and class probabilities when
        it has them; the features too unless ``return_features`` is false)."""
        return self._answer_one("predict", body)

    def _answer_one(self, kind: str, body: Any) -> dict[str, Any]:
        [answer] = self.answer_many([(kind, body)])
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def answer_many(self, calls: Sequence[tuple[str, Any]]) -> list[Any]:
        """The answers of several requests, in order, each exactly as if it came alone
        after the ones before it: a dict, or the exception that request raised. ``calls``
        holds ("features" or "predict", body) pairs.

        Features are computed in the requests' order: a request that sends rows on its
        own, in its place (its rows change what the requests after it see), and a run of
        requests that send none from one online call. Then one pass through the model's
        steps answers every prediction of the batch: its cost hardly grows with the rows
        (measured: 6.4 ms for one row, 6.6 ms for 16), which is how one server keeps up when
        each request alone would take longer than the time between requests."""
        answers: list[Any] = [None] * len(calls)
        requests: dict[int, Request] = {}
        for position, (_, body) in enumerate(calls):
            try:
                requests[position] = self.read(body)
            except Exception as error:  # noqa: BLE001 - the answer of that request alone
                answers[position] = error
        matrices: dict[int, pd.DataFrame] = {}
        run: list[int] = []
        instances = 0
        for position in sorted(requests):
            request = requests[position]
            if request.rows or instances + request.ids.len() > self.max_rows:
                self._features_of_run(requests, run, matrices, answers)
                run, instances = [], 0
            if request.rows:
                self._features_of_run(requests, [position], matrices, answers)
            else:
                run.append(position)
                instances += request.ids.len()
        self._features_of_run(requests, run, matrices, answers)
        predicted = [p for p in sorted(matrices) if calls[p][0] == "predict"]
        try:
            outputs = dict(zip(predicted, self._model_outputs(
                [matrices[p] for p in predicted]), strict=True))
        except Exception as error:  # noqa: BLE001 - every prediction of the batch gets it
            outputs = {}
            for position in predicted:
                answers[position] = error
        for position, matrix in matrices.items():
            if answers[position] is not None:
                continue
            request = requests[position]
            answer: dict[str, Any] = {"ids": _plain(request.ids.to_numpy())}
            answer.update(outputs.get(position, {}))
            if calls[position][0] == "features" or request.return_features:
                answer["feature_names"] = self.feature_names
                answer["features"] = _rows(matrix)
            answers[position] = answer
        return answers

    def _features_of_run(self, requests: dict[int, Request], run: list[int],
                         matrices: dict[int, pd.DataFrame], answers: list[Any]) -> None:
        """The features of the requests at positions ``run`` (one that sends rows, or
        several that send none) into ``matrices``; a request's error into ``answers``."""
        if not run:
            return
        try:
            if len(run) == 1:
                matrices[run[0]] = self.compute(requests[run[0]])
            else:
                matrices.update(self._compute_together(requests, run, answers))
        except Exception as error:  # noqa: BLE001 - every request of the run gets it
            for position in run:
                if answers[position] is None:
                    answers[position] = error

    def _compute_together(self, requests: dict[int, Request], run: list[int],
                          answers: list[Any]) -> dict[int, pd.DataFrame]:
        """Features of the run's requests (none sends rows) from one online call; a request
        naming an unknown id gets its error and is left out."""
        with self.lock:
            checked = []
            for position in run:
                try:
                    self._check_against_held(requests[position])
                    checked.append(position)
                except RequestError as error:
                    answers[position] = error
            if not checked:
                return {}
            asked = [requests[p] for p in checked]
            matrix = self._online(Request(pl.concat([r.ids for r in asked]),
                                          _joined_cutoffs(asked, self.time_dtype)), None)
            self.requests_served += len(checked)
        bounds = np.cumsum([0] + [r.ids.len() for r in asked])
        return {position: matrix.iloc[a:b].reset_index(drop=True)
                for position, a, b in zip(checked, bounds[:-1], bounds[1:], strict=True)}

    def _model_outputs(self, matrices: list[pd.DataFrame]) -> list[dict[str, Any]]:
        """The model's predictions (and class probabilities) for each matrix. The steps
        between DFS and the model run once over every matrix (their cost is per call, not
        per row); the model itself is called per matrix, on a fresh copy of its rows, so
        that its answer is bit for bit the one the request gets alone (a matrix product over
        more rows may round the last bit differently)."""
        if not matrices:
            return []
        transformed: Any = pd.concat(matrices, ignore_index=True) if len(matrices) > 1 \
            else matrices[0]
        for _, step in self.pipeline.steps[1:-1]:
            if step is not None and step != "passthrough":
                transformed = step.transform(transformed)
        model = self.pipeline.steps[-1][1]
        bounds = np.cumsum([0] + [len(m) for m in matrices])
        answers = []
        for a, b in zip(bounds[:-1], bounds[1:], strict=True):
            rows = _rows_between(transformed, int(a), int(b), len(matrices) > 1)
            answer: dict[str, Any] = {"predictions": _plain(np.asarray(model.predict(rows)))}
            if hasattr(model, "predict_proba"):
                answer["classes"] = _plain(np.asarray(model.classes_))
                answer["probabilities"] = np.asarray(model.predict_proba(rows)).tolist()
            answers.append(answer)
        return answers


def _rows_between(transformed: Any, start: int, stop: int, copy: bool) -> Any:
    """Rows ``start:stop`` of a transformed matrix (numpy, scipy sparse or pandas), as a
    matrix of their own when ``copy`` (laid out as if they had been transformed alone)."""
    if hasattr(transformed, "iloc"):
        rows = transformed.iloc[start:stop]
        return rows.copy() if copy else rows
    rows = transformed[start:stop]
    if not copy:
        return rows
    return rows.copy() if hasattr(rows, "tocsr") else np.array(rows, order="C")


def _joined_cutoffs(requests: list[Request], dtype: pl.DataType | None) -> pl.Series | None:
    """The requests' cutoffs one after another (missing for a request that gave none), or
    None when no request gave any."""
    if all(r.cutoffs is None for r in requests):
        return None
    return pl.concat([r.cutoffs if r.cutoffs is not None
                      else pl.Series(values=[None] * r.ids.len(), dtype=dtype)
                      for r in requests])


def _as_pandas(result: Any, names: list[str]) -> pd.DataFrame:
    """The online result as the pandas frame DeepFeatureSynthesis.transform hands the next
    step (its columns in the features' order, a fresh 0..n-1 index)."""
    frame = result.to_pandas() if isinstance(result, pl.DataFrame) else result
    if list(frame.columns) != names:
        frame = frame[names]
    frame.index = pd.RangeIndex(len(frame))  # a frame of our own: no copy needed
    return frame


def _plain(values: np.ndarray) -> list[Any]:
    """numpy values as JSON-ready Python values (missing as None)."""
    if values.dtype.kind == "f":
        return [None if np.isnan(v) else float(v) for v in values]
    if values.dtype.kind == "M":
        return [None if np.isnat(v) else str(v) for v in values]
    return values.tolist()


def _rows(matrix: pd.DataFrame) -> list[list[Any]]:
    """A feature matrix as JSON-ready rows: missing values as null, categories as their
    values, times as ISO text (one conversion, then a pass over a request's few cells)."""
    return [[_plain_value(v) for v in row] for row in matrix.to_numpy(dtype=object).tolist()]


_JSON_READY = (int, str, bool)


def _plain_value(value: Any) -> Any:
    """One value as JSON takes it: missing as None, numpy scalars as Python's, times as text."""
    if isinstance(value, _JSON_READY):
        return value
    if isinstance(value, float):
        return None if value != value else value
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        return _plain_value(value.item())
    if isinstance(value, pd.Timestamp | np.datetime64 | dt.datetime | dt.date):
        return pd.Timestamp(value).isoformat()
    return str(value)
