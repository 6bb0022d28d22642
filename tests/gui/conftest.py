"""GUI fixtures: a main window on a private data dir with the tiny model, and a check that no thread outlives a test."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def no_leftover_threads(qapp):
    """Fail any test that leaves one of the app's QThreads running (it would abort Qt at exit)."""
    yield
    from photofinder.gui.workers import LIVE_THREADS

    running = [t.objectName() for t in list(LIVE_THREADS) if t.isRunning()]
    for t in list(LIVE_THREADS):
        t.quit()
        t.wait(5000)
    assert running == [], f"threads left running: {running}"


@pytest.fixture(autouse=True)
def dialogs(monkeypatch):
    """Message boxes never block a test: they are recorded, and a test that did not expect one fails."""
    from PySide6.QtWidgets import QMessageBox

    shown: list[tuple[str, str]] = []
    for kind in ("warning", "information", "critical"):
        monkeypatch.setattr(QMessageBox, kind, staticmethod(
            lambda parent, title, text, *a, _k=kind, **k: shown.append((_k, text)) or QMessageBox.StandardButton.Ok))
    monkeypatch.setattr(QMessageBox, "question", staticmethod(
        lambda parent, title, text, *a, **k: shown.append(("question", text)) or QMessageBox.StandardButton.No))
    yield shown  # a test that expects a dialog checks it and removes it from the list
    unexpected = [d for d in shown if d[0] != "question"]
    assert unexpected == [], f"unexpected dialogs: {unexpected}"


@pytest.fixture
def settings(data_dir, tiny_model):
    from photofinder.gui.settings import AppSettings

    s = AppSettings(data_dir)
    s.model = tiny_model
    s.device = "cpu"
    s.thumb_size = 96
    return s


@pytest.fixture
def window(qtbot, data_dir, settings):
    from photofinder.gui.mainwindow import MainWindow

    w = MainWindow(data_dir, settings)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()
