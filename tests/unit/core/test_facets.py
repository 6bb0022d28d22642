"""The facet counts the catalog keeps (issues 9 and 10): right after every kind of write, read without the rows."""

from __future__ import annotations

import os
import sqlite3
from collections import Counter
from datetime import datetime

import numpy as np
import pytest

from photofinder.core.paths import from_db
from photofinder.core.store.catalog import INDEXED, SKIPPED, Catalog, PhotoRecord
from photofinder.core.store.catalog import schema as catalog_schema
from photofinder.core.store.facet_counts import FacetCounts, file_type, month_key


def _ns(y: int, m: int, d: int = 15) -> int:
    return int(datetime(y, m, d, 12).timestamp() * 1e9)


def _rec(path: str, status: str = INDEXED, taken: str | None = None, mtime: int | None = None) -> PhotoRecord:
    return PhotoRecord(
        path,
        "/lib",
        1,
        mtime if mtime is not None else _ns(2020, 5),
        repr(path),
        status,
        taken=taken,
        embedding=np.ones(4, np.float32) if status == INDEXED else None,
    )


def _truth(path, table: str = "photos") -> FacetCounts:
    """The facets counted the slow way, from every row, without the catalog's help."""
    db = sqlite3.connect(path)
    rows = db.execute(f"SELECT path, taken, mtime_ns FROM {table} WHERE status = 'indexed'").fetchall()
    db.close()
    return FacetCounts(
        dict(Counter(month_key(t, m) for _, t, m in rows)),
        dict(Counter(file_type(p) for p, _, _ in rows)),
        dict(Counter(os.path.dirname(from_db(p)) for p, _, _ in rows)),
    )


def _same(c: Catalog, table: str = "photos") -> None:
    assert c.facets() == _truth(c.path, table)
    negative = c._all("SELECT * FROM facet_counts WHERE n < 0")
    assert negative == []


@pytest.fixture
def cat(tmp_path):
    c = Catalog(tmp_path / "c.sqlite3", create=True)
    c.bind_model("m", 4, None)
    yield c
    c.close()


def test_the_keys():
    assert month_key("2023-07-04T10:00:00", _ns(2001, 1)) == "2023-07"
    assert month_key("2023:07:04 10:00:00", _ns(2001, 1)) == "2023-07"  # EXIF's own spelling
    assert month_key(None, _ns(2001, 2)) == month_key("0000-00-00T00:00:00", _ns(2001, 2)) == "2001-02"
    assert month_key(None, 10**30) == "0000-00"  # a file time out of range does not break the write
    assert [file_type(p) for p in ("/a/B.JPEG", b"/a/c.jpe", "/a/d.tiff", "/a/e.png", "/a/f")] == [
        "jpg",
        "jpg",
        "tif",
        "png",
        "",
    ]


def test_counts_follow_every_write(cat):
    cat.upsert(
        [
            _rec("/lib/a/1.jpg", taken="2023-07-04T10:00:00"),
            _rec("/lib/a/2.JPEG", taken="2023-08-01T10:00:00"),
            _rec("/lib/a/b/3.png"),
            _rec("/lib/4.heif", mtime=_ns(2019, 12)),
            _rec("/lib/a/5.jpg", status=SKIPPED),  # skipped photos count nowhere
        ]
    )
    f = cat.facets()
    assert f.months == {"2023-07": 1, "2023-08": 1, "2020-05": 1, "2019-12": 1}
    assert f.types == {"jpg": 2, "png": 1, "heic": 1}
    assert f.dirs == {"/lib/a": 2, "/lib/a/b": 1, "/lib": 1}
    _same(cat)

    cat.upsert([_rec("/lib/a/1.jpg", taken="2021-01-02T10:00:00")])  # indexed again: a new date
    cat.upsert([_rec("/lib/a/b/3.png", mtime=_ns(2022, 3))])  # edited: a new file time, no EXIF date
    cat.upsert([_rec("/lib/a/5.jpg", taken="2018-02-02T10:00:00")])  # a skipped photo indexed at last
    cat.upsert([_rec("/lib/4.heif", status=SKIPPED)])  # an indexed photo now unreadable
    _same(cat)
    assert cat.facets().months == {"2021-01": 1, "2023-08": 1, "2022-03": 1, "2018-02": 1}

    ids = cat.upsert([_rec("/lib/c/6.jpg"), _rec("/lib/c/7.jpg")])
    cat.delete([ids["/lib/c/6.jpg"]])
    _same(cat)
    assert cat.facets().dirs["/lib/c"] == 1

    # a move across folders, as the indexer records one: the old path deleted, the new one written
    cat.delete([cat._one("SELECT id FROM photos WHERE path = ?", (b"/lib/a/2.JPEG",))[0]])
    cat.upsert([_rec("/lib/d/2.jpeg", taken="2023-08-01T10:00:00")])
    _same(cat)
    assert "/lib/d" in cat.facets().dirs and cat.facets().dirs["/lib/a"] == 2

    cat.add_folder("/lib")
    cat.remove_folder("/lib")
    _same(cat)
    assert cat.facets() == FacetCounts()


def test_a_path_that_is_not_utf8_has_its_directory(cat):
    weird = os.fsdecode(b"/lib/caf\xe9/x.jpg")  # Latin-1 bytes: a surrogate escape in the str
    cat.upsert([_rec(weird)])
    assert cat.facets().dirs == {os.fsdecode(b"/lib/caf\xe9"): 1}
    _same(cat)


