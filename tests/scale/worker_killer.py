"""A thread that kills (SIGKILL) a Dask worker's process while it runs a featurekit task: the
fault the scale tests survive."""

from __future__ import annotations

import os
import signal
import threading
import time

from distributed import Client


class WorkerKiller(threading.Thread):
    """Kills (SIGKILL) the process of a worker as soon as it runs one of our tasks."""

    def __init__(self, client: Client, prefix: str = "featurekit-") -> None:
        super().__init__(daemon=True)
        self.client, self.prefix = client, prefix
        self.pids = client.run(os.getpid)
        self.killed: int | None = None

    def run(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for address, keys in self.client.processing().items():
                if any(str(key).startswith(self.prefix) for key in keys) and address in self.pids:
                    time.sleep(0.1)
                    self.killed = self.pids[address]
                    os.kill(self.killed, signal.SIGKILL)
                    return
            time.sleep(0.02)
