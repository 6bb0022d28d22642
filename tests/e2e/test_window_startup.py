"""Opening the app on a library: the new-user page never shows while the first page of photos is on its way
(issue 20, items 3 and 5)."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from photofinder.gui.mainwindow import MainWindow


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
    from photofinder.gui.searching import SearchWorker

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
