"""Issue 8: a library you can trust with a real, messy collection. One test (at least) per verified defect;
each was seen to fail with its fix taken out."""

from __future__ import annotations

import json
import os
import shutil
import stat
import threading
from pathlib import Path

import numpy as np
import pytest
from helpers import new_library
from shapes import Kind, draw

from photofinder.core.errors import (
    CatalogDamagedError,
    LibraryBusyError,
    LibraryError,
    ModelUnavailableError,
)
from photofinder.core.find.search import Searcher
from photofinder.core.ingest import prepare as indexer_mod
from photofinder.core.ingest.indexer import CancelToken, Indexer
from photofinder.core.store.catalog import Catalog
from photofinder.core.store.vector_index import VectorIndex


def _copy_model(src: str, dst: Path, note: str | None = None) -> str:
    shutil.copytree(src, dst)
    if note:  # the same network, told apart by its config: another model as far as a library is concerned
        cfg = json.loads((dst / "config.json").read_text())
        cfg["_photofinder_test_note"] = note
        (dst / "config.json").write_text(json.dumps(cfg))
    return str(dst)


# 1 ---------------------------------------------------------------------------------------------------------
def test_a_file_name_that_is_not_utf8_is_indexed_found_and_opened(store, photos, counting):
    folder, kinds = photos
    src = next(iter(kinds))
    latin1 = os.fsencode(folder) + b"/caf\xe9 au lait.jpg"
    with open(latin1, "wb") as f:
        f.write(src.read_bytes())
    lib = new_library(store, folder)
    report = Indexer(lib, counting).run()
    assert report.skipped == [] and report.indexed + report.reused == len(kinds) + 1
    again = Indexer(lib, counting).run()  # and every later run works too
    assert again.unchanged == len(kinds) + 1
    with Searcher(lib, counting) as s:
        hits = s.similar(os.fsdecode(latin1), top=len(kinds) + 1) + s.browse(100)
    odd = [h.path for h in hits if os.fsencode(h.path) == latin1]
    assert odd, "the photo with the Latin-1 name is not found"
    with open(odd[0], "rb") as f:  # the path the library gives back opens the very same file
        assert f.read() == src.read_bytes()


# 2 ---------------------------------------------------------------------------------------------------------
def test_a_rebuild_without_a_usable_model_changes_nothing(store, photos, counting, tiny_model):
    from photofinder.core.encode.torch_encoder import ClipEmbedder

    folder, kinds = photos
    lib = new_library(store, folder)
    Indexer(lib, counting).run()
    with pytest.raises(ModelUnavailableError):
        Indexer(lib, ClipEmbedder("/no/such/model"), rebuild=True).run()
    with lib.open_catalog() as c:
        assert c.count() == len(kinds) and c.model_id == counting.model_id
    with Searcher(lib, counting) as s:
        assert len(s.by_text("a red circle", top=5)) == 5


def test_a_rebuild_switches_models_only_when_it_completes(store, photos, counting, tiny_model, tmp_path):
    from photofinder.core.encode.torch_encoder import ClipEmbedder

    folder, kinds = photos
    lib = new_library(store, folder)
    Indexer(lib, counting).run()
    other = ClipEmbedder(_copy_model(tiny_model, tmp_path / "other-model", note="v2"), device="cpu")
    assert other.fingerprint != counting.fingerprint

    token = CancelToken()
    seen_during: list[int] = []

    def cancel_midway(p):
        if p.phase == "indexing" and p.done >= 12:
            with Searcher(lib, counting) as s:  # the old vectors keep serving searches meanwhile
                seen_during.append(len(s.by_text("a red circle", top=5)))
            token.cancel()

    cancelled = Indexer(lib, other, batch_size=8, rebuild=True).run(cancel_midway, token)
    assert cancelled.cancelled and not cancelled.rebuilt and seen_during == [5]
    with lib.open_catalog() as c:
        assert c.model_fingerprint == counting.fingerprint and c.count() == len(kinds)

    done = Indexer(lib, other, batch_size=8, rebuild=True).run()  # resumes the staged work
    assert done.rebuilt and done.indexed < len(kinds)
    with lib.open_catalog() as c:
        assert c.model_fingerprint == other.fingerprint and c.count() == len(kinds)
        assert c.staging().count() == 0
    with Searcher(lib, other) as s:
        assert s.size == len(kinds)


