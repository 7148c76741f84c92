"""Reading serving requests (no HTTP): any JSON value in any field is either read as the
held table's type or refused with a RequestError naming that field; answers are plain JSON."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from featurekit.deploy import Service
from featurekit.deploy.requests import RequestError
from featurekit.deploy.service import _rows

JSON = st.recursive(st.none() | st.booleans() | st.integers(-2**70, 2**70)
                    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12),
                    lambda inner: st.lists(inner, max_size=2)
                    | st.dictionaries(st.text(max_size=3), inner, max_size=2), max_leaves=3)
TIMES = st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1)).map(
    dt.datetime.isoformat)
FIELDS = {  # per field of a request: a valid value, or any JSON value at all
    "id": st.integers(1, 80) | JSON,
    "cutoff_time": st.none() | TIMES | JSON,
    "session_id": st.integers(10**6, 10**7) | JSON,
    "customer_id": st.integers(1, 80) | JSON,
    "device": st.sampled_from(["mobile", "desktop"]) | JSON,
    "session_start": TIMES | JSON,
}


@pytest.fixture(scope="module")
def service(saved):
    return Service(saved)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.fixed_dictionaries(FIELDS))
def test_any_json_is_read_as_the_tables_types_or_refused_naming_its_field(service, values):
    session = {k: values[k] for k in ("session_id", "customer_id", "device", "session_start")}
    body = {"instances": [{"id": values["id"], "cutoff_time": values["cutoff_time"]}],
            "rows": {"sessions": [session]}}
    try:
        request = service.read(body)
    except RequestError as error:
        problem = error.problems[0]
        assert problem["field"].startswith(("instances[0].", "rows.sessions[0].", "instances.",
                                            "rows.sessions.")), problem
        assert problem["problem"] and problem["fix"]
        assert error.status == 422
        return
    held = service.entityset["sessions"].frame.schema
    assert dict(request.rows["sessions"].schema) == dict(held)
    row = request.rows["sessions"].row(0, named=True)
    assert row["session_id"] == values["session_id"] and type(values["session_id"]) is int
    assert row["device"] == values["device"]
    assert row["session_start"] == pd.Timestamp(values["session_start"]).to_pydatetime()
    assert request.ids.to_list() == [values["id"]] and type(values["id"]) is int
    if values["cutoff_time"] is None:
        assert request.cutoffs is None
    else:
        assert request.cutoffs[0] == pd.Timestamp(values["cutoff_time"]).to_pydatetime()


def test_answers_are_plain_json_values():
    matrix = pd.DataFrame({
        "f": [1.5, np.nan], "i": np.array([3, 4], dtype=np.int64),
        "n": pd.array([7, None], dtype="Int64"), "b": [True, False],
        "c": pd.Categorical(["x", None]), "t": pd.to_datetime(["2024-01-02 03:04:05", None]),
        "s": ["a", None]})
    assert _rows(matrix) == [[1.5, 3, 7, True, "x", "2024-01-02T03:04:05", "a"],
                             [None, 4, None, False, None, None, None]]
    for row in _rows(matrix):
        for value in row:
            assert value is None or type(value) in (int, float, bool, str)
            assert not (isinstance(value, float) and math.isnan(value))


def test_the_size_limit_counts_rows_and_instances(service):
    body = {"instances": [{"id": 1}] * 3,
            "rows": {"sessions": [{}] * (service.max_rows - 2)}}
    with pytest.raises(RequestError) as caught:
        service.read(body)
    assert caught.value.status == 413 and str(service.max_rows) in caught.value.problems[0][
        "problem"]


BODIES = JSON | st.fixed_dictionaries({}, optional={
    "instances": JSON | st.lists(JSON | st.fixed_dictionaries({"id": JSON}), max_size=3),
    "rows": JSON | st.dictionaries(st.sampled_from(["sessions", "customers", "x"]),
                                   JSON | st.lists(JSON, max_size=2), max_size=2),
    "keep_rows": JSON, "return_features": JSON})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(BODIES)
def test_any_json_body_is_read_or_refused_with_a_field(service, body):
    try:
        service.read(body)
    except RequestError as error:
        assert error.status in (413, 422)
        assert error.problems[0]["field"] and error.problems[0]["fix"]
