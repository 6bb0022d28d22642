"""Render the Explore view offscreen to a PNG (docs/explore.png), as the app draws it.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/explore_screenshot.py docs/explore.png

The library is generated pictures of coloured shapes (tests/shapes.py: 12 kinds, 8 photos each, dated across
two years) indexed with the tiny CLIP the test suite trains (tests/models/tiny-clip). That model knows only the
words of its training captions (colours, shapes, backgrounds): any other word is noise to it, so the library is
given its own vocabulary (`explore_vocabulary.txt` in the data folder, a feature of the app) made of the shipped
vocabulary's phrases in those words.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["HF_HUB_OFFLINE"] = "1"
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from helpers import make_photos  # noqa: E402
from shapes import BACKGROUNDS, COLOURS, SHAPES, Kind  # noqa: E402

KINDS = [
    Kind("circle", "red", "white"),
    Kind("circle", "red", "black"),
    Kind("square", "red", "white"),
    Kind("circle", "blue", "white"),
    Kind("star", "yellow", "gray"),
    Kind("triangle", "green", "brown"),
    Kind("square", "purple", "black"),
    Kind("star", "orange", "white"),
    Kind("triangle", "blue", "gray"),
    Kind("square", "green", "white"),
    Kind("star", "purple", "brown"),
    Kind("circle", "orange", "black"),
]


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/explore.png").resolve()
    work = Path(tempfile.mkdtemp(prefix="pf-explore-shot-"))
    os.environ["PHOTOFINDER_DATA_DIR"] = str(work / "data")
    os.environ["PHOTOFINDER_MODEL_CACHE"] = str(work / "models")
    folder = work / "Photos"
    photos = make_photos(folder, KINDS, 8, seed=11)
    for k, p in enumerate(sorted(photos)):  # file dates across two years
        t = time.mktime((2024 + k % 2, 1 + k % 12, 1 + k % 27, 12, 0, 0, 0, 0, -1))
        os.utime(p, (t, t))

    from photofinder.core.explore.naming import vocabulary

    known = {"a", "an", "something", "on", "background", *COLOURS, *SHAPES, *BACKGROUNDS}
    (work / "data").mkdir(parents=True, exist_ok=True)
    (work / "data" / "explore_vocabulary.txt").write_text(
        "\n".join(p for p in vocabulary() if set(p.split()) <= known) + "\n"
    )

    from PySide6.QtWidgets import QApplication

    from photofinder.gui.settings import AppSettings
    from photofinder.gui.window.main_window import MainWindow

    app = QApplication([])
    settings = AppSettings(work / "data")
    settings.model = str(ROOT / "tests" / "models" / "tiny-clip")
    window = MainWindow(work / "data", settings)
    window.remember_geometry = False
    window.show()

    def spin(cond, timeout: float) -> None:
        end = time.monotonic() + timeout
        while not cond():
            app.processEvents()
            time.sleep(0.01)
            if time.monotonic() > end:
                raise SystemExit("timed out")

    done = []
    window.app.indexing.finished.connect(lambda _r: done.append(1))
    window.app.indexing.add_folder(str(folder))
    spin(lambda: done, 120)
    window.explore.open()
    view = window.explore.view
    view.resize(1000, 660)
    spin(lambda: "groups of" in view.status.text() and "checking" not in view.status.text(), 120)
    for _ in range(30):
        app.processEvents()
        time.sleep(0.02)
    view.grab().save(str(out))
    print(out, [(g.name, g.count) for g in view.model.groups])
    window.close()


if __name__ == "__main__":
    main()
