"""Results (issue 20, item 8): weaker matches set apart after "show more" and a way back, one wording for
none, a "why it matched" in the tooltip, and Find similar (a new query) beside Add to search."""

from __future__ import annotations

from PySide6.QtCore import Qt

from photofinder.core.find.query import TEXT, Term
from photofinder.core.find.search import SearchResult
from photofinder.gui.query.query_state import SHOW_GOOD, MatchCount
from photofinder.gui.results.results_model import ResultsModel
from photofinder.gui.results.thumbnail_loader import ThumbnailLoader
from photofinder.gui.results.tile_delegate import WEAKER_ROLE


def results(good: int, weak: int) -> list[SearchResult]:
    return [SearchResult(i, f"/p/{i}.jpg", 0.3 - i * 0.01, good=i < good) for i in range(good + weak)]


def test_weaker_matches_are_set_apart_with_a_way_back(qtbot, window):
    count = MatchCount(shown=5, good=2, total=5, judged=True)
    assert "then 3 weaker matches" in count.text() and SHOW_GOOD in count.text()
    loader = ThumbnailLoader()
    model = ResultsModel(loader)
    model.set_results(results(2, 3), None, label="dogs")
    marks = [model.index(r).data(WEAKER_ROLE) for r in range(5)]
    assert marks == [0, 0, 2, 1, 1]  # the divider at the first weaker match
    model.set_results(results(2, 0), None)
    assert [model.index(r).data(WEAKER_ROLE) for r in range(2)] == [0, 0]
    loader.shutdown()
    shown = []
    window.app.query.show_good = lambda: shown.append(True)
    window.results_bar.showGood.disconnect()
    window.results_bar.showGood.connect(window.app.query.show_good)
    window.results_bar.show_count(count)
    window.results_bar.count.linkActivated.emit(SHOW_GOOD)
    assert shown == [True]


def test_none_good_reads_no_good_matches_everywhere():
    assert MatchCount(0, 0, 10, True).text() == "No good matches · <a href='more'>show more</a>"
    assert MatchCount(10, 0, 10, True).text().startswith("No good matches · then 10 weaker")
    assert "0 good" not in MatchCount(10, 0, 10, True).text()


def test_the_tooltip_says_why_a_photo_matched(qtbot):
    loader = ThumbnailLoader()
    model = ResultsModel(loader)
    model.set_results(results(1, 1), None, label="dog on a beach")
    tip = model.index(0).data(Qt.ItemDataRole.ToolTipRole)
    assert "Why: looks like “dog on a beach”" in tip and "a good match" in tip
    assert "weaker" in model.index(1).data(Qt.ItemDataRole.ToolTipRole)
    loader.shutdown()


def test_find_similar_starts_a_new_query_and_add_to_search_adds(qtbot, window, tmp_path):
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    for f in (a, b):
        f.write_bytes(b"")
    window.search_bar.edit.setText("sunset")
    window.search_bar.add_term(Term(TEXT, "people", negative=True, label="people"), emit=False)
    window.find_similar(str(a))
    assert [c.term.label for c in window.search_bar.chips] == ["Like a.png"]
    assert window.search_bar.edit.text() == ""
    window.add_to_search(str(b))
    assert [c.term.label for c in window.search_bar.chips] == ["Like a.png", "Like b.png"]
