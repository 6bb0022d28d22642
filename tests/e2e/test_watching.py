"""Watched folders in the app: photos added to or deleted from a library's folder show up by themselves."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest
from helpers import QUERY_KINDS
from shapes import draw

from photofinder.gui.results.results_model import PathRole

FAST = {
    "debounce": 0.2,
    "max_delay": 1.0,
    "recheck_folders": 0.5,
}  # seconds: a test can't wait 2 s per change


@pytest.fixture
def watched_window(qtbot, data_dir, settings):
    from photofinder.gui.controllers import AppController
    from photofinder.gui.window.main_window import MainWindow

    settings.watch = True
    w = MainWindow(data_dir, settings, AppController(data_dir, settings, watch_args=FAST))
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()


def shown(window) -> list[Path]:
    m = window.results
    return [Path(m.index(r).data(PathRole)) for r in range(m.rowCount())]


def watching(window) -> bool:
    w = window.app.watch.watcher
    return w is not None and w.running


def save_photo(path: Path, seed: int) -> None:
    tmp = path.with_name("." + path.name)  # written under a hidden name, then renamed, as a download does
    draw(QUERY_KINDS[2], (320, 240), np.random.default_rng(seed)).save(tmp, "JPEG")
    os.replace(tmp, path)


def test_a_photo_added_to_a_watched_folder_appears_in_the_grid_and_a_deleted_one_leaves(
    qtbot, watched_window, photos
):
    w = watched_window
    folder, kinds = photos
    with qtbot.waitSignal(w.app.indexing.finished, timeout=60000):
        w.app.indexing.add_folder(str(folder))  # the app's own run: the watcher pauses for it, then follows
    qtbot.waitUntil(lambda: len(shown(w)) == len(kinds), timeout=10000)
    qtbot.waitUntil(lambda: watching(w), timeout=5000)

    new = folder / "sub" / "from-the-phone.jpg"
    new.parent.mkdir()
    save_photo(new, 99)
    qtbot.waitUntil(lambda: new in shown(w), timeout=20000)
    assert shown(w)[0] == new  # newest first
    qtbot.waitUntil(lambda: "1 new photo indexed" in w.activity.text(), timeout=5000)
    qtbot.waitUntil(lambda: f"{len(kinds) + 1} photos" in w.status.text(), timeout=5000)

    gone = min(kinds)
    gone.unlink()
    qtbot.waitUntil(lambda: gone not in shown(w) and len(shown(w)) == len(kinds), timeout=20000)


def test_new_photos_wait_while_the_user_scrolls_further_down(qtbot, watched_window, photos):
    """A card import must not yank a browse the user is scrolling through back to its first page: the new
    photos are shown when they scroll back to the top."""
    w = watched_window
    folder, kinds = photos
    w.resize(420, 320)  # a few rows of tiles: the 40 photos need scrolling
    with qtbot.waitSignal(w.app.indexing.finished, timeout=60000):
        w.app.indexing.add_folder(str(folder))
    qtbot.waitUntil(lambda: len(shown(w)) == len(kinds), timeout=10000)
    qtbot.waitUntil(lambda: watching(w), timeout=5000)
    bar = w.view.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0, timeout=5000)
    bar.setValue(bar.maximum())
    before = shown(w)
    new = folder / "from-the-card.jpg"
    save_photo(new, 98)
    qtbot.waitUntil(lambda: "1 new photo indexed" in w.activity.text(), timeout=20000)
    qtbot.wait(300)  # what a rerun would have taken
    assert shown(w) == before and bar.value() == bar.maximum()  # where the user was, as it was
    bar.setValue(0)
    qtbot.waitUntil(lambda: shown(w)[:1] == [new], timeout=10000)  # back at the top: the new photo first


def test_closing_the_window_stops_the_watcher(qtbot, data_dir, settings, photos):
    from photofinder.gui.controllers import AppController
    from photofinder.gui.window.main_window import MainWindow

    settings.watch = True
    folder, _ = photos
    w = MainWindow(data_dir, settings, AppController(data_dir, settings, watch_args=FAST))
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.app.indexing.finished, timeout=60000):
        w.app.indexing.add_folder(str(folder))
    qtbot.waitUntil(lambda: watching(w), timeout=5000)
    w.close()
    assert w.app.watch.watcher is None
    assert [t.name for t in threading.enumerate() if t.name.startswith("watch-")] == []
