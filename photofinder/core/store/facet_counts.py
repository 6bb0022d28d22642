"""Facet counts kept in the catalog: indexed photos by month taken, file type and directory (issues 9 and 10).

The filter panel shows them for a million photos without reading a million rows: the catalog keeps one row per
(table, kind, key) in `facet_counts`, moved by triggers in the same transaction as every write. The keys are
decided here, in Python, and registered on each connection as SQL functions: a directory of a path stored as
bytes, or a month that falls back to the file's time, is awkward to say in SQL and must be said once.
A change to how a key is made needs a migration that recounts (`recount`): the triggers take away the key the
row has *now*. So the month is read from the row's stored `day` (schema 6, the day the date filter reads),
not worked out again from its file time when the row goes: that would follow the time zone of the moment and
could take a photo away from another month than the one it was counted in.
"""

from __future__ import annotations

import os
import re
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime

MONTH, TYPE, DIR = "month", "type", "dir"
KINDS = (MONTH, TYPE, DIR)
_TAKEN_MONTH = re.compile(r"\d{4}[-:](0[1-9]|1[0-2])")
SAME_TYPE = {"jpeg": "jpg", "jpe": "jpg", "jfif": "jpg", "tiff": "tif", "heif": "heic"}


@dataclass(frozen=True)
class FacetCounts:
    """Indexed photos by month taken ('YYYY-MM'), by file type ('jpg') and by directory (a photo's parent)."""

    months: dict[str, int] = field(default_factory=dict)
    types: dict[str, int] = field(default_factory=dict)
    dirs: dict[str, int] = field(default_factory=dict)
    places: dict[str, int] = field(default_factory=dict)  # by place key (places.Place): photos with GPS only


def month_key(taken: str | None, mtime_ns: int) -> str:
    """'YYYY-MM' of the date taken (ISO or EXIF's 'YYYY:MM:DD'), else of the file time, in local time as the
    date filter reads it (query.filter_sql)."""
    if taken and _TAKEN_MONTH.match(taken):
        return f"{taken[:4]}-{taken[5:7]}"
    try:
        return datetime.fromtimestamp(mtime_ns / 1e9).strftime("%Y-%m")
    except (OverflowError, OSError, ValueError):  # a file time out of the platform's range
        return "0000-00"


def file_type(path: str | bytes) -> str:
    """The extension without the dot, lower case, spellings of one format made one ('jpeg' -> 'jpg')."""
    ext = os.path.splitext(os.fsdecode(path))[1].lower().lstrip(".")
    return SAME_TYPE.get(ext, ext)


def extension(path: str | bytes) -> str:
    """The extension without the dot, lower case, as the file is named ('JPEG' -> 'jpeg'): what the type filter
    compares (query.filter_sql), which matches spellings of one format through its own aliases."""
    name = os.path.basename(os.fsdecode(path))
    ext = name.rpartition(".")[2].lower() if "." in name else ""
    return ext if ext.isascii() else ""  # (bytes no encoding reads: SQLite can't store them as text)


def register(db: sqlite3.Connection) -> None:
    """Give a connection the key functions the triggers, recounts and migrations call (every connection that
    writes)."""
    db.create_function("pf_ext", 1, extension, deterministic=True)
    db.create_function("pf_facet_month", 2, month_key, deterministic=True)
    db.create_function("pf_facet_type", 1, file_type, deterministic=True)
    db.create_function("pf_facet_dir", 1, os.path.dirname, deterministic=True)  # bytes in, bytes out


# How the month was keyed before rows had a stored day (schema 5: its migration runs on catalogs without one).
MONTH_V5 = "pf_facet_month({row}.taken, {row}.mtime_ns)"
MONTH_BY_DAY = "coalesce(substr({row}.day, 1, 7), pf_facet_month({row}.taken, {row}.mtime_ns))"


def _key(kind: str, row: str, month: str = MONTH_BY_DAY) -> str:
    return {
        MONTH: month.format(row=row),
        TYPE: f"pf_facet_type({row}.path)",
        DIR: f"pf_facet_dir({row}.path)",
    }[kind]


def _move(table: str, row: str, sign: int, cond: str = "1", month: str = MONTH_BY_DAY) -> str:
    return "\n".join(
        f"INSERT INTO facet_counts (tbl, kind, key, n) SELECT '{table}', '{k}', {_key(k, row, month)}, {sign} "
        f"WHERE {cond} ON CONFLICT (tbl, kind, key) DO UPDATE SET n = n + excluded.n;"
        for k in KINDS
    )


def triggers(table: str, month: str = MONTH_BY_DAY) -> str:
    """SQL creating the triggers that keep `table`'s facet counts (only indexed photos count)."""
    day = ", day" if month == MONTH_BY_DAY else ""
    day_changed = " OR old.day IS NOT new.day" if month == MONTH_BY_DAY else ""
    return f"""
    CREATE TRIGGER {table}_facet_insert AFTER INSERT ON {table} WHEN new.status = 'indexed' BEGIN
        {_move(table, "new", 1, month=month)}
    END;
    CREATE TRIGGER {table}_facet_delete AFTER DELETE ON {table} WHEN old.status = 'indexed' BEGIN
        {_move(table, "old", -1, month=month)}
    END;
    CREATE TRIGGER {table}_facet_update AFTER UPDATE OF status, path, taken, mtime_ns{day} ON {table}
        WHEN (old.status = 'indexed' OR new.status = 'indexed') AND (old.status IS NOT new.status
            OR old.path IS NOT new.path OR old.taken IS NOT new.taken OR old.mtime_ns IS NOT new.mtime_ns
            {day_changed}) BEGIN
        {_move(table, "old", -1, "old.status = 'indexed'", month)}
        {_move(table, "new", 1, "new.status = 'indexed'", month)}
    END;
    """


def drop_triggers(table: str) -> str:
    return "\n".join(f"DROP TRIGGER {table}_facet_{w};" for w in ("insert", "delete", "update"))


def recount(table: str, month: str = MONTH_BY_DAY) -> str:
    """SQL counting `table`'s facets from its rows (one pass over them): a migration, or a repair."""
    keys = " ".join(f"WHEN '{k}' THEN {_key(k, 'p', month)}" for k in KINDS)
    kinds = " UNION ALL ".join(f"SELECT '{k}' AS kind" for k in KINDS)
    return f"""
    DELETE FROM facet_counts WHERE tbl = '{table}';
    INSERT INTO facet_counts (tbl, kind, key, n)
        SELECT '{table}', k.kind, CASE k.kind {keys} END AS key, count(*)
        FROM {table} AS p CROSS JOIN ({kinds}) AS k WHERE p.status = 'indexed' GROUP BY k.kind, key;
    """


SCHEMA = f"""
    CREATE TABLE facet_counts (
        tbl TEXT NOT NULL, kind TEXT NOT NULL, key NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (tbl, kind, key)
    ) WITHOUT ROWID;
    {recount("photos", MONTH_V5)}
    {recount("staged", MONTH_V5)}
    {triggers("photos", MONTH_V5)}
    {triggers("staged", MONTH_V5)}
"""

# Schema 7: months read from the stored day (see the module's note).
BY_DAY = f"""
    {drop_triggers("photos")}
    {drop_triggers("staged")}
    {recount("photos")}
    {recount("staged")}
    {triggers("photos")}
    {triggers("staged")}
"""
