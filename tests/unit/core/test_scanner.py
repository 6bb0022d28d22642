"""Scanning finds every photo and nothing else, and no folder layout can hang or crash it."""

from __future__ import annotations

import os
from pathlib import Path

from photofinder.core.photos.scanner import content_hash, scan


def _touch(p: Path, data: bytes = b"x") -> Path:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return p


def test_finds_photos_recursively_and_skips_hidden_and_cache_folders(tmp_path: Path) -> None:
    _touch(tmp_path / "a.jpg")
    _touch(tmp_path / "deep/er/b.HEIC")
    _touch(tmp_path / "deep/c.webp")
    _touch(tmp_path / "notes.txt")
    _touch(tmp_path / ".thumbnails/t.png")
    _touch(tmp_path / "@eaDir/a.jpg/SYNOPHOTO_THUMB_XL.jpg")
    _touch(tmp_path / "._a.jpg")  # macOS metadata twin
    found = sorted(os.path.relpath(f.path, tmp_path) for f in scan(str(tmp_path)))
    assert found == ["a.jpg", "deep/c.webp", "deep/er/b.HEIC"]


def test_symlink_loops_do_not_hang(tmp_path: Path) -> None:
    _touch(tmp_path / "sub/a.jpg")
    os.symlink(tmp_path, tmp_path / "sub/loop")
    os.symlink(tmp_path / "sub", tmp_path / "again")
    assert [os.path.basename(f.path) for f in scan(str(tmp_path))] == ["a.jpg"]


def test_unreadable_folder_is_reported_and_the_scan_goes_on(tmp_path: Path, monkeypatch) -> None:
    _touch(tmp_path / "ok/a.jpg")
    _touch(tmp_path / "locked/b.jpg")
    real = os.scandir

    def scandir(path):
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    errors: list[tuple[str, str]] = []
    found = [os.path.basename(f.path) for f in scan(str(tmp_path), lambda p, r: errors.append((p, r)))]
    assert found == ["a.jpg"]
    assert errors == [(str(tmp_path / "locked"), "permission denied")]


def test_content_hash_ignores_name_and_sees_edits(tmp_path: Path) -> None:
    data = os.urandom(300_000)
    a = _touch(tmp_path / "a.jpg", data)
    b = _touch(tmp_path / "copy of a.jpg", data)
    c = _touch(tmp_path / "c.jpg", data[:-1] + bytes([data[-1] ^ 0xFF]))  # the last byte, always another
    d = _touch(
        tmp_path / "d.bmp", data[:150_000] + bytes([data[150_000] ^ 0xFF]) + data[150_001:]
    )  # an edit in the middle, same size
    assert content_hash(str(a)) == content_hash(str(b)) != content_hash(str(c))
    assert content_hash(str(d)) != content_hash(str(a))
