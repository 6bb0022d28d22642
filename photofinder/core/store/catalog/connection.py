"""One SQLite connection to a catalog, and what every part of the catalog does with it.

Opening (a missing or empty file is refused, a new one is private from its first byte), the migrations run
once, statements whose SQLite errors become LibraryError in plain words (`translate`), write transactions,
read snapshots, the meta table, the generation counter that stamps every write, and the photo counts.
Each concern of the catalog (photos.py, vectors.py, ...) is a mixin over `CatalogConnection`.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from photofinder.core.errors import CatalogDamagedError, LibraryBusyError, LibraryError
from photofinder.core.store import facet_counts as _facets
from photofinder.core.store.catalog.schema import INDEXED, MIGRATIONS, SCHEMA_VERSION, statements

log = logging.getLogger(__name__)

_C = TypeVar("_C", bound="CatalogConnection")


class CatalogConnection:
    """The connection, its plumbing and the catalog-wide records (meta, generation, counts).

    `staged=True` sees the catalog through its staging table (`_t`; its meta keys carry the prefix `_k`).
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

    def _iter(self, sql: str, params: Iterable[Any] = ()) -> Iterator[tuple]:
        """Rows one at a time (a million-row read never sits in one list)."""
        try:
            yield from self._db.execute(sql, tuple(params))
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

    def __enter__(self: _C) -> _C:
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
                for statement in statements(MIGRATIONS[v]):
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


def chunks(items: list, n: int) -> Iterator[list]:
    for i in range(0, len(items), n):
        yield items[i : i + n]
