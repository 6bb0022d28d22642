"""Fixtures every GUI test gets (imported by tests/e2e/conftest.py and tests/unit/gui/conftest.py).

- no QThread of the app, and no folder watcher's thread, outlives a test;
- a message box never blocks, and one the test did not expect fails it;
- a warning or error logged during a test fails it, unless the test allows it with
  ``@pytest.mark.allow_log(r"regex", ...)``.
"""

from __future__ import annotations

import logging
import re

import pytest


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "allow_log(*patterns): warnings/errors logged that match do not fail the test"
    )


@pytest.fixture(autouse=True)
def no_leftover_threads(qapp):
    """Fail any test that leaves one of the app's QThreads running (it would abort Qt at exit)."""
    yield
    import threading

    from photofinder.gui.library.folder_watch import THREAD_PREFIX
    from photofinder.gui.workers.threads import LIVE_THREADS

    running = [t.objectName() for t in list(LIVE_THREADS) if t.isRunning()]
    for t in list(LIVE_THREADS):
        t.quit()
        t.wait(5000)
    running += [t.name for t in threading.enumerate() if t.name.startswith(THREAD_PREFIX)]
    assert running == [], f"threads left running: {running}"


@pytest.fixture(autouse=True)
def dialogs(monkeypatch):
    """Message boxes never block a test: they are recorded, and a test that did not expect one fails."""
    import threading

    from PySide6.QtWidgets import QMessageBox

    shown: list[tuple[str, str]] = []
    threads: list[threading.Thread] = []  # where each box was made: only ever the GUI thread

    def record(kind, text):
        threads.append(threading.current_thread())
        shown.append((kind, text))

    for kind in ("warning", "information", "critical"):
        monkeypatch.setattr(
            QMessageBox,
            kind,
            staticmethod(
                lambda parent, title, text, *a, _k=kind, **k: (
                    record(_k, text) or QMessageBox.StandardButton.Ok
                )
            ),
        )
    monkeypatch.setattr(
        QMessageBox,
        "question",
        staticmethod(
            lambda parent, title, text, *a, **k: record("question", text) or QMessageBox.StandardButton.No
        ),
    )
    # dialogs.confirm builds its box (the safe button its default) and runs it: recorded, nothing clicked (= No)
    monkeypatch.setattr(QMessageBox, "exec", lambda box: record("question", box.text()) or 0)
    yield shown  # a test that expects a dialog checks it and removes it from the list
    assert all(t is threading.main_thread() for t in threads), f"a dialog made off the GUI thread: {threads}"
    unexpected = [d for d in shown if d[0] != "question"]
    assert unexpected == [], f"unexpected dialogs: {unexpected}"


@pytest.fixture(autouse=True)
def no_unexpected_log_warnings(request, caplog):
    """Fail a test on any warning or error logged that it did not declare with @pytest.mark.allow_log."""
    caplog.set_level(logging.WARNING)
    yield
    allowed = [re.compile(p) for m in request.node.iter_markers("allow_log") for p in m.args]
    bad = [
        f"{r.levelname} {r.name}: {r.getMessage()}"
        for when in ("setup", "call")
        for r in caplog.get_records(when)
        if r.levelno >= logging.WARNING and not any(p.search(r.getMessage()) for p in allowed)
    ]
    assert bad == [], f"unexpected log records: {bad}"


@pytest.fixture
def settings(data_dir, tiny_model):
    from photofinder.gui.settings import AppSettings

    s = AppSettings(data_dir)
    s.model = tiny_model
    s.device = "cpu"
    s.thumb_size = 96
    s.ocr = "off"  # the words pass reads no photo unless a test asks (tests/e2e/test_words_ui.py does)
    return s
