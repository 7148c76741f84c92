"""Requests answered together (``Service.answer_many``, and the server's batches under load)
get exactly the answers they get one by one, in arrival order: same features, predictions
and probabilities, the same errors for the same requests, and rows kept by one request seen
by the requests after it only."""

from __future__ import annotations

import asyncio
import itertools

import httpx
import numpy as np
from deploy_support import running
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from featurekit import deploy
from featurekit.deploy import Service

HELD = list(range(1, 11))
UNKNOWN = 99_999
_new_ids = itertools.count(700_000)


def body_of(kind: str, instances: list[tuple[int, str | None]], rows: str,
            features: bool) -> dict:
    """A request: instances (id, cutoff or None); ``rows``: "none", "kept" or "once" (a new
    session with one transaction for the first instance, kept or for this request only)."""
    body: dict = {"instances": [{"id": i} if t is None else {"id": i, "cutoff_time": t}
                                for i, t in instances]}
    if kind == "predict":
        body["return_features"] = features
    if rows != "none":
        session, transaction = next(_new_ids), next(_new_ids)
        body["rows"] = {
            "sessions": [{"session_id": session, "customer_id": instances[0][0],
                          "device": "mobile", "session_start": "2023-07-01T10:00:00"}],
            "transactions": [{"transaction_id": transaction, "session_id": session,
                              "transaction_time": "2023-07-01T10:05:00", "product_id": 2,
                              "amount": 42.5, "fraud": False}]}
        body["keep_rows"] = rows == "kept"
    return body


CUTOFFS = st.sampled_from([None, "2021-03-01T00:00:00", "2022-09-15T12:30:00",
                           "2023-07-01T10:01:00", "2024-01-01T00:00:00"])
INSTANCE = st.tuples(st.sampled_from(HELD + [UNKNOWN]), CUTOFFS)
CALL = st.tuples(st.sampled_from(["features", "predict"]),
                 st.lists(INSTANCE, min_size=1, max_size=3),
                 st.sampled_from(["none", "none", "none", "kept", "once"]), st.booleans())
BROKEN = [{"instances": [{"id": 1, "cutoff_time": "yesterday"}]}, {"instances": []},
          {"rows": {"nope": []}, "instances": [{"id": 1}]}, ["not", "an", "object"]]


def same(alone: object, together: object) -> bool:
    if isinstance(alone, BaseException):
        return type(alone) is type(together) and str(alone) == str(together)
    return alone == together


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calls=st.lists(st.one_of(CALL, st.sampled_from(BROKEN)), min_size=1, max_size=12))
def test_answers_together_equal_answers_one_by_one(saved, calls):
    requests = [("predict", call) if isinstance(call, (list, dict)) and not isinstance(
        call, tuple) else (call[0], body_of(*call)) for call in calls]
    together_service, alone_service = Service(saved), Service(saved)
    together = together_service.answer_many(requests)
    alone = []
    for kind, body in requests:
        try:
            alone.append(getattr(alone_service, kind)(body))
        except Exception as error:  # noqa: BLE001 - compared with the batch's error
            alone.append(error)
    assert len(together) == len(alone)
    for position, (one, other) in enumerate(zip(alone, together, strict=True)):
        assert same(one, other), (position, requests[position], one, other)
    assert together_service.requests_served == alone_service.requests_served


def test_rows_kept_by_a_request_are_seen_only_by_the_requests_after_it(saved):
    service = Service(saved)
    asked = {"instances": [{"id": 3}]}
    before, adds, after = service.answer_many([
        ("features", asked), ("features", body_of("features", [(3, None)], "kept", True)),
        ("features", asked)])
    count = before["feature_names"].index("COUNT(sessions)")
    assert after["features"][0][count] == before["features"][0][count] + 1
    assert adds["features"][0][count] == after["features"][0][count]


def test_concurrent_requests_to_the_server_get_their_own_answers(saved):
    """Many requests at once (the server batches those that wait) answer as one by one."""
    kinds = itertools.cycle(["predict", "features"])
    cutoffs = itertools.cycle([None, "2022-09-15T12:30:00", "2021-03-01T00:00:00"])
    bodies = []
    for number in range(60):
        kind = next(kinds)
        bodies.append((kind, body_of(kind, [(HELD[number % len(HELD)], next(cutoffs))],
                                     "none", True)))
    bodies.append(("predict", {"instances": [{"id": UNKNOWN}]}))
    expected_service = Service(saved)

    async def send_all(url: str) -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            return await asyncio.gather(*(client.post(f"/{kind}", json=body)
                                          for kind, body in bodies))

    with running(deploy.create_app(saved)) as url:
        answers = asyncio.run(send_all(url))
    for (kind, body), answer in zip(bodies[:-1], answers[:-1], strict=True):
        assert answer.status_code == 200, answer.text
        expected = getattr(expected_service, kind)(body)
        got = answer.json()
        assert got["ids"] == expected["ids"]
        if kind == "predict":
            assert got["predictions"] == expected["predictions"]
            np.testing.assert_array_equal(got["probabilities"], expected["probabilities"])
        assert got["features"] == expected["features"]  # JSON: null for missing, exact floats
    assert answers[-1].status_code == 422
    assert answers[-1].json()["detail"][0]["field"] == "instances[0].id"
