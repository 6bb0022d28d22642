"""The search field is always on screen: chips sit inside it after the text, and never push it out of sight."""

from __future__ import annotations

from PySide6.QtCore import QRect

from photofinder.core.find.query import TEXT, Term


def field_on_screen(window) -> bool:
    edit = window.search_bar.edit
    if not edit.isVisible() or edit.visibleRegion().isEmpty():
        return False
    r = QRect(edit.mapTo(window, edit.rect().topLeft()), edit.size())
    return window.rect().contains(r) and r.width() >= 100


def test_search_field_stays_visible_with_five_chips_at_800x600_and_after_they_are_cleared(qtbot, window):
    window.resize(800, 600)
    qtbot.waitUntil(lambda: window.width() == 800)
    window.search_bar.edit.setText("a red circle")
    for word in ("people", "a black background", "text", "blur", "cars"):
        window.search_bar.add_term(Term(TEXT, word, negative=True, label=word), emit=False)
    qtbot.wait(50)
    assert len(window.search_bar.chips) == 5
    assert window.width() == 800  # the chips did not widen the window either
    assert field_on_screen(window)
    # the chips come after the typed text: the query reads left to right
    edit_x = window.search_bar.edit.mapTo(window, window.search_bar.edit.rect().topLeft()).x()
    last = window.search_bar.chips[-1]  # the newest, in view (the strip scrolls to it)
    chip_x = last.mapTo(window, last.rect().topLeft()).x()
    assert chip_x > edit_x
    # one ✕ per chip; the weight does not wear a "×"
    assert all("×" not in c.weight.text() for c in window.search_bar.chips)
    window.search_bar.clear(emit=True)
    qtbot.wait(50)
    assert field_on_screen(window)
    window.resize(1200, 800)
    qtbot.waitUntil(lambda: window.width() == 1200)
    assert window.search_bar.edit.width() > 400  # it grows with the window
