"""Indexing with the tiny test CLIP: complete, incremental, resumable, cancellable, and read-only on photos."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from helpers import new_library
from shapes import Kind, draw

from photofinder.core.errors import ModelMismatchError, ModelUnavailableError
from photofinder.core.find.search import Searcher
from photofinder.core.ingest.indexer import CancelToken, Indexer


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p): (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()}


def test_indexes_every_readable_photo_lists_bad_ones_and_a_second_run_does_nothing(store, photos, counting):
    folder, kinds = photos
    (folder / "notes.jpg").write_text("not a photo")
    (folder / "empty.png").write_bytes(b"")
    before = _snapshot(folder)
    lib = new_library(store, folder)
    progress = []
    report = Indexer(lib, counting, batch_size=8).run(progress.append)
    assert report.indexed == len(kinds) == counting.images
    assert sorted((os.path.basename(s.path), s.reason) for s in report.skipped) == [
        ("empty.png", "empty file"),
        ("notes.jpg", "not an image"),
    ]
    indexing = [p for p in progress if p.phase == "indexing"]
    assert indexing[-1].done == indexing[-1].total == len(kinds) + 2
    assert all(p.rate > 0 for p in indexing) and indexing[0].eta is not None
    assert progress[-1].phase == "done"
    # Thumbnails were made by the same decode, in the library's folder, not next to the photos.
    assert len(list(lib.thumbs_dir.rglob("*.jpg"))) == len(kinds)

    again = Indexer(lib, counting).run()
    assert (again.indexed, again.reused, again.removed, again.skipped) == (0, 0, 0, [])
    assert again.unchanged == len(kinds) + 2 and counting.images == len(kinds)
    assert _snapshot(folder) == before  # the user's photos are never modified


def test_renamed_copied_edited_and_deleted_files(store, photos, counting):
    folder, kinds = photos
    lib = new_library(store, folder)
    Indexer(lib, counting).run()
    names = sorted(p.name for p in kinds)
    os.rename(folder / names[0], folder / "renamed.jpg")
    (folder / "album").mkdir()
    shutil.copy2(folder / names[1], folder / "album" / "copy.jpg")
    os.remove(folder / names[2])
    # edited: new content, like no other photo's, under an old name (a copy of another photo would be reused)
    draw(Kind("triangle", "blue", "gray"), (320, 240), np.random.default_rng(7)).save(folder / names[3])
    os.utime(folder / names[5], ns=(1, 1))  # touched: same content, new mtime
    counting.images = 0

    report = Indexer(lib, counting).run()
    assert report.removed == 2  # names[0] (renamed away) and names[2]
    assert report.reused == 3  # renamed.jpg, album/copy.jpg and the touched file: no model work
    assert report.indexed == 1 and counting.images == 1  # only the edited file reaches the model
    with Searcher(lib, counting) as s:
        assert s.size == len(kinds) + 1 - 1
        hits = s.similar(str(folder / "renamed.jpg"), top=3)
        assert kinds[folder / names[0]] == kinds[Path(hits[0].path)]


def test_killed_mid_run_resumes_losing_at_most_one_batch(store, photos, counting):
    folder, kinds = photos
    lib = new_library(store, folder)
    counting.fail_after = 16
    with pytest.raises(RuntimeError, match="simulated crash"):
        Indexer(lib, counting, batch_size=8).run()
    with lib.open_catalog() as c:
        assert c.count() == 16  # two full batches were committed before the crash
    counting.fail_after = None
    report = Indexer(lib, counting, batch_size=8).run()
    assert report.indexed == len(kinds) - 16 and report.unchanged == 16
    with Searcher(lib, counting) as s:
        assert s.size == len(kinds)


def test_cancel_stops_promptly_and_keeps_what_was_done(store, photos, counting):
    folder, kinds = photos
    lib = new_library(store, folder)
    token = CancelToken()

    def on_progress(p):
        if p.phase == "indexing" and p.done >= 10:
            token.cancel()

    report = Indexer(lib, counting, batch_size=4).run(on_progress, token)
    assert report.cancelled
    assert 8 <= report.indexed < len(kinds)
    rest = Indexer(lib, counting, batch_size=4).run()
    assert rest.indexed + report.indexed == len(kinds) and not rest.cancelled


def test_an_unplugged_folder_keeps_its_photos(store, photos, counting):
    folder, kinds = photos
    lib = new_library(store, folder)
    Indexer(lib, counting).run()
    folder.rename(folder.with_name("elsewhere"))
    report = Indexer(lib, counting).run()
    assert report.removed == 0 and report.missing_folders[0].reason == "not found"
    with lib.open_catalog() as c:
        assert c.count() == len(kinds)


def test_another_model_is_refused_before_any_work(store, photos, counting, tmp_path):
    folder, _ = photos
    lib = new_library(store, folder)
    Indexer(lib, counting).run()
    (folder / "new.jpg").write_bytes((folder / sorted(os.listdir(folder))[0]).read_bytes()[:-10] + b"x" * 10)

    class Other:
        model_id = "someone/else"
        fingerprint = "sha256:another-model"

    with pytest.raises(ModelMismatchError):
        Indexer(lib, Other()).run()  # type: ignore[arg-type]


def test_a_missing_model_says_how_to_get_it(store, photos):
    from photofinder.core.encode.torch_encoder import ClipEmbedder

    folder, _ = photos
    lib = new_library(store, folder)
    with pytest.raises(ModelUnavailableError) as e:
        Indexer(lib, ClipEmbedder("openai/clip-vit-base-patch32")).run()
    msg = str(e.value)
    assert "could not be downloaded" in msg and "--model /path/to/model-folder" in msg


def test_model_download_reports_bytes_and_can_be_cancelled():
    from photofinder.core.encode.models import DownloadCancelled, _progress_tqdm

    seen = []

    def report(done, total):
        seen.append((done, total))
        if done >= 600:
            raise DownloadCancelled()

    bar = _progress_tqdm(report)(total=1000, unit="B")
    bar.update(250)
    bar.update(250)
    assert seen == [(250, 1000), (500, 1000)]
    with pytest.raises(DownloadCancelled):
        bar.update(250)
    bar.close()


def test_a_full_disk_stops_with_a_message_and_keeps_the_library_consistent(store, photos, counting):
    import sqlite3

    from photofinder.core.encode.models import text_probes
    from photofinder.core.errors import LibraryError

    folder, kinds = photos
    lib = new_library(store, folder)
    with lib.open_catalog() as c:  # what a first run records before any photo (the model, its text vectors)
        c.bind_model(counting.model_id, counting.dim, counting.fingerprint)
        c.record_text_queries(text_probes(counting))
    real_open = lib.open_catalog

    def small_disk():
        c = real_open()
        pages = c._db.execute("PRAGMA page_count").fetchone()[0]
        c._db.execute(f"PRAGMA max_page_count = {pages + 2}")  # room for a batch or two
        return c

    lib.open_catalog = small_disk
    with pytest.raises(LibraryError, match="is full; nothing of this step was saved"):
        Indexer(lib, counting, batch_size=8).run()
    lib.open_catalog = real_open
    with lib.open_catalog() as c:
        saved = c.count()
        ids, vecs = c.embeddings()
    assert 0 < saved < len(kinds) and len(ids) == saved and vecs.shape == (saved, counting.dim)
    assert sqlite3.connect(lib.catalog_path).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    report = Indexer(lib, counting, batch_size=8).run()  # space is back: the run completes the library
    assert report.indexed == len(kinds) - saved


def test_grid_thumbnails_come_from_the_index_cache_even_for_tiny_photos(
    store, tmp_path, counting, monkeypatch
):
    from PIL import Image

    from photofinder.core.photos import decode as decode_module
    from photofinder.core.photos.thumbnails import load_thumbnail

    folder = tmp_path / "pics"
    folder.mkdir()
    sizes = {"big.jpg": (900, 600), "tiny.png": (96, 64)}
    for name, size in sizes.items():
        Image.new("RGB", size, (20, 120, 200)).save(folder / name)
    lib = new_library(store, folder)
    Indexer(lib, counting).run()
    with lib.open_catalog() as c:
        hashes = {name: c.hash_for_path(str(folder / name)) for name in sizes}
    from photofinder.core.photos import thumbnails as thumbnails_module

    decoded = []
    real = decode_module.decode
    counting_decode = lambda *a, **k: decoded.append(a[0]) or real(*a, **k)  # noqa: E731
    # Wherever thumbnails looks decode up (its own module or decode's), the count sees it.
    monkeypatch.setattr(decode_module, "decode", counting_decode)
    monkeypatch.setattr(thumbnails_module, "decode", counting_decode, raising=False)
    from PIL import Image as _Image

    opened = []
    real_open = _Image.open
    monkeypatch.setattr(_Image, "open", lambda fp, *a, **k: opened.append(str(fp)) or real_open(fp, *a, **k))
    for name, (w, h) in sizes.items():
        thumb = load_thumbnail(str(folder / name), hashes[name], lib.thumbs_dir, 160)
        assert max(thumb.size) == min(160, max(w, h)), (
            name
        )  # the tile's size, or the photo's own when smaller
    assert decoded == []  # both came from the cache the indexer wrote: no photo was decoded again
    assert any(str(lib.thumbs_dir) in o for o in opened)  # and the cache was really read (not vacuous)


def test_raw_photos_are_indexed_from_their_preview_and_found(store, tmp_path, counting):
    from helpers import make_dng

    folder = tmp_path / "raw"
    folder.mkdir()
    star = draw(Kind("star", "yellow", "gray"), (320, 240), np.random.default_rng(2), centred=True)
    make_dng(folder / "IMG_0001.DNG", star)
    make_dng(
        folder / "IMG_0002.dng",
        draw(Kind("circle", "blue", "white"), (320, 240), np.random.default_rng(3), centred=True),
    )
    lib = new_library(store, folder)
    report = Indexer(lib, counting).run()
    assert report.indexed == 2 and report.skipped == []
    with Searcher(lib, counting) as s:
        assert s.by_text("a yellow star on a gray background", top=1)[0].path.endswith("IMG_0001.DNG")
    assert len(list(lib.thumbs_dir.rglob("*.jpg"))) == 2  # thumbnails from the same preview


def test_a_malformed_or_crashing_raw_file_is_skipped_and_the_others_index(
    store, photos, counting, monkeypatch
):
    """Issue 17: one malformed DNG (LibRaw's 1-channel bitmap, a TypeError in Pillow) once stopped every run,
    and a crash in LibRaw took the whole process down. Now each costs its own file, with a reason."""
    import sys

    from helpers import make_dng

    from photofinder.core.photos import rawdecode

    folder, kinds = photos
    worker = Path(__file__).resolve().parents[2] / "raw_worker.py"
    monkeypatch.setattr(rawdecode, "worker_command", lambda: [sys.executable, str(worker)])
    pool = rawdecode.RawDecoders()
    monkeypatch.setattr(rawdecode, "_POOL", pool)
    star = draw(Kind("star", "yellow", "gray"), (320, 240), np.random.default_rng(2), centred=True)
    make_dng(folder / "IMG_0001.DNG", star)
    make_dng(folder / "mono.dng", star.rotate(90))
    make_dng(folder / "crash.dng", star.rotate(180))
    lib = new_library(store, folder)
    try:
        report = Indexer(lib, counting).run()
    finally:
        pool.close()
    reasons = {os.path.basename(s.path): s.reason for s in report.skipped}
    assert reasons == {
        "mono.dng": "unreadable: TypeError: Cannot handle this data type: (1, 1, 1), |u1",
        "crash.dng": rawdecode.CRASHED,
    }
    assert report.indexed == len(kinds) + 1  # every JPEG, and the good DNG
    with Searcher(lib, counting) as s:
        found = [r.path for r in s.by_text("a yellow star on a gray background", top=10)]
    assert any(p.endswith("IMG_0001.DNG") for p in found)
