"""Results with their duplicates hidden: copies fold into one result that says how many it hides, look-alikes
that are other photos stay, and pages never show a copy of a result already shown."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from helpers import new_library
from PIL import Image
from shapes import Kind, draw

from photofinder.core.duplicates.hide import DuplicateCollapser, hide_duplicates
from photofinder.core.find.search import Searcher
from photofinder.core.ingest.indexer import Indexer


@pytest.fixture
def library(store, tmp_path, counting):
    """A photo, an identical copy, a resized copy, another photo of the same subject, and a star."""
    folder = tmp_path / "photos"
    (folder / "backup").mkdir(parents=True)
    circle = Kind("circle", "red", "white")
    img = draw(circle, (640, 480), np.random.default_rng(0), centred=True)
    img.save(folder / "original.jpg", quality=92)
    shutil.copy(folder / "original.jpg", folder / "backup" / "copy.jpg")
    img.resize((320, 240), Image.Resampling.LANCZOS).save(folder / "backup" / "small.jpg", quality=80)
    draw(circle, (640, 480), np.random.default_rng(100), centred=True).save(folder / "another.jpg")
    draw(Kind("star", "yellow", "gray"), (640, 480), np.random.default_rng(1), centred=True).save(
        folder / "star.jpg"
    )
    lib = new_library(store, folder)
    Indexer(lib, counting).run()
    return lib, folder


def _results(lib, counting, folder):
    """Every photo, ranked by likeness to the original (as a search would give them), by file name."""
    with Searcher(lib, counting) as s:
        found = s.by_vector(s._catalog.embedding_for_path(str(folder / "original.jpg"))[1], 10)
        found = s._with_details(found)
    return {r.path.split("/")[-1]: r for r in found}


def test_copies_fold_into_one_result_and_other_photos_of_the_subject_stay(library, counting):
    lib, folder = library
    by_name = _results(lib, counting, folder)
    ranked = sorted(by_name.values(), key=lambda r: -r.score)
    with lib.open_catalog() as c:
        page = hide_duplicates(lib, c, ranked)
    names = {r.path.split("/")[-1]: r for r in page.results}
    assert set(names) == {"original.jpg", "another.jpg", "star.jpg"}  # the full-size original is kept
    assert sorted(d.path.split("/")[-1] for d in names["original.jpg"].duplicates) == [
        "copy.jpg",
        "small.jpg",
    ]
    assert names["another.jpg"].duplicates == () and names["star.jpg"].duplicates == ()
    assert page.hidden == 2 and page.grown == []
    assert page.results[0] is names["original.jpg"]  # where its best-ranked member was


def test_the_keeper_is_the_largest_copy_even_when_a_smaller_one_ranks_first(library, counting):
    lib, folder = library
    r = _results(lib, counting, folder)
    with lib.open_catalog() as c:
        page = hide_duplicates(lib, c, [r["small.jpg"], r["star.jpg"], r["original.jpg"], r["copy.jpg"]])
    first = page.results[0]
    assert first.width == 640 and {d.path.split("/")[-1] for d in first.duplicates} >= {"small.jpg"}
    assert [x.path.split("/")[-1] for x in page.results][1] == "star.jpg"


def test_pages_never_show_a_copy_of_a_result_already_shown(library, counting):
    lib, folder = library
    r = _results(lib, counting, folder)
    with lib.open_catalog() as c:
        pages = DuplicateCollapser(lib, c)
        first = pages.collapse([r["original.jpg"], r["another.jpg"]])
        assert [x.duplicates for x in first.results] == [(), ()] and first.hidden == 0
        second = pages.more([r["small.jpg"], r["star.jpg"], r["copy.jpg"]])
        assert [x.path for x in second.results] == [
            r["star.jpg"].path
        ]  # the copies are not tiles of their own
        assert second.hidden == 2
        assert [g.path for g in second.grown] == [r["original.jpg"].path]  # the tile shown says what it hides
        assert {d.path for d in second.grown[0].duplicates} == {r["small.jpg"].path, r["copy.jpg"].path}
        again = pages.more([r["original.jpg"], r["copy.jpg"]])  # shown already: never twice
        assert again.results == [] and again.grown == []
        fresh = pages.collapse([r["copy.jpg"], r["star.jpg"]])  # a new query starts over
        assert [x.path for x in fresh.results] == [r["copy.jpg"].path, r["star.jpg"].path]
