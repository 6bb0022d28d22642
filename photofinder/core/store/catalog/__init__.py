"""The SQLite catalog: the library's source of truth (photos, their metadata, embeddings as raw float32).

Photo and folder paths are stored as the operating system's bytes (see paths.py), so any file name round-trips.
Every SQLite failure leaves this module as a LibraryError with a message for the user (full disk, read-only
file, busy, damaged file), never as a bare sqlite3 exception.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from photofinder.core.errors import CatalogDamagedError, LibraryBusyError, LibraryError
from photofinder.core.paths import from_db, to_db
from photofinder.core.store import facet_counts as _facets
from photofinder.core.store import words as _words
from photofinder.core.store.facet_counts import FacetCounts

log = logging.getLogger(__name__)

INDEXED = "indexed"
# A rebuild's own records, all but the counters that must only ever grow (readers compare against them).
_DROP_STAGED_META = (
    "DELETE FROM meta WHERE key LIKE 'staged\\_%' ESCAPE '\\' "
    "AND key NOT IN ('staged_generation', 'staged_log_floor')"
)
SKIPPED = "skipped"
# A photo written with content the library has already looked at for words takes that verdict with it.
_OCR_OF_TWIN = "(SELECT max(ocr) FROM (SELECT ocr FROM photos WHERE hash = ?5 UNION ALL SELECT ocr FROM {t} WHERE hash = ?5))"

_PHOTO_COLUMNS = """
        id INTEGER PRIMARY KEY,
        path BLOB NOT NULL UNIQUE,
        folder BLOB NOT NULL,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        hash TEXT,
        width INTEGER,
        height INTEGER,
        taken TEXT,
        status TEXT NOT NULL CHECK (status IN ('indexed', 'skipped')),
        reason TEXT,
        retry INTEGER NOT NULL DEFAULT 0,
        embedding BLOB,
        indexed_at REAL NOT NULL
"""
_COLUMN_NAMES = (
    "id, path, folder, size, mtime_ns, hash, width, height, taken, status, reason, retry, "
    "embedding, indexed_at, day, ext, lat, lon, place, geo, ocr"
)


def _day(taken: str, mtime_ns: str) -> str:
    """SQL for the day a photo was taken ('YYYY-MM-DD'): the EXIF date's, else the file time's in local time.

    Stored when the row is written (the date filter compares it) rather than worked out per query, which read
    every row; it is what the filter computed before, down to SQLite's own local time.
    """
    return (
        f"coalesce(substr({taken}, 1, 10), strftime('%Y-%m-%d', {mtime_ns} / 1e9, 'unixepoch', 'localtime'))"
    )


def _filter_schema(table: str) -> str:
    """Migration 6 for one table: the date and type keys the filters compare, and indexes that cover every
    filter (folder, dates, type, orientation, size), so a filter reads index entries, never the 2 KB rows.

    `status` ends each index although the index holds indexed photos only: SQLite before 3.45 reads the row
    for any column the query names that the index lacks, its partial condition's included."""
    return f"""
    ALTER TABLE {table} ADD COLUMN day TEXT;
    ALTER TABLE {table} ADD COLUMN ext TEXT;
    UPDATE {table} SET day = {_day("taken", "mtime_ns")}, ext = pf_ext(path);
    CREATE INDEX {table}_by_day ON {table} (day, ext, width, height, status) WHERE status = 'indexed';
    CREATE INDEX {table}_by_type ON {table} (ext, day, width, height, status) WHERE status = 'indexed';
    CREATE INDEX {table}_by_path ON {table} (path, day, ext, width, height, status) WHERE status = 'indexed';
    """


def _log_schema(table: str, key: str) -> str:
    """Migration 4 for one table (`key`: its prefix in meta): change generations, the deletion log, indexes."""
    return f"""
    ALTER TABLE {table} ADD COLUMN gen INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX {table}_gen ON {table} (gen);
    CREATE TABLE {table}_deleted (gen INTEGER NOT NULL, id INTEGER NOT NULL);
    CREATE INDEX {table}_deleted_gen ON {table}_deleted (gen);
    CREATE TRIGGER {table}_log_delete AFTER DELETE ON {table} WHEN old.status = 'indexed' BEGIN
        INSERT INTO {table}_deleted (gen, id) VALUES (
            COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key = '{key}generation'), 0), old.id);
    END;
    INSERT OR REPLACE INTO meta (key, value) SELECT '{key}log_floor',
        COALESCE((SELECT value FROM meta WHERE key = '{key}generation'), '0');
    DROP INDEX {table}_folder;
    CREATE INDEX {table}_files ON {table} (folder, path, size, mtime_ns, retry);
    CREATE INDEX {table}_indexed_hash ON {table} (hash) WHERE status = 'indexed' AND hash IS NOT NULL;
    CREATE INDEX {table}_skipped ON {table} (status) WHERE status = 'skipped';
    """


