"""Reading and writing the words read in photos and where they were taken (their schema: store/words.py)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from photofinder.core.paths import from_db
from photofinder.core.store.catalog.connection import CatalogConnection, chunks, translate


@dataclass(frozen=True)
class WordsTodo:
    """A photo the words pass has yet to look at (Catalog.words_todo)."""

    id: int
    path: str
    hash: str | None
    geo: int | None  # None: its GPS was never read
    ocr: int | None  # None: never looked at; 0: passed over by the gate
    embedding: np.ndarray | None


@dataclass
class WordsDone:
    """What the words pass found in one photo (Catalog.save_words); None leaves a part as it was."""

    id: int
    hash: str | None
    geo: int | None = None
    lat: float | None = None
    lon: float | None = None
    place: str | None = None
    ocr: int | None = None  # words.GATED_OUT or words.READ
    text: str = ""
    boxes: str = "[]"


class WordsAndPlaces(CatalogConnection):
    """What the words pass has left to do and what it found; text and place lookups for search."""

    def words_todo(self, after: int, limit: int, *, ocr: bool, gated: bool) -> list[WordsTodo]:
        """Indexed photos after id `after`, in id order, that the words pass has yet to look at: GPS never
        read, or (`ocr`) words never looked for, or (`gated`, the 'all' mode) passed over by the gate.

        Each part is one partial index's range (words.py), so a library with nothing to do answers at once.
        """
        parts = [
            "SELECT id FROM photos INDEXED BY photos_geo_todo WHERE status = 'indexed' AND geo IS NULL AND id > ?1"
        ]
        if ocr:
            parts.append(
                "SELECT id FROM photos INDEXED BY photos_ocr_todo WHERE status = 'indexed' AND ocr IS NULL AND id > ?1"
            )
        if gated:
            parts.append(
                "SELECT id FROM photos INDEXED BY photos_ocr_gated WHERE status = 'indexed' AND ocr = 0 AND id > ?1"
            )
        ids = [r[0] for r in self._all(" UNION ".join(parts) + " ORDER BY id LIMIT ?2", (after, limit))]
        if not ids:
            return []
        rows = self._all(
            f"SELECT id, path, hash, geo, ocr, embedding FROM photos WHERE id IN ({','.join('?' * len(ids))}) "
            "ORDER BY id",
            ids,
        )
        return [
            WordsTodo(
                r[0],
                from_db(r[1]),
                r[2],
                r[3],
                r[4],
                None if r[5] is None else np.frombuffer(r[5], np.float32),
            )
            for r in rows
        ]

    def words_todo_count(self, *, ocr: bool, gated: bool) -> int:
        """How many photos words_todo would hand out from the start (the pass's progress total)."""
        parts = ["SELECT id FROM photos INDEXED BY photos_geo_todo WHERE status = 'indexed' AND geo IS NULL"]
        if ocr:
            parts.append(
                "SELECT id FROM photos INDEXED BY photos_ocr_todo WHERE status = 'indexed' AND ocr IS NULL"
            )
        if gated:
            parts.append(
                "SELECT id FROM photos INDEXED BY photos_ocr_gated WHERE status = 'indexed' AND ocr = 0"
            )
        return self._one(f"SELECT count(*) FROM ({' UNION '.join(parts)})")[0]  # type: ignore[index]

    def save_words(self, done: Iterable[WordsDone]) -> None:
        """What the words pass found for some photos, in one transaction. A photo whose content changed since
        it was handed out (another hash now) is left alone: the next pass looks at it again."""
        with self._transaction():
            for d in done:
                if d.geo is not None:
                    self._exec(
                        "UPDATE photos SET lat = ?, lon = ?, place = ?, geo = ? WHERE id = ? AND hash IS ?",
                        (d.lat, d.lon, d.place, d.geo, d.id, d.hash),
                    )
                if d.ocr is None or d.hash is None:
                    continue
                if d.text:
                    self._exec(
                        "INSERT INTO ocr_text (hash, text, boxes) VALUES (?, ?, ?) "
                        "ON CONFLICT (hash) DO UPDATE SET text = excluded.text, boxes = excluded.boxes "
                        "WHERE text IS NOT excluded.text OR boxes IS NOT excluded.boxes",
                        (d.hash, d.text, d.boxes),
                    )
                # every photo with this content (copies) shares the verdict
                self._exec("UPDATE photos SET ocr = ? WHERE hash = ? AND status = 'indexed'", (d.ocr, d.hash))

    def text_matches(self, fts: str) -> list[tuple[int, float]]:
        """(photo id, rank) of the indexed photos whose words match an FTS5 query (words.fts_query), best first
        (bm25: rarer words and shorter texts rank higher)."""
        if not fts:
            return []
        try:
            rows = self._db.execute(
                f"SELECT p.id, bm25(ocr_fts) AS r FROM ocr_fts JOIN ocr_text AS o ON o.id = ocr_fts.rowid "
                f"JOIN {self._t} AS p ON p.hash = o.hash "
                "WHERE ocr_fts MATCH ? AND p.status = 'indexed' ORDER BY r, p.id",
                (fts,),
            ).fetchall()
        except sqlite3.OperationalError as e:
            if "fts5" in str(e).lower() or "syntax" in str(e).lower():
                return []  # what was typed is no query FTS5 reads (only punctuation): nothing matches
            raise translate(e, self.path) from e
        except sqlite3.Error as e:
            raise translate(e, self.path) from e
        return [(r[0], float(r[1])) for r in rows]

    def place_ids(self, keys: list[str]) -> np.ndarray:
        """Ids of the indexed photos taken at any of these places (keys), from the place index alone."""
        if not keys:
            return np.empty(0, np.int64)
        row = self._one(
            f"SELECT group_concat(id) FROM {self._t} INDEXED BY {self._t}_by_place "
            f"WHERE status = 'indexed' AND place IN ({','.join('?' * len(keys))})",
            keys,
        )
        if not row or not row[0]:
            return np.empty(0, np.int64)
        return np.fromstring(row[0], dtype=np.int64, sep=",")

    def words_and_places(
        self, ids: Iterable[int]
    ) -> dict[int, tuple[str | None, str | None, float | None, float | None]]:
        """(words read in it, place key, latitude, longitude) by photo id: what a result shows beside it."""
        out = {}
        for chunk in chunks(list(ids), 500):
            rows = self._all(
                f"SELECT p.id, o.text, p.place, p.lat, p.lon FROM {self._t} AS p "
                "LEFT JOIN ocr_text AS o ON o.hash = p.hash "
                f"WHERE p.id IN ({','.join('?' * len(chunk))})",
                chunk,
            )
            out.update({r[0]: (r[1], r[2], r[3], r[4]) for r in rows})
        return out

    def words_stamp(self) -> tuple:
        """Moves when the words pass has stored new words or places (a cached text or place filter is stale)."""
        return (
            self._one(
                "SELECT (SELECT max(id) FROM ocr_text), "
                "(SELECT sum(n) FROM facet_counts WHERE tbl = ? AND kind = 'place'), "
                "(SELECT count(*) FROM facet_counts WHERE tbl = ? AND kind = 'place')",
                (self._t, self._t),
            )
            or ()
        )

    def words_boxes(self, content_hash: str) -> tuple[str, str] | None:
        """(text, boxes as JSON) read in the content with this hash, if any."""
        row = self._one("SELECT text, boxes FROM ocr_text WHERE hash = ?", (content_hash,))
        return (row[0], row[1]) if row else None