# 3 ---------------------------------------------------------------------------------------------------------
def test_a_renamed_photo_and_a_moved_folder_cost_hashing_not_the_model(store, photos, counting):
    folder, kinds = photos
    lib = new_library(store, folder)
    Indexer(lib, counting).run()
    names = sorted(p.name for p in kinds)
    os.rename(folder / names[0], folder / "b.jpg")  # mv a.jpg b.jpg
    (folder / "2024").mkdir()
    for n in names[1:11]:  # a whole album moved into a subfolder
        os.rename(folder / n, folder / "2024" / n)
    counting.images = 0
    report = Indexer(lib, counting).run()
    assert (report.indexed, report.reused, report.removed) == (0, 11, 11)
    assert counting.images == 0
    with lib.open_catalog() as c:
        assert c.count() == len(kinds)


def test_a_copy_whose_stored_twin_is_gone_is_decoded_not_looked_up_forever(
    store, photos, counting, monkeypatch
):
    """The twin known at planning time can vanish before the copy's batch (edited in place earlier in the run,
    removed by another process, or a 64-bit hash collision): the copy is then decoded like a new photo."""
    folder, kinds = photos
    lib = new_library(store, folder)
    Indexer(lib, counting).run()
    shutil.copy(sorted(kinds)[0], folder / "copy.jpg")
    monkeypatch.setattr(Catalog, "find_by_hash", lambda self, h: None)  # the twin is gone when it is needed
    counting.images = 0
    done: list = []
    t = threading.Thread(target=lambda: done.append(Indexer(lib, counting).run()), daemon=True)
    t.start()
    t.join(30)
    assert done, "the run never ended"
    assert (done[0].indexed, done[0].reused, counting.images) == (1, 0, 1)


# 4 ---------------------------------------------------------------------------------------------------------
def test_identical_files_in_one_run_are_encoded_once(store, tmp_path, counting, shape_folder):
    src, kinds = shape_folder
    folder = tmp_path / "dump"
    for i, p in enumerate(sorted(kinds)[:10]):
        for copy in range(3):  # three copies of each, scattered through the scan order
            (folder / f"c{copy}").mkdir(parents=True, exist_ok=True)
            shutil.copy(p, folder / f"c{copy}" / f"{i}.jpg")
    lib = new_library(store, folder)
    report = Indexer(lib, counting, batch_size=8).run()
    assert counting.images == 10
    assert (report.indexed, report.reused) == (10, 20)
    with lib.open_catalog() as c:
        assert c.count() == 30


# 5 ---------------------------------------------------------------------------------------------------------
def test_a_folder_and_its_subfolder_count_each_photo_once(store, tmp_path, counting, shape_folder):
    src, kinds = shape_folder
    folder = tmp_path / "all"
    shutil.copytree(src, folder / "sub")
    lib = new_library(store, folder)
    with lib.open_catalog() as c:
        c.add_folder(str(folder / "sub"))
    first = Indexer(lib, counting).run()
    assert first.indexed == len(kinds)
    again = Indexer(lib, counting).run()
    assert (again.indexed, again.reused, again.unchanged) == (0, 0, len(kinds))
    with lib.open_catalog() as c:
        assert c.folders() == [str(folder)] and c.count() == len(kinds)


