"""The catalog's schema as frozen history: each migration takes a file from version i to i + 1.

A migration, once released, never changes (files in the wild were migrated by it); a new need is a new entry.
`PRAGMA user_version` records how far a file got (connection.py runs the steps). The SQL of the filter
panel's counts and of words and places lives beside their readers (store/facet_counts.py, store/words.py).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from photofinder.core.store import facet_counts as _facets
from photofinder.core.store import words as _words

# what a photo row's status says
INDEXED = "indexed"
SKIPPED = "skipped"

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
COLUMN_NAMES = (
    "id, path, folder, size, mtime_ns, hash, width, height, taken, status, reason, retry, "
    "embedding, indexed_at, day, ext, lat, lon, place, geo, ocr"
)


def day_sql(taken: str, mtime_ns: str) -> str:
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
    UPDATE {table} SET day = {day_sql("taken", "mtime_ns")}, ext = pf_ext(path);
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
MIGRATIONS: list[str] = [
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
SCHEMA_VERSION = len(MIGRATIONS)


def statements(script: str) -> Iterator[str]:
    """The SQL statements of a script, one at a time (a trigger's body holds semicolons of its own)."""
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                yield pending
            pending = ""
