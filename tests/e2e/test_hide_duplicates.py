"""View → Hide duplicates: one tile per group of copies, a badge with its count, remembered; right-click shows
the copies it hides."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from photofinder.gui.results.results_model import CopiesRole, PathRole


def tiles(window) -> dict[Path, int]:
    m = window.results
    return {Path(m.index(r).data(PathRole)): m.index(r).data(CopiesRole) for r in range(m.rowCount())}


def test_hide_duplicates_shows_one_badged_tile_per_group(qtbot, window, photos, settings, tmp_path):
    folder, kinds = photos
    original = min(kinds)
    copies = folder / "backup"
    copies.mkdir()
    shutil.copy2(original, copies / "copy-0.jpg")
    shutil.copy2(original, copies / "copy-1.jpg")
    with Image.open(original) as im:
        # three quarters: a half-size copy of these hard-edged drawings is not always confirmed by the pixel
        # rule (10 of 24 shapes; see docs/duplicates.md), while the photo corpus's half-size copy is
        im.resize((im.width * 3 // 4, im.height * 3 // 4)).save(copies / "small.jpg", quality=90)
    dups = {copies / "copy-0.jpg", copies / "copy-1.jpg", copies / "small.jpg"}
    with qtbot.waitSignal(window.app.indexing.finished, timeout=60000):
        window.app.indexing.add_folder(str(folder))
    total = len(kinds) + 3
    qtbot.waitUntil(lambda: len(tiles(window)) == total, timeout=10000)
    assert set(tiles(window).values()) == {1} and not window.hide_duplicates_action.isChecked()

    window.hide_duplicates_action.trigger()
    qtbot.waitUntil(lambda: len(tiles(window)) < total, timeout=20000)
    shown = tiles(window)
    assert sum(shown.values()) == total  # every photo is a tile or counted in one
    group = {original, *dups}
    (tile,) = [p for p in shown if p in group]  # one tile for the four copies, the full-size one
    assert shown[tile] >= 4 and tile != copies / "small.jpg"
    assert settings.hide_duplicates  # remembered
    qtbot.waitUntil(lambda: "duplicates hidden" in window.status.text(), timeout=5000)

    window.resize(900, 600)
    qtbot.wait(300)  # thumbnails arrive
    shot = Path(os.environ.get("PHOTOFINDER_TEST_SHOT") or tmp_path / "hide-duplicates.png")  # to look at
    window.grab().save(str(shot))
    assert shot.stat().st_size > 0

    row = next(
        r for r in range(window.results.rowCount()) if Path(window.results.index(r).data(PathRole)) == tile
    )
    idx = window.results.index(row)
    window.view.scrollTo(idx)
    p = window.view.viewport().mapTo(window, window.view.visualRect(idx).center())
    QTest.mouseClick(window.windowHandle(), Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier, p)
    qtbot.waitUntil(lambda: window.view.menu is not None and window.view.menu.isVisible())
    action = window.view.show_copies_action
    assert action.text() == f"Show the {shown[tile] - 1} hidden copies"
    action.trigger()
    window.view.menu.close()
    after = tiles(window)
    assert group <= set(after) and after[tile] == 1 and len(after) == len(shown) + shown[tile] - 1

    window.hide_duplicates_action.trigger()  # off again: every photo its own tile
    qtbot.waitUntil(lambda: len(tiles(window)) == total, timeout=20000)
    assert set(tiles(window).values()) == {1} and not settings.hide_duplicates
