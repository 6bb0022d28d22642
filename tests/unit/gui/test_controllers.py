"""The app's logic driven without a window: queries, stale results, libraries, paging, model problems."""

from __future__ import annotations

import threading

import pytest

MAIN = threading.main_thread()


def record_resets(app):
    seen = []

    def record(req, found):  # a slot, not a lambda returning a bool (a PySide refcount bug aborts)
        if req is not None:
            seen.append((req, found))

    app.query.resultsReset.connect(record)
    return seen


def test_search_and_model_loading_run_off_the_gui_thread(qtbot, library_copy, make_app, factory):
    library_copy()
    app = make_app()
    with qtbot.waitSignal(
        app.query.resultsReset,
        timeout=10000,
        check_params_cb=lambda req, found: req is not None and req.kind == "query",
    ) as b:
        app.query.search_text("a red circle")
    assert b.args[1].results
    work = factory.last.threads
    assert {w for w, _ in work} == {"load", "text"}
    assert all(t is not MAIN for _, t in work), work


def test_a_superseded_query_is_neither_run_nor_shown(qtbot, library_copy, make_app, factory):
    """Block the worker on A, ask B then C, release A: B never runs (worker guard), A never shows (controller)."""
    library_copy()
    app = make_app()
    factory.gates["A"] = threading.Event()
    seen = record_resets(app)
    app.query.search_text("A")
    qtbot.waitUntil(lambda: bool(factory.made) and "A" in factory.last.entered, timeout=5000)
    app.query.search_text("B")
    app.query.search_text("C")
    with qtbot.waitSignal(
        app.query.resultsReset,
        timeout=10000,
        check_params_cb=lambda req, found: req is not None and req.label == "C",
    ):
        factory.gates["A"].set()
    assert [req.label for req, _ in seen] == ["C"]  # A's results came back, stale, and were dropped
    from photofinder.core.find.calibration import CALIBRATION_CAPTIONS

    queries = [
        t for t in factory.last.texts if t not in CALIBRATION_CAPTIONS
    ]  # not the good-match calibration
    assert queries == ["A", "C"]  # B was superseded before it ran


def test_switching_library_mid_search_never_shows_the_old_librarys_results(
    qtbot, library_copy, make_app, factory
):
    library_copy("Alpha")
    library_copy("Beta")
    app = make_app()
    assert app.library.name == "Alpha"
    alpha = app.library
    factory.gates["A"] = threading.Event()
    seen = record_resets(app)
    app.query.search_text("A")
    qtbot.waitUntil(lambda: bool(factory.made) and "A" in factory.last.entered, timeout=5000)
    with qtbot.waitSignal(
        app.query.resultsReset,
        timeout=10000,
        check_params_cb=lambda req, found: req is not None and req.library.name == "Beta",
    ):
        app.libraries.select("Beta")
        factory.gates["A"].set()
    assert seen and all(req.library is not alpha for req, _ in seen)
    assert app.query.last_request.library.name == "Beta"


def connect_like_the_window(app, model) -> None:
    def reset(req, found) -> None:
        model.set_results(found.results, None, found.more is not None)

    def append(req, found) -> None:
        model.append_results(found.results, found.more is not None)

    app.query.resultsReset.connect(reset)
    app.query.resultsAppended.connect(append)
    model.moreWanted.connect(app.query.fetch_more)


def test_browse_pages_through_the_whole_library_newest_first(qtbot, library_copy, make_app, monkeypatch):
    """No query: the grid asks for page after page as it is scrolled, until every photo is shown, in order."""
    from PySide6.QtCore import QModelIndex

    from photofinder.core.store.library import LibraryStore
    from photofinder.gui.results.results_model import ResultsModel

    monkeypatch.setattr("photofinder.gui.controllers.query.PAGE", 7)
    monkeypatch.setattr("photofinder.gui.workers.search_thread.PAGE", 7)
    library_copy()
    app = make_app(start=False)
    model = ResultsModel(app.thumbs)
    connect_like_the_window(app, model)
    app.start()
    qtbot.waitUntil(lambda: model.rowCount() > 0, timeout=5000)
    assert model.rowCount() == 7 and model.has_more
    pages = 1
    while model.has_more and pages < 10:  # bounded: a paging bug must fail, not hang
        rows = model.rowCount()
        model.fetchMore(QModelIndex())  # what the view does when scrolled to the end
        qtbot.waitUntil(lambda: model.rowCount() > rows, timeout=5000)
        pages += 1
    with LibraryStore(app.data_dir).get("Photos").open_catalog() as c:
        expected = [p for _, p, _ in c.recent(1000)]
    assert [model.result(r).path for r in range(model.rowCount())] == expected
    assert len(expected) == 40 and pages == 6 and not model.has_more


