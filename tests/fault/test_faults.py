"""Fault injection: kills, two processes at once, damaged files in the data dir, a full or read-only disk, and
hostile photo folders. Whatever happens, the library stays consistent, the user gets one line, and the photos
are never modified (every photo used here is hashed before and after the whole module)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from helpers import QUERY_KINDS, make_photos

# The fault tests (kill -9, damaged files, full disks, concurrent runs), each with real index runs and
# processes, 19 s together besides the kill -9 ones; CI (`pytest --slow`) runs them all, a plain `pytest` skips them.
pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent
BATCH = 16

_guarded: dict[Path, tuple[bytes, int]] = {}


def _guard(folder: Path) -> Path:
    """Remember every photo under `folder` (content hash, mtime); checked when the module ends."""
    for p in folder.rglob("*"):
        if p.is_file() and not p.is_symlink():
            _guarded[p] = (hashlib.sha256(p.read_bytes()).digest(), p.stat().st_mtime_ns)
    return folder


@pytest.fixture(scope="module", autouse=True)
def photos_are_never_modified():
    yield
    changed = [
        p
        for p, (h, m) in _guarded.items()
        if p.exists() and (hashlib.sha256(p.read_bytes()).digest(), p.stat().st_mtime_ns) != (h, m)
    ]
    assert _guarded and changed == []


@pytest.fixture(scope="module")
def photo_set(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("fault-photos") / "photos"
    make_photos(folder, QUERY_KINDS, 6, seed=5)  # 48 photos: three batches of 16
    return _guard(folder)


def _env(data_dir: Path) -> dict[str, str]:
    env = os.environ.copy()
    env["PHOTOFINDER_DATA_DIR"] = str(data_dir)
    env["PYTHONPATH"] = os.pathsep.join([str(HERE.parent.parent), env.get("PYTHONPATH", "")])
    return env


def pf(data_dir: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "photofinder", *args],
        capture_output=True,
        text=True,
        env=_env(data_dir),
        timeout=timeout,
    )


def _one_line(r: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in r.stderr, r.stderr
    lines = [line for line in r.stderr.strip().splitlines() if line]
    assert len(lines) == 1, r.stderr
    return lines[0]


def _consistent(data_dir: Path, name: str, expect: int) -> None:
    """Catalog rows = vectors in the saved index = readable photos, each once."""
    from photofinder.core.store.library import LibraryStore
    from photofinder.core.store.vector_index import VectorIndex

    lib = LibraryStore(data_dir).get(name)
    with lib.open_catalog() as c:
        assert c.count() == expect and c.count("skipped") == 0
        index, generation = VectorIndex.load(lib.index_path, c.dim, c.uuid)
        assert generation == c.generation and len(index) == expect
        ids = index.ids()
        assert len(set(ids.tolist())) == expect
        paths = [p for p, _ in c.photos(ids.tolist()).values()]
        assert len(set(paths)) == expect and all(os.path.exists(p) for p in paths)


# -- kill -9 during indexing, with the real-size (random) ViT-B/32 --------------------------------------------
@pytest.mark.parametrize("when", ["early", "mid-batch", "final-save"])
def test_kill_9_during_indexing_loses_at_most_one_batch(when, photo_set, vitb32_model, tmp_path):
    from photofinder.core.store.library import LibraryStore

    data = tmp_path / "data"
    lib = LibraryStore(data).create("Photos")
    with lib.open_catalog() as c:
        c.add_folder(str(photo_set))
    child = [sys.executable, str(HERE / "index_child.py"), "Photos", vitb32_model, str(BATCH)]
    proc = subprocess.Popen(
        child + (["slow-save"] if when == "final-save" else []),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(data),
    )
    encoded = 0
    trigger = {
        "early": lambda line: line.startswith("P indexing"),
        "mid-batch": lambda line: line.startswith("P indexing 40/"),
        "final-save": lambda line: line == "SAVING",
    }[when]
    assert proc.stdout is not None
    for line in proc.stdout:
        line = line.strip()
        if line.startswith("E "):
            encoded = int(line[2:])
        if trigger(line):
            os.kill(proc.pid, signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read() if proc.stderr else ""
    if when == "final-save":  # killed inside the real save: its own half-written temporary file is left
        left = list(lib.root.glob("index.faiss.*.tmp"))
        assert len(left) == 1 and not (lib.root / "index.faiss").exists()
        with open(left[0], "rb") as f:  # what reached the disk (the first block may still be in the buffer)
            assert f.read(8) in (b"", b"\0" * 8)  # its header is written last: not yet a usable index file

    again = subprocess.run(child, capture_output=True, text=True, env=_env(data), timeout=180)
    assert again.returncode == 0, again.stderr
    done = json.loads(again.stdout.strip().splitlines()[-1][5:])
    second = max([int(line[2:]) for line in again.stdout.splitlines() if line.startswith("E ")], default=0)
    assert done["indexed"] == second
    assert encoded + second <= 48 + BATCH  # at most one batch was encoded twice
    _consistent(data, "Photos", 48)
    assert not list(lib.root.glob("*.tmp"))


# -- two processes at once ----------------------------------------------------------------------------------
def test_two_index_runs_on_one_library(photo_set, tiny_model, tmp_path):
    data = tmp_path / "data"
    cmd = [sys.executable, "-m", "photofinder", "index", str(photo_set), "--model", tiny_model, "--json"]
    procs = [
        subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(data))
        for _ in range(2)
    ]
    outs = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    ok = [json.loads(out) for rc, out, err in outs if rc == 0]
    refused = [err for rc, out, err in outs if rc != 0]
    for err in refused:
        assert "Traceback" not in err and "database is locked" not in err
        assert "being indexed or changed by another process (pid " in err
    # Either the second waited its turn (and found nothing to do) or it was turned away with the holder's pid.
    assert sum(r["indexed"] for r in ok) == 48 and len(ok) + len(refused) == 2
    _consistent(data, "Photos", 48)


def test_searching_while_another_process_indexes(photo_set, tiny_model, tmp_path):
    data = tmp_path / "data"
    assert pf(data, "index", str(photo_set), "--model", tiny_model).returncode == 0
    extra = _guard(tmp_path / "more")
    make_photos(extra, QUERY_KINDS, 4, seed=9)
    _guard(extra)
    index = subprocess.Popen(
        [sys.executable, "-m", "photofinder", "index", str(extra)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(data),
    )
    searches = [pf(data, "search", "a red circle", "--json") for _ in range(3)]
    assert index.wait(timeout=120) == 0
    for s in searches:
        assert s.returncode == 0 and "Traceback" not in s.stderr, s.stderr
        assert len(json.loads(s.stdout)["results"]) == 20
    _consistent(data, "Photos", 48 + 32)


def test_index_runs_on_two_libraries_at_once(photo_set, tiny_model, tmp_path):
    data = tmp_path / "data"
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "photofinder",
                "index",
                str(photo_set),
                "--library",
                name,
                "--new",
                "--model",
                tiny_model,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(data),
        )
        for name in ("A", "B")
    ]
    for p in procs:
        assert p.wait(timeout=120) == 0, p.communicate()[1]
    _consistent(data, "A", 48)
    _consistent(data, "B", 48)


# -- damaged or foreign files in the data dir ---------------------------------------------------------------
@pytest.fixture
def indexed(photo_set, tiny_model, tmp_path) -> Path:
    data = tmp_path / "data"
    r = pf(data, "index", str(photo_set), "--model", tiny_model)
    assert r.returncode == 0, r.stderr
    return data


def test_a_damaged_or_foreign_index_file_is_rebuilt_with_one_log_line(indexed, photo_set, tiny_model):
    lib = indexed / "libraries" / "Photos"
    index = lib / "index.faiss"
    other = pf(indexed, "index", str(photo_set), "--library", "Other", "--new", "--model", tiny_model)
    assert other.returncode == 0
    good = index.read_bytes()
    for damage in ("truncated", "garbage", "foreign", "empty"):
        index.write_bytes(
            {
                "truncated": good[: len(good) // 2],
                "garbage": os.urandom(len(good)),
                "empty": b"",
                "foreign": (indexed / "libraries" / "Other" / "index.faiss").read_bytes(),
            }[damage]
        )
        r = pf(indexed, "search", "a red circle", "-n", "3")
        assert r.returncode == 0 and len(r.stdout.splitlines()) == 3, damage
        assert "can't be used" in _one_line(r), damage
    assert pf(indexed, "index").returncode == 0  # repairs the file
    r = pf(indexed, "search", "a red circle", "-n", "3")
    assert r.returncode == 0 and r.stderr == ""
    _consistent(indexed, "Photos", 48)


def test_a_damaged_catalog_is_one_line_naming_the_file_and_the_way_out(indexed):
    lib = indexed / "libraries" / "Photos"
    catalog = lib / "catalog.sqlite3"
    sqlite3.connect(catalog).execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
    good = catalog.read_bytes()
    for damage in ("truncated", "garbage", "empty"):
        bad = {"truncated": good[: len(good) // 3], "garbage": os.urandom(len(good)), "empty": b""}[damage]
        catalog.write_bytes(bad)
        for f in ("catalog.sqlite3-wal", "catalog.sqlite3-shm"):
            (lib / f).unlink(missing_ok=True)
        r = pf(indexed, "search", "a red circle") if damage != "garbage" else pf(indexed, "index")
        assert r.returncode == 1, damage
        line = _one_line(r)
        assert str(catalog) in line and "libraries repair Photos" in line, damage
        assert catalog.read_bytes() == bad  # never silently replaced by an empty catalog
    listing = pf(indexed, "libraries")
    assert listing.returncode == 0 and "Photos: can't be opened" in listing.stdout
    r = pf(indexed, "libraries", "repair", "Photos")  # damaged, but nothing is set aside unconfirmed
    assert r.returncode == 2 and "add --yes to confirm" in _one_line(r)
    assert not list(lib.glob("catalog.sqlite3.damaged-*"))
    r = pf(indexed, "libraries", "repair", "Photos", "--yes")
    assert r.returncode == 0 and "damaged-" in r.stdout
    assert list(lib.glob("catalog.sqlite3.damaged-*"))  # kept aside, never deleted
    r = pf(indexed, "index", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["indexed"] == 48  # folders and model came back
    _consistent(indexed, "Photos", 48)


def test_a_lost_wal_after_a_crash_loses_no_folder(photo_set, tiny_model, tmp_path):
    data = tmp_path / "data"
    lib = data / "libraries" / "Photos"
    proc = subprocess.Popen(
        [sys.executable, "-m", "photofinder", "index", str(photo_set), "--model", tiny_model],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(data),
    )
    deadline = time.monotonic() + 60
    thumbs = lib / "thumbs"
    while (
        not (thumbs.exists() and sum(1 for _ in thumbs.rglob("*.jpg")) >= 20) and time.monotonic() < deadline
    ):
        time.sleep(0.005)  # a batch committed to the -wal, not yet checkpointed into the catalog
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    (lib / "catalog.sqlite3-wal").unlink(missing_ok=True)
    (lib / "catalog.sqlite3-shm").unlink(missing_ok=True)
    r = pf(data, "index", "--json")
    assert r.returncode == 0, r.stderr
    _consistent(data, "Photos", 48)


def test_an_unusable_data_dir_is_one_line(tmp_path):
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    for args in (("libraries",), ("search", "x"), ("index", str(tmp_path))):
        r = pf(not_a_dir, *args)
        assert r.returncode == 1 and "data folder" in _one_line(r)


# -- a full or read-only disk (a small tmpfs where this runs as root; CI does) ------------------------------
@pytest.fixture
def small_disk(tmp_path):
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(mnt)], capture_output=True
        ).returncode
        != 0
    ):
        pytest.skip("can't mount a tmpfs here (not root); the in-process full-disk test covers the catalog")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_a_full_disk_then_a_read_only_one(small_disk, photo_set, tiny_model):
    data = small_disk / "data"
    r = pf(data, "index", str(photo_set), "--model", tiny_model)
    assert r.returncode == 1, r.stdout
    line = _one_line(r)
    assert "is full" in line and "Free some space" in line
    db = sqlite3.connect(data / "libraries" / "Photos" / "catalog.sqlite3")
    saved = db.execute("SELECT count(*) FROM photos WHERE status = 'indexed'").fetchone()[0]
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
    assert pf(data, "libraries").returncode == 0
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    r = pf(data, "index")
    assert r.returncode == 1 and "read-only" in _one_line(r)
    # a new library: no room for it
    r = pf(data, "index", str(photo_set), "--library", "New", "--new", "--model", tiny_model)
    assert r.returncode == 1 and "read-only disk" in _one_line(r)
    subprocess.run(["mount", "-o", "remount,rw,size=20m", str(small_disk)], check=True)
    r = pf(data, "index", "--json")  # space is back: the run completes what was committed
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["indexed"] + saved == 48
    _consistent(data, "Photos", 48)


# -- hostile names and files in the photo folders -----------------------------------------------------------
def test_hostile_names_and_files(tmp_path, tiny_model, shape_folder):
    src, kinds = shape_folder
    folder = tmp_path / "hostile"
    folder.mkdir()
    photos = sorted(kinds)
    names = [
        b"caf\xe9.jpg",
        b"new\nline.jpg",
        b"-rf.jpg",
        "😀 birthday.jpg".encode(),
        ("x" * 251 + ".jpg").encode(),
    ]
    for raw, p in zip(names, photos):
        with open(os.fsencode(folder) + b"/" + raw, "wb") as f:
            f.write(p.read_bytes())
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(photos[6], outside / "linked.jpg")
    (outside / "private").mkdir()
    shutil.copy(photos[7], outside / "private" / "not-mine.jpg")
    os.symlink(outside / "linked.jpg", folder / "link-to-a-photo.jpg")  # a file link: read, never written
    os.symlink(outside / "private", folder / "link-out")  # a folder link: not followed
    os.symlink(folder, folder / "loop")
    os.symlink("/dev/zero", folder / "zero.jpg")
    os.mkfifo(folder / "fifo.jpg")
    doomed = folder / "doomed"
    doomed.mkdir()
    for i in range(3):
        shutil.copy(photos[8 + i], doomed / f"{i}.jpg")
    growing = folder / "growing.jpg"
    growing.write_bytes(photos[12].read_bytes()[:2000])
    _guard(folder)
    _guard(outside)
    _guarded.pop(growing)

    stop = threading.Event()

    def writer():  # a photo still being copied in while the index runs
        data = photos[12].read_bytes()
        with open(growing, "ab") as f:
            for i in range(2000, len(data), 500):
                if stop.is_set():
                    break
                f.write(data[i : i + 500])
                f.flush()
                time.sleep(0.002)

    t = threading.Thread(target=writer)
    t.start()
    data = tmp_path / "data"
    proc = subprocess.Popen(
        [sys.executable, "-m", "photofinder", "index", str(folder), "--model", tiny_model, "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(data),
    )
    deadline = time.monotonic() + 60
    while not (data / "libraries" / "Photos" / "thumbs").exists() and time.monotonic() < deadline:
        time.sleep(0.005)
    shutil.rmtree(doomed)  # a folder deleted during the run, after the scan saw it
    out, err = proc.communicate(timeout=120)
    stop.set()
    t.join()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    report = json.loads(out)
    reasons = {Path(s["path"]).name: s["reason"] for s in report["skipped"]}
    assert "fifo.jpg" not in reasons or "regular" in reasons["fifo.jpg"]
    assert reasons.get("link-out", "").startswith("a link to the folder")
    indexed = report["indexed"] + report["reused"]
    assert indexed >= 6  # the five odd names and the linked photo, whatever became of the growing one

    raw_lines = subprocess.run(
        [sys.executable, "-m", "photofinder", "search", "--image", str(photos[0]), "-n", "60"],
        capture_output=True,
        env=_env(data),
    ).stdout.split(b"\n")
    assert any(line.endswith(b"/caf\xe9.jpg") for line in raw_lines)  # the exact bytes, for xargs and friends
    j = json.loads(pf(data, "search", "--image", str(photos[0]), "-n", "60", "--json").stdout)
    odd = [x for x in j["results"] if "path_bytes" in x]
    assert len(odd) == 1 and odd[0]["path"].endswith("caf\ufffd.jpg")
    assert not any("not-mine" in x["path"] for x in j["results"])
    again = json.loads(pf(data, "index", "--json").stdout)
    assert again["indexed"] <= 1  # only the photo that was still being written, if it was skipped then
