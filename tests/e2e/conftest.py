"""The desktop app driven as a user drives it: a main window on a private data dir with the tiny model."""

from __future__ import annotations

import pytest
from qt_fixtures import dialogs, no_leftover_threads, no_unexpected_log_warnings, pytest_configure, settings  # noqa: F401


@pytest.fixture
def window(qtbot, data_dir, settings):
    from photofinder.gui.window.main_window import MainWindow

    w = MainWindow(data_dir, settings)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()