def test_a_new_query_drops_a_browse_page_still_in_flight(qtbot, library_copy, make_app, monkeypatch):
    monkeypatch.setattr("photofinder.gui.controllers.query.PAGE", 7)
    monkeypatch.setattr("photofinder.gui.workers.search_thread.PAGE", 7)
    library_copy()
    app = make_app()
    qtbot.waitUntil(lambda: app.query.last_request is not None and app.query._next is not None, timeout=5000)
    appended = []
    app.query.resultsAppended.connect(lambda req, f: appended.append(req))
    app.query.fetch_more()
    with qtbot.waitSignal(
        app.query.resultsReset,
        timeout=10000,
        check_params_cb=lambda req, found: req is not None and req.kind == "query",
    ):
        app.query.search_text("a red circle")
    assert appended == []


def test_cancelling_one_download_does_not_cancel_the_next(qtbot, factory):
    from photofinder.core.encode.torch_encoder import DownloadCancelled
    from photofinder.gui.workers.model_pool import EmbedderPool

    factory.download = True
    pool = EmbedderPool("cpu", factory=factory)
    first = pool.get("m")
    pool.cancel_downloads()  # the user cancelled the download in progress
    with pytest.raises(DownloadCancelled):
        first.progress(5, 10)
    second = pool.get("m")
    pool.load(second)  # a later load (a search, an index run) downloads again
    assert second.loaded


def test_the_pool_lets_go_of_models_switched_away_from_and_idle_ones(qtbot, factory):
    from photofinder.gui.workers.model_pool import EmbedderPool

    pool = EmbedderPool("cpu", factory=factory, idle_ms=50)
    pool.get("a")
    pool.get("b")
    assert pool.loaded_models == [("b", "cpu")]  # a model switch
    pool.device = "gpu"
    pool.get("b")
    assert pool.loaded_models == [("b", "gpu")]  # a device switch
    pool.hold("c")  # an index run holds its model through a switch
    pool.get("d")
    assert sorted(pool.loaded_models) == [("c", "gpu"), ("d", "gpu")]
    with qtbot.waitSignal(pool.unloaded, timeout=2000):
        pass  # nothing used it for idle_ms
    assert pool.loaded_models == [("c", "gpu")]
    pool.release("c", "gpu")
    with qtbot.waitSignal(pool.unloaded, timeout=2000):
        pass
    assert pool.loaded_models == []


def test_an_idle_unload_makes_searches_use_a_fresh_model(qtbot, library_copy, make_app, factory):
    library_copy()
    app = make_app()
    with qtbot.waitSignal(app.query.resultsReset, timeout=10000, check_params_cb=lambda r, f: r is not None):
        app.query.search_text("a star")
    first = factory.last
    with qtbot.waitSignal(app.pool.unloaded, timeout=2000):
        app.pool.unload_idle()
    with qtbot.waitSignal(app.query.resultsReset, timeout=10000, check_params_cb=lambda r, f: r is not None):
        app.query.search_text("a square")
    assert factory.last is not first and "a square" not in first.texts


