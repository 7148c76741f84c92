"""The HTTP API (FastAPI): POST /features, POST /predict, GET /health, GET /schema, and the
OpenAPI pages at /docs. Bodies are read and checked by ``Service`` (one error format for
every problem: ``{"detail": [{"field", "problem", "fix"}]}``); a body over the size limit is
refused with 413 before it is read whole. ``serve`` runs it on uvicorn."""


import asyncio
import json
import os
from typing import Any

from featurekit.deploy._manifest import DeploymentError
from featurekit.deploy.requests import RequestError
from featurekit.deploy.service import MAX_BYTES, MAX_ROWS, Service
from featurekit.errors import FeaturekitError

PATH_VARIABLE = "FEATUREKIT_SERVE_PATH"  # how `serve --workers N` tells each worker the path

_INSTANCE = {"type": "object", "required": ["id"], "properties": {
    "id": {"description": "the target instance's id (held, or sent in rows)"},
    "cutoff_time": {"description": "compute with only the rows known at this time (ISO 8601, or "
                                   "a number for numeric time indexes); default: all held rows"}}}
REQUEST_SCHEMA = {
    "type": "object", "required": ["instances"],
    "properties": {
        "instances": {"type": "array", "items": _INSTANCE, "minItems": 1},
        "rows": {"type": "object", "description": "new rows per table, each an object with "
                 "every column of its table (GET /schema); held by the server unless keep_rows "
                 "is false", "additionalProperties": {"type": "array", "items": {"type": "object"}}},
        "keep_rows": {"type": "boolean", "default": True},
        "return_features": {"type": "boolean", "default": True,
                            "description": "/predict: also return the features"},
    },
}
EXAMPLE = {"instances": [{"id": 1, "cutoff_time": "2024-01-01T00:00:00"}], "rows": {}}


def require_serving() -> tuple[Any, Any]:
    """fastapi and uvicorn, or a DeploymentError naming the extra to install."""
    try:
        import fastapi
        import uvicorn
    except ImportError:
        raise DeploymentError("serving needs FastAPI and uvicorn. Fix: pip install "
                              "'featurekit[serve]'") from None
    return fastapi, uvicorn


def _problems(field: str, problem: str, fix: str) -> dict[str, Any]:
    return {"detail": [{"field": field, "problem": problem, "fix": fix}]}


class _SizeLimit:
    """ASGI middleware: a body larger than ``limit`` bytes gets 413 before it is read whole
    (by its Content-Length, or by counting the bytes of a chunked body)."""

    def __init__(self, app: Any, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        from starlette.responses import JSONResponse

        length = dict(scope["headers"]).get(b"content-length")
        too_large = JSONResponse(_problems(
            "body", f"larger than the limit of {self.limit} bytes",
            "send fewer rows per request (or start the server with a larger max_bytes)"), 413)
        if length is not None and length.isdigit() and int(length) > self.limit:
            await too_large(scope, receive, send)
            return
        seen = 0
        started = False

        async def counted() -> dict:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _TooLarge
            return message

        async def watched_send(message: dict) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched_send)
        except _TooLarge:
            if not started:
                await too_large(scope, receive, send)


class _TooLarge(Exception):
    pass


#: requests answered together at most (their instances are bounded by ``max_rows`` too)
MAX_BATCH = 64


class _Batches:
    """Requests waiting for the service, answered a batch at a time in a worker thread.

    A request that finds the service idle is answered at once, alone; requests that arrive
    while a batch is computed wait, and go together into the next one
    (``Service.answer_many``: same answers as one by one, in arrival order). Under a light
    load nothing waits; under a heavy one a batch costs little more than one request, so the
    server keeps up instead of queueing (one request to /predict costs about 9 ms alone,
    mostly in scikit-learn's per-call checks)."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.waiting: list[tuple[str, Any, asyncio.Future]] = []
        self.draining: asyncio.Task | None = None

    async def answer(self, kind: str, body: Any) -> Any:
        """The request's answer: a dict, or the exception it raised."""
        future = asyncio.get_running_loop().create_future()
        self.waiting.append((kind, body, future))
        if self.draining is None or self.draining.done():
            self.draining = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        from starlette.concurrency import run_in_threadpool

        while self.waiting:
            batch, self.waiting = self.waiting[:MAX_BATCH], self.waiting[MAX_BATCH:]
            try:
                answers = await run_in_threadpool(self.service.answer_many,
                                                  [(kind, body) for kind, body, _ in batch])
            except Exception as error:  # noqa: BLE001 - answer_many answers per request
                answers = [error] * len(batch)
            for (_, _, future), answer in zip(batch, answers, strict=True):
                if not future.done():  # a client that went away cancelled its future
                    future.set_result(answer)


