"""The one rule that must hold: photofinder.core never imports Qt (nor the faces built on it)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_linter_contracts_hold():
    exe = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    r = subprocess.run([exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Contracts: 2 kept, 0 broken." in r.stdout


def test_core_source_names_no_qt_even_lazily():
    """import-linter sees module-level imports; this also catches one tucked inside a function."""
    pattern = re.compile(r"^\s*(from|import)\s+(PySide6|shiboken6|PyQt\d?|photofinder\.gui)\b", re.M)
    offenders = [
        str(p) for p in (ROOT / "photofinder" / "core").rglob("*.py") if pattern.search(p.read_text())
    ]
    assert offenders == []


def test_no_pickle_or_torch_load_anywhere():
    pattern = re.compile(r"^\s*import pickle|pickle\.loads?\(|torch\.load\(", re.M)
    offenders = [str(p) for p in (ROOT / "photofinder").rglob("*.py") if pattern.search(p.read_text())]
    assert offenders == []
