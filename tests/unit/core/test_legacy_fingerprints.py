"""A library upgraded from schema 1 trusted its old partial fingerprints (size + first and last 64 KiB): four
scanned pages of one size were "identical", and a page scanned after the upgrade took page 1's vector. Rows with
such a fingerprint are re-hashed (whole file) before any hash is used."""

from __future__ import annotations

import sqlite3

import numpy as np
from dupcorpus import noise
from PIL import Image, ImageDraw

from photofinder.core.duplicates.finder import find_duplicates
from photofinder.core.ingest.indexer import Indexer
from photofinder.core.photos.scanner import legacy_hash
from photofinder.core.store.catalog import Catalog
from photofinder.core.store.catalog.schema import MIGRATIONS as _MIGRATIONS


def _page(path, seed):
    """A scanned page as an uncompressed BMP: the same margins (the file's first and last 64 KiB), other text."""
    rng = np.random.default_rng(seed)
    paper = (235 + 15 * noise((400, 600), np.random.default_rng(0))).astype(np.uint8)
    page = Image.fromarray(np.stack([paper] * 3, -1))
    d = ImageDraw.Draw(page)
    for line in range(12):  # lines of "text", only between the margins
        y = 110 + 15 * line
        x = 40
        while x < 540:
            w = int(rng.integers(8, 40))
            d.rectangle([x, y, x + w, y + 7], fill=(30, 30, 30))
            x += w + int(rng.integers(5, 12))
    page.save(path)


def _schema_1_library(store, folder, counting, pages):
    lib = store.create("Scans")
    lib.catalog_path.unlink()
    for f in ("catalog.sqlite3-wal", "catalog.sqlite3-shm"):
        (lib.root / f).unlink(missing_ok=True)
    db = sqlite3.connect(lib.catalog_path)
    db.executescript(_MIGRATIONS[0] + "PRAGMA user_version = 1;")
    for i, p in enumerate(pages):
        st = p.stat()
        vec = counting.encode_text([f"page {i}"])[0]
        db.execute(
            "INSERT INTO photos (path, folder, size, mtime_ns, hash, status, embedding, indexed_at) "
            "VALUES (?, ?, ?, ?, ?, 'indexed', ?, 0)",
            (str(p), str(folder), st.st_size, st.st_mtime_ns, legacy_hash(str(p), st.st_size), vec.tobytes()),
        )
    db.execute("INSERT INTO folders VALUES (?, 0)", (str(folder),))
    db.execute("INSERT INTO meta VALUES ('model_id', ?)", (counting.model_id,))
    db.execute("INSERT INTO meta VALUES ('dim', ?)", (str(counting.dim),))
    db.commit()
    db.close()
    return lib


def test_pages_sharing_an_old_fingerprint_are_not_duplicates_nor_share_a_vector(store, tmp_path, counting):
    folder = tmp_path / "scans"
    folder.mkdir()
    pages = [folder / f"page-{i}.bmp" for i in range(4)]
    for i, p in enumerate(pages):
        _page(p, i)
    fingerprints = {legacy_hash(str(p), p.stat().st_size) for p in pages}
    assert len(fingerprints) == 1  # the old fingerprint can't tell them apart
    lib = _schema_1_library(store, folder, counting, pages)

    with lib.open_catalog() as c:  # before any index run: the old fingerprints prove nothing
        assert find_duplicates(lib, c) == []

    _page(folder / "page-4.bmp", 4)  # scanned after the upgrade
    counting.images = 0
    report = Indexer(lib, counting).run()
    assert (report.indexed, report.reused) == (1, 0) and counting.images == 1  # its own vector
    with lib.open_catalog() as c:
        assert c.legacy_rows() == [] and not c.legacy_hashes
        assert len({h for _, h in c.photos(range(1, 10)).values()}) == 5  # five pages, five identities
        assert find_duplicates(lib, c) == []
    with Catalog(lib.catalog_path) as c:
        new = c.embedding_for_path(str(folder / "page-4.bmp"))[1]
        old = c.embedding_for_path(str(pages[0]))[1]
        assert not np.allclose(new, old)
