"""The catalog's photo rows: written a batch at a time, read for rescans, paging and details (folders: folders.py).

A rescan reads (path, size, mtime) from one covering index, never the rows (each holds a 2 KB embedding);
browsing pages through two indexes by date, so page 2,000 costs what page 1 does.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from photofinder.core.paths import from_db, to_db
from photofinder.core.store import facet_counts as _facets
from photofinder.core.store.catalog.connection import CatalogConnection, chunks
from photofinder.core.store.catalog.schema import day_sql
from photofinder.core.store.stamps import Stamps

# A photo written with content the library has already looked at for words takes that verdict with it.
_OCR_OF_TWIN = "(SELECT max(ocr) FROM (SELECT ocr FROM photos WHERE hash = ?5 UNION ALL SELECT ocr FROM {t} WHERE hash = ?5))"


@dataclass
class PhotoRecord:
    """One row of the catalog as the indexer writes it."""

    path: str
    folder: str
    size: int
    mtime_ns: int
    hash: str | None
    status: str
    width: int | None = None
    height: int | None = None
    taken: str | None = None
    reason: str | None = None
    embedding: np.ndarray | None = None
    retry: bool = False  # skipped for a passing reason (vanished, permission): tried again next run
    lat: float | None = None
    lon: float | None = None
    place: str | None = None  # a places.Place key
    geo: int | None = None  # None: GPS not read yet; 0: none; 1: lat and lon hold it (words.py)


PageKey = tuple[int, str, int, int]  # where a browse page ended: (dated photos done, taken, mtime_ns, id)


@dataclass(frozen=True)
class KnownFile:
    id: int
    size: int
    mtime_ns: int
    status: str
    hash: str | None
    retry: bool = False


class HashSet:
    """Membership of a million content hashes without a million Python strings kept.

    Each hash is held as its 64-bit Python hash in one sorted array. A set of a million strings costs 100 MB
    and, worse, freeing it holds the interpreter lock for some 50 ms in one go: the window froze at the end
    of every indexing run of a million-photo library (bench/scale.py --gui). A collision (about 1 in 10^13
    per lookup) only makes the indexer look for a stored twin that is not there; it then decodes the file.
    """

    def __init__(self, chunks: Iterable[list[tuple[str]]]):
        parts = [np.fromiter((hash(r[0]) for r in rows), np.int64, len(rows)) for rows in chunks]
        self._keys = np.sort(np.concatenate(parts)) if parts else np.empty(0, np.int64)

    def __contains__(self, value: object) -> bool:
        key = hash(value)
        i = int(np.searchsorted(self._keys, key))
        return i < len(self._keys) and int(self._keys[i]) == key

    def __len__(self) -> int:
        return len(self._keys)


class PhotoRows(CatalogConnection):
    """Photos: what the indexer, the watcher and the browser read and write."""

    # -- photos --------------------------------------------------------------------------------------------
    def file_stamps(self, folder: str) -> Stamps:
        """{path as stored: (size, mtime_ns, retry, id)} of a folder's photos, from one covering index (a rescan).

        Read from the index alone, never the rows (each holds a 2 KB embedding): a million files in a few seconds.
        Rows stream from the cursor into small shards (no list of a million rows, no dict of a million entries:
        either stalled the window's thread while it was built or freed).
        """
        return Stamps(
            self._iter(
                f"SELECT path, size, mtime_ns, retry, id FROM {self._t} INDEXED BY {self._t}_files WHERE folder = ?",
                (to_db(folder),),
            )
        )

    def stamps_under(self, folder: str, path: str) -> Stamps:
        """As file_stamps, for the photos of library folder `folder` at `path` or under it (a range of the same
        covering index: what one watcher event costs is that subfolder's rows, not the library's)."""
        raw = to_db(path)
        below = to_db(path.rstrip(os.sep) + os.sep)
        above = below[:-1] + bytes([below[-1] + 1])
        return Stamps(
            self._iter(
                f"SELECT path, size, mtime_ns, retry, id FROM {self._t} INDEXED BY {self._t}_files "
                "WHERE folder = ? AND (path = ? OR (path >= ? AND path < ?))",
                (to_db(folder), raw, below, above),
            )
        )

    def hashes_for_paths(self, paths: Iterable[str]) -> dict[str, str | None]:
        """{path: the content hash stored for it} for those of `paths` in the catalog."""
        out: dict[str, str | None] = {}
        for chunk in chunks([to_db(p) for p in paths], 500):
            out.update(
                (from_db(r[0]), r[1])
                for r in self._all(
                    f"SELECT path, hash FROM {self._t} WHERE path IN ({','.join('?' * len(chunk))})", chunk
                )
            )
        return out

    def known_files(self, folder: str) -> dict[str, KnownFile]:
        rows = self._all(
            f"SELECT path, id, size, mtime_ns, status, hash, retry FROM {self._t} WHERE folder = ?",
            (to_db(folder),),
        )
        return {from_db(r[0]): KnownFile(r[1], r[2], r[3], r[4], r[5], bool(r[6])) for r in rows}

    def indexed_hashes(self) -> HashSet:
        """Content hashes of every indexed photo: lets workers spot renamed or copied files cheaply."""
        cur = self._exec(f"SELECT DISTINCT hash FROM {self._t} WHERE status = 'indexed' AND hash IS NOT NULL")
        return HashSet(iter(lambda: cur.fetchmany(10_000), []))

    def hashes_in_use(self, hashes: Iterable[str]) -> set[str]:
        """Which of `hashes` some photo (live or staged) still has: their thumbnails are still needed."""
        out: set[str] = set()
        for chunk in chunks(list(set(hashes)), 500):
            marks = ",".join("?" * len(chunk))
            for table in ("photos", "staged"):
                out.update(
                    r[0] for r in self._all(f"SELECT hash FROM {table} WHERE hash IN ({marks})", chunk)
                )
        return out

    def upsert(self, records: Iterable[PhotoRecord]) -> dict[str, int]:
        """Write a batch of photos in one transaction; returns their ids by path."""
        now = time.time()
        ids: dict[str, int] = {}
        with self._transaction():
            generation = self._bump()
            for r in records:
                blob = (
                    None if r.embedding is None else np.ascontiguousarray(r.embedding, np.float32).tobytes()
                )
                row = self._one(
                    f"INSERT INTO {self._t} (path, folder, size, mtime_ns, hash, width, height, taken, status,"
                    " reason, retry, embedding, indexed_at, gen, day, ext, lat, lon, place, geo, ocr) VALUES (?1,"
                    f" ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, {day_sql('?8', '?4')}, ?15, ?16, ?17,"
                    f" ?18, ?19, {_OCR_OF_TWIN.format(t=self._t)}) "
                    "ON CONFLICT(path) DO UPDATE SET folder=excluded.folder, size=excluded.size,"
                    " mtime_ns=excluded.mtime_ns, hash=excluded.hash, width=excluded.width,"
                    " height=excluded.height, taken=excluded.taken, status=excluded.status,"
                    " reason=excluded.reason, retry=excluded.retry, embedding=excluded.embedding,"
                    " indexed_at=excluded.indexed_at, gen=excluded.gen, day=excluded.day, ext=excluded.ext,"
                    " lat=excluded.lat, lon=excluded.lon, place=excluded.place, geo=excluded.geo, ocr=excluded.ocr"
                    " RETURNING id",
                    (
                        to_db(r.path),
                        to_db(r.folder),
                        r.size,
                        r.mtime_ns,
                        r.hash,
                        r.width,
                        r.height,
                        r.taken,
                        r.status,
                        r.reason,
                        int(r.retry),
                        blob,
                        now,
                        generation,
                        _facets.extension(r.path),
                        r.lat,
                        r.lon,
                        r.place,
                        r.geo,
                    ),
                )
                ids[r.path] = row[0]  # type: ignore[index]
        return ids

    def delete(self, ids: Iterable[int]) -> list[str]:
        """Forget photos by id; returns the content hashes they had (their thumbnails may now be unused)."""
        ids = list(ids)
        if not ids:
            return []
        hashes: list[str] = []
        with self._transaction():
            self._bump()  # first: the deletion log stamps rows with the new generation
            for chunk in chunks(ids, 500):
                marks = ",".join("?" * len(chunk))
                hashes += [
                    r[0]
                    for r in self._all(
                        f"SELECT hash FROM {self._t} WHERE id IN ({marks}) AND hash IS NOT NULL", chunk
                    )
                ]
                self._exec(f"DELETE FROM {self._t} WHERE id IN ({marks})", chunk)
        return hashes

    def photos(self, ids: Iterable[int]) -> dict[int, tuple[str, str | None]]:
        """(path, content hash) by id, for the ids that still exist."""
        out: dict[int, tuple[str, str | None]] = {}
        for chunk in chunks(list(ids), 500):
            rows = self._all(
                f"SELECT id, path, hash FROM {self._t} WHERE id IN ({','.join('?' * len(chunk))})", chunk
            )
            out.update({r[0]: (from_db(r[1]), r[2]) for r in rows})
        return out

    def recent(self, limit: int) -> list[tuple[int, str, str | None]]:
        """(id, path, hash) of indexed photos, newest first: by EXIF date taken, then by file time."""
        return self.recent_page(None, limit)[0]

    def recent_page(
        self, after: PageKey | None, limit: int
    ) -> tuple[list[tuple[int, str, str | None]], PageKey | None]:
        """A page of `recent()`: (id, path, hash) after `after`, and the key of the next page (None at the end).

        Keyset paging over two indexes (photos with an EXIF date, newest first; then the rest by file time), so
        page 2,000 of a million-photo library costs what page 1 does.
        """
        rows: list[tuple[int, str, str | None]] = []
        key: PageKey | None = None
        if after is None or after[0] == 0:
            cond, params = ("AND (taken, mtime_ns, id) < (?, ?, ?)", after[1:]) if after else ("", ())
            for r in self._all(
                f"SELECT id, path, hash, taken, mtime_ns FROM {self._t} INDEXED BY {self._t}_recent_taken "
                f"WHERE status = 'indexed' AND taken IS NOT NULL {cond} "
                "ORDER BY taken DESC, mtime_ns DESC, id DESC LIMIT ?",
                (*params, limit),
            ):
                rows.append((r[0], from_db(r[1]), r[2]))
                key = (0, r[3], r[4], r[0])
        if len(rows) < limit:
            cond, params = ("AND (mtime_ns, id) < (?, ?)", after[2:]) if after and after[0] == 1 else ("", ())
            for r in self._all(
                f"SELECT id, path, hash, mtime_ns FROM {self._t} INDEXED BY {self._t}_recent_file "
                f"WHERE status = 'indexed' AND taken IS NULL {cond} ORDER BY mtime_ns DESC, id DESC LIMIT ?",
                (*params, limit - len(rows)),
            ):
                rows.append((r[0], from_db(r[1]), r[2]))
                key = (1, "", r[3], r[0])
        return rows, key if len(rows) == limit else None

    def details(self, ids: Iterable[int]) -> dict[int, tuple[str | None, int, int, int | None, int | None]]:
        """(date taken or None, file time in ns, bytes, width, height) by id: what a result shows beside it."""
        out = {}
        for chunk in chunks(list(ids), 500):
            rows = self._all(
                f"SELECT id, taken, mtime_ns, size, width, height FROM {self._t} "
                f"WHERE id IN ({','.join('?' * len(chunk))})",
                chunk,
            )
            out.update({r[0]: (r[1], r[2], r[3], r[4], r[5]) for r in rows})
        return out

    def hash_for_path(self, path: str) -> str | None:
        row = self._one(f"SELECT hash FROM {self._t} WHERE path = ?", (to_db(path),))
        return row[0] if row else None

    def skipped(self) -> list[tuple[str, str]]:
        return [
            (from_db(r[0]), r[1] or "")
            for r in self._all(f"SELECT path, reason FROM {self._t} WHERE status = 'skipped' ORDER BY path")
        ]

    # -- schema 1's partial fingerprints, until rehash.py replaces them ------------------------------------
    @property
    def legacy_hashes(self) -> bool:
        """Rows from schema 1 carry the old 128 KiB fingerprint; new files are also matched against it."""
        return self.get_meta("legacy_hashes") == "1"

    def legacy_rows(self) -> list[tuple[int, str, int, int, str]]:
        """(id, path, size, mtime_ns, fingerprint) of the rows still holding schema 1's partial fingerprint
        (size + first and last 64 KiB: 32 hex digits, where a whole-file SHA-256 has 64)."""
        return [
            (r[0], from_db(r[1]), r[2], r[3], r[4])
            for r in self._all(
                "SELECT id, path, size, mtime_ns, hash FROM photos WHERE hash IS NOT NULL AND length(hash) != 64"
            )
        ]

    def replace_hashes(self, hashes: dict[int, str | None], done: bool) -> None:
        """Give rows their whole-file hash (None: could not be read, so no identity at all); `done`: every
        legacy row has been handled, new files are no longer matched against the old fingerprints."""
        with self._transaction():
            for i, h in hashes.items():
                self._exec("UPDATE photos SET hash = ? WHERE id = ?", (h, i))
            if done:
                self._exec("DELETE FROM meta WHERE key = 'legacy_hashes'")
