"""Where photofinder keeps its own files (never next to the user's photos), and how photo paths are kept.

Photo paths are `str` everywhere in the program, exactly as the operating system gave them: a file name that is
not valid UTF-8 (Latin-1 archives, old Windows zips) holds surrogate escapes (PEP 383). They are stored as the
raw bytes (`os.fsencode`), so they round-trip exactly and open the same file again, and shown to people with
`display_path`, which never fails.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "photofinder"


def data_dir() -> Path:
    """The app's data directory: PHOTOFINDER_DATA_DIR if set (tests, portable installs), else the platform's.

    Private to the user (0700): it holds thumbnails of their photos.
    """
    override = os.environ.get("PHOTOFINDER_DATA_DIR")
    path = Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    make_private_dir(path)
    return path


def make_private_dir(path: Path) -> None:
    """Create `path` (and parents) if need be, readable by the user alone where the platform has modes."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if os.name == "posix":
        try:
            if path.stat().st_mode & 0o077:
                path.chmod(0o700)
        except OSError:  # not ours to change (a shared, read-only or foreign folder): leave it
            pass


def to_db(path: str) -> bytes:
    """A path as the catalog stores it: the operating system's bytes, lossless."""
    return os.fsencode(path)


def from_db(raw: bytes | str) -> str:
    """The inverse of to_db (rows written by schema 1 hold text)."""
    return os.fsdecode(raw) if isinstance(raw, bytes) else raw


def display_path(path: str | os.PathLike[str]) -> str:
    """A path fit to print or show: undecodable bytes become U+FFFD (the file itself is kept by its real name)."""
    p = os.fspath(path)
    try:
        p.encode("utf-8")
        return p
    except UnicodeEncodeError:
        return os.fsencode(p).decode("utf-8", "replace")


def is_printable(path: str) -> bool:
    """False for a path whose name is not valid UTF-8 (so display_path had to replace something)."""
    try:
        path.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False