def _count_triggers(table: str) -> str:
    return f"""
    CREATE TRIGGER {table}_count_insert AFTER INSERT ON {table} BEGIN
        UPDATE counts SET n = n + 1 WHERE tbl = '{table}' AND status = new.status;
    END;
    CREATE TRIGGER {table}_count_delete AFTER DELETE ON {table} BEGIN
        UPDATE counts SET n = n - 1 WHERE tbl = '{table}' AND status = old.status;
    END;
    CREATE TRIGGER {table}_count_update AFTER UPDATE OF status ON {table} WHEN old.status IS NOT new.status BEGIN
        UPDATE counts SET n = n - 1 WHERE tbl = '{table}' AND status = old.status;
        UPDATE counts SET n = n + 1 WHERE tbl = '{table}' AND status = new.status;
    END;
    """


_GROUPS_SCHEMA = """
    CREATE TABLE explore_groups (
        id INTEGER PRIMARY KEY,
        parent INTEGER,
        name TEXT NOT NULL,
        fit REAL NOT NULL,
        n INTEGER NOT NULL,
        newest TEXT,
        cover TEXT NOT NULL,
        centroid BLOB NOT NULL
    );
    CREATE TABLE explore_members (photo INTEGER PRIMARY KEY, grp INTEGER NOT NULL, top INTEGER NOT NULL);
    CREATE INDEX explore_members_grp ON explore_members (grp);
    CREATE INDEX explore_members_top ON explore_members (top);
    CREATE TRIGGER explore_photo_delete AFTER DELETE ON photos WHEN old.status = 'indexed' BEGIN
        UPDATE explore_groups SET n = n - 1 WHERE id IN (
            SELECT grp FROM explore_members WHERE photo = old.id
            UNION SELECT top FROM explore_members WHERE photo = old.id);
        DELETE FROM explore_members WHERE photo = old.id;
    END;
    CREATE TRIGGER explore_photo_skipped AFTER UPDATE OF status ON photos
        WHEN old.status = 'indexed' AND new.status IS NOT 'indexed' BEGIN
        UPDATE explore_groups SET n = n - 1 WHERE id IN (
            SELECT grp FROM explore_members WHERE photo = old.id
            UNION SELECT top FROM explore_members WHERE photo = old.id);
        DELETE FROM explore_members WHERE photo = old.id;
    END;
"""

