"""Is this file, now, the one a decision was made on? The check `duplicates.trash` makes right before moving one.

Reached from a library folder one name at a time with O_NOFOLLOW, so a folder swapped for a symbolic link on
the way (which could lead anywhere) is noticed instead of followed; then read through that same descriptor:
size, modification time and the whole-file hash.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat

READ_BLOCK = 1 << 20
WHOLE_HASH = 64  # hex digits of the SHA-256 the catalog stores (scanner.content_hash)


def check_file(path: str, roots: list[str], size: int, mtime_ns: int, content_hash: str | None) -> str | None:
    """None when `path` is, right now, a regular file reached without a link from one of `roots`, with this
    size, time and whole-file hash; else the one-line reason it is not."""
    if not content_hash or len(content_hash) != WHOLE_HASH:
        return "its fingerprint is from an older photofinder (run photofinder index first)"
    path = os.path.abspath(path)
    root = next((r for r in roots if path.startswith(r.rstrip(os.sep) + os.sep)), None)
    if root is None:
        return "not inside the library's folders"
    if os.path.realpath(root) != root:
        return f"the library folder {root} is now a link"
    parts = os.path.relpath(path, root).split(os.sep)
    if any(p in ("", ".", "..") for p in parts):
        return "not inside the library's folders"
    nofollow = getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError as e:
        return f"its library folder can't be opened ({os.strerror(e.errno or 0).lower()})"
    try:
        for part in parts[:-1]:
            try:
                nfd = os.open(part, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | nofollow, dir_fd=fd)
            except OSError as e:
                return _why(e, folder=True)
            os.close(fd)
            fd = nfd
        try:
            f = os.open(parts[-1], os.O_RDONLY | nofollow | getattr(os, "O_NONBLOCK", 0), dir_fd=fd)
        except OSError as e:
            return _why(e, folder=False)
    finally:
        os.close(fd)
    try:
        st = os.fstat(f)
        if not stat.S_ISREG(st.st_mode):
            return "not a regular file"
        if st.st_size != size or st.st_mtime_ns != mtime_ns:
            return "changed since it was compared (size or date differ): run photofinder index"
        h = hashlib.sha256()
        while block := os.read(f, READ_BLOCK):
            h.update(block)
        if h.hexdigest() != content_hash:
            return "its content changed since it was compared: run photofinder index"
        return None
    except OSError as e:
        return f"can't be read ({os.strerror(e.errno or 0).lower()})"
    finally:
        os.close(f)


def _why(e: OSError, folder: bool) -> str:
    if e.errno in (errno.ELOOP, errno.EMLINK) or (folder and e.errno == errno.ENOTDIR):
        return "reached through a symbolic link" if folder else "a symbolic link, not the file itself"
    if e.errno == errno.ENOENT:
        return "no longer there"
    if e.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return f"can't be opened ({os.strerror(e.errno or 0).lower()})"


__all__ = ["check_file"]
