"""Shared fixtures: a private data dir per test, no network, the tiny test CLIP, generated photos."""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = "offscreen"  # before any QApplication exists
os.environ["HF_HUB_OFFLINE"] = "1"  # the tests never touch the network
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def _temp_in_memory() -> None:
    """The run's temporary folders (tmp_path, every test's data dir, the copies of photos: about 30,000 files and
    400 MB a quick run) on the RAM disk where there is one with room: on the development machine's disk, making,
    syncing and (pytest, at the end of a run) deleting them cost 7-10 s of a 95 s quick run. pytest's own rules
    are kept (pytest-of-USER/pytest-N, the last run kept: tmp_path_retention_count in pyproject.toml). `--basetemp DIR` or PYTEST_DEBUG_TEMPROOT=DIR
    (pytest's own variable: `PYTEST_DEBUG_TEMPROOT=/tmp pytest` for the disk) choose another place."""
    if "PYTEST_DEBUG_TEMPROOT" in os.environ:
        return
    try:
        st = os.statvfs("/dev/shm")
    except OSError:  # not Linux, or no RAM disk
        return
    if st.f_bavail * st.f_frsize >= 4 << 30 and os.access("/dev/shm", os.W_OK | os.X_OK):
        os.environ["PYTEST_DEBUG_TEMPROOT"] = "/dev/shm"


_temp_in_memory()

import pytest  # noqa: E402

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))
sys.path.insert(0, str(TESTS.parent / "bench"))
TINY_MODEL = TESTS / "models" / "tiny-clip"

from helpers import QUERY_KINDS, CountingEmbedder, make_photos  # noqa: E402
from shapes import Kind  # noqa: E402


# -- the quick run and the full one ---------------------------------------------------------------------------
def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--slow",
        action="store_true",
        help="also run the tests marked slow (kill -9 mid-index on the full-size model, ...): CI runs them all",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: left out of a plain `pytest` run; `pytest --slow` runs it too")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--slow"):
        return
    skip = pytest.mark.skip(reason="slow: `pytest --slow` runs it (CI does)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


# -- models made once, kept across runs ------------------------------------------------------------------------
def _key(files: list[Path], packages: list[str]) -> str:
    """What a cached model was made by: the code that makes it and the versions of the packages it uses."""
    from importlib.metadata import PackageNotFoundError, version

    h = hashlib.sha256()
    for f in files:
        h.update(f.read_bytes())
    for p in packages:
        try:
            h.update(f"{p}={version(p)};".encode())
        except PackageNotFoundError:
            h.update(f"{p}=none;".encode())
    return h.hexdigest()[:16]


def _kept(tmp_path_factory: pytest.TempPathFactory, name: str, key: str) -> Path:
    """`<cache>/<name>-<key>`: kept across runs in tests/.cache (PHOTOFINDER_TEST_CACHE moves it; `off` keeps
    nothing: a new folder per run). Made by another code or package version, it is another folder; the older
    ones of the same name are removed."""
    where = os.environ.get("PHOTOFINDER_TEST_CACHE", str(TESTS / ".cache"))
    if where.lower() in ("off", "0", "no", ""):
        return tmp_path_factory.mktemp(name)
    root = Path(where)
    root.mkdir(parents=True, exist_ok=True)
    for old in root.glob(f"{name}-*"):
        if old.name != f"{name}-{key}" and not old.name.startswith("."):
            shutil.rmtree(old, ignore_errors=True)
    d = root / f"{name}-{key}"
    d.mkdir(exist_ok=True)
    return d


@pytest.fixture(scope="session", autouse=True)
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ONNX export cache, shared by the whole run and kept for the next ones (each export is in a folder
    named by its model's fingerprint: the same model is exported once, not once a run). The cache is keyed by the
    exporting code and the torch/ONNX versions, so a change there exports (and so tests the export) again."""
    encode = TESTS.parent / "photofinder" / "core" / "encode"
    key = _key(
        sorted(encode.glob("*.py")),
        ["torch", "transformers", "onnx", "onnxruntime", "onnxscript", "tokenizers"],
    )
    d = _kept(tmp_path_factory, "onnx", key)
    for half in d.glob(
        ".export-*"
    ):  # a run killed mid-export (an hour old: not another run's export in progress)
        if time.time() - half.stat().st_mtime > 3600:
            shutil.rmtree(half, ignore_errors=True)
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
    from photofinder.core.encode.torch_encoder import ClipEmbedder

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
    from photofinder.core.store.library import LibraryStore

    return LibraryStore(data_dir)


@pytest.fixture(scope="session")
def vitb32_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A random-initialised CLIP with exactly the openai/clip-vit-base-patch32 architecture (real sizes, real cost).

    Made once (4 s, 600 MB) and kept across runs with the ONNX exports, keyed by the code that makes it and the
    torch/transformers versions. Read-only: copy it before changing anything.
    """
    from vitb32 import make_vitb32

    key = _key(
        [
            TESTS.parent / "bench" / "vitb32.py",
            TESTS.parent / "photofinder" / "core" / "encode" / "architectures.py",
            TESTS.parent / "photofinder" / "core" / "encode" / "menu.py",
            TINY_MODEL / "tokenizer.json",
        ],
        ["torch", "transformers"],
    )
    home = _kept(tmp_path_factory, "vit-b-32", key)
    model = home / "model"
    for half in home.glob(".making-*"):  # a run killed while making it (an hour old: not one making it now)
        if time.time() - half.stat().st_mtime > 3600:
            shutil.rmtree(half, ignore_errors=True)
    if not (model / "config.json").exists():
        part = Path(tempfile.mkdtemp(dir=home, prefix=".making-"))
        make_vitb32(part)
        try:
            part.rename(model)  # whole or not at all (config.json is written first)
        except OSError:  # another run made it meanwhile
            shutil.rmtree(part, ignore_errors=True)
    return str(model)


@pytest.fixture(scope="session")
def places_read_once():
    """reverse_geocode's table of named places read from its file once a run instead of three times an index run.

    The app lets go of the place data after every index run and words pass (`places.release`, 250 MB) and
    reverse_geocode reads its gzipped JSON again for each population size the app asks (3): 0.4 s a read, 6 s of a
    quick run in the five tests that index photos with GPS. Only the file's parsed content is kept: GeocodeData,
    its tree, the population filter and the app's release and reload are the real ones.
    """
    import reverse_geocode

    read = reverse_geocode.GeocodeData._extract
    parsed: dict[str, list[dict]] = {}

    def extract(self, local_filename, min_population):
        if local_filename not in parsed:
            parsed[local_filename] = read(self, local_filename, 0)
        everything = parsed[local_filename]
        return (
            [p for p in everything if p["population"] >= min_population]
            if min_population > 0
            else everything[:]
        )

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(reverse_geocode.GeocodeData, "_extract", extract)
        yield


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