def create_app(path: str | os.PathLike | Service, max_rows: int = MAX_ROWS,
               max_bytes: int = MAX_BYTES, trusted: tuple[str, ...] = ()) -> Any:
    """A FastAPI application serving the pipeline saved at ``path`` (or a ``Service``).

    ``max_rows`` bounds the rows plus instances of one request and ``max_bytes`` its body;
    beyond either the request gets 413.
    """
    fastapi, _ = require_serving()
    from fastapi.responses import JSONResponse

    from featurekit._version import __version__

    service = path if isinstance(path, Service) else Service(path, max_rows, max_bytes, trusted)
    app = fastapi.FastAPI(
        title="featurekit serving", version=__version__,
        description=f"Features and predictions of the saved pipeline {service.path.name!r} "
                    f"(target {service.target!r}). GET /schema says what a request holds.")
    app.state.service = service

    @app.exception_handler(RequestError)
    async def refused(request: Any, error: RequestError) -> JSONResponse:
        return JSONResponse({"detail": error.problems}, status_code=error.status)

    @app.exception_handler(FeaturekitError)
    async def bad_input(request: Any, error: FeaturekitError) -> JSONResponse:
        return JSONResponse(_problems("body", str(error), "see the problem"), status_code=422)

    def unexpected(error: Exception) -> JSONResponse:
        return JSONResponse(_problems("body", f"unexpected error: {type(error).__name__}: "
                                      f"{str(error)[:300]}", "please report it; the server goes "
                                      "on serving"), status_code=500)

    batches = _Batches(service)

    async def answer(kind: str, body: Any) -> JSONResponse:
        """The service's answer; an unexpected error becomes a 500 answer here, so that the
        connection stays open (an error escaping the app makes uvicorn drop it)."""
        result = await batches.answer(kind, body)
        if isinstance(result, FeaturekitError):
            raise result
        if isinstance(result, Exception):
            return unexpected(result)
        return JSONResponse(result)

    async def read_body(request: Any) -> Any:
        raw = await request.body()
        try:
            return json.loads(raw)
        except (ValueError, RecursionError) as problem:  # not JSON, not UTF-8, nested too deep
            raise RequestError("body", f"not JSON we can read ({str(problem)[:200]})",
                               "send a JSON object with Content-Type application/json") from None

    body_spec = {"requestBody": {"required": True, "content": {"application/json": {
        "schema": REQUEST_SCHEMA, "example": EXAMPLE}}}}

    @app.post("/features", openapi_extra=body_spec,
              summary="features of instances (held, or sent with their rows)")
    async def features(request: fastapi.Request) -> JSONResponse:
        return await answer("features", await read_body(request))

    @app.post("/predict", openapi_extra=body_spec,
              summary="the model's predictions for instances (and their features)")
    async def predict(request: fastapi.Request) -> JSONResponse:
        return await answer("predict", await read_body(request))

    @app.get("/health", summary="liveness: the pipeline is loaded and answering")
    def health() -> dict[str, Any]:
        return {"status": "ok", "featurekit": __version__, "pipeline": service.path.name,
                "requests_served": service.requests_served}

    @app.get("/schema", summary="what a request must contain")
    def schema() -> dict[str, Any]:
        return service.schema()

    app.add_middleware(_SizeLimit, limit=service.max_bytes)
    return app


def app_from_environment() -> Any:
    """The application for ``serve --workers N`` (uvicorn's factory, in each worker)."""
    settings = json.loads(os.environ[PATH_VARIABLE])
    return create_app(settings["path"], settings["max_rows"], settings["max_bytes"])


def serve(path: str | os.PathLike, host: str = "127.0.0.1", port: int = 8000, workers: int = 1,
          max_rows: int = MAX_ROWS, max_bytes: int = MAX_BYTES) -> None:
    """Run the API on uvicorn until stopped. With ``workers`` > 1 each worker process holds
    its own copy of the tables: rows a request appends are seen by that worker only."""
    _, uvicorn = require_serving()
    if workers == 1:
        uvicorn.run(create_app(path, max_rows, max_bytes), host=host, port=port)
        return
    Service(path, max_rows, max_bytes)  # refuse a bad directory before starting workers
    os.environ[PATH_VARIABLE] = json.dumps({"path": os.fspath(path), "max_rows": max_rows,
                                            "max_bytes": max_bytes})
    uvicorn.run("featurekit.deploy.app:app_from_environment", factory=True, host=host,
                port=port, workers=workers)
