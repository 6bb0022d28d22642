"""What the filter panel offers, counted: the library's folders (and folders inside them), years, months, file types.

Read from the counts the catalog keeps (Catalog.facets): the cost is the number of folders, months and types,
not of photos. Still run on the search thread (SearchController.run_task), as every catalog read is.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Signal, Slot

from photofinder.core.store.library import Library

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Facets:
    """Counts of the indexed photos: under each folder (the library's folders and every folder inside them that
    holds photos), by year and by month taken ('YYYY-MM'), and by file type."""

    roots: list[str] = field(default_factory=list)
    folders: dict[str, int] = field(default_factory=dict)
    years: dict[int, int] = field(default_factory=dict)
    types: dict[str, int] = field(default_factory=dict)
    photos: int = 0
    months: dict[str, int] = field(default_factory=dict)
    places: dict[str, int] = field(default_factory=dict)  # by place key (core.places): photos with GPS


def count_facets(library: Library) -> Facets:
    """The facets of a library, from its stored counts (milliseconds, whatever its size)."""
    with library.open_catalog() as c, c.snapshot():
        roots = c.folders()
        stored = c.facets()
        photos = c.count()
    folders: Counter[str] = Counter()
    for d, n in stored.dirs.items():
        root = next((r for r in roots if d == r or d.startswith(r.rstrip(os.sep) + os.sep)), None)
        # A folder counts the photos in it and in every folder below it, up to the library's folder.
        while True:
            folders[d] += n
            parent = os.path.dirname(d)
            if root is None or d == root or len(d) <= len(root) or parent == d:
                break
            d = parent
    years: Counter[int] = Counter()
    for month, n in stored.months.items():
        years[int(month[:4])] += n
    return Facets(
        roots,
        dict(folders),
        dict(sorted(years.items())),
        dict(Counter(stored.types).most_common()),
        photos,
        dict(sorted(stored.months.items())),
        dict(stored.places),
    )


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
