"""What every command shares: the library store, paths as they are shown, the usage error, the version."""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from photofinder.core.errors import PhotofinderError

log = logging.getLogger("photofinder")


def version_text() -> str:
    try:
        from importlib.metadata import version

        return version("photofinder")
    except Exception:  # noqa: BLE001 - running from a checkout that was never installed
        return "unknown"


class UsageError(PhotofinderError):
    """A command line that can't work as typed (exit status 2)."""


def stdout_to_devnull() -> None:
    """After a broken pipe, stdout goes nowhere: what is still buffered must not fail again at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # stdout is not a file (a test's capture): nothing to do
        pass


def library_store() -> Any:
    from photofinder.core.paths import data_dir
    from photofinder.core.store.library import LibraryStore

    try:
        return LibraryStore(data_dir())
    except OSError as e:
        from photofinder.core.errors import LibraryError

        raise LibraryError(
            f"The data folder can't be used ({e.strerror or e}). Check that it is writable, "
            "or set PHOTOFINDER_DATA_DIR to another folder."
        ) from e


def shown_path(path: str) -> str:
    from photofinder.core.paths import display_path

    return display_path(path)


def size_text(m: Any) -> str:
    dims = f"{m.width}x{m.height}" if m.width else "?"
    return f"{dims:>11} {m.bytes / 1e6:6.1f} MB"
