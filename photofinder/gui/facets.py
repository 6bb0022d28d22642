"""What the filter panel offers, counted: the library's folders (and folders inside them), years, file types.

Counted on the search thread (SearchController.run_task), from the catalog's stored paths and dates: no photo
is opened.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from PySide6.QtCore import QObject, Signal, Slot

from ..core.library import Library

log = logging.getLogger(__name__)

_SAME_TYPE = {"jpeg": "jpg", "jpe": "jpg", "jfif": "jpg", "tiff": "tif", "heif": "heic"}


@dataclass(frozen=True)
class Facets:
    """Counts of the indexed photos: under each folder (the library's folders and every folder inside them that
    holds photos), by year taken, and by file type."""

    roots: list[str] = field(default_factory=list)
    folders: dict[str, int] = field(default_factory=dict)
    years: dict[int, int] = field(default_factory=dict)
    types: dict[str, int] = field(default_factory=dict)
    photos: int = 0


def count_facets(library: Library) -> Facets:
    """The facets of a library (a few seconds for a million photos: run it off the GUI thread)."""
    with library.open_catalog() as c:
        roots = c.folders()
        ids = c.filtered_ids("1", []).tolist()
        info = c.details(ids)
        paths = c.photos(ids)
    folders: Counter[str] = Counter()
    years: Counter[int] = Counter()
    types: Counter[str] = Counter()
    for i, (path, _hash) in paths.items():
        d = os.path.dirname(path)
        root = next((r for r in roots if d == r or d.startswith(r.rstrip(os.sep) + os.sep)), None)
        while True:  # the photo counts in its folder and in every folder above it, up to the library's folder
            folders[d] += 1
            if root is None or d == root or len(d) <= len(root):
                break
            d = os.path.dirname(d)
        ext = os.path.splitext(path)[1].lower().lstrip(".")
        types[_SAME_TYPE.get(ext, ext)] += 1
        taken, mtime_ns = info.get(i, (None, 0))[:2]
        year = (
            int(taken[:4]) if taken and taken[:4].isdigit() else datetime.fromtimestamp(mtime_ns / 1e9).year
        )
        years[year] += 1
    return Facets(roots, dict(folders), dict(sorted(years.items())), dict(types.most_common()), len(paths))


class FacetsFeed(QObject):
    """Counts the shown library's facets on the search thread whenever its summary changes (after indexing too)."""

    ready = Signal(object)  # Facets

    def __init__(self, libraries, searches):  # untyped: controllers.py imports what imports this
        super().__init__()
        self.libraries, self.searches = libraries, searches
        libraries.summaryChanged.connect(self.refresh)

    @Slot()
    def refresh(self, *_: object) -> None:
        lib = self.libraries.library
        if lib is None:
            return

        def done(facets: Facets) -> None:
            if self.libraries.library is lib:
                self.ready.emit(facets)

        def failed(error: Exception) -> None:
            log.info("facets not counted: %s", error)  # the summary reports what is wrong with the library

        self.searches.run_task(lambda: count_facets(lib), done, failed)
