"""Issue 9: a million photos on a laptop. The mechanisms, at sizes a unit test can afford (bench/scale.py times
them at 10k-1M): the approximate index and its exact rescoring, searchers that catch up instead of reloading,
stored counts, indexed queries, and rescans without per-file SQL."""

from __future__ import annotations

import os
import shutil
import sqlite3
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from photofinder.core.find.query import Filters, filter_index, filter_sql
from photofinder.core.find.search import Searcher
from photofinder.core.ingest.planner import plan
from photofinder.core.paths import to_db
from photofinder.core.store import library as library_mod
from photofinder.core.store import vector_index as vectors_mod
from photofinder.core.store.catalog import INDEXED, SKIPPED, Catalog, PhotoRecord
from photofinder.core.store.catalog import schema as catalog_schema
from photofinder.core.store.library import Library, LibraryStore
from photofinder.core.store.vector_index import VectorIndex

DIM = 32


def _clustered(n: int, seed: int) -> np.ndarray:
    g = np.random.default_rng(5)
    centres = g.standard_normal((40, DIM)).astype(np.float32)
    r = np.random.default_rng(seed)
    x = centres[r.integers(0, 40, n)] + 0.8 * r.standard_normal((n, DIM)).astype(np.float32)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


class _Stub:
    model_id = "stub"
    fingerprint = "sha256:stub"
    device = "cpu"
    dim = DIM


def _library(store: LibraryStore, folder: Path, n: int, files: bool = True) -> Library:
    lib = store.create("Big")
    folder.mkdir(parents=True, exist_ok=True)
    records = []
    for i, v in enumerate(_clustered(n, seed=1)):
        p = folder / f"d{i % 7}" / f"{i:05d}.jpg"
        if files:
            p.parent.mkdir(exist_ok=True)
            p.write_bytes(b"x")
            st = p.stat()
            size, mtime = st.st_size, st.st_mtime_ns
        else:
            size, mtime = 1, i
        records.append(
            PhotoRecord(
                str(p),
                str(folder),
                size,
                mtime,
                f"h{i}",
                INDEXED,
                taken="2020-01-01T00:00:00" if i % 3 else None,
                embedding=v,
            )
        )
    with lib.open_catalog() as c:
        c.add_folder(str(folder))
        c.bind_model(_Stub.model_id, DIM, _Stub.fingerprint)
        for k in range(0, n, 500):
            c.upsert(records[k : k + 500])
    return lib


def _exact_top(c: Catalog, q: np.ndarray, k: int) -> list[int]:
    ids, vecs = c.embeddings()
    return ids[np.argsort(-(vecs @ q), kind="stable")[:k]].tolist()


@pytest.fixture
def small_flat_max(monkeypatch):
    monkeypatch.setattr(vectors_mod, "FLAT_MAX", 400)


