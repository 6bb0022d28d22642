"""Issue 17: nothing leaves the machine, and nothing is written outside photofinder's own folders.

`photofinder index` (plain and --fast) and `photofinder search` run in a child process with a fresh HOME, a
private TMPDIR and the network refused: every socket connect and name look-up is recorded and refused (and,
where strace exists, every connect(2) and sendto(2) of the process tree, C libraries included, is logged). Then
nothing may have been attempted, and no file may exist under HOME but in the data directory.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from photofinder.core.encode.onnx_encoder import OnnxEmbedder, quantized_vision

BLOCK_NETWORK = r"""
import os, socket, sys
LOG = os.environ["PF_NET_LOG"]
def record(what, *args):
    with open(LOG, "a") as f:
        f.write(f"{what} {args!r}\n")
def refuse(what):
    def f(*args, **kwargs):
        record(what, *args[:2])
        raise OSError(101, "network blocked by the test")
    return f
socket.socket.connect = refuse("connect")
socket.socket.connect_ex = refuse("connect_ex")
socket.socket.sendto = refuse("sendto")
socket.create_connection = refuse("create_connection")
socket.getaddrinfo = refuse("getaddrinfo")
socket.gethostbyname = refuse("gethostbyname")
socket.gethostbyname_ex = refuse("gethostbyname_ex")
from photofinder.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.fixture
def sealed(tmp_path, tiny_model, model_cache):
    """The environment of a first-time user with a local model folder: a new HOME, nothing else of ours."""
    e = OnnxEmbedder(tiny_model)  # the export is in the model cache already (the cache is allowed to change)
    e.load()
    quantized_vision(e.cache_dir)
    home = tmp_path / "home"
    tmp = tmp_path / "tmp"
    home.mkdir()
    tmp.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "HF_", "PHOTOFINDER_DATA"))}
    env.update(
        HOME=str(home),
        TMPDIR=str(tmp),
        PF_NET_LOG=str(tmp_path / "net.log"),
        PHOTOFINDER_MODEL_CACHE=str(model_cache),
        PYTHONPATH=os.pathsep.join([str(Path(__file__).resolve().parents[2]), env.get("PYTHONPATH", "")]),
    )
    env.pop("HF_HUB_OFFLINE", None)  # the product must not need it for a local model
    return home, tmp, env


def _run(env, tmp_path, *args):
    cmd = [sys.executable, "-c", BLOCK_NETWORK, *args]
    trace = tmp_path / f"strace.{len(list(tmp_path.glob('strace.*')))}"
    if shutil.which("strace"):
        # --seccomp-bpf: only the traced calls stop the process (6.3 s -> 2.2 s for the three runs); where strace
        # or the kernel lacks it, every system call does
        for fast in (["--seccomp-bpf"], []):
            probe = subprocess.run(["strace", "-f", *fast, "-o", os.devnull, "true"], capture_output=True)
            if probe.returncode == 0:
                cmd = [
                    "strace",
                    "-f",
                    *fast,
                    "-qq",
                    "-e",
                    "trace=connect,sendto,sendmsg",
                    "-o",
                    str(trace),
                    *cmd,
                ]
                break
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    return r, trace


def test_index_fast_and_search_touch_no_network_and_write_only_their_own_folders(
    sealed, photos, tiny_model, tmp_path
):
    home, tmp, env = sealed
    folder, kinds = photos
    before = {p: p.stat().st_mtime_ns for p in folder.rglob("*")}
    traces = []
    r, t = _run(env, tmp_path, "index", str(folder), "--model", tiny_model, "--json")
    traces.append(t)
    assert json.loads(r.stdout)["indexed"] == len(kinds)
    shutil.copy(sorted(kinds)[0], folder / "new.jpg")
    before[folder / "new.jpg"] = (folder / "new.jpg").stat().st_mtime_ns
    r, t = _run(env, tmp_path, "index", "--fast", "--json")
    traces.append(t)
    assert json.loads(r.stdout)["reused"] == 1
    r, t = _run(env, tmp_path, "search", "a red circle", "--json", "-n", "3")
    traces.append(t)
    assert len(json.loads(r.stdout)["results"]) == 3

    net_log = tmp_path / "net.log"
    assert not net_log.exists(), net_log.read_text()  # no connection, no name look-up was even tried
    for t in traces:
        if t.exists():
            inet = [line for line in t.read_text().splitlines() if "AF_INET" in line]
            assert inet == [], inet
    written = sorted(str(p.relative_to(home)) for p in home.rglob("*") if p.is_file())
    data = home / ".local" / "share" / "photofinder"
    assert written and all((home / w).is_relative_to(data) for w in written), written
    assert not (home / ".cache").exists()  # ONNX Runtime's device id and event database, Hugging Face's cache
    assert list(tmp.iterdir()) == []
    assert {p: p.stat().st_mtime_ns for p in folder.rglob("*")} == before  # the photos untouched
    assert data.stat().st_mode & 0o777 == 0o700
    lib = data / "libraries" / "Photos"
    assert (lib / "thumbs").stat().st_mode & 0o777 == 0o700
