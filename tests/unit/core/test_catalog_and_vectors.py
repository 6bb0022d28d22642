"""The catalog is the source of truth; the FAISS file is a cache that is rebuilt whenever it can't be trusted."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from photofinder.core.errors import CatalogDamagedError, LibraryError, ModelMismatchError
from photofinder.core.store.catalog import INDEXED, SCHEMA_VERSION, Catalog, PhotoRecord
from photofinder.core.store.library import LibraryStore, check_model
from photofinder.core.store.vector_index import VectorIndex


def _vec(seed: int, dim: int = 8) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal(dim).astype(np.float32)
    return v / np.linalg.norm(v)


class _Model:
    def __init__(self, model_id: str, fingerprint: str):
        self.model_id, self.fingerprint = model_id, fingerprint


def _fill(c: Catalog, n: int = 5) -> dict[str, int]:
    c.bind_model("m", 8, "sha256:m")
    return c.upsert(
        [PhotoRecord(f"/p/{i}.jpg", "/p", 10, 1, f"h{i}", INDEXED, embedding=_vec(i)) for i in range(n)]
    )


def test_embeddings_round_trip_as_raw_float32(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.sqlite3", create=True) as c:
        ids = _fill(c)
        got = c.embedding_for_path("/p/3.jpg")
        assert got is not None and got[0] == ids["/p/3.jpg"]
        np.testing.assert_array_equal(got[1], _vec(3))
    raw = (
        sqlite3.connect(tmp_path / "c.sqlite3").execute("SELECT embedding FROM photos LIMIT 1").fetchone()[0]
    )
    assert len(raw) == 8 * 4  # 8 float32s, nothing else (no pickle)


def test_schema_version_is_recorded_and_a_newer_one_refused(tmp_path: Path) -> None:
    Catalog(tmp_path / "c.sqlite3", create=True).close()
    db = sqlite3.connect(tmp_path / "c.sqlite3")
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(LibraryError, match="newer photofinder"):
        Catalog(tmp_path / "c.sqlite3")


def test_a_corrupt_catalog_gives_a_message_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "c.sqlite3").write_bytes(b"garbage" * 1000)
    with pytest.raises(CatalogDamagedError, match="is damaged.*libraries repair"):
        Catalog(tmp_path / "c.sqlite3")


def test_another_model_is_refused(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.sqlite3", create=True) as c:
        _fill(c)
        check_model(c, _Model("m", "sha256:m"))
        with pytest.raises(ModelMismatchError, match="indexed with the model 'm'"):
            check_model(c, _Model("other", "sha256:other"))
        # The same model found in another folder (moved) is the same model, and the library follows it.
        check_model(c, _Model("/new/place/m", "sha256:m"))
        assert c.model_id == "/new/place/m"


def test_vector_index_is_rebuilt_when_missing_corrupt_or_stale(store: LibraryStore, caplog) -> None:
    lib = store.create("L")
    with lib.open_catalog() as c:
        _fill(c)
        index = lib.load_vectors(c)
        assert len(index) == 5 and lib.index_path.exists()
        ids, scores = index.search(_vec(2), 1)
        assert scores[0] == pytest.approx(1.0, abs=1e-5)

        lib.index_path.write_bytes(b"PFVIDX2\0" + b"\0" * 8 + b"junk")  # corrupt
        assert len(lib.load_vectors(c)) == 5
        assert "rebuilding" in caplog.text

        c.upsert([PhotoRecord("/p/new.jpg", "/p", 1, 1, "hn", INDEXED, embedding=_vec(99))])  # stale now
        assert len(lib.load_vectors(c)) == 6

        lib.index_path.unlink()
        assert len(lib.load_vectors(c)) == 6


def test_index_file_written_atomically_with_its_generation(tmp_path: Path) -> None:
    v = VectorIndex(8)
    v.add(np.array([7, 9]), np.stack([_vec(1), _vec(2)]))
    v.remove(np.array([7]))
    v.add(np.array([7]), _vec(3)[None])  # a changed photo: its old vector goes, the new one comes
    assert len(v) == 2 and v.search(_vec(3), 1)[0][0] == 7
    v.save(tmp_path / "i.faiss", generation=42, owner="lib-a")
    loaded, gen = VectorIndex.load(tmp_path / "i.faiss", 8, "lib-a")
    assert gen == 42 and len(loaded) == 2
    assert list(tmp_path.iterdir()) == [tmp_path / "i.faiss"]  # no temp file left behind
    with pytest.raises(ValueError):
        VectorIndex.load(tmp_path / "i.faiss", 16, "lib-a")
    with pytest.raises(ValueError, match="another library"):
        VectorIndex.load(tmp_path / "i.faiss", 8, "lib-b")


def test_libraries_are_created_listed_renamed_and_removed(store: LibraryStore, tmp_path: Path) -> None:
    photo = tmp_path / "keep.jpg"
    photo.write_bytes(b"x")
    store.create("Holidays")
    store.create("family")
    assert store.names() == ["family", "Holidays"]
    with pytest.raises(LibraryError, match="already exists"):
        store.create("family")
    with pytest.raises(LibraryError, match="can't be a library name"):
        store.create("../escape")
    store.rename("family", "Family 2024")
    assert store.names() == ["Family 2024", "Holidays"]
    store.remove("Holidays")
    assert store.names() == ["Family 2024"] and photo.exists()
    with pytest.raises(LibraryError, match="no library named"):
        store.get("Holidays")


def test_browse_pages_walk_the_whole_library_newest_first_through_indexes(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.sqlite3", create=True) as c:
        c.bind_model("m", 8, "sha256:m")
        records = [
            PhotoRecord(
                f"/p/{i}.jpg",
                "/p",
                10,
                1000 + i % 7,
                f"h{i}",
                INDEXED,
                embedding=_vec(i),
                taken=f"2020-01-{1 + i % 20:02d}T00:00:00" if i % 3 else None,
            )
            for i in range(95)
        ]
        c.upsert(records)
        seen, key = [], None
        while True:
            page, key = c.recent_page(key, 10)
            seen += [pid for pid, _, _ in page]
            if key is None:
                break
        assert seen == [pid for pid, _, _ in c.recent(1000)] and len(set(seen)) == 95
        for sql in (
            "SELECT id FROM photos INDEXED BY photos_recent_taken WHERE status = 'indexed' AND taken IS NOT"
            " NULL AND (taken, mtime_ns, id) < ('x', 1, 1) ORDER BY taken DESC, mtime_ns DESC, id DESC",
            "SELECT id FROM photos INDEXED BY photos_recent_file WHERE status = 'indexed' AND taken IS NULL"
            " AND (mtime_ns, id) < (1, 1) ORDER BY mtime_ns DESC, id DESC",
        ):
            plan = " ".join(r[3] for r in c._all("EXPLAIN QUERY PLAN " + sql))
            assert "SCAN photos" not in plan.replace("USING INDEX", "") or "USING INDEX" in plan
            assert "TEMP B-TREE" not in plan  # no sort: the index gives the order


def test_a_batch_that_fails_half_way_leaves_nothing_behind(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.sqlite3", create=True) as c:
        _fill(c, 2)
        generation = c.generation
        good = PhotoRecord("/p/new.jpg", "/p", 10, 1, "hn", INDEXED, embedding=_vec(7))
        bad = PhotoRecord(None, "/p", 10, 1, "hb", INDEXED, embedding=_vec(8))  # type: ignore[arg-type]
        with pytest.raises(Exception):
            c.upsert([good, bad])
        assert c.count() == 2 and c.embedding_for_path("/p/new.jpg") is None  # rolled back, not committed
        assert c.generation == generation and not c._db.in_transaction
