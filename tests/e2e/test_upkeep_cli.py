"""Issue 17 at the command line: a fatal error stops `watch` with a failing status, `libraries repair` keeps a
healthy catalog, a damaged model is one line, and odd numbers or empty filters get a message of their own."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


def pf(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "photofinder", *args],
        capture_output=True,
        text=True,
        input=stdin,
        env=os.environ.copy(),
        timeout=120,
    )


def _one_line(r: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in r.stderr, r.stderr
    lines = [line for line in r.stderr.strip().splitlines() if line]
    assert len(lines) == 1, r.stderr
    return lines[0]


def test_watch_stopped_by_an_error_says_why_and_fails(indexed):
    """The README's systemd unit restarts `watch` on failure: an error that ends it must end it non-zero."""
    probe = (
        "import sys\n"
        "from photofinder.core.ingest import indexer\n"
        "def boom(self, *a, **k): raise RuntimeError('simulated: the catalog disk went away')\n"
        "indexer.Indexer.run = boom\n"
        "from photofinder.cli import main\n"
        "sys.exit(main(['watch', '--rescan', '1']))\n"
    )
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert (
        last == "photofinder watch: stopped by an error: RuntimeError: simulated: the catalog disk went away"
    )


def test_repair_keeps_a_healthy_catalog(indexed, data_dir):
    """`libraries repair` on a sound library once set its catalog aside, called it damaged, and every photo had
    to be encoded again."""
    lib = data_dir / "libraries" / "Photos"
    before = (lib / "catalog.sqlite3").stat().st_ino
    r = pf("libraries", "repair", "Photos", "--yes")
    assert r.returncode == 0 and "healthy" in r.stdout and "nothing was changed" in r.stdout
    assert not list(lib.glob("catalog.sqlite3.damaged-*"))
    assert (lib / "catalog.sqlite3").stat().st_ino == before
    again = json.loads(pf("index", "--json").stdout)
    assert again["indexed"] == 0 and again["unchanged"] == len(indexed[1])


@pytest.mark.slow  # a model fault in a child process: 9 s
def test_a_truncated_model_file_is_one_line(photos, tiny_model, tmp_path):
    import shutil

    folder, _ = photos
    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    weights = model / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    for runtime in ("torch", "onnx"):
        r = pf("index", str(folder), "--model", str(model), "--runtime", runtime)
        assert r.returncode == 1
        line = _one_line(r)
        assert f"The CLIP model in {model} can't be loaded" in line and "damaged or incomplete" in line


def test_odd_numbers_and_filters_that_match_nothing_get_their_own_message(indexed):
    r = pf("search", "a dog", "--min-size", "100000000000000000000")
    assert r.returncode == 2 and "more than any photo has" in _one_line(r)
    r = pf("search", "9999999999999999999999999999999999999999:dog")
    assert r.returncode == 2 and "must be above 0 and at most 100" in _one_line(r)
    r = pf("search", "a dog", "--min-size", "100000")
    assert r.returncode == 0 and r.stdout == ""
    assert _one_line(r).startswith("no photos match these filters")
    r = pf("search", "a dog", "--type", "heic")
    assert r.returncode == 0 and _one_line(r).startswith("no photos match these filters")
    r = pf("search", "5:a red circle + a blue square", "-n", "3")  # a fair weight still works
    assert r.returncode == 0 and len(r.stdout.splitlines()) == 3
