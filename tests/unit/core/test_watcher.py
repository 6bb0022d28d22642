"""Watched folders: the library follows adds, edits, renames and deletes by itself, in few batches."""

from __future__ import annotations

import os
import shutil
import threading

import numpy as np
from helpers import new_library
from shapes import Kind, draw

from photofinder.core.ingest.watcher import LibraryWatcher


class Batches:
    def __init__(self):
        self.items = []
        self.changed = threading.Event()

    def __call__(self, batch):
        self.items.append(batch)
        self.changed.set()

    def wait_until(self, cond, timeout=30.0):
        """Event-driven: re-check after every batch, fail after `timeout` seconds."""
        import time

        deadline = time.monotonic() + timeout
        while not cond():
            left = deadline - time.monotonic()
            assert left > 0, f"the library did not follow within {timeout} s: {self.items}"
            self.changed.wait(left)
            self.changed.clear()


def _count(lib):
    with lib.open_catalog() as c:
        return c.count()


def test_the_library_follows_its_folder(store, photos, counting):
    folder, kinds = photos
    lib = new_library(store, folder)
    batches = Batches()
    w = LibraryWatcher(lib, counting, on_batch=batches, debounce=0.2, max_delay=2, rescan_every=3600)
    w.start()
    try:
        batches.wait_until(lambda: _count(lib) == len(kinds))  # caught up on start
        counting.images = 0
        names = sorted(kinds)
        draw(Kind("star", "blue", "white"), (320, 240), np.random.default_rng(9)).save(folder / "new.jpg")
        batches.wait_until(lambda: _count(lib) == len(kinds) + 1)
        os.rename(names[0], folder / "renamed.jpg")
        os.remove(names[1])
        batches.wait_until(lambda: _count(lib) == len(kinds))
        with lib.open_catalog() as c:
            assert c.hash_for_path(str(folder / "renamed.jpg")) is not None
        assert counting.images == 1  # the rename reused its vector: only the new photo met the model
        draw(Kind("circle", "green", "black"), (320, 240), np.random.default_rng(5)).save(names[2])  # edited
        batches.wait_until(lambda: counting.images == 2)
    finally:
        w.stop()
    assert not w.running


def test_a_burst_of_300_photos_becomes_a_few_batches(store, tmp_path, counting, shape_folder):
    src, kinds = shape_folder
    folder = tmp_path / "card"
    folder.mkdir()
    lib = new_library(store, folder)
    batches = Batches()
    w = LibraryWatcher(lib, counting, on_batch=batches, debounce=0.5, max_delay=4, rescan_every=3600)
    w.start()
    try:
        batches.wait_until(lambda: len(batches.items) >= 1)  # the start-up pass
        sources = sorted(kinds)
        for i in range(300):  # a camera card copied in
            shutil.copy(sources[i % len(sources)], folder / f"DSC_{i:04d}.jpg")
        batches.wait_until(lambda: _count(lib) == 300, timeout=60)
    finally:
        w.stop()
    runs = [b for b in batches.items if b.reason == "changes"]
    assert 1 <= len(runs) <= 5, [b.events for b in runs]
    assert runs[0].events >= 100  # the first run waited for the burst to settle instead of starting at once
    assert counting.images <= len(kinds)  # the rest are copies: one encoding per content


def test_an_unplugged_folder_is_watched_again_when_it_is_back(store, tmp_path, counting, shape_folder):
    src, kinds = shape_folder
    drive = tmp_path / "drive"
    shutil.copytree(src, drive)
    lib = new_library(store, drive)
    batches = Batches()
    w = LibraryWatcher(
        lib, counting, on_batch=batches, debounce=0.15, max_delay=3, rescan_every=3600, recheck_folders=0.15
    )
    w.start()
    try:
        batches.wait_until(lambda: _count(lib) == len(kinds))
        os.rename(drive, tmp_path / "away")  # unplugged: nothing is removed
        batches.changed.wait(0.5)  # over three times the debounce and the folder check: a run would have come
        assert _count(lib) == len(kinds)
        os.rename(tmp_path / "away", drive)  # plugged back in, with a new photo on it
        draw(Kind("square", "orange", "gray"), (320, 240), np.random.default_rng(4)).save(drive / "new.jpg")
        batches.wait_until(lambda: _count(lib) == len(kinds) + 1)
    finally:
        w.stop()


def _changes(batches):
    return [b for b in batches.items if b.reason == "changes"]


def _paths(lib, folder):
    with lib.open_catalog() as c:
        return {os.fsdecode(p) for p in c.file_stamps(str(folder))}


