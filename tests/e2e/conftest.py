"""The desktop app driven as a user drives it: a main window on a private data dir with the tiny model."""

from __future__ import annotations

import shutil

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


@pytest.fixture(scope="session")
def indexed_data(tmp_path_factory, shape_folder, tiny_model, model_cache):
    """A data dir where `photofinder index SHAPES --model TINY` ran once this run (its words pass included)."""
    from photofinder.cli import main

    d = tmp_path_factory.mktemp("indexed-data")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PHOTOFINDER_DATA_DIR", str(d))
        mp.setenv("HF_HOME", str(d / "hf"))
        assert main(["index", str(shape_folder[0]), "--model", tiny_model]) == 0
    return d


@pytest.fixture
def indexed(indexed_data, data_dir, shape_folder):
    """The 40 shape photos indexed by the command line into this test's data dir: a copy of `indexed_data`, made
    once a run (0.7 s with its words pass, 1.5 s in a child process). The photos are the shared shape_folder:
    read-only; a test that changes them indexes its own copy (`photos`)."""
    shutil.copytree(indexed_data / "libraries", data_dir / "libraries", dirs_exist_ok=True)
    return shape_folder
