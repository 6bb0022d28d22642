"""The SQLite catalog: the library's source of truth (photos, their metadata, embeddings as raw float32).

Photo and folder paths are stored as the operating system's bytes (see paths.py), so any file name round-trips.
Every SQLite failure leaves this package as a LibraryError with a message for the user (full disk, read-only
file, busy, damaged file), never as a bare sqlite3 exception.

`Catalog` is one object to its callers, built from one part per concern, each a mixin over the connection:

- connection.py  `CatalogConnection`: opening, migrating, statements and their errors, transactions, snapshots,
                 meta, the generation counter, photo counts
- schema.py      the DDL as frozen history (one migration per schema version), the status values
- folders.py     `Folders`: the library's folders, removed or merged with their photos
- photos.py      `PhotoRows`: photo rows written and read, rescans, paging, details
- vectors.py     `Vectors`: the model the vectors come from, reading them, the change log readers catch up by
- facets.py      `Facets`: the filter panel's counts, filters over the filter indexes, count repair
- words.py       `WordsAndPlaces`: the words pass's to-do list and findings, text and place lookups
- groups.py      `ExploreGroups`: Explore's groups as stored
- staging.py     `Rebuild`: a rebuild with another model, staged beside the live photos and swapped in

Mixins rather than composed parts: every concern shares one connection, one transaction and the live/staged
table switch, and the callers (the CLI, the GUI, the stages, bench/) call `catalog.upsert(...)`,
`catalog.facets()` on one object; parts would need a forwarding method for each of some seventy.
"""

from __future__ import annotations

from photofinder.core.store.catalog.connection import CatalogConnection, damaged_message, translate
from photofinder.core.store.catalog.facets import Facets
from photofinder.core.store.catalog.folders import Folders
from photofinder.core.store.catalog.groups import ExploreGroups
from photofinder.core.store.catalog.photos import HashSet, KnownFile, PageKey, PhotoRecord, PhotoRows
from photofinder.core.store.catalog.schema import INDEXED, SCHEMA_VERSION, SKIPPED
from photofinder.core.store.catalog.staging import Rebuild
from photofinder.core.store.catalog.vectors import Changes, StoredEmbedding, Vectors
from photofinder.core.store.catalog.words import WordsAndPlaces, WordsDone, WordsTodo

__all__ = [
    "INDEXED",
    "SCHEMA_VERSION",
    "SKIPPED",
    "Catalog",
    "CatalogConnection",
    "Changes",
    "HashSet",
    "KnownFile",
    "PageKey",
    "PhotoRecord",
    "StoredEmbedding",
    "WordsDone",
    "WordsTodo",
    "damaged_message",
    "translate",
]


class Catalog(PhotoRows, Folders, Vectors, Facets, WordsAndPlaces, ExploreGroups, Rebuild):
    """One connection to a library's catalog. Not shared across threads: each thread opens its own.

    `staged=True` gives the same catalog seen through its staging table: what a rebuild with another model
    writes until it completes (`finish_rebuild` then swaps it in, in one transaction).
    """

    def staging(self) -> Catalog:
        """The same file seen through its staging table (a second connection)."""
        return Catalog(self.path, staged=True)
