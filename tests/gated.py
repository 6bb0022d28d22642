"""An embedder whose load, text and image encoding can be held back by the test: the window's busy states last
as long as the test wants, so it can look at them."""

from __future__ import annotations

import threading


class Gates:
    """`load`, `text` and `pixels` pass freely until the test holds them; `allow(name, n)` lets n calls through.

    `entered[name]` is set when a call reaches the gate and waits there."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.budget: dict[str, int | None] = {n: None for n in ("load", "text", "pixels")}
        self.entered = {n: threading.Event() for n in self.budget}

    def hold(self, name: str) -> None:
        with self._cond:
            self.budget[name] = 0
            self.entered[name].clear()

    def allow(self, name: str, n: int = 1) -> None:
        with self._cond:
            self.entered[name].clear()
            self.budget[name] = (self.budget[name] or 0) + n
            self._cond.notify_all()

    def release(self, name: str | None = None) -> None:
        with self._cond:
            for n in self.budget:
                if name in (None, n):
                    self.budget[n] = None
            self._cond.notify_all()

    def passing(self, name: str) -> None:
        with self._cond:
            if self.budget[name] == 0:
                self.entered[name].set()
            ok = self._cond.wait_for(lambda: self.budget[name] != 0, timeout=20)
            assert ok, "the test never released its gate"
            if self.budget[name] is not None:
                self.budget[name] -= 1


class GatedEmbedder:
    def __init__(self, inner, gates: Gates):
        self.inner, self.gates, self.loaded = inner, gates, False
        self.model_id = inner.model_id
        self.runtime = "torch"

    spec = property(lambda self: self.inner.spec)
    dim = property(lambda self: self.inner.dim)
    device = property(lambda self: self.inner.device)
    fingerprint = property(lambda self: self.inner.fingerprint)

    def load(self) -> None:
        self.gates.passing("load")
        self.loaded = True

    def unload(self) -> None:
        self.loaded = False

    def encode_text(self, texts):
        self.gates.passing("text")
        return self.inner.encode_text(texts)

    def encode_pixels(self, pixels):
        self.gates.passing("pixels")
        return self.inner.encode_pixels(pixels)


def gated_window(qtbot, data_dir, settings, tiny_embedder, gates: Gates):
    """A main window whose models are GatedEmbedders over the tiny CLIP."""
    from photofinder.gui.controllers import AppController
    from photofinder.gui.window.main_window import MainWindow
    from photofinder.gui.workers.model_pool import EmbedderPool

    pool = EmbedderPool("cpu", factory=lambda *a, **k: GatedEmbedder(tiny_embedder, gates))
    app = AppController(data_dir, settings, pool)
    w = MainWindow(data_dir, settings, app)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w
