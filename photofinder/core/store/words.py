"""The catalog's words and places (schema 8): what the OCR pass read in each photo, and where each was taken.

Words are kept by content hash (`ocr_text`), like a thumbnail: a renamed, moved or copied photo keeps its
words without being read again, an edited one (a new hash) has none until the pass reads it, and triggers drop
the words of content no photo has any more, in the same transaction as the photo's deletion. An FTS5 index
over them (`ocr_fts`, external content, kept by triggers on `ocr_text`) finds a word among a million photos
in milliseconds, accents and case aside (`unicode61 remove_diacritics 2`).

Each photo row carries, per photo:
- `lat`, `lon`, `place` (a places.Place key) and `geo`: NULL until its EXIF was read for GPS (rows from before
  schema 8), 0 without GPS, 1 with;
- `ocr`: NULL until the words pass looked at it, 0 when the gate judged it holds no text, 1 when it was read
  (its words, if any, are in `ocr_text` under its hash).

Places are counted by triggers in `facet_counts` (kind 'place', one row per place key), like the other facets.
"""

from __future__ import annotations

PLACE = "place"
# what the `ocr` column says
GATED_OUT, READ = 0, 1


def place_triggers(table: str) -> str:
    """SQL creating the triggers that count `table`'s indexed photos per place (photos without one: none)."""

    def move(row: str, sign: int) -> str:
        return (
            f"INSERT INTO facet_counts (tbl, kind, key, n) SELECT '{table}', '{PLACE}', {row}.place, {sign} "
            f"WHERE {row}.status = 'indexed' AND {row}.place IS NOT NULL "
            "ON CONFLICT (tbl, kind, key) DO UPDATE SET n = n + excluded.n;"
        )

    return f"""
    CREATE TRIGGER {table}_place_insert AFTER INSERT ON {table} BEGIN
        {move("new", 1)}
    END;
    CREATE TRIGGER {table}_place_delete AFTER DELETE ON {table} BEGIN
        {move("old", -1)}
    END;
    CREATE TRIGGER {table}_place_update AFTER UPDATE OF status, place ON {table}
        WHEN old.status IS NOT new.status OR old.place IS NOT new.place BEGIN
        {move("old", -1)}
        {move("new", 1)}
    END;
    """


def drop_place_triggers(table: str) -> str:
    return "\n".join(f"DROP TRIGGER {table}_place_{w};" for w in ("insert", "delete", "update"))


def recount_places(table: str) -> str:
    """SQL counting `table`'s places again from its rows (a repair, with the other facets)."""
    return f"""
    DELETE FROM facet_counts WHERE tbl = '{table}' AND kind = '{PLACE}';
    INSERT INTO facet_counts (tbl, kind, key, n)
        SELECT '{table}', '{PLACE}', place, count(*) FROM {table}
        WHERE status = 'indexed' AND place IS NOT NULL GROUP BY place;
    """


# A photo that goes (or whose content changes) takes its words with it, unless another photo, live or staged,
# has the same content.
_FORGET = """
        DELETE FROM ocr_text WHERE hash = old.hash
            AND NOT EXISTS (SELECT 1 FROM photos WHERE hash = old.hash)
            AND NOT EXISTS (SELECT 1 FROM staged WHERE hash = old.hash);
"""
FORGET_TRIGGERS = f"""
    CREATE TRIGGER photos_words_delete AFTER DELETE ON photos WHEN old.hash IS NOT NULL BEGIN
        {_FORGET}
    END;
    CREATE TRIGGER photos_words_edit AFTER UPDATE OF hash ON photos
        WHEN old.hash IS NOT NULL AND old.hash IS NOT new.hash BEGIN
        {_FORGET}
    END;
"""
DROP_FORGET_TRIGGERS = "DROP TRIGGER photos_words_delete; DROP TRIGGER photos_words_edit;"


def _columns(table: str) -> str:
    return f"""
    ALTER TABLE {table} ADD COLUMN lat REAL;
    ALTER TABLE {table} ADD COLUMN lon REAL;
    ALTER TABLE {table} ADD COLUMN place TEXT;
    ALTER TABLE {table} ADD COLUMN geo INTEGER;
    ALTER TABLE {table} ADD COLUMN ocr INTEGER;
    CREATE INDEX {table}_by_place ON {table} (place, status) WHERE status = 'indexed' AND place IS NOT NULL;
    {place_triggers(table)}
    """


SCHEMA = f"""
    {_columns("photos")}
    {_columns("staged")}
    CREATE INDEX photos_geo_todo ON photos (id) WHERE status = 'indexed' AND geo IS NULL;
    CREATE INDEX photos_ocr_todo ON photos (id) WHERE status = 'indexed' AND ocr IS NULL;
    CREATE INDEX photos_ocr_gated ON photos (id) WHERE status = 'indexed' AND ocr = 0;
    CREATE TABLE ocr_text (
        id INTEGER PRIMARY KEY, hash TEXT NOT NULL UNIQUE, text TEXT NOT NULL, boxes TEXT NOT NULL DEFAULT '[]'
    );
    CREATE VIRTUAL TABLE ocr_fts USING fts5(
        text, content = 'ocr_text', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER ocr_text_insert AFTER INSERT ON ocr_text BEGIN
        INSERT INTO ocr_fts (rowid, text) VALUES (new.id, new.text);
    END;
    CREATE TRIGGER ocr_text_delete AFTER DELETE ON ocr_text BEGIN
        INSERT INTO ocr_fts (ocr_fts, rowid, text) VALUES ('delete', old.id, old.text);
    END;
    CREATE TRIGGER ocr_text_update AFTER UPDATE ON ocr_text BEGIN
        INSERT INTO ocr_fts (ocr_fts, rowid, text) VALUES ('delete', old.id, old.text);
        INSERT INTO ocr_fts (rowid, text) VALUES (new.id, new.text);
    END;
    {FORGET_TRIGGERS}
"""


def fts_query(text: str) -> str:
    """An FTS5 query that every word of `text` must match (in any order), each word taken literally.

    'open 24 hours' -> '"open" "24" "hours"'. Quotes keep FTS5's own syntax (AND, NEAR, *, -) out of what the
    user typed; the tokenizer then sets case and accents aside on both sides.
    """
    words = [w.replace('"', "") for w in text.split()]
    return " ".join(f'"{w}"' for w in words if w.strip('"'))


def matched_lines(text: str | None, query: str) -> list[str]:
    """The lines of a photo's words holding any word of `query` (case and accents aside): what JSON shows as
    "matched"."""
    from photofinder.core.photos.places import fold

    if not text:
        return []
    wanted = {fold(w.strip('"')) for w in query.split() if w.strip('"')}
    return [line for line in text.splitlines() if any(w in fold(line) for w in wanted)]
