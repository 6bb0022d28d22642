"""Finding photos under a folder: recursive, loop-proof, and deaf to hidden and thumbnail-cache folders."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .decode import is_photo_name

log = logging.getLogger(__name__)

# Folders that hold caches, previews or system files, never the user's photos.
SKIP_DIRS = frozenset({"@eaDir", "#recycle", "$RECYCLE.BIN", "System Volume Information", "__MACOSX",
                       "lost+found", "node_modules"})
HASH_CHUNK = 64 * 1024


@dataclass(frozen=True)
class FileInfo:
    path: str
    folder: str  # the library folder it was found under
    size: int
    mtime_ns: int


def normalise_folder(folder: str | os.PathLike[str]) -> str:
    """The canonical form a folder is stored in: absolute, symlinks resolved."""
    return os.path.realpath(os.path.expanduser(os.fspath(folder)))


def scan(folder: str, on_error: Callable[[str, str], None] | None = None,
         should_stop: Callable[[], bool] | None = None) -> Iterator[FileInfo]:
    """Every photo file under `folder`. Unreadable subfolders are reported to on_error(path, reason), not raised.

    Symlinked folders are followed once: a folder already visited (by device and inode) is not entered again,
    so a link loop can't hang the scan.
    """
    seen: set[tuple[int, int]] = set()
    stack = [folder]
    while stack:
        if should_stop is not None and should_stop():
            return
        current = stack.pop()
        try:
            st = os.stat(current)
            key = (st.st_dev, st.st_ino)
            if key in seen:
                continue
            seen.add(key)
            with os.scandir(current) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as e:
            if on_error is not None:
                on_error(current, _reason(e))
            continue
        subdirs = []
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            try:
                if entry.is_dir():
                    if name not in SKIP_DIRS:
                        subdirs.append(entry.path)
                elif is_photo_name(name) and entry.is_file():
                    st = entry.stat()
                    yield FileInfo(entry.path, folder, st.st_size, st.st_mtime_ns)
            except OSError as e:  # a dangling link, a file removed under us
                if on_error is not None:
                    on_error(entry.path, _reason(e))
        stack.extend(reversed(subdirs))


def content_hash(path: str, size: int) -> str:
    """A fast fingerprint: size + first and last 64 KiB. Same content, same hash, whatever the name."""
    h = hashlib.blake2b(digest_size=16)
    h.update(size.to_bytes(8, "little"))
    with open(path, "rb") as f:
        h.update(f.read(HASH_CHUNK))
        if size > 2 * HASH_CHUNK:
            f.seek(-HASH_CHUNK, os.SEEK_END)
            h.update(f.read(HASH_CHUNK))
        elif size > HASH_CHUNK:
            h.update(f.read())
    return h.hexdigest()


def _reason(e: OSError) -> str:
    if isinstance(e, PermissionError):
        return "permission denied"
    if isinstance(e, FileNotFoundError):
        return "not found"
    return e.strerror or str(e)
