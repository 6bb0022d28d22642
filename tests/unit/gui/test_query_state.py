"""The QueryController's query (issue 10) without a window: chips, filters and sort go out as one core Query; only
good matches are shown until `show_more`."""

from __future__ import annotations

from photofinder.core.find.query import TEXT, Filters, Term


def answered(qtbot, app, action):
    """Run `action` and return what the grid is given next (request, Found), and the match count."""
    counts = []
    app.query.matchesChanged.connect(counts.append)
    with qtbot.waitSignal(
        app.query.resultsReset,
        timeout=10000,
        check_params_cb=lambda req, found: req is not None and req.kind == "query",
    ) as b:
        action()
    return b.args[0], b.args[1], counts[-1]


def test_good_matches_first_then_all_and_filters_and_sort_rerun(qtbot, library_copy, make_app):
    library_copy()
    app = make_app()
    q = app.query
    req, found, count = answered(
        qtbot,
        app,
        lambda: q.run_terms([Term(TEXT, "a red circle"), Term(TEXT, "a black background", negative=True)]),
    )
    assert req.label == "a red circle − a black background" and len(req.query.terms) == 2
    assert found.results and all(r.good for r in found.results)
    assert count.shown == len(found.results) == count.good < count.total == 40 and count.more
    pages = []
    q.pageChanged.connect(pages.append)
    q.resultsReset.connect(lambda req, f: pages.append(len(f.results)))
    q.show_more()  # no new search: the answer is kept
    assert pages[-2] == 40 and pages[-1].kind == "grid"

    req, found, count = answered(qtbot, app, lambda: q.set_sort("date"))
    assert req.query.sort == "date" and req.query.terms == q.view.terms and count.total == 40
    req, found, count = answered(qtbot, app, lambda: q.set_filters(Filters(orientation="portrait")))
    assert req.query.filters.orientation == "portrait" and found.results == []
    assert pages[-1].text == "No photos match these filters."
    req, found, count = answered(qtbot, app, lambda: q.run_terms([]))  # no terms: browse within the filters
    assert req.query.terms == () and not count.judged

    with qtbot.waitSignal(
        q.resultsReset,
        timeout=10000,
        check_params_cb=lambda req, found: req is not None and req.kind == "browse",
    ):
        q.set_filters(Filters())  # nothing left: the library's pages, newest first
    assert app.query.view.filters == Filters()


def test_no_good_matches_offers_the_closest(qtbot, library_copy, make_app):
    library_copy()
    app = make_app()
    pages = []
    app.query.pageChanged.connect(pages.append)
    _, found, count = answered(
        qtbot, app, lambda: app.query.search_text("a green square on a gray background")
    )
    assert found.results == [] and count.good == 0 and count.total > 0
    assert "No good matches" in pages[-1].text and "show the closest" in pages[-1].text
