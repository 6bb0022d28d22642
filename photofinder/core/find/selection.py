"""Which photos a query's filters allow: the ids each filter selects, intersected, kept until the catalog changes.

A Searcher holds one FilterSelection over its own catalog connection; the ids it gives are handed to the vector
index as a selector (IdSet), so a filter is applied inside the index's own search.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from photofinder.core.find.query import Filters, filter_index, filter_sql
from photofinder.core.paths import to_db
from photofinder.core.photos.places import matching_keys
from photofinder.core.store.catalog import Catalog
from photofinder.core.store.vector_index import IdSet
from photofinder.core.store.words import fts_query


class FilterSelection:
    """The ids a filter allows over one catalog connection, with the last filter's selector cached."""

    def __init__(self, catalog: Catalog):
        self._catalog = catalog
        self._cache: tuple[tuple, IdSet] | None = None

    def allowed_ids(self, filters: Filters) -> np.ndarray | None:
        """The ids a filter allows, sorted (None: no filter). Cached until the catalog changes."""
        if not filters:
            return None
        key = (
            filters,
            self._catalog.generation,
            self._words_state() if filters.text or filters.place else (),
        )
        if filters.group is not None:  # new photos join groups after they are indexed (groups.update)
            key += (self._catalog.get_meta("explore_generation"),)
        if self._cache is None or self._cache[0] != key:
            ids = None
            if filters.by_columns:
                rest = replace(filters, group=None, text=None, place=None)
                where, params = filter_sql(rest, to_db)
                ids = self._catalog.filtered_ids(where, params, filter_index(rest))
            if filters.text:
                found = np.array([i for i, _ in self.text_matches(filters.text)], np.int64)
                ids = found if ids is None else np.intersect1d(ids, found)
            if filters.place:
                keys = matching_keys(filters.place, list(self._catalog.facets().places))
                found = self._catalog.place_ids(keys)
                ids = found if ids is None else np.intersect1d(ids, found)
            if filters.group is not None:  # an Explore group: its photos from the group index
                group = self._catalog.group_photo_ids(filters.group)
                ids = group if ids is None else np.intersect1d(ids, group)
            self._cache = (key, IdSet(np.sort(ids)))
        return self._cache[1].ids

    def _words_state(self) -> tuple:
        """What the words pass has written so far (it moves no generation: it changes no vector)."""
        return self._catalog.words_stamp()

    def text_matches(self, text: str) -> list[tuple[int, float]]:
        """(id, bm25 rank) of the photos whose words match `text`, best first."""
        return self._catalog.text_matches(fts_query(text))

    def id_set(self, allowed: np.ndarray) -> IdSet:
        """The selector of the filter `allowed` came from (allowed_ids), else one built for it."""
        cached = self._cache
        return cached[1] if cached is not None and cached[1].ids is allowed else IdSet(allowed)
