"""Thumbnails (threads, failures, HiDPI) and the crash dialog (always on the GUI thread)."""

from __future__ import annotations

import threading

import pytest
from PIL import Image
from PySide6.QtCore import Qt

from photofinder.core.find.search import SearchResult

MAIN = threading.main_thread()


@pytest.fixture
def loader():
    from photofinder.gui.results.thumbnail_loader import ThumbnailLoader

    t = ThumbnailLoader()
    yield t
    t.shutdown()


@pytest.fixture
def photo(tmp_path):
    p = tmp_path / "red.jpg"
    Image.new("RGB", (640, 480), (200, 30, 30)).save(p)
    return str(p)


def watch_thumbnails(monkeypatch, fail_first: int = 0):
    """Patch load_thumbnail where the jobs look it up; record the thread and size of every call."""
    import photofinder.gui.results.thumbnail_loader as thumbs_mod

    real = thumbs_mod.load_thumbnail
    calls = []

    def watched(path, content_hash, thumbs_dir, size):
        calls.append((threading.current_thread(), size))
        if len(calls) <= fail_first:
            raise RuntimeError("simulated bug in a thumbnail job")
        return real(path, content_hash, thumbs_dir, size)

    monkeypatch.setattr(thumbs_mod, "load_thumbnail", watched)
    return calls


def test_thumbnails_are_made_off_the_gui_thread(qtbot, loader, photo, monkeypatch):
    from photofinder.gui.results.results_model import ResultsModel

    calls = watch_thumbnails(monkeypatch)
    model = ResultsModel(loader, thumb_size=96)
    model.set_results([SearchResult(1, photo, None)], None)
    model.index(0).data(Qt.ItemDataRole.DecorationRole)
    qtbot.waitUntil(lambda: model.has_thumbnail(0), timeout=5000)
    assert calls and all(t is not MAIN for t, _ in calls)


@pytest.mark.allow_log("thumbnail for .* failed")
def test_a_failed_thumbnail_shows_as_failed_and_is_retried_when_results_change(
    qtbot, loader, photo, monkeypatch
):
    from photofinder.gui.results.results_model import ResultsModel

    watch_thumbnails(monkeypatch, fail_first=1)
    model = ResultsModel(loader, thumb_size=96)
    results = [SearchResult(1, photo, None)]
    model.set_results(results, None)
    placeholder = model.index(0).data(Qt.ItemDataRole.DecorationRole)
    qtbot.waitUntil(lambda: model.thumbnail_failed(0), timeout=5000)  # not pending forever
    broken = model.index(0).data(Qt.ItemDataRole.DecorationRole)
    assert broken.cacheKey() != placeholder.cacheKey()  # the tile says it failed
    assert not loader.is_pending(model._key(photo))
    model.set_results(results, None)  # a new search: try again
    model.index(0).data(Qt.ItemDataRole.DecorationRole)
    qtbot.waitUntil(lambda: model.has_thumbnail(0), timeout=5000)


def test_hidpi_thumbnails_have_the_screens_pixels(qtbot, loader, photo, monkeypatch):
    from photofinder.gui.results.results_model import ResultsModel

    calls = watch_thumbnails(monkeypatch)
    model = ResultsModel(loader, thumb_size=96)
    model.set_device_pixel_ratio(2.0)
    model.set_results([SearchResult(1, photo, None)], None)
    model.index(0).data(Qt.ItemDataRole.DecorationRole)
    qtbot.waitUntil(lambda: model.has_thumbnail(0), timeout=5000)
    pm = model.index(0).data(Qt.ItemDataRole.DecorationRole)
    assert calls[-1][1] == 192  # asked for 2x the tile's pixels
    assert pm.devicePixelRatio() == 2.0 and pm.width() == 192
    assert pm.deviceIndependentSize().width() == 96  # drawn at the tile's logical size
    model.set_device_pixel_ratio(1.0)  # cached per ratio: the 1x screen gets its own
    assert not model.has_thumbnail(0)


@pytest.mark.allow_log("unexpected error")
def test_the_crash_dialog_is_made_on_the_gui_thread_even_for_a_worker_error(qtbot, data_dir, dialogs):
    from photofinder.gui.crash import ErrorReporter

    reporter = ErrorReporter(data_dir / "photofinder.log")

    def worker():
        try:
            raise RuntimeError("boom in a pool thread")
        except RuntimeError as e:
            reporter(type(e), e, e.__traceback__)

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    qtbot.waitUntil(lambda: len(dialogs) == 1, timeout=5000)
    assert dialogs[0][0] == "critical" and "boom in a pool thread" in dialogs[0][1]
    dialogs.clear()  # (the fixture also checks it was made on the GUI thread)


def test_the_log_file_takes_a_name_that_is_not_utf8_without_a_logging_traceback(tmp_path, capsys):
    import logging
    import os

    from photofinder.gui.app import setup_file_logging

    path = setup_file_logging(tmp_path)
    root = logging.getLogger()
    handler = root.handlers[-1]
    try:
        logging.getLogger("photofinder.test").info("no thumbnail for %s", os.fsdecode(b"/p/caf\xe9.jpg"))
    finally:
        root.removeHandler(handler)
        handler.close()
    assert "Logging error" not in capsys.readouterr().err
    assert "caf\\udce9.jpg" in path.read_text(encoding="utf-8")