# Each entry migrates the schema from version i to i + 1; PRAGMA user_version records how far a file got.
_MIGRATIONS: list[str] = [
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE folders (path TEXT PRIMARY KEY, added_at REAL NOT NULL);
    CREATE TABLE photos (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        folder TEXT NOT NULL,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        hash TEXT,
        width INTEGER,
        height INTEGER,
        taken TEXT,
        status TEXT NOT NULL CHECK (status IN ('indexed', 'skipped')),
        reason TEXT,
        embedding BLOB,
        indexed_at REAL NOT NULL
    );
    CREATE INDEX photos_hash ON photos (hash);
    CREATE INDEX photos_folder ON photos (folder);
    """,
    # 2: paths as bytes (any file name); skips that a later run retries; the folder's device (mount guard);
    # a staging table that a rebuild with another model fills beside the live photos.
    f"""
    CREATE TABLE photos2 ({_PHOTO_COLUMNS});
    INSERT INTO photos2 SELECT id, CAST(path AS BLOB), CAST(folder AS BLOB), size, mtime_ns, hash, width, height,
        taken, status, reason,
        CASE WHEN reason IN ('file vanished', 'permission denied', 'not found') THEN 1 ELSE 0 END,
        embedding, indexed_at FROM photos;
    DROP TABLE photos;
    ALTER TABLE photos2 RENAME TO photos;
    CREATE INDEX photos_hash ON photos (hash);
    CREATE INDEX photos_folder ON photos (folder);
    CREATE TABLE folders2 (path BLOB PRIMARY KEY, added_at REAL NOT NULL, dev INTEGER);
    INSERT INTO folders2 SELECT CAST(path AS BLOB), added_at, NULL FROM folders;
    DROP TABLE folders;
    ALTER TABLE folders2 RENAME TO folders;
    INSERT INTO meta (key, value) SELECT 'legacy_hashes', '1' WHERE EXISTS (SELECT 1 FROM photos);
    CREATE TABLE staged ({_PHOTO_COLUMNS});
    CREATE INDEX staged_hash ON staged (hash);
    CREATE INDEX staged_folder ON staged (folder);
    """,
    # 3: browsing newest first, a page at a time, at any depth: one index per half of the order.
    """
    CREATE INDEX photos_recent_taken ON photos (taken, mtime_ns, id)
        WHERE status = 'indexed' AND taken IS NOT NULL;
    CREATE INDEX photos_recent_file ON photos (mtime_ns, id) WHERE status = 'indexed' AND taken IS NULL;
    CREATE INDEX staged_recent_taken ON staged (taken, mtime_ns, id)
        WHERE status = 'indexed' AND taken IS NOT NULL;
    CREATE INDEX staged_recent_file ON staged (mtime_ns, id) WHERE status = 'indexed' AND taken IS NULL;
    """,
    # 4: a million photos. Each row carries the generation that last wrote it, and deletions of indexed rows are
    # logged, so a reader's vector index catches up with what changed instead of reloading; photo counts kept by
    # triggers (a library opens without counting a million rows); rescans read (folder, path, size, mtime) from
    # a covering index instead of every row's 2 KB embedding; indexed hashes likewise.
    f"""
    {_log_schema("photos", "")}
    {_log_schema("staged", "staged_")}
    CREATE TABLE counts (tbl TEXT NOT NULL, status TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (tbl, status));
    INSERT INTO counts SELECT t.tbl, s.status, 0 FROM (SELECT 'photos' AS tbl UNION SELECT 'staged') t,
        (SELECT 'indexed' AS status UNION SELECT 'skipped') s;
    UPDATE counts SET n = (SELECT count(*) FROM photos WHERE status = counts.status) WHERE tbl = 'photos';
    UPDATE counts SET n = (SELECT count(*) FROM staged WHERE status = counts.status) WHERE tbl = 'staged';
    {_count_triggers("photos")}
    {_count_triggers("staged")}
    """,
    # 5: the filter panel's counts (months, file types, directories) kept by triggers: a library opens with
    # them at any size instead of reading every row (facets.py).
    _facets.SCHEMA,
    # 6: filters at a million photos: the date and file type kept as columns, every filter an index lookup.
    f"""
    {_filter_schema("photos")}
    {_filter_schema("staged")}
    """,
    # 7: the facets' month read from the stored day, so a row is taken away from the month it was counted in.
    _facets.BY_DAY,
    # 8: words in photos (OCR, by content hash, with a full-text index) and places (GPS named offline).
    _words.SCHEMA,
    # 9: Explore's named groups (groups.py): each group, each photo's group, and counts kept as photos go.
    _GROUPS_SCHEMA,
]
SCHEMA_VERSION = len(_MIGRATIONS)


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


@dataclass(frozen=True)
class Changes:
    """What changed in the catalog after a generation (Catalog.changes_since)."""

    generation: int  # the generation these changes bring a reader to
    indexed: int  # indexed photos at that generation
    removed: np.ndarray  # ids of indexed photos deleted since
    changed: np.ndarray  # ids of photos written since (new, updated, now skipped)
    ids: np.ndarray  # of those, the ones indexed now, with their vectors
    vectors: np.ndarray


@dataclass(frozen=True)
class StoredEmbedding:
    embedding: np.ndarray
    width: int | None
    height: int | None
    taken: str | None
    lat: float | None = None
    lon: float | None = None
    place: str | None = None
    geo: int | None = None


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


class Catalog:
    """One connection to a library's catalog. Not shared across threads: each thread opens its own.

    `staged=True` gives the same catalog seen through its staging table: what a rebuild with another model
    writes until it completes (`finish_rebuild` then swaps it in, in one transaction).
    """

    def __init__(self, path: Path | str, *, create: bool = False, staged: bool = False):
        self.path = Path(path)
        self.staged = staged
        self._t = "staged" if staged else "photos"
        self._k = "staged_" if staged else ""
        if not create and not self.path.exists():
            raise CatalogDamagedError(f"The library catalog {self.path} is missing.")
        if self.path.exists() and self.path.stat().st_size == 0:
            # SQLite would take an empty file for a new database: an empty library, every folder forgotten.
            raise CatalogDamagedError(damaged_message(self.path, "the file is empty"))
        if create and not self.path.exists():
            try:  # private from the first byte; SQLite gives its -wal and -shm files the same mode
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            except FileExistsError:
                pass
            except OSError as e:
                raise LibraryError(
                    f"The library catalog {self.path} can't be created ({e.strerror or e}). "
                    "Check that the data folder is writable."
                ) from e
        try:
            self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=True)
        except sqlite3.Error as e:
            raise translate(e, self.path) from e
        _facets.register(self._db)  # before the migration: it counts with them
        try:
            self._exec("PRAGMA journal_mode=WAL")
            self._exec("PRAGMA synchronous=NORMAL")
            self._migrate()
        except LibraryError:
            self._db.close()
            raise

    # -- plumbing ------------------------------------------------------------------------------------------
    def _exec(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Cursor:
        try:
            return self._db.execute(sql, tuple(params))
        except sqlite3.Error as e:
            raise translate(e, self.path) from e

    def _all(self, sql: str, params: Iterable[Any] = ()) -> list[tuple]:
        try:
            return self._db.execute(sql, tuple(params)).fetchall()
        except sqlite3.Error as e:
            raise translate(e, self.path) from e

    def _one(self, sql: str, params: Iterable[Any] = ()) -> tuple | None:
        try:
            return self._db.execute(sql, tuple(params)).fetchone()
        except sqlite3.Error as e:
            raise translate(e, self.path) from e

    # -- lifecycle -----------------------------------------------------------------------------------------
    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        with self.snapshot():  # both read from one state, whatever another process commits meanwhile
            version = self._one("PRAGMA user_version")[0]  # type: ignore[index]
            tables = self._one("SELECT count(*) FROM sqlite_master")[0]  # type: ignore[index]
        if version > SCHEMA_VERSION:
            raise LibraryError(
                f"The library catalog {self.path} was written by a newer photofinder (schema {version}); "
                "update photofinder to open it."
            )
        if version == 0 and tables:
            raise CatalogDamagedError(damaged_message(self.path, "it is not a photofinder catalog"))
        if version == SCHEMA_VERSION:
            return
        # One transaction for all steps, the version read again inside it: two processes opening a new catalog
        # at once migrate it once (the second waits for the first, then finds nothing left to do).
        with self._transaction():
            version = self._one("PRAGMA user_version")[0]  # type: ignore[index]
            for v in range(version, SCHEMA_VERSION):
                log.info("migrating catalog %s from schema %d to %d", self.path, v, v + 1)
                for statement in _statements(_MIGRATIONS[v]):
                    self._exec(statement)
                self._exec(f"PRAGMA user_version = {v + 1}")
        # Into the catalog file itself, now: a -wal lost later (a crash, then the file deleted) can't take the
        # schema back to before this migration. Best effort: a reader busy elsewhere only makes it partial.
        self._one("PRAGMA wal_checkpoint(TRUNCATE)")

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db, self.path)

    # -- meta ----------------------------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self._one("SELECT value FROM meta WHERE key = ?", (key,))
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self._exec("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    @property
    def model_id(self) -> str | None:
        """How the model was named when the library was indexed (a hub id or a folder): shown, and used to load it."""
        return self.get_meta(self._k + "model_id")

    @property
    def model_fingerprint(self) -> str | None:
        """What the model is (its config and weights), whatever folder it lies in."""
        return self.get_meta(self._k + "model_fingerprint")

    @property
    def dim(self) -> int | None:
        d = self.get_meta(self._k + "dim")
        return int(d) if d else None

    def bind_model(self, model_id: str, dim: int, fingerprint: str | None) -> None:
        """Record which model the vectors come from; called before the first vector is stored."""
        with self._transaction():
            self.set_meta(self._k + "model_id", model_id)
            self.set_meta(self._k + "dim", str(dim))
            if fingerprint:
                self.set_meta(self._k + "model_fingerprint", fingerprint)

    def remember_model_location(self, model_id: str, fingerprint: str) -> None:
        """The same model found elsewhere (a moved folder): load it from there from now on."""
        with self._transaction():
            self.set_meta(self._k + "model_id", model_id)
            self.set_meta(self._k + "model_fingerprint", fingerprint)

    @property
    def generation(self) -> int:
        """A counter that moves whenever stored vectors change: the vector index cache compares against it."""
        return int(self.get_meta(self._k + "generation") or 0)

    def _bump(self, prefix: str | None = None) -> int:
        """Move the generation on (inside a write transaction, before its changes: they are stamped with it)."""
        row = self._one(
            "INSERT INTO meta (key, value) VALUES (?, '1') "
            "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1 RETURNING CAST(value AS INTEGER)",
            ((self._k if prefix is None else prefix) + "generation",),
        )
        return int(row[0])  # type: ignore[index]

    def _restart_log(self, prefix: str) -> None:
        """Everything changed (a rebuild switched in, staging cleared): readers at an older generation reload."""
        generation = self._bump(prefix)
        self.set_meta(prefix + "log_floor", str(generation))
        self._exec(f"DELETE FROM {'staged' if prefix else 'photos'}_deleted")

    def changes_since(self, generation: int) -> Changes | None:
        """What changed after `generation`, for a vector index built at it to catch up; None: reload it whole.

        One read transaction, so the rows and the generation they bring the reader to agree. Costs what changed,
        not the library's size (rows by their generation index, deletions from the log).
        """
        with self.snapshot():
            now = self.generation
            floor = int(self.get_meta(self._k + "log_floor") or 0)
            if generation < floor or generation > now:
                return None
            if generation == now:
                return Changes(
                    now,
                    self.count(),
                    np.empty(0, np.int64),
                    np.empty(0, np.int64),
                    np.empty(0, np.int64),
                    np.empty((0, self.dim or 0), np.float32),
                )
            removed = np.array(
                [r[0] for r in self._all(f"SELECT id FROM {self._t}_deleted WHERE gen > ?", (generation,))],
                np.int64,
            )
            rows = self._all(f"SELECT id, status, embedding FROM {self._t} WHERE gen > ?", (generation,))
            changed = np.array([r[0] for r in rows], np.int64)
            good = [r for r in rows if r[1] == INDEXED and r[2] is not None]
            ids, vecs = _unpack(good, self.dim or 0)
            return Changes(now, self.count(), removed, changed, ids, vecs)

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Reads inside see one state of the catalog, whatever a writer commits meanwhile (a read transaction)."""
        if self._db.in_transaction:
            yield
            return
        self._exec("BEGIN")
        try:
            yield
        finally:
            if self._db.in_transaction:
                self._exec("COMMIT")

    def prune_log(self, generation: int, keep: int = 50_000) -> None:
        """Drop deletion-log entries up to `generation` once there are more than `keep` (an index was saved)."""
        if self._one(f"SELECT count(*) FROM {self._t}_deleted")[0] > keep:  # type: ignore[index]
            with self._transaction():
                self._exec(f"DELETE FROM {self._t}_deleted WHERE gen <= ?", (generation,))
                floor = int(self.get_meta(self._k + "log_floor") or 0)
                self.set_meta(self._k + "log_floor", str(max(floor, generation)))

    @property
    def uuid(self) -> str:
        """This catalog's identity: a vector index file written for another library is never taken for ours."""
        value = self.get_meta("uuid")
        if value is None:
            import uuid as _uuid

            value = _uuid.uuid4().hex
            self._exec("INSERT OR IGNORE INTO meta (key, value) VALUES ('uuid', ?)", (value,))
            value = self.get_meta("uuid") or value
        return value

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

    # -- rebuild with another model ------------------------------------------------------------------------
    def staging(self) -> Catalog:
        """The same file seen through its staging table (a second connection)."""
        return Catalog(self.path, staged=True)

    def clear_staged(self) -> None:
        with self._transaction():
            self._exec("DELETE FROM staged")
            self._exec(_DROP_STAGED_META)
            self._restart_log("staged_")

    def finish_rebuild(self) -> int:
        """Swap the staged photos in for the live ones, in one transaction; returns the new generation."""
        assert not self.staged
        with self._transaction():
            staged_model = self.get_meta("staged_model_id")
            if staged_model is None:
                raise LibraryError("There is no completed rebuild to switch to.")
            # The staged facets become the live ones as they are: their triggers would compute the keys of every
            # row three times over (out, in, out of staging), minutes at a million photos. DDL is transactional.
            for statement in _statements(
                _facets.drop_triggers("photos")
                + _facets.drop_triggers("staged")
                + _words.drop_place_triggers("photos")
                + _words.drop_place_triggers("staged")
                + _words.DROP_FORGET_TRIGGERS
            ):
                self._exec(statement)
            self._exec("DELETE FROM photos")
            self._exec(f"INSERT INTO photos ({_COLUMN_NAMES}) SELECT {_COLUMN_NAMES} FROM staged")
            self._exec("DELETE FROM staged")
            self._exec("DELETE FROM facet_counts WHERE tbl = 'photos'")
            self._exec("UPDATE facet_counts SET tbl = 'photos' WHERE tbl = 'staged'")
            for statement in _statements(
                _facets.triggers("photos")
                + _facets.triggers("staged")
                + _words.place_triggers("photos")
                + _words.place_triggers("staged")
                + _words.FORGET_TRIGGERS
            ):
                self._exec(statement)
            self._restart_log("")
            self._restart_log("staged_")
            for key in ("model_id", "dim", "model_fingerprint"):
                value = self.get_meta("staged_" + key)
                if value is None:
                    self._exec("DELETE FROM meta WHERE key = ?", (key,))
                else:
                    self.set_meta(key, value)
            self._exec(_DROP_STAGED_META)
            self._exec("DELETE FROM meta WHERE key = 'legacy_hashes'")
        return self.generation

    # -- folders -------------------------------------------------------------------------------------------
    def folders(self) -> list[str]:
        return sorted(from_db(r[0]) for r in self._all("SELECT path FROM folders"))

    def add_folder(self, path: str) -> None:
        self._exec("INSERT OR IGNORE INTO folders (path, added_at) VALUES (?, ?)", (to_db(path), time.time()))

    def folder_device(self, path: str) -> int | None:
        row = self._one("SELECT dev FROM folders WHERE path = ?", (to_db(path),))
        return row[0] if row else None

    def set_folder_device(self, path: str, dev: int) -> None:
        self._exec("UPDATE folders SET dev = ? WHERE path = ?", (dev, to_db(path)))

    def remove_folder(self, path: str) -> list[int]:
        """Forget a folder and every photo found under it; returns the ids of the photos forgotten."""
        with self._transaction():
            self._exec("DELETE FROM folders WHERE path = ?", (to_db(path),))
            ids = [r[0] for r in self._all(f"SELECT id FROM {self._t} WHERE folder = ?", (to_db(path),))]
            if ids:
                self._bump()  # first: the deletion log stamps rows with the new generation
                self._exec(f"DELETE FROM {self._t} WHERE folder = ?", (to_db(path),))
            if not self.staged:  # a rebuild in progress forgets the folder too
                self._bump("staged_")
                self._exec("DELETE FROM staged WHERE folder = ?", (to_db(path),))
        return ids

    def merge_folder(self, child: str, parent: str) -> None:
        """`child` lies inside `parent`: its photos now belong to `parent`, and it stops being a folder of its own."""
        with self._transaction():
            for table in ("photos", "staged"):
                self._exec(f"UPDATE {table} SET folder = ? WHERE folder = ?", (to_db(parent), to_db(child)))
            self._exec("DELETE FROM folders WHERE path = ?", (to_db(child),))

    # -- photos --------------------------------------------------------------------------------------------
    def file_stamps(self, folder: str) -> dict[bytes, tuple[int, int, int, int]]:
        """{path as stored: (size, mtime_ns, retry, id)} of a folder's photos, from one covering index (a rescan).

        Read from the index alone, never the rows (each holds a 2 KB embedding): a million files in a few seconds.
        """
        return {
            r[0]: r[1:]
            for r in self._all(
                f"SELECT path, size, mtime_ns, retry, id FROM {self._t} INDEXED BY {self._t}_files WHERE folder = ?",
                (to_db(folder),),
            )
        }

    def stamps_under(self, folder: str, path: str) -> dict[bytes, tuple[int, int, int, int]]:
        """As file_stamps, for the photos of library folder `folder` at `path` or under it (a range of the same
        covering index: what one watcher event costs is that subfolder's rows, not the library's)."""
        raw = to_db(path)
        below = to_db(path.rstrip(os.sep) + os.sep)
        above = below[:-1] + bytes([below[-1] + 1])
        return {
            r[0]: r[1:]
            for r in self._all(
                f"SELECT path, size, mtime_ns, retry, id FROM {self._t} INDEXED BY {self._t}_files "
                "WHERE folder = ? AND (path = ? OR (path >= ? AND path < ?))",
                (to_db(folder), raw, below, above),
            )
        }

    def hashes_for_paths(self, paths: Iterable[str]) -> dict[str, str | None]:
        """{path: the content hash stored for it} for those of `paths` in the catalog."""
        out: dict[str, str | None] = {}
        for chunk in _chunks([to_db(p) for p in paths], 500):
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

    def find_by_hash(self, content_hash: str) -> StoredEmbedding | None:
        """A stored vector for identical content (a renamed, moved or copied file), if there is one."""
        row = self._one(
            f"SELECT embedding, width, height, taken, lat, lon, place, geo FROM {self._t} "
            "WHERE hash = ? AND status = 'indexed' AND embedding IS NOT NULL LIMIT 1",
            (content_hash,),
        )
        if row is None:
            return None
        return StoredEmbedding(np.frombuffer(row[0], dtype=np.float32).copy(), *row[1:])

    def indexed_hashes(self) -> HashSet:
        """Content hashes of every indexed photo: lets workers spot renamed or copied files cheaply."""
        cur = self._exec(f"SELECT DISTINCT hash FROM {self._t} WHERE status = 'indexed' AND hash IS NOT NULL")
        return HashSet(iter(lambda: cur.fetchmany(10_000), []))

    def hashes_in_use(self, hashes: Iterable[str]) -> set[str]:
        """Which of `hashes` some photo (live or staged) still has: their thumbnails are still needed."""
        out: set[str] = set()
        for chunk in _chunks(list(set(hashes)), 500):
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
                    f" ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, {_day('?8', '?4')}, ?15, ?16, ?17,"
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
            for chunk in _chunks(ids, 500):
                marks = ",".join("?" * len(chunk))
                hashes += [
                    r[0]
                    for r in self._all(
                        f"SELECT hash FROM {self._t} WHERE id IN ({marks}) AND hash IS NOT NULL", chunk
                    )
                ]
                self._exec(f"DELETE FROM {self._t} WHERE id IN ({marks})", chunk)
        return hashes

    def embeddings(self) -> tuple[np.ndarray, np.ndarray]:
        """(ids, vectors) of every indexed photo (small libraries and tests; else iter_embeddings)."""
        parts = list(self.iter_embeddings())
        if not parts:
            return np.empty(0, np.int64), np.empty((0, self.dim or 0), np.float32)
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def iter_embeddings(self, chunk: int = 20_000) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(ids, vectors) of the indexed photos, `chunk` at a time in id order: memory stays flat at any size."""
        after = -1
        while True:
            rows = self._all(
                f"SELECT id, embedding FROM {self._t} WHERE id > ? AND status = 'indexed' "
                "AND embedding IS NOT NULL ORDER BY id LIMIT ?",
                (after, chunk),
            )
            if not rows:
                return
            after = rows[-1][0]
            yield _unpack(rows, self.dim or 0)

    def sample_embeddings(self, k: int, seed: int = 0) -> np.ndarray:
        """About k vectors drawn uniformly at random from the indexed photos (to train an approximate index on,
        to calibrate on).

        Uniform, not runs of consecutive rows: a library indexed folder by folder stores one event's photos
        side by side, and an index trained on runs of them has lists of very unequal sizes. Random ids are read
        in id order (the table's own order), 500 a statement.
        """
        lo, hi = self._one(f"SELECT min(id), max(id) FROM {self._t}")  # type: ignore[misc]
        if lo is None:
            return np.empty((0, self.dim or 0), np.float32)
        span = hi - lo + 1
        rng = np.random.default_rng(seed)
        if span <= 2 * k:
            vecs = self.embeddings()[1]
            return vecs[np.sort(rng.choice(len(vecs), k, replace=False))] if len(vecs) > k else vecs
        count = max(1, self.count())
        want = min(span, int(k * span / count * 1.1) + 16)  # ids are dense but for deletions and skips
        ids = np.sort(rng.choice(span, want, replace=False) + lo)
        _, vecs = self.vectors_for(ids.tolist())
        if len(vecs) > k:
            vecs = vecs[np.sort(rng.choice(len(vecs), k, replace=False))]
        return vecs

    def vectors_for(self, ids: Iterable[int]) -> tuple[np.ndarray, np.ndarray]:
        """(ids, vectors) of those of `ids` that are indexed photos (in no particular order)."""
        rows: list[tuple] = []
        for chunk in _chunks([int(i) for i in ids], 500):
            rows += self._all(
                f"SELECT id, embedding FROM {self._t} WHERE id IN ({','.join('?' * len(chunk))}) "
                "AND status = 'indexed' AND embedding IS NOT NULL",
                chunk,
            )
        return _unpack(rows, self.dim or 0)

    def embedding_for_path(self, path: str) -> tuple[int, np.ndarray] | None:
        row = self._one(
            f"SELECT id, embedding FROM {self._t} WHERE path = ? AND status = 'indexed'", (to_db(path),)
        )
        if row is None or row[1] is None:
            return None
        return row[0], np.frombuffer(row[1], dtype=np.float32).copy()

    def embedding_for_id(self, photo_id: int) -> np.ndarray | None:
        row = self._one(f"SELECT embedding FROM {self._t} WHERE id = ?", (photo_id,))
        return None if row is None or row[0] is None else np.frombuffer(row[0], dtype=np.float32).copy()

    def photos(self, ids: Iterable[int]) -> dict[int, tuple[str, str | None]]:
        """(path, content hash) by id, for the ids that still exist."""
        out: dict[int, tuple[str, str | None]] = {}
        for chunk in _chunks(list(ids), 500):
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

    def details(self, ids: Iterable[int]) -> dict[int, tuple[str | None, int, int, int | None, int | None]]:
        """(date taken or None, file time in ns, bytes, width, height) by id: what a result shows beside it."""
        out = {}
        for chunk in _chunks(list(ids), 500):
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
            for statement in _statements(_facets.recount(self._t) + _words.recount_places(self._t)):
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

    # -- words and places (words.py) -----------------------------------------------------------------------
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
        for chunk in _chunks(list(ids), 500):
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

    # -- Explore's groups (groups.py decides them; these read and write them) -------------------------------
    def groups(self) -> list[tuple]:
        """(id, parent, name, fit, count, newest day, cover ids 'a,b,c', centroid bytes) of every group."""
        return self._all(
            "SELECT id, parent, name, fit, n, newest, cover, centroid FROM explore_groups ORDER BY id"
        )

    def group_of(self, photo_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
        """(group, top-level group) by photo id, for those of `photo_ids` that have one."""
        out: dict[int, tuple[int, int]] = {}
        for chunk in _chunks([int(i) for i in photo_ids], 500):
            marks = ",".join("?" * len(chunk))
            for r in self._all(
                f"SELECT photo, grp, top FROM explore_members WHERE photo IN ({marks})", chunk
            ):
                out[r[0]] = (r[1], r[2])
        return out

    def group_photo_ids(self, group: int) -> np.ndarray:
        """Ids of the photos in a group (top-level or sub-group), in no particular order; read from an index."""
        row = self._one(
            "SELECT (SELECT group_concat(photo) FROM explore_members WHERE top = ?1), "
            "(SELECT group_concat(photo) FROM explore_members WHERE grp = ?1 AND top != ?1)",
            (int(group),),
        )
        text = ",".join(x for x in (row or ()) if x)
        return np.fromstring(text, dtype=np.int64, sep=",") if text else np.empty(0, np.int64)

    def days(self) -> tuple[np.ndarray, np.ndarray]:
        """(ids, day taken as 'YYYY-MM-DD') of every indexed photo, from the day index (no rows read)."""
        row = self._one(
            f"SELECT group_concat(id), group_concat(day, ',') FROM {self._t} INDEXED BY {self._t}_by_day "
            "WHERE status = 'indexed'"
        )
        if not row or not row[0]:
            return np.empty(0, np.int64), np.empty(0, "U10")
        return np.fromstring(row[0], dtype=np.int64, sep=","), np.array(row[1].split(","), "U10")

    def replace_groups(
        self, groups: Iterable[tuple], members: Iterable[tuple[int, int, int]], meta: dict
    ) -> None:
        """Swap in a new grouping in one transaction: groups as in `groups()`, members (photo, group, top)."""
        with self._transaction():
            self._exec("DELETE FROM explore_groups")
            self._exec("DELETE FROM explore_members")
            self._db.executemany("INSERT INTO explore_groups VALUES (?, ?, ?, ?, ?, ?, ?, ?)", groups)
            self._db.executemany("INSERT INTO explore_members VALUES (?, ?, ?)", members)
            for key, value in meta.items():
                self.set_meta(key, str(value))

    def assign_groups(self, members: list[tuple[int, int, int, str | None]], meta: dict) -> None:
        """Put photos into groups (photo, group, top, day), moving those that had one; counts follow."""
        with self._transaction():
            old = self.group_of(m[0] for m in members)
            for photo, grp, top, day in members:
                if photo in old:
                    self._exec(
                        "UPDATE explore_groups SET n = n - 1 WHERE id IN (?, ?)",
                        (old[photo][0], old[photo][1]),
                    )
                self._exec("INSERT OR REPLACE INTO explore_members VALUES (?, ?, ?)", (photo, grp, top))
                self._exec(
                    "UPDATE explore_groups SET n = n + 1, newest = max(coalesce(newest, ''), coalesce(?, '')) "
                    "WHERE id IN (?, ?)",
                    (day, grp, top),
                )
            for key, value in meta.items():
                self.set_meta(key, str(value))

    def count(self, status: str = INDEXED) -> int:
        """Photos with this status: a stored counter (kept by triggers in the same transactions), not a count."""
        row = self._one("SELECT n FROM counts WHERE tbl = ? AND status = ?", (self._t, status))
        return row[0] if row else 0

    def last_indexed(self) -> float | None:
        v = self.get_meta("last_indexed")
        return float(v) if v else None


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any error (the connection runs in autocommit mode).

    Whatever fails inside or at COMMIT (a full disk, a read-only file, a bug), nothing of the step stays: the
    transaction is rolled back if SQLite has not already done so itself, and SQLite errors become LibraryError.
    """

    def __init__(self, db: sqlite3.Connection, path: Path):
        self._db = db
        self._path = path

    def __enter__(self) -> sqlite3.Connection:
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as e:
            raise translate(e, self._path) from e
        return self._db

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        if exc_type is None:
            try:
                self._db.execute("COMMIT")
                return
            except sqlite3.Error as e:
                self._rollback()
                raise translate(e, self._path) from e
        self._rollback()
        if isinstance(exc, sqlite3.Error):
            raise translate(exc, self._path) from exc

    def _rollback(self) -> None:
        # After a failed COMMIT (SQLITE_FULL, SQLITE_IOERR) SQLite may have rolled back already: a second
        # ROLLBACK would raise "cannot rollback - no transaction is active" over the real error.
        if self._db.in_transaction:
            try:
                self._db.execute("ROLLBACK")
            except sqlite3.Error as e:
                log.warning("rollback of %s failed: %s", self._path, e)


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


def damaged_message(path: Path, why: str) -> str:
    library = path.parent.name
    return (
        f"The catalog of the library {library!r} ({path}) is damaged: {why}. Run "
        f"`photofinder libraries repair {library}` to set it aside and rebuild the library from its folders "
        "(the damaged file is kept)."
    )


def translate(e: sqlite3.Error, path: Path) -> LibraryError:
    """A plain-words LibraryError for an SQLite failure, sorted by what the user can do about it."""
    name = getattr(e, "sqlite_errorname", "") or ""
    msg = str(e)
    low = msg.lower()
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or "malformed" in low or "not a database" in low:
        return CatalogDamagedError(damaged_message(path, msg))
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in low:
        return LibraryBusyError(
            f"The library catalog {path} is busy: another photofinder is writing to it. "
            "Try again when it has finished."
        )
    if name.startswith("SQLITE_FULL") or "disk is full" in low or "database or disk is full" in low:
        return LibraryError(
            f"The disk holding {path.parent} is full; nothing of this step was saved. "
            "Free some space, then run it again: what was saved before is kept."
        )
    if name.startswith("SQLITE_READONLY") or "readonly" in low or "read-only" in low:
        return LibraryError(
            f"The library catalog {path} is read-only, so nothing can be saved. Check the "
            "permissions of the data folder and its files."
        )
    if _read_only_disk(path):
        return LibraryError(
            f"The library catalog {path} is on a read-only disk, so it can't be opened for "
            "writing. Remount the disk read-write (or move the data folder) and try again."
        )
    if name.startswith("SQLITE_CANTOPEN") or "unable to open" in low:
        return LibraryError(
            f"The library catalog {path} can't be opened. Check that the data folder exists "
            "and is readable and writable."
        )
    if name.startswith("SQLITE_IOERR") or "disk i/o" in low:
        return LibraryError(
            f"Reading or writing {path} failed ({msg}): the disk may be failing, full or "
            "unplugged. Nothing of this step was saved."
        )
    return LibraryError(f"The library catalog {path} can't be used: {msg}.")


def _read_only_disk(path: Path) -> bool:
    try:
        return bool(os.statvfs(path.parent).f_flag & getattr(os, "ST_RDONLY", 1))
    except (OSError, AttributeError):
        return False


def _unpack(rows: list[tuple], dim: int) -> tuple[np.ndarray, np.ndarray]:
    """(ids, vectors) from (id, embedding blob) rows, in one copy."""
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    vecs = np.frombuffer(b"".join(r[-1] for r in rows), dtype=np.float32).reshape(len(rows), dim)
    return ids, vecs


def _statements(script: str) -> Iterator[str]:
    """The SQL statements of a script, one at a time (a trigger's body holds semicolons of its own)."""
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                yield pending
            pending = ""


def _chunks(items: list, n: int) -> Iterator[list]:
    for i in range(0, len(items), n):
        yield items[i : i + n]
