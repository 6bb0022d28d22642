"""Issue 17 at the command line: a fatal error stops `watch` with a failing status, `libraries repair` keeps a
healthy catalog, a damaged model is one line, and odd numbers or empty filters get a message of their own."""

from __future__ import annotations

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


@pytest.fixture
def indexed(photos, tiny_model):
    folder, kinds = photos
    r = pf("index", str(folder), "--model", tiny_model)
    assert r.returncode == 0, r.stderr
    return folder, kinds


def test_watch_stopped_by_an_error_says_why_and_fails(indexed):
    """The README's systemd unit restarts `watch` on failure: an error that ends it must end it non-zero."""
    probe = (
        "import sys\n"
        "from photofinder.core import indexer\n"
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
