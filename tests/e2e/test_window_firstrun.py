"""First run without a model (issue 20, item 6): the welcome explains the one-time download and offers the
model and a local folder before any folder is added; a folder is checked before it is kept; a model problem is
one clear line in the window and the whole message in the log."""

from __future__ import annotations

import logging

import pytest
from PySide6.QtWidgets import QFileDialog, QLabel

from photofinder.core.encode.models import explain_unavailable


@pytest.fixture
def no_model(settings):
    settings.model = "nobody/no-such-clip"  # not cached, and the tests are offline
    return settings


@pytest.fixture
def first_window(qtbot, data_dir, no_model):
    from photofinder.gui.window.main_window import MainWindow

    w = MainWindow(data_dir, no_model)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()


def test_the_welcome_explains_the_download_before_any_folder(qtbot, first_window):
    w = first_window
    qtbot.waitUntil(lambda: w.pages.currentWidget() is w.empty_page)
    assert w.welcome is not None and w.welcome.isVisible()
    text = " ".join(lbl.text() for lbl in w.welcome.findChildren(QLabel))
    assert "once" in text and "Hugging Face" in text
    assert w.welcome.models.count() >= 3 and w.welcome.folder_button.isVisible()
    old = w.welcome.models.findData("openai/clip-vit-base-patch32")
    w.welcome.models.setCurrentIndex(old)
    w.welcome.models.activated.emit(old)
    assert w.settings.model == "openai/clip-vit-base-patch32"


def test_a_first_run_offers_the_core_menu_with_the_recommended_model_preselected(qtbot, data_dir):
    """One list, in core: the welcome and Settings offer exactly `photofinder models`' choices, and a first run
    (no model ever chosen) starts on the recommended one instead of silently taking the old default."""
    from photofinder.core.encode.menu import choices, recommended
    from photofinder.gui.settings import AppSettings
    from photofinder.gui.window.dialogs import SettingsDialog
    from photofinder.gui.window.main_window import MainWindow

    fresh = AppSettings(data_dir)
    fresh.device, fresh.ocr = "cpu", "off"
    w = MainWindow(data_dir, fresh)
    qtbot.addWidget(w)
    offered = [w.welcome.models.itemData(i) for i in range(w.welcome.models.count())]
    assert offered == [c.id for c in choices()]
    assert w.welcome.models.currentData() == recommended().id == fresh.model
    dialog = SettingsDialog(fresh)
    qtbot.addWidget(dialog)
    in_settings = [dialog.menu.itemData(i) for i in range(1, dialog.menu.count())]
    assert in_settings == offered
    dialog.menu.activated.emit(offered.index("openai/clip-vit-base-patch32") + 1)
    assert dialog.model.text() == "openai/clip-vit-base-patch32"
    w.close()


def test_the_welcome_is_not_shown_when_the_model_is_here(qtbot, window):
    assert window.welcome is None  # the tiny test model is a local folder


@pytest.mark.allow_log("model folder refused")
def test_a_model_folder_is_checked_before_it_is_kept(qtbot, first_window, tmp_path, monkeypatch, tiny_model):
    w, before = first_window, first_window.settings.model
    empty = tmp_path / "not-a-model"
    empty.mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: str(empty)))
    w.welcome.folder_button.click()
    assert w.settings.model == before and "no config.json" in w.welcome.problem.text()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: tiny_model))
    w.welcome.folder_button.click()
    assert w.settings.model == tiny_model and "nothing to download" in w.welcome.problem.text()


@pytest.mark.allow_log("model problem", "model folder refused")
def test_a_model_problem_is_one_clear_line_and_logged(
    qtbot, first_window, caplog, tmp_path, monkeypatch, dialogs
):
    w = first_window
    message = explain_unavailable(
        "nobody/no-such-clip", OSError("HTTPSConnectionPool(host='huggingface.co')")
    )
    w.app.modelProblem.emit(message)
    line = w.activity.text() if hasattr(w.activity, "text") else w.activity._notice
    assert "--model" not in line and "HTTPSConnectionPool" not in line and "\n" not in line
    assert "could not be downloaded" in line and "Settings ▸ Model" in line
    assert any(
        "HTTPSConnectionPool" in r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING
    )
    assert [k for k, _ in dialogs] == ["question"] and "--model" not in dialogs[0][1]
    dialogs.clear()