def test_models_let_go_of_are_unloaded_on_the_search_thread_never_under_a_running_search(
    qtbot, library_copy, make_app, factory
):
    """The idle timer fires while a search is encoding: the weights are freed only after it, off the GUI thread."""
    library_copy()
    app = make_app()
    factory.gates["A"] = threading.Event()
    app.query.search_text("A")
    qtbot.waitUntil(lambda: bool(factory.made) and "A" in factory.last.entered, timeout=5000)
    first = factory.last
    with qtbot.waitSignal(app.pool.unloaded, timeout=2000):
        app.pool.unload_idle()  # on the GUI thread, mid-search
    qtbot.wait(50)
    assert "unload" not in [w for w, _ in first.threads]
    factory.gates["A"].set()
    qtbot.waitUntil(lambda: "unload" in [w for w, _ in first.threads], timeout=5000)
    work = [w for w, _ in first.threads]
    assert work.index("unload") > work.index("text")  # after the search, never under it
    assert all(t is not MAIN for w, t in first.threads if w == "unload")
    with qtbot.waitSignal(app.query.resultsReset, timeout=10000, check_params_cb=lambda r, f: r is not None):
        app.query.search_text("a square")  # a fresh model serves the next search
    assert factory.last is not first


def test_a_model_problem_offers_a_folder_and_retries_with_it(
    qtbot, library_copy, make_app, tiny_model, factory, monkeypatch
):
    from photofinder.core.errors import ModelUnavailableError

    library_copy()
    app = make_app()
    broken = {"on": True}
    real_load = factory.embedder.load  # this folder's class, whichever conftest was imported first

    def failing_load(self):
        if broken["on"]:
            raise ModelUnavailableError("The model could not be downloaded.")
        real_load(self)

    monkeypatch.setattr(factory.embedder, "load", failing_load)
    with qtbot.waitSignal(app.modelProblem, timeout=10000) as b:
        app.query.search_text("a red circle")
    assert "could not be downloaded" in b.args[0]
    broken["on"] = False
    with qtbot.waitSignal(app.query.resultsReset, timeout=10000, check_params_cb=lambda r, f: r is not None):
        app.use_model_folder(tiny_model)
    assert app.settings.model == tiny_model


def test_library_rename_and_remove_keep_the_photos(qtbot, library_copy, make_app, shape_folder):
    library_copy("Alpha")
    library_copy("Beta")
    app = make_app()
    with qtbot.waitSignal(app.libraries.summaryChanged, timeout=5000):
        app.libraries.rename("Gamma")
    assert app.library.name == "Gamma" and app.store.names() == ["Beta", "Gamma"]
    with qtbot.waitSignal(app.libraries.summaryChanged, timeout=5000):
        app.libraries.remove()
    assert app.store.names() == ["Beta"] and app.library.name == "Beta"
    assert all(p.exists() for p in shape_folder[1])


def test_a_bad_library_name_is_a_problem_for_the_user(qtbot, make_app):
    app = make_app(start=False)
    with qtbot.waitSignal(app.problem, timeout=1000) as b:
        app.libraries.create("a/b")
    assert "can't be a library name" in b.args[0]


def test_folders_added_while_indexing_are_indexed_next(qtbot, make_app, photos, tmp_path):
    from helpers import QUERY_KINDS, make_photos

    more = tmp_path / "more"
    make_photos(more, QUERY_KINDS[:2], 2)
    app = make_app(start=False)
    finished = []
    app.indexing.finished.connect(finished.append)
    queued = []
    app.indexing.queued.connect(queued.append)
    app.indexing.add_folder(str(photos[0]))
    app.indexing.add_folder(str(more))
    assert queued
    qtbot.waitUntil(lambda: len(finished) == 2, timeout=60000)
    qtbot.waitUntil(lambda: app.summary is not None and app.summary.photos == 44, timeout=5000)
    assert sorted(app.summary.folders) == sorted([str(photos[0]), str(more)])


def test_status_line_says_what_the_library_holds(qtbot, library_copy, make_app):
    library_copy()
    app = make_app()
    text = app.status_text("newest first")
    assert text.startswith("newest first") and "40 photos" in text and "1 folder" in text


def notices(app) -> list:
    seen = []

    def record(n) -> None:
        seen.append(n)

    app.care.notice.connect(record)
    return seen


