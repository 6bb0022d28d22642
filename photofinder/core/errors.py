"""Errors a user can cause, each with a message fit to show them as it is."""

from __future__ import annotations


class PhotofinderError(Exception):
    """Something the user can fix; str(error) is a plain-words message for them."""


class LibraryError(PhotofinderError):
    """A library that does not exist, already exists, or cannot be used as asked."""


class ModelMismatchError(LibraryError):
    """The library was indexed with another model; mixing vectors would make search meaningless."""


class ModelUnavailableError(PhotofinderError):
    """The CLIP model is neither cached nor downloadable, or the folder given is not a CLIP model."""


class FolderError(PhotofinderError):
    """A photo folder that is missing or unreadable."""