def test_above_flat_max_the_index_is_ivf_sq8_with_exact_scores_and_high_recall(
    store, tmp_path, small_flat_max
):
    lib = _library(store, tmp_path / "photos", 3000, files=False)
    with lib.open_catalog() as c:
        index = lib.load_vectors(c, save=True)
        assert index.approximate and index.trained_size == 3000 and len(index) == 3000
        queries = _clustered(100, seed=2)
        hits = 0
        for q in queries:
            ids, scores = index.search(q, 10, exact=c.vectors_for)
            stored = dict(zip(*c.vectors_for(ids)))
            np.testing.assert_allclose(
                scores, [stored[i] @ q for i in ids.tolist()], rtol=1e-5
            )  # exact scores
            hits += len(set(ids.tolist()) & set(_exact_top(c, q, 10)))
        assert hits / (10 * len(queries)) >= 0.98

        loaded, generation = VectorIndex.load(lib.index_path, DIM, c.uuid)
        assert loaded.approximate and len(loaded) == 3000 and generation == c.generation
        assert sorted(loaded.ids().tolist()) == sorted(c.embeddings()[0].tolist())

    raw = bytearray(lib.index_path.read_bytes())
    raw[len(raw) // 2 : len(raw) // 2 + 64] = os.urandom(64)
    lib.index_path.write_bytes(bytes(raw))
    with lib.open_catalog() as c, pytest.raises(ValueError, match="checksum"):
        VectorIndex.load(lib.index_path, DIM, c.uuid)


def test_small_libraries_stay_exact_and_the_index_is_retrained_as_the_library_grows(
    store, tmp_path, small_flat_max
):
    lib = _library(store, tmp_path / "photos", 300, files=False)
    with lib.open_catalog() as c:
        index = lib.load_vectors(c, save=True)
        assert not index.approximate
        more = [
            PhotoRecord(f"/more/{i}.jpg", "/more", 1, 1, f"m{i}", INDEXED, embedding=v)
            for i, v in enumerate(_clustered(1000, seed=3))
        ]
        ids = c.upsert(more)
        index.add(np.array(list(ids.values())), np.stack([r.embedding for r in more]))
        index = lib.outgrown(index, c)  # what the indexer calls as it adds
        assert index.approximate and index.trained_size == 1300
        assert VectorIndex.read_header(lib.index_path)[4] == 1300  # and it was saved
        assert not index.needs_retrain(5000) and index.needs_retrain(5201)


@pytest.mark.parametrize("approximate", [False, True])
def test_a_searcher_catches_up_with_commits_without_reloading(store, tmp_path, monkeypatch, approximate):
    if approximate:
        monkeypatch.setattr(vectors_mod, "FLAT_MAX", 400)
    folder = tmp_path / "photos"
    lib = _library(store, folder, 1200)
    with lib.open_catalog() as c:
        lib.load_vectors(c, save=True)
    with Searcher(lib, _Stub()) as s, lib.open_catalog() as w:  # type: ignore[arg-type]
        assert s.size == 1200 and s._index().approximate == approximate
        loads = []
        monkeypatch.setattr(vectors_mod.VectorIndex, "load", lambda *a: loads.append(a))
        monkeypatch.setattr(library_mod.Library, "rebuild_vectors", lambda *a: loads.append(a))

        new = _clustered(20, seed=4)
        paths = [folder / f"new{i}.jpg" for i in range(20)]
        for p in paths:
            p.write_bytes(b"y")
        ids = w.upsert(
            [
                PhotoRecord(str(p), str(folder), 1, 1, f"n{i}", INDEXED, embedding=v)
                for i, (p, v) in enumerate(zip(paths, new))
            ]
        )
        top = s.by_vector(new[3], 5)
        assert top[0].id == ids[str(paths[3])] and top[0].score == pytest.approx(1.0, abs=1e-5)

        # an edited photo (same id, new vector), one now skipped, and deleted ones
        edited, skipped = str(paths[4]), str(paths[5])
        fresh = _clustered(1, seed=11)[0]
        w.upsert(
            [
                PhotoRecord(edited, str(folder), 2, 2, "e", INDEXED, embedding=fresh),
                PhotoRecord(skipped, str(folder), 2, 2, None, SKIPPED, reason="truncated"),
            ]
        )
        gone = [r[0] for r in w.recent_page(None, 10)[0]]
        w.delete(gone)
        for q in (fresh, new[4], new[5], _clustered(1, seed=9)[0]):
            got = [r.id for r in s.by_vector(q, 10)]
            assert got == _exact_top(w, q, 10)
        assert s.by_vector(fresh, 1)[0].id == ids[edited]
        assert ids[skipped] not in [r.id for r in s.by_vector(new[5], 50)]
        assert s.size == w.count() == 1200 + 20 - 1 - 10
        assert loads == []  # every change was caught up with, nothing was read whole again


def test_a_searcher_reloads_once_the_indexer_saved_a_retrained_index(store, tmp_path, small_flat_max):
    lib = _library(store, tmp_path / "photos", 300, files=False)
    with lib.open_catalog() as c:
        lib.load_vectors(c, save=True)
    with Searcher(lib, _Stub()) as s, lib.open_catalog() as w:  # type: ignore[arg-type]
        assert not s._index().approximate
        more = [
            PhotoRecord(f"/more/{i}.jpg", "/more", 1, 1, f"m{i}", INDEXED, embedding=v)
            for i, v in enumerate(_clustered(900, seed=3))
        ]
        w.upsert(more)
        s.by_vector(more[0].embedding, 3)
        assert not s._index().approximate and s.size == 1200  # caught up; a reader never trains
        lib.load_vectors(w, save=True)  # the indexer: retrained and saved
        w.upsert([PhotoRecord("/more/last.jpg", "/more", 1, 1, "l", INDEXED, embedding=more[1].embedding)])
        s.by_vector(more[0].embedding, 3)
        assert s._index().approximate and s.size == 1201


def _true_counts(path: Path) -> dict[tuple[str, str], int]:
    db = sqlite3.connect(path)
    out = {
        (t, st): db.execute(f"SELECT count(*) FROM {t} WHERE status = ?", (st,)).fetchone()[0]
        for t in ("photos", "staged")
        for st in (INDEXED, SKIPPED)
    }
    db.close()
    return out


def test_stored_counts_stay_equal_to_the_rows(store, tmp_path):
    lib = _library(store, tmp_path / "photos", 50, files=False)

    def check(c: Catalog) -> None:
        truth = _true_counts(lib.catalog_path)
        assert (c.count(), c.count(SKIPPED)) == (truth["photos", INDEXED], truth["photos", SKIPPED])
        with c.staging() as st:
            assert (st.count(), st.count(SKIPPED)) == (truth["staged", INDEXED], truth["staged", SKIPPED])

    v = _clustered(5, seed=8)
    with lib.open_catalog() as c:
        check(c)
        c.upsert(
            [
                PhotoRecord("/x/a.jpg", "/x", 1, 1, None, SKIPPED, reason="truncated"),
                PhotoRecord(
                    str(tmp_path / "photos" / "d0" / "00000.jpg"),
                    str(tmp_path / "photos"),
                    9,
                    9,
                    None,
                    SKIPPED,
                    reason="truncated",
                ),
            ]
        )  # an indexed photo now skipped
        check(c)
        c.upsert([PhotoRecord("/x/a.jpg", "/x", 1, 2, "a", INDEXED, embedding=v[0])])  # and back
        check(c)
        c.delete([r[0] for r in c.recent_page(None, 5)[0]])
        check(c)
        with c.staging() as st:
            st.bind_model("other", DIM, "sha256:other")
            st.upsert(
                [
                    PhotoRecord(f"/s/{i}.jpg", "/s", 1, 1, f"s{i}", INDEXED, embedding=x)
                    for i, x in enumerate(v)
                ]
            )
        check(c)
        c.clear_staged()
        check(c)
        with c.staging() as st:
            st.bind_model("other", DIM, "sha256:other")
            st.upsert(
                [
                    PhotoRecord(f"/s/{i}.jpg", "/s", 1, 1, f"s{i}", INDEXED, embedding=x)
                    for i, x in enumerate(v)
                ]
            )
        c.finish_rebuild()
        check(c)
        c.add_folder("/s")
        c.remove_folder("/s")
        check(c)
        assert c.count() == 0


def _filter(c: Catalog, filters: Filters) -> np.ndarray:
    return c.filtered_ids(*filter_sql(filters, to_db), filter_index(filters))


def _plans(c: Catalog, sql: str) -> list[str]:
    return [r[3] for r in c._db.execute("EXPLAIN QUERY PLAN " + sql).fetchall()]


def test_every_query_the_app_makes_is_indexed(store, tmp_path):
    """Each SELECT the catalog runs for the app, traced and explained: none reads the whole table."""
    folder = tmp_path / "photos"
    lib = _library(store, folder, 60)
    with lib.open_catalog() as c:
        lib.load_vectors(c, save=True)
    statements: list[str] = []
    with lib.open_catalog() as c:
        c._db.set_trace_callback(statements.append)
        one = str(folder / "d1" / "00001.jpg")
        calls = {
            "by path": lambda: (c.embedding_for_path(one), c.hash_for_path(one), c.hashes_for_paths([one])),
            "by id": lambda: (c.embedding_for_id(3), c.photos([1, 2, 3]), c.vectors_for([1, 2, 3])),
            "by hash": lambda: (c.find_by_hash("h7"), c.hashes_in_use(["h7", "h8"])),
            "recent": lambda: (
                c.recent_page(c.recent_page(None, 30)[1], 30) and c.recent_page((1, "", 5, 5), 10)
            ),
            "counts": lambda: (c.count(), c.count(SKIPPED), lib.summary()),
            "folder filter": lambda: (c.file_stamps(str(folder)), c.known_files(str(folder))),
            "catch-up": lambda: c.changes_since(c.generation - 1),
            # what Searcher.allowed_ids runs for each filter
            "filter: folder": lambda: _filter(c, Filters(folder=str(folder / "d1"))),
            "filter: dates": lambda: _filter(c, Filters(after=date(2019, 1, 1), before=date(2020, 6, 30))),
            "filter: after": lambda: _filter(c, Filters(after=date(2019, 1, 1))),
            "filter: type": lambda: _filter(c, Filters(types=("jpg", "png"))),
            "filter: type and date": lambda: _filter(c, Filters(types=("png",), before=date(2020, 1, 1))),
            "filter: all": lambda: _filter(
                c,
                Filters(str(folder), date(2019, 1, 1), date(2021, 1, 1), ("jpg",), "portrait", 100),
            ),
            "filter: shape": lambda: (
                _filter(c, Filters(orientation="landscape")),
                _filter(c, Filters(min_size=100)),
            ),
        }
        for name, call in calls.items():
            statements.clear()
            call()
            selects = [
                q for q in statements if q.lstrip().upper().startswith("SELECT") and "sqlite_master" not in q
            ]
            assert selects, name
            for q in selects:
                plans = _plans(c, q)
                # A full scan fails; so does walking a whole index, unless in its order and stopped by a LIMIT
                # (a browse page). The small tables (meta, folders) may be read whole.
                full = [
                    p
                    for p in plans
                    if p.startswith("SCAN")
                    and not p.startswith(("SCAN meta", "SCAN folders"))
                    and ("INDEX" not in p or "LIMIT" not in q)
                ]
                if name.startswith("filter"):
                    # a filter reads index entries, never rows; orientation or size alone must look at each
                    # photo's entry, in the narrowest index (no paths)
                    assert all("USING COVERING INDEX" in p for p in plans), f"{name}: {q}\n{plans}"
                    full = [
                        p
                        for p in full
                        if name != "filter: shape" or p != "SCAN photos USING COVERING INDEX photos_by_day"
                    ]
                assert not full, f"{name}: {q}\n{plans}"
        c._db.set_trace_callback(None)


def test_a_rescan_makes_no_query_per_file(store, tmp_path):
    folder = tmp_path / "photos"
    lib = _library(store, folder, 400)
    (folder / "d0" / "00000.jpg").write_bytes(b"changed")
    os.remove(folder / "d1" / "00001.jpg")
    statements: list[str] = []
    with lib.open_catalog() as c:
        c._db.set_trace_callback(statements.append)
        result = plan(c)
    assert result.unchanged == 398 and [w.path for w in result.work] == [str(folder / "d0" / "00000.jpg")]
    assert list(result.changed.values()) == ["h0"] and len(result.removed) == 1
    assert len(statements) < 20, statements


def test_a_catalog_from_schema_3_gets_counts_and_a_change_log(tmp_path):
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    for script in catalog_schema.MIGRATIONS[:3]:
        for statement in catalog_schema.statements(script):
            db.execute(statement)
    db.execute("PRAGMA user_version = 3")
    db.execute("INSERT INTO meta VALUES ('generation', '7'), ('dim', '4')")
    for i in range(5):
        db.execute(
            "INSERT INTO photos (path, folder, size, mtime_ns, hash, status, embedding, indexed_at) "
            "VALUES (?, ?, 1, 1, ?, ?, ?, 0)",
            (f"/p/{i}".encode(), b"/p", f"h{i}", INDEXED if i else SKIPPED, np.ones(4, np.float32).tobytes()),
        )
    db.close()
    with Catalog(path) as c:
        assert (c.count(), c.count(SKIPPED), c.generation) == (4, 1, 7)
        assert c.changes_since(6) is None  # older than the log: reload
        assert len(c.changes_since(7).ids) == 0
        c.delete([2])
        changes = c.changes_since(7)
        assert changes.removed.tolist() == [2] and changes.indexed == 3
        assert set(c.file_stamps("/p")) == {f"/p/{i}".encode() for i in (0, 2, 3, 4)}  # id 2 was /p/1


def test_an_index_run_repairs_counts_that_drifted(store, tmp_path, caplog):
    lib = _library(store, tmp_path / "photos", 30)
    with lib.open_catalog() as c:
        c.upsert([PhotoRecord("/x/a.jpg", "/x", 1, 1, None, SKIPPED, reason="truncated")])
        c._exec("UPDATE counts SET n = 0")  # what a -wal lost mid-checkpoint can leave
        assert c.count() == 0
        plan(c)
        assert (c.count(), c.count(SKIPPED)) == (30, 1) and "repaired" in caplog.text
        assert c.check_counts()


def _folder_ordered_library(store: LibraryStore, folder: Path, n: int) -> Library:
    """A library stored folder by folder: each run of 100 ids one event, from one of 60 overlapping clusters."""
    lib = store.create("Ordered")
    g = np.random.default_rng(21)
    centres = g.standard_normal((60, DIM)).astype(np.float32)
    centres = centres / np.linalg.norm(centres, axis=1, keepdims=True) + 0.5  # a shared direction: overlap
    own = g.integers(0, 60, n // 100 + 1)
    x = centres[own[np.arange(n) // 100]] + 0.5 * g.standard_normal((n, DIM)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    folder.mkdir(parents=True, exist_ok=True)
    records = []
    for i, v in enumerate(x):
        p = folder / f"e{i // 100:03d}" / f"{i:05d}.jpg"
        p.parent.mkdir(exist_ok=True)
        p.write_bytes(b"x")
        day = date(2000 + i * 20 // n, 1 + (i // 100) % 12, 1)  # in date order, folder by folder
        records.append(
            PhotoRecord(
                str(p), str(folder), 1, i, f"h{i}", INDEXED, taken=f"{day:%Y-%m-%d}T12:00:00", embedding=v
            )
        )
    with lib.open_catalog() as c:
        c.add_folder(str(folder))
        c.bind_model(_Stub.model_id, DIM, _Stub.fingerprint)
        for k in range(0, n, 500):
            c.upsert(records[k : k + 500])
    return lib


@pytest.fixture(scope="module")
def ordered_library(tmp_path_factory) -> Path:
    """4,000 photos stored folder by folder (`_folder_ordered_library`), made once a module (0.9 s)."""
    data = tmp_path_factory.mktemp("ordered")
    return _folder_ordered_library(LibraryStore(data), data / "photos", 4000).root


@pytest.fixture
def ordered(ordered_library, store) -> Library:
    """A copy of the 4,000-photo library in this test's data dir, to change as it likes; its photo files are the
    module's (read-only: no test here touches them)."""
    shutil.copytree(ordered_library, store.root / ordered_library.name)
    return store.get(ordered_library.name)


def test_the_index_is_tuned_until_text_like_queries_find_their_top_10(ordered, small_flat_max):
    """Text queries sit far from every photo: the lists a query scans are raised until 99 % of their true top 10
    is found, the number is kept in the file, and an index from before tuning is trained again."""
    lib = ordered
    with lib.open_catalog() as c:
        index = lib.load_vectors(c, save=True)
        assert index.approximate and index.tuned == index.nprobe > 0
        assert VectorIndex.read_header(lib.index_path)[5] == index.tuned
        queries = vectors_mod.text_like(c.embeddings()[1], 100, seed=3)  # others than it was tuned on
        found = sum(
            len(set(index.search(q, 10, exact=c.vectors_for)[0].tolist()) & set(_exact_top(c, q, 10)))
            for q in queries
        )
        assert found / (10 * len(queries)) >= 0.98

        index.tuned = 0  # as a file written before tuning reads
        index.save(lib.index_path, c.generation, c.uuid)
        again = lib.load_vectors(c, save=True)
        assert again.tuned > 0 and VectorIndex.read_header(lib.index_path)[5] == again.tuned


def test_a_filter_finds_its_own_top_50_however_few_photos_it_allows(ordered, small_flat_max):
    """A year's photos are one stretch of folders, in lists far from the query: they are still found, and never
    read from the catalog photo by photo."""
    lib = ordered
    with lib.open_catalog() as c:
        lib.load_vectors(c, save=True)
        queries = vectors_mod.text_like(c.embeddings()[1], 30, seed=4)
    with Searcher(lib, _Stub()) as s:  # type: ignore[arg-type]
        for years in ((2003, 2003), (2004, 2007), (2001, 2014)):
            f = Filters(after=date(years[0], 1, 1), before=date(years[1], 12, 31))
            allowed = s.allowed_ids(f)
            assert 0 < len(allowed) < 4000
            ids, vecs = s._catalog.vectors_for(allowed.tolist())
            hits = 0
            for q in queries:
                want = set(ids[np.argsort(-(vecs @ q))[:50]].tolist())
                hits += len(want & {r.id for r in s.by_vector(q, 50, allowed=allowed)})
            assert hits / (len(queries) * min(50, len(allowed))) >= 0.98, years


def test_an_index_is_tuned_for_how_far_its_models_text_sits_from_the_photos(
    store, ordered, small_flat_max, photos, counting
):
    """Issue 21: SigLIP's text queries sit farther from their photos than CLIP's (a match from about cosine 0.1;
    CLIP's best photo ~0.3). Tuned for CLIP's distance, a 768-d library's text recall@10 was 0.94 in
    bench/scale.py. The library records its model's closeness when it is indexed, and the index is tuned at it."""
    from helpers import CountingEmbedder, new_library

    from photofinder.core.encode.models import text_closeness
    from photofinder.core.ingest.indexer import Indexer

    class SigLike(CountingEmbedder):
        sigmoid = (10.0, -1.0)  # its own sigmoid says "a match" from cosine 0.1

    assert text_closeness(counting) == vectors_mod.TEXT_COSINE  # CLIP
    indexed = new_library(store, photos[0], "Shapes")
    Indexer(indexed, SigLike(counting.inner)).run()
    with indexed.open_catalog() as c:
        assert c.text_cosine == pytest.approx(0.1)

    lib = ordered
    with lib.open_catalog() as c:
        photos_vectors = c.embeddings()[1]
        for_clip = lib.rebuild_vectors(c)  # (nothing recorded: tuned as for CLIP)
        c.record_text_cosine(0.1)
        index = lib.load_vectors(c, save=True)
        clip_best, best = (np.median((i.tuning_queries @ photos_vectors.T).max(1)) for i in (for_clip, index))
        queries = vectors_mod.text_like(photos_vectors, 100, seed=3, cosine=0.1)
        found = sum(
            len(set(index.search(q, 10, exact=c.vectors_for)[0].tolist()) & set(_exact_top(c, q, 10)))
            for q in queries
        )
    assert best < clip_best - 0.05  # tuned on queries as far from their photos as the model's text sits
    assert found / (10 * len(queries)) >= 0.98


def test_an_index_is_tuned_on_its_models_own_text_vectors(store, small_flat_max, photos, counting, tmp_path):
    """The probes are tuned on what users type as the library's model reads it: its own vectors of everyday
    captions, recorded when the library is first indexed and replaced with the model when a rebuild switches
    models (a photo pulled away at random misses the direction all of a model's text shares)."""
    import shutil
    from pathlib import Path

    from helpers import new_library

    from photofinder.core.encode.captions import TUNING_CAPTIONS
    from photofinder.core.encode.torch_encoder import ClipEmbedder
    from photofinder.core.ingest.indexer import Indexer

    siglip = ClipEmbedder(str(Path(__file__).resolve().parents[2] / "models" / "tiny-siglip"), device="cpu")
    folder = tmp_path / "many"
    shutil.copytree(photos[0], folder)
    for i, p in enumerate(sorted(folder.iterdir())):  # 400 photos: an IVF at this test's FLAT_MAX
        for j in range(9):
            shutil.copy(p, folder / f"{p.stem}-{j}-{i}.jpg")
    lib = new_library(store, folder)
    Indexer(lib, counting).run()
    with lib.open_catalog() as c:
        assert c.count() == 400
        clip_text = counting.encode_text(TUNING_CAPTIONS)
        assert np.allclose(
            c.text_queries, clip_text / np.linalg.norm(clip_text, axis=1, keepdims=True), atol=1e-6
        )
        index = lib.rebuild_vectors(c)
        assert index.approximate and np.array_equal(index.tuning_queries, c.text_queries)
        assert index.tuned_recall >= vectors_mod.TEXT_TUNE_TARGET  # a sample: tuned with a margin
    Indexer(lib, siglip, rebuild=True).run()  # another model: its own text, staged and switched in with it
    with lib.open_catalog() as c:
        siglip_text = siglip.encode_text(TUNING_CAPTIONS)
        assert c.text_queries.shape == siglip_text.shape
        assert np.allclose(
            c.text_queries, siglip_text / np.linalg.norm(siglip_text, axis=1, keepdims=True), atol=1e-5
        )
