"""Breakages the suite once let pass (issue 17, item 10): each of these tests goes red if it comes back."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
from dupcorpus import landscape
from helpers import new_library

from photofinder.core.ingest.indexer import Indexer
from photofinder.core.store.catalog import HashSet


@pytest.fixture
def two_copies(store, tmp_path, counting):
    """One photo in old/ (the older file) and its identical copy in new/."""
    folder = tmp_path / "photos"
    (folder / "old").mkdir(parents=True)
    (folder / "new").mkdir()
    landscape((480, 360), 1).save(folder / "old" / "a.jpg", quality=90)
    shutil.copy(folder / "old" / "a.jpg", folder / "new" / "a.jpg")
    os.utime(folder / "old" / "a.jpg", ns=(10**18, 10**18))
    landscape((480, 360), 2).save(folder / "other.jpg", quality=90)
    lib = new_library(store, folder)
    Indexer(lib, counting).run()
    return lib, folder


def _duplicates_cli(*argv, monkeypatch, capsys):
    import send2trash

    from photofinder import cli

    sent: list[str] = []
    monkeypatch.setattr(send2trash, "send2trash", sent.append)  # a fake trash: nothing moves
    code = cli.cmd_duplicates(cli.build_parser().parse_args(["duplicates", *argv]))
    return code, sent, capsys.readouterr()


def test_duplicates_trash_never_takes_the_suggested_keeper(two_copies, monkeypatch, capsys):
    lib, folder = two_copies
    code, sent, out = _duplicates_cli("--trash", "--yes", monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0 and sent == [str(folder / "new" / "a.jpg")]
    assert "keep  " in out.out and str(folder / "old" / "a.jpg") in out.out.splitlines()[0]


def test_the_keeper_follows_prefer(two_copies, monkeypatch, capsys):
    lib, folder = two_copies
    code, sent, out = _duplicates_cli(
        "--prefer", str(folder / "new"), "--trash", "--yes", monkeypatch=monkeypatch, capsys=capsys
    )
    assert code == 0 and sent == [str(folder / "old" / "a.jpg")]  # the newer copy kept: it is in new/
    assert out.out.splitlines()[0].endswith(str(folder / "new" / "a.jpg"))


def test_hide_duplicates_joins_identical_bytes_on_a_later_page(two_copies, counting, monkeypatch):
    """Past the window of vectors compared, the same bytes still join the tile shown pages before."""
    from photofinder.core.duplicates import hide as collapse
    from photofinder.core.find.search import Searcher

    lib, folder = two_copies
    monkeypatch.setattr(collapse, "WINDOW", 1)  # only the last result shown is compared by its vector
    with Searcher(lib, counting) as s:
        everything = s._with_details(
            s.by_vector(s._catalog.embedding_for_path(str(folder / "other.jpg"))[1], 10)
        )
    by_name = {os.path.relpath(r.path, folder): r for r in everything}
    with lib.open_catalog() as c:
        pages = collapse.DuplicateCollapser(lib, c)
        pages.collapse([by_name["old/a.jpg"], by_name["other.jpg"]])
        later = pages.more([by_name["new/a.jpg"]])
    assert later.results == [] and later.hidden == 1
    assert [d.path for d in later.grown[0].duplicates] == [by_name["new/a.jpg"].path]


def test_hash_set_says_yes_only_for_hashes_it_holds():
    rng = np.random.default_rng(0)
    held = [f"{rng.integers(0, 2**63):064x}" for _ in range(2000)]
    others = [f"{rng.integers(0, 2**63):064x}" for _ in range(2000)]
    hashes = HashSet([[(h,) for h in held[:1000]], [(h,) for h in held[1000:]]])
    assert len(hashes) == 2000 and all(h in hashes for h in held)
    assert not any(h in hashes for h in others)
    assert "" not in HashSet([])
