"""The status area paints what runs: a slow search, a model loading, indexing with live counts (issue 20, item 2).

Each test grabs the status bar's pixels before and during the busy state: a text set but never drawn (the old
status bar's showMessage under permanent widgets) leaves them the same.
"""

from __future__ import annotations

import pytest
from gated import Gates, gated_window
from PySide6.QtWidgets import QApplication


@pytest.fixture
def gates():
    g = Gates()
    yield g
    g.release()


@pytest.fixture
def gwindow(qtbot, data_dir, settings, tiny_embedder, gates):
    w = gated_window(qtbot, data_dir, settings, tiny_embedder, gates)
    yield w
    gates.release()
    w.close()


def settle(qtbot, ms: int = 250) -> None:
    qtbot.wait(ms)
    QApplication.processEvents()


def shot(window):
    return window.statusBar().grab().toImage()


def index(qtbot, window, folder) -> None:
    with qtbot.waitSignal(window.app.indexing.finished, timeout=30000):
        window.app.indexing.add_folder(str(folder))
    qtbot.waitUntil(lambda: window.results.rowCount() > 0, timeout=10000)
    settle(qtbot)


def test_a_slow_search_is_painted_in_the_status_area(qtbot, gwindow, gates, photos):
    index(qtbot, gwindow, photos[0])
    before = shot(gwindow)
    gates.hold("text")
    gwindow.search_bar.edit.setText("a red circle")
    gwindow.search_bar.edit.returnPressed.emit()
    assert gates.entered["text"].wait(10)
    settle(qtbot)
    during = shot(gwindow)
    assert during != before, "nothing on screen says that a search runs"
    gates.release("text")
    qtbot.waitUntil(
        lambda: gwindow.app.query.last_request is not None and not gwindow.app._waiting, timeout=10000
    )


def test_loading_the_model_is_painted_with_its_reason(qtbot, gwindow, gates, photos):
    index(qtbot, gwindow, photos[0])
    gwindow.app.pool.unload_idle()  # the next search loads the model again
    gwindow.app.searches.forget_libraries()
    settle(qtbot)
    before = shot(gwindow)
    gates.hold("load")
    gwindow.search_bar.edit.setText("a red circle")
    gwindow.search_bar.edit.returnPressed.emit()
    assert gates.entered["load"].wait(10)
    settle(qtbot)
    during = shot(gwindow)
    assert during != before, "nothing on screen says that the model loads"
    gates.release("load")
    qtbot.waitUntil(lambda: not gwindow.app._waiting, timeout=10000)


def test_indexing_counts_are_painted_live_as_batches_land(qtbot, gwindow, gates, photos):
    gates.hold("pixels")
    gwindow.app.indexing.add_folder(str(photos[0]))
    assert gates.entered["pixels"].wait(15)  # the first batch waits at the model
    settle(qtbot, 400)
    first = shot(gwindow)
    done = []
    gwindow.app.indexing.progress.connect(lambda p: done.append(p.done))
    for _ in range(6):  # one model call at a time, until a batch has landed
        gates.allow("pixels")
        qtbot.waitUntil(
            lambda: gates.entered["pixels"].is_set() or not gwindow.app.indexing.running, timeout=15000
        )
        settle(qtbot, 150)
        if done and done[-1] > 16:
            break
    assert done and done[-1] > 16
    settle(qtbot, 400)
    later = shot(gwindow)
    assert later != first, "the status area did not follow the indexing"
    gates.release("pixels")
    qtbot.waitUntil(lambda: not gwindow.app.indexing.running, timeout=20000)
