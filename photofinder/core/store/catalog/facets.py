"""Reading the filter panel's facets and the photo counts, their repair, and the ids a filter lets through.

The triggers that keep the counts are SQL in store/facet_counts.py and store/words.py (places).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from photofinder.core.paths import from_db
from photofinder.core.store import facet_counts as _facets
from photofinder.core.store import words as _words
from photofinder.core.store.catalog.connection import CatalogConnection
from photofinder.core.store.catalog.schema import INDEXED, SKIPPED, statements
from photofinder.core.store.facet_counts import FacetCounts

log = logging.getLogger(__name__)


class Facets(CatalogConnection):
    """Facet counts (months, file types, directories, places), filters over the filter indexes, count repair."""

    def filtered_ids(self, where: str, params: list[Any], index: str | None = None) -> np.ndarray:
        """Ids of the indexed photos a filter (query.filter_sql) allows, in no particular order; `index` names
        the filter index to read (query.filter_index), None to let SQLite choose.

        Read from the filter indexes alone (see migration 6), and handed over as one string: a million ids
        come back in about 0.15 s, where a row per id took twice that in Python.
        """
        hint = f"INDEXED BY {self._t}_{index}" if index else ""
        row = self._one(
            f"SELECT group_concat(id) FROM {self._t} {hint} WHERE status = 'indexed' AND {where}", params
        )
        if not row or not row[0]:
            return np.empty(0, np.int64)
        return np.fromstring(row[0], dtype=np.int64, sep=",")

    def check_counts(self) -> bool:
        """Recount from the indexes and repair the stored counts if they drifted; True when they were right.

        They can only drift when the file itself lost writes (a -wal deleted after a crash mid-checkpoint). An
        index run calls it first: two partial-index scans, about 0.1 s at a million photos, and a sum of the facet
        counts per kind; the facets are recounted from the rows only when something was wrong.
        """
        t = self._t
        indexed = self._one(
            f"SELECT (SELECT count(*) FROM {t} INDEXED BY {t}_recent_taken "
            "WHERE status = 'indexed' AND taken IS NOT NULL) + "
            f"(SELECT count(*) FROM {t} INDEXED BY {t}_recent_file WHERE status = 'indexed' AND taken IS NULL)"
        )[0]  # type: ignore[index]
        skipped = self._one(f"SELECT count(*) FROM {t} INDEXED BY {t}_skipped WHERE status = 'skipped'")[0]  # type: ignore[index]
        counts_right = (self.count(), self.count(SKIPPED)) == (indexed, skipped)
        if counts_right and self._facets_add_up(indexed):
            return True
        if not counts_right:
            log.warning(
                "catalog %s: stored photo counts (%d, %d) differ from the rows (%d, %d); repaired",
                self.path,
                self.count(),
                self.count(SKIPPED),
                indexed,
                skipped,
            )
            with self._transaction():
                for status, n in ((INDEXED, indexed), (SKIPPED, skipped)):
                    self._exec(
                        "INSERT OR REPLACE INTO counts (tbl, status, n) VALUES (?, ?, ?)", (t, status, n)
                    )
        # Writes were lost, or the facets don't add up: the facets are counted again from the rows (seconds at
        # a million photos, and only then).
        log.warning("catalog %s: facet counts recounted from the rows", self.path)
        self.recount_facets()
        return False

    def _facets_add_up(self, indexed: int) -> bool:
        """Whether each kind of facet counts every indexed photo once, none below zero (O(distinct keys))."""
        sql = "SELECT kind, sum(n), min(n) FROM facet_counts WHERE tbl = ? GROUP BY kind"
        sums = {r[0]: (r[1], r[2]) for r in self._all(sql, (self._t,))}
        return all(sums.get(k, (0, 0))[0] == indexed and sums.get(k, (0, 0))[1] >= 0 for k in _facets.KINDS)

    def recount_facets(self) -> None:
        """Count the facets again from the rows (one pass over them; a repair, after writes were lost)."""
        with self._transaction():
            for statement in statements(_facets.recount(self._t) + _words.recount_places(self._t)):
                self._exec(statement)

    def facets(self) -> FacetCounts:
        """The indexed photos by month taken, file type and directory: stored counts, read in O(distinct keys)."""
        out: dict[str, dict] = {k: {} for k in _facets.KINDS}
        places: dict[str, int] = {}
        for kind, key, n in self._all(
            "SELECT kind, key, n FROM facet_counts WHERE tbl = ? AND n > 0", (self._t,)
        ):
            if kind in out:
                out[kind][from_db(key) if kind == _facets.DIR else key] = n
            elif kind == _words.PLACE:
                places[key] = n
        return FacetCounts(out[_facets.MONTH], out[_facets.TYPE], out[_facets.DIR], places)
