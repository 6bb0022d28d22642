"""Words and places in the window (issue 22): the words pass follows indexing on its own progress line, a
`text:"..."` chip finds the photo with those words, the Places facet counts and filters by country and city."""

from __future__ import annotations

import numpy as np
from helpers import QUERY_KINDS
from PySide6.QtCore import Qt
from shapes import draw
from test_mainwindow import search, shown_paths
from words_images import PLACES, text_photos, with_gps

from photofinder.gui.results.details import describe


def test_words_and_places_in_the_window(qtbot, window, tmp_path, places_read_once):
    folder = tmp_path / "photos"
    words = text_photos(folder)
    rng = np.random.default_rng(5)
    geo = {
        n: with_gps(draw(QUERY_KINDS[1], (320, 240), rng), folder / f"geo-{n}.jpg", *c)
        for n, c in PLACES.items()
    }
    window.app.settings.ocr = "auto"
    lines = []
    window.app.words.progress.connect(lines.append)
    with qtbot.waitSignal(window.app.words.finished, timeout=60000) as read:
        window.app.indexing.add_folder(str(folder))
    report = read.args[0]
    assert report.with_text >= len(words) and lines and lines[-1].phase in ("reading words", "done")
    assert "photos with words" in window.words_line.label.text()

    search(qtbot, window, 'text:"open 24 hours"')
    chip = window.search_bar.chips[-1]
    assert chip.term.kind == "words" and "open 24 hours" in chip.label.text()  # the Text chip
    qtbot.waitUntil(lambda: window.results.rowCount() == 1)
    assert shown_paths(window) == [words["bakery"]]
    r = window.results._results[0]
    window.details.show_result(r)
    assert "Bakery open 24 hours" in window.details.toolTip()  # the details line shows the words read
    assert r.highlights  # where the words are: the preview frames them
    window.preview.open_at(0)
    qtbot.waitUntil(lambda: window.preview.loaded, timeout=10000)
    img = window.preview._pixmap.toImage()
    x0, y0, x1, y1 = r.highlights[0]
    edge = img.pixelColor(int(x0 * img.width() - 3), int((y0 + y1) / 2 * img.height()))
    assert (edge.red(), edge.green(), edge.blue()) == (255, 200, 0)
    window.preview.close()

    panel = window.filters.panel
    qtbot.waitUntil(lambda: panel.place_item("Portugal") is not None, timeout=10000)
    assert panel.place_item("Portugal").text(1) == "2" and panel.place_item("France").text(1) == "1"
    with qtbot.waitSignal(window.app.searches.resultsReady, timeout=20000):
        qtbot.keyClick(window.search_bar.edit, Qt.Key.Key_Escape)  # back to browsing
    with qtbot.waitSignal(window.app.searches.resultsReady, timeout=20000):
        panel.place_item("Portugal").setSelected(True)
    qtbot.waitUntil(lambda: window.results.rowCount() == 2)
    assert sorted(shown_paths(window)) == sorted([geo["lisbon"], geo["porto"]])
    with qtbot.waitSignal(window.app.searches.resultsReady, timeout=20000):
        panel.places.clearSelection()
        panel.place_item("Lisbon").setSelected(True)
    qtbot.waitUntil(lambda: shown_paths(window) == [geo["lisbon"]])
    assert "Lisbon, Lisbon, Portugal" in describe(window.results._results[0])  # the place, in the details
