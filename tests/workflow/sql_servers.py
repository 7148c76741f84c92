"""A real, temporary PostgreSQL server for tests: initdb in a fresh folder, pg_ctl start on
a free port with its unix socket in that folder, stopped and removed afterwards."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SEARCHED = ("/usr/local/bin", "/usr/lib/postgresql/*/bin", "/usr/local/pgsql/bin",
            "/opt/homebrew/bin")


def postgres_binaries() -> Path | None:
    """The folder holding initdb, pg_ctl and postgres, or None when this machine has none."""
    found = shutil.which("initdb")
    folders = ([str(Path(found).parent)] if found else []) + [
        folder for pattern in SEARCHED for folder in sorted(glob.glob(pattern))]
    for folder in folders:
        if all((Path(folder) / name).exists() for name in ("initdb", "pg_ctl", "postgres")):
            return Path(folder)
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def temporary_postgres() -> Iterator[str]:
    """Start a throw-away server; yield an SQLAlchemy URL (psycopg, unix socket, trust auth).
    PostgreSQL refuses to run as root, so under root it runs as the ``postgres`` (or
    ``nobody``) account."""
    binaries = postgres_binaries()
    assert binaries is not None
    user = None
    if os.geteuid() == 0:
        for name in ("postgres", "nobody"):
            try:
                user = pwd.getpwnam(name)
                break
            except KeyError:
                continue
    folder = Path(tempfile.mkdtemp(prefix="featurekit-pg-"))
    if user is not None:
        os.chown(folder, user.pw_uid, user.pw_gid)
    data, log, port = folder / "data", folder / "server.log", _free_port()

    def run(*arguments: str) -> None:
        subprocess.run([str(binaries / arguments[0]), *arguments[1:]], check=True,
                       capture_output=True, user=user.pw_uid if user else None,
                       group=user.pw_gid if user else None, cwd=folder, timeout=120)

    try:
        run("initdb", "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync",
            "-E", "UTF8")
        run("pg_ctl", "-D", str(data), "-l", str(log), "-w", "-t", "60", "-o",
            f"-p {port} -k {folder} -c listen_addresses='' -c fsync=off", "start")
        try:
            yield f"postgresql+psycopg://postgres@/postgres?host={folder}&port={port}"
        finally:
            run("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
