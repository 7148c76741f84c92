"""The real server: uvicorn on a free local port, called over HTTP with httpx. Predictions
equal pipeline.predict and features equal fk.compute on the same rows; bad requests get
422/413 naming the field, and the server keeps answering; concurrent appends lose nothing."""

from __future__ import annotations

import copy
import threading

import httpx
import numpy as np
import pandas as pd
import pytest
from deploy_support import running
from sklearn.pipeline import Pipeline

import featurekit as fk
from featurekit import deploy
from featurekit.demo import retail_entityset

NEW_CUSTOMER = 10_001
HELD_CUSTOMER = 5


def new_rows(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """A new customer with 3 sessions and 6 transactions, and 2 new sessions (with a
    transaction each) of a held customer: rows no table holds yet."""
    start = pd.Timestamp("2023-05-01 09:00")
    sessions = pd.DataFrame({
        "session_id": [900_001, 900_002, 900_003, 900_004, 900_005],
        "customer_id": [NEW_CUSTOMER] * 3 + [HELD_CUSTOMER] * 2,
        "device": ["mobile", "desktop", "mobile", "tablet", "mobile"],
        "session_start": [start + pd.Timedelta(days=d) for d in (0, 2, 4, 1, 3)]})
    transactions = pd.DataFrame({
        "transaction_id": np.arange(9_000_001, 9_000_009),
        "session_id": [900_001, 900_001, 900_002, 900_002, 900_003, 900_003, 900_004, 900_005],
        "transaction_time": [start + pd.Timedelta(days=d, minutes=5)
                             for d in (0, 0, 2, 2, 4, 4, 1, 3)],
        "product_id": [1, 2, 3, 1, 2, 3, 4, 5],
        "amount": [10.0, 250.5, 33.25, 7.0, 99.0, 1.5, 500.0, 12.0],
        "fraud": [False] * 8})
    customers = frames["customers"].iloc[:1].copy()
    customers["customer_id"] = NEW_CUSTOMER
    customers["join_date"] = start - pd.Timedelta(days=1)
    rows = {"customers": customers, "sessions": sessions, "transactions": transactions}
    return {name: frame[frames[name].columns].astype(frames[name].dtypes.to_dict())
            for name, frame in rows.items()}


def as_json(rows: dict[str, pd.DataFrame]) -> dict[str, list[dict]]:
    """Frames as request rows: JSON objects, times as ISO text."""
    out = {}
    for name, frame in rows.items():
        frame = frame.copy()
        for column in frame.columns:
            if pd.api.types.is_datetime64_any_dtype(frame[column]):
                frame[column] = frame[column].map(lambda t: t.isoformat())
        out[name] = frame.astype(object).where(frame.notna(), None).to_dict("records")
    return out


def with_rows(frames, rows):
    """The entity set holding the saved history plus ``rows`` (built from scratch)."""
    return retail_entityset({name: pd.concat([frames[name], rows[name]], ignore_index=True)
                             if name in rows else frames[name].copy() for name in frames})


def on(pipeline: Pipeline, entityset: fk.EntitySet) -> Pipeline:
    """The fitted pipeline computing its features on ``entityset``."""
    step = copy.copy(pipeline[0])
    step.entityset = entityset
    return Pipeline([(pipeline.steps[0][0], step), *pipeline.steps[1:]])


def assert_matches(answer: dict, matrix: pd.DataFrame) -> None:
    """The JSON features equal the matrix's rows, column for column."""
    assert answer["feature_names"] == list(matrix.columns)
    got = pd.DataFrame(answer["features"], columns=answer["feature_names"])
    assert len(got) == len(matrix)
    for name in matrix.columns:
        expected = matrix[name].reset_index(drop=True)
        if isinstance(expected.dtype, pd.CategoricalDtype) or expected.dtype == object:
            assert got[name].tolist() == expected.astype(object).where(expected.notna(),
                                                                       None).tolist(), name
        else:
            np.testing.assert_allclose(got[name].astype(float), expected.astype(float),
                                       rtol=1e-12, equal_nan=True, err_msg=name)


@pytest.fixture
def server(saved):
    with running(deploy.create_app(saved)) as url, httpx.Client(base_url=url, timeout=60) as c:
        yield c


def test_predictions_over_http_equal_pipeline_predict(fitted, server):
    pipeline, entityset, X = fitted
    answer = server.post("/predict", json={"instances": [{"id": int(i)} for i in X.customer_id]})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["ids"] == X.customer_id.tolist()
    assert body["predictions"] == pipeline.predict(X).tolist()
    np.testing.assert_allclose(body["probabilities"], pipeline.predict_proba(X), rtol=0,
                               atol=1e-12)
    assert body["classes"] == [0, 1]
    matrix = fk.compute(entityset, pipeline[0].features_).loc[X.customer_id]
    assert_matches(body, matrix)


def test_new_rows_are_kept_and_count_as_in_the_batch_engine(fitted, server, retail_frames):
    pipeline, _, _ = fitted
    rows = new_rows(retail_frames)
    grown = with_rows(retail_frames, rows)
    ids = [NEW_CUSTOMER, HELD_CUSTOMER, 1]
    X = pd.DataFrame({"customer_id": ids})
    first = server.post("/predict", json={"instances": [{"id": i} for i in ids],
                                          "rows": as_json(rows)})
    assert first.status_code == 200, first.text
    expected = on(pipeline, grown)
    assert first.json()["predictions"] == expected.predict(X).tolist()
    np.testing.assert_allclose(first.json()["probabilities"], expected.predict_proba(X),
                               rtol=0, atol=1e-12)
    batch = fk.compute(grown, pipeline[0].features_).loc[ids]
    assert_matches(first.json(), batch)
    again = server.post("/features", json={"instances": [{"id": i} for i in ids]})  # kept
    assert_matches(again.json(), batch)
    cutoffs = ["2023-05-03T12:00:00", "2023-05-02T00:00:00", "2022-01-01T00:00:00"]
    timed = server.post("/features", json={"instances": [
        {"id": i, "cutoff_time": t} for i, t in zip(ids, cutoffs, strict=True)]})
    assert timed.status_code == 200, timed.text
    frame = pd.DataFrame({"customer_id": ids, "time": pd.to_datetime(cutoffs)})
    assert_matches(timed.json(), fk.compute(grown, pipeline[0].features_, cutoff_time=frame))
    # the cutoff is leak-free: the new customer's later sessions do not count on May 3rd
    count = timed.json()["feature_names"].index("COUNT(sessions)")
    assert timed.json()["features"][0][count] == 2


def test_rows_not_kept_count_for_their_request_only(fitted, server, retail_frames):
    pipeline, entityset, _ = fitted
    rows = new_rows(retail_frames)
    ids = [NEW_CUSTOMER, HELD_CUSTOMER]
    once = server.post("/features", json={"instances": [{"id": i} for i in ids],
                                          "rows": as_json(rows), "keep_rows": False})
    assert once.status_code == 200, once.text
    grown = with_rows(retail_frames, rows)
    assert_matches(once.json(), fk.compute(grown, pipeline[0].features_).loc[ids])
    later = server.post("/features", json={"instances": [{"id": HELD_CUSTOMER}]})
    assert_matches(later.json(), fk.compute(entityset, pipeline[0].features_).loc[[HELD_CUSTOMER]])
    unknown = server.post("/features", json={"instances": [{"id": NEW_CUSTOMER}]})
    assert unknown.status_code == 422


def bad_requests(retail_frames):
    """(body, status, field the answer names, words of the problem) for each kind of mistake."""
    rows = as_json(new_rows(retail_frames))
    missing = copy.deepcopy(rows)
    del missing["sessions"][1]["device"]
    typed = copy.deepcopy(rows)
    typed["transactions"][2]["amount"] = "a lot"
    bad_time = copy.deepcopy(rows)
    bad_time["sessions"][0]["session_start"] = "yesterday-ish"
    orphan = {"sessions": [dict(rows["sessions"][3], customer_id=77_777)]}
    held = {"sessions": [dict(rows["sessions"][3], session_id=1)]}
    one = [{"id": HELD_CUSTOMER}]
    return [
        ({"instances": one, "rows": missing}, 422, "rows.sessions[1].device", "missing column"),
        ({"instances": one, "rows": typed}, 422, "rows.transactions[2].amount", "expected a number, got a text ('a lot')"),
        ({"instances": one, "rows": bad_time}, 422, "rows.sessions[0].session_start", "not a time"),
        ({"instances": [{"id": 424_242}]}, 422, "instances[0].id", "unknown customers id"),
        ({"instances": [{"id": "five"}]}, 422, "instances[0].id", "expected an integer"),
        ({"instances": [{"id": 1, "cutoff_time": "32/13/2020"}]}, 422,
         "instances[0].cutoff_time", "not a time"),
        ({"instances": one, "rows": orphan}, 422, "rows.sessions[0].customer_id",
         "unknown customers id 77777"),
        ({"instances": one, "rows": held}, 422, "rows.sessions[0].session_id", "already held"),
        ({"instances": one, "rows": {"refunds": []}}, 422, "rows.refunds", "no such table"),
        ({"instances": []}, 422, "instances", "non-empty"),
        ({"instances": 5}, 422, "instances", "non-empty list"),
        ({"instances": [5]}, 422, "instances[0].id", "missing"),
        ({"instances": one, "rows": [1]}, 422, "rows", "expected an object"),
        ({"instances": one, "rows": {"sessions": 3}}, 422, "rows.sessions", "list of objects"),
        ([1, 2], 422, "body", "expected a JSON object"),
        ({"instance": one}, 422, "instance", "unknown field"),
        ({"instances": one, "keep_rows": "yes"}, 422, "keep_rows", "true or false"),
    ]


def test_bad_requests_get_422_naming_the_field_and_the_server_keeps_serving(
        fitted, server, retail_frames):
    pipeline, entityset, _ = fitted
    before = server.post("/features", json={"instances": [{"id": HELD_CUSTOMER}]}).json()
    for body, status, field, words in bad_requests(retail_frames):
        answer = server.post("/predict", json=body)
        assert answer.status_code == status, (body, answer.text)
        problem = answer.json()["detail"][0]
        assert problem["field"] == field, (field, problem)
        assert words in problem["problem"], (words, problem)
        assert problem["fix"], problem
        assert server.get("/health").json()["status"] == "ok"
    not_json = server.post("/predict", content=b"{not json", headers={
        "content-type": "application/json"})
    assert not_json.status_code == 422 and not_json.json()["detail"][0]["field"] == "body"
    for raw in (b"[" * 100_000, b"\xff\xfe", b"NaN"):
        answer = server.post("/predict", content=raw, headers={"content-type": "application/json"})
        assert answer.status_code == 422 and answer.json()["detail"][0]["field"] == "body", raw[:9]
    # nothing of the refused requests was kept (their valid rows included)
    after = server.post("/features", json={"instances": [{"id": HELD_CUSTOMER}]}).json()
    assert after == before


def test_requests_over_the_limits_get_413(saved, fitted):
    X = fitted[2]
    app = deploy.create_app(saved, max_rows=20, max_bytes=4_000)
    with running(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        many = {"instances": [{"id": int(i)} for i in X.customer_id[:30]]}
        answer = client.post("/predict", json=many)
        assert answer.status_code == 413 and "limit of 20" in answer.json()["detail"][0]["problem"]
        padded = {"instances": [{"id": 1}], "rows": {"sessions": []}, "pad": "x" * 5_000}
        answer = client.post("/predict", json=padded)
        assert answer.status_code == 413 and "4000 bytes" in answer.json()["detail"][0]["problem"]

        def chunks():  # no Content-Length: the server counts the bytes as they come
            yield b'{"instances": [{"id": 1}], "pad": "'
            for _ in range(10):
                yield b"y" * 1_000
            yield b'"}'

        answer = client.post("/predict", content=chunks(),
                             headers={"content-type": "application/json"})
        assert answer.status_code == 413
        assert client.get("/health").status_code == 200
        fine = client.post("/predict", json={"instances": [{"id": 1}]})
        assert fine.status_code == 200


def test_concurrent_appends_lose_nothing(fitted, server):
    pipeline, entityset, _ = fitted
    held = fk.compute(entityset, pipeline[0].features_)
    count = pipeline[0].feature_names_.index("COUNT(sessions)")
    base = int(held.loc[HELD_CUSTOMER, "COUNT(sessions)"])
    threads, statuses = 8, []

    def send(worker: int) -> None:
        sessions = [{"session_id": 800_000 + worker * 10 + k, "customer_id": HELD_CUSTOMER,
                     "device": "mobile", "session_start": "2023-06-01T10:00:00"}
                    for k in range(5)]
        duplicate = [{"session_id": 799_999, "customer_id": HELD_CUSTOMER, "device": "mobile",
                      "session_start": "2023-06-01T10:00:00"}]
        for rows in (sessions, duplicate):
            statuses.append(server.post("/features", json={
                "instances": [{"id": HELD_CUSTOMER}], "rows": {"sessions": rows}}).status_code)

    workers = [threading.Thread(target=send, args=(w,)) for w in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert statuses.count(200) == threads + 1  # every batch, and the duplicate id once
    assert statuses.count(422) == threads - 1
    now = server.post("/features", json={"instances": [{"id": HELD_CUSTOMER}]}).json()
    assert now["features"][0][count] == base + threads * 5 + 1


def test_schema_health_and_docs_describe_the_api(fitted, server):
    pipeline, _, _ = fitted
    schema = server.get("/schema").json()
    assert schema["target"] == "customers" and schema["id"]["column"] == "customer_id"
    assert schema["feature_names"] == pipeline[0].feature_names_
    sessions = schema["tables"]["sessions"]
    assert sessions["parents"] == {"customer_id": "customers"}
    assert sessions["columns"]["session_start"]["kind"].startswith("time")
    assert sessions["columns"]["device"] == {"kind": "text", "logical_type": "categorical",
                                             "nullable": True}
    assert schema["prediction"]["classes"] == [0, 1]
    health = server.get("/health").json()
    assert health["status"] == "ok" and health["featurekit"] == fk.__version__
    assert server.get("/docs").status_code == 200
    paths = server.get("/openapi.json").json()["paths"]
    assert {"/features", "/predict", "/health", "/schema"} <= set(paths)
    assert "instances" in paths["/predict"]["post"]["requestBody"]["content"][
        "application/json"]["schema"]["properties"]


def test_an_instance_may_come_at_several_cutoffs_and_without_one(fitted, server):
    pipeline, entityset, _ = fitted
    asked = [(5, "2021-06-01T00:00:00"), (9, None), (5, "2022-06-01T00:00:00"), (5, None),
             (9, "2021-01-01T00:00:00")]
    answer = server.post("/features", json={"instances": [
        {"id": i} if t is None else {"id": i, "cutoff_time": t} for i, t in asked]})
    assert answer.status_code == 200, answer.text
    now = fk.compute(entityset, pipeline[0].features_)
    got = answer.json()["features"]
    for position, (instance, moment) in enumerate(asked):
        if moment is None:
            expected = now.loc[[instance]]
        else:
            expected = fk.compute(entityset, pipeline[0].features_, cutoff_time=pd.DataFrame(
                {"customer_id": [instance], "time": [pd.Timestamp(moment)]}))
        assert_matches({"feature_names": answer.json()["feature_names"],
                        "features": [got[position]]}, expected)
    assert got[0] != got[2]  # a year apart, customer 5's features differ


def test_an_unexpected_error_answers_500_and_the_server_goes_on(saved, monkeypatch):
    app = deploy.create_app(saved)
    service = app.state.service

    def fails(*args, **kwargs):  # a fault injected into the online path, for one request
        raise RuntimeError("disk on fire")

    with running(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        monkeypatch.setattr(service.online, "compute", fails)
        answer = client.post("/features", json={"instances": [{"id": 1}]})
        assert answer.status_code == 500
        assert "RuntimeError: disk on fire" in answer.json()["detail"][0]["problem"]
        monkeypatch.undo()
        assert client.post("/features", json={"instances": [{"id": 1}]}).status_code == 200
        assert client.get("/health").json()["status"] == "ok"


def test_a_pipeline_fitted_at_cutoffs_predicts_at_the_requests_cutoffs(retail_frames, tmp_path):
    import warnings

    from deploy_support import build_pipeline, labels

    entityset = retail_entityset({k: v.copy() for k, v in retail_frames.items()})
    ids = retail_frames["customers"]["customer_id"].tolist()
    moments = pd.to_datetime(["2021-06-01", "2022-06-01"])
    X = pd.DataFrame({"customer_id": ids * 2, "when": np.repeat(moments, len(ids))})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipeline = build_pipeline(entityset, cutoff_time_column="when").fit(
            X, np.tile(labels(entityset, ids), 2))
    folder = deploy.save(pipeline, tmp_path / "at_cutoffs")
    asked = X.sample(12, random_state=2).reset_index(drop=True)
    with running(deploy.create_app(folder)) as url, httpx.Client(base_url=url,
                                                                  timeout=60) as client:
        answer = client.post("/predict", json={"instances": [
            {"id": int(i), "cutoff_time": t.isoformat()} for i, t in zip(
                asked.customer_id, asked.when, strict=True)]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["predictions"] == pipeline.predict(asked).tolist()
    np.testing.assert_allclose(answer.json()["probabilities"], pipeline.predict_proba(asked),
                               rtol=0, atol=1e-12)


def test_an_app_made_from_a_service_keeps_the_services_limits(saved):
    service = deploy.Service(saved, max_bytes=3_000)
    with running(deploy.create_app(service)) as url, httpx.Client(base_url=url,
                                                                   timeout=60) as client:
        padded = {"instances": [{"id": 1}], "pad": "x" * 4_000}
        assert client.post("/features", json=padded).status_code == 413
        assert client.get("/schema").json()["max_bytes"] == 3_000
