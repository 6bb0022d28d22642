"""Shared fixtures: a private data dir per test, no network, the tiny test CLIP, generated photos."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = "offscreen"  # before any QApplication exists
os.environ["HF_HUB_OFFLINE"] = "1"  # the tests never touch the network
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import pytest  # noqa: E402

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))
sys.path.insert(0, str(TESTS.parent / "bench"))
TINY_MODEL = TESTS / "models" / "tiny-clip"

from helpers import QUERY_KINDS, CountingEmbedder, make_photos  # noqa: E402
from shapes import Kind  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One ONNX export cache for the whole run (each test's data dir is new; exporting a model per test is not)."""
    d = tmp_path_factory.mktemp("model-cache")
    os.environ["PHOTOFINDER_MODEL_CACHE"] = str(d)
    return d


@pytest.fixture(autouse=True)
def data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own empty data dir: nothing is ever written to the user's real one."""
    d = tmp_path_factory.mktemp("data")
    monkeypatch.setenv("PHOTOFINDER_DATA_DIR", str(d))
    monkeypatch.setenv("HF_HOME", str(d / "hf"))
    return d


@pytest.fixture(scope="session")
def tiny_model() -> str:
    return str(TINY_MODEL)


@pytest.fixture(scope="session")
def tiny_embedder(tiny_model: str):
    from photofinder.core.embedder import ClipEmbedder

    e = ClipEmbedder(tiny_model, device="cpu")
    e.load()
    return e


@pytest.fixture
def counting(tiny_embedder) -> CountingEmbedder:
    return CountingEmbedder(tiny_embedder)


@pytest.fixture(scope="session")
def shape_folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[Path, Kind]]:
    """A read-only set of 40 generated photos: 8 kinds x 5 (reuse it; copy it before changing anything)."""
    folder = tmp_path_factory.mktemp("shapes") / "photos"
    return folder, make_photos(folder, QUERY_KINDS, 5)


@pytest.fixture
def photos(tmp_path: Path, shape_folder) -> tuple[Path, dict[Path, Kind]]:
    """A private copy of the shape photos that a test may change."""
    src, kinds = shape_folder
    dst = tmp_path / "photos"
    shutil.copytree(src, dst)
    return dst, {dst / p.name: k for p, k in kinds.items()}


@pytest.fixture
def store(data_dir: Path):
    from photofinder.core.library import LibraryStore

    return LibraryStore(data_dir)


@pytest.fixture(scope="session")
def vitb32_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A random-initialised CLIP with exactly the openai/clip-vit-base-patch32 architecture (real sizes, real cost)."""
    from vitb32 import make_vitb32

    return str(make_vitb32(tmp_path_factory.mktemp("vit-b-32")))


@pytest.fixture
def cli(capsys):
    """The photofinder command line run in this process, as `photofinder ARGS...` in a shell would run it.

    Returns a CompletedProcess (returncode, stdout, stderr); with check (the default) a non-zero exit fails the
    test with its stderr. Two seconds quicker a command than a real process (no interpreter start, no imports);
    tests/e2e/test_cli.py keeps real processes where the process itself is what is tested.
    """
    import subprocess

    from photofinder.cli import main

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        capsys.readouterr()
        try:
            rc = main([str(a) for a in args])
        except SystemExit as e:  # argparse: --help, --version, a command line it can't read
            rc = e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
        out, err = capsys.readouterr()
        if check:
            assert rc == 0, err
        return subprocess.CompletedProcess(["photofinder", *args], rc, out, err)

    return run
