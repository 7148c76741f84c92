"""A light open-loop HTTP load generator for 127.0.0.1: requests encoded before the clock
starts, raw HTTP/1.1 on keep-alive connections, asyncio streams, no HTTP library.

    python benchmarks/loadgen.py --port 8000 --rate 100 --requests requests.json

``requests.json`` holds a list of ``[path, body]`` pairs. Request n is due at
``start + n / rate``; its latency is measured from that due moment (not from when it left),
so a server that falls behind shows its queue in the latency instead of slowing the load
down ("coordinated omission"). Without ``--rate`` the requests go back to back on one
connection. Prints one JSON line: every latency in seconds, the statuses, the elapsed time
and how many requests left more than 1 ms after their due moment.

Why not httpx: on a 2-core machine an httpx AsyncClient spends about as much CPU per request
as the server does, and its pauses land in the measured latency.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time


def encode(host: str, port: int, path: str, body: dict) -> bytes:
    payload = json.dumps(body, separators=(",", ":")).encode()
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\nConnection: keep-alive\r\n\r\n")
    return head.encode() + payload


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    request: bytes) -> int:
    """Send one request and read its whole answer; its status code."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    if length:
        await reader.readexactly(length)
    return status


async def run(host: str, port: int, requests: list[bytes], rate: float | None,
              connections: int) -> dict:
    if rate is None:
        reader, writer = await asyncio.open_connection(host, port)
        latencies, statuses = [], []
        begin = time.perf_counter()
        for request in requests:
            sent = time.perf_counter()
            statuses.append(await _exchange(reader, writer, request))
            latencies.append(time.perf_counter() - sent)
        elapsed = time.perf_counter() - begin
        writer.close()
        return {"latencies": latencies, "statuses": statuses, "elapsed": elapsed, "late": 0}

    idle: asyncio.Queue = asyncio.Queue()
    for _ in range(connections):
        idle.put_nowait(await asyncio.open_connection(host, port))
    latencies = [0.0] * len(requests)
    statuses = [0] * len(requests)
    late = 0
    begin = time.perf_counter() + 0.05

    async def one(number: int) -> None:
        nonlocal late
        due = begin + number / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        connection = await idle.get()  # all busy: waits, and the wait is in the latency
        if time.perf_counter() - due > 1e-3:
            late += 1
        statuses[number] = await _exchange(*connection, requests[number])
        latencies[number] = time.perf_counter() - due
        idle.put_nowait(connection)

    await asyncio.gather(*(one(n) for n in range(len(requests))))
    elapsed = time.perf_counter() - begin
    while not idle.empty():
        idle.get_nowait()[1].close()
    return {"latencies": latencies, "statuses": statuses, "elapsed": elapsed, "late": late}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--requests", required=True, help="a JSON file of [path, body] pairs")
    parser.add_argument("--rate", type=float, default=None, help="requests per second")
    parser.add_argument("--connections", type=int, default=32)
    arguments = parser.parse_args()
    with open(arguments.requests) as file:
        pairs = json.load(file)
    requests = [encode(arguments.host, arguments.port, path, body) for path, body in pairs]
    result = asyncio.run(run(arguments.host, arguments.port, requests, arguments.rate,
                             arguments.connections))
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()
