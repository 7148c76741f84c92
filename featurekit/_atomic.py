"""Atomic output files: every file featurekit writes appears whole or not at all.

The data goes to a temporary file in the target's directory (same file system, so the final
``os.replace`` is atomic), which is created with mode ``0o666`` filtered by the process umask,
exactly as ``open(path, "w")`` would create it (``tempfile.mkstemp`` would leave it 0600). A
target that already exists keeps its permission bits, as it would when opened for writing.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path

_ATTEMPTS = 100


def _create_temporary(target: Path) -> Path:
    """A new empty file beside ``target`` with the usual permissions (0666 & ~umask)."""
    for _ in range(_ATTEMPTS):
        candidate = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
        try:
            descriptor = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        except OSError as error:  # name the file the caller asked for, not our temporary
            raise type(error)(error.errno, error.strerror, str(target)) from None
        os.close(descriptor)
        return candidate
    raise FileExistsError(f"could not create a temporary file beside {str(target)!r}")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``path`` in one step.

    The parent directory is created if needed. On any error the temporary file is removed and
    ``path`` is left as it was.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> with atomic_path(folder / "out.txt") as temporary:
    ...     _ = temporary.write_text("done")
    >>> sorted(p.name for p in folder.iterdir()), (folder / "out.txt").read_text()
    (['out.txt'], 'done')
    """
    target = Path(path)
    if target.is_dir():
        raise IsADirectoryError(errno.EISDIR, "it is a folder, not a file", str(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = _create_temporary(target)
    try:
        yield temporary
        with contextlib.suppress(FileNotFoundError):
            existing = os.stat(target)
            if stat.S_ISREG(existing.st_mode):
                os.chmod(temporary, stat.S_IMODE(existing.st_mode))
        descriptor = os.open(temporary, os.O_RDONLY)
        try:
            os.fsync(descriptor)  # the data reaches the disk before the name points at it
        finally:
            os.close(descriptor)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
