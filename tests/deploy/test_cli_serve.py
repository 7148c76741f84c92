"""``featurekit serve``: the real command starts uvicorn and answers over HTTP; a directory it
cannot load exits with one line naming the problem."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from featurekit import cli
from featurekit.deploy import service

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_answers_over_http_until_stopped(saved, fitted):
    pipeline, _, X = fitted
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "featurekit", "serve", str(saved),
                                "--port", str(port), "--max-rows", "50"], env=ENV,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.communicate()[1]
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "featurekit serve did not answer in 60 s"
                time.sleep(0.2)
        assert health.json()["status"] == "ok"
        ids = X.customer_id[:3].tolist()
        answer = httpx.post(f"http://127.0.0.1:{port}/predict",
                            json={"instances": [{"id": i} for i in ids]}, timeout=30)
        assert answer.json()["predictions"] == pipeline.predict(X.iloc[:3]).tolist()
        too_many = httpx.post(f"http://127.0.0.1:{port}/predict",
                              json={"instances": [{"id": 1}] * 51}, timeout=30)
        assert too_many.status_code == 413
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_serve_refuses_a_directory_it_cannot_load(tmp_path):
    done = subprocess.run([sys.executable, "-m", "featurekit", "serve", str(tmp_path / "none")],
                          env=ENV, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "featurekit serve: error:" in lines[0]
    assert "is not a directory" in lines[0] and "Fix:" in lines[0]


def test_the_command_line_defaults_are_the_service_defaults():
    assert (cli.MAX_ROWS, cli.MAX_BYTES) == (service.MAX_ROWS, service.MAX_BYTES)


def test_each_worker_builds_the_app_from_the_environment(saved, monkeypatch):
    import json

    from featurekit.deploy import app

    monkeypatch.setenv(app.PATH_VARIABLE, json.dumps({"path": str(saved), "max_rows": 7,
                                                      "max_bytes": 900}))
    built = app.app_from_environment()
    assert built.state.service.max_rows == 7 and built.state.service.max_bytes == 900
    assert built.state.service.path == saved