def test_a_rebuild_switched_in_brings_its_counts(cat):
    cat.upsert([_rec("/lib/old/1.jpg"), _rec("/lib/old/2.jpg")])
    with cat.staging() as st:
        st.bind_model("m2", 4, None)
        st.upsert(
            [_rec("/lib/new/1.png", taken="2010-10-10T00:00:00"), _rec("/lib/new/2.png", status=SKIPPED)]
        )
        _same(st, "staged")
    cat.set_meta("staged_model_id", "m2")
    cat.finish_rebuild()
    _same(cat)
    assert cat.facets().dirs == {"/lib/new": 1}
    assert cat._all("SELECT count(*) FROM facet_counts WHERE tbl = 'staged' AND n != 0") == [(0,)]
    cat.upsert([_rec("/lib/new/3.png")])  # the triggers are back
    _same(cat)
    with cat.staging() as st:
        st.upsert([_rec("/lib/again/1.jpg")])
        _same(st, "staged")


def test_a_catalog_from_schema_4_gets_its_facets_counted(tmp_path):
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    for script in catalog_schema.MIGRATIONS[:4]:
        for statement in catalog_schema.statements(script):
            db.execute(statement)
    db.execute("PRAGMA user_version = 4")
    rows = [
        (b"/p/x/1.jpg", "2015-05-05T00:00:00", INDEXED),
        (b"/p/x/2.jpeg", None, INDEXED),
        (b"/p/y/3.png", None, INDEXED),
        (b"/p/y/4.png", None, SKIPPED),
    ]
    for p, taken, status in rows:
        db.execute(
            "INSERT INTO photos (path, folder, size, mtime_ns, taken, status, indexed_at) VALUES (?, ?, 1, ?, ?, ?, 0)",
            (p, b"/p", _ns(2016, 6), taken, status),
        )
    db.execute(
        "INSERT INTO staged (path, folder, size, mtime_ns, status, indexed_at) VALUES (?, ?, 1, ?, 'indexed', 0)",
        (b"/p/z/5.gif", b"/p", _ns(2017, 7)),
    )
    db.close()
    with Catalog(path) as c:
        assert c.facets() == FacetCounts(
            {"2015-05": 1, "2016-06": 2}, {"jpg": 2, "png": 1}, {"/p/x": 2, "/p/y": 1}
        )
        with c.staging() as st:
            assert st.facets().dirs == {"/p/z": 1}
        c.delete([1])
        _same(c)


def test_reading_the_facets_reads_no_photo(cat):
    cat.upsert([_rec(f"/lib/{i % 7}/{i}.jpg", mtime=_ns(2000 + i % 5, 1 + i % 12)) for i in range(300)])
    statements: list[str] = []
    cat._db.set_trace_callback(statements.append)
    facets = cat.facets()
    cat._db.set_trace_callback(None)
    assert sum(facets.dirs.values()) == 300
    assert statements
    for sql in statements:
        plan = [str(r[-1]) for r in cat._all("EXPLAIN QUERY PLAN " + sql)]
        # a search of facet_counts by its key, never a scan, never the photos
        assert plan and all(p.startswith("SEARCH facet_counts USING PRIMARY KEY") for p in plan), (sql, plan)


def test_check_counts_recounts_facets_that_went_wrong(cat, caplog):
    cat.upsert([_rec(f"/lib/{i % 3}/{i}.jpg") for i in range(30)])
    assert cat.check_counts()
    cat._exec("UPDATE facet_counts SET n = n + 4 WHERE kind = 'dir' AND key = ?", (b"/lib/1",))
    assert not cat.check_counts() and "facet counts recounted" in caplog.text
    _same(cat)
    assert cat.check_counts()
    # writes lost (the photo counts drifted) while the facets still add up: they are recounted all the same
    cat._exec("UPDATE facet_counts SET n = n + 1 WHERE kind = 'dir' AND key = ?", (b"/lib/1",))
    cat._exec("UPDATE facet_counts SET n = n - 1 WHERE kind = 'dir' AND key = ?", (b"/lib/2",))
    cat._exec("UPDATE counts SET n = 0")
    assert not cat.check_counts()
    _same(cat)


def test_a_photo_counted_under_one_time_zone_goes_from_the_same_month_under_another(cat, monkeypatch):
    """A photo with no EXIF date is in the month of its file time in local time; if the time zone changes
    before it is deleted (travel, a new laptop), it must leave the month it was counted in."""
    import time

    if not hasattr(time, "tzset"):
        pytest.skip("no time.tzset on this platform")
    edge = int(datetime.fromisoformat("2024-03-01T00:30:00+00:00").timestamp() * 1e9)  # Feb 29 in New York
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        cat.upsert([_rec("/lib/a/edge.jpg", mtime=edge), _rec("/lib/a/other.jpg")])
        assert cat.facets().months == {"2024-03": 1, "2020-05": 1}
        monkeypatch.setenv("TZ", "America/New_York")
        time.tzset()
        ids = [i for i, (p, _h) in cat.photos(cat.filtered_ids("1", []).tolist()).items() if "edge" in p]
        cat.delete(ids)
        assert cat.facets().months == {"2020-05": 1}
        assert cat._all("SELECT * FROM facet_counts WHERE n < 0") == []
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
