"""The SQLite catalog: the library's source of truth (photos, their metadata, embeddings as raw float32)."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import LibraryError

log = logging.getLogger(__name__)

INDEXED = "indexed"
SKIPPED = "skipped"

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


@dataclass(frozen=True)
class KnownFile:
    id: int
    size: int
    mtime_ns: int
    status: str
    hash: str | None


@dataclass(frozen=True)
class StoredEmbedding:
    embedding: np.ndarray
    width: int | None
    height: int | None
    taken: str | None


class Catalog:
    """One connection to a library's catalog. Not shared across threads: each thread opens its own."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        try:
            self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.DatabaseError as e:
            raise LibraryError(f"The library catalog {self.path} cannot be opened: {e}") from e

    # -- lifecycle -----------------------------------------------------------------------------------------
    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise LibraryError(
                f"The library catalog {self.path} was written by a newer photofinder (schema {version}); "
                "update photofinder to open it.")
        for v in range(version, SCHEMA_VERSION):
            log.info("migrating catalog %s from schema %d to %d", self.path, v, v + 1)
            with self._transaction():
                for statement in _MIGRATIONS[v].split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {v + 1}")

    def _transaction(self) -> sqlite3.Connection:
        return _Transaction(self._db)  # type: ignore[return-value]

    # -- meta ----------------------------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    @property
    def model_id(self) -> str | None:
        return self.get_meta("model_id")

    @property
    def dim(self) -> int | None:
        d = self.get_meta("dim")
        return int(d) if d else None

    def bind_model(self, model_id: str, dim: int) -> None:
        """Record which model the vectors come from; called once, before the first vector is stored."""
        with self._transaction():
            self.set_meta("model_id", model_id)
            self.set_meta("dim", str(dim))

    def clear_embeddings(self) -> None:
        """Forget every vector (the library is re-indexed with another model); photos and folders stay."""
        with self._transaction():
            self._db.execute("DELETE FROM photos")
            self._db.execute("DELETE FROM meta WHERE key IN ('model_id', 'dim')")
            self._bump()

    @property
    def generation(self) -> int:
        """A counter that moves whenever stored vectors change: the vector index cache compares against it."""
        return int(self.get_meta("generation") or 0)

    def _bump(self) -> None:
        self._db.execute(
            "INSERT INTO meta (key, value) VALUES ('generation', '1') "
            "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1")

    # -- folders -------------------------------------------------------------------------------------------
    def folders(self) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT path FROM folders ORDER BY path")]

    def add_folder(self, path: str) -> None:
        self._db.execute("INSERT OR IGNORE INTO folders (path, added_at) VALUES (?, ?)", (path, time.time()))

    def remove_folder(self, path: str) -> int:
        """Forget a folder and every photo found under it; returns how many photos were forgotten."""
        with self._transaction():
            self._db.execute("DELETE FROM folders WHERE path = ?", (path,))
            n = self._db.execute("DELETE FROM photos WHERE folder = ?", (path,)).rowcount
            if n:
                self._bump()
        return n

    # -- photos --------------------------------------------------------------------------------------------
    def known_files(self, folder: str) -> dict[str, KnownFile]:
        rows = self._db.execute(
            "SELECT path, id, size, mtime_ns, status, hash FROM photos WHERE folder = ?", (folder,))
        return {r[0]: KnownFile(r[1], r[2], r[3], r[4], r[5]) for r in rows}

    def find_by_hash(self, content_hash: str, size: int) -> StoredEmbedding | None:
        """A stored vector for identical content (a renamed or copied file), if there is one."""
        row = self._db.execute(
            "SELECT embedding, width, height, taken FROM photos "
            "WHERE hash = ? AND size = ? AND status = 'indexed' AND embedding IS NOT NULL LIMIT 1",
            (content_hash, size)).fetchone()
        if row is None:
            return None
        return StoredEmbedding(np.frombuffer(row[0], dtype=np.float32).copy(), row[1], row[2], row[3])

    def indexed_hashes(self) -> dict[str, int]:
        """Content hash -> size of every indexed photo: lets workers spot renamed or copied files cheaply."""
        rows = self._db.execute("SELECT hash, size FROM photos WHERE status = 'indexed' AND hash IS NOT NULL")
        return {r[0]: r[1] for r in rows}

    def upsert(self, records: Iterable[PhotoRecord]) -> dict[str, int]:
        """Write a batch of photos in one transaction; returns their ids by path."""
        now = time.time()
        ids: dict[str, int] = {}
        with self._transaction():
            for r in records:
                blob = None if r.embedding is None else np.ascontiguousarray(r.embedding, np.float32).tobytes()
                row = self._db.execute(
                    "INSERT INTO photos (path, folder, size, mtime_ns, hash, width, height, taken, status, reason,"
                    " embedding, indexed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT(path) DO UPDATE SET folder=excluded.folder, size=excluded.size,"
                    " mtime_ns=excluded.mtime_ns, hash=excluded.hash, width=excluded.width,"
                    " height=excluded.height, taken=excluded.taken, status=excluded.status,"
                    " reason=excluded.reason, embedding=excluded.embedding, indexed_at=excluded.indexed_at "
                    "RETURNING id",
                    (r.path, r.folder, r.size, r.mtime_ns, r.hash, r.width, r.height, r.taken, r.status,
                     r.reason, blob, now)).fetchone()
                ids[r.path] = row[0]
            self._bump()
        return ids

    def touch(self, path: str, size: int, mtime_ns: int) -> None:
        """A file whose mtime moved but whose content did not: remember the new mtime, keep the vector."""
        self._db.execute("UPDATE photos SET size = ?, mtime_ns = ? WHERE path = ?", (size, mtime_ns, path))

    def delete(self, ids: Iterable[int]) -> int:
        ids = list(ids)
        if not ids:
            return 0
        with self._transaction():
            n = 0
            for chunk in _chunks(ids, 500):
                n += self._db.execute(
                    f"DELETE FROM photos WHERE id IN ({','.join('?' * len(chunk))})", chunk).rowcount
            self._bump()
        return n

    def embeddings(self) -> tuple[np.ndarray, np.ndarray]:
        """(ids, vectors) of every indexed photo, for rebuilding the vector index."""
        dim = self.dim or 0
        rows = self._db.execute(
            "SELECT id, embedding FROM photos WHERE status = 'indexed' AND embedding IS NOT NULL").fetchall()
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        vecs = np.empty((len(rows), dim), dtype=np.float32)
        for i, r in enumerate(rows):
            vecs[i] = np.frombuffer(r[1], dtype=np.float32)
        return ids, vecs

    def embedding_for_path(self, path: str) -> tuple[int, np.ndarray] | None:
        row = self._db.execute(
            "SELECT id, embedding FROM photos WHERE path = ? AND status = 'indexed'", (path,)).fetchone()
        if row is None or row[1] is None:
            return None
        return row[0], np.frombuffer(row[1], dtype=np.float32).copy()

    def embedding_for_id(self, photo_id: int) -> np.ndarray | None:
        row = self._db.execute("SELECT embedding FROM photos WHERE id = ?", (photo_id,)).fetchone()
        return None if row is None or row[0] is None else np.frombuffer(row[0], dtype=np.float32).copy()

    def photos(self, ids: Iterable[int]) -> dict[int, tuple[str, str | None]]:
        """(path, content hash) by id, for the ids that still exist."""
        out: dict[int, tuple[str, str | None]] = {}
        for chunk in _chunks(list(ids), 500):
            rows = self._db.execute(
                f"SELECT id, path, hash FROM photos WHERE id IN ({','.join('?' * len(chunk))})", chunk)
            out.update({r[0]: (r[1], r[2]) for r in rows})
        return out

    def recent(self, limit: int) -> list[tuple[int, str, str | None]]:
        """(id, path, hash) of indexed photos, newest first: by EXIF date taken, then by file time."""
        rows = self._db.execute(
            "SELECT id, path, hash FROM photos WHERE status = 'indexed' "
            "ORDER BY taken IS NULL, taken DESC, mtime_ns DESC LIMIT ?", (limit,))
        return [(r[0], r[1], r[2]) for r in rows]

    def hash_for_path(self, path: str) -> str | None:
        row = self._db.execute("SELECT hash FROM photos WHERE path = ?", (path,)).fetchone()
        return row[0] if row else None

    def skipped(self) -> list[tuple[str, str]]:
        return [(r[0], r[1] or "") for r in self._db.execute(
            "SELECT path, reason FROM photos WHERE status = 'skipped' ORDER BY path")]

    def count(self, status: str = INDEXED) -> int:
        return self._db.execute("SELECT COUNT(*) FROM photos WHERE status = ?", (status,)).fetchone()[0]

    def last_indexed(self) -> float | None:
        v = self.get_meta("last_indexed")
        return float(v) if v else None


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on error (the connection runs in autocommit mode)."""

    def __init__(self, db: sqlite3.Connection):
        self._db = db

    def __enter__(self) -> sqlite3.Connection:
        self._db.execute("BEGIN IMMEDIATE")
        return self._db

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        if exc_type is None:
            try:
                self._db.execute("COMMIT")
                return
            except sqlite3.OperationalError as e:
                exc = e
        self._db.execute("ROLLBACK")
        if isinstance(exc, sqlite3.OperationalError):  # full disk, read-only or locked file: the user can act
            raise LibraryError(f"The library catalog can't be written ({exc}); nothing of this step was saved. "
                               "Free some disk space or check the data folder's permissions, then try again.") \
                from exc


def _chunks(items: list, n: int) -> Iterator[list]:
    for i in range(0, len(items), n):
        yield items[i : i + n]
