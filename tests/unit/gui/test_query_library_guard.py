"""The query controller's own guard: results of a library no longer shown are never shown (issue 19).

Two guards keep a switched-away library's results off the grid: the search thread drops a superseded request's
answer (its serial), and the controller drops an answer whose library is not the one shown. The first hides the
second in a plain switch (test_controllers.py); this drives the controller directly, as an answer that was
already on its way when the library changed would.
"""

from __future__ import annotations


def test_results_of_a_library_no_longer_shown_are_dropped_by_the_controller(qtbot, library_copy, make_app):
    library_copy("Alpha")
    library_copy("Beta")
    app = make_app()
    assert app.library.name == "Alpha"
    with qtbot.waitSignal(
        app.query.resultsReset, timeout=10000, check_params_cb=lambda req, found: req is not None
    ) as alpha:
        app.query.search_text("a red circle")
    alpha_req, alpha_found = alpha.args
    assert alpha_req.library.name == "Alpha" and alpha_found.results
    shown = []

    def record(req, found):  # a slot, not a lambda returning a bool (a PySide refcount bug aborts)
        shown.append(req)

    app.query.resultsReset.connect(record)
    with qtbot.waitSignal(app.libraries.libraryChanged, timeout=5000):
        app.libraries.select("Beta")
    shown.clear()
    app.searches.resultsReady.emit(alpha_req, alpha_found)  # Alpha's answer, arriving now
    assert [r.library.name for r in shown if r is not None] == []
    assert app.query.last_request is None or app.query.last_request.library.name == "Beta"