def test_a_library_busy_in_another_process_is_told_in_the_panel_not_a_dialog(
    qtbot, library_copy, make_app, dialogs
):
    from photofinder.core.store.locks import FileLock

    root = library_copy()
    app = make_app()
    seen = notices(app)
    other = FileLock(
        root / "index.lock", "library 'Photos'"
    ).acquire()  # another process, as far as flock knows
    try:
        with qtbot.waitSignal(app.indexing.failed, timeout=10000) as b:
            app.indexing.start([])
        assert b.args[1] == "busy" and "being indexed" in b.args[0]
        with qtbot.waitSignal(app.libraries.busy, timeout=5000):
            app.libraries.remove_folder(app.summary.folders[0])
        with qtbot.waitSignal(app.libraries.summaryChanged, timeout=5000):
            app.libraries.remove()
    finally:
        other.release()
    assert [n.error for n in seen] == [True, True, True]
    assert all("being indexed" in n.text and not n.action for n in seen)
    assert dialogs == [] and app.store.names() == ["Photos"] and app.library.name == "Photos"
    assert app.summary.photos == 40  # nothing was forgotten


def test_a_damaged_catalog_offers_repair_off_the_gui_thread_then_reindex(
    qtbot, library_copy, make_app, monkeypatch, dialogs
):
    from photofinder.core.store.library import Library

    root = library_copy()
    for suffix in ("-wal", "-shm"):
        (root / f"catalog.sqlite3{suffix}").unlink(missing_ok=True)
    (root / "catalog.sqlite3").write_bytes(b"this is not a database" * 100)
    threads = []
    real_repair = Library.repair
    monkeypatch.setattr(
        Library, "repair", lambda self: threads.append(threading.current_thread()) or real_repair(self)
    )
    app = make_app(start=False)
    seen = notices(app)
    with qtbot.waitSignal(app.libraries.damaged, timeout=5000):
        app.start()
    assert (
        seen[-1].action == "Repair"
        and "damaged" in seen[-1].text
        and "photofinder libraries" not in seen[-1].text
    )
    with qtbot.waitSignal(app.libraries.repaired, timeout=10000):
        app.care.act()
    assert threads and threads[0] is not MAIN
    assert seen[-1].action == "Re-index now" and "catalog.sqlite3.damaged-" in seen[-1].text
    assert list(root.glob("catalog.sqlite3.damaged-*"))  # the damaged file is kept
    with qtbot.waitSignal(app.indexing.finished, timeout=60000):
        app.care.act()
    qtbot.waitUntil(lambda: app.summary is not None and app.summary.photos == 40, timeout=5000)
    assert dialogs == []


def test_a_folder_inside_the_library_is_told_and_nothing_else_happens_a_parent_is_merged(
    qtbot, make_app, tmp_path
):
    from helpers import QUERY_KINDS, make_photos, new_library

    top = tmp_path / "all" / "top"
    make_photos(top / "sub", QUERY_KINDS[:2], 2)
    make_photos(tmp_path / "all" / "beside", QUERY_KINDS[:1], 2)
    app = make_app(start=False)
    new_library(app.store, top)
    with qtbot.waitSignal(app.libraries.summaryChanged, timeout=5000):
        app.start()
    seen = notices(app)
    started = []
    app.indexing.started.connect(started.append)
    app.indexing.add_folder(str(top / "sub"))
    app.indexing.add_folder(str(top))
    assert [n.text for n in seen] == [
        f"{top / 'sub'} is already part of the library (inside {top}).",
        f"{top} is already part of the library.",
    ]
    assert started == [] and not app.indexing.running and app.summary.folders == [str(top)]
    with qtbot.waitSignal(app.indexing.finished, timeout=60000):
        app.indexing.add_folder(str(tmp_path / "all"))  # a parent: merged by the core
    qtbot.waitUntil(lambda: app.summary is not None and app.summary.photos == 6, timeout=5000)
    assert app.summary.folders == [str(tmp_path / "all")]


