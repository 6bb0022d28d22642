"""Opening the app on a library: the new-user page never shows while the first page of photos is on its way
(issue 20, items 3 and 5)."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from photofinder.gui.window.main_window import MainWindow


def index_once(qtbot, data_dir, settings, folder) -> None:
    w = MainWindow(data_dir, settings)
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.app.indexing.finished, timeout=60000):
        w.app.indexing.add_folder(str(folder))
    qtbot.waitUntil(lambda: w.results.rowCount() > 0, timeout=10000)
    w.close()


def test_no_new_user_page_at_start_while_duplicates_are_grouped(
    qtbot, data_dir, settings, photos, monkeypatch
):
    index_once(qtbot, data_dir, settings, photos[0])
    settings.hide_duplicates = True
    from photofinder.gui.workers.search_thread import SearchWorker

    slow_run = SearchWorker._run

    def slow(self, req):  # a library of look-alikes: grouping its first page takes seconds
        import time

        time.sleep(0.6)
        return slow_run(self, req)

    monkeypatch.setattr(SearchWorker, "_run", slow)
    w = MainWindow(data_dir, settings)
    qtbot.addWidget(w)
    seen = [w.pages.currentWidget()]
    w.pages.currentChanged.connect(lambda _i: seen.append(w.pages.currentWidget()))
    w.show()
    qtbot.waitExposed(w)
    qtbot.waitUntil(lambda: w.results.rowCount() > 0, timeout=15000)
    QApplication.processEvents()
    assert w.empty_page not in seen, "the new-user page flashed although the library has photos"
    assert seen[-1] is w.view
    w.close()


def test_the_grid_fills_while_indexing_and_the_counts_agree(qtbot, data_dir, settings, tiny_embedder, photos):
    from gated import Gates, gated_window

    gates = Gates()
    w = gated_window(qtbot, data_dir, settings, tiny_embedder, gates)
    w.app.live._landed.setInterval(100)
    try:
        gates.hold("pixels")
        w.app.indexing.add_folder(str(photos[0]))
        assert gates.entered["pixels"].wait(15)
        gates.allow("pixels")  # one batch reaches the catalog; the next waits
        qtbot.waitUntil(lambda: w.results.rowCount() > 0, timeout=10000)
        assert w.app.indexing.running, "photos were shown only after the run"
        qtbot.waitUntil(
            lambda: w.app.summary is not None and w.app.summary.photos == w.results.total, timeout=5000
        )
        n = w.results.total
        assert 0 < n < len(photos[1])
        qtbot.waitUntil(lambda: f"{n:,} photos" in w.status.text(), timeout=5000)  # the status line agrees
        top = w.filters.panel.folders.topLevelItem
        qtbot.waitUntil(
            lambda: top(0) is not None and top(0).text(1) == f"{n:,}", timeout=5000
        )  # the filters
    finally:
        gates.release()
        qtbot.waitUntil(lambda: not w.app.indexing.running, timeout=20000)
        w.close()


def test_switching_libraries_leaves_nothing_of_the_other_behind(qtbot, window, photos):
    with qtbot.waitSignal(window.app.indexing.finished, timeout=60000):
        window.app.indexing.add_folder(str(photos[0]))
    qtbot.waitUntil(lambda: window.results.rowCount() > 0, timeout=10000)
    window.view.setCurrentIndex(window.results.index(0))
    assert window.details.text() and window.progress.isVisible()  # "Indexing done: …"
    with qtbot.waitSignal(window.app.libraries.libraryChanged, timeout=5000):
        window.app.libraries.create("Other")
    qtbot.waitUntil(lambda: window.app.library.name == "Other")
    assert window.details.text() == ""
    assert not window.progress.isVisible(), "library A's indexing summary is still shown in library B"
