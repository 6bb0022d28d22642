"""Inter-process locks on a library: one writer at a time, released by the OS when the process dies.

Hand-written over fcntl/msvcrt rather than the `filelock` package because the message a user needs names the
process that holds the lock ("being indexed by another process (pid 1234)"), so the holder writes its pid into
the locked file itself; filelock truncates its file on every acquire and has no place for that.
"""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path

from photofinder.core.errors import LibraryBusyError, LibraryError

if os.name == "nt":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError as e:
            if e.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                return False
            raise

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


class FileLock:
    """An exclusive lock on `path`. `acquire(wait=0)` fails at once with LibraryBusyError naming the holder."""

    def __init__(self, path: Path, what: str):
        self.path = path
        self.what = what  # "library 'Photos'" - for the message
        self._fd: int | None = None

    def acquire(self, wait: float = 0.0) -> FileLock:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as e:
            if e.errno == errno.EROFS:
                raise LibraryError(
                    f"The {self.what} can't be changed: {self.path.parent} is on a read-only disk."
                ) from e
            raise LibraryError(
                f"Can't use {self.what}: its lock file {self.path} can't be opened "
                f"({e.strerror or e}). Check the data folder's permissions."
            ) from e
        deadline = time.monotonic() + wait
        while not _try_lock(fd):
            if time.monotonic() >= deadline:
                holder = _read_pid(fd)
                os.close(fd)
                who = (
                    f"another process (pid {holder})"
                    if holder and holder != os.getpid()
                    else "another task in this app"
                    if holder == os.getpid()
                    else "another process"
                )
                raise LibraryBusyError(
                    f"The {self.what} is being indexed or changed by {who}; try again when it has finished."
                )
            time.sleep(0.05)
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0) if hasattr(os, "pwrite") else os.write(
                fd, str(os.getpid()).encode()
            )
        except OSError:  # the pid is only for the message
            pass
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                os.ftruncate(fd, 0)
                _unlock(fd)
            finally:
                os.close(fd)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> FileLock:
        return self.acquire() if self._fd is None else self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read_pid(fd: int) -> int | None:
    try:
        raw = os.pread(fd, 32, 0) if hasattr(os, "pread") else b""
        return int(raw.decode().strip() or 0) or None
    except (OSError, ValueError):
        return None
