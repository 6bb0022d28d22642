"""The desktop app driven as a user drives it: add a folder, watch it index, search by text, image and similarity."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from helpers import QUERY_KINDS
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import (
    QContextMenuEvent,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QGuiApplication,
    QImage,
)
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QFileDialog, QLabel
from shapes import draw

from photofinder.gui.results.results_model import PathRole


def add_folder_and_wait(qtbot, window, folder: Path, timeout: int = 60000):
    with qtbot.waitSignal(window.app.indexing.finished, timeout=timeout) as blocker:
        window.app.indexing.add_folder(str(folder))
    qtbot.waitUntil(lambda: window.app.summary is not None and window.app.summary.photos > 0, timeout=5000)
    return blocker.args[0]


def shown_paths(window) -> list[Path]:
    m = window.results
    return [Path(m.index(r).data(PathRole)) for r in range(m.rowCount())]


def search(qtbot, window, text: str) -> None:
    with qtbot.waitSignal(window.app.searches.resultsReady, timeout=20000):
        window.search_bar.edit.setFocus()
        window.search_bar.edit.clear()
        qtbot.keyClicks(window.search_bar.edit, text)
        qtbot.keyClick(window.search_bar.edit, Qt.Key.Key_Return)


def drop(window, widget, mime: QMimeData) -> None:
    pos = QPointF(widget.rect().center())
    for cls in (QDragEnterEvent, QDragMoveEvent, QDropEvent):
        QApplication.sendEvent(
            widget,
            cls(
                pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
            ),
        )


def test_first_launch_shows_what_to_do(window):
    assert window.pages.currentWidget() is window.empty_page
    assert "Add a folder of photos" in window.empty_page.findChild(QLabel).text()
    assert "No library yet" in window.status.text()


def test_add_folder_by_button_indexes_with_progress_then_text_search_shows_thumbnails_in_order(
    qtbot, window, photos, monkeypatch
):
    folder, kinds = photos
    (folder / "broken.jpg").write_bytes(b"nope")
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: str(folder)))
    progress = []
    window.app.indexing.progress.connect(progress.append)
    with qtbot.waitSignal(window.app.indexing.finished, timeout=60000) as done:
        qtbot.mouseClick(window.empty_page.button, Qt.MouseButton.LeftButton)
    report = done.args[0]
    assert report.indexed == len(kinds) and len(report.skipped) == 1
    assert progress and progress[-1].done == progress[-1].total == len(kinds) + 1
    assert "Indexing done" in window.progress.label.text() and "1 skipped" in window.progress.label.text()
    qtbot.waitUntil(lambda: window.app.summary is not None and window.app.summary.photos == len(kinds))
    assert f"{len(kinds)} photos" in window.status.text()

    kind = QUERY_KINDS[1]
    search(qtbot, window, kind.caption)
    assert window.pages.currentWidget() is window.view
    top = shown_paths(window)[:5]
    assert sum(kinds[p] == kind for p in top) >= 4
    scores = [window.results.index(r).data(Qt.ItemDataRole.UserRole + 2) for r in range(5)]
    assert scores == sorted(scores, reverse=True)
    assert "match" in window.results.index(0).data(Qt.ItemDataRole.ToolTipRole)
    qtbot.waitUntil(lambda: all(window.results.has_thumbnail(r) for r in range(5)), timeout=10000)
    # thumbnails came from the disk cache the indexer wrote
    assert any(window.app.library.thumbs_dir.rglob("*.jpg"))


def test_skipped_files_link_opens_the_list(qtbot, window, photos):
    folder, _ = photos
    (folder / "broken.jpg").write_bytes(b"nope")
    add_folder_and_wait(qtbot, window, folder)
    with qtbot.waitSignal(window.app.libraries.skippedReady, timeout=5000):
        window.progress.label.linkActivated.emit("skipped")
    from photofinder.gui.window.dialogs import SkippedDialog

    qtbot.waitUntil(lambda: window.findChild(SkippedDialog) is not None)
    d = window.findChild(SkippedDialog)
    assert (
        d.table.item(0, 0).text() == str(folder / "broken.jpg")
        and d.table.item(0, 1).text() == "not an image"
    )
    d.close()


def test_dropping_an_image_file_searches_by_it_and_shows_a_chip(qtbot, window, photos, tmp_path):
    folder, kinds = photos
    add_folder_and_wait(qtbot, window, folder)
    kind = QUERY_KINDS[5]
    q = tmp_path / "query.png"
    draw(kind, (300, 300), np.random.default_rng(5), centred=True).save(q)
    md = QMimeData()
    md.setUrls([QUrl.fromLocalFile(str(q))])
    with qtbot.waitSignal(window.app.searches.resultsReady, timeout=20000):
        drop(window, window.view.viewport(), md)
    assert [c.label.text() for c in window.search_bar.chips] == ["query.png"]
    assert sum(kinds[p] == kind for p in shown_paths(window)[:5]) >= 4
    window.search_bar.chips[0].remove_button.click()  # removing the chip clears the image search
    assert not window.search_bar.chips and window.results.rowCount() == 0


def test_pasting_an_image_searches_by_it(qtbot, window, photos):
    folder, kinds = photos
    add_folder_and_wait(qtbot, window, folder)
    kind = QUERY_KINDS[6]
    img = draw(kind, (200, 150), np.random.default_rng(8), centred=True)
    qimg = QImage(img.tobytes(), img.width, img.height, img.width * 3, QImage.Format.Format_RGB888).copy()
    QGuiApplication.clipboard().setImage(qimg)
    window.view.setFocus()
    with qtbot.waitSignal(window.app.searches.resultsReady, timeout=20000):
        window.paste()
    assert [c.label.text() for c in window.search_bar.chips] == ["pasted image"]
    assert sum(kinds[p] == kind for p in shown_paths(window)[:5]) >= 4


def test_dropping_a_folder_adds_and_indexes_it(qtbot, window, photos):
    folder, kinds = photos
    md = QMimeData()
    md.setUrls([QUrl.fromLocalFile(str(folder))])
    with qtbot.waitSignal(window.app.indexing.finished, timeout=60000):
        drop(window, window.centralWidget(), md)
    qtbot.waitUntil(lambda: window.app.summary is not None and window.app.summary.photos == len(kinds))
    assert window.app.summary.folders == [str(folder)]


def test_right_click_find_similar(qtbot, window, photos):
    folder, kinds = photos
    add_folder_and_wait(qtbot, window, folder)
    kind = QUERY_KINDS[4]
    search(qtbot, window, kind.caption)
    idx = window.results.index(0)
    target = Path(idx.data(PathRole))
    vp = window.view.viewport()
    pos = window.view.visualRect(idx).center()
    QTest.mouseClick(
        window.windowHandle(),
        Qt.MouseButton.RightButton,
        Qt.KeyboardModifier.NoModifier,
        vp.mapTo(window, pos),
    )
    if window.view.menu is None:  # some platforms need the event sent directly
        QApplication.sendEvent(
            vp, QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, vp.mapToGlobal(pos))
        )
    qtbot.waitUntil(lambda: window.view.menu is not None and window.view.menu.isVisible())
    menu = window.view.menu
    assert [a.text() for a in menu.actions() if a.text()] == [
        "Find similar",
        "Add to search",
        "Open",
        "Show in folder",
        "Copy path",
    ]
    with qtbot.waitSignal(window.app.searches.resultsReady, timeout=20000):
        qtbot.mouseClick(
            menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(window.view.find_similar_action).center()
        )
    found = shown_paths(window)
    assert target not in found
    assert sum(kinds[p] == kinds[target] for p in found[:4]) >= 3
    assert len(window.search_bar.chips) == 1 and window.search_bar.edit.text() == ""  # a new query, not added
    chip = window.search_bar.chips[-1].term
    assert chip.kind == "photo" and chip.label == f"Like {target.name}"  # the stored vector, not the pixels


def test_open_copy_path_and_drag_out(qtbot, window, photos, monkeypatch):
    folder, _ = photos
    add_folder_and_wait(qtbot, window, folder)
    search(qtbot, window, "a red circle")
    opened = []
    monkeypatch.setattr("photofinder.gui.fileurls.QDesktopServices.openUrl", lambda url: opened.append(url))
    window.view.setCurrentIndex(window.results.index(0))
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_Return)
    first = str(window.results.index(0).data(PathRole))
    assert [u.toLocalFile() for u in opened] == [first]
    window.view.copyPaths.emit([first])
    assert QGuiApplication.clipboard().text() == first
    md = window.results.mimeData([window.results.index(0), window.results.index(1)])
    assert [u.toLocalFile() for u in md.urls()] == [first, str(window.results.index(1).data(PathRole))]


def test_typing_supersedes_earlier_queries(qtbot, window, photos):
    folder, kinds = photos
    add_folder_and_wait(qtbot, window, folder)
    received = []

    def record(req, found):
        received.append(req.label)

    window.app.searches.resultsReady.connect(record)
    with qtbot.waitSignal(window.app.searches.resultsReady, timeout=20000):
        for text in ("a red", "a blue", QUERY_KINDS[2].caption):
            window.app.query.search_text(text)
    # Every earlier request was answered before the last (one search thread, in order): nothing more can come.
    with qtbot.waitSignal(window.app.searches.resultsReady, timeout=20000):
        window.app.query.search_text("a star")
    assert received == [QUERY_KINDS[2].caption, "a star"]  # stale results never reach the grid


def test_debounced_typing_searches_without_enter(qtbot, window, photos):
    folder, _ = photos
    add_folder_and_wait(qtbot, window, folder)
    with qtbot.waitSignal(window.app.searches.resultsReady, timeout=20000):
        qtbot.keyClicks(window.search_bar.edit, "a star")
    assert window.results.rowCount() > 0


def test_ctrl_f_focuses_the_search_bar(qtbot, window):
    window.view.setFocus()
    window.find_action.trigger()
    assert window.search_bar.edit.hasFocus() or QApplication.focusWidget() is window.search_bar.edit


@pytest.fixture
def encode_gate(monkeypatch):
    """The model's second batch blocks until the test releases it, or the app cancels the run (or closes).

    Indexing then stops at a known point, whatever the machine's speed: 16 photos are committed (the first batch)
    and 16 more are in the model when the user cancels.
    """
    import threading

    from photofinder.core.encode.onnx_encoder import OnnxEmbedder
    from photofinder.core.encode.torch_encoder import ClipEmbedder
    from photofinder.gui.library.index_run import IndexController

    gate = SimpleNamespace(reached=threading.Event(), release=threading.Event(), calls=0, block_at=2)
    real_cancel = IndexController.cancel  # the app's index run only: a folder watcher stopping is no cancel

    def gated(real_encode):  # whichever runtime encodes (ONNX on a CPU by default, torch when chosen)
        def encode(self, pixels):
            gate.calls += 1
            if gate.block_at is not None and gate.calls >= gate.block_at:
                gate.reached.set()
                assert gate.release.wait(30), "the test never released the model"
            return real_encode(self, pixels)

        return encode

    def cancel(self):
        real_cancel(self)
        gate.release.set()  # a cancelled run finishes the batch in the model, then stops

    for cls in (ClipEmbedder, OnnxEmbedder):
        monkeypatch.setattr(cls, "encode_pixels", gated(cls.encode_pixels))
    monkeypatch.setattr(IndexController, "cancel", cancel)
    yield gate
    gate.release.set()


def test_cancel_mid_index_keeps_what_was_done(qtbot, window, photos, encode_gate):
    folder, kinds = photos
    with qtbot.waitSignal(window.app.indexing.finished, timeout=60000) as done:
        window.app.indexing.add_folder(str(folder))
        qtbot.waitUntil(encode_gate.reached.is_set, timeout=30000)
        qtbot.mouseClick(window.progress.cancel, Qt.MouseButton.LeftButton)
    report = done.args[0]
    assert report.cancelled and report.indexed == 32 < len(
        kinds
    )  # the batch in the model when cancelled is kept
    assert "cancelled" in window.progress.label.text()
    assert not window.app.indexing.running
    with window.app.library.open_catalog() as c:
        assert c.count() == 32


def test_closing_mid_index_stops_cleanly(qtbot, data_dir, settings, photos, encode_gate, capfd):
    from photofinder.gui.window.main_window import MainWindow

    folder, kinds = photos
    w = MainWindow(data_dir, settings)
    qtbot.addWidget(w)
    w.show()
    w.app.indexing.add_folder(str(folder))
    qtbot.waitUntil(encode_gate.reached.is_set, timeout=30000)  # the first batch is committed
    w.close()  # cancels: the second batch leaves the model, is committed, and the run stops
    assert not w.app.indexing.running
    from photofinder.core.store.library import LibraryStore

    with LibraryStore(data_dir).get("Photos").open_catalog() as c:
        kept = c.count()
    assert kept == 32 < len(kinds)  # committed batches survive the close
    assert "QThread: Destroyed" not in capfd.readouterr().err


def test_library_create_rename_remove_never_touches_photos(qtbot, window, photos, monkeypatch):
    folder, kinds = photos
    add_folder_and_wait(qtbot, window, folder)
    monkeypatch.setattr(
        "photofinder.gui.window.library_menu.QInputDialog.getText",
        staticmethod(lambda *a, **k: ("Holidays", True)),
    )
    window.library_actions.rename_library()
    qtbot.waitUntil(lambda: window.app.library is not None and window.app.library.name == "Holidays")
    assert window.library_box.currentText() == "Holidays" and window.app.store.names() == ["Holidays"]
    search(qtbot, window, "a red circle")  # the renamed library still searches
    assert window.results.rowCount() > 0
    monkeypatch.setattr(
        "photofinder.gui.window.library_menu.QInputDialog.getText",
        staticmethod(lambda *a, **k: ("Work", True)),
    )
    window.library_actions.new_library()
    assert sorted(window.app.store.names()) == ["Holidays", "Work"] and window.app.library.name == "Work"
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.empty_page)
    window.app.libraries.select("Holidays")
    monkeypatch.setattr("photofinder.gui.window.dialogs.confirm", lambda *a, **k: True)
    window.library_actions.remove_library()
    qtbot.waitUntil(lambda: window.app.store.names() == ["Work"])
    qtbot.waitUntil(lambda: window.app.library is not None and window.app.library.name == "Work")
    assert all(p.exists() for p in kinds)


def test_remove_folder_forgets_its_photos(qtbot, window, photos, monkeypatch):
    folder, _ = photos
    add_folder_and_wait(qtbot, window, folder)
    monkeypatch.setattr("photofinder.gui.window.dialogs.confirm", lambda *a, **k: True)
    with qtbot.waitSignal(window.app.libraries.folderRemoved, timeout=5000):
        window.library_actions.remove_folder(str(folder))
    qtbot.waitUntil(lambda: window.app.summary is not None and window.app.summary.photos == 0)
    assert window.pages.currentWidget() is window.empty_page and os.listdir(folder)


@pytest.mark.allow_log("model problem")
def test_unavailable_model_explains_and_offers_a_folder(qtbot, window, settings, photos, monkeypatch):
    folder, _ = photos
    settings.model = "openai/clip-vit-base-patch32"  # not cached, hub unreachable
    asked = []
    monkeypatch.setattr(
        "photofinder.gui.window.main_window.ask_for_model_folder",
        lambda parent, message: asked.append(message) or None,
    )
    with qtbot.waitSignal(window.app.indexing.failed, timeout=30000):
        window.app.indexing.add_folder(str(folder))
    assert asked and "could not be downloaded" in asked[0]
    qtbot.waitUntil(lambda: "could not be loaded" in window.progress.label.text())
    assert "--model" not in window.progress.label.text() and "snapshot" not in window.progress.label.text()


def test_results_model_passes_qt_model_tester(qtmodeltester, qtbot, window, photos):
    folder, _ = photos
    add_folder_and_wait(qtbot, window, folder)
    search(qtbot, window, "a red circle")
    qtmodeltester.check(window.results, force_py=True)


def test_settings_persist(data_dir, settings):
    from photofinder.gui.settings import AppSettings

    settings.thumb_size = 200
    settings.device = "gpu"
    settings.sync()
    again = AppSettings(data_dir)
    assert (again.thumb_size, again.device, again.model) == (200, "gpu", settings.model)


@pytest.mark.parametrize("query", ["a red circle on a white background"])
def test_screenshot_command_renders_results(indexed, tmp_path, query):
    import subprocess
    import sys

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")  # the library: the shape photos, indexed once a run
    out = tmp_path / "shot.png"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "photofinder",
            "gui",
            "--library",
            "Photos",
            "--query",
            query,
            "--screenshot",
            str(out),
            "--size",
            "900x600",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    img = QImage(str(out))
    assert (img.width(), img.height()) == (900, 600)
    # the first tile is a red circle on white: the top-left of the grid (right of the filters) holds strong reds
    reds = sum(
        1
        for x in range(240, 540, 3)
        for y in range(60, 250, 3)
        if (c := img.pixelColor(x, y)).red() > 180 and c.green() < 80 and c.blue() < 80
    )
    assert reds > 50


def test_without_a_query_the_grid_shows_the_library_newest_first(qtbot, window, photos):
    folder, kinds = photos
    newest = sorted(kinds)[7]
    os.utime(newest, (2_000_000_000, 2_000_000_000))
    add_folder_and_wait(qtbot, window, folder)
    qtbot.waitUntil(lambda: window.results.rowCount() == len(kinds), timeout=10000)
    assert shown_paths(window)[0] == newest and window.pages.currentWidget() is window.view
    search(qtbot, window, "a red circle")
    with qtbot.waitSignal(window.app.searches.resultsReady, timeout=10000):
        qtbot.keyClick(window.search_bar.edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        qtbot.keyClick(window.search_bar.edit, Qt.Key.Key_Backspace)  # an emptied search bar browses again
    assert shown_paths(window)[0] == newest
    assert "match" not in window.results.index(0).data(Qt.ItemDataRole.ToolTipRole)


def test_model_download_dialog_shows_size_speed_and_cancels(qtbot, window):
    window.downloads.progress("openai/clip-vit-base-patch32", 50_000_000, 600_000_000)
    window.downloads.progress("openai/clip-vit-base-patch32", 150_000_000, 600_000_000)
    d = window.downloads.dialog
    assert d is not None and "150 of 600 MB" in d.labelText() and "MB/s" in d.labelText()
    assert d.value() == 250
    from PySide6.QtWidgets import QPushButton

    d.findChild(QPushButton).click()  # the dialog's Cancel button
    assert window.app.pool.download_cancelled and window.downloads.dialog is None


@pytest.mark.allow_log("unexpected error")
def test_unexpected_errors_are_logged_and_shown_once(window, data_dir, dialogs):
    from photofinder.gui.crash import ErrorReporter

    reporter = ErrorReporter(data_dir / "photofinder.log")
    import logging

    handler = logging.FileHandler(data_dir / "photofinder.log")
    logging.getLogger().addHandler(handler)
    try:
        for _ in range(2):
            try:
                raise RuntimeError("boom")
            except RuntimeError as e:
                reporter(type(e), e, e.__traceback__)
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
    assert [d[0] for d in dialogs] == ["critical"] and "boom" in dialogs[0][1]
    assert (data_dir / "photofinder.log").read_text().count("RuntimeError: boom") == 2
    dialogs.clear()


def test_thousands_of_results_load_rows_and_thumbnails_lazily(qtbot, window, tmp_path, monkeypatch):
    from photofinder.core.find.search import SearchResult

    requested = []
    monkeypatch.setattr(window.app.thumbs, "request", lambda key, *a: requested.append(key.path))
    results = [SearchResult(i, str(tmp_path / f"p{i}.jpg"), 1 - i / 1e4) for i in range(5000)]
    window.results.set_results(results, None)
    window.pages.setCurrentWidget(window.view)
    qtbot.waitUntil(lambda: len(requested) > 0)
    assert window.results.rowCount() < 1000  # rows are exposed in chunks, not 5,000 at once
    assert 0 < len(set(requested)) < 200  # thumbnails only for what is on screen
    shown = window.results.rowCount()

    def scrolled_for_more() -> bool:
        window.view.scrollToBottom()
        return window.results.rowCount() > shown

    qtbot.waitUntil(scrolled_for_more)  # scrolling fetches more
    assert str(window.results.index(0).data(PathRole)) == results[0].path


def test_settings_dialog_changes_thumbnail_size_and_persists(qtbot, window, data_dir, monkeypatch):
    from photofinder.gui.settings import AppSettings
    from photofinder.gui.window.dialogs import SettingsDialog

    def user_edits(dialog):
        dialog.thumb.setValue(208)
        dialog.device.setCurrentIndex(1)  # CPU
        dialog.runtime.setCurrentIndex(2)  # torch
        dialog.accept()
        return 1

    monkeypatch.setattr(SettingsDialog, "exec", user_edits)
    window.open_settings()
    assert window.view.iconSize().width() == 208 and window.results.thumb_size == 208
    assert (window.app.pool.device, window.app.pool.runtime) == ("cpu", "torch")
    again = AppSettings(data_dir)
    assert (again.thumb_size, again.device, again.runtime) == (208, "cpu", "torch")


def test_no_display_is_a_message_not_an_abort(tmp_path):
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    r = subprocess.run(
        [sys.executable, "-m", "photofinder"], capture_output=True, text=True, env=env, timeout=60
    )
    if not sys.platform.startswith("linux"):
        pytest.skip("Linux only")
    assert r.returncode == 1 and "no display" in r.stderr and "photofinder --help" in r.stderr


def test_escape_clears_the_search_and_the_window_remembers_its_size(
    qtbot, window, photos, data_dir, settings
):
    from photofinder.gui.window.main_window import MainWindow

    folder, kinds = photos
    add_folder_and_wait(qtbot, window, folder)
    search(qtbot, window, "a red circle")
    with qtbot.waitSignal(window.app.searches.resultsReady, timeout=10000) as b:
        qtbot.keyClick(window.search_bar.edit, Qt.Key.Key_Escape)
    assert b.args[0].kind == "browse" and window.search_bar.edit.text() == ""
    window.resize(700, 500)
    window.close()
    again = MainWindow(data_dir, settings)
    qtbot.addWidget(again)
    assert (again.width(), again.height()) == (700, 500)
    again.close()


def test_tiles_of_any_shape_line_up_and_never_cover_their_captions(qtbot, window, tmp_path):
    from PIL import Image

    folder = tmp_path / "shapes"
    folder.mkdir()
    for name, size in (
        ("wide.jpg", (400, 250)),
        ("four-three.jpg", (320, 240)),
        ("portrait.jpg", (240, 400)),
    ):
        Image.new("RGB", size, (200, 30, 30)).save(folder / name)
    add_folder_and_wait(qtbot, window, folder)
    m = window.results
    qtbot.waitUntil(lambda: m.rowCount() == 3 and all(m.has_thumbnail(r) for r in range(3)), timeout=10000)
    s = m.thumb_size
    assert len({window.view.visualRect(m.index(r)).height() for r in range(3)}) == 1
    shot = window.view.viewport().grab().toImage()
    dpr = shot.devicePixelRatio()
    delegate = window.view.delegate
    for r in range(3):
        cell = window.view.visualRect(m.index(r))
        photo = delegate.photo_rect(cell)
        # The photo sits inside a square tile of the grid's icon size: a 4:3 or portrait photo is no taller than
        # a wide one, so it can't spill over its caption, and captions line up across a row.
        assert (photo.width(), photo.height()) == (s, s), m.index(r).data()
        px = lambda x, y: shot.pixelColor(round(x * dpr), round(y * dpr))
        assert px(photo.center().x(), photo.bottom() - 1).red() > 150  # the photo rests on the caption
        caption = delegate.caption_rect(cell, window.view.fontMetrics().height())
        assert caption.top() > photo.bottom()
        reds = [
            px(x, y)
            for x in range(caption.left(), caption.right(), 2)
            for y in range(caption.top(), caption.bottom(), 2)
        ]
        assert not any(c.red() > 150 and c.green() < 80 for c in reds)  # no photo pixel over the caption


def test_dropped_and_pasted_images_are_decoded_off_the_gui_thread(
    qtbot, window, photos, tmp_path, monkeypatch
):
    """A big PNG dropped, or an image pasted, must not freeze the window: icon and pixels are read elsewhere."""
    import threading

    from photofinder.gui.query import drop_zone
    from photofinder.gui.workers import search_thread

    folder, _ = photos
    add_folder_and_wait(qtbot, window, folder)
    seen = []
    for mod, name in ((drop_zone, "read_icon"), (search_thread, "qimage_to_pil")):
        real = getattr(mod, name)
        monkeypatch.setattr(
            mod,
            name,
            lambda *a, _r=real, _n=name, **k: seen.append((_n, threading.current_thread())) or _r(*a, **k),
        )
    q = tmp_path / "big.png"
    draw(QUERY_KINDS[5], (1200, 900), np.random.default_rng(5), centred=True).save(q)
    md = QMimeData()
    md.setUrls([QUrl.fromLocalFile(str(q))])
    with qtbot.waitSignal(window.app.searches.resultsReady, timeout=20000):
        drop(window, window.view.viewport(), md)
    qtbot.waitUntil(lambda: window.search_bar.chips[0].has_icon())  # the icon came back
    img = draw(QUERY_KINDS[6], (800, 600), np.random.default_rng(8), centred=True)
    QGuiApplication.clipboard().setImage(
        QImage(img.tobytes(), img.width, img.height, img.width * 3, QImage.Format.Format_RGB888).copy()
    )
    window.view.setFocus()
    with qtbot.waitSignal(window.app.searches.resultsReady, timeout=20000):
        window.paste()
    qtbot.waitUntil(lambda: [n for n, _ in seen].count("read_icon") == 2)
    assert sorted({n for n, _ in seen}) == ["qimage_to_pil", "read_icon"]
    assert all(t is not threading.main_thread() for _, t in seen), seen


def test_a_name_that_is_not_utf8_is_shown_readably_and_opened_as_the_real_file(
    qtbot, window, photos, monkeypatch
):
    """b"caf\\xe9.jpg": caption, tooltip, chip and messages show "caf\ufffd.jpg"; Open, Show in folder, Copy
    path and drag-out hand over URLs that name the very same bytes."""
    import shutil
    import urllib.parse

    from photofinder.gui import fileurls

    folder, kinds = photos
    first = min(kinds)
    raw = os.fsencode(folder) + b"/caf\xe9.jpg"
    shutil.copy(first, raw)
    os.utime(raw, (2_000_000_000, 2_000_000_000))  # newest: the first tile
    (Path(os.fsdecode(os.fsencode(folder) + b"/bad\xff.jpg"))).write_bytes(b"nope")
    report = add_folder_and_wait(qtbot, window, folder)
    assert [os.fsencode(s.path) for s in report.skipped] == [os.fsencode(folder) + b"/bad\xff.jpg"]
    qtbot.waitUntil(lambda: window.results.rowCount() == len(kinds) + 1, timeout=10000)
    idx = window.results.index(0)
    path = os.fspath(idx.data(PathRole))
    assert os.fsencode(path) == raw
    caption, tip = idx.data(Qt.ItemDataRole.DisplayRole), idx.data(Qt.ItemDataRole.ToolTipRole)
    assert caption == "caf\ufffd.jpg" and "caf\ufffd.jpg" in tip
    assert not any("\udc80" <= ch <= "\udcff" for ch in caption + tip)

    def bytes_of(url) -> bytes:
        assert url.isValid() and url.isLocalFile()
        assert os.fsencode(fileurls.local_path(url)) == urllib.parse.unquote_to_bytes(
            url.path(url.ComponentFormattingOption.FullyEncoded)
        )
        return os.fsencode(fileurls.local_path(url))

    opened = []
    monkeypatch.setattr("photofinder.gui.fileurls.QDesktopServices.openUrl", lambda url: opened.append(url))
    window.view.setCurrentIndex(idx)
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_Return)  # Open
    window.view.showInFolder.emit(path)
    assert [bytes_of(u) for u in opened] == [raw, os.fsencode(folder)]
    window.view.copyPaths.emit([path])
    md = QGuiApplication.clipboard().mimeData()
    assert [bytes_of(u) for u in md.urls()] == [raw] and md.text().endswith("caf\ufffd.jpg")
    dragged = window.results.mimeData([idx, window.results.index(1)])
    assert bytes_of(dragged.urls()[0]) == raw and Path(dragged.urls()[1].toLocalFile()).exists()

    with qtbot.waitSignal(window.app.searches.resultsReady, timeout=20000):
        window.find_similar(path)
    assert window.search_bar.chips[0].label.text() == "Like caf\ufffd.jpg"
    assert window.app.query.last_request.label == "Like caf\ufffd.jpg"
    assert first in shown_paths(window)[:3]  # its twin is the closest

    back = QMimeData()  # a file manager drags the file back in: searched by its real bytes
    back.setUrls([fileurls.file_url(path)])
    with qtbot.waitSignal(window.app.searches.resultsReady, timeout=20000) as b:
        drop(window, window.view.viewport(), back)
    assert os.fsencode(b.args[0].query.terms[-1].value) == raw
    assert window.search_bar.chips[-1].label.text() == "caf\ufffd.jpg"
    qtbot.waitUntil(lambda: window.search_bar.chips[-1].has_icon())  # its icon was read too

    with qtbot.waitSignal(window.app.libraries.skippedReady, timeout=5000):
        window.progress.label.linkActivated.emit("skipped")
    from photofinder.gui.window.dialogs import SkippedDialog

    qtbot.waitUntil(lambda: window.findChild(SkippedDialog) is not None)
    d = window.findChild(SkippedDialog)
    assert d.table.item(0, 0).text().endswith("bad\ufffd.jpg")
    d.close()


@pytest.mark.slow  # a rebuild on another model in the window: 11 s
def test_a_new_model_in_settings_offers_a_rebuild_that_searches_through_and_cancels_safely(
    qtbot, window, photos, settings, tiny_model, tmp_path, encode_gate, monkeypatch
):
    import json
    import shutil

    from photofinder.core.encode.models import model_identity
    from photofinder.gui.window.dialogs import SettingsDialog

    folder, kinds = photos
    encode_gate.block_at = None
    add_folder_and_wait(qtbot, window, folder)
    other = tmp_path / "other-clip"  # the same network, another config: another model to a library
    shutil.copytree(tiny_model, other)
    cfg = json.loads((other / "config.json").read_text())
    cfg["_photofinder_test_note"] = "another model"
    (other / "config.json").write_text(json.dumps(cfg))

    def user_picks_other(dialog):
        dialog.model.setText(str(other))
        dialog.accept()
        return 1

    monkeypatch.setattr(SettingsDialog, "exec", user_picks_other)
    window.open_settings()
    panel = window.progress
    qtbot.waitUntil(lambda: panel.action.isVisible() and panel.action.text() == "Re-index with the new model")
    assert "searches keep using the old one" in panel.label.text()

    def library_model() -> str:
        with window.app.library.open_catalog() as c:
            return c.model_id

    old = library_model()
    encode_gate.calls, encode_gate.block_at = 0, 2  # the rebuild's second batch waits in the model
    qtbot.mouseClick(panel.action, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(encode_gate.reached.is_set, timeout=30000)
    assert window.app.indexing.running and "Re-indexing" in panel.label.text()
    search(qtbot, window, QUERY_KINDS[1].caption)  # meanwhile the old vectors and model answer
    assert sum(kinds[p] == QUERY_KINDS[1] for p in shown_paths(window)[:5]) >= 4
    with qtbot.waitSignal(window.app.indexing.finished, timeout=60000) as done:
        qtbot.mouseClick(panel.cancel, Qt.MouseButton.LeftButton)
    assert done.args[0].cancelled and not done.args[0].rebuilt
    assert library_model() == old  # a cancelled rebuild changes nothing
    qtbot.waitUntil(lambda: panel.action.isVisible() and "cancelled" in panel.label.text())
    search(qtbot, window, QUERY_KINDS[2].caption)
    assert window.results.rowCount() > 0

    with qtbot.waitSignal(window.app.indexing.finished, timeout=60000) as done:
        qtbot.mouseClick(panel.action, Qt.MouseButton.LeftButton)  # offered again: this time to the end
    assert done.args[0].rebuilt and library_model() == model_identity(str(other))
    assert "Re-indexed with the new model" in panel.label.text()
    qtbot.waitUntil(lambda: "other-clip" in window.status.text(), timeout=5000)
    search(qtbot, window, QUERY_KINDS[1].caption)  # now with the new model
    assert sum(kinds[p] == QUERY_KINDS[1] for p in shown_paths(window)[:5]) >= 4
    assert window.app.pool.loaded_models == [(str(other), "cpu")]


def test_the_status_line_shows_the_runtime_in_use_and_settings_switch_it(qtbot, window, photos, monkeypatch):
    from photofinder.gui.window.dialogs import SettingsDialog

    folder, _ = photos
    add_folder_and_wait(qtbot, window, folder)
    search(qtbot, window, "a red circle")
    qtbot.waitUntil(lambda: "(CPU, ONNX)" in window.status.text(), timeout=5000)  # automatic on a CPU: ONNX

    def choose_torch(dialog):
        dialog.runtime.setCurrentIndex(2)
        dialog.accept()
        return 1

    monkeypatch.setattr(SettingsDialog, "exec", choose_torch)
    window.open_settings()
    assert "(CPU, torch)" in window.status.text()  # the setting, until the model loads
    search(qtbot, window, QUERY_KINDS[2].caption)  # a kind the library has: good matches to show
    qtbot.waitUntil(lambda: "(CPU, torch)" in window.status.text(), timeout=5000)
    assert len(shown_paths(window)) > 0
    assert window.app.pool.loaded_models == [(window.settings.model, "cpu")]