def test_reading_photos_starts_no_run(store, photos, counting):
    """Image viewers, backups and the app's own thumbnails read photos all day: none of that is a change."""
    from PIL import Image
    from watchdog.events import FileClosedNoWriteEvent, FileOpenedEvent

    folder, kinds = photos
    lib = new_library(store, folder)
    batches = Batches()
    w = LibraryWatcher(lib, counting, on_batch=batches, debounce=0.1, max_delay=0.5, rescan_every=3600)
    delivered: list[str] = []  # what the system reports to the watcher
    listen = w._on_event
    w._on_event = lambda e: (delivered.append(e.event_type), listen(e))  # type: ignore[method-assign]
    w.start()
    try:
        batches.wait_until(lambda: len(batches.items) >= 1)  # the start-up pass
        for p in sorted(kinds):
            with open(p, "rb") as f:  # cat
                f.read()
            with Image.open(p) as im:  # a viewer
                im.load()
            os.stat(p)
        batches.changed.wait(0.4)  # four debounce periods
    finally:
        w.stop()
    assert _changes(batches) == []
    # Each guard on its own: the system is asked not to report reads at all...
    assert not {"opened", "closed_no_write"} & set(delivered)
    # ...and a read it reports all the same (another platform, another watchdog) is not a change.
    photo = os.fsdecode(sorted(kinds)[0])
    for event in (FileOpenedEvent(photo), FileClosedNoWriteEvent(photo)):
        listen(event)
    assert w._first_event is None and w._events == 0


def test_a_run_looks_at_what_changed_not_at_the_whole_library(store, photos, counting):
    folder, kinds = photos
    lib = new_library(store, folder)
    batches = Batches()
    w = LibraryWatcher(lib, counting, on_batch=batches, debounce=0.2, max_delay=2, rescan_every=3600)
    w.start()
    try:
        batches.wait_until(lambda: _count(lib) == len(kinds))
        (folder / "trip").mkdir()
        draw(Kind("star", "blue", "white"), (320, 240), np.random.default_rng(9)).save(
            folder / "trip" / "a.jpg"
        )
        batches.wait_until(lambda: _count(lib) == len(kinds) + 1)
    finally:
        w.stop()
    runs = _changes(batches)
    assert sum(b.report.indexed for b in runs) == 1
    assert sum(b.report.unchanged for b in runs) == 0  # the other 40 photos were not even compared


def test_the_watcher_waits_for_a_quiet_moment_before_it_runs(store, photos, counting):
    """Debounce: photos arriving a few tenths of a second apart are one run, not one run each (a photo every
    0.3 s with a debounce of 1 s, halved: the same ratio)."""
    import time

    folder, kinds = photos
    lib = new_library(store, folder)
    batches = Batches()
    w = LibraryWatcher(lib, counting, on_batch=batches, debounce=0.5, max_delay=10, rescan_every=3600)
    w.start()
    try:
        batches.wait_until(lambda: _count(lib) == len(kinds))
        for i in range(4):
            draw(Kind("star", "blue", "white"), (320, 240), np.random.default_rng(i)).save(
                folder / f"n{i}.jpg"
            )
            time.sleep(0.15)
        batches.wait_until(lambda: _count(lib) == len(kinds) + 4)
    finally:
        w.stop()
    assert len(_changes(batches)) == 1, [b.events for b in _changes(batches)]


def test_a_steady_stream_of_changes_is_indexed_before_it_ends(store, photos, counting):
    """Maximum delay: a camera copying a photo every 0.1 s never leaves a quiet third of a second, yet its photos
    appear (the times of a camera every 0.3 s, debounce 1 s and max delay 1.5 s, over 3: the same ratios)."""
    import time

    folder, kinds = photos
    lib = new_library(store, folder)
    batches = Batches()
    w = LibraryWatcher(lib, counting, on_batch=batches, debounce=1 / 3, max_delay=0.5, rescan_every=3600)
    w.start()
    try:
        batches.wait_until(lambda: _count(lib) == len(kinds))
        for i in range(15):  # 1.5 s, never a third of a second quiet
            draw(Kind("star", "blue", "white"), (320, 240), np.random.default_rng(i)).save(
                folder / f"s{i}.jpg"
            )
            time.sleep(0.1)
        during = len(_changes(batches))
        batches.wait_until(lambda: _count(lib) == len(kinds) + 15)
    finally:
        w.stop()
    assert during >= 1  # a run came while the stream went on


def test_a_moved_photo_is_found_at_its_new_place(store, photos, counting):
    folder, kinds = photos
    lib = new_library(store, folder)
    batches = Batches()
    w = LibraryWatcher(lib, counting, on_batch=batches, debounce=0.2, max_delay=2, rescan_every=3600)
    w.start()
    try:
        batches.wait_until(lambda: _count(lib) == len(kinds))
        counting.images = 0
        first, second = sorted(kinds)[:2]
        (folder / "kept").mkdir()
        os.rename(first, folder / "kept" / "moved.jpg")  # into a new subfolder
        os.rename(second, folder / "renamed.jpg")  # renamed in place
        new = {str(folder / "kept" / "moved.jpg"), str(folder / "renamed.jpg")}
        batches.wait_until(
            lambda: new <= _paths(lib, folder) and str(first) not in _paths(lib, folder), timeout=10
        )
    finally:
        w.stop()
    assert str(second) not in _paths(lib, folder) and _count(lib) == len(kinds)
    assert counting.images == 0  # moved, not new: their vectors were reused
