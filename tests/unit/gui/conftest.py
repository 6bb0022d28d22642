"""Controller tests: the app's logic without its window, with an embedder that tells where it ran and can block."""

from __future__ import annotations

import shutil
import threading

import pytest
from qt_fixtures import dialogs, no_leftover_threads, no_unexpected_log_warnings, pytest_configure, settings  # noqa: F401


class FakeEmbedder:
    """The tiny CLIP, recording the thread of every load and encode; a text in `gates` blocks until released."""

    def __init__(
        self,
        inner,
        model: str,
        device: str,
        progress,
        gates: dict[str, threading.Event],
        runtime: str = "auto",
        purpose: str = "index",
    ):
        self.inner, self.model_ref, self.device_pref, self.progress = inner, model, device, progress
        self.runtime_pref, self.purpose = runtime, purpose
        self.model_id = inner.model_id
        self.loaded = False
        self.gates = gates
        self.entered: dict[str, threading.Event] = {}
        self.threads: list[tuple[str, threading.Thread]] = []
        self.texts: list[str] = []
        self.download = False  # load() reports download progress, like a first-use download

    spec = property(lambda self: self.inner.spec)
    dim = property(lambda self: self.inner.dim)
    device = property(lambda self: self.inner.device)

    def load(self) -> None:
        self.threads.append(("load", threading.current_thread()))
        if self.download:
            self.progress(1, 2)  # raises DownloadCancelled when cancelled
        self.loaded = True

    def encode_text(self, texts):
        self.threads.append(("text", threading.current_thread()))
        text = texts[0]
        self.entered.setdefault(text, threading.Event()).set()
        gate = self.gates.get(text)
        if gate is not None:
            assert gate.wait(10), "the test never released its gate"
        self.texts.append(text)
        return self.inner.encode_text(texts)

    def unload(self) -> None:
        self.threads.append(("unload", threading.current_thread()))
        self.loaded = False

    def encode_pixels(self, pixels):
        self.threads.append(("pixels", threading.current_thread()))
        return self.inner.encode_pixels(pixels)


class FakeFactory:
    """An EmbedderPool factory that keeps what it made."""

    embedder = FakeEmbedder  # the class it makes, for a test that patches it (never `import conftest`)

    def __init__(self, inner):
        self.inner = inner
        self.made: list[FakeEmbedder] = []
        self.gates: dict[str, threading.Event] = {}
        self.download = False

    def __call__(
        self, model: str, device: str, progress, runtime: str = "auto", purpose: str = "index"
    ) -> FakeEmbedder:
        e = FakeEmbedder(self.inner, model, device, progress, self.gates, runtime, purpose)
        e.download = self.download
        self.made.append(e)
        return e

    @property
    def last(self) -> FakeEmbedder:
        return self.made[-1]


@pytest.fixture
def factory(tiny_embedder) -> FakeFactory:
    f = FakeFactory(tiny_embedder)
    yield f
    for g in f.gates.values():
        g.set()  # never leave a worker blocked


@pytest.fixture(scope="session")
def indexed_template(tmp_path_factory, shape_folder, tiny_embedder):
    """A library of the 40 shape photos, indexed once per session with the tiny model."""
    from helpers import new_library

    from photofinder.core.ingest.indexer import Indexer
    from photofinder.core.store.library import LibraryStore

    root = tmp_path_factory.mktemp("template")
    lib = new_library(LibraryStore(root), shape_folder[0])
    Indexer(lib, tiny_embedder).run()
    return lib.root


@pytest.fixture
def library_copy(data_dir, indexed_template):
    """Put a copy of the indexed library into this test's data dir under a name."""

    def copy(name: str = "Photos"):
        dst = data_dir / "libraries" / name
        shutil.copytree(indexed_template, dst)
        return dst

    return copy


@pytest.fixture
def make_app(qtbot, data_dir, settings, factory):
    """An AppController over the fake embedders; shut down at the end of the test."""
    from photofinder.gui.controllers import AppController
    from photofinder.gui.workers.model_pool import EmbedderPool

    made = []

    def make(idle_ms: int = 600_000, start: bool = True):
        app = AppController(data_dir, settings, EmbedderPool("cpu", factory=factory, idle_ms=idle_ms))
        made.append(app)
        if start:
            with qtbot.waitSignal(app.libraries.summaryChanged, timeout=5000, raising=False):
                app.start()
        return app

    yield make
    for g in factory.gates.values():
        g.set()
    for app in made:
        app.shutdown()
