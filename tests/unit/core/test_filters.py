"""Filters at a million photos (issue 10): the stored date and type keys right after every kind of write, filter
results the same as the SQL that computed the keys per query, and FAISS selectors over the allowed ids."""

from __future__ import annotations

import os
import sqlite3
from datetime import date, datetime, time

import numpy as np
import pytest

from photofinder.core.find.query import Filters, _aliases, filter_index, filter_sql
from photofinder.core.paths import to_db
from photofinder.core.store.catalog import INDEXED, SKIPPED, Catalog, PhotoRecord
from photofinder.core.store.catalog import schema as catalog_schema
from photofinder.core.store.vector_index import IdSet, VectorIndex


def _ns(y: int, m: int, d: int, h: int = 12) -> int:
    return int(datetime(y, m, d, h).timestamp() * 1e9)


def _rec(path: str, taken: str | None = None, mtime: int | None = None, wh=(400, 300), status=INDEXED):
    return PhotoRecord(
        path, "/lib", 1, _ns(2020, 5, 5) if mtime is None else mtime, repr(path), status, *wh, taken=taken
    )


def _keys(c: Catalog, table: str = "photos") -> dict[str, tuple[str, str]]:
    rows = c._all(f"SELECT path, day, ext FROM {table}")
    return {os.fsdecode(p): (d, e) for p, d, e in rows}


# The four kinds of photo the keys must get right: a date taken, a file time only (read in local time, as the
# filter always did), an upper-case extension, an alias spelling.
_PHOTOS = [
    ("/lib/a/taken.jpg", "2019-05-06T23:30:00", _ns(2021, 1, 1)),
    ("/lib/a/file-time.png", None, _ns(2018, 3, 4, 23)),
    ("/lib/b/UPPER.JPG", None, _ns(2017, 7, 8, 1)),
    ("/lib/b/alias.jpeg", "2016-02-03T00:00:01", _ns(2021, 1, 1)),
]
_EXPECTED = {
    "/lib/a/taken.jpg": ("2019-05-06", "jpg"),
    "/lib/a/file-time.png": (datetime(2018, 3, 4, 23).date().isoformat(), "png"),
    "/lib/b/UPPER.JPG": ("2017-07-08", "jpg"),
    "/lib/b/alias.jpeg": ("2016-02-03", "jpeg"),
}


@pytest.fixture
def cat(tmp_path):
    with Catalog(tmp_path / "c.sqlite3", create=True) as c:
        yield c


def test_the_filter_keys_are_stored_when_a_photo_is_indexed_edited_and_rebuilt(cat):
    cat.upsert([_rec(p, taken, mtime) for p, taken, mtime in _PHOTOS])
    assert _keys(cat) == _EXPECTED
    # edited: the file's time moved, the EXIF date went away, the photo is skipped now
    cat.upsert([_rec("/lib/a/taken.jpg", None, _ns(2022, 9, 9)), _rec("/lib/b/UPPER.JPG", status=SKIPPED)])
    assert _keys(cat)["/lib/a/taken.jpg"] == ("2022-09-09", "jpg")
    # a rebuild with another model: staged rows get their keys, and keep them when switched in
    with cat.staging() as st:
        st.upsert([_rec(p, taken, mtime) for p, taken, mtime in _PHOTOS])
        assert _keys(st, "staged") == _EXPECTED
    cat.set_meta("staged_model_id", "m2")
    cat.finish_rebuild()
    assert _keys(cat) == _EXPECTED
    jpg = Filters(types=("jpg",))
    assert sorted(_allowed(cat, jpg)) == sorted(_old_allowed(cat, jpg)) and len(_allowed(cat, jpg)) == 3


def test_a_catalog_from_schema_5_gets_its_filter_keys(tmp_path):
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    from photofinder.core.store import facet_counts as facets

    facets.register(db)
    for script in catalog_schema.MIGRATIONS[:5]:
        for statement in catalog_schema.statements(script):
            db.execute(statement)
    db.execute("PRAGMA user_version = 5")
    for table in ("photos", "staged"):
        for p, taken, mtime in _PHOTOS:
            db.execute(
                f"INSERT INTO {table} (path, folder, size, mtime_ns, taken, width, height, status, indexed_at) "
                "VALUES (?, '/lib', 1, ?, ?, 400, 300, 'indexed', 0)",
                (p.encode(), mtime, taken),
            )
    db.close()
    with Catalog(path) as c:
        assert c._one("PRAGMA user_version")[0] == catalog_schema.SCHEMA_VERSION
        assert _keys(c) == _EXPECTED
        assert _keys(c, "staged") == _EXPECTED
        for f in _FILTERS:
            assert sorted(_allowed(c, f)) == sorted(_old_allowed(c, f)), f


