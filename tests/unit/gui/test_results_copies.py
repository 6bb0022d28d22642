"""The grid's side of hiding duplicates: a tile's count grows when a later page brings copies of it, and the
copies it hides can be shown as tiles of their own (never counted twice)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from photofinder.core.find.search import SearchResult


@pytest.fixture
def model():
    from photofinder.gui.results.results_model import ResultsModel
    from photofinder.gui.results.thumbnail_loader import ThumbnailLoader

    loader = ThumbnailLoader()
    yield ResultsModel(loader)
    loader.shutdown()


def test_a_tile_grows_with_later_pages_and_shows_its_copies(qtbot, model):
    from photofinder.gui.results.results_model import CopiesRole, PathRole

    a, b, c, d, e = (SearchResult(i, f"/p/{n}.jpg", None) for i, n in enumerate("abcde", 1))
    model.set_results([replace(a, duplicates=(d,)), b], None, more=True)
    counts = lambda: [model.index(r).data(CopiesRole) for r in range(model.rowCount())]  # noqa: E731
    assert counts() == [2, 1]
    with qtbot.waitSignal(model.dataChanged, timeout=1000) as changed:
        model.update_results([replace(a, duplicates=(d, e))])  # the next page held another copy of a
    assert CopiesRole in changed.args[2]
    model.append_results([c], more=False)
    assert counts() == [3, 1, 1]
    model.show_copies(0)
    assert [str(model.index(r).data(PathRole)) for r in range(model.rowCount())] == [
        "/p/a.jpg",
        "/p/d.jpg",
        "/p/e.jpg",
        "/p/b.jpg",
        "/p/c.jpg",
    ]
    assert counts() == [1, 1, 1, 1, 1] and model.result_for_path("/p/b.jpg") == b
    model.update_results([replace(a, duplicates=(d, e))])  # shown as tiles already: not counted again
    assert counts()[0] == 1