# 7 ---------------------------------------------------------------------------------------------------------
def test_a_moved_model_folder_is_the_same_model(store, photos, tiny_model, tmp_path):
    from photofinder.core.encode.torch_encoder import ClipEmbedder

    folder, kinds = photos
    first = _copy_model(tiny_model, tmp_path / "models" / "clip")
    lib = new_library(store, folder)
    Indexer(lib, ClipEmbedder(first, device="cpu")).run()
    moved = tmp_path / "elsewhere" / "clip"
    moved.parent.mkdir()
    os.rename(first, moved)
    with Searcher(lib, ClipEmbedder(str(moved), device="cpu")) as s:
        assert len(s.by_text("a red circle", top=3)) == 3
    with lib.open_catalog() as c:
        assert c.model_id == str(moved)  # the library now loads it from where it is


# 8, 11 -----------------------------------------------------------------------------------------------------
def test_a_damaged_or_foreign_index_file_is_never_used_and_index_repairs_it(store, photos, counting, caplog):
    folder, kinds = photos
    lib = new_library(store, folder)
    Indexer(lib, counting).run()
    other = store.create("Other")
    with other.open_catalog() as c:
        c.add_folder(str(folder))
    Indexer(other, counting).run()
    good = lib.index_path.read_bytes()

    def top_score() -> float:
        with Searcher(lib, counting) as s:
            return s.by_text("a red circle", top=1)[0].score

    damaged = bytearray(good)
    start = len(damaged) // 4
    damaged[start : start + 4096] = os.urandom(4096)  # random bytes in the vector data
    for bad in (bytes(damaged), other.index_path.read_bytes(), good[: len(good) // 2]):
        lib.index_path.write_bytes(bad)
        caplog.clear()
        assert top_score() <= 1.0001
        assert "can't be used" in caplog.text
        Indexer(lib, counting).run()  # nothing to index, but the file is repaired
        with lib.open_catalog() as c:
            index, _ = VectorIndex.load(lib.index_path, c.dim, c.uuid)
            assert len(index) == len(kinds)


# 10 --------------------------------------------------------------------------------------------------------
def test_photos_skipped_for_a_passing_reason_are_retried(store, photos, counting, monkeypatch):
    folder, kinds = photos
    lib = new_library(store, folder)
    away = set(sorted(str(p) for p in kinds)[:5])
    real = indexer_mod.content_hash

    def flaky(path):
        if path in away:
            raise FileNotFoundError(2, "No such file")  # a drive unplugged mid-run
        return real(path)

    monkeypatch.setattr(indexer_mod, "content_hash", flaky)
    first = Indexer(lib, counting).run()
    assert sorted(s.reason for s in first.skipped) == ["file vanished"] * 5
    away.clear()  # the drive is back
    second = Indexer(lib, counting).run()
    assert second.indexed == 5 and second.skipped == []
    with lib.open_catalog() as c:
        assert c.count() == len(kinds) and c.count("skipped") == 0


# 12 --------------------------------------------------------------------------------------------------------
def test_one_damaged_library_does_not_break_the_others(store, photos, counting):
    folder, _ = photos
    new_library(store, folder, "Good")
    bad = store.create("Bad")
    bad.catalog_path.write_bytes(b"SQLite format 3\0" + os.urandom(4000))
    assert store.names() == ["Bad", "Good"]
    assert store.get("Good").summary().folders == [str(folder)]
    with pytest.raises(CatalogDamagedError, match="libraries repair Bad"):
        store.get("Bad").summary()


@pytest.mark.parametrize(
    "name, why",
    [
        ("家族写真" * 20, "too long"),
        ("CON", "Windows"),
        ("nul.txt", "Windows"),
        ("Trailing.", "ends with"),
        ("😀" * 60, "too long"),
    ],
)
def test_library_names_that_some_system_refuses_are_refused_up_front(store, name, why):
    with pytest.raises(LibraryError, match=why):
        store.create(name)


# 13 --------------------------------------------------------------------------------------------------------
def test_creating_the_same_library_at_once_makes_one_and_blames_no_disk(store):
    outcomes: list[str] = []

    def create():
        try:
            store.create("Race")
            outcomes.append("made")
        except LibraryError as e:
            outcomes.append(str(e))

    threads = [threading.Thread(target=create) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("made") == 1
    assert all("already exists" in o for o in outcomes if o != "made")


def test_a_second_index_run_on_a_library_is_refused_naming_the_first(store, photos, counting):
    folder, _ = photos
    lib = new_library(store, folder)
    with lib.lock():
        with pytest.raises(LibraryBusyError, match="being indexed or changed by another task in this app"):
            Indexer(lib, counting).run()
    assert Indexer(lib, counting).run().indexed > 0  # released with the first


# 14 --------------------------------------------------------------------------------------------------------
def test_an_empty_catalog_is_reported_kept_aside_and_the_folders_recovered(store, photos, counting):
    folder, kinds = photos
    lib = new_library(store, folder)
    Indexer(lib, counting).run()
    lib.catalog_path.write_bytes(b"")  # what a crash on some file systems leaves
    for f in ("catalog.sqlite3-wal", "catalog.sqlite3-shm"):
        (lib.root / f).unlink(missing_ok=True)
    with pytest.raises(CatalogDamagedError, match="empty"):
        lib.summary()
    aside = lib.repair()
    assert aside is not None and aside.exists() and aside.name.startswith("catalog.sqlite3.damaged-")
    assert lib.summary().folders == [str(folder)]
    report = Indexer(lib, counting).run()  # thumbnails survived; the photos are indexed again
    assert report.indexed == len(kinds)


def test_a_catalog_that_lost_its_folders_gets_them_back(store, photos, counting):
    folder, _ = photos
    lib = new_library(store, folder)
    with lib.open_catalog() as c:
        lib.write_info(c)
        c._exec("DELETE FROM folders")  # a lost -wal: the last commits never reached the file
    assert lib.summary().folders == [str(folder)]


# 15 --------------------------------------------------------------------------------------------------------
def test_big_16_bit_images_decode_one_at_a_time_and_small(tmp_path, monkeypatch):
    from PIL import Image

    from photofinder.core.photos import decode as decode_mod

    paths = []
    for i in range(4):
        p = tmp_path / f"scan{i}.png"
        Image.fromarray(np.full((3000, 3000), 1000 * (i + 1), np.uint16)).save(p, compress_level=1)
        paths.append(p)
    active, most = [0], [0]
    lock = threading.Lock()
    real = decode_mod._reduce_raw

    def watched(im, min_side):
        with lock:
            active[0] += 1
            most[0] = max(most[0], active[0])
        try:
            threading.Event().wait(0.05)
            return real(im, min_side)
        finally:
            with lock:
                active[0] -= 1

    monkeypatch.setattr(decode_mod, "_reduce_raw", watched)
    monkeypatch.setattr(
        decode_mod, "BIG_DECODE_BYTES", 8 << 20
    )  # these 18 MB frames stand in for 360 MB ones
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        out = list(pool.map(lambda p: decode_mod.decode(p, 224), paths))
    assert most[0] == 1  # never two 18 MB frames (or 180 MP ones) in memory at once
    assert all(min(d.image.size) < 1000 and d.image.mode == "RGB" for d in out)
    assert out[1].image.getpixel((5, 5))[0] == 2000 >> 8  # scaled from 16 bits, not clipped


# 16 --------------------------------------------------------------------------------------------------------
def test_leftovers_are_cleaned_and_the_library_is_private(store, photos, counting):
    folder, kinds = photos
    lib = new_library(store, folder)
    Indexer(lib, counting).run()
    (lib.root / "index.faiss.12345.tmp").write_bytes(b"half a save")
    names = sorted(kinds)
    with lib.open_catalog() as c:
        gone_hash = c.hash_for_path(str(names[0]))
        edited_hash = c.hash_for_path(str(names[1]))
    thumbs = {h: lib.thumbs_dir / h[:2] / f"{h}.jpg" for h in (gone_hash, edited_hash)}
    assert all(t.exists() for t in thumbs.values())
    os.remove(names[0])
    draw(Kind("star", "blue", "white"), (320, 240), np.random.default_rng(3)).save(names[1])
    Indexer(lib, counting).run()
    assert not (lib.root / "index.faiss.12345.tmp").exists()
    assert not any(t.exists() for t in thumbs.values())  # no copy of a deleted or replaced photo stays
    for p in (lib.root, store.root):
        assert stat.S_IMODE(p.stat().st_mode) == 0o700
    assert stat.S_IMODE(lib.catalog_path.stat().st_mode) == 0o600


def test_a_link_to_the_root_inside_a_photo_folder_is_not_walked(store, photos, counting):
    folder, kinds = photos
    os.symlink("/", folder / "everything")
    lib = new_library(store, folder)
    report = Indexer(lib, counting).run()
    assert report.indexed == len(kinds)
    assert [s.reason.split(",")[0] for s in report.skipped] == ["a link to the folder /"]


# issue 13, defects 1-3 (the core's part) ------------------------------------------------------------------
def test_decoders_are_not_in_the_idle_class(tmp_path):
    if not hasattr(os, "SCHED_IDLE"):
        pytest.skip("no scheduling classes on this platform")
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1, initializer=indexer_mod.decode_thread_setup, initargs=(True,)) as pool:
        policy = pool.submit(os.sched_getscheduler, 0).result()
    assert policy != os.SCHED_IDLE  # idle threads starve behind any busy process (1.1 vs 20.8 photos/s)


def test_a_folder_that_is_suddenly_empty_is_missing_not_emptied(store, tmp_path, counting, shape_folder):
    src, kinds = shape_folder
    mount = tmp_path / "nas"
    shutil.copytree(src, mount)
    lib = new_library(store, mount)
    Indexer(lib, counting).run()
    hidden = tmp_path / "while-unmounted"
    os.rename(mount, hidden)
    mount.mkdir()  # the bare mount point an unmounted share leaves
    report = Indexer(lib, counting).run()
    assert report.removed == 0 and "empty now" in report.missing_folders[0].reason
    os.rmdir(mount)
    os.rename(hidden, mount)  # the share is back: nothing to encode again
    counting.images = 0
    back = Indexer(lib, counting).run()
    assert (back.indexed, back.unchanged, counting.images) == (0, len(kinds), 0)


def test_a_same_size_edit_in_the_middle_of_a_file_is_re_encoded(store, tmp_path, counting):
    from PIL import Image

    folder = tmp_path / "scans"
    folder.mkdir()
    rng = np.random.default_rng(0)
    p = folder / "scan.bmp"
    draw(Kind("circle", "red", "white"), (400, 300), rng).save(p)
    lib = new_library(store, folder)
    Indexer(lib, counting).run()
    with Image.open(p) as im:
        edited = im.copy()
    edited.paste((0, 0, 255), (0, 100, 400, 200))  # a band across the middle: same size, same header
    st = p.stat()
    edited.save(p)
    assert p.stat().st_size == st.st_size
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    counting.images = 0
    report = Indexer(lib, counting).run()
    assert report.indexed == 1 and counting.images == 1


def test_indexing_never_writes_to_the_photo_folders(store, photos, counting):
    folder, kinds = photos
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.rglob("*")}
    lib = new_library(store, folder)
    Indexer(lib, counting).run()
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.rglob("*")}
    assert before == after