def _old_filter_sql(filters: Filters) -> tuple[str, list]:
    """The filter as schema 5 ran it: the date and the type worked out from every row, per query."""
    where, params = [], []
    if filters.folder:
        prefix = to_db(filters.folder.rstrip(os.sep) + os.sep)
        where.append("path >= ? AND path < ?")
        params += [prefix, prefix[:-1] + bytes([prefix[-1] + 1])]
    taken = "coalesce(taken, strftime('%Y-%m-%dT%H:%M:%S', mtime_ns / 1e9, 'unixepoch', 'localtime'))"
    if filters.after:
        where.append(f"{taken} >= ?")
        params.append(filters.after.isoformat())
    if filters.before:
        where.append(f"{taken} < ?")
        params.append(datetime.combine(filters.before, time.max).isoformat())
    if filters.types:
        exts = sorted({e.lower().lstrip(".") for e in filters.types} | _aliases(filters.types))
        where.append("(" + " OR ".join("lower(CAST(path AS TEXT)) LIKE ?" for _ in exts) + ")")
        params += [f"%.{e}" for e in exts]
    if filters.orientation == "landscape":
        where.append("width > height * 1.05")
    elif filters.orientation == "portrait":
        where.append("height > width * 1.05")
    elif filters.orientation == "square":
        where.append("width <= height * 1.05 AND height <= width * 1.05")
    if filters.min_size:
        where.append("min(width, height) >= ?")
        params.append(int(filters.min_size))
    return " AND ".join(where), params


def _old_allowed(c: Catalog, f: Filters) -> list[int]:
    where, params = _old_filter_sql(f)
    return [r[0] for r in c._all(f"SELECT id FROM photos WHERE status = 'indexed' AND {where}", params)]


def _allowed(c: Catalog, f: Filters) -> list[int]:
    where, params = filter_sql(f, to_db)
    return c.filtered_ids(where, params, filter_index(f)).tolist()


_FILTERS = [
    Filters(folder="/lib/a"),
    Filters(folder="/lib/b/"),
    Filters(after=date(2019, 5, 6)),
    Filters(after=date(2019, 5, 7)),
    Filters(before=date(2019, 5, 6)),
    Filters(before=date(2019, 5, 5)),
    Filters(after=date(2016, 1, 1), before=date(2018, 12, 31)),
    Filters(types=("jpg",)),
    Filters(types=("JPEG",)),
    Filters(types=("png", "tif")),
    Filters(types=(".jpe",)),
    Filters(orientation="landscape"),
    Filters(orientation="portrait"),
    Filters(orientation="square"),
    Filters(min_size=300),
    Filters(folder="/lib", after=date(2017, 1, 1), types=("jpg",), orientation="portrait", min_size=10),
    Filters(types=("jpg",), before=date(2018, 1, 1)),
]


def test_filters_allow_what_the_per_query_sql_allowed(cat):
    """A small library of every kind of photo: each filter, the new keys against the old per-row SQL."""
    r = np.random.default_rng(3)
    names = [
        "x.jpg",
        "x.JPG",
        "x.jpeg",
        "x.Jpe",
        "x.png",
        "x.PNG",
        "x.tif",
        "x.tiff",
        "x.heic",
        ".jpg",
        "noext",
    ]
    sizes = [(400, 300), (300, 400), (300, 300), (310, 300), (2000, 1000), (None, None)]
    records = []
    for i in range(400):
        mtime = _ns(
            2015 + int(r.integers(0, 8)),
            int(r.integers(1, 13)),
            int(r.integers(1, 29)),
            int(r.integers(0, 24)),
        )
        taken = None
        if i % 3 == 0:
            d = datetime.fromtimestamp(mtime / 1e9 - 86400 * int(r.integers(0, 900)))
            taken = d.strftime("%Y-%m-%dT%H:%M:%S")
        elif i % 7 == 0:
            taken = "2019-05-06T23:59:59"  # the last second of a day the filters end or start on
        name = names[i % len(names)]
        path = f"/lib/{'ab'[i % 2]}/{i}{name}" if name[0] != "." else f"/lib/{'ab'[i % 2]}/d{i}/{name}"
        records.append(_rec(path, taken, mtime, sizes[i % len(sizes)], SKIPPED if i % 11 == 0 else INDEXED))
    cat.upsert(records)
    for f in _FILTERS:
        old = sorted(_old_allowed(cat, f))
        assert old, f  # each filter allows something here, and not everything
        assert len(old) < cat.count() or f.folder == "/lib", f
        assert sorted(_allowed(cat, f)) == old, f


def test_a_selector_allows_what_its_ids_allow(tmp_path):
    """IdSet's bitmap selects what FAISS's batch selector did, on a flat index and on an IVF."""
    import faiss

    r = np.random.default_rng(0)
    vecs = r.standard_normal((3000, 16)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    ids = np.arange(5, 3005, dtype=np.int64) * 3
    allowed = r.choice(ids, 700, replace=False)
    for index in (VectorIndex(16), VectorIndex.for_size(16, 3000, lambda k: vecs[:k])):
        index.add(ids, vecs)
        if index.approximate:
            index._index.nprobe = index._index.nlist  # every list: both selectors see every candidate
        s = IdSet(allowed)
        assert s.ids.tolist() == sorted(allowed.tolist()) and len(s) == 700
        for q in vecs[:5]:
            got, scores = index.search(q, 40, allowed=s)
            batch = faiss.IDSelectorBatch(allowed)
            params = (
                faiss.SearchParametersIVF(sel=batch, nprobe=index._index.nprobe)
                if index.approximate
                else faiss.SearchParameters(sel=batch)
            )
            want = index._index.search(q[None], 40, params=params)[1][0]
            assert got.tolist() == want.tolist()
            assert set(got.tolist()) <= set(allowed.tolist()) and len(got) == 40
    assert len(IdSet(np.empty(0, np.int64))) == 0
