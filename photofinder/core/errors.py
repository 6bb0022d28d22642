"""Errors a user can cause, each with a message fit to show them as it is."""

from __future__ import annotations


class PhotofinderError(Exception):
    """Something the user can fix; str(error) is a plain-words message for them."""


class LibraryError(PhotofinderError):
    """A library that does not exist, already exists, or cannot be used as asked."""


class LibraryBusyError(LibraryError):
    """Another process (or another run in this one) is writing to the library right now."""


class CatalogDamagedError(LibraryError):
    """The library's catalog file is unreadable; it is never silently replaced by an empty one."""


class ModelMismatchError(LibraryError):
    """The library was indexed with another model; mixing vectors would make search meaningless."""


class ModelUnavailableError(PhotofinderError):
    """The CLIP model is neither cached nor downloadable, or the folder given is not a CLIP model."""


def first_line(e: BaseException, limit: int | None = None) -> str:
    """An exception's first line for a one-line message ('' when it says nothing), cut at a word past `limit`."""
    text = str(e)
    first = text.splitlines()[0] if text.strip() else ""
    if limit is not None and len(first) > limit:
        first = first[:limit].rsplit(" ", 1)[0] + " …"
    return first
