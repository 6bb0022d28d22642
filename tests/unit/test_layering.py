"""The one rule that must hold: photofinder.core never imports Qt (nor the faces built on it)."""

from __future__ import annotations

import ast
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
    assert "Contracts: 3 kept, 0 broken." in r.stdout


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


def _import_circles(prefix: str, *, type_hints: bool = True) -> list[tuple[str, str]]:
    import grimp  # import-linter's own graph

    graph = grimp.build_graph("photofinder", exclude_type_checking_imports=not type_hints)
    circles = set()
    for m in graph.modules:
        if not m.startswith(prefix):
            continue
        for n in graph.find_modules_directly_imported_by(m):
            if n.startswith("photofinder") and graph.chain_exists(importer=n, imported=m):
                circles.add(tuple(sorted((m, n))))
    return sorted(circles)


def test_no_import_circles_in_the_core_or_the_cli():
    """A newcomer can read a module knowing everything it uses sits below it (imports inside functions count)."""
    assert _import_circles("photofinder.core") == []
    assert _import_circles("photofinder.cli") == []


def test_no_import_circles_in_the_gui_when_it_runs():
    """The window's parts import what sits below them; a part may name MainWindow in a type hint only
    (under TYPE_CHECKING, never run), as window/menus.py and library/explore_view.py do for the window they are built into."""
    assert _import_circles("photofinder.gui", type_hints=False) == []


def test_every_package_is_in_the_install_list():
    """A non-editable install carries only the packages pyproject lists: a forgotten one fails at import."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        ".".join(d.relative_to(ROOT).parts)
        for d in (ROOT / "photofinder").rglob("*")
        if (d / "__init__.py").is_file()
    } | {"photofinder"}
    assert found - listed == set()


def test_no_module_over_400_lines():
    """A room a newcomer can read in one sitting: core, CLI and GUI alike."""
    big = {
        str(p.relative_to(ROOT)): n
        for p in (ROOT / "photofinder").rglob("*.py")
        if (n := len(p.read_text().splitlines())) > 400
    }
    assert big == {}


def test_no_class_over_250_lines():
    """A class that outgrew 250 lines holds more than one concern: split it (issue 19)."""
    offenders = []
    for p in sorted((ROOT / "photofinder").rglob("*.py")):
        for node in ast.walk(ast.parse(p.read_text(), str(p))):
            if isinstance(node, ast.ClassDef) and node.end_lineno - node.lineno > 250:
                offenders.append(
                    f"{p.relative_to(ROOT)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno} lines)"
                )
    assert offenders == [], "classes over 250 lines: " + ", ".join(offenders)