def test_catalog_from_schema_1_is_migrated_rehashed_and_renames_still_reuse(
    store, tmp_path, counting, shape_folder
):
    """A library indexed by the previous version keeps its vectors, and a rename after the upgrade is reused."""
    import sqlite3

    src, kinds = shape_folder
    folder = tmp_path / "old"
    shutil.copytree(src, folder)
    lib = store.create("Old")
    lib.catalog_path.unlink()
    for f in ("catalog.sqlite3-wal", "catalog.sqlite3-shm"):
        (lib.root / f).unlink(missing_ok=True)
    from photofinder.core.photos.scanner import legacy_hash
    from photofinder.core.store.catalog.schema import MIGRATIONS as _MIGRATIONS

    db = sqlite3.connect(lib.catalog_path)
    db.executescript(_MIGRATIONS[0] + "PRAGMA user_version = 1;")
    vec = counting.encode_text(["a photo"])[0]
    for p in sorted(kinds):
        target = folder / p.name
        st = target.stat()
        db.execute(
            "INSERT INTO photos (path, folder, size, mtime_ns, hash, status, embedding, indexed_at) "
            "VALUES (?, ?, ?, ?, ?, 'indexed', ?, 0)",
            (
                str(target),
                str(folder),
                st.st_size,
                st.st_mtime_ns,
                legacy_hash(str(target), st.st_size),
                vec.tobytes(),
            ),
        )
    db.execute("INSERT INTO folders VALUES (?, 0)", (str(folder),))
    db.execute("INSERT INTO meta VALUES ('model_id', ?)", (counting.model_id,))
    db.execute("INSERT INTO meta VALUES ('dim', ?)", (str(counting.dim),))
    db.commit()
    db.close()
    counting.images = 0
    report = Indexer(lib, counting).run()  # the first run re-hashes the old rows (whole files), no encoding
    assert (report.indexed, report.reused, report.unchanged) == (0, 0, len(kinds))
    assert counting.images == 0
    with Catalog(lib.catalog_path) as c:
        assert c.count() == len(kinds) and not c.legacy_hashes and c.legacy_rows() == []
    first = sorted(kinds)[0].name
    os.rename(folder / first, folder / "renamed.jpg")
    report = Indexer(lib, counting).run()
    assert (report.indexed, report.reused, report.unchanged) == (0, 1, len(kinds) - 1)
    assert counting.images == 0
    with Catalog(lib.catalog_path) as c:
        assert c.count() == len(kinds) and c.model_fingerprint == counting.fingerprint


