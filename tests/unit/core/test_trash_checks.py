"""The trash moves only what is, right now, what the group was judged on: each way the disk can have changed
since leaves the file where it is, says why, and never costs the copy that stays."""

from __future__ import annotations

import os
import shutil

import pytest
from dupcorpus import landscape
from helpers import new_library

from photofinder.core.duplicates.finder import find_duplicates, trash
from photofinder.core.ingest.indexer import Indexer


@pytest.fixture
def copies(store, tmp_path, counting):
    """A photo and an identical copy in a subfolder, indexed; returns (library, folder, the group)."""
    folder = tmp_path / "photos"
    (folder / "backup").mkdir(parents=True)
    landscape((480, 360), 1).save(folder / "a.jpg", quality=90)
    os.utime(folder / "a.jpg", ns=(10**18, 10**18))  # the older: the keeper
    shutil.copy(folder / "a.jpg", folder / "backup" / "a copy.jpg")
    landscape((480, 360), 2).save(folder / "other.jpg", quality=90)
    lib = new_library(store, folder)
    Indexer(lib, counting).run()
    with lib.open_catalog() as c:
        (group,) = find_duplicates(lib, c)
    assert group.keep.path == str(folder / "a.jpg")
    return lib, folder, group


def _trash(lib, group, chosen):
    sent: list[str] = []
    report = trash(lib, [(group, chosen)], send=sent.append)
    assert sent == report.moved
    return report


def test_a_verified_copy_moves_and_the_keeper_stays(copies):
    lib, folder, group = copies
    report = _trash(lib, group, group.others)
    assert report.moved == [str(folder / "backup" / "a copy.jpg")] and report.left == []


def test_a_copy_overwritten_since_stays(copies):
    lib, folder, group = copies
    victim = folder / "backup" / "a copy.jpg"
    st = victim.stat()
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF  # another picture's bytes, same size and time
    victim.write_bytes(bytes(data))
    os.utime(victim, ns=(st.st_atime_ns, st.st_mtime_ns))
    report = _trash(lib, group, group.others)
    assert report.moved == [] and report.left == [(str(victim), report.left[0][1])]
    assert "content changed" in report.left[0][1]
    landscape((480, 360), 3).save(victim, quality=90)  # overwritten plainly: size and time differ
    assert "changed since" in _trash(lib, group, group.others).left[0][1]


def test_with_the_keeper_moved_away_the_last_copy_stays(copies):
    lib, folder, group = copies
    os.rename(folder / "a.jpg", folder / "elsewhere.jpg")
    report = _trash(lib, group, group.others)
    assert report.moved == [] and "would stay" in report.left[0][1] and "no longer there" in report.left[0][1]
    assert (folder / "backup" / "a copy.jpg").exists()


def test_a_folder_replaced_by_a_link_out_of_the_library_is_not_followed(copies, tmp_path):
    lib, folder, group = copies
    outside = tmp_path / "outside"
    os.rename(folder / "backup", outside)  # the same file, now outside the library...
    os.symlink(outside, folder / "backup")  # ...reached through a link where its folder was
    report = _trash(lib, group, group.others)
    assert report.moved == [] and report.left[0][1] == "reached through a symbolic link"
    assert (outside / "a copy.jpg").exists()


def test_never_every_photo_of_a_group(copies):
    lib, folder, group = copies
    report = _trash(lib, group, group.members)
    assert report.moved == [] and len(report.left) == 2
    assert all("every photo of its group" in why for _, why in report.left)


def test_a_link_is_never_the_keeper_nor_counted_as_space(store, tmp_path, counting):
    folder = tmp_path / "photos"
    folder.mkdir()
    landscape((480, 360), 4).save(folder / "z-real.jpg", quality=90)
    os.symlink(folder / "z-real.jpg", folder / "a-link.jpg")  # sorts first, and is as old
    os.link(folder / "z-real.jpg", folder / "m-hard.jpg")
    lib = new_library(store, folder)
    Indexer(lib, counting).run()
    with lib.open_catalog() as c:
        (group,) = find_duplicates(lib, c)
    assert not group.keep.link and group.keep.path != str(folder / "a-link.jpg")
    assert [m.link for m in group.members if m.path.endswith("a-link.jpg")] == [True]
    assert group.reclaimable == 0  # one file under three names: trashing names frees nothing
    # The link left as the only "copy" kept: its target is not moved (it would dangle).
    real = [m for m in group.members if not m.link]
    report = _trash(lib, group, real)
    assert report.moved == [] and all("would stay" in why for _, why in report.left)
    assert (folder / "z-real.jpg").exists()