def test_the_pool_builds_encoders_for_the_runtime_and_purpose(qtbot, factory, monkeypatch):
    from photofinder.gui.workers import model_pool
    from photofinder.gui.workers.model_pool import EmbedderPool

    pool = EmbedderPool("cpu", factory=factory, runtime="onnx")
    search = pool.get("m")
    assert (search.runtime_pref, search.device_pref) == ("onnx", "cpu")
    assert pool.hold("m") is search  # on a chosen device, indexing and searching share one encoder
    pool.release("m", "cpu")
    pool.runtime = "torch"  # the setting changed
    assert pool.get("m").runtime_pref == "torch" and pool.loaded_models == [("m", "cpu")]

    monkeypatch.setattr(model_pool, "gpu_available", lambda: True)
    auto = EmbedderPool("auto", factory=factory)
    text = auto.get("m")
    index = auto.hold(
        "m"
    )  # automatic on a GPU machine: torch on the GPU indexes, ONNX on the CPU answers text
    assert index is not text and (index.purpose, text.purpose) == ("index", "search")
    assert auto.get("m") is text
    auto.release("m", "auto")

    monkeypatch.setattr(model_pool, "gpu_available", lambda: False)
    cpu_only = EmbedderPool("auto", factory=factory)
    assert cpu_only.hold("m") is cpu_only.get("m")  # no GPU: one encoder, never two copies of the weights


def watch_threads() -> list[str]:
    return sorted(
        t.name for t in threading.enumerate() if t.name.startswith("watch-") and "start" not in t.name
    )


def test_one_folder_watcher_follows_the_selected_library_and_pauses_for_index_runs(
    qtbot, library_copy, make_app, settings, factory
):
    library_copy("A")
    library_copy("B")
    settings.watch = True
    app = make_app()
    qtbot.waitUntil(lambda: app.watch.watcher is not None and app.watch.watcher.running, timeout=5000)
    assert app.watch.watcher.library.name == app.library.name == "A"
    app.libraries.select("B")
    qtbot.waitUntil(lambda: watch_threads() == ["watch-B"], timeout=5000)  # never two, never the old one
    first = app.watch.watcher
    with qtbot.waitSignal(app.indexing.finished, timeout=30000) as done:
        app.indexing.start(
            []
        )  # the app's own run: the watcher lets go of the library first, so it is never busy
        assert app.watch.watcher is None
    assert not done.args[0].cancelled
    qtbot.waitUntil(lambda: app.watch.watcher is not None and app.watch.watcher.running, timeout=5000)
    assert app.watch.watcher is not first and not first.running and watch_threads() == ["watch-B"]
    settings.watch = False  # the setting turned off
    app.settings_changed(settings.model, settings.device, settings.runtime)
    assert app.watch.watcher is None  # at once; it stops on a thread of its own, not the GUI's
    qtbot.waitUntil(lambda: watch_threads() == [], timeout=5000)
    settings.watch = True
    app.settings_changed(settings.model, settings.device, settings.runtime)
    qtbot.waitUntil(lambda: watch_threads() == ["watch-B"], timeout=5000)
    app.shutdown()
    assert watch_threads() == []


def test_stopping_the_watcher_never_waits_on_the_gui_thread(
    qtbot, library_copy, make_app, settings, monkeypatch
):
    """At a million photos a watcher's run takes up to a second to cancel: the window must not wait for it,
    and a watcher started next on the same library starts only once the old one has let go."""
    import time

    from photofinder.core.ingest.watcher import LibraryWatcher

    events: list[str] = []
    slow_stop, real_start = LibraryWatcher.stop, LibraryWatcher.start

    def stop(self, timeout: float = 30.0) -> None:
        time.sleep(0.5)  # a run being cancelled
        slow_stop(self, timeout)
        events.append("stopped")

    def start(self) -> None:
        events.append("started")
        real_start(self)

    monkeypatch.setattr(LibraryWatcher, "stop", stop)
    monkeypatch.setattr(LibraryWatcher, "start", start)
    library_copy("A")
    settings.watch = True
    app = make_app()
    qtbot.waitUntil(lambda: app.watch.watcher is not None and app.watch.watcher.running, timeout=5000)
    settings.watch = False
    t = time.perf_counter()
    app.settings_changed(settings.model, settings.device, settings.runtime)
    settings.watch = True
    app.settings_changed(settings.model, settings.device, settings.runtime)  # on again at once
    assert time.perf_counter() - t < 0.2  # the GUI thread went on (it waited 0.5 s before)
    qtbot.waitUntil(lambda: events.count("started") == 2, timeout=5000)
    assert events == ["started", "stopped", "started"]  # the new one after the old one let go
    app.shutdown()
    assert events[-1] == "stopped" and watch_threads() == []