def test_thumbnails_are_private(store, photos, counting):
    """The README promises a private (0700) thumbnail folder: they show the user's photos."""
    folder, _ = photos
    lib = new_library(store, folder)
    Indexer(lib, counting).run()
    mode = lambda p: p.stat().st_mode & 0o777  # noqa: E731
    assert mode(lib.thumbs_dir) == 0o700
    assert {mode(d) for d in lib.thumbs_dir.iterdir()} == {0o700}
    assert {mode(f) for f in lib.thumbs_dir.rglob("*.jpg")} == {0o600}
    lib.thumbs_dir.chmod(0o755)  # as an earlier version left it
    Indexer(lib, counting).run()
    assert mode(lib.thumbs_dir) == 0o700


def test_a_rebuild_with_another_model_never_resumes_the_staging_of_the_first(
    store, photos, counting, tiny_model, tmp_path
):
    """A rebuild cancelled with model B leaves B's vectors staged; a rebuild with model C starts over (mixing
    B's vectors into C's index would make its search meaningless)."""
    from photofinder.core.encode.torch_encoder import ClipEmbedder

    folder, kinds = photos
    lib = new_library(store, folder)
    Indexer(lib, counting).run()
    b = ClipEmbedder(_copy_model(tiny_model, tmp_path / "b", note="b"), device="cpu")
    c = ClipEmbedder(_copy_model(tiny_model, tmp_path / "c", note="c"), device="cpu")
    token = CancelToken()
    stop = lambda p: token.cancel() if p.phase == "indexing" and p.done >= 12 else None  # noqa: E731
    assert Indexer(lib, b, batch_size=8, rebuild=True).run(stop, token).cancelled
    with lib.open_catalog() as cat:
        assert cat.staging().count() >= 8  # B's work is staged
    done = Indexer(lib, c, batch_size=8, rebuild=True).run()
    assert done.rebuilt and done.indexed == len(kinds)  # all of it encoded by C
    with lib.open_catalog() as cat:
        assert cat.model_fingerprint == c.fingerprint and cat.count() == len(kinds)
