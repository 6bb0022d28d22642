"""Library → Find duplicates…: groups side by side, nothing moves without a confirmation, confirmed ones go to
a (fake) trash and leave the library and the grid."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from photofinder.gui.results.results_model import PathRole


def shown(window) -> list[Path]:
    m = window.results
    return [Path(m.index(r).data(PathRole)) for r in range(m.rowCount())]


@pytest.fixture
def fake_trash(tmp_path, monkeypatch):
    """Files 'sent to the trash' are moved into a folder of the test: the real trash is never touched."""
    from photofinder.gui.library import duplicates_dialog

    bin_ = tmp_path / "trash"
    bin_.mkdir()
    sent: list[str] = []

    def send(path: str) -> None:
        sent.append(path)
        os.replace(path, bin_ / f"{len(sent)}-{os.path.basename(path)}")

    monkeypatch.setattr(duplicates_dialog, "send_to_trash", send)
    return sent


def test_duplicates_are_shown_side_by_side_and_only_confirmed_ones_go_to_the_trash(
    qtbot, window, photos, fake_trash, dialogs, monkeypatch
):
    from photofinder.gui.library.duplicates_dialog import DuplicatesDialog

    folder, kinds = photos
    original = min(kinds)
    copies = folder / "backup"
    copies.mkdir()
    for i in range(2):
        shutil.copy2(original, copies / f"copy-{i}.jpg")
    with qtbot.waitSignal(window.app.indexing.finished, timeout=60000):
        window.app.indexing.add_folder(str(folder))
    total = len(kinds) + 2
    qtbot.waitUntil(lambda: len(shown(window)) == total, timeout=10000)

    window.duplicates_action.trigger()
    qtbot.waitUntil(lambda: window.findChild(DuplicatesDialog) is not None)
    d = window.findChild(DuplicatesDialog)
    d._on_progress("looking closer", 3, 10)  # the pixel checks and the close looks count pairs, not photos
    assert d.label.text() == "Looking for duplicates: looking closer 3 of 10 pairs…"
    qtbot.waitUntil(lambda: len(d.cards) > 0, timeout=30000)
    group = [
        c
        for c in d.cards
        if Path(c.member.path) in {original, copies / "copy-0.jpg", copies / "copy-1.jpg"}
        and not c.group.similar
    ]
    assert len(group) == 3 and sum(c.keep for c in group) == 1
    keeper = next(c for c in group if c.keep)
    assert not keeper.check.isChecked() and all(c.check.isChecked() for c in group if not c.keep)
    assert not keeper.check.isEnabled()  # every other copy is checked: the last one can't be
    assert all(
        not c.check.isChecked() for c in d.cards if c.group.similar
    )  # similar shots: none pre-selected
    assert " KB · 320 × 240" in keeper.info.text() and str(keeper.member.folder) in keeper.info.text()
    assert (
        keeper.findChild(type(d.label)).pixmap() is not None
        and not keeper.findChild(type(d.label)).pixmap().isNull()
    )
    checked = {c.member.path for c in group if not c.keep}
    for c in d.cards:
        if c not in group:
            c.check.setChecked(False)  # the user keeps every other group as it is
    assert "Move 2 checked" in d.trash_button.text()

    d.trash_button.click()  # the dialog recorder answers No: nothing moves
    assert [k for k, _ in dialogs] == ["question"] and "Move 2 photos to the trash" in dialogs[0][1]
    assert f"keeps {keeper.member.path.split('/')[-1]}" in dialogs[0][1]  # says what stays, per group
    dialogs.clear()
    qtbot.wait(200)
    assert fake_trash == [] and all(os.path.exists(p) for p in checked)

    monkeypatch.setattr("photofinder.gui.window.dialogs.confirm", lambda *a, **k: True)
    with qtbot.waitSignal(d.changed, timeout=10000):
        d.trash_button.click()
    assert set(fake_trash) == checked and not any(os.path.exists(p) for p in checked)
    assert os.path.exists(keeper.member.path)
    qtbot.waitUntil(lambda: len(shown(window)) == total - 2, timeout=10000)
    assert not checked & {str(p) for p in shown(window)}
    qtbot.waitUntil(lambda: f"{total - 2} photos" in window.status.text(), timeout=5000)
    d.close()
