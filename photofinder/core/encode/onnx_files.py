"""An ONNX export's own check: the manifest of what the export wrote (each file's SHA-256 and size, and the source
model's fingerprint), checked before any file of it is loaded, and the model cache it lives in."""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

from photofinder.core.errors import PhotofinderError

log = logging.getLogger(__name__)

EXPORT_VERSION = 3  # bump when the exported graphs change, so caches are made again (3: manifest.json)
MANIFEST = (
    "manifest.json"  # what the export wrote: each file's SHA-256 and size, and the source model's fingerprint
)
_CHECKED = "checked.json"  # files whose hash was checked since they were last written (by inode, size, times)


class ExportFailed(PhotofinderError):
    """The model could not be exported, or its export disagrees with torch."""


class ExportDamaged(Exception):
    """An exported file does not match what the export recorded (damaged, truncated, or another model's).

    `name` is the file at fault (None for the manifest or the source model)."""

    def __init__(self, message: str, name: str | None = None):
        super().__init__(message)
        self.name = name


def model_cache_root() -> Path:
    """Where exported models live: PHOTOFINDER_MODEL_CACHE, else `models/` in the data directory."""
    override = os.environ.get("PHOTOFINDER_MODEL_CACHE")
    if override:
        return Path(override)
    from photofinder.core.paths import data_dir

    return data_dir() / "models"


# -- the export's own check -------------------------------------------------------------------------------
_MANIFEST_LOCK = threading.Lock()


def _sha256(path: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _write_json(path: Path, value: Any) -> None:
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:  # mkstemp: 0600
            json.dump(value, f, indent=1)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_manifest(folder: Path, source: str, names: list[str]) -> None:
    for name in names:
        os.chmod(folder / name, 0o600)  # private like the rest of the data dir
    files = {n: {"sha256": _sha256(folder / n), "bytes": (folder / n).stat().st_size} for n in names}
    _write_json(folder / MANIFEST, {"source": source, "export_version": EXPORT_VERSION, "files": files})


def _read_manifest(folder: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
            raise ValueError("not a manifest")
        return manifest
    except FileNotFoundError as e:
        raise ExportDamaged("it has no manifest") from e
    except (OSError, ValueError) as e:
        raise ExportDamaged(f"its manifest can't be read: {e}") from e


def record_file(folder: Path, name: str) -> None:
    """Add a file made after the export (the int8 tower) to the manifest."""
    with _MANIFEST_LOCK:
        manifest = _read_manifest(folder)
        path = folder / name
        manifest["files"][name] = {"sha256": _sha256(path), "bytes": path.stat().st_size}
        _write_json(folder / MANIFEST, manifest)


def forget_file(folder: Path, name: str) -> None:
    """Delete a derived file (the int8 tower) and its record, so that it is made again."""
    with _MANIFEST_LOCK:
        (folder / name).unlink(missing_ok=True)
        try:
            manifest = _read_manifest(folder)
            manifest["files"].pop(name, None)
            _write_json(folder / MANIFEST, manifest)
        except ExportDamaged:
            pass


def _stamp(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def check_files(folder: Path, source: str, names: tuple[str, ...]) -> None:
    """ExportDamaged unless the export in `folder` was made from the model `source` and each named file has the
    size and SHA-256 the export recorded.

    A file's whole hash is computed once: the check is remembered by the file's inode, size, mtime and ctime
    (a file replaced, copied over or written to changes its ctime, whatever its mtime says), so a later load
    reads its stat alone.
    """
    manifest = _read_manifest(folder)
    if manifest.get("source") != source:
        raise ExportDamaged(f"it was exported from another model ({manifest.get('source')})")
    try:
        checked = json.loads((folder / _CHECKED).read_text(encoding="utf-8"))
        if not isinstance(checked, dict):
            checked = {}
    except (OSError, ValueError):
        checked = {}
    changed = False
    for name in names:
        want = manifest["files"].get(name)
        path = folder / name
        if not isinstance(want, dict):
            raise ExportDamaged(f"{name} is not in its manifest", name)
        try:
            stamp = _stamp(path)
        except OSError as e:
            raise ExportDamaged(f"{name} is missing", name) from e
        if stamp[1] != want.get("bytes"):
            raise ExportDamaged(f"{name} has {stamp[1]} bytes, not the {want.get('bytes')} exported", name)
        if checked.get(name) == [want.get("sha256"), *stamp]:
            continue
        if _sha256(path) != want.get("sha256"):
            raise ExportDamaged(f"{name} is not the file exported (its SHA-256 differs)", name)
        checked[name] = [want.get("sha256"), *stamp]
        changed = True
    if changed:
        try:
            _write_json(folder / _CHECKED, checked)
        except OSError as e:  # a read-only cache: the hash is checked again next time, nothing worse
            log.debug("could not remember the check in %s: %s", folder, e)


def discard_export(folder: Path) -> None:
    """Remove a damaged export (moved aside first, so no reader sees half of one)."""
    aside = folder.with_name(f".damaged-{folder.name}-{os.getpid()}")
    try:
        os.replace(folder, aside)
    except OSError:
        aside = folder
    shutil.rmtree(aside, ignore_errors=True)
