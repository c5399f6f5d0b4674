"""An exclusive lock on an output directory, so that two runs never write into the same stage directories."""
from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from kitti.atomic import ensure_dir
from kitti.errors import InputError, OutputDirError


class LockHeldError(InputError):
    """Another process holds the lock."""


class RunLock:
    """``with RunLock(output_dir):`` holds ``<output_dir>/.lock`` (``flock``, released by the kernel if the process
    dies, so a killed run never leaves a stale lock). Raises :class:`LockHeldError` naming the holder's pid."""

    def __init__(self, directory: Path) -> None:
        self.path = Path(directory) / ".lock"
        self._fd: int | None = None

    def __enter__(self) -> "RunLock":
        ensure_dir(self.path.parent)
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        except OSError as exc:  # a directory, a symbolic link or an unwritable file in the lock's place
            raise OutputDirError(self.path, f"cannot be used as the run's lock file ({exc.strerror}); expected a "
                                            f"regular file or nothing; remove it") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise LockHeldError(f"{self.path.parent} is in use by another run (pid {holder}); "
                                f"wait for it to finish or use another --output") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
